/*
 * test_report.c — unit test of the analysis behind `tracefs report`
 * (analyze/analyze.h), its three renderers, and `tracefs export`
 * (analyze_export_command), under the sanitizers and valgrind: known numbers on
 * a small trace, an empty trace, and hostile traces — spoilt values and
 * garbage over the file — which must give an error (never a crash, a leak,
 * or a half-written export).
 *
 * Plain C, no framework: exits 0 on success, prints "FAIL: ..." and exits 1
 * otherwise. RECORDER_TEST_SCALE (default 1) scales the work, e.g. 0.05
 * under valgrind.
 */
#include "recorder/recorder.h"
#include "analyze/analyze.h"
#include "tests/unit/check.h"
#include "tests/unit/scale.h"
#include "tests/unit/scratch.h"
#include "tests/unit/traces.h"
#include "analyze/report.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define S 1000000000LL
#define MS 1000000LL


static void cleanup(void)
{
	scratch_remove();
}

/* Overwrites [offset, end of file) with pseudo-random garbage. */
static void scribble_from(const char *path, off_t offset, unsigned seed)
{
	struct stat st;
	CHECK(stat(path, &st) == 0, "stat %s: %s", path, strerror(errno));
	int fd = open(path, O_WRONLY);
	CHECK(fd >= 0, "open %s: %s", path, strerror(errno));
	for (off_t at = offset; at < st.st_size; at++) {
		seed = seed * 1103515245 + 12345;
		unsigned char byte = (unsigned char)(seed >> 16);
		CHECK(pwrite(fd, &byte, 1, at) == 1, "pwrite: %s", strerror(errno));
	}
	CHECK(close(fd) == 0, "close: %s", strerror(errno));
}

/* ---- a small trace with known numbers ---- */

struct trace {
	struct recorder *recorder;
	int64_t t0;
};

