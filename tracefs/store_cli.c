/*
 * store_cli.c — `tracefs store clone|status|sync|log`: the versioned
 * store's commands on a working copy (the mount is `tracefs mount --store`).
 */
#include "tracefs/tracefs.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static void store_usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs store clone REMOTE WORKDIR\n"
		"       tracefs store status WORKDIR\n"
		"       tracefs store sync WORKDIR\n"
		"       tracefs store log [-n COUNT] WORKDIR\n"
		"\n"
		"The versioned store: a directory kept as a git working copy and synchronised\n"
		"with a remote you run (a path, or an ssh URL such as ssh://host/srv/files.git).\n"
		"Mount it with `tracefs mount --store WORKDIR MOUNTPOINT`: every change made\n"
		"through the mount is committed (an editor's save is one commit), pushed, and\n"
		"upstream changes are fetched and merged, in the background; offline, commits\n"
		"queue up and are pushed once the remote can be reached.\n"
		"\n"
		"  clone    make WORKDIR (absent or empty) a working copy of REMOTE\n"
		"  status   branch, remote, uncommitted changes, commits not yet pushed,\n"
		"           conflicts (both versions were kept; the other is the copy)\n"
		"  sync     commit everything, fetch, merge and push now\n"
		"  log      the last COUNT commits (default 20), marked when not yet pushed\n");
}

int tracefs_store_command(int argc, char **argv)
{
	if (argc < 2 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
		store_usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	const char *action = argv[1];
	/* Help anywhere; any other option but log's -n is a mistake (a
	 * WORKDIR starting with '-' can be given as ./-name). */
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			store_usage(stdout);
			return 0;
		}
		bool log_count = strcmp(action, "log") == 0 && i == 2 && strcmp(argv[i], "-n") == 0;
		if (argv[i][0] == '-' && !log_count) {
			fprintf(stderr, "tracefs store %s: unknown option '%s'\n", action, argv[i]);
			store_usage(stderr);
			return 2;
		}
		if (log_count)
			i++; /* its COUNT */
	}
	char err[1024];
	int rc;
	if (strcmp(action, "clone") == 0 && argc == 4) {
		rc = store_clone(argv[2], argv[3], err, sizeof(err));
		if (rc == 0)
			printf("cloned %s into %s; mount it with `tracefs mount --store %s "
			       "MOUNTPOINT`\n", argv[2], argv[3], argv[3]);
	} else if (strcmp(action, "status") == 0 && argc == 3) {
		rc = store_status(argv[2], stdout, err, sizeof(err));
	} else if (strcmp(action, "sync") == 0 && argc == 3) {
		rc = store_sync(argv[2], stdout, err, sizeof(err));
	} else if (strcmp(action, "log") == 0 && (argc == 3 || argc == 5)) {
		int count = 20;
		if (argc == 5) {
			char *end;
			long n = strcmp(argv[2], "-n") == 0 ? strtol(argv[3], &end, 10) : -1;
			if (n <= 0 || n > 1000000 || *end) {
				store_usage(stderr);
				return 2;
			}
			count = (int)n;
		}
		rc = store_log(argv[argc - 1], count, stdout, err, sizeof(err));
	} else {
		store_usage(stderr);
		return 2;
	}
	if (rc != 0) {
		fprintf(stderr, "tracefs store %s: %s\n", action, err);
		return 1;
	}
	return 0;
}
