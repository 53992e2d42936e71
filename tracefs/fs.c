/*
 * fs.c — the traced passthrough: every FUSE low-level operation is carried
 * out on the backing directory through the O_PATH descriptors of the inode
 * table, and becomes one event for the recorder.
 *
 * The design follows libfuse's passthrough_ll: no path is ever resolved in
 * the backing tree (so the mount can sit on top of its own source), objects
 * are reached through /proc/self/fd where a call has no *at() form that
 * accepts an O_PATH descriptor: as the name "N" in that directory, kept
 * open, which costs one component's lookup where the path "/proc/self/fd/N"
 * costs five (0.5-0.7 us less inside the daemon for each open or xattr call
 * on the 2-CPU test machine). Each event is finished just before the
 * reply, while the caller still waits (its process name is readable) and
 * the nodes it names are still alive.
 */
#include "tracefs/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fuse.h> /* the READDIRPLUS entry's layout, to set its d_ino */
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
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
	_Atomic uint64_t op_counts[TRACE_OP_COUNT];
	struct fs_options options;
	uid_t daemon_uid;
	gid_t daemon_gid;
	bool source_has_acls; /* the backing file system knows POSIX ACLs */
	bool kernel_acls;     /* the kernel caches and enforces them (FUSE_CAP_POSIX_ACL) */
	bool close_cannot_fail; /* the source's file system is local, without a flush method */
	int proc_fds;		/* the serving process's /proc/self/fd (O_PATH), or -1 */
	pid_t proc_fds_pid;	/* the process whose it is */
	bool no_xattrat; /* not used: the kernel lacks them (before 6.13) or a filter refuses them */
};

struct dir_handle {
	DIR *dir;
	off_t offset;
	struct dirent *entry; /* read but not yet sent, or NULL */
};

/* One operation's event while the operation is carried out. Without a
 * recorder (-o norecord) only what the operation itself needs is done: the
 * descriptors are pinned, nothing is timed, named or submitted. */
struct capture {
	struct trace_event event;
	int64_t start_ns; /* CLOCK_MONOTONIC */
	char *path;
	char *path2;
	struct fs *fs;
	/* Nodes whose descriptors the operation uses, kept open until the
	 * event ends (at most the two directories of a rename). */
	struct node *pinned[2];
	int pinned_count;
	int dir_fd; /* capture_child(): the directory's descriptor, or -errno */
	char comm[CALLER_COMM_SIZE];
};

static struct fs *fs_of(fuse_req_t req)
{
	return fuse_req_userdata(req);
}

static struct node *node_in(struct fs *fs, fuse_ino_t ino)
{
	if (ino == FUSE_ROOT_ID)
		return &fs->nodes.root;
	return (struct node *)(uintptr_t)ino;
}

static struct node *node_of(fuse_req_t req, fuse_ino_t ino)
{
	return node_in(fs_of(req), ino);
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
		return TRACE_KIND_NONE;
	case S_IFREG:
		return TRACE_KIND_FILE;
	case S_IFDIR:
		return TRACE_KIND_DIR;
	case S_IFLNK:
		return TRACE_KIND_SYMLINK;
	default:
		return TRACE_KIND_OTHER;
	}
}

/* Whether C's event goes anywhere (not under -o norecord). */
static bool recording(const struct capture *c)
{
	return c->fs->recorder != NULL;
}

/* Begins an event of FS for the caller CTX. */
static void capture_start(struct capture *c, struct fs *fs, const struct fuse_ctx *ctx,
			  enum trace_op op)
{
	memset(&c->event, 0, sizeof(c->event));
	c->event.op = (uint8_t)op;
	c->path = NULL;
	c->path2 = NULL;
	c->fs = fs;
	c->pinned_count = 0;
	if (!recording(c))
		return;
	c->event.ts_ns = clock_ns(CLOCK_REALTIME);
	c->start_ns = clock_ns(CLOCK_MONOTONIC);
	c->event.pid = ctx->pid;
	c->event.uid = ctx->uid;
	c->event.gid = ctx->gid;
	c->event.bytes = -1;
	c->event.offset = -1;
}

static void capture_begin(struct capture *c, fuse_req_t req, enum trace_op op)
{
	capture_start(c, fs_of(req), fuse_req_ctx(req), op);
}

/* The descriptor of NODE, open until the event ends, or -errno. */
static int capture_fd(struct capture *c, struct node *node)
{
	int fd = nodes_fd_get(&c->fs->nodes, node);
	if (fd == -1)
		return -errno;
	c->pinned[c->pinned_count++] = node;
	return fd;
}

/* Begins an event about the node INO; returns that node. */
static struct node *capture_node(struct capture *c, fuse_req_t req, enum trace_op op,
			       fuse_ino_t ino)
{
	capture_begin(c, req, op);
	struct node *node = node_of(req, ino);
	if (recording(c))
		c->path = nodes_path(&c->fs->nodes, node);
	c->event.kind = kind_of(node->type);
	return node;
}

/* Begins an event about NAME in the directory PARENT, whose descriptor it
 * puts in c->dir_fd; returns the parent. */
