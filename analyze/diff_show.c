/*
 * diff_show.c — `tracefs diff A.db B.db`: the command (options, progress,
 * where the output goes) and the three forms of a struct diff: the
 * terminal (at most 100 columns, most significant first, each list cut
 * after --top rows with "N more"), JSON (every row), and one HTML page in
 * the report's style (report.h's shared head and escaping).
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyze/diff.h"
#include "analyze/report.h"

#define DEFAULT_TOP 10
#define MAX_TOP 100000
#define WIDTH 100
#define CELL 32	       /* bytes of a formatted number or name */
#define PATH_HTML 110  /* columns of a path in the page */

/* ---- formatting ---- */

/* "+1,234", "-12", "0" */
static const char *signed_count(int64_t n, char *buf, size_t size)
{
	char digits[CELL];
	snprintf(buf, size, "%s%s", n > 0 ? "+" : "", report_count(n, digits, sizeof(digits)));
	return buf;
}

/* "+1.25 s", "-850 ns", "0" */
static const char *signed_duration(int64_t ns, char *buf, size_t size)
{
	char d[CELL];
	if (ns == 0)
		snprintf(buf, size, "0");
	else
		snprintf(buf, size, "%c%s", ns > 0 ? '+' : '-',
			 report_duration(ns > 0 ? ns : -ns, d, sizeof(d)));
	return buf;
}

/* "+7.19 KiB", "-923 B", "=" */
static const char *signed_bytes(int64_t a, int64_t b, char *buf, size_t size)
{
	char n[CELL];
	if (a == b)
		snprintf(buf, size, "=");
	else
		snprintf(buf, size, "%c%s", b > a ? '+' : '-',
			 report_bytes(b > a ? b - a : a - b, n, sizeof(n)));
	return buf;
}

/* "+12.5%" of a change from a to b, or "" where a is 0. */
static const char *percent_change(int64_t a, int64_t b, char *buf, size_t size)
{
	if (a == 0 || a == b)
		snprintf(buf, size, "%s", "");
	else
		snprintf(buf, size, "%+.1f%%", 100.0 * ((double)b - (double)a) / (double)a);
	return buf;
}

static int64_t run_ns(const struct analyze_result *a)
{
	return a->events ? a->end_ns - a->first_ns : 0;
}

static const struct analyze_phase *phase_of(const struct diff_run *run, int i)
{
	return i < 0 ? NULL : &run->a.phases[i];
}

static int64_t phase_ns(const struct analyze_phase *p)
{
	return p ? p->end_ns - p->start_ns : 0;
}

/* Whether the runs differ in anything the diff compares (latency: only shifts). */
static bool differ(const struct diff *d)
{
	size_t n = d->nnew_outputs + d->ngone_outputs + d->nchanged_outputs + d->nkept_outputs +
		   d->nnew_reads + d->ngone_reads + d->nnew_failures + d->ngone_failures +
		   d->nchanged_failures + d->ncommand_ops + d->ncommand_lines;
	for (size_t i = 0; i < d->nphases; i++)
		n += d->phases[i].a < 0 || d->phases[i].b < 0;
	for (size_t i = 0; i < d->nlatency; i++)
		n += d->latency[i].shift != 0;
	return n > 0;
}

/* ---- the terminal ---- */

/*
 * A table row: cells in columns of the given widths (negative: left-
 * aligned), two spaces apart, after an indent of two; a last cell of width
 * 0 is a path, cut at its start to the room left.
 */
static void row(FILE *out, bool utf8, const char *const *cells, const int *widths, size_t n)
{
	size_t used = 2;
	while (n > 1 && !cells[n - 1][0])
		n--; /* no trailing blanks */
	fputs("  ", out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputs("  ", out);
		used += i ? 2 : 0;
		if (widths[i] == 0) {
			char p[WIDTH * 4];
			fputs(report_path(cells[i], used < WIDTH - 12 ? WIDTH - used : 12, utf8, p,
					  sizeof(p)),
			      out);
			break;
		}
		size_t w = (size_t)abs(widths[i]);
		char cut[WIDTH * 4];
		report_pad(out, report_path(cells[i], w, utf8, cut, sizeof(cut)),
			   i + 1 < n || widths[i] > 0 ? w : 0, widths[i] < 0);
		used += w;
	}
	fputc('\n', out);
}

static void more(FILE *out, size_t shown, size_t total)
{
	char n[CELL];
	if (total > shown)
		fprintf(out, "  ... %s more\n", report_count((int64_t)(total - shown), n, sizeof(n)));
}

static size_t shown(size_t n, int top)
{
	return n < (size_t)top ? n : (size_t)top;
}

static void summary_row(FILE *out, bool utf8, const char *label, const char *a, const char *b,
			const char *change, const char *percent)
{
	static const int widths[] = {-14, 14, 14, 14, 8};
	const char *cells[] = {label, a, b, change, percent};
	row(out, utf8, cells, widths, 5);
}

static void count_row(FILE *out, bool utf8, const char *label, int64_t a, int64_t b)
{
	char ca[CELL], cb[CELL], cd[CELL], cp[CELL];
	summary_row(out, utf8, label, report_count(a, ca, sizeof(ca)), report_count(b, cb, sizeof(cb)),
		    a == b ? "=" : signed_count(b - a, cd, sizeof(cd)),
		    percent_change(a, b, cp, sizeof(cp)));
}

static void bytes_row(FILE *out, bool utf8, const char *label, int64_t a, int64_t b)
{
	char ca[CELL], cb[CELL], cd[CELL], cp[CELL];
	summary_row(out, utf8, label, report_bytes(a, ca, sizeof(ca)), report_bytes(b, cb, sizeof(cb)),
		    signed_bytes(a, b, cd, sizeof(cd)), percent_change(a, b, cp, sizeof(cp)));
}

static void duration_row(FILE *out, bool utf8, const char *label, int64_t a, int64_t b)
{
	char ca[CELL], cb[CELL], cd[CELL], cp[CELL];
	summary_row(out, utf8, label, report_duration(a, ca, sizeof(ca)),
		    report_duration(b, cb, sizeof(cb)),
		    a == b ? "=" : signed_duration(b - a, cd, sizeof(cd)),
		    percent_change(a, b, cp, sizeof(cp)));
}

