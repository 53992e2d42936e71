/*
 * reader.c — reading a recorded trace back (trace.h, trace_reader_*): opens
 * it read-only with a clear refusal of anything that is not a readable
 * trace, streams its events in seq order from the private tables, and
 * checks every value on the way, so that a corrupt or hostile file gives an
 * error message, never a crash or a wrong event.
 *
 * Operation and kind ids are translated through the trace's own ops and
 * kinds tables by name, not taken as our enum values: a trace written by a
 * tracefs whose enum had another order still reads correctly.
 *
 * A trace whose recorder is still running, or one left with a -wal file by
 * a killed recorder, reads like any other: SQLite reads the WAL too. The
 * stream sees what was committed when its statement started; once it has
 * returned everything (0), the next call looks again from the last seq, so
 * a caller can follow a growing trace. A finished trace in a directory we
 * cannot write to (where SQLite cannot make its -shm) is read as immutable.
 */
#include "trace/trace.h"


#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ops and kinds ids: the writer stores them as uint8_t enum values. */
#define MAX_NAME_ID 255
/* A running recorder holds the WAL locks only briefly. */
#define BUSY_TIMEOUT_MS 5000
/* SQLite's page cache for a reader, in KiB (a string for the PRAGMA). */
#define CACHE_KIB "65536"

/* How often (in SQLite VM steps, about 10 ms apart or less) a reader looks at signals. */
#define PROGRESS_STEPS 100000

#define SQLITE_MAGIC "SQLite format 3"
#define SQLITE_HEADER_BYTES 100

/*
 * The ids of the paths or procs rows that were checked. The writer numbers
 * them 1, 2, 3, ...: then they are first .. last and ids is NULL; else
 * ids holds them all, ascending. Arrays grow to powers of two.
 */
struct id_set {
	int64_t first, last;
	int64_t *ids;
	unsigned char *flags; /* a bit per id (small: in cache): paths, whether it starts with / */
	size_t count;
};

/*
 * The text of the paths and procs rows the stream names, by id, so that
 * an event costs no B-tree search per path and process (joins took half
 * of `serve`'s index build). Direct-mapped: a slot holds the last id that
 * hashed to it; a miss reads the row. Rows never change once written.
 */
struct text_slot {
	int64_t id;
	bool valid; /* holds row id */
	char *text; /* a buffer of cap bytes, kept for the next row */
	size_t cap;
	int32_t pid; /* procs: the row's numbers */
	uint32_t uid, gid;
	int64_t process; /* procs.process (0: none) */
	bool has_text; /* procs: comm is not NULL */
};

struct text_cache {
	struct text_slot *slots;
	size_t mask; /* slots - 1 */
};

struct trace_reader {
	sqlite3 *db;
	char *file;	      /* as given, for messages */
	sqlite3_stmt *stream; /* events after a seq, in seq order */
	sqlite3_stmt *seek;   /* the first seq at or after a time */
	sqlite3_stmt *max_seq;
	sqlite3_stmt *meta;
	int64_t start_ns;		     /* meta.start_ns */
	int64_t last_seq;		     /* the stream resumes after this */
	bool stream_idle;		     /* stream is reset: bind last_seq before stepping */
	bool had_wal, had_shm;		     /* the -wal and -shm files existed before we opened */
	int16_t op_of_id[MAX_NAME_ID + 1];   /* enum trace_op, or -1 */
	int16_t kind_of_id[MAX_NAME_ID + 1]; /* enum trace_kind, or -1 */
	int64_t id_of_op[TRACE_OP_COUNT];	     /* or -1 */
	int64_t id_of_kind[TRACE_KIND_COUNT];  /* or -1 */
	struct id_set paths, procs;	     /* the rows checked so far */
	sqlite3_stmt *path_row, *proc_row;   /* one row by id, to check a new one */
	bool lineage;			     /* format 2 on: procs.process and processes */
	struct id_set processes;
	sqlite3_stmt *process_rows; /* those after ?1 up to ?2, to check new ones */
	/* path and path2 apart, so that one event's two never evict each other */
	struct text_cache path_text, path2_text, proc_text;
	bool out_of_memory; /* while decoding the current row */
};

/*
 * The columns of an events row, in the table's order
 * (TRACE_READER_EVENT_COLUMNS): the stream's first columns.
 */
enum event_column {
	COL_SEQ,
	COL_TS,
	COL_DUR,
	COL_OP,
	COL_KIND,
	COL_PATH_ID,
	COL_PATH2_ID,
	COL_PROC_ID,
	COL_RESULT,
	COL_BYTES,
	COL_OFFSET,
	COL_FLAGS,
	COL_MODE,
	EVENT_COLUMNS,
};

/* Cheaper than the view: no joins (names are mapped in C, texts cached). */
static const char *const stream_sql =
	"SELECT " TRACE_READER_EVENT_COLUMNS " FROM events WHERE events.seq > ?1 ORDER BY events.seq";

/* ---- signals ---- */

static volatile sig_atomic_t interrupted;

static void on_stop_signal(int sig)
{
	interrupted = sig;
}

int trace_reader_stop_on_signals(void)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};

	sigemptyset(&sa.sa_mask);
	return sigaction(SIGINT, &sa, NULL) == 0 && sigaction(SIGTERM, &sa, NULL) == 0 ? 0 : -1;
}

int trace_command_start(const char *prog)
{
	if (trace_reader_stop_on_signals() == 0)
		return 0;
	fprintf(stderr, "%s: cannot set signal handlers: %s\n", prog, strerror(errno));
	return -1;
}

struct trace_reader *trace_command_reader(const char *prog, const char *file)
{
	char err[1024];
	if (trace_command_start(prog) != 0)
		return NULL;
	struct trace_reader *reader = trace_reader_open(file, err, sizeof(err));
	if (!reader)
		fprintf(stderr, "%s: %s\n", prog, err);
	return reader;
}

int trace_reader_interrupted(void)
{
	return interrupted;
}

/* SQLite asks every few thousand steps: non-zero ends the query (SQLITE_INTERRUPT). */
static int stop_requested(void *unused)
{
	(void)unused;
	return interrupted != 0;
}

/* ---- messages ---- */

void trace_reader_sql_error(struct trace_reader *r, int rc, const char *doing, char *err,
			  size_t err_size)
{
	int primary = rc & 0xff;
	/* The connection's message, unless the error did not come from it. */
	const char *msg = (sqlite3_extended_errcode(r->db) & 0xff) == primary
				  ? sqlite3_errmsg(r->db)
				  : sqlite3_errstr(rc);
	const char *sep = doing ? ": " : "";

	if (primary == SQLITE_INTERRUPT)
		snprintf(err, err_size, "interrupted by signal %d", (int)interrupted);
	else if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
		snprintf(err, err_size, "trace %s is corrupt: %s%s%s", r->file, doing ? doing : "",
			 sep, msg);
	else
		snprintf(err, err_size, "cannot read trace %s: %s%s%s", r->file, doing ? doing : "",
			 sep, msg);
}

