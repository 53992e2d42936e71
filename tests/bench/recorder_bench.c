/*
 * recorder_bench.c — workload (f) of tests/bench/run: how many events per
 * second the capture queue and the SQLite writer sustain, how many bytes of
 * trace file an event costs, and what one recorder_submit() costs the FUSE
 * thread that calls it.
 *
 * usage: recorder_bench [-n EVENTS] [-t THREADS] [-p PATHS] DIR
 *
 * THREADS producers (the FUSE worker threads) submit EVENTS events with the
 * operation mix of a real build trace (the wget configure + make of
 * workload (e)) and its locality: in the traces of workloads (b) and (e),
 * 69-77% of the events name the same path as the event before and 78-88%
 * come from the same process; here 70% repeat the path (otherwise a new
 * one, half of the time among a sixteenth of the paths) and 7 in 8 the
 * process (a process makes about 8 requests in a row). A producer that
 * finds more than half the queue waiting backs off, so nothing is lost and
 * the figure is what the writer sustains, not how fast a queue fills. The
 * clock stops when the trace file is closed (everything committed and
 * checkpointed).
 * Prints one JSON object on stdout.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "recorder/recorder.h"

#define QUEUE_CAPACITY 65536

static uint64_t total_events = 2000000;
static int thread_count = 2;
static int path_count = 4096;
static char **paths;
static struct recorder *recorder;

static int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *what)
{
	fprintf(stderr, "recorder_bench: %s: %s\n", what, strerror(errno));
	exit(1);
}

/* Paths shaped like an unpacked source tree: /wget-1.21.3/DIR/NAME.EXT. */
static void make_paths(void)
{
	static const char *dirs[] = {"", "/src", "/lib", "/lib/malloc", "/lib/glthread",
				     "/doc", "/po", "/tests", "/testenv", "/fuzz", "/m4",
				     "/build-aux", "/gnulib_po", "/util", "/contrib", "/lib/unistr"};
	static const char *exts[] = {".c", ".h", ".o", ".Po", ".in", "", ".m4", ".texi"};
	paths = calloc((size_t)path_count, sizeof(*paths));
	if (!paths)
		die("calloc");
	for (int i = 0; i < path_count; i++) {
		if (asprintf(&paths[i], "/wget-1.21.3%s/file-%04d%s",
			     dirs[i % (int)(sizeof(dirs) / sizeof(dirs[0]))], i,
			     exts[(i / 7) % (int)(sizeof(exts) / sizeof(exts[0]))]) == -1)
			die("asprintf");
	}
}

/* The op mix of a wget configure + make trace (default caching), per mille. */
static const struct {
	uint8_t op;
	int permille;
} mix[] = {
	{TRACE_OP_LOOKUP, 380}, {TRACE_OP_GETATTR, 90}, {TRACE_OP_OPEN, 90},	{TRACE_OP_READ, 110},
	{TRACE_OP_FLUSH, 90},   {TRACE_OP_RELEASE, 90}, {TRACE_OP_WRITE, 40},	{TRACE_OP_CREATE, 20},
	{TRACE_OP_OPENDIR, 15}, {TRACE_OP_READDIR, 30}, {TRACE_OP_RELEASEDIR, 15},
	{TRACE_OP_UNLINK, 10},  {TRACE_OP_SETATTR, 10}, {TRACE_OP_GETXATTR, 10},
};

static uint8_t pick_op(uint32_t r)
{
	int x = (int)(r % 1000);
	for (size_t i = 0; i < sizeof(mix) / sizeof(mix[0]); i++) {
		if (x < mix[i].permille)
			return mix[i].op;
		x -= mix[i].permille;
	}
	return TRACE_OP_LOOKUP;
}

/* One producer's event stream. */
struct gen {
	uint32_t rnd;
	int32_t pid_base;
	uint32_t path; /* index of the current path */
	uint32_t proc; /* number of the current process */
};

static uint32_t next_random(struct gen *g)
{
	g->rnd = g->rnd * 1103515245u + 12345u;
	return g->rnd;
}

static void make_event(struct trace_event *e, struct gen *g)
{
	static const char *comms[] = {"sh", "cc1", "as", "make", "gcc", "sed", "cat", "rm"};
	uint32_t r = next_random(g);
	uint32_t r2 = next_random(g);
	memset(e, 0, sizeof(*e));
	e->ts_ns = now_ns(CLOCK_REALTIME);
	e->dur_ns = 800 + (r >> 22) % 6000;
	e->op = pick_op(r >> 4);
	if (r2 % 10 >= 7) {
		/* Another path; skewed: half of the time one in sixteen. */
		g->path = (r2 >> 8) % (uint32_t)path_count;
		if (r2 & 0x80)
			g->path %= (uint32_t)(path_count / 16 > 0 ? path_count / 16 : 1);
	}
	e->path = paths[g->path];
	e->kind = TRACE_KIND_FILE;
	e->bytes = -1;
	e->offset = -1;
	if ((r2 >> 24) % 8 == 0)
		g->proc++; /* another process */
	e->pid = g->pid_base + (int32_t)(g->proc % 5000);
	e->comm = comms[g->proc % (sizeof(comms) / sizeof(comms[0]))];
	e->uid = 1000;
	e->gid = 1000;
	switch (e->op) {
	case TRACE_OP_LOOKUP:
		if (r % 3 == 0) {
			e->result = -ENOENT;
			e->kind = TRACE_KIND_NONE;
		}
		break;
	case TRACE_OP_READ:
	case TRACE_OP_WRITE:
		e->bytes = 4096 + (r >> 20) % 60000;
		e->offset = (int64_t)((r >> 8) % 16) * 65536;
		break;
	case TRACE_OP_OPEN:
	case TRACE_OP_CREATE:
		e->flags = 0x8000 | ((r >> 9) & 3);
		e->mode = e->op == TRACE_OP_CREATE ? 0100644 : 0;
		break;
	case TRACE_OP_READDIR:
		e->kind = TRACE_KIND_DIR;
		e->bytes = 4000;
		e->offset = 0;
		break;
	case TRACE_OP_GETXATTR:
		e->path2 = "security.selinux";
		e->result = -ENODATA;
		break;
	default:
		break;
	}
}

