/*
 * lineage.c — process instances and their ancestry, from /proc (see
 * lineage.h).
 *
 * A FUSE request names a thread. Its process (the thread group) and that
 * process's start time (/proc/PID/stat, which a reused pid does not
 * share) identify one instance; the table below maps each pid to the last
 * instance seen with it. An exec keeps pid and start time: it shows as a
 * new name, confirmed by a new executable or argument vector (a process
 * that only renames itself keeps its row), and becomes a new row whose
 * parent is the image that exec'd.
 *
 * A new instance is recorded with the ancestors it is missing, up to the
 * nearest one already recorded: the root `tracefs run` registered, or any
 * process seen before. Ancestry that reaches no recorded process (pid 1
 * first) is not recorded: the process starts a chain of its own. So a
 * compiler driver is recorded as the parent of its cc1 even if the driver
 * itself never touched the mount.
 *
 * A process already exiting when first seen (its first request is the
 * flush of a descriptor closed by its exit: its memory, so its exe and
 * argv, is gone) is recorded as 'gone' with what is left; a thread that
 * cannot be found at all as 'gone' with its pid only. Nothing is guessed.
 *
 * Exits: each recorded process is watched through a pidfd in one epoll
 * set by a thread of its own, the watcher; the exit time is when the
 * watcher learns of it. A watched process also keeps its /proc/PID/stat
 * open: read again, it tells whether that process (reaped, it fails) still
 * owns its pid and whether it exec'd (its name), for one pread() where a
 * new child asks for its parent.
 *
 * The request's path only queues a new process for watching: the watcher
 * opens its pidfd and adds it to the set (two system calls and a tenth of
 * a new process's cost, taken off the caller's wait), then reads the kept
 * stat again: if that still reads, the process still owned its pid, so the
 * pidfd is its own; if not, it was reaped meanwhile and has exited. After
 * each harvest the watcher naps EXIT_NAP_MS, so a burst of short processes
 * (a shell loop, make) costs about twenty wake-ups a second, not one or
 * two per process, and an exit time is up to 50 ms late; the first exit
 * or new process after a quiet spell wakes it at once. Past MAX_WATCHED
 * live processes, or an eighth of the descriptor limit (a watched process
 * holds two; the node table takes half of the limit), exits go unseen
 * rather than descriptors being taken from the file system.
 *
 * Everything here runs under one mutex, but only for a thread new to a
 * FUSE worker or whose name changed (caller.c caches the answer per
 * thread); an event of a known thread costs the caller a hash probe.
 */
#include "tracefs/lineage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define COMM_SIZE 17		  /* TASK_COMM_LEN plus a terminator */
#define MAX_DEPTH 64		  /* ancestors looked at above a process */
#define MAX_WATCHED 1024	  /* live processes whose exit is watched, at most */
#define MAX_ARGV_BYTES (1 << 20) /* of /proc/PID/cmdline; more is cut off */
#define PF_EXITING 0x00000004	  /* include/linux/sched.h: in do_exit() */
#define EXIT_NAP_MS 50		  /* the watcher's nap after a harvest */
#define EXITS_PER_WAKE 64	  /* epoll events taken at once */
#define STOP_KEY 0		  /* epoll keys: the stop eventfd, */
#define KICK_KEY 1		  /* the kick eventfd; a watch key has a serial >= 1 above the pid */

struct instance {
	struct instance *next; /* in its bucket */
	pid_t pid;
	unsigned long long start_ticks; /* 0 for a thread that was gone */
	int64_t id;			/* the current processes row; 0: unrooted (below) */
	int64_t root_id;
	uint64_t image;		/* hash of exe and argv: an exec or a rename? */
	char comm[COMM_SIZE];	/* the process's name when identified */
	bool root_pending;	/* the root before its exec */
	int pidfd;		/* -1: exit not watched (yet) */
	int stat_fd;		/* its /proc/PID/stat while watched, else -1 */
	bool pending;		/* queued for the watcher to open its pidfd */
	struct instance *pending_next;
	uint32_t serial;	/* with pid, names it in the watcher's epoll data */
	uint64_t epoch;		/* unrooted: the root epoch it was found in */
};

