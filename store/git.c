/*
 * git.c — the store's git backend, on libgit2 (never by running `git`).
 *
 * The working copy's branch is the one HEAD names; its upstream is the
 * remote "origin" and refs/remotes/origin/BRANCH, as `git clone` leaves
 * them. Commits take the paths the file system reported (not a scan of
 * the tree), so a commit costs what changed, not the size of the tree.
 * Conflicts with upstream never lose data: our version stays at its name,
 * theirs is added next to it as "NAME (conflict from HOST DATE).EXT", and
 * the copy is listed in .git/tracefs-conflicts, which `store status` shows.
 */
#include "store/backend.h"

#include <errno.h>
#include <git2.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct store_repo {
	git_repository *repo;
	char *workdir; /* with a trailing '/' (libgit2's form) */
	char common_dir[PATH_MAX];
	char summary[512];
};

static const char *const reserved_names[] = {".git", NULL};

static int64_t realtime_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Puts "WHAT: libgit2's last error" into err; returns -1. */
static int failed(char *err, size_t err_size, const char *what)
{
	const git_error *e = git_error_last();
	snprintf(err, err_size, "%s: %s", what, e && e->message ? e->message : "unknown error");
	return -1;
}

/* ---- credentials for ssh remotes: the agent, then the usual key files */

struct auth_state {
	int attempt;
};

static int credentials(git_credential **out, const char *url, const char *user_from_url,
		       unsigned int allowed, void *payload)
{
	(void)url;
	struct auth_state *state = payload;
	const char *user = user_from_url;
	struct passwd *pw = getpwuid(getuid());
	if (!user)
		user = pw ? pw->pw_name : "git";
	if (allowed & GIT_CREDENTIAL_USERNAME)
		return git_credential_username_new(out, user);
	if (!(allowed & GIT_CREDENTIAL_SSH_KEY))
		return GIT_PASSTHROUGH;
	static const char *const keys[] = {"id_ed25519", "id_ecdsa", "id_rsa"};
	int attempt = state->attempt++;
	if (attempt == 0 && getenv("SSH_AUTH_SOCK"))
		return git_credential_ssh_key_from_agent(out, user);
	const char *home = getenv("HOME");
	if (!home && pw)
		home = pw->pw_dir;
	for (int i = getenv("SSH_AUTH_SOCK") ? attempt - 1 : attempt; home && i < 3; i++) {
		char private_key[PATH_MAX], public_key[PATH_MAX + 8];
		snprintf(private_key, sizeof(private_key), "%s/.ssh/%s", home, keys[i]);
		snprintf(public_key, sizeof(public_key), "%s.pub", private_key);
		if (access(private_key, R_OK) == 0) {
			state->attempt = i + 1 + (getenv("SSH_AUTH_SOCK") ? 1 : 0);
			return git_credential_ssh_key_new(out, user,
							  access(public_key, R_OK) == 0 ? public_key : NULL,
							  private_key, NULL);
		}
	}
	git_error_set_str(GIT_ERROR_SSH, "no ssh key was accepted (tried the agent and "
					 "~/.ssh/id_ed25519, id_ecdsa, id_rsa)");
	return GIT_EAUTH;
}

static void set_callbacks(git_remote_callbacks *callbacks, struct auth_state *state)
{
	callbacks->credentials = credentials;
	callbacks->payload = state;
}

/* ---- names */

/* The branch HEAD names ("refs/heads/main") into BUF; -1 when detached. */
static int branch_ref(git_repository *repo, char *buf, size_t size)
{
	git_reference *head;
	if (git_reference_lookup(&head, repo, "HEAD") != 0)
		return -1;
	int rc = -1;
	if (git_reference_type(head) == GIT_REFERENCE_SYMBOLIC) {
		snprintf(buf, size, "%s", git_reference_symbolic_target(head));
		rc = 0;
	}
	git_reference_free(head);
	return rc;
}

/* refs/remotes/origin/BRANCH for refs/heads/BRANCH. */
static void upstream_ref(const char *branch, char *buf, size_t size)
{
	snprintf(buf, size, "refs/remotes/origin/%s", branch + strlen("refs/heads/"));
}

/* The commit a reference names; 0, or GIT_ENOTFOUND / another error. */
static int ref_oid(git_repository *repo, const char *name, git_oid *oid)
{
	return git_reference_name_to_id(oid, repo, name);
}

