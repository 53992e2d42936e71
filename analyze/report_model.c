/*
 * report_model.c — the sections of `tracefs report` (report.h): what each
 * table says, its columns with their titles and meanings, and its rows,
 * computed once from the analysis; the terminal and HTML writers only lay
 * them out, and the JSON writer names a finding's numbers after the same
 * columns.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/report.h"

/* A sentence of the notes: "1 file", "1,234 files". */
static const char *counted(int64_t n, const char *one, const char *many, char *buf, size_t size)
{
	char number[32];
	snprintf(buf, size, "%s %s", report_count(n, number, sizeof(number)), n == 1 ? one : many);
	return buf;
}

const char *report_errno_text(int32_t result)
{
	/* strerror takes an int: -INT32_MIN does not fit. */
	return result < 0 && result > INT32_MIN ? strerror(-result) : "unknown error";
}

const char *report_finding_title(enum analyze_finding_kind kind)
{
	switch (kind) {
	case ANALYZE_FINDING_REOPENED: return "files read many times over";
	case ANALYZE_FINDING_MISSING: return "missing paths looked up again and again";
	case ANALYZE_FINDING_TINY_IO: return "tiny reads and writes";
	case ANALYZE_FINDING_RELISTED: return "directories listed again and again";
	case ANALYZE_FINDING_FSYNC: return "time spent in fsync";
	default: return "?";
	}
}

void report_finding_summary(const struct analyze_result *a, const struct analyze_finding *f, char *buf,
			    size_t size)
{
	char what[64], total[64], d[32], share[16];

	switch (f->kind) {
	case ANALYZE_FINDING_REOPENED:
		snprintf(buf, size, "%s opened %d times or more, %s in all.",
			 counted(f->paths, "file", "files", what, sizeof(what)), ANALYZE_FINDING_REOPEN_MIN,
			 counted(f->total, "open", "opens", total, sizeof(total)));
		break;
	case ANALYZE_FINDING_MISSING:
		snprintf(
			buf, size, "%s looked up %d times or more, %s in all.",
			counted(f->paths, "missing path", "missing paths", what, sizeof(what)),
			ANALYZE_FINDING_MISSING_MIN,
			counted(f->total, "failed lookup", "failed lookups", total, sizeof(total)));
		break;
	case ANALYZE_FINDING_TINY_IO:
		snprintf(buf, size,
			 "%s with %d or more reads or writes of 1 to %d bytes (most of theirs), "
			 "%s in all.",
			 counted(f->paths, "file", "files", what, sizeof(what)), ANALYZE_FINDING_TINY_MIN,
			 ANALYZE_FINDING_TINY_BYTES - 1,
			 counted(f->total, "tiny read or write", "tiny reads and writes", total,
				 sizeof(total)));
		break;
	case ANALYZE_FINDING_RELISTED:
		snprintf(buf, size, "%s listed %d times or more, %s in all.",
			 counted(f->paths, "directory", "directories", what, sizeof(what)),
			 ANALYZE_FINDING_RELIST_MIN,
			 counted(f->total, "listing", "listings", total, sizeof(total)));
		break;
	case ANALYZE_FINDING_FSYNC:
		snprintf(buf, size, "%s on %s took %s, %s of the time in the file system.",
			 counted(f->total, "fsync", "fsyncs", total, sizeof(total)),
			 counted(f->paths, "file", "files", what, sizeof(what)),
			 report_duration(f->total_ns, d, sizeof(d)),
			 report_share(f->total_ns, a->fs_ns, share, sizeof(share)));
		break;
	default: snprintf(buf, size, "?"); break;
	}
}