struct lineage {
	pthread_mutex_t mutex;
	struct recorder *recorder;
	struct instance **buckets;
	size_t bucket_count; /* a power of two */
	size_t count;
	size_t watched, max_watched;
	uint32_t next_serial;
	int64_t boot_ns; /* the epoch time of boot: start times count from it */
	long ticks_per_second;
	char own_comm[COMM_SIZE]; /* ours, and so `tracefs run`'s child's before its exec */
	int epoll_fd;
	int stop_fd; /* an eventfd: the watcher ends when it is readable */
	int kick_fd; /* an eventfd: new processes wait in `pending` */
	struct instance *pending; /* watched, their pidfds not open yet */
	bool watcher_awake; /* it will look at `pending` without a kick */
	pthread_t watcher;
	bool watcher_running;
	/* Unrooted processes: ancestors above which no recorded process was
	 * found, kept so that their next descendant does not walk to pid 1
	 * again. Only a root recorded since, started no later than one of
	 * them (so possibly its ancestor), can make that untrue: then the
	 * epoch moves on and they are all looked at again. */
	uint64_t root_epoch;
	unsigned long long unrooted_max_start;
	char *argv_buf; /* MAX_ARGV_BYTES + 1, for reading cmdline */
};

struct proc_stat {
	pid_t ppid;
	unsigned long flags;
	unsigned long long start_ticks;
	char comm[COMM_SIZE];
};

struct details {
	char *exe, *argv, *cwd; /* malloc'd, NULL if unreadable */
	uint64_t image;
};

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* ---- reading /proc ---- */

/*
 * Reads FD from its start into BUF (at most SIZE bytes); the length, or
 * -1. A /proc file gives all it has in one read when BUF is larger: a
 * short read is the end, without a second read() to see 0.
 */
static ssize_t read_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;
	while (len < size) {
		size_t want = size - len;
		ssize_t n = pread(fd, buf + len, want, (off_t)len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == -1)
				len = 0;
			break;
		}
		len += (size_t)n;
		if ((size_t)n < want)
			break;
	}
	return len ? (ssize_t)len : -1;
}

static ssize_t read_file(const char *file, char *buf, size_t size)
{
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd == -1)
		return -1;
	ssize_t len = read_fd(fd, buf, size);
	close(fd);
	return len;
}

/* Parses the N bytes of a /proc/PID/stat in BUF (which has room for a NUL). */
static int parse_stat(char *buf, ssize_t n, struct proc_stat *st)
{
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* The name may hold spaces and parentheses: it ends at the last ')'. */
	char *open_paren = strchr(buf, '(');
	char *close_paren = strrchr(buf, ')');
	if (!open_paren || !close_paren || close_paren < open_paren || close_paren[1] != ' ')
		return -1;
	size_t len = (size_t)(close_paren - open_paren - 1);
	if (len >= COMM_SIZE)
		len = COMM_SIZE - 1;
	memcpy(st->comm, open_paren + 1, len);
	st->comm[len] = '\0';
	/* Fields 4 (ppid), 9 (flags) and 22 (starttime) of proc(5), the
	 * others skipped unconverted. */
	static const int wanted[] = {4, 9, 22};
	unsigned long long values[3];
	const char *at = close_paren + 2; /* field 3 */
	int got = 0;
	for (int field = 3; got < 3; field++) {
		if (field == wanted[got]) {
			char *end;
			errno = 0;
			values[got++] = strtoull(at, &end, 10);
			if (errno || end == at)
				return -1;
			if (got == 3)
				break;
		}
		const char *space = strchr(at, ' ');
		if (!space)
			return -1;
		at = space + 1;
	}
	st->ppid = (pid_t)values[0];
	st->flags = (unsigned long)values[1];
	st->start_ticks = values[2];
	return 0;
}

static int read_stat(pid_t pid, struct proc_stat *st)
{
	char file[40], buf[1024];
	snprintf(file, sizeof(file), "/proc/%d/stat", (int)pid);
	return parse_stat(buf, read_file(file, buf, sizeof(buf) - 1), st);
}

static int reread_stat(int fd, struct proc_stat *st)
{
	char buf[1024];
	return parse_stat(buf, read_fd(fd, buf, sizeof(buf) - 1), st);
}

/*
 * Reads /proc/PID/stat and keeps it open: its descriptor, or -1. Read
 * again (reread_stat), it shows the same process or fails (ESRCH) once
 * that one is reaped, however soon its pid is reused.
 */
static int open_stat(pid_t pid, struct proc_stat *st)
{
	char file[40];
	snprintf(file, sizeof(file), "/proc/%d/stat", (int)pid);
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	if (fd != -1 && reread_stat(fd, st) != 0) {
		close(fd);
		fd = -1;
	}
	return fd;
}

/* The thread group (the process) of thread TID. */
static int read_tgid(pid_t tid, pid_t *tgid)
{
	/* Mostly TID leads its group: tgkill(TID, TID, 0) finds it then
	 * (EPERM too: another user's), far cheaper than building status. */
	if (syscall(SYS_tgkill, tid, tid, 0) == 0 || errno == EPERM) {
		*tgid = tid;
		return 0;
	}
	char file[40], buf[1024];
	snprintf(file, sizeof(file), "/proc/%d/status", (int)tid);
	ssize_t n = read_file(file, buf, sizeof(buf) - 1);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	const char *line = strstr(buf, "\nTgid:");
	int value;
	if (!line || sscanf(line + 6, "%d", &value) != 1 || value <= 0)
		return -1;
	*tgid = value;
	return 0;
}

