/*
 * fs.c — the traced passthrough: every FUSE low-level operation is carried
 * out on the backing directory through the O_PATH descriptors of the inode
 * table, and becomes one event for the recorder.
 *
 * The design follows libfuse's passthrough_ll: no path is ever resolved in
 * the backing tree (so the mount can sit on top of its own source), objects
 * are reached through /proc/self/fd where a call has no *at() form that
 * accepts an O_PATH descriptor. Each event is finished just before the
 * reply, while the caller still waits (its process name is readable) and
 * the nodes it names are still alive.
 */
#include "tracefs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "tracefs/caller.h"
#include "tracefs/nodes.h"
#include "tracefs/readahead.h"
#include "tracefs/store_fs.h"

#define MAX_CALLER_GROUPS 256

struct fs {
	struct node_table nodes;
	struct recorder *recorder;
	_Atomic uint64_t op_counts[REC_OP_COUNT];
	struct fs_options options;
	uid_t daemon_uid;
	gid_t daemon_gid;
	bool source_has_acls; /* the backing file system knows POSIX ACLs */
	bool kernel_acls;     /* the kernel caches and enforces them (FUSE_CAP_POSIX_ACL) */
	bool close_cannot_fail; /* the source's file system is local, without a flush method */
};

struct dir_handle {
	DIR *dir;
	off_t offset;
	struct dirent *entry; /* read but not yet sent, or NULL */
};

/* One event being captured. */
struct trace {
	struct rec_event event;
	int64_t start_ns; /* CLOCK_MONOTONIC */
	char *path;
	char *path2;
	struct fs *fs;
	char comm[CALLER_COMM_SIZE];
};

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct node *node_of(fuse_req_t req, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs_of(req)->nodes.root;
	return (struct node *)(uintptr_t)ino;
}

static fuse_ino_t ino_of(struct fs *fs, struct node *node)
{
	return node == &fs->nodes.root ? FUSE_ROOT_ID : (fuse_ino_t)(uintptr_t)node;
}

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;
	clock_gettime(clock, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint8_t kind_of(mode_t type)
{
	switch (type & S_IFMT) {
	case 0:
		return REC_KIND_NONE;
	case S_IFREG:
		return REC_KIND_FILE;
	case S_IFDIR:
		return REC_KIND_DIR;
	case S_IFLNK:
		return REC_KIND_SYMLINK;
	default:
		return REC_KIND_OTHER;
	}
}

static void trace_begin(struct trace *t, fuse_req_t req, enum rec_op op)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	memset(&t->event, 0, sizeof(t->event));
	t->event.ts_ns = clock_ns(CLOCK_REALTIME);
	t->start_ns = clock_ns(CLOCK_MONOTONIC);
	t->event.op = (uint8_t)op;
	t->event.pid = ctx->pid;
	t->event.uid = ctx->uid;
	t->event.gid = ctx->gid;
	t->event.bytes = -1;
	t->event.offset = -1;
	t->path = NULL;
	t->path2 = NULL;
	t->fs = fs_of(req);
}

/* Begins an event about the node INO; returns that node. */
static struct node *trace_node(struct trace *t, fuse_req_t req, enum rec_op op,
			       fuse_ino_t ino)
{
	trace_begin(t, req, op);
	struct node *node = node_of(req, ino);
	t->path = nodes_path(&t->fs->nodes, node);
	t->event.kind = kind_of(node->type);
	return node;
}

/* Begins an event about NAME in the directory PARENT; returns the parent. */
static struct node *trace_child(struct trace *t, fuse_req_t req, enum rec_op op,
				fuse_ino_t parent, const char *name)
{
	trace_begin(t, req, op);
	struct node *node = node_of(req, parent);
	t->path = nodes_child_path(&t->fs->nodes, node, name);
	return node;
}

/* Finishes the event with RESULT (0 or -errno) and hands it to the recorder. */
static void trace_end(struct trace *t, int result)
{
	t->event.result = result;
	t->event.dur_ns = clock_ns(CLOCK_MONOTONIC) - t->start_ns;
	if (caller_comm(t->event.pid, t->comm) == 0)
		t->event.comm = t->comm;
	/* A path the table could not allocate is recorded as unknown rather
	 * than failing the operation. */
	t->event.path = t->path ? t->path : "?";
	t->event.path2 = t->path2;
	recorder_submit(t->fs->recorder, &t->event);
	if (t->fs->options.store)
		store_fs_note(t->fs->options.store, &t->event);
	atomic_fetch_add_explicit(&t->fs->op_counts[t->event.op], 1, memory_order_relaxed);
	free(t->path);
	free(t->path2);
}

