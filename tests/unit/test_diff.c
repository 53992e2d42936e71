/*
 * test_diff.c — unit test of `tracefs diff`'s comparison (recorder/diff.h),
 * under the sanitizers and valgrind: the pattern of random names; outputs
 * changed, new, gone, kept and alike; reads and failures; names paired by
 * their pattern; phases aligned; operations per command; then two small
 * traces written with the recorder, read back and compared (each with
 * itself: no change) through all three renderers.
 *
 * Plain C, no framework: exits 0 on success, prints "FAIL: ..." and exits 1.
 */
#include "analyze/diff.h"
#include "recorder/recorder.h"
#include "tests/unit/check.h"
#include "tests/unit/scratch.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define S 1000000000LL
#define MS 1000000LL

static void cleanup(void)
{
	scratch_remove();
}

static void test_shape(void)
{
	static const char *const cases[][2] = {
		{"/t/conftest.12345", "/t/conftest.#"},
		{"/tmp/ccAbC123.o", "/tmp/#.o"},
		{"/tmp/ccxRtQwZ.s", "/tmp/#.s"}, /* letters only, but the case jumps about */
		{"/tmp/ccwhPDYa.res", "/tmp/#.res"}, /* in a temporary directory: a capital */
		{"/src/ccwhPDYa.res", "/src/ccwhPDYa.res"}, /* elsewhere: a chosen name */
		{"/src/FooBar.java", "/src/FooBar.java"},
		{"/src/makeConfigFileName.c", "/src/makeConfigFileName.c"},
		{"/var/Tmp/abcdef1", "/var/Tmp/#"},
		{"/tmp/ccsudomy.s", "/tmp/#.s"}, /* in a temporary directory, even small letters */
		{"/tmp/make.d/x", "/tmp/make.d/x"},
		{"/tmp.aB3dEf/out", "/tmp.#/out"},
		{"/src/main.c", "/src/main.c"},
		{"/wget-1.21.3/src/http.c", "/wget-1.21.3/src/http.c"},
		{"/conf1234/sub/file", "/#/sub/file"}, /* directories too: autoconf's $tmp */
		{"/w/confXHH9gF/out", "/w/#/out"},
		{"/w/conftest.mkstemp/coBaFREq", "/w/conftest.mkstemp/coBaFREq"}, /* a word? */
		{"/x86_64-linux-gnu/12/cc1", "/x86_64-linux-gnu/12/cc1"},
		{"/build/Makefile", "/build/Makefile"},
		{"/a/lt-wget2023", "/a/lt-#"}, /* mixes digits and letters: taken for random */
		{"/", "/"},
	};
	char buf[256];
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *want = cases[i][1];
		diff_path_shape(cases[i][0], buf, sizeof(buf));
		CHECK(strcmp(buf, want) == 0, "shape of %s: %s, not %s", cases[i][0], buf, want);
	}
	/* A buffer too small cuts, never overruns. */
	char tiny[6];
	diff_path_shape("/src/main.c", tiny, sizeof(tiny));
	CHECK(strcmp(tiny, "/src/") == 0, "cut shape: '%s'", tiny);
}

#define FILE_W(p, sz, by) {.path = p, .written = true, .size = sz, .bytes_written = sz, .writer = by}
#define FILE_R(p) {.path = p, .read = true, .bytes_read = 10}

static bool has(const struct diff_pair *pairs, size_t n, const char *path)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp((pairs[i].b ? pairs[i].b : pairs[i].a)->path, path) == 0)
			return true;
	return false;
}

