/*
 * analysis.c — the workload analysis behind `tracefs report` (analyze.h).
 *
 * The events table is read once, in C (scan_events), so that a trace of
 * tens of millions of events reports in seconds: every value is checked on
 * the way, the totals per operation and errno are counted, the durations
 * kept per operation (4 bytes each) for exact percentiles (nearest rank,
 * by selection), and three small aggregates go into TEMP tables: per path
 * (per_path), per time slot, process and "on autoconf's files"
 * (slot_proc), and the failures per path, errno and process (fail_proc).
 * The hot lists, findings, processes and phases are SQL and C over those.
 */
#include "analyze/analyze.h"
#include "trace/trace.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/deps.h"

/* ---- phases: see find_phases() for the rule ---- */

#define SPARSE_PERCENT 1    /* see sparse() */
#define TEMPORARY_NS 1000000000LL /* see make_tables() */
#define TEMPORARY_PERCENT 1
#define IDLE_GAP_SLOTS 2    /* and at least IDLE_GAP_MIN_NS */
#define IDLE_GAP_MIN_NS 1000000000LL
#define CONF_PERCENT 10	    /* of a run's events on autoconf's files: configure */
#define CLEAN_PERCENT 5	    /* of a run's events remove files ... */
#define CLEAN_MIN_REMOVED 10 /* ... at least this many: clean */
#define MINOR_PERCENT 5	    /* see minor() */
#define TINY_PERMILLE 5

/*
 * What the trace's processes are called: the command, "kernel" for the
 * kernel's own requests (pid 0, trace_process_name), NULL if unknown.
 */
#define PROCESS_NAME(procs)                                                                        \
	"coalesce(" procs ".comm, CASE WHEN " procs ".pid = 0 THEN :kernel END)"

/* What the analysis works with. */
struct ctx {
	struct trace_reader *reader;
	sqlite3 *db;
	struct analyze_result *a;
	int top;
	char *err;
	size_t err_size;
	int64_t t0;	 /* events.ts of the first event (relative to start_ns) */
	int64_t t_last;	 /* events.ts of the last event to start */
	int64_t slot_ns; /* width of a phase slot */
	bool span_guessed; /* t0 and t_last are a guess (see GUESS_EVENTS) */
};

/* ---- errors and SQL helpers ---- */

static int sql_failed(struct ctx *c, int rc, const char *doing)
{
	trace_reader_sql_error(c->reader, rc, doing, c->err, c->err_size);
	return -1;
}

__attribute__((format(printf, 2, 3))) static int corrupt(struct ctx *c, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->err_size, "trace %s is corrupt: %s", trace_reader_file(c->reader), what);
	return -1;
}

static int out_of_memory(struct ctx *c)
{
	snprintf(c->err, c->err_size, "out of memory");
	return -1;
}

/*
 * Binds the parameters a statement names: :t0, :slot_ns, :top, :tiny,
 * :enodata (-ENODATA), :eopnotsupp, :kernel (the kernel's name), the operations by name (:read, :mkdir, ...) to the
 * trace's ids for them, and kinds as :kind_file, :kind_dir, ... (-1,
 * matching nothing, when the trace has no id for them).
 */
static void bind_names(struct ctx *c, sqlite3_stmt *s)
{
	for (int i = 1; i <= sqlite3_bind_parameter_count(s); i++) {
		const char *name = sqlite3_bind_parameter_name(s, i);
		if (!name || name[0] != ':')
			continue; /* ?1 and such: the caller binds them */
		name++;
		int64_t value = -1;
		if (strcmp(name, "t0") == 0)
			value = c->t0;
		else if (strcmp(name, "slot_ns") == 0)
			value = c->slot_ns;
		else if (strcmp(name, "top") == 0)
			value = c->top;
		else if (strcmp(name, "tiny") == 0)
			value = ANALYZE_FINDING_TINY_BYTES;
		else if (strcmp(name, "enodata") == 0)
			value = -ENODATA;
		else if (strcmp(name, "eopnotsupp") == 0)
			value = -EOPNOTSUPP;
		else if (strcmp(name, "kernel") == 0) {
			sqlite3_bind_text(s, i, trace_process_name(NULL, 0), -1, SQLITE_STATIC);
			continue;
		}
		else if (strncmp(name, "kind_", 5) == 0) {
			for (int k = 0; k < TRACE_KIND_COUNT; k++)
				if (trace_kind_name(k) && strcmp(name + 5, trace_kind_name(k)) == 0)
					value = trace_reader_id_of_kind(c->reader, k);
		} else {
			for (int op = 0; op < TRACE_OP_COUNT; op++)
				if (strcmp(name, trace_op_name(op)) == 0)
					value = trace_reader_id_of_op(c->reader, op);
		}
		sqlite3_bind_int64(s, i, value);
	}
}

static sqlite3_stmt *prepare(struct ctx *c, const char *sql, const char *doing)
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(c->db, sql, -1, &s, NULL);

	if (rc != SQLITE_OK) {
		sql_failed(c, rc, doing);
		return NULL;
	}
	bind_names(c, s);
	return s;
}

/* Runs a statement that returns no rows (e.g. CREATE TEMP TABLE ... AS). */
static int run(struct ctx *c, const char *sql, const char *doing)
{
	sqlite3_stmt *s = prepare(c, sql, doing);
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	sqlite3_finalize(s);
	return rc == SQLITE_DONE ? 0 : sql_failed(c, rc, doing);
}

typedef int (*row_fn)(struct ctx *c, sqlite3_stmt *s, void *arg);

/* Calls fn for every row of sql; stops at the first failure. */
static int each_row(struct ctx *c, const char *sql, const char *doing, row_fn fn, void *arg)
{
	sqlite3_stmt *s = prepare(c, sql, doing);
	if (!s)
		return -1;
	int rc, result = 0;
	while (result == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		result = fn(c, s, arg);
	sqlite3_finalize(s);
	if (result != 0)
		return result;
	return rc == SQLITE_DONE ? 0 : sql_failed(c, rc, doing);
}

static int64_t col_int(sqlite3_stmt *s, int col)
{
	return sqlite3_column_int64(s, col);
}

/*
 * A copy of a text column into *out (NULL for NULL). A string the trace
 * refers to must exist: with `required`, NULL is corruption.
 */
static int col_text(struct ctx *c, sqlite3_stmt *s, int col, bool required, char **out)
{
	*out = NULL;
	if (sqlite3_column_type(s, col) == SQLITE_NULL)
		return required ? corrupt(c, "an event refers to a path that is not there") : 0;
	const char *text = (const char *)sqlite3_column_text(s, col);
	int len = sqlite3_column_bytes(s, col);
	if (!text)
		return out_of_memory(c);
	if (memchr(text, '\0', (size_t)len))
		return corrupt(c, "a path or command holds a NUL byte");
	*out = strdup(text);
	return *out ? 0 : out_of_memory(c);
}

/* Grows *items (of *count, room for *cap) by one zeroed element. */
static void *grow(void *items, size_t *count, size_t *cap, size_t size)
{
	if (*count == *cap) {
		size_t new_cap = *cap ? *cap * 2 : 16;
		void *bigger = realloc(items, new_cap * size);
		if (!bigger)
			return NULL;
		items = bigger;
		*cap = new_cap;
	}
	memset((char *)items + *count * size, 0, size);
	(*count)++;
	return items;
}

/* ---- meta ---- */

static void read_meta(struct ctx *c)
{
	struct analyze_result *a = c->a;
	char *lost = trace_reader_meta(c->reader, "events_lost");

	a->source = trace_reader_meta(c->reader, "source");
	a->mountpoint = trace_reader_meta(c->reader, "mountpoint");
	a->host = trace_reader_meta(c->reader, "host");
	a->start_time = trace_reader_meta(c->reader, "start_time");
	a->cache_mode = trace_reader_meta(c->reader, "cache_mode");
	a->command_line = trace_reader_meta(c->reader, "command_line");
	long long n = lost ? strtoll(lost, NULL, 10) : 0; /* saturates at LLONG_MAX */
	a->events_lost = n > 0 ? n : 0;
	free(lost);
}

/* ---- the scan: every event once ---- */

/*
 * An attribute probe that found nothing: getxattr or listxattr answered
 * ENODATA or EOPNOTSUPP. The kernel asks for security.capability before
 * every write, and ls, cp -a and tar ask for ACLs and SELinux labels; none
 * of that failed for the program, so these are counted apart, not as errors.
 */
bool analyze_attr_probe(enum trace_op op, int64_t err)
{
	return (op == TRACE_OP_GETXATTR || op == TRACE_OP_LISTXATTR) &&
	       (err == -ENODATA || err == -EOPNOTSUPP);
}

enum { NO_PATH = 1, NO_PROC = 2, NO_BYTES = 4, BAD = 8 };
#define SCAN_BATCH 64
#define SLOT_CACHE 64 /* a power of two */

/* One event as read; flags say which values are NULL, and if one is not sound. */
struct raw {
	int64_t seq, ts, dur, op, kind, path, proc, result, bytes;
	int flags;
	const char *bad; /* what is wrong with it, if BAD */
};

/*
 * Reads a row into e. Path, proc and bytes may be NULL; a bad event is one
 * the reader refuses (trace_reader_check_values: the one check of every reader).
 */
static void read_raw(struct trace_reader *reader, sqlite3_stmt *s, struct raw *e)
{
	static const int columns[9] = {0, 1, 2, 3, 4, 5, 7, 8, 9}; /* of TRACE_READER_EVENT_COLUMNS */
	int types[TRACE_READER_EVENT_COLUMN_COUNT];
	int64_t values[TRACE_READER_EVENT_COLUMN_COUNT], *v = &e->seq;

	for (int col = 0; col < TRACE_READER_EVENT_COLUMN_COUNT; col++) {
		sqlite3_value *value = sqlite3_column_value(s, col); /* one lock, not two */
		types[col] = sqlite3_value_type(value);
		values[col] = sqlite3_value_int64(value);
	}
	e->bad = trace_reader_check_values(reader, types, values);
	e->flags = e->bad ? BAD : 0;
	for (int i = 0; i < 9; i++) {
		v[i] = values[columns[i]];
		if (types[columns[i]] == SQLITE_NULL && i >= 5 && i != 7)
			e->flags |= i == 5 ? NO_PATH : i == 6 ? NO_PROC : NO_BYTES;
	}
}

/*
 * Open addressing over keys of three integers: each new key gets the next
 * index, which indexes the caller's array of values.
 */
struct map {
	int64_t (*keys)[3];
	uint32_t *table; /* index + 1; 0: empty */
	size_t count, keys_cap, mask;
};

static size_t hash3(int64_t a, int64_t b, int64_t c)
{
	uint64_t h = (uint64_t)a * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 31) ^ (uint64_t)b) * 0xbf58476d1ce4e5b9ULL;
	h = (h ^ (h >> 29) ^ (uint64_t)c) * 0x94d049bb133111ebULL;
	return (size_t)(h ^ (h >> 32));
}

/* A table twice as big (or of 1,024), at least twice KEYS. */
static int map_rehash(struct map *m, size_t keys)
{
	size_t cap = m->table ? (m->mask + 1) * 2 : 1024;
	while (cap < 2 * keys)
		cap *= 2;
	uint32_t *table = calloc(cap, sizeof(*table));

	if (!table)
		return -1;
	for (size_t i = 0; i < m->count; i++) {
		size_t at = hash3(m->keys[i][0], m->keys[i][1], m->keys[i][2]) & (cap - 1);
		while (table[at])
			at = (at + 1) & (cap - 1);
		table[at] = (uint32_t)i + 1;
	}
	free(m->table);
	m->table = table;
	m->mask = cap - 1;
	return 0;
}

/* The index of key (a, b, c), added if new (then *added); -1 out of memory. */
static int64_t map_index(struct map *m, int64_t a, int64_t b, int64_t c, bool *added)
{
	if ((!m->table || (m->count + 1) * 2 > m->mask + 1) &&
	    (m->count >= UINT32_MAX - 1 || map_rehash(m, 0) != 0))
		return -1;
	size_t at = hash3(a, b, c) & m->mask;
	for (;; at = (at + 1) & m->mask) {
		uint32_t i = m->table[at];
		if (!i)
			break;
		if (m->keys[i - 1][0] == a && m->keys[i - 1][1] == b && m->keys[i - 1][2] == c) {
			*added = false;
			return i - 1;
		}
	}
	if (m->count == m->keys_cap) {
		size_t cap = m->keys_cap ? m->keys_cap * 2 : 1024;
		void *keys = realloc(m->keys, cap * sizeof(*m->keys));
		if (!keys)
			return -1;
		m->keys = keys;
		m->keys_cap = cap;
	}
	m->keys[m->count][0] = a;
	m->keys[m->count][1] = b;
	m->keys[m->count][2] = c;
	m->table[at] = (uint32_t)++m->count;
	*added = true;
	return (int64_t)m->count - 1;
}

