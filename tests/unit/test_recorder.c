/*
 * test_recorder.c — unit test of recorder/: events round-trip through the
 * `trace` view, refusing bad paths, a tiny queue, concurrent producers, a
 * process killed while recording, a full disk (an 8 MiB tmpfs; needs root,
 * else skipped), and an informative throughput figure.
 *
 * Plain C, no framework: exits 0 on success, prints "FAIL: ..." and exits 1
 * otherwise. RECORDER_TEST_SCALE (default 1) scales the event counts, e.g.
 * 0.05 under valgrind.
 */
#include "recorder/recorder.h"
#include "tests/unit/check.h"
#include "tests/unit/scale.h"
#include "tests/unit/scratch.h"
#include "tests/unit/traces.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char full_mount[128];  /* the tmpfs, while mounted */


/* ---- scratch space ---- */

static void cleanup(void)
{
	if (full_mount[0]) {
		if (umount2(full_mount, MNT_DETACH) != 0)
			fprintf(stderr, "warning: cannot unmount %s: %s\n", full_mount,
				strerror(errno));
		full_mount[0] = '\0';
	}
	scratch_remove();
}

/* ---- recorder helpers ---- */

/* Waits until at most `limit` events are queued or in an open transaction. */
static void wait_for_room(struct recorder *r, uint64_t limit)
{
	struct recorder_stats s;

	for (;;) {
		recorder_get_stats(r, &s);
		if (s.submitted - s.written - s.lost <= limit)
			return;
		sleep_ms(1);
	}
}

static struct trace_event event_of(enum trace_op op, const char *path)
{
	struct trace_event e = {
		.ts_ns = now_ns(CLOCK_REALTIME),
		.dur_ns = 1000,
		.bytes = -1,
		.offset = -1,
		.path = path,
		.comm = "test",
		.pid = 42,
		.uid = 1000,
		.gid = 1000,
		.op = (uint8_t)op,
		.kind = TRACE_KIND_FILE,
	};
	return e;
}

/* ---- reading a trace back ---- */

static sqlite3 *open_db(const char *path)
{
	sqlite3 *db;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL);
	CHECK(rc == SQLITE_OK, "open %s: %s", path, sqlite3_errstr(rc));
	return db;
}

static sqlite3_stmt *query(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt;
	CHECK(sqlite3_prepare_v2(db, sql, -1, &stmt, NULL) == SQLITE_OK, "prepare %s: %s", sql,
	      sqlite3_errmsg(db));
	return stmt;
}

/* The integer in the first column of the first row (NULL reads as -999). */
static int64_t sql_int(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *stmt = query(db, sql);
	CHECK(sqlite3_step(stmt) == SQLITE_ROW, "no row from %s: %s", sql, sqlite3_errmsg(db));
	int64_t v = sqlite3_column_type(stmt, 0) == SQLITE_NULL ? -999
								: sqlite3_column_int64(stmt, 0);
	sqlite3_finalize(stmt);
	return v;
}

/* The text in the first column of the first row, copied into buf. */
static const char *sql_text(sqlite3 *db, const char *sql, char *buf, size_t size)
{
	sqlite3_stmt *stmt = query(db, sql);
	CHECK(sqlite3_step(stmt) == SQLITE_ROW, "no row from %s: %s", sql, sqlite3_errmsg(db));
	const unsigned char *text = sqlite3_column_text(stmt, 0);
	snprintf(buf, size, "%s", text ? (const char *)text : "(null)");
	sqlite3_finalize(stmt);
	return buf;
}

static int64_t meta_int(sqlite3 *db, const char *key)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT CAST(value AS INTEGER) FROM meta WHERE key = '%s'", key);
	return sql_int(db, sql);
}

static void check_integrity(sqlite3 *db)
{
	char buf[256];
	sql_text(db, "PRAGMA integrity_check", buf, sizeof(buf));
	CHECK(strcmp(buf, "ok") == 0, "integrity_check: %s", buf);
}

/*
 * What every finished trace must satisfy: seq is 1..N without gaps, every
 * submitted event is written or counted lost, and the markers add up.
 */
static void check_accounting(sqlite3 *db, uint64_t submitted)
{
	int64_t rows = sql_int(db, "SELECT count(*) FROM trace");
	int64_t first = sql_int(db, "SELECT coalesce(min(seq), 1) FROM trace");
	int64_t last = sql_int(db, "SELECT coalesce(max(seq), 0) FROM trace");
	int64_t events = sql_int(db, "SELECT count(*) FROM trace WHERE op != 'lost'");
	int64_t marked = sql_int(db, "SELECT coalesce(sum(bytes), 0) FROM trace WHERE op = 'lost'");
	int64_t written = meta_int(db, "events_written");
	int64_t lost = meta_int(db, "events_lost");

	CHECK(first == 1 && last == rows, "seq runs %" PRId64 "..%" PRId64 " over %" PRId64 " rows",
	      first, last, rows);
	CHECK(events == written, "%" PRId64 " event rows but meta.events_written = %" PRId64,
	      events, written);
	CHECK(marked == lost, "lost markers sum to %" PRId64 " but meta.events_lost = %" PRId64,
	      marked, lost);
	CHECK((uint64_t)(written + lost) == submitted,
	      "written %" PRId64 " + lost %" PRId64 " != submitted %" PRIu64, written, lost,
	      submitted);
}

