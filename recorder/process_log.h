/*
 * process_log.h — private to recorder/: the process instances (and the
 * exits seen) on their way from the producers to the writer thread.
 *
 * Processes are rare next to events (one row per process, not per
 * event), so a mutex-protected list is enough; it keeps what it hands the
 * writer until the writer's transaction commits, so that a transaction
 * undone by a full disk applies them again and no event is left naming a
 * row that is not there. The list is bounded: past PROCESS_LOG_MAX items
 * waiting, a process is not recorded (its events have no process) and an
 * exit is not recorded (exit unknown).
 */
#ifndef TRACEFS_RECORDER_PROCESS_LOG_H
#define TRACEFS_RECORDER_PROCESS_LOG_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

#define PROCESS_LOG_MAX 65536

struct process_log_item {
	struct process_log_item *next;
	int64_t id;	   /* the processes row */
	bool is_exit;	   /* an exit of row id at exit_ns, else the row itself */
	int64_t exit_ns;
	struct recorder_process process; /* its strings live in the same allocation */
};

struct process_log {
	pthread_mutex_t mutex;
	struct process_log_item *head, *tail; /* head: the oldest not committed */
	struct process_log_item *applied;     /* the last one handed out, or NULL */
	size_t count;			      /* items held */
	int64_t last_id;		      /* the last id given */
	atomic_bool pending;		      /* something was added since the writer looked */
};

int process_log_init(struct process_log *log);
void process_log_destroy(struct process_log *log);

/* Producers: see recorder_add_process() and recorder_process_exited(). */
int64_t process_log_add(struct process_log *log, const struct recorder_process *process);
void process_log_exit(struct process_log *log, int64_t id, int64_t exit_ns);

/*
 * The writer: the next item not yet handed out (it stays valid until
 * process_log_commit or process_log_rewind), or NULL.
 */
const struct process_log_item *process_log_next(struct process_log *log);

/* The items handed out are committed: free them. */
void process_log_commit(struct process_log *log);

/* The items handed out were not committed: hand them out again. */
void process_log_rewind(struct process_log *log);

#endif