/* Room for KEYS keys in all: adding up to them rehashes no more. */
static int map_reserve(struct map *m, size_t keys)
{
	return m->table && keys * 2 <= m->mask + 1 ? 0 : map_rehash(m, keys);
}

static void map_free(struct map *m)
{
	free(m->keys);
	free(m->table);
}

/* Makes room for N more values of SIZE in *VALUES (COUNT of *CAP), not zeroed. */
static bool room_for_more(void **values, size_t *cap, size_t count, size_t n, size_t size)
{
	if (count + n <= *cap)
		return true;
	size_t new_cap = *cap ? *cap * 2 : 1024;
	while (new_cap < count + n)
		new_cap *= 2;
	void *bigger = realloc(*values, new_cap * size);
	if (!bigger)
		return false;
	*values = bigger;
	*cap = new_cap;
	return true;
}

/* Makes room for index i in *values (of *cap elements of size), zeroed. */
static bool room_for(void **values, size_t *cap, size_t i, size_t size)
{
	size_t old_cap = *cap;
	if (i < old_cap)
		return true;
	if (!room_for_more(values, cap, i, 1, size))
		return false;
	memset((char *)*values + old_cap * size, 0, (*cap - old_cap) * size);
	return true;
}

/* What the findings and hot lists count per path (the TEMP table per_path). */
struct path_acc {
	int64_t events, rbytes, wbytes, opens, missing, tiny, rw, listings, readdirs, fsyncs,
		fsync_ns, first, last;
	bool is_dir, is_file, conf, made, gone; /* made: created here; gone: removed or renamed away */
};

/* Per time slot, process and "on autoconf's files" (the TEMP table slot_proc). */
struct slot_acc {
	int64_t n, rbytes, wbytes, dur, first, last_end, created, removed;
};

/* One operation's durations: under 2^32 ns in small, the others in big. */
struct durations {
	uint32_t *small;
	int64_t *big;
	size_t nsmall, small_cap, nbig, big_cap;
};

struct op_acc {
	struct analyze_op op;
	int64_t ok; /* successes */
	struct durations d;
};

struct scan {
	int64_t last_seq; /* events come in seq order, as every reader checks */
	struct map paths; /* (path id, is NULL, 0) */
	struct path_acc *path;
	size_t path_cap;
	struct map slots; /* (proc id, is NULL, slot * 2 + conf) */
	struct slot_acc *slot;
	size_t slot_cap;
	struct map fails; /* (path id, proc id, result * 4 + path NULL * 2 + proc NULL) */
	int64_t *fail_n;
	size_t fail_cap;
	struct map errs; /* (op, result, 0) of failures, attribute probes left out */
	int64_t *err_n;
	size_t err_cap;
	struct map conf; /* (path id, 0, 0) of autoconf's files */
	struct op_acc ops[TRACE_OP_COUNT];
	int16_t op_of[256], kind_of[256]; /* by id: enum + 1, 0 unknown */
	int64_t sum_bytes;
	int32_t *dense; /* by path id, when the ids are dense: index in paths + 1 */
	int64_t ndense;
	/*
	 * The slot_proc entries used last, by key (processes take turns: the
	 * slots map is asked only when one comes anew); index -1: none.
	 */
	struct {
		int64_t key[3], index;
	} recent_slots[SLOT_CACHE];
	int64_t temporary_ns;		/* see make_tables() */
	struct raw raw[2][SCAN_BATCH]; /* one batch read while the other is counted */
};

static void scan_free(struct scan *sc)
{
	map_free(&sc->paths);
	map_free(&sc->slots);
	map_free(&sc->fails);
	map_free(&sc->errs);
	map_free(&sc->conf);
	free(sc->path);
	free(sc->dense);
	free(sc->slot);
	free(sc->fail_n);
	free(sc->err_n);
	for (int op = 0; op < TRACE_OP_COUNT; op++) {
		free(sc->ops[op].d.small);
		free(sc->ops[op].d.big);
	}
}

/* Durations need no zeroing. */
static bool add_duration(struct durations *d, int64_t ns)
{
	if (ns <= UINT32_MAX) {
		if (d->nsmall == d->small_cap &&
		    !room_for_more((void **)&d->small, &d->small_cap, d->nsmall, 1, sizeof(*d->small)))
			return false;
		d->small[d->nsmall++] = (uint32_t)ns;
	} else {
		if (!room_for_more((void **)&d->big, &d->big_cap, d->nbig, 1, sizeof(*d->big)))
			return false;
		d->big[d->nbig++] = ns;
	}
	return true;
}

/* The operation (or kind, with kinds) an id stands for, or -1 if unknown. */
static int id_enum(struct ctx *c, struct scan *sc, int64_t id, bool kinds)
{
	int16_t *cache = kinds ? sc->kind_of : sc->op_of;
	if (id >= 0 && id < 256 && cache[id])
		return cache[id] - 1;
	int e = kinds ? trace_reader_kind_of_id(c->reader, id) : trace_reader_op_of_id(c->reader, id);
	if (id >= 0 && id < 256 && e >= 0)
		cache[id] = (int16_t)(e + 1);
	return e;
}

static bool is_created(enum trace_op op)
{
	return op == TRACE_OP_CREATE || op == TRACE_OP_MKNOD || op == TRACE_OP_SYMLINK ||
	       op == TRACE_OP_LINK || op == TRACE_OP_MKDIR;
}

/*
 * One event into the per-path, per-slot and failure tables. One that
 * starts outside [t0, t_last] is not counted: 1 if the span was a guess
 * (it was wrong), else 0 (an event with a time that is no integer has made
 * the span, and the scan will name it).
 */
static int count_event(struct ctx *c, struct scan *sc, const struct raw *e, enum trace_op op,
		       enum trace_kind kind)
{
	int64_t ts = e->ts, dur = e->dur, result = e->result, bytes = e->bytes;
	bool no_path = e->flags & NO_PATH, no_proc = e->flags & NO_PROC;
	int64_t path = e->path, proc = e->proc;
	bool added = false, conf = false;

	if (ts < c->t0 || ts > c->t_last)
		return c->span_guessed ? 1 : 0;
	if (!no_path) {
		int64_t i = path >= 0 && path < sc->ndense && sc->dense[path] ? sc->dense[path] - 1
						       : map_index(&sc->paths, path, 0, 0, &added);
		if (i < 0 || !room_for((void **)&sc->path, &sc->path_cap, (size_t)i, sizeof(*sc->path)))
			return out_of_memory(c);
		if (added && path >= 0 && path < sc->ndense)
			sc->dense[path] = (int32_t)i + 1;
		struct path_acc *p = &sc->path[i];
		if (added && sc->conf.count) {
			size_t at = hash3(path, 0, 0) & sc->conf.mask;
			for (; sc->conf.table[at] && !p->conf; at = (at + 1) & sc->conf.mask)
				p->conf = sc->conf.keys[sc->conf.table[at] - 1][0] == path;
		}
		conf = p->conf && !analyze_attr_probe(op, result); /* a probe is nobody's work */
		if (!p->events++)
			p->first = p->last = ts;
		p->first = ts < p->first ? ts : p->first;
		p->last = ts > p->last ? ts : p->last;
		p->made |= result >= 0 && is_created(op) && op != TRACE_OP_MKDIR;
		p->gone |= result >= 0 && (op == TRACE_OP_UNLINK || op == TRACE_OP_RENAME);
		bool rw = op == TRACE_OP_READ || op == TRACE_OP_WRITE;
		p->rbytes += op == TRACE_OP_READ ? bytes : 0;
		p->wbytes += op == TRACE_OP_WRITE || op == TRACE_OP_COPY_FILE_RANGE ? bytes : 0;
		p->opens += op == TRACE_OP_OPEN && result >= 0;
		p->missing += op == TRACE_OP_LOOKUP && result == -ENOENT;
		p->tiny += rw && bytes > 0 && bytes < ANALYZE_FINDING_TINY_BYTES;
		p->rw += rw;
		p->listings += op == TRACE_OP_OPENDIR && result >= 0;
		p->readdirs += op == TRACE_OP_READDIR;
		if (op == TRACE_OP_FSYNC || op == TRACE_OP_FSYNCDIR) {
			p->fsyncs++;
			p->fsync_ns += dur;
		}
		p->is_dir |= kind == TRACE_KIND_DIR;
		p->is_file |= kind == TRACE_KIND_FILE || kind == TRACE_KIND_SYMLINK ||
			      kind == TRACE_KIND_OTHER;
	}
	int64_t slot = (ts - c->t0) / c->slot_ns; /* t0 <= ts <= t_last */
	int64_t key[3] = {proc, no_proc, slot * 2 + conf};
	size_t recent = (size_t)((uint64_t)proc * 5 + (uint64_t)key[2]) & (SLOT_CACHE - 1);
	int64_t i = sc->recent_slots[recent].index;
	added = false;
	if (i < 0 || memcmp(key, sc->recent_slots[recent].key, sizeof(key)) != 0) {
		i = map_index(&sc->slots, key[0], key[1], key[2], &added);
		if (i < 0 ||
		    !room_for((void **)&sc->slot, &sc->slot_cap, (size_t)i, sizeof(*sc->slot)))
			return out_of_memory(c);
		memcpy(sc->recent_slots[recent].key, key, sizeof(key));
		sc->recent_slots[recent].index = i;
	}
	struct slot_acc *sp = &sc->slot[i];
	if (added || ts < sp->first)
		sp->first = ts;
	if (added || ts + dur > sp->last_end)
		sp->last_end = ts + dur;
	sp->n++;
	sp->rbytes += op == TRACE_OP_READ ? bytes : 0;
	sp->wbytes += op == TRACE_OP_WRITE || op == TRACE_OP_COPY_FILE_RANGE ? bytes : 0;
	sp->dur += dur;
	sp->created += result >= 0 && is_created(op);
	sp->removed += result >= 0 && (op == TRACE_OP_UNLINK || op == TRACE_OP_RMDIR);
	if (result >= 0 || analyze_attr_probe(op, result))
		return 0;
	i = map_index(&sc->fails, path, proc, result * 4 + no_path * 2 + no_proc, &added);
	if (i < 0 || !room_for((void **)&sc->fail_n, &sc->fail_cap, (size_t)i, sizeof(int64_t)))
		return out_of_memory(c);
	sc->fail_n[i]++;
	i = map_index(&sc->errs, op, result, 0, &added);
	if (i < 0 || !room_for((void **)&sc->err_n, &sc->err_cap, (size_t)i, sizeof(int64_t)))
		return out_of_memory(c);
	sc->err_n[i]++;
	return 0;
}

/* One event: checked, then counted (see count_event). */
static int scan_event(struct ctx *c, struct scan *sc, const struct raw *e)
{
	struct analyze_result *a = c->a;

	if (e->flags & BAD)
		return corrupt(c, "event seq %lld: %s", (long long)e->seq, e->bad);
	if (e->seq <= sc->last_seq)
		return corrupt(c, "event seq %lld: seq out of order", (long long)e->seq);
	sc->last_seq = e->seq;
	int op = id_enum(c, sc, e->op, false);
	if (op < 0)
		return corrupt(c, "unknown operation id %lld", (long long)e->op);
	int kind = id_enum(c, sc, e->kind, true);
	if (kind < 0)
		return corrupt(c, "unknown kind id %lld", (long long)e->kind);
	int64_t ts = e->ts, dur = e->dur, result = e->result, bytes = e->bytes, end;
	/* Past these, no sum of durations or bytes overflows: each is part of these. */
	if (__builtin_add_overflow(ts, dur, &end) || __builtin_add_overflow(a->fs_ns, dur, &a->fs_ns) ||
	    __builtin_add_overflow(sc->sum_bytes, bytes, &sc->sum_bytes))
		return corrupt(c, "event seq %lld: a value is out of range", (long long)e->seq);
	if (!a->events || end > a->end_ns)
		a->end_ns = end; /* relative until totals() */
	a->events++;
	struct op_acc *o = &sc->ops[op];
	o->op.count++;
	o->op.bytes += bytes;
	o->op.total_ns += dur;
	if (dur > o->op.max_ns)
		o->op.max_ns = dur;
	if (op == TRACE_OP_READ)
		a->bytes_read += bytes;
	else if (op == TRACE_OP_WRITE || op == TRACE_OP_COPY_FILE_RANGE)
		a->bytes_written += bytes;
	if (result >= 0)
		o->ok++;
	else if (analyze_attr_probe(op, result))
		o->op.probes++;
	else
		o->op.errors++;
	if (!add_duration(&o->d, dur))
		return out_of_memory(c);
	return count_event(c, sc, e, op, kind);
}

/*
 * A row's first and last start (min(ts), max(ts)) into SPAN: false where
 * either is not an integer (no events, or an odd one the scan will name).
 */
static bool row_span(sqlite3_stmt *s, int64_t span[2])
{
	if (sqlite3_column_type(s, 0) != SQLITE_INTEGER || sqlite3_column_type(s, 1) != SQLITE_INTEGER)
		return false;
	span[0] = col_int(s, 0);
	span[1] = col_int(s, 1);
	return true;
}