static int signature(git_repository *repo, git_signature **sig)
{
	if (git_signature_default(sig, repo) == 0)
		return 0;
	char host[256] = "localhost", email[600];
	gethostname(host, sizeof(host) - 1);
	struct passwd *pw = getpwuid(getuid());
	const char *user = pw ? pw->pw_name : "tracefs";
	snprintf(email, sizeof(email), "%s@%s", user, host);
	return git_signature_now(sig, user, email);
}

/* ---- clone and open */

static int git_store_clone(const char *remote, const char *workdir, char *err, size_t err_size)
{
	/* A path (not a URL, not scp's host:path) that does not exist. */
	struct stat st;
	if ((remote[0] == '/' || remote[0] == '.' || !strchr(remote, ':')) &&
	    stat(remote, &st) == -1) {
		snprintf(err, err_size, "cannot clone %s: %s", remote, strerror(errno));
		return -1;
	}
	git_libgit2_init();
	struct auth_state auth = {0};
	git_clone_options options;
	git_clone_options_init(&options, GIT_CLONE_OPTIONS_VERSION);
	set_callbacks(&options.fetch_opts.callbacks, &auth);
	git_repository *repo;
	int rc = 0;
	if (git_clone(&repo, remote, workdir, &options) != 0) {
		char what[PATH_MAX + 64];
		snprintf(what, sizeof(what), "cannot clone %s", remote);
		rc = failed(err, err_size, what);
	} else {
		git_repository_free(repo);
	}
	git_libgit2_shutdown();
	return rc;
}

static void git_store_close(struct store_repo *r)
{
	if (!r)
		return;
	git_repository_free(r->repo);
	free(r->workdir);
	free(r);
	git_libgit2_shutdown();
}

static struct store_repo *git_store_open(const char *workdir, char *err, size_t err_size)
{
	git_libgit2_init();
	struct store_repo *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		git_libgit2_shutdown();
		return NULL;
	}
	char branch[256];
	git_index *index = NULL;
	if (git_repository_open_ext(&r->repo, workdir, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) != 0) {
		snprintf(err, err_size,
			 "%s is not a git working copy (create one with `tracefs store clone "
			 "REMOTE %s`)", workdir, workdir);
		goto fail;
	}
	if (git_repository_is_bare(r->repo)) {
		snprintf(err, err_size, "%s is a bare repository; clone it with `tracefs store "
					"clone %s WORKDIR` and mount WORKDIR", workdir, workdir);
		goto fail;
	}
	if (git_repository_state(r->repo) != GIT_REPOSITORY_STATE_NONE) {
		snprintf(err, err_size, "%s is in the middle of a merge, rebase or similar; "
					"finish or abort it with git first", workdir);
		goto fail;
	}
	if (git_repository_index(&index, r->repo) != 0) {
		failed(err, err_size, "cannot read the index");
		goto fail;
	}
	if (git_index_has_conflicts(index)) {
		snprintf(err, err_size, "%s has unresolved conflicts; resolve them with git "
					"(git status lists them) first", workdir);
		goto fail;
	}
	if (branch_ref(r->repo, branch, sizeof(branch)) != 0) {
		snprintf(err, err_size, "%s has a detached HEAD; check out a branch first", workdir);
		goto fail;
	}
	git_index_free(index);
	r->workdir = strdup(git_repository_workdir(r->repo));
	if (!r->workdir) {
		snprintf(err, err_size, "out of memory");
		goto fail;
	}
	return r;
fail:
	git_index_free(index);
	git_store_close(r);
	return NULL;
}

/* ---- commit */

/* Fills OUT for the commit ID, begun at START_NS, from r's summary and directory. */
static void describe_commit(struct store_repo *r, const git_oid *id, int files, int64_t start_ns,
			    struct store_commit *out)
{
	git_oid_tostr(out->id, sizeof(out->id), id);
	out->files = files;
	out->path = r->common_dir;
	out->summary = r->summary;
	out->start_ns = start_ns;
	out->dur_ns = realtime_ns() - start_ns;
	out->result = 0;
}

/* Whether ENTRY still describes the file ST (so it need not be hashed again). */
static bool entry_is_current(const git_index_entry *entry, const struct stat *st)
{
	return entry && entry->file_size == (uint32_t)st->st_size && entry->ino == (uint32_t)st->st_ino &&
	       entry->mtime.seconds == (int32_t)st->st_mtim.tv_sec &&
	       entry->mtime.nanoseconds == (uint32_t)st->st_mtim.tv_nsec &&
	       entry->ctime.seconds == (int32_t)st->st_ctim.tv_sec &&
	       entry->ctime.nanoseconds == (uint32_t)st->st_ctim.tv_nsec;
}