static char *read_link(pid_t pid, const char *name)
{
	char file[48], target[PATH_MAX];
	snprintf(file, sizeof(file), "/proc/%d/%s", (int)pid, name);
	ssize_t n = readlink(file, target, sizeof(target) - 1);
	if (n <= 0)
		return NULL;
	target[n] = '\0';
	return strdup(target);
}

static uint64_t hash_bytes(uint64_t hash, const char *bytes, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		hash ^= (unsigned char)bytes[i];
		hash *= 0x100000001b3ULL; /* FNV-1a */
	}
	return hash;
}

/* The NUL-separated arguments RAW (LEN bytes, RAW[LEN] is NUL) as a JSON array. */
static char *argv_json(const char *raw, size_t len)
{
	size_t size = 3; /* [ ] NUL */
	for (size_t at = 0; at < len; at += strlen(raw + at) + 1)
		size += trace_json_string(raw + at, NULL, 0) + 1;
	char *json = malloc(size);
	if (!json)
		return NULL;
	size_t used = 0;
	json[used++] = '[';
	for (size_t at = 0; at < len; at += strlen(raw + at) + 1) {
		if (at)
			json[used++] = ',';
		used += trace_json_string(raw + at, json + used, size - used);
	}
	json[used++] = ']';
	json[used] = '\0';
	return json;
}

static char *read_argv(struct lineage *l, pid_t pid, uint64_t *image)
{
	char file[40];
	snprintf(file, sizeof(file), "/proc/%d/cmdline", (int)pid);
	/* Kept: a fresh megabyte per process would cost an mmap and munmap. */
	if (!l->argv_buf && !(l->argv_buf = malloc(MAX_ARGV_BYTES + 1)))
		return NULL;
	char *raw = l->argv_buf;
	ssize_t n = read_file(file, raw, MAX_ARGV_BYTES);
	char *json = NULL;
	if (n > 0) {
		*image = hash_bytes(*image, raw, (size_t)n);
		/* Normally NUL-terminated; a process may have rewritten it. */
		if (raw[n - 1] == '\0')
			n--;
		raw[n] = '\0';
		json = argv_json(raw, (size_t)n);
	}
	return json;
}

/* Reads what /proc shows of process PID through its thread or itself READ_FROM. */
static void read_details(struct lineage *l, pid_t read_from, struct details *d)
{
	d->image = 0xcbf29ce484222325ULL;
	d->exe = read_link(read_from, "exe");
	if (d->exe)
		d->image = hash_bytes(d->image, d->exe, strlen(d->exe) + 1);
	d->argv = read_argv(l, read_from, &d->image);
	d->cwd = read_link(read_from, "cwd");
}

static void free_details(struct details *d)
{
	free(d->exe);
	free(d->argv);
	free(d->cwd);
}

/* ---- the table ---- */

static struct instance **bucket_of(struct lineage *l, pid_t pid)
{
	return &l->buckets[(size_t)pid & (l->bucket_count - 1)];
}

static struct instance *find(struct lineage *l, pid_t pid)
{
	for (struct instance *i = *bucket_of(l, pid); i; i = i->next)
		if (i->pid == pid)
			return i;
	return NULL;
}

/*
 * Descriptors the watcher closes after it lets go of the mutex: closing a
 * dead process's pidfd and stat takes longer than the rest of its exit,
 * and a request for a new process may be waiting for the mutex.
 */
struct fd_bin {
	int count;
	int fds[4 * EXITS_PER_WAKE];
};

/* Closes FD (-1: none) now, or later if BIN has room. */
static void bin_close(struct fd_bin *bin, int fd)
{
	if (fd == -1)
		return;
	if (bin && bin->count < (int)(sizeof(bin->fds) / sizeof(bin->fds[0])))
		bin->fds[bin->count++] = fd;
	else
		close(fd);
}

static bool bin_has_room(const struct fd_bin *bin)
{
	return bin->count + 2 <= (int)(sizeof(bin->fds) / sizeof(bin->fds[0]));
}

static void bin_empty(struct fd_bin *bin)
{
	for (int i = 0; i < bin->count; i++)
		close(bin->fds[i]);
	bin->count = 0;
}

