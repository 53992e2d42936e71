/*
 * store_history.c — /.history, the versioned store's history as a
 * read-only directory of the mount:
 *
 *   /.history/by-id/ID/...            the tree at commit ID (any unique
 *                                      prefix of 4 or more digits is found)
 *   /.history/by-date/DATE-SHORTID/... the same, named by commit time (UTC)
 *   /.history/versions/PATH/DATE-SHORTID
 *                                      each version of the file PATH (as the
 *                                      branch holds it now): the commits in
 *                                      which it changed
 *
 * Everything is read from the repository's objects through store/ (no
 * checkout), when asked: a node lives while the kernel holds it, a listing
 * while the directory is open, a file's bytes while the file is open. Its
 * operations are traced like the passthrough's; writes get EROFS.
 *
 * A history node's inode number is its address with the low bit set: the
 * passthrough's nodes are malloc'd (even addresses) and its root is 1, so
 * the two never meet.
 */
#include "tracefs/store_history.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "tracefs/caller.h"

/* Seconds the kernel may keep what never changes (a commit's contents) and
 * what changes with each commit (the lists of commits and versions). */
#define FIXED_TIMEOUT 3600.0
#define CHANGING_TIMEOUT 1.0

#define VERSIONS_PATH "/" STORE_HISTORY_NAME "/versions"

enum view {
	VIEW_TOP,	    /* /.history */
	VIEW_BY_ID,	    /* /.history/by-id */
	VIEW_BY_DATE,	    /* /.history/by-date */
	VIEW_VERSIONS,	    /* /.history/versions/DIR: mirrors the branch's DIR */
	VIEW_FILE_VERSIONS, /* /.history/versions/FILE: FILE's versions */
	VIEW_OBJECT,	    /* a directory, file or symlink of a commit */
};

struct hnode {
	_Atomic uint64_t lookups;
	enum view view;
	struct store_object object; /* VIEW_OBJECT */
	int64_t time_s;		    /* its commit's time (others: the mount's) */
	char *path;		    /* in the mount, for the trace */
	struct hnode *prev, *next;  /* every live node, for the unmount */
};

struct listing_entry {
	char *name;
	uint32_t mode;
	uint64_t size;
	int64_t time_s;
};

struct listing {
	struct listing_entry *entries;
	size_t count, capacity;
	int error; /* -ENOMEM while it was built */
};

static struct store *store;
static struct recorder *recorder;
static struct lineage *lineage;
static struct fuse_lowlevel_ops inner;
static int64_t mount_time_s;
/* The nodes the kernel holds: those it has not forgotten at unmount are
 * freed then. */
static pthread_mutex_t live_lock = PTHREAD_MUTEX_INITIALIZER;
static struct hnode *live;

void store_history_attach(struct store *s, struct recorder *r, struct lineage *l)
{
	store = s;
	recorder = r;
	lineage = l;
	mount_time_s = time(NULL);
}

static bool is_history(fuse_ino_t ino)
{
	return ino != FUSE_ROOT_ID && (ino & 1);
}

static struct hnode *hnode_of(fuse_ino_t ino)
{
	return (struct hnode *)(uintptr_t)(ino & ~(fuse_ino_t)1);
}

static fuse_ino_t ino_of(const struct hnode *node)
{
	return (fuse_ino_t)(uintptr_t)node | 1;
}

/* The repository path a versions node stands for ("" for the top). */
static const char *repo_path(const struct hnode *node)
{
	const char *rest = node->path + strlen(VERSIONS_PATH);
	return *rest == '/' ? rest + 1 : rest;
}

static bool changes(const struct hnode *node)
{
	return node->view != VIEW_OBJECT;
}

/* ---- the trace */

struct call {
	struct trace_event event;
	struct timespec start;
	char comm[CALLER_COMM_SIZE];
};