/* ---- round trip ---- */

struct expected {
	struct trace_event e;
	const char *op, *kind; /* names, NULL for SQL NULL */
};

static void check_text_column(sqlite3_stmt *stmt, int col, const char *want, int64_t seq)
{
	const unsigned char *got = sqlite3_column_text(stmt, col);
	const char *name = sqlite3_column_name(stmt, col);

	if (!want) {
		CHECK(sqlite3_column_type(stmt, col) == SQLITE_NULL, "seq %" PRId64 ": %s should be NULL",
		      seq, name);
		return;
	}
	CHECK(got, "seq %" PRId64 ": %s is NULL, want '%.40s'", seq, name, want);
	CHECK(strcmp((const char *)got, want) == 0, "seq %" PRId64 ": %s = '%.40s', want '%.40s'",
	      seq, name, got, want);
}

static void check_int_column(sqlite3_stmt *stmt, int col, int64_t want, bool null, int64_t seq)
{
	const char *name = sqlite3_column_name(stmt, col);

	if (null) {
		CHECK(sqlite3_column_type(stmt, col) == SQLITE_NULL, "seq %" PRId64 ": %s should be NULL",
		      seq, name);
		return;
	}
	CHECK(sqlite3_column_type(stmt, col) == SQLITE_INTEGER, "seq %" PRId64 ": %s not an integer",
	      seq, name);
	CHECK(sqlite3_column_int64(stmt, col) == want, "seq %" PRId64 ": %s = %lld, want %" PRId64,
	      seq, name, sqlite3_column_int64(stmt, col), want);
}

static void check_row(sqlite3_stmt *stmt, const struct expected *x, int64_t seq)
{
	const struct trace_event *e = &x->e;

	check_int_column(stmt, 0, seq, false, seq);
	check_int_column(stmt, 1, e->ts_ns, false, seq);
	check_int_column(stmt, 2, e->dur_ns, false, seq);
	check_text_column(stmt, 3, x->op, seq);
	check_text_column(stmt, 4, e->path, seq);
	check_text_column(stmt, 5, e->path2, seq);
	check_text_column(stmt, 6, x->kind, seq);
	check_int_column(stmt, 7, e->pid, false, seq);
	check_text_column(stmt, 8, e->comm, seq);
	check_int_column(stmt, 9, e->uid, false, seq);
	check_int_column(stmt, 10, e->gid, false, seq);
	check_int_column(stmt, 11, e->result, false, seq);
	check_int_column(stmt, 12, e->bytes, e->bytes < 0, seq);
	check_int_column(stmt, 13, e->offset, e->offset < 0, seq);
	check_int_column(stmt, 14, e->flags, false, seq);
	check_int_column(stmt, 15, e->mode, false, seq);
}

static void check_meta_text(sqlite3 *db, const char *key, const char *want)
{
	char sql[128], buf[256];
	snprintf(sql, sizeof(sql), "SELECT value FROM meta WHERE key = '%s'", key);
	sql_text(db, sql, buf, sizeof(buf));
	if (want)
		CHECK(strcmp(buf, want) == 0, "meta.%s = '%s', want '%s'", key, buf, want);
	else
		CHECK(buf[0] && strcmp(buf, "(null)") != 0, "meta.%s is empty", key);
}

