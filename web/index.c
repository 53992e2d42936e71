/*
 * index.c — what every replay of one trace shares, built once by its own
 * thread when `tracefs serve` starts: the span and the timeline's density,
 * and scene checkpoints, so that a seek anywhere in a trace of millions of
 * events rebuilds the tree from the nearest checkpoint instead of from the
 * first event.
 *
 * A checkpoint does not hold a copy of the tree: it is a place in one log of
 * the events that changed the tree's structure (a node appeared, changed
 * kind, was removed or revived, a rename...). Running the log up to a
 * checkpoint's place through a fresh scene gives the tree the scene had
 * there, for what a snapshot shows (the live nodes and their kinds): the
 * events left out only flash nodes that exist. So the log grows with the
 * tree, not with the trace (100,000 files: a few MB for 10M events).
 * Checkpoints (32 bytes each) come every CHECKPOINT_EVENTS events; a seek to time T starts
 * from the last checkpoint before which no event reached T (max_ts < T) and
 * reads on from there in seq order, as a seek from the start would.
 * Each also keeps what the events since the one before added to each process
 * instance's counts (12 bytes an instance that had any); some also keep the
 * running totals (see totals_make), so that a seek sums the deltas after
 * the last totals at or before its checkpoint, not all from the start.
 */
#include "web/internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHECKPOINT_EVENTS 10000 /* a seek reads at most about this many events */
#define LOG_MAX_BYTES (512u << 20) /* beyond: no more checkpoints (seeks read further) */
#define PROGRESS_EVENTS 16384 /* how often the build says how far it is */

/* One event of the log, followed by its path and path2 (NUL-terminated). */
struct log_entry {
	uint32_t size; /* of the entry, strings and padding included */
	uint16_t path2_at; /* offset of path2 from the strings' start; 0: none */
	uint8_t op, kind;
	int32_t result;
	uint32_t instance; /* its process instance (colour by command), 0: none or past 32 bits */
};

/* The scene's counters at a checkpoint: what the panel shows after a seek. */
struct counters {
	uint64_t events, op_events[VIZ_OP_COUNT], errno_events[VIZ_ERRNO_SLOTS];
	size_t process_count;
	struct counted_process {
		char *name;
		uint64_t events, errors;
		int color_slot;
	} *processes;
};

/* An instance's events since the checkpoint before (at most CHECKPOINT_EVENTS). */
struct instance_delta {
	uint32_t id, events, errors;
};

/* An instance's events up to a checkpoint. */
struct instance_total {
	uint64_t events, errors;
	uint32_t id;
};

struct checkpoint {
	int64_t seq;	/* the last event it includes (0: none) */
	int64_t max_ts; /* the latest start of those events */
	double t;	/* scene time there */
	size_t log_len; /* bytes of the log it includes */
	struct counters *counters; /* NULL: none counted yet */
	/* Per process instance, what the events since the checkpoint before
	 * added: a seek sums them (the instances are bounded by the trace's
	 * processes table, a checkpoint's by CHECKPOINT_EVENTS). */
	struct instance_delta *instances;
	size_t instance_count;
	/* Every instance's counts up to here (the sum of the deltas so far),
	 * made in memory once the index is ready; NULL: not here. */
	struct instance_total *totals;
	size_t total_count;
};

/* The build's counts per instance since the last checkpoint. */
struct instance_since {
	struct web_instance_counts counts;
	uint32_t *touched; /* the ids with counts, in order of their first event */
	size_t touched_count, touched_cap;
};

struct trace_index {
	char *trace;
	bool keep; /* load the index from its cache file, or build it and keep it there */
	void *loaded; /* the cache file's bytes, which log points into; NULL: log is malloc'd */
	void (*ready)(void *ctx);
	void *ctx;
	pthread_t thread, phases_thread;
	bool thread_running;
	atomic_bool done, stop;
	/* While it is built: the events read so far, of how many (0: not known yet). */
	_Atomic int64_t events_read, events_total;
	/* Set by the thread before done; read-only after. */
	char error[512]; /* "": none */
	int64_t first_ns, last_ns, count;
	int64_t buckets[TIMELINE_BUCKETS];
	unsigned char *log;
	size_t log_len, log_cap;
	struct checkpoint *checkpoints;
	size_t checkpoint_count, checkpoint_cap;
	/* The phases of the run, found by the analysis on a thread of their own. */
	struct analyze_phase_span *phases;
	size_t phase_count;
	char phases_error[256]; /* "": found */
};

static bool changes_tree(uint8_t op)
{
	switch (op) {
	case TRACE_OP_MKNOD:
	case TRACE_OP_MKDIR:
	case TRACE_OP_UNLINK:
	case TRACE_OP_RMDIR:
	case TRACE_OP_SYMLINK:
	case TRACE_OP_RENAME:
	case TRACE_OP_LINK:
	case TRACE_OP_CREATE:
	case TRACE_OP_LOST:
		return true;
	default:
		return false;
	}
}

static int log_add(struct trace_index *x, const struct trace_event *e)
{
	size_t path_len = e->path ? strlen(e->path) + 1 : 1;
	size_t path2_len = e->path2 ? strlen(e->path2) + 1 : 0;
	if (path_len + path2_len > UINT16_MAX)
		return 0; /* longer than any path the recorder keeps: not in the tree either */
	size_t size = (sizeof(struct log_entry) + path_len + path2_len + 7) & ~(size_t)7;
	if (x->log_len + size > x->log_cap) {
		size_t cap = x->log_cap ? x->log_cap * 2 : 1u << 20;
		while (cap < x->log_len + size)
			cap *= 2;
		unsigned char *log = realloc(x->log, cap);
		if (!log)
			return -1;
		x->log = log;
		x->log_cap = cap;
	}
	struct log_entry *entry = (struct log_entry *)(x->log + x->log_len);
	*entry = (struct log_entry){.size = (uint32_t)size, .op = e->op, .kind = e->kind,
				    .result = e->result,
				    .instance = viz_instance_key(e->process),
				    .path2_at = (uint16_t)(e->path2 ? path_len : 0)};
	char *strings = (char *)(entry + 1);
	memcpy(strings, e->path ? e->path : "", path_len);
	if (e->path2)
		memcpy(strings + path_len, e->path2, path2_len);
	/* The padding too: the log is written to the cache file as it is. */
	memset(strings + path_len + path2_len, 0, size - sizeof(*entry) - path_len - path2_len);
	x->log_len += size;
	return 0;
}

static void counters_free(struct counters *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->process_count; i++)
		free(c->processes[i].name);
	free(c->processes);
	free(c);
}

static struct counters *counters_take(const struct viz_scene *scene)
{
	struct counters *c = calloc(1, sizeof(*c));
	size_t count = viz_scene_process_count(scene);
	if (!c || (count && !(c->processes = calloc(count, sizeof(*c->processes))))) {
		free(c);
		return NULL;
	}
	c->events = viz_scene_events(scene);
	for (int op = 0; op < VIZ_OP_COUNT; op++)
		c->op_events[op] = viz_scene_op_events(scene, (enum viz_op)op);
	for (int e = 0; e < VIZ_ERRNO_SLOTS; e++)
		c->errno_events[e] = viz_scene_errno_events(scene, e);
	for (; c->process_count < count; c->process_count++) {
		struct viz_process_info info;
		viz_scene_process(scene, c->process_count, &info);
		struct counted_process *p = &c->processes[c->process_count];
		*p = (struct counted_process){strdup(info.name ? info.name : ""), info.events,
					      info.errors, info.color_slot};
		if (!p->name) {
			counters_free(c);
			return NULL;
		}
	}
	return c;
}

