/*
 * uring.h — FUSE over io_uring (Linux 6.14+), private to tracefs/.
 *
 * With /dev/fuse every request wakes a daemon thread, usually on another
 * CPU, and its reply wakes the caller back. Over io_uring the kernel keeps
 * one request queue per CPU: a request is handed to the daemon thread of
 * the CPU that made it, so on a machine whose idle CPUs halt a round trip
 * costs no cross-CPU wake-up. The kernel's side of the protocol is part of
 * its stable ABI (include/uapi/linux/fuse.h); libfuse 3.14 does not speak
 * it, so this file does, and feeds each request to libfuse's ordinary
 * request processing. INIT, FORGET and interrupts still come through
 * /dev/fuse, which the usual loop keeps serving.
 */
#ifndef TRACEFS_URING_H
#define TRACEFS_URING_H

#include <stdbool.h>
#include <stddef.h>

#include "tracefs/fs.h"

/*
 * Whether the kernel serves FUSE over io_uring: its fuse module's
 * enable_uring parameter is on. With SWITCH_ON, root turns it on when it is
 * off (it only lets file systems that ask for it use io_uring). 0, or -1
 * with the reason in WHY.
 */
int uring_available(bool switch_on, char *why, size_t why_size);

/*
 * Makes SE use io_uring once the kernel's INIT has been answered: the
 * session's replies go through this module, which takes each one that
 * answers a ring request into the ring; FS answers the ring's requests
 * that libfuse does not know (fs_answer_unknown). Call after mounting,
 * before serving. 0, or -1 with errno set.
 */
int uring_attach(struct fuse_session *se, struct fs *fs);

/* How many requests came by ring so far. */
unsigned long uring_requests(void);

/* After the session ended: stops the queues' threads and frees the rings. */
void uring_detach(void);

#endif
