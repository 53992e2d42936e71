/*
 * test_web.c — unit test of the server's parts that need no socket: client
 * commands (valid ones, and malformed JSON, wrong types, unknown commands,
 * embedded NULs, oversize), URL paths against the web root (traversal,
 * hidden files, a symlink out of the root), and the live feed: a late
 * client's snapshot holds the tree as it is, events come in seq order after
 * it, and a client that falls off the ring is told exactly how many events
 * it missed.
 *
 * Plain C: exits 0 on success, prints "FAIL: ..." and exits 1 otherwise.
 */
#include "web/internal.h"

#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tests/unit/check.h"

static int parse(const char *json, struct web_command *c)
{
	char err[256];
	return command_parse(json, strlen(json), c, err, sizeof(err));
}

static void test_commands(void)
{
	struct web_command c;
	CHECK(parse("{\"cmd\":\"ping\"}", &c) == 0 && c.cmd == CMD_PING, "ping");
	CHECK(parse(" {\"cmd\":\"seek\",\"ts_ns\":1795619181648922208} ", &c) == 0 &&
		      c.cmd == CMD_SEEK && c.ts_ns == 1795619181648922208LL,
	      "seek keeps all 64 bits of ts_ns");
	CHECK(parse("{\"value\":2.5,\"cmd\":\"speed\",\"other\":[1,{\"x\":2}]}", &c) == 0 &&
		      c.cmd == CMD_SPEED && c.value == 2.5,
	      "speed, with an ignored field");
	CHECK(parse("{\"cmd\":\"speed\",\"value\":0.1}", &c) == 0 && c.value == 0.1, "speed 0.1");
	CHECK(parse("{\"cmd\":\"speed\",\"value\":1000}", &c) == 0 && c.value == 1000, "speed 1000");
	CHECK(parse("{\"cmd\":\"seek\",\"ts_ns\":0}", &c) == 0 && c.ts_ns == 0, "seek to 0");
	CHECK(parse("{\"cmd\":\"seek\",\"ts_ns\":-5}", &c) == 0 && c.ts_ns == -5, "seek to -5");
	static const char *const bad[] = {
		"", "   ", "null", "[1]", "\"ping\"", "{", "{\"cmd\":\"ping\"", "{\"cmd\":\"ping\"} x",
		"{\"cmd\":\"ping\"}{}", "{\"cmd\":1}", "{\"cmd\":null}", "{\"cmd\":\"pingpong\"}",
		"{\"cmd\":\"\"}", "{}", "{\"seek\":1}", "{\"cmd\":\"seek\"}",
		"{\"cmd\":\"seek\",\"ts_ns\":\"5\"}", "{\"cmd\":\"seek\",\"ts_ns\":1.5}",
		"{\"cmd\":\"seek\",\"ts_ns\":99999999999999999999999}", "{\"cmd\":\"speed\"}",
		"{\"cmd\":\"speed\",\"value\":0}", "{\"cmd\":\"speed\",\"value\":-1}",
		"{\"cmd\":\"speed\",\"value\":1e9}", "{\"cmd\":\"speed\",\"value\":true}",
		"{'cmd':'ping'}", "{\"cmd\":\"ping\",}", "{\"cmd\":[\"ping\"]}",
		"{\"cmd\":{\"x\":\"ping\"}}", "{\"x\":{\"cmd\":\"ping\"}}", "{\"cmd\":[\"seek\"],\"ts_ns\":[1]}",
		"{\"cmd\":\"speed\",\"value\":[2]}",
		/* a NUL inside a string: not the command it starts with */
		"{\"cmd\":\"ping\\u0000xx\"}", "{\"cmd\":\"ping\\u0000\"}",
		/* leading zeros are not JSON */
		"{\"cmd\":\"seek\",\"ts_ns\":0123}", "{\"cmd\":\"seek\",\"ts_ns\":-01}",
		"{\"cmd\":\"speed\",\"value\":02}", "{\"cmd\":\"speed\",\"value\":00.5}",
		/* speed: 0.1 to 1000 (the README's range) */
		"{\"cmd\":\"speed\",\"value\":5e-324}", "{\"cmd\":\"speed\",\"value\":0.09}",
		"{\"cmd\":\"speed\",\"value\":1000.5}",
		"{\"cmd\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse(bad[i], &c) != 0, "accepted: %s", bad[i]);
	/* A NUL inside the message: whatever follows it must not be trusted. */
	char err[256];
	static const char with_nul[] = "{\"cmd\":\"ping\"}\0garbage";
	CHECK(command_parse(with_nul, sizeof(with_nul) - 1, &c, err, sizeof(err)) != 0,
	      "accepted a message with a NUL and garbage");
	char big[WEB_MAX_MESSAGE + 64];
	memset(big, ' ', sizeof(big));
	memcpy(big + sizeof(big) - 16, "{\"cmd\":\"ping\"}", 14);
	CHECK(command_parse(big, sizeof(big) - 2, &c, err, sizeof(err)) != 0, "accepted oversize");
	/* Every prefix of a valid message is refused, never crashes. */
	const char *full = "{\"cmd\":\"seek\",\"ts_ns\":123,\"value\":[1,2,{\"a\":\"\\u00e9\"}]}";
	for (size_t n = 0; n < strlen(full); n++)
		CHECK(command_parse(full, n, &c, err, sizeof(err)) != 0, "accepted prefix %zu", n);
}

static void test_files(const char *dir)
{
	char root[512], path[600];
	snprintf(root, sizeof(root), "%s/root", dir);
	CHECK(mkdir(root, 0755) == 0, "mkdir root");
	snprintf(path, sizeof(path), "%s/root/index.html", dir);
	FILE *f = fopen(path, "w");
	CHECK(f && fputs("<p>hello</p>", f) >= 0 && fclose(f) == 0, "write index.html");
	snprintf(path, sizeof(path), "%s/secret", dir);
	f = fopen(path, "w");
	CHECK(f && fputs("secret", f) >= 0 && fclose(f) == 0, "write secret");
	char link[600];
	snprintf(link, sizeof(link), "%s/root/escape.html", dir);
	CHECK(symlink(path, link) == 0, "symlink");
	snprintf(link, sizeof(link), "%s/root/up", dir);
	CHECK(symlink("..", link) == 0, "symlink up");
	snprintf(path, sizeof(path), "%s/root/.hidden", dir);
	f = fopen(path, "w");
	CHECK(f && fclose(f) == 0, "write .hidden");

	char err[256];
	int fd = files_open_root(root, err, sizeof(err));
	CHECK(fd >= 0, "open root: %s", err);
	char *body = NULL;
	size_t len = 0;
	const char *mime = NULL;
	CHECK(files_load(fd, "/", &body, &len, &mime) == 200 && len == 12 &&
		      memcmp(body, "<p>hello</p>", 12) == 0 && strncmp(mime, "text/html", 9) == 0,
	      "/ serves index.html");
	free(body);
	static const struct {
		const char *url;
		int status;
	} refused[] = {
		{"/../secret", 403},	 {"/..", 403},		  {"/./index.html", 403},
		{"//index.html", 403},	 {"/index.html/", 403},	  {"/%2e%2e/secret", 403},
		{"/.hidden", 403},	 {"/escape.html", 403},	  {"/up/secret", 403},
		{"/missing.js", 404},	 {"index.html", 403},	  {"/a\\b", 403},
		{"/index.html?x=1", 403}, {"/index.html\n", 403},
	};
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		int status = files_load(fd, refused[i].url, &body, &len, &mime);
		CHECK(status == refused[i].status, "%s gave %d, not %d", refused[i].url, status,
		      refused[i].status);
	}
	CHECK(files_load(-1, "/", &body, &len, &mime) == 404, "no root: 404");
	close(fd);
	CHECK(files_open_root("/nonexistent/web", err, sizeof(err)) == -1 && strstr(err, "web root"),
	      "a missing root is reported: %s", err);
}

