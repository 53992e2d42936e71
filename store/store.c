/*
 * store.c — the store's session: what the file system reports is noted in
 * a set of pending paths (quick, under one mutex, never any I/O), and one
 * background thread commits them once changes have paused (an editor's
 * write-temp, fsync, rename is one commit), pushes after each commit, and
 * fetches and merges upstream on an interval or soon after a listing.
 * Nothing a file-system call waits for ever touches git or the network.
 */
#include "store/store.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "store/backend.h"

#define DEFAULT_QUIET_MS 500
#define DEFAULT_MAX_DELAY_MS 5000
#define DEFAULT_SYNC_INTERVAL_S 60
/* A listing asks for a fetch at most this often. */
#define LISTED_FETCH_GAP_NS (5 * 1000000000LL)
/* Past this many pending paths a commit stages the whole working copy. */
#define MAX_PENDING 50000
#define MAX_COMMANDS 8

static const struct store_backend *const backend = &store_git_backend;

struct store {
	struct store_repo *repo;
	struct store_history_repo *history; /* under history_lock */
	pthread_mutex_t history_lock;
	char *workdir; /* no trailing '/' */
	struct store_options options;
	pthread_t thread;
	bool thread_started;

	pthread_mutex_t lock; /* everything below */
	pthread_cond_t wake;
	char **pending; /* open-addressing set of relative paths */
	size_t pending_size, pending_count;
	bool pending_all;
	bool armed;		/* a change was completed: commit after the quiet time */
	int64_t last_change_ns; /* CLOCK_MONOTONIC */
	int64_t first_change_ns;
	char commands[MAX_COMMANDS][16];
	int command_count;
	bool fetch_wanted;
	int64_t last_fetch_ns;
	bool stopping;
};

static int64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

bool store_is_reserved(const char *name)
{
	for (const char *const *r = backend->reserved; *r; r++)
		if (strcmp(name, *r) == 0)
			return true;
	return false;
}

char *store_real_path(const struct store *store, const char *path)
{
	char *real;
	return asprintf(&real, "%s%s", store->workdir, path) == -1 ? NULL : real;
}

/* ---- the set of pending paths (FNV-1a, linear probing; lock held) */

