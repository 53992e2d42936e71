/*
 * deps.c — `tracefs deps FILE.db`: the build graph of a recorded workload
 * (see deps.h for what a command and a temporary are). Reads the trace's
 * lineage (the processes table) and the events that read or make files,
 * builds the graph, then writes one of:
 *
 *   json              every command that made a file: argv, cwd, inputs, outputs
 *   compile-commands  clang's JSON compilation database, one entry per
 *                     source file a compiler compiled (temporaries left out)
 *   make              a make rule per file made: FILE: its inputs
 *   dot               Graphviz: file -> command -> file, or with --depth N
 *                     files and commands grouped by directory
 *
 * or answers --why PATH (who made it, who read it and what they made) or
 * --impact PATH (every file made from it, transitively).
 *
 * Paths: the trace holds paths from the mount's root. Where a format gives
 * real paths (compile-commands, make) they are under meta.source — the
 * files a user has once the mount is gone; under `tracefs run` that is the
 * traced directory itself. Paths the processes saw under meta.mountpoint
 * (cwd, absolute arguments) are moved there too; --as-mounted keeps them.
 *
 * Everything read from the trace is checked: a value out of range gives
 * "trace FILE is corrupt: ...", never a crash.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "analyze/analyze.h"
#include "analyze/deps.h"
#include "trace/trace.h"

#define LABEL_MAX 60		/* bytes of a command line in a drawing */
#define WHY_LINE_MAX 100	/* bytes of a command line in --why */
#define FUSE_SET_ATTR_SIZE (1 << 3) /* setattr's flags: the size changed */

enum format { FORMAT_JSON, FORMAT_COMPILE_COMMANDS, FORMAT_MAKE, FORMAT_DOT };
static const char *const format_names[] = {"json", "compile-commands", "make", "dot"};

struct deps_args {
	const char *file, *output, *why, *impact;
	enum format format;
	int depth; /* dot: group by directory below this depth; 0: no grouping */
	bool as_mounted;
};

struct deps {
	const char *prog;
	struct trace_reader *reader;
	struct deps_graph graph;
	char *mountpoint; /* where the processes saw the files */
	char *root;	  /* where a user finds them: meta.source, or the mountpoint */
	FILE *out;
};

/* ---- reading the lineage ---- */

static bool text_ok(sqlite3_stmt *s, int column)
{
	const unsigned char *text = sqlite3_column_text(s, column);
	return text && strlen((const char *)text) == (size_t)sqlite3_column_bytes(s, column);
}

/* 1 if the trace has the processes table, 0 if not, -1 on error. */
static int has_lineage(struct deps *d, char *err, size_t err_size)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(trace_reader_db(d->reader),
				    "SELECT count(*) FROM sqlite_schema WHERE type = 'table'"
				    " AND name = 'processes'",
				    -1, &s, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(s)) == SQLITE_ROW)
		rc = sqlite3_column_int(s, 0) > 0;
	else
		trace_reader_sql_error(d->reader, rc, "reading the schema", err, err_size);
	sqlite3_finalize(s);
	return rc == 0 || rc == 1 ? rc : -1;
}

static const char *check_process_row(sqlite3_stmt *s, struct deps_process_info *p, char ***argv)
{
	for (int c = 0; c < 3; c++)
		if (sqlite3_column_type(s, c) != SQLITE_INTEGER &&
		    (c != 2 || sqlite3_column_type(s, c) != SQLITE_NULL))
			return c == 0 ? "an id is no integer" : c == 1 ? "a pid is no integer"
								      : "a parent_id is no integer";
	p->id = sqlite3_column_int64(s, 0);
	p->pid = sqlite3_column_int64(s, 1);
	p->parent_id = sqlite3_column_int64(s, 2); /* 0 for NULL */
	if (p->id <= 0 || p->pid < 0 || p->pid > INT32_MAX || p->parent_id < 0)
		return "an id, pid or parent_id is out of range";
	if (p->parent_id == p->id)
		return "a process is its own parent";
	for (int c = 3; c < 7; c++)
		if (sqlite3_column_type(s, c) != SQLITE_NULL &&
		    (sqlite3_column_type(s, c) != SQLITE_TEXT || !text_ok(s, c)))
			return "an exe, argv, cwd or state is no text";
	const char *state = (const char *)sqlite3_column_text(s, 6);
	if (!state || (strcmp(state, "read") != 0 && strcmp(state, "gone") != 0 &&
		       strcmp(state, "root") != 0))
		return "a state is none of read, gone, root";
	p->root = strcmp(state, "root") == 0;
	p->exe = (const char *)sqlite3_column_text(s, 3);
	p->cwd = (const char *)sqlite3_column_text(s, 5);
	const char *argv_text = (const char *)sqlite3_column_text(s, 4);
	p->argc = 0;
	if (argv_text) {
		const char *bad = deps_parse_argv(argv_text, argv, &p->argc);
		if (bad)
			return bad;
	}
	p->argv = argv_text ? (const char *const *)*argv : NULL;
	return NULL;
}