static void test_round_trip(void)
{
	char path[256], wal[300];
	size_t long_len = 20000;
	char *long_path = malloc(long_len + 1);
	char long_comm[201];
	int64_t t0 = now_ns(CLOCK_REALTIME);

	CHECK(long_path, "out of memory");
	for (size_t i = 0; i < long_len; i++)
		long_path[i] = i % 10 == 0 ? '/' : (char)('a' + i % 26);
	long_path[long_len] = '\0';
	memset(long_comm, 'c', sizeof(long_comm) - 1);
	long_comm[sizeof(long_comm) - 1] = '\0';

	struct expected x[] = {
		{{t0, 1234, -1, -1, "/missing", NULL, "bash", 100, 1000, 1000, -ENOENT, 0, 0,
		  TRACE_OP_LOOKUP, TRACE_KIND_NONE, 0},
		 "lookup", NULL},
		{{t0 + 10, 55, -1, -1, "/a/b", "/c d/é", NULL, 101, 0, 0, 0, 1, 0, TRACE_OP_RENAME,
		  TRACE_KIND_FILE, 0},
		 "rename", "file"},
		{{t0 + 20, 7, 4096, 8192, "/a/b", NULL, "cat", 102, 4000000000u, 65534, 4096, 0, 0,
		  TRACE_OP_READ, TRACE_KIND_FILE, 0},
		 "read", "file"},
		{{t0 + 30, 99999, -1, -1, long_path, NULL, "mkdir", 103, 1, 2, 0, 0, 0755,
		  TRACE_OP_MKDIR, TRACE_KIND_DIR, 0},
		 "mkdir", "dir"},
		{{t0 + 40, 0, 1 << 20, 0, "/in", "/out", "", 104, 1, 2, 1 << 20, 0, 0,
		  TRACE_OP_COPY_FILE_RANGE, TRACE_KIND_OTHER, 0},
		 "copy_file_range", "other"},
		{{t0 + 50, 1, -1, -1, "/l", long_path, long_comm, 105, 3, 4, 0, 0, 0,
		  TRACE_OP_SYMLINK, TRACE_KIND_SYMLINK, 0},
		 "symlink", "symlink"},
		{{t0 - 5000000000LL, 2, -1, -1, "/", NULL, "bash", 100, 1000, 1000, 0, 0x8241,
		  0100644, TRACE_OP_CREATE, TRACE_KIND_FILE, 0},
		 "create", "file"}, /* an event older than the trace start */
	};
	size_t count = sizeof(x) / sizeof(x[0]);

	scratch_path(path, sizeof(path), "roundtrip.db");
	struct recorder *r = open_recorder(path, 0, 0);
	for (size_t i = 0; i < count; i++)
		recorder_submit(r, &x[i].e);
	close_recorder(r);

	snprintf(wal, sizeof(wal), "%s-wal", path);
	CHECK(access(wal, F_OK) != 0, "%s left behind after close", wal);

	sqlite3 *db = open_db(path);
	check_integrity(db);
	sqlite3_stmt *stmt = query(db, "SELECT seq, ts_ns, dur_ns, op, path, path2, kind, pid, comm,"
				       " uid, gid, result, bytes, offset, flags, mode"
				       " FROM trace ORDER BY seq");
	for (size_t i = 0; i < count; i++) {
		CHECK(sqlite3_step(stmt) == SQLITE_ROW, "row %zu missing", i + 1);
		check_row(stmt, &x[i], (int64_t)i + 1);
	}
	CHECK(sqlite3_step(stmt) == SQLITE_DONE, "more rows than events");
	sqlite3_finalize(stmt);

	/* The view's columns, exactly and in order. */
	stmt = query(db, "SELECT * FROM trace");
	const char *columns[] = {"seq",	 "ts_ns", "dur_ns", "op",     "path",  "path2",
				 "kind", "pid",	  "comm",   "uid",    "gid",   "result",
				 "bytes", "offset", "flags", "mode",  "process", "ppid",
				 "exe",	 "argv",  "cwd"};
	CHECK(sqlite3_column_count(stmt) == 21, "trace has %d columns",
	      sqlite3_column_count(stmt));
	for (int i = 0; i < 21; i++)
		CHECK(strcmp(sqlite3_column_name(stmt, i), columns[i]) == 0,
		      "trace column %d is %s, want %s", i, sqlite3_column_name(stmt, i), columns[i]);
	sqlite3_finalize(stmt);

	check_meta_text(db, "format_version", "2");
	check_meta_text(db, "tracefs_version", "0.1");
	check_meta_text(db, "source", "/srv/source");
	check_meta_text(db, "mountpoint", "/mnt/traced");
	check_meta_text(db, "command_line", "tracefs /srv/source /mnt/traced");
	check_meta_text(db, "cache_mode", "default");
	check_meta_text(db, "events_written", "7");
	check_meta_text(db, "events_lost", "0");
	check_meta_text(db, "host", NULL);
	check_meta_text(db, "start_time", NULL);
	check_meta_text(db, "end_time", NULL);
	int64_t start = meta_int(db, "start_ns"), end = meta_int(db, "end_ns");
	CHECK(start >= t0 - 1000000000 && start <= end, "start_ns %" PRId64 " end_ns %" PRId64,
	      start, end);
	char buf[64];
	sql_text(db, "SELECT value FROM meta WHERE key = 'start_time'", buf, sizeof(buf));
	CHECK(strlen(buf) == 24 && buf[10] == 'T' && buf[23] == 'Z', "start_time '%s'", buf);
	check_accounting(db, count);
	CHECK(sql_int(db, "SELECT count(*) FROM ops") == TRACE_OP_COUNT, "ops table incomplete");
	CHECK(sql_int(db, "SELECT count(*) FROM kinds") == TRACE_KIND_COUNT - 1, "kinds table");
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");
	free(long_path);
	printf("ok - round trip of %zu events through the trace view\n", count);
}

/* ---- concurrent producers ---- */

#define THREADS 4

struct producer {
	struct recorder *r;
	int index;
	uint64_t count;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	char path[64], comm[16];
	struct trace_event e = event_of(TRACE_OP_GETATTR, path);

