/*
 * test_reader.c — unit test of the trace reader (trace_reader_* in
 * trace/trace.h): every field of every event reads back as it was
 * submitted, seek, span and meta; refusals with a clear message (a missing
 * file, which must not be created; a directory; an empty file; a file that
 * is not SQLite; an SQLite file that is not a trace; a newer format; a
 * truncated file; garbage written over a copy); out-of-range values in an
 * otherwise sound trace; a trace whose recorder is still writing; a trace
 * left with a -wal file by a killed recorder; and the JSON form of an event
 * (trace_event_to_json) for awkward strings.
 *
 * Plain C, no framework: exits 0 on success, prints "FAIL: ..." and exits 1
 * otherwise. RECORDER_TEST_SCALE (default 1) scales the event counts, e.g.
 * 0.05 under valgrind.
 */
#include "recorder/recorder.h"
#include "trace/trace.h" /* the row check, as the report's scan uses it */
#include "tests/unit/check.h"
#include "tests/unit/scale.h"
#include "tests/unit/scratch.h"
#include "tests/unit/traces.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>


/* ---- scratch space ---- */

static void cleanup(void)
{
	scratch_remove();
}

/* ---- files ---- */

static void write_file(const char *path, const void *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	CHECK(f, "create %s: %s", path, strerror(errno));
	CHECK(fwrite(data, 1, size, f) == size && fclose(f) == 0, "write %s: %s", path,
	      strerror(errno));
}

static off_t file_size(const char *path)
{
	struct stat st;
	CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	return st.st_size;
}

/* Overwrites SIZE bytes at OFFSET with pseudo-random garbage. */
static void scribble(const char *path, off_t offset, size_t size, unsigned seed)
{
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	unsigned char *junk = malloc(size);
	CHECK(junk, "out of memory");
	for (size_t i = 0; i < size; i++) {
		seed = seed * 1103515245 + 12345;
		junk[i] = (unsigned char)(seed >> 16);
	}
	CHECK(pwrite(fd, junk, size, offset) == (ssize_t)size, "pwrite %s: %s", path,
	      strerror(errno));
	free(junk);
	CHECK(close(fd) == 0, "close %s: %s", path, strerror(errno));
}

/* ---- recorder helpers ---- */

/* Waits until everything submitted is committed. */
static void wait_written(struct recorder *r)
{
	struct recorder_stats s;
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + 30LL * 1000000000;

	for (;;) {
		recorder_get_stats(r, &s);
		if (s.written + s.lost == s.submitted)
			return;
		CHECK(now_ns(CLOCK_MONOTONIC) < deadline, "the recorder does not commit");
		sleep_ms(5);
	}
}

static struct trace_reader *open_reader(const char *path)
{
	char err[512] = "";
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	CHECK(reader, "trace_reader_open(%s): %s", path, err);
	return reader;
}

/* ---- round trip ---- */

#define ROUND_TRIP_EVENTS 64

static char long_path[20001];

/* Event i of the round trip: every op, kind, NULL and corner in turn. */
static struct trace_event sample_event(int i, int64_t t0)
{
	static const char *const paths[] = {
		"/",	  "/a", "/dir/file.c", "/with\nnewline \"q\"", "/\xff\xfe invalid utf-8",
		long_path};
	struct trace_event e = {
		.ts_ns = t0 + i * 1000 + (i % 3 == 0 ? 5000 : 0), /* not monotonic */
		.dur_ns = i * 7,
		.bytes = i % 4 == 0 ? -1 : i * 100,
		.offset = i % 5 == 0 ? -1 : (int64_t)i << 33,
		.path = paths[i % 6],
		.path2 = i % 7 == 0   ? "/target"
			 : i % 7 == 1 ? "user.attr"
				      : NULL,
		.comm = i % 9 == 0 ? NULL
			: i % 2	   ? "make"
				   : "cc1",
		.pid = i % 11 == 0 ? 0 : 1000 + i % 5,
		.uid = i % 13 == 0 ? UINT32_MAX - 1 : 1000,
		.gid = 100 + (uint32_t)i,
		.result = i % 6 == 0 ? -2 : i,
		.flags = (uint32_t)i * 0x01010101u,
		.mode = i % 2 ? 0100644 : 0,
		.op = (uint8_t)(i % TRACE_OP_LOST), /* 'lost' rows are the writer's */
		.kind = (uint8_t)(i % TRACE_KIND_COUNT),
	};
	return e;
}

