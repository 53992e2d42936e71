/*
 * diff.c — `tracefs diff`: one trace reduced to what a comparison needs
 * (diff_read), and two set side by side (diff_compare). The phases, totals
 * and latency come from the report's analysis (analyze_run); the files,
 * failures and operations per command from one more read of the events,
 * in order, through the validating reader.
 */
#include "analyze/diff.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define PROGRESS_EVERY 65536 /* events */

/* ---- reading one run ---- */

/* What the run did to one path so far, in event order. */
struct path_state {
	char *path;
	bool dir, read, written, made, gone;
	bool named; /* the run gave the name: made it, a directory, a link or a rename to it */
	int64_t bytes_read, bytes_written, size;
	int64_t writer; /* command index + 1, 0 if unknown */
};

/* A failure as seen: aggregated after the read. */
struct seen_failure {
	int64_t path; /* index of its state */
	int32_t result;
	uint8_t op;
};

/* One event as the diff follows it: paths and process as indexes. */
struct step {
	enum trace_op op;
	enum trace_kind kind;
	int64_t path, path2; /* indexes into state; -1: none */
	int64_t command;     /* command index + 1; 0: unknown */
	int32_t result;
	int64_t bytes, offset; /* -1: none */
	uint32_t flags;
};

struct reading {
	struct trace_reader *reader;
	sqlite3 *db;
	int64_t *path_ids; /* sorted, as read */
	struct path_state *state; /* by the index of the path's id */
	size_t npaths;
	int64_t *proc_ids; /* sorted */
	int64_t *proc_command; /* by the index of the proc's id: command index + 1, or 0 */
	size_t nprocs;
	struct diff_command *commands; /* sorted by name */
	size_t ncommands;
	struct seen_failure *failures;
	size_t nfailures, failures_cap;
	char *err;
	size_t err_size;
};

static bool room(void **items, size_t n, size_t *cap, size_t size)
{
	if (n < *cap)
		return true;
	size_t new_cap = *cap ? *cap * 2 : 256;
	void *bigger = realloc(*items, new_cap * size);
	if (!bigger)
		return false;
	*items = bigger;
	*cap = new_cap;
	return true;
}

static int out_of_memory(struct reading *r)
{
	snprintf(r->err, r->err_size, "out of memory");
	return -1;
}

static int sql_failed(struct reading *r, int rc, const char *doing)
{
	trace_reader_sql_error(r->reader, rc, doing, r->err, r->err_size);
	return -1;
}

