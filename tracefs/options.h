/*
 * options.h — command-line pieces shared by `tracefs mount` and `tracefs
 * run` (private to tracefs/).
 */
#ifndef TRACEFS_OPTIONS_H
#define TRACEFS_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

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

/*
 * --db-mode MODE (or -o db_mode=MODE): the trace's permission bits, octal,
 * at most 0666. 0, or -1 (printed as coming from PROG).
 */
int options_parse_db_mode(const char *prog, const char *text, unsigned *mode);

/*
 * Who the trace belongs to: whoever mounted. When root runs us through
 * sudo (or pkexec), that is the user who asked (SUDO_UID / PKEXEC_UID),
 * not root. Sets *give = false when the file should stay the caller's.
 */
void options_db_owner(bool *give, uint32_t *uid, uint32_t *gid);

/* The words of ARGV joined by spaces, for the trace's meta. malloc'd. */
char *options_join_words(int argc, char **argv);

#endif
