/*
 * stats.c — the scene model's counters as one JSON object, written once
 * for the two places that show them: the `stats` of a snapshot (the page's
 * panel) and of render's --dump-scene.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "play/play.h"

struct buffer {
	char *text;
	size_t len, cap;
	bool failed;
};

static void reserve(struct buffer *b, size_t more)
{
	if (b->failed || b->len + more + 1 <= b->cap)
		return;
	size_t cap = b->cap ? b->cap : 1024;
	while (cap < b->len + more + 1)
		cap *= 2;
	char *text = realloc(b->text, cap);
	if (!text) {
		b->failed = true;
		return;
	}
	b->text = text;
	b->cap = cap;
}

__attribute__((format(printf, 2, 3))) static void add(struct buffer *b, const char *format, ...)
{
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(NULL, 0, format, ap);
	va_end(ap);
	reserve(b, n > 0 ? (size_t)n : 0);
	if (b->failed || n < 0)
		return;
	va_start(ap, format);
	vsnprintf(b->text + b->len, b->cap - b->len, format, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void add_string(struct buffer *b, const char *s)
{
	size_t n = trace_json_string(s, NULL, 0);
	reserve(b, n);
	if (b->failed)
		return;
	trace_json_string(s, b->text + b->len, b->cap - b->len);
	b->len += n;
}

char *play_stats_json(const struct viz_scene *scene)
{
	struct buffer b = {0};
	add(&b, "{\"events\":%" PRIu64 ",\"ops\":{", viz_scene_events(scene));
	const char *comma = "";
	for (int op = 0; op < VIZ_OP_COUNT; op++) {
		uint64_t n = viz_scene_op_events(scene, (enum viz_op)op);
		if (n) {
			add(&b, "%s\"%s\":%" PRIu64, comma, viz_op_name((enum viz_op)op), n);
			comma = ",";
		}
	}
	add(&b, "},\"errnos\":{");
	comma = "";
	for (int e = 0; e < VIZ_ERRNO_SLOTS; e++) {
		uint64_t n = viz_scene_errno_events(scene, e);
		if (n) {
			add(&b, "%s\"%d\":%" PRIu64, comma, e, n);
			comma = ",";
		}
	}
	add(&b, "},\"processes\":[");
	for (size_t i = 0; i < viz_scene_process_count(scene); i++) {
		struct viz_process_info p;
		viz_scene_process(scene, i, &p);
		add(&b, "%s{\"name\":", i ? "," : "");
		add_string(&b, p.name);
		add(&b, ",\"events\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"color\":%d}", p.events,
		    p.errors, p.color_slot);
	}
	add(&b, "]}");
	if (b.failed) {
		free(b.text);
		return NULL;
	}
	return b.text;
}
