/*
 * report.h — private to analyze/: the renderers of `tracefs report` (the
 * terminal, JSON and HTML forms of one struct analyze_result), the model of the
 * sections the terminal and HTML forms lay out, and the number and path
 * formatting they share.
 */
#ifndef TRACEFS_ANALYZE_REPORT_H
#define TRACEFS_ANALYZE_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/analyze.h"

/* Each writes the whole report; the caller checks the stream for errors. */
void report_text(FILE *out, const struct analyze_result *a, bool utf8);
void report_json(FILE *out, const struct analyze_result *a);
void report_html(FILE *out, const struct analyze_result *a);

/*
 * The HTML pages' shared parts (report_html.c), so that every page made
 * from a trace has one style: the head with the style sheet, titled
 * "WHAT: FILE", up to <body>; the closing line; and text escaped for HTML
 * (&, <, >, ") with bytes that are no UTF-8 shown as \xNN, cut at its start
 * to WIDTH columns as report_path() does.
 */
void report_html_begin(FILE *out, const char *what, const char *file);
void report_html_end(FILE *out, const char *what);
void report_html_text(FILE *out, const char *s, size_t width);

/*
 * Writes PATH, made from the trace TRACE, whole or not at all (see
 * trace_outfile_open): WRITE(file, WHAT) writes the content. Says "PROG:
 * wrote PATH" on standard error; returns 0, or 1 after saying what failed.
 */
int report_write_page(const char *prog, const char *path, const char *trace,
		      void (*write)(FILE *out, const void *what), const void *what);

/*
 * The HTML pages' shared parts (report_html.c), so that every page made
 * from a trace has one style: the head with the style sheet, titled
 * "WHAT: FILE", up to <body>; the closing line; and text escaped for HTML
 * (&, <, >, ") with bytes that are no UTF-8 shown as \xNN, cut at its start
 * to WIDTH columns as report_path() does.
 */
void report_html_begin(FILE *out, const char *what, const char *file);
void report_html_end(FILE *out, const char *what);
void report_html_text(FILE *out, const char *s, size_t width);

/*
 * The sections the terminal and HTML forms share, computed once from the
 * analysis (report_model.c): the summary as label and value, then tables
 * whose columns say what their numbers mean.
 */
enum report_format {
	REPORT_TEXT,	 /* left-aligned text */
	REPORT_NAME,	 /* a command or phase name, left-aligned */
	REPORT_PATH,	 /* a path: the column that takes the room left, cut at its start */
	REPORT_COMMANDS, /* commands with counts, or shares of the cell's total */
	REPORT_COUNT,	 /* the rest are numbers, right-aligned */
	REPORT_BYTES,
	REPORT_DURATION,
	REPORT_OFFSET, /* a time since the first event; total: its precision (report_offset) */
	REPORT_SHARE,  /* n of the cell's total */
};

struct report_column {
	const char *title;
	const char *key; /* in JSON, for the findings' items */
	enum report_format format;
};

struct report_cell {
	int64_t n, total;
	const char *text;
	const struct analyze_count *commands;
	size_t ncommands;
	char buf[16]; /* room for a text the cell owns (an errno's name) */
};

enum report_table_id {
	REPORT_OPERATIONS,
	REPORT_ERRNOS,
	REPORT_FAILING,
	REPORT_PROCESSES,
	REPORT_COMMAND_LINES,
	REPORT_HOT,
	REPORT_PHASES,
	REPORT_COMMITS,
	REPORT_FINDING,
};

#define REPORT_MAX_COLUMNS 10
#define REPORT_MAX_FACTS 12

struct report_table {
	enum report_table_id id;
	char title[96];
	char note[512];	 /* a paragraph before the rows, or "" */
	char after[64];	 /* a line after them, or "" */
	const struct analyze_finding *finding; /* REPORT_FINDING: which */
	struct report_column columns[REPORT_MAX_COLUMNS];
	size_t ncolumns;
	struct report_cell *cells; /* row r, column c: cells[r * REPORT_MAX_COLUMNS + c] */
	size_t nrows;
};

struct report_fact {
	const char *label;
	char value[128];
};

struct report_sections {
	struct report_fact facts[REPORT_MAX_FACTS];
	size_t nfacts;
	struct report_table *tables; /* in the terminal report's order */
	size_t ntables;
};

/* 0, or -1 out of memory (nothing to free). Borrows strings from a. */
int report_sections(const struct analyze_result *a, struct report_sections *out);
void report_sections_free(struct report_sections *sections);

/* A cell as text, in at most width columns (paths and command lists are cut). */
const char *report_cell_text(const struct report_column *column, const struct report_cell *cell,
			     bool utf8, size_t width, char *buf, size_t size);

/* The columns of a finding's two numbers (which 0 or 1); NULL if it has none. */
const struct report_column *report_finding_column(enum analyze_finding_kind kind, int which);

/* strerror of a negative result, for any int32_t. */
const char *report_errno_text(int32_t result);

/* How many terminal columns a string from report_path takes. */
size_t report_columns(const char *s);

/*
 * The options of the commands that write a report of a trace (report,
 * diff): --json, --html OUT, --top N (1 to max_top), -h/--help (USAGE on
 * standard output). Leaves the operands from argv[optind]; options holds
 * the caller's defaults. 0, 1 after --help, or 2 for a usage error
 * (already reported, with USAGE on standard error).
 */
struct report_options {
	bool json;
	const char *html;
	int top;
};
int report_parse_options(int argc, char **argv, struct report_options *options, int max_top,
			 void (*usage)(FILE *out));

/* Whether the locale's character set is UTF-8 (sets LC_CTYPE from the environment). */
bool report_utf8_terminal(void);

/* Prints s in width columns, left- or right-aligned (printf would count bytes). */
void report_pad(FILE *out, const char *s, size_t width, bool left);

/* Whether the locale's character set is UTF-8 (sets LC_CTYPE from the environment). */
bool report_utf8_terminal(void);

/* Prints s in width columns, left- or right-aligned (printf would count bytes). */
void report_pad(FILE *out, const char *s, size_t width, bool left);

/* 1,234,567 */
const char *report_count(int64_t n, char *buf, size_t size);
/* 512 B, 1.5 KiB, 12.3 MiB, ... */
const char *report_bytes(int64_t n, char *buf, size_t size);
/* 850 ns, 12.5 us, 3.20 ms, 1.25 s, 4m26.8s, 1h02m */
const char *report_duration(int64_t ns, char *buf, size_t size);
/*
 * A time since the first event, with the decimals that tell apart times
 * STEP_NS apart (tenths at least; STEP_NS <= 0: tenths): 0:00.0, 4:26.8,
 * 1:02:03; 0:00.012 for a step of a millisecond.
 */
const char *report_offset(int64_t ns, int64_t step_ns, char *buf, size_t size);
/* 12.3% of total (0 when total is 0) */
const char *report_share(int64_t part, int64_t total, char *buf, size_t size);

/*
 * A path (or any trace string) made safe for a terminal: bytes below 0x20,
 * 0x7f and, unless utf8, bytes above 0x7f are shown as \xNN. If longer than
 * width columns, the start is cut and replaced by "...". NULL shows as
 * "(none)".
 */
const char *report_path(const char *path, size_t width, bool utf8, char *buf, size_t size);

/* What a finding is called, and a sentence about it with its numbers. */
const char *report_finding_title(enum analyze_finding_kind kind);
void report_finding_summary(const struct analyze_result *a, const struct analyze_finding *f, char *buf,
			    size_t size);

#endif
