/*
 * live.c — the stream of a recording daemon. The recorder's writer thread
 * only says, after each COMMIT, how far the trace goes (the tap); the
 * feeder thread here reads the committed rows with its own reader, puts
 * them into the scene model (so that a client joining late, or one that
 * fell behind, gets the tree as it is) and into the open batch of JSON.
 * So no web work and no lock a client holds ever sits on the writer, and
 * the stream shows only events the trace keeps: a transaction rolled back
 * on a full disk is never read. When the reader is drained, or the batch
 * is big, the batch is sealed into a ring of recent batches and the
 * service thread is woken; each client walks the ring at its own pace. The
 * ring is bounded (slots and bytes): a client that falls off its end has
 * missed those events and is resynced with a snapshot. Nothing here waits
 * on a client, so the file system never does either.
 */
#include "web/internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_SLOTS 4096		/* sealed batches kept: about 16 s at 250 a second */
#define RING_BYTES (32u << 20)	/* and at most this much JSON */
#define SEAL_BYTES (256u << 10) /* a batch is sealed at this size even mid-burst */
#define ADVANCE_EVERY 1.0	/* seconds between scene clean-ups (dropping removed nodes) */

struct batch {
	unsigned char *data; /* LWS_PRE + len */
	size_t len;
	int64_t first_seq, last_seq;
};

struct live {
	pthread_mutex_t lock; /* everything below */
	struct viz_scene *scene;
	bool scene_failed; /* out of memory once: snapshots are refused */
	bool started;
	int64_t origin_ns; /* the first event's time: scene time 0 */
	double t;	   /* scene time of the last event, never decreasing */
	double advanced_t;
	int64_t last_ts_ns;
	int64_t last_seq; /* the last event in the scene (and, with clients, in a batch) */
	int clients;	  /* connected: without any, no JSON is made */

	struct web_lineage lineage; /* the process instances read so far (snapshots carry them) */
	size_t announced;	    /* lineage rows before this one are in the stream */
	struct web_instance_counts instances; /* events per instance, for snapshots */
	bool instances_failed;		      /* out of memory: snapshots go without */

	struct web_text open; /* `{"type":"events","events":[` and events */
	int64_t open_first_seq;
	size_t open_events;

	struct batch ring[RING_SLOTS];
	uint64_t first_id, next_id; /* batches first_id .. next_id - 1 are kept */
	size_t ring_bytes;

	void (*wake)(void *ctx);
	void *wake_ctx;
	struct recorder_tap tap;

	/* The feeder: follows the trace as the writer commits it. */
	char *trace;
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t feed_lock; /* the next three; held only for a moment */
	pthread_cond_t feed_cond;
	int64_t committed_seq; /* the last seq the writer has committed */
	bool feed_stop;
	struct trace_reader *reader; /* the feeder's own */
	int64_t read_seq;	   /* the last seq read */
};

static struct batch *slot(struct live *l, uint64_t id)
{
	return &l->ring[id % RING_SLOTS];
}

static void drop_oldest(struct live *l)
{
	struct batch *b = slot(l, l->first_id++);
	l->ring_bytes -= b->len;
	free(b->data);
	*b = (struct batch){0};
}

/* Moves the open batch into the ring. The caller holds the lock. */
static bool seal(struct live *l)
{
	if (l->open_events == 0)
		return false;
	text_unput(&l->open, ',');
	text_adds(&l->open, "]}");
	if (l->open.failed) {
		/* The events are lost to the stream; clients see them as missed. */
		text_free(&l->open);
		l->open_events = 0;
		return false;
	}
	while (l->next_id - l->first_id >= RING_SLOTS ||
	       (l->next_id > l->first_id && l->ring_bytes + l->open.len > RING_BYTES))
		drop_oldest(l);
	/* A copy of just the right size; the open buffer, grown once, stays for
	 * the next batch (growing a fresh one each time costs page faults). */
	unsigned char *data = malloc(LWS_PRE + l->open.len);
	l->open_events = 0;
	if (!data) {
		l->open.len = 0;
		return false;
	}
	memcpy(data + LWS_PRE, l->open.data + LWS_PRE, l->open.len);
	struct batch *b = slot(l, l->next_id++);
	*b = (struct batch){.data = data, .len = l->open.len,
			    .first_seq = l->open_first_seq, .last_seq = l->last_seq};
	l->ring_bytes += b->len;
	l->open.len = 0;
	return true;
}

