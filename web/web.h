/*
 * web.h — the whole interface of web/: the HTTP and websocket server that
 * serves the page (static files from a web root) and the event stream at
 * /events (the README's "The live stream"), either live from a recording daemon or
 * replayed from a trace file.
 *
 * One service thread runs libwebsockets; live, a feeder thread reads the
 * events the recorder has committed (web_tap() tells it when). Nothing here
 * ever makes the file system wait: a client that falls behind is told how
 * many events it missed and gets a fresh snapshot.
 */
#ifndef TRACEFS_WEB_H
#define TRACEFS_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "recorder/recorder.h"

#define WEB_DEFAULT_ADDRESS "127.0.0.1"
#define WEB_DEFAULT_PORT 7681

struct web_options {
	char address[64];   /* numeric IPv4 or IPv6 address to listen on */
	int port;	    /* with port_given; 0 there: any free port */
	bool port_given;    /* false: the default port, or the next free one after it */
	const char *root;   /* directory of the page's files; NULL: "web" next to the program */
	const char *trace;  /* replay this trace file; NULL: live (web_tap feeds it) */
	const char *live_trace; /* live: the trace the recorder writes, which the stream reads */
	const char *source, *mountpoint; /* live: shown by the page */
	bool no_token; /* anyone who can reach the port may watch (--no-ws-token) */
	bool no_index_cache; /* replay: build the trace's index afresh and keep it nowhere (--no-cache) */
};

/* Parses "ADDR:PORT", "[V6ADDR]:PORT" or ":PORT" into OPTIONS. 0, or -1 with a message. */
int web_parse_listen(const char *text, struct web_options *options, char *err, size_t err_size);

struct web_server;

/*
 * Listens and starts the service thread. With options->port == 0 it tries
 * the default port and the ones after it; an explicit port that is taken is
 * an error. NULL with a message in ERR on failure.
 */
struct web_server *web_start(const struct web_options *options, char *err, size_t err_size);

/*
 * "http://127.0.0.1:7681/?token=…": the page's address. The token (fresh
 * and random for each server) is what lets a websocket on /events in:
 * whoever has the URL may watch, nobody else (unless options->no_token).
 */
const char *web_url(const struct web_server *server);

/* Live: the recorder tap that says what is committed (valid while the server lives). */
const struct recorder_tap *web_tap(struct web_server *server);

/* Closes every connection, stops the thread and frees the server. NULL is fine. */
void web_stop(struct web_server *server);

/* `tracefs serve FILE.db [--ws ADDR:PORT]`: replays until SIGINT or SIGTERM. */
int web_serve_command(int argc, char **argv);

#endif
