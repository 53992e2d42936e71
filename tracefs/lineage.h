/*
 * lineage.h — which process instance a FUSE request comes from, and its
 * ancestry (private to tracefs/): read from /proc once per process
 * instance and recorded as the trace's `processes` rows.
 */
#ifndef TRACEFS_LINEAGE_H
#define TRACEFS_LINEAGE_H

#include <stdint.h>
#include <sys/types.h>

#include "recorder/recorder.h"

struct lineage;

/*
 * Records into RECORDER (which must outlive the lineage). Starts a thread
 * that notes when the recorded processes exit. NULL with errno on failure.
 */
struct lineage *lineage_create(struct recorder *recorder);
void lineage_destroy(struct lineage *lineage);

/*
 * `tracefs run`: PID is COMMAND (ARGV, started in CWD), the root of every
 * chain below it. Call before PID can reach the mount. 0, or -1 with errno.
 */
int lineage_set_root(struct lineage *lineage, pid_t pid, char *const argv[], const char *cwd);

/*
 * The processes row of the caller thread TID: found, or read from /proc
 * and recorded with the ancestors it is missing. 0 if it cannot be
 * recorded. It reads /proc: call it only for a thread new to the caller,
 * or whose name changed (an exec), and before replying, while the caller
 * waits for the reply and so cannot have exited.
 */
int64_t lineage_process(struct lineage *lineage, pid_t tid);

#endif
