/*
 * run.c — `tracefs run -- COMMAND`: trace what one command does under a
 * directory, in a private mount namespace, so that no other process sees
 * the mount and nothing needs unmounting by hand.
 *
 * Three processes. This one (the server) opens /dev/fuse and serves the
 * file system from the original mount namespace, where the directory is
 * never covered, so it reaches the files beneath without tricks. A child
 * (the holder) enters a new mount namespace, mounts the server's /dev/fuse
 * descriptor over the directory, starts COMMAND in a grandchild, waits for
 * it, unmounts and exits with its status. When the namespace goes, the
 * session ends and the server completes the trace.
 */
#include "tracefs/tracefs.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "trace/trace.h"
#include "tracefs/daemon.h"
#include "tracefs/options.h"
#include "tracefs/readahead.h"

#define SUMMARY_TOP_OPS 6

struct run_args {
	char *dir; /* absolute, malloc'd */
	char *db;  /* absolute, malloc'd */
	unsigned db_mode; /* 0: private */
	char *cwd; /* malloc'd */
	char *command_line;
	char **command;
	struct fs_options fs;
	bool report;
	bool serve; /* the live view */
	struct web_options web;
};

static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs run [options] -- COMMAND [ARG...]\n"
		"\n"
		"Run COMMAND with DIR traced: the mount exists only in a private mount\n"
		"namespace for COMMAND and its children, and goes away when COMMAND exits.\n"
		"Prints a summary, and exits with COMMAND's status (128+N if killed by signal N).\n"
		"Ctrl-C goes to COMMAND; the trace is completed when it exits. Needs root.\n"
		"\n"
		"  --db FILE        trace file to create (default: tracefs-YYYYmmdd-HHMMSS.db\n"
		"                   in the working directory); never overwritten; it\n"
		"                   belongs to the user who ran sudo, if you did\n"
		"  --db-mode MODE   its permission bits (default 0600: only its owner reads\n"
		"                   it; e.g. 0640 shares it with the file's group)\n"
		"  --dir DIR        directory to trace (default: the working directory)\n"
		"  -o OPT[,OPT...]  exact, direct_io, timeout=SECS, poll=USECS:\n"
		"                   as for `tracefs mount`\n"
		"  --report         print `tracefs report` of the trace afterwards\n"
		"  --serve          serve the live view while COMMAND runs (the address is\n"
		"                   printed; default %s:%d or the next free port)\n"
		"  --ws ADDR:PORT   serve it there (implies --serve)\n"
		"  --no-ws-token    anyone who can reach the port may watch (by default only\n"
		"                   whoever has the printed address, with its secret token)\n"
		"  -h, --help       show this help\n",
		WEB_DEFAULT_ADDRESS, WEB_DEFAULT_PORT);
}

static void free_run_args(struct run_args *a)
{
	free(a->dir);
	free(a->db);
	free(a->cwd);
	free(a->command_line);
}

/* `run` takes only the file-system options of -o. */
static int apply_run_option(void *ctx, const char *opt)
{
	struct run_args *a = ctx;
	int applied = options_apply_fs(&a->fs, opt);
	if (applied == 0)
		fprintf(stderr, "tracefs run: unknown option -o %s\n", opt);
	return applied > 0 ? 0 : -1;
}

/* 0 to go on; otherwise the exit status + 1. */
static int parse_run_args(int argc, char **argv, struct run_args *a)
{
	static const struct option long_options[] = {
		{"db", required_argument, NULL, 'D'},
		{"db-mode", required_argument, NULL, 'M'},
		{"dir", required_argument, NULL, 'C'},
		{"report", no_argument, NULL, 'R'},
		{"serve", no_argument, NULL, 'S'},
		{"ws", required_argument, NULL, 'W'},
		{"no-ws-token", no_argument, NULL, 'T'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *dir = ".";
	const char *db = NULL;
	snprintf(a->web.address, sizeof(a->web.address), "%s", WEB_DEFAULT_ADDRESS);
	options_default_fs(&a->fs);
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'D':
			db = optarg;
			break;
		case 'M':
			if (options_parse_db_mode("tracefs run", optarg, &a->db_mode) != 0)
				return 3;
			break;
		case 'C':
			dir = optarg;
			break;
		case 'o':
			if (options_for_each(optarg, apply_run_option, a) != 0)
				return 3;
			break;
		case 'R':
			a->report = true;
			break;
		case 'S':
			a->serve = true;
			break;
		case 'W': {
			char err[256];
			if (web_parse_listen(optarg, &a->web, err, sizeof(err)) != 0) {
				fprintf(stderr, "tracefs run: %s\n", err);
				return 3;
			}
			a->serve = true;
			break;
		}
		case 'T':
			a->web.no_token = true;
			break;
		case 'h':
			run_usage(stdout);
			return 1;
		default:
			fprintf(stderr, "Try 'tracefs run --help'.\n");
			return 3;
		}
	}
	if (optind >= argc) {
		run_usage(stderr);
		return 3;
	}
	a->command = argv + optind;
	a->command_line = options_join_words(argc, argv);
	a->cwd = getcwd(NULL, 0);
	a->dir = realpath(dir, NULL);
	if (!a->dir) {
		fprintf(stderr, "tracefs run: directory %s: %s\n", dir, strerror(errno));
		return 2;
	}
	struct stat st;
	if (stat(a->dir, &st) == -1 || !S_ISDIR(st.st_mode)) {
		fprintf(stderr, "tracefs run: %s is not a directory\n", dir);
		return 2;
	}
	a->db = options_trace_path(db);
	if (!a->cwd || !a->command_line || !a->db) {
		fprintf(stderr, "tracefs run: %s\n", strerror(errno));
		return 2;
	}
	return 0;
}

