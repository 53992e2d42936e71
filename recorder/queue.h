/*
 * queue.h — private to recorder/: the bounded lock-free queue between the
 * producers (any thread calling recorder_submit) and the one writer thread.
 *
 * It is Dmitry Vyukov's bounded MPMC ring (a sequence number per slot, C11
 * atomics) with the consumer side simplified to a single consumer. A push
 * never waits: when the ring is full it fails and the caller counts the
 * event as lost. Each slot holds a copy of the event, its strings included:
 * short strings inline in the slot, long ones (paths can be tens of KB) in
 * one malloc'd buffer that the consumer takes over.
 */
#ifndef TRACEFS_RECORDER_QUEUE_H
#define TRACEFS_RECORDER_QUEUE_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "recorder/recorder.h"

/* Inline string bytes per slot; sized so that a slot is 256 bytes. */
#define QUEUE_INLINE_BYTES 160

/* A string length meaning "no string" (the event's pointer was NULL). */
#define QUEUE_NO_STRING UINT32_MAX

/*
 * One queued event. The strings path, path2 and comm lie one after the other,
 * each followed by a NUL, in `heap` if that is not NULL, else in inline_buf.
 * An absent string has length QUEUE_NO_STRING and takes no bytes.
 */
struct queued_event {
	int64_t ts_ns;
	int64_t dur_ns;
	int64_t bytes;
	int64_t offset;
	int64_t process;
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
	int32_t result;
	uint32_t flags;
	uint32_t mode;
	uint32_t path_len;
	uint32_t path2_len;
	uint32_t comm_len;
	uint8_t op;
	uint8_t kind;
	char *heap; /* owned by whoever holds the event; free() it */
	char inline_buf[QUEUE_INLINE_BYTES];
};

struct queue_slot {
	alignas(64) _Atomic size_t seq;
	struct queued_event event;
};

struct queue {
	struct queue_slot *slots; /* owned */
	size_t capacity;	  /* a power of two */
	size_t mask;
	alignas(64) _Atomic size_t tail; /* next position to claim (producers) */
	alignas(64) size_t head;	 /* next position to take (the consumer) */
};

/* capacity is rounded up to a power of two (at least 2). 0 or -1 (ENOMEM). */
int rec_queue_init(struct queue *queue, size_t capacity);

/* Frees the slots and any string buffer still queued. */
void rec_queue_destroy(struct queue *queue);

/*
 * Copies the event and its strings into the queue. Thread-safe, lock-free,
 * never waits. Returns false (nothing queued) when the queue is full or a
 * long string could not be allocated.
 */
bool rec_queue_push(struct queue *queue, const struct trace_event *event);

/*
 * Single consumer: moves the oldest event into *out and returns true, or
 * returns false when none is ready. The caller then owns out->heap.
 */
bool rec_queue_pop(struct queue *queue, struct queued_event *out);

/* Events pushed so far (successful pushes only). */
uint64_t rec_queue_pushed(struct queue *queue);

/* Where the strings of an event are; NULL for an absent one. */
const char *rec_queued_path(const struct queued_event *event);
const char *rec_queued_path2(const struct queued_event *event);
const char *rec_queued_comm(const struct queued_event *event);

#endif
