/*
 * scratch.h — a unit test's private directory: SCRATCH holds its path
 * (set by the test, e.g. with mkdtemp), scratch_remove() deletes it and
 * all it holds.
 */
#ifndef TRACEFS_TESTS_SCRATCH_H
#define TRACEFS_TESTS_SCRATCH_H

#include <errno.h>
#include <ftw.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static char scratch[64];

static inline int scratch_remove_entry(const char *path, const struct stat *st, int flag,
				       struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	if (remove(path) != 0)
		fprintf(stderr, "warning: cannot remove %s: %s\n", path, strerror(errno));
	return 0;
}

static inline void scratch_remove(void)
{
	if (scratch[0]) {
		nftw(scratch, scratch_remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		scratch[0] = '\0';
	}
}

/* Makes SCRATCH a new directory /tmp/TEST.XXXXXX; false, having said so, if it cannot. */
static inline bool scratch_make(const char *test)
{
	snprintf(scratch, sizeof(scratch), "/tmp/%s.XXXXXX", test);
	if (mkdtemp(scratch))
		return true;
	fprintf(stderr, "FAIL: mkdtemp %s: %s\n", scratch, strerror(errno));
	return false;
}

static inline const char *scratch_path(char *buf, size_t size, const char *name)
{
	snprintf(buf, size, "%s/%s", scratch, name);
	return buf;
}

static inline bool exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

#endif
