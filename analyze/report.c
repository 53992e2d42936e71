/*
 * report.c — `tracefs report FILE.db`: the command (options, where the
 * output goes), the terminal form of the report (at most 100 columns), and
 * the formatting of numbers and paths that the JSON and HTML forms share
 * (report.h). The analysis itself is in analysis.c.
 */
#include "analyze/report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "trace/trace.h"

#define DEFAULT_TOP 10
#define MAX_TOP 1000
#define WIDTH 100
#define BAR_WIDTH 28
#define NAME_WIDTH 24	     /* a command or phase name in a table */
#define TEXT_WIDTH 36	     /* other text in a table */
#define COMMANDS_WIDTH 36    /* commands beside a path */
#define PHASE_LABEL_WIDTH 22 /* the phases starting on a timeline line */

/* ---- formatting (report.h) ---- */

const char *report_count(int64_t n, char *buf, size_t size)
{
	char digits[32];
	int len = snprintf(digits, sizeof(digits), "%" PRId64, n);
	int sign = n < 0;
	size_t out = 0;

	for (int i = 0; i < len && out + 1 < size; i++) {
		int left = len - i; /* digits from here to the end */
		if (i > sign && left % 3 == 0 && out + 2 < size)
			buf[out++] = ',';
		buf[out++] = digits[i];
	}
	if (size)
		buf[out < size ? out : size - 1] = '\0';
	return buf;
}