/* The columns of a finding's items: a, b, then the path. */
static const struct report_column finding_columns[ANALYZE_FINDING_KIND_COUNT][2] = {
	[ANALYZE_FINDING_REOPENED] = {{"opens", "opens", REPORT_COUNT}, {"read", "bytes_read", REPORT_BYTES}},
	[ANALYZE_FINDING_MISSING] = {{"failed lookups", "lookups", REPORT_COUNT}, {NULL, NULL, REPORT_COUNT}},
	[ANALYZE_FINDING_TINY_IO] = {{"tiny I/Os", "tiny", REPORT_COUNT},
			     {"of all I/Os", "reads_writes", REPORT_COUNT}},
	[ANALYZE_FINDING_RELISTED] = {{"listings", "listings", REPORT_COUNT},
			      {"readdirs", "readdirs", REPORT_COUNT}},
	[ANALYZE_FINDING_FSYNC] = {{"fsyncs", "fsyncs", REPORT_COUNT},
			   {"time in fsync", "fsync_ns", REPORT_DURATION}},
};

const struct report_column *report_finding_column(enum analyze_finding_kind kind, int which)
{
	if ((unsigned)kind >= ANALYZE_FINDING_KIND_COUNT || which < 0 || which > 1 ||
	    !finding_columns[kind][which].title)
		return NULL;
	return &finding_columns[kind][which];
}

/* ---- building tables ---- */

struct builder {
	struct report_sections *out;
	struct report_table *table; /* the one being filled */
	size_t cap;
	int failed;
};

static struct report_table *table(struct builder *b, enum report_table_id id, const char *title,
				  size_t rows)
{
	if (b->failed)
		return NULL;
	struct report_sections *s = b->out;
	if (s->ntables == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 16;
		struct report_table *bigger = realloc(s->tables, cap * sizeof(*bigger));
		if (!bigger) {
			b->failed = 1;
			return NULL;
		}
		s->tables = bigger;
		b->cap = cap;
	}
	struct report_table *t = &s->tables[s->ntables];
	memset(t, 0, sizeof(*t));
	t->id = id;
	snprintf(t->title, sizeof(t->title), "%s", title);
	t->cells = calloc(rows ? rows : 1, sizeof(*t->cells) * REPORT_MAX_COLUMNS);
	if (!t->cells) {
		b->failed = 1;
		return NULL;
	}
	s->ntables++;
	b->table = t;
	return t;
}

static void column(struct report_table *t, const char *title, enum report_format format)
{
	t->columns[t->ncolumns++] = (struct report_column){title, NULL, format};
}

static struct report_cell *cell(struct report_table *t, size_t row, size_t col)
{
	return &t->cells[row * REPORT_MAX_COLUMNS + col];
}

static void number(struct report_table *t, size_t row, size_t col, int64_t n)
{
	cell(t, row, col)->n = n;
}

static void share(struct report_table *t, size_t row, size_t col, int64_t part, int64_t total)
{
	cell(t, row, col)->n = part;
	cell(t, row, col)->total = total;
}

static void text(struct report_table *t, size_t row, size_t col, const char *s)
{
	cell(t, row, col)->text = s;
}

static void commands(struct report_table *t, size_t row, size_t col, const struct analyze_count *c,
		     size_t n, int64_t total)
{
	struct report_cell *x = cell(t, row, col);
	x->commands = c;
	x->ncommands = n;
	x->total = total;
}

static void operations(struct builder *b, const struct analyze_result *a)
{
	struct report_table *t = table(b, REPORT_OPERATIONS, "Operations and latency", a->nops);
	char n[32];

	if (!t)
		return;
	snprintf(t->note, sizeof(t->note), "Latency: nearest-rank percentiles.%s%s%s",
		 a->attr_probes ? " Errors leave out " : "",
		 a->attr_probes ? report_count(a->attr_probes, n, sizeof(n)) : "",
		 a->attr_probes ? " attribute probes (see Errors)." : "");
	column(t, "op", REPORT_TEXT);
	column(t, "count", REPORT_COUNT);
	column(t, "share", REPORT_SHARE);
	column(t, "errors", REPORT_COUNT);
	column(t, "total", REPORT_DURATION);
	column(t, "p50", REPORT_DURATION);
	column(t, "p90", REPORT_DURATION);
	column(t, "p99", REPORT_DURATION);
	column(t, "max", REPORT_DURATION);
	for (size_t i = 0; i < a->nops; i++) {
		const struct analyze_op *o = &a->ops[i];
		text(t, i, 0, trace_op_name(o->op));
		number(t, i, 1, o->count);
		share(t, i, 2, o->count, a->events);
		number(t, i, 3, o->errors);
		number(t, i, 4, o->total_ns);
		number(t, i, 5, o->p50_ns);
		number(t, i, 6, o->p90_ns);
		number(t, i, 7, o->p99_ns);
		number(t, i, 8, o->max_ns);
	}
	t->nrows = a->nops;
}