static void text_summary(FILE *out, const struct diff *d, bool utf8)
{
	const struct analyze_result *a = &d->a->a, *b = &d->b->a;
	char p[WIDTH * 4];

	fprintf(out, "tracefs diff\n");
	fprintf(out, "  A  %s\n", report_path(a->file, WIDTH - 5, utf8, p, sizeof(p)));
	fprintf(out, "  B  %s\n\n", report_path(b->file, WIDTH - 5, utf8, p, sizeof(p)));
	summary_row(out, utf8, "", "A", "B", "change", "");
	duration_row(out, utf8, "duration", run_ns(a), run_ns(b));
	count_row(out, utf8, "events", a->events, b->events);
	count_row(out, utf8, "errors", a->errors, b->errors);
	bytes_row(out, utf8, "bytes read", a->bytes_read, b->bytes_read);
	bytes_row(out, utf8, "bytes written", a->bytes_written, b->bytes_written);
	count_row(out, utf8, "outputs", d->a->outputs, d->b->outputs);
	count_row(out, utf8, "temporaries", d->a->temporaries, d->b->temporaries);
	duration_row(out, utf8, "time in fs", a->fs_ns, b->fs_ns);
}

static void text_phases(FILE *out, const struct diff *d, bool utf8)
{
	static const int widths[] = {-24, 12, 12, 12, 8};
	char ca[CELL], cb[CELL], cd[CELL], cp[CELL];

	if (!d->nphases)
		return;
	fprintf(out, "\nPhases\n");
	row(out, utf8, (const char *const[]){"phase", "A", "B", "change", ""}, widths, 5);
	for (size_t i = 0; i < d->nphases; i++) {
		const struct diff_phase *ph = &d->phases[i];
		const struct analyze_phase *pa = phase_of(d->a, ph->a), *pb = phase_of(d->b, ph->b);
		int64_t na = phase_ns(pa), nb = phase_ns(pb);
		const char *cells[] = {
			ph->name, pa ? report_duration(na, ca, sizeof(ca)) : "-",
			pb ? report_duration(nb, cb, sizeof(cb)) : "-",
			!pa ? "only in B" : !pb ? "only in A" : signed_duration(nb - na, cd, sizeof(cd)),
			pa && pb ? percent_change(na, nb, cp, sizeof(cp)) : ""};
		row(out, utf8, cells, widths, 5);
	}
}

/* A file's write as "16,136 B by ld": exact, as a change may be a few bytes. */
static const char *written(const struct diff_file *f, char *buf, size_t size)
{
	char n[CELL];
	if (!f)
		return "-";
	snprintf(buf, size, "%s B by %.16s", report_count(f->size, n, sizeof(n)),
		 f->writer ? f->writer : "?");
	return buf;
}

/* What differs between two writes of a file: "size +40 B", "written -12 B", "writer". */
static const char *difference(const struct diff_file *a, const struct diff_file *b, char *buf,
			      size_t size)
{
	char n[CELL];
	if (!a || !b || !a->written || !b->written)
		snprintf(buf, size, "%s", "");
	else if (a->size != b->size)
		snprintf(buf, size, "size %s B", signed_count(b->size - a->size, n, sizeof(n)));
	else if (a->bytes_written != b->bytes_written)
		snprintf(buf, size, "written %s B",
			 signed_count(b->bytes_written - a->bytes_written, n, sizeof(n)));
	else
		snprintf(buf, size, "%s", diff_same_output(a, b) ? "" : "writer");
	return buf;
}

static void output_rows(FILE *out, const char *what, const struct diff_pair *pairs, size_t n,
			int top, bool utf8)
{
	static const int widths[] = {-7, -22, -22, -16, 0};
	char wa[CELL * 2], wb[CELL * 2], dd[CELL * 2];

	for (size_t i = 0; i < shown(n, top); i++) {
		const struct diff_file *a = pairs[i].a, *b = pairs[i].b;
		const char *cells[] = {what, written(a && a->written ? a : NULL, wa, sizeof(wa)),
				       written(b && b->written ? b : NULL, wb, sizeof(wb)),
				       difference(a, b, dd, sizeof(dd)), (b ? b : a)->path};
		row(out, utf8, cells, widths, 5);
	}
	more(out, shown(n, top), n);
}

static void path_list(FILE *out, const char *title, const struct diff_pair *pairs, size_t n,
		      int top, bool utf8)
{
	char p[WIDTH * 4], c[CELL];
	if (!n)
		return;
	fprintf(out, "  %s: %s\n", title, report_count((int64_t)n, c, sizeof(c)));
	for (size_t i = 0; i < shown(n, top); i++)
		fprintf(out, "    %s\n",
			report_path((pairs[i].b ? pairs[i].b : pairs[i].a)->path, WIDTH - 4, utf8, p,
				    sizeof(p)));
	if (n > shown(n, top))
		fprintf(out, "    ... %s more\n",
			report_count((int64_t)(n - shown(n, top)), c, sizeof(c)));
}

static void text_outputs(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-7, -22, -22, -16, 0};
	char c[5][CELL];

	fprintf(out, "\nOutputs (files written and there at the end): %s changed, %s new, %s gone\n",
		report_count((int64_t)d->nchanged_outputs, c[0], sizeof(c[0])),
		report_count((int64_t)d->nnew_outputs, c[1], sizeof(c[1])),
		report_count((int64_t)d->ngone_outputs, c[2], sizeof(c[2])));
	if (d->nchanged_outputs + d->nnew_outputs + d->ngone_outputs) {
		row(out, utf8, (const char *const[]){"", "in A", "in B", "differs", "path"}, widths,
		    5);
		output_rows(out, "changed", d->changed_outputs, d->nchanged_outputs, top, utf8);
		output_rows(out, "new", d->new_outputs, d->nnew_outputs, top, utf8);
		output_rows(out, "gone", d->gone_outputs, d->ngone_outputs, top, utf8);
	}
	path_list(out, "written by A, only read by B (up to date in B)", d->kept_outputs,
		  d->nkept_outputs, top, utf8);
	if (d->nsame_outputs)
		fprintf(out, "  written alike by both (same size and writer): %s\n",
			report_count((int64_t)d->nsame_outputs, c[3], sizeof(c[3])));
}

