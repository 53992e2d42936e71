/*
 * serve.c — `tracefs serve FILE.db`: the browser view of a recorded trace,
 * with play, pause, seek and speed, until SIGINT or SIGTERM.
 */
#include "web/internal.h"

#include <getopt.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <pthread.h>
#include <string.h>

/* SQLite's memory over every tab's reader: each may cache up to 64 MiB of
 * the trace, and 20 tabs kept 1.36 GB; past this, caches recycle pages. */
#define SQLITE_HEAP_BYTES (96ll << 20)

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs serve FILE.db [--ws ADDR:PORT] [--no-ws-token] [--web-root DIR]\n"
		"                             [--no-cache]\n"
		"\n"
		"Serves the browser view of a recorded trace: open the printed address and\n"
		"play, pause, seek on the timeline (which shows where the activity is) and\n"
		"change the speed. Each browser tab has its own playback. Events are read\n"
		"from the trace as they are played, so a trace larger than memory is fine.\n"
		"Runs until interrupted (Ctrl-C).\n"
		"\n"
		"The index that seeks start from is built once (seconds for millions of\n"
		"events) and kept in FILE.db.index, or where that cannot be written in\n"
		"$XDG_CACHE_HOME/tracefs (default ~/.cache/tracefs); the next serve of the\n"
		"unchanged trace loads it. A trace still being written is not kept. Delete\n"
		"the file at will: it is built again when needed.\n"
		"\n"
		"options:\n"
		"  --ws ADDR:PORT   where to listen (default %s:%d, or the next free port);\n"
		"                   an explicit port that is taken is an error\n"
		"  --no-ws-token    anyone who can reach the port may watch (by default only\n"
		"                   whoever has the printed address, with its secret token)\n"
		"  --web-root DIR   the page's files (default: web/ next to the program)\n"
		"  --no-cache       build the index afresh and keep it nowhere\n"
		"  -h, --help       this text\n",
		WEB_DEFAULT_ADDRESS, WEB_DEFAULT_PORT);
}

int web_serve_command(int argc, char **argv)
{
	static const struct option long_options[] = {
		{"ws", required_argument, NULL, 'w'},
		{"web-root", required_argument, NULL, 'r'},
		{"no-ws-token", no_argument, NULL, 'T'},
		{"no-cache", no_argument, NULL, 'C'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct web_options options = {.address = WEB_DEFAULT_ADDRESS};
	char err[512];
	int c;
	optind = 0;
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'w':
			if (web_parse_listen(optarg, &options, err, sizeof(err)) != 0) {
				fprintf(stderr, "tracefs serve: %s\n", err);
				return 2;
			}
			break;
		case 'r':
			options.root = optarg;
			break;
		case 'T':
			options.no_token = true;
			break;
		case 'C':
			options.no_index_cache = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}
	options.trace = argv[optind];
	/* Each connection is used by one thread at a time (a replay's by its job
	 * or by the service thread, never both): SQLite's own locks are waste.
	 * Refused only once SQLite is in use: then it stays serialized, slower. */
	(void)sqlite3_config(SQLITE_CONFIG_MULTITHREAD);
	sqlite3_soft_heap_limit64(SQLITE_HEAP_BYTES);
	/* Check the trace now: a bad file is an error here, not in the browser. */
	struct trace_reader *reader = trace_reader_open(options.trace, err, sizeof(err));
	if (!reader) {
		fprintf(stderr, "tracefs serve: %s\n", err);
		return 1;
	}
	trace_reader_close(reader);

	/* Blocked before the service thread starts, so that it inherits the mask. */
	sigset_t stop_signals;
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGINT);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGHUP);
	if (pthread_sigmask(SIG_BLOCK, &stop_signals, NULL) != 0) {
		fprintf(stderr, "tracefs serve: cannot block signals\n");
		return 1;
	}
	struct web_server *server = web_start(&options, err, sizeof(err));
	if (!server) {
		fprintf(stderr, "tracefs serve: %s\n", err);
		return 1;
	}
	fprintf(stderr, "tracefs: replaying %s at %s (Ctrl-C to stop)\n", options.trace,
		web_url(server));
	int signal_number;
	int rc = sigwait(&stop_signals, &signal_number);
	web_stop(server);
	if (rc != 0) {
		fprintf(stderr, "tracefs serve: sigwait: %s\n", strerror(rc));
		return 1;
	}
	return 0;
}