/* ---- the live feed ---- */

static int wakes;
static void count_wake(void *ctx)
{
	(void)ctx;
	wakes++;
}

static void feed(struct live *live, int64_t seq, enum trace_op op, const char *path,
		 enum trace_kind kind)
{
	struct trace_event e = {.ts_ns = 1700000000000000000LL + seq * 1000, .op = op,
			      .kind = kind, .path = path, .comm = "mkdir", .pid = 7,
			      .bytes = -1, .offset = -1};
	live_add(live, &e, seq);
}

static char *take_all(struct web_outbox *box)
{
	size_t total = 1;
	for (struct web_msg *m = box->head; m; m = m->next)
		total += m->len + 1;
	char *all = malloc(total), *p = all;
	CHECK(all, "malloc");
	struct web_msg *m;
	while ((m = outbox_pop(box))) {
		memcpy(p, m->data + LWS_PRE, m->len);
		p += m->len;
		*p++ = '\n';
		free(m);
	}
	*p = '\0';
	return all;
}

static void test_live(void)
{
	struct live *live = live_new(NULL, count_wake, NULL);
	CHECK(live, "live_new");
	live_attach(live, +1);
	feed(live, 1, TRACE_OP_MKDIR, "/0", TRACE_KIND_DIR);
	feed(live, 2, TRACE_OP_MKDIR, "/0/a", TRACE_KIND_DIR);
	feed(live, 3, TRACE_OP_CREATE, "/0/a/f", TRACE_KIND_FILE);
	feed(live, 4, TRACE_OP_GETATTR, "/0/a/f", TRACE_KIND_FILE);
	feed(live, 5, TRACE_OP_UNLINK, "/0/a/f", TRACE_KIND_FILE);
	live_flush(live);
	CHECK(wakes == 1, "one wake per sealed batch, got %d", wakes);

	/* A late client: the tree as it is (no /0/a/f) with the counters and each node's last
	 * operation and process, then nothing until new events. */
	struct web_outbox box = {0};
	struct live_cursor cursor;
	CHECK(live_join(live, &box, &cursor) == 0, "join");
	char *snapshot = take_all(&box);
	CHECK(strstr(snapshot, "\"seq\":5") &&
		      strstr(snapshot, "{\"path\":\"/0/a\",\"kind\":\"dir\",\"op\":\"mkdir\",\"process\":0,") &&
		      strstr(snapshot, "\"stats\":{\"events\":5,\"ops\":{\"getattr\":1,\"mkdir\":2,\"unlink\":1,"
				       "\"create\":1}") &&
		      !strstr(snapshot, "/0/a/f") && strstr(snapshot, "\"last\":true"),
	      "snapshot: %s", snapshot);
	free(snapshot);
	CHECK(cursor.next_seq == 6, "cursor after the snapshot: %lld", (long long)cursor.next_seq);
	int64_t missed = -1;
	bool more = true;
	CHECK(live_send_next(live, NULL, &cursor, &missed, &more) == LIVE_IDLE && !more,
	      "nothing to send after the snapshot");

	/* It falls behind: 5,000 batches of one event; the ring keeps 4,096. */
	for (int64_t seq = 6; seq < 5006; seq++) {
		feed(live, seq, TRACE_OP_GETATTR, seq % 2 ? "/0" : "/0/a", TRACE_KIND_DIR);
		live_flush(live);
	}
	CHECK(live_send_next(live, NULL, &cursor, &missed, &more) == LIVE_MISSED,
	      "a client behind the ring is told");
	CHECK(missed == 5000 - 4096, "missed %lld, expected %d", (long long)missed, 5000 - 4096);
	CHECK(live_join(live, &box, &cursor) == 0, "resync");
	snapshot = take_all(&box);
	CHECK(strstr(snapshot, "\"seq\":5005") && strstr(snapshot, "\"/0/a\""), "resync snapshot");
	free(snapshot);
	CHECK(cursor.next_seq == 5006, "cursor after the resync");

	/* A big tree comes in parts, all complete JSON, the last marked. */
	char path[64];
	for (int i = 0; i < 3000; i++) {
		snprintf(path, sizeof(path), "/0/a/file-with-a-longer-name-%05d", i);
		feed(live, 5006 + i, TRACE_OP_CREATE, path, TRACE_KIND_FILE);
	}
	live_flush(live);
	CHECK(live_join(live, &box, &cursor) == 0, "join a big tree");
	CHECK(box.count > 1, "a big snapshot comes in parts (%zu)", box.count);
	size_t parts = box.count;
	snapshot = take_all(&box);
	size_t lasts = 0, nodes = 0;
	for (const char *p = snapshot; (p = strstr(p, "\"last\":true")); p++)
		lasts++;
	for (const char *p = snapshot; (p = strstr(p, "{\"path\":")); p++)
		nodes++;
	CHECK(lasts == 1 && nodes == 3000 + 3, "%zu parts, %zu nodes, %zu last", parts, nodes, lasts);
	free(snapshot);
	/* Without clients the tree is kept but no JSON is made. */
	live_attach(live, -1);
	feed(live, 9000, TRACE_OP_MKDIR, "/unwatched", TRACE_KIND_DIR);
	live_flush(live);
	CHECK(live_send_next(live, NULL, &cursor, &missed, &more) == LIVE_IDLE, "no batch without clients");
	live_attach(live, +1);
	CHECK(live_join(live, &box, &cursor) == 0, "join again");
	snapshot = take_all(&box);
	CHECK(strstr(snapshot, "\"/unwatched\"") && strstr(snapshot, "\"seq\":9000"),
	      "the unwatched event is in the tree");
	free(snapshot);
	CHECK(cursor.next_seq == 9001, "cursor after the unwatched event");
	live_free(live);
}