static void errors(struct builder *b, const struct analyze_result *a)
{
	char n[32];

	if (a->nerrnos || a->attr_probes) {
		struct report_table *t = table(b, REPORT_ERRNOS, "Errors by errno", a->nerrnos);
		if (!t)
			return;
		if (a->attr_probes)
			snprintf(t->note, sizeof(t->note),
				 "Left out: %s attribute probes that found nothing (getxattr or "
				 "listxattr answered ENODATA or EOPNOTSUPP: security.capability "
				 "before writes, ACLs, SELinux labels). They failed for no program.",
				 report_count(a->attr_probes, n, sizeof(n)));
		column(t, "errno", REPORT_TEXT);
		column(t, "count", REPORT_COUNT);
		column(t, "share", REPORT_SHARE);
		column(t, "meaning", REPORT_TEXT);
		column(t, "mostly", REPORT_TEXT);
		column(t, "times", REPORT_COUNT);
		for (size_t i = 0; i < a->nerrnos; i++) {
			const struct analyze_errno *e = &a->errnos[i];
			struct report_cell *name = cell(t, i, 0);
			text(t, i, 0, analyze_errno_name(e->result, name->buf, sizeof(name->buf)));
			number(t, i, 1, e->count);
			share(t, i, 2, e->count, a->errors);
			text(t, i, 3, report_errno_text(e->result));
			text(t, i, 4, trace_op_name(e->top_op));
			number(t, i, 5, e->top_op_count);
		}
		t->nrows = a->nerrnos;
	}
	if (!a->nfailing)
		return;
	struct report_table *t =
		table(b, REPORT_FAILING, "Top failing paths, and who looked", a->nfailing);
	if (!t)
		return;
	column(t, "failures", REPORT_COUNT);
	column(t, "errno", REPORT_TEXT);
	column(t, "by", REPORT_COMMANDS);
	column(t, "path", REPORT_PATH);
	for (size_t i = 0; i < a->nfailing; i++) {
		const struct analyze_failing *f = &a->failing[i];
		number(t, i, 0, f->count);
		struct report_cell *name = cell(t, i, 1);
		text(t, i, 1, analyze_errno_name(f->result, name->buf, sizeof(name->buf)));
		commands(t, i, 2, f->procs, f->nprocs, 0);
		text(t, i, 3, f->path);
	}
	t->nrows = a->nfailing;
}

static void processes(struct builder *b, const struct analyze_result *a)
{
	struct report_table *t =
		table(b, REPORT_PROCESSES, "Processes, by command name", a->nprocesses);

	if (!t)
		return;
	column(t, "command", REPORT_NAME);
	column(t, "pids", REPORT_COUNT);
	column(t, "events", REPORT_COUNT);
	column(t, "share", REPORT_SHARE);
	column(t, "read", REPORT_BYTES);
	column(t, "written", REPORT_BYTES);
	column(t, "time in fs", REPORT_DURATION);
	for (size_t i = 0; i < a->nprocesses; i++) {
		const struct analyze_process *p = &a->processes[i];
		text(t, i, 0, p->comm ? p->comm : "(unknown)");
		number(t, i, 1, p->pids);
		number(t, i, 2, p->events);
		share(t, i, 3, p->events, a->events);
		number(t, i, 4, p->bytes_read);
		number(t, i, 5, p->bytes_written);
		number(t, i, 6, p->fs_ns);
	}
	t->nrows = a->nprocesses;
	if (a->nprocesses_total > a->nprocesses)
		snprintf(t->after, sizeof(t->after), "... and %zu more commands",
			 a->nprocesses_total - a->nprocesses);
}