static void read_rows(FILE *out, const char *what, const struct diff_pair *pairs, size_t n,
		      int top, bool utf8)
{
	static const int widths[] = {-16, 10, 0};
	char b[CELL];

	for (size_t i = 0; i < shown(n, top); i++) {
		const struct diff_file *f = pairs[i].b ? pairs[i].b : pairs[i].a;
		const char *cells[] = {what, report_bytes(f->bytes_read, b, sizeof(b)), f->path};
		row(out, utf8, cells, widths, 3);
	}
	more(out, shown(n, top), n);
}

static void text_reads(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-16, 10, 0};
	char c[2][CELL];

	fprintf(out, "\nFiles read: %s newly read, %s no longer read\n",
		report_count((int64_t)d->nnew_reads, c[0], sizeof(c[0])),
		report_count((int64_t)d->ngone_reads, c[1], sizeof(c[1])));
	if (!d->nnew_reads && !d->ngone_reads)
		return;
	row(out, utf8, (const char *const[]){"", "read", "path"}, widths, 3);
	read_rows(out, "newly read", d->new_reads, d->nnew_reads, top, utf8);
	read_rows(out, "no longer read", d->gone_reads, d->ngone_reads, top, utf8);
}

static void failure_rows(FILE *out, const char *what, const struct diff_failure_pair *pairs,
			 size_t n, int top, bool utf8)
{
	static const int widths[] = {-10, -12, -8, 7, 7, 0};
	char e[CELL], ca[CELL], cb[CELL];

	for (size_t i = 0; i < shown(n, top); i++) {
		const struct diff_failure *f = pairs[i].b ? pairs[i].b : pairs[i].a;
		const char *cells[] = {what,
				       analyze_errno_name(f->result, e, sizeof(e)),
				       trace_op_name(f->op),
				       pairs[i].a ? report_count(pairs[i].a->count, ca, sizeof(ca)) : "-",
				       pairs[i].b ? report_count(pairs[i].b->count, cb, sizeof(cb)) : "-",
				       f->path};
		row(out, utf8, cells, widths, 6);
	}
	more(out, shown(n, top), n);
}

static void text_failures(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-10, -12, -8, 7, 7, 0};
	char c[3][CELL];

	fprintf(out, "\nFailures: %s new, %s gone, %s more or less often\n",
		report_count((int64_t)d->nnew_failures, c[0], sizeof(c[0])),
		report_count((int64_t)d->ngone_failures, c[1], sizeof(c[1])),
		report_count((int64_t)d->nchanged_failures, c[2], sizeof(c[2])));
	if (!d->nnew_failures && !d->ngone_failures && !d->nchanged_failures)
		return;
	row(out, utf8, (const char *const[]){"", "error", "op", "A", "B", "path"}, widths, 6);
	failure_rows(out, "new", d->new_failures, d->nnew_failures, top, utf8);
	failure_rows(out, "gone", d->gone_failures, d->ngone_failures, top, utf8);
	failure_rows(out, "count", d->changed_failures, d->nchanged_failures, top, utf8);
}

/* S made printable, cut at its end to WIDTH columns: a command line's start matters most. */
static const char *cut_end(const char *s, size_t width, bool utf8, char *buf, size_t size)
{
	report_path(s, SIZE_MAX, utf8, buf, size); /* printable, not cut at its start */
	if (report_columns(buf) <= width || width < 4)
		return buf;
	size_t columns = 0, at = 0;
	for (; buf[at] && columns < width - 3; at++)
		columns += ((unsigned char)buf[at] & 0xc0) != 0x80;
	while (((unsigned char)buf[at] & 0xc0) == 0x80)
		at++; /* the rest of the last character */
	snprintf(buf + at, size - at, "...");
	return buf;
}

static const char *command_line_change(const struct diff_command_count *c)
{
	return !c->b ? "A only" : !c->a ? "B only" : "count";
}

static void text_command_lines(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-7, 5, 5, 0};
	char ca[CELL], cb[CELL];
	size_t only_a = 0, only_b = 0;

	if (!d->lineage) {
		if (d->a->lineage != d->b->lineage)
			fprintf(out, "\nCommand lines: not compared (%s has no process lineage: an "
				     "older trace)\n",
				d->a->lineage ? "B" : "A");
		return;
	}
	for (size_t i = 0; i < d->ncommand_lines; i++) {
		only_a += !d->command_lines[i].b;
		only_b += !d->command_lines[i].a;
	}
	fprintf(out, "\nCommand lines: %zu run in A only, %zu in B only, %zu a different number of "
		     "times\n",
		only_a, only_b, d->ncommand_lines - only_a - only_b);
	if (d->a->unread_processes || d->b->unread_processes)
		fprintf(out, "  (%lld processes in A and %lld in B exited before their command line "
			     "could be read)\n",
			(long long)d->a->unread_processes, (long long)d->b->unread_processes);
	if (!d->ncommand_lines)
		return;
	row(out, utf8, (const char *const[]){"", "A", "B", "command line"}, widths, 4);
	for (size_t i = 0; i < shown(d->ncommand_lines, top); i++) {
		const struct diff_command_count *c = &d->command_lines[i];
		char line[WIDTH * 8];
		const char *cells[] = {command_line_change(c), report_count(c->a, ca, sizeof(ca)),
				       report_count(c->b, cb, sizeof(cb)),
				       cut_end(c->argv, WIDTH - 27, utf8, line, sizeof(line))};
		row(out, utf8, cells, widths, 4);
	}
	more(out, shown(d->ncommand_lines, top), d->ncommand_lines);
}

