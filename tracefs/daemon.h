/*
 * daemon.h — one traced FUSE session from start to complete trace
 * (private to tracefs/): shared by `tracefs mount` and `tracefs run`.
 */
#ifndef TRACEFS_DAEMON_H
#define TRACEFS_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "store/store.h"
#include "tracefs/fs.h"
#include "web/web.h"

struct daemon_config {
	const char *source;	  /* absolute path of the directory to trace */
	const char *mountpoint;	  /* absolute; recorded in the trace's meta */
	const char *db;		  /* absolute path of the trace file to create; NULL:
				     record nothing (-o norecord: no trace, no live view) */
	unsigned db_mode;	  /* its permission bits; 0: private (0600) */
	const char *command_line; /* recorded in the trace's meta */
	const char *fuse_options; /* comma-separated options for libfuse */
	struct fs_options fs;
	const struct web_options *web; /* the live view's server; NULL: none */
	const struct store_options *store; /* SOURCE is a versioned store; NULL: not */
	bool debug;
};

struct daemon;

/*
 * Opens SOURCE (before any mount can hide it), creates the trace (if any)
 * and the FUSE session. Prints what failed and returns NULL; nothing is left behind.
 */
struct daemon *daemon_create(const struct daemon_config *config);

/* The live view's address ("http://127.0.0.1:7681/"), or NULL without one. */
const char *daemon_web_url(const struct daemon *daemon);

/* Mounts at MOUNTPOINT, or adopts an already mounted /dev/fuse descriptor
 * when MOUNTPOINT is "/dev/fd/N". Prints what failed; 0 or -1. */
int daemon_mount(struct daemon *daemon, const char *mountpoint);

/* SIGINT, SIGTERM and SIGHUP end the session (foreground daemons). */
int daemon_handle_signals(struct daemon *daemon);

/* Serves requests until the file system is unmounted; 0 or -1. */
int daemon_serve(struct daemon *daemon);

/*
 * `tracefs run`: PID, running ARGV in CWD, is the root of the process
 * lineage; before it can reach the mount. 0, or -1 with errno.
 */
int daemon_set_root_process(struct daemon *daemon, pid_t pid, char *const argv[], const char *cwd);

/* Events per operation so far. */
void daemon_op_counts(struct daemon *daemon, uint64_t counts[TRACE_OP_COUNT]);

/*
 * Unmounts if still mounted, completes and closes the trace (removing it
 * when nothing was ever mounted), frees the daemon. 0, or -1 when the
 * trace could not be completed (printed).
 */
int daemon_finish(struct daemon *daemon);

#endif