/* Brings the index entry (or entries below) for PATH in line with the
 * working copy: added, updated or removed. "dir/": all below dir. */
static int stage_path(struct store_repo *r, git_index *index, const char *noted)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%s", noted);
	size_t n = strlen(path);
	bool tree = n > 1 && path[n - 1] == '/';
	if (tree)
		path[n - 1] = '\0';
	char full[PATH_MAX];
	if (snprintf(full, sizeof(full), "%s%s", r->workdir, path) >= (int)sizeof(full)) {
		git_error_set_str(GIT_ERROR_OS, "path too long");
		return -1;
	}
	struct stat st;
	if (lstat(full, &st) == -1) {
		if (errno != ENOENT && errno != ENOTDIR) {
			git_error_set_str(GIT_ERROR_OS, strerror(errno));
			return -1;
		}
		if (git_index_remove_directory(index, path, 0) != 0)
			return -1;
		if (git_index_get_bypath(index, path, 0))
			return git_index_remove_bypath(index, path);
		return 0;
	}
	if (S_ISDIR(st.st_mode)) {
		if (git_index_get_bypath(index, path, 0) && git_index_remove_bypath(index, path) != 0)
			return -1;
		if (!tree)
			return 0;
		char *spec = path;
		git_strarray pathspec = {&spec, 1};
		return git_index_add_all(index, &pathspec, GIT_INDEX_ADD_DISABLE_PATHSPEC_MATCH,
					 NULL, NULL);
	}
	if (!S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode))
		return 0; /* git keeps no fifos, sockets or devices */
	const git_index_entry *entry = git_index_get_bypath(index, path, 0);
	if (entry_is_current(entry, &st) && entry->mode == (S_ISLNK(st.st_mode) ? GIT_FILEMODE_LINK
				: (st.st_mode & 0100) ? GIT_FILEMODE_BLOB_EXECUTABLE : GIT_FILEMODE_BLOB))
		return 0;
	int ignored = 0;
	if (!entry &&
	    (git_ignore_path_is_ignored(&ignored, r->repo, path) != 0 || ignored))
		return 0;
	if (git_index_remove_directory(index, path, 0) != 0)
		return -1;
	return git_index_add_bypath(index, path);
}

struct change_list {
	struct store_repo *r;
	int added, modified, deleted, files;
	char first[PATH_MAX];
	char first_verb[16];
	char *body; /* "verb path\n" lines; malloc'd */
	size_t body_size, body_lines;
};

static const char *verb_of(git_delta_t status)
{
	switch (status) {
	case GIT_DELTA_ADDED:
		return "added";
	case GIT_DELTA_DELETED:
		return "deleted";
	default:
		return "modified";
	}
}

/* Narrows the deepest common directory to one holding PATH too. */
static void narrow_common_dir(char *common, const char *path, bool first)
{
	if (first) {
		snprintf(common, PATH_MAX, "/%s", path);
		char *slash = strrchr(common, '/');
		slash[slash == common ? 1 : 0] = '\0';
		return;
	}
	size_t n = strlen(common);
	while (n > 1 && !(strncmp(common + 1, path, n - 1) == 0 && path[n - 1] == '/')) {
		char *slash = strrchr(common, '/');
		slash[slash == common ? 1 : 0] = '\0';
		n = strlen(common);
	}
}

static int list_delta(const git_diff_delta *delta, float progress, void *payload)
{
	(void)progress;
	struct change_list *c = payload;
	const char *path = delta->new_file.path ? delta->new_file.path : delta->old_file.path;
	narrow_common_dir(c->r->common_dir, path, c->files == 0);
	if (c->files == 0) {
		snprintf(c->first, sizeof(c->first), "%s", path);
		snprintf(c->first_verb, sizeof(c->first_verb), "%s", verb_of(delta->status));
	}
	c->files++;
	if (delta->status == GIT_DELTA_ADDED)
		c->added++;
	else if (delta->status == GIT_DELTA_DELETED)
		c->deleted++;
	else
		c->modified++;
	if (c->body_lines++ < 200) {
		size_t need = strlen(verb_of(delta->status)) + strlen(path) + 3;
		char *grown = realloc(c->body, c->body_size + need);
		if (!grown)
			return -1;
		c->body = grown;
		c->body_size += (size_t)sprintf(c->body + c->body_size, "%s %s\n",
						verb_of(delta->status), path);
	}
	return 0;
}