/* Stops watching INST; its descriptors go to BIN (NULL: closed now). */
static void unwatch(struct lineage *l, struct instance *inst, struct fd_bin *bin)
{
	if (inst->stat_fd == -1)
		return;
	if (inst->pending) {
		struct instance **at = &l->pending;
		while (*at != inst)
			at = &(*at)->pending_next;
		*at = inst->pending_next;
		inst->pending = false;
	}
	bin_close(bin, inst->pidfd); /* leaves the epoll set with it */
	bin_close(bin, inst->stat_fd);
	inst->pidfd = -1;
	inst->stat_fd = -1;
	l->watched--;
}

/* Removes the instance of PID, if any; its descriptors go to BIN. */
static void drop(struct lineage *l, pid_t pid, struct fd_bin *bin)
{
	for (struct instance **at = bucket_of(l, pid); *at; at = &(*at)->next) {
		if ((*at)->pid == pid) {
			struct instance *gone = *at;
			*at = gone->next;
			unwatch(l, gone, bin);
			free(gone);
			l->count--;
			return;
		}
	}
}

static void grow(struct lineage *l)
{
	size_t count = l->bucket_count * 2;
	struct instance **buckets = calloc(count, sizeof(*buckets));
	if (!buckets)
		return; /* longer chains, still correct */
	for (size_t b = 0; b < l->bucket_count; b++) {
		struct instance *i = l->buckets[b];
		while (i) {
			struct instance *next = i->next;
			i->next = buckets[(size_t)i->pid & (count - 1)];
			buckets[(size_t)i->pid & (count - 1)] = i;
			i = next;
		}
	}
	free(l->buckets);
	l->buckets = buckets;
	l->bucket_count = count;
}

/* Adds INST in place of any earlier instance of its pid (a reused pid). */
static void insert(struct lineage *l, struct instance *inst)
{
	drop(l, inst->pid, NULL);
	if (l->count >= l->bucket_count)
		grow(l);
	struct instance **bucket = bucket_of(l, inst->pid);
	inst->next = *bucket;
	*bucket = inst;
	l->count++;
}

/* Never STOP_KEY or KICK_KEY: serials start at 1. */
static uint64_t watch_key(pid_t pid, uint32_t serial)
{
	return (uint64_t)serial << 32 | (uint32_t)pid;
}

/*
 * Watches INST's exit; it keeps STAT_FD (open_stat's) meanwhile. Queued
 * for the watcher, which a kick wakes if it is asleep.
 */
static void watch(struct lineage *l, struct instance *inst, int stat_fd)
{
	if (l->watched >= l->max_watched) {
		close(stat_fd); /* too many: exit unseen */
		return;
	}
	inst->stat_fd = stat_fd;
	inst->pending = true;
	inst->pending_next = l->pending;
	l->pending = inst;
	l->watched++;
	if (!l->watcher_awake) {
		uint64_t one = 1;
		/* Cannot fail below the eventfd's maximum count. */
		l->watcher_awake = write(l->kick_fd, &one, sizeof(one)) == sizeof(one);
	}
}

/*
 * The instance of PID if it is the process started at START_TICKS and
 * still alive. Its pid may have been reused within one clock tick: the
 * pidfd, or before the watcher opened that, the kept stat tells (the
 * watcher may not have seen that exit yet).
 */
static struct instance *find_alive(struct lineage *l, pid_t pid, unsigned long long start_ticks)
{
	struct instance *inst = find(l, pid);
	if (!inst || inst->start_ticks != start_ticks)
		return NULL;
	struct pollfd exited = {.fd = inst->pidfd, .events = POLLIN};
	struct proc_stat st;
	bool alive = inst->pidfd != -1	 ? poll(&exited, 1, 0) != 1
		     : inst->stat_fd != -1 ? reread_stat(inst->stat_fd, &st) == 0
					   : true;
	if (alive)
		return inst;
	recorder_process_exited(l->recorder, inst->id, clock_ns(CLOCK_REALTIME));
	drop(l, pid, NULL);
	return NULL;
}

/*
 * The watched instance of PID, its stat read again into ST, if that
 * process is not reaped yet (so PID is still its own); else NULL, and an
 * instance found reaped is dropped. Far cheaper than reading
 * /proc/PID/stat afresh and polling its pidfd.
 */
static struct instance *known_alive(struct lineage *l, pid_t pid, struct proc_stat *st)
{
	struct instance *inst = find(l, pid);
	if (!inst || inst->stat_fd == -1)
		return NULL;
	if (reread_stat(inst->stat_fd, st) == 0)
		return inst;
	recorder_process_exited(l->recorder, inst->id, clock_ns(CLOCK_REALTIME));
	drop(l, pid, NULL);
	return NULL;
}

/* ---- recording ---- */

static int64_t start_ns(const struct lineage *l, unsigned long long ticks)
{
	return l->boot_ns + (int64_t)(ticks * (1000000000ULL / (unsigned long long)l->ticks_per_second));
}