static int counters_restore(const struct counters *c, struct viz_scene *scene)
{
	if (!c)
		return 0;
	for (size_t i = 0; i < c->process_count; i++) {
		const struct counted_process *p = &c->processes[i];
		if (viz_scene_restore_process(scene, p->name, p->events, p->errors, p->color_slot) != 0)
			return -1;
	}
	viz_scene_restore_events(scene, c->events);
	for (int op = 0; op < VIZ_OP_COUNT; op++)
		viz_scene_restore_op_events(scene, (enum viz_op)op, c->op_events[op]);
	for (int e = 0; e < VIZ_ERRNO_SLOTS; e++)
		viz_scene_restore_errno_events(scene, e, c->errno_events[e]);
	return 0;
}

static int instance_since_add(struct instance_since *since, const struct trace_event *e)
{
	if (e->process <= 0 || e->process >= WEB_MAX_INSTANCES)
		return 0;
	size_t id = (size_t)e->process;
	if (id >= since->counts.size || !since->counts.by_id[id].events) {
		if (since->touched_count == since->touched_cap) {
			size_t cap = since->touched_cap ? since->touched_cap * 2 : 256;
			uint32_t *touched = realloc(since->touched, cap * sizeof(*touched));
			if (!touched)
				return -1;
			since->touched = touched;
			since->touched_cap = cap;
		}
		since->touched[since->touched_count++] = (uint32_t)id;
	}
	return instance_counts_add(&since->counts, e->process, 1, e->result < 0);
}

/* SINCE's counts, then none: the checkpoint's deltas. */
static struct instance_delta *instance_since_take(struct instance_since *since)
{
	struct instance_delta *deltas = malloc((since->touched_count ? since->touched_count : 1) *
					       sizeof(*deltas));
	if (!deltas)
		return NULL;
	for (size_t i = 0; i < since->touched_count; i++) {
		struct web_instance_tally *tally = &since->counts.by_id[since->touched[i]];
		deltas[i] = (struct instance_delta){since->touched[i], (uint32_t)tally->events,
						    (uint32_t)tally->errors};
		*tally = (struct web_instance_tally){0};
	}
	return deltas;
}

static int checkpoint_add(struct trace_index *x, int64_t seq, int64_t max_ts, double t,
			  const struct viz_scene *scene, struct instance_since *since)
{
	if (x->checkpoint_count == x->checkpoint_cap) {
		size_t cap = x->checkpoint_cap ? x->checkpoint_cap * 2 : 64;
		struct checkpoint *c = realloc(x->checkpoints, cap * sizeof(*c));
		if (!c)
			return -1;
		x->checkpoints = c;
		x->checkpoint_cap = cap;
	}
	struct counters *counters = seq ? counters_take(scene) : NULL;
	if (seq && !counters)
		return -1;
	struct instance_delta *instances = instance_since_take(since);
	if (!instances) {
		counters_free(counters);
		return -1;
	}
	x->checkpoints[x->checkpoint_count++] = (struct checkpoint){
		.seq = seq, .max_ts = max_ts, .t = t, .log_len = x->log_len, .counters = counters,
		.instances = instances, .instance_count = since->touched_count};
	since->touched_count = 0;
	return 0;
}

/* The scene time of TS, from the first event's time, without overflow. */
static double scene_time(const struct trace_index *x, int64_t ts)
{
	return ((double)ts - (double)x->first_ns) / 1e9;
}

/*
 * index_apply(), and *STEADY: whether the same event again would be only a
 * flash (its node is there, alive, of its kind).
 */
static int apply_event(struct viz_scene *scene, const struct trace_event *e, double t, bool *steady)
{
	struct viz_event ve;
	play_event(&ve, e, t);
	struct viz_node_info before, after;
	int had = 0;
	*steady = false;
	if (!changes_tree(e->op)) {
		had = e->path ? viz_scene_find(scene, e->path, &before) : 0;
		if (had && !before.dying && before.kind == ve.kind) { /* a flash of a node that is there */
			*steady = true;
			return viz_scene_count(scene, &ve) == 0 ? 0 : -1; /* counted all the same */
		}
	}
	if (viz_scene_apply(scene, &ve) != 0)
		return -1;
	if (changes_tree(e->op))
		return 1;
	int has = e->path ? viz_scene_find(scene, e->path, &after) : 0;
	*steady = has && !after.dying && after.kind == ve.kind;
	return has != had || (has && (after.dying != before.dying || after.kind != before.kind));
}

int index_apply(struct viz_scene *scene, const struct trace_event *e, double t)
{
	bool steady;
	return apply_event(scene, e, t, &steady);
}

/*
 * The paths the build saw steady (see apply_event) since the tree last
 * changed: most events flash a node that is there, and this tells so
 * without walking the scene's tree (a third of the build's time).
 * Direct-mapped by a hash of the path, bounded; an epoch that every change
 * of the tree advances makes every entry stale at once.
 */
#define STEADY_SLOTS (1u << 17) /* 128Ki: about 8 MB with the paths */

struct steady_slot {
	uint64_t hash;
	uint64_t epoch; /* 0: empty */
	uint8_t kind;
	char *path;
	size_t cap;
};

struct steady_paths {
	struct steady_slot *slots;
	uint64_t epoch; /* from 1 */
};

static uint64_t path_hash(const char *path)
{
	uint64_t h = 14695981039346656037ULL; /* FNV-1a */
	for (; *path; path++)
		h = (h ^ (unsigned char)*path) * 1099511628211ULL;
	return h;
}

static bool is_steady(const struct steady_paths *sp, const struct trace_event *e, uint64_t hash)
{
	const struct steady_slot *slot = &sp->slots[hash & (STEADY_SLOTS - 1)];
	return slot->epoch == sp->epoch && slot->hash == hash && slot->kind == e->kind &&
	       strcmp(slot->path, e->path) == 0;
}

/* Notes E's path as steady; a path that does not fit is simply not noted. */
static void note_steady(struct steady_paths *sp, const struct trace_event *e, uint64_t hash)
{
	struct steady_slot *slot = &sp->slots[hash & (STEADY_SLOTS - 1)];
	size_t len = strlen(e->path) + 1;
	slot->epoch = 0;
	if (len > slot->cap) {
		char *path = realloc(slot->path, len);
		if (!path)
			return;
		slot->path = path;
		slot->cap = len;
	}
	memcpy(slot->path, e->path, len);
	*slot = (struct steady_slot){hash, sp->epoch, e->kind, slot->path, slot->cap};
}

static void steady_free(struct steady_paths *sp)
{
	for (size_t i = 0; sp->slots && i < STEADY_SLOTS; i++)
		free(sp->slots[i].path);
	free(sp->slots);
}

