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
 * instance's counts (12 bytes an instance that had any): a seek sums those
 * of the checkpoints up to its own, at most one entry per event.
 */
#include "web/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECKPOINT_EVENTS 10000 /* a seek reads at most about this many events */
#define LOG_MAX_BYTES (512u << 20) /* beyond: no more checkpoints (seeks read further) */

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
};

/* The build's counts per instance since the last checkpoint. */
struct instance_since {
	struct web_instance_counts counts;
	uint32_t *touched; /* the ids with counts, in order of their first event */
	size_t touched_count, touched_cap;
};

struct trace_index {
	char *trace;
	void (*ready)(void *ctx);
	void *ctx;
	pthread_t thread, phases_thread;
	bool thread_running;
	atomic_bool done, stop;
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
		events++;
	}
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

static void *index_main(void *arg)
{
	struct trace_index *x = arg;
	bool phases = pthread_create(&x->phases_thread, NULL, phases_main, x) == 0;
	if (!phases)
		phases_main(x);
	build(x);
	if (phases)
		pthread_join(x->phases_thread, NULL);
	atomic_store(&x->done, true);
	x->ready(x->ctx);
	return NULL;
}

struct trace_index *index_start(const char *trace, void (*ready)(void *ctx), void *ctx)
{
	struct trace_index *x = calloc(1, sizeof(*x));
	if (!x || !(x->trace = strdup(trace))) {
		free(x);
		return NULL;
	}
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
	analyze_phases_free(x->phases, x->phase_count);
	free(x->log);
	for (size_t i = 0; i < x->checkpoint_count; i++) {
		counters_free(x->checkpoints[i].counters);
		free(x->checkpoints[i].instances);
	}
	free(x->checkpoints);
	free(x->trace);
	free(x);
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
	for (size_t i = 1; i <= lo; i++) {
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