static void apply(struct live *l, const struct trace_event *event)
{
	if (!l->started) {
		l->origin_ns = event->ts_ns;
		l->started = true;
	}
	/* Events leave the queue in about their time order; never go back. */
	double t = ((double)event->ts_ns - (double)l->origin_ns) / 1e9;
	if (t > l->t)
		l->t = t;
	if (event->ts_ns > l->last_ts_ns)
		l->last_ts_ns = event->ts_ns;
	/* The tree here only has to know what exists (for snapshots). */
	if (!l->scene_failed && index_apply(l->scene, event, l->t) < 0)
		l->scene_failed = true;
	if (!l->instances_failed &&
	    instance_counts_add(&l->instances, event->process, 1, event->result < 0) != 0)
		l->instances_failed = true;
}

void live_add(struct live *l, const struct trace_event *event, int64_t seq)
{
	pthread_mutex_lock(&l->lock);
	apply(l, event);
	if (l->clients == 0) {
		l->announced = l->lineage.count; /* a client that joins gets them all */
		/* Nobody to send it to: the scene is enough for whoever comes. */
		l->last_seq = seq;
		pthread_mutex_unlock(&l->lock);
		return;
	}
	if (l->open_events == 0) {
		text_adds(&l->open, "{\"type\":\"events\",\"events\":[");
		l->open_first_seq = seq;
	}
	text_event(&l->open, event, seq);
	if (l->announced < l->lineage.count) {
		/* The first event of a process instance says what it is. */
		text_unput(&l->open, '}');
		text_adds(&l->open, ",\"lineage\":");
		lineage_json(&l->open, &l->lineage, l->announced);
		text_adds(&l->open, "}");
		l->announced = l->lineage.count;
	}
	text_adds(&l->open, ",");
	l->open_events++;
	l->last_seq = seq;
	bool sealed = l->open.len >= SEAL_BYTES && seal(l);
	pthread_mutex_unlock(&l->lock);
	if (sealed)
		l->wake(l->wake_ctx);
}

void live_flush(struct live *l)
{
	pthread_mutex_lock(&l->lock);
	bool sealed = seal(l);
	if (!l->scene_failed && l->t - l->advanced_t >= ADVANCE_EVERY) {
		if (viz_scene_advance(l->scene, l->t, l->last_ts_ns) != 0)
			l->scene_failed = true;
		l->advanced_t = l->t;
	}
	pthread_mutex_unlock(&l->lock);
	if (sealed)
		l->wake(l->wake_ctx);
}

/* ---- the feeder ---- */

static void on_committed(void *ctx, int64_t last_seq)
{
	struct live *l = ctx;
	pthread_mutex_lock(&l->feed_lock);
	if (last_seq > l->committed_seq) {
		l->committed_seq = last_seq;
		pthread_cond_signal(&l->feed_cond);
	}
	pthread_mutex_unlock(&l->feed_lock);
}

/* Reads what is committed and not yet read. 0, or -1 with a message in ERR. */
static int feed(struct live *l, char *err, size_t err_size)
{
	if (!l->reader && !(l->reader = trace_reader_open(l->trace, err, err_size)))
		return -1;
	struct trace_event event;
	int64_t seq;
	int rc;
	while ((rc = trace_reader_next(l->reader, &event, &seq, err, err_size)) == 1) {
		if (event.process > l->lineage.last_id) {
			pthread_mutex_lock(&l->lock); /* live_join reads the rows */
			rc = lineage_read(&l->lineage, l->reader, event.process, err, err_size);
			pthread_mutex_unlock(&l->lock);
			if (rc != 0)
				break;
		}
		live_add(l, &event, seq);
		l->read_seq = seq;
	}
	live_flush(l);
	return rc;
}

static void *feeder(void *arg)
{
	struct live *l = arg;
	for (;;) {
		pthread_mutex_lock(&l->feed_lock);
		while (!l->feed_stop && l->committed_seq <= l->read_seq)
			pthread_cond_wait(&l->feed_cond, &l->feed_lock);
		bool stop = l->feed_stop;
		pthread_mutex_unlock(&l->feed_lock);
		if (stop)
			break;
		char err[512];
		if (feed(l, err, sizeof(err)) != 0) {
			/* The trace is still written; only the view stops. */
			fprintf(stderr, "tracefs: the live view stops: %s\n", err);
			break;
		}
	}
	trace_reader_close(l->reader);
	l->reader = NULL;
	return NULL;
}

