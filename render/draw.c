/*
 * draw.c — native only: draws a frame of the scene model with cairo. The
 * model decides everything
 * (positions, colours, opacity, which labels); this file only paints it,
 * batching shapes of the same colour into one path because cairo's cost is
 * per fill and stroke, not per circle.
 */
#include "render/internal.h"
#include "viz/viz.h"

#include <cairo.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SANS "DejaVu Sans"
#define MONO "DejaVu Sans Mono"
#define ELLIPSIS "\xe2\x80\xa6"

static bool same_rgb(struct viz_color a, struct viz_color b)
{
	return a.r == b.r && a.g == b.g && a.b == b.b;
}

static bool same_color(struct viz_color a, struct viz_color b)
{
	return same_rgb(a, b) && a.a == b.a;
}

static int compare_color(struct viz_color a, struct viz_color b)
{
	float x[4] = {a.r, a.g, a.b, a.a}, y[4] = {b.r, b.g, b.b, b.a};
	for (int i = 0; i < 4; i++)
		if (x[i] != y[i])
			return x[i] < y[i] ? -1 : 1;
	return 0;
}

static int compare_ids(const struct viz_frame_node *a, const struct viz_frame_node *b)
{
	return (a->id > b->id) - (a->id < b->id);
}

/*
 * Nodes never overlap, so the order they are drawn in does not matter, and
 * sorting them lets nodes that look alike share one path: cairo's cost is
 * per fill far more than per circle.
 */
static int by_glow(const void *pa, const void *pb)
{
	const struct viz_frame_node *a = *(const struct viz_frame_node *const *)pa;
	const struct viz_frame_node *b = *(const struct viz_frame_node *const *)pb;
	int c = compare_color(a->glow_color, b->glow_color);
	if (c == 0)
		c = viz_glow_level(a) - viz_glow_level(b);
	return c ? c : compare_ids(a, b);
}

static int by_color(const void *pa, const void *pb)
{
	const struct viz_frame_node *a = *(const struct viz_frame_node *const *)pa;
	const struct viz_frame_node *b = *(const struct viz_frame_node *const *)pb;
	int c = compare_color(a->color, b->color);
	return c ? c : compare_ids(a, b);
}

static void set_color(cairo_t *cr, struct viz_color c)
{
	cairo_set_source_rgba(cr, c.r, c.g, c.b, c.a);
}

/*
 * Edges as thin filled quadrilaterals, all edges that look alike in one
 * path: cairo fills these several times faster than it strokes lines.
 */
static void draw_edges(cairo_t *cr, const struct viz_frame *f, struct viz_stamp *stamp,
		       struct stamp_pair *pair)
{
	if (stamp) {
		cairo_surface_flush(cairo_get_target(cr));
		stamp_pair_run(pair, stamp, f, true);
		cairo_surface_mark_dirty(cairo_get_target(cr));
	}
	for (size_t i = 0; i < f->edge_count;) {
		const struct viz_frame_edge *first = &f->edges[i];
		cairo_new_path(cr);
		for (; i < f->edge_count && same_color(f->edges[i].color, first->color) &&
		       f->edges[i].width == first->width;
		     i++) {
			const struct viz_frame_edge *e = &f->edges[i];
			if (stamp && viz_stamped_edge(stamp, e))
				continue;
			double dx = e->x2 - e->x1, dy = e->y2 - e->y1, len = hypot(dx, dy);
			if (len <= 0)
				continue;
			double nx = -dy / len * e->width / 2, ny = dx / len * e->width / 2;
			cairo_move_to(cr, e->x1 + nx, e->y1 + ny);
			cairo_line_to(cr, e->x2 + nx, e->y2 + ny);
			cairo_line_to(cr, e->x2 - nx, e->y2 - ny);
			cairo_line_to(cr, e->x1 - nx, e->y1 - ny);
			cairo_close_path(cr);
		}
		set_color(cr, first->color);
		cairo_fill(cr);
	}
}

/*
 * A soft halo around each flashing node that is not stamped: translucent
 * discs. Halos of the same colour and strength are filled as one path:
 * overlapping ones then do not add up into a blot.
 */
