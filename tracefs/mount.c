/*
 * mount.c — `tracefs mount` and `tracefs umount`: argument parsing, the
 * daemon's life cycle (start the recorder, mount, serve, unmount, close
 * the trace) and waiting for a daemon to finish.
 *
 * The daemon forks before it does anything else, and the parent waits on a
 * pipe until the child reports the mount ready or fails; so errors reach
 * the user's terminal, the exit status is meaningful, and no SQLite
 * connection or thread ever crosses a fork.
 */
#include "tracefs/tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tracefs/daemon.h"
#include "tracefs/options.h"
#include "tracefs/runtime.h"
#include "tracefs/store_fs.h"


struct mount_args {
	const char *source;
	const char *mountpoint;
	char *db;	      /* absolute; malloc'd */
	unsigned db_mode;     /* 0: private */
	char *source_abs;     /* malloc'd */
	char *mountpoint_abs; /* malloc'd */
	char *fuse_options;   /* comma-separated options for libfuse; malloc'd */
	char *command_line;   /* malloc'd */
	bool foreground;
	bool debug;
	struct fs_options fs;
	struct web_options web;
	bool no_ws;
	bool ws_asked;	/* --ws or -o ws= */
	bool db_asked;	/* --db or -o db= */
	bool no_record; /* --no-record or -o norecord */
	bool store; /* SOURCE is a versioned store's working copy */
	struct store_options store_options;
};

static void mount_usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs [mount] [options] SOURCE MOUNTPOINT\n"
		"\n"
		"Mount a traced view of the directory SOURCE at MOUNTPOINT. Every file-system\n"
		"operation through the mount is recorded into an SQLite trace file. SOURCE may\n"
		"equal MOUNTPOINT to trace a directory in place.\n"
		"\n"
		"  --db FILE          trace file to create (default: tracefs-YYYYmmdd-HHMMSS.db\n"
		"                     in the working directory); never overwritten\n"
		"  --db-mode MODE     its permission bits (default 0600: only you read it;\n"
		"                     e.g. 0640 shares it with the file's group)\n"
		"  -f, --foreground   stay in the foreground; Ctrl-C unmounts\n"
		"  -d, --debug        print every FUSE request (implies -f)\n"
		"  --ws ADDR:PORT     serve the live view there (default %s:%d, or the next\n"
		"                     free port); an explicit port that is taken is an error\n"
		"  --no-ws            no live view\n"
		"  --no-record        serve the same file system without recording anything:\n"
		"                     no trace file, no live view (to measure what tracing\n"
		"                     costs; see README)\n"
		"  --no-ws-token      anyone who can reach the port may watch the live view\n"
		"                     (by default only whoever has the printed address, which\n"
		"                     holds a secret token)\n"
		"  --store            SOURCE is a versioned store's working copy (see\n"
		"                     `tracefs store --help`): changes are committed and synced\n"
		"  -o OPT[,OPT...]    mount options:\n"
		"       exact           no kernel caching of names, attributes and file\n"
		"                       contents between opens: every lookup, stat and open\n"
		"                       reaches the trace (slower; see README)\n"
		"       direct_io       also bypass the page cache: every read() and write()\n"
		"                       reaches the trace (shared writable mmap then fails)\n"
		"       timeout=SECS    how long the kernel may cache names and attributes\n"
		"                       (default %g)\n"
		"       poll=USECS      how long a daemon thread keeps polling for the next\n"
		"                       request before it sleeps (default %d; 0: never);\n"
		"                       trades CPU time for shorter round trips\n"
		"       uring           serve requests over io_uring (Linux 6.14+): one queue\n"
		"                       per CPU; root switches the kernel's enable_uring on;\n"
		"                       without it, /dev/fuse (said so). nouring: never\n"
		"       db=FILE         same as --db (for fstab); db_mode=MODE: --db-mode\n"
		"       store           same as --store; store_quiet=MS: commit once changes\n"
		"                       paused that long (default 500); store_sync=SECS: fetch\n"
		"                       and merge upstream that often (default 60)\n"
		"       ws=ADDR:PORT    same as --ws; no_ws: same as --no-ws\n"
		"       no_ws_token     same as --no-ws-token\n"
		"       norecord        same as --no-record\n"
		"       allow_other     let other users use the mount; permissions are enforced\n"
		"       ro, ...         any other FUSE mount option, see mount.fuse3(8)\n"
		"  -h, --help         show this help\n"
		"\n"
		"Unmount with `tracefs umount MOUNTPOINT`, `fusermount3 -u MOUNTPOINT`, or\n"
		"Ctrl-C / SIGTERM for a foreground daemon; the trace is complete afterwards.\n"
		"The live view: open the printed http:// address in a browser.\n",
		WEB_DEFAULT_ADDRESS, WEB_DEFAULT_PORT, DEFAULT_CACHE_TIMEOUT, DEFAULT_POLL_US);
}

