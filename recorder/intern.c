/*
 * intern.c — string interning for the writer: byte string -> dense id
 * (see intern.h). An open-addressing index (load factor at most 1/2) points
 * into an array of entries in id order; each entry is one allocation
 * holding its key. Bounding it (see intern.h) keeps the entries found
 * since the last time, compacted in id order, and rebuilds the index.
 */
#include "recorder/intern.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_INDEX_SLOTS 1024

struct intern_entry {
	uint64_t hash;
	int64_t id;
	bool found; /* since the table was last bounded */
	size_t len;
	char key[];
};

uint64_t rec_intern_hash(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 0x9E3779B97F4A7C15ull ^ (len * 0xFF51AFD7ED558CCDull);
	uint64_t word;

	while (len >= 8) {
		memcpy(&word, p, 8);
		h = (h ^ word) * 0xBF58476D1CE4E5B9ull;
		h ^= h >> 31;
		p += 8;
		len -= 8;
	}
	word = 0;
	memcpy(&word, p, len);
	h = (h ^ word) * 0x94D049BB133111EBull;
	h ^= h >> 29;
	h *= 0xBF58476D1CE4E5B9ull;
	h ^= h >> 32;
	return h;
}

int rec_intern_init(struct intern_table *table)
{
	memset(table, 0, sizeof(*table));
	table->index = calloc(INITIAL_INDEX_SLOTS, sizeof(*table->index));
	if (!table->index)
		return -1;
	table->index_mask = INITIAL_INDEX_SLOTS - 1;
	table->limit = REC_INTERN_DEFAULT_LIMIT;
	return 0;
}

void rec_intern_destroy(struct intern_table *table)
{
	for (size_t i = 0; i < table->count; i++)
		free(table->entries[i]);
	free(table->entries);
	free(table->index);
	memset(table, 0, sizeof(*table));
}

static void index_insert(struct intern_index_slot *index, size_t mask, uint64_t hash,
			 uint32_t entry_plus1)
{
	size_t i = (size_t)(hash >> 32) & mask;

	while (index[i].entry_plus1)
		i = (i + 1) & mask;
	index[i].entry_plus1 = entry_plus1;
	index[i].hash_low = (uint32_t)hash;
}

int64_t rec_intern_find(const struct intern_table *table, const void *key, size_t len,
			uint64_t hash)
{
	size_t i = (size_t)(hash >> 32) & table->index_mask;

	for (;;) {
		const struct intern_index_slot *slot = &table->index[i];
		if (!slot->entry_plus1)
			return 0;
		if (slot->hash_low == (uint32_t)hash) {
			struct intern_entry *e = table->entries[slot->entry_plus1 - 1];
			if (e->hash == hash && e->len == len && memcmp(e->key, key, len) == 0) {
				e->found = true;
				return e->id;
			}
		}
		i = (i + 1) & table->index_mask;
	}
}

/* Doubles the index; 0 or -1 (ENOMEM, table unchanged). */
static int grow_index(struct intern_table *table)
{
	size_t slots = (table->index_mask + 1) * 2;
	struct intern_index_slot *index = calloc(slots, sizeof(*index));

	if (!index)
		return -1;
	for (size_t i = 0; i < table->count; i++)
		index_insert(index, slots - 1, table->entries[i]->hash, (uint32_t)(i + 1));
	free(table->index);
	table->index = index;
	table->index_mask = slots - 1;
	return 0;
}

static int grow_entries(struct intern_table *table)
{
	size_t cap = table->entries_cap ? table->entries_cap * 2 : 1024;
	struct intern_entry **entries = realloc(table->entries, cap * sizeof(*entries));

	if (!entries)
		return -1;
	table->entries = entries;
	table->entries_cap = cap;
	return 0;
}

/* Rebuilds the index for the entries held (its size stays). */
static void reindex(struct intern_table *table)
{
	memset(table->index, 0, (table->index_mask + 1) * sizeof(*table->index));
	for (size_t i = 0; i < table->count; i++)
		index_insert(table->index, table->index_mask, table->entries[i]->hash,
			     (uint32_t)(i + 1));
}

/* Frees the entries that KEEP rejects, keeping the others in order. */
static void compact(struct intern_table *table, bool (*keep)(struct intern_entry *, int64_t),
		    int64_t arg)
{
	size_t kept = 0;
	for (size_t i = 0; i < table->count; i++) {
		struct intern_entry *e = table->entries[i];
		if (keep(e, arg))
			table->entries[kept++] = e;
		else
			free(e);
	}
	table->count = kept;
	reindex(table);
}

static bool was_found(struct intern_entry *e, int64_t unused)
{
	(void)unused;
	bool found = e->found;
	e->found = false;
	return found;
}

static bool id_at_most(struct intern_entry *e, int64_t id)
{
	return e->id <= id;
}

int64_t rec_intern_add(struct intern_table *table, const void *key, size_t len, uint64_t hash)
{
	struct intern_entry *entry;

	if (table->count >= table->limit) {
		compact(table, was_found, 0);
		/* Nearly all in use: forget them all, so that bounding stays
		 * rare (at least limit / 2 additions apart). */
		if (table->count > table->limit / 2)
			compact(table, id_at_most, 0);
	}
	if (table->count >= UINT32_MAX - 1)
		return -1;
	if ((table->count + 1) * 2 > table->index_mask + 1 && grow_index(table) != 0)
		return -1;
	if (table->count == table->entries_cap && grow_entries(table) != 0)
		return -1;
	entry = malloc(sizeof(*entry) + len);
	if (!entry)
		return -1;
	entry->hash = hash;
	entry->id = ++table->last_id;
	entry->found = false;
	entry->len = len;
	memcpy(entry->key, key, len);
	table->entries[table->count++] = entry;
	index_insert(table->index, table->index_mask, hash, (uint32_t)table->count);
	return entry->id;
}

size_t rec_intern_count(const struct intern_table *table)
{
	return (size_t)table->last_id;
}

void rec_intern_truncate(struct intern_table *table, size_t count)
{
	if ((int64_t)count >= table->last_id)
		return;
	/* Linear probing has no cheap delete: rebuild the index (rare). */
	compact(table, id_at_most, (int64_t)count);
	table->last_id = (int64_t)count;
}