static int load_processes(struct deps *d, char *err, size_t err_size)
{
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(trace_reader_db(d->reader),
				    "SELECT id, pid, parent_id, exe, argv, cwd, state FROM processes",
				    -1, &s, NULL);
	while (rc == SQLITE_OK || rc == SQLITE_ROW) {
		if ((rc = sqlite3_step(s)) != SQLITE_ROW)
			break;
		struct deps_process_info p = {0};
		char **argv = NULL;
		const char *bad = check_process_row(s, &p, &argv);
		if (!bad && deps_graph_add_process(&d->graph, &p) != 0)
			bad = "out of memory";
		deps_free_argv(argv, p.argc);
		if (bad) {
			snprintf(err, err_size, "trace %s is corrupt: processes row %lld: %s",
				 trace_reader_file(d->reader), (long long)sqlite3_column_int64(s, 0), bad);
			sqlite3_finalize(s);
			return -1;
		}
	}
	if (rc != SQLITE_DONE) {
		trace_reader_sql_error(d->reader, rc, "reading the processes", err, err_size);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	char why[256];
	if (deps_graph_link(&d->graph, why, sizeof(why)) != 0) {
		snprintf(err, err_size, "trace %s is corrupt: %s", trace_reader_file(d->reader), why);
		return -1;
	}
	return 0;
}

/* ---- reading the accesses ---- */

static const enum trace_op access_ops[] = {
	TRACE_OP_OPEN,   TRACE_OP_CREATE, TRACE_OP_WRITE, TRACE_OP_UNLINK,	    TRACE_OP_RENAME,
	TRACE_OP_LINK,   TRACE_OP_SYMLINK, TRACE_OP_MKNOD, TRACE_OP_SETATTR, TRACE_OP_COPY_FILE_RANGE,
};

/* Hands one successful event to the graph. 0 or -1 (memory). */
static int add_event(struct deps_graph *g, int64_t process, int op, uint32_t flags,
		     const char *path, const char *path2)
{
	switch (op) {
	case TRACE_OP_OPEN:
		if ((flags & O_ACCMODE) != O_WRONLY &&
		    deps_graph_access(g, process, DEPS_READ, path, NULL) != 0)
			return -1;
		/* O_RDWR counts as writing only with O_TRUNC: its writes come as writes */
		if ((flags & O_ACCMODE) == O_WRONLY || (flags & O_TRUNC))
			return deps_graph_access(g, process, DEPS_WRITE, path, NULL);
		return 0;
	case TRACE_OP_CREATE:
	case TRACE_OP_MKNOD:
	case TRACE_OP_SYMLINK: return deps_graph_access(g, process, DEPS_CREATE, path, NULL);
	case TRACE_OP_WRITE: return deps_graph_access(g, process, DEPS_WRITE, path, NULL);
	case TRACE_OP_SETATTR:
		return flags & FUSE_SET_ATTR_SIZE
			       ? deps_graph_access(g, process, DEPS_WRITE, path, NULL)
			       : 0;
	case TRACE_OP_UNLINK: return deps_graph_access(g, process, DEPS_REMOVE, path, NULL);
	case TRACE_OP_RENAME:
		if (flags & RENAME_EXCHANGE) /* both stay: each now holds the other's content */
			return deps_graph_access(g, process, DEPS_READ, path, NULL) ||
			       deps_graph_access(g, process, DEPS_READ, path2, NULL) ||
			       deps_graph_access(g, process, DEPS_WRITE, path, NULL) ||
			       deps_graph_access(g, process, DEPS_WRITE, path2, NULL);
		return deps_graph_access(g, process, DEPS_RENAME, path, path2);
	case TRACE_OP_LINK: return deps_graph_access(g, process, DEPS_LINK, path, path2);
	case TRACE_OP_COPY_FILE_RANGE:
		return deps_graph_access(g, process, DEPS_READ, path, NULL) ||
		       deps_graph_access(g, process, DEPS_WRITE, path2, NULL);
	default: return 0;
	}
}

static char *access_sql(struct trace_reader *reader)
{
	sqlite3_str *sql = sqlite3_str_new(NULL);
	sqlite3_str_appendall(sql, "SELECT " TRACE_READER_EVENT_COLUMNS
				   ", pr.process, p1.path, p2.path FROM events"
				   " LEFT JOIN procs AS pr ON pr.id = events.proc"
				   " LEFT JOIN paths AS p1 ON p1.id = events.path"
				   " LEFT JOIN paths AS p2 ON p2.id = events.path2"
				   " WHERE events.result >= 0 AND events.op IN (-1");
	for (size_t i = 0; i < sizeof(access_ops) / sizeof(access_ops[0]); i++) {
		int64_t id = trace_reader_id_of_op(reader, access_ops[i]);
		if (id >= 0)
			sqlite3_str_appendf(sql, ",%lld", (long long)id);
	}
	sqlite3_str_appendall(sql, ") ORDER BY events.seq");
	return sqlite3_str_finish(sql);
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int load_accesses(struct deps *d, char *err, size_t err_size)
{
	int64_t first_ns, last_ns, total = 0, last_shown = now_ms();
	bool progress = isatty(STDERR_FILENO) && trace_reader_span(d->reader, &first_ns, &last_ns,
								&total) == 0;
	char *sql = access_sql(d->reader);
	if (!sql) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	const int n = TRACE_READER_EVENT_COLUMN_COUNT;
	sqlite3_stmt *s;
	int rc = sqlite3_prepare_v2(trace_reader_db(d->reader), sql, -1, &s, NULL);
	sqlite3_free(sql);
	const char *bad = NULL;
	while (!bad && (rc == SQLITE_OK || rc == SQLITE_ROW)) {
		if ((rc = sqlite3_step(s)) != SQLITE_ROW)
			break;
		int types[TRACE_READER_EVENT_COLUMN_COUNT];
		int64_t values[TRACE_READER_EVENT_COLUMN_COUNT];
		for (int c = 0; c < n; c++) {
			types[c] = sqlite3_column_type(s, c);
			values[c] = sqlite3_column_int64(s, c);
		}
		bad = trace_reader_check_values(d->reader, types, values);
		if (bad)
			break;
		int process_type = sqlite3_column_type(s, n);
		if (process_type == SQLITE_NULL) {
			d->graph.unattributed++;
			continue;
		}
		int64_t process = sqlite3_column_int64(s, n);
		if (process_type != SQLITE_INTEGER || process <= 0) {
			bad = "an event's process is no processes.id";
			break;
		}
		const char *path = types[5] == SQLITE_NULL || !text_ok(s, n + 1)
					   ? NULL
					   : (const char *)sqlite3_column_text(s, n + 1);
		const char *path2 = types[6] == SQLITE_NULL || !text_ok(s, n + 2)
					    ? NULL
					    : (const char *)sqlite3_column_text(s, n + 2);
		if (!path || trace_reader_kind_of_id(d->reader, values[4]) == TRACE_KIND_DIR)
			continue;
		if (add_event(&d->graph, process, trace_reader_op_of_id(d->reader, values[3]),
			      (uint32_t)values[11], path, path2) != 0)
			bad = "out of memory";
		if (progress && (values[0] & 0xffff) == 0 && now_ms() - last_shown > 250) {
			fprintf(stderr, "\r%s: reading events %3d%%", d->prog,
				(int)(100 * values[0] / (total > 0 ? total : 1)));
			last_shown = now_ms();
		}
	}
	if (progress)
		fprintf(stderr, "\r%*s\r", (int)strlen(d->prog) + 24, "");
	if (bad) {
		snprintf(err, err_size, "trace %s is corrupt: %s", trace_reader_file(d->reader), bad);
		sqlite3_finalize(s);
		return -1;
	}
	if (rc != SQLITE_DONE) {
		trace_reader_sql_error(d->reader, rc, "reading the events", err, err_size);
		sqlite3_finalize(s);
		return -1;
	}
	sqlite3_finalize(s);
	if (deps_graph_finish(&d->graph) != 0) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	return 0;
}

/* ---- paths ---- */

/* A malloc'd concatenation of A and B. */
static char *join(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	char *s = malloc(la + lb + 1);
	if (s) {
		memcpy(s, a, la);
		memcpy(s + la, b, lb + 1);
	}
	return s;
}

/* Where a user finds the trace's PATH (from the mount's root). Malloc'd. */
static char *real_path(const struct deps *d, const char *path)
{
	return strcmp(path, "/") == 0 ? strdup(d->root[0] ? d->root : "/") : join(d->root, path);
}

/* PATH as a process saw it, moved from the mountpoint to the root. Malloc'd. */
static char *user_path(const struct deps *d, const char *path)
{
	size_t n = strlen(d->mountpoint);
	if (strcmp(d->mountpoint, d->root) != 0 && strncmp(path, d->mountpoint, n) == 0 &&
	    (path[n] == '/' || path[n] == '\0'))
		return join(d->root, path + n);
	return strdup(path);
}

/*
 * ARG resolved against DIR, with "." and ".." taken out lexically (as a
 * compiler's directory entry is read). Malloc'd.
 */
static char *resolve(const char *dir, const char *arg)
{
	char *joined = arg[0] == '/' ? strdup(arg) : malloc(strlen(dir) + strlen(arg) + 2);
	if (!joined)
		return NULL;
	if (arg[0] != '/')
		sprintf(joined, "%s/%s", dir, arg);
	char *out = joined, *w = joined;
	for (char *r = joined; *r;) {
		while (*r == '/')
			r++;
		char *end = r + strcspn(r, "/");
		size_t len = (size_t)(end - r);
		if (len == 0 || (len == 1 && r[0] == '.')) {
			/* nothing */
		} else if (len == 2 && r[0] == '.' && r[1] == '.') {
			while (w > out && *--w != '/')
				;
		} else {
			*w++ = '/';
			memmove(w, r, len);
			w += len;
		}
		r = end;
	}
	if (w == out)
		*w++ = '/';
	*w = '\0';
	return out;
}

/* The trace path of the real path PATH, or NULL if it is not under the mountpoint. */
static const char *trace_path_of(const struct deps *d, const char *path)
{
	const char *roots[2] = {d->root, d->mountpoint};
	for (int i = 0; i < 2; i++) {
		size_t n = strlen(roots[i]); /* "" for "/" */
		if (strncmp(path, roots[i], n) == 0 && (path[n] == '/' || path[n] == '\0'))
			return path[n] ? path + n : "/";
	}
	return NULL;
}

/* ---- compile-commands ---- */

static bool is_source(const char *arg)
{
	static const char *const exts[] = {".c",   ".cc", ".cp",  ".cpp", ".cxx", ".c++", ".C",
					   ".CPP", ".m",  ".mm",  ".i",	  ".ii",  ".s",	  ".S",
					   ".sx"};
	const char *dot = strrchr(arg, '.');
	if (!dot || arg[0] == '-')
		return false;
	for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(dot, exts[i]) == 0)
			return true;
	return false;
}

/* Options of gcc and clang whose value is the next argument. */
static bool takes_value(const char *arg)
{
	static const char *const options[] = {
		"-o",	    "-I",	 "-D",	      "-U",	    "-include",	   "-imacros",
		"-isystem", "-iquote",	 "-idirafter", "-iprefix",  "-iwithprefix", "-isysroot",
		"-MF",	    "-MT",	 "-MQ",	      "-x",	    "-L",	   "-Xlinker",
		"-Xassembler", "-Xpreprocessor", "-Xclang", "-aux-info", "-T", "--param",
		"-target",  "-arch",	 "-z",	      "-e"};
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(arg, options[i]) == 0)
			return true;
	return false;
}