/* EVENT into the build's SCENE, as index_apply() does. */
static int index_event(struct steady_paths *sp, struct viz_scene *scene, const struct trace_event *e,
		       double t)
{
	bool flash = e->path && !changes_tree(e->op);
	uint64_t hash = flash ? path_hash(e->path) : 0;
	if (flash && is_steady(sp, e, hash)) {
		struct viz_event ve;
		play_event(&ve, e, t);
		return viz_scene_count(scene, &ve) == 0 ? 0 : -1;
	}
	bool steady;
	int changed = apply_event(scene, e, t, &steady);
	if (changed > 0)
		sp->epoch++;
	if (changed >= 0 && flash && steady)
		note_steady(sp, e, hash);
	return changed;
}

static void fail(struct trace_index *x, const char *message)
{
	snprintf(x->error, sizeof(x->error), "%s", message);
}

static void build(struct trace_index *x)
{
	char err[512];
	struct trace_reader *reader = trace_reader_open(x->trace, err, sizeof(err));
	if (!reader) {
		fail(x, err);
		return;
	}
	struct viz_options options = {.unplaced = true}; /* only snapshots: no layout */
	struct viz_scene *scene = viz_scene_new(play_allocator(), &options);
	struct steady_paths steady = {calloc(STEADY_SLOTS, sizeof(struct steady_slot)), 1};
	struct instance_since since = {0};
	if (!scene || !steady.slots) {
		fail(x, "out of memory");
		goto out;
	}
	if (trace_reader_span(reader, &x->first_ns, &x->last_ns, &x->count) != 0) {
		snprintf(x->error, sizeof(x->error), "cannot read the events of %s", x->trace);
		goto out;
	}
	atomic_store(&x->events_total, x->count);
	double span = (double)x->last_ns - (double)x->first_ns + 1;
	struct trace_event event;
	int64_t seq, last_seq = 0, max_ts = INT64_MIN, events = 0;
	double t = 0;
	bool checkpoints = true;
	int rc;
	if (checkpoint_add(x, 0, INT64_MIN, 0, scene, &since) != 0) {
		fail(x, "out of memory");
		goto out;
	}
	while ((rc = trace_reader_next(reader, &event, &seq, err, sizeof(err))) == 1) {
		if (atomic_load(&x->stop))
			goto out;
		if (events > 0 && events % CHECKPOINT_EVENTS == 0 && checkpoints) {
			if (checkpoint_add(x, last_seq, max_ts, t, scene, &since) != 0) {
				fail(x, "out of memory");
				goto out;
			}
		}
		double slice = ((double)event.ts_ns - (double)x->first_ns) / span * TIMELINE_BUCKETS;
		int bucket = slice < 0 ? 0 : slice >= TIMELINE_BUCKETS ? TIMELINE_BUCKETS - 1 : (int)slice;
		x->buckets[bucket]++;
		double event_t = scene_time(x, event.ts_ns);
		if (event_t > t)
			t = event_t;
		int changed = checkpoints ? index_event(&steady, scene, &event, t) : 0;
		if (changed < 0 || (changed > 0 && log_add(x, &event) != 0) ||
		    (checkpoints && instance_since_add(&since, &event) != 0)) {
			fail(x, "out of memory");
			goto out;
		}
		checkpoints = checkpoints && x->log_len <= LOG_MAX_BYTES;
		if (event.ts_ns > max_ts)
			max_ts = event.ts_ns;
		last_seq = seq;
		if (++events % PROGRESS_EVENTS == 0)
			atomic_store_explicit(&x->events_read, events, memory_order_release);
	}
	atomic_store_explicit(&x->events_read, events, memory_order_release);
	if (rc < 0)
		fail(x, err);
out:
	instance_counts_free(&since.counts);
	free(since.touched);
	steady_free(&steady);
	viz_scene_free(scene);
	trace_reader_close(reader);
}

/*
 * The phases come from a whole analysis of the trace (seconds for millions
 * of events): once per trace, beside the scene pass (two cores), rather
 * than once per client.
 */
static void *phases_main(void *arg)
{
	struct trace_index *x = arg;
	if (analyze_phases_read(x->trace, &x->phases, &x->phase_count, x->phases_error,
			    sizeof(x->phases_error)) != 0 &&
	    !x->phases_error[0])
		snprintf(x->phases_error, sizeof(x->phases_error), "the analysis failed");
	return NULL;
}

/*
 * ---- the index kept on disk ----
 *
 * Built once per trace and kept in a cache file, so that the next `serve`
 * of the same trace has it at once: next to the trace (FILE.db.index) or,
 * where that cannot be written, in $XDG_CACHE_HOME/tracefs (default
 * ~/.cache/tracefs) under the trace's device and inode numbers. The file is
 * keyed by the trace's identity (device, inode, size, mtime, the meta
 * table's events_written and format_version) and by the program that built
 * it (its version, and its executable's size and mtime); a trace
 * still being written is not kept. Read back, it is input from disk: its
 * every length, count and offset is checked, and a checksum covers it all.
 */
#define CACHE_MAGIC "TFSINDEX"
#define CACHE_VERSION 2 /* of the file's layout (what the build puts in it: the program's id) */
#define CACHE_MAX_BYTES ((off_t)4 << 30)
#define CACHE_CHUNK (1u << 16) /* bytes written at a time; a multiple of 8 */

struct cache_key {
	uint64_t dev, ino, size;
	int64_t mtime_ns, events_written, format_version;
};

struct cache_header {
	char magic[8];
	uint32_t version, buckets, op_count, errno_slots, checkpoint_events, log_entry;
	char program[8]; /* TRACEFS_VERSION */
	uint64_t program_id; /* the executable's size and mtime: any other build indexes anew */
	struct cache_key key;
	uint64_t content_len, checksum; /* of what follows the header */
};
_Static_assert(sizeof(struct cache_header) == 112, "no padding in the header, a multiple of 8");

/* The header a cache of KEY written by this program has (content aside). */
static void cache_header_init(struct cache_header *h, const struct cache_key *key)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->magic, CACHE_MAGIC, sizeof(h->magic));
	h->version = CACHE_VERSION;
	h->buckets = TIMELINE_BUCKETS;
	h->op_count = VIZ_OP_COUNT;
	h->errno_slots = VIZ_ERRNO_SLOTS;
	h->checkpoint_events = CHECKPOINT_EVENTS;
	h->log_entry = sizeof(struct log_entry);
	snprintf(h->program, sizeof(h->program), "%s", TRACEFS_VERSION);
	struct stat exe;
	if (stat("/proc/self/exe", &exe) == 0)
		h->program_id = (uint64_t)exe.st_size * 0x9e3779b97f4a7c15ULL ^
				((uint64_t)exe.st_mtim.tv_sec * 1000000000 + (uint64_t)exe.st_mtim.tv_nsec);
	h->key = *key;
}

/* Hashes N bytes; every call but the last is given a multiple of 8. */
static uint64_t cache_hash(uint64_t h, const unsigned char *p, size_t n)
{
	for (; n >= 8; p += 8, n -= 8) {
		uint64_t word;
		memcpy(&word, p, 8);
		h = (h ^ word) * 0x9e3779b97f4a7c15ULL;
		h ^= h >> 29;
	}
	for (; n; p++, n--)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}
#define CACHE_HASH_SEED 0xcbf29ce484222325ULL

uint64_t index_cache_checksum(const void *content, size_t len)
{
	return cache_hash(CACHE_HASH_SEED, content, len);
}

static int64_t meta_int(struct trace_reader *reader, const char *key, bool *found)
{
	char *text = trace_reader_meta(reader, key), *end;
	errno = 0;
	long long value = text ? strtoll(text, &end, 10) : 0;
	*found = text && *text && !*end && errno == 0;
	free(text);
	return value;
}

