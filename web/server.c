/*
 * server.c — the libwebsockets server: one context, one vhost on the
 * listening address, one service thread. Plain HTTP requests get the
 * page's files (files.c); a websocket on /events becomes a client of the
 * live stream (live.c) or of its own replay (replay.c). A replay's heavy
 * work (opening it, a seek) runs on worker threads, so that no request
 * waits behind another client's: the service thread only hands a command
 * over and later queues what came of it. Requests must name
 * this machine by address or "localhost" (no DNS rebinding), and a
 * websocket must come from the page's own origin and carry the server's
 * secret token (?token=…, from the printed URL), so that another user of
 * the machine, who can reach 127.0.0.1 too, cannot watch.
 */
#include "web/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#define PORT_TRIES 100		/* default port busy: try this many after it */
#define TICK_US 20000		/* replay: how often due events are sent (up to 125,000/s) */
#define PROGRESS_US 100000	/* replay: how often a client waiting for the index hears how far it is */
/* Memory a client may take: messages queued for it (snapshots, replies)
 * beyond this, and it is cut off when it sends more; the same for the sum
 * over all clients, which also turns away new ones (503), as do MAX_CLIENTS. */
#define CLIENT_QUEUE_BYTES (8u << 20)
#define TOTAL_QUEUE_BYTES (128u << 20)
#define MAX_CLIENTS 64
#define SEND_AWAY_SECONDS 10	/* for a client sent away to take its close frame */
#define WORKERS 2		/* threads for replays' commands: one per core here */
#define QUEUED_COMMANDS 16	/* a replay's commands waiting for the one in hand */
#define CHUNK_BYTES 16384	/* of a file per HTTP write */
#define TOKEN_BYTES 16		/* random bytes of the token (32 hex digits) */

struct session {
	/* HTTP: the file being sent */
	char *body;
	size_t body_len, body_sent;
	/* websocket client */
	struct lws *wsi;
	struct session *next, *prev; /* the server's clients */
	struct web_outbox outbox;
	struct live_cursor cursor;
	bool attached; /* counted as a client of the live stream */
	struct replay *replay;
	uint64_t id;	     /* to find it again when its job is done */
	bool busy;	     /* a job has its replay: only the job may touch it */
	bool waiting;	     /* for the trace's index, before its welcome */
	struct web_command queued[QUEUED_COMMANDS];
	size_t queued_count;
	bool timer_armed;
	bool rx_binary;
	size_t rx_len;
	char rx[WEB_MAX_MESSAGE + 1];
	bool closing; /* sent away: see send_away() */
};

struct web_server {
	struct lws_context *context;
	struct lws_vhost *vhost;
	pthread_t thread;
	bool thread_running;
	atomic_bool stopping;
	int root_fd;
	struct live *live; /* live mode */
	char *trace;	   /* replay mode */
	bool keep_index;   /* its index loaded from, or kept in, a cache file */
	struct trace_index *index;
	bool index_seen; /* the service thread has acted on the index being ready */
	uint64_t next_id;
	/* Replay jobs: the service thread hands them to the workers (todo) and
	 * takes them back (done), under jobs_lock. */
	pthread_t workers[WORKERS];
	int worker_count;
	pthread_mutex_t jobs_lock;
	pthread_cond_t jobs_cond;
	bool jobs_ready; /* the lock and condition exist */
	bool jobs_stop;
	struct job *todo, *todo_tail, *done;
	char *hello;	   /* live: the hello message */
	struct session *clients;
	int client_count;
	size_t queued_bytes; /* over every client's outbox */
	char token[2 * TOKEN_BYTES + 1]; /* "": none asked for */
	char url[192];
};

/* A replay's command (or its welcome) on a worker thread. */
struct job {
	struct job *next;
	uint64_t client;
	bool welcome;		/* open the replay, queue hello, timeline, snapshot, state */
	struct web_command command;
	struct replay *replay;	/* the client's, lent to the job; the welcome's own */
	struct web_outbox out;	/* what to send, moved to the client when done */
	int rc;
	char err[512];
};

static char lws_last_error[256];

static void keep_lws_error(int level, const char *line)
{
	(void)level;
	snprintf(lws_last_error, sizeof(lws_last_error), "%s", line);
	size_t n = strlen(lws_last_error);
	while (n > 0 && (lws_last_error[n - 1] == '\n' || lws_last_error[n - 1] == '\r'))
		lws_last_error[--n] = '\0';
}

/* ---- request checks ---- */

