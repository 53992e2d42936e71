/*
 * writer.c — the writer thread (see writer.h).
 *
 * Batching: one transaction collects events and is committed when it holds
 * BATCH_ROWS events or is commit_interval old, so a crash loses at most the
 * uncommitted batch. Sequence numbers, interned ids and counters of a
 * transaction are only made final once COMMIT succeeds; a failed transaction
 * is undone as a whole (seq rewound, interned strings forgotten) and its
 * events counted as lost, so seq has no gaps and written + lost == submitted.
 *
 * Idle: once the queue is drained the writer sleeps 16 ms, instead of
 * waiting on a condvar or an eventfd. That keeps the producer's path free
 * of any syscall and any shared lock (a wake-up would need a "writer is
 * asleep" flag read on every submit and a futex call when set), costs at
 * most 63 wake-ups a second, and 16 ms of latency is nothing against a
 * 250 ms commit interval. It naps after a drain even when events came:
 * with the earlier 50 us nap, reset by every event, a trickle of events
 * (one per FUSE request) woke the writer for each one, and on a 2-CPU
 * virtual machine those context switches made every FUSE round trip 40%
 * slower (67 -> 45 us for a getxattr); at 1 ms the naps still took 8% of
 * the daemon's CPU time during `ls -lR`, and naps of 4 ms (doubling to 16
 * while nothing came) still about 10% in a profile of the bench's first
 * workload, a trickle of requests that reset them to 4 ms each time. Only
 * a full slice (a backlog) makes it go on at once. A 65536-slot queue
 * covers 16 ms of sleep at up to 4 million events a second.
 *
 * Losses: the events the queue refused (counted by submit) and those the
 * writer had to drop are recorded by a 'lost' marker row whose `bytes` is
 * the number lost since the previous marker, written just before each
 * commit, together with meta.events_lost (the sum of all markers).
 *
 * Disk full (any failing write, really): roll back, count the batch as lost,
 * release the disk reserve (reserve.h), commit a small transaction holding
 * just the marker and meta.events_lost (first, before a checkpoint can eat
 * the freed space), then checkpoint with TRUNCATE to give the WAL back to
 * the file system. Then stay "degraded" — drop and count events without
 * touching SQLite — and once a second record the losses, checkpoint, and try
 * to take the reserve back: when that works the file system has room again
 * and normal writing resumes. A second, smaller reserve is kept for the end
 * meta entries at close.
 */
#include "recorder/writer.h"

#include "recorder/recorder.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define BATCH_ROWS 20000	    /* commit when a transaction holds this many events */
#define SLICE_EVENTS 1024	    /* events handled between looks at the clock */
#define RETRY_NS 1000000000LL	    /* while degraded, retry this often */
#define IDLE_NS 16000000	    /* the nap once the queue is drained */
#define PROC_KEY_STACK_BYTES 128

static int64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	if (clock_gettime(clock, &ts) != 0)
		return 0; /* cannot happen with these clocks */
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t total_lost(struct writer *w)
{
	return atomic_load_explicit(w->submit_lost, memory_order_relaxed) +
	       atomic_load_explicit(&w->write_lost, memory_order_relaxed);
}

/* Only the writer thread stores these; others read them. */
static void add_write_lost(struct writer *w, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&w->write_lost, memory_order_relaxed);
	atomic_store_explicit(&w->write_lost, v + n, memory_order_relaxed);
}

static void add_written(struct writer *w, uint64_t n)
{
	uint64_t v = atomic_load_explicit(&w->written, memory_order_relaxed);
	atomic_store_explicit(&w->written, v + n, memory_order_relaxed);
}

static void note_error(struct writer *w, int rc)
{
	/* The connection's message, unless the error was ours (e.g. NOMEM). */
	const char *msg = sqlite3_errcode(w->db) == rc ? sqlite3_errmsg(w->db) : sqlite3_errstr(rc);
	snprintf(w->last_error, sizeof(w->last_error), "%s", msg);
}

/* Steps a statement that returns no rows and resets it. */
static int step_done(sqlite3_stmt *stmt)
{
	int rc = sqlite3_step(stmt);
	int reset_rc = sqlite3_reset(stmt);
	if (rc == SQLITE_DONE)
		return SQLITE_OK;
	return rc == SQLITE_OK || rc == SQLITE_ROW ? reset_rc : rc;
}