static void test_compare(void)
{
	/* Sorted by path, as diff_read leaves them. */
	struct diff_file fa[] = {
		FILE_W("/a.o", 100, "as"),
		FILE_W("/b.o", 50, "as"),
		FILE_W("/c.o", 70, "as"),
		FILE_W("/conftest.12345", 9, "sh"),
		FILE_W("/prog", 900, "ld"),
		FILE_W("/same.o", 5, "as"),
		FILE_R("/x.c"),
		FILE_W("/z.o", 8, "as"),
	};
	struct diff_file fb[] = {
		FILE_W("/a.o", 120, "as"),
		FILE_R("/b.o"),
		{.path = "/c.o", .removed = true},
		FILE_W("/conftest.98765", 9, "sh"),
		FILE_W("/d.o", 30, "as"),
		FILE_W("/prog", 900, "gold"),
		FILE_W("/same.o", 5, "as"),
		FILE_R("/y.c"),
	};
	struct diff_failure ea[] = {
		{"/m.h", -2, TRACE_OP_LOOKUP, 3},
		{"/old.h", -2, TRACE_OP_LOOKUP, 1},
		{"/tmp/cc1234ab", -2, TRACE_OP_LOOKUP, 1},
	};
	struct diff_failure eb[] = {
		{"/m.h", -2, TRACE_OP_LOOKUP, 5},
		{"/n.h", -13, TRACE_OP_OPEN, 1},
		{"/tmp/ccZZ99yy", -2, TRACE_OP_LOOKUP, 1},
	};
	struct analyze_phase pa[] = {{.name = "configure", .end_ns = 5}, {.name = "make", .end_ns = 9},
				{.name = "clean", .end_ns = 1}};
	struct analyze_phase pb[] = {{.name = "configure", .end_ns = 4}, {.name = "make", .end_ns = 9},
				{.name = "install", .end_ns = 2}};
	struct diff_command ca[] = {{.name = "cc", .ops = {[TRACE_OP_OPEN] = 3}, .events = 3}};
	struct diff_command cb[] = {{.name = "cc", .ops = {[TRACE_OP_OPEN] = 5}, .events = 5},
				    {.name = "ld", .ops = {[TRACE_OP_READ] = 2}, .events = 2}};
	struct diff_run a = {.files = fa, .nfiles = 8, .failures = ea, .nfailures = 3,
			     .commands = ca, .ncommands = 1};
	struct diff_run b = {.files = fb, .nfiles = 8, .failures = eb, .nfailures = 3,
			     .commands = cb, .ncommands = 2};
	a.a.phases = pa;
	a.a.nphases = 3;
	b.a.phases = pb;
	b.a.nphases = 3;
	struct diff d;

	CHECK(diff_compare(&a, &b, &d) == 0, "diff_compare");
	CHECK(d.nchanged_outputs == 2 && has(d.changed_outputs, 2, "/a.o") &&
		      has(d.changed_outputs, 2, "/prog"),
	      "changed: a.o (size) and prog (writer), got %zu", d.nchanged_outputs);
	CHECK(strcmp(d.changed_outputs[0].a->path, "/a.o") == 0, "the bigger change first");
	CHECK(d.nnew_outputs == 1 && has(d.new_outputs, 1, "/d.o"), "new: d.o");
	CHECK(d.ngone_outputs == 2 && has(d.gone_outputs, 2, "/c.o") && has(d.gone_outputs, 2, "/z.o"),
	      "gone: c.o (removed) and z.o (not used), got %zu", d.ngone_outputs);
	CHECK(d.nkept_outputs == 1 && has(d.kept_outputs, 1, "/b.o"), "kept: b.o");
	CHECK(d.nsame_outputs == 2 && has(d.same_outputs, 2, "/same.o") &&
		      has(d.same_outputs, 2, "/conftest.98765"),
	      "alike: same.o and the conftest pair, got %zu", d.nsame_outputs);
	CHECK(d.nnew_reads == 2 && has(d.new_reads, 2, "/y.c") && has(d.new_reads, 2, "/b.o"),
	      "newly read: y.c and b.o, got %zu", d.nnew_reads);
	CHECK(d.ngone_reads == 1 && has(d.gone_reads, 1, "/x.c"), "no longer read: x.c");
	CHECK(d.nnew_failures == 1 && strcmp(d.new_failures[0].b->path, "/n.h") == 0, "new failure");
	CHECK(d.ngone_failures == 1 && strcmp(d.gone_failures[0].a->path, "/old.h") == 0,
	      "gone failure");
	CHECK(d.nchanged_failures == 1 && d.changed_failures[0].a->count == 3 &&
		      d.changed_failures[0].b->count == 5,
	      "m.h fails more often");
	CHECK(d.paired_by_shape == 2, "conftest.* and cc* paired: %zu", d.paired_by_shape);
	CHECK(d.nphases == 4, "phases: %zu", d.nphases);
	CHECK(d.phases[0].a == 0 && d.phases[0].b == 0 && d.phases[1].a == 1 &&
		      d.phases[1].b == 1,
	      "configure and make paired");
	CHECK((d.phases[2].a == 2 && d.phases[2].b == -1 && d.phases[3].b == 2) ||
		      (d.phases[2].b == 2 && d.phases[3].a == 2),
	      "clean only in A, install only in B");
	CHECK(d.ncommand_ops == 2, "command ops: %zu", d.ncommand_ops);
	CHECK(strcmp(d.command_ops[0].command, "cc") == 0 && d.command_ops[0].a == 3 &&
		      d.command_ops[0].b == 5,
	      "cc opens 3 -> 5 first");
	CHECK(strcmp(d.command_ops[1].command, "ld") == 0 && d.command_ops[1].a == 0,
	      "ld only in B");
	diff_free(&d);

	/* Against itself: nothing but alike outputs. */
	CHECK(diff_compare(&a, &a, &d) == 0, "diff_compare");
	CHECK(d.nchanged_outputs + d.nnew_outputs + d.ngone_outputs + d.nkept_outputs +
			      d.nnew_reads + d.ngone_reads + d.nnew_failures + d.ngone_failures +
			      d.nchanged_failures + d.ncommand_ops + d.paired_by_shape ==
		      0,
	      "a run differs from itself");
	CHECK(d.nsame_outputs == 7, "alike: %zu", d.nsame_outputs);
	diff_free(&d);
}