/* The Host header names this machine by address, or is "localhost". */
static bool host_allowed(struct lws *wsi, char *host, size_t host_size)
{
	if (lws_hdr_copy(wsi, host, (int)host_size, WSI_TOKEN_HOST) <= 0)
		return false;
	char name[128];
	const char *start = host, *end;
	if (host[0] == '[') {
		start = host + 1;
		end = strchr(start, ']');
	} else {
		end = strchr(host, ':');
		if (!end)
			end = host + strlen(host);
	}
	if (!end || (size_t)(end - start) >= sizeof(name))
		return false;
	memcpy(name, start, (size_t)(end - start));
	name[end - start] = '\0';
	unsigned char addr[16];
	return strcmp(name, "localhost") == 0 || inet_pton(AF_INET, name, addr) == 1 ||
	       inet_pton(AF_INET6, name, addr) == 1;
}

/* Compares in a time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t len = strlen(b);
	if (strlen(a) != len)
		return false;
	unsigned char diff = 0;
	for (size_t i = 0; i < len; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return diff == 0;
}

/* The request carries the server's token as ?token=…. */
static bool token_allowed(const struct web_server *server, struct lws *wsi)
{
	if (!server->token[0])
		return true;
	char arg[128];
	const char *value = lws_get_urlarg_by_name(wsi, "token=", arg, sizeof(arg));
	return value && same_secret(value, server->token);
}

/* A websocket to /events with the token, from no page or from one this server served. */
static bool websocket_allowed(const struct web_server *server, struct lws *wsi)
{
	char host[256], uri[64], origin[300], expected[300];
	if (!host_allowed(wsi, host, sizeof(host)))
		return false;
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, "/events") != 0 || !token_allowed(server, wsi))
		return false;
	if (lws_hdr_total_length(wsi, WSI_TOKEN_ORIGIN) <= 0)
		return true; /* not a browser */
	if (lws_hdr_copy(wsi, origin, sizeof(origin), WSI_TOKEN_ORIGIN) <= 0)
		return false;
	snprintf(expected, sizeof(expected), "http://%s", host);
	return strcmp(origin, expected) == 0;
}

/* ---- HTTP: the page's files ---- */

static int http_status(struct lws *wsi, unsigned status)
{
	if (lws_return_http_status(wsi, status, NULL))
		return -1;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int http_request(struct web_server *server, struct session *s, struct lws *wsi,
			const char *uri)
{
	char host[256];
	if (!host_allowed(wsi, host, sizeof(host)))
		return http_status(wsi, HTTP_STATUS_FORBIDDEN);
	if (lws_hdr_total_length(wsi, WSI_TOKEN_GET_URI) <= 0)
		return http_status(wsi, HTTP_STATUS_METHOD_NOT_ALLOWED);
	char *body = NULL;
	size_t len = 0;
	const char *mime = NULL;
	int status = files_load(server->root_fd, uri, &body, &len, &mime);
	if (status != 200)
		return http_status(wsi, (unsigned)status);
	unsigned char headers[LWS_PRE + 1024];
	unsigned char *start = headers + LWS_PRE, *p = start, *end = headers + sizeof(headers) - 1;
	if (lws_add_http_common_headers(wsi, HTTP_STATUS_OK, mime, (lws_filepos_t)len, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"cache-control:",
					(const unsigned char *)"no-cache", 8, &p, end) ||
	    lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
					(const unsigned char *)"nosniff", 7, &p, end) ||
	    lws_finalize_write_http_header(wsi, start, &p, end)) {
		free(body);
		return -1;
	}
	free(s->body);
	s->body = body;
	s->body_len = len;
	s->body_sent = 0;
	lws_callback_on_writable(wsi);
	return 0;
}

static int http_write(struct session *s, struct lws *wsi)
{
	if (!s->body)
		return 0;
	unsigned char chunk[LWS_PRE + CHUNK_BYTES];
	size_t n = s->body_len - s->body_sent;
	if (n > CHUNK_BYTES)
		n = CHUNK_BYTES;
	bool last = s->body_sent + n == s->body_len;
	memcpy(chunk + LWS_PRE, s->body + s->body_sent, n);
	if (lws_write(wsi, chunk + LWS_PRE, n, last ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) !=
	    (int)n)
		return -1;
	s->body_sent += n;
	if (!last) {
		lws_callback_on_writable(wsi);
		return 0;
	}
	free(s->body);
	s->body = NULL;
	return lws_http_transaction_completed(wsi) ? -1 : 0;
}

/* ---- websocket clients ---- */

static int queue_error(struct session *s, const char *message)
{
	return outbox_error(&s->outbox, message);
}

