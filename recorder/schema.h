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
/* The procs table of format version 1 traces, which readers still accept. */
extern const struct schema_object rec_schema_procs_v1;

/* The number of columns of `events`, i.e. parameters per inserted row. */
#define SCHEMA_EVENT_COLUMNS 13

#define SCHEMA_INSERT_PATH "INSERT INTO paths(id, path) VALUES(?1, ?2)"
#define SCHEMA_INSERT_PROC                                                                         \
	"INSERT INTO procs(id, pid, comm, uid, gid, process) VALUES(?1, ?2, ?3, ?4, ?5, ?6)"
#define SCHEMA_INSERT_PROCESS                                                                      \
	"INSERT INTO processes(id, pid, ppid, parent_id, root_id, exe, argv, cwd, start_ns,"      \
	" state) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"
#define SCHEMA_PROCESS_EXIT "UPDATE processes SET exit_ns = ?2 WHERE id = ?1"
#define SCHEMA_PROCESS_FIRST_SEQ "UPDATE processes SET first_seq = ?2 WHERE id = ?1"
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
