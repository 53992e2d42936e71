/*
 * mountinfo.c — FUSE mounts in /proc/self/mountinfo (see mountinfo.h).
 */
#include "tracefs/mountinfo.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Undoes mountinfo's octal escapes (\040 for a space, ...) in place. */
static void unescape(char *field)
{
	char *out = field;
	for (const char *in = field; *in; out++) {
		if (in[0] == '\\' && in[1] >= '0' && in[1] <= '3' && in[2] >= '0' && in[2] <= '7' &&
		    in[3] >= '0' && in[3] <= '7') {
			*out = (char)((in[1] - '0') * 64 + (in[2] - '0') * 8 + (in[3] - '0'));
			in += 4;
		} else {
			*out = *in++;
		}
	}
	*out = '\0';
}

/* Whether mountinfo LINE is the FUSE mount asked for; if so, what it is. */
static bool fuse_mount_at(char *line, const char *mountpoint, long id, struct mountinfo_fuse *mount)
{
	/* ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE ... */
	char *save = NULL;
	char *fields[5];
	for (int i = 0; i < 5; i++)
		if (!(fields[i] = strtok_r(i == 0 ? line : NULL, " ", &save)))
			return false;
	char *field;
	while ((field = strtok_r(NULL, " ", &save)) && strcmp(field, "-") != 0)
		; /* optional fields, up to the separator */
	char *fstype = strtok_r(NULL, " ", &save);
	/* fuse, fuse.SUBTYPE or fuseblk; not fusectl, FUSE's control file system */
	if (!field || !fstype ||
	    (strcmp(fstype, "fuse") != 0 && strncmp(fstype, "fuse.", 5) != 0 &&
	     strcmp(fstype, "fuseblk") != 0))
		return false;
	char *end;
	mount->id = strtol(fields[0], &end, 10);
	if (*end != '\0' || sscanf(fields[2], "%u:%u", &mount->major, &mount->minor) != 2)
		return false;
	unescape(fields[4]);
	return mountpoint ? strcmp(fields[4], mountpoint) == 0 : mount->id == id;
}

int mountinfo_find_fuse(int mountinfo, const char *mountpoint, long id,
			struct mountinfo_fuse *found)
{
	/* All of it first: a table read in parts may be torn by a change. */
	size_t size = 1 << 16, len = 0;
	char *table = malloc(size + 1);
	ssize_t n = 0;
	while (table && (n = pread(mountinfo, table + len, size - len, (off_t)len)) > 0) {
		len += (size_t)n;
		if (len == size) {
			char *bigger = realloc(table, 2 * size + 1);
			if (!bigger) {
				free(table);
				table = NULL;
				break;
			}
			table = bigger;
			size *= 2;
		}
	}
	if (!table || n == -1) {
		int err = table ? errno : ENOMEM;
		free(table);
		errno = err;
		return -1;
	}
	table[len] = '\0';
	int result = 0;
	char *save = NULL;
	for (char *line = strtok_r(table, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		struct mountinfo_fuse mount;
		if (fuse_mount_at(line, mountpoint, id, &mount)) {
			*found = mount; /* the last one: mounts stack */
			result = 1;
		}
	}
	free(table);
	return result;
}