static void check_string(const char *got, const char *want, int64_t seq, const char *what)
{
	if (!want) {
		CHECK(!got, "seq %" PRId64 ": %s should be NULL, is '%.40s'", seq, what, got);
		return;
	}
	CHECK(got && strcmp(got, want) == 0, "seq %" PRId64 ": %s = '%.40s', want '%.40s'", seq,
	      what, got ? got : "(null)", want);
}

static void check_event(const struct trace_event *got, const struct trace_event *want, int64_t seq)
{
	CHECK(got->ts_ns == want->ts_ns && got->dur_ns == want->dur_ns,
	      "seq %" PRId64 ": time %" PRId64 "+%" PRId64 ", want %" PRId64 "+%" PRId64, seq,
	      got->ts_ns, got->dur_ns, want->ts_ns, want->dur_ns);
	CHECK(got->op == want->op && got->kind == want->kind,
	      "seq %" PRId64 ": op %d kind %d, want %d %d", seq, got->op, got->kind, want->op,
	      want->kind);
	CHECK(got->bytes == want->bytes && got->offset == want->offset,
	      "seq %" PRId64 ": bytes %" PRId64 " offset %" PRId64, seq, got->bytes, got->offset);
	CHECK(got->pid == want->pid && got->uid == want->uid && got->gid == want->gid,
	      "seq %" PRId64 ": pid/uid/gid %d/%u/%u", seq, got->pid, got->uid, got->gid);
	CHECK(got->result == want->result && got->flags == want->flags && got->mode == want->mode,
	      "seq %" PRId64 ": result %d flags %u mode %u", seq, got->result, got->flags,
	      got->mode);
	check_string(got->path, want->path, seq, "path");
	check_string(got->path2, want->path2, seq, "path2");
	check_string(got->comm, want->comm, seq, "comm");
}

static void make_round_trip_trace(const char *path, int64_t t0)
{
	struct recorder *r = open_recorder(path, 0, 0);
	for (int i = 0; i < ROUND_TRIP_EVENTS; i++) {
		struct trace_event e = sample_event(i, t0);
		recorder_submit(r, &e);
	}
	close_recorder(r);
}

static void check_seek(struct trace_reader *reader, int64_t t0)
{
	char err[512] = "";
	struct trace_event e;
	int64_t seq;

	/* Event 3 starts at t0 + 8000; 1 and 2 start earlier but come first. */
	CHECK(trace_reader_seek(reader, t0 + 7000, err, sizeof(err)) == 0, "seek: %s", err);
	CHECK(trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1, "next after seek: %s", err);
	CHECK(seq == 4, "seek to t0+7000 gave seq %" PRId64 ", want 4", seq);
	CHECK(trace_reader_seek(reader, INT64_MIN, err, sizeof(err)) == 0, "seek: %s", err);
	CHECK(trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1 && seq == 1,
	      "seek to the start gave seq %" PRId64, seq);
	CHECK(trace_reader_seek(reader, INT64_MAX, err, sizeof(err)) == 0, "seek: %s", err);
	CHECK(trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 0, "events after the end");
}

static void test_round_trip(void)
{
	char path[256], err[512] = "";
	int64_t t0 = now_ns(CLOCK_REALTIME);

	for (size_t i = 0; i < sizeof(long_path) - 1; i++)
		long_path[i] = i % 10 == 0 ? '/' : (char)('a' + i % 26);
	make_round_trip_trace(scratch_path(path, sizeof(path), "round.db"), t0);

	struct trace_reader *reader = open_reader(path);
	struct trace_event got;
	int64_t seq;
	int n = 0;
	while (trace_reader_next(reader, &got, &seq, err, sizeof(err)) == 1) {
		CHECK(seq == n + 1, "seq %" PRId64 " after %d events", seq, n);
		struct trace_event want = sample_event(n, t0);
		check_event(&got, &want, seq);
		n++;
	}
	CHECK(!err[0], "reading: %s", err);
	CHECK(n == ROUND_TRIP_EVENTS, "read %d events, want %d", n, ROUND_TRIP_EVENTS);
	CHECK(trace_reader_next(reader, &got, &seq, err, sizeof(err)) == 0, "more after the end");

	int64_t first, last, count;
	CHECK(trace_reader_span(reader, &first, &last, &count) == 0, "span failed");
	CHECK(first == t0 + 1000 && count == ROUND_TRIP_EVENTS &&
		      last == sample_event(ROUND_TRIP_EVENTS - 1, t0).ts_ns,
	      "span %" PRId64 "..%" PRId64 " (%" PRId64 " events)", first - t0, last - t0, count);
	char *source = trace_reader_meta(reader, "source");
	CHECK(source && strcmp(source, "/srv/source") == 0, "meta source = %s", source);
	free(source);
	CHECK(!trace_reader_meta(reader, "no such key"), "a missing meta key has a value");
	check_seek(reader, t0);
	trace_reader_close(reader);
	char sibling[300];
	snprintf(sibling, sizeof(sibling), "%s-wal", path);
	CHECK(!exists(sibling), "reading left %s behind", sibling);
	snprintf(sibling, sizeof(sibling), "%s-shm", path);
	CHECK(!exists(sibling), "reading left %s behind", sibling);
	printf("ok - round trip of %d events, seek, span, meta; no -wal or -shm left\n", n);
}