/*
 * The trace's identity now. 0; 1 when its index is not to be kept (why in
 * WHY): it is still being written, or its writer never finished; -1 when it
 * cannot be read (then the build tells why).
 */
static int trace_key(const char *trace, struct trace_reader *reader, struct cache_key *key,
		     char *why, size_t why_size)
{
	struct stat st, wal;
	char wal_path[4096];
	if (stat(trace, &st) != 0)
		return -1;
	snprintf(wal_path, sizeof(wal_path), "%s-wal", trace);
	if (stat(wal_path, &wal) == 0 && wal.st_size > 0) {
		snprintf(why, why_size, "it is being written (its -wal is not empty; or its writer was killed)");
		return 1;
	}
	bool written, format;
	*key = (struct cache_key){.dev = st.st_dev, .ino = st.st_ino, .size = (uint64_t)st.st_size,
				  .mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 + st.st_mtim.tv_nsec,
				  .events_written = meta_int(reader, "events_written", &written),
				  .format_version = meta_int(reader, "format_version", &format)};
	if (!written || !format) {
		snprintf(why, why_size, "its recording has not finished (no events_written in its meta)");
		return 1;
	}
	return 0;
}

static char *sidecar_path(const char *trace)
{
	char *path;
	return asprintf(&path, "%s.index", trace) < 0 ? NULL : path;
}

/*
 * $XDG_CACHE_HOME/tracefs (or ~/.cache/tracefs), made 0700 if MAKE; NULL:
 * none, or not a directory of ours that only we may write (a symlink, or
 * another user's on a shared path): nothing is kept, read or cleaned there.
 */
static char *cache_dir(bool make)
{
	const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
	char *base = NULL, *dir = NULL;
	if (xdg && xdg[0] == '/')
		base = strdup(xdg);
	else if (home && home[0] == '/' && asprintf(&base, "%s/.cache", home) < 0)
		base = NULL;
	if (!base || asprintf(&dir, "%s/tracefs", base) < 0)
		dir = NULL;
	if (dir && make && ((mkdir(base, 0700) != 0 && errno != EEXIST) ||
			    (mkdir(dir, 0700) != 0 && errno != EEXIST))) {
		free(dir);
		dir = NULL;
	}
	struct stat st;
	if (dir && (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
		    (st.st_mode & 022))) {
		free(dir);
		dir = NULL;
	}
	free(base);
	return dir;
}

static char *fallback_path(const struct cache_key *key, bool make)
{
	char *dir = cache_dir(make), *path = NULL;
	if (dir && asprintf(&path, "%s/%" PRIx64 "-%" PRIx64 ".index", dir, key->dev, key->ino) < 0)
		path = NULL;
	free(dir);
	return path;
}

/* ---- writing ---- */

struct cache_out {
	FILE *file;
	const atomic_bool *stop; /* serve is stopping: the write is abandoned */
	bool failed;		 /* nothing more is done */
	int error;		 /* why the write failed (0: serve is stopping) */
	uint64_t total, hash; /* of the content so far */
	size_t len;
	unsigned char buf[CACHE_CHUNK];
};

static void out_flush(struct cache_out *o)
{
	if (o->failed)
		return;
	o->hash = cache_hash(o->hash, o->buf, o->len);
	if (fwrite(o->buf, 1, o->len, o->file) != o->len) {
		o->failed = true;
		o->error = errno ? errno : EIO;
	} else if (atomic_load(o->stop)) {
		o->failed = true;
	}
	o->len = 0;
}

static void out_put(struct cache_out *o, const void *bytes, size_t n)
{
	if (o->failed)
		return;
	const unsigned char *p = bytes;
	o->total += n;
	while (n) {
		size_t room = CACHE_CHUNK - o->len, take = n < room ? n : room;
		memcpy(o->buf + o->len, p, take);
		o->len += take, p += take, n -= take;
		if (o->len == CACHE_CHUNK)
			out_flush(o);
	}
}

static void out_u64(struct cache_out *o, uint64_t v) { out_put(o, &v, sizeof(v)); }
static void out_i64(struct cache_out *o, int64_t v) { out_put(o, &v, sizeof(v)); }

static void out_string(struct cache_out *o, const char *s)
{
	uint32_t len = (uint32_t)strlen(s);
	out_put(o, &len, sizeof(len));
	out_put(o, s, len);
}

/* The content: TRACE, the trace's absolute path (what the cache directory's cleaning checks),
 * then X. */
static void out_content(struct cache_out *o, const struct trace_index *x, const char *trace)
{
	out_string(o, trace);
	out_i64(o, x->first_ns);
	out_i64(o, x->last_ns);
	out_i64(o, x->count);
	out_put(o, x->buckets, sizeof(x->buckets));
	out_u64(o, x->phase_count);
	for (size_t i = 0; i < x->phase_count; i++) {
		out_string(o, x->phases[i].name);
		out_i64(o, x->phases[i].start_ns);
		out_i64(o, x->phases[i].end_ns);
	}
	out_u64(o, x->log_len);
	static const unsigned char zeros[8];
	out_put(o, zeros, (8 - o->total % 8) % 8); /* the log aligned (the header is a multiple of 8) */
	out_put(o, x->log, x->log_len);
	out_u64(o, x->checkpoint_count);
	for (size_t i = 0; i < x->checkpoint_count; i++) {
		const struct checkpoint *c = &x->checkpoints[i];
		out_i64(o, c->seq);
		out_i64(o, c->max_ts);
		out_put(o, &c->t, sizeof(c->t));
		out_u64(o, c->log_len);
		const struct counters *n = c->counters;
		uint8_t counted = n != NULL;
		out_put(o, &counted, 1);
		if (n) {
			out_u64(o, n->events);
			out_put(o, n->op_events, sizeof(n->op_events));
			out_put(o, n->errno_events, sizeof(n->errno_events));
			out_u64(o, n->process_count);
			for (size_t p = 0; p < n->process_count; p++) {
				int32_t slot = n->processes[p].color_slot;
				out_string(o, n->processes[p].name);
				out_u64(o, n->processes[p].events);
				out_u64(o, n->processes[p].errors);
				out_put(o, &slot, sizeof(slot));
			}
		}
		out_u64(o, c->instance_count);
		out_put(o, c->instances, c->instance_count * sizeof(*c->instances));
	}
}

/* Writes X to PATH (0600) through a temporary file renamed into place. 0, or -1 with why in ERR
 * ("" when serve is stopping). */
