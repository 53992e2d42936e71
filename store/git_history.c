/*
 * git_history.c — the git backend's read-only history: commits, trees and
 * blobs read from the object database by id (no checkout, no index, no
 * working-copy file read or written), on a repository handle of its own
 * so that it never waits for the background thread's commit or fetch.
 */
#include "store/backend.h"

#include <errno.h>
#include <git2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* libgit2's object cache is shared by every handle in the process; past
 * this it drops the least used trees and commits (blobs are not cached). */
#define CACHE_MAX_BYTES (16 * 1024 * 1024)

struct store_history_repo {
	git_repository *repo;
	git_odb *odb;
};

struct git_store_blob {
	struct store_blob blob;
	git_blob *git;
};

/* libgit2's error as -errno: ENOENT for what is not there. */
static int error_of(int rc)
{
	return rc == GIT_ENOTFOUND || rc == GIT_EAMBIGUOUS ? -ENOENT : -EIO;
}

static void oid_of(const struct store_object *object, git_oid *oid)
{
	git_oid_fromraw(oid, object->id);
}

/* OBJECT for a tree entry; 1 when it is one the history shows, 0 when not
 * (a submodule's commit), -errno. */
static int object_of(struct store_history_repo *h, const git_tree_entry *entry,
		     struct store_object *object)
{
	memset(object, 0, sizeof(*object));
	const git_oid *oid = git_tree_entry_id(entry);
	memcpy(object->id, oid->id, GIT_OID_RAWSZ);
	switch (git_tree_entry_filemode(entry)) {
	case GIT_FILEMODE_TREE:
		object->mode = S_IFDIR | 0555;
		return 1;
	case GIT_FILEMODE_BLOB:
		object->mode = S_IFREG | 0444;
		break;
	case GIT_FILEMODE_BLOB_EXECUTABLE:
		object->mode = S_IFREG | 0555;
		break;
	case GIT_FILEMODE_LINK:
		object->mode = S_IFLNK | 0777;
		break;
	default:
		return 0;
	}
	size_t size;
	git_object_t type;
	int rc = git_odb_read_header(&size, &type, h->odb, oid);
	if (rc != 0)
		return error_of(rc);
	object->size = size;
	return 1;
}

static struct store_history_repo *history_open(const char *workdir, char *err, size_t err_size)
{
	git_libgit2_init();
	git_libgit2_opts(GIT_OPT_SET_CACHE_MAX_SIZE, (ssize_t)CACHE_MAX_BYTES);
	struct store_history_repo *h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, err_size, "out of memory");
		git_libgit2_shutdown();
		return NULL;
	}
	if (git_repository_open_ext(&h->repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0 ||
	    git_repository_odb(&h->odb, h->repo) != 0) {
		const git_error *e = git_error_last();
		snprintf(err, err_size, "cannot open the history of %s: %s", workdir,
			 e && e->message ? e->message : "unknown error");
		git_repository_free(h->repo);
		free(h);
		git_libgit2_shutdown();
		return NULL;
	}
	return h;
}

static void history_close(struct store_history_repo *h)
{
	if (!h)
		return;
	git_odb_free(h->odb);
	git_repository_free(h->repo);
	free(h);
	git_libgit2_shutdown();
}

/* VERSION and ROOT for COMMIT. */
static int describe(git_commit *commit, struct store_version *version, struct store_object *root)
{
	memset(version, 0, sizeof(*version));
	git_oid_tostr(version->id, sizeof(version->id), git_commit_id(commit));
	git_buf short_id = {0};
	if (git_object_short_id(&short_id, (const git_object *)commit) != 0)
		return -EIO;
	snprintf(version->short_id, sizeof(version->short_id), "%s", short_id.ptr);
	git_buf_dispose(&short_id);
	version->time_s = git_commit_time(commit);
	if (root) {
		memset(root, 0, sizeof(*root));
		memcpy(root->id, git_commit_tree_id(commit)->id, GIT_OID_RAWSZ);
		root->mode = S_IFDIR | 0555;
	}
	return 0;
}