static size_t hash_path(const char *s)
{
	size_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool pending_insert(struct store *s, char *path)
{
	if ((s->pending_count + 1) * 2 > s->pending_size) {
		size_t size = s->pending_size ? s->pending_size * 2 : 256;
		char **table = calloc(size, sizeof(*table));
		if (!table)
			return false;
		for (size_t i = 0; i < s->pending_size; i++) {
			if (!s->pending[i])
				continue;
			size_t j = hash_path(s->pending[i]) & (size - 1);
			while (table[j])
				j = (j + 1) & (size - 1);
			table[j] = s->pending[i];
		}
		free(s->pending);
		s->pending = table;
		s->pending_size = size;
	}
	size_t j = hash_path(path) & (s->pending_size - 1);
	while (s->pending[j]) {
		if (strcmp(s->pending[j], path) == 0) {
			free(path);
			return true;
		}
		j = (j + 1) & (s->pending_size - 1);
	}
	s->pending[j] = path;
	s->pending_count++;
	return true;
}

static void note_command(struct store *s, const char *comm)
{
	if (!comm || !*comm)
		return;
	for (int i = 0; i < s->command_count; i++)
		if (strcmp(s->commands[i], comm) == 0)
			return;
	if (s->command_count < MAX_COMMANDS)
		snprintf(s->commands[s->command_count++], sizeof(s->commands[0]), "%s", comm);
}

/*
 * Notes PATH ("/a/b") as changed by COMM; ARM: the change is complete.
 * TREE: everything below PATH too (a directory renamed here), noted as
 * "a/b/"; otherwise a directory stands for itself only, as its entries
 * are noted one by one as they are made.
 */
static void note(struct store *s, const char *path, const char *comm, bool arm, bool tree)
{
	while (*path == '/')
		path++;
	if (!*path)
		return; /* the root itself */
	char *copy;
	if (asprintf(&copy, "%s%s", path, tree ? "/" : "") == -1)
		copy = NULL;
	pthread_mutex_lock(&s->lock);
	int64_t now = monotonic_ns();
	if (s->pending_count == 0 && !s->pending_all)
		s->first_change_ns = now;
	/* Without memory for the path, the next commit stages everything. */
	if (!copy || s->pending_count >= MAX_PENDING || !pending_insert(s, copy))
		s->pending_all = true;
	note_command(s, comm);
	s->last_change_ns = now;
	if (arm && !s->armed) {
		s->armed = true;
		pthread_cond_signal(&s->wake);
	}
	pthread_mutex_unlock(&s->lock);
}

void store_touch(struct store *store, const char *path, const char *comm)
{
	note(store, path, comm, false, false);
}

void store_add(struct store *store, const char *path, const char *comm)
{
	note(store, path, comm, true, false);
}

void store_remove(struct store *store, const char *path, const char *comm)
{
	note(store, path, comm, true, false);
}

void store_copy(struct store *store, const char *from, const char *to, const char *comm)
{
	(void)from; /* the backend finds the contents at TO */
	note(store, to, comm, true, true);
}

void store_closed(struct store *store, const char *path)
{
	while (*path == '/')
		path++;
	pthread_mutex_lock(&store->lock);
	bool written = store->pending_all;
	if (!written && store->pending_size) {
		size_t j = hash_path(path) & (store->pending_size - 1);
		for (; store->pending[j] && !written; j = (j + 1) & (store->pending_size - 1))
			written = strcmp(store->pending[j], path) == 0;
	}
	if (written) {
		store->last_change_ns = monotonic_ns();
		if (!store->armed) {
			store->armed = true;
			pthread_cond_signal(&store->wake);
		}
	}
	pthread_mutex_unlock(&store->lock);
}

void store_listed(struct store *store)
{
	pthread_mutex_lock(&store->lock);
	if (!store->fetch_wanted && monotonic_ns() - store->last_fetch_ns > LISTED_FETCH_GAP_NS) {
		store->fetch_wanted = true;
		pthread_cond_signal(&store->wake);
	}
	pthread_mutex_unlock(&store->lock);
}

/* ---- the background thread */

static void report(struct store *s, const struct store_commit *commit)
{
	if (s->options.committed)
		s->options.committed(s->options.ctx, commit);
}

/* Takes the pending changes and commits them (lock held on entry and exit,
 * released meanwhile); returns whether a commit was made. */
static bool commit_pending(struct store *s)
{
	char **paths = NULL;
	size_t count = 0;
	bool all = s->pending_all;
	if (!all && s->pending_count) {
		paths = malloc(s->pending_count * sizeof(*paths));
		if (!paths)
			all = true;
	}
	for (size_t i = 0; i < s->pending_size; i++) {
		if (s->pending[i] && paths)
			paths[count++] = s->pending[i];
		else if (s->pending[i])
			free(s->pending[i]);
	}
	free(s->pending);
	s->pending = NULL;
	s->pending_size = s->pending_count = 0;
	s->pending_all = false;
	s->armed = false;
	char commands[MAX_COMMANDS * 18] = "";
	for (int i = 0; i < s->command_count; i++)
		snprintf(commands + strlen(commands), sizeof(commands) - strlen(commands), "%s%s",
			 i ? ", " : "", s->commands[i]);
	s->command_count = 0;
	pthread_mutex_unlock(&s->lock);

	char err[1024];
	struct store_commit commit = {0};
	int rc = count || all ? backend->commit(s->repo, paths, count, all, commands, &commit, err,
						 sizeof(err))
			      : 0;
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	if (rc < 0) {
		commit.result = -EIO;
		commit.path = "/";
		commit.summary = err;
		fprintf(stderr, "tracefs: store: %s\n", err);
	}
	if (rc != 0)
		report(s, &commit);
	if (rc > 0 && backend->push(s->repo, err, sizeof(err)) != 0)
		fprintf(stderr, "tracefs: store: %s\n", err);
	pthread_mutex_lock(&s->lock);
	if (rc < 0) {
		/* Nothing noted is dropped (e.g. someone's `git` held the index
		 * lock): the next try, after the quiet time, stages everything. */
		s->pending_all = true;
		s->armed = true;
		if (s->pending_count == 0)
			s->first_change_ns = monotonic_ns();
		s->last_change_ns = monotonic_ns();
	}
	return rc > 0;
}

/* Fetch, merge, push (lock held on entry and exit, released meanwhile). */
static void update(struct store *s)
{
	s->fetch_wanted = false;
	pthread_mutex_unlock(&s->lock);
	char err[1024];
	struct store_commit merge = {0};
	int rc = backend->update(s->repo, &merge, err, sizeof(err));
	if (rc < 0)
		fprintf(stderr, "tracefs: store: %s\n", err);
	if (rc > 0)
		report(s, &merge);
	if (rc >= 0 && backend->push(s->repo, err, sizeof(err)) != 0)
		fprintf(stderr, "tracefs: store: %s\n", err);
	pthread_mutex_lock(&s->lock);
	s->last_fetch_ns = monotonic_ns();
}

static void *sync_thread(void *arg)
{
	struct store *s = arg;
	const int64_t quiet = (int64_t)s->options.quiet_ms * 1000000;
	const int64_t max_delay = (int64_t)s->options.max_delay_ms * 1000000;
	const int64_t interval = (int64_t)s->options.sync_interval_s * 1000000000;
	pthread_mutex_lock(&s->lock);
	while (!s->stopping) {
		int64_t now = monotonic_ns();
		int64_t due = INT64_MAX;
		if (s->armed) {
			due = s->last_change_ns + quiet;
			if (s->first_change_ns + max_delay < due)
				due = s->first_change_ns + max_delay;
		}
		if (due <= now) {
			commit_pending(s);
			continue;
		}
		int64_t fetch_due = interval ? s->last_fetch_ns + interval : INT64_MAX;
		if (s->fetch_wanted || fetch_due <= now) {
			/* Upstream merges into committed work only. */
			if (s->pending_count || s->pending_all)
				commit_pending(s);
			update(s);
			continue;
		}
		if (fetch_due < due)
			due = fetch_due;
		if (due == INT64_MAX) {
			pthread_cond_wait(&s->wake, &s->lock);
		} else {
			struct timespec until = {.tv_sec = due / 1000000000, .tv_nsec = due % 1000000000};
			pthread_cond_timedwait(&s->wake, &s->lock, &until);
		}
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

/* ---- life cycle */

struct store *store_open(const char *workdir, const struct store_options *options, char *err,
			 size_t err_size)
{
	struct store *s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	s->options = *options;
	if (s->options.quiet_ms <= 0)
		s->options.quiet_ms = DEFAULT_QUIET_MS;
	if (s->options.max_delay_ms <= 0)
		s->options.max_delay_ms = DEFAULT_MAX_DELAY_MS;
	if (s->options.sync_interval_s < 0)
		s->options.sync_interval_s = DEFAULT_SYNC_INTERVAL_S;
	s->workdir = strdup(workdir);
	if (!s->workdir) {
		snprintf(err, err_size, "out of memory");
		free(s);
		return NULL;
	}
	size_t n = strlen(s->workdir);
	while (n > 1 && s->workdir[n - 1] == '/')
		s->workdir[--n] = '\0';
	s->repo = backend->open(workdir, err, err_size);
	if (!s->repo) {
		free(s->workdir);
		free(s);
		return NULL;
	}
	s->history = backend->history->open(workdir, err, err_size);
	if (!s->history) {
		backend->close(s->repo);
		free(s->workdir);
		free(s);
		return NULL;
	}
	pthread_mutex_init(&s->history_lock, NULL);
	/* What a killed daemon left uncommitted. */
	struct store_commit leftover = {0};
	char commit_err[1024];
	int rc = backend->commit(s->repo, NULL, 0, true, "changes found at mount", &leftover,
				 commit_err, sizeof(commit_err));
	if (rc < 0) {
		snprintf(err, err_size, "cannot commit the working copy's changes: %s", commit_err);
		backend->history->close(s->history);
		pthread_mutex_destroy(&s->history_lock);
		backend->close(s->repo);
		free(s->workdir);
		free(s);
		return NULL;
	}
	if (rc > 0)
		report(s, &leftover);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&s->wake, &attr);
	pthread_condattr_destroy(&attr);
	pthread_mutex_init(&s->lock, NULL);
	s->fetch_wanted = true; /* update at mount, in the background */
	int thread_rc = pthread_create(&s->thread, NULL, sync_thread, s);
	if (thread_rc != 0) {
		snprintf(err, err_size, "cannot start the store's thread: %s", strerror(thread_rc));
		store_cleanup(s);
		return NULL;
	}
	s->thread_started = true;
	return s;
}

void store_cleanup(struct store *store)
{
	if (!store)
		return;
	if (store->thread_started) {
		pthread_mutex_lock(&store->lock);
		store->stopping = true;
		pthread_cond_signal(&store->wake);
		pthread_mutex_unlock(&store->lock);
		pthread_join(store->thread, NULL);
	}
	pthread_mutex_lock(&store->lock);
	/* Whatever is pending, and whatever else the working copy holds. */
	store->pending_all = true;
	commit_pending(store);
	pthread_mutex_unlock(&store->lock);
	char err[1024];
	if (backend->push(store->repo, err, sizeof(err)) != 0)
		fprintf(stderr, "tracefs: store: %s\n", err);
	pthread_mutex_destroy(&store->lock);
	pthread_cond_destroy(&store->wake);
	backend->close(store->repo);
	backend->history->close(store->history);
	pthread_mutex_destroy(&store->history_lock);
	free(store->workdir);
	free(store);
}

/* ---- the history */

#define LOCKED(store, call)                                                                  \
	do {                                                                                 \
		pthread_mutex_lock(&(store)->history_lock);                                  \
		int locked_rc = (call);                                                      \
		pthread_mutex_unlock(&(store)->history_lock);                                \
		return locked_rc;                                                            \
	} while (0)

int store_history_commits(struct store *store, store_version_fn fn, void *ctx)
{
	LOCKED(store, backend->history->commits(store->history, fn, ctx));
}

int store_history_commit(struct store *store, const char *prefix, struct store_version *version,
			 struct store_object *root)
{
	LOCKED(store, backend->history->commit(store->history, prefix, version, root));
}

int store_history_list(struct store *store, const struct store_object *dir, store_entry_fn fn,
		       void *ctx)
{
	LOCKED(store, backend->history->list(store->history, dir, fn, ctx));
}

int store_history_lookup(struct store *store, const struct store_object *dir, const char *name,
			 struct store_object *out)
{
	LOCKED(store, backend->history->lookup(store->history, dir, name, out));
}

int store_history_current(struct store *store, const char *path, struct store_object *out)
{
	LOCKED(store, backend->history->current(store->history, path, out));
}

int store_history_versions(struct store *store, const char *path, store_version_fn fn, void *ctx)
{
	LOCKED(store, backend->history->versions(store->history, path, fn, ctx));
}

int store_history_version(struct store *store, const char *path, const char *prefix,
			  struct store_version *version, struct store_object *out)
{
	LOCKED(store, backend->history->version(store->history, path, prefix, version, out));
}

int store_history_read(struct store *store, const struct store_object *object,
		       struct store_blob **out)
{
	LOCKED(store, backend->history->read(store->history, object, out));
}

void store_blob_free(struct store *store, struct store_blob *blob)
{
	pthread_mutex_lock(&store->history_lock);
	backend->history->blob_free(blob);
	pthread_mutex_unlock(&store->history_lock);
}

/* ---- the commands on a working copy */

static struct store_repo *open_for_command(const char *workdir, char *err, size_t err_size)
{
	return backend->open(workdir, err, err_size);
}

int store_status(const char *workdir, FILE *out, char *err, size_t err_size)
{
	struct store_repo *repo = open_for_command(workdir, err, err_size);
	if (!repo)
		return -1;
	int rc = backend->status(repo, out, err, err_size);
	backend->close(repo);
	return rc;
}

int store_log(const char *workdir, int max, FILE *out, char *err, size_t err_size)
{
	struct store_repo *repo = open_for_command(workdir, err, err_size);
	if (!repo)
		return -1;
	int rc = backend->log(repo, max, out, err, err_size);
	backend->close(repo);
	return rc;
}

int store_sync(const char *workdir, FILE *out, char *err, size_t err_size)
{
	struct store_repo *repo = open_for_command(workdir, err, err_size);
	if (!repo)
		return -1;
	struct store_commit commit = {0};
	int rc = backend->commit(repo, NULL, 0, true, "tracefs store sync", &commit, err, err_size);
	if (rc > 0)
		fprintf(out, "committed %.12s: %s\n", commit.id, commit.summary);
	if (rc >= 0) {
		rc = backend->update(repo, &commit, err, err_size);
		if (rc > 0)
			fprintf(out, "merged upstream %.12s: %s\n", commit.id, commit.summary);
	}
	if (rc >= 0)
		rc = backend->push(repo, err, err_size);
	if (rc >= 0)
		fprintf(out, "in sync with the remote\n");
	backend->close(repo);
	return rc < 0 ? -1 : 0;
}

int store_clone(const char *remote, const char *workdir, char *err, size_t err_size)
{
	return backend->clone(remote, workdir, err, err_size);
}