/* The index of ID in the sorted IDS, or -1. */
static int64_t index_of(const int64_t *ids, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ids[mid] == id)
			return (int64_t)mid;
		if (ids[mid] < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

/* Rows of SQL, each handed to fn; 0, or -1 with a message. */
static int each_row(struct reading *r, const char *sql, const char *doing,
		    int (*fn)(struct reading *r, sqlite3_stmt *s))
{
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(r->db, sql, -1, &s, NULL);
	int result = 0;
	while (s && result == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW)
		result = fn(r, s);
	sqlite3_finalize(s);
	if (result != 0)
		return result;
	return rc == SQLITE_DONE ? 0 : sql_failed(r, rc, doing);
}

static int add_path(struct reading *r, sqlite3_stmt *s)
{
	size_t cap = r->npaths;
	const char *text = (const char *)sqlite3_column_text(s, 1);
	/* Both arrays grow at powers of two. */
	if ((r->npaths & (r->npaths - 1)) == 0) {
		cap = r->npaths ? r->npaths * 2 : 1;
		int64_t *ids = realloc(r->path_ids, cap * sizeof(*ids));
		if (ids)
			r->path_ids = ids;
		struct path_state *state = realloc(r->state, cap * sizeof(*state));
		if (state)
			r->state = state;
		if (!ids || !state)
			return out_of_memory(r);
	}
	char *copy = strdup(text ? text : "");
	if (!copy)
		return out_of_memory(r);
	r->path_ids[r->npaths] = sqlite3_column_int64(s, 0);
	r->state[r->npaths++] = (struct path_state){.path = copy};
	return 0;
}

/* A process row: its name, for now in proc_command as a pointer's worth of index. */
struct named_proc {
	char *name;
	size_t index;
};

static int by_name(const void *x, const void *y)
{
	return strcmp(((const struct diff_command *)x)->name,
		      ((const struct diff_command *)y)->name);
}

static int named_by_name(const void *x, const void *y)
{
	return strcmp(((const struct named_proc *)x)->name, ((const struct named_proc *)y)->name);
}

/*
 * The procs table: each row's command (trace_process_name), one
 * diff_command per distinct name, sorted by name.
 */
static int read_procs(struct reading *r)
{
	sqlite3_stmt *s = NULL;
	struct named_proc *named = NULL;
	size_t named_cap = 0, ids_cap = 0, nnamed = 0;
	int rc = sqlite3_prepare_v2(r->db, "SELECT id, pid, comm FROM procs ORDER BY id", -1, &s,
				    NULL);
	int result = 0;

	while (s && result == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		const char *name = trace_process_name((const char *)sqlite3_column_text(s, 2),
						      (int32_t)sqlite3_column_int64(s, 1));
		if (!room((void **)&r->proc_ids, r->nprocs, &ids_cap, sizeof(*r->proc_ids)) ||
		    !room((void **)&named, nnamed, &named_cap, sizeof(*named))) {
			result = out_of_memory(r);
			break;
		}
		if (name) { /* an unknown process has no command */
			named[nnamed] = (struct named_proc){strdup(name), r->nprocs};
			if (!named[nnamed++].name)
				result = out_of_memory(r);
		}
		r->proc_ids[r->nprocs++] = sqlite3_column_int64(s, 0);
	}
	sqlite3_finalize(s);
	if (result == 0 && rc != SQLITE_DONE)
		result = sql_failed(r, rc, "reading the processes");
	r->proc_command = calloc(r->nprocs ? r->nprocs : 1, sizeof(*r->proc_command));
	r->commands = calloc(nnamed ? nnamed : 1, sizeof(*r->commands));
	if (result == 0 && (!r->proc_command || !r->commands))
		result = out_of_memory(r);
	if (result == 0 && nnamed > 1)
		qsort(named, nnamed, sizeof(*named), named_by_name);
	for (size_t i = 0; i < nnamed; i++) {
		if (result == 0 && (r->ncommands == 0 ||
				    strcmp(r->commands[r->ncommands - 1].name, named[i].name) != 0))
			r->commands[r->ncommands++] = (struct diff_command){.name = named[i].name};
		else
			free(named[i].name);
		if (result == 0)
			r->proc_command[named[i].index] = (int64_t)r->ncommands;
	}
	free(named);
	return result;
}

static bool opened_for_writing(uint32_t flags)
{
	return (flags & O_ACCMODE) != O_RDONLY;
}

/* A path written from scratch: made anew or truncated. */
static void start_content(struct path_state *p, int64_t writer, int64_t size)
{
	p->written = true;
	p->size = size;
	p->writer = writer;
}

/* Follows one successful event's effect on its path(s). */
static void apply(struct reading *r, const struct step *e)
{
	struct path_state *p = &r->state[e->path];
	struct path_state *to = e->path2 >= 0 ? &r->state[e->path2] : NULL;

	if (e->kind == TRACE_KIND_DIR || e->op == TRACE_OP_MKDIR || e->op == TRACE_OP_RMDIR ||
	    e->op == TRACE_OP_OPENDIR)
		p->dir = true;
	if (e->op == TRACE_OP_CREATE || e->op == TRACE_OP_MKNOD || e->op == TRACE_OP_SYMLINK ||
	    e->op == TRACE_OP_MKDIR)
		p->named = true;
	if (to && (e->op == TRACE_OP_RENAME || e->op == TRACE_OP_LINK))
		to->named = true;
	switch (e->op) {
	case TRACE_OP_CREATE:
	case TRACE_OP_MKNOD:
	case TRACE_OP_SYMLINK:
		p->made = true;
		p->gone = false;
		start_content(p, e->command, 0);
		break;
	case TRACE_OP_OPEN:
		if ((e->flags & O_ACCMODE) != O_WRONLY)
			p->read = true;
		if (opened_for_writing(e->flags) && (e->flags & O_TRUNC))
			start_content(p, e->command, 0);
		break;
	case TRACE_OP_READ:
	case TRACE_OP_READLINK:
		p->read = true;
		p->bytes_read += e->bytes > 0 ? e->bytes : 0;
		break;
	case TRACE_OP_WRITE:
	case TRACE_OP_FALLOCATE:
		if (e->bytes > 0) {
			p->written = true;
			p->writer = e->command;
			p->bytes_written += e->op == TRACE_OP_WRITE ? e->bytes : 0;
			if (e->offset >= 0 && e->offset <= INT64_MAX - e->bytes &&
			    e->offset + e->bytes > p->size)
				p->size = e->offset + e->bytes;
		}
		break;
	case TRACE_OP_SETATTR:
		if (e->offset >= 0) /* a new size: a truncation */
			start_content(p, e->command, e->offset);
		break;
	case TRACE_OP_UNLINK:
		p->gone = true;
		break;
	case TRACE_OP_COPY_FILE_RANGE:
		if (!to)
			break;
		p->read = true;
		p->bytes_read += e->bytes > 0 ? e->bytes : 0;
		to->written = true;
		to->writer = e->command;
		to->bytes_written += e->bytes > 0 ? e->bytes : 0;
		break;
	case TRACE_OP_RENAME:
	case TRACE_OP_LINK:
		if (!to || to == p)
			break;
		/* The new name has what the old one had, made by this run if it was. */
		to->dir = p->dir;
		to->written = p->written || p->made;
		to->made = p->made || p->written;
		to->gone = false;
		to->bytes_written = p->bytes_written;
		to->size = p->size;
		to->writer = p->writer ? p->writer : e->command;
		if (e->op == TRACE_OP_RENAME) {
			p->gone = true;
			p->written = false;
		}
		break;
	default: break;
	}
}

static void reading_free(struct reading *r)
{
	for (size_t i = 0; i < r->npaths; i++)
		free(r->state[i].path);
	free(r->state);
	free(r->path_ids);
	free(r->proc_ids);
	free(r->proc_command);
	for (size_t i = 0; i < r->ncommands; i++)
		free(r->commands[i].name);
	free(r->commands);
	free(r->failures);
}

static int by_path(const void *x, const void *y)
{
	return strcmp(((const struct diff_file *)x)->path, ((const struct diff_file *)y)->path);
}

static int seen_by_path_result_op(const void *x, const void *y)
{
	const struct seen_failure *a = x, *b = y;
	if (a->path != b->path)
		return a->path < b->path ? -1 : 1;
	if (a->result != b->result)
		return a->result > b->result ? -1 : 1;
	return (int)a->op - (int)b->op;
}

static int failure_by_path_result(const void *x, const void *y)
{
	const struct diff_failure *a = x, *b = y;
	int c = strcmp(a->path, b->path);
	return c ? c : a->result > b->result ? -1 : a->result < b->result;
}

/* The files of the run, temporaries and directories left out. */
static int collect_files(struct reading *r, struct diff_run *run)
{
	run->files = calloc(r->npaths ? r->npaths : 1, sizeof(*run->files));
	if (!run->files)
		return -1;
	for (size_t i = 0; i < r->npaths; i++) {
		struct path_state *p = &r->state[i];
		if (p->dir)
			continue;
		if (p->made && p->gone) {
			run->temporaries++;
			continue;
		}
		if (!p->read && !p->written && !p->gone)
			continue;
		struct diff_file *f = &run->files[run->nfiles];
		*f = (struct diff_file){.read = p->read,
					.written = p->written && !p->gone,
					.removed = p->gone,
					.bytes_read = p->bytes_read,
					.bytes_written = p->bytes_written,
					.size = p->size};
		if (f->written && p->writer > 0 &&
		    !(f->writer = strdup(r->commands[p->writer - 1].name)))
			return -1;
		f->path = p->path;
		p->path = NULL; /* the file owns it now */
		run->outputs += f->written;
		run->nfiles++;
	}
	if (run->nfiles > 1)
		qsort(run->files, run->nfiles, sizeof(*run->files), by_path);
	return 0;
}

/* The failures, one per path and errno, named after their commonest operation. */
static int collect_failures(struct reading *r, struct diff_run *run)
{
	if (r->nfailures > 1)
		qsort(r->failures, r->nfailures, sizeof(*r->failures), seen_by_path_result_op);
	run->failures = calloc(r->nfailures ? r->nfailures : 1, sizeof(*run->failures));
	if (!run->failures)
		return -1;
	for (size_t i = 0; i < r->nfailures;) {
		const struct seen_failure *first = &r->failures[i];
		/*
		 * A name the run makes is looked up first, and not found: every
		 * create, mkstemp's tries, make's targets. Not a failure of the run.
		 */
		if (first->result == -ENOENT && r->state[first->path].named) {
			i++;
			continue;
		}
		int64_t total = 0, best = 0;
		uint8_t best_op = first->op;
		while (i < r->nfailures && r->failures[i].path == first->path &&
		       r->failures[i].result == first->result) {
			size_t j = i;
			while (j < r->nfailures && r->failures[j].path == first->path &&
			       r->failures[j].result == first->result &&
			       r->failures[j].op == r->failures[i].op)
				j++;
			if ((int64_t)(j - i) > best) {
				best = (int64_t)(j - i);
				best_op = r->failures[i].op;
			}
			total += (int64_t)(j - i);
			i = j;
		}
		char *path = strdup(r->state[first->path].path);
		if (!path)
			return -1;
		run->failures[run->nfailures++] =
			(struct diff_failure){path, first->result, (enum trace_op)best_op, total};
	}
	/* The ids' order is the trace's: sort by the paths themselves. */
	if (run->nfailures > 1)
		qsort(run->failures, run->nfailures, sizeof(*run->failures), failure_by_path_result);
	return 0;
}

/*
 * One events row as a step: the one check of every reader
 * (trace_reader_check_values), then ids made indexes. NULL, or what is wrong.
 */
static const char *read_step(struct reading *r, sqlite3_stmt *s, struct step *e)
{
	int types[TRACE_READER_EVENT_COLUMN_COUNT];
	int64_t v[TRACE_READER_EVENT_COLUMN_COUNT];

	for (int col = 0; col < TRACE_READER_EVENT_COLUMN_COUNT; col++) {
		sqlite3_value *value = sqlite3_column_value(s, col);
		types[col] = sqlite3_value_type(value);
		v[col] = sqlite3_value_int64(value);
	}
	const char *bad = trace_reader_check_values(r->reader, types, v);
	if (bad)
		return bad;
	/* The columns: seq ts dur op kind path path2 proc result bytes offset flags mode. */
	int64_t proc = types[7] == SQLITE_NULL ? -1 : index_of(r->proc_ids, r->nprocs, v[7]);
	*e = (struct step){
		.op = (enum trace_op)trace_reader_op_of_id(r->reader, v[3]),
		.kind = (enum trace_kind)trace_reader_kind_of_id(r->reader, v[4]),
		.path = types[5] == SQLITE_NULL ? -1 : index_of(r->path_ids, r->npaths, v[5]),
		.path2 = types[6] == SQLITE_NULL ? -1 : index_of(r->path_ids, r->npaths, v[6]),
		.command = proc >= 0 ? r->proc_command[proc] : 0,
		.result = (int32_t)v[8],
		.bytes = types[9] == SQLITE_NULL ? -1 : v[9],
		.offset = types[10] == SQLITE_NULL ? -1 : v[10],
		.flags = (uint32_t)v[11],
	};
	if ((types[5] != SQLITE_NULL && e->path < 0) || (types[6] != SQLITE_NULL && e->path2 < 0))
		return "an event names a path that is not there";
	return NULL;
}

static int read_events(struct reading *r, void (*progress)(double, void *), void *arg)
{
	int64_t first, last, count, n = 0;
	sqlite3_stmt *s = NULL;
	int rc, result = 0;

	if (trace_reader_span(r->reader, &first, &last, &count) != 0)
		count = 0;
	rc = sqlite3_prepare_v2(r->db, "SELECT " TRACE_READER_EVENT_COLUMNS " FROM events", -1, &s,
				NULL);
	while (s && result == 0 && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		struct step e;
		const char *bad = read_step(r, s, &e);
		if (bad) {
			snprintf(r->err, r->err_size, "trace %s is corrupt: %s (event seq %lld)",
				 trace_reader_file(r->reader), bad,
				 (long long)sqlite3_column_int64(s, 0));
			result = -1;
			break;
		}
		if (progress && ++n % PROGRESS_EVERY == 0 && count > 0)
			progress(0.5 + 0.5 * (double)n / (double)count, arg);
		if (e.op == TRACE_OP_LOST || e.op == TRACE_OP_COMMIT || e.path < 0)
			continue;
		if (e.command > 0) {
			r->commands[e.command - 1].ops[e.op]++;
			r->commands[e.command - 1].events++;
		}
		if (e.result >= 0) {
			apply(r, &e);
		} else if (!analyze_attr_probe(e.op, e.result)) {
			/* Attribute probes that found nothing are no failures (analyze.h). */
			if (!room((void **)&r->failures, r->nfailures, &r->failures_cap,
				  sizeof(*r->failures)))
				result = out_of_memory(r);
			else
				r->failures[r->nfailures++] =
					(struct seen_failure){e.path, e.result, (uint8_t)e.op};
		}
	}
	sqlite3_finalize(s);
	if (result == 0 && rc != SQLITE_DONE)
		result = sql_failed(r, rc, "reading events");
	return result;
}

static int by_key(const void *x, const void *y)
{
	const struct diff_command_line *a = x, *b = y;
	int c = strcmp(a->key, b->key);
	return c ? c : a->order < b->order ? -1 : a->order > b->order;
}

/* Ends the command line being built (ARGV and KEY) as run->command_lines[n]. */
static int end_command_line(struct diff_run *run, size_t *cap, FILE *argv, char **argv_text,
			    FILE *key, char **key_text)
{
	int closed = (fclose(argv) != 0) | (fclose(key) != 0);
	if (closed || !room((void **)&run->command_lines, run->ncommand_lines, cap,
			    sizeof(*run->command_lines))) {
		free(*argv_text);
		free(*key_text);
		return -1;
	}
	run->command_lines[run->ncommand_lines] =
		(struct diff_command_line){*argv_text, *key_text, run->ncommand_lines};
	run->ncommand_lines++;
	return 0;
}

/*
 * The command lines of a trace with process lineage (the reader has checked
 * that each argv is a JSON array of strings). 0, or -1 with a message.
 */
static int read_command_lines(struct reading *r, struct diff_run *run)
{
	struct trace_reader *reader = r->reader;
	char *err = r->err;
	size_t err_size = r->err_size;
	sqlite3 *db = r->db;
	sqlite3_stmt *s = NULL;
	int rc = sqlite3_prepare_v2(db,
				    "SELECT count(*) FROM sqlite_schema"
				    " WHERE type = 'table' AND name = 'processes'",
				    -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		run->lineage = sqlite3_column_int64(s, 0) > 0;
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		trace_reader_sql_error(reader, rc, "reading the processes", err, err_size);
		return -1;
	}
	if (!run->lineage)
		return 0;
	rc = sqlite3_prepare_v2(db, "SELECT count(*) FROM processes WHERE argv IS NULL", -1, &s,
				NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		run->unread_processes = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	if (rc != SQLITE_ROW) {
		trace_reader_sql_error(reader, rc, "reading the processes", err, err_size);
		return -1;
	}
	rc = sqlite3_prepare_v2(db,
				"SELECT p.id, j.value FROM processes AS p, json_each(p.argv) AS j"
				" WHERE p.argv IS NOT NULL ORDER BY p.id, j.key",
				-1, &s, NULL);
	int64_t current = 0;
	size_t cap = 0, argv_size, key_size;
	char *argv_text = NULL, *key_text = NULL, shape[4096];
	FILE *argv = NULL, *key = NULL;
	while (s && (rc = sqlite3_step(s)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(s, 0);
		const char *arg = (const char *)sqlite3_column_text(s, 1);
		if (!arg)
			arg = "";
		if (id != current) {
			if (argv && end_command_line(run, &cap, argv, &argv_text, key, &key_text) != 0)
				goto out_of_memory;
			argv = open_memstream(&argv_text, &argv_size);
			key = argv ? open_memstream(&key_text, &key_size) : NULL;
			if (!key) {
				if (argv)
					fclose(argv);
				free(argv_text);
				argv = NULL;
				goto out_of_memory;
			}
			current = id;
		} else {
			fputc(' ', argv);
			fputc('\x1f', key);
		}
		fprintf(argv, strpbrk(arg, " \t\n'\"") || !*arg ? "'%s'" : "%s", arg);
		fputs(diff_path_shape(arg, shape, sizeof(shape)), key);
	}
	if (argv && end_command_line(run, &cap, argv, &argv_text, key, &key_text) != 0)
		goto out_of_memory;
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		trace_reader_sql_error(reader, rc, "reading the processes' command lines", err,
				     err_size);
		return -1;
	}
	if (run->ncommand_lines > 1)
		qsort(run->command_lines, run->ncommand_lines, sizeof(*run->command_lines), by_key);
	return 0;
out_of_memory:
	sqlite3_finalize(s);
	snprintf(err, err_size, "out of memory");
	return -1;
}

int diff_read(const char *file, void (*progress)(double done, void *arg), void *arg,
	      struct diff_run *run, char *err, size_t err_size)
{
	struct reading r = {.err = err, .err_size = err_size};

	memset(run, 0, sizeof(*run));
	/* The analysis is about half of the work, the read of the events the rest. */
	if (progress)
		progress(0, arg);
	if (analyze_run(file, 10, &run->a, err, err_size) != 0)
		return -1;
	if (progress)
		progress(0.5, arg);
	r.reader = trace_reader_open(file, err, err_size);
	if (!r.reader) {
		analyze_free(&run->a);
		return -1;
	}
	r.db = trace_reader_db(r.reader);
	/* One read transaction: paths, processes and events agree, even while a recorder adds. */
	int result = sqlite3_exec(r.db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
	if (result != 0)
		sql_failed(&r, sqlite3_errcode(r.db), "starting to read");
	if (result == 0)
		result = each_row(&r, "SELECT id, path FROM paths ORDER BY id", "reading paths",
				  add_path);
	if (result == 0)
		result = read_procs(&r);
	if (result == 0)
		result = read_events(&r, progress, arg);
	if (result == 0)
		result = read_command_lines(&r, run);
	if (result == 0 && (collect_failures(&r, run) != 0 || collect_files(&r, run) != 0))
		result = out_of_memory(&r);
	if (result == 0) {
		run->commands = r.commands;
		run->ncommands = r.ncommands;
		r.commands = NULL;
		r.ncommands = 0;
	}
	reading_free(&r);
	trace_reader_close(r.reader);
	if (result != 0)
		diff_run_free(run);
	return result;
}

void diff_run_free(struct diff_run *run)
{
	analyze_free(&run->a);
	for (size_t i = 0; i < run->nfiles; i++) {
		free(run->files[i].path);
		free(run->files[i].writer);
	}
	free(run->files);
	for (size_t i = 0; i < run->nfailures; i++)
		free(run->failures[i].path);
	free(run->failures);
	for (size_t i = 0; i < run->ncommands; i++)
		free(run->commands[i].name);
	free(run->commands);
	for (size_t i = 0; i < run->ncommand_lines; i++) {
		free(run->command_lines[i].argv);
		free(run->command_lines[i].key);
	}
	free(run->command_lines);
	memset(run, 0, sizeof(*run));
}

/* ---- comparing two runs ---- */

/*
 * Whether a token of a name looks random. In a temporary directory any
 * token of six or more does (mkstemp's "ccwhPDYa", "ccsudomy"); elsewhere,
 * where names are chosen (FooBar.java), only one that mixes digits and
 * letters, is four digits or more (a pid), or is at most twelve long with
 * three capitals after small letters ("ccxRtQwZ", where makeConfigFileName
 * is a word).
 */
static bool random_token(const char *s, size_t len, bool in_temporary_dir)
{
	size_t digits = 0, letters = 0, case_changes = 0;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		digits += isdigit(c) != 0;
		letters += isalpha(c) != 0;
		if (i > 0 && isupper(c) && islower((unsigned char)s[i - 1]))
			case_changes++;
	}
	if (digits == len)
		return len >= 4;
	if (len < 6)
		return false;
	return in_temporary_dir || (digits && letters) || (case_changes >= 3 && len <= 12);
}

/* Whether the path component C (LEN bytes) is a temporary directory: tmp, temp, tmp.* (any case). */
static bool temporary_dir(const char *c, size_t len)
{
	return (len == 3 && strncasecmp(c, "tmp", 3) == 0) ||
	       (len == 4 && strncasecmp(c, "temp", 4) == 0) ||
	       (len > 4 && strncasecmp(c, "tmp.", 4) == 0);
}

const char *diff_path_shape(const char *path, char *buf, size_t size)
{
	bool temporary = false; /* below a temporary directory */
	size_t out = 0;
	const char *s = path;

	if (!size)
		return buf;
	while (*s && out + 1 < size) {
		const char *start = s, *end = s + strcspn(s, "/");
		while (s < end && out + 1 < size) {
			if (!isalnum((unsigned char)*s)) {
				buf[out++] = *s++;
				continue;
			}
			size_t len = 0;
			while (s + len < end && isalnum((unsigned char)s[len]))
				len++;
			if (random_token(s, len, temporary)) {
				buf[out++] = '#';
			} else {
				size_t n = len < size - 1 - out ? len : size - 1 - out;
				memcpy(buf + out, s, n);
				out += n;
			}
			s += len;
		}
		if (s == end && *end == '/' && out + 1 < size) { /* a directory ends */
			temporary = temporary || temporary_dir(start, (size_t)(end - start));
			buf[out++] = '/';
			s++;
		}
	}
	buf[out] = '\0';
	return buf;
}

bool diff_same_output(const struct diff_file *a, const struct diff_file *b)
{
	return a->bytes_written == b->bytes_written && a->size == b->size &&
	       !a->writer == !b->writer && (!a->writer || strcmp(a->writer, b->writer) == 0);
}

/* Appends ITEM to a list of n items of SIZE bytes, growing it at powers of two. */
static int push(void *items, size_t *n, size_t size, const void *item)
{
	void **list = items;
	if ((*n & (*n - 1)) == 0) {
		void *bigger = realloc(*list, (*n ? *n * 2 : 1) * size);
		if (!bigger)
			return -1;
		*list = bigger;
	}
	memcpy((char *)*list + *n * size, item, size);
	(*n)++;
	return 0;
}

/* qsort wants a pointer even for no items. */
static void sort(void *items, size_t n, size_t size, int (*order)(const void *, const void *))
{
	if (n > 1)
		qsort(items, n, size, order);
}

#define PUSH(d, list, ...) push(&(d)->list, &(d)->n##list, sizeof(*(d)->list), &(__VA_ARGS__))

/* One side of a match: sorted items, each with a path and a second key. */
struct side {
	const void *items;
	size_t n, size;
	const char *(*path)(const void *item);
	int64_t (*key)(const void *item); /* ascending within a path */
};

/* An item that found no partner by its path, with the pattern of its name. */
struct loose {
	char *shape; /* NULL: nothing random in the name */
	int64_t key;
	const void *item;
};

typedef int (*pair_fn)(struct diff *d, const void *a, const void *b);

static const void *item_at(const struct side *s, size_t i)
{
	return (const char *)s->items + i * s->size;
}

static int compare_keys(const char *pa, int64_t ka, const char *pb, int64_t kb)
{
	int c = strcmp(pa, pb);
	return c ? c : ka < kb ? -1 : ka > kb;
}

static int loose_order(const void *x, const void *y)
{
	const struct loose *a = x, *b = y;
	if (!a->shape || !b->shape)
		return !a->shape - !b->shape; /* the unshaped last */
	return compare_keys(a->shape, a->key, b->shape, b->key);
}

static int add_loose(const struct side *s, size_t i, struct loose **list, size_t *n)
{
	char shape[4096];
	const void *item = item_at(s, i);
	const char *path = s->path(item);
	struct loose l = {NULL, s->key(item), item};

	diff_path_shape(path, shape, sizeof(shape));
	if (strcmp(shape, path) != 0 && !(l.shape = strdup(shape)))
		return -1;
	if (push(list, n, sizeof(**list), &l) != 0) {
		free(l.shape);
		return -1;
	}
	return 0;
}

/*
 * Calls fn for each item of A and B: with its partner of the same path and
 * key, else with the partner whose name has the same pattern, else alone.
 */
static int match(struct diff *d, const struct side *a, const struct side *b, pair_fn fn)
{
	struct loose *la = NULL, *lb = NULL;
	size_t nla = 0, nlb = 0, i = 0, j = 0;
	int result = 0;

	while (result == 0 && (i < a->n || j < b->n)) {
		int c = i == a->n   ? 1
			: j == b->n ? -1
				    : compare_keys(a->path(item_at(a, i)), a->key(item_at(a, i)),
						   b->path(item_at(b, j)), b->key(item_at(b, j)));
		if (c == 0)
			result = fn(d, item_at(a, i++), item_at(b, j++));
		else if (c < 0)
			result = add_loose(a, i++, &la, &nla);
		else
			result = add_loose(b, j++, &lb, &nlb);
	}
	if (result == 0) {
		sort(la, nla, sizeof(*la), loose_order);
		sort(lb, nlb, sizeof(*lb), loose_order);
	}
	for (i = j = 0; result == 0 && (i < nla || j < nlb);) {
		int c = i == nla			  ? 1
			: j == nlb			  ? -1
			: !la[i].shape || !lb[j].shape ? (la[i].shape ? -1 : lb[j].shape ? 1 : -1)
						       : compare_keys(la[i].shape, la[i].key,
								      lb[j].shape, lb[j].key);
		if (c == 0) {
			d->paired_by_shape++;
			result = fn(d, la[i++].item, lb[j++].item);
		} else if (c < 0) {
			result = fn(d, la[i++].item, NULL);
		} else {
			result = fn(d, NULL, lb[j++].item);
		}
	}
	for (i = 0; i < nla; i++)
		free(la[i].shape);
	for (j = 0; j < nlb; j++)
		free(lb[j].shape);
	free(la);
	free(lb);
	return result;
}

static const char *file_path(const void *item)
{
	return ((const struct diff_file *)item)->path;
}

static int64_t no_key(const void *item)
{
	(void)item;
	return 0;
}

static const char *failure_path(const void *item)
{
	return ((const struct diff_failure *)item)->path;
}

static int64_t failure_key(const void *item)
{
	return -(int64_t)((const struct diff_failure *)item)->result; /* as the runs sort them */
}

static int add_files(struct diff *d, const void *x, const void *y)
{
	const struct diff_file *a = x, *b = y;
	struct diff_pair pair = {a, b};
	bool wa = a && a->written, wb = b && b->written;
	bool ra = a && a->read, rb = b && b->read;
	int result = 0;

	if (wa && wb)
		result = diff_same_output(a, b) ? PUSH(d, same_outputs, pair)
						: PUSH(d, changed_outputs, pair);
	else if (wb)
		result = PUSH(d, new_outputs, pair);
	else if (wa)
		result = b && b->read && !b->removed ? PUSH(d, kept_outputs, pair)
						     : PUSH(d, gone_outputs, pair);
	if (result == 0 && rb && !ra)
		result = PUSH(d, new_reads, pair);
	else if (result == 0 && ra && !rb)
		result = PUSH(d, gone_reads, pair);
	return result;
}

static int add_failures(struct diff *d, const void *x, const void *y)
{
	struct diff_failure_pair pair = {x, y};

	if (!pair.a)
		return PUSH(d, new_failures, pair);
	if (!pair.b)
		return PUSH(d, gone_failures, pair);
	return pair.a->count == pair.b->count ? 0 : PUSH(d, changed_failures, pair);
}

/* The phases of both runs in order, those of one name paired (a longest common subsequence). */
static int match_phases(struct diff *d)
{
	size_t na = d->a->a.nphases, nb = d->b->a.nphases;
	const struct analyze_phase *pa = d->a->a.phases, *pb = d->b->a.phases;
	uint16_t *common = calloc((na + 1) * (nb + 1), sizeof(*common));

	if (!common || na > 10000 || nb > 10000) {
		free(common);
		return -1;
	}
#define COMMON(i, j) common[(i) * (nb + 1) + (j)]
	for (size_t i = na; i-- > 0;)
		for (size_t j = nb; j-- > 0;)
			COMMON(i, j) = strcmp(pa[i].name, pb[j].name) == 0 ? COMMON(i + 1, j + 1) + 1
				       : COMMON(i + 1, j) > COMMON(i, j + 1) ? COMMON(i + 1, j)
									     : COMMON(i, j + 1);
	size_t i = 0, j = 0;
	int result = 0;
	while (result == 0 && (i < na || j < nb)) {
		/* The indexes step after the initializers, whose order C leaves open. */
		struct diff_phase p;
		if (i < na && j < nb && strcmp(pa[i].name, pb[j].name) == 0)
			p = (struct diff_phase){pa[i].name, (int)i, (int)j};
		else if (j == nb || (i < na && COMMON(i + 1, j) >= COMMON(i, j + 1)))
			p = (struct diff_phase){pa[i].name, (int)i, -1};
		else
			p = (struct diff_phase){pb[j].name, -1, (int)j};
		i += p.a >= 0;
		j += p.b >= 0;
		result = PUSH(d, phases, p);
	}
#undef COMMON
	free(common);
	return result;
}

static const struct diff_command *find_command(const struct diff_run *run, const char *name)
{
	struct diff_command key = {.name = (char *)name};
	if (!run->ncommands)
		return NULL;
	return bsearch(&key, run->commands, run->ncommands, sizeof(key), by_name);
}

static int add_command_ops(struct diff *d, const struct diff_command *c, bool in_a)
{
	const struct diff_command *other = find_command(in_a ? d->b : d->a, c->name);
	int result = 0;

	if (!in_a && other)
		return 0; /* done from A's side */
	for (int op = 0; op < TRACE_OP_COUNT && result == 0; op++) {
		int64_t mine = c->ops[op], theirs = other ? other->ops[op] : 0;
		if (mine != theirs)
			result = PUSH(d, command_ops,
				      (struct diff_command_op){c->name, op, in_a ? mine : theirs,
							       in_a ? theirs : mine});
	}
	return result;
}

static const struct analyze_op *find_op(const struct analyze_result *a, enum trace_op op)
{
	for (size_t i = 0; i < a->nops; i++)
		if (a->ops[i].op == op)
			return &a->ops[i];
	return NULL;
}

/* +1 if b is DIFF_SHIFT_RATIO times a and DIFF_SHIFT_MIN_NS more, -1 the other way, else 0. */
static int shifted(int64_t a, int64_t b)
{
	if (b - a >= DIFF_SHIFT_MIN_NS && (double)b >= DIFF_SHIFT_RATIO * (double)a)
		return 1;
	if (a - b >= DIFF_SHIFT_MIN_NS && (double)a >= DIFF_SHIFT_RATIO * (double)b)
		return -1;
	return 0;
}

static int latency_shift(const struct analyze_op *a, const struct analyze_op *b)
{
	if (!a || !b || a->count < DIFF_LATENCY_MIN_COUNT || b->count < DIFF_LATENCY_MIN_COUNT)
		return 0;
	int shift = shifted(a->p50_ns, b->p50_ns);
	if (!shift && a->count >= DIFF_P90_MIN_COUNT && b->count >= DIFF_P90_MIN_COUNT)
		shift = shifted(a->p90_ns, b->p90_ns);
	return shift;
}

static int add_latency(struct diff *d)
{
	int result = 0;
	for (int op = 0; op < TRACE_OP_COUNT && result == 0; op++) {
		struct diff_latency l = {op, find_op(&d->a->a, op), find_op(&d->b->a, op), 0};
		if (!l.a && !l.b)
			continue;
		l.shift = latency_shift(l.a, l.b);
		result = PUSH(d, latency, l);
	}
	return result;
}

/* The command lines each run ran, counted: those whose counts differ. */
static int match_command_lines(struct diff *d)
{
	const struct diff_command_line *la = d->a->command_lines, *lb = d->b->command_lines;
	size_t na = d->a->ncommand_lines, nb = d->b->ncommand_lines, i = 0, j = 0;
	int result = 0;

	d->lineage = d->a->lineage && d->b->lineage;
	if (!d->lineage)
		return 0;
	while (result == 0 && (i < na || j < nb)) {
		const char *k = i == na ? lb[j].key
				: j == nb ? la[i].key
				: strcmp(la[i].key, lb[j].key) <= 0 ? la[i].key
								    : lb[j].key;
		struct diff_command_count c = {0};
		for (; i < na && strcmp(la[i].key, k) == 0; i++, c.a++)
			if (c.a == 0) {
				c.argv = la[i].argv;
				c.order = la[i].order;
			}
		for (; j < nb && strcmp(lb[j].key, k) == 0; j++, c.b++)
			if (c.b == 0) {
				c.argv = lb[j].argv;
				c.order = lb[j].order;
			}
		if (c.a != c.b)
			result = PUSH(d, command_lines, c);
	}
	return result;
}

/* ---- most significant first ---- */

static int64_t magnitude(int64_t a, int64_t b)
{
	return a > b ? a - b : b - a;
}

static int by_magnitude(int64_t x, int64_t y, const char *px, const char *py)
{
	return x != y ? (x > y ? -1 : 1) : strcmp(px, py);
}

static const struct diff_file *either(const struct diff_pair *p)
{
	return p->b ? p->b : p->a;
}

static int output_order(const void *x, const void *y)
{
	const struct diff_pair *a = x, *b = y;
	int64_t ma = a->a && a->b ? magnitude(a->a->size, a->b->size) : either(a)->size;
	int64_t mb = b->a && b->b ? magnitude(b->a->size, b->b->size) : either(b)->size;
	return by_magnitude(ma, mb, either(a)->path, either(b)->path);
}

static int read_order(const void *x, const void *y)
{
	const struct diff_pair *a = x, *b = y;
	return by_magnitude(either(a)->bytes_read, either(b)->bytes_read, either(a)->path,
			    either(b)->path);
}

static int path_order(const void *x, const void *y)
{
	return strcmp(either(x)->path, either(y)->path);
}

static int failure_order(const void *x, const void *y)
{
	const struct diff_failure_pair *a = x, *b = y;
	const struct diff_failure *fa = a->b ? a->b : a->a, *fb = b->b ? b->b : b->a;
	int64_t ma = a->a && a->b ? magnitude(a->a->count, a->b->count) : fa->count;
	int64_t mb = b->a && b->b ? magnitude(b->a->count, b->b->count) : fb->count;
	return by_magnitude(ma, mb, fa->path, fb->path);
}

static int command_op_order(const void *x, const void *y)
{
	const struct diff_command_op *a = x, *b = y;
	int c = by_magnitude(magnitude(a->a, a->b), magnitude(b->a, b->b), a->command, b->command);
	return c ? c : (int)a->op - (int)b->op;
}

/* In one run only first, then by the change; each in the order the processes started. */
static int command_line_order(const void *x, const void *y)
{
	const struct diff_command_count *a = x, *b = y;
	bool only_a = !a->a || !a->b, only_b = !b->a || !b->b;
	if (only_a != only_b)
		return only_a ? -1 : 1;
	if (!a->b != !b->b)
		return !a->b ? -1 : 1; /* gone before new */
	int64_t ma = magnitude(a->a, a->b), mb = magnitude(b->a, b->b);
	if (ma != mb)
		return ma > mb ? -1 : 1;
	return a->order < b->order ? -1 : a->order > b->order;
}

static int64_t total_ns(const struct analyze_op *op)
{
	return op ? op->total_ns : 0;
}

static int latency_order(const void *x, const void *y)
{
	const struct diff_latency *a = x, *b = y;
	if (!a->shift != !b->shift)
		return a->shift ? -1 : 1; /* shifts first */
	int64_t ma = magnitude(total_ns(a->a), total_ns(a->b));
	int64_t mb = magnitude(total_ns(b->a), total_ns(b->b));
	return by_magnitude(ma, mb, trace_op_name(a->op), trace_op_name(b->op));
}

#define SORT(d, list, order) sort((d)->list, (d)->n##list, sizeof(*(d)->list), order)

int diff_compare(const struct diff_run *a, const struct diff_run *b, struct diff *out)
{
	struct side fa = {a->files, a->nfiles, sizeof(*a->files), file_path, no_key};
	struct side fb = {b->files, b->nfiles, sizeof(*b->files), file_path, no_key};
	struct side ea = {a->failures, a->nfailures, sizeof(*a->failures), failure_path,
			  failure_key};
	struct side eb = {b->failures, b->nfailures, sizeof(*b->failures), failure_path,
			  failure_key};
	int result;

	memset(out, 0, sizeof(*out));
	out->a = a;
	out->b = b;
	result = match(out, &fa, &fb, add_files) != 0 || match(out, &ea, &eb, add_failures) != 0 ||
			 match_phases(out) != 0 || add_latency(out) != 0 ||
			 match_command_lines(out) != 0
		 ? -1
		 : 0;
	for (size_t i = 0; result == 0 && i < a->ncommands; i++)
		result = add_command_ops(out, &a->commands[i], true);
	for (size_t i = 0; result == 0 && i < b->ncommands; i++)
		result = add_command_ops(out, &b->commands[i], false);
	if (result != 0) {
		diff_free(out);
		return -1;
	}
	SORT(out, new_outputs, output_order);
	SORT(out, gone_outputs, output_order);
	SORT(out, changed_outputs, output_order);
	SORT(out, kept_outputs, path_order);
	SORT(out, same_outputs, path_order);
	SORT(out, new_reads, read_order);
	SORT(out, gone_reads, read_order);
	SORT(out, new_failures, failure_order);
	SORT(out, gone_failures, failure_order);
	SORT(out, changed_failures, failure_order);
	SORT(out, command_ops, command_op_order);
	SORT(out, latency, latency_order);
	SORT(out, command_lines, command_line_order);
	return 0;
}

void diff_free(struct diff *d)
{
	free(d->new_outputs);
	free(d->gone_outputs);
	free(d->changed_outputs);
	free(d->kept_outputs);
	free(d->same_outputs);
	free(d->new_reads);
	free(d->gone_reads);
	free(d->new_failures);
	free(d->gone_failures);
	free(d->changed_failures);
	free(d->phases);
	free(d->command_ops);
	free(d->latency);
	free(d->command_lines);
	memset(d, 0, sizeof(*d));
}