/* Walks the commits reachable from HEAD, newest first, calling EACH. */
static int walk(struct store_history_repo *h, int (*each)(struct store_history_repo *h,
							 git_commit *commit, void *ctx),
		void *ctx)
{
	git_revwalk *walker;
	int rc = git_revwalk_new(&walker, h->repo);
	if (rc != 0)
		return error_of(rc);
	git_revwalk_sorting(walker, GIT_SORT_TIME);
	rc = git_revwalk_push_head(walker);
	if (rc != 0) {
		git_revwalk_free(walker);
		return rc == GIT_ENOTFOUND || rc == GIT_EUNBORNBRANCH ? 0 : error_of(rc);
	}
	git_oid oid;
	int result = 0;
	while (result == 0 && (rc = git_revwalk_next(&oid, walker)) == 0) {
		git_commit *commit;
		rc = git_commit_lookup(&commit, h->repo, &oid);
		if (rc != 0) {
			result = error_of(rc);
			break;
		}
		result = each(h, commit, ctx);
		git_commit_free(commit);
	}
	if (result == 0 && rc != GIT_ITEROVER)
		result = error_of(rc);
	git_revwalk_free(walker);
	return result < 0 ? result : 0;
}

struct commits_walk {
	store_version_fn fn;
	void *ctx;
};

static int each_commit(struct store_history_repo *h, git_commit *commit, void *ctx)
{
	(void)h;
	struct commits_walk *w = ctx;
	struct store_version version;
	struct store_object root;
	int rc = describe(commit, &version, &root);
	if (rc != 0)
		return rc;
	return w->fn(w->ctx, &version, &root) ? 1 : 0;
}

static int history_commits(struct store_history_repo *h, store_version_fn fn, void *ctx)
{
	struct commits_walk w = {fn, ctx};
	return walk(h, each_commit, &w);
}

/* The commit whose id starts with PREFIX (4 to 40 hex digits). */
static int commit_by_prefix(struct store_history_repo *h, const char *prefix, git_commit **out)
{
	size_t length = strlen(prefix);
	if (length < GIT_OID_MINPREFIXLEN || length > GIT_OID_HEXSZ ||
	    strspn(prefix, "0123456789abcdef") != length)
		return -ENOENT;
	git_oid oid;
	int rc = git_oid_fromstrn(&oid, prefix, length);
	if (rc == 0)
		rc = git_commit_lookup_prefix(out, h->repo, &oid, length);
	return rc == 0 ? 0 : error_of(rc);
}

static int history_commit(struct store_history_repo *h, const char *prefix,
			  struct store_version *version, struct store_object *root)
{
	git_commit *commit;
	int rc = commit_by_prefix(h, prefix, &commit);
	if (rc != 0)
		return rc;
	rc = describe(commit, version, root);
	git_commit_free(commit);
	return rc;
}

static int tree_of(struct store_history_repo *h, const struct store_object *dir, git_tree **tree)
{
	if (!S_ISDIR(dir->mode))
		return -ENOTDIR;
	git_oid oid;
	oid_of(dir, &oid);
	int rc = git_tree_lookup(tree, h->repo, &oid);
	return rc == 0 ? 0 : error_of(rc);
}

static int history_list(struct store_history_repo *h, const struct store_object *dir,
			store_entry_fn fn, void *ctx)
{
	git_tree *tree;
	int rc = tree_of(h, dir, &tree);
	if (rc != 0)
		return rc;
	size_t count = git_tree_entrycount(tree);
	for (size_t i = 0; i < count; i++) {
		const git_tree_entry *entry = git_tree_entry_byindex(tree, i);
		struct store_object object;
		rc = object_of(h, entry, &object);
		if (rc < 0)
			break;
		if (rc == 1 && fn(ctx, git_tree_entry_name(entry), &object)) {
			rc = 0;
			break;
		}
		rc = 0;
	}
	git_tree_free(tree);
	return rc;
}