const char *report_bytes(int64_t n, char *buf, size_t size)
{
	static const char *const units[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	double v = (double)n;
	size_t unit = 0;

	while (v >= 1024 && unit + 1 < sizeof(units) / sizeof(units[0])) {
		v /= 1024;
		unit++;
	}
	if (unit == 0)
		snprintf(buf, size, "%" PRId64 " B", n);
	else
		snprintf(buf, size,
			 v < 10	   ? "%.2f %s"
			 : v < 100 ? "%.1f %s"
				   : "%.0f %s",
			 v, units[unit]);
	return buf;
}

const char *report_duration(int64_t ns, char *buf, size_t size)
{
	double v = (double)ns;

	if (ns < 1000)
		snprintf(buf, size, "%" PRId64 " ns", ns);
	else if (ns < 1000000)
		snprintf(buf, size, v < 1e4 ? "%.2f us" : "%.1f us", v / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, size, v < 1e7 ? "%.2f ms" : "%.1f ms", v / 1e6);
	else if (ns < 60000000000LL)
		snprintf(buf, size, "%.2f s", v / 1e9);
	else if (ns < 3600000000000LL)
		snprintf(buf, size, "%dm%04.1fs", (int)(ns / 60000000000LL),
			 (double)(ns % 60000000000LL) / 1e9);
	else
		snprintf(buf, size, "%" PRId64 "h%02dm", ns / (int64_t)3600000000000,
			 (int)(ns % 3600000000000LL / 60000000000LL));
	return buf;
}

const char *report_offset(int64_t ns, int64_t step_ns, char *buf, size_t size)
{
	int decimals = 1;
	int64_t unit = 100000000; /* ns in the last decimal */
	while (decimals < 6 && step_ns > 0 && step_ns < unit) {
		decimals++;
		unit /= 10;
	}
	int64_t seconds = ns / 1000000000;

	if (seconds < 3600)
		snprintf(buf, size, "%d:%02d.%0*d", (int)(seconds / 60), (int)(seconds % 60),
			 decimals, (int)(ns % 1000000000 / unit));
	else
		snprintf(buf, size, "%" PRId64 ":%02d:%02d", seconds / 3600,
			 (int)(seconds % 3600 / 60), (int)(seconds % 60));
	return buf;
}

const char *report_share(int64_t part, int64_t total, char *buf, size_t size)
{
	snprintf(buf, size, "%.1f%%", total > 0 ? 100.0 * (double)part / (double)total : 0.0);
	return buf;
}

/* One character of s, made printable, into piece; returns bytes of s used. */
static size_t printable(const char *s, bool utf8, char piece[8], size_t *piece_len)
{
	unsigned char c = (unsigned char)s[0];
	size_t len = utf8 ? trace_json_utf8_length(s) : 0;

	if (len) {
		memcpy(piece, s, len);
		*piece_len = len;
		return len;
	}
	if (c < 0x20 || c >= 0x7f) {
		*piece_len = (size_t)snprintf(piece, 8, "\\x%02x", c);
		return 1;
	}
	piece[0] = (char)c;
	*piece_len = 1;
	return 1;
}

const char *report_path(const char *path, size_t width, bool utf8, char *buf, size_t size)
{
	char piece[8];
	size_t piece_len, columns = 0, out = 0;

	if (!path)
		path = "(none)";
	/* Columns of the whole, to know where to start. */
	for (const char *s = path; *s;) {
		s += printable(s, utf8, piece, &piece_len);
		columns += piece_len > 1 && piece[0] != '\\' ? 1 : piece_len;
	}
	const char *s = path;
	if (columns > width && width > 3) {
		size_t skip = columns - (width - 3);
		while (*s && skip > 0) {
			s += printable(s, utf8, piece, &piece_len);
			size_t w = piece_len > 1 && piece[0] != '\\' ? 1 : piece_len;
			skip = w > skip ? 0 : skip - w;
		}
		out = (size_t)snprintf(buf, size, "...");
	}
	while (*s && out + 8 < size) {
		s += printable(s, utf8, piece, &piece_len);
		memcpy(buf + out, piece, piece_len);
		out += piece_len;
	}
	if (size)
		buf[out < size ? out : size - 1] = '\0';
	return buf;
}

size_t report_columns(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

void report_pad(FILE *out, const char *s, size_t width, bool left)
{
	size_t n = report_columns(s);
	if (!left)
		for (; n < width; n++)
			fputc(' ', out);
	fputs(s, out);
	if (left)
		for (; n < width; n++)
			fputc(' ', out);
}

/* ---- the terminal report ---- */

static void heading(FILE *out, const char *title)
{
	fprintf(out, "\n%s\n", title);
}

static void print_header(FILE *out, const struct analyze_result *a, bool utf8)
{
	char p[WIDTH * 4];

	fprintf(out, "tracefs report: %s\n", report_path(a->file, WIDTH - 16, utf8, p, sizeof(p)));
	if (a->source)
		fprintf(out, "  source      %s\n",
			report_path(a->source, WIDTH - 14, utf8, p, sizeof(p)));
	if (a->mountpoint)
		fprintf(out, "  mounted at  %s\n",
			report_path(a->mountpoint, WIDTH - 14, utf8, p, sizeof(p)));
	if (a->start_time || a->host)
		fprintf(out, "  started     %s on %s\n", a->start_time ? a->start_time : "?",
			report_path(a->host, 40, utf8, p, sizeof(p)));
	if (a->cache_mode)
		fprintf(out, "  cache mode  %s%s\n",
			report_path(a->cache_mode, 20, utf8, p, sizeof(p)),
			strcmp(a->cache_mode, "default") == 0
				? " (repeated lookups and cached reads do not reach the trace; -o "
				  "exact)"
				: "");
}

/* Prints text at an indent, wrapped at spaces to fit WIDTH columns. */
static void wrapped(FILE *out, const char *text, int indent)
{
	int room = WIDTH - indent;

	while (*text) {
		int len = (int)strlen(text);
		if (len > room) {
			len = room;
			while (len > 0 && text[len] != ' ')
				len--;
			if (len == 0)
				len = room; /* one long word: cut it */
		}
		fprintf(out, "%*s%.*s\n", indent, "", len, text);
		text += len;
		while (*text == ' ')
			text++;
	}
}

static bool left_aligned(enum report_format format)
{
	return format == REPORT_TEXT || format == REPORT_NAME || format == REPORT_PATH ||
	       format == REPORT_COMMANDS;
}

/*
 * A table in WIDTH columns: each column as wide as its title and cells
 * (names at most NAME_WIDTH), the path or command list taking what is left.
 */
static void print_table(FILE *out, const struct report_table *t, int indent, bool utf8)
{
	size_t width[REPORT_MAX_COLUMNS], used = (size_t)indent, flexible = t->ncolumns;
	char buf[WIDTH * 4];

	for (size_t c = 0; c < t->ncolumns; c++) {
		enum report_format f = t->columns[c].format;
		width[c] = report_columns(t->columns[c].title);
		if (f == REPORT_PATH || (f == REPORT_COMMANDS && flexible == t->ncolumns))
			flexible = c; /* the first path, else the commands */
		size_t cap = f == REPORT_COMMANDS ? COMMANDS_WIDTH
			     : f == REPORT_TEXT   ? TEXT_WIDTH
						  : NAME_WIDTH;
		for (size_t r = 0; r < t->nrows && f != REPORT_PATH; r++) {
			size_t w = report_columns(report_cell_text(
				&t->columns[c], &t->cells[r * REPORT_MAX_COLUMNS + c], utf8, cap,
				buf, sizeof(buf)));
			if (w > width[c])
				width[c] = w;
		}
	}
	for (size_t c = 0; c < t->ncolumns; c++)
		used += c == flexible ? 0 : width[c] + 2;
	if (flexible < t->ncolumns)
		width[flexible] = used + 20 < WIDTH ? WIDTH - used : 20;
	fprintf(out, "%*s", indent, "");
	for (size_t c = 0; c < t->ncolumns; c++) {
		bool left = left_aligned(t->columns[c].format);
		report_pad(out, t->columns[c].title, c + 1 < t->ncolumns || !left ? width[c] : 0, left);
		fputs(c + 1 < t->ncolumns ? "  " : "\n", out);
	}
	for (size_t r = 0; r < t->nrows; r++) {
		fprintf(out, "%*s", indent, "");
		for (size_t c = 0; c < t->ncolumns; c++) {
			const char *s = report_cell_text(&t->columns[c],
							 &t->cells[r * REPORT_MAX_COLUMNS + c],
							 utf8, width[c], buf, sizeof(buf));
			bool left = left_aligned(t->columns[c].format);
			report_pad(out, s, c + 1 < t->ncolumns || !left ? width[c] : 0, left);
			fputs(c + 1 < t->ncolumns ? "  " : "\n", out);
		}
	}
	if (t->after[0])
		fprintf(out, "%*s%s\n", indent, "", t->after);
}

/* A bar of width BAR_WIDTH for value/max, with eighth blocks in UTF-8. */
static void bar(FILE *out, int64_t value, int64_t max, bool utf8)
{
	static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
	int64_t units = max > 0 ? (int64_t)((double)value * BAR_WIDTH * 8 / (double)max) : 0;
	int cells = 0;

	if (value > 0 && units == 0)
		units = 1; /* something happened: show it */
	for (; units >= 8; units -= 8, cells++)
		fputs(utf8 ? "█" : "#", out);
	if (units > 0) {
		fputs(utf8 ? eighths[units] : "+", out);
		cells++;
	}
	for (; cells < BAR_WIDTH; cells++)
		fputc(' ', out);
}

/* Cuts s (made printable) to width columns, ending in "..." if cut. */
static void cut_end(char *s, size_t width)
{
	size_t columns = 0;

	if (report_columns(s) <= width)
		return;
	for (char *c = s; *c; c++) {
		if (((unsigned char)*c & 0xc0) != 0x80 && ++columns > width - 3) {
			strcpy(c, "...");
			return;
		}
	}
}

/*
 * One line per bucket: its events as a bar, the phases that start in it
 * (number and name, on the line of the time they start), then its busiest
 * commands.
 */
static void print_timeline(FILE *out, const struct analyze_result *a, bool utf8)
{
	char t[32], n1[32], width[32], label[WIDTH * 4], p[64];
	int64_t max = 0;
	size_t next_phase = 0;

	if (!a->nbuckets)
		return;
	for (size_t b = 0; b < a->nbuckets; b++)
		if (a->buckets[b].events > max)
			max = a->buckets[b].events;
	char title[128];
	snprintf(title, sizeof(title), "Timeline (each line %s; phases where they start)",
		 report_duration(a->bucket_ns, width, sizeof(width)));
	heading(out, title);
	int offset_width = 8; /* 0:00.000; wider for finer lines */
	for (size_t b = 0; b < a->nbuckets; b++) {
		int w = (int)strlen(report_offset(a->buckets[b].start_ns - a->first_ns,
						  a->bucket_ns, t, sizeof(t)));
		if (w > offset_width)
			offset_width = w;
	}
	for (size_t b = 0; b < a->nbuckets; b++) {
		const struct analyze_bucket *k = &a->buckets[b];
		bool last = b + 1 == a->nbuckets;
		size_t used = 0;
		label[0] = '\0';
		while (next_phase < a->nphases &&
		       (last || a->phases[next_phase].start_ns < a->buckets[b + 1].start_ns)) {
			used += (size_t)snprintf(
				label + used, sizeof(label) - used, "%s%zu %s", used ? ", " : "",
				next_phase + 1,
				report_path(a->phases[next_phase].name, 16, utf8, p, sizeof(p)));
			next_phase++;
		}
		fprintf(out, "  %*s ", offset_width,
			report_offset(k->start_ns - a->first_ns, a->bucket_ns, t, sizeof(t)));
		bar(out, k->events, max, utf8);
		fprintf(out, " %9s  ", report_count(k->events, n1, sizeof(n1)));
		cut_end(label, PHASE_LABEL_WIDTH);
		report_pad(out, label, PHASE_LABEL_WIDTH, true);
		struct report_cell cmds = {.commands = k->commands, .ncommands = k->ncommands,
					   .total = k->events};
		struct report_column col = {"", NULL, REPORT_COMMANDS};
		fprintf(out, " %s\n",
			report_cell_text(&col, &cmds, utf8,
					 WIDTH - 12 - BAR_WIDTH - 12 - PHASE_LABEL_WIDTH - 1, label,
					 sizeof(label)));
	}
}

void report_text(FILE *out, const struct analyze_result *a, bool utf8)
{
	struct report_sections s;
	bool findings = false;

	print_header(out, a, utf8);
	if (report_sections(a, &s) != 0) {
		fputs("\n(out of memory: no report)\n", out);
		return;
	}
	heading(out, "Summary");
	for (size_t i = 0; i < s.nfacts; i++)
		fprintf(out, "  %-13s %s\n", s.facts[i].label, s.facts[i].value);
	if (!a->events)
		fputs("\nThe trace holds no events.\n", out);
	for (size_t i = 0; i < s.ntables; i++) {
		const struct report_table *t = &s.tables[i];
		if (t->id == REPORT_PHASES)
			print_timeline(out, a, utf8);
		if (t->id == REPORT_FINDING && !findings) {
			heading(out, "Findings");
			findings = true;
		}
		if (t->id == REPORT_FINDING)
			fprintf(out, "  * %s\n", t->title);
		else
			heading(out, t->title);
		int indent = t->id == REPORT_FINDING ? 4 : 2;
		if (t->note[0])
			wrapped(out, t->note, indent);
		print_table(out, t, indent, utf8);
	}
	if (a->events && !findings)
		fputs("\nFindings\n  nothing stands out\n", out);
	report_sections_free(&s);
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs report [options] FILE.db\n"
		"\n"
		"Analyse a recorded trace: duration and events, the operation mix, errors by\n"
		"errno and by path, bytes read and written, files created and removed, a\n"
		"breakdown by process, hot files and directories, latency per operation\n"
		"(p50, p90, p99, max), a timeline with the phases of the run, and findings:\n"
		"files opened %d times or more, missing paths looked up %d times or more, files\n"
		"with %d or more reads or writes under %d bytes, directories listed %d times or\n"
		"more, and the time spent in fsync.\n"
		"\n"
		"  --json        the same content as JSON on standard output\n"
		"  --html OUT    write a self-contained HTML page with charts to OUT\n"
		"  --top N       entries in each list (default %d)\n"
		"  -h, --help    show this help\n",
		ANALYZE_FINDING_REOPEN_MIN, ANALYZE_FINDING_MISSING_MIN, ANALYZE_FINDING_TINY_MIN, ANALYZE_FINDING_TINY_BYTES,
		ANALYZE_FINDING_RELIST_MIN, DEFAULT_TOP);
}

int report_parse_options(int argc, char **argv, struct report_options *options, int max_top,
			 void (*usage)(FILE *out))
{
	static const struct option long_options[] = {
		{"json", no_argument, NULL, 'j'},
		{"html", required_argument, NULL, 'H'},
		{"top", required_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;
	char *end;

	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'j': options->json = true; break;
		case 'H': options->html = optarg; break;
		case 't':
			errno = 0;
			long top = strtol(optarg, &end, 10);
			if (*end || end == optarg || errno || top < 1 || top > max_top) {
				fprintf(stderr, "%s: --top wants a number from 1 to %d, not '%s'\n",
					argv[0], max_top, optarg);
				return 2;
			}
			options->top = (int)top;
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	return 0;
}

/* 0, 1 for --help, or 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, struct report_options *args, const char **file)
{
	*args = (struct report_options){.top = DEFAULT_TOP};
	int rc = report_parse_options(argc, argv, args, MAX_TOP, usage);
	if (rc != 0)
		return rc;
	if (optind != argc - 1) {
		fprintf(stderr, "%s: %s\n", argv[0],
			optind == argc ? "which trace? give FILE.db" : "give one trace file");
		usage(stderr);
		return 2;
	}
	*file = argv[optind];
	return 0;
}

bool report_utf8_terminal(void)
{
	if (!setlocale(LC_CTYPE, ""))
		return false;
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

int report_write_page(const char *prog, const char *path, const char *trace,
		      void (*write)(FILE *out, const void *what), const void *what)
{
	struct trace_outfile out;
	char err[512];

	if (trace_outfile_open(&out, path, trace, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	write(out.file, what);
	if (trace_outfile_commit(&out, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	fprintf(stderr, "%s: wrote %s\n", prog, path);
	return 0;
}

static void write_report(FILE *out, const void *analysis)
{
	report_html(out, analysis);
}

int analyze_report_command(int argc, char **argv)
{
	struct report_options args;
	const char *file;
	int rc = parse_args(argc, argv, &args, &file);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	struct analyze_result a;
	char err[1024];
	if (trace_command_start(argv[0]) != 0)
		return 1;
	if (args.html && trace_output_check(args.html, file, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err); /* before the work, not after */
		return 1;
	}
	if (analyze_run(file, args.top, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return trace_reader_interrupted() ? 128 + trace_reader_interrupted() : 1;
	}
	int status = 0;
	if (args.html)
		status = report_write_page(argv[0], args.html, file, write_report, &a);
	if (args.json)
		report_json(stdout, &a);
	else if (!args.html)
		report_text(stdout, &a, report_utf8_terminal());
	analyze_free(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the report to standard output\n", argv[0]);
		return 1;
	}
	return status;
}