static void call_begin(struct call *c, fuse_req_t req, enum trace_op op, const char *path,
		       uint8_t kind)
{
	const struct fuse_ctx *ctx = fuse_req_ctx(req);
	memset(c, 0, sizeof(*c));
	struct timespec now;
	clock_gettime(CLOCK_REALTIME, &now);
	clock_gettime(CLOCK_MONOTONIC, &c->start);
	c->event.ts_ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
	c->event.op = (uint8_t)op;
	c->event.kind = kind;
	c->event.path = path ? path : "?";
	c->event.pid = ctx->pid;
	c->event.uid = ctx->uid;
	c->event.gid = ctx->gid;
	c->event.bytes = -1;
	c->event.offset = -1;
}

static void call_end(struct call *c, int result)
{
	struct timespec end;
	clock_gettime(CLOCK_MONOTONIC, &end);
	c->event.dur_ns = (int64_t)(end.tv_sec - c->start.tv_sec) * 1000000000 +
			  (end.tv_nsec - c->start.tv_nsec);
	c->event.result = result;
	if (caller_identify(c->event.pid, lineage, c->comm, &c->event.process) == 0)
		c->event.comm = c->comm;
	recorder_submit(recorder, &c->event);
}

static uint8_t kind_of(uint32_t mode)
{
	return S_ISDIR(mode) ? TRACE_KIND_DIR : S_ISLNK(mode) ? TRACE_KIND_SYMLINK : TRACE_KIND_FILE;
}

static uint32_t mode_of(const struct hnode *node)
{
	return node->view == VIEW_OBJECT ? node->object.mode : S_IFDIR | 0555;
}

static void reply_error(fuse_req_t req, int result)
{
	fuse_reply_err(req, -result);
}

/* ---- nodes */

static void fill_attr(struct stat *st, fuse_ino_t ino, uint32_t mode, uint64_t size,
		      int64_t time_s)
{
	memset(st, 0, sizeof(*st));
	st->st_ino = ino;
	st->st_mode = mode;
	st->st_nlink = S_ISDIR(mode) ? 2 : 1;
	st->st_uid = getuid();
	st->st_gid = getgid();
	st->st_size = (off_t)size;
	st->st_blksize = 4096;
	st->st_blocks = (blkcnt_t)((size + 511) / 512);
	st->st_atim.tv_sec = st->st_mtim.tv_sec = st->st_ctim.tv_sec = time_s;
}

static void attr_of(const struct hnode *node, struct stat *st)
{
	fill_attr(st, ino_of(node), mode_of(node),
		  node->view == VIEW_OBJECT && !S_ISDIR(node->object.mode) ? node->object.size : 0,
		  node->time_s);
}

/* "/parent/name"; malloc'd. */
static char *child_path(const char *parent, const char *name)
{
	size_t a = strlen(parent), b = strlen(name);
	char *path = malloc(a + 1 + b + 1);
	if (path) {
		memcpy(path, parent, a);
		path[a] = '/';
		memcpy(path + a + 1, name, b + 1);
	}
	return path;
}