static int history_lookup(struct store_history_repo *h, const struct store_object *dir,
			  const char *name, struct store_object *out)
{
	git_tree *tree;
	int rc = tree_of(h, dir, &tree);
	if (rc != 0)
		return rc;
	const git_tree_entry *entry = git_tree_entry_byname(tree, name);
	rc = entry ? object_of(h, entry, out) : 0;
	git_tree_free(tree);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

/* PATH in COMMIT's tree ("" for the root): 0, -ENOENT or -errno. */
static int object_at(struct store_history_repo *h, git_commit *commit, const char *path,
		     struct store_object *out)
{
	if (!*path) {
		struct store_version version;
		return describe(commit, &version, out);
	}
	git_tree *tree;
	int rc = git_commit_tree(&tree, commit);
	if (rc != 0)
		return error_of(rc);
	git_tree_entry *entry;
	rc = git_tree_entry_bypath(&entry, tree, path);
	git_tree_free(tree);
	if (rc != 0)
		return error_of(rc);
	rc = object_of(h, entry, out);
	git_tree_entry_free(entry);
	return rc == 1 ? 0 : rc == 0 ? -ENOENT : rc;
}

static int history_current(struct store_history_repo *h, const char *path,
			   struct store_object *out)
{
	git_object *head;
	int rc = git_revparse_single(&head, h->repo, "HEAD^{commit}");
	if (rc != 0)
		return error_of(rc);
	rc = object_at(h, (git_commit *)head, path, out);
	git_object_free(head);
	return rc;
}

struct versions_walk {
	const char *path;
	store_version_fn fn;
	void *ctx;
};

/* A commit is a version of the path when the path is there and differs
 * from what every parent held there (so a merge that took one side's file
 * unchanged is not a version of it). */
static int each_version(struct store_history_repo *h, git_commit *commit, void *ctx)
{
	struct versions_walk *w = ctx;
	struct store_object object;
	int rc = object_at(h, commit, w->path, &object);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0)
		return rc;
	unsigned parents = git_commit_parentcount(commit);
	for (unsigned i = 0; i < parents; i++) {
		git_commit *parent;
		rc = git_commit_parent(&parent, commit, i);
		if (rc != 0)
			return error_of(rc);
		struct store_object before;
		rc = object_at(h, parent, w->path, &before);
		git_commit_free(parent);
		if (rc == 0 && before.mode == object.mode &&
		    memcmp(before.id, object.id, sizeof(object.id)) == 0)
			return 0;
		if (rc != 0 && rc != -ENOENT)
			return rc;
	}
	struct store_version version;
	rc = describe(commit, &version, NULL);
	if (rc != 0)
		return rc;
	return w->fn(w->ctx, &version, &object) ? 1 : 0;
}

static int history_versions(struct store_history_repo *h, const char *path, store_version_fn fn,
			    void *ctx)
{
	struct versions_walk w = {path, fn, ctx};
	return walk(h, each_version, &w);
}

static int history_version(struct store_history_repo *h, const char *path, const char *prefix,
			   struct store_version *version, struct store_object *out)
{
	git_commit *commit;
	int rc = commit_by_prefix(h, prefix, &commit);
	if (rc != 0)
		return rc;
	rc = describe(commit, version, NULL);
	if (rc == 0)
		rc = object_at(h, commit, path, out);
	git_commit_free(commit);
	return rc;
}

static int history_read(struct store_history_repo *h, const struct store_object *object,
			struct store_blob **out)
{
	if (S_ISDIR(object->mode))
		return -EISDIR;
	struct git_store_blob *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	git_oid oid;
	oid_of(object, &oid);
	int rc = git_blob_lookup(&b->git, h->repo, &oid);
	if (rc != 0) {
		free(b);
		return error_of(rc);
	}
	b->blob.data = git_blob_rawcontent(b->git);
	b->blob.size = (uint64_t)git_blob_rawsize(b->git);
	*out = &b->blob;
	return 0;
}

static void history_blob_free(struct store_blob *blob)
{
	if (!blob)
		return;
	struct git_store_blob *b = (struct git_store_blob *)blob;
	git_blob_free(b->git);
	free(b);
}

const struct store_history_backend store_git_history = {
	.open = history_open,
	.commits = history_commits,
	.commit = history_commit,
	.list = history_list,
	.lookup = history_lookup,
	.current = history_current,
	.versions = history_versions,
	.version = history_version,
	.read = history_read,
	.blob_free = history_blob_free,
	.close = history_close,
};