/* The working copy's whole state into the index: `git add -A`. */
static int stage_all(git_index *index)
{
	return git_index_add_all(index, NULL, GIT_INDEX_ADD_DEFAULT, NULL, NULL) != 0 ||
			       git_index_update_all(index, NULL, NULL, NULL) != 0
		       ? -1
		       : 0;
}

static int git_store_commit(struct store_repo *r, char *const *paths, size_t count, bool all,
			    const char *commands, struct store_commit *out, char *err,
			    size_t err_size)
{
	int64_t start = realtime_ns();
	git_index *index = NULL;
	git_tree *tree = NULL, *parent_tree = NULL;
	git_commit *parent = NULL;
	git_diff *diff = NULL;
	git_signature *sig = NULL;
	int rc = -1;
	if (git_repository_index(&index, r->repo) != 0 || git_index_read(index, false) != 0) {
		failed(err, err_size, "cannot read the index");
		goto out;
	}
	if (all) {
		if (stage_all(index) != 0) {
			failed(err, err_size, "cannot stage the working copy");
			goto out;
		}
	}
	for (size_t i = 0; !all && i < count; i++) {
		if (stage_path(r, index, paths[i]) != 0) {
			char what[PATH_MAX + 32];
			snprintf(what, sizeof(what), "cannot stage %s", paths[i]);
			failed(err, err_size, what);
			goto out;
		}
	}
	git_oid tree_id, parent_id, commit_id;
	if (git_index_write(index) != 0 || git_index_write_tree(&tree_id, index) != 0) {
		failed(err, err_size, "cannot write the index");
		goto out;
	}
	bool unborn = git_repository_head_unborn(r->repo) == 1;
	if (!unborn && (git_reference_name_to_id(&parent_id, r->repo, "HEAD") != 0 ||
			git_commit_lookup(&parent, r->repo, &parent_id) != 0 ||
			git_commit_tree(&parent_tree, parent) != 0)) {
		failed(err, err_size, "cannot read HEAD");
		goto out;
	}
	if (parent_tree && git_oid_equal(&tree_id, git_tree_id(parent_tree))) {
		rc = 0;
		goto out;
	}
	if (git_tree_lookup(&tree, r->repo, &tree_id) != 0 ||
	    git_diff_tree_to_tree(&diff, r->repo, parent_tree, tree, NULL) != 0) {
		failed(err, err_size, "cannot compare with HEAD");
		goto out;
	}
	struct change_list changes = {.r = r};
	int listed = git_diff_foreach(diff, list_delta, NULL, NULL, NULL, &changes);
	if (listed != 0) {
		free(changes.body);
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	if (changes.files == 0) {
		rc = 0;
		goto out;
	}
	const char *by = commands && *commands ? commands : "unknown command";
	if (changes.files == 1)
		snprintf(r->summary, sizeof(r->summary), "%.100s: %s %.300s", by,
			 changes.first_verb, changes.first);
	else
		snprintf(r->summary, sizeof(r->summary), "%.100s: %d files (%d added, %d modified, "
			 "%d deleted) in %.300s", by, changes.files, changes.added, changes.modified,
			 changes.deleted, r->common_dir);
	char *message;
	if (asprintf(&message, "%s\n\n%s%s\nChanged through tracefs by: %s\n", r->summary,
		     changes.body ? changes.body : "", changes.body_lines > 200 ? "...\n" : "", by) == -1) {
		free(changes.body);
		snprintf(err, err_size, "out of memory");
		goto out;
	}
	free(changes.body);
	const git_commit *parents[1] = {parent};
	if (signature(r->repo, &sig) != 0 ||
	    git_commit_create(&commit_id, r->repo, "HEAD", sig, sig, NULL, message, tree,
			      parent ? 1 : 0, parents) != 0) {
		free(message);
		failed(err, err_size, "cannot commit");
		goto out;
	}
	free(message);
	describe_commit(r, &commit_id, changes.files, start, out);
	rc = 1;
out:
	git_signature_free(sig);
	git_diff_free(diff);
	git_tree_free(tree);
	git_tree_free(parent_tree);
	git_commit_free(parent);
	git_index_free(index);
	return rc;
}

/* ---- update: fetch and merge */

static int lookup_origin(git_repository *repo, git_remote **remote)
{
	int rc = git_remote_lookup(remote, repo, "origin");
	return rc == GIT_ENOTFOUND ? 0 : rc == 0 ? 1 : -1;
}

/* Makes the working copy and the index TARGET's tree, leaving any file that
 * differs from HEAD alone (then it fails and nothing moves), and points
 * the branch at TARGET. */
static int move_to(struct store_repo *r, const char *branch, const git_oid *target, char *err,
		   size_t err_size)
{
	git_commit *commit = NULL;
	int rc = -1;
	git_checkout_options options;
	git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
	options.checkout_strategy = GIT_CHECKOUT_SAFE;
	if (git_commit_lookup(&commit, r->repo, target) != 0 ||
	    git_checkout_tree(r->repo, (const git_object *)commit, &options) != 0) {
		failed(err, err_size, "cannot update the working copy (retried at the next sync)");
		goto out;
	}
	git_reference *ref;
	if (git_reference_create(&ref, r->repo, branch, target, 1, "tracefs: update") != 0) {
		failed(err, err_size, "cannot move the branch");
		goto out;
	}
	git_reference_free(ref);
	rc = 0;
out:
	git_commit_free(commit);
	return rc;
}

/* "dir/name (conflict from HOST YYYY-mm-dd).ext" for PATH into BUF. */
static void conflict_name(const char *path, const char *host, char *buf, size_t size)
{
	char date[16];
	time_t now = time(NULL);
	struct tm tm;
	localtime_r(&now, &tm);
	strftime(date, sizeof(date), "%Y-%m-%d", &tm);
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	const char *dot = strrchr(base, '.');
	if (!dot || dot == base)
		dot = path + strlen(path);
	snprintf(buf, size, "%.*s (conflict from %s %s)%s", (int)(dot - path), path, host, date,
		 dot);
}

/* The host part of the author's e-mail of COMMIT (who made their version). */
static void author_host(git_commit *commit, char *buf, size_t size)
{
	const git_signature *author = git_commit_author(commit);
	const char *at = author && author->email ? strchr(author->email, '@') : NULL;
	snprintf(buf, size, "%s", at && at[1] ? at + 1 : "upstream");
	buf[strcspn(buf, "/\\")] = '\0';
}

static void log_conflict(struct store_repo *r, const char *path, const char *copy)
{
	char log_path[PATH_MAX];
	snprintf(log_path, sizeof(log_path), "%stracefs-conflicts", git_repository_path(r->repo));
	FILE *f = fopen(log_path, "ae");
	if (!f)
		return;
	char when[32];
	time_t now = time(NULL);
	struct tm tm;
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
	fprintf(f, "%s\t%s\t%s\n", when, path, copy);
	fclose(f);
}

/* Resolves every conflict in INDEX keeping both sides; THEIRS made their
 * side. Returns how many conflict copies were made, or -1. */
static int keep_both(struct store_repo *r, git_index *index, git_commit *theirs_commit)
{
	struct side {
		git_index_entry entry;
		char *path;
		bool ours, theirs;
		git_index_entry their_entry;
	} *sides = NULL;
	size_t count = 0;
	git_index_conflict_iterator *it;
	if (git_index_conflict_iterator_new(&it, index) != 0)
		return -1;
	const git_index_entry *ancestor, *ours, *theirs;
	while (git_index_conflict_next(&ancestor, &ours, &theirs, it) == 0) {
		struct side *grown = realloc(sides, (count + 1) * sizeof(*sides));
		if (!grown)
			break;
		sides = grown;
		struct side *s = &sides[count++];
		memset(s, 0, sizeof(*s));
		const git_index_entry *any = ours ? ours : theirs ? theirs : ancestor;
		s->path = strdup(any->path);
		if (ours)
			s->entry = *ours;
		if (theirs)
			s->their_entry = *theirs;
		s->ours = ours != NULL;
		s->theirs = theirs != NULL;
	}
	git_index_conflict_iterator_free(it);
	char host[128];
	author_host(theirs_commit, host, sizeof(host));
	int copies = 0;
	for (size_t i = 0; i < count; i++) {
		struct side *s = &sides[i];
		if (!s->path)
			continue;
		git_index_conflict_remove(index, s->path);
		if (s->ours) {
			s->entry.path = s->path;
			s->entry.flags &= ~GIT_INDEX_ENTRY_STAGEMASK;
			git_index_add(index, &s->entry);
		}
		if (s->theirs) {
			char copy[PATH_MAX];
			if (s->ours)
				conflict_name(s->path, host, copy, sizeof(copy));
			else
				snprintf(copy, sizeof(copy), "%s", s->path);
			s->their_entry.path = copy;
			s->their_entry.flags &= ~GIT_INDEX_ENTRY_STAGEMASK;
			git_index_add(index, &s->their_entry);
			if (s->ours) {
				log_conflict(r, s->path, copy);
				copies++;
			}
		}
		free(s->path);
	}
	free(sides);
	return copies;
}

static int merge_diverged(struct store_repo *r, const char *branch, const git_oid *local,
			  const git_oid *upstream, struct store_commit *out, char *err,
			  size_t err_size)
{
	int64_t start = realtime_ns();
	git_commit *ours = NULL, *theirs = NULL;
	git_index *index = NULL;
	git_tree *tree = NULL;
	git_signature *sig = NULL;
	int rc = -1;
	git_oid tree_id, merged_id;
	if (git_commit_lookup(&ours, r->repo, local) != 0 ||
	    git_commit_lookup(&theirs, r->repo, upstream) != 0 ||
	    git_merge_commits(&index, r->repo, ours, theirs, NULL) != 0) {
		failed(err, err_size, "cannot merge upstream");
		goto out;
	}
	int copies = git_index_has_conflicts(index) ? keep_both(r, index, theirs) : 0;
	if (copies < 0 || git_index_write_tree_to(&tree_id, index, r->repo) != 0 ||
	    git_tree_lookup(&tree, r->repo, &tree_id) != 0) {
		failed(err, err_size, "cannot resolve the merge");
		goto out;
	}
	if (copies)
		snprintf(r->summary, sizeof(r->summary), "merge upstream: %d conflict%s, both "
			 "versions kept (see `tracefs store status`)", copies, copies == 1 ? "" : "s");
	else
		snprintf(r->summary, sizeof(r->summary), "merge upstream");
	char message[600];
	snprintf(message, sizeof(message), "%s\n\nChanged through tracefs by: merge\n", r->summary);
	const git_commit *parents[2] = {ours, theirs};
	if (signature(r->repo, &sig) != 0 ||
	    git_commit_create(&merged_id, r->repo, NULL, sig, sig, NULL, message, tree, 2,
			      parents) != 0) {
		failed(err, err_size, "cannot commit the merge");
		goto out;
	}
	if (move_to(r, branch, &merged_id, err, err_size) != 0)
		goto out;
	snprintf(r->common_dir, sizeof(r->common_dir), "/");
	describe_commit(r, &merged_id, copies, start, out);
	rc = 1;
out:
	git_signature_free(sig);
	git_tree_free(tree);
	git_index_free(index);
	git_commit_free(ours);
	git_commit_free(theirs);
	return rc;
}

/* .git/tracefs-sync-error: the last fetch or push that failed, for `store
 * status` (the daemon has no terminal); removed by the next success. */
static int remember_sync(struct store_repo *r, int rc, const char *err)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "%stracefs-sync-error", git_repository_path(r->repo));
	if (rc >= 0) {
		unlink(path);
		return rc;
	}
	FILE *f = fopen(path, "we");
	if (f) {
		char when[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&now, &tm));
		fprintf(f, "%s %s\n", when, err);
		fclose(f);
	}
	return rc;
}

