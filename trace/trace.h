/*
 * trace.h — the whole interface of trace/: the trace file format. The names
 * of operations and kinds, one event, the schema the recorder writes, the
 * reader that validates every byte of a trace it reads, the one JSON
 * escaper, and output files made from a trace. Prefix trace_.
 *
 * trace/ knows nothing of FUSE, of capture threads or of pictures: the
 * recorder (capture), analyze/ (report, export), play/, render/ and web/
 * read and write traces through this header only.
 */
#ifndef TRACEFS_TRACE_H
#define TRACEFS_TRACE_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "trace/names.h"

/* The program's version: printed by --version and written into each trace. */
#define TRACEFS_VERSION "0.1"
/* The trace file format the recorder writes, and the newest its reader reads. */
#define TRACE_FORMAT_VERSION 2
/* Version 1 traces (no process lineage) are still read: their events have process 0. */

/* Operations and kinds of objects, as in the trace's `op` and `kind` columns. */
#define TRACE_ENUM_OP(id, name) TRACE_OP_##id,
enum trace_op { TRACE_OPS(TRACE_ENUM_OP) TRACE_OP_COUNT };
#undef TRACE_ENUM_OP

#define TRACE_ENUM_KIND(id, name) TRACE_KIND_##id,
enum trace_kind { TRACE_KINDS(TRACE_ENUM_KIND) TRACE_KIND_COUNT };
#undef TRACE_ENUM_KIND

/* One operation. Strings are borrowed: recorder_submit() copies them. */
struct trace_event {
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
	uint8_t op;	/* enum trace_op */
	uint8_t kind;	/* enum trace_kind */
	int64_t process; /* the processes row (recorder_add_process), 0 if unknown */
};

/*
 * The names used in the trace ("lookup", "copy_file_range", "lost"; "file",
 * "dir", "symlink", "other"). NULL for TRACE_KIND_NONE (the trace shows NULL
 * there) and for values out of range.
 */
const char *trace_op_name(enum trace_op op);
const char *trace_kind_name(enum trace_kind kind);

/* ------------------------------------------------------------------------
 * Reading a recorded trace, in seq order, streaming (a trace larger than
 * memory is fine). Every byte read is validated: a file that is not a
 * trace, is corrupt, or holds out-of-range values gives an error message,
 * never a crash.
 */
struct trace_reader;

/* Opens FILE read-only, for use by one thread at a time. NULL with a message in err on failure. */
struct trace_reader *trace_reader_open(const char *path, char *err, size_t err_size);

/*
 * For a command that reads a trace until done (report, export): SIGINT and
 * SIGTERM then stop every reader's work at once (a query fails with
 * "interrupted"), so that the command can clean up and exit. 0, or -1 with
 * errno.
 */
int trace_reader_stop_on_signals(void);

/*
 * The start of a command that reads a trace: trace_reader_stop_on_signals(),
 * saying "PROG: ..." on failure. 0 or -1.
 */
int trace_command_start(const char *prog);

/* trace_command_start(), then FILE opened; NULL after saying what failed. */
struct trace_reader *trace_command_reader(const char *prog, const char *file);

/* The signal that stopped the readers, or 0. Exit with 128 + it. */
int trace_reader_interrupted(void);

/*
 * Reads the next event. Its strings stay valid until the next call.
 * Returns 1 with an event, 0 at the end, -1 on error (message in err).
 * *seq receives the event's sequence number. After 0, a later call returns
 * the events a still running recorder has committed since.
 */
int trace_reader_next(struct trace_reader *reader, struct trace_event *event, int64_t *seq,
		    char *err, size_t err_size);

/* Restarts reading at the first event whose ts_ns >= TS_NS. 0 or -1. */
int trace_reader_seek(struct trace_reader *reader, int64_t ts_ns, char *err, size_t err_size);

/* Restarts reading at the first event whose seq >= SEQ (a lookup by key: cheap). */
void trace_reader_seek_seq(struct trace_reader *reader, int64_t seq);

/* A meta value (malloc'd; the caller frees it), or NULL if absent. */
char *trace_reader_meta(struct trace_reader *reader, const char *key);

/*
 * First and last event start times and the number of events (both times
 * meta.start_ns when there are none). 0 or -1.
 */
