/*
 * loop.h — serving a FUSE session whose backing file system is local
 * (private to tracefs/).
 */
#ifndef TRACEFS_LOOP_H
#define TRACEFS_LOOP_H

#include <linux/fuse.h>
#include <stdbool.h>
#include <stddef.h>

#include "tracefs/fs.h"

/*
 * Serves requests until the session ends (unmount, or fuse_session_exit()
 * from a signal handler), with libfuse, and with FS for what libfuse does
 * not know (fs_answer_unknown). Requests are processed by the thread that read
 * them; before one that may block (fsync, flock, large reads and writes,
 * ...) another thread takes over reading, so that the others are served
 * meanwhile. Meant for backing file systems where the other requests are
 * quick; for remote ones libfuse's multi-threaded loop serves requests in
 * parallel. The reading thread polls the device for up to SPIN_NS after a
 * request before it sleeps (0: never polls). MOUNTPOINT (NULL: none) is
 * where the session was mounted in our mount namespace: the session also
 * ends when that mount is gone from it, though a copy in another
 * namespace keeps the kernel's connection. Returns 0, LOOP_GONE when it
 * ended so (the caller must not unmount: the mount point may be
 * another's by now), or a negative errno.
 */
#define LOOP_GONE 1
int loop_serve(struct fuse_session *se, struct fs *fs, long spin_ns, const char *mountpoint);

/*
 * Whether serving the request IN, of which SIZE bytes are at hand (its
 * header and fixed argument at least), may take long: waiting locks,
 * fsync, fallocate, copy_file_range, reads and writes of 128 KiB or more.
 */
bool loop_request_may_block(const struct fuse_in_header *in, size_t size);

#endif