static void commands_by_line(struct builder *b, const struct analyze_result *a)
{
	if (!a->lineage)
		return;
	struct report_table *t =
		table(b, REPORT_COMMAND_LINES, "Commands, by command line", a->ncommands);

	if (!t)
		return;
	column(t, "runs", REPORT_COUNT);
	column(t, "events", REPORT_COUNT);
	column(t, "share", REPORT_SHARE);
	column(t, "read", REPORT_BYTES);
	column(t, "written", REPORT_BYTES);
	column(t, "command line", REPORT_PATH);
	for (size_t i = 0; i < a->ncommands; i++) {
		const struct analyze_command *cmd = &a->commands[i];
		number(t, i, 0, cmd->processes);
		number(t, i, 1, cmd->events);
		share(t, i, 2, cmd->events, a->events);
		number(t, i, 3, cmd->bytes_read);
		number(t, i, 4, cmd->bytes_written);
		text(t, i, 5, cmd->line);
	}
	t->nrows = a->ncommands;
	if (a->ncommands_total > a->ncommands)
		snprintf(t->after, sizeof(t->after), "... and %zu more command lines",
			 a->ncommands_total - a->ncommands);
}

static void hot(struct builder *b, enum report_table_id id, const char *title,
		const struct analyze_hot *hot, size_t n)
{
	if (!n)
		return;
	struct report_table *t = table(b, id, title, n);
	if (!t)
		return;
	column(t, "events", REPORT_COUNT);
	column(t, "read", REPORT_BYTES);
	column(t, "written", REPORT_BYTES);
	column(t, "path", REPORT_PATH);
	for (size_t i = 0; i < n; i++) {
		number(t, i, 0, hot[i].events);
		number(t, i, 1, hot[i].bytes_read);
		number(t, i, 2, hot[i].bytes_written);
		text(t, i, 3, hot[i].path);
	}
	t->nrows = n;
}

static void phases(struct builder *b, const struct analyze_result *a)
{
	if (!a->nphases)
		return;
	struct report_table *t = table(b, REPORT_PHASES, "Phases", a->nphases);
	if (!t)
		return;
	snprintf(t->note, sizeof(t->note),
		 "Stretches of the run, each led by one process (the step a script or a person "
		 "ran) and named after what it does.");
	column(t, "#", REPORT_COUNT);
	column(t, "phase", REPORT_NAME);
	column(t, "led by", REPORT_NAME);
	column(t, "start", REPORT_OFFSET);
	column(t, "length", REPORT_DURATION);
	column(t, "events", REPORT_COUNT);
	column(t, "created", REPORT_COUNT);
	column(t, "removed", REPORT_COUNT);
	column(t, "busiest commands", REPORT_COMMANDS);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct analyze_phase *p = &a->phases[i];
		number(t, i, 0, (int64_t)i + 1);
		text(t, i, 1, p->name);
		text(t, i, 2, p->command ? p->command : "-");
		number(t, i, 3, p->start_ns - a->first_ns);
		cell(t, i, 3)->total = a->bucket_ns; /* the offset's precision */
		number(t, i, 4, p->end_ns - p->start_ns);
		number(t, i, 5, p->events);
		number(t, i, 6, p->created);
		number(t, i, 7, p->removed);
		commands(t, i, 8, p->commands, p->ncommands, p->events);
	}
	t->nrows = a->nphases;
}

