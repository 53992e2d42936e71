/*
 * queue.c — the bounded lock-free event queue between the producers and the
 * writer thread (see queue.h).
 *
 * Protocol (Vyukov): slot i starts with seq == i. A producer that sees
 * seq == pos at its claimed position `pos` owns the slot once its CAS on
 * `tail` succeeds; it fills the slot and publishes it with seq = pos + 1
 * (release). The consumer takes position `head` when seq == head + 1
 * (acquire), copies the event out and frees the slot for the next lap with
 * seq = head + capacity (release). seq < pos at a producer's position means
 * the consumer has not freed that slot yet: the queue is full.
 */
#include "recorder/queue.h"

#include <stdlib.h>
#include <string.h>

_Static_assert(sizeof(struct queue_slot) == 256, "a queue slot is 4 cache lines");

static size_t round_up_pow2(size_t n)
{
	size_t p = 2;
	while (p < n)
		p <<= 1;
	return p;
}

int rec_queue_init(struct queue *queue, size_t capacity)
{
	memset(queue, 0, sizeof(*queue));
	if (capacity > ((size_t)1 << 40))
		return -1;
	queue->capacity = round_up_pow2(capacity);
	queue->mask = queue->capacity - 1;
	queue->slots = aligned_alloc(alignof(struct queue_slot),
				     queue->capacity * sizeof(struct queue_slot));
	if (!queue->slots)
		return -1;
	for (size_t i = 0; i < queue->capacity; i++) {
		atomic_init(&queue->slots[i].seq, i);
		queue->slots[i].event.heap = NULL;
	}
	atomic_init(&queue->tail, 0);
	queue->head = 0;
	return 0;
}

void rec_queue_destroy(struct queue *queue)
{
	struct queued_event event;

	if (!queue->slots)
		return;
	while (rec_queue_pop(queue, &event))
		free(event.heap);
	free(queue->slots);
	queue->slots = NULL;
}

static uint32_t string_length(const char *s)
{
	if (!s)
		return QUEUE_NO_STRING;
	size_t len = strlen(s);
	/* A 4 GiB path cannot come from the kernel; keep the sentinel free. */
	return len >= QUEUE_NO_STRING ? QUEUE_NO_STRING - 1 : (uint32_t)len;
}

static size_t stored_size(uint32_t len)
{
	return len == QUEUE_NO_STRING ? 0 : (size_t)len + 1;
}

/* Copies one string (with its NUL) to dst; returns the byte after it. */
static char *put_string(char *dst, const char *s, uint32_t len)
{
	if (len == QUEUE_NO_STRING)
		return dst;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return dst + len + 1;
}

static void put_strings(char *dst, const struct trace_event *event, uint32_t path_len,
			uint32_t path2_len, uint32_t comm_len)
{
	dst = put_string(dst, event->path, path_len);
	dst = put_string(dst, event->path2, path2_len);
	put_string(dst, event->comm, comm_len);
}

/* Claims a free slot, or returns NULL when the queue is full. */
static struct queue_slot *claim_slot(struct queue *queue, size_t *pos_out)
{
	size_t pos = atomic_load_explicit(&queue->tail, memory_order_relaxed);

	for (;;) {
		struct queue_slot *slot = &queue->slots[pos & queue->mask];
		size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
		intptr_t diff = (intptr_t)seq - (intptr_t)pos;

		if (diff == 0) {
			if (atomic_compare_exchange_weak_explicit(&queue->tail, &pos, pos + 1,
								  memory_order_relaxed,
								  memory_order_relaxed)) {
				*pos_out = pos;
				return slot;
			}
			/* pos was reloaded by the failed CAS */
		} else if (diff < 0) {
			return NULL;
		} else {
			pos = atomic_load_explicit(&queue->tail, memory_order_relaxed);
		}
	}
}

bool rec_queue_push(struct queue *queue, const struct trace_event *event)
{
	uint32_t path_len = string_length(event->path);
	uint32_t path2_len = string_length(event->path2);
	uint32_t comm_len = string_length(event->comm);
	size_t total = stored_size(path_len) + stored_size(path2_len) + stored_size(comm_len);
	char *heap = NULL;
	struct queue_slot *slot;
	size_t pos;

	/* Allocate before claiming: a claimed slot must always be published. */
	if (total > QUEUE_INLINE_BYTES) {
		heap = malloc(total);
		if (!heap)
			return false;
		put_strings(heap, event, path_len, path2_len, comm_len);
	}
	slot = claim_slot(queue, &pos);
	if (!slot) {
		free(heap);
		return false;
	}

	struct queued_event *q = &slot->event;
	q->ts_ns = event->ts_ns;
	q->dur_ns = event->dur_ns;
	q->bytes = event->bytes;
	q->offset = event->offset;
	q->process = event->process;
	q->pid = event->pid;
	q->uid = event->uid;
	q->gid = event->gid;
	q->result = event->result;
	q->flags = event->flags;
	q->mode = event->mode;
	q->path_len = path_len;
	q->path2_len = path2_len;
	q->comm_len = comm_len;
	q->op = event->op;
	q->kind = event->kind;
	q->heap = heap;
	if (!heap)
		put_strings(q->inline_buf, event, path_len, path2_len, comm_len);

	atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);
	return true;
}

bool rec_queue_pop(struct queue *queue, struct queued_event *out)
{
	size_t pos = queue->head;
	struct queue_slot *slot = &queue->slots[pos & queue->mask];
	size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);

	if (seq != pos + 1)
		return false;
	/* Copy only the bytes in use: the fixed part and the inline strings. */
	size_t used = 0;
	if (!slot->event.heap)
		used = stored_size(slot->event.path_len) + stored_size(slot->event.path2_len) +
		       stored_size(slot->event.comm_len);
	memcpy(out, &slot->event, offsetof(struct queued_event, inline_buf) + used);
	atomic_store_explicit(&slot->seq, pos + queue->capacity, memory_order_release);
	queue->head = pos + 1;
	return true;
}

uint64_t rec_queue_pushed(struct queue *queue)
{
	return atomic_load_explicit(&queue->tail, memory_order_relaxed);
}

static const char *strings_of(const struct queued_event *event)
{
	return event->heap ? event->heap : event->inline_buf;
}

const char *rec_queued_path(const struct queued_event *event)
{
	if (event->path_len == QUEUE_NO_STRING)
		return NULL;
	return strings_of(event);
}

const char *rec_queued_path2(const struct queued_event *event)
{
	if (event->path2_len == QUEUE_NO_STRING)
		return NULL;
	return strings_of(event) + stored_size(event->path_len);
}

const char *rec_queued_comm(const struct queued_event *event)
{
	if (event->comm_len == QUEUE_NO_STRING)
		return NULL;
	return strings_of(event) + stored_size(event->path_len) + stored_size(event->path2_len);
}
