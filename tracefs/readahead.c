/*
 * readahead.c — raising a FUSE mount's readahead.
 *
 * Why: FUSE gives its mounts 128 KiB of readahead, so a sequential read
 * reaches the daemon as one 128 KiB request after another, each a round
 * trip. A request can carry 1 MiB (libfuse asks for 256 pages), and with
 * 1 MiB of readahead reading 512 MiB back after dropping caches took
 * 0.26 s instead of 0.36-0.59 s, 512 requests instead of 4,096 (8 MiB, the
 * backing disk's own readahead, was slower again). The kernel takes the
 * setting only from sysfs, per backing device: the mount's anonymous
 * device number comes from /proc/self/mountinfo, since a stat() of the
 * mount point would wait for a daemon that is not serving yet.
 */
#include "tracefs/readahead.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracefs/mountinfo.h"

/* The device of the last FUSE mount at MOUNTPOINT; 0 or -1 with errno. */
static int find_mount(const char *mountpoint, unsigned *major, unsigned *minor)
{
	int mountinfo = open("/proc/self/mountinfo", O_RDONLY | O_CLOEXEC);
	if (mountinfo == -1)
		return -1;
	struct mountinfo_fuse mount;
	int found = mountinfo_find_fuse(mountinfo, mountpoint, 0, &mount);
	int err = errno;
	close(mountinfo);
	if (found != 1) {
		errno = found == 0 ? ENOENT : err;
		return -1;
	}
	*major = mount.major;
	*minor = mount.minor;
	return 0;
}

/* Sets the readahead in sysfs file PATH; 0 or -1 with errno. */
static int raise_in(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd == -1)
		return -1;
	char value[32];
	ssize_t n = read(fd, value, sizeof(value) - 1);
	int rc = -1;
	if (n > 0) {
		value[n] = '\0';
		rc = 0;
		if (strtoul(value, NULL, 10) < READAHEAD_KB) {
			int len = snprintf(value, sizeof(value), "%d\n", READAHEAD_KB);
			rc = pwrite(fd, value, (size_t)len, 0) == len ? 0 : -1;
		}
	} else if (n == 0) {
		errno = EIO;
	}
	int err = errno;
	close(fd);
	errno = err;
	return rc;
}

void readahead_raise(const char *prefix, const char *mountpoint)
{
	unsigned major, minor;
	char path[64] = "";
	if (find_mount(mountpoint, &major, &minor) == 0) {
		snprintf(path, sizeof(path), "/sys/class/bdi/%u:%u/read_ahead_kb", major, minor);
		if (raise_in(path) == 0)
			return;
	}
	if (errno == EACCES || errno == EPERM)
		return;
	fprintf(stderr, "%s: warning: cannot raise the readahead of %s%s%s: %s; sequential reads "
		"through it will take more round trips\n", prefix, mountpoint, *path ? " in " : "",
		path, strerror(errno));
}