static int64_t record(struct lineage *l, pid_t pid, const struct proc_stat *st,
		      const struct details *d, int64_t parent_id, int64_t root_id, uint8_t state)
{
	struct recorder_process p = {
		.pid = pid,
		.ppid = st ? st->ppid : -1,
		.parent_id = parent_id,
		.root_id = root_id,
		.exe = d ? d->exe : NULL,
		.argv = d ? d->argv : NULL,
		.cwd = d ? d->cwd : NULL,
		.start_ns = st ? start_ns(l, st->start_ticks) : -1,
		.state = state,
	};
	return recorder_add_process(l->recorder, &p);
}

static struct instance *new_instance(struct lineage *l, pid_t pid, const struct proc_stat *st)
{
	struct instance *inst = calloc(1, sizeof(*inst));
	if (!inst)
		return NULL;
	inst->pid = pid;
	inst->pidfd = -1;
	inst->stat_fd = -1;
	if (++l->next_serial == 0)
		l->next_serial = 1;
	inst->serial = l->next_serial;
	if (st) {
		inst->start_ticks = st->start_ticks;
		snprintf(inst->comm, sizeof(inst->comm), "%s", st->comm);
	}
	return inst;
}

static void remember_unrooted(struct lineage *l, pid_t pid, const struct proc_stat *st)
{
	struct instance *inst = new_instance(l, pid, st);
	if (!inst)
		return; /* only a cache */
	inst->epoch = l->root_epoch;
	insert(l, inst);
	if (st->start_ticks > l->unrooted_max_start)
		l->unrooted_max_start = st->start_ticks;
}

/* A chain's root started at START_TICKS (0: unknown) is recorded. */
static void root_recorded(struct lineage *l, unsigned long long start_ticks)
{
	if (start_ticks <= l->unrooted_max_start)
		l->root_epoch++;
}

/*
 * Records process PID (its stat ST, read through READ_FROM from STAT_FD,
 * which it takes) under PARENT (NULL: a chain of its own) and adds it to
 * the table; NULL on failure.
 */
static struct instance *add_instance(struct lineage *l, pid_t pid, const struct proc_stat *st,
				     int stat_fd, const struct instance *parent, pid_t read_from)
{
	struct instance *inst = new_instance(l, pid, st);
	if (!inst) {
		close(stat_fd);
		return NULL;
	}
	struct details d;
	read_details(l, read_from, &d);
	bool exiting = st->flags & PF_EXITING;
	inst->id = record(l, pid, st, &d, parent ? parent->id : 0, parent ? parent->root_id : 0,
			  exiting ? RECORDER_PROCESS_GONE : RECORDER_PROCESS_READ);
	inst->image = d.image;
	free_details(&d);
	if (!inst->id) {
		close(stat_fd);
		free(inst);
		return NULL;
	}
	inst->root_id = parent ? parent->root_id : inst->id;
	if (!parent)
		root_recorded(l, st->start_ticks);
	insert(l, inst);
	if (exiting)
		close(stat_fd);
	else
		watch(l, inst, stat_fd);
	return inst;
}

/*
 * The current row of INST, whose process (read through READ_FROM) has the
 * same start time and now the stat ST: a new row if it exec'd since.
 * 0 if that row cannot be recorded.
 */
static int64_t current_id(struct lineage *l, struct instance *inst, const struct proc_stat *st,
			  pid_t read_from)
{
	if (strcmp(inst->comm, st->comm) == 0)
		return inst->id;
	if (inst->root_pending && strcmp(st->comm, l->own_comm) == 0)
		return inst->id; /* tracefs run's child, entering the directory before its exec */
	struct details d;
	read_details(l, read_from, &d);
	bool renamed = d.image == inst->image;
	if (inst->root_pending) {
		/* COMMAND itself, exec'd: the root row already says what it runs. */
		inst->root_pending = false;
		renamed = true;
	}
	int64_t id = inst->id;
	if (!renamed) {
		bool exiting = st->flags & PF_EXITING;
		id = record(l, inst->pid, st, &d, inst->id, inst->root_id,
			    exiting ? RECORDER_PROCESS_GONE : RECORDER_PROCESS_READ);
		if (id)
			inst->id = id;
	}
	if (id) {
		inst->image = d.image;
		snprintf(inst->comm, sizeof(inst->comm), "%s", st->comm);
	}
	free_details(&d);
	return id;
}

/*
 * The instance of PID, an ancestor of a process started at CHILD_START:
 * found, or recorded with its own missing ancestors if it descends from a
 * recorded process. NULL if it does not (or cannot be read).
 */
