/*
 * process_log.c — the process instances waiting for the writer (see
 * process_log.h).
 */
#include "recorder/process_log.h"

#include <stdlib.h>
#include <string.h>

int process_log_init(struct process_log *log)
{
	memset(log, 0, sizeof(*log));
	atomic_init(&log->pending, false);
	return pthread_mutex_init(&log->mutex, NULL) == 0 ? 0 : -1;
}

void process_log_destroy(struct process_log *log)
{
	struct process_log_item *item = log->head;

	while (item) {
		struct process_log_item *next = item->next;
		free(item);
		item = next;
	}
	log->head = log->tail = log->applied = NULL;
	pthread_mutex_destroy(&log->mutex);
}

static size_t stored_size(const char *s)
{
	return s ? strlen(s) + 1 : 0;
}

/* Copies S to *AT and moves *AT past it; NULL stays NULL. */
static const char *put(char **at, const char *s)
{
	if (!s)
		return NULL;
	size_t size = strlen(s) + 1;
	char *copy = memcpy(*at, s, size);
	*at += size;
	return copy;
}

/* Appends ITEM and gives it the next id if it is a process; 0 when full. */
static int64_t append(struct process_log *log, struct process_log_item *item)
{
	int64_t id = 0;

	pthread_mutex_lock(&log->mutex);
	if (log->count < PROCESS_LOG_MAX) {
		if (!item->is_exit)
			item->id = ++log->last_id;
		id = item->id;
		if (log->tail)
			log->tail->next = item;
		else
			log->head = item;
		log->tail = item;
		log->count++;
	}
	pthread_mutex_unlock(&log->mutex);
	if (!id)
		free(item);
	else
		atomic_store_explicit(&log->pending, true, memory_order_release);
	return id;
}

int64_t process_log_add(struct process_log *log, const struct recorder_process *process)
{
	size_t strings = stored_size(process->exe) + stored_size(process->argv) +
			 stored_size(process->cwd);
	struct process_log_item *item = calloc(1, sizeof(*item) + strings);

	if (!item)
		return 0;
	char *at = (char *)(item + 1);
	item->process = *process;
	item->process.exe = put(&at, process->exe);
	item->process.argv = put(&at, process->argv);
	item->process.cwd = put(&at, process->cwd);
	return append(log, item);
}

void process_log_exit(struct process_log *log, int64_t id, int64_t exit_ns)
{
	struct process_log_item *item = calloc(1, sizeof(*item));

	if (!item || id <= 0) {
		free(item);
		return; /* the exit stays unknown, as documented */
	}
	item->is_exit = true;
	item->id = id;
	item->exit_ns = exit_ns;
	append(log, item);
}

const struct process_log_item *process_log_next(struct process_log *log)
{
	pthread_mutex_lock(&log->mutex);
	struct process_log_item *next = log->applied ? log->applied->next : log->head;
	if (next)
		log->applied = next;
	pthread_mutex_unlock(&log->mutex);
	return next;
}

void process_log_commit(struct process_log *log)
{
	pthread_mutex_lock(&log->mutex);
	struct process_log_item *done = log->applied ? log->head : NULL;
	struct process_log_item *last = log->applied;
	if (last) {
		log->head = last->next;
		if (!log->head)
			log->tail = NULL;
		last->next = NULL;
		log->applied = NULL;
	}
	while (done) {
		struct process_log_item *next = done->next;
		free(done);
		log->count--;
		done = next;
	}
	pthread_mutex_unlock(&log->mutex);
}

void process_log_rewind(struct process_log *log)
{
	pthread_mutex_lock(&log->mutex);
	log->applied = NULL;
	pthread_mutex_unlock(&log->mutex);
	atomic_store_explicit(&log->pending, true, memory_order_release);
}