static int set_meta(struct writer *w, const char *key, const char *value)
{
	sqlite3_bind_text(w->set_meta, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_text(w->set_meta, 2, value, -1, SQLITE_TRANSIENT);
	return step_done(w->set_meta);
}

static int set_meta_int(struct writer *w, const char *key, int64_t value)
{
	char text[32];
	snprintf(text, sizeof(text), "%" PRId64, value);
	return set_meta(w, key, text);
}

/* ---- transactions ---- */

static int begin_txn(struct writer *w)
{
	if (w->in_txn)
		return SQLITE_OK;
	int rc = step_done(w->begin);
	if (rc != SQLITE_OK)
		return rc;
	w->in_txn = true;
	w->txn_first_seq = w->next_seq;
	w->txn_paths_mark = rec_intern_count(&w->paths);
	w->txn_procs_mark = rec_intern_count(&w->procs);
	w->txn_events = 0;
	w->txn_marked = 0;
	w->txn_started = clock_ns(CLOCK_MONOTONIC);
	return SQLITE_OK;
}

/* The open transaction's process rows and first_seqs are undone. */
static void forget_processes(struct writer *w)
{
	process_log_rewind(&w->processes);
	w->held_count = 0;
	w->processes_max = w->committed_processes_max;
	for (size_t i = 0; i < w->txn_seen_count; i++)
		w->process_seen[w->txn_seen[i]] = 0;
	w->txn_seen_count = 0;
}

/*
 * Undoes the open transaction, if any, and counts its events plus `extra`
 * (popped but not inserted) as lost.
 */
static void abandon_txn(struct writer *w, uint64_t extra)
{
	sqlite3_stmt *stmts[] = {w->insert_rows,    w->insert_row,	  w->insert_path,
				 w->insert_proc,    w->set_meta,	  w->begin,
				 w->commit,	    w->insert_process,	  w->process_exit,
				 w->process_first_seq};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++)
		sqlite3_reset(stmts[i]); /* returns the old error; nothing to do */
	/* SQLite may already have rolled back by itself (e.g. on SQLITE_FULL). */
	if (!sqlite3_get_autocommit(w->db) && step_done(w->rollback) != SQLITE_OK)
		note_error(w, sqlite3_errcode(w->db));
	if (w->in_txn) {
		extra += w->txn_events;
		w->next_seq = w->txn_first_seq;
		w->pending_count = 0;
		rec_intern_truncate(&w->paths, w->txn_paths_mark);
		rec_intern_truncate(&w->procs, w->txn_procs_mark);
		forget_processes(w);
		w->last_path_id = 0; /* it may be one of the ids forgotten */
		w->last_proc_id = 0;
		w->in_txn = false;
		w->txn_events = 0;
		w->txn_marked = 0;
	}
	add_write_lost(w, extra);
}

/* ---- rows ---- */

static int intern_path_lookup(struct writer *w, const char *path, size_t len, int64_t *id);

/* Remembers KEY as the last one interned with ID (if it fits). */
static void remember(char *cache, size_t *cache_len, int64_t *cache_id, const char *key,
		     size_t len, int64_t id)
{
	if (len > WRITER_CACHED_KEY_BYTES) {
		*cache_id = 0;
		return;
	}
	memcpy(cache, key, len);
	*cache_len = len;
	*cache_id = id;
}

static bool is_last(const char *cache, size_t cache_len, int64_t cache_id, const char *key,
		    size_t len)
{
	return cache_id && cache_len == len && memcmp(cache, key, len) == 0;
}

static int intern_path(struct writer *w, const char *path, size_t len, int64_t *id)
{
	if (is_last(w->last_path, w->last_path_len, w->last_path_id, path, len)) {
		*id = w->last_path_id;
		return SQLITE_OK;
	}
	int rc = intern_path_lookup(w, path, len, id);
	if (rc == SQLITE_OK)
		remember(w->last_path, &w->last_path_len, &w->last_path_id, path, len, *id);
	return rc;
}

static int intern_path_lookup(struct writer *w, const char *path, size_t len, int64_t *id)
{
	uint64_t hash = rec_intern_hash(path, len);
	int64_t found = rec_intern_find(&w->paths, path, len, hash);

	if (found) {
		*id = found;
		return SQLITE_OK;
	}
	int64_t new_id = rec_intern_add(&w->paths, path, len, hash);
	if (new_id < 0)
		return SQLITE_NOMEM;
	sqlite3_bind_int64(w->insert_path, 1, new_id);
	sqlite3_bind_text(w->insert_path, 2, path, (int)len, SQLITE_TRANSIENT);
	*id = new_id;
	return step_done(w->insert_path); /* on failure abandon_txn forgets new_id */
}

