/*
 * make_trace.c — writes traces with the recorder for the tests of `tracefs
 * report` and `tracefs export`.
 *
 *   make_trace crafted OUT.db   a small trace whose analysis is known: three
 *                               phases and one instance of every finding
 *                               (see crafted() for the numbers)
 *   make_trace big OUT.db N     N events of a build-like mix, for timing the
 *                               report and the exporters on large traces
 *   make_trace build OUT.db     a build with process lineage whose graph is
 *                               known, for `tracefs deps` (see build())
 */
#include "recorder/recorder.h"
#include "tests/tools/synthetic.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL
#define S 1000000000LL

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "make_trace: %s: %s\n", what, detail);
	exit(1);
}

static void open_trace(struct synthetic *w, const char *path)
{
	synthetic_open(w, "make_trace", path, "/work/src");
}

/* One event at t0 + at_ns, lasting dur_ns. */
static void ev(struct synthetic *w, int64_t at_ns, int64_t dur_ns, enum trace_op op, const char *path,
	       const char *comm, int pid, int result, int64_t bytes, enum trace_kind kind)
{
	struct trace_event e = {
		.ts_ns = w->t0 + at_ns,
		.dur_ns = dur_ns,
		.bytes = bytes,
		.offset = bytes >= 0 ? 0 : -1,
		.path = path,
		.comm = comm,
		.pid = pid,
		.uid = 1000,
		.gid = 1000,
		.result = result,
		.op = (uint8_t)op,
		.kind = (uint8_t)kind,
	};
	synthetic_submit(w, &e);
}

/*
 * configure, 0 s to 10 s: the process "configure" (pid 100) writes 100
 * probes /conftestN.c (each looked up once in vain, created, written,
 * removed) and runs "conftest" 100 times; it fails to open /secret once
 * (EACCES) and looks up /src/missing.h 7 times in vain (4 times as cc1,
 * 3 times as gcc): the MISSING finding, 7 failed lookups.
 */
static void configure_phase(struct synthetic *w)
{
	char probe[64];

	for (int i = 0; i < 100; i++) {
		int64_t at = i * 100 * MS;
		snprintf(probe, sizeof(probe), "/conftest%d.c", i); /* each looked up once */
		ev(w, at, 20000, TRACE_OP_LOOKUP, probe, "configure", 100, -2, -1, TRACE_KIND_NONE);
		ev(w, at + MS, 80000, TRACE_OP_CREATE, probe, "configure", 100, 0, -1, TRACE_KIND_FILE);
		ev(w, at + 2 * MS, 30000, TRACE_OP_WRITE, probe, "configure", 100, 0, 600,
		   TRACE_KIND_FILE);
		ev(w, at + 10 * MS, 5000, TRACE_OP_GETATTR, "/conftest", "conftest", 1000 + i, 0, -1,
		   TRACE_KIND_FILE);
		ev(w, at + 50 * MS, 15000, TRACE_OP_UNLINK, probe, "configure", 100, 0, -1,
		   TRACE_KIND_FILE);
	}
	ev(w, 5 * S, 9000, TRACE_OP_OPEN, "/secret", "configure", 100, -13, -1, TRACE_KIND_FILE);
	for (int i = 0; i < 7; i++)
		ev(w, 3 * S + i * 100 * MS, 4000, TRACE_OP_LOOKUP, "/src/missing.h",
		   i < 4 ? "cc1" : "gcc", 300 + i, -2, -1, TRACE_KIND_NONE);
}

/*
 * make, 12 s to 22 s: the process "make" (pid 200) runs cc1 and as, which
 * open /src/config.h 25 times and read 100 bytes each time (REOPENED: 25
 * opens, 2,500 bytes); make lists /src 12 times (RELISTED: 12 listings, 24
 * readdirs) and writes /build.log in 100 writes of 10 bytes (TINY_IO: 100
 * tiny of 100); /data.db is fsynced 3 times, 2 ms each (FSYNC: 3 fsyncs,
 * 6 ms).
 */