/*
 * Many names: the reader keeps the texts of paths and processes by id in
 * bounded caches; whatever they evict and reuse, every event reads back
 * with its own strings, in order and after a seek back to the start.
 */
#define NAME_EVENTS 3000

static struct trace_event named_event(int i, int64_t t0, char *path, char *path2, char *comm)
{
	/* Lengths vary, so that a slot's buffer is reused for longer and shorter texts. */
	snprintf(path, 128, "/n/%d/%.*s", i % 1500, i % 37, "abcdefghijklmnopqrstuvwxyz0123456789x");
	snprintf(path2, 128, "/moved/%d%.*s", i * 7919 % 2000, i % 23, "ABCDEFGHIJKLMNOPQRSTUVW");
	snprintf(comm, 16, "p%d", i % 700);
	struct trace_event e = {.ts_ns = t0 + i, .bytes = -1, .offset = -1, .path = path,
				.path2 = i % 5 == 0 ? NULL : i % 5 == 1 ? path : path2,
				.comm = i % 700 % 9 == 0 ? NULL : comm, .pid = i % 700 + 1,
				.uid = (uint32_t)(i % 700), .gid = 7, .op = TRACE_OP_RENAME,
				.kind = TRACE_KIND_FILE};
	return e;
}

static void read_names(struct trace_reader *reader, int64_t t0)
{
	char err[512] = "", path[128], path2[128], comm[16];
	struct trace_event got;
	int64_t seq;
	int n = 0;
	while (trace_reader_next(reader, &got, &seq, err, sizeof(err)) == 1) {
		struct trace_event want = named_event(n, t0, path, path2, comm);
		check_string(got.path, want.path, seq, "path");
		check_string(got.path2, want.path2, seq, "path2");
		check_string(got.comm, want.comm, seq, "comm");
		CHECK(got.pid == want.pid && got.uid == want.uid && got.gid == want.gid,
		      "seq %" PRId64 ": pid/uid/gid %d/%u/%u", seq, got.pid, got.uid, got.gid);
		n++;
	}
	CHECK(!err[0], "reading: %s", err);
	CHECK(n == NAME_EVENTS, "read %d events, want %d", n, NAME_EVENTS);
}

static void test_many_names(void)
{
	char path[256], err[512], p[128], p2[128], comm[16];
	int64_t t0 = now_ns(CLOCK_REALTIME);
	struct recorder *r = open_recorder(scratch_path(path, sizeof(path), "names.db"), 0, 0);
	for (int i = 0; i < NAME_EVENTS; i++) {
		struct trace_event e = named_event(i, t0, p, p2, comm);
		recorder_submit(r, &e);
	}
	close_recorder(r);
	struct trace_reader *reader = open_reader(path);
	read_names(reader, t0);
	CHECK(trace_reader_seek(reader, INT64_MIN, err, sizeof(err)) == 0, "seek: %s", err);
	read_names(reader, t0);
	trace_reader_close(reader);
	/* A small cache, as serve's tabs have: slots are taken over all the time. */
	reader = open_reader(path);
	CHECK(trace_reader_limit_cache(reader, 256) == 0, "trace_reader_limit_cache failed");
	read_names(reader, t0);
	trace_reader_close(reader);
	printf("ok - %d events with 3,500 paths and 700 processes read back right, twice, and "
	       "through a small cache\n", NAME_EVENTS);
}

/* ---- many events ---- */