	snprintf(comm, sizeof(comm), "worker%d", p->index);
	e.comm = comm;
	e.pid = 1000 + p->index;
	for (uint64_t i = 0; i < p->count; i++) {
		/* First half a burst (losses likely), second half paced (none). */
		if (i >= p->count / 2 && i % 1024 == 0)
			wait_for_room(p->r, 60000 - THREADS * 1024);
		snprintf(path, sizeof(path), "/t%d/dir%" PRIu64 "/file%" PRIu64, p->index, i % 23,
			 i % 500);
		e.offset = (int64_t)i; /* this thread's own order */
		e.op = (uint8_t)(i % 3 == 0 ? TRACE_OP_LOOKUP : TRACE_OP_GETATTR);
		recorder_submit(p->r, &e);
	}
	return NULL;
}

static void test_threads(void)
{
	char path[256];
	struct producer producers[THREADS];
	pthread_t threads[THREADS];
	uint64_t per_thread = scaled(200000);

	scratch_path(path, sizeof(path), "threads.db");
	struct recorder *r = open_recorder(path, 0, 0);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < THREADS; i++) {
		producers[i] = (struct producer){r, i, per_thread};
		int err = pthread_create(&threads[i], NULL, produce, &producers[i]);
		CHECK(err == 0, "pthread_create: %s", strerror(err));
	}
	for (int i = 0; i < THREADS; i++)
		CHECK(pthread_join(threads[i], NULL) == 0, "pthread_join");
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	struct recorder_stats s;
	recorder_get_stats(r, &s);
	CHECK(s.submitted == THREADS * per_thread, "stats.submitted %" PRIu64, s.submitted);
	close_recorder(r);

	sqlite3 *db = open_db(path);
	check_integrity(db);
	check_accounting(db, THREADS * per_thread);
	CHECK(sql_int(db, "SELECT count(*) FROM trace WHERE op != 'lost' AND"
			  " (path NOT LIKE '/t' || (pid - 1000) || '/%' OR comm != 'worker' || (pid - 1000))") == 0,
	      "an event's fields got mixed with another's");
	CHECK(sql_int(db, "SELECT count(*) FROM (SELECT \"offset\" AS o, lag(\"offset\") OVER"
			  " (PARTITION BY pid ORDER BY seq) AS prev FROM trace WHERE op != 'lost')"
			  " WHERE prev >= o") == 0,
	      "a thread's events are out of order");
	int64_t lost = meta_int(db, "events_lost");
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");
	printf("ok - %d threads x %" PRIu64 " events in %.2f s: %" PRIu64 " written, %" PRId64
	       " lost\n",
	       THREADS, per_thread, (double)(t1 - t0) / 1e9, THREADS * per_thread - (uint64_t)lost,
	       lost);
}

/* ---- a tiny queue ---- */

static void test_tiny_queue(void)
{
	char path[256];
	uint64_t count = scaled(100000);
	struct trace_event e = event_of(TRACE_OP_READ, "/burst");
	struct recorder_stats s;

	scratch_path(path, sizeof(path), "tiny.db");
	struct recorder *r = open_recorder(path, 16, 0);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < count; i++) {
		e.offset = (int64_t)i;
		recorder_submit(r, &e);
	}
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	recorder_get_stats(r, &s);
	CHECK(s.submitted == count, "stats.submitted %" PRIu64 " != %" PRIu64, s.submitted, count);
	CHECK(s.lost > 0, "a burst of %" PRIu64 " into 16 slots lost nothing", count);
	close_recorder(r);

	sqlite3 *db = open_db(path);
	check_integrity(db);
	check_accounting(db, count);
	int64_t lost = meta_int(db, "events_lost");
	CHECK(lost > 0, "meta.events_lost is %" PRId64, lost);
	CHECK(sql_int(db, "SELECT count(*) FROM trace WHERE op = 'lost'") > 0, "no 'lost' row");
	CHECK(sql_int(db, "SELECT count(*) FROM trace WHERE op = 'lost' AND"
			  " (path != '/' OR bytes <= 0 OR pid IS NOT NULL)") == 0,
	      "malformed 'lost' row");
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");
	printf("ok - tiny queue: %" PRIu64 " submitted (%.0f ns each), %" PRId64
	       " lost and recorded\n",
	       count, (double)(t1 - t0) / (double)count, lost);
}

/* ---- a killed process ---- */

/* The child: records until it is killed. */
static __attribute__((noreturn)) void record_forever(const char *path)
{
	struct recorder *r = open_recorder(path, 0, 20);
	char name[64];
	struct trace_event e = event_of(TRACE_OP_WRITE, name);

	for (uint64_t i = 0;; i++) {
		snprintf(name, sizeof(name), "/killed/file%" PRIu64, i % 1000);
		e.bytes = 512;
		e.offset = (int64_t)i * 512;
		recorder_submit(r, &e);
		if (i % 256 == 0)
			wait_for_room(r, 30000);
	}
}

