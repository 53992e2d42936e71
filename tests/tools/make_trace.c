/*
 * make_trace.c — writes traces with the recorder for the tests of `tracefs
 * report` and `tracefs export`.
 *
 *   make_trace crafted OUT.db   a small trace whose analysis is known: three
 *                               phases and one instance of every finding
 *                               (see crafted() for the numbers)
 *   make_trace big OUT.db N     N events of a build-like mix, for timing the
 *                               report and the exporters on large traces
 */
#include "recorder/recorder.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define MS 1000000LL
#define S 1000000000LL

struct writer {
	struct recorder *recorder;
	int64_t t0; /* the crafted run's start */
	uint64_t submitted;
};

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "make_trace: %s: %s\n", what, detail);
	exit(1);
}

static int64_t now_ns(void)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		die("clock_gettime", strerror(errno));
	return (int64_t)ts.tv_sec * S + ts.tv_nsec;
}

static void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = ms * MS};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static void open_trace(struct writer *w, const char *path)
{
	struct recorder_options options = {
		.db_path = path,
		.source = "/work/src",
		.mountpoint = "/work/src",
		.command_line = "make_trace",
		.cache_mode = "exact",
		.queue_capacity = 1 << 20,
	};
	char err[512];

	w->recorder = recorder_open(&options, err, sizeof(err));
	if (!w->recorder)
		die("recorder_open", err);
	w->t0 = now_ns();
	w->submitted = 0;
}

/* Submits, waiting whenever the queue is half full: the tests want no loss. */
static void submit(struct writer *w, const struct trace_event *e)
{
	struct recorder_stats stats;

	for (;;) {
		recorder_get_stats(w->recorder, &stats);
		if (stats.submitted - stats.written - stats.lost < (1 << 19))
			break;
		sleep_ms(1);
	}
	recorder_submit(w->recorder, e);
	w->submitted++;
}

static void close_trace(struct writer *w)
{
	struct recorder_stats stats;
	char err[512];

	recorder_get_stats(w->recorder, &stats);
	if (recorder_close(w->recorder, err, sizeof(err)) != 0)
		die("recorder_close", err);
	if (stats.lost)
		die("recording", "events were lost");
}

/* One event at t0 + at_ns, lasting dur_ns. */
static void ev(struct writer *w, int64_t at_ns, int64_t dur_ns, enum trace_op op, const char *path,
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
	submit(w, &e);
}

/*
 * configure, 0 s to 10 s: the process "configure" (pid 100) writes 100
 * probes /conftestN.c (each looked up once in vain, created, written,
 * removed) and runs "conftest" 100 times; it fails to open /secret once
 * (EACCES) and looks up /src/missing.h 7 times in vain (4 times as cc1,
 * 3 times as gcc): the MISSING finding, 7 failed lookups.
 */
static void configure_phase(struct writer *w)
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
static void make_phase(struct writer *w)
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
static void rm_phase(struct writer *w)
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
	struct writer w;

	open_trace(&w, path);
	configure_phase(&w);
	make_phase(&w);
	rm_phase(&w);
	close_trace(&w);
}

/* A build-like mix, fast to make: a path per 100 events, a process per 2,000. */
static void big(const char *path, uint64_t count)
{
	static const char *const comms[] = {"make", "cc1", "as", "ld", "sh", "sed", "rm", "cat"};
	static const enum trace_op ops[] = {TRACE_OP_LOOKUP, TRACE_OP_GETATTR, TRACE_OP_OPEN,
					  TRACE_OP_READ,	 TRACE_OP_READ,	 TRACE_OP_WRITE,
					  TRACE_OP_FLUSH,	 TRACE_OP_RELEASE};
	struct writer w;
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
	close_trace(&w);
}

int main(int argc, char **argv)
{
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
	fprintf(stderr, "usage: make_trace crafted OUT.db\n       make_trace big OUT.db N\n");
	return 2;
}
