/*
 * reader.c — reading a recorded trace back (recorder.h, rec_reader_*): opens
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
#include "recorder/reader.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
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

#define SQLITE_MAGIC "SQLite format 3"
#define SQLITE_HEADER_BYTES 100

struct rec_reader {
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
	int16_t op_of_id[MAX_NAME_ID + 1];   /* enum rec_op, or -1 */
	int16_t kind_of_id[MAX_NAME_ID + 1]; /* enum rec_kind, or -1 */
	int64_t id_of_op[REC_OP_COUNT];	     /* or -1 */
	int64_t id_of_kind[REC_KIND_COUNT];  /* or -1 */
};

/* The columns of the stream statement. */
enum stream_column {
	COL_SEQ,
	COL_TS,
	COL_DUR,
	COL_OP,
	COL_KIND,
	COL_PATH_ID,
	COL_PATH,
	COL_PATH2_ID,
	COL_PATH2,
	COL_PROC_ID,
	COL_PID,
	COL_COMM,
	COL_UID,
	COL_GID,
	COL_RESULT,
	COL_BYTES,
	COL_OFFSET,
	COL_FLAGS,
	COL_MODE,
};

/* Cheaper than the view: no joins for op and kind, which we map in C. */
static const char *const stream_sql =
	"SELECT e.seq, e.ts, e.dur, e.op, e.kind, e.path, p.path, e.path2, p2.path,\n"
	"  e.proc, pr.pid, pr.comm, pr.uid, pr.gid, e.result, e.bytes, e.\"offset\",\n"
	"  e.flags, e.mode\n"
	"FROM events AS e\n"
	"  LEFT JOIN paths AS p ON p.id = e.path\n"
	"  LEFT JOIN paths AS p2 ON p2.id = e.path2\n"
	"  LEFT JOIN procs AS pr ON pr.id = e.proc\n"
	"WHERE e.seq > ?1 ORDER BY e.seq";

/* ---- messages ---- */

void rec_reader_sql_error(struct rec_reader *r, int rc, const char *doing, char *err,
			  size_t err_size)
{
	int primary = rc & 0xff;
	/* The connection's message, unless the error did not come from it. */
	const char *msg = (sqlite3_extended_errcode(r->db) & 0xff) == primary
				  ? sqlite3_errmsg(r->db)
				  : sqlite3_errstr(rc);
	const char *sep = doing ? ": " : "";

	if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB)
		snprintf(err, err_size, "trace %s is corrupt: %s%s%s", r->file, doing ? doing : "",
			 sep, msg);
	else
		snprintf(err, err_size, "cannot read trace %s: %s%s%s", r->file, doing ? doing : "",
			 sep, msg);
}