static void test_killed(void)
{
	char path[256];

	scratch_path(path, sizeof(path), "killed.db");
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		scratch[0] = '\0'; /* the parent cleans up */
		record_forever(path);
	}
	/* Wait for a few commits, then kill it mid-flight. */
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + 30LL * 1000000000;
	for (;;) {
		sleep_ms(100);
		sqlite3 *db;
		int64_t rows = 0;
		if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK) {
			sqlite3_stmt *stmt;
			if (sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &stmt, NULL) ==
				    SQLITE_OK &&
			    sqlite3_step(stmt) == SQLITE_ROW)
				rows = sqlite3_column_int64(stmt, 0);
			sqlite3_finalize(stmt);
		}
		sqlite3_close(db);
		if (rows >= 1000)
			break;
		CHECK(now_ns(CLOCK_MONOTONIC) < deadline, "the child wrote no rows");
	}
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFSIGNALED(status), "the child was not killed (status %d)", status);

	sqlite3 *db = open_db(path);
	check_integrity(db);
	int64_t rows = sql_int(db, "SELECT count(*) FROM trace");
	CHECK(rows >= 1000 && sql_int(db, "SELECT max(seq) FROM trace") == rows,
	      "after a kill: %" PRId64 " rows, seq not 1..N", rows);
	CHECK(sql_int(db, "SELECT count(*) FROM meta WHERE key = 'end_time'") == 0,
	      "a killed trace has an end_time");
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");
	printf("ok - killed while recording: %" PRId64 " committed rows, integrity ok\n", rows);
}

/* ---- refusing bad paths ---- */

static void expect_open_failure(const char *path, const char *want1, const char *want2)
{
	struct recorder_options options = {.db_path = path};
	char err[512] = "";

	struct recorder *r = recorder_open(&options, err, sizeof(err));
	CHECK(!r, "recorder_open(%s) succeeded", path);
	CHECK(strstr(err, want1) && strstr(err, want2), "message '%s' lacks '%s' / '%s'", err, want1,
	      want2);
}

/*
 * A directory we may not write to. As root, in a child that drops to
 * nobody (the scratch directory is mode 0700, owned by root).
 */
static void expect_permission_denied(const char *path)
{
	if (geteuid() != 0) {
		CHECK(chmod(scratch, 0500) == 0, "chmod: %s", strerror(errno));
		expect_open_failure(path, "cannot create trace file", "Permission denied");
		CHECK(chmod(scratch, 0700) == 0, "chmod: %s", strerror(errno));
		return;
	}
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		if (setgid(65534) != 0 || setuid(65534) != 0) {
			fprintf(stderr, "FAIL: cannot become nobody: %s\n", strerror(errno));
			_exit(1);
		}
		scratch[0] = '\0'; /* the parent cleans up */
		expect_open_failure(path, "cannot create trace file", "Permission denied");
		_exit(0);
	}
	int status;
	CHECK(waitpid(pid, &status, 0) == pid, "waitpid: %s", strerror(errno));
	CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "permission test failed (status %d)",
	      status);
}

static void test_refusals(void)
{
	char path[256], wal[300];
	struct stat st;

	scratch_path(path, sizeof(path), "exists.db");
	FILE *f = fopen(path, "w");
	CHECK(f && fputs("precious", f) >= 0 && fclose(f) == 0, "cannot write %s", path);
	expect_open_failure(path, "already exists", "choose another --db or remove it");
	CHECK(stat(path, &st) == 0 && st.st_size == 8, "existing file was touched");

	expect_open_failure("/nonexistent-tracefs-dir/trace.db",
			    "cannot create trace file /nonexistent-tracefs-dir/trace.db",
			    "No such file or directory");

	scratch_path(path, sizeof(path), "stale.db");
	snprintf(wal, sizeof(wal), "%s-wal", path);
	f = fopen(wal, "w");
	CHECK(f && fclose(f) == 0, "cannot write %s", wal);
	expect_open_failure(path, "stale.db-wal exists", "remove it");
	CHECK(access(path, F_OK) != 0, "%s left behind by a failed open", path);
	CHECK(access(wal, F_OK) == 0, "%s (not ours) was removed", wal);

	scratch_path(path, sizeof(path), "denied.db");
	expect_permission_denied(path);
	printf("ok - refuses an existing file, a missing directory, a stale WAL, a denied"
	       " directory\n");
}

/* ---- full disk ---- */

static uint64_t free_bytes(const char *dir)
{
	struct statvfs vfs;
	CHECK(statvfs(dir, &vfs) == 0, "statvfs %s: %s", dir, strerror(errno));
	return (uint64_t)vfs.f_bavail * vfs.f_frsize;
}

/* Submits events with new paths (so the trace grows fast); returns how many. */
static uint64_t submit_unique(struct recorder *r, uint64_t first, uint64_t count)
{
	char path[128];
	struct trace_event e = event_of(TRACE_OP_CREATE, path);

	for (uint64_t i = first; i < first + count; i++) {
		snprintf(path, sizeof(path), "/full/some/deeper/directory/file-number-%08" PRIu64, i);
		e.ts_ns = now_ns(CLOCK_REALTIME);
		recorder_submit(r, &e);
	}
	return count;
}

