/*
 * export.c — `tracefs export FILE.db --format FORMAT [-o OUT]`: hands a
 * trace to other tools. It streams events with trace_reader in seq order, so
 * a trace larger than memory exports in constant memory (gource aside: it
 * remembers 8 bytes per distinct path, see below). With -o the output goes
 * to a temporary file renamed into place at the end: an error leaves no
 * half-written file.
 *
 * Formats:
 *   chrome  Trace Event Format (chrome://tracing, Perfetto): one complete
 *           event ("ph":"X") per operation, ts and dur in microseconds since
 *           meta.start_ns, pid and tid the caller's thread id, name the
 *           operation, cat "fs", args path, path2, result, bytes, offset and
 *           kind; "ph":"M" process_name and thread_name events name each
 *           thread after its command (again when it changes, e.g. at exec);
 *           a 'lost' row is a global instant event "lost" with its count.
 *   csv     RFC 4180: a header with the trace view's columns, then a row per
 *           event; empty where the view has NULL; CRLF line ends.
 *   jsonl   one JSON object per line with the trace view's fields
 *           (trace_event_to_json, the live stream's format).
 *   gource  Gource's custom log, "timestamp|user|type|file": see
 *           gource_event() for the mapping.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "trace/trace.h"

#define NAME_CACHE_SLOTS 4096 /* threads whose names chrome has given, by pid */
#define COMM_MAX 64

struct name_slot {
	bool used;
	int32_t pid;
	char comm[COMM_MAX];
};

/* A set of 64-bit path hashes: 0 is empty, 1 a removed entry. */
struct path_set {
	uint64_t *slots;
	size_t mask, used; /* used counts removed entries too */
};

struct export
{
	FILE *out;
	struct trace_reader *reader;
	int64_t start_ns;
	uint64_t events; /* written so far; chrome puts commas between them */
	char *json;	 /* a growing buffer for trace_event_to_json */
	size_t json_size;
	struct name_slot *names; /* chrome */
	struct path_set seen;	 /* gource */
	int64_t last_second;	 /* gource: timestamps never go back */
};

struct format {
	const char *name;
	void (*begin)(struct export *x);
	int (*event)(struct export *x, const struct trace_event *e, int64_t seq);
	void (*end)(struct export *x);
};

/* ---- jsonl ---- */

static int jsonl_event(struct export *x, const struct trace_event *e, int64_t seq)
{
	size_t need = trace_event_to_json(e, seq, x->json, x->json_size);

	if (need >= x->json_size) {
		size_t size = need + 1024;
		char *bigger = realloc(x->json, size);
		if (!bigger)
			return -1;
		x->json = bigger;
		x->json_size = size;
		trace_event_to_json(e, seq, x->json, x->json_size);
	}
	x->json[need] = '\n';
	fwrite(x->json, 1, need + 1, x->out); /* errors: checked once at the end */
	return 0;
}

/* ---- csv ---- */

static const char csv_header[] = "seq,ts_ns,dur_ns,op,path,path2,kind,pid,comm,uid,gid,result,"
				 "bytes,offset,flags,mode\r\n";

static void csv_begin(struct export *x)
{
	fputs(csv_header, x->out);
}

