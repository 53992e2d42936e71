/*
 * writer.h — private to recorder/: the writer thread, the only user of the
 * SQLite connection while it runs. It drains the queue, numbers the events,
 * interns their strings, inserts them in batched transactions, records every
 * loss as a 'lost' marker row and in meta, and survives a full disk.
 */
#ifndef TRACEFS_RECORDER_WRITER_H
#define TRACEFS_RECORDER_WRITER_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "recorder/intern.h"
#include "recorder/process_log.h"
#include "recorder/queue.h"
#include "recorder/reserve.h"

/* Longest path or process key remembered as the last one interned. */
#define WRITER_CACHED_KEY_BYTES 256

/* Rows are inserted this many at a time (one statement, one cursor). */
#define WRITER_ROWS_PER_INSERT 32

/* One row of the events table, its strings already interned. */
struct row {
	int64_t seq, ts, dur, bytes, offset; /* bytes, offset: < 0 for NULL */
	int64_t path, path2, proc;	     /* ids; 0 for NULL */
	int32_t result;
	uint32_t flags, mode;
	uint8_t op, kind;
};

/* A processes row taken in the open transaction, not yet inserted. */
struct held_process {
	const struct process_log_item *item; /* the log's until the commit */
	int64_t first_seq;		      /* 0: no event yet */
	int64_t exit_ns;		      /* < 0: no exit seen yet */
};

struct writer {
	bool initialized; /* rec_writer_init ran: rec_writer_destroy has work */
	sqlite3 *db;	  /* owned */
	sqlite3_stmt *insert_rows; /* WRITER_ROWS_PER_INSERT rows */
	sqlite3_stmt *insert_row;  /* one row, for the rest before a commit */
	sqlite3_stmt *insert_path, *insert_proc, *set_meta;
	sqlite3_stmt *insert_process, *process_exit, *process_first_seq;
	sqlite3_stmt *begin, *commit, *rollback;
	struct intern_table paths;
	struct intern_table procs;
	/* The last path and process interned: a run of events by one process
	 * on one file (write, getxattr, write, ...) skips the hash lookups.
	 * An id of 0 means nothing cached. */
	int64_t last_path_id;
	size_t last_path_len;
	char last_path[WRITER_CACHED_KEY_BYTES];
	int64_t last_proc_id;
	size_t last_proc_len;
	char last_proc[WRITER_CACHED_KEY_BYTES];
	struct reserve reserve;	      /* released when a write fails */
	struct reserve final_reserve; /* released at close if the end meta needs it */
	bool reserve_usable;	      /* the file system let us allocate it at start */

	/* Process lineage: the rows to insert, and which have their first_seq.
	 * A row taken from the log is held until its transaction commits and
	 * then inserted whole, with the first_seq and exit_ns learnt
	 * meanwhile: one statement where a short process cost three. */
	struct process_log processes;
	bool processes_initialized;
	int64_t processes_max;		/* the highest processes row taken */
	int64_t committed_processes_max;
	struct held_process *held;	/* ids committed_processes_max + 1 on */
	size_t held_count, held_cap;
	unsigned char *process_seen;	/* per id: first_seq written or held */
	size_t process_seen_size;
	int64_t *txn_seen;		/* ids given first_seq in the open transaction */
	size_t txn_seen_count, txn_seen_cap;

	struct queue *queue;		/* not owned */
	_Atomic uint64_t *submit_lost;	/* not owned: events the queue refused */
	int64_t start_ns;		/* time base of events.ts */
	struct recorder_tap tap;	/* all NULL: none */
	int64_t commit_interval_ns;

	pthread_t thread;
	bool thread_running;
	atomic_bool stop;

	/* What is committed. written and write_lost are read by other threads. */
	int64_t next_seq;
	uint64_t marked_lost; /* sum of the committed 'lost' markers */
	_Atomic uint64_t written;
	_Atomic uint64_t write_lost; /* events dropped by the writer (disk trouble) */

	/* The open transaction, undone as a whole if it fails. */
	bool in_txn;
	struct row pending[WRITER_ROWS_PER_INSERT]; /* numbered, not yet inserted */
	size_t pending_count;
	int64_t txn_first_seq;
	size_t txn_paths_mark;
	size_t txn_procs_mark;
	uint64_t txn_events;
	uint64_t txn_marked; /* lost events recorded by markers in this transaction */
	int64_t txn_started; /* CLOCK_MONOTONIC ns */

	/* Disk trouble: while degraded, events are counted and dropped. */
	bool degraded;
	int64_t last_retry; /* CLOCK_MONOTONIC ns */
	char last_error[256];
};

/*
 * Takes ownership of db (an open trace file with its schema), prepares the
 * statements and takes the disk reserve. Returns an SQLite result code; on
 * failure the caller still calls rec_writer_destroy().
 */
int rec_writer_init(struct writer *writer, sqlite3 *db, const char *db_path, struct queue *queue,
		    _Atomic uint64_t *submit_lost, int64_t start_ns, int commit_interval_ms,
		    const struct recorder_tap *tap);

/* Starts the thread. 0 or an errno value. */
int rec_writer_start(struct writer *writer);

/*
 * Stops the thread once the queue is drained and committed, writes the end
 * meta entries, checkpoints and closes the database. 0, or -1 with a
 * message in err.
 */
int rec_writer_stop(struct writer *writer, char *err, size_t err_size);

/*
 * Frees everything (closing the database if rec_writer_stop did not). Safe on
 * an all-zero struct writer that rec_writer_init never saw.
 */
void rec_writer_destroy(struct writer *writer);

uint64_t rec_writer_written(struct writer *writer);
uint64_t rec_writer_lost(struct writer *writer);

#endif