/*
 * The feeder: the writer thread only says what it committed, so a web side
 * that is stuck (here: the wake-up of the service thread never returns, as
 * a lock held by a slow snapshot would) never holds up the trace; once it
 * moves again the stream has every committed event.
 */
struct stuck_wake {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool hold;
	int entered;
};

static void wake_stuck(void *ctx)
{
	struct stuck_wake *w = ctx;
	pthread_mutex_lock(&w->lock);
	w->entered++;
	pthread_cond_broadcast(&w->cond);
	while (w->hold)
		pthread_cond_wait(&w->cond, &w->lock);
	pthread_mutex_unlock(&w->lock);
}

static void test_feeder(const char *dir)
{
	char trace[512], err[512];
	snprintf(trace, sizeof(trace), "%s/live.db", dir);
	struct stuck_wake stuck = {.lock = PTHREAD_MUTEX_INITIALIZER,
				   .cond = PTHREAD_COND_INITIALIZER, .hold = true};
	struct live *live = live_new(trace, wake_stuck, &stuck);
	CHECK(live, "live_new with a trace");
	live_attach(live, +1);
	struct recorder_options options = {.db_path = trace, .commit_interval_ms = 10,
					   .tap = live_tap(live)};
	struct recorder *recorder = recorder_open(&options, err, sizeof(err));
	CHECK(recorder, "recorder_open: %s", err);
	enum { EVENTS = 3000 };
	char path[64];
	for (int i = 1; i <= EVENTS; i++) {
		snprintf(path, sizeof(path), "/d%d", i);
		struct trace_event e = {.ts_ns = now_ns(CLOCK_REALTIME), .op = TRACE_OP_MKDIR,
				      .kind = TRACE_KIND_DIR, .path = path, .comm = "mkdir",
				      .bytes = -1, .offset = -1};
		recorder_submit(recorder, &e);
		if (i == 1) {
			/* The feeder is stuck in its first wake-up before the rest come. */
			pthread_mutex_lock(&stuck.lock);
			for (int waited = 0; stuck.entered == 0 && waited < 10000; waited += 10) {
				pthread_mutex_unlock(&stuck.lock);
				sleep_ms(10);
				pthread_mutex_lock(&stuck.lock);
			}
			CHECK(stuck.entered > 0, "the feeder never woke the service thread");
			pthread_mutex_unlock(&stuck.lock);
		}
	}
	struct recorder_stats stats = {0};
	for (int waited = 0; waited < 10000; waited += 10) {
		recorder_get_stats(recorder, &stats);
		if (stats.written == EVENTS)
			break;
		sleep_ms(10);
	}
	CHECK(stats.written == EVENTS && stats.lost == 0,
	      "the writer was held up by a stuck web side: %llu of %d written, %llu lost",
	      (unsigned long long)stats.written, EVENTS, (unsigned long long)stats.lost);
	pthread_mutex_lock(&stuck.lock);
	stuck.hold = false;
	pthread_cond_broadcast(&stuck.cond);
	pthread_mutex_unlock(&stuck.lock);
	/* Once free, the feeder catches up with everything committed. */
	struct web_outbox box = {0};
	struct live_cursor cursor = {0};
	for (int waited = 0; waited < 10000 && cursor.next_seq != EVENTS + 1; waited += 10) {
		CHECK(live_join(live, &box, &cursor) == 0, "join");
		outbox_clear(&box);
		sleep_ms(10);
	}
	CHECK(cursor.next_seq == EVENTS + 1, "the stream reached seq %lld, not %d",
	      (long long)cursor.next_seq - 1, EVENTS);
	CHECK(live_join(live, &box, &cursor) == 0, "join");
	char *snapshot = take_all(&box);
	CHECK(strstr(snapshot, "{\"path\":\"/d1\",\"kind\":\"dir\"") &&
		      strstr(snapshot, "{\"path\":\"/d3000\",\"kind\":\"dir\""),
	      "the tree holds the first and the last directory");
	free(snapshot);
	CHECK(recorder_close(recorder, err, sizeof(err)) == 0, "recorder_close: %s", err);
	live_free(live);
}

