/*
 * analyze.h — the whole interface of analyze/: what is learnt from a
 * recorded trace. The workload analysis behind `tracefs report`
 * (analyze_run() computes everything the report shows in one read of the
 * events table, then SQL over small TEMP tables), the phases of a run, and
 * the `report` and `export` commands. Prefix analyze_.
 */
#ifndef TRACEFS_ANALYZE_H
#define TRACEFS_ANALYZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/trace.h"

/* The timeline has this many buckets; phases are found on 25 slots each. */
#define ANALYZE_BUCKETS 40
#define ANALYZE_SLOTS_PER_BUCKET 25
#define ANALYZE_SLOTS (ANALYZE_BUCKETS * ANALYZE_SLOTS_PER_BUCKET)
/* Commands named in a phase or a timeline bucket. */
#define ANALYZE_TOP_COMMANDS 3

/* Thresholds of the findings (see the comments in analysis.c). */
#define ANALYZE_FINDING_REOPEN_MIN 10 /* opens of one file */
#define ANALYZE_FINDING_MISSING_MIN 5 /* failed lookups (ENOENT) of one path */
#define ANALYZE_FINDING_TINY_MIN 64   /* reads and writes under ANALYZE_FINDING_TINY_BYTES on one file */
#define ANALYZE_FINDING_TINY_BYTES 512
#define ANALYZE_FINDING_RELIST_MIN 10 /* listings (opendir) of one directory */

/* A name (a command, NULL if unknown) and how many events it has. */
struct analyze_count {
	char *name;
	int64_t count;
};

struct analyze_op {
	enum trace_op op;
	int64_t count, errors, bytes;
	int64_t probes; /* attribute probes that found nothing: not errors */
	int64_t total_ns, max_ns, p50_ns, p90_ns, p99_ns; /* percentiles: nearest rank */
};

struct analyze_errno {
	int32_t result; /* negative */
	int64_t count;
	enum trace_op top_op; /* the operation that fails most with it */
	int64_t top_op_count;
};

/* A path that fails: the commonest errno there and who saw it fail. */
struct analyze_failing {
	char *path;
	int32_t result;
	int64_t count;				      /* failures with that result */
	struct analyze_count procs[ANALYZE_TOP_COMMANDS]; /* commands, most failures first */
	size_t nprocs;
};

/* One command name (comm) over all its processes. */
struct analyze_process {
	char *comm; /* "kernel" for the kernel's own requests; NULL: unknown */
	int64_t pids, events, bytes_read, bytes_written, fs_ns;
};

/* One command line: the processes that ran with the same argv (traces with lineage). */
struct analyze_command {
	char *line; /* for people: shortened (deps_command_line) */
	char **argv;
	size_t argc;
	int64_t processes, events, bytes_read, bytes_written, fs_ns;
};

struct analyze_hot {
	char *path;
	int64_t events, bytes_read, bytes_written;
};

struct analyze_bucket {
	int64_t start_ns, events, bytes;
	int phase; /* index into phases */
	struct analyze_count commands[ANALYZE_TOP_COMMANDS];
	size_t ncommands;
};

/*
 * A stretch of the run a person would name: unpack, configure, make, clean,
 * remove, copy, search, or the command that leads it (git, npm, ...).
 */
struct analyze_phase {
	char *name;
	char *command; /* the process that leads it (tar, sh, make, rm); NULL if none */
	int64_t start_ns, end_ns;
	int64_t events, created, removed, bytes_read, bytes_written;
	struct analyze_count commands[ANALYZE_TOP_COMMANDS];
	size_t ncommands;
};

/* A commit of the versioned store (the trace's commits table). */
struct analyze_commit {
	int64_t seq, ts_ns, dur_ns, files;
	int64_t first_seq, last_seq; /* the events it covers; 0 when none */
	int32_t result;		     /* 0, or -errno when it failed */
	char *id;		     /* NULL when it failed */
	char *path;		     /* the deepest directory holding its changes */
};

enum analyze_finding_kind {
	ANALYZE_FINDING_REOPENED, /* one file opened again and again */
	ANALYZE_FINDING_MISSING,  /* one missing path looked up again and again */
	ANALYZE_FINDING_TINY_IO,  /* many small reads or writes on one file */
	ANALYZE_FINDING_RELISTED, /* one directory listed again and again */
	ANALYZE_FINDING_FSYNC,	  /* time spent in fsync */
	ANALYZE_FINDING_KIND_COUNT
};

