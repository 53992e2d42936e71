/*
 * replay.c — one client's playback of a recorded trace, streamed from
 * SQLite (a trace bigger than memory replays). Each client has its own
 * reader, position, speed and play/pause state; the span, the timeline and
 * the scene checkpoints come from the trace's shared index (index.c). A
 * seek rebuilds the tree at the sought time from the checkpoint before it
 * and the events after that, then sends it as a snapshot; playback sends
 * the events due by the wall clock, a bounded batch at a time, and skips
 * quiet gaps.
 */
#include "web/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TICK_EVENTS 2500	  /* at most this many events per message (~0.5 MB): a page
				     catching up gets bites it can take between frames */
#define STATE_EVERY_NS 250000000  /* `state` while playing, for the page's clock */
#define QUIET_GAP_S 1.5		  /* wall seconds of nothing that get skipped... */
#define QUIET_LEAD_S 0.25	  /* ...so that the next event comes this soon */
#define REPLAY_CACHED_NAMES 4096  /* paths and processes a tab's reader keeps: ~0.5 MB */

struct replay {
	struct trace_reader *reader;
	const struct trace_index *index;
	int64_t first_ns, last_ns, count;
	bool playing, ended;
	double speed;
	int64_t anchor_pos_ns;	 /* trace time at anchor_wall_ns */
	int64_t anchor_wall_ns;	 /* CLOCK_MONOTONIC */
	int64_t position_ns;	 /* trace time shown now */
	int64_t last_state_ns;	 /* CLOCK_MONOTONIC of the last `state` */
	/* The next event, read but not yet due. */
	bool has_pending;
	struct trace_event pending;
	int64_t pending_seq;
	char *pending_strings[3]; /* owned copies of path, path2, comm */
	struct web_lineage lineage; /* every process instance, in each snapshot */
};

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void drop_pending(struct replay *r)
{
	for (int i = 0; i < 3; i++) {
		free(r->pending_strings[i]);
		r->pending_strings[i] = NULL;
	}
	r->has_pending = false;
}

/* Keeps EVENT (whose strings belong to the reader) as the pending one. */
static int keep_pending(struct replay *r, const struct trace_event *event, int64_t seq)
{
	drop_pending(r);
	r->pending = *event;
	r->pending_seq = seq;
	const char *strings[3] = {event->path, event->path2, event->comm};
	const char **fields[3] = {&r->pending.path, &r->pending.path2, &r->pending.comm};
	for (int i = 0; i < 3; i++) {
		if (strings[i] && !(r->pending_strings[i] = strdup(strings[i])))
			return -1;
		*fields[i] = r->pending_strings[i];
	}
	r->has_pending = true;
	return 0;
}

/* The next event in seq order: the pending one, else from the reader. 1, 0 at the end, -1. */
static int next_event(struct replay *r, struct trace_event *event, int64_t *seq, bool *from_pending,
		      char *err, size_t err_size)
{
	if (r->has_pending) {
		*event = r->pending;
		*seq = r->pending_seq;
		*from_pending = true;
		return 1;
	}
	*from_pending = false;
	return trace_reader_next(r->reader, event, seq, err, err_size);
}

struct replay *replay_open(const char *trace, const struct trace_index *index, char *err,
			   size_t err_size)
{
	struct replay *r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, err_size, "out of memory");
		return NULL;
	}
	r->reader = trace_reader_open(trace, err, err_size);
	if (!r->reader) {
		replay_close(r);
		return NULL;
	}
	/* A tab reads a few thousand events per seek: a small cache, as tabs are many. */
	if (trace_reader_limit_cache(r->reader, REPLAY_CACHED_NAMES) != 0) {
		snprintf(err, err_size, "out of memory");
		replay_close(r);
		return NULL;
	}
	if (lineage_read(&r->lineage, r->reader, INT64_MAX, err, err_size) != 0) {
		replay_close(r);
		return NULL;
	}
	r->index = index;
	index_span(index, &r->first_ns, &r->last_ns, &r->count);
	r->speed = 1;
	r->position_ns = r->first_ns;
	return r;
}

void replay_close(struct replay *r)
{
	if (!r)
		return;
	drop_pending(r);
	lineage_free(&r->lineage);
	trace_reader_close(r->reader);
	free(r);
}

char *replay_meta(struct replay *r, const char *key)
{
	return trace_reader_meta(r->reader, key);
}