static struct node *capture_child(struct capture *c, fuse_req_t req, enum trace_op op,
				fuse_ino_t parent, const char *name)
{
	capture_begin(c, req, op);
	struct node *node = node_of(req, parent);
	if (recording(c))
		c->path = nodes_child_path(&c->fs->nodes, node, name);
	c->dir_fd = capture_fd(c, node);
	return node;
}

/* Finishes the event with RESULT (0 or -errno) and hands it to the recorder. */
static void capture_end(struct capture *c, int result)
{
	c->event.result = result;
	if (recording(c)) {
		c->event.dur_ns = clock_ns(CLOCK_MONOTONIC) - c->start_ns;
		if (caller_identify(c->event.pid, c->fs->options.lineage, c->comm,
				    &c->event.process) == 0)
			c->event.comm = c->comm;
		/* A path the table could not allocate is recorded as unknown
		 * rather than failing the operation. */
		c->event.path = c->path ? c->path : "?";
		c->event.path2 = c->path2;
		recorder_submit(c->fs->recorder, &c->event);
		if (c->fs->options.store)
			store_fs_note(c->fs->options.store, &c->event);
	}
	for (int i = 0; i < c->pinned_count; i++)
		nodes_fd_put(c->pinned[i]);
	atomic_fetch_add_explicit(&c->fs->op_counts[c->event.op], 1, memory_order_relaxed);
	free(c->path);
	free(c->path2);
}

static int result_of(int rc)
{
	return rc == -1 ? -errno : 0;
}

static void reply_result(fuse_req_t req, int result)
{
	fuse_reply_err(req, result < 0 ? -result : 0);
}

#define PROC_FDS "/proc/self/fd/"

/* A descriptor of ours as a name that a call follows to what it holds. */
struct proc_ref {
	char path[32];	  /* /proc/self/fd/N, for calls without an *at() form */
	int dir;	  /* with NAME: for *at() calls */
	const char *name; /* N in fs->proc_fds, or PATH */
};

static void proc_ref(const struct fs *fs, int fd, struct proc_ref *ref)
{
	snprintf(ref->path, sizeof(ref->path), PROC_FDS "%d", fd);
	ref->dir = fs->proc_fds >= 0 ? fs->proc_fds : AT_FDCWD;
	ref->name = fs->proc_fds >= 0 ? ref->path + strlen(PROC_FDS) : ref->path;
}

/* (Re)opens fs->proc_fds in the calling process; -1 (errno set) if it cannot. */
static int open_proc_fds(struct fs *fs)
{
	if (fs->proc_fds >= 0)
		close(fs->proc_fds);
	fs->proc_fds = open(PROC_FDS, O_PATH | O_DIRECTORY | O_CLOEXEC);
	fs->proc_fds_pid = getpid();
	return fs->proc_fds >= 0 ? 0 : -1;
}

/* Puts the reference to NODE's descriptor, open until the event ends, in
 * REF; returns 0 or -errno. */
static int capture_proc_ref(struct capture *c, struct node *node, struct proc_ref *ref)
{
	int fd = capture_fd(c, node);
	if (fd < 0)
		return fd;
	proc_ref(c->fs, fd, ref);
	return 0;
}

/*
 * The xattr calls on REF: Linux 6.13's *xattrat() where the kernel has
 * them, else the path forms. Each returns what the path form would.
 */
#if !defined(SYS_setxattrat) && (defined(__x86_64__) || defined(__aarch64__) || \
				  defined(__riscv) || defined(__powerpc64__) || defined(__s390x__))
#define SYS_setxattrat 463 /* the unified numbers of Linux 6.13 */
#define SYS_getxattrat 464
#define SYS_listxattrat 465
#define SYS_removexattrat 466
#endif
#ifdef SYS_setxattrat
#define HAVE_XATTRAT 1
#else
#define HAVE_XATTRAT 0
#define SYS_setxattrat (-1)
#define SYS_getxattrat (-1)
#define SYS_listxattrat (-1)
#define SYS_removexattrat (-1)
#endif

struct xattr_at_args { /* struct xattr_args of linux/xattr.h */
	uint64_t value;
	uint32_t size;
	uint32_t flags;
};

/* Decided once, before any request (probe_xattrat). */
static bool use_xattrat(const struct fs *fs, const struct proc_ref *ref)
{
	return !fs->no_xattrat && ref->dir != AT_FDCWD;
}

/*
 * Whether the *xattrat() calls answer as the path forms do, asked once of
 * the source with a name it is unlikely to have: a kernel without them
 * says ENOSYS, but a sandbox's system-call filter may say EPERM, which is
 * also a real answer of an xattr call, so only a comparison can tell.
 */
static void probe_xattrat(struct fs *fs, const struct proc_ref *source)
{
	static const char name[] = "user.tracefs-probe";
	char value[1];
	errno = 0;
	ssize_t by_path = getxattr(source->path, name, value, sizeof(value));
	int path_errno = errno;
	struct xattr_at_args args = {(uint64_t)(uintptr_t)value, sizeof(value), 0};
	errno = 0;
	long at = HAVE_XATTRAT ? syscall(SYS_getxattrat, source->dir, source->name, 0, name, &args,
					 sizeof(args))
			       : -1;
	fs->no_xattrat = !HAVE_XATTRAT || at != by_path || (at == -1 && errno != path_errno);
}