/* Removes each node's ,"op":…, ,"process":… and ,"age":… from a snapshot, a
 * directory's ,"instance":… and the lineage, and joins its parts (which
 * break at a size, so elsewhere once shorter). */
static void strip_touches(char *json)
{
	static const char part_end[] = "],\"last\":false}";
	char *at;
	while ((at = strstr(json, part_end))) {
		char *next = strstr(at, "\"nodes\":[");
		if (!next)
			break;
		next += strlen("\"nodes\":[");
		*at = ',';
		memmove(at + 1, next, strlen(next) + 1);
	}
	/* the lineage (the rows, here two plain ones) is the replay's alone */
	char *lineage = strstr(json, "\"lineage\":[");
	if (lineage) {
		char *end = strstr(lineage, "],") + 2;
		memmove(lineage, end, strlen(end) + 1);
	}
	static const char *const keys[] = {",\"op\":", ",\"process\":", ",\"age\":"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		char *at;
		while ((at = strstr(json, keys[k]))) {
			char *end = at + strlen(keys[k]);
			if (*end == '"')
				end = strchr(end + 1, '"') + 1;
			else
				end += strcspn(end, ",}");
			memmove(at, end, strlen(end) + 1);
		}
	}
	/* a directory here is only made (on the way to its files) and looked in: known from the
	 * checkpoint on, as what last touched a node; a file's last change is the log's */
	char *dir;
	while ((dir = strstr(json, "\"kind\":\"dir\",\"instance\":"))) {
		char *at = dir + strlen("\"kind\":\"dir\""), *end = at + strlen(",\"instance\":");
		end += strcspn(end, ",}");
		memmove(at, end, strlen(end) + 1);
	}
}