static int result_of(int rc)
{
	return rc == -1 ? -errno : 0;
}

static void reply_result(fuse_req_t req, int result)
{
	fuse_reply_err(req, result < 0 ? -result : 0);
}

static void proc_path(char buf[32], int fd)
{
	snprintf(buf, 32, "/proc/self/fd/%d", fd);
}

/*
 * Makes the calling thread act as the caller of REQ, so that what it
 * creates belongs to the caller. A no-op when the caller is the daemon's
 * own user. Returns 1 when switched, 0 when not needed, or -errno.
 */
static int enter_caller(fuse_req_t req)
{
	struct fs *fs = fs_of(req);
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	if (ctx->uid == fs->daemon_uid && ctx->gid == fs->daemon_gid)
		return 0;
	gid_t groups[MAX_CALLER_GROUPS];
	int count = fuse_req_getgroups(req, MAX_CALLER_GROUPS, groups);
	if (count > MAX_CALLER_GROUPS)
		count = MAX_CALLER_GROUPS;
	if (count < 0) {
		groups[0] = ctx->gid;
		count = 1;
	}
	int rc = caller_creds_enter(ctx->uid, ctx->gid, count, groups);
	return rc < 0 ? rc : 1;
}

static void leave_caller(int entered)
{
	if (entered > 0)
		caller_creds_restore();
}