static int ref_setxattr(const struct fs *fs, const struct proc_ref *ref, const char *name,
			const void *value, size_t size, int flags)
{
	if (use_xattrat(fs, ref)) {
		struct xattr_at_args args = {(uint64_t)(uintptr_t)value, (uint32_t)size,
					     (uint32_t)flags};
		return (int)syscall(SYS_setxattrat, ref->dir, ref->name, 0, name, &args, sizeof(args));
	}
	return setxattr(ref->path, name, value, size, flags);
}

static ssize_t ref_getxattr(const struct fs *fs, const struct proc_ref *ref, const char *name,
			    void *value, size_t size)
{
	if (use_xattrat(fs, ref)) {
		struct xattr_at_args args = {(uint64_t)(uintptr_t)value, (uint32_t)size, 0};
		return syscall(SYS_getxattrat, ref->dir, ref->name, 0, name, &args, sizeof(args));
	}
	return getxattr(ref->path, name, value, size);
}

static ssize_t ref_listxattr(const struct fs *fs, const struct proc_ref *ref, char *list, size_t size)
{
	if (use_xattrat(fs, ref))
		return syscall(SYS_listxattrat, ref->dir, ref->name, 0, list, size);
	return listxattr(ref->path, list, size);
}

static int ref_removexattr(const struct fs *fs, const struct proc_ref *ref, const char *name)
{
	if (use_xattrat(fs, ref))
		return (int)syscall(SYS_removexattrat, ref->dir, ref->name, 0, name);
	return removexattr(ref->path, name);
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

/* Whether a call that failed with ERR may be tried again after the inode
 * table let go of descriptors. */
static bool shed_for(struct fs *fs, int err)
{
	return (err == EMFILE || err == ENFILE) && nodes_shed(&fs->nodes);
}

/* Looks NAME up in PARENT (open as PARENT_FD) and fills E; the node gains
 * one kernel lookup. */
static int make_entry(struct fs *fs, struct node *parent, int parent_fd, const char *name,
		      struct fuse_entry_param *e)
{
	memset(e, 0, sizeof(*e));
	int fd = openat(parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd == -1 && shed_for(fs, errno))
		fd = openat(parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
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
	/* The first request: served by the process that serves them all,
	 * whose descriptors /proc/self/fd must show. */
	if (fs->proc_fds_pid != getpid() && open_proc_fds(fs) == -1)
		perror("tracefs: " PROC_FDS " of the serving process (reaching files through "
		       "its paths instead)");
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
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_LOOKUP, parent, name);
	struct fuse_entry_param e;
	int rc = c.dir_fd < 0 ? c.dir_fd : make_entry(c.fs, dir, c.dir_fd, name, &e);
	c.event.kind = rc == 0 ? kind_of(e.attr.st_mode) : TRACE_KIND_NONE;
	capture_end(&c, rc);
	if (rc == -ENOENT && c.fs->options.timeout > 0) {
		/* A negative entry: the kernel caches the absence too. */
		memset(&e, 0, sizeof(e));
		e.entry_timeout = c.fs->options.timeout;
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
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_GETATTR, ino);
	struct stat st;
	int rc = fi ? 0 : capture_fd(&c, node);
	if (rc >= 0)
		rc = result_of(fi ? fstat((int)fi->fh, &st)
				  : fstatat(rc, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_attr(req, &st, c.fs->options.timeout);
}

/*
 * FUSE_STATX (protocol 7.39), which libfuse 3.14 answers ENOSYS, after
 * which the kernel stops asking: stat(1) then showed no birth time. The
 * kernel asks it only for more than the basic fields (the birth time); the
 * layouts are the kernel's ABI, which Debian 12's headers predate.
 */
struct statx_in {
	uint32_t getattr_flags;
	uint32_t reserved;
	uint64_t fh;
	uint32_t sx_flags;
	uint32_t sx_mask;
};
struct statx_time {
	int64_t tv_sec;
	uint32_t tv_nsec;
	int32_t reserved;
};
struct statx_out {
	uint64_t attr_valid;
	uint32_t attr_valid_nsec;
	uint32_t flags;
	uint64_t spare[2];
	struct {
		uint32_t mask, blksize;
		uint64_t attributes;
		uint32_t nlink, uid, gid;
		uint16_t mode, spare0;
		uint64_t ino, size, blocks, attributes_mask;
		struct statx_time atime, btime, ctime, mtime;
		uint32_t rdev_major, rdev_minor, dev_major, dev_minor;
		uint64_t spare2[14];
	} stat;
};
_Static_assert(sizeof(struct statx_in) == 24, "the kernel's fuse_statx_in");
_Static_assert(sizeof(struct statx_out) == 288, "the kernel's fuse_statx_out");
_Static_assert(FS_STATX_REPLY_MAX >= sizeof(struct fuse_out_header) + sizeof(struct statx_out),
	       "room for FUSE_STATX's reply");
#define FUSE_STATX_OPCODE 52
#define GETATTR_FH (1u << 0)

static void statx_time(struct statx_time *out, const struct statx_timestamp *in)
{
	out->tv_sec = in->tv_sec;
	out->tv_nsec = in->tv_nsec;
}

/* Fills OUT with what statx(2) says of the node or open file IN names. */
static int do_statx(struct capture *c, const struct fuse_in_header *header,
		    const struct statx_in *in, struct statx_out *out)
{
	struct node *node = node_in(c->fs, header->nodeid);
	if (recording(c))
		c->path = nodes_path(&c->fs->nodes, node);
	c->event.kind = kind_of(node->type);
	/* the kernel sends a handle with it only for a regular file: ours is its descriptor */
	int fd = in->getattr_flags & GETATTR_FH && S_ISREG(node->type) ? (int)in->fh
									   : capture_fd(c, node);
	if (fd < 0)
		return fd;
	struct statx st;
	unsigned sync = in->sx_flags & AT_STATX_SYNC_TYPE;
	if (statx(fd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW | sync, in->sx_mask, &st) == -1)
		return -errno;
	double timeout = c->fs->options.timeout;
	out->attr_valid = (uint64_t)timeout;
	out->attr_valid_nsec = (uint32_t)((timeout - (double)out->attr_valid) * 1e9);
	out->stat.mask = st.stx_mask;
	out->stat.blksize = st.stx_blksize;
	out->stat.attributes = st.stx_attributes;
	out->stat.nlink = st.stx_nlink;
	out->stat.uid = st.stx_uid;
	out->stat.gid = st.stx_gid;
	out->stat.mode = st.stx_mode;
	out->stat.ino = st.stx_ino;
	out->stat.size = st.stx_size;
	out->stat.blocks = st.stx_blocks;
	out->stat.attributes_mask = st.stx_attributes_mask;
	statx_time(&out->stat.atime, &st.stx_atime);
	statx_time(&out->stat.btime, &st.stx_btime);
	statx_time(&out->stat.ctime, &st.stx_ctime);
	statx_time(&out->stat.mtime, &st.stx_mtime);
	out->stat.rdev_major = st.stx_rdev_major;
	out->stat.rdev_minor = st.stx_rdev_minor;
	out->stat.dev_major = st.stx_dev_major;
	out->stat.dev_minor = st.stx_dev_minor;
	return 0;
}

size_t fs_answer_unknown(struct fs *fs, const void *request, size_t size,
			 char reply[FS_STATX_REPLY_MAX])
{
	struct fuse_in_header header;
	struct statx_in in;
	if (size < sizeof(header) + sizeof(in))
		return 0;
	memcpy(&header, request, sizeof(header));
	if (header.opcode != FUSE_STATX_OPCODE || header.len != size)
		return 0;
	memcpy(&in, (const char *)request + sizeof(header), sizeof(in));
	struct fuse_ctx ctx = {.uid = header.uid, .gid = header.gid, .pid = (pid_t)header.pid};
	struct capture c;
	capture_start(&c, fs, &ctx, TRACE_OP_GETATTR);
	struct statx_out out = {0};
	int rc = do_statx(&c, &header, &in, &out);
	capture_end(&c, rc);
	struct fuse_out_header head = {.error = rc, .unique = header.unique};
	head.len = sizeof(head) + (rc ? 0 : sizeof(out));
	memcpy(reply, &head, sizeof(head));
	if (!rc)
		memcpy(reply + sizeof(head), &out, sizeof(out));
	return head.len;
}

/* Applies a setattr to the object open as FD (O_PATH), or to the open file FI. */
static int apply_setattr(const struct fs *fs, int fd, const struct stat *attr, int valid,
			 const struct fuse_file_info *fi)
{
	struct proc_ref ref;
	proc_ref(fs, fd, &ref);
	if (valid & FUSE_SET_ATTR_MODE) {
		/* What FD holds decides, not the node's type: a symlink's
		 * mode is not changed (as fchmodat AT_SYMLINK_NOFOLLOW). An
		 * open file FI is never a symlink. */
		struct stat st;
		if (!fi && fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
			return -errno;
		if (!fi && S_ISLNK(st.st_mode))
			return -EOPNOTSUPP;
		int rc = fi ? fchmod((int)fi->fh, attr->st_mode)
			    : fchmodat(ref.dir, ref.name, attr->st_mode, 0);
		if (rc == -1)
			return -errno;
	}
	if (valid & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
		uid_t uid = (valid & FUSE_SET_ATTR_UID) ? attr->st_uid : (uid_t)-1;
		gid_t gid = (valid & FUSE_SET_ATTR_GID) ? attr->st_gid : (gid_t)-1;
		if (fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1)
			return -errno;
	}
	if (valid & FUSE_SET_ATTR_SIZE) {
		int rc = fi ? ftruncate((int)fi->fh, attr->st_size) : truncate(ref.path, attr->st_size);
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
		/* AT_EMPTY_PATH acts on the object the descriptor holds,
		 * also a symlink, never on a name that may since mean
		 * another file. */
		int rc = fi ? futimens((int)fi->fh, times)
			    : utimensat(fd, "", times, AT_EMPTY_PATH);
		if (rc == -1)
			return -errno;
	}
	return 0;
}

static void op_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int valid,
		       struct fuse_file_info *fi)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_SETATTR, ino);
	c.event.flags = (uint32_t)valid;
	if (valid & FUSE_SET_ATTR_MODE)
		c.event.mode = attr->st_mode;
	if (valid & FUSE_SET_ATTR_SIZE)
		c.event.offset = attr->st_size;
	int fd = capture_fd(&c, node);
	int rc = fd < 0 ? fd : apply_setattr(c.fs, fd, attr, valid, fi);
	struct stat st;
	if (rc == 0)
		rc = result_of(fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW));
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_attr(req, &st, c.fs->options.timeout);
}