static void ev(struct trace *t, int64_t at, enum trace_op op, const char *path, const char *comm,
	       int pid, int result, int64_t bytes, enum trace_kind kind)
{
	struct trace_event e = {.ts_ns = t->t0 + at,
			      .dur_ns = 1000 + at % 7000,
			      .bytes = bytes,
			      .offset = bytes >= 0 ? 0 : -1,
			      .path = path,
			      .comm = comm,
			      .pid = pid,
			      .result = result,
			      .op = (uint8_t)op,
			      .kind = (uint8_t)kind};
	/* A big trace must lose nothing: wait while the queue is half full. */
	for (struct recorder_stats st;;) {
		recorder_get_stats(t->recorder, &st);
		if (st.submitted - st.written - st.lost < 32768)
			break;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	recorder_submit(t->recorder, &e);
}

/*
 * make (pid 10) for 4 s: cc1 opens /inc/config.h 12 times; "/\xff odd\nname"
 * is written; /missing is looked up 6 times in vain; an idle gap; then rm
 * (pid 20) removes 30 files.
 */
static void make_trace(const char *path, int rounds)
{
	struct recorder_options options = {
		.db_path = path, .source = "/src", .cache_mode = "exact"};
	char err[512], name[64];
	struct trace t = {.t0 = 1700000000LL * S};

	t.recorder = recorder_open(&options, err, sizeof(err));
	CHECK(t.recorder, "recorder_open: %s", err);
	for (int i = 0; i < rounds; i++) {
		int64_t at = i * (4 * S / rounds);
		ev(&t, at, TRACE_OP_GETATTR, "/Makefile", "make", 10, 0, -1, TRACE_KIND_FILE);
		ev(&t, at + MS, TRACE_OP_OPEN, "/inc/config.h", "cc1", 100 + i, 0, -1, TRACE_KIND_FILE);
		ev(&t, at + 2 * MS, TRACE_OP_READ, "/inc/config.h", "cc1", 100 + i, 0, 300,
		   TRACE_KIND_FILE);
		ev(&t, at + 3 * MS, TRACE_OP_WRITE, "/\xff odd\nname", "cc1", 100 + i, 0, 4096,
		   TRACE_KIND_FILE);
		ev(&t, at + 4 * MS, TRACE_OP_LOOKUP, "/missing", i % 2 ? "gcc" : "cc1", 100 + i, -2,
		   -1, TRACE_KIND_NONE);
	}
	for (int i = 0; i < 30; i++) {
		snprintf(name, sizeof(name), "/obj/f%d.o", i);
		ev(&t, 8 * S + i * 10 * MS, TRACE_OP_UNLINK, name, "rm", 20, 0, -1, TRACE_KIND_FILE);
	}
	CHECK(recorder_close(t.recorder, err, sizeof(err)) == 0, "recorder_close: %s", err);
}

/* Renders the analysis three ways into memory; each must say something. */
static void render_all(const struct analyze_result *a, const char *must_contain)
{
	void (*renderers[])(FILE *, const struct analyze_result *) = {report_json, report_html};
	char *text;
	size_t size;

	FILE *out = open_memstream(&text, &size);
	CHECK(out, "open_memstream: %s", strerror(errno));
	report_text(out, a, true);
	CHECK(fclose(out) == 0, "fclose");
	CHECK(strstr(text, must_contain), "the text report lacks '%s'", must_contain);
	free(text);
	for (size_t i = 0; i < sizeof(renderers) / sizeof(renderers[0]); i++) {
		out = open_memstream(&text, &size);
		CHECK(out, "open_memstream: %s", strerror(errno));
		renderers[i](out, a);
		CHECK(fclose(out) == 0, "fclose");
		CHECK(size > 100 && strstr(text, must_contain), "a renderer lacks '%s'",
		      must_contain);
		free(text);
	}
}

static const struct analyze_finding *finding(const struct analyze_result *a, enum analyze_finding_kind kind)
{
	for (size_t i = 0; i < a->nfindings; i++)
		if (a->findings[i].kind == kind)
			return &a->findings[i];
	return NULL;
}

static void test_known_numbers(const char *path)
{
	struct analyze_result a;
	char err[1024];

	CHECK(analyze_run(path, 5, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(a.events == 12 * 5 + 30, "%lld events", (long long)a.events);
	CHECK(a.errors == 12 && a.nerrnos == 1 && a.errnos[0].result == -2, "errors");
	CHECK(a.bytes_read == 12 * 300 && a.bytes_written == 12 * 4096, "bytes");
	CHECK(a.files_removed == 30, "files removed: %lld", (long long)a.files_removed);
	CHECK(a.nphases == 2 && strcmp(a.phases[0].name, "make") == 0 &&
		      strcmp(a.phases[1].name, "remove") == 0,
	      "phases: %zu, %s", a.nphases, a.nphases ? a.phases[0].name : "-");
	const struct analyze_finding *f = finding(&a, ANALYZE_FINDING_REOPENED);
	CHECK(f && f->nitems == 1 && f->items[0].a == 12 &&
		      strcmp(f->items[0].path, "/inc/config.h") == 0,
	      "reopened finding");
	f = finding(&a, ANALYZE_FINDING_MISSING);
	CHECK(f && f->total == 12 && strcmp(f->items[0].path, "/missing") == 0, "missing finding");
	CHECK(a.nfailing == 1 && a.failing[0].nprocs == 2 && a.failing[0].procs[0].count == 6,
	      "who looked for /missing");
	CHECK(a.nprocesses == 4 && a.nprocesses_total == 4, "processes");
	render_all(&a, "/inc/config.h");
	analyze_free(&a);
	printf("ok - known numbers, two phases, findings, three renderers\n");
}

/* The terminal and JSON reports of the trace at PATH, in one string to free. */
static char *report_of(const char *path)
{
	struct analyze_result a;
	char err[1024], *text;
	size_t size;

	CHECK(analyze_run(path, 5, &a, err, sizeof(err)) == 0, "analysis of %s: %s", path, err);
	FILE *out = open_memstream(&text, &size);
	CHECK(out, "open_memstream: %s", strerror(errno));
	report_text(out, &a, true);
	report_json(out, &a);
	CHECK(fclose(out) == 0, "fclose");
	analyze_free(&a);
	return text;
}

/*
 * The timeline of A is the trace's at PATH: its buckets (of 25 slots, the
 * span from the first start to the last cut in 1,000) hold the events that
 * sqlite3 counts in them.
 */
static void check_buckets(const char *path, const struct analyze_result *a)
{
	sqlite3 *db;
	sqlite3_stmt *s;
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK, "open %s", path);
	CHECK(sqlite3_prepare_v2(db,
				 "WITH span AS (SELECT min(ts) AS t0, (max(ts) - min(ts)) / 1000 + 1 AS slot\n"
				 "  FROM events)\n"
				 "SELECT (ts - t0) / slot / 25, count(*), max(slot) * 25, max(t0)\n"
				 "FROM events, span GROUP BY 1 ORDER BY 1",
				 -1, &s, NULL) == SQLITE_OK,
	      "prepare: %s", sqlite3_errmsg(db));
	int64_t counted = 0, events = 0;
	while (sqlite3_step(s) == SQLITE_ROW) {
		int64_t b = sqlite3_column_int64(s, 0), n = sqlite3_column_int64(s, 1);
		CHECK(b >= 0 && b < (int64_t)a->nbuckets && a->buckets[b].events == n,
		      "bucket %lld: %lld events, sqlite3 counts %lld", (long long)b,
		      b >= 0 && b < (int64_t)a->nbuckets ? (long long)a->buckets[b].events : -1LL,
		      (long long)n);
		CHECK(a->bucket_ns == sqlite3_column_int64(s, 2), "bucket width %lld",
		      (long long)a->bucket_ns);
		counted += n;
	}
	CHECK(sqlite3_finalize(s) == SQLITE_OK && sqlite3_close(db) == SQLITE_OK, "sqlite3");
	for (size_t b = 0; b < a->nbuckets; b++)
		events += a->buckets[b].events;
	CHECK(counted == a->events && events == a->events, "%lld events in the buckets of %lld",
	      (long long)events, (long long)a->events);
}

/*
 * A trace big enough that the scan runs in two halves at once: the same
 * known numbers, scaled; an event that is not sound is found in either
 * half, and when both hold one, the earlier is named, as one scan would.
 */
static void test_two_halves(void)
{
	enum { ROUNDS = 12000 }; /* 60,030 events: split */
	char path[256], copy[256], err[1024];
	struct analyze_result a;

	make_trace(scratch_path(path, sizeof(path), "halves.db"), ROUNDS);
	CHECK(analyze_run(path, 5, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(a.events == ROUNDS * 5 + 30, "%lld events", (long long)a.events);
	CHECK(a.errors == ROUNDS && a.nerrnos == 1 && a.errnos[0].count == ROUNDS, "errors");
	CHECK(a.bytes_read == ROUNDS * 300LL && a.bytes_written == ROUNDS * 4096LL, "bytes");
	CHECK(a.files_removed == 30, "files removed: %lld", (long long)a.files_removed);
	const struct analyze_finding *f = finding(&a, ANALYZE_FINDING_REOPENED);
	CHECK(f && f->nitems == 1 && f->items[0].a == ROUNDS, "reopened finding");
	f = finding(&a, ANALYZE_FINDING_MISSING);
	CHECK(f && f->total == ROUNDS, "missing finding");
	CHECK(a.nfailing == 1 && a.failing[0].nprocs == 2 &&
		      a.failing[0].procs[0].count == ROUNDS / 2 && a.failing[0].count == ROUNDS,
	      "who looked for /missing");
	CHECK(a.nprocesses == 4, "processes: %zu", a.nprocesses);
	for (size_t i = 0; i < a.nops; i++)
		CHECK(a.ops[i].count == (a.ops[i].op == TRACE_OP_UNLINK ? 30 : ROUNDS),
		      "%s: %lld", trace_op_name(a.ops[i].op), (long long)a.ops[i].count);
	check_buckets(path, &a);
	analyze_free(&a);
	/*
	 * The span is guessed from the first and last events: an event in
	 * either half that starts before the first or after the last makes
	 * the scan find it first, with the same numbers.
	 */
	static const char *const early_late[] = {
		"UPDATE events SET ts = (SELECT min(ts) FROM events) - 3000000000 WHERE seq = 20000",
		"UPDATE events SET ts = (SELECT max(ts) FROM events) + 5000000000 WHERE seq = 45000",
		"UPDATE events SET ts = ts - 100 WHERE seq = 2000;\n"
		"UPDATE events SET ts = ts + 100 WHERE seq = (SELECT max(seq) FROM events) - 2000",
	};
	for (size_t i = 0; i < sizeof(early_late) / sizeof(early_late[0]); i++) {
		copy_file(path, scratch_path(copy, sizeof(copy), "halves-early.db"));
		sql_exec(copy, early_late[i]);
		CHECK(analyze_run(copy, 5, &a, err, sizeof(err)) == 0, "%s: %s", early_late[i], err);
		CHECK(a.events == ROUNDS * 5 + 30 && a.errors == ROUNDS, "%s: %lld events",
		      early_late[i], (long long)a.events);
		check_buckets(copy, &a);
		int64_t in_phases = 0;
		for (size_t p = 0; p < a.nphases; p++)
			in_phases += a.phases[p].events;
		CHECK(in_phases == a.events, "%s: %lld events in phases", early_late[i],
		      (long long)in_phases);
		analyze_free(&a);
		CHECK(unlink(copy) == 0, "unlink: %s", strerror(errno));
	}
	/*
	 * The same events, with unknown processes and paths, renames and
	 * errors among them, report the same whether the guess holds or the
	 * span is found first: the first event (make's getattr at the start)
	 * changes places with the same getattr of round 4,000, 1.33 s later.
	 */
	copy_file(path, scratch_path(copy, sizeof(copy), "halves-same.db"));
	sql_exec(copy, "UPDATE events SET proc = NULL WHERE seq % 997 = 0;\n"
		       "UPDATE events SET path = NULL WHERE seq % 1999 = 0;\n"
		       "UPDATE events SET op = (SELECT id FROM ops WHERE name = 'rename'),\n"
		       "  path2 = path WHERE seq % 503 = 0 AND path IS NOT NULL");
	char *guessed = report_of(copy);
	sql_exec(copy, "CREATE TABLE swap AS SELECT * FROM events WHERE seq IN (1, 20001);\n"
		       "UPDATE events SET (ts, dur, op, kind, path, path2, proc, result, bytes,\n"
		       "  \"offset\", flags, mode) = (SELECT ts, dur, op, kind, path, path2, proc,\n"
		       "  result, bytes, \"offset\", flags, mode FROM swap\n"
		       "  WHERE swap.seq = 20002 - events.seq) WHERE seq IN (1, 20001);\n"
		       "DROP TABLE swap");
	char *found = report_of(copy);
	CHECK(strstr(guessed, "rename") && strcmp(guessed, found) == 0,
	      "the report with the span found first differs from the one with it guessed");
	free(guessed);
	free(found);
	CHECK(unlink(copy) == 0, "unlink: %s", strerror(errno));
	static const char *const damage[] = {
		"UPDATE events SET op = 200 WHERE seq = 50000",
		"UPDATE events SET op = 200 WHERE seq = 3",
		"UPDATE events SET op = 200 WHERE seq IN (3, 50000)",
	};
	for (size_t i = 0; i < sizeof(damage) / sizeof(damage[0]); i++) {
		copy_file(path, scratch_path(copy, sizeof(copy), "halves-bad.db"));
		sql_exec(copy, damage[i]);
		CHECK(analyze_run(copy, 5, &a, err, sizeof(err)) != 0, "%s: analysed", damage[i]);
		const char *seq = i == 0 ? "seq 50000" : "seq 3";
		CHECK(strstr(err, "corrupt") && strstr(err, seq), "%s: '%s' does not name %s",
		      damage[i], err, seq);
		CHECK(unlink(copy) == 0, "unlink: %s", strerror(errno));
	}
	printf("ok - a trace scanned in two halves\n");
}

static void test_empty(void)
{
	char path[256], err[1024];
	struct recorder_options options = {.db_path = scratch_path(path, sizeof(path), "empty.db")};
	struct recorder *r = recorder_open(&options, err, sizeof(err));
	struct analyze_result a;

	CHECK(r && recorder_close(r, err, sizeof(err)) == 0, "an empty trace: %s", err);
	CHECK(analyze_run(path, 10, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(a.events == 0 && a.nphases == 0 && a.nbuckets == 0, "an empty trace has events");
	render_all(&a, path);
	analyze_free(&a);
	printf("ok - an empty trace\n");
}

/* ---- phases, errors apart, the kernel's name, temporaries ---- */

static struct trace open_trace(const char *path)
{
	struct recorder_options options = {.db_path = path, .cache_mode = "exact"};
	char err[512];
	struct trace t = {.t0 = 1700000000LL * S};

	t.recorder = recorder_open(&options, err, sizeof(err));
	CHECK(t.recorder, "recorder_open: %s", err);
	return t;
}

static void close_trace(struct trace *t)
{
	char err[512];
	CHECK(recorder_close(t->recorder, err, sizeof(err)) == 0, "recorder_close: %s", err);
}

/* The phase names of an analysis, space-separated. */
static const char *phase_names(const struct analyze_result *a, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < a->nphases && used < size; i++)
		used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "",
					 a->phases[i].name);
	return buf;
}

/*
 * The shape of the second workload: a script (sparse, spanning everything)
 * runs tar, find, sh configure (probes with conftest, a pause, and the make
 * of config.status's depfiles at its end), make (a short top make, then a
 * sub-make, with ar's temporary), find, make distclean, rm -rf; the kernel
 * probes security.capability all along.
 */
static void build_workload(const char *path)
{
	struct trace t = open_trace(path);
	char name[64];

	ev(&t, 0, TRACE_OP_LOOKUP, "/w", "workload", 1, 0, -1, TRACE_KIND_DIR);
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "/w/src/f%d.c", i);
		ev(&t, i * MS, TRACE_OP_CREATE, name, "tar", 2, 0, -1, TRACE_KIND_FILE);
		ev(&t, i * MS + 1, TRACE_OP_WRITE, name, "tar", 2, 0, 2000, TRACE_KIND_FILE);
		if (i < 200)
			ev(&t, 2000 * MS + i * MS, TRACE_OP_GETATTR, name, "find", 3, 0, -1,
			   TRACE_KIND_FILE);
	}
	for (int64_t at = 2300 * MS; at < 30 * S; at += 100 * MS) {
		if (at >= 10 * S && at < 12 * S)
			continue; /* configure sleeps */
		int i = (int)(at / MS);
		ev(&t, at, TRACE_OP_CREATE, "/w/conftest.c", "sh", 4, 0, -1, TRACE_KIND_FILE);
		ev(&t, at + MS, TRACE_OP_READ, "/w/conftest.c", "cc1", 1000 + i, 0, 300,
		   TRACE_KIND_FILE);
		ev(&t, at + 2 * MS, TRACE_OP_WRITE, "/w/config.log", "sh", 4, 0, 80, TRACE_KIND_FILE);
		ev(&t, at + 3 * MS, TRACE_OP_UNLINK, "/w/conftest.c", "rm", 2000 + i, 0, -1,
		   TRACE_KIND_FILE);
		ev(&t, at + 4 * MS, TRACE_OP_LOOKUP, "/w/conftest.o", "sh", 4, -ENOENT, -1,
		   TRACE_KIND_NONE);
		if (at >= 27 * S)
			ev(&t, at + 5 * MS, TRACE_OP_GETATTR, "/w/Makefile", "make", 5, 0, -1,
			   TRACE_KIND_FILE);
	}
	for (int i = 0; i < 100; i++)
		ev(&t, 31 * S + i * 5 * MS, TRACE_OP_GETATTR, "/w/Makefile", "make", 6, 0, -1,
		   TRACE_KIND_FILE);
	for (int i = 0; i < 135; i++) {
		int64_t at = 31500 * MS + i * 100 * MS;
		snprintf(name, sizeof(name), "/w/src/f%d.c", i);
		ev(&t, at, TRACE_OP_GETATTR, name, "make", 7, 0, -1, TRACE_KIND_FILE);
		ev(&t, at + MS, TRACE_OP_READ, name, "cc1", 3000 + i, 0, 2000, TRACE_KIND_FILE);
		snprintf(name, sizeof(name), "/w/src/f%d.o", i);
		ev(&t, at + 2 * MS, TRACE_OP_CREATE, name, "as", 4000 + i, 0, -1, TRACE_KIND_FILE);
		ev(&t, at + 3 * MS, TRACE_OP_WRITE, name, "as", 4000 + i, 0, 1000, TRACE_KIND_FILE);
	}
	ev(&t, 40 * S, TRACE_OP_CREATE, "/w/src/stXYZ", "ar", 8, 0, -1, TRACE_KIND_FILE);
	for (int i = 0; i < 300; i++)
		ev(&t, 40 * S + i * MS, TRACE_OP_WRITE, "/w/src/stXYZ", "ar", 8, 0, 4096,
		   TRACE_KIND_FILE);
	ev(&t, 40400 * MS, TRACE_OP_RENAME, "/w/src/stXYZ", "ar", 8, 0, -1, TRACE_KIND_FILE);
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "/w/src/f%d.c", i);
		ev(&t, 45200 * MS + i * MS, TRACE_OP_GETATTR, name, "find", 9, 0, -1, TRACE_KIND_FILE);
	}
	for (int i = 0; i < 10; i++)
		ev(&t, 46 * S + i * 400 * MS, TRACE_OP_GETATTR, "/w/Makefile", "make", 10, 0, -1,
		   TRACE_KIND_FILE);
	for (int i = 0; i < 135; i++) {
		snprintf(name, sizeof(name), "/w/src/f%d.o", i);
		ev(&t, 46 * S + i * 25 * MS, TRACE_OP_UNLINK, name, "rm", 11, 0, -1, TRACE_KIND_FILE);
	}
	for (int i = 0; i < 2000; i++) {
		snprintf(name, sizeof(name), "/w/src/f%d.c", i);
		ev(&t, 51 * S + i * 400000LL, TRACE_OP_UNLINK, name, "rm", 12, 0, -1, TRACE_KIND_FILE);
	}
	ev(&t, 52 * S, TRACE_OP_RMDIR, "/w/src", "rm", 12, 0, -1, TRACE_KIND_DIR);
	ev(&t, 52 * S + MS, TRACE_OP_LOOKUP, "/w", "workload", 1, 0, -1, TRACE_KIND_DIR);
	for (int64_t at = 0; at < 52 * S; at += 100 * MS) {
		ev(&t, at + 7, TRACE_OP_GETXATTR, "/w/config.log", NULL, 0, -ENODATA, -1,
		   TRACE_KIND_FILE);
		if (at < 20 * S) /* ls -l of the tree, after the unpack: ACLs? none here */
			ev(&t, 2250 * MS + at / 1000, TRACE_OP_LISTXATTR, "/w/src", "ls", 99,
			   -EOPNOTSUPP, -1, TRACE_KIND_DIR);
	}
	close_trace(&t);
}

