/*
 * web_trace.c — writes synthetic traces for the browser tests (web-speed).
 *
 *   web_trace tree OUT.db DIRS FILES   DIRS directories /dN, each with FILES
 *                                      files /dN/fM (1 + DIRS + DIRS*FILES
 *                                      nodes), created within the first
 *                                      second; then 10 s in which 2,000
 *                                      reads a second land on files spread
 *                                      over the tree, so the picture keeps
 *                                      moving.
 *   web_trace rate OUT.db RATE SECONDS  RATE events a second, evenly spaced,
 *                                      for SECONDS: getattr and read of
 *                                      5,000 files in 50 directories. Event
 *                                      i (seq i + 1) is at start + i / RATE.
 */
#include "recorder/recorder.h"
#include "tests/tools/synthetic.h"

#include <errno.h>
#include <stdbool.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define S 1000000000LL

static struct synthetic trace;

static void die(const char *what, const char *detail)
{
	fprintf(stderr, "web_trace: %s: %s\n", what, detail);
	exit(1);
}

static void ev(int64_t at_ns, enum trace_op op, const char *path, enum trace_kind kind, int64_t bytes)
{
	struct trace_event e = {
		.ts_ns = trace.t0 + at_ns,
		.dur_ns = 5000,
		.bytes = bytes,
		.offset = bytes >= 0 ? 0 : -1,
		.path = path,
		.comm = "synth",
		.pid = 4242,
		.uid = 1000,
		.gid = 1000,
		.op = (uint8_t)op,
		.kind = (uint8_t)kind,
		.mode = op == TRACE_OP_MKDIR ? 040755 : op == TRACE_OP_CREATE ? 0100644 : 0,
	};
	synthetic_submit(&trace, &e);
}

static unsigned long number(const char *s)
{
	char *end;
	unsigned long n = strtoul(s, &end, 10);
	if (*end || n == 0)
		die(s, "not a positive number");
	return n;
}

static void tree(unsigned long dirs, unsigned long files)
{
	char path[64];
	unsigned long total = dirs * (files + 1), i = 0;
	int64_t step = S / (int64_t)total; /* all created within a second */

	for (unsigned long d = 0; d < dirs; d++) {
		snprintf(path, sizeof(path), "/d%lu", d);
		ev((int64_t)i++ * step, TRACE_OP_MKDIR, path, TRACE_KIND_DIR, -1);
		for (unsigned long f = 0; f < files; f++) {
			snprintf(path, sizeof(path), "/d%lu/f%lu", d, f);
			ev((int64_t)i++ * step, TRACE_OP_CREATE, path, TRACE_KIND_FILE, -1);
		}
	}
	uint64_t seed = 7;
	for (int64_t k = 0; k < 20000; k++) { /* 2,000 a second for 10 s */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(seed >> 33);
		snprintf(path, sizeof(path), "/d%lu/f%lu", (unsigned long)(r % dirs),
			 (unsigned long)((r >> 8) % files));
		ev(S + S / 10 + k * (S / 2000), TRACE_OP_READ, path, TRACE_KIND_FILE, 4096);
	}
}

static void rate(unsigned long per_second, unsigned long seconds)
{
	char path[64];
	uint64_t count = (uint64_t)per_second * seconds, seed = 11;

	for (uint64_t i = 0; i < count; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(seed >> 33);
		snprintf(path, sizeof(path), "/r%u/f%u", r % 50, (r >> 8) % 100);
		bool read = r & 1;
		ev((int64_t)(i * (uint64_t)S / per_second), read ? TRACE_OP_READ : TRACE_OP_GETATTR, path,
		   TRACE_KIND_FILE, read ? 4096 : -1);
	}
}

int main(int argc, char **argv)
{
	if (argc == 5 && strcmp(argv[1], "tree") == 0) {
		synthetic_open(&trace, "web_trace", argv[2], "/synthetic");
		tree(number(argv[3]), number(argv[4]));
	} else if (argc == 5 && strcmp(argv[1], "rate") == 0) {
		synthetic_open(&trace, "web_trace", argv[2], "/synthetic");
		rate(number(argv[3]), number(argv[4]));
	} else {
		fprintf(stderr, "usage: web_trace tree OUT.db DIRS FILES\n"
				"       web_trace rate OUT.db RATE SECONDS\n");
		return 2;
	}
	synthetic_close(&trace);
	return 0;
}
