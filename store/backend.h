/*
 * backend.h — what a revision-control backend provides to the store
 * (private to store/). One backend so far: git on libgit2 (git.c).
 *
 * A backend's repository handle is used by one thread at a time: the
 * store's background thread while it runs, the caller's otherwise.
 */
#ifndef TRACEFS_STORE_BACKEND_H
#define TRACEFS_STORE_BACKEND_H

#include "store/store.h"

#include <stddef.h>

struct store_repo;
struct store_history_repo;

/* The read-only history (see store.h for what each does). A handle is
 * used by one thread at a time. */
struct store_history_backend {
	struct store_history_repo *(*open)(const char *workdir, char *err, size_t err_size);
	int (*commits)(struct store_history_repo *repo, store_version_fn fn, void *ctx);
	int (*commit)(struct store_history_repo *repo, const char *prefix,
		      struct store_version *version, struct store_object *root);
	int (*list)(struct store_history_repo *repo, const struct store_object *dir,
		    store_entry_fn fn, void *ctx);
	int (*lookup)(struct store_history_repo *repo, const struct store_object *dir,
		      const char *name, struct store_object *out);
	int (*current)(struct store_history_repo *repo, const char *path, struct store_object *out);
	int (*versions)(struct store_history_repo *repo, const char *path, store_version_fn fn,
			void *ctx);
	int (*version)(struct store_history_repo *repo, const char *path, const char *prefix,
		       struct store_version *version, struct store_object *out);
	int (*read)(struct store_history_repo *repo, const struct store_object *object,
		    struct store_blob **out);
	void (*blob_free)(struct store_blob *blob);
	void (*close)(struct store_history_repo *repo);
};

struct store_backend {
	const char *name;
	const char *const *reserved; /* names it owns, NULL-terminated */
	int (*clone)(const char *remote, const char *workdir, char *err, size_t err_size);
	/* Setup: NULL with a message when WORKDIR is not a clean working copy
	 * of this backend (merge in progress, conflicts, detached). */
	struct store_repo *(*open)(const char *workdir, char *err, size_t err_size);
	/*
	 * Commits PATHS (relative, without a leading '/'; "dir/" for all
	 * below dir, "dir" for dir itself only), or every change in the
	 * working copy when ALL, as they are now, saying that
	 * COMMANDS (comma-separated) made them. 1 committed (OUT filled), 0
	 * nothing to commit, -1 failed (message in err).
	 */
	int (*commit)(struct store_repo *repo, char *const *paths, size_t count, bool all,
		      const char *commands, struct store_commit *out, char *err,
		      size_t err_size);
	/* Update: fetch and merge upstream into the working copy; conflicts
	 * keep both versions. 1 a merge commit was made (OUT filled), 0
	 * nothing to do or a fast-forward, -1 failed (message in err). */
	int (*update)(struct store_repo *repo, struct store_commit *out, char *err,
		      size_t err_size);
	/* Pushes what the remote lacks. 0 (also when nothing to push or no
	 * remote) or -1. */
	int (*push)(struct store_repo *repo, char *err, size_t err_size);
	int (*status)(struct store_repo *repo, FILE *out, char *err, size_t err_size);
	int (*log)(struct store_repo *repo, int max, FILE *out, char *err, size_t err_size);
	void (*close)(struct store_repo *repo);
	const struct store_history_backend *history;
};

extern const struct store_backend store_git_backend;
extern const struct store_history_backend store_git_history;

#endif