static void test_throughput(void)
{
	char path[256], err[512] = "";
	uint64_t count = scaled(300000);
	int64_t t0 = now_ns(CLOCK_REALTIME);
	struct recorder *r = open_recorder(scratch_path(path, sizeof(path), "many.db"), 0, 0);
	char name[64];

	for (uint64_t i = 0; i < count; i++) {
		snprintf(name, sizeof(name), "/src/dir%" PRIu64 "/file%" PRIu64 ".c", i % 97,
			 i % 1009);
		struct trace_event e = {.ts_ns = t0 + (int64_t)i,
				      .dur_ns = 1000,
				      .bytes = 4096,
				      .offset = (int64_t)i,
				      .path = name,
				      .comm = "cc1",
				      .pid = (int32_t)(i % 50),
				      .op = TRACE_OP_READ,
				      .kind = TRACE_KIND_FILE};
		recorder_submit(r, &e);
		if (i % 4096 == 0)
			wait_written(r);
	}
	close_recorder(r);

	int64_t start = now_ns(CLOCK_MONOTONIC);
	struct trace_reader *reader = open_reader(path);
	struct trace_event e;
	int64_t seq;
	uint64_t n = 0;
	while (trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1) {
		CHECK((uint64_t)seq == n + 1 && e.offset == (int64_t)n,
		      "seq %" PRId64 " offset %" PRId64 " at %" PRIu64, seq, e.offset, n);
		n++;
	}
	CHECK(!err[0] && n == count, "read %" PRIu64 " of %" PRIu64 ": %s", n, count, err);
	trace_reader_close(reader);
	double took = (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e9;
	printf("ok - read %" PRIu64 " events in %.2f s (%.0f events/s)\n", n, took,
	       (double)n / took);
}

/* ---- refusals ---- */

/* Opening PATH fails with a message holding WANT. */
static void expect_refusal(const char *path, const char *want)
{
	char err[512] = "";
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	CHECK(!reader, "trace_reader_open(%s) succeeded", path);
	CHECK(strstr(err, want), "message '%s' lacks '%s'", err, want);
}

/*
 * The reader's row check as the report's scan uses it (trace_reader_check_values
 * over the events table) finds a bad event too, and says what the stream
 * says: the first bad row's message holds WANT. Or, if !BAD_ROW_ONLY,
 * SQLite itself may find the damage first.
 */
static void expect_row_check_error(struct trace_reader *reader, const char *want, bool bad_row_only,
				   const char *cause)
{
	sqlite3_stmt *s;
	sqlite3 *db = trace_reader_db(reader);
	int rc = sqlite3_prepare_v2(db, "SELECT " TRACE_READER_EVENT_COLUMNS " FROM events", -1, &s,
				    NULL);
	CHECK(rc == SQLITE_OK, "%s: prepare: %s", cause, sqlite3_errmsg(db));
	const char *what = NULL;
	while (!what && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int types[TRACE_READER_EVENT_COLUMN_COUNT];
		int64_t values[TRACE_READER_EVENT_COLUMN_COUNT];
		for (int i = 0; i < TRACE_READER_EVENT_COLUMN_COUNT; i++) {
			types[i] = sqlite3_column_type(s, i);
			values[i] = sqlite3_column_int64(s, i);
		}
		what = trace_reader_check_values(reader, types, values);
	}
	if (what)
		CHECK(strstr(what, want), "%s: the row check says '%s', not '%s'", cause, what, want);
	else
		CHECK(!bad_row_only && rc != SQLITE_DONE, "%s: the row check found no bad event",
		      cause);
	sqlite3_finalize(s);
}

/*
 * Opening works (or not), but reading every event ends in an error with
 * WANT; so does the row check of the report's scan. CAUSE says what was done to the
 * file.
 */
static void expect_read_error(const char *path, const char *want, const char *cause)
{
	char err[512] = "";
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));

	if (!reader) {
		CHECK(strstr(err, want), "%s: message '%s' lacks '%s'", cause, err, want);
		return;
	}
	expect_row_check_error(reader, strcmp(want, "is corrupt") ? want : "",
			       strcmp(want, "is corrupt") != 0, cause);
	struct trace_event e;
	int64_t seq;
	int rc;
	while ((rc = trace_reader_next(reader, &e, &seq, err, sizeof(err))) == 1)
		;
	trace_reader_close(reader);
	CHECK(rc == -1, "%s: reading %s ended without an error", cause, path);
	CHECK(strstr(err, want), "%s: message '%s' lacks '%s'", cause, err, want);
}