/*
 * The index: a seek through its checkpoints gives the tree a seek from the
 * first event gives, wherever it lands (on a checkpoint, between, after
 * creates, removals, renames, failed lookups of names that never exist).
 */
static void index_ready_flag(void *ctx)
{
	(void)ctx;
}

static char *snapshot_from_start(const char *trace, int64_t ts_ns)
{
	char err[512];
	struct trace_reader *reader = trace_reader_open(trace, err, sizeof(err));
	CHECK(reader, "trace_reader_open: %s", err);
	struct viz_options options = {0};
	struct viz_scene *scene = viz_scene_new(play_allocator(), &options);
	CHECK(scene, "viz_scene_new");
	struct trace_event e;
	int64_t seq, last_seq = 0, first_ns = 0;
	double t = 0;
	struct web_instance_counts instances = {0}; /* every event's from the first on */
	while (trace_reader_next(reader, &e, &seq, err, sizeof(err)) == 1 && e.ts_ns < ts_ns) {
		CHECK(instance_counts_add(&instances, e.process, 1, e.result < 0) == 0, "count");
		if (last_seq == 0)
			first_ns = e.ts_ns;
		double et = ((double)e.ts_ns - (double)first_ns) / 1e9;
		t = et > t ? et : t;
		struct viz_event ve;
		play_event(&ve, &e, t);
		CHECK(viz_scene_apply(scene, &ve) == 0, "apply");
		last_seq = seq;
	}
	struct web_outbox box = {0};
	CHECK(snapshot_queue(&box, scene, &(struct web_lineage){0}, &instances, last_seq, ts_ns, t) == 0,
	      "snapshot");
	instance_counts_free(&instances);
	viz_scene_free(scene);
	trace_reader_close(reader);
	return take_all(&box);
}

/* An index of TRACE (KEEP: through its cache file), once ready; LOADED: 1 if it must have been
 * loaded from that file, 0 if it must not, -1 either way. */