static void store_commits(struct builder *b, const struct analyze_result *a)
{
	if (!a->ncommits)
		return;
	struct report_table *t = table(b, REPORT_COMMITS, "Commits of the versioned store",
				       a->ncommits);
	if (!t)
		return;
	snprintf(t->note, sizeof(t->note),
		 "Each commit and the events it covers (seq first to last; the trace's "
		 "commits table): those that ended after the previous commit began.");
	column(t, "at", REPORT_OFFSET);
	column(t, "commit", REPORT_NAME);
	column(t, "files", REPORT_COUNT);
	column(t, "first seq", REPORT_COUNT);
	column(t, "last seq", REPORT_COUNT);
	column(t, "took", REPORT_DURATION);
	column(t, "directory", REPORT_PATH);
	for (size_t i = 0; i < a->ncommits; i++) {
		const struct analyze_commit *c = &a->commits[i];
		number(t, i, 0, c->ts_ns - a->first_ns);
		cell(t, i, 0)->total = a->bucket_ns; /* the offset's precision */
		struct report_cell *id = cell(t, i, 1);
		snprintf(id->buf, sizeof(id->buf), "%.12s", c->id ? c->id : "(failed)");
		id->text = id->buf; /* as git abbreviates; --json has the whole id */
		number(t, i, 2, c->files);
		number(t, i, 3, c->first_seq);
		number(t, i, 4, c->last_seq);
		number(t, i, 5, c->dur_ns);
		text(t, i, 6, c->path);
	}
	t->nrows = a->ncommits;
	if (a->ncommits_total > a->ncommits)
		snprintf(t->after, sizeof(t->after), "and %lld more (--top, or the commits table)",
			 (long long)(a->ncommits_total - a->ncommits));
}

static void findings(struct builder *b, const struct analyze_result *a)
{
	for (size_t i = 0; i < a->nfindings; i++) {
		const struct analyze_finding *f = &a->findings[i];
		struct report_table *t =
			table(b, REPORT_FINDING, report_finding_title(f->kind), f->nitems);
		if (!t)
			return;
		t->finding = f;
		report_finding_summary(a, f, t->note, sizeof(t->note));
		for (int which = 0; which < 2; which++) {
			const struct report_column *c = report_finding_column(f->kind, which);
			if (c)
				t->columns[t->ncolumns++] = *c;
		}
		column(t, "path", REPORT_PATH);
		for (size_t j = 0; j < f->nitems; j++) {
			number(t, j, 0, f->items[j].a);
			number(t, j, 1, f->items[j].b);
			text(t, j, t->ncolumns - 1, f->items[j].path);
		}
		t->nrows = f->nitems;
	}
}

/* ---- the summary ---- */

