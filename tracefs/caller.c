/*
 * caller.c — process names and credentials of the callers of FUSE requests.
 *
 * Process names: each worker thread keeps a small cache of open
 * /proc/PID/comm descriptors. One pread() per event gives the current name
 * (it follows exec), and fails with ESRCH once that process is gone, so a
 * reused pid is never given a dead process's name. Opening the file per
 * event would cost three system calls instead of one.
 *
 * Process instances (lineage.c) ride on the same cache: a slot remembers
 * the processes row of its thread and the name it had. The same thread
 * with the same name is the same row; only a new thread or a new name (an
 * exec) asks lineage.c, which reads /proc.
 *
 * Credentials: setfsuid/setfsgid and the raw setgroups system call act on
 * the calling thread only (glibc's setgroups() would change every thread).
 */
#include "tracefs/caller.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/syscall.h>
#include <unistd.h>

#define COMM_CACHE_SLOTS 64

struct comm_slot {
	pid_t pid;
	int fd;
	int64_t process;	     /* its processes row; 0: ask lineage.c */
	char comm[CALLER_COMM_SIZE]; /* its name when process was found */
};

struct comm_cache {
	struct comm_slot slots[COMM_CACHE_SLOTS];
};

static pthread_key_t comm_cache_key;
static pthread_once_t comm_cache_once = PTHREAD_ONCE_INIT;

static void comm_cache_free(void *data)
{
	struct comm_cache *cache = data;
	for (int i = 0; i < COMM_CACHE_SLOTS; i++)
		if (cache->slots[i].pid)
			close(cache->slots[i].fd);
	free(cache);
}

static void comm_cache_make_key(void)
{
	if (pthread_key_create(&comm_cache_key, comm_cache_free) != 0)
		abort();
}

static struct comm_cache *thread_comm_cache(void)
{
	pthread_once(&comm_cache_once, comm_cache_make_key);
	struct comm_cache *cache = pthread_getspecific(comm_cache_key);
	if (!cache) {
		cache = calloc(1, sizeof(*cache));
		if (cache && pthread_setspecific(comm_cache_key, cache) != 0) {
			free(cache);
			cache = NULL;
		}
	}
	return cache;
}

static int read_comm(int fd, char comm[CALLER_COMM_SIZE])
{
	ssize_t n = pread(fd, comm, CALLER_COMM_SIZE - 1, 0);
	if (n <= 0)
		return -1;
	if (comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	return 0;
}

static int open_comm(pid_t pid)
{
	char path[32];
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	return open(path, O_RDONLY | O_CLOEXEC);
}

/* The slot's row for its thread, now named COMM. */
static int64_t slot_process(struct comm_slot *slot, struct lineage *lineage, const char *comm)
{
	if (slot->process && strcmp(slot->comm, comm) == 0)
		return slot->process;
	slot->process = lineage_process(lineage, slot->pid);
	snprintf(slot->comm, sizeof(slot->comm), "%s", comm);
	return slot->process;
}

int caller_identify(pid_t pid, struct lineage *lineage, char comm[CALLER_COMM_SIZE],
		    int64_t *process)
{
	*process = 0;
	if (pid <= 0)
		return -1;
	struct comm_cache *cache = thread_comm_cache();
	if (!cache) {
		int fd = open_comm(pid);
		int rc = fd == -1 ? -1 : read_comm(fd, comm);
		if (fd != -1)
			close(fd);
		*process = lineage_process(lineage, pid);
		return rc;
	}
	struct comm_slot *slot = &cache->slots[(unsigned)pid % COMM_CACHE_SLOTS];
	if (slot->pid == pid && read_comm(slot->fd, comm) == 0) {
		*process = slot_process(slot, lineage, comm);
		return 0;
	}
	if (slot->pid) {
		close(slot->fd);
		slot->pid = 0;
	}
	int fd = open_comm(pid);
	if (fd == -1 || read_comm(fd, comm) == -1) {
		if (fd != -1)
			close(fd);
		*process = lineage_process(lineage, pid); /* gone: said so, once */
		return -1;
	}
	slot->pid = pid;
	slot->fd = fd;
	slot->process = 0;
	*process = slot_process(slot, lineage, comm);
	return 0;
}

static uid_t daemon_uid;
static gid_t daemon_gid;
static int daemon_group_count;
static gid_t *daemon_groups;

int caller_creds_init(void)
{
	daemon_uid = geteuid();
	daemon_gid = getegid();
	daemon_group_count = getgroups(0, NULL);
	if (daemon_group_count < 0)
		return -1;
	daemon_groups = calloc((size_t)daemon_group_count + 1, sizeof(gid_t));
	if (!daemon_groups)
		return -1;
	daemon_group_count = getgroups(daemon_group_count, daemon_groups);
	return daemon_group_count < 0 ? -1 : 0;
}

int caller_creds_enter(uid_t uid, gid_t gid, int group_count, const gid_t *groups)
{
	if (group_count >= 0 && syscall(SYS_setgroups, group_count, groups) == -1)
		return -errno;
	setfsgid(gid);
	setfsuid(uid);
	/* setfsuid() reports the previous value, so verify with a no-op call. */
	if ((uid_t)setfsuid((uid_t)-1) != uid || (gid_t)setfsgid((gid_t)-1) != gid) {
		caller_creds_restore();
		return -EPERM;
	}
	return 0;
}

void caller_creds_restore(void)
{
	setfsuid(daemon_uid);
	setfsgid(daemon_gid);
	syscall(SYS_setgroups, daemon_group_count, daemon_groups);
}