static void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_READLINK, ino);
	char target[PATH_MAX + 1];
	int fd = capture_fd(&c, node);
	ssize_t n = fd < 0 ? -1 : readlinkat(fd, "", target, sizeof(target));
	int rc = fd < 0 ? fd : n == -1 ? -errno : n == sizeof(target) ? -ENAMETOOLONG : 0;
	if (rc == 0) {
		target[n] = '\0';
		c.event.bytes = n;
	}
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_readlink(req, target);
}

/* Ends a creating operation: looks the new object up in DIR (open as
 * c->dir_fd) and replies. */
static void finish_make(fuse_req_t req, struct capture *c, struct node *dir,
			const char *name, int rc)
{
	struct fuse_entry_param e;
	if (rc == 0) {
		rc = make_entry(c->fs, dir, c->dir_fd, name, &e);
		if (rc == 0)
			c->event.kind = kind_of(e.attr.st_mode);
	}
	capture_end(c, rc);
	if (rc)
		reply_result(req, rc);
	else
		reply_entry(req, &e);
}

static void op_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     dev_t rdev)
{
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_MKNOD, parent, name);
	c.event.mode = mode;
	c.event.kind = kind_of(mode);
	int rc = c.dir_fd;
	if (rc >= 0) {
		int entered = enter_caller(req);
		rc = entered < 0 ? entered : result_of(mknodat(c.dir_fd, name, mode, rdev));
		leave_caller(entered);
	}
	finish_make(req, &c, dir, name, rc);
}

