/*
 * mountinfo.h — finding a FUSE mount in this process's mount namespace,
 * through /proc/self/mountinfo (private to tracefs/).
 */
#ifndef TRACEFS_MOUNTINFO_H
#define TRACEFS_MOUNTINFO_H

struct mountinfo_fuse {
	long id;	      /* the mount's id, as mountinfo numbers it */
	unsigned major, minor; /* its device: a stat() of it would ask the daemon */
};

/*
 * Reads the mount table MOUNTINFO (an open /proc/self/mountinfo, from its
 * start) for the newest FUSE mount at MOUNTPOINT, or, MOUNTPOINT NULL, the
 * one with id ID wherever it was moved. 1 if found (into *FOUND), 0 if
 * not, -1 with errno if the table cannot be read.
 */
int mountinfo_find_fuse(int mountinfo, const char *mountpoint, long id,
			struct mountinfo_fuse *found);

#endif