static void text_commands(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-20, -16, 12, 12, 12};
	char ca[CELL], cb[CELL], cd[CELL];

	if (!d->ncommand_ops)
		return;
	fprintf(out, "\nOperations per command (where the counts differ)\n");
	row(out, utf8, (const char *const[]){"command", "operation", "A", "B", "change"}, widths, 5);
	for (size_t i = 0; i < shown(d->ncommand_ops, top); i++) {
		const struct diff_command_op *c = &d->command_ops[i];
		const char *cells[] = {c->command, trace_op_name(c->op), report_count(c->a, ca, sizeof(ca)),
				       report_count(c->b, cb, sizeof(cb)),
				       signed_count(c->b - c->a, cd, sizeof(cd))};
		row(out, utf8, cells, widths, 5);
	}
	more(out, shown(d->ncommand_ops, top), d->ncommand_ops);
}

static const char *op_count(const struct analyze_op *op, char *buf, size_t size)
{
	return op ? report_count(op->count, buf, size) : "-";
}

static const char *op_time(const struct analyze_op *op, int64_t ns, char *buf, size_t size)
{
	return op ? report_duration(ns, buf, size) : "-";
}

static const char *shift_name(int shift)
{
	return shift > 0 ? "slower" : shift < 0 ? "faster" : "";
}

static void text_latency(FILE *out, const struct diff *d, int top, bool utf8)
{
	static const int widths[] = {-15, 8, 8, 9, 9, 9, 9, 9, -6}; /* 100 columns */
	char c[8][CELL];

	if (!d->nlatency)
		return;
	fprintf(out, "\nLatency per operation (a shift: p50 %.1fx the other's on %d events or more)\n",
		DIFF_SHIFT_RATIO, DIFF_LATENCY_MIN_COUNT);
	row(out, utf8,
	    (const char *const[]){"operation", "count A", "count B", "p50 A", "p50 B", "p90 A",
				  "p90 B", "total", "shift"},
	    widths, 9);
	for (size_t i = 0; i < shown(d->nlatency, top); i++) {
		const struct diff_latency *l = &d->latency[i];
		const char *cells[] = {
			trace_op_name(l->op),
			op_count(l->a, c[0], sizeof(c[0])),
			op_count(l->b, c[1], sizeof(c[1])),
			op_time(l->a, l->a ? l->a->p50_ns : 0, c[2], sizeof(c[2])),
			op_time(l->b, l->b ? l->b->p50_ns : 0, c[3], sizeof(c[3])),
			op_time(l->a, l->a ? l->a->p90_ns : 0, c[4], sizeof(c[4])),
			op_time(l->b, l->b ? l->b->p90_ns : 0, c[5], sizeof(c[5])),
			signed_duration((l->b ? l->b->total_ns : 0) - (l->a ? l->a->total_ns : 0), c[6],
					sizeof(c[6])),
			shift_name(l->shift)};
		row(out, utf8, cells, widths, 9);
	}
	more(out, shown(d->nlatency, top), d->nlatency);
}

void diff_text(FILE *out, const struct diff *d, int top, bool utf8)
{
	char n[CELL];

	text_summary(out, d, utf8);
	if (!differ(d)) {
		fprintf(out, "\nNo changes: the same phases, outputs, files read, failures and "
			     "operations per command.\n");
		return;
	}
	text_phases(out, d, utf8);
	text_outputs(out, d, top, utf8);
	text_command_lines(out, d, top, utf8);
	text_reads(out, d, top, utf8);
	text_failures(out, d, top, utf8);
	text_commands(out, d, top, utf8);
	text_latency(out, d, top, utf8);
	if (d->paired_by_shape)
		fprintf(out, "\n%s files or failures with random names (conftest.12345) were paired "
			     "by their pattern.\n",
			report_count((int64_t)d->paired_by_shape, n, sizeof(n)));
}

/* ---- JSON ---- */

static void json_run(FILE *out, const struct diff_run *r)
{
	const struct analyze_result *a = &r->a;
	fputs("{\"file\":", out);
	trace_json_write_string(out, a->file);
	fprintf(out,
		",\"duration_ns\":%" PRId64 ",\"events\":%" PRId64 ",\"errors\":%" PRId64
		",\"bytes_read\":%" PRId64 ",\"bytes_written\":%" PRId64 ",\"fs_ns\":%" PRId64
		",\"outputs\":%" PRId64 ",\"temporaries\":%" PRId64 ",\"lineage\":%s"
		",\"unread_processes\":%" PRId64 "}",
		run_ns(a), a->events, a->errors, a->bytes_read, a->bytes_written, a->fs_ns,
		r->outputs, r->temporaries, r->lineage ? "true" : "false", r->unread_processes);
}

static void json_write(FILE *out, const struct diff_file *f)
{
	if (!f || !f->written) {
		fputs("null", out);
		return;
	}
	fprintf(out, "{\"size\":%" PRId64 ",\"bytes_written\":%" PRId64 ",\"writer\":", f->size,
		f->bytes_written);
	trace_json_write_string(out, f->writer);
	fputc('}', out);
}

/* "name":[{"path":..., "a":write, "b":write, "bytes_read_a", ...}, ...] */
static void json_files(FILE *out, const char *name, const struct diff_pair *pairs, size_t n,
		       bool first)
{
	fprintf(out, "%s\"%s\":[", first ? "" : ",", name);
	for (size_t i = 0; i < n; i++) {
		const struct diff_file *a = pairs[i].a, *b = pairs[i].b;
		fputs(i ? ",{\"path\":" : "{\"path\":", out);
		trace_json_write_string(out, (b ? b : a)->path);
		if (a && b && strcmp(a->path, b->path) != 0) {
			fputs(",\"path_a\":", out);
			trace_json_write_string(out, a->path);
		}
		fputs(",\"a\":", out);
		json_write(out, a);
		fputs(",\"b\":", out);
		json_write(out, b);
		fprintf(out, ",\"bytes_read_a\":%" PRId64 ",\"bytes_read_b\":%" PRId64 "}",
			a ? a->bytes_read : 0, b ? b->bytes_read : 0);
	}
	fputc(']', out);
}