static void test_refusals(const char *good)
{
	char path[256], other[300];

	scratch_path(path, sizeof(path), "missing.db");
	expect_refusal(path, "does not exist");
	snprintf(other, sizeof(other), "%s-wal", path);
	CHECK(!exists(path) && !exists(other), "opening a missing trace created a file");

	expect_refusal(scratch, "not a regular file");
	write_file(scratch_path(path, sizeof(path), "empty.db"), "", 0);
	expect_refusal(path, "is empty");
	const char text[] = "this is a text file, no database at all\n";
	write_file(scratch_path(path, sizeof(path), "text.db"), text, sizeof(text) - 1);
	expect_refusal(path, "not an SQLite database");

	sql_exec(scratch_path(path, sizeof(path), "plain.db"),
		 "CREATE TABLE t(x); INSERT INTO t VALUES(1)");
	expect_refusal(path, "no meta table");
	sql_exec(scratch_path(path, sizeof(path), "meta-only.db"),
		 "CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT); CREATE VIEW trace AS SELECT "
		 "1;");
	expect_refusal(path, "not a tracefs trace (no ops table)");

	copy_file(good, scratch_path(path, sizeof(path), "noversion.db"));
	sql_exec(path, "DELETE FROM meta WHERE key = 'format_version'");
	expect_refusal(path, "no format_version");
	copy_file(good, scratch_path(path, sizeof(path), "newer.db"));
	sql_exec(path, "UPDATE meta SET value = '3' WHERE key = 'format_version'");
	expect_refusal(path, "newer than this tracefs reads");
	copy_file(good, scratch_path(path, sizeof(path), "noview.db"));
	sql_exec(path, "DROP VIEW trace");
	expect_refusal(path, "no trace view");
	copy_file(good, scratch_path(path, sizeof(path), "nostart.db"));
	sql_exec(path, "UPDATE meta SET value = 'soon' WHERE key = 'start_ns'");
	expect_refusal(path, "start_ns");
	printf("ok - refusals: missing (not created), directory, empty, text, plain SQLite, "
	       "no version, newer, no view\n");
}

static void test_corruption(const char *good)
{
	char path[256];
	off_t size = file_size(good);

	copy_file(good, scratch_path(path, sizeof(path), "short.db"));
	CHECK(truncate(path, 50) == 0, "truncate: %s", strerror(errno));
	expect_refusal(path, "is corrupt");
	copy_file(good, scratch_path(path, sizeof(path), "half.db"));
	CHECK(truncate(path, size / 2) == 0, "truncate: %s", strerror(errno));
	expect_read_error(path, "is corrupt", "truncated to half");
	copy_file(good, scratch_path(path, sizeof(path), "page1.db"));
	scribble(path, 100, 3000, 1); /* the schema, after the header */
	expect_refusal(path, "is corrupt");
	/* Garbage over every page but the first, in several patterns. */
	for (unsigned seed = 1; seed <= 8; seed++) {
		char name[64];
		snprintf(name, sizeof(name), "garbage%u.db", seed);
		copy_file(good, scratch_path(path, sizeof(path), name));
		scribble(path, 4096 * (off_t)(1 + seed % 3), (size_t)(size - 4096 * (1 + seed % 3)),
			 seed);
		expect_read_error(path, "is corrupt", name);
	}
	printf("ok - truncated and overwritten copies: \"is corrupt\"\n");
}

/* Each statement spoils one value in a copy of GOOD; reading says what. */
static void test_bad_values(const char *good)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{"UPDATE events SET dur = -5 WHERE seq = 3", "duration"},
		{"UPDATE events SET op = 200 WHERE seq = 3", "unknown operation"},
		{"UPDATE events SET op = 9999 WHERE seq = 3", "unknown operation"},
		{"UPDATE events SET kind = 77 WHERE seq = 3", "unknown kind"},
		{"UPDATE events SET path = 99999 WHERE seq = 3", "bad path"},
		{"UPDATE paths SET path = 'relative' WHERE id = 2", "bad path"},
		{"UPDATE paths SET path = CAST('/a' || char(0) || 'b' AS BLOB) WHERE id = 2",
		 "bad path"},
		{"UPDATE events SET path2 = 99999 WHERE seq = 3", "second path"},
		{"UPDATE events SET proc = 99999 WHERE seq = 3", "bad process"},
		{"UPDATE procs SET uid = -1", "bad process"},
		{"UPDATE procs SET pid = 'x'", "bad process"},
		{"UPDATE events SET bytes = 'many' WHERE seq = 3", "bytes"},
		{"UPDATE events SET \"offset\" = -7 WHERE seq = 3", "offset"},
		{"UPDATE events SET result = 1.5 WHERE seq = 3", "result"},
		{"UPDATE events SET flags = 4294967296 WHERE seq = 3", "flags"},
		{"UPDATE events SET ts = 9223372036854775000 WHERE seq = 3", "bad time"},
		{"UPDATE ops SET name = 'frobnicate' WHERE name = 'read'", "unknown operation"},
		{"UPDATE events SET seq = -seq WHERE seq = 1", "bad seq"},
		{"UPDATE events SET seq = 0 WHERE seq = 1", "bad seq"},
		{"UPDATE events SET path = 2 WHERE seq = 5;"
		 "UPDATE paths SET path = 'no-slash' WHERE id = 2",
		 "bad path"},
		{"UPDATE events SET ts = 'soon' WHERE seq = 3", "bad time"},
		{"UPDATE events SET mode = 1e300 WHERE seq = 3", "mode"},
	};
	char path[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		copy_file(good, scratch_path(path, sizeof(path), "bad.db"));
		sql_exec(path, cases[i].sql);
		expect_read_error(path, cases[i].want, cases[i].sql);
		CHECK(unlink(path) == 0, "unlink: %s", strerror(errno));
	}
	printf("ok - %zu kinds of bad values: clear errors\n", sizeof(cases) / sizeof(cases[0]));
}