/* Waits while more than LIMIT events are queued and not yet written. */
static void wait_for_room(uint64_t limit)
{
	struct recorder_stats s;
	for (;;) {
		recorder_get_stats(recorder, &s);
		if (s.submitted - s.written - s.lost <= limit)
			return;
		struct timespec ts = {0, 200000};
		nanosleep(&ts, NULL);
	}
}

struct producer {
	pthread_t thread;
	int index;
	uint64_t count;
};

static void *produce(void *arg)
{
	struct producer *p = arg;
	struct gen g = {.rnd = 12345u + (uint32_t)p->index * 7919u,
			.pid_base = 10000 + p->index * 100000};
	struct trace_event e;
	for (uint64_t i = 0; i < p->count; i++) {
		make_event(&e, &g);
		recorder_submit(recorder, &e);
		if ((i & 255) == 255)
			wait_for_room(QUEUE_CAPACITY / 2);
	}
	return NULL;
}

static struct recorder *open_recorder(const char *db)
{
	char err[512];
	struct recorder_options o = {
		.db_path = db,
		.source = "/bench",
		.mountpoint = "/bench",
		.command_line = "recorder_bench",
		.cache_mode = "default",
		.queue_capacity = QUEUE_CAPACITY,
	};
	struct recorder *r = recorder_open(&o, err, sizeof(err));
	if (!r) {
		fprintf(stderr, "recorder_bench: %s\n", err);
		exit(1);
	}
	return r;
}

static void close_recorder(struct recorder *r)
{
	char err[512];
	if (recorder_close(r, err, sizeof(err)) != 0) {
		fprintf(stderr, "recorder_bench: %s\n", err);
		exit(1);
	}
}

static void remove_db(const char *db)
{
	char name[4200];
	unlink(db);
	snprintf(name, sizeof(name), "%s-wal", db);
	unlink(name);
	snprintf(name, sizeof(name), "%s-shm", db);
	unlink(name);
}

/* What one submit costs its caller: a burst into an empty queue. */
static double submit_cost_ns(const char *db)
{
	enum { BURST = QUEUE_CAPACITY / 2 };
	remove_db(db);
	recorder = open_recorder(db);
	struct trace_event *events = calloc(BURST, sizeof(*events));
	if (!events)
		die("calloc");
	struct gen g = {.rnd = 99, .pid_base = 500000};
	for (uint64_t i = 0; i < BURST; i++)
		make_event(&events[i], &g);
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (uint64_t i = 0; i < BURST; i++)
		recorder_submit(recorder, &events[i]);
	int64_t t1 = now_ns(CLOCK_MONOTONIC);
	close_recorder(recorder);
	free(events);
	remove_db(db);
	return (double)(t1 - t0) / BURST;
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "n:t:p:")) != -1) {
		switch (c) {
		case 'n':
			total_events = strtoull(optarg, NULL, 10);
			break;
		case 't':
			thread_count = atoi(optarg);
			break;
		case 'p':
			path_count = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (optind != argc - 1 || total_events == 0 || thread_count < 1 || thread_count > 64 ||
	    path_count < 1)
		goto usage;
	char db[4096];
	snprintf(db, sizeof(db), "%s/recorder-bench.db", argv[optind]);
	make_paths();

	double submit_ns = submit_cost_ns(db);

	remove_db(db);
	recorder = open_recorder(db);
	struct producer producers[64];
	int64_t t0 = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < thread_count; i++) {
		producers[i].index = i;
		producers[i].count = total_events / (uint64_t)thread_count +
				     ((uint64_t)i < total_events % (uint64_t)thread_count);
		if (pthread_create(&producers[i].thread, NULL, produce, &producers[i]) != 0)
			die("pthread_create");
	}
	for (int i = 0; i < thread_count; i++)
		pthread_join(producers[i].thread, NULL);
	int64_t t_submitted = now_ns(CLOCK_MONOTONIC);
	wait_for_room(0);
	int64_t t_written = now_ns(CLOCK_MONOTONIC);
	struct recorder_stats s;
	recorder_get_stats(recorder, &s);
	close_recorder(recorder);
	int64_t t_closed = now_ns(CLOCK_MONOTONIC);

	struct stat st;
	if (stat(db, &st) != 0)
		die("stat");
	double seconds = (double)(t_closed - t0) / 1e9;
	printf("{\"events\": %" PRIu64 ", \"threads\": %d, \"distinct_paths\": %d, "
	       "\"seconds\": %.3f, \"submit_seconds\": %.3f, \"written_seconds\": %.3f, "
	       "\"events_per_s\": %.0f, \"trace_bytes\": %lld, \"bytes_per_event\": %.2f, "
	       "\"lost\": %" PRIu64 ", \"submit_ns\": %.1f}\n",
	       total_events, thread_count, path_count, seconds, (double)(t_submitted - t0) / 1e9,
	       (double)(t_written - t0) / 1e9, (double)total_events / seconds,
	       (long long)st.st_size, (double)st.st_size / (double)total_events, s.lost,
	       submit_ns);
	remove_db(db);
	return s.lost == 0 && s.written == total_events ? 0 : 1;

usage:
	fprintf(stderr, "usage: recorder_bench [-n EVENTS] [-t THREADS] [-p PATHS] DIR\n");
	return 2;
}