static void fact(struct report_sections *s, const char *label, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fact(struct report_sections *s, const char *label, const char *fmt, ...)
{
	va_list ap;

	if (s->nfacts == REPORT_MAX_FACTS)
		return;
	struct report_fact *f = &s->facts[s->nfacts++];
	f->label = label;
	va_start(ap, fmt);
	vsnprintf(f->value, sizeof(f->value), fmt, ap);
	va_end(ap);
}

static void summary(struct report_sections *s, const struct analyze_result *a)
{
	char n1[32], n2[32], w1[64], w2[64];

	fact(s, "duration", "%s", report_duration(a->end_ns - a->first_ns, n1, sizeof(n1)));
	fact(s, "events", "%s", report_count(a->events, n1, sizeof(n1)));
	fact(s, "errors", "%s (%s of events)", report_count(a->errors, n1, sizeof(n1)),
	     report_share(a->errors, a->events, n2, sizeof(n2)));
	if (a->attr_probes)
		fact(s, "xattr probes", "%s found no attribute (not errors)",
		     report_count(a->attr_probes, n1, sizeof(n1)));
	fact(s, "read", "%s", report_bytes(a->bytes_read, n1, sizeof(n1)));
	fact(s, "written", "%s", report_bytes(a->bytes_written, n1, sizeof(n1)));
	fact(s, "created", "%s, %s", counted(a->files_created, "file", "files", w1, sizeof(w1)),
	     counted(a->dirs_created, "directory", "directories", w2, sizeof(w2)));
	fact(s, "removed", "%s, %s; %s renamed",
	     counted(a->files_removed, "file", "files", w1, sizeof(w1)),
	     counted(a->dirs_removed, "directory", "directories", w2, sizeof(w2)),
	     report_count(a->renamed, n1, sizeof(n1)));
	if (a->temporaries)
		fact(s, "temporaries", "%s made and removed within moments (not hot files)",
		     counted(a->temporaries, "file", "files", w1, sizeof(w1)));
	fact(s, "time in fs", "%s (all operations' durations added up)",
	     report_duration(a->fs_ns, n1, sizeof(n1)));
	if (a->events_lost) /* in double: the two may not add up in int64 */
		fact(s, "LOST", "%s events were lost while recording (%.1f%% of them)",
		     report_count(a->events_lost, n1, sizeof(n1)),
		     100.0 * (double)a->events_lost / ((double)a->events + (double)a->events_lost));
}

int report_sections(const struct analyze_result *a, struct report_sections *out)
{
	struct builder b = {.out = out};

	memset(out, 0, sizeof(*out));
	summary(out, a);
	if (a->events) {
		operations(&b, a);
		errors(&b, a);
		processes(&b, a);
		commands_by_line(&b, a);
		hot(&b, REPORT_HOT, "Hot files, by events", a->hot_files_events,
		    a->nhot_files_events);
		hot(&b, REPORT_HOT, "Hot files, by bytes", a->hot_files_bytes, a->nhot_files_bytes);
		hot(&b, REPORT_HOT, "Hot directories (events on them and their entries), by events",
		    a->hot_dirs_events, a->nhot_dirs_events);
		hot(&b, REPORT_HOT, "Hot directories, by bytes", a->hot_dirs_bytes,
		    a->nhot_dirs_bytes);
		phases(&b, a);
		store_commits(&b, a);
		findings(&b, a);
	}
	if (b.failed) {
		report_sections_free(out);
		return -1;
	}
	return 0;
}

void report_sections_free(struct report_sections *s)
{
	for (size_t i = 0; i < s->ntables; i++)
		free(s->tables[i].cells);
	free(s->tables);
	memset(s, 0, sizeof(*s));
}

/* "cc1 (4), gcc (3)", or with shares of total "cc1 45.1%, as 20.0%", whole entries. */
static void commands_text(const struct report_cell *x, bool utf8, size_t width, char *buf,
			  size_t size)
{
	size_t used = 0, columns = 0;
	char p[64], n[32], entry[128];

	buf[0] = '\0';
	for (size_t i = 0; i < x->ncommands; i++) {
		report_path(x->commands[i].name ? x->commands[i].name : "(unknown)", 16, utf8, p,
			    sizeof(p));
		if (x->total > 0)
			report_share(x->commands[i].count, x->total, n, sizeof(n));
		else
			snprintf(n, sizeof(n), "(%s)",
				 report_count(x->commands[i].count, entry, sizeof(entry)));
		int len = snprintf(entry, sizeof(entry), "%s%s %s", i ? ", " : "", p, n);
		size_t cols = report_columns(entry);
		if (columns + cols > width || used + (size_t)len + 1 > size)
			break;
		memcpy(buf + used, entry, (size_t)len + 1);
		used += (size_t)len;
		columns += cols;
	}
}

const char *report_cell_text(const struct report_column *col, const struct report_cell *x,
			     bool utf8, size_t width, char *buf, size_t size)
{
	switch (col->format) {
	case REPORT_COUNT: return report_count(x->n, buf, size);
	case REPORT_BYTES: return report_bytes(x->n, buf, size);
	case REPORT_DURATION: return report_duration(x->n, buf, size);
	case REPORT_OFFSET: return report_offset(x->n, x->total, buf, size);
	case REPORT_SHARE: return report_share(x->n, x->total, buf, size);
	case REPORT_COMMANDS: commands_text(x, utf8, width, buf, size); return buf;
	case REPORT_TEXT:
	case REPORT_NAME:
	case REPORT_PATH:
	default: return report_path(x->text, width, utf8, buf, size);
	}
}