/* The slots' range: SPAN where there is one (HAVE), else t0 and t_last as they are. */
static int set_slots(struct ctx *c, const int64_t span[2], bool have)
{
	if (have)
		c->t0 = span[0], c->t_last = span[1];
	int64_t width;
	if (__builtin_sub_overflow(c->t_last, c->t0, &width) || width < 0)
		return corrupt(c, "event times out of range");
	/* Slots cover [t0, t_last]; +1, so that the last start falls in the last one. */
	c->slot_ns = width / ANALYZE_SLOTS + 1;
	return 0;
}

/* One row: count, min and max of the path ids. Dense ids get an array. */
static int size_paths(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct scan *sc = arg;
	int64_t count = col_int(s, 0), min = col_int(s, 1), max = col_int(s, 2);

	if (min < 0 || max >= (1 << 28) || max > 4 * count + 1024)
		return 0; /* a hostile or odd numbering: the hash map alone */
	sc->dense = calloc((size_t)max + 1, sizeof(*sc->dense));
	sc->ndense = sc->dense ? max + 1 : 0;
	(void)c;
	return 0;
}

static int add_conf_path(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct scan *sc = arg;
	bool added;
	return map_index(&sc->conf, col_int(s, 0), 0, 0, &added) < 0 ? out_of_memory(c) : 0;
}

/* The events with FROM <= seq <= TO, in seq order, into SC; 1 as count_event. */
static int scan_range(struct ctx *c, struct scan *sc, int64_t from, int64_t to)
{
	for (size_t i = 0; i < SLOT_CACHE; i++)
		sc->recent_slots[i].index = -1;
	sqlite3_stmt *s = prepare(c, "SELECT " TRACE_READER_EVENT_COLUMNS
				     " FROM events WHERE seq >= ?1 AND seq <= ?2",
				  "reading events");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	int rc, result = 0;
	/*
	 * In batches, each counted while the next is read: the per-path
	 * entries a batch needs are fetched into the cache meanwhile, as a
	 * trace jumps between thousands of paths.
	 */
	size_t n = 0, before = 0;
	struct raw *batch = sc->raw[0], *earlier = sc->raw[1];
	do {
		for (n = 0; n < SCAN_BATCH && (rc = sqlite3_step(s)) == SQLITE_ROW; n++)
			read_raw(c->reader, s, &batch[n]);
		for (size_t i = 0; i < n; i++)
			if (batch[i].path >= 0 && batch[i].path < sc->ndense)
				__builtin_prefetch(&sc->dense[batch[i].path]);
		for (size_t i = 0; i < n; i++)
			if (batch[i].path >= 0 && batch[i].path < sc->ndense && sc->dense[batch[i].path]) {
				/* every cache line of the entry (two or three) */
				const char *p = (const char *)&sc->path[sc->dense[batch[i].path] - 1];
				__builtin_prefetch(p, 1);
				__builtin_prefetch(p + 64, 1);
				__builtin_prefetch(p + sizeof(*sc->path) - 1, 1);
			}
		for (size_t i = 0; i < before && result == 0; i++)
			result = scan_event(c, sc, &earlier[i]);
		struct raw *read = batch;
		batch = earlier, earlier = read, before = n;
	} while (result == 0 && n == SCAN_BATCH);
	for (size_t i = 0; i < before && result == 0; i++)
		result = scan_event(c, sc, &earlier[i]);
	sqlite3_finalize(s);
	if (result != 0)
		return result;
	return rc == SQLITE_DONE ? 0 : sql_failed(c, rc, "reading events");
}

/*
 * A big trace is scanned in two halves at once, the first on a thread of
 * its own with its own connection (two cores: about half the time), then
 * the second half's counts are added to the first's. Keys enter the maps
 * in the order one scan would add them, so the result is the same.
 */
#define SPLIT_MIN_EVENTS 50000 /* below: one scan (a second connection costs its open) */

/*
 * SQLite sizes its sorter's memory after the page cache, and the big GROUP
 * BYs here ran twice as slow with the reader's large cache (which is for
 * streaming) as with SQLite's default of 2 MiB: back to that. The scans
 * read each page once: a larger cache would only cost memory to fill (the
 * first half's scan, with the reader's, took a tenth longer than the
 * second's).
 */
static int configure_sorts(struct ctx *c)
{
	return run(c, "PRAGMA cache_size = -2000", "setting up");
}

struct first_half {
	struct ctx c; /* its own connection, result and error */
	struct analyze_result a;
	struct scan sc;
	char err[512];
	int64_t last_seq; /* the half ends here */
	int (*part)(struct first_half *h); /* first_span, then first_scan */
	int64_t span[2];
	bool spanned; /* it has a span in integers */
	int result;
};

/* The first and last start of the events FROM <= seq <= TO, as integers (*HAVE), in SPAN. */
static int span_of(struct ctx *c, int64_t from, int64_t to, int64_t span[2], bool *have)
{
	sqlite3_stmt *s = prepare(c, "SELECT min(ts), max(ts) FROM events WHERE seq >= ?1 AND seq <= ?2",
				  "reading events");
	if (!s)
		return -1;
	sqlite3_bind_int64(s, 1, from);
	sqlite3_bind_int64(s, 2, to);
	int rc = sqlite3_step(s);
	*have = rc == SQLITE_ROW && row_span(s, span);
	sqlite3_finalize(s);
	return rc == SQLITE_ROW ? 0 : sql_failed(c, rc, "reading events");
}

static int first_span(struct first_half *h)
{
	return span_of(&h->c, INT64_MIN, h->last_seq, h->span, &h->spanned);
}

static int first_scan(struct first_half *h)
{
	return scan_range(&h->c, &h->sc, INT64_MIN, h->last_seq);
}

static void *first_half_main(void *arg)
{
	struct first_half *h = arg;
	h->result = h->part(h);
	return NULL;
}

/*
 * Runs FIRST_PART of H on a thread while MAIN_PART runs here (FIRST_PART
 * after it, without a thread).
 */
static int beside(struct first_half *h, int (*first_part)(struct first_half *h),
		  int (*main_part)(struct ctx *c, void *arg), struct ctx *c, void *arg)
{
	pthread_t thread;
	h->part = first_part;
	bool threaded = pthread_create(&thread, NULL, first_half_main, h) == 0;
	int result = main_part(c, arg);
	if (threaded)
		pthread_join(thread, NULL);
	else
		first_half_main(h);
	return result;
}

struct second_half {
	struct scan *sc;
	int64_t from, to, span[2];
	bool spanned;
};

/*
 * The span of a recorded trace is guessed from its first and last events
 * (a recorder writes events in about the order they start), which saves a
 * pass over the events to find it: if an event starts outside the guess,
 * the scan stops and finds the span first, as without a guess.
 */
#define GUESS_EVENTS "1024"

static int guess_span(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	bool *guessed = arg;
	int64_t span[2], width;
	*guessed = row_span(s, span) && !__builtin_sub_overflow(span[1], span[0], &width) &&
		   width >= 0;
	return *guessed ? set_slots(c, span, true) : 0;
}

static int second_span(struct ctx *c, void *arg)
{
	struct second_half *s = arg;
	return span_of(c, s->from, s->to, s->span, &s->spanned);
}

static int second_scan(struct ctx *c, void *arg)
{
	struct second_half *s = arg;
	s->sc->last_seq = s->from - 1;
	return scan_range(c, s->sc, s->from, s->to);
}

/* Forgets what SC counted, for a scan again: its conf and dense array stay (emptied). */
static void scan_restart(struct scan *sc)
{
	struct map conf = sc->conf;
	int32_t *dense = sc->dense;
	int64_t ndense = sc->ndense;

	sc->conf = (struct map){0};
	sc->dense = NULL;
	scan_free(sc);
	memset(sc, 0, sizeof(*sc));
	sc->conf = conf;
	sc->dense = dense;
	sc->ndense = ndense;
	if (dense)
		memset(dense, 0, (size_t)ndense * sizeof(*dense));
}

/* Forgets what a scan added to A. */
static void forget_scan_totals(struct analyze_result *a)
{
	a->events = a->fs_ns = a->end_ns = a->bytes_read = a->bytes_written = 0;
}

/*
 * Both halves' scans, with C's slots (told to H first). 1: an event
 * started outside them; the first failure is the earlier half's, as one
 * scan would meet it.
 */
static int scan_halves(struct ctx *c, struct first_half *h, struct second_half *second)
{
	h->c.t0 = c->t0, h->c.t_last = c->t_last, h->c.slot_ns = c->slot_ns;
	h->c.span_guessed = c->span_guessed;
	int result = beside(h, first_scan, second_scan, c, second);
	if (h->result < 0)
		return snprintf(c->err, c->err_size, "%s", h->err), -1;
	return result < 0 ? result : h->result > 0 ? h->result : result;
}

static void add_path(void *into, const void *from)
{
	struct path_acc *p = into;
	const struct path_acc *q = from;
	p->events += q->events, p->rbytes += q->rbytes, p->wbytes += q->wbytes;
	p->opens += q->opens, p->missing += q->missing, p->tiny += q->tiny, p->rw += q->rw;
	p->listings += q->listings, p->readdirs += q->readdirs, p->fsyncs += q->fsyncs;
	p->fsync_ns += q->fsync_ns;
	p->first = q->first < p->first ? q->first : p->first;
	p->last = q->last > p->last ? q->last : p->last;
	p->is_dir |= q->is_dir, p->is_file |= q->is_file, p->made |= q->made, p->gone |= q->gone;
}

static void add_slot_acc(void *into, const void *from)
{
	struct slot_acc *p = into;
	const struct slot_acc *q = from;
	p->n += q->n, p->rbytes += q->rbytes, p->wbytes += q->wbytes, p->dur += q->dur;
	p->created += q->created, p->removed += q->removed;
	p->first = q->first < p->first ? q->first : p->first;
	p->last_end = q->last_end > p->last_end ? q->last_end : p->last_end;
}

static void add_count(void *into, const void *from)
{
	*(int64_t *)into += *(const int64_t *)from;
}

/* Appends FROM's durations to INTO's. */
static bool add_durations(struct durations *into, const struct durations *from)
{
	if (!room_for_more((void **)&into->small, &into->small_cap, into->nsmall, from->nsmall,
			   sizeof(*into->small)) ||
	    !room_for_more((void **)&into->big, &into->big_cap, into->nbig, from->nbig,
			   sizeof(*into->big)))
		return false;
	if (from->nsmall)
		memcpy(into->small + into->nsmall, from->small, from->nsmall * sizeof(*from->small));
	if (from->nbig)
		memcpy(into->big + into->nbig, from->big, from->nbig * sizeof(*from->big));
	into->nsmall += from->nsmall;
	into->nbig += from->nbig;
	return true;
}

/*
 * FROM's keys, in their order, added to INTO (a map of the same keys), with
 * their values (FROM_VALUES) added to INTO's (*VALUES, room for *CAP, of
 * SIZE bytes): a new key's value copied, a known one's combined by ADD.
 * False when out of memory.
 */
static bool merge_map(struct map *into, void **values, size_t *cap, const struct map *from,
		      const void *from_values, size_t size, void (*add)(void *into, const void *from))
{
	if (map_reserve(into, into->count + from->count) != 0)
		return false;
	for (size_t k = 0; k < from->count; k++) {
		bool added;
		int64_t i = map_index(into, from->keys[k][0], from->keys[k][1], from->keys[k][2], &added);
		if (i < 0 || !room_for(values, cap, (size_t)i, size))
			return false;
		char *value = (char *)*values + (size_t)i * size;
		const char *from_value = (const char *)from_values + k * size;
		if (added)
			memcpy(value, from_value, size);
		else
			add(value, from_value);
	}
	return true;
}

/* What add_failures() adds, and whether it ran out of memory. */
struct failures_added {
	struct scan *into;
	const struct scan *from;
	bool out_of_memory;
};

/* FROM's failures added to INTO's: on a thread, beside the rest of add_half(). */
static void *add_failures(void *arg)
{
	struct failures_added *f = arg;
	struct scan *into = f->into;
	const struct scan *from = f->from;

	f->out_of_memory = !merge_map(&into->fails, (void **)&into->fail_n, &into->fail_cap,
				      &from->fails, from->fail_n, sizeof(*from->fail_n), add_count) ||
			   !merge_map(&into->errs, (void **)&into->err_n, &into->err_cap, &from->errs,
				      from->err_n, sizeof(*from->err_n), add_count);
	return NULL;
}

