/*
 * analysis.c — the workload analysis behind `tracefs report` (analysis.h).
 *
 * Everything is SQL aggregation in SQLite, over the private tables beneath
 * the trace view, so that a trace of tens of millions of events reports in
 * seconds with little memory. The events table is scanned four times:
 *   1. GROUP BY path, op, kind, failure into TEMP path_op, checking on the
 *      way that every value the report uses is sound;
 *   2. its durations, sorted by op and duration into TEMP lat, whose rowids
 *      then give exact percentiles by position (nearest rank);
 *   3. GROUP BY time slot, process and "is configure's" into TEMP slot_proc,
 *      for the processes, the timeline and the phases;
 *   4. the failures on the top failing paths, to name who looked.
 * Everything else reads those (much smaller) TEMP tables.
 */
#include "recorder/analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/reader.h"

/* ---- phases: see find_phases() for the rule ---- */

/* Commands that lead a piece of work; the others work for them. */
static const char *const drivers[] = {
	"make",	   "gmake", "bmake", "ninja",	"samu", "cmake", "meson", "scons", "bazel",
	"cargo",   "go",    "mvn",   "gradle",	"ant",	"npm",	 "yarn",  "pnpm",  "pip",
	"pip3",	   "tar",   "unzip", "rm",	"cp",	"mv",	 "rsync", "git",   "hg",
	"svn",	   "dpkg",  "apt",   "apt-get", "rpm",	"find",	 "du",	  "ls",	   "dd",
	"install", "patch", "gzip",  "xz",	"zstd", "bzip2",
};
#define CONFIGURE "configure"
#define LEADER_MIN_LIFE_NS 1000000000LL /* or 1% of the run, if that is longer */
#define IDLE_GAP_SLOTS 2		/* and at least IDLE_GAP_MIN_NS */
#define IDLE_GAP_MIN_NS 1000000000LL
#define MINOR_SLOTS 3	       /* a run shorter than this ... */
#define MINOR_EVENTS_PERCENT 1 /* ... with fewer events than this is merged */
#define CLEANING_PERCENT 15    /* of a slot's events remove files */

/* What the analysis works with. */
struct ctx {
	struct rec_reader *reader;
	sqlite3 *db;
	struct analysis *a;
	int top;
	char *err;
	size_t err_size;
	int64_t t0;	 /* events.ts of the first event (relative to start_ns) */
	int64_t t_last;	 /* events.ts of the last event to start */
	int64_t slot_ns; /* width of a phase slot */
};

/* ---- errors and SQL helpers ---- */

static int sql_failed(struct ctx *c, int rc, const char *doing)
{
	rec_reader_sql_error(c->reader, rc, doing, c->err, c->err_size);
	return -1;
}

__attribute__((format(printf, 2, 3))) static int corrupt(struct ctx *c, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(c->err, c->err_size, "trace %s is corrupt: %s", rec_reader_file(c->reader), what);
	return -1;
}

static int out_of_memory(struct ctx *c)
{
	snprintf(c->err, c->err_size, "out of memory");
	return -1;
}

/*
 * Binds the parameters a statement names: :t0, :slot_ns, :top, :tiny,
 * :enodata (-ENODATA), the operations by name (:read, :mkdir, ...) to the
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
			value = FINDING_TINY_BYTES;
		else if (strcmp(name, "enodata") == 0)
			value = -ENODATA;
		else if (strncmp(name, "kind_", 5) == 0) {
			for (int k = 0; k < REC_KIND_COUNT; k++)
				if (rec_kind_name(k) && strcmp(name + 5, rec_kind_name(k)) == 0)
					value = rec_reader_id_of_kind(c->reader, k);
		} else {
			for (int op = 0; op < REC_OP_COUNT; op++)
				if (strcmp(name, rec_op_name(op)) == 0)
					value = rec_reader_id_of_op(c->reader, op);
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
	struct analysis *a = c->a;
	char *lost = rec_reader_meta(c->reader, "events_lost");

	a->source = rec_reader_meta(c->reader, "source");
	a->mountpoint = rec_reader_meta(c->reader, "mountpoint");
	a->host = rec_reader_meta(c->reader, "host");
	a->start_time = rec_reader_meta(c->reader, "start_time");
	a->cache_mode = rec_reader_meta(c->reader, "cache_mode");
	a->command_line = rec_reader_meta(c->reader, "command_line");
	a->events_lost = lost ? strtoll(lost, NULL, 10) : 0;
	if (a->events_lost < 0)
		a->events_lost = 0;
	free(lost);
}

/* ---- scan 1: by path and operation ---- */

/* An event that the reader would refuse (reader.h: the one check of every reader). */
#define BAD_EVENT "(" REC_READER_EVENT_ERROR_SQL " IS NOT NULL)"

static const char *const path_op_sql =
	"CREATE TEMP TABLE path_op AS SELECT path, op, kind,\n"
	"  CASE WHEN result < 0 THEN result ELSE 0 END AS err,\n"
	"  count(*) AS n, coalesce(sum(bytes), 0) AS bytes,\n"
	"  coalesce(sum(bytes > 0 AND bytes < :tiny), 0) AS tiny,\n"
	"  sum(dur) AS dur, max(dur) AS max_dur, min(ts) AS first_ts, max(ts) AS last_ts,\n"
	"  max(ts + dur) AS last_end, max(" BAD_EVENT ") AS bad\n"
	"FROM events GROUP BY path, op, kind, err";