/* A field, quoted if it holds a comma, a quote or a line end; NULL is empty. */
static void csv_string(FILE *out, const char *s)
{
	if (!s)
		return;
	if (!s[strcspn(s, ",\"\r\n")]) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

static void csv_optional(FILE *out, int64_t value, bool present)
{
	if (present)
		fprintf(out, "%" PRId64, value);
}

static int csv_event(struct export *x, const struct trace_event *e, int64_t seq)
{
	FILE *out = x->out;
	bool has_proc = e->op != TRACE_OP_LOST; /* as in the view */

	fprintf(out, "%" PRId64 ",%" PRId64 ",%" PRId64 ",%s,", seq, e->ts_ns, e->dur_ns,
		trace_op_name((enum trace_op)e->op));
	csv_string(out, e->path);
	fputc(',', out);
	csv_string(out, e->path2);
	fputc(',', out);
	csv_string(out, trace_kind_name((enum trace_kind)e->kind));
	fputc(',', out);
	csv_optional(out, e->pid, has_proc);
	fputc(',', out);
	csv_string(out, has_proc ? e->comm : NULL);
	fputc(',', out);
	csv_optional(out, e->uid, has_proc);
	fputc(',', out);
	csv_optional(out, e->gid, has_proc);
	fprintf(out, ",%" PRId32 ",", e->result);
	csv_optional(out, e->bytes, e->bytes >= 0);
	fputc(',', out);
	csv_optional(out, e->offset, e->offset >= 0);
	fprintf(out, ",%" PRIu32 ",%" PRIu32 "\r\n", e->flags, e->mode);
	return 0;
}

/* ---- chrome ---- */

static void chrome_begin(struct export *x)
{
	fputs("{\"traceEvents\":[\n", x->out);
}

/* ns as microseconds with three decimals, exactly (doubles would round). */
static void chrome_us(FILE *out, int64_t ns)
{
	uint64_t magnitude = ns < 0 ? 0 - (uint64_t)ns : (uint64_t)ns;
	fprintf(out, "%s%" PRIu64 ".%03u", ns < 0 ? "-" : "", magnitude / 1000,
		(unsigned)(magnitude % 1000));
}

static void chrome_separator(struct export *x)
{
	if (x->events++)
		fputs(",\n", x->out);
}

/* The name of a thread: its command, or what stands for it. */
static const char *thread_name(const struct trace_event *e, char *buf, size_t size)
{
	const char *name = trace_process_name(e->comm, e->pid);
	if (name)
		return name;
	snprintf(buf, size, "pid %" PRId32, e->pid);
	return buf;
}

/* process_name and thread_name, when a thread is new or its name changed. */
static void chrome_names(struct export *x, const struct trace_event *e)
{
	char buf[32];
	const char *name = thread_name(e, buf, sizeof(buf));
	struct name_slot *slot = &x->names[(uint32_t)e->pid % NAME_CACHE_SLOTS];

	/* A slot another pid took may repeat names: harmless, the latest wins. */
	if (slot->used && slot->pid == e->pid && strncmp(slot->comm, name, COMM_MAX - 1) == 0)
		return;
	slot->used = true;
	slot->pid = e->pid;
	snprintf(slot->comm, sizeof(slot->comm), "%s", name);
	for (int i = 0; i < 2; i++) {
		chrome_separator(x);
		fprintf(x->out,
			"{\"name\":\"%s\",\"ph\":\"M\",\"pid\":%" PRId32 ",\"tid\":%" PRId32
			",\"args\":{\"name\":",
			i ? "thread_name" : "process_name", e->pid, e->pid);
		trace_json_write_string(x->out, name);
		fputs("}}", x->out);
	}
}

static int chrome_event(struct export *x, const struct trace_event *e, int64_t seq)
{
	FILE *out = x->out;
	int64_t rel = (int64_t)((uint64_t)e->ts_ns - (uint64_t)x->start_ns);

	if (e->op == TRACE_OP_LOST) {
		chrome_separator(x);
		fputs("{\"name\":\"lost\",\"cat\":\"fs\",\"ph\":\"i\",\"s\":\"g\",\"ts\":", out);
		chrome_us(out, rel);
		fprintf(out,
			",\"pid\":0,\"tid\":0,\"args\":{\"events\":%" PRId64 ",\"seq\":%" PRId64
			"}}",
			e->bytes, seq);
		return 0;
	}
	chrome_names(x, e);
	chrome_separator(x);
	fprintf(out, "{\"name\":\"%s\",\"cat\":\"fs\",\"ph\":\"X\",\"ts\":",
		trace_op_name((enum trace_op)e->op));
	chrome_us(out, rel);
	fputs(",\"dur\":", out);
	chrome_us(out, e->dur_ns);
	fprintf(out,
		",\"pid\":%" PRId32 ",\"tid\":%" PRId32 ",\"args\":{\"seq\":%" PRId64 ",\"path\":",
		e->pid, e->pid, seq);
	trace_json_write_string(out, e->path);
	fputs(",\"path2\":", out);
	trace_json_write_string(out, e->path2);
	fprintf(out, ",\"result\":%" PRId32 ",\"bytes\":", e->result);
	if (e->bytes >= 0)
		fprintf(out, "%" PRId64, e->bytes);
	else
		fputs("null", out);
	fputs(",\"offset\":", out);
	if (e->offset >= 0)
		fprintf(out, "%" PRId64, e->offset);
	else
		fputs("null", out);
	fputs(",\"kind\":", out);
	trace_json_write_string(out, trace_kind_name((enum trace_kind)e->kind));
	fputs("}}", out);
	return 0;
}

static void chrome_end(struct export *x)
{
	char *start_time = trace_reader_meta(x->reader, "start_time");

	fputs("\n],\"displayTimeUnit\":\"ns\",\"otherData\":{\"tool\":\"tracefs export\",", x->out);
	fprintf(x->out, "\"start_ns\":\"%" PRId64 "\",\"start_time\":", x->start_ns);
	trace_json_write_string(x->out, start_time);
	fputs(",\"trace\":", x->out);
	trace_json_write_string(x->out, trace_reader_file(x->reader));
	fputs("}}\n", x->out);
	free(start_time);
}

/* ---- gource ---- */

static uint64_t path_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h < 2 ? h + 2 : h; /* 0 and 1 mark empty and removed slots */
}

