/*
 * report_html.c — `tracefs report --html OUT`: the analysis as one
 * self-contained HTML page (inline CSS, inline SVG charts, no script, no
 * fetches), readable offline and fit to mail around: a timeline coloured by
 * phase, the operation mix and where the time goes, then the tables of the
 * terminal report.
 */
#include <inttypes.h>
#include <string.h>

#include "recorder/report.h"

#define CHART_WIDTH 960
#define TIMELINE_HEIGHT 180
#define TIMELINE_TOP 26 /* room for the phase names */
#define ROW_HEIGHT 18
#define LABEL_WIDTH 140
#define PATH_WIDTH 110 /* characters of a path in a table */

static const char *const palette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
				      "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
#define PALETTE_SIZE (sizeof(palette) / sizeof(palette[0]))

static const char *const style =
	"body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1000px;color:#222}"
	"h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #ddd}"
	"table{border-collapse:collapse;margin:6px 0}"
	"td,th{padding:2px 8px;text-align:right;white-space:nowrap}"
	"th{background:#f3f3f3}td.l,th.l{text-align:left}"
	"td.p{text-align:left;font-family:monospace;white-space:normal;word-break:break-all}"
	"tr:nth-child(even) td{background:#fafafa}"
	".cards{display:flex;flex-wrap:wrap;gap:10px}"
	".card{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:120px}"
	".card b{display:block;font-size:18px}.muted{color:#777}"
	"svg text{font:11px system-ui,sans-serif}svg text.muted{fill:#777}";

/* Text with &, <, >, " escaped, and bytes that are no UTF-8 shown as \xNN. */
static void text(FILE *out, const char *s, size_t width)
{
	char shown[PATH_WIDTH * 8];

	for (const char *c = report_path(s, width, true, shown, sizeof(shown)); *c; c++) {
		switch (*c) {
		case '&': fputs("&amp;", out); break;
		case '<': fputs("&lt;", out); break;
		case '>': fputs("&gt;", out); break;
		case '"': fputs("&quot;", out); break;
		default: fputc(*c, out); break;
		}
	}
}

static void heading(FILE *out, const char *title)
{
	fprintf(out, "<h2>%s</h2>\n", title);
}

static void card(FILE *out, const char *label, const char *value)
{
	fprintf(out, "<div class=card><span class=muted>%s</span><b>%s</b></div>", label, value);
}

static void write_header(FILE *out, const struct analysis *a)
{
	char n1[32], n2[32], v[96];

	fputs("<h1>tracefs report: ", out);
	text(out, a->file, PATH_WIDTH);
	fputs("</h1>\n<p class=muted>", out);
	if (a->source) {
		fputs("source ", out);
		text(out, a->source, PATH_WIDTH);
	}
	if (a->start_time) {
		fputs(", started ", out);
		text(out, a->start_time, 40);
	}
	if (a->host) {
		fputs(" on ", out);
		text(out, a->host, 40);
	}
	if (a->cache_mode) {
		fputs(", cache mode ", out);
		text(out, a->cache_mode, 20);
	}
	fputs("</p>\n<div class=cards>", out);
	card(out, "duration", report_duration(a->end_ns - a->first_ns, n1, sizeof(n1)));
	card(out, "events", report_count(a->events, n1, sizeof(n1)));
	snprintf(v, sizeof(v), "%s (%s)", report_count(a->errors, n1, sizeof(n1)),
		 report_share(a->errors, a->events, n2, sizeof(n2)));
	card(out, "errors", v);
	card(out, "read", report_bytes(a->bytes_read, n1, sizeof(n1)));
	card(out, "written", report_bytes(a->bytes_written, n1, sizeof(n1)));
	snprintf(v, sizeof(v), "%s files, %s dirs", report_count(a->files_created, n1, sizeof(n1)),
		 report_count(a->dirs_created, n2, sizeof(n2)));
	card(out, "created", v);
	snprintf(v, sizeof(v), "%s files, %s dirs", report_count(a->files_removed, n1, sizeof(n1)),
		 report_count(a->dirs_removed, n2, sizeof(n2)));
	card(out, "removed", v);
	card(out, "time in the file system", report_duration(a->fs_ns, n1, sizeof(n1)));
	if (a->events_lost)
		card(out, "LOST while recording", report_count(a->events_lost, n1, sizeof(n1)));
	fputs("</div>\n", out);
}

/* ---- charts ---- */