/* "2026-12-04T16:40:45Z" into BUF; its length. */
static size_t date_of(int64_t time_s, char *buf, size_t size)
{
	time_t t = (time_t)time_s;
	struct tm tm;
	if (!gmtime_r(&t, &tm))
		return (size_t)snprintf(buf, size, "%lld", (long long)time_s);
	return strftime(buf, size, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* A commit's name by date: "2026-12-04T16:40:45Z-1a2b3c4". */
static void version_name(const struct store_version *version, char *buf, size_t size)
{
	size_t n = date_of(version->time_s, buf, size);
	snprintf(buf + n, size - n, "-%s", version->short_id);
}

/* Whether NAME is VERSION's name by date, with any unique id prefix. */
static bool names_version(const char *name, const struct store_version *version)
{
	char date[64];
	size_t n = date_of(version->time_s, date, sizeof(date));
	return strncmp(name, date, n) == 0 && name[n] == '-';
}

/* The id prefix of a name by date, or "" (found nowhere). */
static const char *prefix_of(const char *name)
{
	const char *dash = strrchr(name, '-');
	return dash ? dash + 1 : "";
}

/* What NAME in DIR is: fills CHILD's view, object and time; 0 or -errno. */
static int find_child(const struct hnode *dir, const char *name, struct hnode *child)
{
	struct store_version version;
	child->time_s = mount_time_s;
	switch (dir->view) {
	case VIEW_TOP:
		if (strcmp(name, "by-id") == 0)
			child->view = VIEW_BY_ID;
		else if (strcmp(name, "by-date") == 0)
			child->view = VIEW_BY_DATE;
		else if (strcmp(name, "versions") == 0)
			child->view = VIEW_VERSIONS;
		else
			return -ENOENT;
		return 0;
	case VIEW_BY_ID:
	case VIEW_BY_DATE: {
		const char *prefix = dir->view == VIEW_BY_ID ? name : prefix_of(name);
		int rc = store_history_commit(store, prefix, &version, &child->object);
		if (rc != 0)
			return rc;
		if (dir->view == VIEW_BY_DATE && !names_version(name, &version))
			return -ENOENT;
		child->view = VIEW_OBJECT;
		child->time_s = version.time_s;
		return 0;
	}
	case VIEW_VERSIONS: {
		const char *base = repo_path(dir);
		char *path = *base ? child_path(base, name) : strdup(name);
		if (!path)
			return -ENOMEM;
		struct store_object object;
		int rc = store_history_current(store, path, &object);
		free(path);
		if (rc != 0)
			return rc;
		child->view = S_ISDIR(object.mode) ? VIEW_VERSIONS : VIEW_FILE_VERSIONS;
		return 0;
	}
	case VIEW_FILE_VERSIONS: {
		int rc = store_history_version(store, repo_path(dir), prefix_of(name), &version,
					       &child->object);
		if (rc != 0)
			return rc;
		if (!names_version(name, &version))
			return -ENOENT;
		child->view = VIEW_OBJECT;
		child->time_s = version.time_s;
		return 0;
	}
	case VIEW_OBJECT:
		if (!S_ISDIR(dir->object.mode))
			return -ENOTDIR;
		child->view = VIEW_OBJECT;
		child->time_s = dir->time_s;
		return store_history_lookup(store, &dir->object, name, &child->object);
	}
	return -ENOENT;
}

/* A new node for the kernel, with one lookup, at PATH (taken). */
static struct hnode *new_node(const struct hnode *found, char *path)
{
	struct hnode *node = malloc(sizeof(*node));
	if (!node) {
		free(path);
		return NULL;
	}
	*node = *found;
	atomic_init(&node->lookups, 1);
	node->path = path;
	pthread_mutex_lock(&live_lock);
	node->prev = NULL;
	node->next = live;
	if (live)
		live->prev = node;
	live = node;
	pthread_mutex_unlock(&live_lock);
	return node;
}

static void free_node(struct hnode *node)
{
	free(node->path);
	free(node);
}

static void forget_node(struct hnode *node, uint64_t count)
{
	if (atomic_fetch_sub(&node->lookups, count) != count)
		return;
	pthread_mutex_lock(&live_lock);
	if (node->prev)
		node->prev->next = node->next;
	else
		live = node->next;
	if (node->next)
		node->next->prev = node->prev;
	pthread_mutex_unlock(&live_lock);
	free_node(node);
}

static void reply_node(fuse_req_t req, struct hnode *node)
{
	struct fuse_entry_param e = {0};
	e.ino = ino_of(node);
	attr_of(node, &e.attr);
	e.attr_timeout = e.entry_timeout = changes(node) ? CHANGING_TIMEOUT : FIXED_TIMEOUT;
	if (fuse_reply_entry(req, &e) == -ENOENT)
		forget_node(node, 1);
}

/* Looks NAME up in the history directory DIR (NULL: the mount's root,
 * where NAME is .history) and replies. */
static void lookup_in(fuse_req_t req, const struct hnode *dir, const char *name)
{
	char *path = child_path(dir ? dir->path : "", name);
	struct call c;
	call_begin(&c, req, TRACE_OP_LOOKUP, path, TRACE_KIND_NONE);
	struct hnode found = {0};
	int rc = 0;
	if (!path)
		rc = -ENOMEM;
	else if (dir)
		rc = find_child(dir, name, &found);
	else {
		found.view = VIEW_TOP;
		found.time_s = mount_time_s;
	}
	struct hnode *node = NULL;
	if (rc == 0 && !(node = new_node(&found, path)))
		rc = -ENOMEM;
	if (rc == 0)
		c.event.kind = kind_of(mode_of(node));
	call_end(&c, rc);
	if (rc != 0) {
		free(path);
		reply_error(req, rc);
	} else {
		reply_node(req, node);
	}
}

/* ---- listings */

static int listing_add(struct listing *l, const char *name, uint32_t mode, uint64_t size,
		       int64_t time_s)
{
	if (l->count == l->capacity) {
		size_t capacity = l->capacity ? l->capacity * 2 : 32;
		struct listing_entry *entries = realloc(l->entries, capacity * sizeof(*entries));
		if (!entries) {
			l->error = -ENOMEM;
			return 1;
		}
		l->entries = entries;
		l->capacity = capacity;
	}
	char *copy = strdup(name);
	if (!copy) {
		l->error = -ENOMEM;
		return 1;
	}
	l->entries[l->count++] = (struct listing_entry){copy, mode, size, time_s};
	return 0;
}

static void listing_free(struct listing *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->entries[i].name);
	free(l->entries);
	free(l);
}

static int add_commit_by_id(void *ctx, const struct store_version *version,
			    const struct store_object *root)
{
	(void)root;
	return listing_add(ctx, version->id, S_IFDIR | 0555, 0, version->time_s);
}

static int add_by_date(void *ctx, const struct store_version *version,
		       const struct store_object *object)
{
	char name[96];
	version_name(version, name, sizeof(name));
	return listing_add(ctx, name, object->mode, S_ISDIR(object->mode) ? 0 : object->size,
			   version->time_s);
}

struct tree_listing {
	struct listing *listing;
	int64_t time_s;
	bool as_versions; /* every entry is a directory (of versions) */
};

static int add_entry(void *ctx, const char *name, const struct store_object *object)
{
	struct tree_listing *t = ctx;
	if (t->as_versions)
		return listing_add(t->listing, name, S_IFDIR | 0555, 0, t->time_s);
	return listing_add(t->listing, name, object->mode,
			   S_ISDIR(object->mode) ? 0 : object->size, t->time_s);
}

/* The entries of DIR, "." and ".." first; 0 or -errno. */
static int list(const struct hnode *dir, struct listing *l)
{
	listing_add(l, ".", S_IFDIR | 0555, 0, dir->time_s);
	listing_add(l, "..", S_IFDIR | 0555, 0, dir->time_s);
	int rc = 0;
	struct tree_listing t = {l, dir->time_s, false};
	switch (dir->view) {
	case VIEW_TOP:
		listing_add(l, "by-id", S_IFDIR | 0555, 0, mount_time_s);
		listing_add(l, "by-date", S_IFDIR | 0555, 0, mount_time_s);
		listing_add(l, "versions", S_IFDIR | 0555, 0, mount_time_s);
		break;
	case VIEW_BY_ID:
		rc = store_history_commits(store, add_commit_by_id, l);
		break;
	case VIEW_BY_DATE:
		rc = store_history_commits(store, add_by_date, l);
		break;
	case VIEW_VERSIONS: {
		struct store_object current;
		rc = store_history_current(store, repo_path(dir), &current);
		t.as_versions = true;
		if (rc == 0)
			rc = store_history_list(store, &current, add_entry, &t);
		break;
	}
	case VIEW_FILE_VERSIONS:
		rc = store_history_versions(store, repo_path(dir), add_by_date, l);
		break;
	case VIEW_OBJECT:
		rc = store_history_list(store, &dir->object, add_entry, &t);
		break;
	}
	return rc ? rc : l->error;
}

/* ---- the operations on history nodes */

static void h_forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
	if (!is_history(ino)) {
		inner.forget(req, ino, nlookup);
		return;
	}
	forget_node(hnode_of(ino), nlookup);
	fuse_reply_none(req);
}