/* Packs (pid, uid, gid, process, comm) into key; returns its length. */
static size_t pack_proc_key(char *key, const struct queued_event *ev, const char *comm)
{
	size_t len = 0;

	memcpy(key + len, &ev->pid, sizeof(ev->pid));
	len += sizeof(ev->pid);
	memcpy(key + len, &ev->uid, sizeof(ev->uid));
	len += sizeof(ev->uid);
	memcpy(key + len, &ev->gid, sizeof(ev->gid));
	len += sizeof(ev->gid);
	memcpy(key + len, &ev->process, sizeof(ev->process));
	len += sizeof(ev->process);
	memcpy(key + len, &ev->comm_len, sizeof(ev->comm_len)); /* tells NULL from "" */
	len += sizeof(ev->comm_len);
	if (comm) {
		memcpy(key + len, comm, ev->comm_len);
		len += ev->comm_len;
	}
	return len;
}

static void bind_optional(sqlite3_stmt *stmt, int index, int64_t value, bool present);

static int add_proc(struct writer *w, const struct queued_event *ev, const char *comm,
		    const char *key, size_t len, uint64_t hash, int64_t *id)
{
	int64_t new_id = rec_intern_add(&w->procs, key, len, hash);

	if (new_id < 0)
		return SQLITE_NOMEM;
	sqlite3_bind_int64(w->insert_proc, 1, new_id);
	sqlite3_bind_int64(w->insert_proc, 2, ev->pid);
	if (comm)
		sqlite3_bind_text(w->insert_proc, 3, comm, (int)ev->comm_len, SQLITE_TRANSIENT);
	else
		sqlite3_bind_null(w->insert_proc, 3);
	sqlite3_bind_int64(w->insert_proc, 4, ev->uid);
	sqlite3_bind_int64(w->insert_proc, 5, ev->gid);
	bind_optional(w->insert_proc, 6, ev->process, ev->process > 0);
	*id = new_id;
	return step_done(w->insert_proc);
}

static int intern_proc(struct writer *w, const struct queued_event *ev, int64_t *id)
{
	const char *comm = rec_queued_comm(ev);
	size_t max_len = 24 + (comm ? ev->comm_len : 0);
	char stack_key[PROC_KEY_STACK_BYTES];
	char *key = max_len <= sizeof(stack_key) ? stack_key : malloc(max_len);

	if (!key)
		return SQLITE_NOMEM;
	size_t len = pack_proc_key(key, ev, comm);
	int rc = SQLITE_OK;
	if (is_last(w->last_proc, w->last_proc_len, w->last_proc_id, key, len)) {
		*id = w->last_proc_id;
	} else {
		uint64_t hash = rec_intern_hash(key, len);
		*id = rec_intern_find(&w->procs, key, len, hash);
		if (!*id)
			rc = add_proc(w, ev, comm, key, len, hash, id);
		if (rc == SQLITE_OK)
			remember(w->last_proc, &w->last_proc_len, &w->last_proc_id, key, len, *id);
	}
	if (key != stack_key)
		free(key);
	return rc;
}

static void bind_optional(sqlite3_stmt *stmt, int index, int64_t value, bool present)
{
	if (present)
		sqlite3_bind_int64(stmt, index, value);
	else
		sqlite3_bind_null(stmt, index);
}

/*
 * seq is bound as NULL: SQLite then numbers the row max(seq) + 1, which is
 * row->seq, and appends it without the search an explicit key costs (about
 * 13% of the writer's time). flush_rows() checks that the numbers agree.
 */
static void bind_row(sqlite3_stmt *s, int base, const struct row *row)
{
	sqlite3_bind_null(s, base + 1);
	sqlite3_bind_int64(s, base + 2, row->ts);
	sqlite3_bind_int64(s, base + 3, row->dur);
	sqlite3_bind_int(s, base + 4, row->op);
	sqlite3_bind_int(s, base + 5, row->kind);
	bind_optional(s, base + 6, row->path, row->path != 0);
	bind_optional(s, base + 7, row->path2, row->path2 != 0);
	bind_optional(s, base + 8, row->proc, row->proc != 0);
	sqlite3_bind_int(s, base + 9, row->result);
	bind_optional(s, base + 10, row->bytes, row->bytes >= 0);
	bind_optional(s, base + 11, row->offset, row->offset >= 0);
	sqlite3_bind_int64(s, base + 12, row->flags);
	sqlite3_bind_int64(s, base + 13, row->mode);
}

