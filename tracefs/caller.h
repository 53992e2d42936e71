/*
 * caller.h — who is calling (private to tracefs/): the process name of a
 * FUSE request's pid, and acting with the caller's credentials.
 */
#ifndef TRACEFS_CALLER_H
#define TRACEFS_CALLER_H

#include <stdint.h>
#include <sys/types.h>

#include "tracefs/lineage.h"

#define CALLER_COMM_SIZE 17 /* TASK_COMM_LEN plus a terminator */

/*
 * Puts the current process name of thread PID into COMM (returns 0, or -1
 * when unknown) and its processes row from LINEAGE into *PROCESS (0 when
 * unknown or LINEAGE is NULL). An event of a thread seen before costs one
 * pread() and a comparison.
 */
int caller_identify(pid_t pid, struct lineage *lineage, char comm[CALLER_COMM_SIZE],
		    int64_t *process);

/*
 * Makes the calling thread create files as UID/GID with GROUPS, so that the
 * backing file system sets ownership and checks permissions as it would for
 * the caller. Returns 0 or -errno; caller_creds_restore() undoes it.
 */
int caller_creds_enter(uid_t uid, gid_t gid, int group_count, const gid_t *groups);
void caller_creds_restore(void);

/* Records the daemon's own credentials; call once before any thread starts. */
int caller_creds_init(void);

#endif