static void h_forget_multi(fuse_req_t req, size_t count, struct fuse_forget_data *forgets)
{
	size_t kept = 0;
	for (size_t i = 0; i < count; i++) {
		if (is_history(forgets[i].ino))
			forget_node(hnode_of(forgets[i].ino), forgets[i].nlookup);
		else
			forgets[kept++] = forgets[i];
	}
	if (kept)
		inner.forget_multi(req, kept, forgets);
	else
		fuse_reply_none(req);
}

static void h_lookup(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (is_history(parent))
		lookup_in(req, hnode_of(parent), name);
	else if (parent == FUSE_ROOT_ID && strcmp(name, STORE_HISTORY_NAME) == 0)
		lookup_in(req, NULL, name);
	else
		inner.lookup(req, parent, name);
}

static void h_getattr(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.getattr(req, ino, fi);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_GETATTR, node->path, kind_of(mode_of(node)));
	struct stat st;
	attr_of(node, &st);
	call_end(&c, 0);
	fuse_reply_attr(req, &st, changes(node) ? CHANGING_TIMEOUT : FIXED_TIMEOUT);
}

/* Traces OP on NODE refused with RESULT, and replies. */
static void refuse(fuse_req_t req, enum trace_op op, const struct hnode *node, int result)
{
	struct call c;
	call_begin(&c, req, op, node->path, kind_of(mode_of(node)));
	call_end(&c, result);
	reply_error(req, result);
}