struct compile_entry {
	size_t order;
	char *directory, *file, *output;
	const struct deps_process *process;
};

static int by_file_output_order(const void *a, const void *b)
{
	const struct compile_entry *p = a, *q = b;
	int c = strcmp(p->file, q->file);
	if (!c)
		c = strcmp(p->output ? p->output : "", q->output ? q->output : "");
	return c ? c : (p->order > q->order) - (p->order < q->order);
}

static int by_order(const void *a, const void *b)
{
	const struct compile_entry *p = a, *q = b;
	return (p->order > q->order) - (p->order < q->order);
}

/* The output a compile without -o makes of SOURCE: x.o (-c), x.s (-S), else a.out. */
static char *default_output(const char *source, bool c, bool S)
{
	if (!c && !S)
		return strdup("a.out");
	const char *base = strrchr(source, '/');
	base = base ? base + 1 : source;
	const char *dot = strrchr(base, '.');
	size_t stem = dot ? (size_t)(dot - base) : strlen(base);
	char *out = malloc(stem + 3);
	if (out)
		sprintf(out, "%.*s.%c", (int)stem, base, c ? 'o' : 's');
	return out;
}

/* Adds the entries of compiler COMMAND; -1 out of memory. */
static int compile_entries(const struct deps *d, const struct deps_command *command,
			   struct compile_entry **entries, size_t *n, size_t *cap)
{
	const struct deps_process *p = &d->graph.processes[command->process];
	if (!p->argv || !p->cwd)
		return 0;
	const char *output = NULL;
	bool c = false, S = false, E = false;
	for (size_t a = 1; a < p->argc; a++) {
		if (strcmp(p->argv[a], "-c") == 0)
			c = true;
		else if (strcmp(p->argv[a], "-S") == 0)
			S = true;
		else if (strcmp(p->argv[a], "-E") == 0 || strcmp(p->argv[a], "-M") == 0 ||
			 strcmp(p->argv[a], "-MM") == 0)
			E = true;
		else if (strcmp(p->argv[a], "-o") == 0 && a + 1 < p->argc)
			output = p->argv[a + 1];
		if (takes_value(p->argv[a]))
			a++;
	}
	if (E)
		return 0; /* preprocessing only: nothing compiled */
	char *directory = user_path(d, p->cwd);
	if (!directory)
		return -1;
	for (size_t a = 1; a < p->argc; a++) {
		if (takes_value(p->argv[a])) {
			a++;
			continue;
		}
		if (!is_source(p->argv[a]))
			continue;
		char *file = resolve(p->cwd, p->argv[a]);
		if (!file)
			goto oom;
		const char *in_trace = trace_path_of(d, file);
		size_t f = in_trace ? deps_graph_file(&d->graph, in_trace) : DEPS_NONE;
		if (f != DEPS_NONE && d->graph.files[f].temporary) {
			free(file);
			continue; /* configure's conftest.c */
		}
		char *moved = user_path(d, file);
		free(file);
		char *out = output ? strdup(output) : default_output(p->argv[a], c, S);
		char *out_path = out ? resolve(p->cwd, out) : NULL;
		char *out_moved = out_path ? user_path(d, out_path) : NULL;
		free(out);
		free(out_path);
		if (!moved || !out_moved ||
		    !deps_grow((void **)entries, cap, *n + 1, sizeof(**entries))) {
			free(moved);
			free(out_moved);
			goto oom;
		}
		(*entries)[(*n)++] = (struct compile_entry){
			.order = *n,
			.directory = strdup(directory),
			.file = moved,
			.output = out_moved,
			.process = p,
		};
		if (!(*entries)[*n - 1].directory)
			goto oom;
	}
	free(directory);
	return 0;
oom:
	free(directory);
	return -1;
}