static void json_failures(FILE *out, const char *name, const struct diff_failure_pair *pairs,
			  size_t n, bool first)
{
	char e[CELL];
	fprintf(out, "%s\"%s\":[", first ? "" : ",", name);
	for (size_t i = 0; i < n; i++) {
		const struct diff_failure *f = pairs[i].b ? pairs[i].b : pairs[i].a;
		fputs(i ? ",{\"path\":" : "{\"path\":", out);
		trace_json_write_string(out, f->path);
		fprintf(out, ",\"errno\":\"%s\",\"result\":%" PRId32 ",\"op\":\"%s\",\"a\":%" PRId64
			     ",\"b\":%" PRId64 "}",
			analyze_errno_name(f->result, e, sizeof(e)), f->result, trace_op_name(f->op),
			pairs[i].a ? pairs[i].a->count : 0, pairs[i].b ? pairs[i].b->count : 0);
	}
	fputc(']', out);
}

static void json_op(FILE *out, const struct analyze_op *op)
{
	if (!op) {
		fputs("null", out);
		return;
	}
	fprintf(out,
		"{\"count\":%" PRId64 ",\"errors\":%" PRId64 ",\"total_ns\":%" PRId64
		",\"p50_ns\":%" PRId64 ",\"p90_ns\":%" PRId64 ",\"p99_ns\":%" PRId64
		",\"max_ns\":%" PRId64 "}",
		op->count, op->errors, op->total_ns, op->p50_ns, op->p90_ns, op->p99_ns, op->max_ns);
}

void diff_json(FILE *out, const struct diff *d)
{
	fputs("{\"a\":", out);
	json_run(out, d->a);
	fputs(",\"b\":", out);
	json_run(out, d->b);
	fprintf(out, ",\"changed\":%s,\"phases\":[", differ(d) ? "true" : "false");
	for (size_t i = 0; i < d->nphases; i++) {
		const struct analyze_phase *pa = phase_of(d->a, d->phases[i].a);
		const struct analyze_phase *pb = phase_of(d->b, d->phases[i].b);
		fputs(i ? ",{\"name\":" : "{\"name\":", out);
		trace_json_write_string(out, d->phases[i].name);
		fputs(",\"a_ns\":", out);
		pa ? fprintf(out, "%" PRId64, phase_ns(pa)) : fputs("null", out);
		fputs(",\"b_ns\":", out);
		pb ? fprintf(out, "%" PRId64, phase_ns(pb)) : fputs("null", out);
		fprintf(out, ",\"a_events\":%" PRId64 ",\"b_events\":%" PRId64 "}",
			pa ? pa->events : 0, pb ? pb->events : 0);
	}
	fputs("],\"outputs\":{", out);
	json_files(out, "changed", d->changed_outputs, d->nchanged_outputs, true);
	json_files(out, "new", d->new_outputs, d->nnew_outputs, false);
	json_files(out, "gone", d->gone_outputs, d->ngone_outputs, false);
	json_files(out, "kept", d->kept_outputs, d->nkept_outputs, false);
	json_files(out, "same", d->same_outputs, d->nsame_outputs, false);
	fputs("},\"reads\":{", out);
	json_files(out, "new", d->new_reads, d->nnew_reads, true);
	json_files(out, "gone", d->gone_reads, d->ngone_reads, false);
	fputs("},\"failures\":{", out);
	json_failures(out, "new", d->new_failures, d->nnew_failures, true);
	json_failures(out, "gone", d->gone_failures, d->ngone_failures, false);
	json_failures(out, "changed", d->changed_failures, d->nchanged_failures, false);
	fputs("},\"commands\":[", out);
	for (size_t i = 0; i < d->ncommand_ops; i++) {
		const struct diff_command_op *c = &d->command_ops[i];
		fputs(i ? ",{\"command\":" : "{\"command\":", out);
		trace_json_write_string(out, c->command);
		fprintf(out, ",\"op\":\"%s\",\"a\":%" PRId64 ",\"b\":%" PRId64 "}", trace_op_name(c->op),
			c->a, c->b);
	}
	fputs("],\"latency\":[", out);
	for (size_t i = 0; i < d->nlatency; i++) {
		const struct diff_latency *l = &d->latency[i];
		fprintf(out, "%s{\"op\":\"%s\",\"a\":", i ? "," : "", trace_op_name(l->op));
		json_op(out, l->a);
		fputs(",\"b\":", out);
		json_op(out, l->b);
		fputs(",\"shift\":", out);
		l->shift ? fprintf(out, "\"%s\"", shift_name(l->shift)) : fputs("null", out);
		fputc('}', out);
	}
	fputs("],\"command_lines\":", out);
	if (!d->lineage) {
		fputs("null", out);
	} else {
		fputc('[', out);
		for (size_t i = 0; i < d->ncommand_lines; i++) {
			const struct diff_command_count *c = &d->command_lines[i];
			fputs(i ? ",{\"argv\":" : "{\"argv\":", out);
			trace_json_write_string(out, c->argv);
			fprintf(out, ",\"a\":%" PRId64 ",\"b\":%" PRId64 "}", c->a, c->b);
		}
		fputc(']', out);
	}
	fprintf(out, ",\"paired_by_pattern\":%zu}\n", d->paired_by_shape);
}

/* ---- HTML ---- */

static const char *const mark_colour[] = {"#59a14f", "#e15759", "#f28e2b", "#777"};
enum mark { MARK_NEW, MARK_GONE, MARK_CHANGED, MARK_OTHER };

static void cell(FILE *out, const char *class, const char *s, size_t width)
{
	fprintf(out, "<td class=%s>", class);
	report_html_text(out, s, width);
	fputs("</td>", out);
}

static void number(FILE *out, const char *s)
{
	fputs("<td>", out);
	report_html_text(out, s, CELL);
	fputs("</td>", out);
}

static void marked(FILE *out, enum mark mark, const char *what)
{
	fprintf(out, "<td class=l><span style=\"color:%s\">&#9632;</span> %s</td>", mark_colour[mark],
		what);
}

static void head_row(FILE *out, const char *const *titles, size_t n)
{
	fputs("<table><tr>", out);
	for (size_t i = 0; i < n; i++)
		fprintf(out, "<th%s>%s</th>", titles[i][0] == '<' ? "" : " class=l",
			titles[i] + (titles[i][0] == '<'));
	fputs("</tr>\n", out);
}