static void make_phase(struct synthetic *w)
{
	char path[64];

	for (int i = 0; i < 25; i++) {
		int64_t at = 12 * S + i * 400 * MS;
		snprintf(path, sizeof(path), "/src/file%d.c", i);
		ev(w, at, 30000, TRACE_OP_OPEN, path, "cc1", 2000 + i, 0, -1, TRACE_KIND_FILE);
		ev(w, at + MS, 40000, TRACE_OP_READ, path, "cc1", 2000 + i, 0, 8192, TRACE_KIND_FILE);
		ev(w, at + 2 * MS, 30000, TRACE_OP_OPEN, "/src/config.h", "cc1", 2000 + i, 0, -1,
		   TRACE_KIND_FILE);
		ev(w, at + 3 * MS, 20000, TRACE_OP_READ, "/src/config.h", "cc1", 2000 + i, 0, 100,
		   TRACE_KIND_FILE);
		snprintf(path, sizeof(path), "/src/file%d.o", i);
		ev(w, at + 50 * MS, 90000, TRACE_OP_CREATE, path, "as", 3000 + i, 0, -1,
		   TRACE_KIND_FILE);
		ev(w, at + 51 * MS, 60000, TRACE_OP_WRITE, path, "as", 3000 + i, 0, 4096,
		   TRACE_KIND_FILE);
	}
	for (int i = 0; i < 12; i++) {
		int64_t at = 12 * S + i * 800 * MS + 300 * MS;
		ev(w, at, 10000, TRACE_OP_OPENDIR, "/src", "make", 200, 0, -1, TRACE_KIND_DIR);
		ev(w, at + MS, 30000, TRACE_OP_READDIR, "/src", "make", 200, 0, 2048, TRACE_KIND_DIR);
		ev(w, at + 2 * MS, 30000, TRACE_OP_READDIR, "/src", "make", 200, 0, 0, TRACE_KIND_DIR);
		ev(w, at + 3 * MS, 5000, TRACE_OP_RELEASEDIR, "/src", "make", 200, 0, -1,
		   TRACE_KIND_DIR);
	}
	for (int i = 0; i < 100; i++)
		ev(w, 12 * S + i * 95 * MS + 7 * MS, 3000, TRACE_OP_WRITE, "/build.log", "make", 200,
		   0, 10, TRACE_KIND_FILE);
	for (int i = 0; i < 3; i++)
		ev(w, 20 * S + i * 100 * MS, 2 * MS, TRACE_OP_FSYNC, "/data.db", "make", 200, 0, -1,
		   TRACE_KIND_FILE);
}

/* rm, 25 s to 26 s: "rm" (pid 400) removes the 25 objects and /src. */
static void rm_phase(struct synthetic *w)
{
	char path[64];

	for (int i = 0; i < 25; i++) {
		snprintf(path, sizeof(path), "/src/file%d.o", i);
		ev(w, 25 * S + i * 20 * MS, 25000, TRACE_OP_UNLINK, path, "rm", 400, 0, -1,
		   TRACE_KIND_FILE);
		snprintf(path, sizeof(path), "/src/file%d.c", i);
		ev(w, 25 * S + i * 20 * MS + MS, 25000, TRACE_OP_UNLINK, path, "rm", 400, 0, -1,
		   TRACE_KIND_FILE);
	}
	ev(w, 25 * S + 900 * MS, 40000, TRACE_OP_RMDIR, "/src", "rm", 400, 0, -1, TRACE_KIND_DIR);
}

/*
 * Events are submitted in time order within each phase; the phases follow
 * one another with idle gaps (10-12 s, 22-25 s).
 */
static void crafted(const char *path)
{
	struct synthetic w;

	open_trace(&w, path);
	configure_phase(&w);
	make_phase(&w);
	rm_phase(&w);
	synthetic_close(&w);
}

/* A build-like mix, fast to make: a path per 100 events, a process per 2,000. */
static void big(const char *path, uint64_t count)
{
	static const char *const comms[] = {"make", "cc1", "as", "ld", "sh", "sed", "rm", "cat"};
	static const enum trace_op ops[] = {TRACE_OP_LOOKUP, TRACE_OP_GETATTR, TRACE_OP_OPEN,
					  TRACE_OP_READ,	 TRACE_OP_READ,	 TRACE_OP_WRITE,
					  TRACE_OP_FLUSH,	 TRACE_OP_RELEASE};
	struct synthetic w;
	char name[64];
	uint64_t seed = 42;

	open_trace(&w, path);
	for (uint64_t i = 0; i < count; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(seed >> 33);
		uint32_t file = r % (uint32_t)(count / 100 + 1);
		snprintf(name, sizeof(name), "/src/d%u/f%u.c", file % 97, file);
		enum trace_op op = ops[r % 8];
		/* A process makes about 2,000 events, then the next one starts. */
		int pid = (int)(i / 2000 % 30000) + (int)(r >> 12) % 3 + 100;
		ev(&w, (int64_t)i * 1000, 1000 + r % 100000, op, name, comms[(uint32_t)pid % 8],
		   pid, op == TRACE_OP_LOOKUP && r % 3 == 0 ? -2 : 0,
		   op == TRACE_OP_READ || op == TRACE_OP_WRITE ? (int64_t)(r % 8192) : -1,
		   op == TRACE_OP_LOOKUP && r % 3 == 0 ? TRACE_KIND_NONE : TRACE_KIND_FILE);
	}
	synthetic_close(&w);
}