static void draw_glows(cairo_t *cr, const struct viz_frame *f, const struct viz_frame_node **order,
		       size_t count)
{
	double ui = f->height / 720.0;
	for (int ring = 0; ring < VIZ_GLOW_RINGS; ring++) {
		for (size_t i = 0; i < count;) {
			const struct viz_frame_node *first = order[i];
			int level = viz_glow_level(first);
			double radius, alpha = 0;
			cairo_new_path(cr);
			for (; i < count && viz_glow_level(order[i]) == level &&
			       same_rgb(order[i]->glow_color, first->glow_color);
			     i++) {
				const struct viz_frame_node *n = order[i];
				if (level == 0)
					continue;
				viz_glow_ring(n, ring, ui, &radius, &alpha);
				cairo_new_sub_path(cr);
				cairo_arc(cr, n->x, n->y, radius, 0, 2 * 3.14159265358979323846);
			}
			if (alpha == 0)
				continue;
			cairo_set_source_rgba(cr, first->glow_color.r, first->glow_color.g,
					      first->glow_color.b, alpha);
			cairo_fill(cr);
		}
	}
}

static void add_dot(cairo_t *cr, const struct viz_frame_node *n)
{
	if (n->r < 1) { /* a square of the same area: cheaper, and alike at this size */
		double side = n->r * 1.7725;
		cairo_rectangle(cr, n->x - side / 2, n->y - side / 2, side, side);
		return;
	}
	cairo_new_sub_path(cr);
	cairo_arc(cr, n->x, n->y, n->r, 0, 2 * 3.14159265358979323846);
}

/*
 * The stamp (see viz.h) for an image target drawn untransformed, with its
 * halo buffer (kept for the next frame); false otherwise (then cairo draws
 * everything).
 */
static bool stamp_target(cairo_t *cr, struct draw_buffers *b, const struct viz_frame *f,
			 struct viz_stamp *st)
{
	cairo_surface_t *target = cairo_get_target(cr);
	cairo_matrix_t m;
	cairo_get_matrix(cr, &m);
	if (m.xx != 1 || m.yy != 1 || m.xy != 0 || m.yx != 0 || m.x0 != 0 || m.y0 != 0)
		return false;
	if (cairo_surface_get_type(target) != CAIRO_SURFACE_TYPE_IMAGE)
		return false;
	cairo_format_t format = cairo_image_surface_get_format(target);
	if (format != CAIRO_FORMAT_ARGB32 && format != CAIRO_FORMAT_RGB24)
		return false;
	int width = cairo_image_surface_get_width(target);
	int height = cairo_image_surface_get_height(target);
	if (width != f->width || height != f->height)
		return false;
	size_t words = (size_t)width * (size_t)height;
	if (b->glow_words != words) {
		free(b->glow);
		free(b->cover);
		b->glow = calloc(words, sizeof(uint32_t));
		b->cover = malloc(((size_t)width + 1) * ((size_t)height + 1) * sizeof(uint32_t));
		b->glow_words = b->glow ? words : 0;
		if (!b->glow)
			return false;
	}
	if (b->halo_capacity < f->node_count) {
		free(b->halos);
		b->halos = malloc(f->node_count * sizeof(*b->halos));
		b->halo_capacity = b->halos ? f->node_count : 0;
	}
	cairo_surface_flush(target);
	*st = (struct viz_stamp){
		.pixels = (uint32_t *)(void *)cairo_image_surface_get_data(target),
		.width = width,
		.height = height,
		.stride = cairo_image_surface_get_stride(target) / 4,
		.glow = b->glow,
		.cover = b->cover, /* if that failed: no skipping */
		.halos = b->halos, /* if that failed: no list */
		.halo_capacity = b->halo_capacity,
		.scale = 1,
	};
	return true;
}

static void draw_nodes(cairo_t *cr, const struct viz_frame *f, const struct viz_frame_node **order,
		       size_t count, struct viz_stamp *stamp, struct stamp_pair *pair)
{
	if (stamp) {
		cairo_surface_flush(cairo_get_target(cr));
		stamp_pair_run(pair, stamp, f, false);
		cairo_surface_mark_dirty(cairo_get_target(cr));
	}
	for (size_t i = 0; i < count;) {
		struct viz_color color = order[i]->color;
		cairo_new_path(cr);
		for (; i < count && same_color(order[i]->color, color); i++)
			add_dot(cr, order[i]);
		set_color(cr, color);
		cairo_fill(cr);
	}
	/* A collapsed subtree gets a faint ring, the size of what it hides. */
	cairo_new_path(cr);
	bool any = false;
	for (size_t i = 0; i < f->node_count; i++) {
		const struct viz_frame_node *n = &f->nodes[i];
		if (n->collapsed && n->r >= 1.5f) {
			cairo_new_sub_path(cr);
			cairo_arc(cr, n->x, n->y, n->r + 1, 0, 2 * 3.14159265358979323846);
			any = true;
		}
	}
	if (any) {
		cairo_set_source_rgba(cr, 0.8, 0.86, 0.95, 0.35);
		cairo_set_line_width(cr, 0.8 * f->height / 720.0);
		cairo_stroke(cr);
	}
}