/* One path a finding is about; a and b depend on the kind (see analysis.c). */
struct analyze_item {
	char *path;
	int64_t a, b;
};

struct analyze_finding {
	enum analyze_finding_kind kind;
	int64_t paths;	  /* how many paths qualify (items holds the top ones) */
	int64_t total;	  /* events concerned over all those paths */
	int64_t total_ns; /* ANALYZE_FINDING_FSYNC: time in fsync */
	struct analyze_item *items;
	size_t nitems;
};

struct analyze_result {
	char *file;
	/* meta; NULL when absent */
	char *source, *mountpoint, *host, *start_time, *cache_mode, *command_line;
	int64_t events_lost;

	int64_t events, first_ns, end_ns; /* end: the latest end of an event */
	int64_t errors;	     /* failures, attribute probes left out */
	int64_t attr_probes; /* getxattr/listxattr that found no attribute (ENODATA, EOPNOTSUPP) */
	int64_t bytes_read, bytes_written, fs_ns;
	int64_t files_created, dirs_created, files_removed, dirs_removed, renamed;
	int64_t temporaries; /* files made and removed within moments: not in the hot lists */

	struct analyze_op *ops; /* most events first */
	size_t nops;
	struct analyze_errno *errnos; /* commonest first; attribute probes left out */
	size_t nerrnos;
	struct analyze_failing *failing;
	size_t nfailing;
	struct analyze_process *processes; /* most events first */
	size_t nprocesses, nprocesses_total;
	bool lineage;			   /* the trace knows each process's command line */
	struct analyze_command *commands; /* most events first; none without lineage */
	size_t ncommands, ncommands_total;
	struct analyze_hot *hot_files_events, *hot_files_bytes, *hot_dirs_events, *hot_dirs_bytes;
	size_t nhot_files_events, nhot_files_bytes, nhot_dirs_events, nhot_dirs_bytes;

	int64_t bucket_ns;
	struct analyze_bucket buckets[ANALYZE_BUCKETS];
	size_t nbuckets; /* 0 for an empty trace */
	struct analyze_phase *phases;
	size_t nphases;

	struct analyze_finding findings[ANALYZE_FINDING_KIND_COUNT];
	size_t nfindings; /* only the kinds that apply, in enum order */

	struct analyze_commit *commits; /* the first TOP, in order */
	size_t ncommits, ncommits_total;
};

/*
 * Analyses the trace FILE, keeping TOP entries in each list. 0, or -1 with
 * a message in err (a missing, foreign or corrupt trace). On success the
 * caller frees *out with analyze_free(); on failure there is nothing to
 * free.
 */
int analyze_run(const char *file, int top, struct analyze_result *out, char *err, size_t err_size);

void analyze_free(struct analyze_result *analysis);

/*
 * Whether a failure of OP with ERR is an attribute probe that found
 * nothing (getxattr or listxattr: ENODATA, EOPNOTSUPP): counted apart,
 * not as an error.
 */
bool analyze_attr_probe(enum trace_op op, int64_t err);

/* "ENOENT" for -2, or "E123" for an errno without a name. Static or buf. */
const char *analyze_errno_name(int32_t result, char *buf, size_t size);

/*
 * The phases of the run in trace FILE, as `tracefs report` finds them
 * (tar, configure, make, ...; named after their leading command), in time
 * order: *PHASES (free with analyze_phases_free) holds *COUNT of them. For the
 * replay page's timeline and caption. 0, or -1 with a message in err.
 */
struct analyze_phase_span {
	char *name;
	int64_t start_ns, end_ns;
};
int analyze_phases_read(const char *file, struct analyze_phase_span **phases, size_t *count, char *err,
		    size_t err_size);
void analyze_phases_free(struct analyze_phase_span *phases, size_t count);

/*
 * The `tracefs report`, `tracefs export`, `tracefs diff` and `tracefs deps`
 * sub-commands (argv[0] names the command). They return the process's exit
 * status.
 */
int analyze_report_command(int argc, char **argv);
int analyze_export_command(int argc, char **argv);
int analyze_diff_command(int argc, char **argv);
int analyze_deps_command(int argc, char **argv);

/*
 * A process's command line for people, from the `processes` table's argv
 * (a JSON array of strings), shortened as the report shortens it to at
 * most MAX bytes (deps.h). Malloc'd; NULL when ARGV_JSON is not a valid,
 * non-empty array, or out of memory.
 */
char *analyze_command_line(const char *argv_json, size_t max);

#endif