static int cache_write(const struct trace_index *x, const char *path, const struct cache_key *key,
		       char *err, size_t err_size)
{
	trace_outfile_clean(path); /* what a serve that was killed while writing PATH left */
	struct trace_outfile out;
	struct cache_out *o = calloc(1, sizeof(*o));
	if (!o) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (trace_outfile_private(&out, path, err, err_size) != 0) {
		free(o);
		return -1;
	}
	struct cache_header h;
	cache_header_init(&h, key);
	*o = (struct cache_out){.file = out.file, .stop = &x->stop, .hash = CACHE_HASH_SEED};
	/* For now: its lengths and checksum are known at the end. */
	if (fwrite(&h, sizeof(h), 1, out.file) != 1)
		o->failed = true, o->error = errno ? errno : EIO;
	char *trace = realpath(x->trace, NULL); /* NULL: none, and only the size cap evicts it */
	out_content(o, x, trace ? trace : "");
	free(trace);
	out_flush(o);
	h.content_len = o->total;
	h.checksum = o->hash;
	int error = o->error;
	bool failed = o->failed;
	if (!failed && (fflush(out.file) != 0 || fseeko(out.file, 0, SEEK_SET) != 0 ||
			fwrite(&h, sizeof(h), 1, out.file) != 1))
		failed = true, error = errno ? errno : EIO;
	free(o);
	if (atomic_load(&x->stop)) {
		trace_outfile_abort(&out);
		snprintf(err, err_size, "%s", "");
		return -1;
	}
	if (failed) {
		snprintf(err, err_size, "cannot write %s: %s", path, strerror(error ? error : EIO));
		trace_outfile_abort(&out);
		return -1;
	}
	return trace_outfile_commit(&out, err, err_size);
}

/*
 * ---- the cache directory's cleaning ----
 *
 * After an index is written into the cache directory: an entry whose trace
 * is gone (no file at the path it names, or another file there) is
 * removed, and then the least recently used (loading one marks it used)
 * while the entries take more than CACHE_DIR_MAX_BYTES. So are temporary
 * files that killed writers left.
 */
#define CACHE_DIR_MAX_BYTES ((uint64_t)1 << 30)

struct cache_entry {
	char *name;
	uint64_t size;
	struct timespec used;
};

/* Whether NAME is what fallback_path() names an entry: DEV-INODE.index in hex. */
static bool is_entry_name(const char *name)
{
	size_t dev = strspn(name, "0123456789abcdef");
	if (dev == 0 || name[dev] != '-')
		return false;
	size_t ino = strspn(name + dev + 1, "0123456789abcdef");
	return ino > 0 && strcmp(name + dev + 1 + ino, ".index") == 0;
}

/* Whether the entry NAME in DIR (open at FD) starts as every kept index does, in any version. */
static bool is_index_file(int fd, const char *name)
{
	int entry = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (entry < 0)
		return false;
	char magic[sizeof(CACHE_MAGIC) - 1];
	bool ok = pread(entry, magic, sizeof(magic), 0) == (ssize_t)sizeof(magic) &&
		  memcmp(magic, CACHE_MAGIC, sizeof(magic)) == 0;
	close(entry);
	return ok;
}

/* Whether the entry NAME in DIR (open at FD) names a trace that is gone. */
static bool trace_gone(int fd, const char *name)
{
	int entry = openat(fd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (entry < 0)
		return false;
	struct cache_header h;
	uint32_t len = 0;
	char trace[4096];
	struct stat st;
	bool ours = pread(entry, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
		    memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) == 0 && h.version == CACHE_VERSION &&
		    pread(entry, &len, sizeof(len), sizeof(h)) == (ssize_t)sizeof(len) && len > 0 &&
		    len < sizeof(trace) &&
		    pread(entry, trace, len, sizeof(h) + sizeof(len)) == (ssize_t)len;
	close(entry);
	if (!ours || trace[0] != '/' || memchr(trace, 0, len))
		return false; /* not known: the size cap decides */
	trace[len] = '\0';
	if (stat(trace, &st) != 0)
		return errno == ENOENT || errno == ENOTDIR;
	return (uint64_t)st.st_dev != h.key.dev || (uint64_t)st.st_ino != h.key.ino;
}

static int older_first(const void *a, const void *b)
{
	const struct timespec *x = &((const struct cache_entry *)a)->used,
			      *y = &((const struct cache_entry *)b)->used;
	return x->tv_sec != y->tv_sec ? (x->tv_sec > y->tv_sec) - (x->tv_sec < y->tv_sec)
				      : (x->tv_nsec > y->tv_nsec) - (x->tv_nsec < y->tv_nsec);
}

/* Cleans DIR, the cache directory, where KEPT was just written. Best effort, silent. */
static void cache_dir_clean(const char *dir, const char *kept)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct cache_entry *entries = NULL;
	size_t count = 0, cap = 0;
	uint64_t total = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		const char *temp = strstr(de->d_name, ".index.tmp-"), *dot = strrchr(de->d_name, '.');
		struct stat st;
		char *path = NULL;
		if (temp && asprintf(&path, "%s/%.*s", dir, (int)(temp - de->d_name) + 6, de->d_name) > 0) {
			trace_outfile_clean(path); /* the temporary files of that entry */
			free(path);
		}
		/* Only our own kept indexes: nothing else there is ever removed. */
		if (!dot || !is_entry_name(de->d_name) ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode) ||
		    st.st_uid != geteuid() || !is_index_file(dirfd(d), de->d_name))
			continue;
		bool is_kept = strcmp(de->d_name, kept) == 0;
		if (!is_kept && trace_gone(dirfd(d), de->d_name)) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		total += (uint64_t)st.st_size;
		if (is_kept)
			continue; /* never evicted: just written */
		if (count == cap) {
			size_t more = cap ? cap * 2 : 64;
			struct cache_entry *e = realloc(entries, more * sizeof(*e));
			if (!e)
				break;
			entries = e, cap = more;
		}
		if (!(entries[count].name = strdup(de->d_name)))
			break;
		entries[count].size = (uint64_t)st.st_size;
		entries[count++].used = st.st_mtim;
	}
	if (count)
		qsort(entries, count, sizeof(*entries), older_first);
	for (size_t i = 0; i < count; i++) {
		if (total > CACHE_DIR_MAX_BYTES && unlinkat(dirfd(d), entries[i].name, 0) == 0)
			total -= entries[i].size;
		free(entries[i].name);
	}
	free(entries);
	closedir(d);
}

/* Keeps X's index next to its trace, or else in the cache directory; a failure is a warning. */
static void cache_save(struct trace_index *x, const struct cache_key *key, double seconds)
{
	char *paths[2] = {sidecar_path(x->trace), NULL};
	char errors[2][512] = {"out of memory",
			       "none usable (XDG_CACHE_HOME or HOME unset, or the tracefs directory "
			       "there is not a directory of yours that only you may write)"};
	for (int i = 0; i < 2; i++) {
		if (i == 1 && !(paths[1] = fallback_path(key, true)))
			break;
		if (paths[i] && cache_write(x, paths[i], key, errors[i], sizeof(errors[i])) == 0) {
			fprintf(stderr, "tracefs serve: the index of %s was built in %.1f s, kept in %s\n",
				x->trace, seconds, paths[i]);
			char *dir = i == 1 ? cache_dir(false) : NULL;
			if (dir)
				cache_dir_clean(dir, strrchr(paths[i], '/') + 1);
			free(dir);
			free(paths[0]);
			free(paths[1]);
			return;
		}
		if (atomic_load(&x->stop))
			break; /* serve is stopping: nothing to tell */
	}
	if (!atomic_load(&x->stop))
		fprintf(stderr, "tracefs serve: warning: the index of %s is not kept (beside it: %s; in the "
			"cache directory: %s); the next serve builds it again\n", x->trace, errors[0], errors[1]);
	free(paths[0]);
	free(paths[1]);
}

/* ---- reading: every byte checked ---- */

struct cache_in {
	const unsigned char *p, *end;
	const char *bad; /* why it is damaged; NULL: fine so far */
};