static int queue_state(struct replay *r, struct web_outbox *box)
{
	char json[256];
	snprintf(json, sizeof(json),
		 "{\"type\":\"state\",\"playing\":%s,\"speed\":%.17g,\"position_ns\":%lld,"
		 "\"ended\":%s}",
		 r->playing ? "true" : "false", r->speed, (long long)r->position_ns,
		 r->ended ? "true" : "false");
	r->last_state_ns = mono_ns();
	return outbox_push(box, json);
}

static int queue_timeline(struct replay *r, struct web_outbox *box)
{
	const int64_t *counts = index_buckets(r->index);
	struct web_text text = {0};
	text_printf(&text,
		    "{\"type\":\"timeline\",\"first_ns\":%lld,\"last_ns\":%lld,\"events\":%lld,"
		    "\"buckets\":[",
		    (long long)r->first_ns, (long long)r->last_ns, (long long)r->count);
	for (int i = 0; i < TIMELINE_BUCKETS; i++)
		text_printf(&text, "%s%lld", i ? "," : "", (long long)counts[i]);
	text_adds(&text, "]}");
	int rc = outbox_take(box, &text);
	text_free(&text);
	return rc;
}

/*
 * The phases of the run (from the index), for the timeline's marks and
 * the caption. A trace the analysis cannot make sense of replays anyway:
 * it then has no phases, and the message says why.
 */
static int queue_phases(struct replay *r, struct web_outbox *box)
{
	const struct analyze_phase_span *phases;
	size_t count;
	const char *why = index_phases(r->index, &phases, &count);
	struct web_text text = {0};
	text_adds(&text, "{\"type\":\"phases\",\"phases\":[");
	for (size_t i = 0; !why && i < count; i++) {
		text_adds(&text, i ? ",{\"name\":" : "{\"name\":");
		text_json_string(&text, phases[i].name);
		text_printf(&text, ",\"start_ns\":%lld,\"end_ns\":%lld}",
			    (long long)phases[i].start_ns, (long long)phases[i].end_ns);
	}
	text_adds(&text, "]");
	if (why) {
		text_adds(&text, ",\"error\":");
		text_json_string(&text, why);
	}
	text_adds(&text, "}");
	int rc = outbox_take(box, &text);
	text_free(&text);
	return rc;
}

/*
 * Rebuilds the tree at TS_NS: every event before it (in seq order) goes
 * through a scene model, from the index's checkpoint on; the first one at
 * or after it becomes pending. Queues the snapshot.
 */