static int check_sound(struct ctx *c)
{
	sqlite3_stmt *s = prepare(c,
				  "SELECT seq, " REC_READER_EVENT_ERROR_SQL " FROM events WHERE " BAD_EVENT
				  " LIMIT 1",
				  "checking events");
	if (!s)
		return -1;
	int rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		corrupt(c, "event seq %" PRId64 ": %s", col_int(s, 0), sqlite3_column_text(s, 1));
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return -1;
	return rc == SQLITE_DONE ? 0 : sql_failed(c, rc, "checking events");
}

/* Every op and kind id used must be one we know. */
static int check_ids(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	(void)arg;
	if (col_int(s, 2))
		return check_sound(c);
	if (rec_reader_op_of_id(c->reader, col_int(s, 0)) < 0)
		return corrupt(c, "unknown operation id %lld", (long long)col_int(s, 0));
	if (rec_reader_kind_of_id(c->reader, col_int(s, 1)) < 0)
		return corrupt(c, "unknown kind id %lld", (long long)col_int(s, 1));
	return 0;
}

static int scan_paths(struct ctx *c)
{
	if (run(c, path_op_sql, "grouping events by path") != 0)
		return -1;
	return each_row(c, "SELECT op, kind, max(bad) FROM path_op GROUP BY op, kind",
			"checking events", check_ids, NULL);
}

/* ---- operations, errors, totals ---- */

static struct an_op *op_entry(struct ctx *c, enum rec_op op)
{
	struct analysis *a = c->a;
	size_t cap = a->nops;

	for (size_t i = 0; i < a->nops; i++)
		if (a->ops[i].op == op)
			return &a->ops[i];
	struct an_op *ops = grow(a->ops, &a->nops, &cap, sizeof(*ops));
	if (!ops)
		return NULL;
	a->ops = ops;
	ops[a->nops - 1].op = op;
	return &ops[a->nops - 1];
}

