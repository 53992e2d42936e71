/*
 * report_html.c — `tracefs report --html OUT`: the analysis as one
 * self-contained HTML page (inline CSS, inline SVG charts, no script, no
 * fetches), readable offline and fit to mail around: a timeline coloured by
 * phase, the operation mix and where the time goes, then the sections of
 * the terminal report (report_model.c) as tables.
 */
#include <inttypes.h>
#include <string.h>

#include "analyze/report.h"

#define CHART_WIDTH 960
#define TIMELINE_HEIGHT 180
#define LABEL_ROWS 3	/* of phase names above the timeline */
#define LABEL_ROW_HEIGHT 14
#define LABEL_CHAR_WIDTH 6.5 /* px, at 11px: enough for system-ui's widest */
#define TIMELINE_TOP (LABEL_ROWS * LABEL_ROW_HEIGHT + 12)
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

void report_html_text(FILE *out, const char *s, size_t width)
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

static void text(FILE *out, const char *s, size_t width)
{
	report_html_text(out, s, width);
}

static void heading(FILE *out, const char *title)
{
	fprintf(out, "<h2>%s</h2>\n", title);
}

void report_html_begin(FILE *out, const char *what, const char *file)
{
	fprintf(out,
		"<!DOCTYPE html>\n<html lang=en><head><meta charset=utf-8>\n"
		"<meta name=viewport content=\"width=device-width\">\n<title>%s: ",
		what);
	text(out, file, PATH_WIDTH);
	fprintf(out, "</title>\n<style>%s</style></head><body>\n", style);
}

void report_html_end(FILE *out, const char *what)
{
	fprintf(out, "<p class=muted>Made by %s.</p>\n</body></html>\n", what);
}

static void write_header(FILE *out, const struct analyze_result *a, const struct report_sections *sections)
{
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
	for (size_t i = 0; i < sections->nfacts; i++) {
		fputs("<div class=card><span class=muted>", out);
		text(out, sections->facts[i].label, 40);
		fputs("</span><b>", out);
		text(out, sections->facts[i].value, sizeof(sections->facts[i].value));
		fputs("</b></div>", out);
	}
	fputs("</div>\n", out);
}

/* ---- charts ---- */

static const char *phase_colour(int phase)
{
	return phase < 0 ? "#ccc" : palette[(size_t)phase % PALETTE_SIZE];
}

/*
 * Bars of events per bucket, coloured by phase; above them each phase as a
 * band over its exact time, named at its start on the first of
 * LABEL_ROWS rows where the name fits, else by its number, else not at
 * all (the table below names it): labels never overprint.
 */
