/*
 * main.c — the `tracefs` executable: one front door, sub-commands in the
 * manner of perf and git. A first argument that is no sub-command is the
 * mount form, as mount.fuse3 and fstab call it.
 */
#include <stdio.h>
#include <string.h>

#include "tracefs/tracefs.h"

#define TRACEFS_VERSION "0.1"

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs [mount] [options] SOURCE MOUNTPOINT\n"
		"       tracefs umount MOUNTPOINT\n"
		"       tracefs COMMAND --help\n"
		"\n"
		"A FUSE file system that records every operation on a directory into an\n"
		"SQLite trace.\n"
		"\n"
		"commands:\n"
		"  mount     mount a traced view of SOURCE at MOUNTPOINT (the default)\n"
		"  umount    unmount and wait until the trace is complete\n"
		"\n"
		"Query a trace with sqlite3, e.g.\n"
		"  sqlite3 trace.db 'SELECT op, count(*) FROM trace GROUP BY op'\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *command = argv[1];
	if (strcmp(command, "-h") == 0 || strcmp(command, "--help") == 0 ||
	    strcmp(command, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(command, "-V") == 0 || strcmp(command, "--version") == 0) {
		printf("tracefs %s\n", TRACEFS_VERSION);
		return 0;
	}
	/* argv[0] of a sub-command names it in getopt's messages. */
	if (strcmp(command, "mount") == 0) {
		argv[1] = "tracefs mount";
		return tracefs_mount_command(argc - 1, argv + 1);
	}
	if (strcmp(command, "umount") == 0 || strcmp(command, "unmount") == 0) {
		argv[1] = "tracefs umount";
		return tracefs_umount_command(argc - 1, argv + 1);
	}
	argv[0] = "tracefs";
	return tracefs_mount_command(argc, argv);
}
