/*
 * recorder.h — the whole interface of recorder/: capture of file-system
 * events through a bounded queue into an SQLite trace file.
 *
 * The recorder knows nothing of FUSE. Producers (any thread) hand it plain
 * event structs; recorder_submit() never blocks and never fails the caller:
 * when the queue is full or the disk is full the event is counted as lost and
 * the loss is written into the trace (a marker row and a meta entry).
 */
#ifndef TRACEFS_RECORDER_H
#define TRACEFS_RECORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/*
 * An observer of the trace as it is committed, for the live stream: it
 * reads the committed rows with its own trace_reader, so that nothing but
 * this call happens on the writer thread and it never sees an event that
 * a rolled-back transaction (a full disk) loses. committed() follows every
 * COMMIT with the last seq now in the trace; it runs on the writer thread,
 * so it must return at once. closing() comes once, before the trace is
 * checkpointed and closed: the observer closes its reader before it returns.
 */
struct recorder_tap {
	void (*committed)(void *ctx, int64_t last_seq);
	void (*closing)(void *ctx);
	void *ctx;
};

struct recorder_options {
	const char *db_path;	  /* created; an existing file is an error */
	unsigned db_mode;	  /* its permission bits, whatever the umask (SQLite
				     gives the -wal and -shm the same); 0: 0600 */
	bool db_chown;		  /* give the file to db_uid:db_gid (and SQLite the
				     -wal and -shm, as it does when root) */
	uint32_t db_uid, db_gid;
	const char *source;	  /* written into meta */
	const char *mountpoint;	  /* written into meta */
	const char *command_line; /* written into meta */
	const char *cache_mode;	  /* written into meta, e.g. "default", "exact" */
	size_t queue_capacity;	  /* events; 0 means the default (65536); rounded
				     up to a power of two */
	int commit_interval_ms;	  /* 0 means the default (250) */
	const struct recorder_tap *tap; /* copied; NULL: none */
};

struct recorder_stats {
	uint64_t submitted; /* events handed to recorder_submit() */
	uint64_t written;   /* events committed to the trace */
	uint64_t lost;	    /* events lost (queue full or disk full) */
};

struct recorder;

/*
 * Creates the trace file (refusing to overwrite one), writes the schema and
 * the meta table, and starts the writer thread. On failure returns NULL,
 * removes what it created and puts a message for the user into err.
 * While open, the recorder holds about 2.25 MiB of disk space next to the
 * trace (an unlinked file, freed at close or exit) that it gives back when
 * the disk fills, so that the loss can still be recorded.
 */
struct recorder *recorder_open(const struct recorder_options *options,
			       char *err, size_t err_size);

/*
 * Thread-safe and never blocks; see the top of this file. Must not be called
 * once recorder_close() has begun.
 */
void recorder_submit(struct recorder *recorder, const struct trace_event *event);

void recorder_get_stats(struct recorder *recorder, struct recorder_stats *stats);

/*
 * Process lineage: one row per process instance (the `processes` table).
 * How a process came to be read from /proc is the caller's business.
 */
enum recorder_process_state {
	RECORDER_PROCESS_READ, /* read from /proc */
	RECORDER_PROCESS_GONE, /* exited (or exiting) before it could be read */
	RECORDER_PROCESS_ROOT, /* the command `tracefs run` started */
};

struct recorder_process {
	int32_t pid;	     /* thread-group id */
	int32_t ppid;	     /* -1 if unknown */
	int64_t parent_id;   /* an id recorder_add_process gave, 0: none */
	int64_t root_id;     /* likewise, 0: this one is the root of its chain */
	const char *exe;     /* NULL if unreadable */
	const char *argv;    /* a JSON array of strings, NULL if unreadable */
	const char *cwd;     /* NULL if unreadable */
	int64_t start_ns;    /* ns since the epoch, -1 if unknown */
	uint8_t state;	     /* enum recorder_process_state */
};

/*
 * Records a process instance once; events name it by the id returned
 * (ids grow: a parent's is below its child's). Thread-safe; it takes a
 * mutex and copies the strings, so call it once per process, not per
 * event. Returns 0 when it cannot be recorded (out of memory, or too many
 * waiting for the writer): events then have no process, never a wrong one.
 */
int64_t recorder_add_process(struct recorder *recorder, const struct recorder_process *process);

/* The process instance ID was seen to exit at EXIT_NS (ns since the epoch). */
void recorder_process_exited(struct recorder *recorder, int64_t id, int64_t exit_ns);

/*
 * Stops the writer after it has committed everything queued, writes the
 * final meta entries, closes the file and frees the recorder. Returns 0, or
 * -1 with a message in err (what was committed stays committed).
 */
int recorder_close(struct recorder *recorder, char *err, size_t err_size);

#endif
