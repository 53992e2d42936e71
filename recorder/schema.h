/*
 * schema.h — private to recorder/: the layout of the trace file (tables,
 * the public `trace` view and `meta` table) and the SQL the writer runs.
 */
#ifndef TRACEFS_RECORDER_SCHEMA_H
#define TRACEFS_RECORDER_SCHEMA_H

#include <sqlite3.h>
#include <stdint.h>

#include "recorder/recorder.h"

/*
 * An object in the trace's sqlite_schema: type, name and the SQL that made
 * it; sql is NULL for SQLite's own indexes of UNIQUE and PRIMARY KEY
 * constraints, and for views, whose SQL readers do not compare.
 */
struct schema_object {
	const char *type;
	const char *name;
	const char *sql;
};
extern const struct schema_object rec_schema_objects[];
extern const size_t rec_schema_object_count;

/* The number of columns of `events`, i.e. parameters per inserted row. */
#define SCHEMA_EVENT_COLUMNS 13

#define SCHEMA_INSERT_PATH "INSERT INTO paths(id, path) VALUES(?1, ?2)"
#define SCHEMA_INSERT_PROC "INSERT INTO procs(id, pid, comm, uid, gid) VALUES(?1, ?2, ?3, ?4, ?5)"
/*
 * The versioned store's commits and the events each covers, as a WITH
 * clause giving ranges(commit_seq, first_seq, last_seq): the events that
 * started after the previous commit began and before this one did (a
 * commit's ts is when it took the pending changes; its row comes once it
 * is written, and events meanwhile are the next one's); first_seq and
 * last_seq are NULL when none. Each event gets the number of commits begun
 * before it, in one pass. COMMIT_OP is SQL for the ops.id of 'commit'.
 * The commits view and `tracefs report` both use it.
 */
#define SCHEMA_COMMIT_RANGES(COMMIT_OP)                                                     \
	"WITH numbered AS (SELECT seq, op, sum(op = " COMMIT_OP ") OVER (ORDER BY ts, seq\n"   \
	"    ROWS UNBOUNDED PRECEDING) - (op = " COMMIT_OP ") AS batch FROM events),\n"         \
	"  ranges AS (SELECT max(seq) FILTER (WHERE op = " COMMIT_OP ") AS commit_seq,\n"      \
	"    min(seq) FILTER (WHERE op <> " COMMIT_OP ") AS first_seq,\n"                       \
	"    max(seq) FILTER (WHERE op <> " COMMIT_OP ") AS last_seq FROM numbered GROUP BY batch)\n"

#define SCHEMA_SET_META "INSERT OR REPLACE INTO meta(key, value) VALUES(?1, ?2)"

/*
 * SQL inserting `rows` events at once: parameters 13*i+1 .. 13*i+13 are row
 * i's seq, ts, dur, op, kind, path, path2, proc, result, bytes, offset,
 * flags, mode. Free with sqlite3_free(); NULL when out of memory.
 */
char *rec_schema_insert_events_sql(int rows);

/* Connection settings (WAL, synchronous=NORMAL, ...). An SQLite result code. */
int rec_schema_configure(sqlite3 *db);

/*
 * Creates the tables and the view, fills ops and kinds, and writes the
 * start entries of meta, in one transaction. start_ns is the time base of
 * the events table. An SQLite result code.
 */
int rec_schema_create(sqlite3 *db, const struct recorder_options *options, int64_t start_ns);

/* Runs a statement that returns no rows; an SQLite result code. */
int rec_schema_exec(sqlite3 *db, const char *sql);

/* Formats ns since the epoch as ISO-8601 UTC with milliseconds. */
void rec_schema_iso_time(int64_t ns, char *buf, size_t size);

#endif