static void write_compile_commands(struct deps *d, char *err, size_t err_size)
{
	struct compile_entry *entries = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	size_t orphans = 0; /* compiler passes whose driver's command line is unknown */
	for (size_t c = 0; rc == 0 && c < d->graph.ncommands; c++) {
		const struct deps_command *command = &d->graph.commands[c];
		if (command->compiler) {
			rc = compile_entries(d, command, &entries, &n, &cap);
		} else {
			const struct deps_process *p = &d->graph.processes[command->process];
			const char *names[2] = {p->exe, p->argc ? p->argv[0] : NULL};
			bool pass = false;
			for (int i = 0; i < 2; i++) {
				const char *base = names[i] ? strrchr(names[i], '/') : NULL;
				base = base ? base + 1 : names[i];
				pass = pass || (base && (strcmp(base, "cc1") == 0 ||
							 strcmp(base, "cc1plus") == 0));
			}
			orphans += pass;
		}
	}
	if (orphans)
		fprintf(stderr,
			"%s: %zu compiler passes (cc1) ran under a driver that was gone before its "
			"command line could be read: their sources are not in the database\n",
			d->prog, orphans);
	if (rc != 0) {
		snprintf(err, err_size, "out of memory");
	} else {
		/* A file compiled again to the same output (make; make clean; make): the last. */
		if (n) /* qsort wants a pointer even for nothing */
			qsort(entries, n, sizeof(*entries), by_file_output_order);
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			if (i + 1 < n && strcmp(entries[i].file, entries[i + 1].file) == 0 &&
			    strcmp(entries[i].output, entries[i + 1].output) == 0) {
				free(entries[i].directory);
				free(entries[i].file);
				free(entries[i].output);
				continue;
			}
			entries[kept++] = entries[i];
		}
		n = kept;
		if (n)
			qsort(entries, n, sizeof(*entries), by_order);
		fputs("[", d->out);
		for (size_t i = 0; i < n; i++) {
			const struct deps_process *p = entries[i].process;
			fputs(i ? ",\n" : "\n", d->out);
			fputs("  {\n    \"directory\": ", d->out);
			trace_json_write_string(d->out, entries[i].directory);
			fputs(",\n    \"arguments\": [", d->out);
			for (size_t a = 0; a < p->argc; a++) {
				if (a)
					fputs(", ", d->out);
				trace_json_write_string(d->out, p->argv[a]);
			}
			fputs("],\n    \"file\": ", d->out);
			trace_json_write_string(d->out, entries[i].file);
			fputs(",\n    \"output\": ", d->out);
			trace_json_write_string(d->out, entries[i].output);
			fputs("\n  }", d->out);
		}
		fputs(n ? "\n]\n" : "]\n", d->out);
	}
	for (size_t i = 0; i < n; i++) {
		free(entries[i].directory);
		free(entries[i].file);
		free(entries[i].output);
	}
	free(entries);
}

/* ---- json and make ---- */

/* Whether COMMAND made a file that is no temporary. */
static bool made_something(const struct deps_graph *g, const struct deps_command *command)
{
	for (size_t o = 0; o < command->noutputs; o++)
		if (!g->files[command->outputs[o]].temporary)
			return true;
	return false;
}

static void json_files(struct deps *d, const size_t *files, size_t n)
{
	bool first = true;
	fputc('[', d->out);
	for (size_t i = 0; i < n; i++) {
		if (d->graph.files[files[i]].temporary)
			continue;
		fputs(first ? "" : ", ", d->out);
		trace_json_write_string(d->out, d->graph.files[files[i]].path);
		first = false;
	}
	fputc(']', d->out);
}