static void op_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_MKDIR, parent, name);
	c.event.mode = mode;
	c.event.kind = TRACE_KIND_DIR;
	int rc = c.dir_fd;
	if (rc >= 0) {
		int entered = enter_caller(req);
		rc = entered < 0 ? entered : result_of(mkdirat(c.dir_fd, name, mode));
		leave_caller(entered);
	}
	finish_make(req, &c, dir, name, rc);
}

static void op_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_SYMLINK, parent, name);
	c.event.kind = TRACE_KIND_SYMLINK;
	if (recording(&c))
		c.path2 = strdup(link);
	int rc = c.dir_fd;
	if (rc >= 0) {
		int entered = enter_caller(req);
		rc = entered < 0 ? entered : result_of(symlinkat(link, c.dir_fd, name));
		leave_caller(entered);
	}
	finish_make(req, &c, dir, name, rc);
}

static void op_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_LINK, ino);
	struct node *dir = node_of(req, newparent);
	if (recording(&c))
		c.path2 = nodes_child_path(&c.fs->nodes, dir, newname);
	int fd = capture_fd(&c, node);
	c.dir_fd = capture_fd(&c, dir);
	int rc = fd < 0 ? fd : c.dir_fd;
	if (rc >= 0) {
		struct proc_ref ref;
		proc_ref(c.fs, fd, &ref);
		int entered = enter_caller(req);
		rc = entered < 0 ? entered
				 : result_of(linkat(ref.dir, ref.name, c.dir_fd, newname,
						    AT_SYMLINK_FOLLOW));
		leave_caller(entered);
	}
	finish_make(req, &c, dir, newname, rc);
}

