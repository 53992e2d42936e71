/*
 * reader.h — private to recorder/: what the analysis and the exporters need
 * from an open trace beyond the public rec_reader_* functions (recorder.h):
 * the SQLite connection itself, for aggregate queries, and the mapping
 * between the trace's operation and kind ids and our enums.
 */
#ifndef TRACEFS_RECORDER_READER_H
#define TRACEFS_RECORDER_READER_H

#include <sqlite3.h>
#include <stdint.h>

#include "recorder/recorder.h"

/* An events row's columns, in the order rec_reader_check_values() wants them. */
#define REC_READER_EVENT_COLUMNS                                                                   \
	"events.seq, events.ts, events.dur, events.op, events.kind, events.path, events.path2,"    \
	" events.proc, events.result, events.bytes, events.\"offset\", events.flags, events.mode"
#define REC_READER_EVENT_COLUMN_COUNT 13

/*
 * The one check of an event, for code that reads the events table itself
 * (the report's scan): TYPES (SQLITE_INTEGER, SQLITE_NULL, ...) and VALUES
 * of the REC_READER_EVENT_COLUMNS of a row. NULL if the row is one the
 * writer could have written (values in range, op and kind known, path,
 * path2 and proc ids naming sound rows, seq above 0), else what is wrong,
 * as rec_reader_next would say it.
 */
const char *rec_reader_check_values(struct rec_reader *reader, const int *types,
				    const int64_t *values);

/* The read-only connection. Owned by the reader: do not close it. */
sqlite3 *rec_reader_db(struct rec_reader *reader);

/* The file name the reader was opened with, for messages. */
const char *rec_reader_file(const struct rec_reader *reader);

/* meta.start_ns: the time base of events.ts. */
int64_t rec_reader_start_ns(const struct rec_reader *reader);

/*
 * The operation an events.op id stands for, or -1 if the trace's ops table
 * does not name one that we know.
 */
int rec_reader_op_of_id(const struct rec_reader *reader, int64_t id);

/* The events.op id the trace uses for OP, or -1 if it has none. */
int64_t rec_reader_id_of_op(const struct rec_reader *reader, enum rec_op op);

/* The kind an events.kind id stands for, or -1 if unknown. */
int rec_reader_kind_of_id(const struct rec_reader *reader, int64_t id);

/* The events.kind id the trace uses for KIND, or -1 if it has none. */
int64_t rec_reader_id_of_kind(const struct rec_reader *reader, enum rec_kind kind);

/*
 * Puts a message for an SQLite failure (rc, and the connection's message)
 * into err: "trace FILE is corrupt: ..." for corruption, else "cannot read
 * trace FILE: ...", prefixed with what was being done if `doing` is not NULL.
 */
void rec_reader_sql_error(struct rec_reader *reader, int rc, const char *doing, char *err,
			  size_t err_size);

#endif