static int fetch_and_merge(struct store_repo *r, struct store_commit *out, char *err,
			   size_t err_size)
{
	git_remote *remote;
	int has = lookup_origin(r->repo, &remote);
	if (has <= 0)
		return has < 0 ? failed(err, err_size, "cannot read the remote") : 0;
	struct auth_state auth = {0};
	git_fetch_options options;
	git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
	set_callbacks(&options.callbacks, &auth);
	int rc = git_remote_fetch(remote, NULL, &options, "tracefs: fetch");
	git_remote_free(remote);
	if (rc != 0)
		return failed(err, err_size, "cannot fetch from origin (offline? retried later)");
	char branch[256], upstream[300];
	if (branch_ref(r->repo, branch, sizeof(branch)) != 0) {
		snprintf(err, err_size, "HEAD is detached");
		return -1;
	}
	upstream_ref(branch, upstream, sizeof(upstream));
	git_oid local, theirs;
	if (ref_oid(r->repo, upstream, &theirs) != 0)
		return 0; /* the remote has no such branch yet: the push makes it */
	if (ref_oid(r->repo, branch, &local) != 0)
		return move_to(r, branch, &theirs, err, err_size);
	size_t ahead, behind;
	if (git_graph_ahead_behind(&ahead, &behind, r->repo, &local, &theirs) != 0)
		return failed(err, err_size, "cannot compare with upstream");
	if (behind == 0)
		return 0;
	if (ahead == 0)
		return move_to(r, branch, &theirs, err, err_size);
	return merge_diverged(r, branch, &local, &theirs, out, err, err_size);
}