/* Looks NAME up in PARENT and fills E; the node gains one kernel lookup. */
static int make_entry(struct fs *fs, struct node *parent, const char *name,
		      struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int fd = openat(parent->fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1)
		return -errno;
	if (fstatat(fd, "", &e->attr, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1) {
		int err = -errno;
		close(fd);
		return err;
	}
	struct node *node = nodes_add_lookup(&fs->nodes, parent, name, fd, &e->attr);
	if (!node)
		return -errno;
	e->ino = ino_of(fs, node);
	e->attr_timeout = fs->options.timeout;
	e->entry_timeout = fs->options.timeout;
	return 0;
}

/* Sends E; if the kernel did not take it (interrupted), undoes the lookup. */
static void reply_entry(fuse_req_t req, const struct fuse_entry_param *e)
{
	if (fuse_reply_entry(req, e) == -ENOENT && e->ino)
		nodes_forget(&fs_of(req)->nodes, node_of(req, e->ino), 1);
}

static void reply_create(fuse_req_t req, const struct fuse_entry_param *e,
			 const struct fuse_file_info *fi)
{
	if (fuse_reply_create(req, e, fi) == -ENOENT) {
		close((int)fi->fh);
		nodes_forget(&fs_of(req)->nodes, node_of(req, e->ino), 1);
	}
}

static void op_init(void *userdata, struct fuse_conn_info *conn)
{
	struct fs *fs = userdata;
	if (conn->capable & FUSE_CAP_FLOCK_LOCKS)
		conn->want |= FUSE_CAP_FLOCK_LOCKS;
	/* Lookups and readdirs in one directory need not wait for each
	 * other: the inode table has its own locks. */
	if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
		conn->want |= FUSE_CAP_PARALLEL_DIROPS;
	/*
	 * POSIX ACLs: the kernel enforces them (without this, default
	 * permissions look at the mode bits only, and a user an ACL lets in
	 * is refused) and caches them with the attributes, so that `ls -l`
	 * does not ask for system.posix_acl_access of every file every time.
	 * The kernel still applies the umask itself (no FUSE_CAP_DONT_MASK).
	 * Only when the backing file system has ACLs: the kernel takes an
	 * EOPNOTSUPP from it for an error of every permission check.
	 */
	if (fs->source_has_acls && (conn->capable & FUSE_CAP_POSIX_ACL)) {
		conn->want |= FUSE_CAP_POSIX_ACL;
		fs->kernel_acls = true;
	}
	/* The kernel would otherwise keep mtime itself and merge writes,
	 * and the trace would show neither faithfully. */
	conn->want &= ~FUSE_CAP_WRITEBACK_CACHE;
	conn->time_gran = 1;
	/* The kernel keeps the smaller of this and the mount's readahead,
	 * which readahead_raise() set before this request was served. */
	conn->max_readahead = READAHEAD_KB * 1024;
}

static void op_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_LOOKUP, parent, name);
	struct fuse_entry_param e;
	int rc = make_entry(t.fs, dir, name, &e);
	t.event.kind = rc == 0 ? kind_of(e.attr.st_mode) : REC_KIND_NONE;
	trace_end(&t, rc);
	if (rc == -ENOENT && t.fs->options.timeout > 0) {
		/* A negative entry: the kernel caches the absence too. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = t.fs->options.timeout;
		fuse_reply_entry(req, &e);
	} else if (rc) {
		reply_result(req, rc);
	} else {
		reply_entry(req, &e);
	}
}

static void op_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	nodes_forget(&fs_of(req)->nodes, node_of(req, ino), nlookup);
	fuse_reply_none(req);
}

static void op_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	for (size_t i = 0; i < count; i++)
		nodes_forget(&fs_of(req)->nodes, node_of(req, forgets[i].ino),
			     forgets[i].nlookup);
	fuse_reply_none(req);
}

static void op_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_GETATTR, ino);
	struct stat st;
	int rc = fi ? fstat((int)fi->fh, &st)
		    : fstatat(node->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW);
	rc = result_of(rc);
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_attr(req, &st, t.fs->options.timeout);
}

/* utimensat() for NODE, which for a symlink must not follow it. */
static int set_times(struct fs *fs, struct node *node, const struct timespec times[2])
{
	if (node->type == S_IFLNK) {
		int parent_fd;
		char *name = nodes_name_in_parent(&fs->nodes, node, &parent_fd);
		if (!name)
			return -1;
		int rc = utimensat(parent_fd, name, times, AT_SYMLINK_NOFOLLOW);
		int saved = errno;
		free(name);
		close(parent_fd);
		errno = saved;
		return rc;
	}
	char path[32];
	proc_path(path, node->fd);
	return utimensat(AT_FDCWD, path, times, 0);
}

static int apply_setattr(struct fs *fs, struct node *node, const struct stat *attr,
			 int valid, const struct fuse_file_info *fi)
{
	char path[32];
	proc_path(path, node->fd);
	if (valid & FUSE_SET_ATTR_MODE) {
		if (node->type == S_IFLNK)
			return -EOPNOTSUPP;
		int rc = fi ? fchmod((int)fi->fh, attr->st_mode)
			    : fchmodat(AT_FDCWD, path, attr->st_mode, 0);
		if (rc == -1)
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		if (fchownat(node->fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		int rc = fi ? ftruncate((int)fi->fh, attr->st_size) : truncate(path, attr->st_size);
		if (rc == -1)
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME)) {
		struct timespec times[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_nsec = UTIME_OMIT}};
		if (valid & FUSE_SET_ATTR_ATIME_NOW)
			times[0].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_ATIME)
			times[0] = attr->st_atim;
		if (valid & FUSE_SET_ATTR_MTIME_NOW)
			times[1].tv_nsec = UTIME_NOW;
		else if (valid & FUSE_SET_ATTR_MTIME)
			times[1] = attr->st_mtim;
		int rc = fi ? futimens((int)fi->fh, times) : set_times(fs, node, times);
		if (rc == -1)
			return -errno;
	}
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		       struct fuse_file_info *fi)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_SETATTR, ino);
	t.event.flags = (uint32_t)valid;
	if (valid & FUSE_SET_ATTR_MODE)
		t.event.mode = attr->st_mode;
	if (valid & FUSE_SET_ATTR_SIZE)
		t.event.offset = attr->st_size;
	int rc = apply_setattr(t.fs, node, attr, valid, fi);
	struct stat st;
	if (rc == 0)
		rc = result_of(fstatat(node->fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_attr(req, &st, t.fs->options.timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_READLINK, ino);
	char target[PATH_MAX + 1];
	ssize_t n = readlinkat(node->fd, "", target, sizeof(target));
	int rc = n == -1 ? -errno : n == sizeof(target) ? -ENAMETOOLONG : 0;
	if (rc == 0) {
		target[n] = '\0';
		t.event.bytes = n;
	}
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_readlink(req, target);
}

/* Ends a creating operation: looks the new object up and replies. */
static void finish_make(fuse_req_t req, struct trace *t, struct node *dir,
			const char *name, int rc)
{
	struct fuse_entry_param e;
	if (rc == 0) {
		rc = make_entry(t->fs, dir, name, &e);
		if (rc == 0)
			t->event.kind = kind_of(e.attr.st_mode);
	}
	trace_end(t, rc);
	if (rc)
		reply_result(req, rc);
	else
		reply_entry(req, &e);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_MKNOD, parent, name);
	t.event.mode = mode;
	t.event.kind = kind_of(mode);
	int entered = enter_caller(req);
	int rc = entered < 0 ? entered : result_of(mknodat(dir->fd, name, mode, rdev));
	leave_caller(entered);
	finish_make(req, &t, dir, name, rc);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_MKDIR, parent, name);
	t.event.mode = mode;
	t.event.kind = REC_KIND_DIR;
	int entered = enter_caller(req);
	int rc = entered < 0 ? entered : result_of(mkdirat(dir->fd, name, mode));
	leave_caller(entered);
	finish_make(req, &t, dir, name, rc);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_SYMLINK, parent, name);
	t.event.kind = REC_KIND_SYMLINK;
	t.path2 = strdup(link);
	int entered = enter_caller(req);
	int rc = entered < 0 ? entered : result_of(symlinkat(link, dir->fd, name));
	leave_caller(entered);
	finish_make(req, &t, dir, name, rc);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_LINK, ino);
	struct node *dir = node_of(req, newparent);
	t.path2 = nodes_child_path(&t.fs->nodes, dir, newname);
	char path[32];
	proc_path(path, node->fd);
	int entered = enter_caller(req);
	int rc = entered < 0 ? entered
			     : result_of(linkat(AT_FDCWD, path, dir->fd, newname, AT_SYMLINK_FOLLOW));
	leave_caller(entered);
	finish_make(req, &t, dir, newname, rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_UNLINK, parent, name);
	struct stat st;
	if (fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		t.event.kind = kind_of(st.st_mode);
	int rc = result_of(unlinkat(dir->fd, name, 0));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_RMDIR, parent, name);
	t.event.kind = REC_KIND_DIR;
	int rc = result_of(unlinkat(dir->fd, name, AT_REMOVEDIR));
	trace_end(&t, rc);
	reply_result(req, rc);
}