int trace_reader_span(struct trace_reader *reader, int64_t *first_ns, int64_t *last_ns,
		    int64_t *count);

/*
 * Keeps the texts of at most SLOTS (a power of two) paths and as many
 * processes cached, for a program that holds many readers at once; by
 * default a reader keeps up to 128Ki of each (MBs for a big trace). 0, or
 * -1 when out of memory (then close the reader).
 */
int trace_reader_limit_cache(struct trace_reader *reader, size_t slots);

void trace_reader_close(struct trace_reader *reader);

/*
 * Writes EVENT, whose sequence number is SEQ, as one JSON object with the
 * `trace` view's field names, in its column order: seq, ts_ns, dur_ns, op,
 * path, path2, kind, pid, comm, uid, gid, result, bytes, offset, flags,
 * mode, then process (the process instance, null when unknown); null where
 * the view shows NULL (path2, kind, comm, a bytes or offset of -1; pid,
 * comm, uid and gid of a 'lost' row). No spaces, no newline.
 * Strings are valid JSON whatever bytes a path holds: control characters
 * are \u00XX escapes and bytes that are not UTF-8 become U+FFFD. This is the
 * format of `tracefs export --format jsonl` and of the live stream.
 * Like snprintf: writes at most size bytes including a terminating NUL and
 * returns the length the whole object needs (not counting the NUL).
 */
size_t trace_event_to_json(const struct trace_event *event, int64_t seq, char *buf, size_t size);

/* S as a JSON string, quotes included (null for NULL), escaped as above; snprintf-style. */
size_t trace_json_string(const char *s, char *buf, size_t size);


/*
 * What to call the process of an event: its command (comm), "kernel" for
 * the requests the kernel makes itself (pid 0 without a command, e.g. its
 * xattr probes and writeback), or NULL if unknown. Every view that names
 * processes (report, export, the pages) uses this one name.
 */
const char *trace_process_name(const char *comm, int32_t pid);


/*
 * Whether a command that reads TRACE may write OUTPUT: 0 if OUTPUT is not
 * TRACE itself, nor its -wal or -shm, by any name (a hard link, a symlink,
 * another path: the same device and inode). Otherwise -1 with a message in
 * err; a command refuses before it writes anything.
 */
int trace_output_check(const char *output, const char *trace, char *err, size_t err_size);

/* ------------------------------------------------------------------------
 * Reading beyond the event stream, for the analysis and the exporters: the
 * SQLite connection itself, for aggregate queries, and the mapping between
 * the trace's operation and kind ids and our enums.
 */
/* An events row's columns, in the order trace_reader_check_values() wants them. */
#define TRACE_READER_EVENT_COLUMNS                                                                   \
	"events.seq, events.ts, events.dur, events.op, events.kind, events.path, events.path2,"    \
	" events.proc, events.result, events.bytes, events.\"offset\", events.flags, events.mode"
#define TRACE_READER_EVENT_COLUMN_COUNT 13

/*
 * The one check of an event, for code that reads the events table itself
 * (the report's scan): TYPES (SQLITE_INTEGER, SQLITE_NULL, ...) and VALUES
 * of the TRACE_READER_EVENT_COLUMNS of a row. NULL if the row is one the
 * writer could have written (values in range, op and kind known, path,
 * path2 and proc ids naming sound rows, seq above 0), else what is wrong,
 * as trace_reader_next would say it.
 */
const char *trace_reader_check_values(struct trace_reader *reader, const int *types,
				    const int64_t *values);

/* The read-only connection. Owned by the reader: do not close it. */
sqlite3 *trace_reader_db(struct trace_reader *reader);

/* The file name the reader was opened with, for messages. */
const char *trace_reader_file(const struct trace_reader *reader);

/* meta.start_ns: the time base of events.ts. */
int64_t trace_reader_start_ns(const struct trace_reader *reader);

/*
 * The operation an events.op id stands for, or -1 if the trace's ops table
 * does not name one that we know.
 */
int trace_reader_op_of_id(const struct trace_reader *reader, int64_t id);

/* The events.op id the trace uses for OP, or -1 if it has none. */
int64_t trace_reader_id_of_op(const struct trace_reader *reader, enum trace_op op);

