/*
 * loop.h — serving a FUSE session whose backing file system is local
 * (private to tracefs/).
 */
#ifndef TRACEFS_LOOP_H
#define TRACEFS_LOOP_H

#include "tracefs/fs.h"

/*
 * Serves requests until the session ends (unmount, or fuse_session_exit()
 * from a signal handler). Requests are processed by the thread that read
 * them; before one that may block (fsync, flock, large reads and writes,
 * ...) another thread takes over reading, so that the others are served
 * meanwhile. Meant for backing file systems where the other requests are
 * quick; for remote ones libfuse's multi-threaded loop serves requests in
 * parallel. The reading thread polls the device for up to SPIN_NS after a
 * request before it sleeps (0: never polls). Returns 0, or a negative errno.
 */
int loop_serve(struct fuse_session *se, long spin_ns);

#endif
