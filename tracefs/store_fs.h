/*
 * store_fs.h — the versioned store seen from the FUSE layer (private to
 * tracefs/): what each traced operation tells the store, the reserved
 * names refused at the mount, and each commit as an event of the trace.
 */
#ifndef TRACEFS_STORE_FS_H
#define TRACEFS_STORE_FS_H

#include "recorder/recorder.h"
#include "store/store.h"
#include "tracefs/fs.h"

/* Tells STORE what the finished EVENT changed (called for every event). */
void store_fs_note(struct store *store, const struct trace_event *event);

/* The file-system operations with the store's reserved names refused:
 * never found, never created, renamed onto, or removed. */
const struct fuse_lowlevel_ops *store_fs_operations(void);

/* A store_options.committed callback; CTX is the struct recorder. Each
 * commit becomes an event with op `commit`, its id in path2 and the number
 * of files in bytes. */
void store_fs_committed(void *ctx, const struct store_commit *commit);

/*
 * Applies one -o option if it is the store's (store, store_quiet=MS,
 * store_sync=SECS): 1 applied, 0 someone else's, -1 invalid (printed).
 * *ENABLED is set by `store`.
 */
int store_fs_apply_option(bool *enabled, struct store_options *options, const char *option);

#endif