static void html_summary(FILE *out, const struct diff *d)
{
	const struct analyze_result *a = &d->a->a, *b = &d->b->a;
	char ca[CELL], cb[CELL], cd[CELL], cp[CELL];

	fputs("<h2>Summary</h2>\n", out);
	head_row(out, (const char *const[]){"", "<A", "<B", "<change", "<"}, 5);
#define ROW(label, fa, fb, fd)                                                                    \
	do {                                                                                      \
		fputs("<tr>", out);                                                              \
		cell(out, "l", label, 40);                                                       \
		number(out, fa);                                                                 \
		number(out, fb);                                                                 \
		number(out, fd);                                                                 \
		number(out, pct);                                                                \
		fputs("</tr>\n", out);                                                           \
	} while (0)
	const char *pct;
	pct = percent_change(run_ns(a), run_ns(b), cp, sizeof(cp));
	ROW("duration", report_duration(run_ns(a), ca, sizeof(ca)),
	    report_duration(run_ns(b), cb, sizeof(cb)),
	    signed_duration(run_ns(b) - run_ns(a), cd, sizeof(cd)));
	int64_t counts[][2] = {{a->events, b->events},
			       {a->errors, b->errors},
			       {d->a->outputs, d->b->outputs},
			       {d->a->temporaries, d->b->temporaries}};
	const char *labels[] = {"events", "errors", "outputs", "temporaries"};
	for (size_t i = 0; i < 4; i++) {
		pct = percent_change(counts[i][0], counts[i][1], cp, sizeof(cp));
		ROW(labels[i], report_count(counts[i][0], ca, sizeof(ca)),
		    report_count(counts[i][1], cb, sizeof(cb)),
		    signed_count(counts[i][1] - counts[i][0], cd, sizeof(cd)));
	}
	pct = percent_change(a->bytes_read, b->bytes_read, cp, sizeof(cp));
	ROW("bytes read", report_bytes(a->bytes_read, ca, sizeof(ca)),
	    report_bytes(b->bytes_read, cb, sizeof(cb)),
	    signed_bytes(a->bytes_read, b->bytes_read, cd, sizeof(cd)));
	pct = percent_change(a->bytes_written, b->bytes_written, cp, sizeof(cp));
	ROW("bytes written", report_bytes(a->bytes_written, ca, sizeof(ca)),
	    report_bytes(b->bytes_written, cb, sizeof(cb)),
	    signed_bytes(a->bytes_written, b->bytes_written, cd, sizeof(cd)));
#undef ROW
	fputs("</table>\n", out);
}

