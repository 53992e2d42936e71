/*
 * schema.c — creates the trace file's tables, the public `trace` view and
 * the `meta` table.
 *
 * Public (documented to users, stable):
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *     format_version, tracefs_version, source, mountpoint, host, start_time
 *     (ISO-8601 UTC), start_ns (ns since the epoch; the time base of
 *     events.ts), command_line, cache_mode; events_lost (kept current while
 *     tracing); on close end_time, end_ns, events_written.
 *   trace(seq, ts_ns, dur_ns, op, path, path2, kind, pid, comm, uid, gid,
 *         result, bytes, offset, flags, mode)
 *     one row per event in seq order. ts_ns is absolute (ns since the
 *     epoch). op and kind are names; kind is NULL when unknown. path2, bytes
 *     and offset are NULL where they do not apply; flags and mode are 0
 *     where they do not apply (as in the event). A row with op 'lost' marks
 *     that `bytes` events were lost (queue or disk full) just before it;
 *     its pid, comm, uid and gid are NULL.
 *     From format 2 on, then: process, ppid, exe, argv, cwd (the event's
 *     processes row, NULL when unknown).
 *   processes(id, pid, ppid, parent_id, root_id, exe, argv, cwd, start_ns,
 *             exit_ns, first_seq, state)
 *     one row per process instance (format 2 on): see the table below and
 *     tracefs/lineage.c; rows come before the events that name them, a
 *     parent's before its children's.
 *   commits(seq, ts_ns, dur_ns, id, files, path, result, first_seq, last_seq)
 *     the versioned store's commits (`trace` rows with op 'commit'), each
 *     with the seq range of the events it covers: those that ended
 *     after the previous commit began and before it began (NULL: none).
 *
 * Private (may change): events holds integers only, to keep rows small:
 * ts is ns since meta.start_ns, strings are ids into paths and procs (a
 * process is interned as the tuple pid, comm, uid, gid, process: the
 * process instance costs the events nothing), op and kind are
 * ids into ops and kinds. paths.path has no UNIQUE index: the writer
 * interns in memory, and an index would double the size of the table.
 */
#include "trace/trace.h"

#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define STRINGIFY(x) #x
#define AS_TEXT(x) STRINGIFY(x)

/*
 * Every object of the file, in creation order. Readers compare the file's
 * sqlite_schema with this list, so that a trace whose tables were rebuilt
 * (a generated column), or that holds a trigger or an index of someone
 * else's, is refused rather than run. Views are not compared: readers
 * never run one (reader.c turns views off).
 * The SQL is what SQLite keeps in sqlite_schema.sql: change none of it
 * without a new format_version; a new object goes at the end.
 */