/* Records a process; PARENT and ROOT are earlier ids (0: none). */
static int64_t process(struct synthetic *w, int pid, int64_t parent, int64_t root, const char *argv,
		       bool is_root)
{
	struct recorder_process p = {
		.pid = pid,
		.ppid = -1,
		.parent_id = parent,
		.root_id = root,
		.exe = "/usr/bin/x",
		.argv = argv,
		.cwd = "/work/src",
		.start_ns = w->t0,
		.state = is_root ? RECORDER_PROCESS_ROOT : RECORDER_PROCESS_READ,
	};
	int64_t id = recorder_add_process(w->recorder, &p);
	if (id <= 0)
		die("recorder_add_process", "no id");
	return id;
}

/* One successful access by process ID (pid PID) at step N. */
static void access_ev(struct synthetic *w, int64_t n, int64_t id, int pid, enum trace_op op,
		      const char *path, const char *path2, uint32_t flags)
{
	struct trace_event e = {
		.ts_ns = w->t0 + n * MS,
		.dur_ns = 1000,
		.bytes = op == TRACE_OP_WRITE ? 100 : -1,
		.offset = -1,
		.path = path,
		.path2 = path2,
		.comm = "x",
		.pid = pid,
		.uid = 1000,
		.gid = 1000,
		.result = op == TRACE_OP_WRITE ? 100 : 0,
		.flags = flags,
		.op = (uint8_t)op,
		.kind = TRACE_KIND_FILE,
		.process = id,
	};
	synthetic_submit(w, &e);
}

/*
 * A build under a script, in /work/src (source and mountpoint):
 *   sh build.sh (root)
 *     sh configure: cat > conftest.c; gcc conftest.c (cc1); rm conftest*; writes config.h
 *     make: sh -c: gcc -c -o x.o x.c (cc1 reads x.c x.h config.h, writes .deps/x.Tpo; as
 *       writes x.o), mv .deps/x.Tpo .deps/x.Po; the same for y.c (x.h only); then
 *       gcc -o prog x.o y.o (collect2, ld)
 *     make distclean: rm x.o y.o prog
 *     and a compiler driver gone before it was read, whose cc1 read z.c
 * So: compile-commands has x.c and y.c (and says one cc1 had no known driver); --impact /x.h is x.o y.o .deps/x.Po
 * .deps/y.Po prog; --impact /config.h leaves y.o out; conftest* are temporaries.
 */