/* ---- push */

struct push_state {
	struct auth_state auth;
	char rejected[256];
};

static int push_status(const char *refname, const char *status, void *payload)
{
	struct push_state *state = payload;
	if (status)
		snprintf(state->rejected, sizeof(state->rejected), "%s: %s", refname, status);
	return 0;
}

/* Commits on the branch that refs/remotes/origin/BRANCH lacks (all when absent). */
static int unpushed(git_repository *repo, const char *branch, git_revwalk **walk)
{
	char upstream[300];
	upstream_ref(branch, upstream, sizeof(upstream));
	if (git_revwalk_new(walk, repo) != 0)
		return -1;
	git_revwalk_sorting(*walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (git_revwalk_push_ref(*walk, branch) != 0) {
		git_revwalk_free(*walk);
		*walk = NULL;
		return 0; /* unborn: nothing */
	}
	git_oid theirs;
	if (ref_oid(repo, upstream, &theirs) == 0)
		git_revwalk_hide(*walk, &theirs);
	return 1;
}

static int push(struct store_repo *r, char *err, size_t err_size)
{
	char branch[256];
	if (branch_ref(r->repo, branch, sizeof(branch)) != 0)
		return 0;
	git_revwalk *walk;
	git_oid oid;
	int has = unpushed(r->repo, branch, &walk);
	if (has < 0)
		return failed(err, err_size, "cannot list unpushed commits");
	bool any = has && git_revwalk_next(&oid, walk) == 0;
	git_revwalk_free(walk);
	git_remote *remote;
	if (!any || (has = lookup_origin(r->repo, &remote)) == 0)
		return 0;
	if (has < 0)
		return failed(err, err_size, "cannot read the remote");
	struct push_state state = {0};
	git_push_options options;
	git_push_options_init(&options, GIT_PUSH_OPTIONS_VERSION);
	set_callbacks(&options.callbacks, &state.auth);
	options.callbacks.payload = &state;
	options.callbacks.push_update_reference = push_status;
	char refspec[600];
	snprintf(refspec, sizeof(refspec), "%s:%s", branch, branch);
	char *spec = refspec;
	git_strarray refspecs = {&spec, 1};
	int rc = git_remote_push(remote, &refspecs, &options);
	git_remote_free(remote);
	if (rc != 0)
		return failed(err, err_size, "cannot push to origin (offline? commits stay queued)");
	if (state.rejected[0]) {
		snprintf(err, err_size, "origin rejected the push (%s); the next sync merges first",
			 state.rejected);
		return -1;
	}
	return 0;
}

static int git_store_update(struct store_repo *r, struct store_commit *out, char *err,
			    size_t err_size)
{
	return remember_sync(r, fetch_and_merge(r, out, err, err_size), err);
}

static int git_store_push(struct store_repo *r, char *err, size_t err_size)
{
	return remember_sync(r, push(r, err, err_size), err);
}

/* ---- status and log */

static int git_store_log(struct store_repo *r, int max, FILE *out, char *err, size_t err_size)
{
	char branch[256];
	if (branch_ref(r->repo, branch, sizeof(branch)) != 0) {
		snprintf(err, err_size, "HEAD is detached");
		return -1;
	}
	git_revwalk *pending, *walk;
	if (unpushed(r->repo, branch, &pending) < 0 || git_revwalk_new(&walk, r->repo) != 0)
		return failed(err, err_size, "cannot walk the history");
	/* The unpushed ones, to mark them. */
	git_oid oid, marks[4096];
	size_t nmarks = 0;
	while (pending && nmarks < 4096 && git_revwalk_next(&oid, pending) == 0)
		marks[nmarks++] = oid;
	git_revwalk_free(pending);
	git_revwalk_sorting(walk, GIT_SORT_TOPOLOGICAL | GIT_SORT_TIME);
	if (git_revwalk_push_ref(walk, branch) != 0) {
		fprintf(out, "no commits yet\n");
		git_revwalk_free(walk);
		return 0;
	}
	for (int n = 0; n < max && git_revwalk_next(&oid, walk) == 0; n++) {
		git_commit *commit;
		if (git_commit_lookup(&commit, r->repo, &oid) != 0)
			continue;
		bool marked = false;
		for (size_t i = 0; i < nmarks && !marked; i++)
			marked = git_oid_equal(&marks[i], &oid);
		char id[16], when[32];
		git_oid_tostr(id, sizeof(id), &oid);
		time_t t = (time_t)git_commit_time(commit);
		struct tm tm;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime_r(&t, &tm));
		fprintf(out, "%s %s %s%s\n", id, when, marked ? "[not pushed] " : "",
			git_commit_summary(commit));
		git_commit_free(commit);
	}
	git_revwalk_free(walk);
	return 0;
}