static void free_args(struct mount_args *a)
{
	free(a->db);
	free(a->source_abs);
	free(a->mountpoint_abs);
	free(a->fuse_options);
	free(a->command_line);
}

/* Appends OPTION to the comma-separated list *LIST. */
static int append_option(char **list, const char *option)
{
	char *joined;
	if (asprintf(&joined, "%s%s%s", *list ? *list : "", *list ? "," : "", option) == -1)
		return -1;
	free(*list);
	*list = joined;
	return 0;
}

/* Takes one of our own options out of a -o list, or passes it on. */
static int apply_mount_option(void *ctx, const char *opt)
{
	struct mount_args *a = ctx;
	int applied = options_apply_fs(&a->fs, opt);
	if (!applied)
		applied = store_fs_apply_option(&a->store, &a->store_options, opt);
	if (applied)
		return applied < 0 ? -1 : 0;
	if (strncmp(opt, "ws=", 3) == 0) {
		char err[256];
		int rc = web_parse_listen(opt + 3, &a->web, err, sizeof(err));
		if (rc != 0)
			fprintf(stderr, "tracefs: %s\n", err);
		a->ws_asked = true;
		return rc;
	}
	if (strcmp(opt, "norecord") == 0) {
		a->no_record = true;
		return 0;
	}
	if (strcmp(opt, "no_ws") == 0) {
		a->no_ws = true;
		return 0;
	}
	if (strcmp(opt, "no_ws_token") == 0) {
		a->web.no_token = true;
		return 0;
	}
	if (strncmp(opt, "db_mode=", 8) == 0)
		return options_parse_db_mode("tracefs", opt + 8, &a->db_mode);
	if (strncmp(opt, "db=", 3) == 0) {
		a->db_asked = true;
		free(a->db);
		a->db = strdup(opt + 3);
		return a->db ? 0 : -1;
	}
	return append_option(&a->fuse_options, opt);
}

/* ARG as the source, or else the mount point; false when both are taken. */
static bool take_operand(struct mount_args *a, const char *arg)
{
	if (!a->source)
		a->source = arg;
	else if (!a->mountpoint)
		a->mountpoint = arg;
	else
		return false;
	return true;
}