/* Inserts the pending rows: all at once if there is a full set. */
static int flush_rows(struct writer *w)
{
	int rc = SQLITE_OK;

	if (w->pending_count == WRITER_ROWS_PER_INSERT) {
		for (size_t i = 0; i < w->pending_count; i++)
			bind_row(w->insert_rows, (int)i * TRACE_SCHEMA_EVENT_COLUMNS, &w->pending[i]);
		rc = step_done(w->insert_rows);
	} else {
		for (size_t i = 0; i < w->pending_count && rc == SQLITE_OK; i++) {
			bind_row(w->insert_row, 0, &w->pending[i]);
			rc = step_done(w->insert_row);
		}
	}
	if (rc == SQLITE_OK && w->pending_count &&
	    sqlite3_last_insert_rowid(w->db) != w->pending[w->pending_count - 1].seq)
		rc = SQLITE_CORRUPT; /* someone else wrote to the events table */
	w->pending_count = 0; /* on failure the transaction is abandoned anyway */
	return rc;
}

/* Numbers a row and queues it for insertion; part of the open transaction. */
static int add_row(struct writer *w, struct row *row)
{
	row->seq = w->next_seq++;
	w->pending[w->pending_count++] = *row;
	if (w->pending_count == WRITER_ROWS_PER_INSERT)
		return flush_rows(w);
	return SQLITE_OK;
}

/* ---- process lineage ---- */

