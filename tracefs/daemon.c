/*
 * daemon.c — the life of one traced FUSE session: open the source, create
 * the trace, build the session, mount, serve with several threads, and at
 * the end unmount and complete the trace.
 */
#include "tracefs/daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "recorder/recorder.h"
#include "tracefs/caller.h"
#include "tracefs/loop.h"
#include "tracefs/options.h"
#include "tracefs/readahead.h"
#include "tracefs/store_fs.h"
#include "tracefs/store_history.h"
#include "tracefs/uring.h"

struct daemon {
	struct web_server *web;
	struct recorder *recorder;
	struct lineage *lineage; /* the processes of the requests */
	struct store *store;
	struct fs *fs;
	struct fuse_session *session;
	char *db;
	long poll_us; /* see loop_serve() */
	int uring;    /* as in fs_options */
	bool uring_attached;
	bool mounted;
	bool mount_gone; /* unmounted here while a copy elsewhere lived on */
	char *mountpoint; /* where it was mounted; NULL: by someone else */
	bool signals;
};

static void raise_fd_limit(void)
{
	/* Every inode the kernel knows holds a descriptor. */
	struct rlimit limit;
	if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
		return;
	/* Root may go past the hard limit, up to the kernel's maximum. */
	FILE *nr_open = fopen("/proc/sys/fs/nr_open", "re");
	unsigned long maximum;
	if (nr_open) {
		if (geteuid() == 0 && fscanf(nr_open, "%lu", &maximum) == 1 && maximum > limit.rlim_max)
			limit.rlim_max = maximum;
		fclose(nr_open);
	}
	limit.rlim_cur = limit.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &limit) != 0) {
		getrlimit(RLIMIT_NOFILE, &limit);
		limit.rlim_cur = limit.rlim_max;
		setrlimit(RLIMIT_NOFILE, &limit);
	}
}

static struct fuse_session *new_session(const struct daemon_config *config, struct fs *fs)
{
	char *fuse_argv[5];
	int fuse_argc = 0;
	fuse_argv[fuse_argc++] = "tracefs";
	fuse_argv[fuse_argc++] = "-o";
	fuse_argv[fuse_argc++] = (char *)config->fuse_options;
	if (config->debug)
		fuse_argv[fuse_argc++] = "-d";
	fuse_argv[fuse_argc] = NULL;
	struct fuse_args args = FUSE_ARGS_INIT(fuse_argc, fuse_argv);
	const struct fuse_lowlevel_ops *ops = config->store ? store_fs_operations() : fs_operations();
	struct fuse_session *session =
		fuse_session_new(&args, ops, sizeof(struct fuse_lowlevel_ops), fs);
	fuse_opt_free_args(&args);
	return session;
}

/* The live view, the trace and the store (which records its commits).
 * Prints what failed; 0 or -1. */
