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

#include "recorder/names.h"

/* The program's version: printed by --version and written into each trace. */
#define TRACEFS_VERSION "0.1"
/* The trace file format the recorder writes, and the newest its reader reads. */
#define REC_FORMAT_VERSION 1

/* Operations and kinds of objects, as in the trace's `op` and `kind` columns. */
#define REC_ENUM_OP(id, name) REC_OP_##id,
enum rec_op { TRACE_OPS(REC_ENUM_OP) REC_OP_COUNT };
#undef REC_ENUM_OP

#define REC_ENUM_KIND(id, name) REC_KIND_##id,
enum rec_kind { TRACE_KINDS(REC_ENUM_KIND) REC_KIND_COUNT };
#undef REC_ENUM_KIND

/* One operation. Strings are borrowed: recorder_submit() copies them. */
struct rec_event {
	int64_t ts_ns;	   /* start, ns since the Unix epoch (CLOCK_REALTIME) */
	int64_t dur_ns;	   /* duration in ns */
	int64_t bytes;	   /* bytes moved, or -1 where it does not apply */
	int64_t offset;	   /* file offset, or -1 where it does not apply */
	const char *path;  /* path relative to the mount, starting with '/' */
	const char *path2; /* rename/link target, else NULL */
	const char *comm;  /* process name, NULL if unknown */
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
	int32_t result; /* 0 (or a count where the op returns one) or -errno */
	uint32_t flags; /* open flags, setattr mask, rename flags...; 0 if n/a */
	uint32_t mode;	/* create/mkdir/mknod/chmod mode; 0 if n/a */
	uint8_t op;	/* enum rec_op */
	uint8_t kind;	/* enum rec_kind */
};

/*
 * An observer of the trace as it is committed, for the live stream: it
 * reads the committed rows with its own rec_reader, so that nothing but
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
void recorder_submit(struct recorder *recorder, const struct rec_event *event);

void recorder_get_stats(struct recorder *recorder, struct recorder_stats *stats);

/*
 * Stops the writer after it has committed everything queued, writes the
 * final meta entries, closes the file and frees the recorder. Returns 0, or
 * -1 with a message in err (what was committed stays committed).
 */
int recorder_close(struct recorder *recorder, char *err, size_t err_size);

/*
 * The names used in the trace ("lookup", "copy_file_range", "lost"; "file",
 * "dir", "symlink", "other"). NULL for REC_KIND_NONE (the trace shows NULL
 * there) and for values out of range.
 */
const char *rec_op_name(enum rec_op op);
const char *rec_kind_name(enum rec_kind kind);

/* ------------------------------------------------------------------------
 * Reading a recorded trace, in seq order, streaming (a trace larger than
 * memory is fine). Every byte read is validated: a file that is not a
 * trace, is corrupt, or holds out-of-range values gives an error message,
 * never a crash.
 */
struct rec_reader;

/* Opens FILE read-only, for use by one thread at a time. NULL with a message in err on failure. */
struct rec_reader *rec_reader_open(const char *path, char *err, size_t err_size);

/*
 * For a command that reads a trace until done (report, export): SIGINT and
 * SIGTERM then stop every reader's work at once (a query fails with
 * "interrupted"), so that the command can clean up and exit. 0, or -1 with
 * errno.
 */
int rec_reader_stop_on_signals(void);

/* The signal that stopped the readers, or 0. Exit with 128 + it. */
int rec_reader_interrupted(void);

/*
 * Reads the next event. Its strings stay valid until the next call.
 * Returns 1 with an event, 0 at the end, -1 on error (message in err).
 * *seq receives the event's sequence number. After 0, a later call returns
 * the events a still running recorder has committed since.
 */
int rec_reader_next(struct rec_reader *reader, struct rec_event *event, int64_t *seq,
		    char *err, size_t err_size);

/* Restarts reading at the first event whose ts_ns >= TS_NS. 0 or -1. */
int rec_reader_seek(struct rec_reader *reader, int64_t ts_ns, char *err, size_t err_size);

/* Restarts reading at the first event whose seq >= SEQ (a lookup by key: cheap). */
void rec_reader_seek_seq(struct rec_reader *reader, int64_t seq);

/* A meta value (malloc'd; the caller frees it), or NULL if absent. */
char *rec_reader_meta(struct rec_reader *reader, const char *key);

/*
 * First and last event start times and the number of events (both times
 * meta.start_ns when there are none). 0 or -1.
 */
int rec_reader_span(struct rec_reader *reader, int64_t *first_ns, int64_t *last_ns,
		    int64_t *count);

void rec_reader_close(struct rec_reader *reader);

/*
 * Writes EVENT, whose sequence number is SEQ, as one JSON object with the
 * `trace` view's field names, in its column order: seq, ts_ns, dur_ns, op,
 * path, path2, kind, pid, comm, uid, gid, result, bytes, offset, flags,
 * mode; null where the view shows NULL (path2, kind, comm, a bytes or offset
 * of -1; pid, comm, uid and gid of a 'lost' row). No spaces, no newline.
 * Strings are valid JSON whatever bytes a path holds: control characters
 * are \u00XX escapes and bytes that are not UTF-8 become U+FFFD. This is the
 * format of `tracefs export --format jsonl` and of the live stream.
 * Like snprintf: writes at most size bytes including a terminating NUL and
 * returns the length the whole object needs (not counting the NUL).
 */
size_t rec_event_to_json(const struct rec_event *event, int64_t seq, char *buf, size_t size);

/* S as a JSON string, quotes included (null for NULL), escaped as above; snprintf-style. */
size_t rec_json_string(const char *s, char *buf, size_t size);

/*
 * The phases of the run in trace FILE, as `tracefs report` finds them
 * (tar, configure, make, ...; named after their leading command), in time
 * order: *PHASES (free with rec_phases_free) holds *COUNT of them. For the
 * replay page's timeline and caption. 0, or -1 with a message in err.
 */
struct rec_phase {
	char *name;
	int64_t start_ns, end_ns;
};
int rec_phases_read(const char *file, struct rec_phase **phases, size_t *count, char *err,
		    size_t err_size);
void rec_phases_free(struct rec_phase *phases, size_t count);

/*
 * What to call the process of an event: its command (comm), "kernel" for
 * the requests the kernel makes itself (pid 0 without a command, e.g. its
 * xattr probes and writeback), or NULL if unknown. Every view that names
 * processes (report, export, the pages) uses this one name.
 */
const char *rec_process_name(const char *comm, int32_t pid);

/*
 * The `tracefs report` and `tracefs export` sub-commands (argv[0] names the
 * command). They return the process's exit status.
 */
int rec_report_command(int argc, char **argv);
int rec_export_command(int argc, char **argv);

/*
 * Whether a command that reads TRACE may write OUTPUT: 0 if OUTPUT is not
 * TRACE itself, nor its -wal or -shm, by any name (a hard link, a symlink,
 * another path: the same device and inode). Otherwise -1 with a message in
 * err; a command refuses before it writes anything.
 */
int rec_output_check(const char *output, const char *trace, char *err, size_t err_size);

#endif