static const char *phase_colour(int phase)
{
	return phase < 0 ? "#ccc" : palette[(size_t)phase % PALETTE_SIZE];
}

/* Bars of events per bucket, coloured by phase, the phases named above. */
static void timeline_chart(FILE *out, const struct analysis *a)
{
	char t[32], n1[32];
	int64_t max = 1;
	double step = (double)CHART_WIDTH / (double)a->nbuckets;
	int base = TIMELINE_TOP + TIMELINE_HEIGHT;

	for (size_t b = 0; b < a->nbuckets; b++)
		if (a->buckets[b].events > max)
			max = a->buckets[b].events;
	fprintf(out,
		"<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"events over time\">\n",
		CHART_WIDTH, base + 20);
	for (size_t b = 0; b < a->nbuckets; b++) {
		const struct an_bucket *k = &a->buckets[b];
		double h = (double)TIMELINE_HEIGHT * (double)k->events / (double)max;
		int phase = k->phase;
		bool first_of_phase = phase >= 0 && (b == 0 || a->buckets[b - 1].phase != phase);
		fprintf(out,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>%s: %s "
			"events</title></rect>\n",
			(double)b * step + 1, (double)base - h, step - 2, h, phase_colour(phase),
			report_offset(k->start_ns - a->first_ns, t, sizeof(t)),
			report_count(k->events, n1, sizeof(n1)));
		if (first_of_phase) {
			fprintf(out,
				"<rect x=\"%.1f\" y=\"4\" width=\"%.1f\" height=\"4\" fill=\"%s\"/>"
				"<text x=\"%.1f\" y=\"20\">",
				(double)b * step + 1, step - 2, phase_colour(phase),
				(double)b * step + 1);
			text(out, a->phases[phase].name, 30);
			fputs("</text>\n", out);
		}
		if (b % 8 == 0)
			fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"muted\">%s</text>\n",
				(double)b * step + 1, base + 14, t);
	}
	fputs("</svg>\n", out);
}

/* Horizontal bars: label, value, and the value as text. */
struct hbar {
	const char *label;
	int64_t value;
	const char *shown;
};

static void bar_chart(FILE *out, const struct hbar *bars, size_t n)
{
	int64_t max = 1;
	int width = CHART_WIDTH - LABEL_WIDTH - 120;

	for (size_t i = 0; i < n; i++)
		if (bars[i].value > max)
			max = bars[i].value;
	fprintf(out, "<svg width=\"%d\" height=\"%zu\" role=\"img\">\n", CHART_WIDTH,
		n * ROW_HEIGHT + 4);
	for (size_t i = 0; i < n; i++) {
		double w = (double)width * (double)bars[i].value / (double)max;
		size_t y = i * ROW_HEIGHT;
		fprintf(out, "<text x=\"%d\" y=\"%zu\" text-anchor=\"end\">", LABEL_WIDTH - 6,
			y + 13);
		text(out, bars[i].label, 24);
		fprintf(out,
			"</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"%s\"/>"
			"<text x=\"%.1f\" y=\"%zu\">%s</text>\n",
			LABEL_WIDTH, y + 2, w, ROW_HEIGHT - 4, palette[i % PALETTE_SIZE],
			LABEL_WIDTH + w + 6, y + 13, bars[i].shown);
	}
	fputs("</svg>\n", out);
}

static void operation_charts(FILE *out, const struct analysis *a)
{
	struct hbar bars[REC_OP_COUNT] = {0};
	char shown[REC_OP_COUNT][48], n1[32], n2[16];
	size_t n = a->nops < REC_OP_COUNT ? a->nops : REC_OP_COUNT;

	heading(out, "Operation mix");
	for (size_t i = 0; i < n; i++) {
		snprintf(shown[i], sizeof(shown[i]), "%s (%s)",
			 report_count(a->ops[i].count, n1, sizeof(n1)),
			 report_share(a->ops[i].count, a->events, n2, sizeof(n2)));
		bars[i] = (struct hbar){rec_op_name(a->ops[i].op), a->ops[i].count, shown[i]};
	}
	bar_chart(out, bars, n);
	heading(out, "Where the time goes (operation durations added up)");
	for (size_t i = 0; i < n; i++) {
		report_duration(a->ops[i].total_ns, shown[i], sizeof(shown[i]));
		bars[i] = (struct hbar){rec_op_name(a->ops[i].op), a->ops[i].total_ns, shown[i]};
	}
	bar_chart(out, bars, n);
}

/* ---- tables ---- */