static int64_t process; /* the processes row the next events belong to */

static void ev(struct recorder *r, int64_t at, enum trace_op op, const char *path, const char *path2,
	       const char *comm, int result, int64_t bytes, int64_t offset, uint32_t flags)
{
	struct trace_event e = {.ts_ns = 1700000000LL * S + at,
			      .dur_ns = 2000,
			      .bytes = bytes,
			      .offset = offset,
			      .path = path,
			      .path2 = path2,
			      .comm = comm,
			      .pid = 42,
			      .result = result,
			      .flags = flags,
			      .op = (uint8_t)op,
			      .kind = (uint8_t)(result < 0 ? TRACE_KIND_NONE : TRACE_KIND_FILE),
			      .process = process};
	recorder_submit(r, &e);
}

/*
 * A build: cc reads /x.c and the header, writes /x.o (SIZE bytes); `ar`
 * writes a scratch file and renames it to /lib.a; a conftest file with a
 * random name comes and goes; ld reads /x.o and writes /prog. The events
 * belong to the process `cc -c x.c -o /tmp/TEMP` (a random name), and
 * EXTRA, if not NULL, is one more command line without events.
 */
static void write_trace(const char *path, int64_t size, const char *conftest, const char *temp,
			const char *extra)
{
	struct recorder_options options = {.db_path = path, .source = "/src"};
	char err[512], argv[256];
	struct recorder *r = recorder_open(&options, err, sizeof(err));
	int64_t t = 0;

	CHECK(r, "recorder_open: %s", err);
	snprintf(argv, sizeof(argv), "[\"cc\",\"-c\",\"x.c\",\"-o\",\"/tmp/%s\"]", temp);
	struct recorder_process cc = {.pid = 42, .ppid = 1, .exe = "/usr/bin/cc", .argv = argv,
				 .cwd = "/src", .start_ns = 1700000000LL * S, .state = RECORDER_PROCESS_ROOT};
	process = recorder_add_process(r, &cc);
	CHECK(process > 0, "recorder_add_process");
	if (extra) {
		struct recorder_process other = cc;
		other.pid = 43;
		other.argv = extra;
		other.parent_id = process;
		other.root_id = process;
		other.state = RECORDER_PROCESS_READ;
		CHECK(recorder_add_process(r, &other) > 0, "recorder_add_process");
	}
	ev(r, t += MS, TRACE_OP_OPEN, "/x.c", NULL, "cc1", 0, -1, -1, O_RDONLY);
	ev(r, t += MS, TRACE_OP_READ, "/x.c", NULL, "cc1", 0, 300, 0, 0);
	ev(r, t += MS, TRACE_OP_LOOKUP, "/missing.h", NULL, "cc1", -2, -1, -1, 0);
	ev(r, t += MS, TRACE_OP_OPEN, "/x.h", NULL, "cc1", 0, -1, -1, O_RDONLY);
	ev(r, t += MS, TRACE_OP_READ, "/x.h", NULL, "cc1", 0, 40, 0, 0);
	ev(r, t += MS, TRACE_OP_LOOKUP, "/x.o", NULL, "as", -2, -1, -1, 0); /* before making it */
	ev(r, t += MS, TRACE_OP_CREATE, "/x.o", NULL, "as", 0, -1, -1, O_WRONLY);
	ev(r, t += MS, TRACE_OP_WRITE, "/x.o", NULL, "as", 0, size, 0, 0);
	ev(r, t += MS, TRACE_OP_CREATE, "/stXYZ12", NULL, "ar", 0, -1, -1, O_WRONLY);
	ev(r, t += MS, TRACE_OP_WRITE, "/stXYZ12", NULL, "ar", 0, 64, 0, 0);
	ev(r, t += MS, TRACE_OP_RENAME, "/stXYZ12", "/lib.a", "ar", 0, -1, -1, 0);
	ev(r, t += MS, TRACE_OP_CREATE, conftest, NULL, "sh", 0, -1, -1, O_WRONLY);
	ev(r, t += MS, TRACE_OP_UNLINK, conftest, NULL, "sh", 0, -1, -1, 0);
	ev(r, t += MS, TRACE_OP_OPEN, "/x.o", NULL, "ld", 0, -1, -1, O_RDONLY);
	ev(r, t += MS, TRACE_OP_READ, "/x.o", NULL, "ld", 0, size, 0, 0);
	ev(r, t += MS, TRACE_OP_OPEN, "/prog", NULL, "ld", 0, -1, -1, O_RDWR | O_TRUNC);
	ev(r, t += MS, TRACE_OP_WRITE, "/prog", NULL, "ld", 0, 1000, 0, 0);
	ev(r, t += MS, TRACE_OP_SETATTR, "/prog", NULL, "ld", 0, -1, 5000, 0);
	CHECK(recorder_close(r, err, sizeof(err)) == 0, "recorder_close: %s", err);
}