/* ---- checks before SQLite sees the file ---- */

/* SQLite's page size from the header: 512 .. 65536, a power of two, or 0. */
static unsigned header_page_size(const unsigned char *header)
{
	unsigned size = (unsigned)header[16] << 8 | header[17];

	if (size == 1)
		return 65536;
	if (size < 512 || (size & (size - 1)) != 0)
		return 0;
	return size;
}

/* The file's first bytes say "SQLite" and its size holds at least one page. */
static int check_header(const char *path, int fd, off_t size, char *err, size_t err_size)
{
	unsigned char header[SQLITE_HEADER_BYTES];
	ssize_t got = pread(fd, header, sizeof(header), 0);

	if (got < 0) {
		snprintf(err, err_size, "cannot read trace file %s: %s", path, strerror(errno));
		return -1;
	}
	if ((size_t)got < sizeof(SQLITE_MAGIC) ||
	    memcmp(header, SQLITE_MAGIC, sizeof(SQLITE_MAGIC)) != 0) {
		snprintf(err, err_size, "%s is not a tracefs trace (not an SQLite database)", path);
		return -1;
	}
	unsigned page = (size_t)got == sizeof(header) ? header_page_size(header) : 0;
	if (page == 0) {
		snprintf(err, err_size, "trace %s is corrupt: bad SQLite header", path);
		return -1;
	}
	if (size < (off_t)page) {
		snprintf(err, err_size,
			 "trace %s is corrupt: truncated to %lld bytes, less than one %u-byte page",
			 path, (long long)size, page);
		return -1;
	}
	return 0;
}

/* Refuses what SQLite would misread: nothing there, a directory, not SQLite. */
static int check_file(const char *path, char *err, size_t err_size)
{
	struct stat st;

	if (stat(path, &st) != 0) {
		if (errno == ENOENT)
			snprintf(err, err_size, "trace file %s does not exist", path);
		else
			snprintf(err, err_size, "cannot open trace file %s: %s", path,
				 strerror(errno));
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, err_size, "%s is not a trace file (not a regular file)", path);
		return -1;
	}
	if (st.st_size == 0) {
		snprintf(err, err_size, "%s is empty, not a trace (or its recorder is starting)",
			 path);
		return -1;
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		snprintf(err, err_size, "cannot open trace file %s: %s", path, strerror(errno));
		return -1;
	}
	int result = check_header(path, fd, st.st_size, err, err_size);
	if (close(fd) != 0 && result == 0) {
		snprintf(err, err_size, "cannot read trace file %s: %s", path, strerror(errno));
		result = -1;
	}
	return result;
}

/* ---- checks of rows: the one validation of every reader ---- */

/*
 * One value of a row, as SQLite typed it: the stream and the report's
 * scan read them from their statements, then check_event() checks them.
 */
struct raw_value {
	int type; /* SQLITE_INTEGER, SQLITE_NULL, ... */
	int64_t i;
};

/* An integer in [min, max], or NULL where that stands for null_value. */
static bool int_value(const struct raw_value *v, int64_t min, int64_t max,
		      const int64_t *null_value, int64_t *out)
{
	if (v->type == SQLITE_NULL && null_value) {
		*out = *null_value;
		return true;
	}
	if (v->type != SQLITE_INTEGER || v->i < min || v->i > max)
		return false;
	*out = v->i;
	return true;
}

