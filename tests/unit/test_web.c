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

static void feed(const struct recorder_tap *tap, int64_t seq, enum rec_op op, const char *path,
		 enum rec_kind kind)
{
	struct rec_event e = {.ts_ns = 1700000000000000000LL + seq * 1000, .op = op,
			      .kind = kind, .path = path, .comm = "mkdir", .pid = 7,
			      .bytes = -1, .offset = -1};
	tap->event(tap->ctx, &e, seq);
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
	struct live *live = live_new(count_wake, NULL);
	CHECK(live, "live_new");
	const struct recorder_tap *tap = live_tap(live);
	live_attach(live, +1);
	feed(tap, 1, REC_OP_MKDIR, "/0", REC_KIND_DIR);
	feed(tap, 2, REC_OP_MKDIR, "/0/a", REC_KIND_DIR);
	feed(tap, 3, REC_OP_CREATE, "/0/a/f", REC_KIND_FILE);
	feed(tap, 4, REC_OP_GETATTR, "/0/a/f", REC_KIND_FILE);
	feed(tap, 5, REC_OP_UNLINK, "/0/a/f", REC_KIND_FILE);
	tap->drained(tap->ctx);
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
		feed(tap, seq, REC_OP_GETATTR, seq % 2 ? "/0" : "/0/a", REC_KIND_DIR);
		tap->drained(tap->ctx);
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
		feed(tap, 5006 + i, REC_OP_CREATE, path, REC_KIND_FILE);
	}
	tap->drained(tap->ctx);
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
	feed(tap, 9000, REC_OP_MKDIR, "/unwatched", REC_KIND_DIR);
	tap->drained(tap->ctx);
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

int main(void)
{
	char dir[] = "/tmp/test_web.XXXXXX";
	CHECK(mkdtemp(dir), "mkdtemp");
	test_commands();
	test_files(dir);
	test_live();
	char command[128];
	snprintf(command, sizeof(command), "rm -rf '%s'", dir);
	CHECK(system(command) == 0, "cleanup");
	printf("test_web: ok\n");
	return 0;
}