/*
 * Text centred vertically on Y, with a dark halo that keeps it legible over
 * edges and nodes: the text in the background colour at four offsets, then
 * on top. Glyphs come from cairo's cache, so this costs far less than
 * stroking the outline of the text.
 */
static void halo_text(cairo_t *cr, const struct viz_frame *f, double x, double y,
		      const char *text, struct viz_color color, double size)
{
	static const double offsets[4][2] = {{-0.7, -0.7}, {0.7, -0.7}, {-0.7, 0.7}, {0.7, 0.7}};
	cairo_font_extents_t fe;
	cairo_set_font_size(cr, size);
	cairo_font_extents(cr, &fe);
	double baseline = y + (fe.ascent - fe.descent) / 2, spread = 0.12 * size;
	cairo_set_source_rgba(cr, f->background.r, f->background.g, f->background.b,
			      0.6 * color.a);
	for (int i = 0; i < 4; i++) {
		cairo_move_to(cr, x + offsets[i][0] * spread, baseline + offsets[i][1] * spread);
		cairo_show_text(cr, text);
	}
	set_color(cr, color);
	cairo_move_to(cr, x, baseline);
	cairo_show_text(cr, text);
}

static double text_width(cairo_t *cr, const char *text, double size)
{
	cairo_text_extents_t te;
	cairo_set_font_size(cr, size);
	cairo_text_extents(cr, text, &te);
	return te.x_advance;
}