static void in_get(struct cache_in *in, void *v, size_t n)
{
	if (!in->bad && (size_t)(in->end - in->p) >= n) {
		memcpy(v, in->p, n);
		in->p += n;
		return;
	}
	in->bad = in->bad ? in->bad : "it ends too soon";
	if (v) /* NULL: its allocation failed, which made IN bad */
		memset(v, 0, n);
}

static uint64_t in_u64(struct cache_in *in)
{
	uint64_t v;
	in_get(in, &v, sizeof(v));
	return v;
}

static int64_t in_i64(struct cache_in *in)
{
	int64_t v;
	in_get(in, &v, sizeof(v));
	return v;
}

static void in_check(struct cache_in *in, bool ok, const char *why)
{
	if (!ok && !in->bad)
		in->bad = why;
}

/* Whether COUNT records of at least EACH bytes can follow. */
static bool in_room(struct cache_in *in, uint64_t count, size_t each)
{
	in_check(in, count <= (uint64_t)(in->end - in->p) / each, "a count larger than the file");
	return !in->bad;
}

static char *in_string(struct cache_in *in)
{
	uint32_t len;
	in_get(in, &len, sizeof(len));
	if (!in_room(in, len, 1))
		return NULL;
	char *s = malloc((size_t)len + 1);
	in_check(in, s != NULL, "out of memory");
	in_check(in, !memchr(in->p, 0, len), "a name with a NUL");
	if (in->bad) {
		free(s);
		return NULL;
	}
	memcpy(s, in->p, len);
	s[len] = '\0';
	in->p += len;
	return s;
}

/* Checks the log's entries from *AT on, as the build writes them, up to TO (which must end
 * one); *AT ends at TO. */
static void check_log_to(struct cache_in *in, const struct trace_index *x, size_t *at, size_t to)
{
	while (!in->bad && *at < to) {
		const struct log_entry *e = (const struct log_entry *)(x->log + *at);
		size_t left = x->log_len - *at;
		if (left < sizeof(*e) + 1 || e->size < sizeof(*e) + 1 || e->size % 8 || e->size > left ||
		    e->op >= TRACE_OP_COUNT || e->kind >= TRACE_KIND_COUNT) {
			in->bad = "a bad entry in its log";
			return;
		}
		const char *strings = (const char *)(e + 1);
		size_t room = e->size - sizeof(*e);
		const char *path_end = memchr(strings, 0, room);
		if (!path_end || (e->path2_at && (e->path2_at != (size_t)(path_end - strings) + 1 ||
						  e->path2_at >= room ||
						  !memchr(strings + e->path2_at, 0, room - e->path2_at)))) {
			in->bad = "a bad path in its log";
			return;
		}
		*at += e->size;
	}
	in_check(in, *at == to, "a checkpoint inside a log entry");
}

static struct counters *in_counters(struct cache_in *in)
{
	struct counters *c = calloc(1, sizeof(*c));
	in_check(in, c != NULL, "out of memory");
	if (in->bad)
		return c;
	c->events = in_u64(in);
	in_get(in, c->op_events, sizeof(c->op_events));
	in_get(in, c->errno_events, sizeof(c->errno_events));
	uint64_t count = in_u64(in);
	if (!in_room(in, count, 4 + 8 + 8 + 4) || !count)
		return c;
	c->processes = calloc(count, sizeof(*c->processes));
	in_check(in, c->processes != NULL, "out of memory");
	for (; !in->bad && c->process_count < count; c->process_count++) {
		struct counted_process *p = &c->processes[c->process_count];
		int32_t slot;
		p->name = in_string(in);
		p->events = in_u64(in);
		p->errors = in_u64(in);
		in_get(in, &slot, sizeof(slot));
		p->color_slot = slot;
		in_check(in, p->errors <= p->events, "a process with more errors than events");
	}
	return c;
}

/* X from IN, the content of a kept file (what follows its header), which starts at CONTENT. */
static void in_index(struct cache_in *in, struct trace_index *x, const unsigned char *content)
{
	free(in_string(in)); /* the trace's path: for the cache directory's cleaning */
	x->first_ns = in_i64(in);
	x->last_ns = in_i64(in);
	x->count = in_i64(in);
	in_check(in, x->count >= 0 && (x->count == 0 || x->first_ns <= x->last_ns), "a bad span");
	in_get(in, x->buckets, sizeof(x->buckets));
	int64_t total = 0;
	for (int i = 0; i < TIMELINE_BUCKETS; i++) {
		in_check(in, x->buckets[i] >= 0 && x->buckets[i] <= x->count - total, "bad timeline counts");
		total += in->bad ? 0 : x->buckets[i];
	}
	in_check(in, total == x->count, "timeline counts that do not add up");
	uint64_t phases = in_u64(in);
	if (in_room(in, phases, 4 + 16) && phases) {
		x->phases = calloc(phases, sizeof(*x->phases));
		in_check(in, x->phases != NULL, "out of memory");
		for (; !in->bad && x->phase_count < phases; x->phase_count++) {
			struct analyze_phase_span *p = &x->phases[x->phase_count];
			p->name = in_string(in);
			p->start_ns = in_i64(in);
			p->end_ns = in_i64(in);
		}
	}
	uint64_t log_len = in_u64(in);
	size_t pad = (8 - (size_t)(in->p - content) % 8) % 8; /* the log aligned, in the file and in memory */
	in_check(in, (size_t)(in->end - in->p) >= pad, "it ends too soon");
	in->p += in->bad ? 0 : pad;
	in_check(in, log_len <= LOG_MAX_BYTES + (1u << 17), "a log larger than the build keeps");
	if (!in_room(in, log_len, 1))
		return;
	x->log = (unsigned char *)in->p;
	x->log_len = log_len;
	in->p += log_len;
	uint64_t checkpoints = in_u64(in);
	in_check(in, checkpoints >= 1 && checkpoints <= (uint64_t)x->count / CHECKPOINT_EVENTS + 1,
		 "a bad number of checkpoints");
	if (!in_room(in, checkpoints, 8 * 4 + 1 + 8))
		return;
	x->checkpoints = calloc(checkpoints, sizeof(*x->checkpoints));
	in_check(in, x->checkpoints != NULL, "out of memory");
	size_t at = 0;
	while (!in->bad && x->checkpoint_count < checkpoints) {
		size_t n = x->checkpoint_count++; /* counted at once: index_clear() frees what it holds */
		struct checkpoint *c = &x->checkpoints[n];
		const struct checkpoint *before = n ? c - 1 : NULL;
		c->seq = in_i64(in);
		c->max_ts = in_i64(in);
		in_get(in, &c->t, sizeof(c->t));
		uint64_t upto = in_u64(in);
		uint8_t counted = 1;
		in_get(in, &counted, 1);
		if (!before)
			in_check(in, c->seq == 0 && c->max_ts == INT64_MIN && c->t == 0 && upto == 0 &&
					     !counted, "a bad first checkpoint");
		else
			in_check(in, c->seq > before->seq && c->max_ts >= before->max_ts && isfinite(c->t) &&
					     c->t >= before->t && upto >= before->log_len && upto <= x->log_len &&
					     counted == 1, "checkpoints out of order");
		if (in->bad)
			break;
		c->log_len = (size_t)upto;
		check_log_to(in, x, &at, c->log_len);
		if (counted)
			c->counters = in_counters(in);
		uint64_t instances = in_u64(in);
		if (!in_room(in, instances, sizeof(struct instance_delta)))
			break;
		c->instances = malloc((instances ? instances : 1) * sizeof(*c->instances));
		in_check(in, c->instances != NULL, "out of memory");
		in_get(in, c->instances, instances * sizeof(*c->instances));
		c->instance_count = instances;
		for (size_t i = 0; i < instances && !in->bad; i++) {
			const struct instance_delta *d = &c->instances[i];
			/* A delta is written for an instance with events only. */
			in_check(in, d->id > 0 && d->id < WEB_MAX_INSTANCES && d->events >= 1 &&
					     d->events <= CHECKPOINT_EVENTS && d->errors <= d->events,
				 "bad counts of a process instance");
		}
	}
	check_log_to(in, x, &at, x->log_len);
	in_check(in, in->p == in->end, "bytes after its end");
}