static int start_recording(struct daemon *daemon, const struct daemon_config *config)
{
	char err[512];
	/* Before the recorder, whose writer thread says what it has committed. */
	struct web_options web = config->web ? *config->web : (struct web_options){0};
	web.live_trace = config->db;
	if (config->web && !(daemon->web = web_start(&web, err, sizeof(err)))) {
		fprintf(stderr, "tracefs: %s\n", err);
		return -1;
	}
	struct recorder_options options = {
		.db_path = config->db,
		.db_mode = config->db_mode,
		.source = config->source,
		.mountpoint = config->mountpoint,
		.command_line = config->command_line,
		.cache_mode = config->fs.exact ? "exact" : "default",
		.tap = daemon->web ? web_tap(daemon->web) : NULL,
	};
	options_db_owner(&options.db_chown, &options.db_uid, &options.db_gid);
	daemon->recorder = recorder_open(&options, err, sizeof(err));
	if (!daemon->recorder) {
		fprintf(stderr, "tracefs: %s\n", err);
		return -1;
	}
	if (config->store) {
		/* After the recorder, which records its commits. */
		struct store_options store_options = *config->store;
		store_options.committed = store_fs_committed;
		store_options.ctx = daemon->recorder;
		daemon->store = store_open(config->source, &store_options, err, sizeof(err));
		if (!daemon->store) {
			fprintf(stderr, "tracefs: %s\n", err);
			return -1;
		}
	}
	daemon->lineage = lineage_create(daemon->recorder);
	if (!daemon->lineage) {
		fprintf(stderr, "tracefs: cannot watch processes: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

struct daemon *daemon_create(const struct daemon_config *config)
{
	umask(0); /* the kernel has applied the caller's umask already */
	raise_fd_limit();
	if (caller_creds_init() == -1) {
		fprintf(stderr, "tracefs: cannot read the daemon's groups: %s\n", strerror(errno));
		return NULL;
	}
	struct daemon *daemon = calloc(1, sizeof(*daemon));
	if (!daemon || (config->db && !(daemon->db = strdup(config->db)))) {
		fprintf(stderr, "tracefs: out of memory\n");
		free(daemon);
		return NULL;
	}
	/* Before mounting, so that SOURCE == MOUNTPOINT reaches the original. */
	int source_fd = open(config->source, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (source_fd == -1) {
		fprintf(stderr, "tracefs: cannot open %s: %s\n", config->source, strerror(errno));
		goto fail;
	}
	/* -o norecord: the same file system, recording nothing. */
	if (config->db && start_recording(daemon, config) == -1) {
		close(source_fd);
		goto fail;
	}
	if (daemon->store)
		store_history_attach(daemon->store, daemon->recorder, daemon->lineage);
	daemon->poll_us = config->fs.poll_us;
	daemon->uring = config->fs.uring;
	struct fs_options fs_options = config->fs;
	fs_options.store = daemon->store;
	fs_options.lineage = daemon->lineage;
	if (fs_options.exact)
		fs_options.timeout = 0;
	daemon->fs = fs_create(source_fd, daemon->recorder, &fs_options);
	if (!daemon->fs) {
		fprintf(stderr, "tracefs: cannot set up the inode table: %s\n", strerror(errno));
		close(source_fd);
		goto fail;
	}
	daemon->session = new_session(config, daemon->fs);
	if (!daemon->session) {
		fprintf(stderr, "tracefs: invalid mount options (see above)\n");
		goto fail;
	}
	return daemon;
fail:
	daemon_finish(daemon);
	return NULL;
}

const char *daemon_web_url(const struct daemon *daemon)
{
	return daemon->web ? web_url(daemon->web) : NULL;
}

/* FUSE over io_uring where the kernel has it switched on, or where asked
 * for and root can switch it on (before mounting: the kernel offers it in
 * the INIT that mounting sends); otherwise /dev/fuse, saying why when it
 * was asked for. */
static bool want_uring(const struct daemon *daemon)
{
	char why[256];
	if (daemon->uring == 0)
		return false;
	if (uring_available(daemon->uring == 1, why, sizeof(why)) == -1) {
		if (daemon->uring == 1)
			fprintf(stderr, "tracefs: -o uring: %s; using /dev/fuse\n", why);
		return false;
	}
	return true;
}

static void use_uring(struct daemon *daemon)
{
	if (uring_attach(daemon->session, daemon->fs) == -1) {
		fprintf(stderr, "tracefs: cannot set up FUSE over io_uring (%s); using /dev/fuse\n",
			strerror(errno));
		return;
	}
	daemon->uring_attached = true;
}

int daemon_mount(struct daemon *daemon, const char *mountpoint)
{
	bool uring = want_uring(daemon);
	if (fuse_session_mount(daemon->session, mountpoint) != 0) {
		fprintf(stderr, "tracefs: cannot mount at %s (see above)\n", mountpoint);
		return -1;
	}
	daemon->mounted = true;
	if (strncmp(mountpoint, "/dev/fd/", 8) != 0) { /* else whoever mounted it */
		readahead_raise("tracefs", mountpoint);
		daemon->mountpoint = strdup(mountpoint); /* NULL: the end is not watched */
	}
	if (uring)
		use_uring(daemon);
	return 0;
}

int daemon_handle_signals(struct daemon *daemon)
{
	if (fuse_set_signal_handlers(daemon->session) != 0) {
		fprintf(stderr, "tracefs: cannot install signal handlers\n");
		return -1;
	}
	daemon->signals = true;
	return 0;
}

int daemon_serve(struct daemon *daemon)
{
	if (fs_backing_is_local(daemon->fs)) {
		int rc = loop_serve(daemon->session, daemon->fs, daemon->poll_us * 1000,
				    daemon->mountpoint);
		daemon->mount_gone = rc == LOOP_GONE;
		if (rc < 0) {
			fprintf(stderr, "tracefs: session ended with error: %s\n", strerror(-rc));
			return -1;
		}
		return 0;
	}
	struct fuse_loop_config *config = fuse_loop_cfg_create();
	if (!config) {
		fprintf(stderr, "tracefs: out of memory\n");
		return -1;
	}
	fuse_loop_cfg_set_clone_fd(config, 1);
	int rc = fuse_session_loop_mt(daemon->session, config);
	fuse_loop_cfg_destroy(config);
	if (rc < 0) {
		fprintf(stderr, "tracefs: session ended with error: %s\n", strerror(-rc));
		return -1;
	}
	return 0;
}

int daemon_set_root_process(struct daemon *daemon, pid_t pid, char *const argv[], const char *cwd)
{
	if (!daemon->lineage)
		return 0; /* recording nothing */
	return lineage_set_root(daemon->lineage, pid, argv, cwd);
}

void daemon_op_counts(struct daemon *daemon, uint64_t counts[TRACE_OP_COUNT])
{
	fs_op_counts(daemon->fs, counts);
}

int daemon_finish(struct daemon *daemon)
{
	char err[512];
	int status = 0;
	if (daemon->uring_attached)
		uring_detach();
	if (daemon->session) {
		if (daemon->mounted && !daemon->mount_gone)
			fuse_session_unmount(daemon->session);
		if (daemon->signals)
			fuse_remove_signal_handlers(daemon->session);
		fuse_session_destroy(daemon->session);
	}
	if (daemon->fs)
		fs_destroy(daemon->fs);
	store_cleanup(daemon->store); /* commits what is pending, before the trace closes */
	lineage_destroy(daemon->lineage); /* its exits go to the recorder */
	if (daemon->recorder && recorder_close(daemon->recorder, err, sizeof(err)) == -1) {
		fprintf(stderr, "tracefs: %s\n", err);
		status = -1;
	}
	if (daemon->recorder && !daemon->mounted)
		unlink(daemon->db); /* nothing was recorded */
	web_stop(daemon->web); /* after the recorder: its writer tells the server */
	free(daemon->db);
	free(daemon->mountpoint);
	free(daemon);
	return status;
}