/* The rest of add_half(): paths, slots and operations. False when out of memory. */
static bool add_counts(struct scan *into, const struct scan *from)
{
	if (!merge_map(&into->paths, (void **)&into->path, &into->path_cap, &from->paths, from->path,
		       sizeof(*from->path), add_path) ||
	    !merge_map(&into->slots, (void **)&into->slot, &into->slot_cap, &from->slots, from->slot,
		       sizeof(*from->slot), add_slot_acc))
		return false;
	for (int op = 0; op < TRACE_OP_COUNT; op++) {
		struct op_acc *o = &into->ops[op];
		const struct op_acc *q = &from->ops[op];
		o->op.count += q->op.count, o->op.bytes += q->op.bytes, o->op.total_ns += q->op.total_ns;
		o->op.max_ns = q->op.max_ns > o->op.max_ns ? q->op.max_ns : o->op.max_ns;
		o->op.probes += q->op.probes, o->op.errors += q->op.errors, o->ok += q->ok;
		if (!add_durations(&o->d, &q->d))
			return false;
	}
	return true;
}

/* Adds the counts of the later half FROM (with the result C->a) to INTO (with A). */
static int add_half(struct ctx *c, struct scan *into, struct analyze_result *a,
		    const struct scan *from)
{
	const struct analyze_result *b = c->a;
	if (__builtin_add_overflow(a->fs_ns, b->fs_ns, &a->fs_ns) ||
	    __builtin_add_overflow(into->sum_bytes, from->sum_bytes, &into->sum_bytes))
		return corrupt(c, "event seq %lld: a value is out of range", (long long)from->last_seq);
	if (b->events && (!a->events || b->end_ns > a->end_ns))
		a->end_ns = b->end_ns;
	a->events += b->events, a->bytes_read += b->bytes_read, a->bytes_written += b->bytes_written;
	into->last_seq = from->last_seq;
	struct failures_added failures = {.into = into, .from = from};
	pthread_t thread;
	bool threaded = pthread_create(&thread, NULL, add_failures, &failures) == 0;
	bool counted = add_counts(into, from);
	if (threaded)
		pthread_join(thread, NULL);
	else
		add_failures(&failures);
	return counted && !failures.out_of_memory ? 0 : out_of_memory(c);
}

/*
 * The scan in two halves (see SPLIT_MIN_EVENTS), with a guessed span, else
 * the span found first. 1: not split (too small).
 */
static int scan_split(struct ctx *c, struct scan *sc, int64_t first_seq, int64_t last_seq)
{
	int64_t width; /* seqs come from the file: a hostile pair must not overflow */
	if (__builtin_sub_overflow(last_seq, first_seq, &width) || width < SPLIT_MIN_EVENTS)
		return 1;
	struct first_half *h = calloc(1, sizeof(*h));
	if (!h)
		return out_of_memory(c);
	*h = (struct first_half){.c = *c, .last_seq = first_seq + width / 2};
	h->c.a = &h->a;
	h->c.err = h->err;
	h->c.err_size = sizeof(h->err);
	h->c.reader = NULL;
	h->sc.conf = sc->conf; /* borrowed: read only */
	h->sc.ndense = sc->ndense;
	struct second_half second = {.sc = sc, .from = h->last_seq + 1, .to = last_seq};
	int result = 0;
	bool guessed = false;
	if (sc->ndense && !(h->sc.dense = calloc((size_t)sc->ndense, sizeof(*h->sc.dense))))
		result = out_of_memory(c);
	else if (!(h->c.reader = trace_reader_open(trace_reader_file(c->reader), c->err, c->err_size)))
		result = -1;
	else if (h->c.db = trace_reader_db(h->c.reader),
		 run(&h->c, "BEGIN", "starting to read") != 0 || configure_sorts(&h->c) != 0)
		result = (snprintf(c->err, c->err_size, "%s", h->err), -1);
	else
		result = each_row(c,
				  "SELECT (SELECT min(ts) FROM (SELECT ts FROM events ORDER BY seq\n"
				  "    LIMIT " GUESS_EVENTS ")),\n"
				  "  (SELECT max(ts) FROM (SELECT ts FROM events ORDER BY seq DESC\n"
				  "    LIMIT " GUESS_EVENTS "))",
				  "reading events", guess_span, &guessed);
	if (result == 0 && guessed) {
		c->span_guessed = true;
		result = scan_halves(c, h, &second);
		c->span_guessed = false;
		/* a wrong guess, or a fault for the scan after the span to name as ever */
		if (result > 0 || (result < 0 && !trace_reader_interrupted())) {
			scan_restart(&h->sc);
			scan_restart(sc);
			forget_scan_totals(&h->a);
			forget_scan_totals(c->a);
			guessed = false;
			result = 0;
		}
	}
	if (result == 0 && !guessed) {
		result = beside(h, first_span, second_span, c, &second);
		/* the earlier half's failure is the one a single scan would meet */
		if (h->result != 0)
			result = (snprintf(c->err, c->err_size, "%s", h->err), -1);
		if (result == 0) {
			bool first_min = h->spanned && (!second.spanned || h->span[0] < second.span[0]);
			bool first_max = h->spanned && (!second.spanned || h->span[1] > second.span[1]);
			int64_t span[2] = {first_min ? h->span[0] : second.span[0],
					   first_max ? h->span[1] : second.span[1]};
			/* neither half has one: the scan names the event */
			result = set_slots(c, span, h->spanned || second.spanned);
		}
		if (result == 0)
			result = scan_halves(c, h, &second);
	}
	if (result == 0)
		result = add_half(c, &h->sc, &h->a, sc);
	h->sc.conf = (struct map){0};
	if (result == 0) { /* the first half, with the second added, is the whole */
		struct map conf = sc->conf;
		struct analyze_result *a = c->a;
		sc->conf = (struct map){0};
		struct scan whole = h->sc;
		h->sc = *sc;
		*sc = whole;
		sc->conf = conf;
		a->events = h->a.events, a->fs_ns = h->a.fs_ns, a->end_ns = h->a.end_ns;
		a->bytes_read = h->a.bytes_read, a->bytes_written = h->a.bytes_written;
	}
	if (h->c.reader)
		trace_reader_close(h->c.reader);
	scan_free(&h->sc);
	free(h);
	return result;
}

/* Bounds of the events' seq: the split's. */
static int find_seqs(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	int64_t *seqs = arg;
	seqs[0] = col_int(s, 0);
	seqs[1] = col_int(s, 1);
	(void)c;
	return 0;
}

/* Reads every event once. */
static int scan_events(struct ctx *c, struct scan *sc)
{
	int64_t seqs[2] = {0, 0};
	/* Autoconf's probes, whoever makes them: conftest.c, conftest.o, conftest ... */
	if (each_row(c,
		     "SELECT id FROM paths WHERE path GLOB '*/conftest*'\n"
		     "  OR path GLOB '*/confdefs.h' OR path GLOB '*/config.log'",
		     "finding configure's files", add_conf_path, sc) != 0 ||
	    each_row(c, "SELECT count(*), coalesce(min(id), 0), coalesce(max(id), 0) FROM paths",
		     "reading paths", size_paths, sc) != 0 ||
	    /* apart: SQLite reads a min() or max() alone from the B-tree's ends */
	    each_row(c,
		     "SELECT coalesce((SELECT min(seq) FROM events), 0),\n"
		     "  coalesce((SELECT max(seq) FROM events), 0)",
		     "reading events", find_seqs, seqs) != 0)
		return -1;
	int split = scan_split(c, sc, seqs[0], seqs[1]);
	if (split <= 0)
		return split;
	int64_t span[2];
	bool have;
	if (span_of(c, INT64_MIN, INT64_MAX, span, &have) != 0 || set_slots(c, span, have) != 0)
		return -1;
	return scan_range(c, sc, INT64_MIN, INT64_MAX);
}

/* ---- the TEMP tables the queries below read ---- */

/* Runs sql (an INSERT of ncols parameters) for each of n rows that fill() binds. */
static int insert_rows(struct ctx *c, const char *create, const char *insert, size_t n,
		       void (*fill)(const struct scan *sc, size_t i, sqlite3_stmt *s),
		       const struct scan *sc)
{
	if (run(c, create, "sorting events") != 0)
		return -1;
	sqlite3_stmt *s = prepare(c, insert, "sorting events");
	if (!s)
		return -1;
	for (size_t i = 0; i < n; i++) {
		fill(sc, i, s);
		int rc = sqlite3_step(s);
		sqlite3_reset(s);
		if (rc != SQLITE_DONE) {
			sqlite3_finalize(s);
			return sql_failed(c, rc, "sorting events");
		}
	}
	sqlite3_finalize(s);
	return 0;
}

static void bind_all(sqlite3_stmt *s, const int64_t *values, int n)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_int64(s, i + 1, values[i]);
}

static void fill_path(const struct scan *sc, size_t i, sqlite3_stmt *s)
{
	const struct path_acc *p = &sc->path[i];
	bool temporary = p->made && p->gone && p->last - p->first <= sc->temporary_ns;
	int64_t v[] = {sc->paths.keys[i][0], p->events, p->rbytes, p->wbytes, p->opens,
		       p->missing, p->tiny, p->rw, p->listings, p->readdirs, p->fsyncs,
		       p->fsync_ns, p->is_dir, p->is_file, temporary};
	bind_all(s, v, (int)(sizeof(v) / sizeof(v[0])));
}

static void fill_slot(const struct scan *sc, size_t i, sqlite3_stmt *s)
{
	const struct slot_acc *sp = &sc->slot[i];
	int64_t v[] = {sc->slots.keys[i][2] / 2, sc->slots.keys[i][0], sc->slots.keys[i][2] % 2,
		       sp->n, sp->rbytes, sp->wbytes, sp->dur, sp->first, sp->last_end,
		       sp->created, sp->removed};
	bind_all(s, v, (int)(sizeof(v) / sizeof(v[0])));
	if (sc->slots.keys[i][1])
		sqlite3_bind_null(s, 2);
}

static void fill_fail(const struct scan *sc, size_t i, sqlite3_stmt *s)
{
	int64_t flags = sc->fails.keys[i][2];
	int64_t low = ((flags % 4) + 4) % 4; /* flags may be negative: result * 4 + ... */
	int64_t v[] = {sc->fails.keys[i][0], (flags - low) / 4, sc->fails.keys[i][1],
		       sc->fail_n[i]};
	bind_all(s, v, 4);
	if (low & 2)
		sqlite3_bind_null(s, 1);
	if (low & 1)
		sqlite3_bind_null(s, 3);
}

/*
 * A temporary is a file made and removed (or renamed away) within
 * TEMPORARY_NS, or TEMPORARY_PERCENT of the run if longer: `ar`'s
 * stXXXXXX, an editor's swap file. However busy, it is not a hot file.
 */
static int make_tables(struct ctx *c, struct scan *sc)
{
	int64_t run_ns = c->a->end_ns - c->a->first_ns;
	sc->temporary_ns = run_ns / 100 * TEMPORARY_PERCENT > TEMPORARY_NS
				   ? run_ns / 100 * TEMPORARY_PERCENT
				   : TEMPORARY_NS;
	return insert_rows(c,
			   "CREATE TEMP TABLE per_path(path INTEGER PRIMARY KEY, events, rbytes,\n"
			   "  wbytes, opens, missing, tiny, rw, listings, readdirs, fsyncs,\n"
			   "  fsync_ns, is_dir, is_file, temporary)",
			   "INSERT INTO per_path VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
			   sc->paths.count, fill_path, sc) != 0 ||
			       insert_rows(c,
					   "CREATE TEMP TABLE slot_proc(slot, proc, conf, n, rbytes,\n"
					   "  wbytes, dur, first_ts, last_end, created, removed)",
					   "INSERT INTO slot_proc VALUES(?,?,?,?,?,?,?,?,?,?,?)",
					   sc->slots.count, fill_slot, sc) != 0 ||
			       insert_rows(c, "CREATE TEMP TABLE fail_proc(path, result, proc, n)",
					   "INSERT INTO fail_proc VALUES(?,?,?,?)", sc->fails.count,
					   fill_fail, sc) != 0
		       ? -1
		       : 0;
}

/* ---- operations, errors, totals ---- */

static struct analyze_op *op_entry(struct ctx *c, enum trace_op op)
{
	struct analyze_result *a = c->a;
	size_t cap = a->nops;

	for (size_t i = 0; i < a->nops; i++)
		if (a->ops[i].op == op)
			return &a->ops[i];
	struct analyze_op *ops = grow(a->ops, &a->nops, &cap, sizeof(*ops));
	if (!ops)
		return NULL;
	a->ops = ops;
	ops[a->nops - 1].op = op;
	return &ops[a->nops - 1];
}

/* Counts n failures of op with result; remembers the op that fails most. */
static int add_errno(struct ctx *c, int32_t result, enum trace_op op, int64_t n)
{
	struct analyze_result *a = c->a;
	size_t cap = a->nerrnos;
	struct analyze_errno *e = NULL;

	for (size_t i = 0; i < a->nerrnos && !e; i++)
		if (a->errnos[i].result == result)
			e = &a->errnos[i];
	if (!e) {
		struct analyze_errno *errnos = grow(a->errnos, &a->nerrnos, &cap, sizeof(*errnos));
		if (!errnos)
			return out_of_memory(c);
		a->errnos = errnos;
		e = &errnos[a->nerrnos - 1];
		e->result = result;
	}
	e->count += n;
	if (n > e->top_op_count) {
		e->top_op = op;
		e->top_op_count = n;
	}
	return 0;
}