static int insert_process(struct writer *w, const struct held_process *held)
{
	const struct process_log_item *item = held->item;
	const struct recorder_process *p = &item->process;
	static const char *const states[] = {"read", "gone", "root"};
	sqlite3_stmt *s = w->insert_process;

	sqlite3_bind_int64(s, 1, item->id);
	sqlite3_bind_int64(s, 2, p->pid);
	bind_optional(s, 3, p->ppid, p->ppid >= 0);
	bind_optional(s, 4, p->parent_id, p->parent_id > 0);
	/* A chain's root is its own root. */
	sqlite3_bind_int64(s, 5, p->root_id > 0 ? p->root_id : item->id);
	const char *texts[] = {p->exe, p->argv, p->cwd};
	for (int i = 0; i < 3; i++) {
		if (texts[i])
			sqlite3_bind_text(s, 6 + i, texts[i], -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(s, 6 + i);
	}
	bind_optional(s, 9, p->start_ns, p->start_ns >= 0);
	sqlite3_bind_text(s, 10, states[p->state < 3 ? p->state : RECORDER_PROCESS_GONE], -1,
			  SQLITE_STATIC);
	bind_optional(s, 11, held->exit_ns, held->exit_ns >= 0);
	bind_optional(s, 12, held->first_seq, held->first_seq > 0);
	return step_done(s);
}

/* The held row of process ID, or NULL if its row is committed already. */
static struct held_process *held_of(struct writer *w, int64_t id)
{
	if (!w->held_count || id < w->held[0].item->id)
		return NULL;
	size_t at = (size_t)(id - w->held[0].item->id);
	/* The log numbers rows in order: the held ones are consecutive. */
	return at < w->held_count && w->held[at].item->id == id ? &w->held[at] : NULL;
}

/*
 * Takes the process rows and exits waiting: a row is held for the commit,
 * an exit goes into its held row or, if that is committed, is written.
 * Part of the open transaction.
 */
static int take_processes(struct writer *w)
{
	const struct process_log_item *item;
	int rc = SQLITE_OK;

	atomic_store_explicit(&w->processes.pending, false, memory_order_relaxed);
	while (rc == SQLITE_OK && (item = process_log_next(&w->processes))) {
		if (item->is_exit) {
			struct held_process *held = held_of(w, item->id);
			if (held) {
				held->exit_ns = item->exit_ns;
				continue;
			}
			sqlite3_bind_int64(w->process_exit, 1, item->id);
			sqlite3_bind_int64(w->process_exit, 2, item->exit_ns);
			rc = step_done(w->process_exit);
			continue;
		}
		if (w->held_count == w->held_cap) {
			size_t cap = w->held_cap ? 2 * w->held_cap : 64;
			struct held_process *held = realloc(w->held, cap * sizeof(*held));
			if (!held)
				return SQLITE_NOMEM;
			w->held = held;
			w->held_cap = cap;
		}
		w->held[w->held_count++] = (struct held_process){.item = item, .exit_ns = -1};
		w->processes_max = item->id;
	}
	return rc;
}

/* Inserts the held rows, just before the commit. */
static int insert_held(struct writer *w)
{
	int rc = SQLITE_OK;
	for (size_t i = 0; i < w->held_count && rc == SQLITE_OK; i++)
		rc = insert_process(w, &w->held[i]);
	return rc;
}

/* Gives process ID its first_seq if this is its first event. */
static int note_first_seq(struct writer *w, int64_t id, int64_t seq)
{
	if ((size_t)id >= w->process_seen_size) {
		size_t size = w->process_seen_size ? w->process_seen_size : 1024;
		while (size <= (size_t)id)
			size *= 2;
		unsigned char *seen = realloc(w->process_seen, size);
		if (!seen)
			return SQLITE_NOMEM;
		memset(seen + w->process_seen_size, 0, size - w->process_seen_size);
		w->process_seen = seen;
		w->process_seen_size = size;
	}
	if (w->process_seen[id])
		return SQLITE_OK;
	if (w->txn_seen_count == w->txn_seen_cap) {
		size_t cap = w->txn_seen_cap ? 2 * w->txn_seen_cap : 64;
		int64_t *ids = realloc(w->txn_seen, cap * sizeof(*ids));
		if (!ids)
			return SQLITE_NOMEM;
		w->txn_seen = ids;
		w->txn_seen_cap = cap;
	}
	struct held_process *held = held_of(w, id);
	int rc = SQLITE_OK;
	if (held) {
		held->first_seq = seq;
	} else {
		/* An ancestor committed before its own first event. */
		sqlite3_bind_int64(w->process_first_seq, 1, id);
		sqlite3_bind_int64(w->process_first_seq, 2, seq);
		rc = step_done(w->process_first_seq);
	}
	if (rc == SQLITE_OK) {
		w->process_seen[id] = 1;
		w->txn_seen[w->txn_seen_count++] = id;
	}
	return rc;
}

static int insert_event(struct writer *w, struct queued_event *ev)
{
	struct row row = {
		/* Unsigned: a wild timestamp must not be undefined behaviour. */
		.ts = (int64_t)((uint64_t)ev->ts_ns - (uint64_t)w->start_ns),
		.dur = ev->dur_ns,
		.bytes = ev->bytes,
		.offset = ev->offset,
		.result = ev->result,
		.flags = ev->flags,
		.mode = ev->mode,
		.op = ev->op,
		.kind = ev->kind,
	};
	const char *path = rec_queued_path(ev);
	const char *path2 = rec_queued_path2(ev);

	int rc = begin_txn(w);
	if (rc == SQLITE_OK && path)
		rc = intern_path(w, path, ev->path_len, &row.path);
	if (rc == SQLITE_OK && path2)
		rc = intern_path(w, path2, ev->path2_len, &row.path2);
	if (rc == SQLITE_OK && ev->process > w->processes_max)
		rc = take_processes(w); /* its row came before it */
	if (rc == SQLITE_OK && ev->process > w->processes_max)
		ev->process = 0; /* cannot happen: never name a missing row */
	if (rc == SQLITE_OK)
		rc = intern_proc(w, ev, &row.proc);
	if (rc == SQLITE_OK)
		rc = add_row(w, &row);
	if (rc == SQLITE_OK && ev->process > 0)
		rc = note_first_seq(w, ev->process, row.seq);
	if (rc == SQLITE_OK)
		w->txn_events++;
	return rc;
}

/* Records `count` lost events: a marker row and meta.events_lost. */
static int insert_loss_marker(struct writer *w, uint64_t count)
{
	struct row row = {
		.ts = clock_ns(CLOCK_REALTIME) - w->start_ns,
		.bytes = (int64_t)count,
		.offset = -1,
		.op = TRACE_OP_LOST,
		.kind = TRACE_KIND_NONE,
	};
	int rc = intern_path(w, "/", 1, &row.path);

	if (rc == SQLITE_OK)
		rc = add_row(w, &row);
	if (rc == SQLITE_OK)
		rc = set_meta_int(w, "events_lost",
				  (int64_t)(w->marked_lost + w->txn_marked + count));
	if (rc == SQLITE_OK)
		w->txn_marked += count;
	return rc;
}

/*
 * Writes the loss marker if needed, the waiting process rows and exits if
 * WITH_PROCESSES, and commits; the caller handles failure. The small
 * transactions that record losses and end the trace leave processes out:
 * on a full disk they must fit where process rows would not.
 */
static int commit_txn(struct writer *w, bool with_processes)
{
	uint64_t pending = total_lost(w) - w->marked_lost - w->txn_marked;
	int rc = SQLITE_OK;

	if (pending)
		rc = insert_loss_marker(w, pending);
	if (rc == SQLITE_OK && with_processes)
		rc = take_processes(w); /* ancestors and exits, events or not */
	if (rc == SQLITE_OK)
		rc = insert_held(w);
	if (rc == SQLITE_OK)
		rc = flush_rows(w);
	if (rc == SQLITE_OK)
		rc = step_done(w->commit);
	if (rc != SQLITE_OK)
		return rc;
	w->held_count = 0; /* before the log frees the items */
	process_log_commit(&w->processes);
	w->committed_processes_max = w->processes_max;
	w->txn_seen_count = 0;
	add_written(w, w->txn_events);
	w->marked_lost += w->txn_marked;
	w->in_txn = false;
	w->txn_events = 0;
	w->txn_marked = 0;
	/* Only now: a rolled-back seq is never shown, as the trace reuses it. */
	if (w->tap.committed)
		w->tap.committed(w->tap.ctx, w->next_seq - 1);
	return SQLITE_OK;
}

/* ---- disk trouble ---- */

static int checkpoint(struct writer *w)
{
	return sqlite3_wal_checkpoint_v2(w->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
}

/*
 * Commits the open transaction, where RC says all went into it, else notes
 * RC and undoes it: for the writes the loop does not retry (marker, end).
 */
static int finish_txn(struct writer *w, int rc)
{
	if (rc == SQLITE_OK)
		rc = commit_txn(w, false);
	if (rc != SQLITE_OK) {
		note_error(w, rc);
		abandon_txn(w, 0);
	}
	return rc;
}

/* A transaction with nothing but the loss marker, if one is due. */
static int record_losses(struct writer *w)
{
	if (w->in_txn || total_lost(w) == w->marked_lost)
		return SQLITE_OK;
	return finish_txn(w, begin_txn(w));
}

/* A write failed: `extra` events were popped but not inserted. */
static void handle_failure(struct writer *w, int rc, uint64_t extra)
{
	note_error(w, rc);
	abandon_txn(w, extra);
	w->degraded = true;
	rec_reserve_release(&w->reserve);
	/* The marker first: a checkpoint that fails can use up the freed space. */
	int recorded = record_losses(w);
	checkpoint(w); /* may fail too; it is only a try */
	if (recorded != SQLITE_OK)
		record_losses(w); /* the checkpoint may have shrunk the WAL */
	w->last_retry = clock_ns(CLOCK_MONOTONIC);
}

/* While degraded: once a second, record the losses and look for room. */
static void retry_after_failure(struct writer *w, int64_t now)
{
	if (now - w->last_retry < RETRY_NS)
		return;
	w->last_retry = now;
	record_losses(w);
	checkpoint(w);
	/* Without a usable reserve there is no probe: just try again. */
	if (!w->reserve_usable || rec_reserve_acquire(&w->reserve))
		w->degraded = false;
}

/* ---- the loop ---- */

/* Inserts up to max queued events; returns how many were taken. */
static size_t drain_slice(struct writer *w, size_t max)
{
	struct queued_event ev;
	size_t n = 0;

	while (n < max && rec_queue_pop(w->queue, &ev)) {
		n++;
		int rc = insert_event(w, &ev);
		free(ev.heap);
		if (rc != SQLITE_OK) {
			handle_failure(w, rc, 1);
			break;
		}
		if (w->txn_events >= BATCH_ROWS) {
			rc = commit_txn(w, true);
			if (rc != SQLITE_OK) {
				handle_failure(w, rc, 0);
				break;
			}
		}
	}
	return n;
}

/* Degraded: counts queued events as lost without writing them. */
static size_t discard_slice(struct writer *w, size_t max)
{
	struct queued_event ev;
	size_t n = 0;

	while (n < max && rec_queue_pop(w->queue, &ev)) {
		free(ev.heap);
		n++;
	}
	add_write_lost(w, n);
	return n;
}

static void maybe_commit(struct writer *w, int64_t now, bool force)
{
	int rc = SQLITE_OK;

	if (!w->in_txn && (total_lost(w) != w->marked_lost ||
			   atomic_load_explicit(&w->processes.pending, memory_order_acquire)))
		rc = begin_txn(w); /* a marker or a process is due even without events */
	if (rc == SQLITE_OK && w->in_txn &&
	    (force || now - w->txn_started >= w->commit_interval_ns))
		rc = commit_txn(w, true);
	if (rc != SQLITE_OK)
		handle_failure(w, rc, 0);
}

static void idle_sleep(void)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = IDLE_NS};
	/* EINTR just ends the nap early; there is no other failure here. */
	(void)nanosleep(&ts, NULL);
}

