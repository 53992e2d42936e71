/*
 * report_json.c — `tracefs report --json`: the analysis as one JSON object.
 * The keys are stable (scripts read them); times are integers in ns, the
 * absolute ones since the Unix epoch, sizes in bytes, shares as fractions.
 *
 *   file, meta{source, mountpoint, host, start_time, cache_mode,
 *     command_line, events_lost}, first_ns, end_ns, duration_ns, events,
 *   errors, bytes_read, bytes_written, fs_ns, created{files, dirs},
 *   removed{files, dirs}, renamed, temporaries, attribute_probes,
 *   operations[{op, count, share, errors, bytes, total_ns, p50_ns, p90_ns,
 *     p99_ns, max_ns}],
 *   errors_by_errno[{errno, name, count}] (errors and these leave out
 *     attribute_probes: getxattr/listxattr answered ENODATA or EOPNOTSUPP),
 *   failing_paths[{path, errno, name, count, processes[{comm, count}]}],
 *   processes[{comm, pids, events, bytes_read, bytes_written, fs_ns}],
 *   processes_total,
 *   commands[{command_line, argv[], processes, events, bytes_read, bytes_written, fs_ns}]
 *     (null in a trace without process lineage), commands_total,
 *   hot_files{by_events, by_bytes}, hot_directories{by_events, by_bytes}:
 *     [{path, events, bytes_read, bytes_written}],
 *   timeline{bucket_ns, buckets[{start_ns, events, bytes, phase,
 *     commands[{comm, count}]}]},
 *   phases[{name, command, start_ns, end_ns, events, created, removed, bytes_read,
 *     bytes_written, commands[{comm, count}]}],
 *   findings[{kind, title, summary, paths, total, total_ns, threshold,
 *     items[{path, ...}]}],
 *   commits[{seq, ts_ns, dur_ns, id, files, path, result, first_seq,
 *     last_seq}] (the versioned store's, the first --top), commits_total
 *
 * phase in a bucket is an index into phases (null if the bucket is idle).
 * A finding's items have the path and one or two numbers named by its kind:
 * reopened: opens, bytes_read; missing: lookups; tiny_io: tiny, reads_writes;
 * relisted: listings, readdirs; fsync: fsyncs, fsync_ns.
 */
#include <inttypes.h>
#include <string.h>

#include "trace/trace.h"
#include "analyze/report.h"

static void key(FILE *out, bool *first, const char *name)
{
	fprintf(out, "%s\"%s\":", *first ? "" : ",", name);
	*first = false;
}

static void key_int(FILE *out, bool *first, const char *name, int64_t value)
{
	key(out, first, name);
	fprintf(out, "%" PRId64, value);
}

static void key_string(FILE *out, bool *first, const char *name, const char *value)
{
	key(out, first, name);
	trace_json_write_string(out, value);
}

static void key_share(FILE *out, bool *first, const char *name, int64_t part, int64_t total)
{
	key(out, first, name);
	fprintf(out, "%.6f", total > 0 ? (double)part / (double)total : 0.0);
}

static void write_meta(FILE *out, const struct analyze_result *a)
{
	bool first = true;

	fputs("\"meta\":{", out);
	key_string(out, &first, "source", a->source);
	key_string(out, &first, "mountpoint", a->mountpoint);
	key_string(out, &first, "host", a->host);
	key_string(out, &first, "start_time", a->start_time);
	key_string(out, &first, "cache_mode", a->cache_mode);
	key_string(out, &first, "command_line", a->command_line);
	key_int(out, &first, "events_lost", a->events_lost);
	fputs("}", out);
}

static void write_totals(FILE *out, const struct analyze_result *a)
{
	bool first = false; /* after "meta" */

	key_int(out, &first, "first_ns", a->first_ns);
	key_int(out, &first, "end_ns", a->end_ns);
	key_int(out, &first, "duration_ns", a->end_ns - a->first_ns);
	key_int(out, &first, "events", a->events);
	key_int(out, &first, "errors", a->errors);
	key_int(out, &first, "bytes_read", a->bytes_read);
	key_int(out, &first, "bytes_written", a->bytes_written);
	key_int(out, &first, "fs_ns", a->fs_ns);
	fprintf(out, ",\"created\":{\"files\":%" PRId64 ",\"dirs\":%" PRId64 "}", a->files_created,
		a->dirs_created);
	fprintf(out, ",\"removed\":{\"files\":%" PRId64 ",\"dirs\":%" PRId64 "}", a->files_removed,
		a->dirs_removed);
	key_int(out, &first, "renamed", a->renamed);
	key_int(out, &first, "temporaries", a->temporaries);
	key_int(out, &first, "attribute_probes", a->attr_probes);
}