static size_t set_find(const struct path_set *set, uint64_t h, bool *found)
{
	size_t i = h & set->mask, removed = SIZE_MAX;

	for (;; i = (i + 1) & set->mask) {
		if (set->slots[i] == h) {
			*found = true;
			return i;
		}
		if (set->slots[i] == 1 && removed == SIZE_MAX)
			removed = i;
		if (set->slots[i] == 0) {
			*found = false;
			return removed != SIZE_MAX ? removed : i;
		}
	}
}

static int set_grow(struct path_set *set)
{
	size_t size = set->slots ? (set->mask + 1) * 2 : 4096;
	struct path_set bigger = {calloc(size, sizeof(uint64_t)), size - 1, 0};

	if (!bigger.slots)
		return -1;
	for (size_t i = 0; set->slots && i <= set->mask; i++) {
		bool found;
		if (set->slots[i] < 2)
			continue;
		bigger.slots[set_find(&bigger, set->slots[i], &found)] = set->slots[i];
		bigger.used++;
	}
	free(set->slots);
	*set = bigger;
	return 0;
}

/* Adds the path; 1 if it was new, 0 if seen, -1 out of memory. */
static int set_add(struct path_set *set, const char *path)
{
	bool found;

	if ((!set->slots || (set->used + 1) * 2 > set->mask + 1) && set_grow(set) != 0)
		return -1;
	uint64_t h = path_hash(path);
	size_t i = set_find(set, h, &found);
	if (found)
		return 0;
	if (set->slots[i] == 0)
		set->used++;
	set->slots[i] = h;
	return 1;
}

/* Removes the path; whether it was there. */
static bool set_remove(struct path_set *set, const char *path)
{
	bool found = false;

	if (!set->slots)
		return false;
	size_t i = set_find(set, path_hash(path), &found);
	if (found)
		set->slots[i] = 1;
	return found;
}

/* A user or file name for the log: '|', control bytes and non-UTF-8 become '?'. */
static void gource_field(FILE *out, const char *s)
{
	while (*s) {
		size_t len = trace_json_utf8_length(s);
		if (len) {
			fwrite(s, 1, len, out);
			s += len;
			continue;
		}
		unsigned char c = (unsigned char)*s++;
		fputc(c < 0x20 || c == 0x7f || c == '|' || c >= 0x80 ? '?' : c, out);
	}
}

/*
 * Writes a log line of TYPE (A, M or D) for PATH, or for '-' (an access)
 * one only if the path is new. A and M become each other as the path is
 * new or not; a D of a path never drawn is left out. 0, or -1 out of memory.
 */
static int gource_line(struct export *x, const struct trace_event *e, char type, const char *path)
{
	int64_t second = e->ts_ns / 1000000000;

	if (!path)
		return 0;
	if (type == 'D') {
		if (!set_remove(&x->seen, path))
			return 0;
	} else {
		int added = set_add(&x->seen, path);
		if (added < 0)
			return -1;
		if (added)
			type = 'A';
		else if (type == 'A')
			type = 'M'; /* made again over what was there */
	}
	if (type == '-')
		return 0; /* an access to a known path: nothing to draw */
	if (second < x->last_second)
		second = x->last_second; /* Gource wants time to go forward */
	x->last_second = second;
	fprintf(x->out, "%" PRId64 "|", second);
	const char *who = trace_process_name(e->comm, e->pid);
	gource_field(x->out, who ? who : "unknown");
	fprintf(x->out, "|%c|", type);
	gource_field(x->out, path);
	fputc('\n', x->out);
	x->events++;
	return 0;
}

/* A line of type `first` for the path, then one of type `second` for path2. */
static int gource_lines(struct export *x, const struct trace_event *e, char first, char second)
{
	if (gource_line(x, e, first, e->path) != 0)
		return -1;
	return gource_line(x, e, second, e->path2);
}

/*
 * Gource draws files (directories follow from their paths), so only events
 * on files, symlinks and other non-directories count, and only successful
 * ones. A path's first such event is A (added), whatever it is. After that:
 *   create, mknod, symlink   A (or M over an existing path)
 *   link                     A for the new name (path2)
 *   write, setattr, fallocate, copy_file_range (its output, path2)   M
 *   rename                   D for the old name, A for the new one
 *   unlink                   D
 *   reads, lookups, opens... nothing (the path is already drawn)
 * Timestamps are whole seconds, made non-decreasing.
 */