/* The kind an events.kind id stands for, or -1 if unknown. */
int trace_reader_kind_of_id(const struct trace_reader *reader, int64_t id);

/* The events.kind id the trace uses for KIND, or -1 if it has none. */
int64_t trace_reader_id_of_kind(const struct trace_reader *reader, enum trace_kind kind);

/*
 * Puts a message for an SQLite failure (rc, and the connection's message)
 * into err: "trace FILE is corrupt: ..." for corruption, else "cannot read
 * trace FILE: ...", prefixed with what was being done if `doing` is not NULL.
 */
void trace_reader_sql_error(struct trace_reader *reader, int rc, const char *doing, char *err,
			  size_t err_size);

/* ------------------------------------------------------------------------
 * The schema: the layout of the trace file (tables, the public `trace` view
 * and `meta` table) and the SQL its writer (the recorder) runs.
 */
/* Where a trace comes from, written into its meta table; NULL: unknown. */
struct trace_origin {
	const char *source;
	const char *mountpoint;
	const char *command_line;
	const char *cache_mode; /* e.g. "default", "exact" */
};
/*
 * An object in the trace's sqlite_schema: type, name and the SQL that made
 * it; sql is NULL for SQLite's own indexes of UNIQUE and PRIMARY KEY
 * constraints, and for views, whose SQL readers do not compare.
 */
struct trace_schema_object {
	const char *type;
	const char *name;
	const char *sql;
};
extern const struct trace_schema_object trace_schema_objects[];
extern const size_t trace_schema_object_count;
/* The procs table of format version 1 traces, which readers still accept. */
extern const struct trace_schema_object trace_schema_procs_v1;

/* The number of columns of `events`, i.e. parameters per inserted row. */
#define TRACE_SCHEMA_EVENT_COLUMNS 13

#define TRACE_SCHEMA_INSERT_PATH "INSERT INTO paths(id, path) VALUES(?1, ?2)"
#define TRACE_SCHEMA_INSERT_PROC                                                                   \
	"INSERT INTO procs(id, pid, comm, uid, gid, process) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
#define TRACE_SCHEMA_INSERT_PROCESS                                                                \
	"INSERT INTO processes(id, pid, ppid, parent_id, root_id, exe, argv, cwd, start_ns,"      \
	" state, exit_ns, first_seq) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
#define TRACE_SCHEMA_PROCESS_EXIT "UPDATE processes SET exit_ns = ?2 WHERE id = ?1"
#define TRACE_SCHEMA_PROCESS_FIRST_SEQ "UPDATE processes SET first_seq = ?2 WHERE id = ?1"

/*
 * The versioned store's commits and the events each covers, as a WITH
 * clause giving ranges(commit_seq, first_seq, last_seq): the events that
 * ended after the previous commit began and before this one did (a
 * commit's ts is when it took the pending changes, and an operation tells
 * the store what it changed as it ends; a commit's row comes once it is
 * written, and events meanwhile are the next one's); first_seq and
 * last_seq are NULL when none. Each event gets the number of commits begun
 * before its end, in one pass. COMMIT_OP is SQL for the ops.id of 'commit'.
 * The commits view and `tracefs report` both use it.
 */
#define TRACE_SCHEMA_COMMIT_RANGES(COMMIT_OP)                                                     \
	"WITH numbered AS (SELECT seq, op, sum(op = " COMMIT_OP ") OVER (ORDER BY\n"          \
	"    CASE WHEN op = " COMMIT_OP " THEN ts ELSE ts + dur END, seq\n"                    \
	"    ROWS UNBOUNDED PRECEDING) - (op = " COMMIT_OP ") AS batch FROM events),\n"         \
	"  ranges AS (SELECT max(seq) FILTER (WHERE op = " COMMIT_OP ") AS commit_seq,\n"      \
	"    min(seq) FILTER (WHERE op <> " COMMIT_OP ") AS first_seq,\n"                       \
	"    max(seq) FILTER (WHERE op <> " COMMIT_OP ") AS last_seq FROM numbered GROUP BY batch)\n"

#define TRACE_SCHEMA_SET_META "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"

/*
 * SQL inserting `rows` events at once: parameters 13*i+1 .. 13*i+13 are row
 * i's seq, ts, dur, op, kind, path, path2, proc, result, bytes, offset,
 * flags, mode. Free with sqlite3_free(); NULL when out of memory.
 */