/* The node the kernel knows for NAME in DIR, or NULL. */
static struct node *known_child(struct fs *fs, struct node *dir, const char *name,
				struct stat *st)
{
	if (fstatat(dir->fd, name, st, AT_SYMLINK_NOFOLLOW) == -1) {
		st->st_mode = 0;
		return NULL;
	}
	return nodes_find(&fs->nodes, st->st_dev, st->st_ino);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_RENAME, parent, name);
	struct node *newdir = node_of(req, newparent);
	t.path2 = nodes_child_path(&t.fs->nodes, newdir, newname);
	t.event.flags = flags;
	struct stat st, st2;
	struct node *moved = known_child(t.fs, dir, name, &st);
	struct node *swapped = (flags & RENAME_EXCHANGE) ? known_child(t.fs, newdir, newname, &st2)
							 : NULL;
	t.event.kind = kind_of(st.st_mode);
	int rc = result_of(renameat2(dir->fd, name, newdir->fd, newname, flags));
	/* A failed name update only leaves an older path in later events. */
	if (rc == 0 && moved)
		nodes_rename(&t.fs->nodes, moved, newdir, newname);
	if (rc == 0 && swapped)
		nodes_rename(&t.fs->nodes, swapped, dir, name);
	trace_end(&t, rc);
	reply_result(req, rc);
}

/*
 * Whether the kernel may skip FLUSH when a file on device DEV is closed.
 * A flush only reports the errors close() of the backing file would: none
 * on the local file systems below, which have no flush method (NFS, CIFS,
 * FUSE and others can report write errors there, so they keep it). Files
 * on another file system mounted below the source keep it too. Not in
 * exact mode, which shows every request the kernel can send.
 */