static void op_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct capture c;
	capture_child(&c, req, TRACE_OP_UNLINK, parent, name);
	struct stat st;
	if (c.dir_fd >= 0 && fstatat(c.dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		c.event.kind = kind_of(st.st_mode);
	int rc = c.dir_fd < 0 ? c.dir_fd : result_of(unlinkat(c.dir_fd, name, 0));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	struct capture c;
	capture_child(&c, req, TRACE_OP_RMDIR, parent, name);
	c.event.kind = TRACE_KIND_DIR;
	int rc = c.dir_fd < 0 ? c.dir_fd : result_of(unlinkat(c.dir_fd, name, AT_REMOVEDIR));
	capture_end(&c, rc);
	reply_result(req, rc);
}

/* The node the kernel knows for NAME in the directory open as DIR_FD, or NULL. */
static struct node *known_child(struct fs *fs, int dir_fd, const char *name, struct stat *st)
{
	if (fstatat(dir_fd, name, st, AT_SYMLINK_NOFOLLOW) == -1) {
		st->st_mode = 0;
		return NULL;
	}
	return nodes_find(&fs->nodes, st->st_dev, st->st_ino);
}

static void op_rename(fuse_req_t req, fuse_ino_t parent, const char *name,
		      fuse_ino_t newparent, const char *newname, unsigned int flags)
{
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_RENAME, parent, name);
	struct node *newdir = node_of(req, newparent);
	if (recording(&c))
		c.path2 = nodes_child_path(&c.fs->nodes, newdir, newname);
	c.event.flags = flags;
	int newdir_fd = capture_fd(&c, newdir);
	int rc = c.dir_fd < 0 ? c.dir_fd : newdir_fd;
	struct stat st = {.st_mode = 0}, st2;
	struct node *moved = NULL, *swapped = NULL;
	if (rc >= 0) {
		moved = known_child(c.fs, c.dir_fd, name, &st);
		if (flags & RENAME_EXCHANGE)
			swapped = known_child(c.fs, newdir_fd, newname, &st2);
		rc = result_of(renameat2(c.dir_fd, name, newdir_fd, newname, flags));
	}
	c.event.kind = kind_of(st.st_mode);
	/* A failed name update only leaves an older path in later events. */
	if (rc == 0 && moved)
		nodes_rename(&c.fs->nodes, moved, newdir, newname);
	if (rc == 0 && swapped)
		nodes_rename(&c.fs->nodes, swapped, dir, name);
	capture_end(&c, rc);
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
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_OPEN, ino);
	c.event.flags = (uint32_t)fi->flags;
	struct proc_ref ref;
	int rc = capture_proc_ref(&c, node, &ref);
	int fd = -1;
	if (rc == 0) {
		int flags = (fi->flags & ~O_NOFOLLOW) | O_CLOEXEC;
		fd = openat(ref.dir, ref.name, flags);
		if (fd == -1 && shed_for(c.fs, errno))
			fd = openat(ref.dir, ref.name, flags);
		rc = result_of(fd);
	}
	if (rc == 0) {
		fi->fh = (uint64_t)fd;
		fi->direct_io = c.fs->options.direct_io;
		fi->keep_cache = !c.fs->options.exact;
		fi->noflush = flush_is_noop(c.fs, node->dev);
	}
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else if (fuse_reply_open(req, fi) == -ENOENT)
		close(fd);
}

static void op_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		      struct fuse_file_info *fi)
{
	struct capture c;
	struct node *dir = capture_child(&c, req, TRACE_OP_CREATE, parent, name);
	c.event.flags = (uint32_t)fi->flags;
	c.event.mode = mode;
	c.event.kind = TRACE_KIND_FILE;
	int fd = -1;
	int rc = c.dir_fd;
	if (rc >= 0) {
		int flags = (fi->flags | O_CREAT | O_CLOEXEC) & ~O_NOFOLLOW;
		int entered = enter_caller(req);
		if (entered >= 0) {
			/* EMFILE comes before anything is created. */
			fd = openat(c.dir_fd, name, flags, mode);
			if (fd == -1 && shed_for(c.fs, errno))
				fd = openat(c.dir_fd, name, flags, mode);
		}
		rc = entered < 0 ? entered : result_of(fd);
		leave_caller(entered);
	}
	struct fuse_entry_param e;
	if (rc == 0) {
		rc = make_entry(c.fs, dir, c.dir_fd, name, &e);
		if (rc)
			close(fd);
	}
	if (rc == 0) {
		fi->fh = (uint64_t)fd;
		fi->direct_io = c.fs->options.direct_io;
		fi->keep_cache = !c.fs->options.exact;
		fi->noflush = flush_is_noop(c.fs, e.attr.st_dev);
	}
	capture_end(&c, rc);
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
	struct capture c;
	capture_node(&c, req, TRACE_OP_READ, ino);
	c.event.offset = off;
	/* Read into memory rather than splicing, so that the trace knows
	 * exactly how many bytes moved. */
	char *buffer = thread_read_buffer(size);
	ssize_t n = buffer ? pread((int)fi->fh, buffer, size, off) : -1;
	int rc = buffer ? result_of((int)n) : -ENOMEM;
	if (rc == 0)
		c.event.bytes = n;
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_buf(req, buffer, (size_t)n);
}

/* Ends an event that wrote N bytes, or failed with RC (-errno), and replies. */
static void end_write(fuse_req_t req, struct capture *c, int rc, ssize_t n)
{
	if (rc == 0)
		c->event.bytes = n;
	capture_end(c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_write(req, (size_t)n);
}

static void op_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *in, off_t off,
			 struct fuse_file_info *fi)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_WRITE, ino);
	c.event.offset = off;
	struct fuse_bufvec out = FUSE_BUFVEC_INIT(fuse_buf_size(in));
	out.buf[0].flags = FUSE_BUF_IS_FD | FUSE_BUF_FD_SEEK;
	out.buf[0].fd = (int)fi->fh;
	out.buf[0].pos = off;
	ssize_t n = fuse_buf_copy(&out, in, 0);
	end_write(req, &c, n < 0 ? (int)n : 0, n);
}