static void operations_table(FILE *out, const struct analysis *a)
{
	char n[9][32];

	heading(out, "Operations and latency (nearest-rank percentiles)");
	fputs("<table><tr><th class=l>op<th>count<th>share<th>errors<th>total<th>p50<th>p90"
	      "<th>p99<th>max</tr>\n",
	      out);
	for (size_t i = 0; i < a->nops; i++) {
		const struct an_op *o = &a->ops[i];
		fprintf(out,
			"<tr><td class=l>%s<td>%s<td>%s<td>%s<td>%s<td>%s<td>%s<td>%s<td>%s</tr>\n",
			rec_op_name(o->op), report_count(o->count, n[0], sizeof(n[0])),
			report_share(o->count, a->events, n[1], sizeof(n[1])),
			report_count(o->errors, n[2], sizeof(n[2])),
			report_duration(o->total_ns, n[3], sizeof(n[3])),
			report_duration(o->p50_ns, n[4], sizeof(n[4])),
			report_duration(o->p90_ns, n[5], sizeof(n[5])),
			report_duration(o->p99_ns, n[6], sizeof(n[6])),
			report_duration(o->max_ns, n[7], sizeof(n[7])));
	}
	fputs("</table>\n", out);
}

static void errors_tables(FILE *out, const struct analysis *a)
{
	char name[16], n1[32], n2[32];

	if (!a->nerrnos)
		return;
	heading(out, "Errors by errno");
	fputs("<table><tr><th class=l>errno<th>count<th>share<th class=l>meaning"
	      "<th class=l>mostly</tr>\n",
	      out);
	for (size_t i = 0; i < a->nerrnos; i++) {
		const struct an_errno *e = &a->errnos[i];
		fprintf(out, "<tr><td class=l>%s<td>%s<td>%s<td class=l>%s<td class=l>%s %s</tr>\n",
			analysis_errno_name(e->result, name, sizeof(name)),
			report_count(e->count, n1, sizeof(n1)),
			report_share(e->count, a->errors, n2, sizeof(n2)), strerror(-e->result),
			rec_op_name(e->top_op), report_count(e->top_op_count, n2, sizeof(n2)));
	}
	fputs("</table>\n", out);
	if (!a->nfailing)
		return;
	heading(out, "Top failing paths, and who looked (leaving out xattr probes)");
	fputs("<table><tr><th>failures<th class=l>errno<th class=l>path<th class=l>by</tr>\n", out);
	for (size_t i = 0; i < a->nfailing; i++) {
		const struct an_failing *f = &a->failing[i];
		fprintf(out, "<tr><td>%s<td class=l>%s<td class=p>",
			report_count(f->count, n1, sizeof(n1)),
			analysis_errno_name(f->result, name, sizeof(name)));
		text(out, f->path, PATH_WIDTH);
		fputs("<td class=l>", out);
		for (size_t j = 0; j < f->nprocs; j++) {
			fputs(j ? ", " : "", out);
			text(out, f->procs[j].name ? f->procs[j].name : "(unknown)", 20);
			fprintf(out, " (%s)", report_count(f->procs[j].count, n1, sizeof(n1)));
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void processes_table(FILE *out, const struct analysis *a)
{
	char n[6][32];

	heading(out, "Processes, by command name");
	fputs("<table><tr><th class=l>command<th>pids<th>events<th>share<th>read<th>written"
	      "<th>time in fs</tr>\n",
	      out);
	for (size_t i = 0; i < a->nprocesses; i++) {
		const struct an_process *p = &a->processes[i];
		fputs("<tr><td class=l>", out);
		text(out, p->comm ? p->comm : "(unknown)", 24);
		fprintf(out, "<td>%s<td>%s<td>%s<td>%s<td>%s<td>%s</tr>\n",
			report_count(p->pids, n[0], sizeof(n[0])),
			report_count(p->events, n[1], sizeof(n[1])),
			report_share(p->events, a->events, n[2], sizeof(n[2])),
			report_bytes(p->bytes_read, n[3], sizeof(n[3])),
			report_bytes(p->bytes_written, n[4], sizeof(n[4])),
			report_duration(p->fs_ns, n[5], sizeof(n[5])));
	}
	fputs("</table>\n", out);
	if (a->nprocesses_total > a->nprocesses)
		fprintf(out, "<p class=muted>... and %zu more commands</p>\n",
			a->nprocesses_total - a->nprocesses);
}

static void hot_table(FILE *out, const char *title, const struct an_hot *hot, size_t n)
{
	char n1[32], n2[32], n3[32];

	if (!n)
		return;
	heading(out, title);
	fputs("<table><tr><th>events<th>read<th>written<th class=l>path</tr>\n", out);
	for (size_t i = 0; i < n; i++) {
		fprintf(out, "<tr><td>%s<td>%s<td>%s<td class=p>",
			report_count(hot[i].events, n1, sizeof(n1)),
			report_bytes(hot[i].bytes_read, n2, sizeof(n2)),
			report_bytes(hot[i].bytes_written, n3, sizeof(n3)));
		text(out, hot[i].path, PATH_WIDTH);
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void phases_table(FILE *out, const struct analysis *a)
{
	char t[32], d[32], n[3][32], share[16];

	heading(out, "Phases (each named after the command that leads it)");
	fputs("<table><tr><th>#<th class=l>leader<th>start<th>length<th>events<th>created"
	      "<th>removed<th class=l>busiest commands</tr>\n",
	      out);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct an_phase *p = &a->phases[i];
		fprintf(out, "<tr><td><span style=\"color:%s\">&#9632;</span> %zu<td class=l>",
			phase_colour((int)i), i + 1);
		text(out, p->name, 30);
		fprintf(out, "<td>%s<td>%s<td>%s<td>%s<td>%s<td class=l>",
			report_offset(p->start_ns - a->first_ns, t, sizeof(t)),
			report_duration(p->end_ns - p->start_ns, d, sizeof(d)),
			report_count(p->events, n[0], sizeof(n[0])),
			report_count(p->created, n[1], sizeof(n[1])),
			report_count(p->removed, n[2], sizeof(n[2])));
		for (size_t j = 0; j < p->ncommands; j++) {
			fputs(j ? ", " : "", out);
			text(out, p->commands[j].name, 20);
			fprintf(out, " %s",
				report_share(p->commands[j].count, p->events, share,
					     sizeof(share)));
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
}

static void findings_list(FILE *out, const struct analysis *a)
{
	char summary[512], n1[32], n2[32];

	heading(out, "Findings");
	if (!a->nfindings)
		fputs("<p>Nothing stands out.</p>\n", out);
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct an_finding *f = &a->findings[i];
		report_finding_summary(a, f, summary, sizeof(summary));
		fprintf(out, "<h3>%s</h3>\n<p>", report_finding_title(f->kind));
		text(out, summary, sizeof(summary));
		fputs("</p>\n<table>\n", out);
		for (size_t j = 0; j < f->nitems; j++) {
			const struct an_item *item = &f->items[j];
			bool time = f->kind == FINDING_FSYNC;
			fprintf(out, "<tr><td>%s<td>%s<td class=p>",
				report_count(item->a, n1, sizeof(n1)),
				f->kind == FINDING_MISSING ? ""
				: time ? report_duration(item->b, n2, sizeof(n2))
				: f->kind == FINDING_REOPENED
					? report_bytes(item->b, n2, sizeof(n2))
					: report_count(item->b, n2, sizeof(n2)));
			text(out, item->path, PATH_WIDTH);
			fputs("</tr>\n", out);
		}
		fputs("</table>\n", out);
	}
}

void report_html(FILE *out, const struct analysis *a)
{
	fprintf(out,
		"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
		"<meta name=viewport content=\"width=device-width\">\n<title>tracefs report: ");
	text(out, a->file, PATH_WIDTH);
	fprintf(out, "</title>\n<style>%s</style></head><body>\n", style);
	write_header(out, a);
	if (a->nbuckets) {
		heading(out, "Timeline: events over time, coloured by phase");
		timeline_chart(out, a);
		phases_table(out, a);
		operation_charts(out, a);
		operations_table(out, a);
		errors_tables(out, a);
		processes_table(out, a);
		hot_table(out, "Hot files, by events", a->hot_files_events, a->nhot_files_events);
		hot_table(out, "Hot files, by bytes", a->hot_files_bytes, a->nhot_files_bytes);
		hot_table(out, "Hot directories (events on them and their entries), by events",
			  a->hot_dirs_events, a->nhot_dirs_events);
		hot_table(out, "Hot directories, by bytes", a->hot_dirs_bytes, a->nhot_dirs_bytes);
		findings_list(out, a);
	} else {
		fputs("<p>The trace holds no events.</p>\n", out);
	}
	fputs("<p class=muted>Made by tracefs report.</p>\n</body></html>\n", out);
}