/* Stops the feeder (once the trace is closing, or the server stops). */
static void stop_feeder(struct live *l)
{
	if (!l->thread_running)
		return;
	pthread_mutex_lock(&l->feed_lock);
	l->feed_stop = true;
	pthread_cond_signal(&l->feed_cond);
	pthread_mutex_unlock(&l->feed_lock);
	pthread_join(l->thread, NULL);
	l->thread_running = false;
}

static void on_closing(void *ctx)
{
	stop_feeder(ctx);
}

struct live *live_new(const char *trace, void (*wake)(void *ctx), void *ctx)
{
	struct live *l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	struct viz_options options = {0};
	l->scene = viz_scene_new(play_allocator(), &options);
	bool locks = pthread_mutex_init(&l->lock, NULL) == 0;
	bool feed_locks = locks && pthread_mutex_init(&l->feed_lock, NULL) == 0;
	bool cond = feed_locks && pthread_cond_init(&l->feed_cond, NULL) == 0;
	if (!l->scene || !cond || (trace && !(l->trace = strdup(trace)))) {
		if (cond)
			pthread_cond_destroy(&l->feed_cond);
		if (feed_locks)
			pthread_mutex_destroy(&l->feed_lock);
		if (locks)
			pthread_mutex_destroy(&l->lock);
		viz_scene_free(l->scene);
		free(l);
		return NULL;
	}
	l->wake = wake;
	l->wake_ctx = ctx;
	l->tap = (struct recorder_tap){.committed = on_committed, .closing = on_closing, .ctx = l};
	if (trace) {
		int rc = pthread_create(&l->thread, NULL, feeder, l);
		if (rc != 0) {
			errno = rc;
			live_free(l);
			return NULL;
		}
		l->thread_running = true;
	}
	return l;
}

void live_free(struct live *l)
{
	if (!l)
		return;
	stop_feeder(l);
	while (l->first_id < l->next_id)
		drop_oldest(l);
	text_free(&l->open);
	lineage_free(&l->lineage);
	instance_counts_free(&l->instances);
	viz_scene_free(l->scene);
	pthread_cond_destroy(&l->feed_cond);
	pthread_mutex_destroy(&l->feed_lock);
	pthread_mutex_destroy(&l->lock);
	free(l->trace);
	free(l);
}

const struct recorder_tap *live_tap(struct live *l)
{
	return &l->tap;
}

void live_attach(struct live *l, int delta)
{
	pthread_mutex_lock(&l->lock);
	l->clients += delta;
	pthread_mutex_unlock(&l->lock);
}

int live_join(struct live *l, struct web_outbox *box, struct live_cursor *cursor)
{
	pthread_mutex_lock(&l->lock);
	/* Everything in the scene must be before the cursor: seal the rest. */
	seal(l);
	int rc = l->scene_failed ? -1
				 : snapshot_queue(box, l->scene, &l->lineage,
						  l->instances_failed ? NULL : &l->instances,
						  l->last_seq, l->last_ts_ns, l->t);
	cursor->batch = l->next_id;
	cursor->next_seq = l->last_seq + 1;
	pthread_mutex_unlock(&l->lock);
	return rc;
}

enum live_send live_send_next(struct live *l, struct lws *wsi, struct live_cursor *cursor,
			      int64_t *missed, bool *more)
{
	enum live_send result = LIVE_IDLE;
	*more = false;
	pthread_mutex_lock(&l->lock);
	if (cursor->batch < l->first_id) {
		/* What it missed: up to the oldest batch still kept, or all if none. */
		int64_t resume = l->first_id < l->next_id ? slot(l, l->first_id)->first_seq
							  : l->last_seq + 1;
		*missed = resume - cursor->next_seq;
		result = LIVE_MISSED;
	} else if (cursor->batch < l->next_id) {
		struct batch *b = slot(l, cursor->batch);
		/* Under the lock, so the writer cannot drop the batch meanwhile;
		 * lws_write() keeps what the socket does not take at once. */
		int n = lws_write(wsi, b->data + LWS_PRE, b->len, LWS_WRITE_TEXT);
		if (n < (int)b->len) {
			result = LIVE_ERROR;
		} else {
			cursor->batch++;
			cursor->next_seq = b->last_seq + 1;
			*more = cursor->batch < l->next_id;
			result = LIVE_SENT;
		}
	}
	pthread_mutex_unlock(&l->lock);
	return result;
}