/* Counts n failures of op with result; remembers the op that fails most. */
static int add_errno(struct ctx *c, int32_t result, enum rec_op op, int64_t n)
{
	struct analysis *a = c->a;
	size_t cap = a->nerrnos;
	struct an_errno *e = NULL;

	for (size_t i = 0; i < a->nerrnos && !e; i++)
		if (a->errnos[i].result == result)
			e = &a->errnos[i];
	if (!e) {
		struct an_errno *errnos = grow(a->errnos, &a->nerrnos, &cap, sizeof(*errnos));
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
static void count_changes(struct analysis *a, enum rec_op op, int64_t n)
{
	switch (op) {
	case REC_OP_CREATE:
	case REC_OP_MKNOD:
	case REC_OP_SYMLINK:
	case REC_OP_LINK: a->files_created += n; break;
	case REC_OP_MKDIR: a->dirs_created += n; break;
	case REC_OP_UNLINK: a->files_removed += n; break;
	case REC_OP_RMDIR: a->dirs_removed += n; break;
	case REC_OP_RENAME: a->renamed += n; break;
	default: break;
	}
}

/* One row: op, err, n, bytes, dur, max_dur, first_ts, last_ts, last_end. */
static int add_op_row(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analysis *a = c->a;
	enum rec_op op = (enum rec_op)rec_reader_op_of_id(c->reader, col_int(s, 0));
	int64_t err = col_int(s, 1), n = col_int(s, 2), bytes = col_int(s, 3);
	struct an_op *entry = op_entry(c, op);
	bool *seen = arg;

	if (!entry)
		return out_of_memory(c);
	entry->count += n;
	entry->bytes += bytes;
	entry->total_ns += col_int(s, 4);
	if (col_int(s, 5) > entry->max_ns)
		entry->max_ns = col_int(s, 5);
	if (!*seen || col_int(s, 6) < c->t0)
		c->t0 = col_int(s, 6);
	if (!*seen || col_int(s, 7) > c->t_last)
		c->t_last = col_int(s, 7);
	if (!*seen || col_int(s, 8) > a->end_ns)
		a->end_ns = col_int(s, 8); /* relative until totals() */
	*seen = true;
	a->events += n;
	a->fs_ns += col_int(s, 4);
	if (op == REC_OP_READ)
		a->bytes_read += bytes;
	else if (op == REC_OP_WRITE || op == REC_OP_COPY_FILE_RANGE)
		a->bytes_written += bytes;
	if (err < 0) {
		entry->errors += n;
		a->errors += n;
		return add_errno(c, (int32_t)err, op, n);
	}
	count_changes(a, op, n);
	return 0;
}

static int by_count_desc(const void *x, const void *y)
{
	const struct an_op *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return (int)a->op - (int)b->op;
}

static int errno_by_count_desc(const void *x, const void *y)
{
	const struct an_errno *a = x, *b = y;
	if (a->count != b->count)
		return a->count > b->count ? -1 : 1;
	return b->result - a->result;
}

static int totals(struct ctx *c)
{
	struct analysis *a = c->a;
	bool seen = false;
	int64_t start_ns = rec_reader_start_ns(c->reader);

	if (each_row(c,
		     "SELECT op, err, sum(n), sum(bytes), sum(dur), max(max_dur), min(first_ts),\n"
		     "  max(last_ts), max(last_end) FROM path_op GROUP BY op, err",
		     "counting operations", add_op_row, &seen) != 0)
		return -1;
	if (!seen)
		c->t0 = c->t_last = a->end_ns = 0;
	/* Past these checks, the difference of any two times of the run fits. */
	int64_t span, duration;
	if (__builtin_add_overflow(c->t0, start_ns, &a->first_ns) ||
	    __builtin_add_overflow(a->end_ns, start_ns, &a->end_ns) ||
	    __builtin_sub_overflow(c->t_last, c->t0, &span) ||
	    __builtin_sub_overflow(a->end_ns, a->first_ns, &duration) || span < 0 || duration < 0)
		return corrupt(c, "event times out of range");
	if (a->nops) /* qsort wants a pointer even for nothing */
		qsort(a->ops, a->nops, sizeof(*a->ops), by_count_desc);
	if (a->nerrnos)
		qsort(a->errnos, a->nerrnos, sizeof(*a->errnos), errno_by_count_desc);
	/* Slots cover [t0, t_last]; +1, so that the last start falls in the last one. */
	c->slot_ns = span / ANALYSIS_SLOTS + 1;
	return 0;
}

/* ---- scan 2: latency percentiles ---- */

/* Where the next op's durations start in lat, and how to read one. */
struct lat_base {
	int64_t next_rowid;
	sqlite3_stmt *lookup;
};

/* Nearest rank: the value at rank ceil(p * n / 100), 1-based. */
static int64_t rank_of(int64_t n, int p)
{
	return (n * p + 99) / 100;
}

static int percentile(struct ctx *c, sqlite3_stmt *lookup, int64_t rowid, int64_t *value)
{
	sqlite3_bind_int64(lookup, 1, rowid);
	int rc = sqlite3_step(lookup);
	*value = rc == SQLITE_ROW ? col_int(lookup, 0) : 0;
	sqlite3_reset(lookup);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? corrupt(c, "the events changed while being read")
				 : sql_failed(c, rc, "reading latencies");
}

/* One row: op id, count. Rows come in op id order, as lat is sorted. */
static int add_percentiles(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct lat_base *base = arg;
	enum rec_op op = (enum rec_op)rec_reader_op_of_id(c->reader, col_int(s, 0));
	int64_t n = col_int(s, 1), first = base->next_rowid - 1;
	struct an_op *entry = op_entry(c, op);

	if (!entry)
		return out_of_memory(c);
	base->next_rowid += n;
	if (percentile(c, base->lookup, first + rank_of(n, 50), &entry->p50_ns) != 0 ||
	    percentile(c, base->lookup, first + rank_of(n, 90), &entry->p90_ns) != 0)
		return -1;
	return percentile(c, base->lookup, first + rank_of(n, 99), &entry->p99_ns);
}

static int latencies(struct ctx *c)
{
	struct lat_base base = {1, NULL};

	/* A fresh table numbers rows 1, 2, ... in the order they come. */
	if (run(c, "CREATE TEMP TABLE lat(dur INTEGER)", "sorting latencies") != 0 ||
	    run(c, "INSERT INTO lat(dur) SELECT dur FROM events ORDER BY op, dur",
		"sorting latencies") != 0)
		return -1;
	base.lookup = prepare(c, "SELECT dur FROM lat WHERE rowid = ?1", "reading latencies");
	if (!base.lookup)
		return -1;
	int result = each_row(c, "SELECT op, sum(n) FROM path_op GROUP BY op ORDER BY op",
			      "reading latencies", add_percentiles, &base);
	sqlite3_finalize(base.lookup);
	return result;
}

/* ---- per path: hot files and directories, failing paths, findings ---- */

static const char *const per_path_sql =
	"CREATE TEMP TABLE per_path AS SELECT path,\n"
	"  sum(n) AS events,\n"
	"  sum(CASE WHEN op = :read THEN bytes ELSE 0 END) AS rbytes,\n"
	"  sum(CASE WHEN op IN (:write, :copy_file_range) THEN bytes ELSE 0 END) AS wbytes,\n"
	"  sum(CASE WHEN op = :open AND err = 0 THEN n ELSE 0 END) AS opens,\n"
	"  sum(CASE WHEN op = :lookup AND err = -2 THEN n ELSE 0 END) AS missing,\n"
	"  sum(CASE WHEN op IN (:read, :write) THEN tiny ELSE 0 END) AS tiny,\n"
	"  sum(CASE WHEN op IN (:read, :write) THEN n ELSE 0 END) AS rw,\n"
	"  sum(CASE WHEN op = :opendir AND err = 0 THEN n ELSE 0 END) AS listings,\n"
	"  sum(CASE WHEN op = :readdir THEN n ELSE 0 END) AS readdirs,\n"
	"  sum(CASE WHEN op IN (:fsync, :fsyncdir) THEN n ELSE 0 END) AS fsyncs,\n"
	"  sum(CASE WHEN op IN (:fsync, :fsyncdir) THEN dur ELSE 0 END) AS fsync_ns,\n"
	"  max(kind = :kind_dir) AS is_dir,\n"
	"  max(kind IN (:kind_file, :kind_symlink, :kind_other)) AS is_file\n"
	"FROM path_op WHERE path IS NOT NULL GROUP BY path";

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
	struct an_hot **items;
	size_t *count;
	size_t cap;
};

/* One row: path text, events, bytes read, bytes written. */
static int add_hot(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct hot_list *list = arg;
	struct an_hot *items = grow(*list->items, list->count, &list->cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	*list->items = items;
	struct an_hot *hot = &items[*list->count - 1];
	hot->events = col_int(s, 1);
	hot->bytes_read = col_int(s, 2);
	hot->bytes_written = col_int(s, 3);
	return col_text(c, s, 0, true, &hot->path);
}

static int hot_query(struct ctx *c, const char *sql, struct an_hot **items, size_t *count)
{
	struct hot_list list = {items, count, 0};
	return each_row(c, sql, "finding hot files", add_hot, &list);
}

static int hot(struct ctx *c)
{
	struct analysis *a = c->a;

	if (run(c, per_path_sql, "grouping by path") != 0 ||
	    run(c, per_dir_sql, "grouping by directory") != 0)
		return -1;
	bool failed =
		hot_query(c,
			  "SELECT p.path, pp.events, pp.rbytes, pp.wbytes FROM per_path AS pp\n"
			  "  LEFT JOIN paths AS p ON p.id = pp.path WHERE pp.is_file\n"
			  "  ORDER BY pp.events DESC, pp.path LIMIT :top",
			  &a->hot_files_events, &a->nhot_files_events) ||
		hot_query(c,
			  "SELECT p.path, pp.events, pp.rbytes, pp.wbytes FROM per_path AS pp\n"
			  "  LEFT JOIN paths AS p ON p.id = pp.path\n"
			  "  WHERE pp.is_file AND pp.rbytes + pp.wbytes > 0\n"
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

/*
 * ---- failing paths and who looked ----
 * Left out: getxattr and listxattr that find no attribute (ENODATA), as the
 * kernel asks for security.capability before every write. They still count
 * in the errors by errno.
 */

struct failing_list {
	size_t cap;
};

/* One row: path id, path text, err, n. */
static int add_failing(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analysis *a = c->a;
	struct failing_list *list = arg;
	struct an_failing *items = grow(a->failing, &a->nfailing, &list->cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	a->failing = items;
	struct an_failing *f = &items[a->nfailing - 1];
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
	struct analysis *a = c->a;
	const char *path = (const char *)sqlite3_column_text(s, 0);
	int32_t result = (int32_t)col_int(s, 1);

	(void)arg;
	for (size_t i = 0; i < a->nfailing; i++) {
		struct an_failing *f = &a->failing[i];
		if (f->result != result || !path || !f->path || strcmp(path, f->path) != 0 ||
		    f->nprocs == ANALYSIS_TOP_COMMANDS)
			continue;
		/* Rows come most failures first within a path. */
		struct an_count *p = &f->procs[f->nprocs];
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
		     "  (SELECT path, err, sum(n) AS n FROM path_op\n"
		     "   WHERE err < 0 AND NOT (op IN (:getxattr, :listxattr) AND err = :enodata)\n"
		     "   GROUP BY path, err ORDER BY n DESC, path LIMIT :top) AS f\n"
		     "  LEFT JOIN paths AS p ON p.id = f.path ORDER BY f.n DESC, f.path",
		     "finding failing paths", add_failing, &list) != 0)
		return -1;
	return each_row(
		c,
		"SELECT p.path, x.result, pr.comm, sum(x.n) FROM\n"
		"  (SELECT path, result, proc, count(*) AS n FROM events\n"
		"   WHERE result < 0 AND path IN (SELECT id FROM fail_paths)\n"
		"   GROUP BY path, result, proc) AS x\n"
		"  LEFT JOIN paths AS p ON p.id = x.path\n"
		"  LEFT JOIN procs AS pr ON pr.id = x.proc\n"
		"GROUP BY x.path, x.result, pr.comm ORDER BY x.path, x.result, sum(x.n) DESC",
		"finding who saw failures", add_failing_proc, NULL);
}

/* ---- findings ---- */

/*
 * What each finding counts, per path (item a and b), from per_path:
 *   REOPENED  a file opened FINDING_REOPEN_MIN times or more: opens, bytes read
 *   MISSING   a path looked up and not found (ENOENT) FINDING_MISSING_MIN times
 *             or more: failed lookups, 0
 *   TINY_IO   a file with FINDING_TINY_MIN reads or writes that moved 1 to
 *             FINDING_TINY_BYTES-1 bytes, half or more of its reads and
 *             writes: such small ones, all its reads and writes
 *   RELISTED  a directory opened for listing FINDING_RELIST_MIN times or more:
 *             opendirs, readdirs
 *   FSYNC     any fsync or fsyncdir: calls, time in them
 */
static const struct {
	const char *where; /* condition on per_path, %d the threshold */
	int threshold;
	const char *a, *b; /* the item's numbers */
} finding_sql[FINDING_KIND_COUNT] = {
	[FINDING_REOPENED] = {"is_file AND opens >= %d", FINDING_REOPEN_MIN, "opens", "rbytes"},
	[FINDING_MISSING] = {"missing >= %d", FINDING_MISSING_MIN, "missing", "0"},
	[FINDING_TINY_IO] = {"tiny >= %d AND tiny * 2 >= rw", FINDING_TINY_MIN, "tiny", "rw"},
	[FINDING_RELISTED] = {"is_dir AND listings >= %d", FINDING_RELIST_MIN, "listings",
			      "readdirs"},
	[FINDING_FSYNC] = {"fsyncs >= %d", 1, "fsyncs", "fsync_ns"},
};

/* One row: path text, a, b. */
static int add_item(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct an_finding *f = arg;
	size_t cap = f->nitems;
	struct an_item *items = grow(f->items, &f->nitems, &cap, sizeof(*items));

	if (!items)
		return out_of_memory(c);
	f->items = items;
	struct an_item *item = &items[f->nitems - 1];
	item->a = col_int(s, 1);
	item->b = col_int(s, 2);
	return col_text(c, s, 0, true, &item->path);
}

/* One row: paths, sum(a), sum(b). */
static int add_finding_totals(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct an_finding *f = arg;

	(void)c;
	f->paths = col_int(s, 0);
	f->total = col_int(s, 1);
	f->total_ns = f->kind == FINDING_FSYNC ? col_int(s, 2) : 0;
	return 0;
}

static int finding(struct ctx *c, enum an_finding_kind kind)
{
	struct analysis *a = c->a;
	struct an_finding *f = &a->findings[a->nfindings];
	char where[128], sql[512];

	*f = (struct an_finding){.kind = kind};
	snprintf(where, sizeof(where), finding_sql[kind].where, finding_sql[kind].threshold);
	snprintf(sql, sizeof(sql),
		 "SELECT count(*), coalesce(sum(%s), 0), coalesce(sum(%s), 0)"
		 " FROM per_path WHERE %s",
		 finding_sql[kind].a, finding_sql[kind].b, where);
	if (each_row(c, sql, "looking for findings", add_finding_totals, f) != 0)
		return -1;
	if (f->paths == 0)
		return 0;
	a->nfindings++; /* from here on analysis_free frees its items */
	snprintf(sql, sizeof(sql),
		 "SELECT p.path, %s, %s FROM per_path AS pp LEFT JOIN paths AS p ON p.id = pp.path"
		 " WHERE %s ORDER BY 2 DESC, pp.path LIMIT :top",
		 finding_sql[kind].a, finding_sql[kind].b, where);
	return each_row(c, sql, "looking for findings", add_item, f);
}

static int findings(struct ctx *c)
{
	for (int kind = 0; kind < FINDING_KIND_COUNT; kind++)
		if (finding(c, (enum an_finding_kind)kind) != 0)
			return -1;
	return 0;
}

/* ---- scan 3: time slots and processes ---- */

static const char *const slot_proc_sql =
	"CREATE TEMP TABLE slot_proc AS SELECT (ts - :t0) / :slot_ns AS slot, proc,\n"
	"  coalesce(path IN (SELECT id FROM conf_paths), 0) AS conf,\n"
	"  count(*) AS n,\n"
	"  coalesce(sum(CASE WHEN op = :read THEN bytes END), 0) AS rbytes,\n"
	"  coalesce(sum(CASE WHEN op IN (:write, :copy_file_range) THEN bytes END), 0) AS wbytes,\n"
	"  sum(dur) AS dur, min(ts) AS first_ts, max(ts + dur) AS last_end,\n"
	"  sum(result >= 0 AND op IN (:create, :mknod, :symlink, :link, :mkdir)) AS created,\n"
	"  sum(result >= 0 AND op IN (:unlink, :rmdir)) AS removed\n"
	"FROM events GROUP BY slot, proc, conf";

/* Autoconf's probes, whoever makes them: conftest.c, conftest.o, conftest ... */
static const char *const conf_paths_sql =
	"CREATE TEMP TABLE conf_paths AS SELECT id FROM paths\n"
	"WHERE path GLOB '*/conftest*' OR path GLOB '*/confdefs.h' OR path GLOB '*/config.log'";

struct process_list {
	size_t cap;
};

/* One row: comm, pids, events, bytes read, bytes written, time. */
static int add_process(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct analysis *a = c->a;
	struct process_list *list = arg;

	a->nprocesses_total++;
	if (a->nprocesses >= (size_t)c->top)
		return 0;
	struct an_process *items = grow(a->processes, &a->nprocesses, &list->cap, sizeof(*items));
	if (!items)
		return out_of_memory(c);
	a->processes = items;
	struct an_process *p = &items[a->nprocesses - 1];
	p->pids = col_int(s, 1);
	p->events = col_int(s, 2);
	p->bytes_read = col_int(s, 3);
	p->bytes_written = col_int(s, 4);
	p->fs_ns = col_int(s, 5);
	return col_text(c, s, 0, false, &p->comm);
}

static int check_slot(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	(void)arg;
	if (col_int(s, 0) < 0 || col_int(s, 1) >= ANALYSIS_SLOTS)
		return corrupt(c, "event times out of range");
	return 0;
}

static int processes(struct ctx *c)
{
	struct process_list list = {0};

	if (run(c, conf_paths_sql, "finding configure's files") != 0 ||
	    run(c, slot_proc_sql, "grouping events by time and process") != 0 ||
	    each_row(c, "SELECT min(slot), max(slot) FROM slot_proc", "grouping events by time",
		     check_slot, NULL) != 0)
		return -1;
	return each_row(
		c,
		"SELECT pr.comm, count(DISTINCT pr.pid), sum(t.n), sum(t.rbytes),\n"
		"  sum(t.wbytes), sum(t.dur) FROM\n"
		"  (SELECT proc, sum(n) AS n, sum(rbytes) AS rbytes, sum(wbytes) AS wbytes,\n"
		"     sum(dur) AS dur FROM slot_proc GROUP BY proc) AS t\n"
		"  LEFT JOIN procs AS pr ON pr.id = t.proc\n"
		"GROUP BY pr.comm ORDER BY 3 DESC, pr.comm",
		"grouping events by process", add_process, &list);
}

/* ---- the timeline and its phases ---- */

/* Names met in slots: commands, and "configure". name[0] is NULL: no command. */
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
	int64_t events, bytes, created, removed, rbytes, wbytes, first, end;
	int64_t *votes; /* per name, nvotes of them; NULL if none */
	int label;	/* the name of its leader; -1 for none */
};

struct timeline {
	struct names names;
	size_t nvotes; /* names when voting began: the size of slot.votes */
	struct slot_comm *comms;
	size_t ncomms, comms_cap;
	struct slot slots[ANALYSIS_SLOTS];
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

static bool is_driver(const char *comm)
{
	for (size_t i = 0; comm && i < sizeof(drivers) / sizeof(drivers[0]); i++)
		if (strcmp(comm, drivers[i]) == 0)
			return true;
	return false;
}

/* One row: slot, comm, n, created, removed, rbytes, wbytes, first, end. */
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
	return 0;
}

/* One row: proc, comm, first, end, events. Marks the processes that lead. */
static int add_leader(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	const char *comm = (const char *)sqlite3_column_text(s, 1);
	int64_t first = col_int(s, 2), end = col_int(s, 3), events = col_int(s, 4);
	int64_t span = c->a->end_ns - c->a->first_ns;
	int64_t min_life = span / 100 > LEADER_MIN_LIFE_NS ? span / 100 : LEADER_MIN_LIFE_NS;

	(void)arg;
	int64_t life;
	if (__builtin_sub_overflow(end, first, &life))
		life = INT64_MAX;
	if (!is_driver(comm) || (life < min_life && events * 100 < c->a->events))
		return 0;
	char sql[96];
	snprintf(sql, sizeof(sql), "INSERT INTO leaders(id) VALUES(%lld)",
		 (long long)col_int(s, 0));
	return run(c, sql, "finding phases");
}

/* One row: slot, name (a leader's comm, or NULL for configure's), votes. */
static int add_votes(struct ctx *c, sqlite3_stmt *s, void *arg)
{
	struct timeline *t = arg;
	const char *comm = (const char *)sqlite3_column_text(s, 1);
	int name = name_index(c, &t->names, comm ? comm : CONFIGURE);

	if (name < 0)
		return -1;
	if ((size_t)name >= t->nvotes) /* a leader's name is in the slots already */
		return corrupt(c, "a process has no events");
	struct slot *sl = &t->slots[col_int(s, 0)];
	if (!sl->votes) {
		sl->votes = calloc(t->nvotes, sizeof(*sl->votes));
		if (!sl->votes)
			return out_of_memory(c);
	}
	sl->votes[name] += col_int(s, 2);
	return 0;
}

static int load_timeline(struct ctx *c, struct timeline *t)
{
	t->names.name = calloc(1, sizeof(char *));
	if (!t->names.name)
		return out_of_memory(c);
	t->names.count = t->names.cap = 1; /* name[0]: no command */
	if (name_index(c, &t->names, CONFIGURE) < 0 ||
	    each_row(c,
		     "SELECT sp.slot, pr.comm, sum(sp.n), sum(sp.created), sum(sp.removed),\n"
		     "  sum(sp.rbytes), sum(sp.wbytes), min(sp.first_ts), max(sp.last_end)\n"
		     "FROM slot_proc AS sp LEFT JOIN procs AS pr ON pr.id = sp.proc\n"
		     "GROUP BY sp.slot, pr.comm",
		     "building the timeline", add_slot_comm, t) != 0 ||
	    run(c, "CREATE TEMP TABLE leaders(id INTEGER PRIMARY KEY)", "finding phases") != 0 ||
	    each_row(c,
		     "SELECT sp.proc, pr.comm, min(sp.first_ts), max(sp.last_end), sum(sp.n)\n"
		     "FROM slot_proc AS sp JOIN procs AS pr ON pr.id = sp.proc GROUP BY sp.proc",
		     "finding phases", add_leader, NULL) != 0)
		return -1;
	t->nvotes = t->names.count;
	return each_row(c,
			"SELECT sp.slot, CASE WHEN sp.conf OR pr.comm IN ('configure',\n"
			"    'config.status', 'conftest') THEN NULL ELSE pr.comm END AS name,\n"
			"  sum(sp.n)\n"
			"FROM slot_proc AS sp LEFT JOIN procs AS pr ON pr.id = sp.proc\n"
			"WHERE sp.conf OR pr.comm IN ('configure', 'config.status', 'conftest')\n"
			"   OR sp.proc IN (SELECT id FROM leaders)\n"
			"GROUP BY sp.slot, name",
			"finding phases", add_votes, t);
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

/* The named command with the most events in slots from..to, or 0. */
static int dominant(const struct timeline *t, int from, int to)
{
	int64_t *sum = sum_names(t, from, to);
	int best = 0;

	for (size_t n = 1; sum && n < t->names.count; n++)
		if (sum[n] > sum[best])
			best = (int)n;
	free(sum); /* out of memory: no name, the numbers stay right */
	return best;
}

/* Labels each slot with the name that has the most votes there. */
static void vote(struct timeline *t)
{
	for (int s = 0; s < ANALYSIS_SLOTS; s++) {
		struct slot *sl = &t->slots[s];
		sl->label = -1;
		for (size_t n = 0; sl->votes && n < t->nvotes; n++)
			if (sl->votes[n] > 0 &&
			    (sl->label < 0 || sl->votes[n] > sl->votes[sl->label]))
				sl->label = (int)n;
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

/*
 * Busy slots without votes belong to the leader before them (workers work
 * for it), or, at the start and after an idle gap, to the busiest command
 * of the stretch up to the next voted slot.
 */
static void inherit(const struct ctx *c, struct timeline *t)
{
	int label = -1; /* of the work going on */
	int gap_from = -1;

	for (int s = 0; s < ANALYSIS_SLOTS; s++) {
		struct slot *sl = &t->slots[s];
		if (!sl->events) {
			if (gap_from < 0)
				gap_from = s;
			continue;
		}
		if (gap_from >= 0 && idle_gap(c, t, gap_from, s - 1))
			label = -1;
		gap_from = -1;
		if (sl->label >= 0) {
			label = sl->label;
			continue;
		}
		if (label < 0) {
			int end = s;
			while (end + 1 < ANALYSIS_SLOTS && t->slots[end + 1].label < 0)
				end++;
			label = dominant(t, s, end);
		}
		sl->label = label;
	}
}

/*
 * A driver busy removing files gets its own phase: "make (cleaning)" for
 * `make distclean` after the `make` of the build. Not rm, which always
 * removes, nor configure, whose probes clean up after themselves.
 */
static int mark_cleaning(struct ctx *c, struct timeline *t)
{
	for (int s = 0; s < ANALYSIS_SLOTS; s++) {
		struct slot *sl = &t->slots[s];
		if (sl->label <= 0 || sl->removed * 100 < sl->events * CLEANING_PERCENT ||
		    !is_driver(t->names.name[sl->label]) ||
		    strcmp(t->names.name[sl->label], "rm") == 0)
			continue;
		char name[128];
		snprintf(name, sizeof(name), "%s (cleaning)", t->names.name[sl->label]);
		sl->label = name_index(c, &t->names, name);
		if (sl->label < 0)
			return -1;
	}
	return 0;
}

/* Runs of slots: the candidate phases. */
struct run {
	int first, last, label;
	int64_t events;
	bool after_gap;
};

/* Splits where the label changes, and at idle gaps. */
static size_t find_runs(const struct ctx *c, const struct timeline *t, struct run *runs)
{
	size_t n = 0;
	int gap_from = -1;

	for (int s = 0; s < ANALYSIS_SLOTS; s++) {
		const struct slot *sl = &t->slots[s];
		if (!sl->events) {
			if (gap_from < 0)
				gap_from = s;
			continue;
		}
		bool gap = gap_from >= 0 && idle_gap(c, t, gap_from, s - 1);
		if (!n || gap || sl->label != runs[n - 1].label)
			runs[n++] = (struct run){s, s, sl->label, 0, gap};
		runs[n - 1].last = s;
		runs[n - 1].events += sl->events;
		gap_from = -1;
	}
	return n;
}

static bool minor(const struct ctx *c, const struct run *r)
{
	return r->last - r->first + 1 < MINOR_SLOTS &&
	       r->events * 100 < c->a->events * MINOR_EVENTS_PERCENT;
}

/* Joins neighbours with the same label that no idle gap separates. */
static size_t join_alike(struct run *runs, size_t n)
{
	size_t out = 0;

	for (size_t i = 0; i < n; i++) {
		if (out && !runs[i].after_gap && runs[i].label == runs[out - 1].label) {
			runs[out - 1].last = runs[i].last;
			runs[out - 1].events += runs[i].events;
		} else {
			runs[out++] = runs[i];
		}
	}
	return out;
}

/*
 * Merges each minor run into a neighbour: the one before, unless an idle
 * gap separates them; a minor run between two gaps stays a phase.
 */
static size_t merge_runs(const struct ctx *c, struct run *runs, size_t n)
{
	for (size_t i = 0; i < n && n > 1;) {
		size_t into = i > 0 && !runs[i].after_gap ? i - 1 : i + 1;
		if (!minor(c, &runs[i]) || into >= n || (into == i + 1 && runs[into].after_gap)) {
			i++;
			continue;
		}
		struct run *keep = &runs[into];
		if (into < i) {
			keep->last = runs[i].last;
		} else {
			keep->first = runs[i].first;
			keep->after_gap = runs[i].after_gap;
		}
		keep->events += runs[i].events;
		memmove(&runs[i], &runs[i + 1], (n - i - 1) * sizeof(*runs));
		n = join_alike(runs, n - 1);
		i = 0; /* a merge may make a neighbour mergeable */
	}
	return join_alike(runs, n);
}

/* The busiest named commands of slots from..to into counts. */
static int top_commands(struct ctx *c, const struct timeline *t, int from, int to,
			struct an_count *counts, size_t *ncounts)
{
	int64_t *sum = sum_names(t, from, to);

	if (!sum)
		return out_of_memory(c);
	*ncounts = 0;
	for (size_t k = 0; k < ANALYSIS_TOP_COMMANDS; k++) {
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
		      struct an_phase *p)
{
	int64_t start_ns = rec_reader_start_ns(c->reader);
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
		p->events += sl->events;
		p->created += sl->created;
		p->removed += sl->removed;
		p->bytes_read += sl->rbytes;
		p->bytes_written += sl->wbytes;
	}
	p->name = strdup(r->label > 0 ? t->names.name[r->label] : "(unknown)");
	if (!p->name)
		return out_of_memory(c);
	return top_commands(c, t, r->first, r->last, p->commands, &p->ncommands);
}

/*
 * Phases. The run is cut into ANALYSIS_SLOTS equal slots. Every event votes
 * for a leader:
 *  - "configure" if it is autoconf probing: its command is configure,
 *    config.status or conftest, or its file is conftest*, confdefs.h or
 *    config.log, whichever compiler or shell touches it;
 *  - else its command, if that is a driver (make, ninja, tar, rm, ... see
 *    drivers[]) in a leading process: one whose events span at least 1 s
 *    (or 1% of the run, if longer) or that makes at least 1% of the events.
 *    So the many short rm and mv that configure and make run do not lead;
 *    an `rm -rf` of a whole tree does;
 *  - else nothing: compilers, shells, sed ... work for whoever leads.
 * A slot's leader is the name with the most votes. A busy slot without
 * votes belongs to the leader before it, or, at the start of the run and
 * after an idle gap (IDLE_GAP_SLOTS empty slots and at least 1 s), to its
 * own busiest command. A slot where CLEANING_PERCENT of the events or more
 * remove files is "LEADER (cleaning)" (`make distclean` after `make`),
 * unless rm leads. Phases are the runs of slots with one leader, split at
 * idle gaps; a run shorter than MINOR_SLOTS slots with less than
 * MINOR_EVENTS_PERCENT of the events is merged into the phase before it (or
 * after it, at the start), which keeps a brief change of leader from
 * cutting a phase in two.
 */
static int find_phases(struct ctx *c, struct timeline *t)
{
	struct analysis *a = c->a;
	struct run runs[ANALYSIS_SLOTS];

	vote(t);
	inherit(c, t);
	if (mark_cleaning(c, t) != 0)
		return -1;
	size_t n = merge_runs(c, runs, find_runs(c, t, runs));
	a->phases = calloc(n ? n : 1, sizeof(*a->phases));
	if (!a->phases)
		return out_of_memory(c);
	for (size_t i = 0; i < n; i++) {
		a->nphases++;
		if (make_phase(c, t, &runs[i], &a->phases[i]) != 0)
			return -1;
		for (int s = runs[i].first; s <= runs[i].last; s++)
			t->slots[s].label = (int)i; /* from now on: the phase's index */
	}
	return 0;
}

static int fill_buckets(struct ctx *c, struct timeline *t)
{
	struct analysis *a = c->a;

	a->nbuckets = a->events ? ANALYSIS_BUCKETS : 0;
	a->bucket_ns = c->slot_ns * ANALYSIS_SLOTS_PER_BUCKET;
	for (size_t b = 0; b < a->nbuckets; b++) {
		struct an_bucket *bucket = &a->buckets[b];
		int from = (int)b * ANALYSIS_SLOTS_PER_BUCKET;
		int to = from + ANALYSIS_SLOTS_PER_BUCKET - 1;
		int64_t busiest = 0;
		bucket->start_ns = a->first_ns + (int64_t)b * a->bucket_ns;
		bucket->phase = -1;
		for (int s = from; s <= to; s++) {
			bucket->events += t->slots[s].events;
			bucket->bytes += t->slots[s].bytes;
			if (t->slots[s].events > busiest) {
				busiest = t->slots[s].events;
				bucket->phase = t->slots[s].label;
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
	for (int s = 0; s < ANALYSIS_SLOTS; s++)
		free(t->slots[s].votes);
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

/* ---- the whole ---- */

/*
 * SQLite sizes its sorter's memory after the page cache, and the big GROUP
 * BYs here ran twice as slow with the reader's large cache (which is for
 * streaming) as with SQLite's default of 2 MiB: back to that.
 */
static int configure_sorts(struct ctx *c)
{
	return run(c, "PRAGMA cache_size = -2000", "setting up");
}

static int analyse(struct ctx *c)
{
	read_meta(c);
	/*
	 * One read transaction: every scan sees the same events, even while a
	 * recorder is still adding to the trace. Closing the connection ends it.
	 */
	if (run(c, "BEGIN", "starting to read") != 0 || configure_sorts(c) != 0 ||
	    scan_paths(c) != 0 || totals(c) != 0 || latencies(c) != 0 || hot(c) != 0 ||
	    failing(c) != 0 || findings(c) != 0 || processes(c) != 0 || timeline(c) != 0)
		return -1;
	return 0;
}

int analysis_run(const char *file, int top, struct analysis *out, char *err, size_t err_size)
{
	struct ctx c = {.a = out, .top = top, .err = err, .err_size = err_size};

	memset(out, 0, sizeof(*out));
	c.reader = rec_reader_open(file, err, err_size);
	if (!c.reader)
		return -1;
	c.db = rec_reader_db(c.reader);
	out->file = strdup(file);
	int result = out->file ? analyse(&c) : out_of_memory(&c);
	rec_reader_close(c.reader); /* TEMP tables go with the connection */
	if (result != 0)
		analysis_free(out);
	return result;
}

static void free_counts(struct an_count *counts, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(counts[i].name);
}

static void free_hot(struct an_hot *hot, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(hot[i].path);
	free(hot);
}

void analysis_free(struct analysis *a)
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
	free_hot(a->hot_files_events, a->nhot_files_events);
	free_hot(a->hot_files_bytes, a->nhot_files_bytes);
	free_hot(a->hot_dirs_events, a->nhot_dirs_events);
	free_hot(a->hot_dirs_bytes, a->nhot_dirs_bytes);
	for (size_t i = 0; i < a->nbuckets; i++)
		free_counts(a->buckets[i].commands, a->buckets[i].ncommands);
	for (size_t i = 0; i < a->nphases; i++) {
		free(a->phases[i].name);
		free_counts(a->phases[i].commands, a->phases[i].ncommands);
	}
	free(a->phases);
	for (size_t i = 0; i < a->nfindings; i++) {
		for (size_t j = 0; j < a->findings[i].nitems; j++)
			free(a->findings[i].items[j].path);
		free(a->findings[i].items);
	}
	memset(a, 0, sizeof(*a));
}

const char *analysis_errno_name(int32_t result, char *buf, size_t size)
{
	const char *name = result < 0 && result > INT32_MIN ? strerrorname_np(-result) : NULL;

	if (name)
		return name;
	snprintf(buf, size, "E%lld", -(long long)result);
	return buf;
}