static int write_json(struct deps *d)
{
	struct deps_graph *g = &d->graph;
	size_t temporaries = 0;
	for (size_t f = 0; f < g->nfiles; f++)
		temporaries += g->files[f].temporary;
	fputs("{\n  \"trace\": ", d->out);
	trace_json_write_string(d->out, trace_reader_file(d->reader));
	fputs(",\n  \"root\": ", d->out);
	trace_json_write_string(d->out, d->root);
	fprintf(d->out,
		",\n  \"temporaries\": %zu,\n  \"unattributed_accesses\": %" PRId64
		",\n  \"commands\": [",
		temporaries, g->unattributed);
	bool first = true;
	for (size_t c = 0; c < g->ncommands; c++) {
		const struct deps_command *command = &g->commands[c];
		if (!made_something(g, command))
			continue;
		const struct deps_process *p = &g->processes[command->process];
		fprintf(d->out, "%s\n    {\"pid\": %" PRId64 ", \"argv\": ", first ? "" : ",", p->pid);
		if (p->argv) {
			fputc('[', d->out);
			for (size_t a = 0; a < p->argc; a++) {
				fputs(a ? ", " : "", d->out);
				trace_json_write_string(d->out, p->argv[a]);
			}
			fputc(']', d->out);
		} else {
			fputs("null", d->out);
		}
		fputs(", \"cwd\": ", d->out);
		if (p->cwd)
			trace_json_write_string(d->out, p->cwd);
		else
			fputs("null", d->out);
		fprintf(d->out, ", \"compiler\": %s,\n     \"inputs\": ",
			command->compiler ? "true" : "false");
		size_t *inputs, ninputs;
		if (deps_graph_inputs(g, c, &inputs, &ninputs) != 0)
			return -1;
		json_files(d, inputs, ninputs);
		free(inputs);
		fputs(",\n     \"outputs\": ", d->out);
		json_files(d, command->outputs, command->noutputs);
		fputc('}', d->out);
		first = false;
	}
	fputs(first ? "]\n}\n" : "\n  ]\n}\n", d->out);
	return 0;
}

/* A path in a make rule: spaces, '#', ':' and '\' escaped, '$' doubled. */
static void make_path(FILE *out, const char *path)
{
	for (const char *s = path; *s; s++) {
		if (*s == '$')
			fputc('$', out);
		else if (*s == ' ' || *s == '#' || *s == '\\' || *s == ':')
			fputc('\\', out);
		fputc(*s, out);
	}
}

static int write_make(struct deps *d)
{
	struct deps_graph *g = &d->graph;
	size_t skipped = 0;
	for (size_t c = 0; c < g->ncommands; c++) {
		const struct deps_command *command = &g->commands[c];
		if (!made_something(g, command))
			continue;
		size_t *inputs, ninputs;
		if (deps_graph_inputs(g, c, &inputs, &ninputs) != 0)
			return -1;
		for (size_t o = 0; o < command->noutputs; o++) {
			const struct deps_file *made = &g->files[command->outputs[o]];
			if (made->temporary || made->last_writer != c)
				continue;
			if (strchr(made->path, '\n')) {
				skipped++; /* make cannot name it */
				continue;
			}
			char *target = real_path(d, made->path);
			if (!target) {
				free(inputs);
				return -1;
			}
			make_path(d->out, target);
			free(target);
			fputc(':', d->out);
			for (size_t i = 0; i < ninputs; i++) {
				const struct deps_file *input = &g->files[inputs[i]];
				if (input == made || strchr(input->path, '\n'))
					continue;
				char *prerequisite = real_path(d, input->path);
				if (!prerequisite) {
					free(inputs);
					return -1;
				}
				fputs(" \\\n  ", d->out);
				make_path(d->out, prerequisite);
				free(prerequisite);
			}
			fputc('\n', d->out);
		}
		free(inputs);
	}
	if (skipped)
		fprintf(stderr, "%s: %zu files with a newline in their name have no rule\n",
			d->prog, skipped);
	return 0;
}

/* ---- dot ---- */

struct dot_node {
	char *key, *label;
	bool command;
	size_t count;
};

struct dot_edge {
	char *from, *to;
};

struct dot {
	struct dot_node *nodes;
	size_t nnodes, nodes_cap;
	struct dot_edge *edges;
	size_t nedges, edges_cap;
	bool oom;
};

static const char *intern_node(struct dot *dot, char *key, char *label, bool command)
{
	if (!key || !label ||
	    !deps_grow((void **)&dot->nodes, &dot->nodes_cap, dot->nnodes + 1, sizeof(*dot->nodes))) {
		dot->oom = true;
		free(key);
		free(label);
		return NULL;
	}
	dot->nodes[dot->nnodes++] = (struct dot_node){key, label, command, 1};
	return key;
}

static void add_dot_edge(struct dot *dot, const char *from, const char *to)
{
	if (!from || !to || dot->oom)
		return;
	if (!deps_grow((void **)&dot->edges, &dot->edges_cap, dot->nedges + 1, sizeof(*dot->edges))) {
		dot->oom = true;
		return;
	}
	char *f = strdup(from), *t = strdup(to);
	if (!f || !t) {
		free(f);
		free(t);
		dot->oom = true;
		return;
	}
	dot->edges[dot->nedges++] = (struct dot_edge){f, t};
}

/* PATH cut to its first DEPTH components ("/src/lib/x.h", 1: "/src/"); DEPTH 0: whole. */
static char *collapse(const char *path, int depth, bool *is_dir)
{
	const char *s = path;
	*is_dir = false;
	for (int i = 0; depth > 0 && i < depth && *s; i++) {
		s++;
		s += strcspn(s, "/");
	}
	if (depth > 0 && *s == '/' && s[1]) {
		*is_dir = true;
		char *dir = malloc((size_t)(s - path) + 2);
		if (dir)
			sprintf(dir, "%.*s/", (int)(s - path), path);
		return dir;
	}
	return strdup(path);
}

/* The node of a file (added), or NULL if out of memory. */
static const char *file_node(struct dot *dot, const char *path, int depth)
{
	bool is_dir;
	char *shown = collapse(path, depth, &is_dir);
	char *key = shown ? join(is_dir ? "D" : "F", shown) : NULL;
	return intern_node(dot, key, shown, false);
}