/* The exit status a shell would give for a wait status. */
static int exit_status_of(int wstatus)
{
	if (WIFEXITED(wstatus))
		return WEXITSTATUS(wstatus);
	if (WIFSIGNALED(wstatus))
		return 128 + WTERMSIG(wstatus);
	return 1;
}

/* In the grandchild: COMMAND, in the working directory seen through the mount. */
static void exec_command(const struct run_args *a)
{
	signal(SIGINT, SIG_DFL);
	signal(SIGQUIT, SIG_DFL);
	if (chdir(a->cwd) == -1) {
		fprintf(stderr, "tracefs run: cannot enter %s: %s\n", a->cwd, strerror(errno));
		_exit(126);
	}
	execvp(a->command[0], a->command);
	fprintf(stderr, "tracefs run: cannot run %s: %s\n", a->command[0], strerror(errno));
	_exit(errno == ENOENT ? 127 : 126);
}

/* Mounts the FUSE descriptor over DIR in a new mount namespace; 0 or errno. */
static int mount_privately(const struct run_args *a, int fuse_fd)
{
	if (unshare(CLONE_NEWNS) == -1)
		return errno;
	/* Slave: our mount stays out of the namespace we were copied from,
	 * while unmounts of shared mounts there still reach our copies. */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) == -1)
		return errno;
	char options[128];
	snprintf(options, sizeof(options),
		 "fd=%d,rootmode=40000,user_id=%u,group_id=%u,default_permissions", fuse_fd,
		 (unsigned)getuid(), (unsigned)getgid());
	if (mount(a->dir, a->dir, "fuse.tracefs", MS_NOSUID | MS_NODEV, options) == -1)
		return errno;
	readahead_raise("tracefs run", a->dir);
	return 0;
}

/*
 * The holder: never returns. Reports the mount's outcome on REPORT_FD,
 * then COMMAND's pid (the root of the trace's process lineage).
 */
static void hold_namespace(const struct run_args *a, int fuse_fd, int report_fd)
{
	int err = mount_privately(a, fuse_fd);
	close(fuse_fd);
	if (write(report_fd, &err, sizeof(err)) != sizeof(err) || err)
		_exit(126);
	/* Ctrl-C is for COMMAND; we go when it goes. */
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	pid_t command = fork();
	if (command == -1) {
		perror("tracefs run: fork");
		_exit(126);
	}
	if (command == 0) {
		close(report_fd);
		exec_command(a);
	}
	/* The server reads it before it serves COMMAND's first request. */
	if (write(report_fd, &command, sizeof(command)) != sizeof(command))
		perror("tracefs run: cannot tell the server COMMAND's pid");
	close(report_fd);
	int wstatus;
	while (waitpid(command, &wstatus, 0) == -1)
		if (errno != EINTR)
			_exit(126);
	umount2(a->dir, MNT_DETACH);
	_exit(exit_status_of(wstatus));
}