/* The same for NAME in the directory NODE. */
static void refuse_child(fuse_req_t req, enum trace_op op, const struct hnode *node,
			 const char *name)
{
	char *path = child_path(node->path, name);
	struct call c;
	call_begin(&c, req, op, path, TRACE_KIND_NONE);
	call_end(&c, -EROFS);
	free(path);
	reply_error(req, -EROFS);
}

static void h_setattr(fuse_req_t req, fuse_ino_t ino, struct stat *attr, int to_set,
		      struct fuse_file_info *fi)
{
	if (is_history(ino))
		refuse(req, TRACE_OP_SETATTR, hnode_of(ino), -EROFS);
	else
		inner.setattr(req, ino, attr, to_set, fi);
}

/* The bytes of a file node, or -errno. */
static int read_object(const struct hnode *node, struct store_blob **blob)
{
	if (node->view != VIEW_OBJECT || S_ISDIR(node->object.mode))
		return -EISDIR;
	return store_history_read(store, &node->object, blob);
}

static void h_readlink(fuse_req_t req, fuse_ino_t ino)
{
	if (!is_history(ino)) {
		inner.readlink(req, ino);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_READLINK, node->path, kind_of(mode_of(node)));
	struct store_blob *blob = NULL;
	char *target = NULL;
	int rc = S_ISLNK(mode_of(node)) ? read_object(node, &blob) : -EINVAL;
	if (rc == 0 && !(target = strndup(blob->data, blob->size)))
		rc = -ENOMEM;
	if (rc == 0)
		c.event.bytes = (int64_t)strlen(target);
	store_blob_free(store, blob);
	call_end(&c, rc);
	if (rc == 0)
		fuse_reply_readlink(req, target);
	else
		reply_error(req, rc);
	free(target);
}

/* Refused where the parent or the name is the history's. */
static bool creates_in_history(fuse_req_t req, enum trace_op op, fuse_ino_t parent,
			       const char *name)
{
	if (is_history(parent)) {
		refuse_child(req, op, hnode_of(parent), name);
		return true;
	}
	if (parent == FUSE_ROOT_ID && strcmp(name, STORE_HISTORY_NAME) == 0) {
		reply_error(req, -EROFS);
		return true;
	}
	return false;
}

static void h_mknod(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode, dev_t rdev)
{
	if (!creates_in_history(req, TRACE_OP_MKNOD, parent, name))
		inner.mknod(req, parent, name, mode, rdev);
}

static void h_mkdir(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode)
{
	if (!creates_in_history(req, TRACE_OP_MKDIR, parent, name))
		inner.mkdir(req, parent, name, mode);
}

static void h_symlink(fuse_req_t req, const char *link, fuse_ino_t parent, const char *name)
{
	if (!creates_in_history(req, TRACE_OP_SYMLINK, parent, name))
		inner.symlink(req, link, parent, name);
}

static void h_unlink(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!creates_in_history(req, TRACE_OP_UNLINK, parent, name))
		inner.unlink(req, parent, name);
}

