/*
 * runtime.c — pid files of running daemons, one per mount point, named by
 * a hash of the mount point's canonical path (a fixed-length file name
 * whatever the path's length or characters).
 */
#include "tracefs/runtime.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

char *runtime_canonical_mountpoint(const char *path)
{
	char *dir_copy = strdup(path);
	char *base_copy = strdup(path);
	char *result = NULL;
	if (!dir_copy || !base_copy)
		goto out;
	const char *base = basename(base_copy);
	if (strcmp(base, ".") == 0 || strcmp(base, "..") == 0 || strcmp(base, "/") == 0) {
		result = realpath(path, NULL);
		goto out;
	}
	char *dir = realpath(dirname(dir_copy), NULL);
	if (!dir)
		goto out;
	if (asprintf(&result, "%s%s%s", dir, strcmp(dir, "/") == 0 ? "" : "/", base) == -1)
		result = NULL;
	free(dir);
out:
	free(dir_copy);
	free(base_copy);
	return result;
}

static const char *runtime_dir(char *buf, size_t size)
{
	if (geteuid() == 0) {
		snprintf(buf, size, "/run/tracefs");
	} else {
		const char *xdg = getenv("XDG_RUNTIME_DIR");
		if (xdg && xdg[0] == '/')
			snprintf(buf, size, "%s/tracefs", xdg);
		else
			snprintf(buf, size, "/tmp/tracefs-%u", (unsigned)geteuid());
	}
	return buf;
}

int runtime_pidfile_path(const char *mountpoint, char *buf, size_t size)
{
	uint64_t hash = 0xcbf29ce484222325ull; /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)mountpoint; *p; p++)
		hash = (hash ^ *p) * 0x100000001b3ull;
	char dir[PATH_MAX];
	int n = snprintf(buf, size, "%s/%016llx.pid", runtime_dir(dir, sizeof(dir)),
			 (unsigned long long)hash);
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int runtime_write_pidfile(const char *mountpoint)
{
	char dir[PATH_MAX], path[PATH_MAX];
	if (mkdir(runtime_dir(dir, sizeof(dir)), 0700) == -1 && errno != EEXIST)
		return -1;
	if (runtime_pidfile_path(mountpoint, path, sizeof(path)) == -1)
		return -1;
	FILE *file = fopen(path, "we");
	if (!file)
		return -1;
	fprintf(file, "%d\n%s\n", (int)getpid(), mountpoint);
	return fclose(file) == 0 ? 0 : -1;
}

void runtime_remove_pidfile(const char *mountpoint)
{
	char path[PATH_MAX];
	if (runtime_pidfile_path(mountpoint, path, sizeof(path)) == 0)
		unlink(path);
}

/* Whether PID is a live tracefs daemon (and not a reused pid). */
static int is_tracefs_process(pid_t pid)
{
	char path[64], comm[32] = "";
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	FILE *file = fopen(path, "re");
	if (!file)
		return 0;
	int ok = fgets(comm, sizeof(comm), file) && strncmp(comm, "tracefs", 7) == 0;
	fclose(file);
	return ok;
}

pid_t runtime_read_pidfile(const char *mountpoint)
{
	char path[PATH_MAX];
	if (runtime_pidfile_path(mountpoint, path, sizeof(path)) == -1)
		return 0;
	FILE *file = fopen(path, "re");
	if (!file)
		return 0;
	int pid = 0;
	if (fscanf(file, "%d", &pid) != 1)
		pid = 0;
	fclose(file);
	return pid > 0 && is_tracefs_process(pid) ? pid : 0;
}