static void write_operations(FILE *out, const struct analyze_result *a)
{
	fputs(",\"operations\":[", out);
	for (size_t i = 0; i < a->nops; i++) {
		const struct analyze_op *o = &a->ops[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "op", trace_op_name(o->op));
		key_int(out, &first, "count", o->count);
		key_share(out, &first, "share", o->count, a->events);
		key_int(out, &first, "errors", o->errors);
		key_int(out, &first, "bytes", o->bytes);
		key_int(out, &first, "total_ns", o->total_ns);
		key_int(out, &first, "p50_ns", o->p50_ns);
		key_int(out, &first, "p90_ns", o->p90_ns);
		key_int(out, &first, "p99_ns", o->p99_ns);
		key_int(out, &first, "max_ns", o->max_ns);
		fputs("}", out);
	}
	fputs("]", out);
}

static void write_counts(FILE *out, const char *name, const struct analyze_count *counts, size_t n)
{
	fprintf(out, ",\"%s\":[", name);
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "comm", counts[i].name);
		key_int(out, &first, "count", counts[i].count);
		fputs("}", out);
	}
	fputs("]", out);
}

static void write_errors(FILE *out, const struct analyze_result *a)
{
	char name[16];

	fputs(",\"errors_by_errno\":[", out);
	for (size_t i = 0; i < a->nerrnos; i++) {
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_int(out, &first, "errno", -(int64_t)a->errnos[i].result);
		key_string(out, &first, "name",
			   analyze_errno_name(a->errnos[i].result, name, sizeof(name)));
		key_int(out, &first, "count", a->errnos[i].count);
		fputs("}", out);
	}
	fputs("],\"failing_paths\":[", out);
	for (size_t i = 0; i < a->nfailing; i++) {
		const struct analyze_failing *f = &a->failing[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "path", f->path);
		key_int(out, &first, "errno", -(int64_t)f->result);
		key_string(out, &first, "name", analyze_errno_name(f->result, name, sizeof(name)));
		key_int(out, &first, "count", f->count);
		write_counts(out, "processes", f->procs, f->nprocs);
		fputs("}", out);
	}
	fputs("]", out);
}

static void write_processes(FILE *out, const struct analyze_result *a)
{
	fputs(",\"processes\":[", out);
	for (size_t i = 0; i < a->nprocesses; i++) {
		const struct analyze_process *p = &a->processes[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "comm", p->comm);
		key_int(out, &first, "pids", p->pids);
		key_int(out, &first, "events", p->events);
		key_int(out, &first, "bytes_read", p->bytes_read);
		key_int(out, &first, "bytes_written", p->bytes_written);
		key_int(out, &first, "fs_ns", p->fs_ns);
		fputs("}", out);
	}
	fprintf(out, "],\"processes_total\":%zu", a->nprocesses_total);
	if (!a->lineage) {
		fputs(",\"commands\":null", out); /* unknown: a trace without lineage */
		return;
	}
	fputs(",\"commands\":[", out);
	for (size_t i = 0; i < a->ncommands; i++) {
		const struct analyze_command *cmd = &a->commands[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "command_line", cmd->line);
		fputs(",\"argv\":[", out);
		for (size_t j = 0; j < cmd->argc; j++) {
			if (j)
				fputc(',', out);
			trace_json_write_string(out, cmd->argv[j]);
		}
		fputc(']', out);
		key_int(out, &first, "processes", cmd->processes);
		key_int(out, &first, "events", cmd->events);
		key_int(out, &first, "bytes_read", cmd->bytes_read);
		key_int(out, &first, "bytes_written", cmd->bytes_written);
		key_int(out, &first, "fs_ns", cmd->fs_ns);
		fputs("}", out);
	}
	fprintf(out, "],\"commands_total\":%zu", a->ncommands_total);
}

static void write_hot_list(FILE *out, const char *name, const struct analyze_hot *hot, size_t n,
			   bool first_key)
{
	fprintf(out, "%s\"%s\":[", first_key ? "" : ",", name);
	for (size_t i = 0; i < n; i++) {
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "path", hot[i].path);
		key_int(out, &first, "events", hot[i].events);
		key_int(out, &first, "bytes_read", hot[i].bytes_read);
		key_int(out, &first, "bytes_written", hot[i].bytes_written);
		fputs("}", out);
	}
	fputs("]", out);
}

static void write_hot(FILE *out, const struct analyze_result *a)
{
	fputs(",\"hot_files\":{", out);
	write_hot_list(out, "by_events", a->hot_files_events, a->nhot_files_events, true);
	write_hot_list(out, "by_bytes", a->hot_files_bytes, a->nhot_files_bytes, false);
	fputs("},\"hot_directories\":{", out);
	write_hot_list(out, "by_events", a->hot_dirs_events, a->nhot_dirs_events, true);
	write_hot_list(out, "by_bytes", a->hot_dirs_bytes, a->nhot_dirs_bytes, false);
	fputs("}", out);
}