static void h_rmdir(fuse_req_t req, fuse_ino_t parent, const char *name)
{
	if (!creates_in_history(req, TRACE_OP_RMDIR, parent, name))
		inner.rmdir(req, parent, name);
}

static void h_create(fuse_req_t req, fuse_ino_t parent, const char *name, mode_t mode,
		     struct fuse_file_info *fi)
{
	if (!creates_in_history(req, TRACE_OP_CREATE, parent, name))
		inner.create(req, parent, name, mode, fi);
}

static void h_link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char *newname)
{
	if (creates_in_history(req, TRACE_OP_LINK, newparent, newname))
		return;
	if (is_history(ino)) /* into the working copy: another file system, in effect */
		refuse(req, TRACE_OP_LINK, hnode_of(ino), -EXDEV);
	else
		inner.link(req, ino, newparent, newname);
}

static void h_rename(fuse_req_t req, fuse_ino_t parent, const char *name, fuse_ino_t newparent,
		     const char *newname, unsigned int flags)
{
	if (!creates_in_history(req, TRACE_OP_RENAME, parent, name) &&
	    !creates_in_history(req, TRACE_OP_RENAME, newparent, newname))
		inner.rename(req, parent, name, newparent, newname, flags);
}

static void h_open(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.open(req, ino, fi);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_OPEN, node->path, kind_of(mode_of(node)));
	c.event.flags = (uint32_t)fi->flags;
	struct store_blob *blob = NULL;
	int rc = (fi->flags & O_ACCMODE) != O_RDONLY || (fi->flags & O_TRUNC)
			 ? -EROFS
			 : read_object(node, &blob);
	call_end(&c, rc);
	if (rc != 0) {
		reply_error(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)blob;
	fi->keep_cache = 1; /* a commit's file never changes */
	if (fuse_reply_open(req, fi) == -ENOENT)
		store_blob_free(store, blob);
}

static void h_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		   struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.read(req, ino, size, off, fi);
		return;
	}
	struct hnode *node = hnode_of(ino);
	const struct store_blob *blob = (const struct store_blob *)(uintptr_t)fi->fh;
	struct call c;
	call_begin(&c, req, TRACE_OP_READ, node->path, kind_of(mode_of(node)));
	c.event.offset = off;
	size_t n = 0;
	if (off >= 0 && (uint64_t)off < blob->size)
		n = blob->size - (uint64_t)off < size ? (size_t)(blob->size - (uint64_t)off) : size;
	c.event.bytes = (int64_t)n;
	call_end(&c, 0);
	fuse_reply_buf(req, n ? (const char *)blob->data + off : NULL, n);
}

static void h_write_buf(fuse_req_t req, fuse_ino_t ino, struct fuse_bufvec *bufv, off_t off,
			struct fuse_file_info *fi)
{
	if (is_history(ino)) /* never opened for writing */
		reply_error(req, -EBADF);
	else
		inner.write_buf(req, ino, bufv, off, fi);
}

static void h_flush(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (is_history(ino))
		fuse_reply_err(req, 0);
	else
		inner.flush(req, ino, fi);
}

static void h_release(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.release(req, ino, fi);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_RELEASE, node->path, kind_of(mode_of(node)));
	store_blob_free(store, (struct store_blob *)(uintptr_t)fi->fh);
	call_end(&c, 0);
	fuse_reply_err(req, 0);
}

static void h_fsync(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (is_history(ino))
		fuse_reply_err(req, 0);
	else
		inner.fsync(req, ino, datasync, fi);
}

static void h_opendir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.opendir(req, ino, fi);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_OPENDIR, node->path, TRACE_KIND_DIR);
	c.event.flags = (uint32_t)fi->flags;
	struct listing *l = calloc(1, sizeof(*l));
	int rc = !S_ISDIR(mode_of(node)) ? -ENOTDIR : l ? list(node, l) : -ENOMEM;
	call_end(&c, rc);
	if (rc != 0) {
		if (l)
			listing_free(l);
		reply_error(req, rc);
		return;
	}
	fi->fh = (uint64_t)(uintptr_t)l;
	if (fuse_reply_open(req, fi) == -ENOENT)
		listing_free(l);
}