static void *writer_main(void *arg)
{
	struct writer *w = arg;

	for (;;) {
		/* Read before draining: after stop, one full drain still follows. */
		bool stopping = atomic_load_explicit(&w->stop, memory_order_acquire);
		size_t n = w->degraded ? discard_slice(w, SLICE_EVENTS)
				       : drain_slice(w, SLICE_EVENTS);
		int64_t now = clock_ns(CLOCK_MONOTONIC);

		if (w->degraded)
			retry_after_failure(w, now);
		else
			maybe_commit(w, now, stopping && n == 0);
		if (n == SLICE_EVENTS || (stopping && n > 0))
			continue; /* a backlog: keep going */
		if (stopping)
			break;
		/* Drained: nap even when events came, so that a trickle of
		 * events does not wake the writer for each one. */
		idle_sleep();
	}
	return NULL;
}

/* ---- life cycle ---- */

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **stmt)
{
	return sqlite3_prepare_v3(db, sql, -1, SQLITE_PREPARE_PERSISTENT, stmt, NULL);
}

static int prepare_statements(struct writer *w)
{
	char *many = trace_schema_insert_events_sql(WRITER_ROWS_PER_INSERT);
	char *one = trace_schema_insert_events_sql(1);
	int rc = many && one ? SQLITE_OK : SQLITE_NOMEM;

	if (rc == SQLITE_OK)
		rc = prepare(w->db, many, &w->insert_rows);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, one, &w->insert_row);
	sqlite3_free(many);
	sqlite3_free(one);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_INSERT_PATH, &w->insert_path);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_INSERT_PROC, &w->insert_proc);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_INSERT_PROCESS, &w->insert_process);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_PROCESS_EXIT, &w->process_exit);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_PROCESS_FIRST_SEQ, &w->process_first_seq);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, TRACE_SCHEMA_SET_META, &w->set_meta);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, "BEGIN", &w->begin);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, "COMMIT", &w->commit);
	if (rc == SQLITE_OK)
		rc = prepare(w->db, "ROLLBACK", &w->rollback);
	return rc;
}

