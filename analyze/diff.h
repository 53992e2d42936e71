/*
 * diff.h — private to analyze/: `tracefs diff A.db B.db`, what changed
 * between two runs of a workload. diff_read() reduces one trace to what a
 * comparison needs (its analysis, the files it read and wrote, its
 * failures, its operations per command); diff_compare() sets two of them
 * side by side; diff_text/json/html render the result.
 *
 * Noise that differs between any two runs is left out: times, pids, and
 * temporaries (files a run made and removed again, e.g. conftest.c or
 * `ar`'s scratch files) are not outputs; files that exist in one run under
 * a random name and in the other under another (conftest.12345,
 * ccAbC123.o) are paired by the pattern of their name (diff_path_shape).
 */
#ifndef TRACEFS_RECORDER_DIFF_H
#define TRACEFS_RECORDER_DIFF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "analyze/analyze.h"

/* A file one run read, wrote or removed (not a directory, not a temporary). */
struct diff_file {
	char *path;
	bool read;    /* opened for reading, or read from */
	bool written; /* created, written, truncated, or renamed or linked into place */
	bool removed; /* gone at the end: unlinked or renamed away */
	int64_t bytes_read, bytes_written;
	int64_t size;	/* written: where the writes ended after the last truncation */
	char *writer;	/* written: the command that wrote it last; NULL if unknown */
};

/* One path failing with one errno, over the run. */
struct diff_failure {
	char *path;
	int32_t result; /* negative errno */
	enum trace_op op; /* the operation that failed most often so */
	int64_t count;
};

/* One command (comm) and how many operations of each kind it made. */
struct diff_command {
	char *name; /* as trace_process_name says; "(unknown)" if it says nothing */
	int64_t ops[TRACE_OP_COUNT];
	int64_t events;
};

/* One process's command line (format 2 traces on: process lineage). */
struct diff_command_line {
	char *argv;   /* the arguments joined by spaces, quoted where they hold one */
	char *key;    /* each argument's diff_path_shape, so that temporaries' names match */
	size_t order; /* of the process in its run */
};

struct diff_run {
	struct analyze_result a; /* phases, totals, latency per operation */
	bool lineage;		 /* the trace has process lineage (argv per process) */
	struct diff_command_line *command_lines; /* sorted by key, then order */
	size_t ncommand_lines;
	int64_t unread_processes; /* gone before their command line could be read */
	struct diff_file *files; /* sorted by path */
	size_t nfiles;
	struct diff_failure *failures; /* sorted by path, then result */
	size_t nfailures;
	struct diff_command *commands; /* sorted by name */
	size_t ncommands;
	int64_t outputs;     /* files written and there at the end */
	int64_t temporaries; /* files made and removed again: left out */
};

/*
 * Reads trace FILE. PROGRESS, if not NULL, is told how far the reading has
 * got (a share from 0 to 1) now and then. 0, or -1 with a message in err
 * (a missing, foreign or corrupt trace); on success free with
 * diff_run_free(), on failure there is nothing to free.
 */
int diff_read(const char *file, void (*progress)(double done, void *arg), void *arg,
	      struct diff_run *run, char *err, size_t err_size);
void diff_run_free(struct diff_run *run);

/*
 * The pattern of a path, for pairing files that have a random name in
 * each run: in each component, each run of letters and digits that looks
 * random becomes '#': four digits or more; six characters or more that mix
 * digits and letters, or (up to twelve) have a capital after a small
 * letter three times; and below a temporary directory (tmp, temp, tmp.*)
 * any run of six or more. "/t/conftest.12345" -> "/t/conftest.#",
 * "/w/confXHH9gF/out" -> "/w/#/out", "/tmp/ccsudomy.s" -> "/tmp/#.s".
 * Into buf.
 */
const char *diff_path_shape(const char *path, char *buf, size_t size);

/* One file on both sides (a or b NULL where the run did not have it). */
struct diff_pair {
	const struct diff_file *a, *b;
};

struct diff_failure_pair {
	const struct diff_failure *a, *b;
};

/* A phase in either run or both (index -1 where absent), in run order. */
struct diff_phase {
	const char *name;
	int a, b;
};

/* One operation of one command whose count differs. */
struct diff_command_op {
	const char *command;
	enum trace_op op;
	int64_t a, b;
};

/* A command line run a different number of times (a or b 0: in one run only). */
struct diff_command_count {
	const char *argv;
	int64_t a, b;
	size_t order; /* of its first process, in B if it ran there, else in A */
};

/* The latency of one operation in both runs (NULL where the run has none). */
struct diff_latency {
	enum trace_op op;
	const struct analyze_op *a, *b;
	int shift; /* +1 slower, -1 faster (see DIFF_SHIFT_*), 0 */
};

/*
 * A latency shift: a p50 this many times the other run's, on at least
 * DIFF_LATENCY_MIN_COUNT events a side, or a p90 so on DIFF_P90_MIN_COUNT
 * (a p90 of a few events is one slow call), and apart by DIFF_SHIFT_MIN_NS
 * at least (below that, a few microseconds' jitter looks like a factor).
 */
#define DIFF_SHIFT_RATIO 1.5
#define DIFF_LATENCY_MIN_COUNT 20
#define DIFF_P90_MIN_COUNT 200
#define DIFF_SHIFT_MIN_NS 5000

/* A list of pairs; each list is sorted most significant first. */
#define DIFF_LIST(type, name) \
	type *name;           \
	size_t n##name

struct diff {
	const struct diff_run *a, *b;
	/* outputs: files written and there at the end */
	DIFF_LIST(struct diff_pair, new_outputs);     /* written by B only */
	DIFF_LIST(struct diff_pair, gone_outputs);    /* written by A; B removed it or never used it */
	DIFF_LIST(struct diff_pair, changed_outputs); /* written by both, differently */
	DIFF_LIST(struct diff_pair, kept_outputs);    /* written by A, only read by B */
	DIFF_LIST(struct diff_pair, same_outputs);    /* written by both alike */
	DIFF_LIST(struct diff_pair, new_reads);	      /* read by B, not A */
	DIFF_LIST(struct diff_pair, gone_reads);      /* read by A, not B */
	DIFF_LIST(struct diff_failure_pair, new_failures);
	DIFF_LIST(struct diff_failure_pair, gone_failures);
	DIFF_LIST(struct diff_failure_pair, changed_failures); /* in both, counts differ */
	DIFF_LIST(struct diff_phase, phases);
	DIFF_LIST(struct diff_command_op, command_ops);
	bool lineage; /* both runs have command lines: command_lines compares them */
	DIFF_LIST(struct diff_command_count, command_lines);
	DIFF_LIST(struct diff_latency, latency);
	size_t paired_by_shape; /* files and failures matched by diff_path_shape */
};

/* 0, or -1 out of memory (nothing to free). Borrows from a and b. */
int diff_compare(const struct diff_run *a, const struct diff_run *b, struct diff *out);
void diff_free(struct diff *d);

/* Whether two writes of one file look alike: bytes, size and writer. */
bool diff_same_output(const struct diff_file *a, const struct diff_file *b);

/* The renderers; the caller checks the stream for errors. TOP bounds the text's lists. */
void diff_text(FILE *out, const struct diff *d, int top, bool utf8);
void diff_json(FILE *out, const struct diff *d);
void diff_html(FILE *out, const struct diff *d);

#endif