/* Where ID is in SET (an index into its flags), or -1. */
static ptrdiff_t id_index(const struct id_set *set, int64_t id)
{
	if (!set->ids)
		return set->count && id >= set->first && id <= set->last ? id - set->first : -1;
	size_t lo = 0, hi = set->count;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (set->ids[mid] == id)
			return (ptrdiff_t)mid;
		if (set->ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Makes room for one more id; -1 when out of memory. */
static int grow_id_set(struct id_set *set, bool listed)
{
	size_t count = set->count;
	bool full = count == 0 || (count & (count - 1)) == 0; /* capacities are powers of two */

	if (listed && !set->ids) { /* no longer 1, 2, 3, ...: list them */
		size_t cap = 1;
		while (cap <= count)
			cap *= 2;
		int64_t *ids = malloc(cap * sizeof(*ids));
		if (!ids)
			return -1;
		for (size_t i = 0; i < count; i++)
			ids[i] = set->first + (int64_t)i;
		set->ids = ids;
	} else if (full && set->ids) {
		int64_t *ids = realloc(set->ids, (count ? 2 * count : 1) * sizeof(*ids));
		if (!ids)
			return -1;
		set->ids = ids;
	}
	if (full) {
		unsigned char *flags = realloc(set->flags, count ? (2 * count + 7) / 8 : 1);
		if (!flags)
			return -1;
		set->flags = flags;
	}
	return 0;
}

/* Adds ID, greater than every id in SET, with its FLAG (0 or 1); -1 when out of memory. */
static int add_id(struct id_set *set, int64_t id, unsigned char flag)
{
	bool dense = !set->ids && (set->count == 0 || id == set->last + 1);

	if (grow_id_set(set, !dense) != 0)
		return -1;
	if (set->count == 0)
		set->first = id;
	if (set->ids)
		set->ids[set->count] = id;
	unsigned char bit = (unsigned char)(1u << (set->count % 8));
	set->flags[set->count / 8] = (unsigned char)(flag ? set->flags[set->count / 8] | bit
						       : set->flags[set->count / 8] & ~bit);
	set->count++;
	set->last = id;
	return 0;
}

/* A text value that a C string can hold (no NUL inside). */
static bool text_ok(const unsigned char *text, int len)
{
	return text && !memchr(text, '\0', (size_t)len);
}

/*
 * NULL if a paths row is one the writer makes, else what is wrong. *ROOTED
 * says whether it is a path ("/..."), which an event's first path must be;
 * the second may also be an attribute's name.
 */
static const char *check_path_row(struct trace_reader *r, sqlite3_stmt *s, unsigned char *rooted)
{
	(void)r;
	const unsigned char *path = sqlite3_column_text(s, 1);

	if (sqlite3_column_type(s, 1) != SQLITE_TEXT || !text_ok(path, sqlite3_column_bytes(s, 1)))
		return "bad path (not text, or a NUL inside)";
	*rooted = path[0] == '/';
	return NULL;
}

static bool known_process(struct trace_reader *r, int64_t id);

/* NULL if a procs row is one the writer makes, else what is wrong. */
static const char *check_proc_row(struct trace_reader *r, sqlite3_stmt *s, unsigned char *flag)
{
	int64_t v;
	struct raw_value pid = {sqlite3_column_type(s, 1), sqlite3_column_int64(s, 1)};
	struct raw_value uid = {sqlite3_column_type(s, 3), sqlite3_column_int64(s, 3)};
	struct raw_value gid = {sqlite3_column_type(s, 4), sqlite3_column_int64(s, 4)};
	int comm_type = sqlite3_column_type(s, 2);

	*flag = 0; /* none for processes */
	if (!int_value(&pid, INT32_MIN, INT32_MAX, NULL, &v) ||
	    !int_value(&uid, 0, UINT32_MAX, NULL, &v) || !int_value(&gid, 0, UINT32_MAX, NULL, &v))
		return "bad process (pid, uid or gid out of range)";
	if (comm_type != SQLITE_NULL &&
	    (comm_type != SQLITE_TEXT ||
	     !text_ok(sqlite3_column_text(s, 2), sqlite3_column_bytes(s, 2))))
		return "bad process (its name is not text)";
	int64_t process;
	struct raw_value process_value = {sqlite3_column_type(s, 5), sqlite3_column_int64(s, 5)};
	static const int64_t none = 0;
	if (r->lineage && (!int_value(&process_value, 1, INT64_MAX, &none, &process) ||
			   (process && !known_process(r, process))))
		return "bad process (its processes id names no sound row)";
	return NULL;
}

/* A JSON string at *AT (quotes included); moves *AT past it. */
static bool json_string(const unsigned char **at, const unsigned char *end)
{
	const unsigned char *c = *at;

	if (c == end || *c++ != '"')
		return false;
	while (c < end && *c != '"') {
		if (*c < 0x20)
			return false;
		if (*c++ != '\\')
			continue;
		if (c == end)
			return false;
		if (*c == 'u') {
			for (int i = 1; i <= 4; i++)
				if (c + i >= end || !c[i] || !strchr("0123456789abcdefABCDEF", c[i]))
					return false;
			c += 5;
		} else if (*c && strchr("\"\\/bfnrt", *c)) {
			c++;
		} else {
			return false;
		}
	}
	if (c == end)
		return false;
	*at = c + 1;
	return true;
}

/* TEXT (LEN bytes) is a JSON array of strings, as the recorder writes argv. */
static bool json_string_array(const unsigned char *text, int len)
{
	const unsigned char *c = text, *end = text + len;

	if (c == end || *c++ != '[')
		return false;
	if (c < end && *c == ']')
		return c + 1 == end;
	for (;;) {
		if (!json_string(&c, end) || c == end)
			return false;
		if (*c == ']')
			return c + 1 == end;
		if (*c++ != ',')
			return false;
	}
}

/* A text column that is NULL, or text without a NUL (and, if JSON, an array of strings). */
static bool optional_text(sqlite3_stmt *s, int col, bool json)
{
	int type = sqlite3_column_type(s, col);
	const unsigned char *text = sqlite3_column_text(s, col);
	int len = sqlite3_column_bytes(s, col);

	if (type == SQLITE_NULL)
		return true;
	return type == SQLITE_TEXT && text_ok(text, len) && (!json || json_string_array(text, len));
}

/*
 * NULL if a processes row is one the writer makes, else what is wrong. Its
 * parent and root are rows before it (a parent is recorded before its
 * children), which the reader has checked already.
 */
static const char *check_process_row(struct trace_reader *r, sqlite3_stmt *s, unsigned char *flag)
{
	static const int64_t none = -1;
	struct raw_value v[12];
	int64_t id, value, parent, root;

	*flag = 0;
	for (int i = 0; i < 12; i++)
		v[i] = (struct raw_value){sqlite3_column_type(s, i), sqlite3_column_int64(s, i)};
	if (!int_value(&v[0], 1, INT64_MAX, NULL, &id))
		return "bad id";
	if (!int_value(&v[1], 0, INT32_MAX, NULL, &value) ||
	    !int_value(&v[2], 0, INT32_MAX, &none, &value))
		return "bad pid or ppid";
	if (!int_value(&v[3], 1, id - 1, &none, &parent) ||
	    (parent != -1 && id_index(&r->processes, parent) < 0))
		return "bad parent_id (not an earlier row)";
	if (!int_value(&v[4], 1, id, &none, &root) ||
	    (root != -1 && root != id && id_index(&r->processes, root) < 0))
		return "bad root_id (not this or an earlier row)";
	if (!optional_text(s, 5, false) || !optional_text(s, 7, false))
		return "bad exe or cwd (not text)";
	if (!optional_text(s, 6, true))
		return "bad argv (not a JSON array of strings)";
	if (!int_value(&v[8], INT64_MIN, INT64_MAX, &none, &value) ||
	    !int_value(&v[9], INT64_MIN, INT64_MAX, &none, &value) ||
	    !int_value(&v[10], 1, INT64_MAX, &none, &value))
		return "bad start_ns, exit_ns or first_seq";
	const char *state = (const char *)sqlite3_column_text(s, 11);
	if (v[11].type != SQLITE_TEXT || !state ||
	    (strcmp(state, "read") != 0 && strcmp(state, "gone") != 0 && strcmp(state, "root") != 0))
		return "bad state (not 'read', 'gone' or 'root')";
	return NULL;
}

/*
 * Whether ID is a checked processes row. One past those checked may be a
 * row a live recorder added since: the rows up to it are checked then, in
 * id order, as at open (its parents among them: they come first).
 */
static bool known_process(struct trace_reader *r, int64_t id)
{
	struct id_set *set = &r->processes;

	if (id_index(set, id) >= 0)
		return true;
	if (set->count && id <= set->last)
		return false;
	sqlite3_bind_int64(r->process_rows, 1, set->count ? set->last : 0);
	sqlite3_bind_int64(r->process_rows, 2, id);
	bool ok = true;
	while (ok && sqlite3_step(r->process_rows) == SQLITE_ROW) {
		unsigned char flag;
		int64_t row_id = sqlite3_column_int64(r->process_rows, 0);
		ok = (!set->count || row_id > set->last) &&
		     !check_process_row(r, r->process_rows, &flag) && add_id(set, row_id, flag) == 0;
	}
	sqlite3_reset(r->process_rows);
	return ok && id_index(set, id) >= 0;
}

typedef const char *check_row_fn(struct trace_reader *r, sqlite3_stmt *s, unsigned char *flag);

/*
 * The flag of ID if it is a checked row of paths or procs, else -1. An id
 * past the ones checked at open may be a row that a live recorder added
 * since: it is looked up and checked once.
 */
static int known_id(struct trace_reader *r, struct id_set *set, sqlite3_stmt *row,
		    check_row_fn *check_row, int64_t id)
{
	ptrdiff_t at = id_index(set, id);
	unsigned char flag = 0;

	if (at >= 0)
		return set->flags[at / 8] >> (at % 8) & 1;
	if (set->count && id < set->last)
		return -1;
	sqlite3_bind_int64(row, 1, id);
	bool ok = sqlite3_step(row) == SQLITE_ROW && !check_row(r, row, &flag) &&
		  add_id(set, id, flag) == 0;
	sqlite3_reset(row);
	return ok ? flag : -1;
}

/*
 * NULL if V (an events row, enum event_column) is one the writer could
 * have written, else what is wrong with it. Fills E's numbers and *SEQ.
 * The one check of an event, for every reader: the stream and, through
 * trace_reader_check_values(), the report's scan.
 */
static const char *check_event(struct trace_reader *r, const struct raw_value *v,
			       struct trace_event *e, int64_t *seq)
{
	static const int64_t minus_one = -1;
	int64_t ts, op_id, kind_id, result, flags, mode, path, path2, proc;

	if (!int_value(&v[COL_SEQ], 1, INT64_MAX, NULL, seq))
		return "bad seq";
	if (!int_value(&v[COL_TS], INT64_MIN, INT64_MAX, NULL, &ts) ||
	    __builtin_add_overflow(ts, r->start_ns, &e->ts_ns))
		return "bad time";
	if (!int_value(&v[COL_DUR], 0, INT64_MAX, NULL, &e->dur_ns))
		return "bad (negative?) duration";
	if (!int_value(&v[COL_OP], 0, MAX_NAME_ID, NULL, &op_id) || r->op_of_id[op_id] < 0)
		return "unknown operation id";
	if (!int_value(&v[COL_KIND], 0, MAX_NAME_ID, NULL, &kind_id) || r->kind_of_id[kind_id] < 0)
		return "unknown kind id";
	if (!int_value(&v[COL_PATH_ID], INT64_MIN, INT64_MAX, &minus_one, &path) ||
	    (path != -1 && known_id(r, &r->paths, r->path_row, check_path_row, path) != 1))
		return "bad path (an id with no row in paths, or one not starting with /)";
	if (!int_value(&v[COL_PATH2_ID], INT64_MIN, INT64_MAX, &minus_one, &path2) ||
	    (path2 != -1 && known_id(r, &r->paths, r->path_row, check_path_row, path2) < 0))
		return "bad second path (an id with no sound row in paths)";
	if (!int_value(&v[COL_PROC_ID], INT64_MIN, INT64_MAX, &minus_one, &proc) ||
	    (proc != -1 && known_id(r, &r->procs, r->proc_row, check_proc_row, proc) < 0))
		return "bad process (an id with no sound row in procs)";
	if (!int_value(&v[COL_RESULT], INT32_MIN, INT32_MAX, NULL, &result) ||
	    !int_value(&v[COL_BYTES], 0, INT64_MAX, &minus_one, &e->bytes) ||
	    !int_value(&v[COL_OFFSET], 0, INT64_MAX, &minus_one, &e->offset) ||
	    !int_value(&v[COL_FLAGS], 0, UINT32_MAX, NULL, &flags) ||
	    !int_value(&v[COL_MODE], 0, UINT32_MAX, NULL, &mode))
		return "bad result, bytes, offset, flags or mode";
	e->op = (uint8_t)r->op_of_id[op_id];
	e->kind = (uint8_t)r->kind_of_id[kind_id];
	e->result = (int32_t)result;
	e->flags = (uint32_t)flags;
	e->mode = (uint32_t)mode;
	return NULL;
}

const char *trace_reader_check_values(struct trace_reader *r, const int *types,
				    const int64_t *values)
{
	struct raw_value v[EVENT_COLUMNS];
	struct trace_event e;
	int64_t seq;

	for (int i = 0; i < EVENT_COLUMNS; i++)
		v[i] = (struct raw_value){types[i], values[i]};
	return check_event(r, v, &e, &seq);
}

/* ---- checks of the schema and meta ---- */

static int prepare(struct trace_reader *r, const char *sql, sqlite3_stmt **stmt, char *err,
		   size_t err_size)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, stmt, NULL);

	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_ERROR) /* no such table or column */
		snprintf(err, err_size, "%s is not a tracefs trace that this tracefs reads: %s",
			 r->file, sqlite3_errmsg(r->db));
	else
		trace_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