/* The node of command C (added), or NULL if out of memory. */
static const char *command_node(struct dot *dot, const struct deps *d, size_t c, int depth)
{
	const struct deps_graph *g = &d->graph;
	const struct deps_process *p = &g->processes[g->commands[c].process];
	char line[LABEL_MAX + 8], key[64];
	if (p->argv)
		deps_command_line((const char *const *)p->argv, p->argc, LABEL_MAX, line,
				  sizeof(line));
	else
		snprintf(line, sizeof(line), "pid %" PRId64 " (not read)", p->pid);
	if (depth == 0) {
		snprintf(key, sizeof(key), "C%zu", c);
		return intern_node(dot, strdup(key), strdup(line), true);
	}
	/* grouped: one node per program and directory (from the mount's root, cut to depth) */
	const char *program = p->argv ? p->argv[0] : p->exe ? p->exe : "?";
	const char *slash = strrchr(program, '/');
	program = slash ? slash + 1 : program;
	bool is_dir;
	const char *in_trace = p->cwd ? trace_path_of(d, p->cwd) : NULL;
	char *where = in_trace ? collapse(in_trace, depth, &is_dir)
		      : strdup(p->cwd ? p->cwd : "?"); /* outside the mount: as it is */
	/* a compiler's compiles apart from its links: the group stays acyclic */
	bool compiles = false;
	for (size_t a = 1; g->commands[c].compiler && a < p->argc; a++)
		compiles = compiles || strcmp(p->argv[a], "-c") == 0;
	char *label = where ? malloc(strlen(program) + strlen(where) + 12) : NULL;
	if (label)
		sprintf(label, "%s%s in %s", program, compiles ? " -c" : "", where);
	free(where);
	char *k = label ? join("G", label) : NULL;
	return intern_node(dot, k, label, true);
}

static int by_key(const void *a, const void *b)
{
	const struct dot_node *p = a, *q = b;
	return strcmp(p->key, q->key);
}

static int by_edge(const void *a, const void *b)
{
	const struct dot_edge *p = a, *q = b;
	int c = strcmp(p->from, q->from);
	return c ? c : strcmp(p->to, q->to);
}

/* A DOT quoted string. */
static void dot_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fputc('\\', out);
		if (*s == '\n')
			fputs("\\n", out);
		else if ((unsigned char)*s >= 0x20 || *s == '\t')
			fputc(*s, out);
	}
	fputc('"', out);
}

static size_t node_index(const struct dot *dot, const char *key)
{
	struct dot_node probe = {.key = (char *)key};
	const struct dot_node *found =
		bsearch(&probe, dot->nodes, dot->nnodes, sizeof(*dot->nodes), by_key);
	return found ? (size_t)(found - dot->nodes) : 0;
}

static int write_dot(struct deps *d, int depth)
{
	struct deps_graph *g = &d->graph;
	struct dot dot = {0};
	for (size_t c = 0; c < g->ncommands && !dot.oom; c++) {
		const struct deps_command *command = &g->commands[c];
		if (!made_something(g, command))
			continue;
		const char *cmd = command_node(&dot, d, c, depth);
		size_t *inputs, ninputs;
		if (deps_graph_inputs(g, c, &inputs, &ninputs) != 0) {
			dot.oom = true;
			break;
		}
		for (size_t i = 0; i < ninputs && !dot.oom; i++)
			add_dot_edge(&dot, file_node(&dot, g->files[inputs[i]].path, depth), cmd);
		free(inputs);
		for (size_t o = 0; o < command->noutputs && !dot.oom; o++)
			if (!g->files[command->outputs[o]].temporary)
				add_dot_edge(&dot, cmd,
					     file_node(&dot, g->files[command->outputs[o]].path, depth));
	}
	if (!dot.oom) {
		/* merge duplicate nodes (counting them) and edges; keys are node ids */
		if (dot.nnodes) /* qsort wants a pointer even for nothing */
			qsort(dot.nodes, dot.nnodes, sizeof(*dot.nodes), by_key);
		size_t kept = 0;
		for (size_t i = 0; i < dot.nnodes; i++) {
			if (kept && strcmp(dot.nodes[kept - 1].key, dot.nodes[i].key) == 0) {
				dot.nodes[kept - 1].count++;
				free(dot.nodes[i].key);
				free(dot.nodes[i].label);
				continue;
			}
			dot.nodes[kept++] = dot.nodes[i];
		}
		dot.nnodes = kept;
		if (dot.nedges)
			qsort(dot.edges, dot.nedges, sizeof(*dot.edges), by_edge);
		fputs("digraph deps {\n  rankdir=LR;\n  node [fontname=\"sans-serif\", fontsize=10];\n",
		      d->out);
		fputs("  label=", d->out);
		dot_string(d->out, d->root);
		fputs(";\n", d->out);
		for (size_t i = 0; i < dot.nnodes; i++) {
			const struct dot_node *node = &dot.nodes[i];
			fprintf(d->out, "  n%zu [label=", i);
			if (node->command && node->count > 1 && depth > 0) {
				char *label = malloc(strlen(node->label) + 32);
				if (!label) {
					dot.oom = true;
					break;
				}
				sprintf(label, "%s ×%zu", node->label, node->count);
				dot_string(d->out, label);
				free(label);
			} else {
				dot_string(d->out, node->label);
			}
			fputs(node->command ? ", shape=box, style=filled, fillcolor=\"#f2e6c9\"];\n"
			      : node->key[0] == 'D'
				      ? ", shape=folder, color=\"#2e8b57\", fontcolor=\"#2e8b57\"];\n"
				      : ", shape=note, color=\"#1f5fbf\", fontcolor=\"#1f5fbf\"];\n",
			      d->out);
		}
		for (size_t i = 0; i < dot.nedges && !dot.oom; i++) {
			if (i && by_edge(&dot.edges[i - 1], &dot.edges[i]) == 0)
				continue;
			size_t from = node_index(&dot, dot.edges[i].from);
			size_t to = node_index(&dot, dot.edges[i].to);
			if (from != to)
				fprintf(d->out, "  n%zu -> n%zu;\n", from, to);
		}
		fputs("}\n", d->out);
	}
	for (size_t i = 0; i < dot.nnodes; i++) {
		free(dot.nodes[i].key);
		free(dot.nodes[i].label);
	}
	for (size_t i = 0; i < dot.nedges; i++) {
		free(dot.edges[i].from);
		free(dot.edges[i].to);
	}
	free(dot.nodes);
	free(dot.edges);
	return dot.oom ? -1 : 0;
}

