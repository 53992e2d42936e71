/*
 * options.h — command-line pieces shared by `tracefs mount` and `tracefs
 * run` (private to tracefs/).
 */
#ifndef TRACEFS_OPTIONS_H
#define TRACEFS_OPTIONS_H

#include "tracefs/fs.h"

#define DEFAULT_CACHE_TIMEOUT 1.0
#define DEFAULT_POLL_US 100

/* Sets the defaults of the options below. */
void options_default_fs(struct fs_options *fs);

/*
 * Applies one -o option if it is a file-system option (exact, direct_io,
 * timeout=SECS, poll=USECS). Returns 1 when it was, 0 when it is someone
 * else's, -1 (printed) when its value is invalid.
 */
int options_apply_fs(struct fs_options *fs, const char *option);

/*
 * Calls APPLY(ctx, option) for each option of the comma-separated LIST, in
 * order, until one returns non-zero. Returns that value, 0 when all were
 * applied, or -1 when out of memory.
 */
int options_for_each(const char *list, int (*apply)(void *ctx, const char *option), void *ctx);

/* The trace file to create: DB made absolute, or the default name
 * tracefs-YYYYmmdd-HHMMSS.db in the working directory. malloc'd. */
char *options_trace_path(const char *db);

/* The words of ARGV joined by spaces, for the trace's meta. malloc'd. */
char *options_join_words(int argc, char **argv);

#endif
