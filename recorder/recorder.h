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

#include <stddef.h>
#include <stdint.h>

/* The program's version: printed by --version and written into each trace. */
#define TRACEFS_VERSION "0.1"
/* The trace file format the recorder writes, and the newest its reader reads. */
#define REC_FORMAT_VERSION 1

/* Operation names as they appear in the trace's `op` column. */
enum rec_op {
	REC_OP_LOOKUP,
	REC_OP_GETATTR,
	REC_OP_SETATTR,
	REC_OP_READLINK,
	REC_OP_MKNOD,
	REC_OP_MKDIR,
	REC_OP_UNLINK,
	REC_OP_RMDIR,
	REC_OP_SYMLINK,
	REC_OP_RENAME,
	REC_OP_LINK,
	REC_OP_OPEN,
	REC_OP_READ,
	REC_OP_WRITE,
	REC_OP_FLUSH,
	REC_OP_RELEASE,
	REC_OP_FSYNC,
	REC_OP_OPENDIR,
	REC_OP_READDIR,
	REC_OP_RELEASEDIR,
	REC_OP_FSYNCDIR,
	REC_OP_STATFS,
	REC_OP_SETXATTR,
	REC_OP_GETXATTR,
	REC_OP_LISTXATTR,
	REC_OP_REMOVEXATTR,
	REC_OP_ACCESS,
	REC_OP_CREATE,
	REC_OP_FLOCK,
	REC_OP_FALLOCATE,
	REC_OP_COPY_FILE_RANGE,
	REC_OP_LSEEK,
	REC_OP_LOST, /* marker row: `bytes` holds how many events were lost */
	REC_OP_COUNT
};

enum rec_kind {
	REC_KIND_NONE, /* unknown, e.g. a lookup of a name that does not exist */
	REC_KIND_FILE,
	REC_KIND_DIR,
	REC_KIND_SYMLINK,
	REC_KIND_OTHER,
	REC_KIND_COUNT
};

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
 * An observer of the events as the writer thread takes them from the queue,
 * for the live stream. event() sees each one in seq order with its sequence
 * number (a 'lost' marker row included), drained() follows each run of
 * events that emptied the queue: a natural end of a batch. Both run on the
 * writer thread, so they must be quick and never wait for long; the queue
 * absorbs short pauses.
 */
struct recorder_tap {
	void (*event)(void *ctx, const struct rec_event *event, int64_t seq);
	void (*drained)(void *ctx);
	void *ctx;
};

struct recorder_options {
	const char *db_path;	  /* created; an existing file is an error */
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

/* Opens FILE read-only. Returns NULL with a message in err on failure. */
struct rec_reader *rec_reader_open(const char *path, char *err, size_t err_size);

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

/* A meta value (malloc'd; the caller frees it), or NULL if absent. */
char *rec_reader_meta(struct rec_reader *reader, const char *key);

/*
 * First and last event start times and the number of events (both times
 * meta.start_ns when there are none). 0 or -1.
 */
int rec_reader_span(struct rec_reader *reader, int64_t *first_ns, int64_t *last_ns,
		    int64_t *count);

/*
 * How many events started in each of BUCKETS equal slices of FIRST_NS ..
 * LAST_NS (the last slice includes LAST_NS): COUNTS[0 .. BUCKETS-1]. For
 * a timeline of activity; one pass over the events. 0 or -1.
 */
int rec_reader_density(struct rec_reader *reader, int64_t first_ns, int64_t last_ns,
		       int64_t *counts, size_t buckets);

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
 * The `tracefs report` and `tracefs export` sub-commands (argv[0] names the
 * command). They return the process's exit status.
 */
int rec_report_command(int argc, char **argv);
int rec_export_command(int argc, char **argv);

#endif