static struct trace_index *index_ready_now(const char *trace, bool keep, int loaded)
{
	struct trace_index *index = index_start(trace, keep, index_ready_flag, NULL);
	CHECK(index, "index_start");
	for (int waited = 0; index_state(index) && index_state(index)[0] == '\0'; waited += 10) {
		CHECK(waited < 60000, "the index was not built within 60 s");
		sleep_ms(10);
	}
	CHECK(!index_state(index), "the index failed: %s", index_state(index));
	CHECK(loaded < 0 || index_loaded(index) == loaded, "the index was %s its cache file",
	      loaded ? "not loaded from" : "loaded from");
	return index;
}

#define SEEKS 10

/* RECORDER_TEST_SCALE (default 1): fewer cases under valgrind. */
static double test_scale(void)
{
	const char *env = getenv("RECORDER_TEST_SCALE");
	double scale = env ? atof(env) : 1;
	return scale > 0 && scale <= 1 ? scale : 1;
}

/* What seeks through INDEX answer (malloc'd, into ANSWERS); with FROM_START, checked against
 * a seek from the first event. */
static void index_seeks(const char *trace, const struct trace_index *index, int64_t t0, int events,
			int64_t first, int64_t second, char *answers[SEEKS], bool from_start)
{
	char err[512];
	struct replay *replay = replay_open(trace, index, err, sizeof(err));
	CHECK(replay, "replay_open: %s", err);
	static const int64_t at[SEEKS] = {0, 1, 9999, 10000, 10001, 25003, 36000, 44999, 45000, 99999};
	for (size_t i = 0; i < SEEKS; i++) {
		int64_t ts = t0 + at[i] * 1000;
		struct web_command seek = {.cmd = CMD_SEEK, .ts_ns = ts};
		struct web_outbox box = {0};
		CHECK(replay_command(replay, &seek, &box, err, sizeof(err)) == 0, "seek: %s", err);
		char *got = take_all(&box);
		char *end = strstr(got, "{\"type\":\"state\"");
		CHECK(end, "no state after the snapshot");
		*end = '\0';
		CHECK(answers[i] = strdup(got), "strdup");
		if (!from_start) {
			free(got);
			continue;
		}
		/* A seek past the end is answered at the last event's time + 1. */
		char *expected = snapshot_from_start(trace, at[i] < events ? ts : t0 + (events - 1) * 1000LL + 1);
		/* The tree and the counters (also per process instance, which
		 * the checkpoints hold as deltas) are exact; what last touched each
		 * node is known from the checkpoint on (see README), and the
		 * process instance of its last change before it (the log's). */
		if (at[i] == 36000) { /* each half's instance: its events, a quarter of them failed lookups */
			char counts[128];
			snprintf(counts, sizeof(counts), "\"instances\":[[%lld,22500,5625],[%lld,13500,3375]]",
				 (long long)first, (long long)second);
			CHECK(strstr(got, counts), "seek to event 36000: no %s in\n%.300s", counts, got);
		}
		strip_touches(got);
		strip_touches(expected);
		CHECK(strcmp(got, expected) == 0, "seek to event %lld: through the index\n%.300s\n"
		      "from the start\n%.300s", (long long)at[i], got, expected);
		free(got);
		free(expected);
	}
	replay_close(replay);
}

static char *read_whole(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	CHECK(f, "open %s: %s", path, strerror(errno));
	CHECK(fseek(f, 0, SEEK_END) == 0 && (*size = (size_t)ftell(f)) > 0 && fseek(f, 0, SEEK_SET) == 0,
	      "size of %s", path);
	char *bytes = malloc(*size);
	CHECK(bytes && fread(bytes, 1, *size, f) == *size, "read %s", path);
	fclose(f);
	return bytes;
}

static void write_whole(const char *path, const char *bytes, size_t size)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && write(fd, bytes, size) == (ssize_t)size && close(fd) == 0, "write %s", path);
}

/*
 * The index kept in its cache file: created 0600, loaded by the next start,
 * with the same seeks; a damaged one (any byte flipped, truncated) is
 * rebuilt and written again as it was; a changed trace is indexed afresh;
 * where the file beside the trace cannot be written, $XDG_CACHE_HOME/tracefs.
 */