/* ---- queries ---- */

/* The graph's file for the real path PATH, or DEPS_NONE. */
static size_t find_real_file(const struct deps *d, const char *path)
{
	const char *in_trace = trace_path_of(d, path);
	return in_trace ? deps_graph_file(&d->graph, in_trace) : DEPS_NONE;
}

/*
 * The graph's file for PATH as the user gave it, or DEPS_NONE: a trace path
 * or a real one; a relative one from the working directory, as a shell
 * user means it, else from the mount's root.
 */
static size_t find_file(const struct deps *d, const char *path)
{
	size_t f = deps_graph_file(&d->graph, path);
	if (f != DEPS_NONE)
		return f;
	char cwd[PATH_MAX];
	char *real = path[0] == '/' ? resolve("/", path)
		     : getcwd(cwd, sizeof(cwd)) ? resolve(cwd, path)
						 : NULL;
	if (real)
		f = deps_graph_file(&d->graph, real); /* a trace path with "." or ".." */
	if (real && f == DEPS_NONE)
		f = find_real_file(d, real);
	free(real);
	if (f == DEPS_NONE && path[0] != '/') {
		char *in_trace = resolve("/", path);
		if (in_trace && (f = deps_graph_file(&d->graph, in_trace)) != DEPS_NONE)
			fprintf(stderr,
				"tracefs deps: no %s in the trace from the working directory; "
				"taking it from the mount's root: %s\n",
				path, in_trace);
		free(in_trace);
	}
	return f;
}

static void describe_command(struct deps *d, size_t c, const char *indent)
{
	const struct deps_process *p = &d->graph.processes[d->graph.commands[c].process];
	char line[WHY_LINE_MAX + 8];
	if (p->argv)
		deps_command_line((const char *const *)p->argv, p->argc, WHY_LINE_MAX, line,
				  sizeof(line));
	else
		snprintf(line, sizeof(line), "(command line not read: the process was gone)");
	fprintf(d->out, "%s%s\n%s  pid %" PRId64 "%s%s\n", indent, line, indent, p->pid,
		p->cwd ? ", in " : "", p->cwd ? p->cwd : "");
}

static void write_why(struct deps *d, size_t f)
{
	const struct deps_file *file = &d->graph.files[f];
	fprintf(d->out, "%s%s\n", file->path, file->temporary ? " (a temporary)" : "");
	fprintf(d->out, "made by %zu command%s%s\n", file->nwriters, file->nwriters == 1 ? "" : "s",
		file->nwriters ? ":" : " (it was there before the run)");
	for (size_t w = 0; w < file->nwriters; w++)
		describe_command(d, file->writers[w], "  ");
	fprintf(d->out, "read by %zu command%s%s\n", file->nreaders, file->nreaders == 1 ? "" : "s",
		file->nreaders ? ":" : "");
	for (size_t r = 0; r < file->nreaders; r++) {
		const struct deps_command *command = &d->graph.commands[file->readers[r]];
		describe_command(d, file->readers[r], "  ");
		size_t made = 0;
		for (size_t o = 0; o < command->noutputs; o++) {
			const struct deps_file *out = &d->graph.files[command->outputs[o]];
			if (out->temporary)
				continue;
			fprintf(d->out, "    made %s\n", out->path);
			made++;
		}
		if (!made)
			fputs("    made nothing that stayed\n", d->out);
	}
}

