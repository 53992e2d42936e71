/*
 * reserve.h — private to recorder/: disk space held back for the bad day.
 *
 * While tracing normally, the recorder keeps blocks of space allocated on
 * the trace file's file system, in an unlinked file next to the trace (so it
 * never shows up and a crash cannot leave it behind). When SQLite reports
 * the disk full, the writer releases it: that guarantees room to checkpoint
 * and to commit the small transaction that records the loss and, at close,
 * the final meta entries. Freeing pages inside the database would not do:
 * they stay part of the database file, and marking them free needs a write.
 * Re-acquiring the reserve is also the writer's probe that the file system
 * has room again.
 */
#ifndef TRACEFS_RECORDER_RESERVE_H
#define TRACEFS_RECORDER_RESERVE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Released on the first failed write. It must cover a checkpoint, which can
 * grow the database by the WAL's committed pages: at most wal_autocheckpoint
 * (256 pages, schema.c) plus one batch (~170 pages of 4 KiB).
 */
#define RESERVE_BYTES (2 * 1024 * 1024)

/* Released only at close, for the final meta entries if all else is full. */
#define FINAL_RESERVE_BYTES (256 * 1024)

struct reserve {
	char *dir; /* owned: the directory of the trace file */
	int fd;	   /* the unlinked reserve file, or -1 while released */
	size_t size;
};

/* Remembers the directory of path; holds nothing yet. 0 or -1 (ENOMEM). */
int rec_reserve_init(struct reserve *reserve, const char *path, size_t size);

/* Allocates the reserve unless held. true when it is held afterwards. */
bool rec_reserve_acquire(struct reserve *reserve);

/* Gives the space back to the file system (if held). */
void rec_reserve_release(struct reserve *reserve);

/* Releases and frees everything. */
void rec_reserve_destroy(struct reserve *reserve);

#endif