/* Files and directories made and removed, counted on successes. */
static void count_changes(struct analyze_result *a, enum trace_op op, int64_t n)
{
	switch (op) {
	case TRACE_OP_CREATE:
	case TRACE_OP_MKNOD:
	case TRACE_OP_SYMLINK:
	case TRACE_OP_LINK: a->files_created += n; break;
	case TRACE_OP_MKDIR: a->dirs_created += n; break;
	case TRACE_OP_UNLINK: a->files_removed += n; break;
	case TRACE_OP_RMDIR: a->dirs_removed += n; break;
	case TRACE_OP_RENAME: a->renamed += n; break;
	default: break;
	}
}

static int by_count_desc(const void *x, const void *y)
{
	const struct analyze_op *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (int)a->op - (int)b->op;
}

static int errno_by_count_desc(const void *x, const void *y)
{
	const struct analyze_errno *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (b->result > a->result) - (b->result < a->result);
}

static int int64_cmp(const void *x, const void *y)
{
	int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
	return (a > b) - (a < b);
}

static int totals(struct ctx *c, struct scan *sc)
{
	struct analyze_result *a = c->a;
	int64_t start_ns = trace_reader_start_ns(c->reader);

	for (int op = 0; op < TRACE_OP_COUNT; op++) {
		struct op_acc *o = &sc->ops[op];
		if (!o->op.count)
			continue;
		struct analyze_op *entry = op_entry(c, (enum trace_op)op);
		if (!entry)
			return out_of_memory(c);
		*entry = o->op; /* the percentiles come later: see latencies_start() */
		entry->op = (enum trace_op)op;
		a->errors += o->op.errors;
		a->attr_probes += o->op.probes;
		count_changes(a, (enum trace_op)op, o->ok);
	}
	for (size_t i = 0; i < sc->errs.count; i++)
		if (add_errno(c, (int32_t)sc->errs.keys[i][1], (enum trace_op)sc->errs.keys[i][0],
			      sc->err_n[i]) != 0)
			return -1;
	if (!a->events)
		c->t0 = c->t_last = a->end_ns = 0;
	/* Past these checks, the difference of any two times of the run fits. */
	int64_t duration;
	if (__builtin_add_overflow(c->t0, start_ns, &a->first_ns) ||
	    __builtin_add_overflow(a->end_ns, start_ns, &a->end_ns) ||
	    __builtin_sub_overflow(a->end_ns, a->first_ns, &duration) || duration < 0)
		return corrupt(c, "event times out of range");
	if (a->nops) /* qsort wants a pointer even for nothing */
		qsort(a->ops, a->nops, sizeof(*a->ops), by_count_desc);
	if (a->nerrnos)
		qsort(a->errnos, a->nerrnos, sizeof(*a->errnos), errno_by_count_desc);
	return 0;
}

/* ---- latency percentiles ---- */

/* The k-th smallest (from 0) of v[0 .. n-1], reordering v; n > k. */
static uint32_t select_nth(uint32_t *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n;
	uint64_t seed = n;

	while (hi - lo > 1) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t pivot = v[lo + (size_t)(seed >> 33) % (hi - lo)], t;
		/* [lo, lt) < pivot, [lt, i) == pivot, [gt, hi) > pivot */
		size_t lt = lo, i = lo, gt = hi;
		while (i < gt) {
			if (v[i] < pivot) {
				t = v[lt], v[lt++] = v[i], v[i++] = t;
			} else if (v[i] > pivot) {
				t = v[--gt], v[gt] = v[i], v[i] = t;
			} else {
				i++;
			}
		}
		if (k < lt)
			hi = lt;
		else if (k >= gt)
			lo = gt;
		else
			return pivot;
	}
	return v[lo];
}

/*
 * The p50, p90 and p99 of D into OUT, by nearest rank: the value at rank
 * ceil(p * n / 100), 1-based. Reorders D. select_nth() leaves the values
 * below its k before it, the others after: each next rank is sought there.
 */
static void percentiles(struct durations *d, int64_t out[3])
{
	static const size_t p[3] = {50, 90, 99};
	size_t n = d->nsmall + d->nbig, from = 0;

	if (d->nbig)
		qsort(d->big, d->nbig, sizeof(*d->big), int64_cmp);
	for (int i = 0; i < 3; i++) {
		size_t k = (n * p[i] + 99) / 100 - 1;
		if (k >= d->nsmall) {
			out[i] = d->big[k - d->nsmall];
			continue;
		}
		out[i] = select_nth(d->small + from, d->nsmall - from, k - from);
		from = k;
	}
}

/*
 * The operations' percentiles are found on a thread while the SQL after
 * the scan runs: the durations move there from the scan.
 */
struct latencies {
	struct durations d[TRACE_OP_COUNT];
	int64_t p[TRACE_OP_COUNT][3];
	pthread_t thread;
	bool started, threaded;
};

static void *find_latencies(void *arg)
{
	struct latencies *l = arg;
	for (int op = 0; op < TRACE_OP_COUNT; op++)
		if (l->d[op].nsmall + l->d[op].nbig)
			percentiles(&l->d[op], l->p[op]);
	return NULL;
}

static void latencies_start(struct latencies *l, struct scan *sc)
{
	for (int op = 0; op < TRACE_OP_COUNT; op++) {
		l->d[op] = sc->ops[op].d;
		sc->ops[op].d = (struct durations){0};
	}
	l->started = true;
	l->threaded = pthread_create(&l->thread, NULL, find_latencies, l) == 0;
}

/* Waits for L's percentiles (or finds them, without a thread) and puts them in A. */
static void latencies_finish(struct latencies *l, struct analyze_result *a)
{
	if (!l->started)
		return;
	if (l->threaded)
		pthread_join(l->thread, NULL);
	else
		find_latencies(l);
	for (size_t i = 0; i < a->nops; i++) {
		a->ops[i].p50_ns = l->p[a->ops[i].op][0];
		a->ops[i].p90_ns = l->p[a->ops[i].op][1];
		a->ops[i].p99_ns = l->p[a->ops[i].op][2];
	}
	for (int op = 0; op < TRACE_OP_COUNT; op++) {
		free(l->d[op].small);
		free(l->d[op].big);
	}
}

/* ---- per path: hot files and directories, failing paths, findings ---- */

/*
 * A directory's events are those on it and on the entries directly in it:
 * the parent of /a/b/c is /a/b (rtrim drops the last name, then the '/').
 */
static const char *const per_dir_sql =
	"CREATE TEMP TABLE per_dir AS SELECT\n"
	"  CASE WHEN pp.is_dir THEN p.path\n"
	"    ELSE coalesce(nullif(rtrim(rtrim(p.path, replace(p.path, '/', '')), '/'), ''), '/')\n"
	"  END AS dir,\n"
	"  sum(pp.events) AS events, sum(pp.rbytes) AS rbytes, sum(pp.wbytes) AS wbytes\n"
	"FROM per_path AS pp LEFT JOIN paths AS p ON p.id = pp.path GROUP BY dir";

struct hot_list {
	struct analyze_hot **items;
	size_t *count;
	size_t cap;
};

