/*
 * reserve.c — the space held back for a full disk (see reserve.h): an
 * unlinked file of RESERVE_BYTES allocated with posix_fallocate in the trace
 * file's directory. Releasing it is closing it.
 */
#include "recorder/reserve.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int rec_reserve_init(struct reserve *reserve, const char *path, size_t size)
{
	char *copy = strdup(path);

	reserve->fd = -1;
	reserve->size = size;
	reserve->dir = NULL;
	if (!copy)
		return -1;
	reserve->dir = strdup(dirname(copy));
	free(copy);
	return reserve->dir ? 0 : -1;
}

/* An anonymous file in reserve->dir, or -1. */
static int open_unlinked_file(const struct reserve *reserve)
{
	int fd = open(reserve->dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno == ENOSPC || errno == EDQUOT)
		return -1;

	/* File systems without O_TMPFILE: create a named file and unlink it. */
	char *name;
	if (asprintf(&name, "%s/.tracefs-reserve.XXXXXX", reserve->dir) < 0)
		return -1;
	fd = mkostemp(name, O_CLOEXEC);
	if (fd >= 0 && unlink(name) != 0) {
		close(fd);
		fd = -1;
	}
	free(name);
	return fd;
}

bool rec_reserve_acquire(struct reserve *reserve)
{
	if (reserve->fd >= 0)
		return true;
	if (!reserve->dir || reserve->size == 0)
		return false;
	int fd = open_unlinked_file(reserve);
	if (fd < 0)
		return false;
	if (posix_fallocate(fd, 0, (off_t)reserve->size) != 0) {
		close(fd); /* unlinked: closing frees whatever was allocated */
		return false;
	}
	reserve->fd = fd;
	return true;
}

void rec_reserve_release(struct reserve *reserve)
{
	if (reserve->fd < 0)
		return;
	close(reserve->fd); /* nothing to report: the file is gone either way */
	reserve->fd = -1;
}

void rec_reserve_destroy(struct reserve *reserve)
{
	rec_reserve_release(reserve);
	free(reserve->dir);
	reserve->dir = NULL;
}