static void read_listing(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			 struct fuse_file_info *fi, bool plus)
{
	struct hnode *node = hnode_of(ino);
	const struct listing *l = (const struct listing *)(uintptr_t)fi->fh;
	struct call c;
	call_begin(&c, req, TRACE_OP_READDIR, node->path, TRACE_KIND_DIR);
	c.event.offset = off;
	char *buf = malloc(size);
	int rc = buf ? 0 : -ENOMEM;
	size_t used = 0;
	for (size_t i = off < 0 ? l->count : (size_t)off; rc == 0 && i < l->count; i++) {
		const struct listing_entry *entry = &l->entries[i];
		struct fuse_entry_param e = {0}; /* ino 0: the kernel makes no dentry of it */
		fill_attr(&e.attr, i + 2, entry->mode, entry->size, entry->time_s);
		size_t room = size - used;
		size_t need = plus ? fuse_add_direntry_plus(req, buf + used, room, entry->name, &e,
							    (off_t)i + 1)
				   : fuse_add_direntry(req, buf + used, room, entry->name, &e.attr,
						       (off_t)i + 1);
		if (need > room)
			break;
		used += need;
	}
	c.event.bytes = (int64_t)used;
	call_end(&c, rc);
	if (rc == 0)
		fuse_reply_buf(req, buf, used);
	else
		reply_error(req, rc);
	free(buf);
}

static void h_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
		      struct fuse_file_info *fi)
{
	if (is_history(ino))
		read_listing(req, ino, size, off, fi, false);
	else
		inner.readdir(req, ino, size, off, fi);
}

static void h_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off,
			  struct fuse_file_info *fi)
{
	if (is_history(ino))
		read_listing(req, ino, size, off, fi, true);
	else
		inner.readdirplus(req, ino, size, off, fi);
}

static void h_releasedir(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.releasedir(req, ino, fi);
		return;
	}
	struct call c;
	call_begin(&c, req, TRACE_OP_RELEASEDIR, hnode_of(ino)->path, TRACE_KIND_DIR);
	listing_free((struct listing *)(uintptr_t)fi->fh);
	call_end(&c, 0);
	fuse_reply_err(req, 0);
}

static void h_fsyncdir(fuse_req_t req, fuse_ino_t ino, int datasync, struct fuse_file_info *fi)
{
	if (is_history(ino))
		fuse_reply_err(req, 0);
	else
		inner.fsyncdir(req, ino, datasync, fi);
}

static void h_statfs(fuse_req_t req, fuse_ino_t ino)
{
	inner.statfs(req, is_history(ino) ? FUSE_ROOT_ID : ino);
}

static void h_setxattr(fuse_req_t req, fuse_ino_t ino, const char *name, const char *value,
		       size_t size, int flags)
{
	if (is_history(ino))
		refuse(req, TRACE_OP_SETXATTR, hnode_of(ino), -EROFS);
	else
		inner.setxattr(req, ino, name, value, size, flags);
}

static void h_getxattr(fuse_req_t req, fuse_ino_t ino, const char *name, size_t size)
{
	if (is_history(ino))
		refuse(req, TRACE_OP_GETXATTR, hnode_of(ino), -ENODATA);
	else
		inner.getxattr(req, ino, name, size);
}

static void h_listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
	if (!is_history(ino))
		inner.listxattr(req, ino, size);
	else if (size == 0)
		fuse_reply_xattr(req, 0);
	else
		fuse_reply_buf(req, NULL, 0);
}

static void h_removexattr(fuse_req_t req, fuse_ino_t ino, const char *name)
{
	if (is_history(ino))
		refuse(req, TRACE_OP_REMOVEXATTR, hnode_of(ino), -EROFS);
	else
		inner.removexattr(req, ino, name);
}