/* On the tmpfs, once nothing is left: recorder_open fails and leaves nothing. */
static void test_full_at_open(void)
{
	char filler[256], path[256];
	static char chunk[65536];

	snprintf(filler, sizeof(filler), "%s/filler", full_mount);
	int fd = open(filler, O_WRONLY | O_CREAT | O_EXCL, 0600);
	CHECK(fd >= 0, "create %s: %s", filler, strerror(errno));
	size_t size = sizeof(chunk);
	while (size > 0) { /* shrinking writes squeeze out the last bytes */
		if (write(fd, chunk, size) < 0) {
			CHECK(errno == ENOSPC, "write %s: %s", filler, strerror(errno));
			size /= 2;
		}
	}
	CHECK(close(fd) == 0, "close %s: %s", filler, strerror(errno));

	snprintf(path, sizeof(path), "%s/second.db", full_mount);
	expect_open_failure(path, "cannot write trace file", "full");
	CHECK(access(path, F_OK) != 0, "%s left behind by a failed open", path);
	CHECK(unlink(filler) == 0, "unlink %s: %s", filler, strerror(errno));
}

/* Writes size bytes of zeros to a new file. */
static void write_ballast(const char *path, size_t size)
{
	static char chunk[65536];
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);

	CHECK(fd >= 0, "create %s: %s", path, strerror(errno));
	for (size_t done = 0; done < size; done += sizeof(chunk))
		CHECK(write(fd, chunk, sizeof(chunk)) == (ssize_t)sizeof(chunk), "write %s: %s", path,
		      strerror(errno));
	CHECK(close(fd) == 0, "close %s: %s", path, strerror(errno));
}

/* Submits paced events until `done` says stop or the deadline passes. */
static uint64_t submit_until(struct recorder *r, uint64_t *submitted, int64_t seconds,
			     bool (*done)(const struct recorder_stats *, uint64_t), uint64_t arg)
{
	struct recorder_stats s;
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + seconds * 1000000000;

	for (;;) {
		*submitted += submit_unique(r, *submitted, 200);
		wait_for_room(r, 30000); /* keeps the queue from overflowing */
		recorder_get_stats(r, &s);
		if (done(&s, arg) || now_ns(CLOCK_MONOTONIC) >= deadline)
			return done(&s, arg) ? s.written : UINT64_MAX;
		sleep_ms(5);
	}
}

static bool losing(const struct recorder_stats *s, uint64_t arg)
{
	(void)arg;
	return s->lost > 0;
}

static bool never(const struct recorder_stats *s, uint64_t arg)
{
	(void)s;
	(void)arg;
	return false;
}

static bool written_beyond(const struct recorder_stats *s, uint64_t arg)
{
	return s->written > arg;
}

/*
 * An 8 MiB tmpfs with a 3 MiB ballast file: fill it, keep submitting while it
 * is full, then delete the ballast and see recording resume.
 */