/* Steps a one-row query; its row is then in stmt. 1 row, 0 none, -1 error. */
static int step_one(struct trace_reader *r, sqlite3_stmt *stmt, char *err, size_t err_size)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	trace_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

/*
 * A scan of the few rows of meta rather than a search of its index: a
 * damaged index would hide an entry (events_lost, say) without an error.
 */
#define META_SQL "SELECT value FROM meta WHERE +key = ?1"

/* Where NAME of TYPE is in trace_schema_objects, or -1. */
static int schema_index(const char *type, const char *name)
{
	for (size_t i = 0; i < trace_schema_object_count; i++)
		if (strcmp(trace_schema_objects[i].type, type) == 0 &&
		    strcmp(trace_schema_objects[i].name, name) == 0)
			return (int)i;
	return -1;
}

/*
 * The file holds the tables and indexes schema.c makes, each with the very
 * SQL it makes it with, and nothing else: a table rebuilt with a generated
 * column (which would run on every read), a trigger, an index or a table
 * of someone else's is refused before any query touches the tables. Views
 * may say anything (the store adds one, a user may): we never run one.
 */
static int check_schema(struct trace_reader *r, char *err, size_t err_size)
{
	sqlite3_stmt *stmt;
	bool seen[64] = {false};
	int rc;

	_Static_assert(sizeof(seen) / sizeof(seen[0]) >= 12, "room for trace_schema_objects");
	if (trace_schema_object_count > sizeof(seen) / sizeof(seen[0]) ||
	    prepare(r, "SELECT type, name, sql FROM sqlite_schema", &stmt, err, err_size) != 0)
		return -1;
	int result = 0; /* -1 once err holds the first problem */
	r->lineage = true;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(stmt, 0);
		const char *name = (const char *)sqlite3_column_text(stmt, 1);
		const char *sql = (const char *)sqlite3_column_text(stmt, 2);
		int i = type && name ? schema_index(type, name) : -1;
		bool procs_v1 = i >= 0 && sql && strcmp(name, trace_schema_procs_v1.name) == 0 &&
				strcmp(sql, trace_schema_procs_v1.sql) == 0;
		if (procs_v1)
			r->lineage = false; /* format 1, checked against format_version */
		if (type && strcmp(type, "view") == 0) {
			/* views are off (defend()) */
		} else if (procs_v1 && !seen[i]) {
			/* as format 1 made it */
		} else if (i >= 0 && (seen[i] || (sql == NULL) != (trace_schema_objects[i].sql == NULL) ||
				      (sql && strcmp(sql, trace_schema_objects[i].sql) != 0))) {
			if (result == 0)
				snprintf(err, err_size,
					 "trace %s: its %s %s is not as tracefs makes it (altered, "
					 "e.g. with a generated column): refused, as it could run "
					 "when read",
					 r->file, name, type);
			result = -1;
		} else if (i < 0) {
			if (result == 0)
				snprintf(err, err_size,
					 "trace %s holds the %s %s, which tracefs does not write: "
					 "refused, as it could run when read (if you added it, drop "
					 "it with sqlite3)",
					 r->file, type ? type : "object", name ? name : "(no name)");
			result = -1;
		}
		if (i >= 0)
			seen[i] = true;
	}
	if (rc != SQLITE_DONE) {
		trace_reader_sql_error(r, rc, "reading its schema", err, err_size);
		result = -1;
	}
	sqlite3_finalize(stmt);
	/* Every table and the view; an index may be newer than the trace. */
	for (size_t i = 0; rc == SQLITE_DONE && i < trace_schema_object_count; i++) {
		bool lineage_only = strcmp(trace_schema_objects[i].name, "processes") == 0;
		if (lineage_only && seen[i] && !r->lineage && result == 0) {
			snprintf(err, err_size,
				 "trace %s is corrupt: a processes table beside format 1's procs",
				 r->file);
			return -1;
		}
		if (!seen[i] && strcmp(trace_schema_objects[i].type, "index") != 0 &&
		    !(lineage_only && !r->lineage)) {
			snprintf(err, err_size, "%s is not a tracefs trace (no %s %s)", r->file,
				 trace_schema_objects[i].name, trace_schema_objects[i].type);
			return -1;
		}
	}
	return result;
}

