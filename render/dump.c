/*
 * dump.c — `--dump-scene FILE`: the model's nodes and the last frame's
 * drawing as JSON, so that anyone can measure what the picture shows
 * (frame.width, frame.height, frame.nodes[] with id, x, y, r; nodes[]
 * with id, flash, dying; these fields stay; frame.labels[] with text, node,
 * x, y, size and plate, the box each keeps clear of the others).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "play/play.h"
#include "trace/trace.h"
#include "render/internal.h"

/* LEN bytes of S as a JSON string, escaped as the trace's JSON is (trace/json.c). */
static void json_string(FILE *f, const char *s, size_t len)
{
	char *text = strndup(s, len), *json = NULL;
	size_t need = text ? trace_json_string(text, NULL, 0) : 0;
	if (text && (json = malloc(need + 1)))
		trace_json_string(text, json, need + 1);
	fputs(json ? json : "null", f); /* out of memory: the dump says so by a null */
	free(json);
	free(text);
}

static void json_color(FILE *f, struct viz_color c)
{
	fprintf(f, "[%.4f,%.4f,%.4f,%.4f]", c.r, c.g, c.b, c.a);
}

static const char *kind_text(enum viz_kind kind)
{
	const char *name = viz_kind_name(kind);
	return name ? name : "none";
}

struct dump {
	FILE *f;
	bool first;
};

static void dump_node(void *ctx, const char *path, const struct viz_node_info *n)
{
	struct dump *d = ctx;
	fprintf(d->f, "%s\n{\"id\":%" PRIu32 ",\"parent\":%" PRIu32 ",\"path\":", d->first ? "" : ",",
		n->id, n->parent_id);
	json_string(d->f, path, strlen(path));
	fprintf(d->f, ",\"name\":");
	json_string(d->f, n->name, n->name_len);
	fprintf(d->f,
		",\"kind\":\"%s\",\"depth\":%d,\"x\":%.17g,\"y\":%.17g,\"r\":%.17g,"
		"\"target_x\":%.17g,\"target_y\":%.17g,\"target_r\":%.17g,\"territory\":%.17g,"
		"\"flash\":%.4f,\"dying\":%s,\"color\":",
		kind_text(n->kind), n->depth, n->x, n->y, n->r, n->target_x, n->target_y,
		n->target_r, n->territory, n->flash, n->dying ? "true" : "false");
	json_color(d->f, n->color);
	fputc('}', d->f);
	d->first = false;
}

static void dump_frame(FILE *f, const struct viz_frame *fr)
{
	fprintf(f, "\"frame\":{\"width\":%d,\"height\":%d,\"clock\":", fr->width, fr->height);
	json_string(f, fr->clock, strlen(fr->clock));
	fprintf(f, ",\"elapsed\":");
	json_string(f, fr->elapsed, strlen(fr->elapsed));
	fprintf(f, ",\"status\":");
	json_string(f, fr->status, strlen(fr->status));
	fprintf(f, ",\"nodes\":[");
	for (size_t i = 0; i < fr->node_count; i++) {
		const struct viz_frame_node *n = &fr->nodes[i];
		fprintf(f, "%s\n{\"id\":%" PRIu32 ",\"x\":%.3f,\"y\":%.3f,\"r\":%.3f,\"glow\":%.3f,"
			   "\"collapsed\":%s,\"color\":",
			i ? "," : "", n->id, n->x, n->y, n->r, n->glow, n->collapsed ? "true" : "false");
		json_color(f, n->color);
		fputc('}', f);
	}
	fprintf(f, "],\n\"labels\":[");
	for (size_t i = 0; i < fr->label_count; i++) {
		const struct viz_frame_label *l = &fr->labels[i];
		fprintf(f, "%s\n{\"text\":", i ? "," : "");
		json_string(f, l->text, l->len);
		fprintf(f, ",\"node\":%" PRIu32 ",\"x\":%.3f,\"y\":%.3f,\"size\":%.3f,\"color\":",
			l->id, l->x, l->y, l->size);
		json_color(f, l->color);
		/* the plate: all the label takes, kept clear of every other label's */
		fprintf(f, ",\"plate\":{\"x0\":%.3f,\"y0\":%.3f,\"x1\":%.3f,\"y1\":%.3f,"
			   "\"opacity\":%.3f}",
			l->box.x0, l->box.y0, l->box.x1, l->box.y1, l->plate);
		if (l->leader)
			fprintf(f, ",\"leader\":[%.3f,%.3f]", l->leader_x, l->leader_y);
		fputc('}', f);
	}
	fprintf(f, "],\n\"processes\":[");
	for (size_t i = 0; i < fr->process_count; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, fr->processes[i].name, strlen(fr->processes[i].name));
	}
	fprintf(f, "],\"edges\":%zu}", fr->edge_count);
}

int dump_write(const char *prog, const char *path, struct viz_scene *scene,
		      const struct viz_frame *frame, double t)
{
	char temp[PATH_MAX];
	if (temp_name(prog, path, temp, sizeof(temp)) != 0)
		return -1;
	FILE *f = fopen(temp, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, temp, strerror(errno));
		return -1;
	}
	struct dump d = {f, true};
	fprintf(f, "{\"time\":%.6f,\"node_count\":%zu,\n", t, viz_scene_node_count(scene));
	dump_frame(f, frame);
	char *stats = play_stats_json(scene); /* the page's panel: its counters */
	fprintf(f, ",\n\"stats\":%s,\n\"nodes\":[", stats ? stats : "null");
	int failed = stats ? 0 : -1;
	free(stats);
	if (viz_scene_visit(scene, dump_node, &d) != 0)
		failed = -1;
	fprintf(f, "]}\n");
	if (failed) {
		fprintf(stderr, "%s: out of memory\n", prog);
	} else if (ferror(f) || fflush(f) != 0) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, temp, strerror(errno));
		failed = -1;
	}
	if (fclose(f) != 0 && !failed) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, temp, strerror(errno));
		failed = -1;
	}
	if (!failed && rename(temp, path) != 0) {
		fprintf(stderr, "%s: cannot rename %s to %s: %s\n", prog, temp, path, strerror(errno));
		failed = -1;
	}
	if (failed)
		unlink(temp);
	return failed ? -1 : 0;
}

