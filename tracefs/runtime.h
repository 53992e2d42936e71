/*
 * runtime.h — where a running daemon leaves its pid, so that
 * `tracefs umount` can wait for the trace to be complete (private).
 */
#ifndef TRACEFS_RUNTIME_H
#define TRACEFS_RUNTIME_H

#include <stddef.h>
#include <sys/types.h>

/* The absolute, canonical form of a mount point path, without resolving
 * its last component (which may be a dead mount). malloc'd, or NULL. */
char *runtime_canonical_mountpoint(const char *path);

/* Path of the pid file for the canonical MOUNTPOINT into BUF. */
int runtime_pidfile_path(const char *mountpoint, char *buf, size_t size);

int runtime_write_pidfile(const char *mountpoint);
void runtime_remove_pidfile(const char *mountpoint);

/* The daemon's pid for MOUNTPOINT, or 0 when none is running. */
pid_t runtime_read_pidfile(const char *mountpoint);

#endif