const struct trace_schema_object trace_schema_objects[] = {
	{"table", "meta", "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT)"},
	{"index", "sqlite_autoindex_meta_1", NULL},
	{"table", "ops", "CREATE TABLE ops(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"},
	{"index", "sqlite_autoindex_ops_1", NULL},
	{"table", "kinds", "CREATE TABLE kinds(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE)"},
	{"index", "sqlite_autoindex_kinds_1", NULL},
	{"table", "paths", "CREATE TABLE paths(id INTEGER PRIMARY KEY, path TEXT NOT NULL)"},
	{"table", "procs",
	 "CREATE TABLE procs(          -- one row per distinct (pid, comm, uid, gid, process)\n"
	 "  id INTEGER PRIMARY KEY,\n"
	 "  pid INTEGER NOT NULL,\n"
	 "  comm TEXT,                 -- NULL if unknown\n"
	 "  uid INTEGER NOT NULL,\n"
	 "  gid INTEGER NOT NULL,\n"
	 "  process INTEGER            -- processes.id; NULL if unknown\n"
	 ")"},
	{"table", "events",
	 "CREATE TABLE events(\n"
	 "  seq INTEGER PRIMARY KEY,   -- 1, 2, 3, ... without gaps\n"
	 "  ts INTEGER NOT NULL,       -- start, ns since meta.start_ns\n"
	 "  dur INTEGER NOT NULL,      -- ns\n"
	 "  op INTEGER NOT NULL,       -- ops.id\n"
	 "  kind INTEGER NOT NULL,     -- kinds.id; 0 (no row) when unknown\n"
	 "  path INTEGER,              -- paths.id\n"
	 "  path2 INTEGER,             -- paths.id; NULL if n/a\n"
	 "  proc INTEGER,              -- procs.id; NULL for 'lost' markers\n"
	 "  result INTEGER NOT NULL,   -- 0, a count, or -errno\n"
	 "  bytes INTEGER,             -- NULL if n/a; events lost for 'lost'\n"
	 "  \"offset\" INTEGER,          -- NULL if n/a\n"
	 "  flags INTEGER NOT NULL,    -- 0 if n/a\n"
	 "  mode INTEGER NOT NULL      -- 0 if n/a\n"
	 ")"},
	{"view", "trace", NULL}, /* view_sql below */
	{"table", "processes",
	 "CREATE TABLE processes(      -- one row per process instance\n"
	 "  id INTEGER PRIMARY KEY,    -- a reused pid, or an exec, is a new row\n"
	 "  pid INTEGER NOT NULL,      -- thread-group id\n"
	 "  ppid INTEGER,              -- NULL if unknown\n"
	 "  parent_id INTEGER,         -- processes.id; NULL if not recorded\n"
	 "  root_id INTEGER,           -- processes.id of the chain's root\n"
	 "  exe TEXT,                  -- NULL if unreadable\n"
	 "  argv TEXT,                 -- JSON array of strings; NULL if unreadable\n"
	 "  cwd TEXT,                  -- NULL if unreadable\n"
	 "  start_ns INTEGER,          -- ns since the epoch\n"
	 "  exit_ns INTEGER,           -- NULL unless the exit was seen\n"
	 "  first_seq INTEGER,         -- events.seq of its first event\n"
	 "  state TEXT NOT NULL        -- 'read', 'gone' or 'root'\n"
	 ")"},
};
const size_t trace_schema_object_count = sizeof(trace_schema_objects) / sizeof(trace_schema_objects[0]);

/* Format version 1's procs, before process lineage: read, never written. */
const struct trace_schema_object trace_schema_procs_v1 = {
	"table", "procs",
	"CREATE TABLE procs(          -- one row per distinct (pid, comm, uid, gid)\n"
	"  id INTEGER PRIMARY KEY,\n"
	"  pid INTEGER NOT NULL,\n"
	"  comm TEXT,                 -- NULL if unknown\n"
	"  uid INTEGER NOT NULL,\n"
	"  gid INTEGER NOT NULL\n"
	")"};

/* %lld: meta.start_ns, baked into the view so that ts_ns costs one addition. */
static const char *const view_sql =
	"CREATE VIEW trace AS SELECT\n"
	"  e.seq AS seq, e.ts + %lld AS ts_ns, e.dur AS dur_ns, o.name AS op,\n"
	"  p.path AS path, p2.path AS path2, k.name AS kind, pr.pid AS pid,\n"
	"  pr.comm AS comm, pr.uid AS uid, pr.gid AS gid, e.result AS result,\n"
	"  e.bytes AS bytes, e.\"offset\" AS \"offset\", e.flags AS flags, e.mode AS mode,\n"
	"  pr.process AS process, ps.ppid AS ppid, ps.exe AS exe, ps.argv AS argv, ps.cwd AS cwd\n"
	"FROM events AS e\n" /* LEFT JOINs keep events the outer loop */
	"  LEFT JOIN ops AS o ON o.id = e.op\n"
	"  LEFT JOIN paths AS p ON p.id = e.path\n"
	"  LEFT JOIN paths AS p2 ON p2.id = e.path2\n"
	"  LEFT JOIN kinds AS k ON k.id = e.kind\n"
	"  LEFT JOIN procs AS pr ON pr.id = e.proc\n"
	"  LEFT JOIN processes AS ps ON ps.id = pr.process;\n"
	"CREATE VIEW commits AS\n"
	TRACE_SCHEMA_COMMIT_RANGES("(SELECT id FROM ops WHERE name = 'commit')")
	"SELECT c.seq AS seq, c.ts_ns AS ts_ns, c.dur_ns AS dur_ns, c.path2 AS id,\n"
	"  c.bytes AS files, c.path AS path, c.result AS result, r.first_seq AS first_seq,\n"
	"  r.last_seq AS last_seq\n"
	"FROM trace AS c JOIN ranges AS r ON r.commit_seq = c.seq ORDER BY c.seq;";