static void print_summary(const struct run_args *a, const uint64_t counts[TRACE_OP_COUNT],
			  int status, double seconds)
{
	uint64_t total = 0;
	for (int op = 0; op < TRACE_OP_COUNT; op++)
		total += counts[op];
	fprintf(stderr, "tracefs run: %s exited with status %d after %.2f s\n", a->command[0],
		status, seconds);
	fprintf(stderr, "tracefs run: %llu events in %s\n", (unsigned long long)total, a->db);
	bool used[TRACE_OP_COUNT] = {false};
	fprintf(stderr, "tracefs run: top operations:");
	for (int i = 0; i < SUMMARY_TOP_OPS; i++) {
		int best = -1;
		for (int op = 0; op < TRACE_OP_COUNT; op++)
			if (!used[op] && counts[op] && (best < 0 || counts[op] > counts[best]))
				best = op;
		if (best < 0)
			break;
		used[best] = true;
		fprintf(stderr, " %s %llu", trace_op_name(best), (unsigned long long)counts[best]);
	}
	fprintf(stderr, "\n");
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Starts the holder and serves until its namespace is gone. Returns the
 * exit status to give, i.e. COMMAND's, or 1 if the tracing failed. */
static int trace_command(struct run_args *a, struct daemon *daemon, int fuse_fd)
{
	int pipe_fds[2];
	if (pipe2(pipe_fds, O_CLOEXEC) == -1) {
		perror("tracefs run: pipe");
		return 1;
	}
	double start = now_seconds();
	fflush(NULL);
	pid_t holder = fork();
	if (holder == -1) {
		perror("tracefs run: fork");
		return 1;
	}
	if (holder == 0) {
		close(pipe_fds[0]);
		hold_namespace(a, fuse_fd, pipe_fds[1]);
	}
	close(pipe_fds[1]);
	signal(SIGINT, SIG_IGN);
	signal(SIGQUIT, SIG_IGN);
	int err = -1;
	ssize_t n = read(pipe_fds[0], &err, sizeof(err));
	bool mounted = n == sizeof(err) && err == 0;
	pid_t command = 0;
	if (mounted && read(pipe_fds[0], &command, sizeof(command)) == sizeof(command) &&
	    daemon_set_root_process(daemon, command, a->command, a->cwd) != 0)
		fprintf(stderr, "tracefs run: cannot record %s as the root process: %s\n",
			a->command[0], strerror(errno));
	close(pipe_fds[0]);
	if (!mounted) {
		fprintf(stderr, "tracefs run: cannot mount over %s in a private namespace: %s\n",
			a->dir, n == sizeof(err) ? strerror(err) : "the helper process died");
		close(fuse_fd);
	}
	char adopted[32];
	snprintf(adopted, sizeof(adopted), "/dev/fd/%d", fuse_fd);
	bool served = mounted && daemon_mount(daemon, adopted) == 0 && daemon_serve(daemon) == 0;
	int wstatus;
	while (waitpid(holder, &wstatus, 0) == -1)
		if (errno != EINTR)
			return 1;
	if (!served)
		return 1;
	int status = exit_status_of(wstatus);
	uint64_t counts[TRACE_OP_COUNT];
	daemon_op_counts(daemon, counts);
	print_summary(a, counts, status, now_seconds() - start);
	return status;
}

int tracefs_run_command(int argc, char **argv)
{
	struct run_args a = {0};
	int rc = parse_run_args(argc, argv, &a);
	if (rc) {
		free_run_args(&a);
		return rc - 1;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "tracefs run: needs root to create a private mount namespace; "
				"use `tracefs mount` instead\n");
		free_run_args(&a);
		return 1;
	}
	int fuse_fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fuse_fd == -1) {
		fprintf(stderr, "tracefs run: cannot open /dev/fuse: %s (is the fuse module loaded?)\n",
			strerror(errno));
		free_run_args(&a);
		return 1;
	}
	struct daemon_config config = {
		.source = a.dir,
		.mountpoint = a.dir,
		.db = a.db,
		.db_mode = a.db_mode,
		.command_line = a.command_line,
		.fuse_options = "default_permissions,subtype=tracefs",
		.fs = a.fs,
		.web = a.serve ? &a.web : NULL,
	};
	a.web.source = a.dir;
	a.web.mountpoint = a.dir;
	struct daemon *daemon = daemon_create(&config);
	if (!daemon) {
		close(fuse_fd);
		free_run_args(&a);
		return 1;
	}
	if (daemon_web_url(daemon))
		fprintf(stderr, "tracefs run: live view at %s\n", daemon_web_url(daemon));
	rc = trace_command(&a, daemon, fuse_fd);
	bool complete = daemon_finish(daemon) == 0;
	if (!complete)
		rc = rc ? rc : 1;
	if (complete && a.report) {
		char *report_argv[] = {"tracefs report", a.db, NULL};
		optind = 0; /* glibc: forget the state of our own getopt parse */
		fflush(stderr);
		analyze_report_command(2, report_argv);
	}
	free_run_args(&a);
	return rc;
}