/* A value in the trace that cannot be right: the file is corrupt. */
__attribute__((format(printf, 5, 6))) static void
corrupt(const struct rec_reader *r, int64_t seq, char *err, size_t err_size, const char *fmt, ...)
{
	char what[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	snprintf(err, err_size, "trace %s is corrupt: event seq %" PRId64 ": %s", r->file, seq,
		 what);
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

/* ---- checks of the schema and meta ---- */

static int prepare(struct rec_reader *r, const char *sql, sqlite3_stmt **stmt, char *err,
		   size_t err_size)
{
	int rc = sqlite3_prepare_v2(r->db, sql, -1, stmt, NULL);

	if (rc == SQLITE_OK)
		return 0;
	if ((rc & 0xff) == SQLITE_ERROR) /* no such table or column */
		snprintf(err, err_size, "%s is not a tracefs trace that this tracefs reads: %s",
			 r->file, sqlite3_errmsg(r->db));
	else
		rec_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

/* Steps a one-row query; its row is then in stmt. 1 row, 0 none, -1 error. */
static int step_one(struct rec_reader *r, sqlite3_stmt *stmt, char *err, size_t err_size)
{
	int rc = sqlite3_step(stmt);

	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	rec_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

static const char *const schema_sql =
	"SELECT\n"
	"  (SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'),\n"
	"  (SELECT count(*) FROM sqlite_master WHERE type = 'view' AND name = 'trace'),\n"
	"  (SELECT count(*) FROM sqlite_master WHERE type = 'table'\n"
	"     AND name IN ('events', 'paths', 'procs', 'ops', 'kinds'))";

/* The file has meta, the trace view and the tables beneath. */
static int check_schema(struct rec_reader *r, char *err, size_t err_size)
{
	sqlite3_stmt *stmt;

	if (prepare(r, schema_sql, &stmt, err, err_size) != 0)
		return -1;
	int result = step_one(r, stmt, err, err_size);
	if (result == 1) {
		result = -1;
		if (sqlite3_column_int64(stmt, 0) != 1)
			snprintf(err, err_size, "%s is not a tracefs trace (no meta table)",
				 r->file);
		else if (sqlite3_column_int64(stmt, 1) != 1)
			snprintf(err, err_size, "%s is not a tracefs trace (no trace view)",
				 r->file);
		else if (sqlite3_column_int64(stmt, 2) != 5)
			snprintf(err, err_size,
				 "%s is not a tracefs trace (the tables beneath the trace view are "
				 "missing)",
				 r->file);
		else
			result = 0;
	} else if (result == 0) {
		snprintf(err, err_size, "cannot read trace %s: no answer about its schema",
			 r->file);
		result = -1;
	}
	sqlite3_finalize(stmt);
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

static int check_format_version(struct rec_reader *r, char *err, size_t err_size)
{
	char *text = rec_reader_meta(r, "format_version");
	int64_t version = 0;

	if (!text) { /* it has a trace's tables: something spoilt meta */
		snprintf(err, err_size, "trace %s is corrupt: no format_version in meta", r->file);
		return -1;
	}
	bool ok = parse_int64(text, &version) && version >= 1;
	if (!ok)
		snprintf(err, err_size, "trace %s is corrupt: its format_version is no number",
			 r->file); /* not shown: it could hold anything */
	else if (version > REC_FORMAT_VERSION)
		snprintf(err, err_size,
			 "trace %s has format version %" PRId64
			 ", newer than this tracefs reads (%d): use a newer tracefs",
			 r->file, version, REC_FORMAT_VERSION);
	free(text);
	return ok && version <= REC_FORMAT_VERSION ? 0 : -1;
}

static int read_start_ns(struct rec_reader *r, char *err, size_t err_size)
{
	char *text = rec_reader_meta(r, "start_ns");
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
static int load_names(struct rec_reader *r, const char *sql, const char *(*name_of)(int), int count,
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
		rec_reader_sql_error(r, rc, "reading the names of operations and kinds", err,
				     err_size);
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const char *op_name_of(int value)
{
	return rec_op_name((enum rec_op)value);
}

static const char *kind_name_of(int value)
{
	return rec_kind_name((enum rec_kind)value);
}

static int load_name_tables(struct rec_reader *r, char *err, size_t err_size)
{
	for (int id = 0; id <= MAX_NAME_ID; id++) {
		r->op_of_id[id] = -1;
		r->kind_of_id[id] = -1;
	}
	for (int op = 0; op < REC_OP_COUNT; op++)
		r->id_of_op[op] = -1;
	for (int kind = 0; kind < REC_KIND_COUNT; kind++)
		r->id_of_kind[kind] = -1;
	if (load_names(r, "SELECT id, name FROM ops", op_name_of, REC_OP_COUNT, r->op_of_id,
		       r->id_of_op, err, err_size) != 0 ||
	    load_names(r, "SELECT id, name FROM kinds", kind_name_of, REC_KIND_COUNT, r->kind_of_id,
		       r->id_of_kind, err, err_size) != 0)
		return -1;
	/* An unknown kind has no row: the writer stores 0 and the view shows NULL. */
	if (r->kind_of_id[0] == -1 && r->id_of_kind[REC_KIND_NONE] == -1) {
		r->kind_of_id[0] = REC_KIND_NONE;
		r->id_of_kind[REC_KIND_NONE] = 0;
	}
	return 0;
}

static int prepare_statements(struct rec_reader *r, char *err, size_t err_size)
{
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
static void remove_own_siblings(const struct rec_reader *r)
{
	if (r->had_wal || sibling_size(r->file, "-wal") != 0)
		return;
	remove_sibling(r->file, "-wal");
	if (!r->had_shm)
		remove_sibling(r->file, "-shm");
}

/* Opens NAME (a path, or a URI with SQLITE_OPEN_URI in flags) and sets it up. */
static int connect_to(struct rec_reader *r, const char *name, int flags, char *err,
		      size_t err_size)
{
	/* Read-only and without SQLITE_OPEN_CREATE: never creates the trace. */
	int rc = sqlite3_open_v2(name, &r->db, SQLITE_OPEN_READONLY | flags, NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, err_size, "cannot open trace %s: %s", r->file,
			 r->db ? sqlite3_errmsg(r->db) : sqlite3_errstr(rc));
		return -1;
	}
	sqlite3_extended_result_codes(r->db, 1);
	rc = sqlite3_busy_timeout(r->db, BUSY_TIMEOUT_MS);
	if (rc != SQLITE_OK) {
		rec_reader_sql_error(r, rc, NULL, err, err_size);
		return -1;
	}
	return 0;
}

/* Streaming looks paths up by id all over the paths table: cache it. */
static int set_cache(struct rec_reader *r, char *err, size_t err_size)
{
	int rc = sqlite3_exec(r->db, "PRAGMA cache_size = -" CACHE_KIB, NULL, NULL, NULL);

	if (rc == SQLITE_OK)
		return 0;
	rec_reader_sql_error(r, rc, NULL, err, err_size);
	return -1;
}

/* SQLite opens a WAL trace's -shm at the first read. Its result code. */
static int first_read(struct rec_reader *r)
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

static int open_database(struct rec_reader *r, char *err, size_t err_size)
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

struct rec_reader *rec_reader_open(const char *path, char *err, size_t err_size)
{
	if (!path || !*path) {
		snprintf(err, err_size, "no trace file given");
		return NULL;
	}
	if (check_file(path, err, err_size) != 0)
		return NULL;
	struct rec_reader *r = calloc(1, sizeof(*r));
	if (!r || !(r->file = strdup(path))) {
		snprintf(err, err_size, "out of memory");
		free(r);
		return NULL;
	}
	if (open_database(r, err, err_size) == 0 && check_schema(r, err, err_size) == 0 &&
	    prepare(r, "SELECT value FROM meta WHERE key = ?1", &r->meta, err, err_size) == 0 &&
	    check_format_version(r, err, err_size) == 0 && read_start_ns(r, err, err_size) == 0 &&
	    load_name_tables(r, err, err_size) == 0 && prepare_statements(r, err, err_size) == 0)
		return r;
	rec_reader_close(r);
	return NULL;
}

void rec_reader_close(struct rec_reader *r)
{
	if (!r)
		return;
	sqlite3_finalize(r->stream);
	sqlite3_finalize(r->seek);
	sqlite3_finalize(r->max_seq);
	sqlite3_finalize(r->meta);
	/* Read-only: nothing can be lost; an error here has no one to tell. */
	if (sqlite3_close(r->db) == SQLITE_OK && r->db)
		remove_own_siblings(r);
	free(r->file);
	free(r);
}

/* ---- meta and span ---- */

char *rec_reader_meta(struct rec_reader *r, const char *key)
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

int rec_reader_span(struct rec_reader *r, int64_t *first_ns, int64_t *last_ns, int64_t *count)
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

int rec_reader_density(struct rec_reader *r, int64_t first_ns, int64_t last_ns, int64_t *counts,
		       size_t buckets)
{
	if (buckets == 0 || last_ns < first_ns)
		return -1;
	memset(counts, 0, buckets * sizeof(*counts));
	/* In SQL, so that only BUCKETS rows come back whatever the trace's size. */
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(r->db,
			       "SELECT min((ts - ?1) * ?3 / (?2 - ?1 + 1), ?3 - 1), count(*) FROM events"
			       " WHERE ts BETWEEN ?1 AND ?2 GROUP BY 1",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	int64_t from = first_ns - r->start_ns, to = last_ns - r->start_ns;
	sqlite3_bind_int64(stmt, 1, from);
	sqlite3_bind_int64(stmt, 2, to);
	sqlite3_bind_int64(stmt, 3, (int64_t)buckets);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t bucket = sqlite3_column_int64(stmt, 0);
		if (bucket >= 0 && (size_t)bucket < buckets)
			counts[bucket] = sqlite3_column_int64(stmt, 1);
	}
	sqlite3_finalize(stmt);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* ---- the stream ---- */

/* An integer column in [min, max]; NULL only if null_value is not NULL. */
static bool int_column(sqlite3_stmt *s, int col, int64_t min, int64_t max,
		       const int64_t *null_value, int64_t *out)
{
	int type = sqlite3_column_type(s, col);

	if (type == SQLITE_NULL && null_value) {
		*out = *null_value;
		return true;
	}
	if (type != SQLITE_INTEGER)
		return false;
	int64_t v = sqlite3_column_int64(s, col);
	if (v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* A text column, or NULL; text must not hold a NUL (C strings end there). */
static bool text_column(sqlite3_stmt *s, int col, const char **out)
{
	int type = sqlite3_column_type(s, col);

	*out = NULL;
	if (type == SQLITE_NULL)
		return true;
	if (type != SQLITE_TEXT)
		return false;
	const char *text = (const char *)sqlite3_column_text(s, col);
	int len = sqlite3_column_bytes(s, col);
	if (!text || memchr(text, '\0', (size_t)len))
		return false;
	*out = text;
	return true;
}

/* A string the event refers to by id: NULL if no id, else the joined text. */
static bool referenced_text(sqlite3_stmt *s, int id_col, int text_col, const char **out)
{
	if (sqlite3_column_type(s, id_col) == SQLITE_NULL) {
		*out = NULL;
		return true;
	}
	return text_column(s, text_col, out) && *out; /* an id without a row is corrupt */
}

static const int64_t minus_one = -1;
static const int64_t zero = 0;

/* The strings and the process of the current row. */
static int decode_strings(struct rec_reader *r, sqlite3_stmt *s, int64_t seq, struct rec_event *e,
			  char *err, size_t err_size)
{
	int64_t pid = 0, uid = 0, gid = 0;

	if (!referenced_text(s, COL_PATH_ID, COL_PATH, &e->path) ||
	    (e->path && e->path[0] != '/')) {
		corrupt(r, seq, err, err_size, "bad path");
		return -1;
	}
	if (!referenced_text(s, COL_PATH2_ID, COL_PATH2, &e->path2)) {
		corrupt(r, seq, err, err_size, "bad second path");
		return -1;
	}
	bool has_proc = sqlite3_column_type(s, COL_PROC_ID) != SQLITE_NULL;
	if (has_proc && (!int_column(s, COL_PID, INT32_MIN, INT32_MAX, NULL, &pid) ||
			 !int_column(s, COL_UID, 0, UINT32_MAX, NULL, &uid) ||
			 !int_column(s, COL_GID, 0, UINT32_MAX, NULL, &gid) ||
			 !text_column(s, COL_COMM, &e->comm))) {
		corrupt(r, seq, err, err_size, "bad process (pid, uid, gid or comm)");
		return -1;
	}
	if (!has_proc)
		e->comm = NULL;
	e->pid = (int32_t)pid;
	e->uid = (uint32_t)uid;
	e->gid = (uint32_t)gid;
	return 0;
}

/* The numbers of the current row. */
static int decode_numbers(struct rec_reader *r, sqlite3_stmt *s, int64_t seq, struct rec_event *e,
			  char *err, size_t err_size)
{
	int64_t ts, op_id, kind_id, result, flags, mode;

	if (!int_column(s, COL_TS, INT64_MIN, INT64_MAX, NULL, &ts) ||
	    __builtin_add_overflow(ts, r->start_ns, &e->ts_ns)) {
		corrupt(r, seq, err, err_size, "bad time");
		return -1;
	}
	if (!int_column(s, COL_DUR, 0, INT64_MAX, NULL, &e->dur_ns)) {
		corrupt(r, seq, err, err_size, "bad (negative?) duration");
		return -1;
	}
	if (!int_column(s, COL_OP, 0, MAX_NAME_ID, NULL, &op_id) || r->op_of_id[op_id] < 0) {
		corrupt(r, seq, err, err_size, "unknown operation id");
		return -1;
	}
	if (!int_column(s, COL_KIND, 0, MAX_NAME_ID, NULL, &kind_id) ||
	    r->kind_of_id[kind_id] < 0) {
		corrupt(r, seq, err, err_size, "unknown kind id");
		return -1;
	}
	if (!int_column(s, COL_RESULT, INT32_MIN, INT32_MAX, NULL, &result) ||
	    !int_column(s, COL_BYTES, 0, INT64_MAX, &minus_one, &e->bytes) ||
	    !int_column(s, COL_OFFSET, 0, INT64_MAX, &minus_one, &e->offset) ||
	    !int_column(s, COL_FLAGS, 0, UINT32_MAX, &zero, &flags) ||
	    !int_column(s, COL_MODE, 0, UINT32_MAX, &zero, &mode)) {
		corrupt(r, seq, err, err_size, "bad result, bytes, offset, flags or mode");
		return -1;
	}
	e->op = (uint8_t)r->op_of_id[op_id];
	e->kind = (uint8_t)r->kind_of_id[kind_id];
	e->result = (int32_t)result;
	e->flags = (uint32_t)flags;
	e->mode = (uint32_t)mode;
	return 0;
}

static int decode_row(struct rec_reader *r, struct rec_event *e, int64_t *seq_out, char *err,
		      size_t err_size)
{
	sqlite3_stmt *s = r->stream;
	int64_t seq;

	if (!int_column(s, COL_SEQ, 1, INT64_MAX, NULL, &seq) || seq <= r->last_seq) {
		snprintf(err, err_size, "trace %s is corrupt: bad seq after %" PRId64, r->file,
			 r->last_seq);
		return -1;
	}
	memset(e, 0, sizeof(*e));
	if (decode_numbers(r, s, seq, e, err, err_size) != 0 ||
	    decode_strings(r, s, seq, e, err, err_size) != 0)
		return -1;
	*seq_out = seq;
	return 0;
}

int rec_reader_next(struct rec_reader *r, struct rec_event *event, int64_t *seq, char *err,
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
		rec_reader_sql_error(r, rc, "reading events", err, err_size);
	}
	sqlite3_reset(r->stream); /* ends the read transaction; the error is reported */
	r->stream_idle = true;
	return rc == SQLITE_DONE ? 0 : -1;
}

int rec_reader_seek(struct rec_reader *r, int64_t ts_ns, char *err, size_t err_size)
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

/* ---- private accessors (reader.h) ---- */

sqlite3 *rec_reader_db(struct rec_reader *r)
{
	return r->db;
}

const char *rec_reader_file(const struct rec_reader *r)
{
	return r->file;
}

int64_t rec_reader_start_ns(const struct rec_reader *r)
{
	return r->start_ns;
}

int rec_reader_op_of_id(const struct rec_reader *r, int64_t id)
{
	return id >= 0 && id <= MAX_NAME_ID ? r->op_of_id[id] : -1;
}

int64_t rec_reader_id_of_op(const struct rec_reader *r, enum rec_op op)
{
	return (unsigned)op < REC_OP_COUNT ? r->id_of_op[op] : -1;
}

int rec_reader_kind_of_id(const struct rec_reader *r, int64_t id)
{
	return id >= 0 && id <= MAX_NAME_ID ? r->kind_of_id[id] : -1;
}

int64_t rec_reader_id_of_kind(const struct rec_reader *r, enum rec_kind kind)
{
	return (unsigned)kind < REC_KIND_COUNT ? r->id_of_kind[kind] : -1;
}