/* Reads every event; their number. */
static uint64_t drain_all(struct trace_reader *reader)
{
	char err[512] = "";
	struct trace_event e;
	int64_t seq;
	uint64_t n = 0;
	int rc;

	while ((rc = trace_reader_next(reader, &e, &seq, err, sizeof(err))) == 1)
		n++;
	CHECK(rc == 0, "reading: %s", err);
	return n;
}

/*
 * A trace whose schema was altered is refused at open, before any query
 * runs what the schema holds: a generated column (which would run on
 * every read of paths), a trigger, an index, another table, ANALYZE's
 * statistics (which steer query plans).
 */
static void test_hostile_schema(const char *good)
{
	static const struct {
		const char *sql, *want;
	} cases[] = {
		{"PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_schema SET sql = 'CREATE TABLE paths(id INTEGER PRIMARY KEY, raw TEXT "
		 "NOT NULL, path TEXT GENERATED ALWAYS AS (raw || hex(zeroblob(100000000))) VIRTUAL)'"
		 " WHERE name = 'paths'",
		 "its paths table is not as tracefs makes it"},
		{"CREATE TRIGGER t AFTER INSERT ON meta BEGIN DELETE FROM meta; END", "trigger t"},
		{"CREATE INDEX by_time ON events(ts)", "index by_time"},
		{"CREATE TABLE extra(x)", "table extra"},
		{"ANALYZE", "table sqlite_stat1"},
		{"PRAGMA writable_schema = ON;"
		 "UPDATE sqlite_schema SET sql = replace(sql, 'mode INTEGER NOT NULL', "
		 "'mode INTEGER NOT NULL CHECK (abs(mode) >= 0)') WHERE name = 'events'",
		 "its events table is not as tracefs makes it"},
	};
	char path[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		copy_file(good, scratch_path(path, sizeof(path), "hostile.db"));
		sql_exec(path, cases[i].sql);
		expect_refusal(path, cases[i].want);
		expect_refusal(path, "refused");
		CHECK(unlink(path) == 0, "unlink: %s", strerror(errno));
	}
	/* Views are never run by readers, whatever they say: a costly one is harmless. */
	copy_file(good, scratch_path(path, sizeof(path), "views.db"));
	sql_exec(path, "DROP VIEW trace; CREATE VIEW trace AS SELECT e.*, hex(zeroblob(1000000000)) "
		       "FROM events AS e; CREATE VIEW other AS SELECT * FROM trace");
	struct trace_reader *reader = open_reader(path);
	CHECK(drain_all(reader) > 0, "no events read from a trace with other views");
	trace_reader_close(reader);
	printf("ok - %zu altered schemas (a generated column, a trigger, ...): refused; other "
	       "views: read\n",
	       sizeof(cases) / sizeof(cases[0]));
}

/* ---- live and killed recorders ---- */

static uint64_t drain(struct trace_reader *reader, int64_t *last_seq)
{
	char err[512] = "";
	struct trace_event e;
	int64_t seq;
	uint64_t n = 0;
	int rc;

	while ((rc = trace_reader_next(reader, &e, &seq, err, sizeof(err))) == 1) {
		CHECK(seq == *last_seq + 1, "seq %" PRId64 " after %" PRId64, seq, *last_seq);
		*last_seq = seq;
		n++;
	}
	CHECK(rc == 0, "reading: %s", err);
	return n;
}