static bool flush_is_noop(const struct fs *fs, dev_t dev)
{
	return fs->close_cannot_fail && dev == fs->nodes.root.dev && !fs->options.exact;
}

static void op_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_OPEN, ino);
	t.event.flags = (uint32_t)fi->flags;
	char path[32];
	proc_path(path, node->fd);
	int fd = open(path, (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC);
	int rc = result_of(fd);
	if (rc == 0) {
		fi->fh = (uint64_t)fd;
		fi->direct_io = t.fs->options.direct_io;
		fi->keep_cache = !t.fs->options.exact;
		fi->noflush = flush_is_noop(t.fs, node->dev);
	}
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		close(fd);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct trace t;
	struct node *dir = trace_child(&t, req, REC_OP_CREATE, parent, name);
	t.event.flags = (uint32_t)fi->flags;
	t.event.mode = mode;
	t.event.kind = REC_KIND_FILE;
	int entered = enter_caller(req);
	int fd = entered < 0 ? -1
			     : openat(dir->fd, name, (fi->flags | O_CREAT | O_CLOEXEC) & ~O_NOFOLLOW,
				      mode);
	int rc = entered < 0 ? entered : result_of(fd);
	leave_caller(entered);
	struct fuse_entry_param e;
	if (rc == 0) {
		rc = make_entry(t.fs, dir, name, &e);
		if (rc)
			close(fd);
	}
	if (rc == 0) {
		fi->fh = (uint64_t)fd;
		fi->direct_io = t.fs->options.direct_io;
		fi->keep_cache = !t.fs->options.exact;
		fi->noflush = flush_is_noop(t.fs, e.attr.st_dev);
	}
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		reply_create(req, &e, fi);
}

/* A per-thread buffer for read replies, kept between requests. */
static pthread_key_t read_buffer_key;
static pthread_once_t read_buffer_once = PTHREAD_ONCE_INIT;

struct read_buffer {
	size_t size;
	char data[];
};

static void make_read_buffer_key(void)
{
	if (pthread_key_create(&read_buffer_key, free) != 0)
		abort();
}

static char *thread_read_buffer(size_t size)
{
	pthread_once(&read_buffer_once, make_read_buffer_key);
	struct read_buffer *buffer = pthread_getspecific(read_buffer_key);
	if (buffer && buffer->size >= size)
		return buffer->data;
	struct read_buffer *bigger = malloc(sizeof(*bigger) + size);
	if (!bigger || pthread_setspecific(read_buffer_key, bigger) != 0) {
		free(bigger);
		return NULL;
	}
	free(buffer);
	bigger->size = size;
	return bigger->data;
}

static void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		    struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_READ, ino);
	t.event.offset = off;
	/* Read into memory rather than splicing, so that the trace knows
	 * exactly how many bytes moved. */
	char *buffer = thread_read_buffer(size);
	ssize_t n = buffer ? pread((int)fi->fh, buffer, size, off) : -1;
	int rc = buffer ? result_of((int)n) : -ENOMEM;
	if (rc == 0)
		t.event.bytes = n;
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_buf(req, buffer, (size_t)n);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_WRITE, ino);
	t.event.offset = off;
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in, 0);
	int rc = n < 0 ? (int)n : 0;
	if (rc == 0)
		t.event.bytes = n;
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_FLUSH, ino);
	/* Closing a duplicate reports the errors close() would, e.g. from NFS,
	 * while the descriptor stays open until release. */
	int dup_fd = dup((int)fi->fh);
	int rc = dup_fd == -1 ? -errno : result_of(close(dup_fd));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_RELEASE, ino);
	close((int)fi->fh);
	trace_end(&t, 0);
	reply_result(req, 0);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_FSYNC, ino);
	t.event.flags = (uint32_t)datasync;
	int rc = result_of(datasync ? fdatasync((int)fi->fh) : fsync((int)fi->fh));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_OPENDIR, ino);
	t.event.flags = (uint32_t)fi->flags;
	int rc = 0;
	struct dir_handle *handle = calloc(1, sizeof(*handle));
	int fd = handle ? openat(node->fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (!handle)
		rc = -ENOMEM;
	else if (fd == -1)
		rc = -errno;
	else if (!(handle->dir = fdopendir(fd)))
		rc = -errno;
	if (rc) {
		if (fd != -1)
			close(fd);
		free(handle);
	} else {
		fi->fh = (uint64_t)(uintptr_t)handle;
		/* The kernel may keep the listing across opens; it drops it
		 * when the directory's mtime changes (checked against
		 * attributes at most `timeout` old), as for file contents. */
		fi->cache_readdir = !t.fs->options.exact;
		fi->keep_cache = !t.fs->options.exact;
	}
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else if (fuse_reply_open(req, fi) == -ENOENT) {
		closedir(handle->dir);
		free(handle);
	}
}

