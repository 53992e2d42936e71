/*
 * main.c — the `tracefs` executable: one front door, sub-commands in the
 * manner of perf and git. A first argument that is no sub-command is the
 * mount form, as mount.fuse3 and fstab call it.
 */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "analyze/analyze.h"
#include "trace/trace.h"
#include "render/render.h"
#include "tracefs/tracefs.h"
#include "web/web.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is "tracefs NAME" */
	const char *summary;
};

static const struct command commands[] = {
	{"mount", tracefs_mount_command, "mount a traced view of SOURCE at MOUNTPOINT (the default)"},
	{"umount", tracefs_umount_command, "unmount and wait until the trace is complete"},
	{"run", tracefs_run_command, "run a command with a directory traced, privately"},
	{"serve", web_serve_command, "replay a recorded trace in the browser"},
	{"render", render_command, "draw a recorded trace to PNG or video"},
	{"report", analyze_report_command, "analyse a trace: phases, errors, hot files, latency, findings"},
	{"diff", analyze_diff_command, "compare two traces: phases, outputs, reads, failures, latency"},
	{"export", analyze_export_command, "write a trace for Perfetto, spreadsheets, jq or Gource"},
	{"store", tracefs_store_command, "the versioned store: clone, status, sync, log"},
};

static void usage(FILE *out)
{
	fprintf(out,
		"usage: tracefs [mount] [options] SOURCE MOUNTPOINT\n"
		"       tracefs COMMAND [options] ...\n"
		"       tracefs COMMAND --help\n"
		"\n"
		"Records every file-system operation on a directory into an SQLite trace.\n"
		"\n"
		"commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-9s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\n"
		     "Query a trace with sqlite3, e.g.\n"
		     "  sqlite3 trace.db 'SELECT op, count(*) FROM trace GROUP BY op'\n");
}

/* Levenshtein distance, capped: names are short, so a row is enough. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 31 || lb > 31)
		return 32;
	size_t row[32];
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diagonal = row[0];
		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t above = row[j];
			size_t best = diagonal + (a[i - 1] != b[j - 1]);
			if (above + 1 < best)
				best = above + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diagonal = above;
		}
	}
	return row[lb];
}

/*
 * The command NAME was probably meant as, or NULL. A name that exists as a
 * path is the mount form's SOURCE, never a typo.
 */
static const char *misspelt_command(const char *name)
{
	struct stat st;
	if (name[0] == '-' || strchr(name, '/') || lstat(name, &st) == 0)
		return NULL;
	const char *best = NULL;
	size_t best_distance = 3; /* two edits at most: "reprot", "rendr" */
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		size_t distance = edit_distance(name, commands[i].name);
		if (distance < best_distance) {
			best = commands[i].name;
			best_distance = distance;
		}
	}
	return best;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	const char *name = argv[1];
	if (strcmp(name, "-h") == 0 || strcmp(name, "--help") == 0 || strcmp(name, "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(name, "-V") == 0 || strcmp(name, "--version") == 0) {
		printf("tracefs %s\n", TRACEFS_VERSION);
		return 0;
	}
	if (strcmp(name, "unmount") == 0)
		name = "umount";
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(name, commands[i].name) == 0) {
			/* argv[0] of a sub-command names it in getopt's messages. */
			char label[64];
			snprintf(label, sizeof(label), "tracefs %s", commands[i].name);
			argv[1] = label;
			return commands[i].run(argc - 1, argv + 1);
		}
	}
	const char *meant = misspelt_command(name);
	if (meant) {
		fprintf(stderr, "tracefs: unknown command '%s' (did you mean '%s'?); see tracefs --help\n",
			name, meant);
		return 2;
	}
	argv[0] = "tracefs";
	return tracefs_mount_command(argc, argv);
}