static void draw_labels(cairo_t *cr, const struct viz_frame *f)
{
	cairo_select_font_face(cr, SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	for (size_t i = 0; i < f->label_count; i++) {
		const struct viz_frame_label *l = &f->labels[i];
		char text[512];
		size_t len = l->len < sizeof(text) - 4 ? l->len : sizeof(text) - 4;
		memcpy(text, l->text, len);
		strcpy(text + len, l->ellipsis ? ELLIPSIS : "");
		if (l->leader) { /* whose label it is, in a dense tree */
			double side = l->leader_x < l->x ? l->box.x0 : l->box.x1;
			cairo_new_path(cr);
			cairo_move_to(cr, l->leader_x, l->leader_y);
			cairo_line_to(cr, side, l->y);
			cairo_set_source_rgba(cr, l->color.r, l->color.g, l->color.b, 0.8 * l->color.a);
			cairo_set_line_width(cr, f->height / 720.0);
			cairo_stroke(cr);
		}
		if (l->plate > 0) { /* the model's box: what it kept clear of other labels */
			cairo_rectangle(cr, l->box.x0, l->box.y0, l->box.x1 - l->box.x0,
					l->box.y1 - l->box.y0);
			cairo_set_source_rgba(cr, f->background.r, f->background.g,
					      f->background.b, l->plate);
			cairo_fill(cr);
		}
		halo_text(cr, f, l->x, l->y, text, l->color, l->size);
	}
}

/* Top left: title, clock and elapsed time. */
static void draw_clock(cairo_t *cr, const struct viz_frame *f, const char *title)
{
	double size = f->font_size, x = size * 1.2, y = size * 1.6;
	struct viz_color bright = {0.93f, 0.95f, 0.98f, 1}, dim = {0.6f, 0.66f, 0.74f, 1};
	if (title && title[0]) {
		cairo_select_font_face(cr, SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
		halo_text(cr, f, x, y, title, bright, size * 1.35);
		y += size * 1.8;
	}
	cairo_select_font_face(cr, MONO, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
	halo_text(cr, f, x, y, f->elapsed, bright, size * 1.6);
	y += size * 1.7;
	cairo_select_font_face(cr, MONO, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	halo_text(cr, f, x, y, f->clock, dim, size * 0.9);
	if (f->caption && f->caption[0]) {
		struct viz_color accent = {1.0f, 0.84f, 0.45f, 1};
		cairo_select_font_face(cr, SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
		halo_text(cr, f, x, y + size * 1.8, f->caption, accent, size * 1.25);
	}
}

/* Top right: the processes active in the last moments, newest first. */
static void draw_processes(cairo_t *cr, const struct viz_frame *f)
{
	double size = f->font_size, right = f->width - size * 1.2, y = size * 1.6;
	cairo_select_font_face(cr, SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	for (size_t i = 0; i < f->process_count; i++) {
		const struct viz_frame_process *p = &f->processes[i];
		double alpha = 0.35 + 0.65 * p->activity;
		double w = text_width(cr, p->name, size);
		struct viz_color c = {0.93f, 0.95f, 0.98f, (float)alpha};
		halo_text(cr, f, right - w, y, p->name, c, size);
		if (p->color.a > 0) { /* a colour only where the nodes are coloured by process */
			cairo_new_path(cr);
			cairo_arc(cr, right - w - size * 0.7, y, size * 0.32, 0,
				  2 * 3.14159265358979323846);
			cairo_set_source_rgba(cr, p->color.r, p->color.g, p->color.b,
					      alpha * p->color.a);
			cairo_fill(cr);
		}
		y += size * 1.45;
	}
}

/* Bottom: the legend on the left, counts and the last event on the right. */
static void draw_footer(cairo_t *cr, const struct viz_frame *f)
{
	double size = f->font_size * 0.9, x = size * 1.3, y = f->height - size * 1.6;
	struct viz_color text = {0.8f, 0.84f, 0.9f, 1}, dim = {0.55f, 0.6f, 0.68f, 1};
	cairo_select_font_face(cr, SANS, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	if (f->legend_title) {
		halo_text(cr, f, x, y, f->legend_title, dim, size);
		x += text_width(cr, f->legend_title, size) + size;
	}
	for (size_t i = 0; i < f->legend_count; i++) {
		const struct viz_legend_entry *e = &f->legend[i];
		cairo_new_path(cr);
		cairo_arc(cr, x + size * 0.4, y, size * 0.4, 0, 2 * 3.14159265358979323846);
		set_color(cr, e->color);
		cairo_fill(cr);
		x += size * 1.2;
		halo_text(cr, f, x, y, e->text, text, size);
		x += text_width(cr, e->text, size) + size * 1.1;
	}
	double right = f->width - size * 1.3;
	halo_text(cr, f, right - text_width(cr, f->status, size), y, f->status, dim, size);
	cairo_select_font_face(cr, MONO, CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
	y -= size * 1.5;
	halo_text(cr, f, right - text_width(cr, f->last_event, size), y, f->last_event, text, size);
}

void draw_buffers_free(struct draw_buffers *b)
{
	stamp_pair_stop(&b->pair);
	free(b->glow);
	free(b->cover);
	free(b->halos);
	free(b->order);
	*b = (struct draw_buffers){0};
}

int render_draw_frame(cairo_t *cr, struct draw_buffers *b, const struct viz_frame *f,
		      const char *title, char *err, size_t err_size)
{
	if (b->order_cap < f->node_count + 1) {
		free(b->order);
		b->order_cap = f->node_count + 1;
		if (!(b->order = malloc(b->order_cap * sizeof(*b->order)))) {
			b->order_cap = 0;
			snprintf(err, err_size, "out of memory");
			return -1;
		}
	}
	cairo_save(cr);
	/* Curves flattened to within a third of a pixel: no visible difference,
	 * and far fewer segments for cairo to fill. */
	cairo_set_tolerance(cr, 0.33);
	cairo_set_source_rgb(cr, f->background.r, f->background.g, f->background.b);
	cairo_paint(cr);
	struct viz_stamp stamp;
	bool stamping = stamp_target(cr, b, f, &stamp);
	draw_edges(cr, f, stamping ? &stamp : NULL, &b->pair);
	/* cairo draws what is not stamped: at overview of a big tree, few */
	size_t count = 0;
	for (size_t i = 0; i < f->node_count; i++)
		if (!stamping || !viz_stamped(&stamp, &f->nodes[i]))
			b->order[count++] = &f->nodes[i];
	qsort(b->order, count, sizeof(*b->order), by_glow);
	draw_glows(cr, f, b->order, count);
	qsort(b->order, count, sizeof(*b->order), by_color);
	draw_nodes(cr, f, b->order, count, stamping ? &stamp : NULL, &b->pair);
	draw_labels(cr, f);
	draw_clock(cr, f, title);
	draw_processes(cr, f);
	draw_footer(cr, f);
	cairo_restore(cr);
	cairo_status_t status = cairo_status(cr);
	if (status != CAIRO_STATUS_SUCCESS) {
		snprintf(err, err_size, "drawing failed: %s", cairo_status_to_string(status));
		return -1;
	}
	return 0;
}