/* Frees what the index holds and makes it empty again. */
static void index_clear(struct trace_index *x)
{
	analyze_phases_free(x->phases, x->phase_count);
	if (x->loaded)
		free(x->loaded);
	else
		free(x->log);
	for (size_t i = 0; i < x->checkpoint_count; i++) {
		counters_free(x->checkpoints[i].counters);
		free(x->checkpoints[i].instances);
		free(x->checkpoints[i].totals);
	}
	free(x->checkpoints);
	x->phases = NULL, x->phase_count = 0, x->loaded = NULL, x->log = NULL;
	x->log_len = x->log_cap = 0, x->checkpoints = NULL, x->checkpoint_count = x->checkpoint_cap = 0;
	x->first_ns = x->last_ns = x->count = 0;
	memset(x->buckets, 0, sizeof(x->buckets));
}

/*
 * The running totals of the instances' counts, kept at a checkpoint when
 * the deltas since the last totals are at least as many as the instances
 * seen so far: so they take no more memory than the deltas, and a seek adds
 * at most as many deltas as there are instances after adding the totals.
 * Out of memory: fewer totals, which only makes seeks sum more deltas.
 */
static void totals_make(struct trace_index *x)
{
	struct web_instance_counts running = {0};
	uint32_t *seen = NULL; /* the ids with counts, in order of their first */
	size_t seen_count = 0, seen_cap = 0, since = 0;
	/* Which ids are in SEEN: a loaded file's deltas are only checked to be
	 * in range, so one id may come twice in a checkpoint. */
	uint8_t *listed = calloc(WEB_MAX_INSTANCES / 8, 1);
	if (!listed)
		return;
	for (size_t i = 1; i < x->checkpoint_count; i++) {
		struct checkpoint *c = &x->checkpoints[i];
		for (size_t j = 0; j < c->instance_count; j++) {
			const struct instance_delta *d = &c->instances[j];
			if (!(listed[d->id / 8] & (1u << (d->id % 8)))) {
				listed[d->id / 8] |= (uint8_t)(1u << (d->id % 8));
				if (seen_count == seen_cap) {
					size_t cap = seen_cap ? seen_cap * 2 : 256;
					uint32_t *more = realloc(seen, cap * sizeof(*seen));
					if (!more)
						goto out;
					seen = more, seen_cap = cap;
				}
				seen[seen_count++] = d->id;
			}
			if (instance_counts_add(&running, d->id, d->events, d->errors) != 0)
				goto out;
		}
		since += c->instance_count;
		if (since == 0 || since < seen_count)
			continue;
		if (!(c->totals = malloc(seen_count * sizeof(*c->totals))))
			goto out;
		for (size_t j = 0; j < seen_count; j++)
			c->totals[j] = (struct instance_total){running.by_id[seen[j]].events,
							      running.by_id[seen[j]].errors, seen[j]};
		c->total_count = seen_count;
		since = 0;
	}
out:
	free(listed);
	free(seen);
	instance_counts_free(&running);
}

/* Loads the empty X from the content of a kept file, LEN bytes at AT in FILE (malloc'd, which X
 * then owns and its log points into): NULL, or why it is damaged (X empty, FILE freed). */
static const char *load_content(struct trace_index *x, unsigned char *file, size_t at, size_t len)
{
	struct cache_in in = {file + at, file + at + len, NULL};
	x->loaded = file;
	in_index(&in, x, file + at);
	if (in.bad)
		index_clear(x); /* frees FILE */
	return in.bad;
}

struct trace_index *index_load(const void *content, size_t len, char *why, size_t why_size)
{
	struct trace_index *x = calloc(1, sizeof(*x));
	unsigned char *file = malloc(len ? len : 1);
	const char *bad = x && file ? NULL : "out of memory";
	if (!bad) {
		memcpy(file, content, len);
		bad = load_content(x, file, 0, len);
		file = NULL;
	}
	if (bad) {
		snprintf(why, why_size, "%s", bad);
		free(file);
		free(x);
		return NULL;
	}
	totals_make(x);
	atomic_store(&x->done, true);
	return x;
}

enum cache_read { CACHE_NONE, CACHE_LOADED, CACHE_STALE, CACHE_DAMAGED };

/* Loads X from the cache file PATH if it holds KEY's index; else why not, in WHY. */
static enum cache_read cache_read(struct trace_index *x, const char *path, const struct cache_key *key,
				  char *why, size_t why_size)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(why, why_size, "%s", strerror(errno));
		return errno == ENOENT ? CACHE_NONE : CACHE_DAMAGED;
	}
	struct stat st;
	unsigned char *file = NULL;
	struct cache_header h, expected;
	cache_header_init(&expected, key);
	const char *bad = NULL;
	enum cache_read result = CACHE_DAMAGED;
	if (fstat(fd, &st) != 0)
		bad = strerror(errno);
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		bad = "not a regular file of yours, private to you";
	else if (st.st_size < (off_t)sizeof(h) || st.st_size > CACHE_MAX_BYTES)
		bad = "a bad size";
	else if (!(file = malloc((size_t)st.st_size)))
		bad = "out of memory";
	for (size_t done = 0; !bad && done < (size_t)st.st_size;) {
		ssize_t n = read(fd, file + done, (size_t)st.st_size - done);
		if (n < 0 && errno != EINTR)
			bad = strerror(errno);
		else if (n == 0)
			bad = "it ends too soon";
		else if (n > 0)
			done += (size_t)n;
	}
	close(fd);
	if (!bad) {
		memcpy(&h, file, sizeof(h));
		size_t fixed = offsetof(struct cache_header, key);
		if (memcmp(h.magic, CACHE_MAGIC, sizeof(h.magic)) != 0) {
			bad = "not an index cache";
		} else if (memcmp(&h, &expected, fixed) != 0) {
			bad = "written by another version of tracefs";
			result = CACHE_STALE;
		} else if (memcmp(&h.key, key, sizeof(*key)) != 0) {
			bad = "the trace has changed since";
			result = CACHE_STALE;
		} else if (h.content_len != (uint64_t)st.st_size - sizeof(h))
			bad = "a wrong length";
		else if (index_cache_checksum(file + sizeof(h), h.content_len) != h.checksum)
			bad = "a wrong checksum";
		}
	if (!bad) {
		bad = load_content(x, file, sizeof(h), (size_t)st.st_size - sizeof(h)); /* frees FILE if bad */
		if (!bad)
			return CACHE_LOADED;
		file = NULL;
	}
	free(file);
	snprintf(why, why_size, "%s", bad);
	return result;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Loads X's index kept for KEY, from beside the trace or the cache directory. Whether it did. */