/* To a client waiting for the index: how far it is, and again in PROGRESS_US. */
static int send_progress(struct web_server *server, struct session *s, struct lws *wsi)
{
	int64_t read, total;
	index_progress(server->index, &read, &total);
	char json[128];
	snprintf(json, sizeof(json), "{\"type\":\"progress\",\"task\":\"index\",\"done\":%lld,\"total\":%lld}",
		 (long long)read, (long long)total);
	if (outbox_push(&s->outbox, json) != 0)
		return -1;
	lws_set_timer_usecs(wsi, PROGRESS_US);
	s->timer_armed = true;
	lws_callback_on_writable(wsi);
	return 0;
}

static char *replay_hello(struct replay *replay)
{
	static const char *const keys[] = {"source", "mountpoint", "host", "start_ns"};
	char *values[4];
	for (int i = 0; i < 4; i++)
		values[i] = replay_meta(replay, keys[i]);
	struct web_text text = {0};
	text_adds(&text, "{\"type\":\"hello\",\"version\":1,\"mode\":\"replay\"");
	for (int i = 0; i < 3; i++) {
		text_printf(&text, ",\"%s\":", keys[i]);
		text_json_string(&text, values[i]);
	}
	char *end;
	long long start_ns = values[3] ? strtoll(values[3], &end, 10) : 0;
	text_printf(&text, ",\"start_ns\":%lld}", values[3] && !*end ? start_ns : 0LL);
	for (int i = 0; i < 4; i++)
		free(values[i]);
	char *hello = text.failed ? NULL : strdup((char *)text.data + LWS_PRE);
	text_free(&text);
	return hello;
}

/* ---- replay jobs ---- */

static void post_job(struct web_server *server, struct session *s, struct job *job)
{
	job->client = s->id;
	s->busy = true;
	pthread_mutex_lock(&server->jobs_lock);
	if (server->todo_tail)
		server->todo_tail->next = job;
	else
		server->todo = job;
	server->todo_tail = job;
	pthread_cond_signal(&server->jobs_cond);
	pthread_mutex_unlock(&server->jobs_lock);
}

/* The index is ready (or failed): the client's welcome, or why there is none. */
static void start_welcome(struct web_server *server, struct session *s)
{
	s->waiting = false;
	if (s->timer_armed) { /* the progress's: the replay arms its own */
		lws_set_timer_usecs(s->wsi, LWS_SET_TIMER_USEC_CANCEL);
		s->timer_armed = false;
	}
	const char *failed = index_state(server->index);
	struct job *job = calloc(1, sizeof(*job));
	if (failed || !job) {
		free(job);
		queue_error(s, failed ? failed : "out of memory");
		lws_callback_on_writable(s->wsi);
		return;
	}
	job->welcome = true;
	post_job(server, s, job);
}

static void start_command(struct web_server *server, struct session *s,
			  const struct web_command *command)
{
	struct job *job = calloc(1, sizeof(*job));
	if (!job) {
		queue_error(s, "out of memory");
		return;
	}
	job->command = *command;
	job->replay = s->replay;
	post_job(server, s, job);
}

static void run_job(struct web_server *server, struct job *job)
{
	if (!job->welcome) {
		job->rc = replay_command(job->replay, &job->command, &job->out, job->err,
					 sizeof(job->err));
		return;
	}
	job->replay = replay_open(server->trace, server->index, job->err, sizeof(job->err));
	if (!job->replay) {
		job->rc = -1;
		return;
	}
	char *hello = replay_hello(job->replay);
	job->rc = hello && outbox_push(&job->out, hello) == 0 &&
			  replay_welcome(job->replay, &job->out) == 0
		  ? 0
		  : -1;
	free(hello);
	if (job->rc != 0)
		snprintf(job->err, sizeof(job->err), "out of memory");
}

static void *worker(void *arg)
{
	struct web_server *server = arg;
	pthread_mutex_lock(&server->jobs_lock);
	for (;;) {
		while (!server->jobs_stop && !server->todo)
			pthread_cond_wait(&server->jobs_cond, &server->jobs_lock);
		if (server->jobs_stop)
			break;
		struct job *job = server->todo;
		server->todo = job->next;
		if (!server->todo)
			server->todo_tail = NULL;
		pthread_mutex_unlock(&server->jobs_lock);
		run_job(server, job);
		pthread_mutex_lock(&server->jobs_lock);
		job->next = server->done;
		server->done = job;
		pthread_mutex_unlock(&server->jobs_lock);
		lws_cancel_service(server->context);
		pthread_mutex_lock(&server->jobs_lock);
	}
	pthread_mutex_unlock(&server->jobs_lock);
	return NULL;
}