int rec_writer_init(struct writer *w, sqlite3 *db, const char *db_path, struct queue *queue,
		    _Atomic uint64_t *submit_lost, int64_t start_ns, int commit_interval_ms,
		    const struct recorder_tap *tap)
{
	memset(w, 0, sizeof(*w));
	if (tap)
		w->tap = *tap;
	w->initialized = true;
	w->db = db;
	w->queue = queue;
	w->submit_lost = submit_lost;
	w->start_ns = start_ns;
	w->commit_interval_ns = (int64_t)(commit_interval_ms > 0 ? commit_interval_ms : 250) *
				1000000;
	w->next_seq = 1;
	w->reserve.fd = -1;
	w->final_reserve.fd = -1;
	atomic_init(&w->stop, false);
	atomic_init(&w->written, 0);
	atomic_init(&w->write_lost, 0);
	if (process_log_init(&w->processes) != 0)
		return SQLITE_NOMEM;
	w->processes_initialized = true;

	int rc = prepare_statements(w);
	if (rc != SQLITE_OK)
		return rc;
	if (rec_intern_init(&w->paths) != 0 || rec_intern_init(&w->procs) != 0)
		return SQLITE_NOMEM;
	if (rec_reserve_init(&w->reserve, db_path, RESERVE_BYTES) != 0 ||
	    rec_reserve_init(&w->final_reserve, db_path, FINAL_RESERVE_BYTES) != 0)
		return SQLITE_NOMEM;
	/* No reserve (tiny or odd file system) only weakens disk-full recovery. */
	w->reserve_usable = rec_reserve_acquire(&w->reserve);
	rec_reserve_acquire(&w->final_reserve);
	return SQLITE_OK;
}

int rec_writer_start(struct writer *w)
{
	int err = pthread_create(&w->thread, NULL, writer_main, w);
	if (err == 0)
		w->thread_running = true;
	return err;
}