/* Parses a whole decimal int64, sign allowed. */
static bool parse_int64(const char *text, int64_t *value)
{
	char *end;

	if (!text || !*text)
		return false;
	errno = 0;
	long long v = strtoll(text, &end, 10);
	if (errno != 0 || *end != '\0' || end == text)
		return false;
	*value = v;
	return true;
}

static int check_format_version(struct trace_reader *r, char *err, size_t err_size)
{
	char *text = trace_reader_meta(r, "format_version");
	int64_t version = 0;

	if (!text) { /* it has a trace's tables: something spoilt meta */
		snprintf(err, err_size, "trace %s is corrupt: no format_version in meta", r->file);
		return -1;
	}
	bool ok = parse_int64(text, &version) && version >= 1;
	if (!ok)
		snprintf(err, err_size, "trace %s is corrupt: its format_version is no number",
			 r->file); /* not shown: it could hold anything */
	else if (version > TRACE_FORMAT_VERSION)
		snprintf(err, err_size,
			 "trace %s has format version %" PRId64
			 ", newer than this tracefs reads (%d): use a newer tracefs",
			 r->file, version, TRACE_FORMAT_VERSION);
	/* Format 1 had no process lineage; from 2 on it is always there. */
	bool tables_agree = !ok || version > TRACE_FORMAT_VERSION || (version >= 2) == r->lineage;
	if (!tables_agree)
		snprintf(err, err_size,
			 "trace %s is corrupt: format version %" PRId64 " with%s process lineage "
			 "tables",
			 r->file, version, r->lineage ? "" : "out");
	free(text);
	return ok && version <= TRACE_FORMAT_VERSION && tables_agree ? 0 : -1;
}

static int read_start_ns(struct trace_reader *r, char *err, size_t err_size)
{
	char *text = trace_reader_meta(r, "start_ns");
	bool ok = parse_int64(text, &r->start_ns);

	if (!ok)
		snprintf(err, err_size, "trace %s is corrupt: its start_ns is %s", r->file,
			 text ? "no number" : "missing");
	free(text);
	return ok ? 0 : -1;
}

/*
 * Loads one id -> name table (ops or kinds) into of_id and id_of, matching
 * names with name_of(0 .. count-1).
 */
static int load_names(struct trace_reader *r, const char *sql, const char *(*name_of)(int), int count,
		      int16_t *of_id, int64_t *id_of, char *err, size_t err_size)
{
	sqlite3_stmt *stmt;

	if (prepare(r, sql, &stmt, err, err_size) != 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);
		const char *name = (const char *)sqlite3_column_text(stmt, 1);
		if (sqlite3_column_type(stmt, 0) != SQLITE_INTEGER || id < 0 || id > MAX_NAME_ID ||
		    !name) {
			snprintf(err, err_size, "trace %s is corrupt: bad row in its name tables",
				 r->file);
			sqlite3_finalize(stmt);
			return -1;
		}
		for (int value = 0; value < count; value++) {
			const char *known = name_of(value);
			if (known && strcmp(known, name) == 0) {
				of_id[id] = (int16_t)value;
				id_of[value] = id;
			}
		}
	}
	if (rc != SQLITE_DONE)
		trace_reader_sql_error(r, rc, "reading the names of operations and kinds", err,
				     err_size);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *op_name_of(int value)
{
	return trace_op_name((enum trace_op)value);
}

static const char *kind_name_of(int value)
{
	return trace_kind_name((enum trace_kind)value);
}

static int load_name_tables(struct trace_reader *r, char *err, size_t err_size)
{
	for (int id = 0; id <= MAX_NAME_ID; id++) {
		r->op_of_id[id] = -1;
		r->kind_of_id[id] = -1;
	}
	for (int op = 0; op < TRACE_OP_COUNT; op++)
		r->id_of_op[op] = -1;
	for (int kind = 0; kind < TRACE_KIND_COUNT; kind++)
		r->id_of_kind[kind] = -1;
	if (load_names(r, "SELECT id, name FROM ops", op_name_of, TRACE_OP_COUNT, r->op_of_id,
		       r->id_of_op, err, err_size) != 0 ||
	    load_names(r, "SELECT id, name FROM kinds", kind_name_of, TRACE_KIND_COUNT, r->kind_of_id,
		       r->id_of_kind, err, err_size) != 0)
		return -1;
	/* An unknown kind has no row: the writer stores 0 and the view shows NULL. */
	if (r->kind_of_id[0] == -1 && r->id_of_kind[TRACE_KIND_NONE] == -1) {
		r->kind_of_id[0] = TRACE_KIND_NONE;
		r->id_of_kind[TRACE_KIND_NONE] = 0;
	}
	return 0;
}

/*
 * Checks every row of paths or procs (SQL: id first, in id order) and
 * notes their ids, so that an event's ids are checked by a lookup in
 * memory. These tables hold one row per distinct path or process: far
 * fewer than events.
 */
static int load_id_set(struct trace_reader *r, const char *sql, const char *table,
		       check_row_fn *check_row, struct id_set *set, char *err, size_t err_size)
{
	sqlite3_stmt *stmt;
	int rc;

	if (prepare(r, sql, &stmt, err, err_size) != 0)
		return -1;
	int result = 0;
	while (result == 0 && (rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);
		unsigned char flag = 0;
		const char *what = check_row(r, stmt, &flag);
		if (!what && set->count && id <= set->last)
			what = "ids out of order";
		if (what) {
			snprintf(err, err_size, "trace %s is corrupt: %s id %" PRId64 ": %s", r->file,
				 table, id, what);
			result = -1;
		} else if (add_id(set, id, flag) != 0) {
			snprintf(err, err_size, "out of memory");
			result = -1;
		}
	}
	if (result == 0 && rc != SQLITE_DONE) {
		trace_reader_sql_error(r, rc, table, err, err_size);
		result = -1;
	}
	sqlite3_finalize(stmt);
	return result;
}