static void h_access(fuse_req_t req, fuse_ino_t ino, int mask)
{
	if (!is_history(ino)) {
		inner.access(req, ino, mask);
		return;
	}
	struct hnode *node = hnode_of(ino);
	struct call c;
	call_begin(&c, req, TRACE_OP_ACCESS, node->path, kind_of(mode_of(node)));
	c.event.flags = (uint32_t)mask;
	int rc = (mask & W_OK) ? -EROFS
		 : (mask & X_OK) && !(mode_of(node) & S_IXUSR) ? -EACCES
							       : 0;
	call_end(&c, rc);
	fuse_reply_err(req, -rc);
}

static void h_flock(fuse_req_t req, fuse_ino_t ino, struct fuse_file_info *fi, int op)
{
	if (is_history(ino)) /* nothing changes it: every lock is granted */
		fuse_reply_err(req, 0);
	else
		inner.flock(req, ino, fi, op);
}

static void h_fallocate(fuse_req_t req, fuse_ino_t ino, int mode, off_t offset, off_t length,
			struct fuse_file_info *fi)
{
	if (is_history(ino))
		refuse(req, TRACE_OP_FALLOCATE, hnode_of(ino), -EROFS);
	else
		inner.fallocate(req, ino, mode, offset, length, fi);
}

static void h_copy_file_range(fuse_req_t req, fuse_ino_t ino_in, off_t off_in,
			      struct fuse_file_info *fi_in, fuse_ino_t ino_out, off_t off_out,
			      struct fuse_file_info *fi_out, size_t len, int flags)
{
	/* The caller copies by reading and writing instead. */
	if (is_history(ino_in) || is_history(ino_out))
		reply_error(req, -EXDEV);
	else
		inner.copy_file_range(req, ino_in, off_in, fi_in, ino_out, off_out, fi_out, len,
				      flags);
}

static void h_lseek(fuse_req_t req, fuse_ino_t ino, off_t off, int whence,
		    struct fuse_file_info *fi)
{
	if (!is_history(ino)) {
		inner.lseek(req, ino, off, whence, fi);
		return;
	}
	/* A file without holes: data from 0 to its size. */
	const struct store_blob *blob = (const struct store_blob *)(uintptr_t)fi->fh;
	if (off < 0 || (uint64_t)off >= blob->size)
		reply_error(req, -ENXIO);
	else if (whence == SEEK_DATA)
		fuse_reply_lseek(req, off);
	else if (whence == SEEK_HOLE)
		fuse_reply_lseek(req, (off_t)blob->size);
	else
		reply_error(req, -EINVAL);
}

static void h_destroy(void *userdata)
{
	pthread_mutex_lock(&live_lock);
	while (live) {
		struct hnode *next = live->next;
		free_node(live);
		live = next;
	}
	pthread_mutex_unlock(&live_lock);
	if (inner.destroy)
		inner.destroy(userdata);
}

void store_history_wrap(struct fuse_lowlevel_ops *ops)
{
	inner = *ops;
	ops->destroy = h_destroy;
	ops->lookup = h_lookup;
	ops->forget = h_forget;
	ops->forget_multi = h_forget_multi;
	ops->getattr = h_getattr;
	ops->setattr = h_setattr;
	ops->readlink = h_readlink;
	ops->mknod = h_mknod;
	ops->mkdir = h_mkdir;
	ops->symlink = h_symlink;
	ops->link = h_link;
	ops->unlink = h_unlink;
	ops->rmdir = h_rmdir;
	ops->rename = h_rename;
	ops->open = h_open;
	ops->create = h_create;
	ops->read = h_read;
	ops->write_buf = h_write_buf;
	ops->flush = h_flush;
	ops->release = h_release;
	ops->fsync = h_fsync;
	ops->opendir = h_opendir;
	ops->readdir = h_readdir;
	ops->readdirplus = h_readdirplus;
	ops->releasedir = h_releasedir;
	ops->fsyncdir = h_fsyncdir;
	ops->statfs = h_statfs;
	ops->setxattr = h_setxattr;
	ops->getxattr = h_getxattr;
	ops->listxattr = h_listxattr;
	ops->removexattr = h_removexattr;
	ops->access = h_access;
	ops->flock = h_flock;
	ops->fallocate = h_fallocate;
	ops->copy_file_range = h_copy_file_range;
	ops->lseek = h_lseek;
}