static int write_impact(struct deps *d, size_t f)
{
	size_t *files, n;
	if (deps_graph_impact(&d->graph, f, &files, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		fprintf(d->out, "%s\n", d->graph.files[files[i]].path);
	fprintf(stderr, "%s: %zu file%s made from %s\n", d->prog, n, n == 1 ? "" : "s",
		d->graph.files[f].path);
	free(files);
	return 0;
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs deps FILE.db [--format FORMAT] [-o OUT]\n"
		"       tracefs deps FILE.db --why PATH | --impact PATH\n"
		"\n"
		"The build graph of a recorded workload: per command (a process with the\n"
		"compiler passes, assembler and linker it ran) the files it read and the\n"
		"files it made. Temporaries (made and removed within one step of the run,\n"
		"like configure's conftest.c) are left out. Needs a trace with process\n"
		"lineage (recorded by this tracefs).\n"
		"\n"
		"formats:\n"
		"  json              every command that made a file: pid, argv, cwd, inputs,\n"
		"                    outputs (paths as in the trace)  [the default]\n"
		"  compile-commands  compile_commands.json for clangd and clang-tidy: one entry\n"
		"                    per source file a compiler compiled\n"
		"  make              a make rule per file made, with every file it was made from\n"
		"  dot               Graphviz: file -> command -> file; dot -Tsvg OUT\n"
		"\n"
		"  -f, --format FORMAT  one of the above\n"
		"  -o, --output OUT     write to OUT (replaced only once complete)\n"
		"      --depth N        dot: draw files below depth N as their directory and\n"
		"                       commands as one node per program and directory\n"
		"      --why PATH       who made PATH, who read it and what they made\n"
		"      --impact PATH    every file made from PATH, directly or not\n"
		"      --as-mounted     keep paths under the mountpoint (default: under the\n"
		"                       traced source, where the files are once unmounted)\n"
		"  -h, --help           show this help\n"
		"\n"
		"PATH is as in the trace (from the mount's root, e.g. /src/main.h) or a real\n"
		"path under the traced directory; a relative PATH is taken from the working\n"
		"directory, else from the mount's root.\n");
}

/* 0, 1 for --help, 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, struct deps_args *args)
{
	static const struct option long_options[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"depth", required_argument, NULL, 'd'},
		{"why", required_argument, NULL, 'w'},
		{"impact", required_argument, NULL, 'i'},
		{"as-mounted", no_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	bool format_given = false;
	*args = (struct deps_args){0};
	while ((c = getopt_long(argc, argv, "f:o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			format_given = false;
			for (size_t i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
				if (strcmp(optarg, format_names[i]) == 0) {
					args->format = (enum format)i;
					format_given = true;
				}
			if (!format_given) {
				fprintf(stderr,
					"%s: unknown format '%s' (json, compile-commands, make or dot)\n",
					argv[0], optarg);
				return 2;
			}
			break;
		case 'o': args->output = optarg; break;
		case 'd': {
			char *end;
			errno = 0;
			long depth = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || depth < 1 || depth > 1000) {
				fprintf(stderr, "%s: --depth wants a number from 1 to 1000, not '%s'\n",
					argv[0], optarg);
				return 2;
			}
			args->depth = (int)depth;
			break;
		}
		case 'w': args->why = optarg; break;
		case 'i': args->impact = optarg; break;
		case 'm': args->as_mounted = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	const char *wrong = optind == argc	  ? "which trace? give FILE.db"
			    : optind != argc - 1  ? "give one trace file"
			    : args->why && args->impact ? "give --why or --impact, not both"
			    : (args->why || args->impact) && format_given
				    ? "--format makes no sense with --why or --impact"
			    : args->depth && args->format != FORMAT_DOT ? "--depth is for --format dot"
									: NULL;
	if (wrong) {
		fprintf(stderr, "%s: %s\n", argv[0], wrong);
		usage(stderr);
		return 2;
	}
	args->file = argv[optind];
	return 0;
}

/* The meta paths: where the processes saw the files, and where a user finds them. */
static int read_roots(struct deps *d, const struct deps_args *args, char *err, size_t err_size)
{
	char *source = trace_reader_meta(d->reader, "source");
	d->mountpoint = trace_reader_meta(d->reader, "mountpoint");
	if (!d->mountpoint || d->mountpoint[0] != '/') {
		snprintf(err, err_size, "trace %s has no mountpoint in its meta: it is corrupt",
			 trace_reader_file(d->reader));
		free(source);
		return -1;
	}
	/* "/" as a root would give "//x": an empty prefix does */
	if (strcmp(d->mountpoint, "/") == 0)
		d->mountpoint[0] = '\0';
	if (args->as_mounted || !source || source[0] != '/') {
		free(source);
		d->root = strdup(d->mountpoint);
	} else {
		if (strcmp(source, "/") == 0)
			source[0] = '\0';
		d->root = source;
	}
	if (!d->root) {
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	return 0;
}

static int run(struct deps *d, const struct deps_args *args, char *err, size_t err_size)
{
	int lineage = has_lineage(d, err, err_size);
	if (lineage < 0)
		return -1;
	if (lineage == 0) {
		char *version = trace_reader_meta(d->reader, "format_version");
		snprintf(err, err_size,
			 "trace %s has no process lineage (format %s, recorded by an older "
			 "tracefs): which command read or made each file is unknown. Record the "
			 "workload again with this tracefs, e.g. tracefs run --db NEW.db -- COMMAND",
			 trace_reader_file(d->reader), version ? version : "?");
		free(version);
		return -1;
	}
	if (read_roots(d, args, err, err_size) != 0 || load_processes(d, err, err_size) != 0 ||
	    load_accesses(d, err, err_size) != 0)
		return -1;
	const char *query = args->why ? args->why : args->impact;
	if (query) {
		size_t f = find_file(d, query);
		if (f == DEPS_NONE) {
			snprintf(err, err_size,
				 "no file %s was read or made in trace %s; give its path as in the "
				 "trace, from the mount's root (e.g. /src/main.c), or its real path "
				 "(absolute, or from the working directory) under %s",
				 query, trace_reader_file(d->reader), d->root[0] ? d->root : "/");
			return -1;
		}
		if (args->why) {
			write_why(d, f);
			return 0;
		}
		return write_impact(d, f) == 0 ? 0 : (snprintf(err, err_size, "out of memory"), -1);
	}
	err[0] = '\0';
	int rc = 0;
	switch (args->format) {
	case FORMAT_JSON: rc = write_json(d); break;
	case FORMAT_COMPILE_COMMANDS: write_compile_commands(d, err, err_size); break;
	case FORMAT_MAKE: rc = write_make(d); break;
	case FORMAT_DOT: rc = write_dot(d, args->depth); break;
	}
	if (rc != 0)
		snprintf(err, err_size, "out of memory");
	return err[0] ? -1 : 0;
}

int analyze_deps_command(int argc, char **argv)
{
	struct deps_args args;
	char err[1024];
	int rc = parse_args(argc, argv, &args);
	if (rc != 0)
		return rc == 1 ? 0 : rc;
	struct deps d = {.prog = argv[0], .out = stdout};
	deps_graph_init(&d.graph);
	d.reader = trace_command_reader(argv[0], args.file);
	if (!d.reader)
		return 1;
	struct trace_outfile file = {0};
	int status = 1;
	if (args.output && trace_outfile_open(&file, args.output, args.file, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
	} else {
		if (args.output)
			d.out = file.file;
		int failed = run(&d, &args, err, sizeof(err));
		status = trace_outfile_finish(&file, argv[0], failed ? err : NULL);
	}
	deps_graph_free(&d.graph);
	free(d.mountpoint);
	free(d.root);
	trace_reader_close(d.reader);
	return trace_reader_interrupted() ? 128 + trace_reader_interrupted() : status;
}

char *analyze_command_line(const char *argv_json, size_t max)
{
	char **argv;
	size_t argc;
	char *line = NULL;
	if (!deps_parse_argv(argv_json, &argv, &argc) && argc > 0) {
		char *buf = malloc(max + 1);
		if (buf)
			line = deps_command_line((const char *const *)argv, argc, max, buf, max + 1);
	}
	deps_free_argv(argv, argc);
	return line;
}