static void timeline_chart(FILE *out, const struct analyze_result *a)
{
	char t[32], n1[32], label[64];
	int64_t max = 1;
	double step = (double)CHART_WIDTH / (double)a->nbuckets;
	double row_end[LABEL_ROWS] = {0};
	double span = (double)(a->end_ns - a->first_ns > 0 ? a->end_ns - a->first_ns : 1);
	int base = TIMELINE_TOP + TIMELINE_HEIGHT;

	for (size_t b = 0; b < a->nbuckets; b++)
		if (a->buckets[b].events > max)
			max = a->buckets[b].events;
	fprintf(out,
		"<svg width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"events over time\">\n",
		CHART_WIDTH, base + 20);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct analyze_phase *p = &a->phases[i];
		double x = CHART_WIDTH * (double)(p->start_ns - a->first_ns) / span;
		double w = CHART_WIDTH * (double)(p->end_ns - p->start_ns) / span;
		fprintf(out,
			"<rect x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"5\" fill=\"%s\">"
			"<title>",
			x, TIMELINE_TOP - 8, w < 1 ? 1 : w, phase_colour((int)i));
		text(out, p->name, 30);
		fputs("</title></rect>\n", out);
		for (int shortened = 0; shortened < 2; shortened++) {
			if (shortened)
				snprintf(label, sizeof(label), "%zu", i + 1);
			else
				snprintf(label, sizeof(label), "%zu %.40s", i + 1, p->name);
			double width = LABEL_CHAR_WIDTH * (double)report_columns(label);
			double at = x + width > CHART_WIDTH ? CHART_WIDTH - width : x; /* the last */
			int row = 0;
			while (row < LABEL_ROWS && at < row_end[row])
				row++;
			if (row == LABEL_ROWS)
				continue;
			row_end[row] = at + width + 6;
			fprintf(out, "<text x=\"%.1f\" y=\"%d\">", at, 12 + row * LABEL_ROW_HEIGHT);
			text(out, label, sizeof(label));
			fputs("</text>\n", out);
			break;
		}
	}
	for (size_t b = 0; b < a->nbuckets; b++) {
		const struct analyze_bucket *k = &a->buckets[b];
		double h = (double)TIMELINE_HEIGHT * (double)k->events / (double)max;
		fprintf(out,
			"<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
			"<title>%s: %s events</title></rect>\n",
			(double)b * step + 1, (double)base - h, step - 2, h, phase_colour(k->phase),
			report_offset(k->start_ns - a->first_ns, a->bucket_ns, t, sizeof(t)),
			report_count(k->events, n1, sizeof(n1)));
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

static void operation_charts(FILE *out, const struct analyze_result *a)
{
	struct hbar bars[TRACE_OP_COUNT] = {0};
	char shown[TRACE_OP_COUNT][48], n1[32], n2[16];
	size_t n = a->nops < TRACE_OP_COUNT ? a->nops : TRACE_OP_COUNT;

	heading(out, "Operation mix");
	for (size_t i = 0; i < n; i++) {
		snprintf(shown[i], sizeof(shown[i]), "%s (%s)",
			 report_count(a->ops[i].count, n1, sizeof(n1)),
			 report_share(a->ops[i].count, a->events, n2, sizeof(n2)));
		bars[i] = (struct hbar){trace_op_name(a->ops[i].op), a->ops[i].count, shown[i]};
	}
	bar_chart(out, bars, n);
	heading(out, "Where the time goes (operation durations added up)");
	for (size_t i = 0; i < n; i++) {
		report_duration(a->ops[i].total_ns, shown[i], sizeof(shown[i]));
		bars[i] = (struct hbar){trace_op_name(a->ops[i].op), a->ops[i].total_ns, shown[i]};
	}
	bar_chart(out, bars, n);
}

/* ---- tables ---- */

static bool left_aligned(enum report_format format)
{
	return format == REPORT_TEXT || format == REPORT_NAME || format == REPORT_PATH ||
	       format == REPORT_COMMANDS;
}

/* A table of the model, its columns titled; the phases' numbers in their colour. */
static void table(FILE *out, const struct report_table *t)
{
	char buf[PATH_WIDTH * 8];

	if (t->id == REPORT_FINDING)
		fputs("<h3>", out);
	else
		fputs("<h2>", out);
	text(out, t->title, sizeof(t->title));
	fputs(t->id == REPORT_FINDING ? "</h3>\n" : "</h2>\n", out);
	if (t->note[0]) {
		fputs("<p>", out);
		text(out, t->note, sizeof(t->note));
		fputs("</p>\n", out);
	}
	fputs("<table><tr>", out);
	for (size_t c = 0; c < t->ncolumns; c++) {
		fputs(left_aligned(t->columns[c].format) ? "<th class=l>" : "<th>", out);
		text(out, t->columns[c].title, 40);
	}
	fputs("</tr>\n", out);
	for (size_t r = 0; r < t->nrows; r++) {
		fputs("<tr>", out);
		for (size_t c = 0; c < t->ncolumns; c++) {
			enum report_format f = t->columns[c].format;
			fputs(f == REPORT_PATH ? "<td class=p>" : left_aligned(f) ? "<td class=l>" : "<td>",
			      out);
			if (t->id == REPORT_PHASES && c == 0)
				fprintf(out, "<span style=\"color:%s\">&#9632;</span> ",
					phase_colour((int)r));
			text(out,
			     report_cell_text(&t->columns[c], &t->cells[r * REPORT_MAX_COLUMNS + c],
					      true, f == REPORT_PATH ? PATH_WIDTH : 60, buf, sizeof(buf)),
			     sizeof(buf));
		}
		fputs("</tr>\n", out);
	}
	fputs("</table>\n", out);
	if (t->after[0])
		fprintf(out, "<p class=muted>%s</p>\n", t->after);
}

void report_html(FILE *out, const struct analyze_result *a)
{
	struct report_sections s;
	bool findings = false;

	report_html_begin(out, "tracefs report", a->file);
	if (report_sections(a, &s) != 0) {
		fputs("<p>Out of memory: no report.</p></body></html>\n", out);
		return;
	}
	write_header(out, a, &s);
	if (a->nbuckets) {
		heading(out, "Timeline: events over time, coloured by phase");
		timeline_chart(out, a);
		for (size_t i = 0; i < s.ntables; i++)
			if (s.tables[i].id == REPORT_PHASES)
				table(out, &s.tables[i]);
		operation_charts(out, a);
		for (size_t i = 0; i < s.ntables; i++) {
			if (s.tables[i].id == REPORT_PHASES)
				continue;
			if (s.tables[i].id == REPORT_FINDING && !findings) {
				heading(out, "Findings");
				findings = true;
			}
			table(out, &s.tables[i]);
		}
		if (!findings)
			fputs("<h2>Findings</h2>\n<p>Nothing stands out.</p>\n", out);
	} else {
		fputs("<p>The trace holds no events.</p>\n", out);
	}
	report_sections_free(&s);
	report_html_end(out, "tracefs report");
}
