/*
 * store_fs.c — the versioned store seen from the FUSE layer: the traced
 * passthrough's events tell the store what changed (create and mkdir add,
 * rename copies and removes, unlink and rmdir remove, a write touches, the
 * close of a written file lets it commit), the store's own names are
 * refused before they reach the passthrough, and each commit the store
 * makes is handed to the recorder as one more event.
 */
#include "tracefs/store_fs.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tracefs/store_history.h"

void store_fs_note(struct store *store, const struct trace_event *e)
{
	if (e->result < 0)
		return;
	switch (e->op) {
	case TRACE_OP_WRITE:
	case TRACE_OP_FALLOCATE:
		store_touch(store, e->path, e->comm);
		break;
	case TRACE_OP_COPY_FILE_RANGE: /* into path2 */
		store_touch(store, e->path2, e->comm);
		break;
	case TRACE_OP_OPEN:
		if (e->flags & O_TRUNC)
			store_touch(store, e->path, e->comm);
		break;
	case TRACE_OP_SETATTR: /* chmod, truncate, utimens: nobody need close it */
	case TRACE_OP_CREATE:
	case TRACE_OP_MKNOD:
	case TRACE_OP_MKDIR:
	case TRACE_OP_SYMLINK:
		store_add(store, e->path, e->comm);
		break;
	case TRACE_OP_LINK:
		store_add(store, e->path2, e->comm);
		break;
	case TRACE_OP_UNLINK:
	case TRACE_OP_RMDIR:
		store_remove(store, e->path, e->comm);
		break;
	case TRACE_OP_RENAME:
		store_copy(store, e->path, e->path2, e->comm);
		if (e->flags & RENAME_EXCHANGE)
			store_copy(store, e->path2, e->path, e->comm);
		else
			store_remove(store, e->path, e->comm);
		break;
	case TRACE_OP_RELEASE:
		store_closed(store, e->path);
		break;
	case TRACE_OP_OPENDIR:
		store_listed(store);
		break;
	default:
		break;
	}
}

void store_fs_committed(void *ctx, const struct store_commit *commit)
{
	struct recorder *recorder = ctx;
	struct trace_event event = {
		.ts_ns = commit->start_ns,
		.dur_ns = commit->dur_ns,
		.bytes = commit->files,
		.offset = -1,
		.path = commit->path,
		.path2 = commit->id[0] ? commit->id : NULL,
		.comm = "tracefs",
		.pid = getpid(),
		.uid = getuid(),
		.gid = getgid(),
		.result = commit->result,
		.op = TRACE_OP_COMMIT,
		.kind = TRACE_KIND_DIR,
	};
	recorder_submit(recorder, &event);
}

/* ---- reserved names: refused before the passthrough sees them; around
 * them, the history (store_history.c) */

static const struct fuse_lowlevel_ops *base;
static struct fuse_lowlevel_ops guarded;
static pthread_once_t guarded_once = PTHREAD_ONCE_INIT;

static void guard_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, ENOENT);
	else
		base->lookup(req, parent, name);
}

static void guard_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			dev_t rdev)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, EPERM);
	else
		base->mknod(req, parent, name, mode, rdev);
}

static void guard_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, EPERM);
	else
		base->mkdir(req, parent, name, mode);
}

static void guard_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, EPERM);
	else
		base->symlink(req, link, parent, name);
}

static void guard_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	if (store_is_reserved(newname))
		fuse_reply_err(req, EPERM);
	else
		base->link(req, ino, newparent, newname);
}

static void guard_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, ENOENT);
	else
		base->unlink(req, parent, name);
}

static void guard_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, ENOENT);
	else
		base->rmdir(req, parent, name);
}

static void guard_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
			 fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, ENOENT);
	else if (store_is_reserved(newname))
		fuse_reply_err(req, EPERM);
	else
		base->rename(req, parent, name, newparent, newname, flags);
}

static void guard_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
			 struct fuse_file_info *fi)
{
	if (store_is_reserved(name))
		fuse_reply_err(req, EPERM);
	else
		base->create(req, parent, name, mode, fi);
}

static void make_guarded(void)
{
	base = fs_operations();
	guarded = *base;
	guarded.lookup = guard_lookup;
	guarded.mknod = guard_mknod;
	guarded.mkdir = guard_mkdir;
	guarded.symlink = guard_symlink;
	guarded.link = guard_link;
	guarded.unlink = guard_unlink;
	guarded.rmdir = guard_rmdir;
	guarded.rename = guard_rename;
	guarded.create = guard_create;
	store_history_wrap(&guarded);
}

const struct fuse_lowlevel_ops *store_fs_operations(void)
{
	pthread_once(&guarded_once, make_guarded);
	return &guarded;
}

/* ---- options */

static int parse_number(const char *option, const char *value, long max, int *out)
{
	char *end;
	errno = 0;
	long n = strtol(value, &end, 10);
	if (*end || end == value || errno || n < 0 || n > max) {
		fprintf(stderr, "tracefs: -o %s: expected a whole number from 0 to %ld\n", option,
			max);
		return -1;
	}
	*out = (int)n;
	return 1;
}

int store_fs_apply_option(bool *enabled, struct store_options *options, const char *option)
{
	if (strcmp(option, "store") == 0) {
		*enabled = true;
		return 1;
	}
	if (strncmp(option, "store_quiet=", 12) == 0)
		return parse_number(option, option + 12, 3600000, &options->quiet_ms);
	if (strncmp(option, "store_sync=", 11) == 0)
		return parse_number(option, option + 11, 86400 * 365, &options->sync_interval_s);
	return 0;
}