static void test_build_phases(void)
{
	char path[256], err[1024], names[256];
	struct analyze_result a;

	build_workload(scratch_path(path, sizeof(path), "build.db"));
	CHECK(analyze_run(path, 10, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(strcmp(phase_names(&a, names, sizeof(names)), "unpack configure make clean remove") ==
		      0,
	      "the build's phases: %s", names);
	CHECK(strcmp(a.phases[0].command, "tar") == 0 && strcmp(a.phases[1].command, "sh") == 0 &&
		      strcmp(a.phases[3].command, "make") == 0,
	      "who led the phases");
	/* 720 probes by the kernel and ls: apart; the failed lookups are the errors. */
	CHECK(a.attr_probes == 720 && a.errors == 257 &&
		      a.nerrnos == 1 && a.errnos[0].result == -ENOENT,
	      "errors %lld, probes %lld", (long long)a.errors, (long long)a.attr_probes);
	for (size_t i = 0; i < a.nfailing; i++)
		CHECK(strcmp(a.failing[i].path, "/w/config.log") != 0, "a probe is a failing path");
	bool kernel = false;
	for (size_t i = 0; i < a.nprocesses; i++)
		kernel |= a.processes[i].comm && strcmp(a.processes[i].comm, "kernel") == 0;
	CHECK(kernel, "pid 0 is not called kernel");
	CHECK(a.temporaries == 1, "temporaries: %lld", (long long)a.temporaries);
	for (size_t i = 0; i < a.nhot_files_events; i++)
		CHECK(strcmp(a.hot_files_events[i].path, "/w/src/stXYZ") != 0,
		      "ar's temporary is a hot file");
	render_all(&a, "remove");
	analyze_free(&a);
	printf("ok - a build's phases: %s; probes apart, kernel named, temporaries not hot\n",
	       names);
}

/* cp -a, grep -r, rm -rf: named by what they do. */
static void test_copy_phases(void)
{
	char path[256], err[1024], names[256], name[64];
	struct analyze_result a;
	struct trace t = open_trace(scratch_path(path, sizeof(path), "copy.db"));

	for (int i = 0; i < 500; i++) {
		snprintf(name, sizeof(name), "/b/f%d", i);
		ev(&t, i * 4 * MS, TRACE_OP_CREATE, name, "cp", 10, 0, -1, TRACE_KIND_FILE);
		ev(&t, i * 4 * MS + 1, TRACE_OP_WRITE, name, "cp", 10, 0, 5000, TRACE_KIND_FILE);
		ev(&t, 3 * S + i * 4 * MS, TRACE_OP_OPEN, name, "grep", 20, 0, -1, TRACE_KIND_FILE);
		ev(&t, 3 * S + i * 4 * MS + 1, TRACE_OP_READ, name, "grep", 20, 0, 5000,
		   TRACE_KIND_FILE);
		ev(&t, 6 * S + i * 2 * MS, TRACE_OP_UNLINK, name, "rm", 30, 0, -1, TRACE_KIND_FILE);
	}
	close_trace(&t);
	CHECK(analyze_run(path, 10, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(strcmp(phase_names(&a, names, sizeof(names)), "copy search remove") == 0,
	      "cp, grep, rm: %s", names);
	analyze_free(&a);
	printf("ok - cp, grep, rm: %s\n", names);
}

/*
 * The HTML's phase names never overprint: with many short phases, the
 * labels on each row of the timeline (at 6.5 px a character) do not meet.
 */
static void test_html_labels(void)
{
	char path[256], err[1024], name[64];
	struct analyze_result a;
	struct trace t = open_trace(scratch_path(path, sizeof(path), "labels.db"));
	static const char *const comms[] = {"tar", "rm", "cp", "grep", "mv"};

	for (int step = 0; step < 20; step++)
		for (int i = 0; i < 100; i++) {
			snprintf(name, sizeof(name), "/d/f%d", i);
			ev(&t, step * 1500 * MS + i * 5 * MS, TRACE_OP_GETATTR, name,
			   comms[step % 5], 100 + step, 0, -1, TRACE_KIND_FILE);
		}
	close_trace(&t);
	CHECK(analyze_run(path, 10, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(a.nphases == 20, "%zu phases", a.nphases);
	char *html;
	size_t size;
	FILE *out = open_memstream(&html, &size);
	CHECK(out, "open_memstream");
	report_html(out, &a);
	CHECK(fclose(out) == 0, "fclose");
	double end[8] = {0};
	int labels = 0;
	char *chart_end = strstr(html, "</svg>"); /* the timeline is the first chart */
	CHECK(chart_end, "no chart in the HTML");
	*chart_end = '\0';
	for (const char *at = strstr(html, "<text x=\""); at; at = strstr(at + 1, "<text x=\"")) {
		double x;
		int y, len = 0;
		const char *text = strchr(at, '>');
		if (sscanf(at, "<text x=\"%lf\" y=\"%d\">", &x, &y) != 2 || y > 40 || y < 12)
			continue; /* not a phase name */
		while (text[1 + len] && text[1 + len] != '<')
			len++;
		int row = (y - 12) / 14;
		CHECK(x >= end[row], "label '%.*s' overprints the one before on row %d", len,
		      text + 1, row);
		end[row] = x + 6.5 * len;
		labels++;
	}
	CHECK(labels >= 10, "only %d phase names drawn", labels);
	free(html);
	analyze_free(&a);
	printf("ok - %d phase names in the HTML timeline, none overprinting\n", labels);
}

/* Offsets tell apart the times a line of the timeline is apart, in short traces too. */
static void test_offsets(void)
{
	static const struct {
		int64_t ns, step_ns;
		const char *want;
	} cases[] = {
		{12345678, 0, "0:00.0"},
		{12345678, 1550000, "0:00.012"},
		{12345678, 500000, "0:00.0123"},
		{12345678, 1, "0:00.012345"},
		{61500000000LL, 250000000, "1:01.5"},
		{61530000000LL, 25000000, "1:01.53"},
		{3723000000000LL, 1000, "1:02:03"},
	};
	char buf[32];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(strcmp(report_offset(cases[i].ns, cases[i].step_ns, buf, sizeof(buf)),
			     cases[i].want) == 0,
		      "offset %lld at a step of %lld: %s, not %s", (long long)cases[i].ns,
		      (long long)cases[i].step_ns, buf, cases[i].want);
	printf("ok - offsets as precise as the timeline's lines\n");
}

/* Extreme values: no signed overflow (the sanitizers abort on one). */
static void test_extremes(const char *good)
{
	char path[256], err[1024];
	struct analyze_result a;

	copy_file(good, scratch_path(path, sizeof(path), "extreme.db"));
	sql_exec(path, "UPDATE meta SET value = '9223372036854775807' WHERE key = 'events_lost';"
		       "INSERT OR IGNORE INTO meta VALUES('events_lost', '9223372036854775807');"
		       "UPDATE events SET result = -2147483648 WHERE seq = 5");
	CHECK(analyze_run(path, 10, &a, err, sizeof(err)) == 0, "analysis: %s", err);
	CHECK(a.events_lost == INT64_MAX, "events lost: %lld", (long long)a.events_lost);
	render_all(&a, path);
	char *text;
	size_t size;
	FILE *out = open_memstream(&text, &size);
	CHECK(out, "open_memstream");
	report_text(out, &a, false);
	CHECK(fclose(out) == 0, "fclose");
	CHECK(strstr(text, "9,223,372,036,854,775,807 events were lost while recording (100.0% of"),
	      "the loss: %s", text);
	free(text);
	analyze_free(&a);
	printf("ok - a huge loss and a result of INT32_MIN\n");
}

/* ---- export ---- */

/* Runs `tracefs export PATH --format FORMAT -o OUT`; its exit status. */
static int export_to(const char *path, const char *format, const char *out)
{
	char *argv[] = {"tracefs export", (char *)path, "--format", (char *)format, "-o",
			(char *)out,	  NULL};
	optind = 0; /* getopt starts afresh */
	return analyze_export_command(6, argv);
}

static int count_lines(const char *path)
{
	FILE *f = fopen(path, "r");
	int n = 0, c;
	CHECK(f, "open %s: %s", path, strerror(errno));
	while ((c = fgetc(f)) != EOF)
		n += c == '\n';
	fclose(f);
	return n;
}

static void test_export(const char *path)
{
	static const char *const formats[] = {"chrome", "csv", "jsonl", "gource"};
	char out[256];

	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		scratch_path(out, sizeof(out), formats[i]);
		CHECK(export_to(path, formats[i], out) == 0, "export --format %s failed",
		      formats[i]);
		CHECK(exists(out), "export --format %s wrote nothing", formats[i]);
	}
	/* csv: a header, the weird name's newline inside quotes, an event a row */
	CHECK(count_lines(scratch_path(out, sizeof(out), "csv")) == 1 + 90 + 12, "csv has %d lines",
	      count_lines(out));
	CHECK(count_lines(scratch_path(out, sizeof(out), "jsonl")) == 90, "jsonl lines");
	printf("ok - export in four formats\n");
}

/* ---- hostile traces ---- */

/* Every way in must end in a result or a clear error; export leaves nothing. */
static void try_hostile(const char *path, const char *what, bool must_fail)
{
	static const char *const formats[] = {"chrome", "csv", "jsonl", "gource"};
	struct analyze_result a;
	char err[1024] = "", out[256];

	if (analyze_run(path, 10, &a, err, sizeof(err)) == 0) {
		CHECK(!must_fail, "%s: the analysis did not fail", what);
		render_all(&a, path);
		analyze_free(&a);
	} else {
		CHECK(strstr(err, "corrupt") || strstr(err, "not a tracefs trace") ||
			      strstr(err, "cannot read"),
		      "%s: message '%s'", what, err);
	}
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++) {
		scratch_path(out, sizeof(out), "hostile.out");
		if (export_to(path, formats[i], out) != 0)
			CHECK(!exists(out), "%s: a failed %s export left a file", what, formats[i]);
		else
			CHECK(unlink(out) == 0, "unlink: %s", strerror(errno));
	}
}

static void test_bad_values(const char *good)
{
	static const struct {
		const char *sql;
		bool must_fail;
	} cases[] = {
		{"UPDATE events SET dur = -5 WHERE seq = 3", true},
		{"UPDATE events SET op = 200 WHERE seq = 3", true},
		{"UPDATE events SET kind = 77 WHERE seq = 3", true},
		{"UPDATE events SET bytes = 'many' WHERE seq = 3", true},
		{"UPDATE events SET result = 1.5 WHERE seq = 3", true},
		{"UPDATE events SET ts = 9223372036854775000 WHERE seq = 3", true},
		{"UPDATE events SET ts = -9223372036854775000 WHERE seq = 4", false},
		{"UPDATE events SET dur = 9223372036854775000 WHERE seq < 4", true},
		{"UPDATE events SET path = 99999 WHERE seq = 3", false},
		{"UPDATE events SET path = NULL WHERE seq = 5", false},
		{"UPDATE events SET proc = 99999 WHERE seq = 3", false},
		{"UPDATE procs SET comm = NULL", false},
		{"UPDATE procs SET comm = CAST('a' || char(0) || 'b' AS BLOB)", false},
		{"UPDATE paths SET path = ''", false},
		{"DELETE FROM paths", false},
		{"DELETE FROM procs", false},
		{"UPDATE meta SET value = 'x' WHERE key = 'events_lost'", false},
	};
	char path[256];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		copy_file(good, scratch_path(path, sizeof(path), "bad.db"));
		sql_exec(path, cases[i].sql);
		try_hostile(path, cases[i].sql, cases[i].must_fail);
		CHECK(unlink(path) == 0, "unlink: %s", strerror(errno));
	}
	printf("ok - %zu spoilt values: results or clear errors\n",
	       sizeof(cases) / sizeof(cases[0]));
}

static void test_garbage(const char *good)
{
	char path[256], what[64];
	int tries = (int)(24 * scale) + 2;

	for (int i = 0; i < tries; i++) {
		copy_file(good, scratch_path(path, sizeof(path), "garbage.db"));
		scribble_from(path, 1024 + (off_t)i * 512, (unsigned)i + 1);
		snprintf(what, sizeof(what), "garbage from byte %d", 1024 + i * 512);
		try_hostile(path, what, false);
		CHECK(unlink(path) == 0, "unlink: %s", strerror(errno));
	}
	printf("ok - %d copies with garbage: results or clear errors\n", tries);
}

int main(void)
{
	check_on_fail = cleanup;
	char good[256];

	if (!scale_from_env())
		return 1;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!scratch_make("test_report"))
		return 1;
	make_trace(scratch_path(good, sizeof(good), "good.db"), 12);
	test_known_numbers(good);
	test_empty();
	test_two_halves();
	test_build_phases();
	test_copy_phases();
	test_html_labels();
	test_offsets();
	test_extremes(good);
	test_export(good);
	test_bad_values(good);
	test_garbage(good);
	cleanup();
	printf("PASS: test_report\n");
	return 0;
}