#define PATHS_SQL "SELECT id, path FROM paths"
#define PROCS_SQL "SELECT id, pid, comm, uid, gid, %s FROM procs"
#define PROCESSES_SQL                                                                              \
	"SELECT id, pid, ppid, parent_id, root_id, exe, argv, cwd, start_ns, exit_ns, first_seq,"  \
	" state FROM processes"

/* The column procs.process, or NULL in a trace from before process lineage. */
static const char *process_column(const struct trace_reader *r)
{
	return r->lineage ? "process" : "NULL";
}

static int load_id_sets(struct trace_reader *r, char *err, size_t err_size)
{
	char procs_all[128], procs_one[128];

	snprintf(procs_all, sizeof(procs_all), PROCS_SQL " ORDER BY id", process_column(r));
	snprintf(procs_one, sizeof(procs_one), PROCS_SQL " WHERE id = ?1", process_column(r));
	/* processes first: procs rows name them. */
	if ((r->lineage &&
	     (load_id_set(r, PROCESSES_SQL " ORDER BY id", "processes", check_process_row,
			  &r->processes, err, err_size) != 0 ||
	      prepare(r, PROCESSES_SQL " WHERE id > ?1 AND id <= ?2 ORDER BY id", &r->process_rows,
		      err, err_size) != 0)) ||
	    load_id_set(r, PATHS_SQL " ORDER BY id", "paths", check_path_row, &r->paths, err,
			err_size) != 0 ||
	    load_id_set(r, procs_all, "procs", check_proc_row, &r->procs, err, err_size) != 0 ||
	    prepare(r, PATHS_SQL " WHERE id = ?1", &r->path_row, err, err_size) != 0 ||
	    prepare(r, procs_one, &r->proc_row, err, err_size) != 0)
		return -1;
	return 0;
}

/* Slots for about COUNT rows, a power of two in [min, max]. */
static int text_cache_init(struct text_cache *c, size_t count, size_t min, size_t max)
{
	size_t slots = min;
	while (slots < count && slots < max)
		slots *= 2;
	c->slots = calloc(slots, sizeof(*c->slots));
	c->mask = slots - 1;
	return c->slots ? 0 : -1;
}

static void text_cache_free(struct text_cache *c)
{
	for (size_t i = 0; c->slots && i <= c->mask; i++)
		free(c->slots[i].text);
	free(c->slots);
}

int trace_reader_limit_cache(struct trace_reader *r, size_t slots)
{
	struct text_cache *caches[] = {&r->path_text, &r->proc_text};
	for (size_t i = 0; i < sizeof(caches) / sizeof(caches[0]); i++) {
		if (caches[i]->mask < slots)
			continue;
		text_cache_free(caches[i]);
		if (text_cache_init(caches[i], slots, 1, slots) != 0)
			return -1;
	}
	return 0;
}

static int prepare_statements(struct trace_reader *r, char *err, size_t err_size)
{
	/* Paths: a slot per path up to 1Mi (about 60 MB with their texts),
	 * so dense ids never collide; past that a trace's paths are looked
	 * up again, a B-tree search each (an index build of 100M events
	 * over 1M paths took more than 10 minutes with 128Ki slots). */
	if (text_cache_init(&r->path_text, r->paths.count, 1u << 10, 1u << 20) != 0 ||
	    text_cache_init(&r->path2_text, 0, 1u << 8, 1u << 8) != 0 ||
	    text_cache_init(&r->proc_text, r->procs.count, 1u << 8, 1u << 16) != 0) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	if (prepare(r, stream_sql, &r->stream, err, err_size) != 0 ||
	    prepare(r, "SELECT seq FROM events WHERE ts >= ?1 ORDER BY seq LIMIT 1", &r->seek, err,
		    err_size) != 0 ||
	    prepare(r, "SELECT coalesce(max(seq), 0) FROM events", &r->max_seq, err, err_size) != 0)
		return -1;
	r->last_seq = INT64_MIN; /* before any seq; decode_row wants seq >= 1 */
	r->stream_idle = true;
	return 0;
}

/* ---- open and close ---- */

/* The size of FILE's sibling FILE-suffix, or -1 if there is none. */
static off_t sibling_size(const char *file, const char *suffix)
{
	char *name;
	struct stat st;

	if (asprintf(&name, "%s%s", file, suffix) < 0)
		return -1;
	off_t size = stat(name, &st) == 0 ? st.st_size : -1;
	free(name);
	return size;
}

static void remove_sibling(const char *file, const char *suffix)
{
	char *name;

	if (asprintf(&name, "%s%s", file, suffix) < 0)
		return;
	unlink(name); /* best effort: a leftover file does no harm */
	free(name);
}

/*
 * Reading a WAL-mode trace makes SQLite create an empty -wal and a -shm
 * beside it, which a read-only connection does not remove. We remove them
 * if they were not there before and the -wal is still empty: no writer has
 * come meanwhile (a recorder always has its -wal while it writes).
 */
static void remove_own_siblings(const struct trace_reader *r)
{
	if (r->had_wal || sibling_size(r->file, "-wal") != 0)
		return;
	remove_sibling(r->file, "-wal");
	if (!r->had_shm)
		remove_sibling(r->file, "-shm");
}

/*
 * A trace may come from anyone: nothing in its schema runs with more than
 * the least trust (no functions with side effects, no triggers, no views:
 * we read the tables), and nothing can change the file even by mistake.
 */
static int defend(sqlite3 *db)
{
	static const int off[] = {SQLITE_DBCONFIG_TRUSTED_SCHEMA, SQLITE_DBCONFIG_ENABLE_TRIGGER,
				  SQLITE_DBCONFIG_ENABLE_VIEW};
	int rc = sqlite3_db_config(db, SQLITE_DBCONFIG_DEFENSIVE, 1, NULL);

	for (size_t i = 0; i < sizeof(off) / sizeof(off[0]) && rc == SQLITE_OK; i++)
		rc = sqlite3_db_config(db, off[i], 0, NULL);
	return rc;
}