static struct instance *ancestor(struct lineage *l, pid_t pid, unsigned long long child_start,
				 int depth)
{
	struct proc_stat st;

	if (pid <= 0 || depth > MAX_DEPTH)
		return NULL;
	/* Mostly the parent is watched, the shell or make that started it. */
	struct instance *inst = known_alive(l, pid, &st);
	int stat_fd = -1;
	if (!inst) {
		if ((stat_fd = open_stat(pid, &st)) == -1)
			return NULL;
		inst = find_alive(l, pid, st.start_ticks);
	}
	/* A parent started after its child is a reused pid: the parent is gone. */
	if (st.start_ticks > child_start || (inst && !inst->id && inst->epoch == l->root_epoch)) {
		if (stat_fd != -1)
			close(stat_fd);
		return NULL; /* or unrooted, and still so */
	}
	if (inst && inst->id) {
		if (stat_fd != -1)
			close(stat_fd);
		current_id(l, inst, &st, pid); /* an ancestor may have exec'd meanwhile */
		return inst;
	}
	struct instance *parent = ancestor(l, st.ppid, st.start_ticks, depth + 1);
	if (parent)
		return add_instance(l, pid, &st, stat_fd, parent, pid);
	close(stat_fd);
	remember_unrooted(l, pid, &st);
	return NULL;
}

/* A thread that /proc no longer shows: one 'gone' row per pid, kept. */
static int64_t gone_thread(struct lineage *l, pid_t tid)
{
	struct instance *inst = find(l, tid);
	if (inst && inst->id)
		return inst->id; /* the last process seen with this pid */
	inst = new_instance(l, tid, NULL);
	if (!inst)
		return 0;
	inst->id = record(l, tid, NULL, NULL, 0, 0, RECORDER_PROCESS_GONE);
	if (!inst->id) {
		free(inst);
		return 0;
	}
	inst->root_id = inst->id;
	root_recorded(l, 0);
	insert(l, inst);
	return inst->id;
}

int64_t lineage_process(struct lineage *l, pid_t tid)
{
	if (!l || tid <= 0)
		return 0;
	pthread_mutex_lock(&l->mutex);
	int64_t id = 0;
	pid_t tgid = tid;
	struct proc_stat st;
	/* Mostly a known process's main thread (a caller's slot was taken by
	 * another thread meanwhile): its stat alone says so, without status. */
	struct instance *inst = known_alive(l, tid, &st);
	if (!inst && (inst = find(l, tid)) && inst->id)
		inst = read_stat(tid, &st) == 0 ? find_alive(l, tid, st.start_ticks) : NULL;
	int stat_fd;
	if (inst && inst->id) {
		id = current_id(l, inst, &st, tid);
	} else if (read_tgid(tid, &tgid) != 0) {
		id = gone_thread(l, tid);
	} else if (tgid != tid && (inst = known_alive(l, tgid, &st)) && inst->id) {
		/* A new thread of a process seen before: its kept stat says so. */
		id = current_id(l, inst, &st, tid);
	} else if ((stat_fd = open_stat(tgid, &st)) == -1) {
		id = gone_thread(l, tid);
	} else {
		inst = find_alive(l, tgid, st.start_ticks);
		if (inst && inst->id) {
			close(stat_fd);
			id = current_id(l, inst, &st, tid);
		} else {
			struct instance *parent = ancestor(l, st.ppid, st.start_ticks, 1);
			inst = add_instance(l, tgid, &st, stat_fd, parent, tid);
			id = inst ? inst->id : 0;
		}
	}
	pthread_mutex_unlock(&l->mutex);
	return id;
}

/* ---- the root ---- */

/* Where execvp() finds FILE, resolved; NULL if nowhere. */
static char *find_executable(const char *file, const char *cwd)
{
	char candidate[PATH_MAX];
	if (strchr(file, '/')) {
		if (file[0] == '/')
			snprintf(candidate, sizeof(candidate), "%s", file);
		else
			snprintf(candidate, sizeof(candidate), "%s/%s", cwd, file);
		return realpath(candidate, NULL);
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/bin:/usr/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		int n = snprintf(candidate, sizeof(candidate), "%.*s%s%s", (int)len, path,
				 len ? "/" : "", file);
		if (n > 0 && (size_t)n < sizeof(candidate) && access(candidate, X_OK) == 0)
			return realpath(candidate, NULL);
		path += len + (path[len] == ':');
	}
	return NULL;
}

static char *words_json(char *const argv[])
{
	size_t len = 0;
	for (int i = 0; argv[i]; i++)
		len += strlen(argv[i]) + 1;
	char *raw = malloc(len + 1);
	if (!raw)
		return NULL;
	size_t at = 0;
	for (int i = 0; argv[i]; i++) {
		size_t n = strlen(argv[i]) + 1;
		memcpy(raw + at, argv[i], n);
		at += n;
	}
	raw[len] = '\0';
	char *json = argv_json(raw, len ? len - 1 : 0);
	free(raw);
	return json;
}