static void html_phases(FILE *out, const struct diff *d)
{
	char ca[CELL], cb[CELL], cd[CELL];
	int64_t max = 0;

	if (!d->nphases)
		return;
	for (size_t i = 0; i < d->nphases; i++) {
		int64_t na = phase_ns(phase_of(d->a, d->phases[i].a));
		int64_t nb = phase_ns(phase_of(d->b, d->phases[i].b));
		max = na > max ? na : nb > max ? nb : max;
	}
	fputs("<h2>Phases</h2>\n<p><span style=\"color:#4e79a7\">&#9632;</span> A &nbsp; "
	      "<span style=\"color:#f28e2b\">&#9632;</span> B</p>\n",
	      out);
	head_row(out, (const char *const[]){"phase", "<A", "<B", "<change", "A and B"}, 5);
	for (size_t i = 0; i < d->nphases; i++) {
		const struct analyze_phase *pa = phase_of(d->a, d->phases[i].a);
		const struct analyze_phase *pb = phase_of(d->b, d->phases[i].b);
		fputs("<tr>", out);
		cell(out, "l", d->phases[i].name, 40);
		number(out, pa ? report_duration(phase_ns(pa), ca, sizeof(ca)) : "-");
		number(out, pb ? report_duration(phase_ns(pb), cb, sizeof(cb)) : "-");
		number(out, !pa	  ? "only in B"
			    : !pb ? "only in A"
				  : signed_duration(phase_ns(pb) - phase_ns(pa), cd, sizeof(cd)));
		fputs("<td class=l>", out);
		fprintf(out, "<div style=\"width:%.0fpx;height:7px;background:#4e79a7\"></div>",
			max ? 240.0 * (double)phase_ns(pa) / (double)max : 0);
		fprintf(out, "<div style=\"width:%.0fpx;height:7px;background:#f28e2b\"></div>",
			max ? 240.0 * (double)phase_ns(pb) / (double)max : 0);
		fputs("</td></tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_output_rows(FILE *out, enum mark mark, const char *what,
			     const struct diff_pair *pairs, size_t n)
{
	char wa[CELL * 2], wb[CELL * 2], dd[CELL * 2];
	for (size_t i = 0; i < n; i++) {
		const struct diff_file *a = pairs[i].a, *b = pairs[i].b;
		fputs("<tr>", out);
		marked(out, mark, what);
		cell(out, "l", written(a && a->written ? a : NULL, wa, sizeof(wa)), 60);
		cell(out, "l", written(b && b->written ? b : NULL, wb, sizeof(wb)), 60);
		cell(out, "l", difference(a, b, dd, sizeof(dd)), 60);
		cell(out, "p", (b ? b : a)->path, PATH_HTML);
		fputs("</tr>\n", out);
	}
}

static void html_outputs(FILE *out, const struct diff *d)
{
	fputs("<h2>Outputs</h2>\n<p>Files written and there at the end. Changed: written by both "
	      "runs, with another size, byte count or writer; gone: written by A, and B removed it "
	      "or never used it.</p>\n",
	      out);
	if (!d->nchanged_outputs && !d->nnew_outputs && !d->ngone_outputs) {
		fputs("<p>No output changed, appeared or went.</p>\n", out);
	} else {
		head_row(out, (const char *const[]){"", "in A", "in B", "differs", "path"}, 5);
		html_output_rows(out, MARK_CHANGED, "changed", d->changed_outputs,
				 d->nchanged_outputs);
		html_output_rows(out, MARK_NEW, "new", d->new_outputs, d->nnew_outputs);
		html_output_rows(out, MARK_GONE, "gone", d->gone_outputs, d->ngone_outputs);
		fputs("</table>\n", out);
	}
	if (d->nkept_outputs) {
		fprintf(out, "<h3>Written by A, only read by B (up to date in B): %zu</h3>\n<table>",
			d->nkept_outputs);
		for (size_t i = 0; i < d->nkept_outputs; i++) {
			fputs("<tr>", out);
			cell(out, "p", d->kept_outputs[i].a->path, PATH_HTML);
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
	if (d->nsame_outputs)
		fprintf(out, "<p class=muted>Written alike by both runs: %zu files.</p>\n",
			d->nsame_outputs);
}

static void html_command_lines(FILE *out, const struct diff *d)
{
	char ca[CELL], cb[CELL];

	if (!d->lineage) {
		if (d->a->lineage != d->b->lineage)
			fprintf(out, "<h2>Command lines</h2>\n<p>Not compared: %s has no process "
				     "lineage (an older trace).</p>\n",
				d->a->lineage ? "B" : "A");
		return;
	}
	fputs("<h2>Command lines</h2>\n", out);
	if (d->a->unread_processes || d->b->unread_processes)
		fprintf(out, "<p class=muted>%lld processes in A and %lld in B exited before their "
			     "command line could be read.</p>\n",
			(long long)d->a->unread_processes, (long long)d->b->unread_processes);
	if (!d->ncommand_lines) {
		fputs("<p>Both runs ran the same command lines, as often.</p>\n", out);
		return;
	}
	head_row(out, (const char *const[]){"", "<A", "<B", "command line"}, 4);
	for (size_t i = 0; i < d->ncommand_lines; i++) {
		const struct diff_command_count *c = &d->command_lines[i];
		fputs("<tr>", out);
		marked(out, !c->b ? MARK_GONE : !c->a ? MARK_NEW : MARK_CHANGED,
		       command_line_change(c));
		number(out, report_count(c->a, ca, sizeof(ca)));
		number(out, report_count(c->b, cb, sizeof(cb)));
		char line[PATH_HTML * 8];
		fputs("<td class=p>", out);
		report_html_text(out, cut_end(c->argv, PATH_HTML * 2, true, line, sizeof(line)),
				 sizeof(line));
		fputs("</td>", out);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_reads(FILE *out, const struct diff *d)
{
	char n[CELL];
	fputs("<h2>Files read</h2>\n", out);
	if (!d->nnew_reads && !d->ngone_reads) {
		fputs("<p>Both runs read the same files.</p>\n", out);
		return;
	}
	head_row(out, (const char *const[]){"", "<read", "path"}, 3);
	for (int side = 0; side < 2; side++) {
		const struct diff_pair *pairs = side ? d->gone_reads : d->new_reads;
		for (size_t i = 0; i < (side ? d->ngone_reads : d->nnew_reads); i++) {
			const struct diff_file *f = pairs[i].b ? pairs[i].b : pairs[i].a;
			fputs("<tr>", out);
			marked(out, side ? MARK_GONE : MARK_NEW, side ? "no longer read" : "newly read");
			number(out, report_bytes(f->bytes_read, n, sizeof(n)));
			cell(out, "p", f->path, PATH_HTML);
			fputs("</tr>\n", out);
		}
	}
	fputs("</table>\n", out);
}

static void html_failures(FILE *out, const struct diff *d)
{
	char e[CELL], ca[CELL], cb[CELL];
	const struct diff_failure_pair *lists[] = {d->new_failures, d->gone_failures,
						    d->changed_failures};
	size_t counts[] = {d->nnew_failures, d->ngone_failures, d->nchanged_failures};
	static const char *const what[] = {"new", "gone", "count"};

	fputs("<h2>Failures</h2>\n", out);
	if (!counts[0] && !counts[1] && !counts[2]) {
		fputs("<p>The same failures, as often.</p>\n", out);
		return;
	}
	head_row(out, (const char *const[]){"", "error", "op", "<A", "<B", "path"}, 6);
	for (int k = 0; k < 3; k++) {
		for (size_t i = 0; i < counts[k]; i++) {
			const struct diff_failure_pair *p = &lists[k][i];
			const struct diff_failure *f = p->b ? p->b : p->a;
			fputs("<tr>", out);
			marked(out, (enum mark)k, what[k]);
			cell(out, "l", analyze_errno_name(f->result, e, sizeof(e)), CELL);
			cell(out, "l", trace_op_name(f->op), CELL);
			number(out, p->a ? report_count(p->a->count, ca, sizeof(ca)) : "-");
			number(out, p->b ? report_count(p->b->count, cb, sizeof(cb)) : "-");
			cell(out, "p", f->path, PATH_HTML);
			fputs("</tr>\n", out);
		}
	}
	fputs("</table>\n", out);
}

static void html_commands(FILE *out, const struct diff *d)
{
	char ca[CELL], cb[CELL], cd[CELL];
	if (!d->ncommand_ops)
		return;
	fputs("<h2>Operations per command (where the counts differ)</h2>\n", out);
	head_row(out, (const char *const[]){"command", "operation", "<A", "<B", "<change"}, 5);
	for (size_t i = 0; i < d->ncommand_ops; i++) {
		const struct diff_command_op *c = &d->command_ops[i];
		fputs("<tr>", out);
		cell(out, "l", c->command, 40);
		cell(out, "l", trace_op_name(c->op), CELL);
		number(out, report_count(c->a, ca, sizeof(ca)));
		number(out, report_count(c->b, cb, sizeof(cb)));
		number(out, signed_count(c->b - c->a, cd, sizeof(cd)));
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void html_latency(FILE *out, const struct diff *d)
{
	char c[8][CELL];
	if (!d->nlatency)
		return;
	fprintf(out, "<h2>Latency per operation</h2>\n<p>A shift: a p50 %.1f times the other "
		     "run's, on %d events or more in each (a p90 so, on %d or more), and %d us "
		     "apart at least.</p>\n",
		DIFF_SHIFT_RATIO, DIFF_LATENCY_MIN_COUNT, DIFF_P90_MIN_COUNT, DIFF_SHIFT_MIN_NS / 1000);
	head_row(out,
		 (const char *const[]){"operation", "<count A", "<count B", "<p50 A", "<p50 B",
				       "<p90 A", "<p90 B", "<total change", "shift"},
		 9);
	for (size_t i = 0; i < d->nlatency; i++) {
		const struct diff_latency *l = &d->latency[i];
		fputs("<tr>", out);
		cell(out, "l", trace_op_name(l->op), CELL);
		number(out, op_count(l->a, c[0], sizeof(c[0])));
		number(out, op_count(l->b, c[1], sizeof(c[1])));
		number(out, op_time(l->a, l->a ? l->a->p50_ns : 0, c[2], sizeof(c[2])));
		number(out, op_time(l->b, l->b ? l->b->p50_ns : 0, c[3], sizeof(c[3])));
		number(out, op_time(l->a, l->a ? l->a->p90_ns : 0, c[4], sizeof(c[4])));
		number(out, op_time(l->b, l->b ? l->b->p90_ns : 0, c[5], sizeof(c[5])));
		number(out, signed_duration((l->b ? l->b->total_ns : 0) - (l->a ? l->a->total_ns : 0),
					    c[6], sizeof(c[6])));
		if (l->shift)
			marked(out, l->shift > 0 ? MARK_GONE : MARK_NEW, shift_name(l->shift));
		else
			fputs("<td></td>", out);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

void diff_html(FILE *out, const struct diff *d)
{
	char both[2 * PATH_HTML + 8];

	snprintf(both, sizeof(both), "%s and %s", d->a->a.file, d->b->a.file);
	report_html_begin(out, "tracefs diff", both);
	fputs("<h1>tracefs diff</h1>\n<p class=muted>A: ", out);
	report_html_text(out, d->a->a.file, PATH_HTML);
	fputs("<br>B: ", out);
	report_html_text(out, d->b->a.file, PATH_HTML);
	fputs("</p>\n", out);
	html_summary(out, d);
	if (!differ(d)) {
		fputs("<p><b>No changes:</b> the same phases, outputs, files read, failures and "
		      "operations per command.</p>\n",
		      out);
	} else {
		html_phases(out, d);
		html_outputs(out, d);
		html_command_lines(out, d);
		html_reads(out, d);
		html_failures(out, d);
		html_commands(out, d);
		html_latency(out, d);
	}
	report_html_end(out, "tracefs diff");
}

/* ---- the command ---- */

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs diff [options] A.db B.db\n"
		"\n"
		"Compare two recorded runs of a workload: phases and their durations, outputs\n"
		"(files written) that changed, are new or are gone, files newly read or no\n"
		"longer read, new and vanished failures, operations per command, and latency\n"
		"shifts per operation. Temporaries (files a run made and removed) are left out,\n"
		"and files with random names in each run (conftest.12345) are paired.\n"
		"\n"
		"  --json        the whole comparison as JSON on standard output\n"
		"  --html OUT    write a self-contained HTML page to OUT\n"
		"  --top N       rows in each list of the terminal form (default %d)\n"
		"  -h, --help    show this help\n",
		DEFAULT_TOP);
}

/* 0, 1 for --help, or 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, struct report_options *args, const char *files[2])
{
	*args = (struct report_options){.top = DEFAULT_TOP};
	int rc = report_parse_options(argc, argv, args, MAX_TOP, usage);
	if (rc != 0)
		return rc;
	if (argc - optind != 2) {
		fprintf(stderr, "%s: %s\n", argv[0],
			argc - optind < 2 ? "give two traces to compare: A.db B.db"
					  : "give exactly two trace files");
		usage(stderr);
		return 2;
	}
	files[0] = argv[optind];
	files[1] = argv[optind + 1];
	return 0;
}

struct progress {
	const char *prog, *file;
	bool shown;
};

static void show_progress(double done, void *arg)
{
	struct progress *p = arg;
	char shown[WIDTH * 4];
	fprintf(stderr, "\r%s: reading %s %3.0f%%", p->prog,
		report_path(p->file, 60, false, shown, sizeof(shown)), 100 * done);
	p->shown = true;
}

static int read_run(const char *prog, const char *file, struct diff_run *run)
{
	char err[1024];
	struct progress p = {prog, file, false};
	bool tty = isatty(STDERR_FILENO);

	int rc = diff_read(file, tty ? show_progress : NULL, &p, run, err, sizeof(err));
	if (tty)
		fputs("\r\033[K", stderr);
	if (rc != 0)
		fprintf(stderr, "%s: %s\n", prog, err);
	return rc;
}

static void write_page(FILE *out, const void *diff)
{
	diff_html(out, diff);
}

int analyze_diff_command(int argc, char **argv)
{
	struct report_options args;
	const char *files[2];
	int rc = parse_args(argc, argv, &args, files);
	char err[1024];

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	if (trace_command_start(argv[0]) != 0)
		return 1;
	/* Before the work, not after: the page must overwrite neither trace. */
	for (int i = 0; i < 2 && args.html; i++) {
		if (trace_output_check(args.html, files[i], err, sizeof(err)) != 0) {
			fprintf(stderr, "%s: %s\n", argv[0], err);
			return 1;
		}
	}
	struct diff_run runs[2];
	if (read_run(argv[0], files[0], &runs[0]) != 0)
		return trace_reader_interrupted() ? 128 + trace_reader_interrupted() : 1;
	if (read_run(argv[0], files[1], &runs[1]) != 0) {
		diff_run_free(&runs[0]);
		return trace_reader_interrupted() ? 128 + trace_reader_interrupted() : 1;
	}
	struct diff d;
	int status = 0;
	if (diff_compare(&runs[0], &runs[1], &d) != 0) {
		fprintf(stderr, "%s: out of memory\n", argv[0]);
		status = 1;
	} else {
		if (args.html)
			status = report_write_page(argv[0], args.html, files[0], write_page, &d);
		if (args.json)
			diff_json(stdout, &d);
		else if (!args.html)
			diff_text(stdout, &d, args.top, report_utf8_terminal());
		diff_free(&d);
	}
	diff_run_free(&runs[0]);
	diff_run_free(&runs[1]);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the comparison to standard output\n", argv[0]);
		return 1;
	}
	return status;
}