/* Opens NAME (a path, or a URI with SQLITE_OPEN_URI in flags) and sets it up. */
static int connect_to(struct trace_reader *r, const char *name, int flags, char *err,
		      size_t err_size)
{
	/*
	 * Read-only and without SQLITE_OPEN_CREATE: never creates the trace.
	 * A reader is used by one thread at a time: no mutex around every
	 * sqlite3_column_*() call (a tenth of a report's CPU time).
	 */
	int rc = sqlite3_open_v2(name, &r->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX | flags,
				 NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, err_size, "cannot open trace %s: %s", r->file,
			 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(r->db, 1);
	rc = defend(r->db);
	sqlite3_progress_handler(r->db, PROGRESS_STEPS, stop_requested, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		trace_reader_sql_error(r, rc, NULL, err, err_size);
		return -1;
	}
	return 0;
}

/*
 * Streaming looks paths up by id all over the paths table: cache it. And
 * check each page's cells as it is read, which catches most damage to a
 * page for little cost.
 */
static int set_cache(struct trace_reader *r, char *err, size_t err_size)
{
	int rc = sqlite3_exec(r->db, "PRAGMA cache_size = -" CACHE_KIB "; PRAGMA cell_size_check = ON",
			      NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	trace_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

/* SQLite opens a WAL trace's -shm at the first read. Its result code. */
static int first_read(struct trace_reader *r)
{
	return sqlite3_exec(r->db, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL);
}

/* file:PATH?immutable=1, with the bytes of PATH that a URI may not hold %-escaped. */
static char *immutable_uri(const char *path)
{
	static const char keep[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/._~-";
	size_t len = strlen(path);
	char *uri = malloc(5 + 3 * len + sizeof("?immutable=1"));
	char *out = uri;

	if (!uri)
		return NULL;
	out += sprintf(out, "file:");
	for (const char *c = path; *c; c++) {
		if (strchr(keep, *c))
			*out++ = *c;
		else
			out += sprintf(out, "%%%02X", (unsigned char)*c);
	}
	strcpy(out, "?immutable=1");
	return uri;
}

static int open_database(struct trace_reader *r, char *err, size_t err_size)
{
	r->had_wal = sibling_size(r->file, "-wal") >= 0;
	r->had_shm = sibling_size(r->file, "-shm") >= 0;
	if (connect_to(r, r->file, 0, err, err_size) != 0)
		return -1;
	if ((first_read(r) & 0xff) != SQLITE_CANTOPEN || r->had_wal)
		return set_cache(r, err, err_size);
	/*
	 * A WAL trace in a directory we may not write to: SQLite cannot make
	 * the -shm it wants. With no -wal, everything is in the main file and
	 * no recorder is writing (it would have one): read it as immutable.
	 */
	sqlite3_close(r->db);
	r->db = NULL;
	char *uri = immutable_uri(r->file);
	if (!uri) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	int result = connect_to(r, uri, SQLITE_OPEN_URI, err, err_size);
	free(uri);
	return result == 0 ? set_cache(r, err, err_size) : -1;
}

struct trace_reader *trace_reader_open(const char *path, char *err, size_t err_size)
{
	if (!path || !*path) {
		snprintf(err, err_size, "no trace file given");
		return NULL;
	}
	if (check_file(path, err, err_size) != 0)
		return NULL;
	struct trace_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->file = strdup(path))) {
		snprintf(err, err_size, "out of memory");
		free(r);
		return NULL;
	}
	if (open_database(r, err, err_size) == 0 && check_schema(r, err, err_size) == 0 &&
	    prepare(r, META_SQL, &r->meta, err, err_size) == 0 &&
	    check_format_version(r, err, err_size) == 0 && read_start_ns(r, err, err_size) == 0 &&
	    load_name_tables(r, err, err_size) == 0 && load_id_sets(r, err, err_size) == 0 &&
	    prepare_statements(r, err, err_size) == 0)
		return r;
	trace_reader_close(r);
	return NULL;
}

void trace_reader_close(struct trace_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->stream);
	sqlite3_finalize(r->seek);
	sqlite3_finalize(r->max_seq);
	sqlite3_finalize(r->meta);
	sqlite3_finalize(r->path_row);
	sqlite3_finalize(r->proc_row);
	sqlite3_finalize(r->process_rows);
	free(r->processes.ids);
	free(r->processes.flags);
	free(r->paths.ids);
	free(r->paths.flags);
	free(r->procs.ids);
	free(r->procs.flags);
	text_cache_free(&r->path_text);
	text_cache_free(&r->path2_text);
	text_cache_free(&r->proc_text);
	/* Read-only: nothing can be lost; an error here has no one to tell. */
	if (sqlite3_close(r->db) == SQLITE_OK && r->db)
		remove_own_siblings(r);
	free(r->file);
	free(r);
}

/* ---- meta and span ---- */

char *trace_reader_meta(struct trace_reader *r, const char *key)
{
	char *value = NULL;

	sqlite3_bind_text(r->meta, 1, key, -1, SQLITE_STATIC);
	if (sqlite3_step(r->meta) == SQLITE_ROW) {
		const char *text = (const char *)sqlite3_column_text(r->meta, 0);
		int len = sqlite3_column_bytes(r->meta, 0);
		/* A value with a NUL inside is not one that we wrote. */
		if (text && !memchr(text, '\0', (size_t)len))
			value = strdup(text);
	}
	sqlite3_reset(r->meta);
	return value;
}

int trace_reader_span(struct trace_reader *r, int64_t *first_ns, int64_t *last_ns, int64_t *count)
{
	sqlite3_stmt *stmt;

	if (sqlite3_prepare_v2(r->db, "SELECT min(ts), max(ts), count(*) FROM events", -1, &stmt,
			       NULL) != SQLITE_OK)
		return -1;
	int result = -1;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		int64_t n = sqlite3_column_int64(stmt, 2);
		int64_t first = n ? sqlite3_column_int64(stmt, 0) : 0;
		int64_t last = n ? sqlite3_column_int64(stmt, 1) : 0;
		bool typed = !n || (sqlite3_column_type(stmt, 0) == SQLITE_INTEGER &&
				    sqlite3_column_type(stmt, 1) == SQLITE_INTEGER);
		if (typed && n >= 0 && !__builtin_add_overflow(first, r->start_ns, first_ns) &&
		    !__builtin_add_overflow(last, r->start_ns, last_ns)) {
			*count = n;
			result = 0;
		}
	}
	sqlite3_finalize(stmt);
	return result;
}

/* ---- the stream ---- */

/* Copies the text column COL of ROW (checked: text, no NUL inside) into SLOT. */
static bool keep_text(struct trace_reader *r, struct text_slot *slot, sqlite3_stmt *row, int col)
{
	const unsigned char *text = sqlite3_column_text(row, col);
	int len = sqlite3_column_bytes(row, col);

	if (sqlite3_column_type(row, col) != SQLITE_TEXT || !text_ok(text, len))
		return false;
	if ((size_t)len + 1 > slot->cap) {
		char *bigger = realloc(slot->text, (size_t)len + 1);
		if (!bigger) {
			r->out_of_memory = true;
			return false;
		}
		slot->text = bigger;
		slot->cap = (size_t)len + 1;
	}
	memcpy(slot->text, text, (size_t)len + 1);
	return true;
}

/*
 * The slot of ID in C, read from ROW (PATHS_SQL or PROCS_SQL by id) on a
 * miss; NULL if the row is gone or not text (or no memory: out_of_memory).
 */
