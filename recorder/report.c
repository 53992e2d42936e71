/*
 * report.c — `tracefs report FILE.db`: the command (options, where the
 * output goes), the terminal form of the report (at most 100 columns), and
 * the formatting of numbers and paths that the JSON and HTML forms share
 * (report.h). The analysis itself is in analysis.c.
 */
#include "recorder/report.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <langinfo.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>

#include "recorder/json.h"
#include "recorder/outfile.h"
#include "recorder/recorder.h"

#define DEFAULT_TOP 10
#define MAX_TOP 1000
#define WIDTH 100
#define BAR_WIDTH 28

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

const char *report_offset(int64_t ns, char *buf, size_t size)
{
	int64_t tenths = ns / 100000000;
	int64_t seconds = tenths / 10;

	if (seconds < 3600)
		snprintf(buf, size, "%d:%02d.%d", (int)(seconds / 60), (int)(seconds % 60),
			 (int)(tenths % 10));
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
	size_t len = utf8 ? json_utf8_length(s) : 0;

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

/* How many terminal columns a string from report_path takes. */
static size_t columns_of(const char *s)
{
	size_t n = 0;
	for (; *s; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

/* Prints s left-aligned in width columns (printf counts bytes, not columns). */
static void pad(FILE *out, const char *s, size_t width)
{
	size_t n = columns_of(s);
	fputs(s, out);
	for (; n < width; n++)
		fputc(' ', out);
}

const char *report_finding_title(enum an_finding_kind kind)
{
	switch (kind) {
	case FINDING_REOPENED: return "files read many times over";
	case FINDING_MISSING: return "missing paths looked up again and again";
	case FINDING_TINY_IO: return "tiny reads and writes";
	case FINDING_RELISTED: return "directories listed again and again";
	case FINDING_FSYNC: return "time spent in fsync";
	default: return "?";
	}
}

/* "1 file", "1,234 files" */
static const char *counted(int64_t n, const char *one, const char *many, char *buf, size_t size)
{
	char number[32];
	snprintf(buf, size, "%s %s", report_count(n, number, sizeof(number)), n == 1 ? one : many);
	return buf;
}

void report_finding_summary(const struct analysis *a, const struct an_finding *f, char *buf,
			    size_t size)
{
	char what[64], total[64], d[32], share[16];

	switch (f->kind) {
	case FINDING_REOPENED:
		snprintf(buf, size, "%s opened %d times or more, %s in all.",
			 counted(f->paths, "file", "files", what, sizeof(what)), FINDING_REOPEN_MIN,
			 counted(f->total, "open", "opens", total, sizeof(total)));
		break;
	case FINDING_MISSING:
		snprintf(
			buf, size, "%s looked up %d times or more, %s in all.",
			counted(f->paths, "missing path", "missing paths", what, sizeof(what)),
			FINDING_MISSING_MIN,
			counted(f->total, "failed lookup", "failed lookups", total, sizeof(total)));
		break;
	case FINDING_TINY_IO:
		snprintf(buf, size,
			 "%s with %d or more reads or writes of 1 to %d bytes (most of theirs), "
			 "%s in all.",
			 counted(f->paths, "file", "files", what, sizeof(what)), FINDING_TINY_MIN,
			 FINDING_TINY_BYTES - 1,
			 counted(f->total, "tiny read or write", "tiny reads and writes", total,
				 sizeof(total)));
		break;
	case FINDING_RELISTED:
		snprintf(buf, size, "%s listed %d times or more, %s in all.",
			 counted(f->paths, "directory", "directories", what, sizeof(what)),
			 FINDING_RELIST_MIN,
			 counted(f->total, "listing", "listings", total, sizeof(total)));
		break;
	case FINDING_FSYNC:
		snprintf(buf, size, "%s on %s took %s, %s of the time in the file system.",
			 counted(f->total, "fsync", "fsyncs", total, sizeof(total)),
			 counted(f->paths, "file", "files", what, sizeof(what)),
			 report_duration(f->total_ns, d, sizeof(d)),
			 report_share(f->total_ns, a->fs_ns, share, sizeof(share)));
		break;
	default: snprintf(buf, size, "?"); break;
	}
}

/* ---- the terminal report ---- */

static void heading(FILE *out, const char *title)
{
	fprintf(out, "\n%s\n", title);
}

static void print_header(FILE *out, const struct analysis *a, bool utf8)
{
	char p[WIDTH * 4], n1[32], n2[32];

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
	if (a->events_lost)
		fprintf(out, "  WARNING     %s events were lost while recording (%s of them)\n",
			report_count(a->events_lost, n1, sizeof(n1)),
			report_share(a->events_lost, a->events + a->events_lost, n2, sizeof(n2)));
}

static void print_summary(FILE *out, const struct analysis *a)
{
	char n1[32], n2[32], w1[64], w2[64];

	heading(out, "Summary");
	fprintf(out, "  duration      %s\n",
		report_duration(a->end_ns - a->first_ns, n1, sizeof(n1)));
	fprintf(out, "  events        %s\n", report_count(a->events, n1, sizeof(n1)));
	fprintf(out, "  errors        %s (%s of events)\n", report_count(a->errors, n1, sizeof(n1)),
		report_share(a->errors, a->events, n2, sizeof(n2)));
	fprintf(out, "  read          %s\n", report_bytes(a->bytes_read, n1, sizeof(n1)));
	fprintf(out, "  written       %s\n", report_bytes(a->bytes_written, n1, sizeof(n1)));
	fprintf(out, "  created       %s, %s\n",
		counted(a->files_created, "file", "files", w1, sizeof(w1)),
		counted(a->dirs_created, "directory", "directories", w2, sizeof(w2)));
	fprintf(out, "  removed       %s, %s; %s renamed\n",
		counted(a->files_removed, "file", "files", w1, sizeof(w1)),
		counted(a->dirs_removed, "directory", "directories", w2, sizeof(w2)),
		report_count(a->renamed, n1, sizeof(n1)));
	fprintf(out, "  time in fs    %s (all operations' durations added up)\n",
		report_duration(a->fs_ns, n1, sizeof(n1)));
}

static void print_operations(FILE *out, const struct analysis *a)
{
	char n[8][32];

	heading(out,
		"Operations                                   latency: nearest-rank percentiles");
	fprintf(out, "  %-16s %10s %6s %8s %9s %9s %9s %9s %9s\n", "op", "count", "share", "errors",
		"total", "p50", "p90", "p99", "max");
	for (size_t i = 0; i < a->nops; i++) {
		const struct an_op *o = &a->ops[i];
		fprintf(out, "  %-16s %10s %6s %8s %9s %9s %9s %9s %9s\n", rec_op_name(o->op),
			report_count(o->count, n[0], sizeof(n[0])),
			report_share(o->count, a->events, n[1], sizeof(n[1])),
			report_count(o->errors, n[2], sizeof(n[2])),
			report_duration(o->total_ns, n[3], sizeof(n[3])),
			report_duration(o->p50_ns, n[4], sizeof(n[4])),
			report_duration(o->p90_ns, n[5], sizeof(n[5])),
			report_duration(o->p99_ns, n[6], sizeof(n[6])),
			report_duration(o->max_ns, n[7], sizeof(n[7])));
	}
}

static void print_errors(FILE *out, const struct analysis *a, bool utf8)
{
	char n1[32], n2[32], name[16], p[WIDTH * 4];

	if (!a->nerrnos)
		return;
	heading(out, "Errors by errno");
	for (size_t i = 0; i < a->nerrnos; i++) {
		const struct an_errno *e = &a->errnos[i];
		char main_op[64];
		snprintf(main_op, sizeof(main_op), "%s%s %s",
			 e->top_op_count < e->count ? "mostly " : "", rec_op_name(e->top_op),
			 report_count(e->top_op_count, n2, sizeof(n2)));
		fprintf(out, "  %-12s %10s %6s  %-34.34s  %s\n",
			analysis_errno_name(e->result, name, sizeof(name)),
			report_count(e->count, n1, sizeof(n1)),
			report_share(e->count, a->errors, n2, sizeof(n2)), strerror(-e->result),
			main_op);
	}
	if (!a->nfailing)
		return;
	heading(out, "Top failing paths, and who looked (leaving out xattr probes)");
	for (size_t i = 0; i < a->nfailing; i++) {
		const struct an_failing *f = &a->failing[i];
		fprintf(out, "  %10s  %-8s %s\n", report_count(f->count, n1, sizeof(n1)),
			analysis_errno_name(f->result, name, sizeof(name)),
			report_path(f->path, WIDTH - 24, utf8, p, sizeof(p)));
		fprintf(out, "%24s", "by ");
		for (size_t j = 0; j < f->nprocs; j++)
			fprintf(out, "%s%s (%s)", j ? ", " : "",
				report_path(f->procs[j].name ? f->procs[j].name : "(unknown)", 20,
					    utf8, p, sizeof(p)),
				report_count(f->procs[j].count, n1, sizeof(n1)));
		fputc('\n', out);
	}
}

static void print_processes(FILE *out, const struct analysis *a, bool utf8)
{
	char n[6][32], p[64];

	heading(out, "Processes, by command name");
	fprintf(out, "  %-18s %8s %11s %6s %10s %10s %10s\n", "command", "pids", "events", "share",
		"read", "written", "fs time");
	for (size_t i = 0; i < a->nprocesses; i++) {
		const struct an_process *pr = &a->processes[i];
		fputs("  ", out);
		pad(out, report_path(pr->comm ? pr->comm : "(unknown)", 18, utf8, p, sizeof(p)),
		    18);
		fprintf(out, " %8s %11s %6s %10s %10s %10s\n",
			report_count(pr->pids, n[0], sizeof(n[0])),
			report_count(pr->events, n[1], sizeof(n[1])),
			report_share(pr->events, a->events, n[2], sizeof(n[2])),
			report_bytes(pr->bytes_read, n[3], sizeof(n[3])),
			report_bytes(pr->bytes_written, n[4], sizeof(n[4])),
			report_duration(pr->fs_ns, n[5], sizeof(n[5])));
	}
	if (a->nprocesses_total > a->nprocesses)
		fprintf(out, "  ... and %zu more commands\n", a->nprocesses_total - a->nprocesses);
}

static void print_hot(FILE *out, const char *title, const struct an_hot *hot, size_t n, bool utf8)
{
	char n1[32], n2[32], n3[32], p[WIDTH * 4];

	if (!n)
		return;
	heading(out, title);
	fprintf(out, "  %10s %10s %10s  %s\n", "events", "read", "written", "path");
	for (size_t i = 0; i < n; i++)
		fprintf(out, "  %10s %10s %10s  %s\n", report_count(hot[i].events, n1, sizeof(n1)),
			report_bytes(hot[i].bytes_read, n2, sizeof(n2)),
			report_bytes(hot[i].bytes_written, n3, sizeof(n3)),
			report_path(hot[i].path, WIDTH - 38, utf8, p, sizeof(p)));
}

/* A bar of width BAR_WIDTH for value/max, with eighth blocks in UTF-8. */
static void bar(FILE *out, int64_t value, int64_t max, bool utf8)
{
	static const char *const eighths[] = {"", "▏", "▎", "▍", "▌", "▋", "▊", "▉"};
	int64_t units = max > 0 ? value * BAR_WIDTH * 8 / max : 0;
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

/* "cc1 45.1%, as 20.0%" in at most width columns (whole entries only). */
static void commands_list(char *buf, size_t size, size_t width, const struct an_count *counts,
			  size_t n, int64_t total, bool utf8)
{
	size_t used = 0;
	char p[64], share[16], entry[96];

	buf[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int len = snprintf(entry, sizeof(entry), "%s%s %s", i ? ", " : "",
				   report_path(counts[i].name, 16, utf8, p, sizeof(p)),
				   report_share(counts[i].count, total, share, sizeof(share)));
		if (columns_of(buf) + columns_of(entry) > width || used + (size_t)len + 1 > size)
			break;
		memcpy(buf + used, entry, (size_t)len + 1);
		used += (size_t)len;
	}
}

static void print_timeline(FILE *out, const struct analysis *a, bool utf8)
{
	char t[32], n1[32], width[32], cmds[256];
	int64_t max = 0;

	if (!a->nbuckets)
		return;
	for (size_t b = 0; b < a->nbuckets; b++)
		if (a->buckets[b].events > max)
			max = a->buckets[b].events;
	char title[128];
	snprintf(title, sizeof(title), "Timeline (each line %s; phase number, busiest commands)",
		 report_duration(a->bucket_ns, width, sizeof(width)));
	heading(out, title);
	for (size_t b = 0; b < a->nbuckets; b++) {
		const struct an_bucket *k = &a->buckets[b];
		fprintf(out, "  %8s ", report_offset(k->start_ns - a->first_ns, t, sizeof(t)));
		bar(out, k->events, max, utf8);
		fprintf(out, " %9s", report_count(k->events, n1, sizeof(n1)));
		if (k->phase >= 0)
			fprintf(out, "  %2d ", k->phase + 1);
		else
			fputs("     ", out);
		commands_list(cmds, sizeof(cmds), WIDTH - 2 - 9 - BAR_WIDTH - 10 - 5, k->commands,
			      k->ncommands, k->events, utf8);
		fprintf(out, "%s\n", cmds);
	}
}

static void print_phases(FILE *out, const struct analysis *a, bool utf8)
{
	char t1[32], d[32], n1[32], n2[32], n3[32], p[64], cmds[256];

	if (!a->nphases)
		return;
	heading(out, "Phases (a phase is named after the command that leads it)");
	fprintf(out, "  %2s %-18s %8s %9s %10s %9s %9s  %s\n", "#", "leader", "start", "length",
		"events", "created", "removed", "busiest commands");
	for (size_t i = 0; i < a->nphases; i++) {
		const struct an_phase *ph = &a->phases[i];
		fprintf(out, "  %2zu ", i + 1);
		pad(out, report_path(ph->name, 18, utf8, p, sizeof(p)), 18);
		commands_list(cmds, sizeof(cmds), WIDTH - 75, ph->commands, ph->ncommands,
			      ph->events, utf8);
		fprintf(out, " %8s %9s %10s %9s %9s  %s\n",
			report_offset(ph->start_ns - a->first_ns, t1, sizeof(t1)),
			report_duration(ph->end_ns - ph->start_ns, d, sizeof(d)),
			report_count(ph->events, n1, sizeof(n1)),
			report_count(ph->created, n2, sizeof(n2)),
			report_count(ph->removed, n3, sizeof(n3)), cmds);
	}
}

/* The numbers beside each path of a finding. */
static void finding_item(FILE *out, const struct an_finding *f, const struct an_item *item,
			 bool utf8)
{
	char n1[32], n2[32], p[WIDTH * 4];
	const char *path = report_path(item->path, WIDTH - 40, utf8, p, sizeof(p));

	report_count(item->a, n1, sizeof(n1));
	switch (f->kind) {
	case FINDING_REOPENED:
		fprintf(out, "      %10s opens, %10s read  %s\n", n1,
			report_bytes(item->b, n2, sizeof(n2)), path);
		break;
	case FINDING_MISSING: fprintf(out, "      %10s failed lookups   %s\n", n1, path); break;
	case FINDING_TINY_IO:
		fprintf(out, "      %10s of %10s I/Os tiny  %s\n", n1,
			report_count(item->b, n2, sizeof(n2)), path);
		break;
	case FINDING_RELISTED:
		fprintf(out, "      %10s listings, %8s readdirs  %s\n", n1,
			report_count(item->b, n2, sizeof(n2)), path);
		break;
	case FINDING_FSYNC:
		fprintf(out, "      %10s fsyncs, %10s  %s\n", n1,
			report_duration(item->b, n2, sizeof(n2)), path);
		break;
	default: break;
	}
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

static void print_findings(FILE *out, const struct analysis *a, bool utf8)
{
	char summary[512];

	heading(out, "Findings");
	if (!a->nfindings)
		fputs("  nothing stands out\n", out);
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct an_finding *f = &a->findings[i];
		report_finding_summary(a, f, summary, sizeof(summary));
		fprintf(out, "  * %s\n", report_finding_title(f->kind));
		wrapped(out, summary, 4);
		for (size_t j = 0; j < f->nitems; j++)
			finding_item(out, f, &f->items[j], utf8);
	}
}

void report_text(FILE *out, const struct analysis *a, bool utf8)
{
	print_header(out, a, utf8);
	print_summary(out, a);
	if (!a->events) {
		fputs("\nThe trace holds no events.\n", out);
		return;
	}
	print_operations(out, a);
	print_errors(out, a, utf8);
	print_processes(out, a, utf8);
	print_hot(out, "Hot files, by events", a->hot_files_events, a->nhot_files_events, utf8);
	print_hot(out, "Hot files, by bytes", a->hot_files_bytes, a->nhot_files_bytes, utf8);
	print_hot(out, "Hot directories (events on them and their entries), by events",
		  a->hot_dirs_events, a->nhot_dirs_events, utf8);
	print_hot(out, "Hot directories, by bytes", a->hot_dirs_bytes, a->nhot_dirs_bytes, utf8);
	print_timeline(out, a, utf8);
	print_phases(out, a, utf8);
	print_findings(out, a, utf8);
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
		FINDING_REOPEN_MIN, FINDING_MISSING_MIN, FINDING_TINY_MIN, FINDING_TINY_BYTES,
		FINDING_RELIST_MIN, DEFAULT_TOP);
}

struct report_args {
	bool json;
	const char *html;
	int top;
	const char *file;
};

/* 0, 1 for --help, or 2 for a usage error (already reported). */
static int parse_args(int argc, char **argv, struct report_args *args)
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

	*args = (struct report_args){.top = DEFAULT_TOP};
	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1) {
		switch (c) {
		case 'j': args->json = true; break;
		case 'H': args->html = optarg; break;
		case 't':
			args->top = (int)strtol(optarg, &end, 10);
			if (*end || end == optarg || args->top < 1 || args->top > MAX_TOP) {
				fprintf(stderr, "%s: --top wants a number from 1 to %d, not '%s'\n",
					argv[0], MAX_TOP, optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "%s: %s\n", argv[0],
			optind == argc ? "which trace? give FILE.db" : "give one trace file");
		usage(stderr);
		return 2;
	}
	args->file = argv[optind];
	return 0;
}

static bool utf8_terminal(void)
{
	if (!setlocale(LC_CTYPE, ""))
		return false;
	return strcmp(nl_langinfo(CODESET), "UTF-8") == 0;
}

static int write_html(const char *prog, const struct analysis *a, const char *path,
		      const char *trace)
{
	struct outfile out;
	char err[512];

	if (outfile_open(&out, path, trace, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	report_html(out.file, a);
	if (outfile_commit(&out, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	fprintf(stderr, "%s: wrote %s\n", prog, path);
	return 0;
}

int rec_report_command(int argc, char **argv)
{
	struct report_args args;
	int rc = parse_args(argc, argv, &args);

	if (rc != 0)
		return rc == 1 ? 0 : rc;
	struct analysis a;
	char err[1024];
	if (rec_reader_stop_on_signals() != 0) {
		fprintf(stderr, "%s: cannot set signal handlers: %s\n", argv[0], strerror(errno));
		return 1;
	}
	if (args.html && rec_output_check(args.html, args.file, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err); /* before the work, not after */
		return 1;
	}
	if (analysis_run(args.file, args.top, &a, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", argv[0], err);
		return rec_reader_interrupted() ? 128 + rec_reader_interrupted() : 1;
	}
	int status = 0;
	if (args.html)
		status = write_html(argv[0], &a, args.html, args.file);
	if (args.json)
		report_json(stdout, &a);
	else if (!args.html)
		report_text(stdout, &a, utf8_terminal());
	analysis_free(&a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write the report to standard output\n", argv[0]);
		return 1;
	}
	return status;
}