static bool is_dot_or_dotdot(const char *name)
{
	return name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'));
}

/* Adds one directory entry to BUF; returns its size (more than ROOM when
 * it does not fit, in which case nothing was added) or -errno. */
static ssize_t add_entry(fuse_req_t req, struct node *dir, const struct dirent *entry,
			 bool plus, char *buf, size_t room)
{
	struct fs *fs = fs_of(req);
	if (fs->options.store && store_is_reserved(entry->d_name))
		return 0; /* never shown */
	if (!plus) {
		struct stat st = {.st_ino = entry->d_ino, .st_mode = (mode_t)entry->d_type << 12};
		return (ssize_t)fuse_add_direntry(req, buf, room, entry->d_name, &st, entry->d_off);
	}
	struct fuse_entry_param e;
	if (is_dot_or_dotdot(entry->d_name)) {
		memset(&e, 0, sizeof(e));
		e.attr.st_ino = entry->d_ino;
		e.attr.st_mode = (mode_t)entry->d_type << 12;
		return (ssize_t)fuse_add_direntry_plus(req, buf, room, entry->d_name, &e,
						       entry->d_off);
	}
	int rc = make_entry(fs, dir, entry->d_name, &e);
	if (rc)
		return rc;
	size_t size = fuse_add_direntry_plus(req, buf, room, entry->d_name, &e, entry->d_off);
	if (size > room)
		nodes_forget(&fs->nodes, node_of(req, e.ino), 1);
	return (ssize_t)size;
}

static void read_directory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct trace t;
	struct node *dir = trace_node(&t, req, REC_OP_READDIR, ino);
	t.event.offset = off;
	struct dir_handle *handle = (struct dir_handle *)(uintptr_t)fi->fh;
	char *buf = malloc(size);
	size_t used = 0;
	int rc = buf ? 0 : -ENOMEM;
	if (buf && off != handle->offset) {
		seekdir(handle->dir, off);
		handle->entry = NULL;
		handle->offset = off;
	}
	while (rc == 0) {
		if (!handle->entry) {
			errno = 0;
			handle->entry = readdir(handle->dir);
			if (!handle->entry) {
				rc = errno ? -errno : 0;
				break;
			}
		}
		ssize_t n = add_entry(req, dir, handle->entry, plus, buf + used, size - used);
		if (n < 0) {
			rc = (int)n;
			break;
		}
		if ((size_t)n > size - used)
			break;
		used += (size_t)n;
		handle->offset = handle->entry->d_off;
		handle->entry = NULL;
	}
	/* Entries already added are sent; the error comes with the next call. */
	if (used > 0)
		rc = 0;
	t.event.bytes = (int64_t)used;
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_buf(req, buf, used);
	free(buf);
}

static void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		       struct fuse_file_info *fi)
{
	read_directory(req, ino, size, off, fi, false);
}

static void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi)
{
	read_directory(req, ino, size, off, fi, true);
}

static void op_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_RELEASEDIR, ino);
	struct dir_handle *handle = (struct dir_handle *)(uintptr_t)fi->fh;
	closedir(handle->dir);
	free(handle);
	trace_end(&t, 0);
	reply_result(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_FSYNCDIR, ino);
	t.event.flags = (uint32_t)datasync;
	int fd = dirfd(((struct dir_handle *)(uintptr_t)fi->fh)->dir);
	int rc = result_of(datasync ? fdatasync(fd) : fsync(fd));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_STATFS, ino);
	struct statvfs st;
	int rc = result_of(fstatvfs(node->fd, &st));
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_statfs(req, &st);
}

/*
 * How the xattr calls reach NODE: through its /proc/self/fd link, followed;
 * or for a symlink, whose own attributes are wanted and not its target's,
 * through its parent's link plus its name, not followed.
 */