static struct text_slot *cached_row(struct trace_reader *r, struct text_cache *c, sqlite3_stmt *row,
				    int64_t id, bool procs)
{
	struct text_slot *slot = &c->slots[(uint64_t)id & c->mask];

	if (slot->valid && slot->id == id)
		return slot;
	slot->valid = false;
	sqlite3_bind_int64(row, 1, id);
	bool ok = sqlite3_step(row) == SQLITE_ROW;
	if (ok && !procs) {
		ok = keep_text(r, slot, row, 1);
	} else if (ok) {
		/* Ranges were checked with the row (check_proc_row). */
		slot->pid = (int32_t)sqlite3_column_int64(row, 1);
		slot->uid = (uint32_t)sqlite3_column_int64(row, 3);
		slot->gid = (uint32_t)sqlite3_column_int64(row, 4);
		slot->process = sqlite3_column_int64(row, 5); /* checked with the row; NULL: 0 */
		slot->has_text = sqlite3_column_type(row, 2) != SQLITE_NULL;
		ok = sqlite3_column_type(row, 1) == SQLITE_INTEGER &&
		     (!slot->has_text || keep_text(r, slot, row, 2));
	}
	sqlite3_reset(row);
	if (!ok)
		return NULL;
	slot->id = id;
	slot->valid = true;
	return slot;
}

/* The strings and the process of the current row, whose ids are checked. */
static const char *decode_strings(struct trace_reader *r, const struct raw_value *v,
				  struct trace_event *e)
{
	struct text_slot *slot;

	if (v[COL_PATH_ID].type != SQLITE_NULL) {
		if (!(slot = cached_row(r, &r->path_text, r->path_row, v[COL_PATH_ID].i, false)))
			return "bad path";
		e->path = slot->text;
	}
	if (v[COL_PATH2_ID].type != SQLITE_NULL) {
		if (!(slot = cached_row(r, &r->path2_text, r->path_row, v[COL_PATH2_ID].i, false)))
			return "bad second path";
		e->path2 = slot->text;
	}
	if (v[COL_PROC_ID].type == SQLITE_NULL)
		return NULL;
	if (!(slot = cached_row(r, &r->proc_text, r->proc_row, v[COL_PROC_ID].i, true)))
		return "bad process";
	e->pid = slot->pid;
	e->uid = slot->uid;
	e->gid = slot->gid;
	e->process = slot->process;
	e->comm = slot->has_text ? slot->text : NULL;
	return NULL;
}

static int decode_row(struct trace_reader *r, struct trace_event *e, int64_t *seq_out, char *err,
		      size_t err_size)
{
	sqlite3_stmt *s = r->stream;
	struct raw_value v[EVENT_COLUMNS];
	int64_t seq = 0;

	for (int i = 0; i < EVENT_COLUMNS; i++)
		v[i] = (struct raw_value){sqlite3_column_type(s, i), sqlite3_column_int64(s, i)};
	memset(e, 0, sizeof(*e));
	const char *what = check_event(r, v, e, &seq);
	if (!what && seq <= r->last_seq)
		what = "seq out of order";
	r->out_of_memory = false;
	if (!what)
		what = decode_strings(r, v, e);
	if (r->out_of_memory) {
		snprintf(err, err_size, "out of memory reading trace %s", r->file);
		return -1;
	}
	if (what) {
		if (v[COL_SEQ].type == SQLITE_INTEGER)
			snprintf(err, err_size, "trace %s is corrupt: event seq %" PRId64 ": %s",
				 r->file, v[COL_SEQ].i, what);
		else
			snprintf(err, err_size, "trace %s is corrupt: after seq %" PRId64 ": %s",
				 r->file, r->last_seq, what);
		return -1;
	}
	*seq_out = seq;
	return 0;
}

int trace_reader_next(struct trace_reader *r, struct trace_event *event, int64_t *seq, char *err,
		    size_t err_size)
{
	if (r->stream_idle) {
		/* From the last event on: also picks up what a live recorder added. */
		sqlite3_bind_int64(r->stream, 1, r->last_seq);
		r->stream_idle = false;
	}
	int rc = sqlite3_step(r->stream);
	if (rc == SQLITE_ROW) {
		if (decode_row(r, event, seq, err, err_size) == 0) {
			r->last_seq = *seq;
			return 1;
		}
	} else if (rc != SQLITE_DONE) {
		trace_reader_sql_error(r, rc, "reading events", err, err_size);
	}
	sqlite3_reset(r->stream); /* ends the read transaction; the error is reported */
	r->stream_idle = true;
	return rc == SQLITE_DONE ? 0 : -1;
}

int trace_reader_seek(struct trace_reader *r, int64_t ts_ns, char *err, size_t err_size)
{
	int64_t ts;

	if (__builtin_sub_overflow(ts_ns, r->start_ns, &ts))
		ts = ts_ns < r->start_ns ? INT64_MIN : INT64_MAX;
	sqlite3_reset(r->stream);
	r->stream_idle = true;
	sqlite3_bind_int64(r->seek, 1, ts);
	int found = step_one(r, r->seek, err, err_size);
	int64_t first = found == 1 ? sqlite3_column_int64(r->seek, 0) : 0;
	sqlite3_reset(r->seek);
	if (found == 1) {
		r->last_seq = first > INT64_MIN ? first - 1 : first;
		return 0;
	}
	if (found < 0)
		return -1;
	/* Nothing at or after ts_ns yet: continue after the last event. */
	found = step_one(r, r->max_seq, err, err_size);
	if (found == 1)
		r->last_seq = sqlite3_column_int64(r->max_seq, 0);
	sqlite3_reset(r->max_seq);
	return found == 1 ? 0 : -1;
}

void trace_reader_seek_seq(struct trace_reader *r, int64_t seq)
{
	sqlite3_reset(r->stream);
	r->stream_idle = true;
	r->last_seq = seq > INT64_MIN ? seq - 1 : seq;
}

/* ---- private accessors (trace.h) ---- */

sqlite3 *trace_reader_db(struct trace_reader *r)
{
	return r->db;
}

const char *trace_reader_file(const struct trace_reader *r)
{
	return r->file;
}

int64_t trace_reader_start_ns(const struct trace_reader *r)
{
	return r->start_ns;
}

int trace_reader_op_of_id(const struct trace_reader *r, int64_t id)
{
	return id >= 0 && id <= MAX_NAME_ID ? r->op_of_id[id] : -1;
}

int64_t trace_reader_id_of_op(const struct trace_reader *r, enum trace_op op)
{
	return (unsigned)op < TRACE_OP_COUNT ? r->id_of_op[op] : -1;
}

int trace_reader_kind_of_id(const struct trace_reader *r, int64_t id)
{
	return id >= 0 && id <= MAX_NAME_ID ? r->kind_of_id[id] : -1;
}

int64_t trace_reader_id_of_kind(const struct trace_reader *r, enum trace_kind kind)
{
	return (unsigned)kind < TRACE_KIND_COUNT ? r->id_of_kind[kind] : -1;
}