static void test_live(void)
{
	char path[256];
	struct recorder *r = open_recorder(scratch_path(path, sizeof(path), "live.db"), 0, 10);
	struct trace_event e = {.ts_ns = now_ns(CLOCK_REALTIME),
			      .bytes = -1,
			      .offset = -1,
			      .path = "/live",
			      .comm = "tail",
			      .op = TRACE_OP_GETATTR};
	int64_t last_seq = 0;

	for (int i = 0; i < 100; i++)
		recorder_submit(r, &e);
	wait_written(r);
	struct trace_reader *reader = open_reader(path);
	CHECK(drain(reader, &last_seq) == 100, "a live trace: not 100 events");
	for (int i = 0; i < 50; i++)
		recorder_submit(r, &e);
	wait_written(r);
	CHECK(drain(reader, &last_seq) == 50, "the reader did not see the 50 new events");
	close_recorder(r); /* with the reader still open */
	CHECK(drain(reader, &last_seq) == 0 && last_seq == 150, "events after close");
	trace_reader_close(reader);
	printf("ok - following a live recorder: 100, then 50 more\n");
}

/* The child: records until it is killed. */
static __attribute__((noreturn)) void record_forever(const char *path)
{
	struct recorder *r = open_recorder(path, 0, 20);
	struct trace_event e = {.bytes = 512,
			      .offset = 0,
			      .path = "/killed/file",
			      .comm = "dd",
			      .op = TRACE_OP_WRITE,
			      .kind = TRACE_KIND_FILE};

	for (uint64_t i = 0;; i++) {
		e.ts_ns = now_ns(CLOCK_REALTIME);
		e.offset = (int64_t)i * 512;
		recorder_submit(r, &e);
		if (i % 256 == 0)
			wait_written(r);
	}
}

static void test_killed(void)
{
	char path[256], wal[300];

	scratch_path(path, sizeof(path), "killed.db");
	snprintf(wal, sizeof(wal), "%s-wal", path);
	fflush(NULL);
	pid_t pid = fork();
	CHECK(pid >= 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		scratch[0] = '\0'; /* the parent cleans up */
		record_forever(path);
	}
	int64_t deadline = now_ns(CLOCK_MONOTONIC) + 30LL * 1000000000;
	while (!exists(wal) || file_size(wal) < 100000) {
		CHECK(now_ns(CLOCK_MONOTONIC) < deadline, "the child wrote no WAL");
		sleep_ms(20);
	}
	CHECK(kill(pid, SIGKILL) == 0, "kill: %s", strerror(errno));
	int status;
	CHECK(waitpid(pid, &status, 0) == pid && WIFSIGNALED(status), "the child was not killed");
	CHECK(exists(wal), "no -wal file after kill -9");

	struct trace_reader *reader = open_reader(path);
	int64_t last_seq = 0;
	uint64_t n = drain(reader, &last_seq);
	int64_t first, last, count;
	CHECK(trace_reader_span(reader, &first, &last, &count) == 0 && (uint64_t)count == n && n > 0,
	      "after kill -9: read %" PRIu64 " events, span says %" PRId64, n, count);
	trace_reader_close(reader);
	printf("ok - a trace left with a -wal file by kill -9: %" PRIu64 " events\n", n);
}

/*
 * A trace in a directory the reader may not write to (a read-only bind
 * mount): SQLite cannot create the -shm of a WAL trace there. Needs root.
 */
static void test_read_only_dir(const char *good)
{
	char dir[256], ro[256], path[300];

	scratch_path(dir, sizeof(dir), "rw");
	scratch_path(ro, sizeof(ro), "ro");
	CHECK(mkdir(dir, 0755) == 0 && mkdir(ro, 0755) == 0, "mkdir: %s", strerror(errno));
	snprintf(path, sizeof(path), "%s/odd %%?#name.db", dir);
	copy_file(good, path);
	if (mount(dir, ro, "none", MS_BIND, NULL) != 0) { /* a type: valgrind wants one */
		printf("skip - a read-only directory: cannot bind-mount (%s)\n", strerror(errno));
		return;
	}
	if (mount(dir, ro, "none", MS_REMOUNT | MS_BIND | MS_RDONLY, NULL) != 0) {
		umount2(ro, MNT_DETACH);
		printf("skip - a read-only directory: cannot remount (%s)\n", strerror(errno));
		return;
	}
	snprintf(path, sizeof(path), "%s/odd %%?#name.db", ro);
	char err[512] = "";
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	int64_t last_seq = 0;
	uint64_t n = reader ? drain(reader, &last_seq) : 0;
	trace_reader_close(reader);
	CHECK(umount2(ro, MNT_DETACH) == 0, "umount %s: %s", ro, strerror(errno));
	CHECK(reader, "a trace in a read-only directory: %s", err);
	CHECK(n == scaled(300000), "read %" PRIu64 " events from a read-only directory", n);
	printf("ok - a trace in a read-only directory (immutable): %" PRIu64 " events\n", n);
}

/* ---- JSON ---- */

