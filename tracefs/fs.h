/*
 * fs.h — the traced passthrough file system (private to tracefs/).
 */
#ifndef TRACEFS_FS_H
#define TRACEFS_FS_H

#define FUSE_USE_VERSION FUSE_MAKE_VERSION(3, 12)
#include <fuse_lowlevel.h>
#include <stdbool.h>

#include "recorder/recorder.h"
#include "store/store.h"
#include "tracefs/lineage.h"

struct fs_options {
	bool exact;	/* no kernel caching of names, attributes or pages */
	bool direct_io; /* reads and writes bypass the page cache */
	double timeout; /* seconds the kernel may cache names and attributes */
	long poll_us;	/* how long a daemon thread polls for the next request */
	struct store *store; /* the versioned store the source is, or NULL */
	struct lineage *lineage; /* the processes of the requests, or NULL */
	int uring;	/* FUSE over io_uring: 1 asked for, 0 refused, -1 where on */
};

struct fs;

/* Takes ownership of source_fd (an O_PATH descriptor of the source
 * directory). The recorder stays the caller's; NULL: record nothing (the
 * operations are carried out alike, no event is made). Returns NULL with
 * errno set. */
struct fs *fs_create(int source_fd, struct recorder *recorder,
		     const struct fs_options *options);
void fs_destroy(struct fs *fs);

/* Whether the source is on a local file system (ext4, xfs, btrfs, tmpfs,
 * f2fs), whose operations do not wait on a network. */
bool fs_backing_is_local(const struct fs *fs);

/* Events per operation so far (for summaries). */
void fs_op_counts(struct fs *fs, uint64_t counts[TRACE_OP_COUNT]);

/*
 * Requests libfuse 3.14 does not know, answered here (FUSE_STATX: the
 * birth time): for such a REQUEST of SIZE bytes (as /dev/fuse gives it),
 * puts the whole reply into REPLY and returns its length; 0 for any
 * other request, which goes to libfuse.
 */
#define FS_STATX_REPLY_MAX 320
size_t fs_answer_unknown(struct fs *fs, const void *request, size_t size,
			 char reply[FS_STATX_REPLY_MAX]);

/* The operations to pass to fuse_session_new() with the fs as userdata. */
const struct fuse_lowlevel_ops *fs_operations(void);

#endif