static void write_timeline(FILE *out, const struct analyze_result *a)
{
	fprintf(out, ",\"timeline\":{\"bucket_ns\":%" PRId64 ",\"buckets\":[", a->bucket_ns);
	for (size_t i = 0; i < a->nbuckets; i++) {
		const struct analyze_bucket *b = &a->buckets[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_int(out, &first, "start_ns", b->start_ns);
		key_int(out, &first, "events", b->events);
		key_int(out, &first, "bytes", b->bytes);
		key(out, &first, "phase");
		if (b->phase >= 0)
			fprintf(out, "%d", b->phase);
		else
			fputs("null", out);
		write_counts(out, "commands", b->commands, b->ncommands);
		fputs("}", out);
	}
	fputs("]}", out);
	fputs(",\"phases\":[", out);
	for (size_t i = 0; i < a->nphases; i++) {
		const struct analyze_phase *p = &a->phases[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &first, "name", p->name);
		key_string(out, &first, "command", p->command);
		key_int(out, &first, "start_ns", p->start_ns);
		key_int(out, &first, "end_ns", p->end_ns);
		key_int(out, &first, "events", p->events);
		key_int(out, &first, "created", p->created);
		key_int(out, &first, "removed", p->removed);
		key_int(out, &first, "bytes_read", p->bytes_read);
		key_int(out, &first, "bytes_written", p->bytes_written);
		write_counts(out, "commands", p->commands, p->ncommands);
		fputs("}", out);
	}
	fputs("]", out);
}

/* The name of a finding kind; its items' numbers are named by report_finding_column. */
static const struct {
	const char *kind;
	int threshold;
} finding_keys[ANALYZE_FINDING_KIND_COUNT] = {
	[ANALYZE_FINDING_REOPENED] = {"reopened", ANALYZE_FINDING_REOPEN_MIN},
	[ANALYZE_FINDING_MISSING] = {"missing", ANALYZE_FINDING_MISSING_MIN},
	[ANALYZE_FINDING_TINY_IO] = {"tiny_io", ANALYZE_FINDING_TINY_MIN},
	[ANALYZE_FINDING_RELISTED] = {"relisted", ANALYZE_FINDING_RELIST_MIN},
	[ANALYZE_FINDING_FSYNC] = {"fsync", 1},
};

static void write_finding(FILE *out, const struct analyze_result *a, const struct analyze_finding *f)
{
	char summary[512];
	bool first = true;

	report_finding_summary(a, f, summary, sizeof(summary));
	key_string(out, &first, "kind", finding_keys[f->kind].kind);
	key_string(out, &first, "title", report_finding_title(f->kind));
	key_string(out, &first, "summary", summary);
	key_int(out, &first, "paths", f->paths);
	key_int(out, &first, "total", f->total);
	key_int(out, &first, "total_ns", f->total_ns);
	key_int(out, &first, "threshold", finding_keys[f->kind].threshold);
	fputs(",\"items\":[", out);
	for (size_t i = 0; i < f->nitems; i++) {
		bool item_first = true;
		fputs(i ? ",{" : "{", out);
		key_string(out, &item_first, "path", f->items[i].path);
		const struct report_column *a = report_finding_column(f->kind, 0);
		const struct report_column *b = report_finding_column(f->kind, 1);
		key_int(out, &item_first, a->key, f->items[i].a);
		if (b)
			key_int(out, &item_first, b->key, f->items[i].b);
		fputs("}", out);
	}
	fputs("]", out);
}

static void write_commits(FILE *out, const struct analyze_result *a)
{
	fputs(",\"commits\":[", out);
	for (size_t i = 0; i < a->ncommits; i++) {
		const struct analyze_commit *c = &a->commits[i];
		bool first = true;
		fputs(i ? ",{" : "{", out);
		key_int(out, &first, "seq", c->seq);
		key_int(out, &first, "ts_ns", c->ts_ns);
		key_int(out, &first, "dur_ns", c->dur_ns);
		key_string(out, &first, "id", c->id);
		key_int(out, &first, "files", c->files);
		key_string(out, &first, "path", c->path);
		key_int(out, &first, "result", c->result);
		key_int(out, &first, "first_seq", c->first_seq);
		key_int(out, &first, "last_seq", c->last_seq);
		fputs("}", out);
	}
	fprintf(out, "],\"commits_total\":%zu", a->ncommits_total);
}

void report_json(FILE *out, const struct analyze_result *a)
{
	fputs("{\"file\":", out);
	trace_json_write_string(out, a->file);
	fputs(",", out);
	write_meta(out, a);
	write_totals(out, a);
	write_operations(out, a);
	write_errors(out, a);
	write_processes(out, a);
	write_hot(out, a);
	write_timeline(out, a);
	fputs(",\"findings\":[", out);
	for (size_t i = 0; i < a->nfindings; i++) {
		fputs(i ? ",{" : "{", out);
		write_finding(out, a, &a->findings[i]);
		fputs("}", out);
	}
	fputs("]", out);
	write_commits(out, a);
	fputs("}\n", out);
}
