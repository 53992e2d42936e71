/*
 * intern.h — private to recorder/: an in-memory table that gives each
 * distinct byte string (a path, or a packed process key) a small integer id,
 * 1, 2, 3, ... in order of first appearance. The writer uses it so that the
 * events table stores integers only.
 *
 * Ids are dense, so undoing a rolled-back transaction is "forget every id
 * above n" (rec_intern_truncate). Not thread-safe: only the writer uses it.
 *
 * Memory is bounded, for a mount that runs for weeks: when the table holds
 * `limit` keys, it forgets those not found since it last did so (keys
 * still in use keep their ids); a forgotten key seen again gets a new id,
 * so the same string may then have two ids (two rows of `paths`).
 */
#ifndef TRACEFS_RECORDER_INTERN_H
#define TRACEFS_RECORDER_INTERN_H

#include <stddef.h>
#include <stdint.h>

struct intern_entry;

struct intern_index_slot {
	uint32_t entry_plus1; /* 0: empty */
	uint32_t hash_low;    /* low bits of the key's hash, to skip most compares */
};

#define REC_INTERN_DEFAULT_LIMIT (1u << 20) /* keys held: ~100 MiB of paths */

struct intern_table {
	struct intern_index_slot *index; /* owned; open addressing, linear probing */
	size_t index_mask;
	struct intern_entry **entries; /* owned; in id order */
	size_t count;		       /* keys held */
	size_t entries_cap;
	int64_t last_id; /* the highest id given */
	size_t limit;	 /* keys held at most; set after init to change */
};

uint64_t rec_intern_hash(const void *key, size_t len);

/* 0 or -1 (ENOMEM). */
int rec_intern_init(struct intern_table *table);
void rec_intern_destroy(struct intern_table *table);

/* The id of key, or 0 if it is not (or no longer) in the table. */
int64_t rec_intern_find(const struct intern_table *table, const void *key, size_t len,
			uint64_t hash);

/* Adds a key known to be absent; returns its id, or -1 (ENOMEM). */
int64_t rec_intern_add(struct intern_table *table, const void *key, size_t len, uint64_t hash);

/* The highest id given so far. */
size_t rec_intern_count(const struct intern_table *table);

/* Forgets every key whose id is above count, and gives ids from count + 1. */
void rec_intern_truncate(struct intern_table *table, size_t count);

#endif