int lineage_set_root(struct lineage *l, pid_t pid, char *const argv[], const char *cwd)
{
	struct proc_stat st;
	int stat_fd = open_stat(pid, &st);
	if (stat_fd == -1)
		return -1;
	struct details d = {
		.exe = find_executable(argv[0], cwd),
		.argv = words_json(argv),
		.cwd = strdup(cwd),
	};
	pthread_mutex_lock(&l->mutex);
	struct instance *inst = new_instance(l, pid, &st);
	int result = -1;
	if (inst && d.argv && d.cwd) {
		inst->id = record(l, pid, &st, &d, 0, 0, RECORDER_PROCESS_ROOT);
		inst->root_id = inst->id;
		inst->root_pending = true;
		snprintf(inst->comm, sizeof(inst->comm), "%s", l->own_comm);
	}
	if (inst && inst->id) {
		root_recorded(l, st.start_ticks);
		insert(l, inst);
		watch(l, inst, stat_fd);
		result = 0;
	} else {
		close(stat_fd);
		free(inst);
		errno = ENOMEM;
	}
	pthread_mutex_unlock(&l->mutex);
	free_details(&d);
	return result;
}

/* ---- exits ---- */

/* The instance an epoll key names, unless a reused pid replaced it. */
static struct instance *find_watched(struct lineage *l, uint64_t key)
{
	struct instance *inst = find(l, (pid_t)(uint32_t)key);
	return inst && watch_key(inst->pid, inst->serial) == key ? inst : NULL;
}

/*
 * Opens the pidfds of the processes watch() queued, as many as BIN has room
 * for. A process whose stat no longer reads once its pidfd is open was
 * reaped before: it exited, seen NOW.
 */
static void adopt_pending(struct lineage *l, int64_t now, struct fd_bin *bin)
{
	while (l->pending && bin_has_room(bin)) {
		struct instance *inst = l->pending;
		l->pending = inst->pending_next;
		inst->pending = false;
		int fd = (int)syscall(SYS_pidfd_open, inst->pid, 0);
		bool reaped = fd == -1 && errno == ESRCH;
		struct proc_stat st;
		/* Read after the pidfd is open: if the process still owns its
		 * pid now, it did when the pidfd was opened. */
		if (fd != -1 && reread_stat(inst->stat_fd, &st) != 0) {
			bin_close(bin, fd);
			fd = -1;
			reaped = true;
		}
		struct epoll_event ev = {.events = EPOLLIN,
					 .data.u64 = watch_key(inst->pid, inst->serial)};
		if (fd != -1 && epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, fd, &ev) == 0) {
			inst->pidfd = fd;
			continue;
		}
		bin_close(bin, fd);
		if (reaped) {
			recorder_process_exited(l->recorder, inst->id, now);
			drop(l, inst->pid, bin);
		} else {
			unwatch(l, inst, bin); /* out of descriptors, or an old kernel: exit unseen */
		}
	}
}

/* Takes the exits and new processes of one wake-up; false once STOP_KEY came. */
static bool harvest(struct lineage *l, const struct epoll_event *events, int count, struct fd_bin *bin)
{
	int64_t now = clock_ns(CLOCK_REALTIME);
	bool go_on = true;
	for (int e = 0; e < count; e++) {
		uint64_t key = events[e].data.u64;
		if (key == STOP_KEY) {
			go_on = false; /* after the rest of this batch */
			continue;
		}
		if (key == KICK_KEY) {
			uint64_t kicks;
			/* Only resets the count; non-blocking, so it can never stall the watcher. */
			(void)!read(l->kick_fd, &kicks, sizeof(kicks));
			continue;
		}
		struct instance *inst = find_watched(l, key);
		if (!inst)
			continue; /* replaced meanwhile */
		recorder_process_exited(l->recorder, inst->id, now);
		/* Gone from the table: a reused pid is a new process. */
		drop(l, inst->pid, bin);
	}
	adopt_pending(l, now, bin);
	return go_on;
}

/*
 * At the stop: the processes still queued are adopted and the exits seen
 * meanwhile recorded (the pidfd of a process that exited is ready at once),
 * so that an exit during the watcher's last nap is not lost.
 */
static void take_the_rest(struct lineage *l, struct fd_bin *bin)
{
	struct epoll_event events[EXITS_PER_WAKE];
	bool adopted;
	int n;
	do {
		n = epoll_wait(l->epoll_fd, events, EXITS_PER_WAKE, 0);
		pthread_mutex_lock(&l->mutex);
		adopted = l->pending != NULL;
		harvest(l, events, n > 0 ? n : 0, bin);
		pthread_mutex_unlock(&l->mutex);
		bin_empty(bin);
	} while (adopted || n == EXITS_PER_WAKE);
}