char *trace_schema_insert_events_sql(int rows)
{
	sqlite3_str *sql = sqlite3_str_new(NULL);

	sqlite3_str_appendall(sql, "INSERT INTO events(seq, ts, dur, op, kind, path, path2, proc,"
				   " result, bytes, \"offset\", flags, mode) VALUES");
	for (int i = 0; i < rows; i++) {
		sqlite3_str_appendall(sql, i ? ",(" : "(");
		for (int c = 1; c <= TRACE_SCHEMA_EVENT_COLUMNS; c++)
			sqlite3_str_appendf(sql, c > 1 ? ",?%d" : "?%d", i * TRACE_SCHEMA_EVENT_COLUMNS + c);
		sqlite3_str_appendchar(sql, 1, ')');
	}
	return sqlite3_str_finish(sql); /* NULL if any append ran out of memory */
}

int trace_schema_exec(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

/* Runs a PRAGMA that answers with one row; checks the answer if `expect`. */
static int pragma(sqlite3 *db, const char *sql, const char *expect)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return rc;
	rc = sqlite3_step(stmt);
	if (rc == SQLITE_ROW && expect) {
		const unsigned char *answer = sqlite3_column_text(stmt, 0);
		if (!answer || sqlite3_stricmp((const char *)answer, expect) != 0)
			rc = SQLITE_ERROR;
	}
	if (rc == SQLITE_ROW || rc == SQLITE_DONE)
		rc = SQLITE_OK;
	int finalize_rc = sqlite3_finalize(stmt);
	return rc != SQLITE_OK ? rc : finalize_rc;
}

int trace_schema_configure(sqlite3 *db)
{
	int rc = pragma(db, "PRAGMA journal_mode=WAL", "wal");
	if (rc == SQLITE_OK)
		rc = pragma(db, "PRAGMA synchronous=NORMAL", NULL);
	/* After a checkpoint a WAL file larger than this is truncated to it. */
	if (rc == SQLITE_OK)
		rc = pragma(db, "PRAGMA journal_size_limit=4194304", NULL);
	if (rc == SQLITE_OK)
		rc = pragma(db, "PRAGMA wal_autocheckpoint=256", NULL); /* see reserve.h */
	if (rc == SQLITE_OK)
		rc = pragma(db, "PRAGMA cache_size=-4096", NULL); /* 4 MiB: appends touch few pages */
	return rc;
}

static int insert_names(sqlite3 *db, const char *sql, int count, const char *(*name_of)(int))
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(db, sql, -1, &stmt, NULL);

	if (rc != SQLITE_OK)
		return rc;
	for (int id = 0; id < count && rc == SQLITE_OK; id++) {
		const char *name = name_of(id);
		if (!name)
			continue;
		sqlite3_bind_int(stmt, 1, id);
		sqlite3_bind_text(stmt, 2, name, -1, SQLITE_STATIC);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(stmt);
	}
	int finalize_rc = sqlite3_finalize(stmt);
	return rc != SQLITE_OK ? rc : finalize_rc;
}

static const char *op_name_of(int id)
{
	return trace_op_name((enum trace_op)id);
}