static void build(const char *path)
{
	struct synthetic w;
	int64_t n = 0;
	open_trace(&w, path);
	int64_t root = process(&w, 10, 0, 0, "[\"sh\",\"build.sh\"]", true);
	access_ev(&w, n++, root, 10, TRACE_OP_OPEN, "/build.sh", NULL, O_RDONLY);
	int64_t conf = process(&w, 11, root, root, "[\"sh\",\"configure\"]", false);
	access_ev(&w, n++, conf, 11, TRACE_OP_OPEN, "/configure", NULL, O_RDONLY);
	int64_t cat = process(&w, 12, conf, root, "[\"cat\"]", false);
	access_ev(&w, n++, cat, 12, TRACE_OP_CREATE, "/conftest.c", NULL, O_WRONLY | O_CREAT);
	int64_t cc = process(&w, 13, conf, root, "[\"gcc\",\"-o\",\"conftest\",\"conftest.c\"]",
			     false);
	int64_t cc1 = process(&w, 14, cc, root, "[\"/usr/libexec/gcc/cc1\"]", false);
	access_ev(&w, n++, cc1, 14, TRACE_OP_OPEN, "/conftest.c", NULL, O_RDONLY);
	access_ev(&w, n++, cc, 13, TRACE_OP_CREATE, "/conftest", NULL, O_WRONLY | O_CREAT);
	int64_t rm = process(&w, 15, conf, root, "[\"rm\",\"-f\",\"conftest\",\"conftest.c\"]",
			     false);
	access_ev(&w, n++, rm, 15, TRACE_OP_UNLINK, "/conftest", NULL, 0);
	access_ev(&w, n++, rm, 15, TRACE_OP_UNLINK, "/conftest.c", NULL, 0);
	access_ev(&w, n++, conf, 11, TRACE_OP_CREATE, "/config.h", NULL, O_WRONLY | O_CREAT);

	int64_t make = process(&w, 20, root, root, "[\"make\"]", false);
	access_ev(&w, n++, make, 20, TRACE_OP_OPEN, "/Makefile", NULL, O_RDONLY);
	static const char *const stems[] = {"x", "y"};
	for (int i = 0; i < 2; i++) {
		char argv[256], source[16], object[16], tpo[32], po[32], mv[256];
		int pid = 21 + 10 * i;
		snprintf(argv, sizeof(argv),
			 "[\"gcc\",\"-DHAVE_CONFIG_H\",\"-I.\",\"-MD\",\"-MF\",\".deps/%s.Tpo\","
			 "\"-c\",\"-o\",\"%s.o\",\"%s.c\"]",
			 stems[i], stems[i], stems[i]);
		snprintf(source, sizeof(source), "/%s.c", stems[i]);
		snprintf(object, sizeof(object), "/%s.o", stems[i]);
		snprintf(tpo, sizeof(tpo), "/.deps/%s.Tpo", stems[i]);
		snprintf(po, sizeof(po), "/.deps/%s.Po", stems[i]);
		snprintf(mv, sizeof(mv), "[\"mv\",\"-f\",\".deps/%s.Tpo\",\".deps/%s.Po\"]",
			 stems[i], stems[i]);
		int64_t recipe = process(&w, pid, make, root, "[\"/bin/sh\",\"-c\",\"gcc ...\"]", false);
		int64_t gcc = process(&w, pid + 1, recipe, root, argv, false);
		int64_t c1 = process(&w, pid + 2, gcc, root, "[\"/usr/libexec/gcc/cc1\"]", false);
		access_ev(&w, n++, c1, pid + 2, TRACE_OP_OPEN, source, NULL, O_RDONLY);
		if (i == 0)
			access_ev(&w, n++, c1, pid + 2, TRACE_OP_OPEN, "/config.h", NULL, O_RDONLY);
		access_ev(&w, n++, c1, pid + 2, TRACE_OP_OPEN, "/x.h", NULL, O_RDONLY);
		access_ev(&w, n++, c1, pid + 2, TRACE_OP_CREATE, tpo, NULL, O_WRONLY | O_CREAT);
		access_ev(&w, n++, c1, pid + 2, TRACE_OP_WRITE, tpo, NULL, 0);
		int64_t as = process(&w, pid + 3, gcc, root, "[\"as\"]", false);
		access_ev(&w, n++, as, pid + 3, TRACE_OP_CREATE, object, NULL, O_WRONLY | O_CREAT);
		int64_t move = process(&w, pid + 4, recipe, root, mv, false);
		access_ev(&w, n++, move, pid + 4, TRACE_OP_RENAME, tpo, po, 0);
	}
	int64_t link = process(&w, 40, make, root, "[\"gcc\",\"-o\",\"prog\",\"x.o\",\"y.o\"]",
			       false);
	int64_t collect2 = process(&w, 41, link, root, "[\"collect2\"]", false);
	int64_t ld = process(&w, 42, collect2, root, "[\"ld\"]", false);
	access_ev(&w, n++, ld, 42, TRACE_OP_OPEN, "/x.o", NULL, O_RDONLY);
	access_ev(&w, n++, ld, 42, TRACE_OP_OPEN, "/y.o", NULL, O_RDONLY);
	access_ev(&w, n++, ld, 42, TRACE_OP_CREATE, "/prog", NULL, O_RDWR | O_CREAT | O_TRUNC);

	/* a driver gone before it was read: its cc1 is no compile anyone can name */
	struct recorder_process gone = {.pid = 45, .ppid = -1, .parent_id = make, .root_id = root,
					.start_ns = -1, .state = RECORDER_PROCESS_GONE};
	int64_t driver = recorder_add_process(w.recorder, &gone);
	if (driver <= 0)
		die("recorder_add_process", "no id");
	int64_t orphan = process(&w, 46, driver, root, "[\"/usr/libexec/gcc/cc1\",\"z.c\"]", false);
	access_ev(&w, n++, orphan, 46, TRACE_OP_OPEN, "/z.c", NULL, O_RDONLY);

	int64_t clean = process(&w, 50, root, root, "[\"make\",\"distclean\"]", false);
	int64_t rm2 = process(&w, 51, clean, root, "[\"rm\",\"-f\",\"x.o\",\"y.o\",\"prog\"]",
			      false);
	access_ev(&w, n++, rm2, 51, TRACE_OP_UNLINK, "/x.o", NULL, 0);
	access_ev(&w, n++, rm2, 51, TRACE_OP_UNLINK, "/y.o", NULL, 0);
	access_ev(&w, n++, rm2, 51, TRACE_OP_UNLINK, "/prog", NULL, 0);
	synthetic_close(&w);
}

int main(int argc, char **argv)
{
	if (argc == 3 && strcmp(argv[1], "build") == 0) {
		build(argv[2]);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "crafted") == 0) {
		crafted(argv[2]);
		return 0;
	}
	if (argc == 4 && strcmp(argv[1], "big") == 0) {
		char *end;
		unsigned long long n = strtoull(argv[3], &end, 10);
		if (*end || n == 0)
			die("big", "N must be a positive number");
		big(argv[2], n);
		return 0;
	}
	fprintf(stderr, "usage: make_trace crafted OUT.db\n       make_trace big OUT.db N\n"
			"       make_trace build OUT.db\n");
	return 2;
}
