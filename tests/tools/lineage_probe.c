/*
 * lineage_probe — processes that are hard to make from a shell, for
 * tests/integration/lineage.sh. Each prints the pids the test checks.
 *
 *   lineage_probe threads DIR N   N threads at once each create DIR/thread-I;
 *                                 prints "pid P" and one "tid T" per thread
 *   lineage_probe gone FILE       opens FILE, forks a child that exits at once
 *                                 (its exit closes the inherited descriptor:
 *                                 a flush from a process already exiting);
 *                                 prints "child C"
 *   lineage_probe reuse FILE      a child stats FILE and exits; a second
 *                                 child is created with the same pid
 *                                 (clone3 set_tid, needs root) and stats it
 *                                 too; prints "pid P"
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what)
{
	fprintf(stderr, "lineage_probe: %s: %s\n", what, strerror(errno));
	exit(1);
}

struct worker {
	pthread_barrier_t *barrier;
	const char *dir;
	int index;
	pid_t tid;
};

static void *thread_main(void *arg)
{
	struct worker *w = arg;
	char path[4096];

	w->tid = (pid_t)syscall(SYS_gettid);
	/* All threads exist at once: their ids are distinct. */
	pthread_barrier_wait(w->barrier);
	snprintf(path, sizeof(path), "%s/thread-%d", w->dir, w->index);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd == -1 || write(fd, "x", 1) != 1 || close(fd) != 0)
		die(path);
	pthread_barrier_wait(w->barrier);
	return NULL;
}

static int threads(const char *dir, int n)
{
	pthread_barrier_t barrier;
	pthread_t ids[64];
	struct worker workers[64];

	if (n < 1 || n > 64 || pthread_barrier_init(&barrier, NULL, (unsigned)n) != 0)
		die("threads");
	for (int i = 0; i < n; i++) {
		workers[i] = (struct worker){.barrier = &barrier, .dir = dir, .index = i};
		if ((errno = pthread_create(&ids[i], NULL, thread_main, &workers[i])) != 0)
			die("pthread_create");
	}
	for (int i = 0; i < n; i++)
		pthread_join(ids[i], NULL);
	printf("pid %d\n", (int)getpid());
	for (int i = 0; i < n; i++)
		printf("tid %d\n", (int)workers[i].tid);
	return 0;
}

static int gone(const char *file)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		die(file);
	pid_t child = fork();
	if (child == -1)
		die("fork");
	if (child == 0)
		_exit(0); /* nothing but the exit touches the mount */
	int status;
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	close(fd);
	printf("child %d\n", (int)child);
	return 0;
}

static void stat_and_exit(const char *file)
{
	struct stat st;
	_exit(stat(file, &st) == 0 ? 0 : 1);
}

/* A child with pid PID (0: any); its pid, or -1 with errno. */
static pid_t spawn(pid_t pid, const char *file)
{
	struct clone_args args = {.exit_signal = SIGCHLD};
	if (pid) {
		args.set_tid = (uint64_t)(uintptr_t)&pid;
		args.set_tid_size = 1;
	}
	long child = syscall(SYS_clone3, &args, sizeof(args));
	if (child == 0)
		stat_and_exit(file);
	return (pid_t)child;
}

static void reap(pid_t child)
{
	int status;
	if (waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		die("the child's stat");
}

static int reuse(const char *file)
{
	/* Someone else may take the pid between the two: try again then. */
	for (int attempt = 0; attempt < 20; attempt++) {
		pid_t first = spawn(0, file);
		if (first == -1)
			die("clone3");
		reap(first);
		pid_t second = spawn(first, file);
		if (second == -1 && errno == EEXIST)
			continue;
		if (second == -1)
			die("clone3 with set_tid (needs root)");
		reap(second);
		printf("pid %d\n", (int)first);
		return 0;
	}
	errno = EEXIST;
	die("reusing a pid");
	return 1;
}

int main(int argc, char **argv)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc == 4 && strcmp(argv[1], "threads") == 0)
		return threads(argv[2], atoi(argv[3]));
	if (argc == 3 && strcmp(argv[1], "gone") == 0)
		return gone(argv[2]);
	if (argc == 3 && strcmp(argv[1], "reuse") == 0)
		return reuse(argv[2]);
	fprintf(stderr, "usage: lineage_probe threads DIR N | gone FILE | reuse FILE\n");
	return 2;
}