/* One row: path text, events, bytes read, bytes written. */
static int add_hot(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct hot_list *list = arg;
	struct analyze_hot *items = grow(*list->items, list->count, &list->cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	*list->items = items;
	struct analyze_hot *hot = &items[*list->count - 1];
	hot->events = col_int(s, 1);
	hot->bytes_read = col_int(s, 2);
	hot->bytes_written = col_int(s, 3);
	return col_text(c, s, 0, true, &hot->path);
}

static int hot_query(struct ctx *c, const char *sql, struct analyze_hot **items, size_t *count)
{
	struct hot_list list = {items, count, 0};
	return each_row(c, sql, "finding hot files", add_hot, &list);
}

static int count_temporaries(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	(void)arg;
	c->a->temporaries = col_int(s, 0);
	return 0;
}

static int hot(struct ctx *c)
{
	struct analyze_result *a = c->a;

	if (run(c, per_dir_sql, "grouping by directory") != 0 ||
	    each_row(c, "SELECT count(*) FROM per_path WHERE temporary", "finding temporaries",
		     count_temporaries, NULL) != 0)
		return -1;
	bool failed =
		hot_query(c,
			  "SELECT p.path, pp.events, pp.rbytes, pp.wbytes FROM per_path AS pp\n"
			  "  LEFT JOIN paths AS p ON p.id = pp.path WHERE pp.is_file AND NOT pp.temporary\n"
			  "  ORDER BY pp.events DESC, pp.path LIMIT :top",
			  &a->hot_files_events, &a->nhot_files_events) ||
		hot_query(c,
			  "SELECT p.path, pp.events, pp.rbytes, pp.wbytes FROM per_path AS pp\n"
			  "  LEFT JOIN paths AS p ON p.id = pp.path\n"
			  "  WHERE pp.is_file AND NOT pp.temporary AND pp.rbytes + pp.wbytes > 0\n"
			  "  ORDER BY pp.rbytes + pp.wbytes DESC, pp.path LIMIT :top",
			  &a->hot_files_bytes, &a->nhot_files_bytes) ||
		hot_query(c,
			  "SELECT dir, events, rbytes, wbytes FROM per_dir\n"
			  "  ORDER BY events DESC, dir LIMIT :top",
			  &a->hot_dirs_events, &a->nhot_dirs_events) ||
		hot_query(c,
			  "SELECT dir, events, rbytes, wbytes FROM per_dir\n"
			  "  WHERE rbytes + wbytes > 0\n"
			  "  ORDER BY rbytes + wbytes DESC, dir LIMIT :top",
			  &a->hot_dirs_bytes, &a->nhot_dirs_bytes);
	return failed ? -1 : 0;
}

/* ---- failing paths and who looked (attribute probes left out) ---- */

struct failing_list {
	size_t cap;
};

/* One row: path id, path text, err, n. */
static int add_failing(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_result *a = c->a;
	struct failing_list *list = arg;
	struct analyze_failing *items = grow(a->failing, &a->nfailing, &list->cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	a->failing = items;
	struct analyze_failing *f = &items[a->nfailing - 1];
	f->result = (int32_t)col_int(s, 2);
	f->count = col_int(s, 3);
	char sql[96];
	snprintf(sql, sizeof(sql), "INSERT OR IGNORE INTO fail_paths(id) VALUES(%lld)",
		 (long long)col_int(s, 0));
	if (col_text(c, s, 1, sqlite3_column_type(s, 0) != SQLITE_NULL, &f->path) != 0)
		return -1;
	return run(c, sql, "finding failing paths");
}

/* One row: path text, result, comm, n — a command that saw a failure. */
static int add_failing_proc(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_result *a = c->a;
	const char *path = (const char *)sqlite3_column_text(s, 0);
	int32_t result = (int32_t)col_int(s, 1);

	(void)arg;
	for (size_t i = 0; i < a->nfailing; i++) {
		struct analyze_failing *f = &a->failing[i];
		if (f->result != result || !path || !f->path || strcmp(path, f->path) != 0 ||
		    f->nprocs == ANALYZE_TOP_COMMANDS)
			continue;
		/* Rows come most failures first within a path. */
		struct analyze_count *p = &f->procs[f->nprocs];
		p->count = col_int(s, 3);
		if (col_text(c, s, 2, false, &p->name) != 0)
			return -1;
		f->nprocs++;
	}
	return 0;
}

static int failing(struct ctx *c)
{
	struct failing_list list = {0};

	if (run(c, "CREATE TEMP TABLE fail_paths(id INTEGER PRIMARY KEY)",
		"finding failing paths") != 0 ||
	    each_row(c,
		     "SELECT f.path, p.path, f.err, f.n FROM\n"
		     "  (SELECT path, result AS err, sum(n) AS n FROM fail_proc\n"
		     "   GROUP BY path, err ORDER BY n DESC, path LIMIT :top) AS f\n"
		     "  LEFT JOIN paths AS p ON p.id = f.path ORDER BY f.n DESC, f.path",
		     "finding failing paths", add_failing, &list) != 0)
		return -1;
	return each_row(
		c,
		"SELECT p.path, x.result, " PROCESS_NAME("pr") ", sum(x.n) FROM\n"
		"  (SELECT path, result, proc, n FROM fail_proc\n"
		"   WHERE path IN (SELECT id FROM fail_paths)) AS x\n"
		"  LEFT JOIN paths AS p ON p.id = x.path\n"
		"  LEFT JOIN procs AS pr ON pr.id = x.proc\n"
		"GROUP BY x.path, x.result, 3 ORDER BY x.path, x.result, sum(x.n) DESC",
		"finding who saw failures", add_failing_proc, NULL);
}

/* ---- findings ---- */

/*
 * What each finding counts, per path (item a and b), from per_path:
 *   REOPENED  a file opened ANALYZE_FINDING_REOPEN_MIN times or more: opens, bytes read
 *   MISSING   a path looked up and not found (ENOENT) ANALYZE_FINDING_MISSING_MIN times
 *             or more: failed lookups, 0
 *   TINY_IO   a file with ANALYZE_FINDING_TINY_MIN reads or writes that moved 1 to
 *             ANALYZE_FINDING_TINY_BYTES-1 bytes, half or more of its reads and
 *             writes: such small ones, all its reads and writes
 *   RELISTED  a directory opened for listing ANALYZE_FINDING_RELIST_MIN times or more:
 *             opendirs, readdirs
 *   FSYNC     any fsync or fsyncdir: calls, time in them
 */
static const struct {
	const char *where; /* condition on per_path, %d the threshold */
	int threshold;
	const char *a, *b; /* the item's numbers */
} finding_sql[ANALYZE_FINDING_KIND_COUNT] = {
	[ANALYZE_FINDING_REOPENED] = {"is_file AND opens >= %d", ANALYZE_FINDING_REOPEN_MIN, "opens", "rbytes"},
	[ANALYZE_FINDING_MISSING] = {"missing >= %d", ANALYZE_FINDING_MISSING_MIN, "missing", "0"},
	[ANALYZE_FINDING_TINY_IO] = {"tiny >= %d AND tiny * 2 >= rw", ANALYZE_FINDING_TINY_MIN, "tiny", "rw"},
	[ANALYZE_FINDING_RELISTED] = {"is_dir AND listings >= %d", ANALYZE_FINDING_RELIST_MIN, "listings",
			      "readdirs"},
	[ANALYZE_FINDING_FSYNC] = {"fsyncs >= %d", 1, "fsyncs", "fsync_ns"},
};

/* One row: path text, a, b. */
static int add_item(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_finding *f = arg;
	size_t cap = f->nitems;
	struct analyze_item *items = grow(f->items, &f->nitems, &cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	f->items = items;
	struct analyze_item *item = &items[f->nitems - 1];
	item->a = col_int(s, 1);
	item->b = col_int(s, 2);
	return col_text(c, s, 0, true, &item->path);
}

/* One row: paths, sum(a), sum(b). */
static int add_finding_totals(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_finding *f = arg;

	(void)c;
	f->paths = col_int(s, 0);
	f->total = col_int(s, 1);
	f->total_ns = f->kind == ANALYZE_FINDING_FSYNC ? col_int(s, 2) : 0;
	return 0;
}

static int finding(struct ctx *c, enum analyze_finding_kind kind)
{
	struct analyze_result *a = c->a;
	struct analyze_finding *f = &a->findings[a->nfindings];
	char where[128], sql[512];

	*f = (struct analyze_finding){.kind = kind};
	snprintf(where, sizeof(where), finding_sql[kind].where, finding_sql[kind].threshold);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*), coalesce(sum(%s), 0), coalesce(sum(%s), 0)"
		 " FROM per_path WHERE %s",
		 finding_sql[kind].a, finding_sql[kind].b, where);
	if (each_row(c, sql, "looking for findings", add_finding_totals, f) != 0)
		return -1;
	if (f->paths == 0)
		return 0;
	a->nfindings++; /* from here on analyze_free frees its items */
	snprintf(sql, sizeof(sql),
		 "SELECT p.path, %s, %s FROM per_path AS pp LEFT JOIN paths AS p ON p.id = pp.path"
		 " WHERE %s ORDER BY 2 DESC, pp.path LIMIT :top",
		 finding_sql[kind].a, finding_sql[kind].b, where);
	return each_row(c, sql, "looking for findings", add_item, f);
}

static int findings(struct ctx *c)
{
	for (int kind = 0; kind < ANALYZE_FINDING_KIND_COUNT; kind++)
		if (finding(c, (enum analyze_finding_kind)kind) != 0)
			return -1;
	return 0;
}

/* ---- processes ---- */

struct process_list {
	size_t cap;
};

/* One row: comm, pids, events, bytes read, bytes written, time. */
static int add_process(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_result *a = c->a;
	struct process_list *list = arg;

	a->nprocesses_total++;
	if (a->nprocesses >= (size_t)c->top)
		return 0;
	struct analyze_process *items = grow(a->processes, &a->nprocesses, &list->cap, sizeof(*items));
	if (!items)
		return out_of_memory(c);
	a->processes = items;
	struct analyze_process *p = &items[a->nprocesses - 1];
	p->pids = col_int(s, 1);
	p->events = col_int(s, 2);
	p->bytes_read = col_int(s, 3);
	p->bytes_written = col_int(s, 4);
	p->fs_ns = col_int(s, 5);
	return col_text(c, s, 0, false, &p->comm);
}

static int processes(struct ctx *c)
{
	struct process_list list = {0};

	return each_row(
		c,
		"SELECT " PROCESS_NAME("pr") ", count(DISTINCT pr.pid), sum(t.n), sum(t.rbytes),\n"
		"  sum(t.wbytes), sum(t.dur) FROM\n"
		"  (SELECT proc, sum(n) AS n, sum(rbytes) AS rbytes, sum(wbytes) AS wbytes,\n"
		"     sum(dur) AS dur FROM slot_proc GROUP BY proc) AS t\n"
		"  LEFT JOIN procs AS pr ON pr.id = t.proc\n"
		"GROUP BY 1 ORDER BY 3 DESC, 1",
		"grouping events by process", add_process, &list);
}

/* ---- command lines (traces with process lineage) ---- */

#define COMMAND_LINE_MAX 50 /* bytes of a command line in the report */

/* A command's events, summed over its processes and their helpers (deps.h). */
struct command_sums {
	size_t owner; /* index in the graph's processes */
	int64_t events, bytes_read, bytes_written, fs_ns;
};

struct command_scan {
	struct deps_graph graph;
	struct command_sums *sums; /* by process index; owner DEPS_NONE: no events */
};

/* One row: id, parent_id, exe, argv: a process of the lineage. */
static int add_lineage_process(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct command_scan *scan = arg;
	char *exe, *json;
	char **argv = NULL;
	size_t argc = 0;
	if (col_text(c, s, 2, false, &exe) != 0)
		return -1;
	if (col_text(c, s, 3, false, &json) != 0) {
		free(exe);
		return -1;
	}
	const char *bad = json ? deps_parse_argv(json, &argv, &argc) : NULL;
	struct deps_process_info info = {
		.id = col_int(s, 0),
		.parent_id = col_int(s, 1),
		.exe = exe,
		.argv = (const char *const *)argv,
		.argc = argc,
	};
	int rc = bad ? corrupt(c, "a process's argv is no JSON array of strings")
	     : deps_graph_add_process(&scan->graph, &info) != 0 ? out_of_memory(c)
								: 0;
	deps_free_argv(argv, argc);
	free(exe);
	free(json);
	return rc;
}

/* One row: processes.id, events, bytes read, bytes written, time. */
static int add_process_events(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct command_scan *scan = arg;
	size_t p = deps_graph_process_index(&scan->graph, col_int(s, 0));
	if (p == DEPS_NONE)
		return corrupt(c, "an event names a process that is not in the processes table");
	size_t owner = scan->graph.processes[p].owner;
	struct command_sums *sum = &scan->sums[owner];
	sum->owner = owner;
	sum->events += col_int(s, 1);
	sum->bytes_read += col_int(s, 2);
	sum->bytes_written += col_int(s, 3);
	sum->fs_ns += col_int(s, 4);
	return 0;
}

/* Orders command sums by argv (unknown last), so that equal command lines are neighbours. */
static int by_argv(const void *x, const void *y, void *arg)
{
	const struct deps_graph *g = arg;
	const struct command_sums *p = x, *q = y;
	const struct deps_process *a = &g->processes[p->owner], *b = &g->processes[q->owner];
	if (!a->argv || !b->argv)
		return (a->argv == NULL) - (b->argv == NULL);
	for (size_t i = 0; i < a->argc && i < b->argc; i++) {
		int cmp = strcmp(a->argv[i], b->argv[i]);
		if (cmp)
			return cmp;
	}
	return (a->argc > b->argc) - (a->argc < b->argc);
}

static int by_events(const void *x, const void *y)
{
	const struct analyze_command *p = x, *q = y;
	if (p->events != q->events)
		return p->events < q->events ? 1 : -1;
	return strcmp(p->line, q->line);
}

/* Groups the command sums by command line into the analysis, busiest first. */
static int group_commands(struct ctx *c, struct command_scan *scan)
{
	struct analyze_result *a = c->a;
	const struct deps_graph *g = &scan->graph;
	size_t n = 0;
	for (size_t i = 0; i < g->nprocesses; i++)
		if (scan->sums[i].owner != DEPS_NONE && g->processes[i].argv)
			scan->sums[n++] = scan->sums[i];
	qsort_r(scan->sums, n, sizeof(*scan->sums), by_argv, (void *)g);
	struct analyze_command *all = calloc(n + 1, sizeof(*all));
	size_t *leader = malloc((n + 1) * sizeof(*leader)); /* a process of each line */
	if (!all || !leader) {
		free(all);
		free(leader);
		return out_of_memory(c);
	}
	size_t groups = 0;
	for (size_t i = 0; i < n; i++) {
		if (i == 0 || by_argv(&scan->sums[i - 1], &scan->sums[i], (void *)g) != 0)
			leader[groups++] = scan->sums[i].owner;
		struct analyze_command *cmd = &all[groups - 1];
		cmd->processes++;
		cmd->events += scan->sums[i].events;
		cmd->bytes_read += scan->sums[i].bytes_read;
		cmd->bytes_written += scan->sums[i].bytes_written;
		cmd->fs_ns += scan->sums[i].fs_ns;
	}
	/* names for people, then the busiest first */
	int rc = 0;
	for (size_t i = 0; i < groups; i++) {
		const struct deps_process *p = &g->processes[leader[i]];
		char line[COMMAND_LINE_MAX + 8];
		deps_command_line((const char *const *)p->argv, p->argc, COMMAND_LINE_MAX, line,
				  sizeof(line));
		all[i].line = strdup(line);
		all[i].argv = calloc(p->argc + 1, sizeof(char *));
		if (!all[i].line || !all[i].argv) {
			rc = out_of_memory(c);
			groups = i + 1;
			break;
		}
		for (size_t j = 0; j < p->argc && rc == 0; j++) {
			all[i].argv[j] = strdup(p->argv[j]);
			all[i].argc = j + 1;
			if (!all[i].argv[j])
				rc = out_of_memory(c);
		}
		if (rc) {
			groups = i + 1;
			break;
		}
	}
	free(leader);
	if (rc == 0)
		qsort(all, groups, sizeof(*all), by_events);
	a->ncommands_total = groups;
	size_t keep = rc == 0 && groups > (size_t)c->top ? (size_t)c->top : groups;
	for (size_t i = keep; i < groups; i++) {
		free(all[i].line);
		deps_free_argv(all[i].argv, all[i].argc);
	}
	a->commands = all;
	a->ncommands = keep;
	return rc;
}

/*
 * Events per command line: each process's events go to its command (a
 * compiler driver owns its cc1, as and ld: deps.h), and commands with the
 * same argv are one line.
 */
static int commands(struct ctx *c)
{
	sqlite3_stmt *s = prepare(c,
				  "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
				  " AND name = 'processes'",
				  "looking for process lineage");
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	c->a->lineage = rc == SQLITE_ROW && sqlite3_column_int(s, 0) > 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW)
		return sql_failed(c, rc, "looking for process lineage");
	if (!c->a->lineage)
		return 0;
	struct command_scan scan;
	char why[256];
	deps_graph_init(&scan.graph);
	scan.sums = NULL;
	rc = each_row(c, "SELECT id, parent_id, exe, argv FROM processes",
		      "reading the processes", add_lineage_process, &scan);
	if (rc == 0 && deps_graph_link(&scan.graph, why, sizeof(why)) != 0)
		rc = corrupt(c, "its processes' parents are unsound");
	if (rc == 0) {
		scan.sums = malloc((scan.graph.nprocesses + 1) * sizeof(*scan.sums));
		if (!scan.sums)
			rc = out_of_memory(c);
		for (size_t i = 0; rc == 0 && i < scan.graph.nprocesses; i++)
			scan.sums[i] = (struct command_sums){.owner = DEPS_NONE};
	}
	if (rc == 0)
		rc = each_row(
			c,
			"SELECT pr.process, sum(t.n), sum(t.rbytes), sum(t.wbytes), sum(t.dur) FROM\n"
			"  (SELECT proc, sum(n) AS n, sum(rbytes) AS rbytes, sum(wbytes) AS wbytes,\n"
			"     sum(dur) AS dur FROM slot_proc GROUP BY proc) AS t\n"
			"  JOIN procs AS pr ON pr.id = t.proc WHERE pr.process IS NOT NULL\n"
			"GROUP BY pr.process",
			"grouping events by command line", add_process_events, &scan);
	if (rc == 0)
		rc = group_commands(c, &scan);
	free(scan.sums);
	deps_graph_free(&scan.graph);
	return rc;
}