static bool cache_load(struct trace_index *x, const struct cache_key *key, double start)
{
	char *paths[2] = {sidecar_path(x->trace), fallback_path(key, false)};
	bool loaded = false;
	for (int i = 0; i < 2 && !loaded; i++) {
		char why[256];
		if (!paths[i])
			continue;
		switch (cache_read(x, paths[i], key, why, sizeof(why))) {
		case CACHE_LOADED:
			loaded = true;
			if (i == 1) /* used now: the cache directory's cleaning evicts the least recently used */
				(void)utimensat(AT_FDCWD, paths[i], NULL, AT_SYMLINK_NOFOLLOW);
			fprintf(stderr, "tracefs serve: the index of %s was loaded from %s in %.2f s\n", x->trace,
				paths[i], now_seconds() - start);
			break;
		case CACHE_STALE:
			fprintf(stderr, "tracefs serve: the index kept in %s is out of date (%s)\n", paths[i], why);
			break;
		case CACHE_DAMAGED:
			fprintf(stderr, "tracefs serve: ignoring the index kept in %s: %s\n", paths[i], why);
			break;
		case CACHE_NONE:
			break;
		}
	}
	free(paths[0]);
	free(paths[1]);
	return loaded;
}

/* Builds X's index; with KEEP, loads it from its cache file instead, or keeps it there. */
static void index_run(struct trace_index *x)
{
	char err[512], why[256];
	struct cache_key key, after;
	int keep = -1;
	double start = now_seconds();
	if (x->keep) {
		struct trace_reader *reader = trace_reader_open(x->trace, err, sizeof(err));
		keep = reader ? trace_key(x->trace, reader, &key, why, sizeof(why)) : -1;
		trace_reader_close(reader);
		if (keep == 1)
			fprintf(stderr, "tracefs serve: the index of %s is not kept: %s\n", x->trace, why);
		if (keep == 0 && cache_load(x, &key, start))
			return;
	}
	bool phases = pthread_create(&x->phases_thread, NULL, phases_main, x) == 0;
	if (!phases)
		phases_main(x);
	build(x);
	if (phases)
		pthread_join(x->phases_thread, NULL);
	if (x->error[0] || atomic_load(&x->stop))
		return;
	double seconds = now_seconds() - start;
	const char *not_kept = "";
	if (keep == 0 && x->phases_error[0]) {
		not_kept = " (not kept: without its phases)";
	} else if (keep == 0) {
		struct trace_reader *reader = trace_reader_open(x->trace, err, sizeof(err));
		int same = reader ? trace_key(x->trace, reader, &after, why, sizeof(why)) : -1;
		trace_reader_close(reader);
		if (same == 0 && memcmp(&key, &after, sizeof(key)) == 0) {
			cache_save(x, &key, seconds);
			return;
		}
		not_kept = " (not kept: the trace changed while it was indexed)";
	}
	fprintf(stderr, "tracefs serve: the index of %s was built in %.1f s%s\n", x->trace, seconds,
		not_kept);
}

static void *index_main(void *arg)
{
	struct trace_index *x = arg;
	index_run(x);
	if (!x->error[0] && !atomic_load(&x->stop))
		totals_make(x);
	atomic_store(&x->done, true);
	x->ready(x->ctx);
	return NULL;
}

struct trace_index *index_start(const char *trace, bool keep, void (*ready)(void *ctx), void *ctx)
{
	struct trace_index *x = calloc(1, sizeof(*x));
	if (!x || !(x->trace = strdup(trace))) {
		free(x);
		return NULL;
	}
	x->keep = keep;
	x->ready = ready;
	x->ctx = ctx;
	if (pthread_create(&x->thread, NULL, index_main, x) != 0) {
		index_free(x);
		return NULL;
	}
	x->thread_running = true;
	return x;
}

void index_free(struct trace_index *x)
{
	if (!x)
		return;
	if (x->thread_running) {
		atomic_store(&x->stop, true);
		pthread_join(x->thread, NULL);
	}
	index_clear(x);
	free(x->trace);
	free(x);
}

bool index_loaded(const struct trace_index *x)
{
	return x->loaded != NULL;
}

void index_progress(const struct trace_index *x, int64_t *read, int64_t *total)
{
	/* read first: once it is past 0, the total stored before it is seen */
	*read = atomic_load_explicit(&x->events_read, memory_order_acquire);
	*total = atomic_load_explicit(&x->events_total, memory_order_relaxed);
}

const char *index_state(const struct trace_index *x)
{
	if (!atomic_load(&x->done))
		return "";
	return x->error[0] ? x->error : NULL;
}

void index_span(const struct trace_index *x, int64_t *first_ns, int64_t *last_ns, int64_t *count)
{
	*first_ns = x->first_ns;
	*last_ns = x->last_ns;
	*count = x->count;
}

const int64_t *index_buckets(const struct trace_index *x)
{
	return x->buckets;
}

const char *index_phases(const struct trace_index *x, const struct analyze_phase_span **phases,
			 size_t *count)
{
	*phases = x->phases;
	*count = x->phase_count;
	return x->phases_error[0] ? x->phases_error : NULL;
}

int index_restore(const struct trace_index *x, int64_t ts_ns, struct viz_scene *scene,
		  struct web_instance_counts *instances, int64_t *seq, double *t)
{
	/* The last checkpoint whose events all start before TS_NS (max_ts grows). */
	size_t lo = 0, hi = x->checkpoint_count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (x->checkpoints[mid].max_ts < ts_ns)
			lo = mid;
		else
			hi = mid;
	}
	const struct checkpoint *c = &x->checkpoints[lo];
	for (size_t at = 0; at < c->log_len;) {
		const struct log_entry *entry = (const struct log_entry *)(x->log + at);
		const char *strings = (const char *)(entry + 1);
		struct trace_event e = {.op = entry->op, .kind = entry->kind, .result = entry->result,
				      .path = strings,
				      .path2 = entry->path2_at ? strings + entry->path2_at : NULL,
				      .bytes = -1, .offset = -1, .process = entry->instance,
				      .pid = -1 /* no process: the checkpoint's are restored below */};
		struct viz_event ve;
		play_event(&ve, &e, c->t);
		if (viz_scene_apply(scene, &ve) != 0)
			return -1;
		at += entry->size;
	}
	/* The log's events were counted again: the checkpoint's counts replace them. */
	if (counters_restore(c->counters, scene) != 0)
		return -1;
	size_t from = lo; /* the last checkpoint with totals, or 0 */
	while (from > 0 && !x->checkpoints[from].totals)
		from--;
	for (size_t j = 0; j < x->checkpoints[from].total_count; j++) {
		const struct instance_total *total = &x->checkpoints[from].totals[j];
		if (instance_counts_add(instances, total->id, total->events, total->errors) != 0)
			return -1;
	}
	for (size_t i = from + 1; i <= lo; i++) {
		const struct checkpoint *at = &x->checkpoints[i];
		for (size_t j = 0; j < at->instance_count; j++) {
			const struct instance_delta *d = &at->instances[j];
			if (instance_counts_add(instances, d->id, d->events, d->errors) != 0)
				return -1;
		}
	}
	*seq = c->seq;
	*t = c->t;
	return 0;
}