static void test_disk_full(void)
{
	char path[256], ballast[256], wal[300];

	scratch_path(full_mount, sizeof(full_mount), "full");
	CHECK(mkdir(full_mount, 0700) == 0, "mkdir %s: %s", full_mount, strerror(errno));
	if (mount("tmpfs", full_mount, "tmpfs", 0, "size=8m") != 0) {
		printf("skip - full disk: cannot mount a tmpfs: %s\n", strerror(errno));
		full_mount[0] = '\0';
		return;
	}
	snprintf(ballast, sizeof(ballast), "%s/ballast", full_mount);
	write_ballast(ballast, 3 * 1024 * 1024);
	snprintf(path, sizeof(path), "%s/trace.db", full_mount);
	snprintf(wal, sizeof(wal), "%s-wal", path);
	struct recorder *r = open_recorder(path, 0, 50);

	uint64_t submitted = 0;
	uint64_t written_full = submit_until(r, &submitted, 60, losing, 0);
	CHECK(written_full != UINT64_MAX, "disk never filled: %" PRIu64 " submitted, %" PRIu64
					  " bytes free", submitted, free_bytes(full_mount));
	submit_until(r, &submitted, 2, never, 0); /* full: through a retry or two */
	sqlite3 *live;
	CHECK(sqlite3_open_v2(path, &live, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open %s",
	      path);
	CHECK(meta_int(live, "events_lost") > 0 &&
		      sql_int(live, "SELECT count(*) FROM trace WHERE op = 'lost'") > 0,
	      "the loss is not in the trace while the disk is full");
	CHECK(sqlite3_close(live) == SQLITE_OK, "close");
	CHECK(unlink(ballast) == 0, "unlink %s: %s", ballast, strerror(errno));
	uint64_t resumed = submit_until(r, &submitted, 10, written_beyond, written_full + 100);
	CHECK(resumed != UINT64_MAX, "recording did not resume with room on disk: written %" PRIu64,
	      written_full);
	struct recorder_stats s;
	recorder_get_stats(r, &s);
	CHECK(s.submitted == submitted, "stats.submitted %" PRIu64 " != %" PRIu64, s.submitted,
	      submitted);
	close_recorder(r);
	bool wal_left = access(wal, F_OK) == 0;

	sqlite3 *db = open_db(path);
	check_integrity(db);
	int64_t lost = meta_int(db, "events_lost");
	int64_t written = meta_int(db, "events_written");
	CHECK(lost > 0, "meta.events_lost is %" PRId64 " on a full disk", lost);
	CHECK(sql_int(db, "SELECT count(*) FROM trace WHERE op = 'lost'") > 0, "no 'lost' row");
	check_accounting(db, submitted);
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");

	test_full_at_open();
	CHECK(umount2(full_mount, 0) == 0, "umount %s: %s", full_mount, strerror(errno));
	full_mount[0] = '\0';
	printf("ok - full disk: %" PRIu64 " submitted, %" PRId64 " written (%" PRIu64
	       " when it filled, %" PRIu64 " after room came back), %" PRId64
	       " lost and recorded%s\n",
	       submitted, written, written_full, resumed, lost,
	       wal_left ? "; the WAL could not be checkpointed" : "");
}

/* ---- process lineage ---- */

/* The process rows round-trip: ids in order, a root of its own, first_seq, exit, the view. */
static void test_processes(void)
{
	char path[256];
	scratch_path(path, sizeof(path), "processes.db");
	struct recorder *r = open_recorder(path, 0, 10);

	struct recorder_process root = {.pid = 100, .ppid = 1, .argv = "[\"make\",\"-j2\"]",
				   .exe = "/usr/bin/make", .cwd = "/src", .start_ns = 5,
				   .state = RECORDER_PROCESS_ROOT};
	int64_t root_id = recorder_add_process(r, &root);
	struct recorder_process child = {.pid = 101, .ppid = 100, .parent_id = root_id,
				    .root_id = root_id, .argv = "[\"sh\",\"-c\",\"a \\\"b\\\"\\n\"]",
				    .start_ns = 6, .state = RECORDER_PROCESS_READ};
	int64_t child_id = recorder_add_process(r, &child);
	struct recorder_process gone = {.pid = 102, .ppid = -1, .parent_id = child_id,
				   .root_id = root_id, .start_ns = -1, .state = RECORDER_PROCESS_GONE};
	int64_t gone_id = recorder_add_process(r, &gone);
	CHECK(root_id == 1 && child_id == 2 && gone_id == 3, "process ids %" PRId64 " %" PRId64
	      " %" PRId64, root_id, child_id, gone_id);

	struct trace_event e = event_of(TRACE_OP_GETATTR, "/a");
	e.process = child_id;
	for (int i = 0; i < 3; i++)
		recorder_submit(r, &e);
	e.process = root_id;
	recorder_submit(r, &e);
	e.process = 0;
	recorder_submit(r, &e);
	recorder_process_exited(r, child_id, 77);
	close_recorder(r);

	sqlite3 *db = open_db(path);
	check_integrity(db);
	CHECK(sql_int(db, "SELECT count(*) FROM processes") == 3, "three processes rows");
	CHECK(sql_int(db, "SELECT root_id FROM processes WHERE id = 1") == 1, "a root is its own");
	CHECK(sql_int(db, "SELECT parent_id FROM processes WHERE id = 2") == 1, "parent_id");
	CHECK(sql_int(db, "SELECT first_seq FROM processes WHERE id = 2") == 1 &&
		      sql_int(db, "SELECT first_seq FROM processes WHERE id = 1") == 4 &&
		      sql_int(db, "SELECT first_seq FROM processes WHERE id = 3") == -999,
	      "first_seq: its first event, NULL without one");
	CHECK(sql_int(db, "SELECT exit_ns FROM processes WHERE id = 2") == 77 &&
		      sql_int(db, "SELECT exit_ns FROM processes WHERE id = 1") == -999,
	      "exit_ns where seen");
	CHECK(sql_int(db, "SELECT ppid FROM processes WHERE id = 3") == -999 &&
		      sql_int(db, "SELECT start_ns FROM processes WHERE id = 3") == -999 &&
		      sql_int(db, "SELECT state = 'gone' FROM processes WHERE id = 3") == 1,
	      "unknowns are NULL");
	CHECK(sql_int(db, "SELECT json_extract(argv, '$[2]') = 'a \"b\"' || char(10) FROM processes "
			  "WHERE id = 2") == 1, "argv round-trips");
	CHECK(sql_int(db, "SELECT count(*) FROM trace WHERE process = 2 AND exe IS NULL AND ppid = 100") == 3 &&
		      sql_int(db, "SELECT count(*) FROM trace WHERE exe = '/usr/bin/make'") == 1 &&
		      sql_int(db, "SELECT count(*) FROM trace WHERE process IS NULL") == 1,
	      "the trace view's process columns");
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");

	char err[512] = "";
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	CHECK(reader, "trace_reader_open: %s", err);
	int64_t expected[] = {2, 2, 2, 1, 0}, seq;
	for (int i = 0; i < 5; i++) {
		CHECK(trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1, "read: %s", err);
		CHECK(e.process == expected[i], "event %" PRId64 ": process %" PRId64, seq, e.process);
	}
	trace_reader_close(reader);
	printf("ok - process lineage: rows, first_seq, exit, the view, the reader\n");
}

/* Waits until COUNT events are committed. */
static void wait_for_written(struct recorder *r, uint64_t count)
{
	struct recorder_stats s;
	for (recorder_get_stats(r, &s); s.written < count; recorder_get_stats(r, &s))
		sleep_ms(1);
}

/*
 * A reader following a live trace meets processes rows added after it
 * opened, among them an ancestor no procs row names: it checks them then.
 */
static void test_processes_live(void)
{
	char path[256], err[512] = "";
	scratch_path(path, sizeof(path), "processes-live.db");
	struct recorder *r = open_recorder(path, 0, 10);
	struct recorder_process p = {.pid = 10, .ppid = -1, .start_ns = -1,
				     .state = RECORDER_PROCESS_ROOT};
	struct trace_event e = event_of(TRACE_OP_GETATTR, "/a");
	e.process = recorder_add_process(r, &p);
	recorder_submit(r, &e);
	wait_for_written(r, 1);

	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	CHECK(reader, "trace_reader_open: %s", err);
	int64_t seq;
	CHECK(trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1 && e.process == 1,
	      "first event: %s", err);
	p = (struct recorder_process){.pid = 11, .ppid = 10, .parent_id = 1, .root_id = 1,
				      .start_ns = -1, .state = RECORDER_PROCESS_READ};
	int64_t ancestor = recorder_add_process(r, &p);
	p.pid = 12;
	p.parent_id = ancestor;
	e = event_of(TRACE_OP_GETATTR, "/b");
	e.process = recorder_add_process(r, &p);
	recorder_submit(r, &e);
	wait_for_written(r, 2);
	/* The first call ends the read that began before the commit. */
	int got = trace_reader_next(reader, &e, &seq, err, sizeof(err));
	if (got == 0)
		got = trace_reader_next(reader, &e, &seq, err, sizeof(err));
	CHECK(got == 1 && e.process == 3,
	      "an event of a process recorded since the reader opened: %s", err);
	trace_reader_close(reader);
	close_recorder(r);
	printf("ok - process lineage followed live: rows added since open are checked\n");
}

/* ---- throughput (informative) ---- */

static void test_throughput(void)
{
	char path[256], paths[2048][64];
	const char *comms[] = {"make", "cc1", "as", "ld"};
	uint64_t count = scaled(1000000);
	struct stat st;

	for (int i = 0; i < 2048; i++)
		snprintf(paths[i], sizeof(paths[i]), "/usr/src/project/lib/module%03d/file%04d.c",
			 i / 16, i);
	scratch_path(path, sizeof(path), "throughput.db");
	struct recorder *r = open_recorder(path, 0, 0);
	int64_t ts = now_ns(CLOCK_REALTIME);
	uint32_t rnd = 12345;
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < count; i++) {
		rnd = rnd * 1103515245 + 12345;
		static const uint8_t ops[] = {TRACE_OP_GETATTR, TRACE_OP_LOOKUP, TRACE_OP_READ,
					      TRACE_OP_OPEN, TRACE_OP_GETATTR, TRACE_OP_READ};
		struct trace_event e = event_of(ops[i % 6], paths[(rnd >> 8) % 2048]);
		e.ts_ns = ts + (int64_t)i * 1000;
		e.dur_ns = 500 + (rnd >> 20) % 4000;
		e.comm = comms[(i / 1000) % 4];
		e.pid = 2000 + (int32_t)((i / 1000) % 4);
		if (e.op == TRACE_OP_READ) {
			e.bytes = 4096;
			e.offset = (int64_t)(i % 64) * 4096;
		} else if (e.op == TRACE_OP_OPEN) {
			e.flags = 0x8000;
		} else if (e.op == TRACE_OP_LOOKUP && i % 5 == 0) {
			e.result = -ENOENT;
			e.kind = TRACE_KIND_NONE;
		}
		recorder_submit(r, &e);
		if (i % 256 == 255)
			wait_for_room(r, 60000); /* sustained rate: lose nothing */
	}
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	struct recorder_stats s;
	recorder_get_stats(r, &s);
	close_recorder(r);
	int64_t t2 = now_ns(CLOCK_MONOTONIC);
	CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));

	sqlite3 *db = open_db(path);
	check_accounting(db, count);
	CHECK(sqlite3_close(db) == SQLITE_OK, "close");
	printf("info - throughput: %" PRIu64 " events, submitted in %.3f s, written in %.3f s ="
	       " %.0f events/s; %" PRIu64 " lost; %.1f bytes/event (%lld bytes)\n",
	       count, (double)(t1 - t0) / 1e9, (double)(t2 - t0) / 1e9,
	       (double)count * 1e9 / (double)(t2 - t0), s.lost, (double)st.st_size / (double)count,
	       (long long)st.st_size);
}

int main(void)
{
	check_on_fail = cleanup;

	if (!scale_from_env())
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!scratch_make("test_recorder"))
		return 1;
	test_round_trip();
	test_refusals();
	test_tiny_queue();
	test_threads();
	test_killed();
	test_disk_full();
	test_processes();
	test_processes_live();
	test_throughput();
	cleanup();
	printf("PASS: test_recorder\n");
	return 0;
}