static void *watch_exits(void *arg)
{
	struct lineage *l = arg;
	struct epoll_event events[EXITS_PER_WAKE];
	struct fd_bin bin = {.count = 0};
	int timeout = -1; /* 0 while processes wait in `pending` */

	for (;;) {
		int n = epoll_wait(l->epoll_fd, events, EXITS_PER_WAKE, timeout);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return NULL; /* cannot happen with a valid epoll descriptor */
		pthread_mutex_lock(&l->mutex);
		l->watcher_awake = true;
		bool go_on = harvest(l, events, n, &bin);
		pthread_mutex_unlock(&l->mutex);
		bin_empty(&bin);
		if (!go_on) {
			take_the_rest(l, &bin);
			return NULL;
		}
		/* Exits and new processes come in bursts (a shell loop, make):
		 * one wake-up takes a nap's worth, not one each (on a 2-CPU
		 * virtual machine a wake-up costs more than the rest of an
		 * exit). */
		struct pollfd stop = {.fd = l->stop_fd, .events = POLLIN};
		(void)poll(&stop, 1, EXIT_NAP_MS); /* a nap that `stop` ends; EINTR too */
		pthread_mutex_lock(&l->mutex);
		timeout = l->pending ? 0 : -1;
		l->watcher_awake = l->pending != NULL; /* else the next watch() kicks */
		pthread_mutex_unlock(&l->mutex);
	}
}

struct lineage *lineage_create(struct recorder *recorder)
{
	struct lineage *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->recorder = recorder;
	l->epoll_fd = -1;
	l->stop_fd = -1;
	l->kick_fd = -1;
	l->bucket_count = 256;
	l->buckets = calloc(l->bucket_count, sizeof(*l->buckets));
	l->ticks_per_second = sysconf(_SC_CLK_TCK);
	struct rlimit files;
	l->max_watched = getrlimit(RLIMIT_NOFILE, &files) == 0 && files.rlim_cur / 8 < MAX_WATCHED
				 ? (size_t)(files.rlim_cur / 8)
				 : MAX_WATCHED;
	l->boot_ns = clock_ns(CLOCK_REALTIME) - clock_ns(CLOCK_BOOTTIME);
	if (prctl(PR_GET_NAME, l->own_comm) != 0)
		l->own_comm[0] = '\0';
	int err = pthread_mutex_init(&l->mutex, NULL);
	if (err == 0 && (!l->buckets || l->ticks_per_second <= 0))
		err = ENOMEM;
	if (err == 0 && (l->epoll_fd = epoll_create1(EPOLL_CLOEXEC)) == -1)
		err = errno;
	if (err == 0 && (l->stop_fd = eventfd(0, EFD_CLOEXEC)) == -1)
		err = errno;
	struct epoll_event stop = {.events = EPOLLIN, .data.u64 = STOP_KEY};
	if (err == 0 && epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->stop_fd, &stop) == -1)
		err = errno;
	if (err == 0 && (l->kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)) == -1)
		err = errno;
	struct epoll_event kick = {.events = EPOLLIN, .data.u64 = KICK_KEY};
	if (err == 0 && epoll_ctl(l->epoll_fd, EPOLL_CTL_ADD, l->kick_fd, &kick) == -1)
		err = errno;
	if (err == 0)
		err = pthread_create(&l->watcher, NULL, watch_exits, l);
	if (err == 0) {
		l->watcher_running = true;
		return l;
	}
	lineage_destroy(l);
	errno = err;
	return NULL;
}

void lineage_destroy(struct lineage *l)
{
	if (!l)
		return;
	if (l->watcher_running) {
		uint64_t one = 1;
		if (write(l->stop_fd, &one, sizeof(one)) == sizeof(one))
			pthread_join(l->watcher, NULL);
		else
			pthread_detach(l->watcher); /* cannot happen: leak rather than block */
	}
	for (size_t b = 0; l->buckets && b < l->bucket_count; b++) {
		struct instance *i = l->buckets[b];
		while (i) {
			struct instance *next = i->next;
			if (i->pidfd != -1)
				close(i->pidfd);
			if (i->stat_fd != -1)
				close(i->stat_fd);
			free(i);
			i = next;
		}
	}
	free(l->buckets);
	free(l->argv_buf);
	if (l->epoll_fd != -1)
		close(l->epoll_fd);
	if (l->stop_fd != -1)
		close(l->stop_fd);
	if (l->kick_fd != -1)
		close(l->kick_fd);
	pthread_mutex_destroy(&l->mutex);
	free(l);
}
