/*
 * snapshot.c — the `snapshot` messages that give a client the tree a
 * scene holds.
 */
#include "web/internal.h"

/* A part stays under this size, so that no message is huge. */
#define RECENT_S 60.0 /* touches up to this long ago are sent with their age */
#define PART_BYTES 65536

struct snapshot_builder {
	struct web_outbox *box;
	struct viz_scene *scene;
	struct web_text part;
	int64_t seq, ts_ns;
	double now; /* the scene's time at ts_ns */
	size_t nodes; /* in the current part */
	bool first, failed;
};

/* The scene's counters, as the first part carries them (see the README's protocol). */
static void add_stats(struct web_text *t, const struct viz_scene *scene)
{
	text_printf(t, "\"stats\":{\"events\":%llu,\"ops\":{",
		    (unsigned long long)viz_scene_events(scene));
	const char *comma = "";
	for (int op = 0; op < VIZ_OP_COUNT; op++) {
		uint64_t n = viz_scene_op_events(scene, (enum viz_op)op);
		if (!n)
			continue;
		text_printf(t, "%s", comma);
		text_json_string(t, viz_op_name((enum viz_op)op));
		text_printf(t, ":%llu", (unsigned long long)n);
		comma = ",";
	}
	text_adds(t, "},\"errnos\":{");
	comma = "";
	for (int e = 0; e < VIZ_ERRNO_SLOTS; e++) {
		uint64_t n = viz_scene_errno_events(scene, e);
		if (n) {
			text_printf(t, "%s\"%d\":%llu", comma, e, (unsigned long long)n);
			comma = ",";
		}
	}
	text_adds(t, "},\"processes\":[");
	size_t count = viz_scene_process_count(scene);
	for (size_t i = 0; i < count; i++) {
		struct viz_process_info p;
		viz_scene_process(scene, i, &p);
		text_adds(t, i ? ",{\"name\":" : "{\"name\":");
		text_json_string(t, p.name);
		text_printf(t, ",\"events\":%llu,\"errors\":%llu,\"color\":%d}",
			    (unsigned long long)p.events, (unsigned long long)p.errors,
			    p.color_slot);
	}
	text_adds(t, "]},");
}

static void open_part(struct snapshot_builder *b)
{
	text_printf(&b->part, "{\"type\":\"snapshot\",\"seq\":%lld,\"ts_ns\":%lld,",
		    (long long)b->seq, (long long)b->ts_ns);
	if (b->first)
		add_stats(&b->part, b->scene);
	b->first = false;
	text_adds(&b->part, "\"nodes\":[");
	b->nodes = 0;
}

static void close_part(struct snapshot_builder *b, bool last)
{
	text_unput(&b->part, ',');
	text_adds(&b->part, last ? "],\"last\":true}" : "],\"last\":false}");
	if (outbox_take(b->box, &b->part) != 0)
		b->failed = true;
}

static void add_node(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct snapshot_builder *b = ctx;
	if (info->dying || b->failed)
		return;
	if (b->part.len >= PART_BYTES) {
		close_part(b, false);
		open_part(b);
	}
	text_adds(&b->part, "{\"path\":");
	text_json_string(&b->part, path);
	text_adds(&b->part, ",\"kind\":");
	text_json_string(&b->part, viz_kind_name(info->kind));
	if (info->last_op != VIZ_OP_UNKNOWN) {
		text_adds(&b->part, ",\"op\":");
		text_json_string(&b->part, viz_op_name(info->last_op));
	}
	if (info->process >= 0)
		text_printf(&b->part, ",\"process\":%d", info->process);
	/* how long ago, while it may still glow: a page restores the flash */
	double age = b->now - info->touch_t;
	if (info->last_op != VIZ_OP_UNKNOWN && age >= 0 && age < RECENT_S)
		text_printf(&b->part, ",\"age\":%.3f", age);
	text_adds(&b->part, "},");
	b->nodes++;
}

int snapshot_queue(struct web_outbox *box, struct viz_scene *scene, int64_t seq, int64_t ts_ns,
		   double now)
{
	struct snapshot_builder b = {
		.box = box, .scene = scene, .seq = seq, .ts_ns = ts_ns, .now = now, .first = true};
	open_part(&b);
	if (viz_scene_visit(scene, add_node, &b) != 0)
		b.failed = true;
	close_part(&b, true);
	text_free(&b.part);
	return b.failed ? -1 : 0;
}