static void free_job(struct job *job)
{
	replay_close(job->replay);
	outbox_clear(&job->out);
	free(job);
}

static struct session *find_client(struct web_server *server, uint64_t id)
{
	for (struct session *c = server->clients; c; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

static void replay_timer(struct session *s, struct lws *wsi, bool playing);

/* Plays on: the events due now, and the timer for the next. */
static void replay_continue(struct session *s)
{
	char err[512];
	int playing = replay_tick(s->replay, &s->outbox, err, sizeof(err));
	if (playing < 0)
		queue_error(s, err);
	replay_timer(s, s->wsi, playing > 0);
}

/* On the service thread: what the workers finished goes to its clients. */
static void finish_jobs(struct web_server *server)
{
	pthread_mutex_lock(&server->jobs_lock);
	struct job *done = server->done;
	server->done = NULL;
	pthread_mutex_unlock(&server->jobs_lock);
	while (done) {
		struct job *job = done;
		done = job->next;
		struct session *s = find_client(server, job->client);
		if (!s) { /* it went away meanwhile */
			free_job(job);
			continue;
		}
		s->busy = false;
		s->replay = job->replay;
		job->replay = NULL;
		if (s->closing) { /* sent away: nothing more is sent, nor its queued commands run */
			free_job(job);
			continue;
		}
		outbox_move(&s->outbox, &job->out);
		if (job->rc != 0)
			queue_error(s, job->err);
		free_job(job);
		if (!s->replay)
			s->queued_count = 0; /* the welcome failed: there is nothing to command */
		if (s->queued_count > 0) {
			struct web_command next = s->queued[0];
			memmove(s->queued, s->queued + 1, --s->queued_count * sizeof(s->queued[0]));
			start_command(server, s, &next);
		} else if (s->replay) {
			replay_continue(s);
		}
		lws_callback_on_writable(s->wsi);
	}
}

static int client_start(struct web_server *server, struct session *s, struct lws *wsi)
{
	s->wsi = wsi;
	s->outbox.total = &server->queued_bytes;
	server->client_count++;
	s->next = server->clients;
	if (server->clients)
		server->clients->prev = s;
	server->clients = s;
	if (server->live) {
		live_attach(server->live, +1);
		s->attached = true;
		if (outbox_push(&s->outbox, server->hello) != 0 ||
		    live_join(server->live, &s->outbox, &s->cursor) != 0)
			return -1;
	} else {
		s->id = ++server->next_id;
		s->waiting = true;
		const char *index = index_state(server->index);
		if (!index || index[0])
			start_welcome(server, s);
		else
			return send_progress(server, s, wsi);
		return 0;
	}
	lws_callback_on_writable(wsi);
	return 0;
}

static void client_end(struct web_server *server, struct session *s)
{
	if (!s->wsi)
		return;
	if (s->prev)
		s->prev->next = s->next;
	else if (server->clients == s)
		server->clients = s->next;
	if (s->next)
		s->next->prev = s->prev;
	if (s->attached)
		live_attach(server->live, -1);
	s->attached = false;
	outbox_clear(&s->outbox);
	if (!s->busy) /* else its job has it, and closes it when done */
		replay_close(s->replay);
	s->replay = NULL;
	s->wsi = NULL;
	server->client_count--;
	/* Give what it held back to the system, not just to malloc's free lists. */
	malloc_trim(0);
}

/*
 * Sends a client away (its message is too big, it does not read what it
 * is sent): once what is being written has gone, a close frame with
 * STATUS, after which lws waits a few seconds for the client's answer;
 * what it still sends is read and dropped meanwhile. Closing the socket
 * at once, with the rest of its message unread, would make the kernel
 * reset the connection, and a reset discards what the client had not read
 * yet: the close frame too, and the status that says why. A client that
 * reads nothing (the close frame waits behind what it has not read) is
 * cut off after SEND_AWAY_SECONDS: lws asks to write only once the socket
 * takes more, and without a deadline it would keep its slot for good.
 */
static void send_away(struct session *s, struct lws *wsi, enum lws_close_status status,
		      const char *reason)
{
	if (s->closing)
		return;
	s->closing = true;
	outbox_clear(&s->outbox);
	lws_close_reason(wsi, status, (unsigned char *)reason, strlen(reason));
	lws_set_timeout(wsi, PENDING_TIMEOUT_CLOSE_SEND, SEND_AWAY_SECONDS);
	lws_callback_on_writable(wsi);
}

static int client_write(struct web_server *server, struct session *s, struct lws *wsi)
{
	if (s->closing)
		return -1; /* lws sends send_away()'s close frame */
	struct web_msg *msg = outbox_pop(&s->outbox);
	if (msg) {
		int n = lws_write(wsi, msg->data + LWS_PRE, msg->len, LWS_WRITE_TEXT);
		bool complete = n >= (int)msg->len;
		free(msg);
		if (!complete)
			return -1;
		if (s->outbox.count > 0 || server->live)
			lws_callback_on_writable(wsi);
		return 0;
	}
	if (!server->live)
		return 0;
	int64_t missed = 0;
	bool more = false;
	switch (live_send_next(server->live, wsi, &s->cursor, &missed, &more)) {
	case LIVE_IDLE:
		return 0;
	case LIVE_SENT:
		if (more)
			lws_callback_on_writable(wsi);
		return 0;
	case LIVE_MISSED: {
		char json[96];
		snprintf(json, sizeof(json), "{\"type\":\"missed\",\"count\":%lld}", (long long)missed);
		if (outbox_push(&s->outbox, json) != 0 ||
		    live_join(server->live, &s->outbox, &s->cursor) != 0)
			return -1;
		lws_callback_on_writable(wsi);
		return 0;
	}
	case LIVE_ERROR:
		break;
	}
	return -1;
}

static void replay_timer(struct session *s, struct lws *wsi, bool playing)
{
	if (playing && !s->timer_armed)
		lws_set_timer_usecs(wsi, TICK_US);
	else if (!playing && s->timer_armed)
		lws_set_timer_usecs(wsi, LWS_SET_TIMER_USEC_CANCEL);
	s->timer_armed = playing;
}

static int client_tick(struct web_server *server, struct session *s, struct lws *wsi)
{
	s->timer_armed = false;
	if (s->waiting && !s->closing)
		return send_progress(server, s, wsi);
	if (!s->replay || s->busy || s->closing)
		return 0; /* the job's end plays on */
	char err[512];
	int playing = 1;
	/* Only when what went before is sent: a slow client slows its own replay. */
	if (s->outbox.count == 0) {
		playing = replay_tick(s->replay, &s->outbox, err, sizeof(err));
		if (playing < 0 && queue_error(s, err) != 0)
			return -1;
	}
	replay_timer(s, wsi, playing > 0);
	if (s->outbox.count > 0)
		lws_callback_on_writable(wsi);
	return 0;
}

static int handle_message(struct web_server *server, struct session *s, struct lws *wsi)
{
	struct web_command command;
	char err[256];
	int rc = 0;
	if (s->rx_binary)
		rc = queue_error(s, "binary messages are not accepted");
	else if (command_parse(s->rx, s->rx_len, &command, err, sizeof(err)) != 0)
		rc = queue_error(s, err);
	else if (command.cmd == CMD_PING)
		rc = outbox_push(&s->outbox, "{\"type\":\"pong\"}");
	else if (command.cmd != CMD_PAUSE && command.cmd != CMD_SPEED &&
		 server->queued_bytes > TOTAL_QUEUE_BYTES)
		rc = queue_error(s, "the server has too much queued for its clients: try again later");
	else if (server->live && command.cmd == CMD_SNAPSHOT)
		rc = live_join(server->live, &s->outbox, &s->cursor);
	else if (server->live)
		rc = queue_error(s, "play, pause, seek and speed are for replays (tracefs serve)");
	else if (s->busy || s->waiting) {
		if (s->queued_count == QUEUED_COMMANDS)
			rc = queue_error(s, "too many commands at once: wait for the answers");
		else
			s->queued[s->queued_count++] = command;
	} else if (!s->replay)
		rc = queue_error(s, "this replay could not open the trace");
	else
		start_command(server, s, &command);
	lws_callback_on_writable(wsi);
	return rc;
}

static int client_receive(struct web_server *server, struct session *s, struct lws *wsi,
			  const void *in, size_t len)
{
	if (s->closing)
		return 0; /* read and dropped, so that the close is not a reset */
	if (lws_is_first_fragment(wsi)) {
		s->rx_len = 0;
		s->rx_binary = lws_frame_is_binary(wsi);
	}
	if (s->rx_len + len > WEB_MAX_MESSAGE) {
		send_away(s, wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, "message too large");
		return 0;
	}
	/* Over the total, a client is cut off only if it holds more than its
	 * share: one that reads what it gets (a fresh page's snapshot in
	 * flight) is not punished for the ones that do not. */
	if (s->outbox.bytes > CLIENT_QUEUE_BYTES ||
	    (s->outbox.bytes > TOTAL_QUEUE_BYTES / MAX_CLIENTS &&
	     server->queued_bytes > TOTAL_QUEUE_BYTES)) {
		send_away(s, wsi, LWS_CLOSE_STATUS_POLICY_VIOLATION,
			  "too much queued: read what was sent first");
		return 0;
	}
	memcpy(s->rx + s->rx_len, in, len);
	s->rx_len += len;
	if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi) > 0)
		return 0;
	s->rx[s->rx_len] = '\0';
	return handle_message(server, s, wsi) == 0 ? 0 : -1;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
		    size_t len)
{
	struct web_server *server = lws_context_user(lws_get_context(wsi));
	struct session *s = user;
	switch (reason) {
	case LWS_CALLBACK_HTTP:
		return http_request(server, s, wsi, in);
	case LWS_CALLBACK_HTTP_WRITEABLE:
		return http_write(s, wsi);
	case LWS_CALLBACK_CLOSED_HTTP:
		if (s) {
			free(s->body);
			s->body = NULL;
		}
		return 0;
	case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
		/* Only a websocket that passes the checks; no h2c, which nothing here needs.
		 * Refused: say so (403) rather than just hang up. */
		if (!in || strcmp(in, "websocket") != 0 || !websocket_allowed(server, wsi))
			return lws_return_http_status(wsi, HTTP_STATUS_FORBIDDEN, NULL) ? -1 : 1;
		if (server->client_count >= MAX_CLIENTS || server->queued_bytes > TOTAL_QUEUE_BYTES)
			return lws_return_http_status(wsi, HTTP_STATUS_SERVICE_UNAVAILABLE,
						      "too many clients, or too much queued for them")
				       ? -1
				       : 1;
		return 0;
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return websocket_allowed(server, wsi) ? 0 : 1; /* should lws upgrade without asking */
	case LWS_CALLBACK_ESTABLISHED:
		return client_start(server, s, wsi);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return client_write(server, s, wsi);
	case LWS_CALLBACK_RECEIVE:
		return client_receive(server, s, wsi, in, len);
	case LWS_CALLBACK_TIMER:
		return client_tick(server, s, wsi);
	case LWS_CALLBACK_CLOSED:
		client_end(server, s);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		if (server->live) {
			/* The feeder sealed a batch: every live client may have more to send. */
			for (struct session *c = server->clients; c; c = c->next)
				lws_callback_on_writable(c->wsi);
			return 0;
		}
		const char *index = index_state(server->index);
		if (!server->index_seen && (!index || index[0])) { /* ready, or failed */
			server->index_seen = true;
			for (struct session *c = server->clients; c; c = c->next)
				if (c->waiting && !c->closing)
					start_welcome(server, c);
		}
		finish_jobs(server);
		return 0;
	default:
		return lws_callback_http_dummy(wsi, reason, user, in, len);
	}
}