/* The last transaction: pending loss marker and the end entries of meta. */
static int write_end(struct writer *w)
{
	int64_t end_ns = clock_ns(CLOCK_REALTIME);
	char end_time[64];

	trace_schema_iso_time(end_ns, end_time, sizeof(end_time));
	int rc = begin_txn(w);
	if (rc == SQLITE_OK)
		rc = set_meta(w, "end_time", end_time);
	if (rc == SQLITE_OK)
		rc = set_meta_int(w, "end_ns", end_ns);
	if (rc == SQLITE_OK)
		rc = set_meta_int(w, "events_written", (int64_t)rec_writer_written(w));
	if (rc == SQLITE_OK)
		rc = set_meta_int(w, "events_lost", (int64_t)total_lost(w));
	return finish_txn(w, rc);
}

static void finalize_all(struct writer *w)
{
	sqlite3_stmt **stmts[] = {&w->insert_rows,    &w->insert_row,	  &w->insert_path,
				  &w->insert_proc,    &w->set_meta,	  &w->begin,
				  &w->commit,	      &w->rollback,	  &w->insert_process,
				  &w->process_exit,   &w->process_first_seq};

	for (size_t i = 0; i < sizeof(stmts) / sizeof(stmts[0]); i++) {
		sqlite3_finalize(*stmts[i]); /* reports the last step's error, not its own */
		*stmts[i] = NULL;
	}
}

int rec_writer_stop(struct writer *w, char *err, size_t err_size)
{
	int result = 0;

	if (w->thread_running) {
		atomic_store_explicit(&w->stop, true, memory_order_release);
		int join_err = pthread_join(w->thread, NULL);
		if (join_err != 0) {
			snprintf(err, err_size, "cannot stop the trace writer: %s",
				 strerror(join_err));
			return -1; /* the thread may still use the database: leak it */
		}
		w->thread_running = false;
	}
	if (!w->db)
		return 0;
	/* The thread has committed everything it took; a failed batch is counted. */
	if (w->in_txn && commit_txn(w, true) != SQLITE_OK)
		abandon_txn(w, 0);
	/* The exits seen last, on their own: on a full disk only they are lost. */
	if (!w->degraded && atomic_load_explicit(&w->processes.pending, memory_order_acquire) &&
	    (begin_txn(w) != SQLITE_OK || commit_txn(w, true) != SQLITE_OK))
		abandon_txn(w, 0);
	/* The tap's own reader must let go before the last checkpoint. */
	if (w->tap.closing)
		w->tap.closing(w->tap.ctx);
	/* On a full disk: free the reserves, then the WAL, between tries. */
	bool ended = write_end(w) == SQLITE_OK;
	if (!ended) {
		rec_reserve_release(&w->reserve);
		rec_reserve_release(&w->final_reserve);
		ended = write_end(w) == SQLITE_OK;
	}
	if (!ended) {
		checkpoint(w);
		ended = write_end(w) == SQLITE_OK;
	}
	if (!ended) {
		snprintf(err, err_size, "cannot finish the trace file: %s (%" PRIu64 " events lost)",
			 w->last_error, total_lost(w));
		result = -1;
	}
	rec_reserve_release(&w->reserve);
	rec_reserve_release(&w->final_reserve);
	checkpoint(w); /* so that the .db file alone is the whole trace */
	finalize_all(w);
	int rc = sqlite3_close(w->db);
	w->db = NULL;
	if (rc != SQLITE_OK && result == 0) {
		snprintf(err, err_size, "cannot close the trace file: %s", sqlite3_errstr(rc));
		result = -1;
	}
	return result;
}

void rec_writer_destroy(struct writer *w)
{
	if (!w->initialized)
		return;
	if (w->thread_running)
		return; /* rec_writer_stop failed to join: freeing would be unsafe */
	if (w->db) {
		finalize_all(w);
		sqlite3_close(w->db); /* failure path: the caller deletes the file */
		w->db = NULL;
	}
	rec_intern_destroy(&w->paths);
	rec_intern_destroy(&w->procs);
	if (w->processes_initialized)
		process_log_destroy(&w->processes);
	free(w->process_seen);
	free(w->txn_seen);
	free(w->held);
	rec_reserve_destroy(&w->reserve);
	rec_reserve_destroy(&w->final_reserve);
}

uint64_t rec_writer_written(struct writer *w)
{
	return atomic_load_explicit(&w->written, memory_order_relaxed);
}

uint64_t rec_writer_lost(struct writer *w)
{
	return atomic_load_explicit(&w->write_lost, memory_order_relaxed);
}