char *trace_schema_insert_events_sql(int rows);

/* Connection settings (WAL, synchronous=NORMAL, ...). An SQLite result code. */
int trace_schema_configure(sqlite3 *db);

/*
 * Creates the tables and the view, fills ops and kinds, and writes the
 * start entries of meta, in one transaction. start_ns is the time base of
 * the events table. An SQLite result code.
 */
int trace_schema_create(sqlite3 *db, const struct trace_origin *origin, int64_t start_ns);

/* Runs a statement that returns no rows; an SQLite result code. */
int trace_schema_exec(sqlite3 *db, const char *sql);

/* Formats ns since the epoch as ISO-8601 UTC with milliseconds. */
void trace_schema_iso_time(int64_t ns, char *buf, size_t size);

/* ------------------------------------------------------------------------
 * JSON string escaping that yields valid JSON for any bytes (paths are
 * bytes, not text), shared by trace_event_to_json, the exporters and the
 * report's --json output.
 */
/*
 * The length of the valid UTF-8 sequence of two to four bytes at the start
 * of S (NUL-terminated), or 0: ASCII, or not UTF-8 (strictly: no overlong
 * forms, no surrogates, nothing above U+10FFFF).
 */
size_t trace_json_utf8_length(const char *s);

/* The most bytes trace_json_escape_char() writes for one character. */
#define TRACE_JSON_ESCAPE_MAX 8

/*
 * Escapes the character at the start of S (a NUL-terminated string, not at
 * its end) for a JSON string: quote and backslash escaped, control bytes as
 * \n, \t, ... or \u00XX, valid UTF-8 copied, a byte that does not start a
 * valid UTF-8 sequence replaced by U+FFFD. Writes the escape into out,
 * returns its length and puts the number of bytes of S used into *used.
 */
size_t trace_json_escape_char(const char *s, char out[TRACE_JSON_ESCAPE_MAX], size_t *used);

/* Writes S as a JSON string, quotes included, or null if S is NULL. */
void trace_json_write_string(FILE *out, const char *s);

/* ------------------------------------------------------------------------
 * An output file made from a trace, that appears whole or not at all.
 * Written to a temporary file in the same directory, renamed over the
 * target by trace_outfile_commit(); trace_outfile_abort() removes it. So an
 * error half-way (a corrupt trace, a full disk) leaves no half-written
 * file. A target that exists and is no regular file (/dev/null, a fifo) is
 * written directly: renaming over it would replace the device. The
 * temporary file, PATH.tmp-XXXXXX, is locked (flock) while it is written,
 * so that one left by a writer that was killed can be told from a live
 * writer's (trace_outfile_clean).
 */
struct trace_outfile {
	FILE *file; /* write here */
	char *path; /* the target */
	char *temp; /* the temporary file, until committed or aborted */
};

/*
 * Starts writing PATH, made from the trace INPUT: refused, as
 * trace_output_check() says, when PATH is INPUT by another name. 0, or -1
 * with a message in err.
 */
int trace_outfile_open(struct trace_outfile *out, const char *path, const char *input, char *err,
		 size_t err_size);

/* Starts writing PATH, a file private to its owner (0600) whatever the umask. 0, or -1 with a
 * message in err. */
int trace_outfile_private(struct trace_outfile *out, const char *path, char *err, size_t err_size);

/*
 * Removes the temporary files of PATH that writers which died left: the
 * ones of this user, unlocked, not written to for a minute. Best effort,
 * silent.
 */
void trace_outfile_clean(const char *path);

/* Flushes, closes and renames into place. 0, or -1 with a message (and aborts). */
int trace_outfile_commit(struct trace_outfile *out, char *err, size_t err_size);

/* Closes and removes the temporary file. Safe after a failed open or commit. */
void trace_outfile_abort(struct trace_outfile *out);

/*
 * Ends a command's output: OUT if it was opened, else standard output.
 * With a FAILURE message OUT is aborted; otherwise OUT is committed, or
 * standard output checked for write errors. Prints what failed as
 * "PROG: ..." and returns the command's exit status, 0 or 1.
 */
int trace_outfile_finish(struct trace_outfile *out, const char *prog, const char *failure);

#endif