/* ---- the timeline and its phases ---- */

/* Names met in slots: commands and phase names. name[0] is NULL: no command. */
struct names {
	char **name;
	size_t count, cap;
};

/* A command's events in one slot. */
struct slot_comm {
	int slot;
	int name;
	int64_t n;
};

struct slot {
	int64_t events, bytes, created, removed, rbytes, wbytes, conf, first, end;
	int leader; /* index into timeline.procs; -1 for none */
	int phase;  /* index into the phases, once found */
};

/* A process (a pid under one command name) and the slots its events span. */
struct proc_span {
	int name; /* its command, in names */
	int32_t pid;
	int first_slot, last_slot;
	int64_t first, events;
};

struct timeline {
	struct names names;
	struct slot_comm *comms;
	size_t ncomms, comms_cap;
	struct proc_span *procs;
	size_t nprocs, procs_cap;
	struct slot slots[ANALYZE_SLOTS];
};

/* The index of NAME in names, added if new; 0 for NULL; -1 out of memory. */
static int name_index(struct ctx *c, struct names *names, const char *name)
{
	if (!name)
		return 0;
	for (size_t i = 1; i < names->count; i++)
		if (strcmp(names->name[i], name) == 0)
			return (int)i;
	char **grown = grow(names->name, &names->count, &names->cap, sizeof(char *));
	if (!grown)
		return out_of_memory(c);
	names->name = grown;
	grown[names->count - 1] = strdup(name);
	return grown[names->count - 1] ? (int)names->count - 1 : out_of_memory(c);
}

/* The slot of a time (events.ts), within the slots. */
static int slot_of(const struct ctx *c, int64_t ts)
{
	int64_t slot = ts <= c->t0 ? 0 : (ts - c->t0) / c->slot_ns;
	return slot >= ANALYZE_SLOTS ? ANALYZE_SLOTS - 1 : (int)slot;
}

/* One row: slot, comm, n, created, removed, rbytes, wbytes, first, end, conf. */
static int add_slot_comm(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct timeline *t = arg;
	int slot = (int)col_int(s, 0);
	int name = name_index(c, &t->names, (const char *)sqlite3_column_text(s, 1));

	if (name < 0)
		return -1;
	struct slot_comm *comms = grow(t->comms, &t->ncomms, &t->comms_cap, sizeof(*comms));
	if (!comms)
		return out_of_memory(c);
	t->comms = comms;
	comms[t->ncomms - 1] = (struct slot_comm){slot, name, col_int(s, 2)};
	struct slot *sl = &t->slots[slot];
	bool first = sl->events == 0;
	sl->events += col_int(s, 2);
	sl->created += col_int(s, 3);
	sl->removed += col_int(s, 4);
	sl->rbytes += col_int(s, 5);
	sl->wbytes += col_int(s, 6);
	sl->bytes = sl->rbytes + sl->wbytes;
	if (first || col_int(s, 7) < sl->first)
		sl->first = col_int(s, 7);
	if (first || col_int(s, 8) > sl->end)
		sl->end = col_int(s, 8);
	sl->conf += col_int(s, 9);
	return 0;
}

/* One row: pid, comm, first, end, events: a process that may lead. */
static int add_proc(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct timeline *t = arg;
	int name = name_index(c, &t->names, (const char *)sqlite3_column_text(s, 1));

	if (name < 0)
		return -1;
	struct proc_span *procs = grow(t->procs, &t->nprocs, &t->procs_cap, sizeof(*procs));
	if (!procs)
		return out_of_memory(c);
	t->procs = procs;
	procs[t->nprocs - 1] = (struct proc_span){
		.name = name,
		.pid = (int32_t)col_int(s, 0),
		.first_slot = slot_of(c, col_int(s, 2)),
		.last_slot = slot_of(c, col_int(s, 3)),
		.first = col_int(s, 2),
		.events = col_int(s, 4),
	};
	return 0;
}

static int load_timeline(struct ctx *c, struct timeline *t)
{
	t->names.name = calloc(1, sizeof(char *));
	if (!t->names.name)
		return out_of_memory(c);
	t->names.count = t->names.cap = 1; /* name[0]: no command */
	if (each_row(c,
		     "SELECT sp.slot, " PROCESS_NAME("pr") ", sum(sp.n), sum(sp.created),\n"
		     "  sum(sp.removed), sum(sp.rbytes), sum(sp.wbytes), min(sp.first_ts),\n"
		     "  max(sp.last_end), sum(CASE WHEN sp.conf THEN sp.n ELSE 0 END)\n"
		     "FROM slot_proc AS sp LEFT JOIN procs AS pr ON pr.id = sp.proc\n"
		     "GROUP BY sp.slot, 2",
		     "building the timeline", add_slot_comm, t) != 0)
		return -1;
	/* The kernel's own requests (pid 0) span the run and lead nothing. */
	return each_row(c,
			"SELECT pr.pid, pr.comm, min(sp.first_ts), max(sp.last_end), sum(sp.n)\n"
			"FROM slot_proc AS sp JOIN procs AS pr ON pr.id = sp.proc\n"
			"WHERE pr.comm IS NOT NULL AND pr.pid != 0 GROUP BY sp.proc",
			"finding phases", add_proc, t);
}

/* Events per name over slots from..to, in a calloc'd array of names.count. */
static int64_t *sum_names(const struct timeline *t, int from, int to)
{
	int64_t *sum = calloc(t->names.count, sizeof(*sum));

	for (size_t i = 0; sum && i < t->ncomms; i++)
		if (t->comms[i].slot >= from && t->comms[i].slot <= to)
			sum[t->comms[i].name] += t->comms[i].n;
	return sum;
}

static int by_first(const void *x, const void *y)
{
	const struct proc_span *a = x, *b = y;
	if (a->first != b->first)
		return a->first < b->first ? -1 : 1;
	return b->last_slot - a->last_slot; /* the longer first */
}

/*
 * A process whose own events are under SPARSE_PERCENT of the events in its
 * span does not lead: the script or interactive shell that runs the steps,
 * or a `make` that only recurses, which a person does not name.
 */
static bool sparse(const struct timeline *t, const struct proc_span *p)
{
	int64_t in_span = 0;

	for (int s = p->first_slot; s <= p->last_slot; s++)
		in_span += t->slots[s].events;
	return p->events * 100 < in_span * SPARSE_PERCENT;
}

/*
 * Each slot is led by the process that started first among those whose
 * events span it: the step of the script (tar, the shell running
 * configure, make, rm) rather than the compilers and shells it runs.
 */
static void find_leaders(struct timeline *t)
{
	for (int s = 0; s < ANALYZE_SLOTS; s++)
		t->slots[s].leader = t->slots[s].phase = -1;
	if (t->nprocs)
		qsort(t->procs, t->nprocs, sizeof(*t->procs), by_first);
	for (size_t i = 0; i < t->nprocs; i++) {
		const struct proc_span *p = &t->procs[i];
		if (sparse(t, p))
			continue;
		for (int s = p->first_slot; s <= p->last_slot; s++)
			if (t->slots[s].leader < 0)
				t->slots[s].leader = (int)i;
	}
}

/* A run of empty slots long enough to be a pause between two pieces of work. */
static bool idle_gap(const struct ctx *c, const struct timeline *t, int from, int to)
{
	for (int s = from; s <= to; s++)
		if (t->slots[s].events)
			return false;
	return to - from + 1 >= IDLE_GAP_SLOTS && (to - from + 1) * c->slot_ns >= IDLE_GAP_MIN_NS;
}

/* Runs of slots: the candidate phases. */
struct run {
	int first, last;
	int label; /* a leader (index into procs) while cutting, then a name */
	int64_t events, created, removed, conf, rbytes, wbytes;
	bool after_gap;
};

static void add_slot(struct run *r, const struct slot *sl, int s)
{
	r->last = s;
	r->events += sl->events;
	r->created += sl->created;
	r->removed += sl->removed;
	r->conf += sl->conf;
	r->rbytes += sl->rbytes;
	r->wbytes += sl->wbytes;
}

static void add_run(struct run *into, const struct run *r)
{
	if (r->first < into->first) {
		into->first = r->first;
		into->after_gap = r->after_gap;
	}
	if (r->last > into->last)
		into->last = r->last;
	into->events += r->events;
	into->created += r->created;
	into->removed += r->removed;
	into->conf += r->conf;
	into->rbytes += r->rbytes;
	into->wbytes += r->wbytes;
}

/*
 * Splits where the leader changes, and at idle gaps between two pieces of
 * work. A busy slot without a leader (only the kernel's requests) stays
 * with the run before it.
 */
static size_t find_runs(const struct ctx *c, const struct timeline *t, struct run *runs)
{
	size_t n = 0;
	int gap_from = -1;

	for (int s = 0; s < ANALYZE_SLOTS; s++) {
		const struct slot *sl = &t->slots[s];
		if (!sl->events) {
			if (gap_from < 0)
				gap_from = s;
			continue;
		}
		/* A pause within one process's work (configure's `sleep 1`) is no gap. */
		bool gap = gap_from >= 0 && idle_gap(c, t, gap_from, s - 1) &&
			   (!n || t->slots[gap_from].leader != runs[n - 1].label ||
			    sl->leader != runs[n - 1].label);
		gap_from = -1;
		int leader = sl->leader >= 0 || !n ? sl->leader : runs[n - 1].label;
		if (!n || gap || leader != runs[n - 1].label)
			runs[n++] = (struct run){.first = s, .label = leader, .after_gap = gap};
		add_slot(&runs[n - 1], sl, s);
	}
	return n;
}

/* What people call the work of some well-known commands. */
static const struct {
	const char *comm, *name;
} verbs[] = {
	{"rm", "remove"},   {"cp", "copy"},	{"rsync", "copy"}, {"mv", "move"},
	{"grep", "search"}, {"rg", "search"},	{"ag", "search"},  {"ack", "search"},
	{"tar", "unpack"},  {"bsdtar", "unpack"}, {"unzip", "unpack"}, {"cpio", "unpack"},
	{"7z", "unpack"},
};

static bool is_shell(const char *comm)
{
	static const char *const shells[] = {"sh", "bash", "dash", "zsh", "ksh", "mksh", "busybox"};
	for (size_t i = 0; i < sizeof(shells) / sizeof(shells[0]); i++)
		if (strcmp(comm, shells[i]) == 0)
			return true;
	return false;
}

/* The busiest command of a run that is neither a shell nor the kernel, or NULL. */
static const char *busiest_worker(const struct timeline *t, const struct run *r)
{
	int64_t *sum = sum_names(t, r->first, r->last);
	size_t best = 0;

	for (size_t n = 1; sum && n < t->names.count; n++)
		if (sum[n] > (best ? sum[best] : 0) && !is_shell(t->names.name[n]) &&
		    strcmp(t->names.name[n], trace_process_name(NULL, 0)) != 0)
			best = n;
	free(sum);
	return best ? t->names.name[best] : NULL;
}

/*
 * The name of a run: "configure" for autoconf's probing (the leader is
 * configure or config.status, or CONF_PERCENT of the events are on
 * conftest*, confdefs.h or config.log); the verb of a well-known leader
 * (tar: "unpack", or "archive" when it reads more than it writes; rm:
 * "remove"; cp: "copy", ...); "clean" when removing files is most of what
 * changes (`make distclean`); for a shell (the steps of a script typed
 * or run), its busiest other command; else the leader's command.
 */
static const char *run_name(const struct timeline *t, const struct run *r)
{
	const char *comm = r->label >= 0 ? t->names.name[t->procs[r->label].name] : NULL;

	if ((comm && (strcmp(comm, "configure") == 0 || strcmp(comm, "config.status") == 0)) ||
	    r->conf * 100 >= r->events * CONF_PERCENT)
		return "configure";
	for (size_t i = 0; comm && i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(comm, verbs[i].comm) != 0)
			continue;
		if (strcmp(verbs[i].name, "unpack") == 0 && r->rbytes > r->wbytes)
			return "archive";
		return verbs[i].name;
	}
	if (r->removed >= CLEAN_MIN_REMOVED && r->removed >= 2 * r->created &&
	    r->removed * 100 >= r->events * CLEAN_PERCENT)
		return "clean";
	if (comm && is_shell(comm)) {
		const char *busiest = busiest_worker(t, r);
		if (busiest)
			return busiest;
	}
	return comm ? comm : trace_process_name(NULL, 0); /* only the kernel's requests */
}

/*
 * A run a person would not name: under MINOR_PERCENT of the events without
 * changing much (a `find` between two steps), or under TINY_PERCENT.
 */
static bool minor(const struct ctx *c, const struct run *r)
{
	if (r->events * 1000 < c->a->events * TINY_PERMILLE)
		return true;
	return r->events * 100 < c->a->events * MINOR_PERCENT &&
	       (r->created + r->removed) * 10 < r->events;
}

