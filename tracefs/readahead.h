/*
 * readahead.h — how far the kernel reads ahead on a tracefs mount (private to
 * tracefs/).
 */
#ifndef TRACEFS_READAHEAD_H
#define TRACEFS_READAHEAD_H

/* The readahead given to a mount: one FUSE request's worth (1 MiB). */
#define READAHEAD_KB 1024

/*
 * Raises the readahead of the FUSE mount at MOUNTPOINT, as this process's
 * mount namespace sees it, to READAHEAD_KB unless it is larger already.
 * What fails is printed after PREFIX, except a refusal to a user who is not
 * root: that mount keeps FUSE's default of 128 KiB, which only costs speed.
 */
void readahead_raise(const char *prefix, const char *mountpoint);

#endif