static int count_changes(git_repository *repo, size_t *count)
{
	git_status_options options;
	git_status_options_init(&options, GIT_STATUS_OPTIONS_VERSION);
	options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS;
	git_status_list *list;
	if (git_status_list_new(&list, repo, &options) != 0)
		return -1;
	*count = git_status_list_entrycount(list);
	git_status_list_free(list);
	return 0;
}

static int git_store_status(struct store_repo *r, FILE *out, char *err, size_t err_size)
{
	char branch[256];
	if (branch_ref(r->repo, branch, sizeof(branch)) != 0) {
		snprintf(err, err_size, "HEAD is detached");
		return -1;
	}
	fprintf(out, "working copy: %s\nbranch: %s\n", r->workdir, branch + strlen("refs/heads/"));
	git_remote *remote;
	int has = lookup_origin(r->repo, &remote);
	if (has > 0) {
		fprintf(out, "remote: %s\n", git_remote_url(remote));
		git_remote_free(remote);
	} else {
		fprintf(out, "remote: none (commits stay local)\n");
	}
	size_t changes;
	if (count_changes(r->repo, &changes) != 0)
		return failed(err, err_size, "cannot read the working copy's status");
	fprintf(out, "uncommitted changes: %zu\n", changes);
	git_revwalk *walk;
	has = unpushed(r->repo, branch, &walk);
	if (has < 0)
		return failed(err, err_size, "cannot list unpushed commits");
	size_t n = 0;
	git_oid oid;
	while (has && git_revwalk_next(&oid, walk) == 0)
		n++;
	git_revwalk_free(walk);
	char upstream[300];
	upstream_ref(branch, upstream, sizeof(upstream));
	git_oid local, theirs;
	size_t ahead = 0, behind = 0;
	if (ref_oid(r->repo, upstream, &theirs) == 0 && ref_oid(r->repo, branch, &local) == 0)
		git_graph_ahead_behind(&ahead, &behind, r->repo, &local, &theirs);
	fprintf(out, "not pushed: %zu commit%s\n", n, n == 1 ? "" : "s");
	fprintf(out, "upstream has (as of the last fetch): %zu commit%s not merged\n", behind,
		behind == 1 ? "" : "s");
	char log_path[PATH_MAX];
	snprintf(log_path, sizeof(log_path), "%stracefs-sync-error", git_repository_path(r->repo));
	FILE *f = fopen(log_path, "re");
	char line[PATH_MAX * 2 + 64];
	if (f) {
		if (fgets(line, sizeof(line), f))
			fprintf(out, "last sync failed: %s", line);
		fclose(f);
	}
	snprintf(log_path, sizeof(log_path), "%stracefs-conflicts", git_repository_path(r->repo));
	f = fopen(log_path, "re");
	if (f) {
		fprintf(out, "conflicts (both versions kept; the other one is the copy):\n");
		while (fgets(line, sizeof(line), f)) {
			char *tab1 = strchr(line, '\t'), *tab2 = tab1 ? strchr(tab1 + 1, '\t') : NULL;
			if (!tab2)
				continue;
			*tab1 = *tab2 = '\0';
			line[strcspn(tab2 + 1, "\n") + (size_t)(tab2 + 1 - line)] = '\0';
			fprintf(out, "  %s  %s  <- %s\n", line, tab1 + 1, tab2 + 1);
		}
		fclose(f);
	}
	return 0;
}

const struct store_backend store_git_backend = {
	.name = "git",
	.reserved = reserved_names,
	.clone = git_store_clone,
	.open = git_store_open,
	.commit = git_store_commit,
	.update = git_store_update,
	.push = git_store_push,
	.status = git_store_status,
	.log = git_store_log,
	.close = git_store_close,
	.history = &store_git_history,
};