static void expect_json(const struct trace_event *e, int64_t seq, const char *want)
{
	char buf[1024];
	size_t need = trace_event_to_json(e, seq, buf, sizeof(buf));

	CHECK(need == strlen(want) && strcmp(buf, want) == 0, "JSON\n  got  %s\n  want %s", buf,
	      want);
	/* Like snprintf: a short buffer holds a prefix and says what is needed. */
	char small[16];
	CHECK(trace_event_to_json(e, seq, small, sizeof(small)) == need &&
		      strncmp(small, want, sizeof(small) - 1) == 0 && small[15] == '\0',
	      "JSON into a short buffer");
	CHECK(trace_event_to_json(e, seq, NULL, 0) == need, "JSON length without a buffer");
}

static void test_json(void)
{
	struct trace_event e = {.ts_ns = 1700000000123456789,
			      .dur_ns = 1500,
			      .bytes = -1,
			      .offset = -1,
			      .path = "/a \"b\"\\\n\t\x01\x7f",
			      .comm = "sh",
			      .pid = 7,
			      .uid = 1000,
			      .gid = 100,
			      .result = -2,
			      .op = TRACE_OP_LOOKUP};
	expect_json(
		&e, 1,
		"{\"seq\":1,\"ts_ns\":1700000000123456789,\"dur_ns\":1500,\"op\":\"lookup\","
		"\"path\":\"/a \\\"b\\\"\\\\\\n\\t\\u0001\x7f\",\"path2\":null,\"kind\":null,"
		"\"pid\":7,\"comm\":\"sh\",\"uid\":1000,\"gid\":100,\"result\":-2,\"bytes\":null,"
		"\"offset\":null,\"flags\":0,\"mode\":0,\"process\":null}");
	e.process = 42; /* lineage: the processes row */
	expect_json(
		&e, 1,
		"{\"seq\":1,\"ts_ns\":1700000000123456789,\"dur_ns\":1500,\"op\":\"lookup\","
		"\"path\":\"/a \\\"b\\\"\\\\\\n\\t\\u0001\x7f\",\"path2\":null,\"kind\":null,"
		"\"pid\":7,\"comm\":\"sh\",\"uid\":1000,\"gid\":100,\"result\":-2,\"bytes\":null,"
		"\"offset\":null,\"flags\":0,\"mode\":0,\"process\":42}");
	/* Valid UTF-8 stays; a stray byte, a truncated sequence, an overlong
	 * form and a surrogate each become U+FFFD. */
	struct trace_event w = {
		.dur_ns = 0,
		.bytes = 3,
		.offset = 0,
		.path = "/\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xff|\xe2\x82|\xc0\xaf|\xed\xa0\x80",
		.path2 = "/x",
		.op = TRACE_OP_RENAME,
		.kind = TRACE_KIND_DIR,
		.flags = 1,
		.mode = 0755};
	expect_json(
		&w, 9,
		"{\"seq\":9,\"ts_ns\":0,\"dur_ns\":0,\"op\":\"rename\",\"path\":\"/"
		"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80|\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd|"
		"\xef\xbf\xbd\xef\xbf\xbd|\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\",\"path2\":\"/x\","
		"\"kind\":\"dir\",\"pid\":0,\"comm\":null,\"uid\":0,\"gid\":0,\"result\":0,"
		"\"bytes\":3,\"offset\":0,\"flags\":1,\"mode\":493,\"process\":null}");
	struct trace_event lost = {
		.ts_ns = 5, .bytes = 12, .offset = -1, .path = "/", .op = TRACE_OP_LOST};
	expect_json(
		&lost, 3,
		"{\"seq\":3,\"ts_ns\":5,\"dur_ns\":0,\"op\":\"lost\",\"path\":\"/\",\"path2\":null,"
		"\"kind\":null,\"pid\":null,\"comm\":null,\"uid\":null,\"gid\":null,\"result\":0,"
		"\"bytes\":12,\"offset\":null,\"flags\":0,\"mode\":0,\"process\":null}");
	printf("ok - events as JSON: escapes, invalid UTF-8, NULLs, a short buffer\n");
}

int main(void)
{
	check_on_fail = cleanup;
	char good[256];

	if (!scale_from_env())
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!scratch_make("test_reader"))
		return 1;
	test_json();
	test_round_trip();
	test_many_names();
	test_throughput();
	scratch_path(good, sizeof(good), "many.db");
	test_refusals(good);
	test_corruption(good);
	test_bad_values(good);
	test_hostile_schema(good);
	test_live();
	test_killed();
	test_read_only_dir(good);
	cleanup();
	printf("PASS: test_reader\n");
	return 0;
}
