/*
 * snapshot.c — the `snapshot` messages that give a client the tree a
 * scene holds.
 */
#include <stdlib.h>

#include "web/internal.h"

#define PART_BYTES 65536 /* a part stays under this size, so that no message is huge */
#define RECENT_S 60.0	 /* touches up to this long ago are sent with their age */

struct snapshot_builder {
	struct web_outbox *box;
	struct viz_scene *scene;
	const struct web_lineage *lineage;
	const struct web_instance_counts *instances;
	struct web_text part;
	int64_t seq, ts_ns;
	double now; /* the scene's time at ts_ns */
	size_t nodes; /* in the current part */
	bool first, failed;
};

static void open_part(struct snapshot_builder *b)
{
	text_printf(&b->part, "{\"type\":\"snapshot\",\"seq\":%lld,\"ts_ns\":%lld,",
		    (long long)b->seq, (long long)b->ts_ns);
	if (b->first) { /* the scene's counters (see the README's protocol) */
		char *stats = play_stats_json(b->scene);
		if (!stats)
			b->failed = true;
		text_adds(&b->part, "\"stats\":");
		text_adds(&b->part, stats ? stats : "null");
		text_adds(&b->part, ",\"lineage\":");
		lineage_json(&b->part, b->lineage, 0);
		if (b->instances) {
			text_adds(&b->part, ",\"instances\":");
			instance_counts_json(&b->part, b->instances);
		}
		text_adds(&b->part, ",");
		free(stats);
	}
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
	if (info->instance > 0) /* the lineage's id: the page's colour by command */
		text_printf(&b->part, ",\"instance\":%lld", (long long)info->instance);
	/* how long ago, while it may still glow: a page restores the flash */
	double age = b->now - info->touch_t;
	if (info->last_op != VIZ_OP_UNKNOWN && age >= 0 && age < RECENT_S)
		text_printf(&b->part, ",\"age\":%.3f", age);
	text_adds(&b->part, "},");
	b->nodes++;
}

int snapshot_queue(struct web_outbox *box, struct viz_scene *scene, const struct web_lineage *lineage,
		   const struct web_instance_counts *instances, int64_t seq, int64_t ts_ns, double now)
{
	struct snapshot_builder b = {.box = box, .scene = scene, .lineage = lineage,
				     .instances = instances, .seq = seq,
				     .ts_ns = ts_ns, .now = now, .first = true};
	open_part(&b);
	if (viz_scene_visit(scene, add_node, &b) != 0)
		b.failed = true;
	close_part(&b, true);
	text_free(&b.part);
	return b.failed ? -1 : 0;
}
