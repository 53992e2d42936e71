/*
 * server.c — the libwebsockets server: one context, one vhost on the
 * listening address, one service thread. Plain HTTP requests get the
 * page's files (files.c); a websocket on /events becomes a client of the
 * live stream (live.c) or of its own replay (replay.c). Requests must name
 * this machine by address or "localhost" (no DNS rebinding), and a
 * websocket must come from the page's own origin.
 */
#include "web/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define PORT_TRIES 100		/* default port busy: try this many after it */
#define TICK_US 20000		/* replay: how often due events are sent (up to 125,000/s) */
#define MAX_OUTBOX 1024		/* a client that sends without reading is cut off */
#define CHUNK_BYTES 16384	/* of a file per HTTP write */

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
	bool timer_armed;
	bool rx_binary;
	size_t rx_len;
	char rx[WEB_MAX_MESSAGE + 1];
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
	char *hello;	   /* live: the hello message */
	struct session *clients;
	char url[128];
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

/* A websocket to /events, from no page or from one this server served. */
static bool websocket_allowed(struct lws *wsi)
{
	char host[256], uri[64], origin[300], expected[300];
	if (!host_allowed(wsi, host, sizeof(host)))
		return false;
	if (lws_hdr_copy(wsi, uri, sizeof(uri), WSI_TOKEN_GET_URI) <= 0 ||
	    strcmp(uri, "/events") != 0)
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

static int client_start(struct web_server *server, struct session *s, struct lws *wsi)
{
	s->wsi = wsi;
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
		char err[512];
		s->replay = replay_open(server->trace, err, sizeof(err));
		if (!s->replay) {
			queue_error(s, err);
			lws_callback_on_writable(wsi);
			return 0;
		}
		char *hello = replay_hello(s->replay);
		int rc = hello ? outbox_push(&s->outbox, hello) : -1;
		free(hello);
		if (rc != 0 || replay_welcome(s->replay, &s->outbox) != 0)
			return -1;
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
	replay_close(s->replay);
	s->replay = NULL;
	s->wsi = NULL;
}

static int client_write(struct web_server *server, struct session *s, struct lws *wsi)
{
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

static int client_tick(struct session *s, struct lws *wsi)
{
	s->timer_armed = false;
	if (!s->replay)
		return 0;
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
	else if (server->live && command.cmd == CMD_SNAPSHOT)
		rc = live_join(server->live, &s->outbox, &s->cursor);
	else if (server->live)
		rc = queue_error(s, "play, pause, seek and speed are for replays (tracefs serve)");
	else if (!s->replay)
		rc = queue_error(s, "this replay could not open the trace");
	else if (replay_command(s->replay, &command, &s->outbox, err, sizeof(err)) != 0)
		rc = queue_error(s, err);
	if (s->replay) {
		int playing = replay_tick(s->replay, &s->outbox, err, sizeof(err));
		if (playing < 0 && rc == 0)
			rc = queue_error(s, err);
		replay_timer(s, wsi, playing > 0);
	}
	lws_callback_on_writable(wsi);
	return rc;
}

static int client_receive(struct web_server *server, struct session *s, struct lws *wsi,
			  const void *in, size_t len)
{
	if (lws_is_first_fragment(wsi)) {
		s->rx_len = 0;
		s->rx_binary = lws_frame_is_binary(wsi);
	}
	if (s->rx_len + len > WEB_MAX_MESSAGE || s->outbox.count >= MAX_OUTBOX) {
		static const char reason[] = "message too large, or too many unanswered";
		lws_close_reason(wsi, LWS_CLOSE_STATUS_MESSAGE_TOO_LARGE, (unsigned char *)reason,
				 sizeof(reason) - 1);
		return -1;
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
	case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
		return websocket_allowed(wsi) ? 0 : 1;
	case LWS_CALLBACK_ESTABLISHED:
		return client_start(server, s, wsi);
	case LWS_CALLBACK_SERVER_WRITEABLE:
		return client_write(server, s, wsi);
	case LWS_CALLBACK_RECEIVE:
		return client_receive(server, s, wsi, in, len);
	case LWS_CALLBACK_TIMER:
		return client_tick(s, wsi);
	case LWS_CALLBACK_CLOSED:
		client_end(server, s);
		return 0;
	case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
		/* The writer sealed a batch: every live client may have more to send. */
		for (struct session *c = server->clients; c; c = c->next)
			lws_callback_on_writable(c->wsi);
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
	snprintf(server->url, sizeof(server->url), v6 ? "http://[%s]:%d/" : "http://%s:%d/",
		 any ? (v6 ? "::1" : "127.0.0.1") : o->address, port);
	return 0;
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
		if (!(server->trace = strdup(o->trace))) {
			snprintf(err, err_size, "out of memory");
			goto fail;
		}
	} else if (!(server->hello = live_hello(o)) || !(server->live = live_new(wake, server))) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	if (listen_on(server, o, err, err_size) != 0)
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
	if (server->context)
		lws_context_destroy(server->context);
	live_free(server->live);
	if (server->root_fd != -1)
		close(server->root_fd);
	free(server->trace);
	free(server->hello);
	free(server);
}