static void op_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_FLUSH, ino);
	/* Closing a duplicate reports the errors close() would, e.g. from NFS,
	 * while the descriptor stays open until release. */
	int dup_fd = dup((int)fi->fh);
	int rc = dup_fd == -1 ? -errno : result_of(close(dup_fd));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_RELEASE, ino);
	close((int)fi->fh);
	capture_end(&c, 0);
	reply_result(req, 0);
}

/* fsync and fsyncdir of the open file or directory FD. */
static void sync_open(fuse_req_t req, fuse_ino_t ino, enum trace_op op, int datasync, int fd)
{
	struct capture c;
	capture_node(&c, req, op, ino);
	c.event.flags = (uint32_t)datasync;
	int rc = result_of(datasync ? fdatasync(fd) : fsync(fd));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	sync_open(req, ino, TRACE_OP_FSYNC, datasync, (int)fi->fh);
}

static void op_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_OPENDIR, ino);
	c.event.flags = (uint32_t)fi->flags;
	int node_fd = capture_fd(&c, node);
	int rc = node_fd < 0 ? node_fd : 0;
	struct dir_handle *handle = rc ? NULL : calloc(1, sizeof(*handle));
	int fd = -1;
	if (handle) {
		fd = openat(node_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (fd == -1 && shed_for(c.fs, errno))
			fd = openat(node_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (rc)
		;
	else if (!handle)
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
		fi->cache_readdir = !c.fs->options.exact;
		fi->keep_cache = !c.fs->options.exact;
	}
	capture_end(&c, rc);
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

/* Adds one directory entry of the directory DIR, open as HANDLE, to BUF;
 * returns its size (more than ROOM when it does not fit, in which case
 * nothing was added) or -errno. */
static ssize_t add_entry(fuse_req_t req, struct node *dir, struct dir_handle *handle,
			 const struct dirent *entry, bool plus, char *buf, size_t room)
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
	int rc = make_entry(fs, dir, dirfd(handle->dir), entry->d_name, &e);
	if (rc)
		return rc;
	size_t size = fuse_add_direntry_plus(req, buf, room, entry->d_name, &e, entry->d_off);
	if (size > room) {
		nodes_forget(&fs->nodes, node_of(req, e.ino), 1);
	} else if (entry->d_ino != e.attr.st_ino) {
		/* libfuse gives the entry st_ino; readdir() must see what the
		 * backing file system says (sshfs: 4294967295, unknown). */
		uint64_t d_ino = entry->d_ino;
		memcpy(buf + offsetof(struct fuse_direntplus, dirent.ino), &d_ino, sizeof(d_ino));
	}
	return (ssize_t)size;
}

static void read_directory(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			   struct fuse_file_info *fi, bool plus)
{
	struct capture c;
	struct node *dir = capture_node(&c, req, TRACE_OP_READDIR, ino);
	c.event.offset = off;
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
		ssize_t n = add_entry(req, dir, handle, handle->entry, plus, buf + used,
				      size - used);
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
	c.event.bytes = (int64_t)used;
	capture_end(&c, rc);
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
	struct capture c;
	capture_node(&c, req, TRACE_OP_RELEASEDIR, ino);
	struct dir_handle *handle = (struct dir_handle *)(uintptr_t)fi->fh;
	closedir(handle->dir);
	free(handle);
	capture_end(&c, 0);
	reply_result(req, 0);
}

static void op_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	sync_open(req, ino, TRACE_OP_FSYNCDIR, datasync,
		  dirfd(((struct dir_handle *)(uintptr_t)fi->fh)->dir));
}

static void op_statfs(fuse_req_t req, fuse_ino_t ino)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_STATFS, ino);
	struct statvfs st;
	int fd = capture_fd(&c, node);
	int rc = fd < 0 ? fd : result_of(fstatvfs(fd, &st));
	capture_end(&c, rc);
	if (rc)
		reply_result(req, rc);
	else
		fuse_reply_statfs(req, &st);
}

/*
 * The xattr calls reach NODE through its /proc/self/fd link, followed: the
 * kernel resolves that link to the object the descriptor holds and stops
 * there, also for a symlink (whose own attributes are then read, as
 * l*xattr() would), so no name is looked up that may since mean another
 * file.
 */
static void op_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
			size_t size, int flags)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_SETXATTR, ino);
	if (recording(&c))
		c.path2 = strdup(name);
	c.event.flags = (uint32_t)flags;
	c.event.bytes = (int64_t)size;
	struct proc_ref ref;
	int rc = capture_proc_ref(&c, node, &ref);
	if (rc == 0)
		rc = result_of(ref_setxattr(c.fs, &ref, name, value, size, flags));
	capture_end(&c, rc);
	reply_result(req, rc);
}