static const struct lws_protocols protocols[] = {
	/* First: a websocket without a sub-protocol gets this one. */
	{"tracefs-events", callback, sizeof(struct session), WEB_MAX_MESSAGE, 0, NULL, 0},
	{NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- the server's life ---- */

static void *service(void *arg)
{
	struct web_server *server = arg;
	while (!atomic_load(&server->stopping))
		if (lws_service(server->context, 0) < 0)
			break;
	return NULL;
}

static void wake(void *ctx)
{
	struct web_server *server = ctx;
	lws_cancel_service(server->context);
}

int web_parse_listen(const char *text, struct web_options *o, char *err, size_t err_size)
{
	const char *colon = strrchr(text, ':');
	if (!colon) {
		snprintf(err, err_size, "--ws wants ADDR:PORT (e.g. 127.0.0.1:7681), not \"%s\"", text);
		return -1;
	}
	const char *addr = text, *addr_end = colon;
	if (text[0] == '[') {
		addr = text + 1;
		addr_end = strchr(text, ']');
		if (!addr_end || addr_end + 1 != colon) {
			snprintf(err, err_size, "--ws: bad IPv6 address in \"%s\"", text);
			return -1;
		}
	}
	size_t addr_len = (size_t)(addr_end - addr);
	if (addr_len >= sizeof(o->address)) {
		snprintf(err, err_size, "--ws: address too long in \"%s\"", text);
		return -1;
	}
	char address[sizeof(o->address)];
	memcpy(address, addr, addr_len);
	address[addr_len] = '\0';
	if (addr_len == 0)
		snprintf(address, sizeof(address), "%s", WEB_DEFAULT_ADDRESS);
	unsigned char buf[16];
	if (inet_pton(AF_INET, address, buf) != 1 && inet_pton(AF_INET6, address, buf) != 1) {
		snprintf(err, err_size, "--ws: \"%s\" is not a numeric IPv4 or IPv6 address", address);
		return -1;
	}
	char *end;
	errno = 0;
	long port = strtol(colon + 1, &end, 10);
	if (!colon[1] || *end || errno || port < 0 || port > 65535) {
		snprintf(err, err_size, "--ws: \"%s\" is not a port number (0-65535)", colon + 1);
		return -1;
	}
	snprintf(o->address, sizeof(o->address), "%s", address);
	o->port = (int)port;
	o->port_given = true;
	return 0;
}

/* "web" next to this program: $(BUILD)/web beside $(BUILD)/tracefs. */
static int default_root(char *root, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *slash = strrchr(exe, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	return snprintf(root, size, "%s/web", exe) < (int)size ? 0 : -1;
}

static char *live_hello(const struct web_options *o)
{
	char host[256] = "";
	if (gethostname(host, sizeof(host) - 1) != 0)
		host[0] = '\0';
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	struct web_text text = {0};
	text_adds(&text, "{\"type\":\"hello\",\"version\":1,\"mode\":\"live\",\"source\":");
	text_json_string(&text, o->source);
	text_adds(&text, ",\"mountpoint\":");
	text_json_string(&text, o->mountpoint);
	text_adds(&text, ",\"host\":");
	text_json_string(&text, host);
	text_printf(&text, ",\"start_ns\":%lld}",
		    (long long)now.tv_sec * 1000000000LL + now.tv_nsec);
	char *hello = text.failed ? NULL : strdup((char *)text.data + LWS_PRE);
	text_free(&text);
	return hello;
}

/* Why lws could not listen: bind() the address ourselves to get the errno. */
static const char *bind_error(const char *address, int port)
{
	struct sockaddr_storage sa = {0};
	socklen_t len;
	struct sockaddr_in *v4 = (struct sockaddr_in *)&sa;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&sa;
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		len = sizeof(*v4);
	} else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		len = sizeof(*v6);
	} else {
		return lws_last_error;
	}
	int fd = socket(sa.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return strerror(errno);
	int on = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	const char *why = bind(fd, (struct sockaddr *)&sa, len) == 0 ? lws_last_error : strerror(errno);
	close(fd);
	return why;
}

/* TOKEN_BYTES from the kernel's random source, in hex. 0, or -1 with errno. */
static int make_token(char *token, size_t size)
{
	unsigned char bytes[TOKEN_BYTES];
	if (size < 2 * TOKEN_BYTES + 1 || getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		return -1;
	for (size_t i = 0; i < TOKEN_BYTES; i++)
		snprintf(token + 2 * i, 3, "%02x", bytes[i]);
	return 0;
}

static int listen_on(struct web_server *server, const struct web_options *o, char *err,
		     size_t err_size)
{
	struct lws_context_creation_info info;
	memset(&info, 0, sizeof(info));
	bool v6 = strchr(o->address, ':') != NULL;
	bool any = strcmp(o->address, "0.0.0.0") == 0 || strcmp(o->address, "::") == 0;
	info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8 |
		       (v6 ? 0 : LWS_SERVER_OPTION_DISABLE_IPV6);
	info.protocols = protocols;
	info.user = server;
	info.iface = any ? NULL : o->address;
	info.vhost_name = "tracefs";
	info.timeout_secs = 30;
	server->context = lws_create_context(&info);
	if (!server->context) {
		snprintf(err, err_size, "cannot start the web server: %s", lws_last_error);
		return -1;
	}
	int first = o->port_given ? o->port : WEB_DEFAULT_PORT;
	int tries = o->port_given ? 1 : PORT_TRIES;
	for (int i = 0; i < tries && !server->vhost && first + i <= 65535; i++) {
		info.port = first + i;
		server->vhost = lws_create_vhost(server->context, &info);
	}
	if (!server->vhost) {
		if (o->port_given)
			snprintf(err, err_size,
				 "cannot listen on %s port %d (%s): choose another with --ws ADDR:PORT",
				 o->address, o->port, bind_error(o->address, o->port));
		else
			snprintf(err, err_size, "no free port in %d-%d on %s: use --ws ADDR:PORT", first,
				 first + tries - 1, o->address);
		return -1;
	}
	int port = lws_get_vhost_listen_port(server->vhost);
	snprintf(server->url, sizeof(server->url), v6 ? "http://[%s]:%d/%s%s" : "http://%s:%d/%s%s",
		 any ? (v6 ? "::1" : "127.0.0.1") : o->address, port,
		 server->token[0] ? "?token=" : "", server->token);
	return 0;
}

static void index_ready(void *ctx)
{
	struct web_server *server = ctx;
	lws_cancel_service(server->context);
}

/* Replay mode: the workers, and the index of the trace being built. */
static int start_replays(struct web_server *server, char *err, size_t err_size)
{
	if (pthread_mutex_init(&server->jobs_lock, NULL) != 0)
		goto no_memory;
	if (pthread_cond_init(&server->jobs_cond, NULL) != 0) {
		pthread_mutex_destroy(&server->jobs_lock);
		goto no_memory;
	}
	server->jobs_ready = true;
	for (; server->worker_count < WORKERS; server->worker_count++) {
		int rc = pthread_create(&server->workers[server->worker_count], NULL, worker, server);
		if (rc != 0) {
			snprintf(err, err_size, "cannot start the web server's workers: %s", strerror(rc));
			return -1;
		}
	}
	if (!(server->index = index_start(server->trace, server->keep_index, index_ready, server)))
		goto no_memory;
	return 0;
no_memory:
	snprintf(err, err_size, "out of memory");
	return -1;
}

/* Stops the workers and the index, and drops the jobs they had. */
static void stop_replays(struct web_server *server)
{
	index_free(server->index);
	server->index = NULL;
	if (!server->jobs_ready)
		return;
	pthread_mutex_lock(&server->jobs_lock);
	server->jobs_stop = true;
	pthread_cond_broadcast(&server->jobs_cond);
	pthread_mutex_unlock(&server->jobs_lock);
	for (int i = 0; i < server->worker_count; i++)
		pthread_join(server->workers[i], NULL);
	struct job *lists[] = {server->todo, server->done};
	for (int i = 0; i < 2; i++) {
		while (lists[i]) {
			struct job *job = lists[i];
			lists[i] = job->next;
			free_job(job);
		}
	}
	server->todo = server->todo_tail = server->done = NULL;
	pthread_cond_destroy(&server->jobs_cond);
	pthread_mutex_destroy(&server->jobs_lock);
	server->jobs_ready = false;
}

struct web_server *web_start(const struct web_options *o, char *err, size_t err_size)
{
	struct web_server *server = calloc(1, sizeof(*server));
	if (!server) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	server->root_fd = -1;
	lws_set_log_level(LLL_ERR | LLL_WARN, keep_lws_error);
	if (!o->no_token && make_token(server->token, sizeof(server->token)) != 0) {
		snprintf(err, err_size, "cannot make the live view's token: %s", strerror(errno));
		goto fail;
	}
	char root[PATH_MAX];
	if (!o->root && default_root(root, sizeof(root)) != 0) {
		snprintf(err, err_size, "cannot find the web root next to the program");
		goto fail;
	}
	/* Without its files the stream still works: say so, and go on. */
	server->root_fd = files_open_root(o->root ? o->root : root, err, err_size);
	if (server->root_fd == -1)
		fprintf(stderr, "tracefs: warning: %s; the page will not be served\n", err);
	if (o->trace) {
		server->keep_index = !o->no_index_cache;
		if (!(server->trace = strdup(o->trace))) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
	} else if (!(server->hello = live_hello(o)) || !(server->live = live_new(o->live_trace, wake, server))) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (listen_on(server, o, err, err_size) != 0 || (server->trace && start_replays(server, err, err_size) != 0))
		goto fail;
	int rc = pthread_create(&server->thread, NULL, service, server);
	if (rc != 0) {
		snprintf(err, err_size, "cannot start the web server's thread: %s", strerror(rc));
		goto fail;
	}
	server->thread_running = true;
	return server;
fail:
	web_stop(server);
	return NULL;
}

const char *web_url(const struct web_server *server)
{
	return server->url;
}

const struct recorder_tap *web_tap(struct web_server *server)
{
	return server->live ? live_tap(server->live) : NULL;
}

void web_stop(struct web_server *server)
{
	if (!server)
		return;
	if (server->thread_running) {
		atomic_store(&server->stopping, true);
		lws_cancel_service(server->context);
		pthread_join(server->thread, NULL);
	}
	/* Before the context: the index and the workers wake its service. */
	stop_replays(server);
	if (server->context)
		lws_context_destroy(server->context);
	live_free(server->live);
	if (server->root_fd != -1)
		close(server->root_fd);
	free(server->trace);
	free(server->hello);
	free(server);
}