static void test_index_kept(const char *dir, const char *trace, int64_t t0, int events, int64_t first,
			    int64_t second)
{
	char kept[600], err[512];
	snprintf(kept, sizeof(kept), "%s.index", trace);
	/* Seeks through a fresh index, as from the start; the loaded one answers them alike. */
	char *built[SEEKS], *loaded[SEEKS];
	struct trace_index *index = index_ready_now(trace, false, false);
	index_seeks(trace, index, t0, events, first, second, built, true);
	index_free(index);
	CHECK(access(kept, F_OK) != 0, "--no-cache kept the index");
	index_free(index_ready_now(trace, true, false));
	struct stat st;
	CHECK(stat(kept, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0777) == 0600 &&
	      st.st_uid == geteuid(),
	      "the kept index: not a 0600 file of ours");
	index = index_ready_now(trace, true, true);
	index_seeks(trace, index, t0, events, first, second, loaded, false);
	index_free(index);
	for (int i = 0; i < SEEKS; i++) {
		CHECK(strcmp(built[i], loaded[i]) == 0,
		      "seek %d: the loaded index answers\n%.300s\nthe built one\n%.300s", i, loaded[i], built[i]);
		free(built[i]);
		free(loaded[i]);
	}

	size_t size;
	char *good = read_whole(kept, &size);
	/* Bytes flipped in the magic, the checksum, the content; truncations
	 * (web-serve-cache.sh tries more through serve). */
	size_t flips[] = {0, 104, size / 2, size - 1};
	size_t cuts[] = {60, size - 1}, nflips = sizeof(flips) / sizeof(flips[0]);
	for (size_t i = 0; i < nflips + sizeof(cuts) / sizeof(cuts[0]); i++) {
		if (test_scale() < 1 && i % 3)
			continue; /* under valgrind, two cases (each is a build) */
		size_t cut = i < nflips ? size : cuts[i - nflips];
		char *bad = malloc(size);
		CHECK(bad, "malloc");
		memcpy(bad, good, size);
		if (cut == size)
			bad[flips[i]] ^= 0x20;
		write_whole(kept, bad, cut);
		free(bad);
		index_free(index_ready_now(trace, true, false));
		size_t again_size;
		char *again = read_whole(kept, &again_size);
		CHECK(again_size == size && memcmp(again, good, size) == 0, "case %zu: not rebuilt as it was", i);
		free(again);
	}
	/*
	 * Changed with the checksum made right, as someone who can write the
	 * file could: counts that do not add up are refused; any byte changed
	 * loads or is refused, never crashes (the sanitizers watch the seeks).
	 */
	uint32_t path_len; /* the content starts with the trace's absolute path */
	memcpy(&path_len, good + 112, sizeof(path_len));
	char *real = realpath(trace, NULL);
	CHECK(real && path_len == strlen(real) && memcmp(good + 116, real, path_len) == 0,
	      "the kept index names its trace %s", real);
	free(real);
	const size_t span_at = 116 + path_len;
	struct { size_t at; uint8_t value; } refused[] = {
		{span_at + 16, 0xff}, /* the event count */
		{span_at + 24, 0x7f}, /* a timeline bucket */
		{span_at + 24 + TIMELINE_BUCKETS * 8 + 7, 0x7f}, /* the number of phases */
	};
	size_t cases = (size_t)(24 * test_scale()) + 1;
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]) + cases; i++) {
		bool must_refuse = i < sizeof(refused) / sizeof(refused[0]);
		size_t at = must_refuse ? refused[i].at : 112 + (size - 112) * (i - 3) / cases;
		char *bad = malloc(size);
		CHECK(bad, "malloc");
		memcpy(bad, good, size);
		bad[at] = must_refuse ? (char)refused[i].value : (char)(bad[at] ^ 0xff);
		uint64_t checksum = index_cache_checksum(bad + 112, size - 112);
		memcpy(bad + 104, &checksum, sizeof(checksum));
		write_whole(kept, bad, size);
		free(bad);
		index = index_ready_now(trace, true, must_refuse ? 0 : -1);
		struct replay *replay = replay_open(trace, index, err, sizeof(err));
		CHECK(replay, "replay_open: %s", err);
		struct web_outbox box = {0};
		CHECK(replay_welcome(replay, &box) == 0, "welcome");
		for (int64_t seek_at = 0; seek_at <= 50000; seek_at += 12500) {
			struct web_command seek = {.cmd = CMD_SEEK, .ts_ns = t0 + seek_at * 1000};
			CHECK(replay_command(replay, &seek, &box, err, sizeof(err)) == 0, "seek: %s", err);
		}
		outbox_clear(&box);
		replay_close(replay);
		index_free(index);
	}
	/* The way in of the loader's fuzz target: what follows the header, checked as serve checks it. */
	struct trace_index *from_bytes = index_load(good + 112, size - 112, err, sizeof(err));
	CHECK(from_bytes && !index_state(from_bytes) && index_loaded(from_bytes), "index_load: %s", err);
	index_free(from_bytes);
	err[0] = '\0';
	CHECK(!index_load(good + 112, size - 113, err, sizeof(err)) && err[0], "index_load took a cut index");
	write_whole(kept, good, size);
	free(good);
	index_free(index_ready_now(trace, true, true));

	/* The trace changed (its mtime here): built again, then loaded. */
	struct timespec times[2] = {{0, UTIME_OMIT}, {1600000000, 0}};
	CHECK(utimensat(AT_FDCWD, trace, times, 0) == 0, "utimensat: %s", strerror(errno));
	index_free(index_ready_now(trace, true, false));
	index_free(index_ready_now(trace, true, true));

	/* Nothing can be written beside the trace (a directory in the way): the cache directory. */
	char cache[600], command[700];
	snprintf(cache, sizeof(cache), "%s/cache", dir);
	CHECK(unlink(kept) == 0 && mkdir(kept, 0700) == 0, "a directory as %s", kept);
	CHECK(setenv("XDG_CACHE_HOME", cache, 1) == 0, "setenv");
	index_free(index_ready_now(trace, true, false));
	snprintf(command, sizeof(command),
		 "test \"$(find '%s/tracefs' -name '*.index' -perm 600 | wc -l)\" = 1", cache);
	CHECK(system(command) == 0, "no 0600 index in %s/tracefs", cache);
	index_free(index_ready_now(trace, true, true));
	CHECK(unsetenv("XDG_CACHE_HOME") == 0 && rmdir(kept) == 0, "tidy");
}

