/*
 * synthetic.h — a trace that a test tool makes up (make_trace, web_trace):
 * a recorder on the file that loses no event (a submit waits while the
 * queue is half full), and a close that fails if one was lost anyway.
 * Every failure says "TOOL: what: why" and exits 1.
 */
#ifndef TRACEFS_TESTS_SYNTHETIC_H
#define TRACEFS_TESTS_SYNTHETIC_H

#include "recorder/recorder.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct synthetic {
	const char *tool; /* its name, for the messages */
	struct recorder *recorder;
	int64_t t0; /* when it was opened: the events' times count from it */
};

#define SYNTHETIC_QUEUE (1 << 20)

__attribute__((noreturn)) static inline void synthetic_fail(const struct synthetic *s,
							   const char *what, const char *detail)
{
	fprintf(stderr, "%s: %s: %s\n", s->tool, what, detail);
	exit(1);
}

/* Opens PATH for TOOL, as a mount of ROOT (its source and mountpoint both). */
static inline void synthetic_open(struct synthetic *s, const char *tool, const char *path,
				  const char *root)
{
	struct recorder_options options = {
		.db_path = path,
		.source = root,
		.mountpoint = root,
		.command_line = tool,
		.cache_mode = "exact",
		.queue_capacity = SYNTHETIC_QUEUE,
	};
	char err[512];
	struct timespec ts;

	s->tool = tool;
	s->recorder = recorder_open(&options, err, sizeof(err));
	if (!s->recorder)
		synthetic_fail(s, "recorder_open", err);
	if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
		synthetic_fail(s, "clock_gettime", strerror(errno));
	s->t0 = (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Submits E, first waiting while the queue is half full: the tests want no loss. */
static inline void synthetic_submit(struct synthetic *s, const struct trace_event *e)
{
	struct recorder_stats stats;

	for (;;) {
		recorder_get_stats(s->recorder, &stats);
		if (stats.submitted - stats.written - stats.lost < SYNTHETIC_QUEUE / 2)
			break;
		struct timespec pause = {0, 1000000};
		while (nanosleep(&pause, &pause) != 0 && errno == EINTR)
			;
	}
	recorder_submit(s->recorder, e);
}

static inline void synthetic_close(struct synthetic *s)
{
	struct recorder_stats stats;
	char err[512];

	recorder_get_stats(s->recorder, &stats);
	if (recorder_close(s->recorder, err, sizeof(err)) != 0)
		synthetic_fail(s, "recorder_close", err);
	if (stats.lost)
		synthetic_fail(s, "recording", "events were lost");
}

#endif