/* NULL for TRACE_KIND_NONE: no row, so the view shows NULL. */
static const char *kind_name_of(int id)
{
	return id == TRACE_KIND_NONE ? NULL : trace_kind_name((enum trace_kind)id);
}

void trace_schema_iso_time(int64_t ns, char *buf, size_t size)
{
	time_t seconds = (time_t)(ns / 1000000000);
	struct tm tm;

	if (size == 0)
		return;
	if (!gmtime_r(&seconds, &tm)) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
		 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		 (int)(ns % 1000000000 / 1000000));
}

static int write_start_meta(sqlite3 *db, const struct trace_origin *origin, int64_t start_ns)
{
	char host[256] = "";
	char start_time[64];
	char start_ns_text[32];
	sqlite3_stmt *stmt;

	if (gethostname(host, sizeof(host) - 1) != 0)
		snprintf(host, sizeof(host), "unknown");
	trace_schema_iso_time(start_ns, start_time, sizeof(start_time));
	snprintf(start_ns_text, sizeof(start_ns_text), "%lld", (long long)start_ns);

	const char *entries[][2] = {
		{"format_version", AS_TEXT(TRACE_FORMAT_VERSION)},
		{"tracefs_version", TRACEFS_VERSION},
		{"source", origin->source},
		{"mountpoint", origin->mountpoint},
		{"host", host},
		{"start_time", start_time},
		{"start_ns", start_ns_text},
		{"command_line", origin->command_line},
		{"cache_mode", origin->cache_mode},
		{"events_lost", "0"},
	};
	int rc = sqlite3_prepare_v2(db, TRACE_SCHEMA_SET_META, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return rc;
	for (size_t i = 0; i < sizeof(entries) / sizeof(entries[0]) && rc == SQLITE_OK; i++) {
		sqlite3_bind_text(stmt, 1, entries[i][0], -1, SQLITE_STATIC);
		if (entries[i][1])
			sqlite3_bind_text(stmt, 2, entries[i][1], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(stmt, 2);
		rc = sqlite3_step(stmt) == SQLITE_DONE ? SQLITE_OK : sqlite3_errcode(db);
		sqlite3_reset(stmt);
	}
	int finalize_rc = sqlite3_finalize(stmt);
	return rc != SQLITE_OK ? rc : finalize_rc;
}

static int create_all(sqlite3 *db, const struct trace_origin *origin, int64_t start_ns)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < trace_schema_object_count && rc == SQLITE_OK; i++)
		if (strcmp(trace_schema_objects[i].type, "table") == 0)
			rc = trace_schema_exec(db, trace_schema_objects[i].sql);
	if (rc == SQLITE_OK)
		rc = insert_names(db, "INSERT INTO ops(id, name) VALUES(?1, ?2)", TRACE_OP_COUNT,
				  op_name_of);
	if (rc == SQLITE_OK)
		rc = insert_names(db, "INSERT INTO kinds(id, name) VALUES(?1, ?2)",
				  TRACE_KIND_COUNT, kind_name_of);
	if (rc == SQLITE_OK) {
		char *sql = sqlite3_mprintf(view_sql, (long long)start_ns);
		if (!sql)
			return SQLITE_NOMEM;
		rc = trace_schema_exec(db, sql);
		sqlite3_free(sql);
	}
	if (rc == SQLITE_OK)
		rc = write_start_meta(db, origin, start_ns);
	return rc;
}

int trace_schema_create(sqlite3 *db, const struct trace_origin *origin, int64_t start_ns)
{
	int rc = trace_schema_exec(db, "BEGIN");
	if (rc != SQLITE_OK)
		return rc;
	rc = create_all(db, origin, start_ns);
	if (rc == SQLITE_OK)
		rc = trace_schema_exec(db, "COMMIT");
	if (rc != SQLITE_OK && !sqlite3_get_autocommit(db))
		trace_schema_exec(db, "ROLLBACK"); /* the caller deletes the file anyway */
	return rc;
}