struct xattr_target {
	char *path;
	int held_fd; /* to close afterwards, or -1 */
	bool follow;
};

static int xattr_target_open(struct fs *fs, struct node *node, struct xattr_target *x)
{
	x->held_fd = -1;
	x->follow = node->type != S_IFLNK;
	if (x->follow)
		return asprintf(&x->path, "/proc/self/fd/%d", node->fd) == -1 ? -ENOMEM : 0;
	char *name = nodes_name_in_parent(&fs->nodes, node, &x->held_fd);
	if (!name)
		return -errno;
	int rc = asprintf(&x->path, "/proc/self/fd/%d/%s", x->held_fd, name) == -1 ? -ENOMEM : 0;
	free(name);
	if (rc)
		close(x->held_fd);
	return rc;
}

static void xattr_target_close(struct xattr_target *x)
{
	free(x->path);
	if (x->held_fd != -1)
		close(x->held_fd);
}

static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_SETXATTR, ino);
	t.path2 = strdup(name);
	t.event.flags = (uint32_t)flags;
	t.event.bytes = (int64_t)size;
	struct xattr_target x;
	int rc = xattr_target_open(t.fs, node, &x);
	if (rc == 0) {
		rc = result_of(x.follow ? setxattr(x.path, name, value, size, flags)
					: lsetxattr(x.path, name, value, size, flags));
		xattr_target_close(&x);
	}
	trace_end(&t, rc);
	reply_result(req, rc);
}

/* Replies to a getxattr or listxattr call that returned N (or -1). */
static void reply_xattr_value(fuse_req_t req, struct trace *t, int rc, ssize_t n,
			      const char *value, size_t size)
{
	if (rc == 0)
		t->event.bytes = n;
	trace_end(t, rc);
	if (rc)
		reply_result(req, rc);
	else if (size)
		fuse_reply_buf(req, value, (size_t)n);
	else
		fuse_reply_xattr(req, (size_t)n);
}

static bool is_acl_name(const char *name)
{
	return strcmp(name, "system.posix_acl_access") == 0 ||
	       strcmp(name, "system.posix_acl_default") == 0;
}

static void op_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_GETXATTR, ino);
	t.path2 = strdup(name);
	char *value = size ? malloc(size) : NULL;
	ssize_t n = -1;
	struct xattr_target x;
	int rc = size && !value ? -ENOMEM : xattr_target_open(t.fs, node, &x);
	if (rc == 0) {
		n = x.follow ? getxattr(x.path, name, value, size)
			     : lgetxattr(x.path, name, value, size);
		rc = n == -1 ? -errno : 0;
		xattr_target_close(&x);
	}
	/* A part of the tree without ACLs (another file system mounted
	 * below the source) has none: the kernel, which asks to check
	 * permissions, must not get an error. */
	if (rc == -EOPNOTSUPP && t.fs->kernel_acls && is_acl_name(name))
		rc = -ENODATA;
	reply_xattr_value(req, &t, rc, n, value, size);
	free(value);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_LISTXATTR, ino);
	char *list = size ? malloc(size) : NULL;
	ssize_t n = -1;
	struct xattr_target x;
	int rc = size && !list ? -ENOMEM : xattr_target_open(t.fs, node, &x);
	if (rc == 0) {
		n = x.follow ? listxattr(x.path, list, size) : llistxattr(x.path, list, size);
		rc = n == -1 ? -errno : 0;
		xattr_target_close(&x);
	}
	reply_xattr_value(req, &t, rc, n, list, size);
	free(list);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_REMOVEXATTR, ino);
	t.path2 = strdup(name);
	struct xattr_target x;
	int rc = xattr_target_open(t.fs, node, &x);
	if (rc == 0) {
		rc = result_of(x.follow ? removexattr(x.path, name) : lremovexattr(x.path, name));
		xattr_target_close(&x);
	}
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct trace t;
	struct node *node = trace_node(&t, req, REC_OP_ACCESS, ino);
	t.event.flags = (uint32_t)mask;
	char path[32];
	proc_path(path, node->fd);
	int entered = enter_caller(req);
	int rc = entered < 0 ? entered : result_of(faccessat(AT_FDCWD, path, mask, 0));
	leave_caller(entered);
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct trace t;
	trace_node(&t, req, REC_OP_FLOCK, ino);
	t.event.flags = (uint32_t)op;
	int rc = result_of(flock((int)fi->fh, op));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_FALLOCATE, ino);
	t.event.flags = (uint32_t)mode;
	t.event.offset = offset;
	t.event.bytes = length;
	int rc = result_of(fallocate((int)fi->fh, mode, offset, length));
	trace_end(&t, rc);
	reply_result(req, rc);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct trace t;
	trace_node(&t, req, REC_OP_COPY_FILE_RANGE, ino_in);
	t.path2 = nodes_path(&t.fs->nodes, node_of(req, ino_out));
	t.event.offset = off_in;
	t.event.flags = (uint32_t)flags;
	ssize_t n = copy_file_range((int)fi_in->fh, &off_in, (int)fi_out->fh, &off_out, len,
				    (unsigned int)flags);
	int rc = n == -1 ? -errno : 0;
	if (rc == 0)
		t.event.bytes = n;
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct trace t;
	trace_node(&t, req, REC_OP_LSEEK, ino);
	t.event.flags = (uint32_t)whence;
	off_t position = lseek((int)fi->fh, off, whence);
	int rc = position == -1 ? -errno : 0;
	t.event.offset = rc ? off : position;
	trace_end(&t, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_lseek(req, position);
}

