/*
 * store.h — the whole interface of store/: the versioned store, a
 * directory kept as a revision-controlled working copy and synchronised
 * with a remote the user runs (a path or an ssh URL).
 *
 * The revision-control operations (setup, checkout, update, add, remove,
 * copy, commit, touch, cleanup, real path, reserved names) sit behind a
 * small backend table; the one backend is git on libgit2. store/ knows
 * nothing of FUSE or of traces: the file system tells it what changed
 * (store_touch() ... store_closed(), which only note and never wait on
 * disk or network), and one background thread per store commits the
 * changes after a quiet moment, pushes, and fetches and merges upstream.
 */
#ifndef TRACEFS_STORE_H
#define TRACEFS_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* A commit the store made (its own or a merge with upstream). */
struct store_commit {
	char id[48];	  /* the backend's id, hex */
	int files;	  /* files it changed */
	const char *path; /* the deepest directory holding every change, "/..." */
	const char *summary; /* the message's first line */
	int64_t start_ns; /* CLOCK_REALTIME when the commit began */
	int64_t dur_ns;
	int result; /* 0, or -errno when it failed (id empty) */
};

struct store_options {
	int quiet_ms;	     /* commit once changes have paused this long (default 500) */
	int max_delay_ms;    /* ... or once the oldest change waited this long (default 5000) */
	int sync_interval_s; /* fetch + merge this often (default 60; 0: only when listed) */
	/* Called on the store's thread after each commit; must be quick. */
	void (*committed)(void *ctx, const struct store_commit *commit);
	void *ctx;
};

struct store;

/* Setup: clones REMOTE (a path or an ssh URL) into WORKDIR, which must not
 * exist or be empty. 0, or -1 with a message in err (WORKDIR unchanged). */
int store_clone(const char *remote, const char *workdir, char *err, size_t err_size);

/*
 * Setup + update for a mount: opens the working copy WORKDIR, commits what
 * was left uncommitted (a daemon killed before its commit), and starts the
 * background thread. NULL with a message in err when WORKDIR is not a
 * working copy, is in the middle of a merge or holds conflicts: then
 * nothing was changed.
 */
struct store *store_open(const char *workdir, const struct store_options *options, char *err,
			 size_t err_size);

/* Whether NAME (one path component) belongs to the backend (".git"). */
bool store_is_reserved(const char *name);

/* The working-copy path of PATH ("/dir/file", relative to the mount); malloc'd. */
char *store_real_path(const struct store *store, const char *path);

/*
 * What the file system did, by the command COMM (NULL if unknown). PATH is
 * relative to the working copy and starts with '/'. Thread-safe, quick.
 * touch: PATH's contents or mode changed; add: PATH was created; remove:
 * PATH was removed; copy: TO now holds what FROM held (a rename is a copy
 * and a remove); closed: a file was closed, a written one is committed
 * after the quiet time; listed: a directory was listed, fetch soon.
 */
void store_touch(struct store *store, const char *path, const char *comm);
void store_add(struct store *store, const char *path, const char *comm);
void store_remove(struct store *store, const char *path, const char *comm);
void store_copy(struct store *store, const char *from, const char *to, const char *comm);
void store_closed(struct store *store, const char *path);
void store_listed(struct store *store);

/*
 * History, read-only, straight from the repository's objects (no checkout,
 * nothing written). Thread-safe: calls are serialised on a repository
 * handle of their own, apart from the background thread's.
 */

/* An object of a commit's tree: a directory, a file or a symlink. */
struct store_object {
	unsigned char id[32]; /* the backend's object id, binary */
	uint32_t mode;	      /* S_IFDIR | 0555, S_IFREG | 0444 or 0555, S_IFLNK | 0777 */
	uint64_t size;	      /* bytes of a file or a symlink's target */
};

/* A commit seen in the history. */
struct store_version {
	char id[48];	   /* hex */
	char short_id[16]; /* the shortest unambiguous prefix, at least 7 */
	int64_t time_s;	   /* committer time, seconds since the epoch */
};

/* Called for each commit or version, newest first; nonzero stops the walk. */
typedef int (*store_version_fn)(void *ctx, const struct store_version *version,
				const struct store_object *object);
/* Called for each entry of a directory; nonzero stops. */
typedef int (*store_entry_fn)(void *ctx, const char *name, const struct store_object *object);

/* Bytes of a file or a symlink's target, held until store_blob_free(). */
struct store_blob {
	const void *data;
	uint64_t size;
};

/* Each commit reachable from the branch (OBJECT: its root directory).
 * 0, or -errno. */
int store_history_commits(struct store *store, store_version_fn fn, void *ctx);
/* The commit whose id starts with PREFIX (4 or more hex digits) and its
 * root directory: 0, -ENOENT (none or several), or -errno. */
int store_history_commit(struct store *store, const char *prefix, struct store_version *version,
			 struct store_object *root);
int store_history_list(struct store *store, const struct store_object *dir, store_entry_fn fn,
		       void *ctx);
/* NAME in the directory DIR: 0, -ENOENT, or -errno. */
int store_history_lookup(struct store *store, const struct store_object *dir, const char *name,
			 struct store_object *out);
/* PATH ("dir/file", "" for the root) in the branch's last commit. */
int store_history_current(struct store *store, const char *path, struct store_object *out);
/* The commits in which PATH changed (OBJECT: PATH as that commit left it);
 * 0, or -errno. */
int store_history_versions(struct store *store, const char *path, store_version_fn fn, void *ctx);
/* PATH in the commit whose id starts with PREFIX: 0, -ENOENT, or -errno. */
int store_history_version(struct store *store, const char *path, const char *prefix,
			  struct store_version *version, struct store_object *out);
/* The bytes of a file or symlink OBJECT: 0 (*OUT to be freed), or -errno. */
int store_history_read(struct store *store, const struct store_object *object,
		       struct store_blob **out);
void store_blob_free(struct store *store, struct store_blob *blob);

/* Cleanup: commits what is pending, pushes once, stops the thread, frees. */
void store_cleanup(struct store *store);

/*
 * The `tracefs store` sub-commands on a working copy that is not mounted
 * (or is: they use the repository's own locks). Output to OUT; 0, or -1
 * with a message in err.
 * status: branch, remote, uncommitted changes, commits not yet pushed,
 * conflict copies made. sync: commit everything, fetch, merge, push.
 * log: the last MAX commits, marked when not yet pushed.
 */
int store_status(const char *workdir, FILE *out, char *err, size_t err_size);
int store_sync(const char *workdir, FILE *out, char *err, size_t err_size);
int store_log(const char *workdir, int max, FILE *out, char *err, size_t err_size);

#endif