static int gource_event(struct export *x, const struct trace_event *e, int64_t seq)
{
	(void)seq;
	if (e->result < 0 || e->op == TRACE_OP_LOST || e->kind == TRACE_KIND_DIR ||
	    e->op == TRACE_OP_MKDIR || e->op == TRACE_OP_RMDIR)
		return 0;
	switch (e->op) {
	case TRACE_OP_CREATE:
	case TRACE_OP_MKNOD:
	case TRACE_OP_SYMLINK: return gource_line(x, e, 'A', e->path);
	case TRACE_OP_LINK:
		return gource_lines(x, e, '-', 'A');
	case TRACE_OP_WRITE:
	case TRACE_OP_SETATTR:
	case TRACE_OP_FALLOCATE: return gource_line(x, e, 'M', e->path);
	case TRACE_OP_COPY_FILE_RANGE:
		return gource_lines(x, e, '-', 'M');
	case TRACE_OP_RENAME:
		return gource_lines(x, e, 'D', 'A');
	case TRACE_OP_UNLINK: return gource_line(x, e, 'D', e->path);
	default: return gource_line(x, e, '-', e->path); /* for xattrs, path2 is a name */
	}
}

static const struct format formats[] = {
	{"chrome", chrome_begin, chrome_event, chrome_end},
	{"csv", csv_begin, csv_event, NULL},
	{"jsonl", NULL, jsonl_event, NULL},
	{"gource", NULL, gource_event, NULL},
};

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs export FILE.db --format FORMAT [-o OUT]\n"
		"\n"
		"Write a recorded trace for other tools, in seq order:\n"
		"  chrome   Trace Event Format JSON, for Perfetto (ui.perfetto.dev) and\n"
		"           chrome://tracing: a track per process, an event per operation\n"
		"  csv      the trace view's columns, RFC 4180, for spreadsheets\n"
		"  jsonl    one JSON object per event, the trace view's fields\n"
		"  gource   Gource's custom log: gource --log-format custom OUT\n"
		"\n"
		"  -f, --format FORMAT  one of the above\n"
		"  -o, --output OUT     write to OUT (replaced only once complete) instead of\n"
		"                       standard output\n"
		"  -h, --help           show this help\n");
}

struct export_args {
	const struct format *format;
	const char *output;
	const char *file;
};

static const struct format *format_named(const char *name)
{
	for (size_t i = 0; i < sizeof(formats) / sizeof(formats[0]); i++)
		if (strcmp(formats[i].name, name) == 0)
			return &formats[i];
	return NULL;
}

/* 0, 1 for --help, 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, struct export_args *args)
{
	static const struct option long_options[] = {
		{"format", required_argument, NULL, 'f'},
		{"output", required_argument, NULL, 'o'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	*args = (struct export_args){0};
	while ((c = getopt_long(argc, argv, "f:o:h", long_options, NULL)) != -1) {
		switch (c) {
		case 'f':
			args->format = format_named(optarg);
			if (!args->format) {
				fprintf(stderr, "%s: unknown format '%s' (%s)\n", argv[0], optarg,
					"chrome, csv, jsonl or gource");
				return 2;
			}
			break;
		case 'o': args->output = optarg; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1 || !args->format) {
		fprintf(stderr, "%s: %s\n", argv[0],
			!args->format	 ? "which format? give --format"
			: optind == argc ? "which trace? give FILE.db"
					 : "give one trace file");
		usage(stderr);
		return 2;
	}
	args->file = argv[optind];
	return 0;
}

/* Streams every event through the format. 0, or -1 with a message in err. */
static int export_events(struct export *x, const struct format *format, char *err, size_t err_size)
{
	struct trace_event e;
	int64_t seq;
	int rc;

	if (format->begin)
		format->begin(x);
	while ((rc = trace_reader_next(x->reader, &e, &seq, err, err_size)) == 1) {
		if (format->event(x, &e, seq) != 0) {
			snprintf(err, err_size, "out of memory");
			return -1;
		}
	}
	if (rc < 0)
		return -1;
	if (format->end)
		format->end(x);
	return 0;
}

static int run_export(const char *prog, const struct export_args *args, struct trace_reader *reader)
{
	struct export x = {.reader = reader,
			   .start_ns = trace_reader_start_ns(reader),
			   .last_second = INT64_MIN};
	struct trace_outfile file = {0};
	char err[1024];

	x.names = calloc(NAME_CACHE_SLOTS, sizeof(*x.names));
	if (!x.names) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	if (args->output && trace_outfile_open(&file, args->output, args->file, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		free(x.names);
		return 1;
	}
	x.out = args->output ? file.file : stdout;
	int failed = export_events(&x, args->format, err, sizeof(err));
	int status = trace_outfile_finish(&file, prog, failed ? err : NULL);
	free(x.names);
	free(x.seen.slots);
	free(x.json);
	return status;
}

int analyze_export_command(int argc, char **argv)
{
	struct export_args args;
	int rc = parse_args(argc, argv, &args);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	struct trace_reader *reader = trace_command_reader(argv[0], args.file);
	if (!reader)
		return 1;
	int status = run_export(argv[0], &args, reader);
	trace_reader_close(reader);
	/* run_export said what was (not) written; a signal's status tells the shell. */
	return trace_reader_interrupted() ? 128 + trace_reader_interrupted() : status;
}