/* Replies to a getxattr or listxattr call that returned N (or -1). */
static void reply_xattr_value(fuse_req_t req, struct capture *c, int rc, ssize_t n,
			      const char *value, size_t size)
{
	if (rc == 0)
		c->event.bytes = n;
	capture_end(c, rc);
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
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_GETXATTR, ino);
	if (recording(&c))
		c.path2 = strdup(name);
	char *value = size ? malloc(size) : NULL;
	ssize_t n = -1;
	struct proc_ref ref;
	int rc = size && !value ? -ENOMEM : capture_proc_ref(&c, node, &ref);
	if (rc == 0) {
		n = ref_getxattr(c.fs, &ref, name, value, size);
		rc = n == -1 ? -errno : 0;
	}
	/* A part of the tree without ACLs (another file system mounted
	 * below the source) has none: the kernel, which asks to check
	 * permissions, must not get an error. */
	if (rc == -EOPNOTSUPP && c.fs->kernel_acls && is_acl_name(name))
		rc = -ENODATA;
	reply_xattr_value(req, &c, rc, n, value, size);
	free(value);
}

static void op_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_LISTXATTR, ino);
	char *list = size ? malloc(size) : NULL;
	ssize_t n = -1;
	struct proc_ref ref;
	int rc = size && !list ? -ENOMEM : capture_proc_ref(&c, node, &ref);
	if (rc == 0) {
		n = ref_listxattr(c.fs, &ref, list, size);
		rc = n == -1 ? -errno : 0;
	}
	reply_xattr_value(req, &c, rc, n, list, size);
	free(list);
}

static void op_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_REMOVEXATTR, ino);
	if (recording(&c))
		c.path2 = strdup(name);
	struct proc_ref ref;
	int rc = capture_proc_ref(&c, node, &ref);
	if (rc == 0)
		rc = result_of(ref_removexattr(c.fs, &ref, name));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	struct capture c;
	struct node *node = capture_node(&c, req, TRACE_OP_ACCESS, ino);
	c.event.flags = (uint32_t)mask;
	struct proc_ref ref;
	int rc = capture_proc_ref(&c, node, &ref);
	if (rc == 0) {
		int entered = enter_caller(req);
		rc = entered < 0 ? entered : result_of(faccessat(ref.dir, ref.name, mask, 0));
		leave_caller(entered);
	}
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_FLOCK, ino);
	c.event.flags = (uint32_t)op;
	int rc = result_of(flock((int)fi->fh, op));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			 struct fuse_file_info *fi)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_FALLOCATE, ino);
	c.event.flags = (uint32_t)mode;
	c.event.offset = offset;
	c.event.bytes = length;
	int rc = result_of(fallocate((int)fi->fh, mode, offset, length));
	capture_end(&c, rc);
	reply_result(req, rc);
}

static void op_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			       struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			       struct fuse_file_info *fi_out, size_t len, int flags)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_COPY_FILE_RANGE, ino_in);
	if (recording(&c))
		c.path2 = nodes_path(&c.fs->nodes, node_of(req, ino_out));
	c.event.offset = off_in;
	c.event.flags = (uint32_t)flags;
	ssize_t n = copy_file_range((int)fi_in->fh, &off_in, (int)fi_out->fh, &off_out, len,
				    (unsigned int)flags);
	end_write(req, &c, n == -1 ? -errno : 0, n);
}

static void op_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		     struct fuse_file_info *fi)
{
	struct capture c;
	capture_node(&c, req, TRACE_OP_LSEEK, ino);
	c.event.flags = (uint32_t)whence;
	off_t position = lseek((int)fi->fh, off, whence);
	int rc = position == -1 ? -errno : 0;
	c.event.offset = rc ? off : position;
	capture_end(&c, rc);
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
	fs->proc_fds = -1;
	if (open_proc_fds(fs) == -1) {
		int error = errno;
		fprintf(stderr,
			"tracefs: cannot open " PROC_FDS ": %s; tracefs reaches the files it serves "
			"through /proc: mount it (mount -t proc proc /proc) and try again\n",
			strerror(error));
		free(fs);
		errno = error;
		return NULL;
	}
	if (nodes_init(&fs->nodes, source_fd) == -1) {
		int error = errno;
		close(fs->proc_fds);
		free(fs);
		errno = error;
		return NULL;
	}
	fs->recorder = recorder;
	fs->options = *options;
	fs->daemon_uid = geteuid();
	fs->daemon_gid = getegid();
	struct proc_ref source;
	proc_ref(fs, source_fd, &source);
	probe_xattrat(fs, &source);
	fs->source_has_acls = ref_getxattr(fs, &source, "system.posix_acl_access", NULL, 0) >= 0 ||
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

void fs_op_counts(struct fs *fs, uint64_t counts[TRACE_OP_COUNT])
{
	for (int op = 0; op < TRACE_OP_COUNT; op++)
		counts[op] = atomic_load_explicit(&fs->op_counts[op], memory_order_relaxed);
}

void fs_destroy(struct fs *fs)
{
	if (fs->proc_fds >= 0)
		close(fs->proc_fds);
	nodes_destroy(&fs->nodes);
	free(fs);
}