/* Joins neighbours with the same label that no idle gap separates. */
static size_t join_alike(struct run *runs, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (out && !runs[i].after_gap && runs[i].label == runs[out - 1].label)
			add_run(&runs[out - 1], &runs[i]);
		else
			runs[out++] = runs[i];
	}
	return out;
}

/*
 * Merges each minor run into a neighbour: the one before, unless an idle
 * gap separates them; a minor run between two gaps stays a phase.
 */
static size_t merge_runs(const struct ctx *c, struct run *runs, size_t n)
{
	n = join_alike(runs, n);
	for (size_t i = 0; i < n && n > 1;) {
		size_t into = i > 0 && !runs[i].after_gap ? i - 1 : i + 1;
		if (!minor(c, &runs[i]) || into >= n || (into == i + 1 && runs[into].after_gap)) {
			i++;
			continue;
		}
		add_run(&runs[into], &runs[i]);
		memmove(&runs[i], &runs[i + 1], (n - i - 1) * sizeof(*runs));
		n = join_alike(runs, n - 1);
		i = 0; /* a merge may make a neighbour mergeable */
	}
	return n;
}

/* The busiest named commands of slots from..to into counts. */
static int top_commands(struct ctx *c, const struct timeline *t, int from, int to,
			struct analyze_count *counts, size_t *ncounts)
{
	int64_t *sum = sum_names(t, from, to);

	if (!sum)
		return out_of_memory(c);
	*ncounts = 0;
	for (size_t k = 0; k < ANALYZE_TOP_COMMANDS; k++) {
		size_t best = 0;
		for (size_t n = 1; n < t->names.count; n++)
			if (sum[n] > sum[best])
				best = n;
		if (!best)
			break;
		counts[k].count = sum[best];
		counts[k].name = strdup(t->names.name[best]);
		sum[best] = 0;
		if (!counts[k].name) {
			free(sum);
			return out_of_memory(c);
		}
		(*ncounts)++;
	}
	free(sum);
	return 0;
}

static int make_phase(struct ctx *c, const struct timeline *t, const struct run *r,
		      const char *leader, struct analyze_phase *p)
{
	int64_t start_ns = trace_reader_start_ns(c->reader);
	bool first = true;

	for (int s = r->first; s <= r->last; s++) {
		const struct slot *sl = &t->slots[s];
		if (!sl->events)
			continue;
		if (first || sl->first + start_ns < p->start_ns)
			p->start_ns = sl->first + start_ns;
		if (first || sl->end + start_ns > p->end_ns)
			p->end_ns = sl->end + start_ns;
		first = false;
	}
	p->events = r->events;
	p->created = r->created;
	p->removed = r->removed;
	p->bytes_read = r->rbytes;
	p->bytes_written = r->wbytes;
	p->name = strdup(t->names.name[r->label]);
	p->command = leader ? strdup(leader) : NULL;
	if (!p->name || (leader && !p->command))
		return out_of_memory(c);
	return top_commands(c, t, r->first, r->last, p->commands, &p->ncommands);
}

/*
 * Phases: the stretches of the run a person would name (unpack, configure,
 * make, clean, remove). The run is cut into ANALYZE_SLOTS equal slots; a
 * slot's leader is the earliest-started process whose events span it (see
 * find_leaders), so the compilers and shells a step runs do not lead.
 * Runs of slots with one leader, split at idle gaps (IDLE_GAP_SLOTS empty
 * slots and IDLE_GAP_MIN_NS), are named by run_name(); neighbours with the
 * same name are joined, and a minor run (see minor()) is merged into the
 * phase before it (after it, at the start).
 */
static int find_phases(struct ctx *c, struct timeline *t)
{
	struct analyze_result *a = c->a;
	struct run *runs = calloc(ANALYZE_SLOTS, sizeof(*runs));

	if (!runs)
		return out_of_memory(c);
	find_leaders(t);
	size_t n = find_runs(c, t, runs);
	for (size_t i = 0; i < n; i++) {
		runs[i].label = name_index(c, &t->names, run_name(t, &runs[i]));
		if (runs[i].label < 0)
			goto fail;
	}
	n = merge_runs(c, runs, n);
	a->phases = calloc(n ? n : 1, sizeof(*a->phases));
	if (!a->phases) {
		out_of_memory(c);
		goto fail;
	}
	for (size_t i = 0; i < n; i++) {
		const struct run *r = &runs[i];
		/* Who ran it: the command that led the most of its events. */
		int64_t *led = calloc(t->names.count, sizeof(*led));
		if (!led) {
			out_of_memory(c);
			goto fail;
		}
		int leader = 0;
		for (int s = r->first; s <= r->last; s++)
			if (t->slots[s].leader >= 0)
				led[t->procs[t->slots[s].leader].name] += t->slots[s].events;
		for (size_t k = 1; k < t->names.count; k++)
			if (led[k] > led[leader])
				leader = (int)k;
		free(led);
		a->nphases++;
		if (make_phase(c, t, r, leader ? t->names.name[leader] : NULL, &a->phases[i]) != 0)
			goto fail;
		for (int s = r->first; s <= r->last; s++)
			t->slots[s].phase = (int)i;
	}
	free(runs);
	return 0;
fail:
	free(runs);
	return -1;
}

static int fill_buckets(struct ctx *c, struct timeline *t)
{
	struct analyze_result *a = c->a;

	a->nbuckets = a->events ? ANALYZE_BUCKETS : 0;
	a->bucket_ns = c->slot_ns * ANALYZE_SLOTS_PER_BUCKET;
	for (size_t b = 0; b < a->nbuckets; b++) {
		struct analyze_bucket *bucket = &a->buckets[b];
		int from = (int)b * ANALYZE_SLOTS_PER_BUCKET;
		int to = from + ANALYZE_SLOTS_PER_BUCKET - 1;
		int64_t busiest = 0;
		bucket->start_ns = a->first_ns + (int64_t)b * a->bucket_ns;
		bucket->phase = -1;
		for (int s = from; s <= to; s++) {
			bucket->events += t->slots[s].events;
			bucket->bytes += t->slots[s].bytes;
			if (t->slots[s].events > busiest) {
				busiest = t->slots[s].events;
				bucket->phase = t->slots[s].phase;
			}
		}
		if (top_commands(c, t, from, to, bucket->commands, &bucket->ncommands) != 0)
			return -1;
	}
	return 0;
}

static void free_timeline(struct timeline *t)
{
	for (size_t i = 1; i < t->names.count; i++)
		free(t->names.name[i]);
	free(t->names.name);
	free(t->comms);
	free(t->procs);
}

static int timeline(struct ctx *c)
{
	struct timeline *t = calloc(1, sizeof(*t));

	if (!t)
		return out_of_memory(c);
	int result = load_timeline(c, t);
	if (result == 0 && c->a->events)
		result = find_phases(c, t);
	if (result == 0)
		result = fill_buckets(c, t);
	free_timeline(t);
	free(t);
	return result;
}

/* ---- the versioned store's commits ---- */

struct commit_list {
	size_t cap;
};

/* One row of the commits view. */
static int add_commit(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analyze_result *a = c->a;
	struct commit_list *list = arg;

	a->ncommits_total++;
	if (a->ncommits >= (size_t)c->top)
		return 0;
	struct analyze_commit *items = grow(a->commits, &a->ncommits, &list->cap, sizeof(*items));
	if (!items)
		return out_of_memory(c);
	a->commits = items;
	struct analyze_commit *commit = &items[a->ncommits - 1];
	commit->seq = col_int(s, 0);
	commit->ts_ns = col_int(s, 1) + trace_reader_start_ns(c->reader);
	commit->dur_ns = col_int(s, 2);
	commit->files = col_int(s, 4);
	commit->result = (int32_t)col_int(s, 6);
	commit->first_seq = col_int(s, 7);
	commit->last_seq = col_int(s, 8);
	if (col_text(c, s, 3, false, &commit->id) != 0)
		return -1;
	return col_text(c, s, 5, false, &commit->path);
}

static int commits(struct ctx *c)
{
	struct commit_list list = {0};
	bool any = false;

	for (size_t i = 0; i < c->a->nops; i++)
		any |= c->a->ops[i].op == TRACE_OP_COMMIT;
	if (!any)
		return 0;
	/* The commits view's query (readers run no view), on the tables. */
	return each_row(c,
			TRACE_SCHEMA_COMMIT_RANGES(":commit")
			"SELECT e.seq, e.ts, e.dur, p2.path, e.bytes, p.path, e.result,\n"
			"  r.first_seq, r.last_seq FROM events AS e\n"
			"  JOIN ranges AS r ON r.commit_seq = e.seq\n"
			"  LEFT JOIN paths AS p ON p.id = e.path\n"
			"  LEFT JOIN paths AS p2 ON p2.id = e.path2 ORDER BY e.seq",
			"listing the commits", add_commit, &list);
}

/* ---- the whole ---- */

static int analyse(struct ctx *c)
{
	read_meta(c);
	/*
	 * One read transaction: every scan sees the same events, even while a
	 * recorder is still adding to the trace. Closing the connection ends it.
	 */
	struct scan *sc = calloc(1, sizeof(*sc));
	struct latencies *latencies = calloc(1, sizeof(*latencies));
	if (!sc || !latencies) {
		free(sc);
		free(latencies);
		return out_of_memory(c);
	}
	int result = run(c, "BEGIN", "starting to read") != 0 || configure_sorts(c) != 0 ||
			     scan_events(c, sc) != 0
		     ? -1
		     : 0;
	if (result == 0) {
		latencies_start(latencies, sc);
		result = totals(c, sc) != 0 || make_tables(c, sc) != 0 ? -1 : 0;
	}
	scan_free(sc);
	free(sc);
	if (result != 0 || hot(c) != 0 || failing(c) != 0 || findings(c) != 0 ||
	    processes(c) != 0 || commands(c) != 0 || timeline(c) != 0 || commits(c) != 0)
		result = -1;
	latencies_finish(latencies, c->a);
	free(latencies);
	return result;
}

int analyze_run(const char *file, int top, struct analyze_result *out, char *err, size_t err_size)
{
	struct ctx c = {.a = out, .top = top, .err = err, .err_size = err_size};

	memset(out, 0, sizeof(*out));
	c.reader = trace_reader_open(file, err, err_size);
	if (!c.reader)
		return -1;
	c.db = trace_reader_db(c.reader);
	out->file = strdup(file);
	int result = out->file ? analyse(&c) : out_of_memory(&c);
	trace_reader_close(c.reader); /* TEMP tables go with the connection */
	if (result != 0)
		analyze_free(out);
	return result;
}

static void free_counts(struct analyze_count *counts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(counts[i].name);
}

static void free_hot(struct analyze_hot *hot, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(hot[i].path);
	free(hot);
}

void analyze_free(struct analyze_result *a)
{
	char **strings[] = {&a->file,	    &a->source,	    &a->mountpoint,  &a->host,
			    &a->start_time, &a->cache_mode, &a->command_line};

	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++)
		free(*strings[i]);
	free(a->ops);
	free(a->errnos);
	for (size_t i = 0; i < a->nfailing; i++) {
		free(a->failing[i].path);
		free_counts(a->failing[i].procs, a->failing[i].nprocs);
	}
	free(a->failing);
	for (size_t i = 0; i < a->nprocesses; i++)
		free(a->processes[i].comm);
	free(a->processes);
	for (size_t i = 0; i < a->ncommands; i++) {
		free(a->commands[i].line);
		deps_free_argv(a->commands[i].argv, a->commands[i].argc);
	}
	free(a->commands);
	free_hot(a->hot_files_events, a->nhot_files_events);
	free_hot(a->hot_files_bytes, a->nhot_files_bytes);
	free_hot(a->hot_dirs_events, a->nhot_dirs_events);
	free_hot(a->hot_dirs_bytes, a->nhot_dirs_bytes);
	for (size_t i = 0; i < a->nbuckets; i++)
		free_counts(a->buckets[i].commands, a->buckets[i].ncommands);
	for (size_t i = 0; i < a->nphases; i++) {
		free(a->phases[i].name);
		free(a->phases[i].command);
		free_counts(a->phases[i].commands, a->phases[i].ncommands);
	}
	free(a->phases);
	for (size_t i = 0; i < a->nfindings; i++) {
		for (size_t j = 0; j < a->findings[i].nitems; j++)
			free(a->findings[i].items[j].path);
		free(a->findings[i].items);
	}
	for (size_t i = 0; i < a->ncommits; i++) {
		free(a->commits[i].id);
		free(a->commits[i].path);
	}
	free(a->commits);
	memset(a, 0, sizeof(*a));
}

const char *analyze_errno_name(int32_t result, char *buf, size_t size)
{
	const char *name = result < 0 && result > INT32_MIN ? strerrorname_np(-result) : NULL;

	if (name)
		return name;
	snprintf(buf, size, "E%lld", -(long long)result);
	return buf;
}
