/*
 * fuzz_trace.c — libFuzzer target for everything that reads a trace file:
 * the input is written to a file and read as `tracefs export` (every event
 * through trace_reader_next, seeks, span, meta) and as `tracefs
 * report` (analyze_run: the SQL aggregation and the reader's check in SQL)
 * would. A damaged or hostile trace must give an error, never a crash, a
 * sanitizer report, a hang or unbounded memory. `make fuzz` runs it on the
 * seeds in tests/fuzz/corpus/trace/.
 */
#include "analyze/analyze.h"
#include "trace/trace.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Enough to reach every path in the seeds; bounds the time per input. */
#define MAX_EVENTS 10000

static char trace[64];

static void read_events(const char *path)
{
	char err[512];
	struct trace_reader *reader = trace_reader_open(path, err, sizeof(err));
	if (!reader)
		return;
	struct trace_event e;
	int64_t seq, first, last, count;
	char *value = trace_reader_meta(reader, "source");
	free(value);
	for (int pass = 0; pass < 2; pass++) {
		for (int n = 0; n < MAX_EVENTS && trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1; n++)
			if (e.path && e.path[0] != '/')
				abort(); /* the reader promises a path starting with / */
		if (trace_reader_span(reader, &first, &last, &count) != 0)
			break;
		trace_reader_seek(reader, pass ? INT64_MAX : first + (last - first) / 2, err, sizeof(err));
	}
	trace_reader_close(reader);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!trace[0])
		snprintf(trace, sizeof(trace), "/tmp/fuzz_trace.%ld.db", (long)getpid());
	FILE *f = fopen(trace, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
	read_events(trace);
	struct analyze_result a;
	char err[1024];
	if (analyze_run(trace, 5, &a, err, sizeof(err)) == 0)
		analyze_free(&a);
	unlink(trace);
	return 0;
}
