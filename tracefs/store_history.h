/*
 * store_history.h — the versioned store's history as a read-only directory
 * of the mount, /.history (private to tracefs/): the tree at each commit
 * by id and by date, and each file's versions, read straight from the
 * repository's objects.
 */
#ifndef TRACEFS_STORE_HISTORY_H
#define TRACEFS_STORE_HISTORY_H

#include "recorder/recorder.h"
#include "store/store.h"
#include "tracefs/fs.h"
#include "tracefs/lineage.h"

/* The reserved name, at the mount's root only. */
#define STORE_HISTORY_NAME ".history"

/* Serves STORE's history; its operations are traced into RECORDER, their
 * processes found in LINEAGE. */
void store_history_attach(struct store *store, struct recorder *recorder,
			  struct lineage *lineage);

/* Puts the history's operations in OPS around those already there. */
void store_history_wrap(struct fuse_lowlevel_ops *ops);

#endif