static void test_index(const char *dir)
{
	char trace[512], err[512], path[64], path2[64];
	snprintf(trace, sizeof(trace), "%s/index.db", dir);
	struct recorder_options options = {.db_path = trace};
	struct recorder *recorder = recorder_open(&options, err, sizeof(err));
	CHECK(recorder, "recorder_open: %s", err);
	const int64_t t0 = 1700000000000000000LL;
	enum { EVENTS = 45000 };
	/* two process instances, one for each half: colour by command after a seek */
	struct recorder_process sh = {.pid = 7, .ppid = -1, .argv = "[\"sh\"]", .start_ns = -1};
	int64_t first = recorder_add_process(recorder, &sh), second = recorder_add_process(recorder, &sh);
	CHECK(first > 0 && second > first, "recorder_add_process");
	for (int i = 0; i < EVENTS; i++) {
		struct trace_event e = {.ts_ns = t0 + (int64_t)i * 1000, .comm = "sh", .bytes = -1,
				      .offset = -1, .path = path, .kind = TRACE_KIND_FILE,
				      .process = i < EVENTS / 2 ? first : second};
		int f = i / 4 % 900, step = i % 4;
		snprintf(path, sizeof(path), "/d%d/f%d", f % 30, f);
		if (i / 3600 % 2 && step == 3) { /* now and then the file goes, or moves */
			e.op = f % 2 ? TRACE_OP_UNLINK : TRACE_OP_RENAME;
			snprintf(path2, sizeof(path2), "/d%d/moved%d", f % 7, i);
			e.path2 = f % 2 ? NULL : path2;
		} else if (step == 0) {
			e.op = TRACE_OP_CREATE;
		} else if (step == 1) {
			snprintf(path, sizeof(path), "/d%d/missing%d", f % 30, i);
			e.op = TRACE_OP_LOOKUP, e.kind = TRACE_KIND_NONE, e.result = -2;
		} else {
			e.op = TRACE_OP_GETATTR;
		}
		recorder_submit(recorder, &e);
	}
	CHECK(recorder_close(recorder, err, sizeof(err)) == 0, "recorder_close: %s", err);

	test_index_kept(dir, trace, t0, EVENTS, first, second);
}

int main(void)
{
	char dir[] = "/tmp/test_web.XXXXXX";
	CHECK(mkdtemp(dir), "mkdtemp");
	test_commands();
	test_files(dir);
	test_live();
	test_feeder(dir);
	test_index(dir);
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CHECK(system(command) == 0, "cleanup");
	printf("test_web: ok\n");
	return 0;
}