static void render_all(const struct diff *d)
{
	char *text;
	size_t size;
	FILE *out = open_memstream(&text, &size);
	CHECK(out, "open_memstream");
	diff_text(out, d, 3, true);
	diff_json(out, d);
	diff_html(out, d);
	CHECK(fclose(out) == 0, "fclose");
	CHECK(strstr(text, "tracefs diff") && strstr(text, "</html>"), "the renderers wrote");
	free(text);
}

static void test_traces(void)
{
	char pa[256], pb[256], err[512];
	struct diff_run a, b;
	struct diff d;

	write_trace(scratch_path(pa, sizeof(pa), "a.db"), 500, "/conftest.31337", "ccwhPDYa.s",
		    "[\"as\",\"-o\",\"y.o\",\"a b.s\"]");
	write_trace(scratch_path(pb, sizeof(pb), "b.db"), 540, "/conftest.4242", "ccQ2Zl0a.s", NULL);
	CHECK(diff_read(pa, NULL, NULL, &a, err, sizeof(err)) == 0, "diff_read: %s", err);
	CHECK(diff_read(pb, NULL, NULL, &b, err, sizeof(err)) == 0, "diff_read: %s", err);
	CHECK(a.temporaries == 2, "temporaries: the conftest file and ar's scratch file, got %lld",
	      (long long)a.temporaries);
	CHECK(a.outputs == 3, "outputs: x.o, lib.a, prog; got %lld", (long long)a.outputs);
	for (size_t i = 0; i < a.nfiles; i++) {
		const struct diff_file *f = &a.files[i];
		if (strcmp(f->path, "/prog") == 0)
			CHECK(f->size == 5000 && f->bytes_written == 1000 &&
				      strcmp(f->writer, "ld") == 0 && f->read,
			      "prog: truncated to 5000 after 1000 bytes written, by ld");
		if (strcmp(f->path, "/lib.a") == 0)
			CHECK(f->written && f->bytes_written == 64 && strcmp(f->writer, "ar") == 0,
			      "lib.a has what ar wrote under its scratch name");
		if (strcmp(f->path, "/x.h") == 0)
			CHECK(f->read && !f->written && f->bytes_read == 40, "x.h read");
	}
	CHECK(a.nfailures == 1 && strcmp(a.failures[0].path, "/missing.h") == 0,
	      "one failure: a lookup before a create is none");

	CHECK(diff_compare(&a, &b, &d) == 0, "diff_compare");
	CHECK(d.nchanged_outputs == 1 && strcmp(d.changed_outputs[0].b->path, "/x.o") == 0,
	      "only x.o changed, got %zu", d.nchanged_outputs);
	CHECK(d.nsame_outputs == 2 && d.nnew_outputs + d.ngone_outputs + d.nkept_outputs == 0,
	      "lib.a and prog alike");
	CHECK(d.nnew_reads + d.ngone_reads + d.nnew_failures + d.ngone_failures == 0,
	      "the same reads and failures");
	CHECK(a.lineage && b.lineage && d.lineage, "process lineage");
	CHECK(a.ncommand_lines == 2 && b.ncommand_lines == 1, "command lines: %zu and %zu",
	      a.ncommand_lines, b.ncommand_lines);
	CHECK(d.ncommand_lines == 1 && d.command_lines[0].a == 1 && d.command_lines[0].b == 0 &&
		      strcmp(d.command_lines[0].argv, "as -o y.o 'a b.s'") == 0,
	      "only the extra line differs (cc's temporary matched): %zu, '%s'", d.ncommand_lines,
	      d.ncommand_lines ? d.command_lines[0].argv : "");
	render_all(&d);
	diff_free(&d);

	CHECK(diff_compare(&a, &a, &d) == 0, "diff_compare");
	CHECK(d.nchanged_outputs + d.nnew_outputs + d.ngone_outputs + d.ncommand_ops == 0,
	      "a trace differs from itself");
	render_all(&d);
	diff_free(&d);
	diff_run_free(&a);
	diff_run_free(&b);

	/* No trace: an error, nothing to free. */
	CHECK(diff_read(scratch_path(pa, sizeof(pa), "none.db"), NULL, NULL, &a, err,
			sizeof(err)) != 0 && strstr(err, "none.db"),
	      "a missing trace: '%s'", err);
}

int main(void)
{
	check_on_fail = cleanup;
	if (!scratch_make("test_diff"))
		return 1;
	test_shape();
	test_compare();
	test_traces();
	cleanup();
	puts("test_diff: ok");
	return 0;
}