/* Returns 0 to go on, or an exit status + 1 (so 1 means exit 0 for --help). */
static int parse_args(int argc, char **argv, struct mount_args *a)
{
	static const struct option long_options[] = {
		{"db", required_argument, NULL, 'D'},
		{"db-mode", required_argument, NULL, 'M'},
		{"foreground", no_argument, NULL, 'f'},
		{"debug", no_argument, NULL, 'd'},
		{"ws", required_argument, NULL, 'W'},
		{"no-ws", no_argument, NULL, 'N'},
		{"no-ws-token", no_argument, NULL, 'T'},
		{"no-record", no_argument, NULL, 'R'},
		{"store", no_argument, NULL, 'S'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	char err[256];
	options_default_fs(&a->fs);
	a->store_options.sync_interval_s = -1; /* the store's default */
	snprintf(a->web.address, sizeof(a->web.address), "%s", WEB_DEFAULT_ADDRESS);
	a->command_line = options_join_words(argc, argv);
	int c;
	optind = 1;
	for (;;) {
		/* Operands may come before, between and after the options, as
		 * mount.fuse3 and fstab pass them (SOURCE MOUNTPOINT -o OPTS). */
		while (optind < argc && argv[optind][0] != '-' && take_operand(a, argv[optind]))
			optind++;
		if ((c = getopt_long(argc, argv, "+o:fdh", long_options, NULL)) == -1)
			break;
		switch (c) {
		case 'o':
			if (options_for_each(optarg, apply_mount_option, a) != 0)
				return 2;
			break;
		case 'D':
			a->db_asked = true;
			free(a->db);
			a->db = strdup(optarg);
			break;
		case 'M':
			if (options_parse_db_mode("tracefs", optarg, &a->db_mode) != 0)
				return 3;
			break;
		case 'f':
			a->foreground = true;
			break;
		case 'W':
			if (web_parse_listen(optarg, &a->web, err, sizeof(err)) != 0) {
				fprintf(stderr, "tracefs: %s\n", err);
				return 3;
			}
			a->ws_asked = true;
			break;
		case 'R':
			a->no_record = true;
			break;
		case 'N':
			a->no_ws = true;
			break;
		case 'T':
			a->web.no_token = true;
			break;
		case 'S':
			a->store = true;
			break;
		case 'd':
			a->debug = true;
			a->foreground = true;
			break;
		case 'h':
			mount_usage(stdout);
			return 1;
		default:
			fprintf(stderr, "Try 'tracefs mount --help'.\n");
			return 3;
		}
	}
	for (; optind < argc; optind++)
		if (!take_operand(a, argv[optind])) {
			fprintf(stderr, "tracefs: unexpected argument '%s'\n", argv[optind]);
			return 3;
		}
	if (!a->source || !a->mountpoint) {
		mount_usage(stderr);
		return 3;
	}
	if (a->no_record && (a->db_asked || a->ws_asked || a->store)) {
		fprintf(stderr, "tracefs: --no-record records nothing: it takes no %s\n",
			a->db_asked ? "trace file (--db)" : a->ws_asked ? "live view (--ws)"
								: "versioned store (--store)");
		return 3;
	}
	return 0;
}

/* Checks the operands and resolves the paths; prints what is wrong. */
static int check_paths(struct mount_args *a)
{
	struct stat st;
	if (stat(a->source, &st) == -1) {
		fprintf(stderr, "tracefs: source %s: %s\n", a->source, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tracefs: source %s is not a directory\n", a->source);
		return -1;
	}
	if (stat(a->mountpoint, &st) == -1) {
		fprintf(stderr, "tracefs: mount point %s: %s\n", a->mountpoint, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tracefs: mount point %s is not a directory\n", a->mountpoint);
		return -1;
	}
	a->source_abs = realpath(a->source, NULL);
	a->mountpoint_abs = runtime_canonical_mountpoint(a->mountpoint);
	if (!a->no_record) {
		char *db = options_trace_path(a->db);
		free(a->db);
		a->db = db;
	}
	if (!a->source_abs || !a->mountpoint_abs || (!a->no_record && !a->db)) {
		fprintf(stderr, "tracefs: cannot resolve paths: %s\n", strerror(errno));
		return -1;
	}
	/* The store reads the working copy by its path, which the mount would cover. */
	if (a->store && strcmp(a->source_abs, a->mountpoint_abs) == 0) {
		fprintf(stderr, "tracefs: a store cannot be mounted over its own working copy; "
				"choose another mount point\n");
		return -1;
	}
	return 0;
}

/* fsname=SOURCE with the characters that libfuse's option parser treats
 * specially escaped. */
static int add_fsname(struct mount_args *a)
{
	size_t n = strlen(a->source_abs);
	char *option = malloc(7 + 2 * n + 1);
	if (!option)
		return -1;
	char *p = stpcpy(option, "fsname=");
	for (size_t i = 0; i < n; i++) {
		if (a->source_abs[i] == ',' || a->source_abs[i] == '\\')
			*p++ = '\\';
		*p++ = a->source_abs[i];
	}
	*p = '\0';
	int rc = append_option(&a->fuse_options, option);
	free(option);
	return rc;
}

static void detach_stdio(void)
{
	int fd = open("/dev/null", O_RDWR);
	if (fd == -1)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

/* Tells the waiting parent that the mount is up (a zero byte, then the
 * live view's address if any), and lets go of the terminal. */
static int report_ready(int ready_fd, const char *url)
{
	char ok = 0;
	if (write(ready_fd, &ok, 1) != 1)
		return -1;
	if (url && write(ready_fd, url, strlen(url)) != (ssize_t)strlen(url))
		return -1;
	close(ready_fd);
	detach_stdio();
	return 0;
}

static void say_mounted(const struct mount_args *a)
{
	if (a->no_record)
		fprintf(stderr, "tracefs: serving %s at %s, recording nothing (--no-record)\n",
			a->source_abs, a->mountpoint_abs);
	else
		fprintf(stderr, "tracefs: tracing %s at %s into %s\n", a->source_abs,
			a->mountpoint_abs, a->db);
}

/* The daemon proper; READY_FD (or -1) gets one byte once the mount is up. */
static int run_daemon(struct mount_args *a, int ready_fd)
{
	struct daemon_config config = {
		.source = a->source_abs,
		.mountpoint = a->mountpoint_abs,
		.db = a->db,
		.db_mode = a->db_mode,
		.command_line = a->command_line,
		.fuse_options = a->fuse_options,
		.fs = a->fs,
		.web = a->no_ws || a->no_record ? NULL : &a->web,
		.store = a->store ? &a->store_options : NULL,
		.debug = a->debug,
	};
	a->web.source = a->source_abs;
	a->web.mountpoint = a->mountpoint_abs;
	struct daemon *daemon = daemon_create(&config);
	if (!daemon)
		return 1;
	int status = 1;
	bool mounted = false;
	if (daemon_handle_signals(daemon) == -1 || daemon_mount(daemon, a->mountpoint_abs) == -1)
		goto out;
	mounted = true;
	if (runtime_write_pidfile(a->mountpoint_abs) == -1)
		fprintf(stderr, "tracefs: warning: cannot write pid file: %s; "
				"`tracefs umount` will not wait for the trace\n", strerror(errno));
	if (ready_fd != -1) {
		if (report_ready(ready_fd, daemon_web_url(daemon)) == -1)
			goto out;
	} else {
		say_mounted(a);
		if (daemon_web_url(daemon))
			fprintf(stderr, "tracefs: live view at %s\n", daemon_web_url(daemon));
	}
	if (chdir("/") == -1)
		goto out;
	status = daemon_serve(daemon) == 0 ? 0 : 1;
out:
	if (daemon_finish(daemon) == -1)
		status = 1;
	if (mounted)
		runtime_remove_pidfile(a->mountpoint_abs);
	return status;
}

/* The parent's side: waits until the daemon is ready or has failed. */
static int wait_for_daemon(pid_t child, int ready_fd, const struct mount_args *a)
{
	/* A zero byte, then the live view's address until the daemon closes the pipe. */
	char reply[256];
	size_t got = 0;
	ssize_t n;
	do {
		n = read(ready_fd, reply + got, sizeof(reply) - 1 - got);
		if (n > 0)
			got += (size_t)n;
	} while ((n > 0 && got < sizeof(reply) - 1) || (n == -1 && errno == EINTR));
	close(ready_fd);
	if (got >= 1 && reply[0] == 0) {
		reply[got] = '\0';
		say_mounted(a);
		if (got > 1)
			fprintf(stderr, "tracefs: live view at %s\n", reply + 1);
		return 0;
	}
	int wstatus;
	waitpid(child, &wstatus, 0);
	return 1;
}

int tracefs_mount_command(int argc, char **argv)
{
	struct mount_args a = {0};
	int rc = parse_args(argc, argv, &a);
	if (rc) {
		free_args(&a);
		return rc - 1;
	}
	if (!a.command_line || check_paths(&a) == -1 || add_fsname(&a) == -1 ||
	    append_option(&a.fuse_options, "default_permissions,subtype=tracefs") == -1) {
		free_args(&a);
		return 1;
	}
	if (a.foreground) {
		rc = run_daemon(&a, -1);
		free_args(&a);
		return rc;
	}
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) == -1) {
		perror("tracefs: pipe");
		free_args(&a);
		return 1;
	}
	fflush(NULL);
	pid_t child = fork();
	if (child == -1) {
		perror("tracefs: fork");
		free_args(&a);
		return 1;
	}
	if (child > 0) {
		close(pipe_fds[1]);
		rc = wait_for_daemon(child, pipe_fds[0], &a);
		free_args(&a);
		return rc;
	}
	close(pipe_fds[0]);
	setsid();
	rc = run_daemon(&a, pipe_fds[1]);
	free_args(&a);
	return rc;
}

/* Runs fusermount3 -u [-z] MOUNTPOINT; returns its exit status. */
static int run_fusermount(const char *mountpoint, bool lazy)
{
	pid_t pid = fork();
	if (pid == -1) {
		perror("tracefs: fork");
		return 1;
	}
	if (pid == 0) {
		if (lazy)
			execlp("fusermount3", "fusermount3", "-u", "-z", "--", mountpoint, (char *)NULL);
		else
			execlp("fusermount3", "fusermount3", "-u", "--", mountpoint, (char *)NULL);
		fprintf(stderr, "tracefs: cannot run fusermount3: %s (install fuse3)\n",
			strerror(errno));
		_exit(127);
	}
	int status;
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}

/* Waits until process PID has exited, telling the user if it takes long. */
static void wait_for_exit(pid_t pid)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd == -1)
		return; /* already gone */
	struct pollfd pfd = {.fd = pidfd, .events = POLLIN};
	if (poll(&pfd, 1, 2000) == 0) {
		fprintf(stderr, "tracefs: waiting for the daemon (pid %d) to finish the trace...\n",
			(int)pid);
		while (poll(&pfd, 1, -1) == -1 && errno == EINTR)
			;
	}
	close(pidfd);
}

static void umount_usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs umount [-z] MOUNTPOINT\n"
		"\n"
		"Unmount a tracefs mount and wait until its daemon has written the complete\n"
		"trace. -z (lazy) detaches the mount now and finishes once it is no longer busy.\n");
}

int tracefs_umount_command(int argc, char **argv)
{
	bool lazy = false;
	const char *mountpoint = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			umount_usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "-z") == 0 || strcmp(argv[i], "--lazy") == 0) {
			lazy = true;
		} else if (!mountpoint && argv[i][0] != '-') {
			mountpoint = argv[i];
		} else {
			umount_usage(stderr);
			return 2;
		}
	}
	if (!mountpoint) {
		umount_usage(stderr);
		return 2;
	}
	char *canonical = runtime_canonical_mountpoint(mountpoint);
	if (!canonical) {
		fprintf(stderr, "tracefs: %s: %s\n", mountpoint, strerror(errno));
		return 1;
	}
	pid_t daemon = runtime_read_pidfile(canonical);
	int rc = run_fusermount(canonical, lazy);
	if (rc == 0 && daemon > 0)
		wait_for_exit(daemon);
	free(canonical);
	return rc == 0 ? 0 : 1;
}
