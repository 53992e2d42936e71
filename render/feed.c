/*
 * feed.c — reads the trace on a thread of its own, a batch of events
 * ahead, while the frame loop applies, models and draws: decoding SQLite
 * rows costs about as much as drawing a frame of a big trace, and the
 * machine has more than one core. The reader is the thread's alone from
 * feed_start() to feed_stop().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "render/internal.h"

#define BATCH_EVENTS 4096

/* Events with their strings copied out of the reader. */
struct batch {
	struct trace_event events[BATCH_EVENTS];
	/* where each string is in CHARS while filling: offset + 1, 0 for NULL */
	size_t path_at[BATCH_EVENTS], path2_at[BATCH_EVENTS], comm_at[BATCH_EVENTS];
	char *chars;
	size_t chars_len, chars_cap;
	size_t count;
	int got; /* after the events: 1 more to come, 0 the end, -1 an error (in ERR) */
	char err[512];
};

/* 0 or -1 out of memory: TEXT (NULL: none) appended to B's chars, *AT its offset + 1. */
static int keep_text(struct batch *b, const char *text, size_t *at)
{
	*at = 0;
	if (!text)
		return 0;
	size_t len = strlen(text) + 1;
	if (b->chars_len + len > b->chars_cap) {
		size_t cap = b->chars_cap ? b->chars_cap * 2 : 65536;
		while (cap < b->chars_len + len)
			cap *= 2;
		char *chars = realloc(b->chars, cap);
		if (!chars)
			return -1;
		b->chars = chars;
		b->chars_cap = cap;
	}
	memcpy(b->chars + b->chars_len, text, len);
	*at = b->chars_len + 1;
	b->chars_len += len;
	return 0;
}

static const char *text_at(const struct batch *b, size_t at)
{
	return at ? b->chars + at - 1 : NULL;
}

/* Fills B from the reader: until it is full, the trace ends or an error. */
static void fill(struct feed *f, struct batch *b)
{
	b->count = 0;
	b->chars_len = 0;
	b->got = 1;
	while (b->count < BATCH_EVENTS) {
		if (f->stop && *f->stop) {
			snprintf(b->err, sizeof(b->err), "interrupted");
			b->got = -1;
			break;
		}
		struct trace_event *e = &b->events[b->count];
		int64_t seq;
		b->got = trace_reader_next(f->reader, e, &seq, b->err, sizeof(b->err));
		if (b->got != 1)
			break;
		if (keep_text(b, e->path, &b->path_at[b->count]) != 0 ||
		    keep_text(b, e->path2, &b->path2_at[b->count]) != 0 ||
		    keep_text(b, e->comm, &b->comm_at[b->count]) != 0) {
			snprintf(b->err, sizeof(b->err), "out of memory");
			b->got = -1;
			break;
		}
		b->count++;
	}
	/* the chars stay put from here on */
	for (size_t i = 0; i < b->count; i++) {
		b->events[i].path = text_at(b, b->path_at[i]);
		b->events[i].path2 = text_at(b, b->path2_at[i]);
		b->events[i].comm = text_at(b, b->comm_at[i]);
	}
}

static void *reading(void *arg)
{
	struct feed *f = arg;
	pthread_mutex_lock(&f->lock);
	for (;;) {
		while (!f->quit && f->filled == FEED_BATCHES)
			pthread_cond_wait(&f->room, &f->lock);
		if (f->quit)
			break;
		struct batch *b = f->batches[(f->head + f->filled) % FEED_BATCHES];
		pthread_mutex_unlock(&f->lock);
		double start = clock_seconds(CLOCK_THREAD_CPUTIME_ID);
		fill(f, b);
		double spent = clock_seconds(CLOCK_THREAD_CPUTIME_ID) - start;
		pthread_mutex_lock(&f->lock);
		f->reading_seconds += spent;
		f->filled++;
		pthread_cond_signal(&f->ready);
		if (b->got != 1)
			break;
	}
	pthread_mutex_unlock(&f->lock);
	return NULL;
}

int feed_start(struct feed *f, struct trace_reader *reader, volatile sig_atomic_t *stop,
	       char *err, size_t err_size)
{
	*f = (struct feed){.reader = reader, .stop = stop};
	for (int i = 0; i < FEED_BATCHES; i++) {
		if (!(f->batches[i] = calloc(1, sizeof(struct batch)))) {
			snprintf(err, err_size, "out of memory");
			feed_stop(f);
			return -1;
		}
	}
	int rc = pthread_mutex_init(&f->lock, NULL);
	if (rc == 0 && (rc = pthread_cond_init(&f->room, NULL)) == 0 &&
	    (rc = pthread_cond_init(&f->ready, NULL)) == 0 &&
	    (rc = pthread_create(&f->thread, NULL, reading, f)) == 0) {
		f->running = true;
		return 0;
	}
	snprintf(err, err_size, "cannot start the thread that reads the trace: %s", strerror(rc));
	feed_stop(f);
	return -1;
}

int feed_next(void *ctx, struct trace_event *e, char *err, size_t err_size)
{
	struct feed *f = ctx;
	for (;;) {
		struct batch *b = f->current;
		if (b && f->taken < b->count) {
			*e = b->events[f->taken++];
			return 1;
		}
		if (b && b->got != 1) {
			if (b->got < 0)
				snprintf(err, err_size, "%s", b->err);
			return b->got;
		}
		pthread_mutex_lock(&f->lock);
		if (b) { /* done with it: the reader may fill it again */
			f->head = (f->head + 1) % FEED_BATCHES;
			f->filled--;
			pthread_cond_signal(&f->room);
		}
		while (f->filled == 0)
			pthread_cond_wait(&f->ready, &f->lock);
		f->current = f->batches[f->head];
		f->taken = 0;
		pthread_mutex_unlock(&f->lock);
	}
}

void feed_stop(struct feed *f)
{
	if (f->running) {
		pthread_mutex_lock(&f->lock);
		f->quit = true;
		pthread_cond_signal(&f->room);
		pthread_mutex_unlock(&f->lock);
		pthread_join(f->thread, NULL);
		pthread_cond_destroy(&f->ready);
		pthread_cond_destroy(&f->room);
		pthread_mutex_destroy(&f->lock);
		f->running = false;
	}
	for (int i = 0; i < FEED_BATCHES; i++) {
		if (f->batches[i])
			free(f->batches[i]->chars);
		free(f->batches[i]);
		f->batches[i] = NULL;
	}
}
