/*
 * snapshot.c — the `snapshot` messages that give a client the tree a
 * scene holds.
 */
#include "web/internal.h"

/* A part stays under this size, so that no message is huge. */
#define PART_BYTES 65536

struct snapshot_builder {
	struct web_outbox *box;
	struct web_text part;
	int64_t seq, ts_ns;
	size_t nodes; /* in the current part */
	bool failed;
};

static void open_part(struct snapshot_builder *b)
{
	text_printf(&b->part, "{\"type\":\"snapshot\",\"seq\":%lld,\"ts_ns\":%lld,\"nodes\":[",
		    (long long)b->seq, (long long)b->ts_ns);
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
	text_adds(&b->part, "},");
	b->nodes++;
}

int snapshot_queue(struct web_outbox *box, struct viz_scene *scene, int64_t seq, int64_t ts_ns)
{
	struct snapshot_builder b = {.box = box, .seq = seq, .ts_ns = ts_ns};
	open_part(&b);
	if (viz_scene_visit(scene, add_node, &b) != 0)
		b.failed = true;
	close_part(&b, true);
	text_free(&b.part);
	return b.failed ? -1 : 0;
}