static int seek_to(struct replay *r, int64_t ts_ns, struct web_outbox *box, char *err,
		   size_t err_size)
{
	drop_pending(r);
	r->ended = false;
	struct viz_options options = {.unplaced = true}; /* only snapshots: no layout */
	struct viz_scene *scene = viz_scene_new(play_allocator(), &options);
	struct trace_event event;
	int64_t seq, last_seq = 0;
	double t = 0;
	struct web_instance_counts instances = {0}; /* for the page's counts by command */
	if (!scene || index_restore(r->index, ts_ns, scene, &instances, &last_seq, &t) != 0) {
		viz_scene_free(scene);
		instance_counts_free(&instances);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	trace_reader_seek_seq(r->reader, last_seq + 1);
	int rc;
	while ((rc = trace_reader_next(r->reader, &event, &seq, err, err_size)) == 1) {
		if (event.ts_ns >= ts_ns) {
			rc = keep_pending(r, &event, seq) == 0 ? 1 : -1;
			if (rc < 0)
				snprintf(err, err_size, "out of memory");
			break;
		}
		double event_t = ((double)event.ts_ns - (double)r->first_ns) / 1e9; /* no overflow */
		if (event_t > t)
			t = event_t;
		/* Applied whole, not as the index does: the nodes' last
		 * operations and processes colour the sought moment. */
		struct viz_event ve;
		play_event(&ve, &event, t);
		if (viz_scene_apply(scene, &ve) != 0 ||
		    instance_counts_add(&instances, event.process, 1, event.result < 0) != 0) {
			rc = -1;
			snprintf(err, err_size, "out of memory");
			break;
		}
		last_seq = seq;
	}
	if (rc == 0)
		r->ended = ts_ns > r->last_ns;
	if (rc >= 0) {
		r->position_ns = ts_ns;
		/* Times may span the whole int64 range: the difference in double. */
		double t_s = ((double)ts_ns - (double)r->first_ns) / 1e9;
		rc = snapshot_queue(box, scene, &r->lineage, &instances, last_seq, ts_ns, t_s);
		if (rc != 0)
			snprintf(err, err_size, "out of memory");
	}
	viz_scene_free(scene);
	instance_counts_free(&instances);
	r->anchor_pos_ns = r->position_ns;
	r->anchor_wall_ns = mono_ns();
	return rc < 0 ? -1 : 0;
}

int replay_welcome(struct replay *r, struct web_outbox *box)
{
	char err[512];
	if (queue_timeline(r, box) != 0 || queue_phases(r, box) != 0)
		return -1;
	/* A bad first event: say why, rather than close (the page would reconnect forever). */
	if (seek_to(r, r->first_ns, box, err, sizeof(err)) != 0)
		return outbox_error(box, err);
	return queue_state(r, box);
}

/* A seek here shows the final tree: every event has happened. */
static int64_t past_end(const struct replay *r)
{
	return r->last_ns < INT64_MAX ? r->last_ns + 1 : INT64_MAX;
}

int replay_command(struct replay *r, const struct web_command *c, struct web_outbox *box,
		   char *err, size_t err_size)
{
	int64_t now = mono_ns();
	switch (c->cmd) {
	case CMD_PLAY:
		if (r->ended && seek_to(r, r->first_ns, box, err, err_size) != 0)
			return -1; /* play after the end starts over */
		r->playing = true;
		break;
	case CMD_PAUSE:
		r->playing = false;
		break;
	case CMD_SEEK: {
		int64_t ts = c->ts_ns < r->first_ns ? r->first_ns : c->ts_ns;
		if (ts > r->last_ns)
			ts = past_end(r);
		if (seek_to(r, ts, box, err, err_size) != 0)
			return -1;
		break;
	}
	case CMD_SPEED:
		r->speed = c->value;
		break;
	case CMD_SNAPSHOT:
		/* After the end, the final tree: at last_ns itself, the events
		 * of that last nanosecond would not have happened yet. */
		if (seek_to(r, r->ended ? past_end(r) : r->position_ns, box, err, err_size) != 0)
			return -1;
		break;
	case CMD_PING:
		break;
	}
	r->anchor_pos_ns = r->position_ns;
	r->anchor_wall_ns = now;
	return queue_state(r, box);
}

int replay_tick(struct replay *r, struct web_outbox *box, char *err, size_t err_size)
{
	if (!r->playing)
		return 0;
	int64_t now = mono_ns();
	double due = (double)r->anchor_pos_ns + (double)(now - r->anchor_wall_ns) * r->speed;
	/* Times may span the whole int64 range: differences in double, saturated. */
	int64_t target = due >= 0x1p63 ? INT64_MAX : due < -0x1p63 ? INT64_MIN : (int64_t)due;
	struct web_text text = {0};
	size_t events = 0;
	struct trace_event event;
	int64_t seq;
	bool from_pending;
	int rc = 1;
	while (events < TICK_EVENTS &&
	       (rc = next_event(r, &event, &seq, &from_pending, err, err_size)) == 1) {
		if (event.ts_ns > target) {
			if (!from_pending && keep_pending(r, &event, seq) != 0) {
				snprintf(err, err_size, "out of memory");
				rc = -1;
			}
			/* A quiet gap: jump ahead so the next event comes soon. */
			if (rc == 1 && (double)event.ts_ns - (double)target > QUIET_GAP_S * 1e9 * r->speed) {
				int64_t lead = (int64_t)(QUIET_LEAD_S * 1e9 * r->speed);
				target = event.ts_ns >= INT64_MIN + lead ? event.ts_ns - lead : INT64_MIN;
				r->anchor_pos_ns = target;
				r->anchor_wall_ns = now;
			}
			break;
		}
		if (events == 0)
			text_adds(&text, "{\"type\":\"events\",\"events\":[");
		text_event(&text, &event, seq);
		text_adds(&text, ",");
		events++;
		if (from_pending)
			drop_pending(r);
	}
	if (rc < 0) {
		text_free(&text);
		return -1;
	}
	if (events > 0) {
		text_unput(&text, ',');
		text_adds(&text, "]}");
		if (outbox_take(box, &text) != 0) {
			text_free(&text);
			snprintf(err, err_size, "out of memory");
			return -1;
		}
	}
	text_free(&text);
	r->position_ns = target < r->last_ns ? target : r->last_ns;
	if (rc == 0) {
		/* The end of the trace. */
		r->playing = false;
		r->ended = true;
		r->position_ns = r->last_ns;
		return queue_state(r, box) == 0 ? 0 : -1;
	}
	if (now - r->last_state_ns >= STATE_EVERY_NS && queue_state(r, box) != 0)
		return -1;
	return 1;
}