static const struct fuse_lowlevel_ops operations = {
	.init = op_init,
	.lookup = op_lookup,
	.forget = op_forget,
	.forget_multi = op_forget_multi,
	.getattr = op_getattr,
	.setattr = op_setattr,
	.readlink = op_readlink,
	.mknod = op_mknod,
	.mkdir = op_mkdir,
	.symlink = op_symlink,
	.link = op_link,
	.unlink = op_unlink,
	.rmdir = op_rmdir,
	.rename = op_rename,
	.open = op_open,
	.create = op_create,
	.read = op_read,
	.write_buf = op_write_buf,
	.flush = op_flush,
	.release = op_release,
	.fsync = op_fsync,
	.opendir = op_opendir,
	.readdir = op_readdir,
	.readdirplus = op_readdirplus,
	.releasedir = op_releasedir,
	.fsyncdir = op_fsyncdir,
	.statfs = op_statfs,
	.setxattr = op_setxattr,
	.getxattr = op_getxattr,
	.listxattr = op_listxattr,
	.removexattr = op_removexattr,
	.access = op_access,
	.flock = op_flock,
	.fallocate = op_fallocate,
	.copy_file_range = op_copy_file_range,
	.lseek = op_lseek,
};

const struct fuse_lowlevel_ops *fs_operations(void)
{
	return &operations;
}

struct fs *fs_create(int source_fd, struct recorder *recorder, const struct fs_options *options)
{
	struct fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return NULL;
	if (nodes_init(&fs->nodes, source_fd) == -1) {
		free(fs);
		return NULL;
	}
	fs->recorder = recorder;
	fs->options = *options;
	fs->daemon_uid = geteuid();
	fs->daemon_gid = getegid();
	char path[32];
	proc_path(path, source_fd);
	fs->source_has_acls = getxattr(path, "system.posix_acl_access", NULL, 0) >= 0 ||
			      (errno != EOPNOTSUPP && errno != ENOSYS);
	struct statfs sfs;
	if (fstatfs(source_fd, &sfs) == 0) {
		switch ((unsigned long)sfs.f_type) {
		case 0xEF53:	 /* ext2, ext3, ext4 */
		case 0x58465342: /* xfs */
		case 0x9123683E: /* btrfs */
		case 0x01021994: /* tmpfs */
		case 0xF2F52010: /* f2fs */
			fs->close_cannot_fail = true;
			break;
		default:
			break;
		}
	}
	return fs;
}

bool fs_backing_is_local(const struct fs *fs)
{
	return fs->close_cannot_fail;
}

void fs_op_counts(struct fs *fs, uint64_t counts[REC_OP_COUNT])
{
	for (int op = 0; op < REC_OP_COUNT; op++)
		counts[op] = atomic_load_explicit(&fs->op_counts[op], memory_order_relaxed);
}

void fs_destroy(struct fs *fs)
{
	nodes_destroy(&fs->nodes);
	free(fs);
}
