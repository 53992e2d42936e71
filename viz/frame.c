/*
 * frame.c — what to draw now, in screen pixels: the edges, nodes and labels
 * seen through the camera, and the overlay (clock, caption, processes,
 * legend, last event) with the boxes it takes.
 *
 * Only subtrees whose box of cells meets the screen are visited, so the
 * work per frame follows what is visible, not the size of the tree.
 * Labels are placed greedily, the most recently touched first, each on
 * the right of its dot or else on the left, cut to fit the picture, and
 * only where they overlap no other label, no overlay box and no other
 * directory's dot; their width is estimated (0.6 em a character) so that
 * the browser and the video place the same labels.
 */
#include "viz/scene.h"
#include "viz/vmath.h"

#define MANY_LEAVES 24	   /* past this, a directory's leaves get edges only while they flash */
#define LEAF_EDGE_CELL_PX 6.0 /* ...and only where a cell is this wide on screen */
#define MIN_DOT_PX 0.2	   /* smaller dots are drawn this big: a million-node overview is a sea of them */
#define BIG_DIR_PX 40.0	   /* directories whose subtree is this wide keep their label */
#define BIG_DIR_NODES 8	   /* ...and holds this many nodes */
#define MAX_LABEL_CHARS 36
#define MIN_LABEL_CHARS 4  /* a label cut shorter than this is not worth showing */
#define CHAR_WIDTH_EM 0.6
#define LABEL_PLATE 0.8	   /* opacity of the plate behind a name (times the name's) */
#define LABEL_PAD 0.2	   /* the plate's margin either side of the text, in font sizes */
#define MIN_LABEL_ALPHA 0.35 /* fainter names (fading out, appearing) do not read: not drawn */
#define PROCESS_WINDOW_MIN 1.0 /* seconds a process stays listed, at least */
#define CLIP_MARGIN 8.0
#define MAX_DOT_PX 1e5	   /* larger dots are ancestors far around the view: not drawn */

struct view {
	double scale, ox, oy; /* screen = o + world * scale */
	double width, height, ui; /* ui: 1 at 720 pixels high */
};

static struct view view_of(const struct viz_scene *s)
{
	struct view v;
	v.width = s->width;
	v.height = s->height;
	v.scale = v.height / 2 / s->camera.half_height;
	v.ox = v.width / 2 - s->camera.x * v.scale;
	v.oy = v.height / 2 - s->camera.y * v.scale;
	v.ui = v.height / 720;
	return v;
}

static bool disc_visible(const struct view *v, double x, double y, double r)
{
	return x + r >= 0 && x - r <= v->width && y + r >= 0 && y - r <= v->height;
}

/*
 * Clips the segment to the screen (plus a margin), Liang-Barsky: far-away
 * ends would overflow the drawing library's fixed-point coordinates.
 * False if nothing of it is on screen.
 */
static bool clip_segment(const struct view *v, double *x1, double *y1, double *x2, double *y2)
{
	double dx = *x2 - *x1, dy = *y2 - *y1, t0 = 0, t1 = 1;
	double p[4] = {-dx, dx, -dy, dy};
	double q[4] = {*x1 + CLIP_MARGIN, v->width + CLIP_MARGIN - *x1, *y1 + CLIP_MARGIN,
		       v->height + CLIP_MARGIN - *y1};
	for (int i = 0; i < 4; i++) {
		if (p[i] == 0) {
			if (q[i] < 0)
				return false;
			continue;
		}
		double r = q[i] / p[i];
		if (p[i] < 0)
			t0 = vm_max(t0, r);
		else
			t1 = vm_min(t1, r);
	}
	if (t0 > t1)
		return false;
	double ox = *x1, oy = *y1;
	*x1 = ox + t0 * dx;
	*y1 = oy + t0 * dy;
	*x2 = ox + t1 * dx;
	*y2 = oy + t1 * dy;
	return true;
}

static double quantize(double x, double steps)
{
	return (double)(int64_t)(x * steps + 0.5) / steps;
}

/*
 * The edge from N's parent to N (at X, Y with radius R, flashing FLASH in
 * COLOR, with opacity ALPHA), from dot edge to dot edge: lines under the
 * dots would cost drawing time and show nothing.
 */
static int push_edge(struct viz_scene *s, const struct view *v, const struct vz_node *n,
		     double x, double y, double r, struct viz_color color, double flash,
		     double alpha)
{
	const struct vz_node *p = vz_node(s, n->parent);
	double px, py;
	vz_current(s, p, &px, &py);
	double x1 = v->ox + px * v->scale, y1 = v->oy + py * v->scale;
	double pr = vz_radius(s, p) * v->scale;
	double dx = x - x1, dy = y - y1, d = vm_sqrt(dx * dx + dy * dy);
	if (alpha <= 0.01 || d <= pr + r)
		return 0;
	double x2 = x - dx / d * r, y2 = y - dy / d * r;
	x1 += dx / d * pr;
	y1 += dy / d * pr;
	if (!clip_segment(v, &x1, &y1, &x2, &y2))
		return 0;
	if (vz_reserve(s, (void **)&s->edges, &s->edge_capacity, sizeof(*s->edges),
		       s->edge_len + 1) != 0)
		return -1;
	/* In steps, so that the drawing can batch edges that look alike. */
	flash = quantize(flash, 8);
	struct viz_color base = {0.55f, 0.63f, 0.74f, 1};
	struct viz_color c = vz_mix(base, color, flash * 0.7);
	c.a = (float)quantize((0.22 + 0.5 * flash) * alpha, 32);
	double width = quantize(vm_clamp(r * 0.3, 0.5, 1.6), 4) * v->ui;
	s->edges[s->edge_len++] = (struct viz_frame_edge){
		(float)x1, (float)y1, (float)x2, (float)y2, (float)width, c};
	return 0;
}

static int push_node(struct viz_scene *s, const struct viz_frame_node *node)
{
	if (vz_reserve(s, (void **)&s->frame_nodes, &s->frame_node_capacity,
		       sizeof(*s->frame_nodes), s->frame_node_len + 1) != 0)
		return -1;
	s->frame_nodes[s->frame_node_len++] = *node;
	return 0;
}

/* ---- label candidates: a min-heap keeps the best VZ_LABEL_CANDIDATES ---- */

static void swap_candidates(struct vz_label_candidate *a, struct vz_label_candidate *b)
{
	struct vz_label_candidate t = *a;
	*a = *b;
	*b = t;
}

static void sift_down(struct vz_label_candidate *heap, size_t len, size_t i)
{
	for (;;) {
		size_t least = i, l = 2 * i + 1, r = 2 * i + 2;
		if (l < len && heap[l].priority < heap[least].priority)
			least = l;
		if (r < len && heap[r].priority < heap[least].priority)
			least = r;
		if (least == i)
			return;
		swap_candidates(&heap[i], &heap[least]);
		i = least;
	}
}

static void offer_label(struct viz_scene *s, const struct vz_label_candidate *c)
{
	struct vz_label_candidate *heap = s->candidates;
	if (s->candidate_len < VZ_LABEL_CANDIDATES) {
		size_t i = s->candidate_len++;
		heap[i] = *c;
		while (i > 0 && heap[(i - 1) / 2].priority > heap[i].priority) {
			swap_candidates(&heap[i], &heap[(i - 1) / 2]);
			i = (i - 1) / 2;
		}
	} else if (c->priority > heap[0].priority) {
		heap[0] = *c;
		sift_down(heap, s->candidate_len, 0);
	}
}

/* ---- the tree ---- */

static int push_disc(struct viz_scene *s, double x, double y, double r, uint32_t id)
{
	if (vz_reserve(s, (void **)&s->discs, &s->disc_capacity, sizeof(*s->discs),
		       s->disc_len + 1) != 0)
		return -1;
	s->discs[s->disc_len++] = (struct vz_disc){(float)x, (float)y, (float)r, id};
	return 0;
}

/* Emits node ID at SX, SY (screen). */
static int emit(struct viz_scene *s, const struct view *v, uint32_t id, double sx, double sy)
{
	const struct vz_node *n = vz_node(s, id);
	struct viz_frame_node out = {.x = (float)sx, .y = (float)sy, .id = id, .kind = n->kind};
	double flash;
	out.color = vz_node_color(s, n, n->touch_t, &flash, &out.glow_color);
	out.glow = (float)flash;
	double r = vz_radius(s, n) * v->scale;
	if (r < MIN_DOT_PX)
		r = MIN_DOT_PX;
	out.r = (float)r;
	if (out.color.a <= 0.005f)
		return 0;
	/* The patch of leaves round a busy directory says whose they are; a
	 * hundred lines into it would only hide it (and cost the most to draw).
	 * Flashing ones get theirs once cells are wide enough for a line to
	 * show where it goes: at an overview they are a mesh over the patch. */
	bool busy_leaf = n->kind != VIZ_KIND_DIR && vz_node(s, n->parent)->children > MANY_LEAVES;
	bool edgeless = busy_leaf && (flash < 0.05 || v->scale < LEAF_EDGE_CELL_PX * v->ui);
	if (id != 0 && !edgeless &&
	    push_edge(s, v, n, sx, sy, r, out.glow_color, flash, out.color.a) != 0)
		return -1;
	if (!disc_visible(v, sx, sy, r))
		return 0;
	if (push_node(s, &out) != 0)
		return -1;
	if (n->kind == VIZ_KIND_DIR && r >= 1 && push_disc(s, sx, sy, r, id) != 0)
		return -1;
	double age = s->now - n->touch_t;
	double box_px = (n->box[2] - n->box[0] + 1) * v->scale;
	/* full for half the fade, then fading; a big directory's faded name gives way to its quiet one */
	double shown = age >= 0 && age < s->fade && n->touch_t > VZ_NEVER
			       ? vm_ease(2 * (1 - age / s->fade)) * out.color.a
			       : 0;
	bool big_dir = n->kind == VIZ_KIND_DIR && box_px > BIG_DIR_PX &&
		       n->descendants >= BIG_DIR_NODES;
	if (shown > 0 && (!big_dir || shown >= MIN_LABEL_ALPHA)) {
		struct vz_label_candidate c = {s->now + n->touch_t, (float)sx, (float)sy, (float)r,
					       (float)shown, id, true};
		offer_label(s, &c);
	} else if (big_dir) {
		struct vz_label_candidate c = {n->descendants / 1e12, (float)sx, (float)sy, (float)r,
					       0.85f * out.color.a, id, false};
		offer_label(s, &c);
	}
	return 0;
}

/* Does the box of ID's subtree (its cells, a cell of room) meet the screen? */
static bool subtree_visible(const struct view *v, const struct vz_node *n)
{
	double x0 = v->ox + (n->box[0] - 1) * v->scale, x1 = v->ox + (n->box[2] + 1) * v->scale;
	double y0 = v->oy + (n->box[1] - 1) * v->scale, y1 = v->oy + (n->box[3] + 1) * v->scale;
	return x1 >= 0 && x0 <= v->width && y1 >= 0 && y0 <= v->height;
}

/* A node's dot, edge and label (if it is on screen), or only the edge to it. */
static int visit(struct viz_scene *s, const struct view *v, uint32_t id, bool descend, double sx,
		 double sy)
{
	if (descend)
		return emit(s, v, id, sx, sy);
	if (id == 0)
		return 0;
	/* off screen, but the edge to it may cross the screen */
	const struct vz_node *n = vz_node(s, id);
	double flash;
	struct viz_color glow, c = vz_node_color(s, n, n->touch_t, &flash, &glow);
	return push_edge(s, v, n, sx, sy, vz_radius(s, n) * v->scale, glow, flash, c.a);
}

/* Where N is on screen, and whether its subtree may be (else it is skipped). */
static bool place(const struct viz_scene *s, const struct view *v, const struct vz_node *n,
		  double *sx, double *sy)
{
	double x, y;
	vz_current(s, n, &x, &y);
	*sx = v->ox + x * v->scale;
	*sy = v->oy + y * v->scale;
	/* moving nodes may be outside their box: they are few, draw them */
	return subtree_visible(v, n) || vz_motion_now(s) - n->move_t < 1;
}

static void fetch_node(const struct viz_scene *s, uint32_t id)
{
	const char *at = (const char *)vz_node(s, id);
	for (size_t line = 0; line < sizeof(struct vz_node); line += 64)
		__builtin_prefetch(at + line);
	__builtin_prefetch(at + sizeof(struct vz_node) - 1);
}

/*
 * The walk by the tree's links: a big tree's nodes lie all over memory,
 * and the walk waits on each (the next one is fetched while this one is
 * drawn). On the way it writes the order down (s->walk, each node with
 * where its subtree ends); when it went through the whole tree, frames
 * walk that array instead until the tree changes, fetching nodes well
 * ahead.
 */
static int walk_links(struct viz_scene *s, const struct view *v)
{
	size_t need = (size_t)s->tree_count + 1;
	bool record = vz_reserve(s, (void **)&s->walk, &s->walk_capacity, sizeof(*s->walk), need) == 0 &&
		      vz_reserve(s, (void **)&s->walk_stack, &s->walk_stack_capacity,
				 sizeof(*s->walk_stack), need) == 0;
	size_t len = 0, depth = 0;
	uint32_t id = 0;
	while (id != VZ_NONE) {
		const struct vz_node *n = vz_node(s, id);
		double sx, sy;
		bool descend = place(s, v, n, &sx, &sy);
		if (record && len < need) {
			s->walk[len] = (struct vz_walk){id, 0};
			s->walk_stack[depth++] = (uint32_t)len++;
		} else {
			record = false;
		}
		uint32_t next;
		if (descend && n->first_child != VZ_NONE) {
			next = n->first_child;
		} else {
			record = record && n->first_child == VZ_NONE; /* a subtree skipped: not all seen */
			/* ID's subtree ends here, and so do those it is the last child of */
			uint32_t up = id;
			for (;;) {
				if (record)
					s->walk[s->walk_stack[--depth]].end = (uint32_t)len;
				if (up == 0) {
					next = VZ_NONE;
					break;
				}
				if (vz_node(s, up)->next_sibling != VZ_NONE) {
					next = vz_node(s, up)->next_sibling;
					break;
				}
				up = vz_node(s, up)->parent;
			}
		}
		if (next != VZ_NONE)
			fetch_node(s, next);
		if (visit(s, v, id, descend, sx, sy) != 0)
			return -1;
		id = next;
	}
	s->walk_len = len;
	s->walk_changes = s->tree_changes;
	s->walk_built = record;
	return 0;
}

/* How many entries ahead of the walk nodes are fetched: enough to cover a
 * fetch from memory with the work on the nodes between. */
#define WALK_AHEAD 8

static int emit_tree(struct viz_scene *s, const struct view *v)
{
	if (!s->walk_built || s->walk_changes != s->tree_changes)
		return walk_links(s, v);
	for (size_t at = 0; at < s->walk_len;) {
		if (at + WALK_AHEAD < s->walk_len)
			fetch_node(s, s->walk[at + WALK_AHEAD].id);
		uint32_t id = s->walk[at].id;
		double sx, sy;
		bool descend = place(s, v, vz_node(s, id), &sx, &sy);
		at = descend ? at + 1 : s->walk[at].end;
		if (visit(s, v, id, descend, sx, sy) != 0)
			return -1;
	}
	return 0;
}

/* ---- labels ---- */

static size_t utf8_chars(const char *text, size_t len)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)text[i] & 0xc0) != 0x80;
	return chars;
}

/* The first bytes of TEXT holding at most MAX characters. */
static size_t utf8_prefix(const char *text, size_t len, size_t max)
{
	size_t chars = 0, i = 0;
	for (; i < len; i++) {
		if (((unsigned char)text[i] & 0xc0) != 0x80 && chars++ == max)
			break;
	}
	return i;
}

static bool rects_meet(const struct viz_rect *a, const struct viz_rect *b)
{
	return a->x0 < b->x1 && b->x0 < a->x1 && a->y0 < b->y1 && b->y0 < a->y1;
}

static bool rect_meets_disc(const struct viz_rect *r, const struct vz_disc *d)
{
	double nx = vm_clamp(d->x, r->x0, r->x1), ny = vm_clamp(d->y, r->y0, r->y1);
	double dx = d->x - nx, dy = d->y - ny;
	return dx * dx + dy * dy < (double)d->r * d->r;
}

/*
 * The frame's nodes sorted into squares of BUCKET_PX pixels, so that a
 * label can ask which nodes lie near a point without looking at them all.
 */
#define BUCKET_PX 24

static int bucket_of(const struct viz_scene *s, double x, double y)
{
	int64_t cx = (int64_t)vm_clamp(x / BUCKET_PX, 0, s->bucket_columns - 1);
	int64_t cy = (int64_t)vm_clamp(y / BUCKET_PX, 0, s->bucket_rows - 1);
	return (int)(cy * s->bucket_columns + cx);
}

static int fill_buckets(struct viz_scene *s, const struct view *v)
{
	s->bucket_columns = (uint32_t)(v->width / BUCKET_PX) + 1;
	s->bucket_rows = (uint32_t)(v->height / BUCKET_PX) + 1;
	size_t buckets = (size_t)s->bucket_columns * s->bucket_rows;
	if (vz_reserve(s, (void **)&s->bucket_start, &s->bucket_start_capacity,
		       sizeof(*s->bucket_start), buckets + 1) != 0 ||
	    vz_reserve(s, (void **)&s->bucket_items, &s->bucket_item_capacity,
		       sizeof(*s->bucket_items), s->frame_node_len + 1) != 0)
		return -1;
	vz_zero(s->bucket_start, (buckets + 1) * sizeof(*s->bucket_start));
	s->bucket_max_r = 0;
	for (size_t i = 0; i < s->frame_node_len; i++) {
		const struct viz_frame_node *n = &s->frame_nodes[i];
		s->bucket_start[bucket_of(s, n->x, n->y) + 1]++;
		s->bucket_max_r = n->r > s->bucket_max_r ? n->r : s->bucket_max_r;
	}
	for (size_t b = 0; b < buckets; b++)
		s->bucket_start[b + 1] += s->bucket_start[b];
	/* start[b + 1] is where bucket b ends; filled back to front, it becomes where it begins */
	for (size_t i = s->frame_node_len; i-- > 0;) {
		const struct viz_frame_node *n = &s->frame_nodes[i];
		s->bucket_items[--s->bucket_start[bucket_of(s, n->x, n->y) + 1]] = (uint32_t)i;
	}
	for (size_t b = 0; b < buckets; b++)
		s->bucket_start[b] = s->bucket_start[b + 1];
	s->bucket_start[buckets] = (uint32_t)s->frame_node_len;
	return 0;
}

/*
 * Is the point (X, Y), where a label's text starts, nearer node OWN (at
 * distance NEAR from its edge) than any other node drawn? A label beside a
 * node must not read as another's.
 */
static bool nearest_is_own(const struct viz_scene *s, double x, double y, double near, uint32_t own)
{
	double reach = near + s->bucket_max_r;
	int x0 = bucket_of(s, x - reach, y) % (int)s->bucket_columns;
	int x1 = bucket_of(s, x + reach, y) % (int)s->bucket_columns;
	int y0 = bucket_of(s, x, y - reach) / (int)s->bucket_columns;
	int y1 = bucket_of(s, x, y + reach) / (int)s->bucket_columns;
	for (int by = y0; by <= y1; by++)
		for (int bx = x0; bx <= x1; bx++) {
			uint32_t b = (uint32_t)by * s->bucket_columns + (uint32_t)bx;
			for (uint32_t i = s->bucket_start[b]; i < s->bucket_start[b + 1]; i++) {
				const struct viz_frame_node *n = &s->frame_nodes[s->bucket_items[i]];
				if (n->id == own || n->color.a < 0.3f)
					continue;
				double dx = n->x - x, dy = n->y - y, d = near + n->r;
				if (dx * dx + dy * dy <= d * d)
					return false;
			}
		}
	return true;
}

/* Is R clear of the labels placed so far, the overlay and other directories? */
static bool label_fits(const struct viz_scene *s, const struct viz_frame *f,
		       const struct viz_rect *r, size_t placed, uint32_t own)
{
	const struct viz_rect *overlay[4] = {&f->clock_box, &f->process_box, &f->legend_box,
					     &f->event_box};
	for (int i = 0; i < 4; i++)
		if (rects_meet(r, overlay[i]))
			return false;
	for (size_t i = 0; i < placed; i++)
		if (rects_meet(r, &s->labels[i].box))
			return false;
	for (size_t i = 0; i < s->disc_len; i++)
		if (s->discs[i].id != own && rect_meets_disc(r, &s->discs[i]))
			return false;
	return true;
}

/* The first bytes of TEXT whose width, with an ellipsis after them, is at most ROOM em. */
static size_t fitting_prefix(const char *text, size_t len, double room)
{
	room -= vz_text_em("\xe2\x80\xa6", 3);
	size_t end = 0;
	double width = 0;
	while (end < len) {
		size_t next = end + 1;
		while (next < len && ((unsigned char)text[next] & 0xc0) == 0x80)
			next++;
		width += vz_text_em(text + end, next - end);
		if (width > room)
			break;
		end = next;
	}
	return end;
}

/*
 * Each candidate, most important first, right of its dot or else left of
 * it, cut to the room there is; placed only where its box (text, halo and
 * plate) meets no label placed before it (fading ones too: they are
 * placed, or dropped, like the rest), no overlay box, no other directory,
 * and where its text starts nearer its own node than any other.
 */
static int place_labels(struct viz_scene *s, const struct view *v, struct viz_frame *f)
{
	/* Heap to descending order of priority. */
	size_t len = s->candidate_len;
	for (size_t end = len; end > 1; end--) {
		swap_candidates(&s->candidates[0], &s->candidates[end - 1]);
		sift_down(s->candidates, end - 1, 0);
	}
	if (len && fill_buckets(s, v) != 0)
		return -1;
	size_t count = 0;
	for (size_t i = 0; i < len && count < VZ_MAX_LABELS; i++) {
		const struct vz_label_candidate *c = &s->candidates[i];
		double size = (c->flashing ? 14 : 12.5) * v->ui;
		if (c->y < 0.6 * size || c->y > v->height - 0.6 * size || c->alpha < MIN_LABEL_ALPHA)
			continue;
		uint32_t text_len;
		const char *text = vz_name_text(s, vz_node(s, c->id)->name, &text_len);
		double gap = 0.35 * size, pad = LABEL_PAD * size, full = vz_text_em(text, text_len);
		double room_right = v->width - (c->x + c->r + gap) - pad;
		double room_left = c->x - c->r - gap - pad;
		/* unambiguous on either side, else with a leader */
		for (int attempt = 0; attempt < 4; attempt++) {
			int side = attempt % 2;
			bool leader = attempt >= 2;
			double room = (side ? room_left : room_right) / size;
			bool cut = full > room || utf8_chars(text, text_len) > MAX_LABEL_CHARS;
			size_t shown = text_len;
			double width = full;
			if (cut) {
				double limit = vm_min(room, MAX_LABEL_CHARS * CHAR_WIDTH_EM);
				shown = room > 0 ? fitting_prefix(text, text_len, limit) : 0;
				if (utf8_chars(text, shown) + 1 < MIN_LABEL_CHARS)
					continue;
				width = vz_text_em(text, shown) + vz_text_em("\xe2\x80\xa6", 3);
			}
			width *= size;
			double x = side ? c->x - c->r - gap - width : c->x + c->r + gap;
			struct viz_rect r = {(float)(x - pad), (float)(c->y - 0.6 * size),
					     (float)(x + width + pad), (float)(c->y + 0.6 * size)};
			double start = side ? x + width : x;
			if (!label_fits(s, f, &r, count, c->id) ||
			    (!leader && !nearest_is_own(s, start, c->y, gap, c->id)))
				continue;
			struct viz_color color = c->flashing ? (struct viz_color){1, 0.97f, 0.95f, 1}
							     : (struct viz_color){0.75f, 0.9f, 0.78f, 1};
			color.a = c->alpha;
			s->labels[count++] = (struct viz_frame_label){
				(float)x, c->y,	    (float)size, color, text, (uint32_t)shown, cut,
				LABEL_PLATE * c->alpha, r, c->id, leader,
				(float)(side ? c->x - c->r : c->x + c->r), c->y};
			break;
		}
	}
	f->labels = s->labels;
	f->label_count = count;
	return 0;
}

/* ---- overlay ---- */

static void list_processes(struct viz_scene *s, struct viz_frame *f)
{
	double window = vm_max(s->fade, PROCESS_WINDOW_MIN);
	size_t count = 0;
	uint32_t chosen[VZ_MAX_PROCESSES_SHOWN];
	for (uint32_t p = 0; p < s->process_count; p++) {
		double age = s->now - s->processes[p].last_t;
		if (age < 0 || age >= window)
			continue;
		/* insertion into the few most recent, newest first */
		size_t at = count < VZ_MAX_PROCESSES_SHOWN ? count++ : VZ_MAX_PROCESSES_SHOWN;
		while (at > 0 && s->processes[chosen[at - 1]].last_t < s->processes[p].last_t) {
			if (at < VZ_MAX_PROCESSES_SHOWN)
				chosen[at] = chosen[at - 1];
			at--;
		}
		if (at < VZ_MAX_PROCESSES_SHOWN)
			chosen[at] = p;
	}
	for (size_t i = 0; i < count; i++) {
		const struct vz_process *p = &s->processes[chosen[i]];
		uint32_t len;
		/* A dot in the process's colour only when the nodes have that colour. */
		struct viz_color color = vz_process_shade(s, (uint16_t)chosen[i]);
		if (s->color_by != VIZ_COLOR_BY_PROCESS)
			color.a = 0;
		s->shown[i] = (struct viz_frame_process){vz_name_text(s, p->name, &len), color,
							 (float)(1 - (s->now - p->last_t) / window)};
	}
	f->processes = s->shown;
	f->process_count = count;
}

static void make_legend(struct viz_scene *s, struct viz_frame *f)
{
	size_t n = 0;
	switch (s->color_by) {
	case VIZ_COLOR_BY_OP:
		f->legend_title = "last operation";
		for (int c = 0; c < VZ_CLASS_COUNT; c++)
			if (c != VZ_CLASS_COMMIT || s->op_events[VIZ_OP_COMMIT])
				s->legend[n++] = (struct viz_legend_entry){vz_class_name((enum vz_class)c),
								    vz_class_color((enum vz_class)c)};
		break;
	case VIZ_COLOR_BY_PROCESS:
		/* Processes with a colour of their own (a family's head), busiest first, and the rest. */
		f->legend_title = "process";
		for (int slot = 0; slot < VIZ_PROCESS_COLORS; slot++) {
			if (!s->slot_owner[slot])
				continue;
			struct viz_process_info info;
			viz_scene_process(s, s->slot_owner[slot] - 1u, &info);
			uint64_t events = s->processes[s->slot_owner[slot] - 1].family_events;
			size_t at = n++;
			for (; at > 0; at--) {
				const struct vz_process *before =
					&s->processes[s->slot_owner[s->legend_slot[at - 1]] - 1];
				if (before->family_events >= events)
					break;
				s->legend[at] = s->legend[at - 1];
				s->legend_slot[at] = s->legend_slot[at - 1];
			}
			s->legend[at] = (struct viz_legend_entry){info.name, info.color};
			s->legend_slot[at] = (uint8_t)slot;
		}
		if (s->process_count > n)
			s->legend[n++] = (struct viz_legend_entry){"others",
								    vz_process_shade(s, 0xffff)};
		break;
	default:
		f->legend_title = NULL;
		s->legend[n++] = (struct viz_legend_entry){"directory", vz_kind_color(VIZ_KIND_DIR)};
		s->legend[n++] = (struct viz_legend_entry){"file", vz_kind_color(VIZ_KIND_FILE)};
		s->legend[n++] = (struct viz_legend_entry){"symlink", vz_kind_color(VIZ_KIND_SYMLINK)};
		s->legend[n++] = (struct viz_legend_entry){"other", vz_kind_color(VIZ_KIND_OTHER)};
		s->legend[n++] = (struct viz_legend_entry){"accessed", vz_touch_color(VZ_TOUCH_ACCESS)};
		s->legend[n++] = (struct viz_legend_entry){"written", vz_touch_color(VZ_TOUCH_WRITE)};
		s->legend[n++] = (struct viz_legend_entry){"removed", vz_touch_color(VZ_TOUCH_DELETE)};
		if (s->op_events[VIZ_OP_COMMIT]) /* only where a versioned store is traced */
			s->legend[n++] = (struct viz_legend_entry){"committed",
								    vz_touch_color(VZ_TOUCH_COMMIT)};
		break;
	}
	f->legend = s->legend;
	f->legend_count = n;
}

/*
 * The last event ("op path") as it fits in CHARS characters: the operation,
 * then "…" and the end of the path if cut (the end says the most).
 */
static void fit_last_event(struct viz_scene *s, size_t chars)
{
	const char *text = s->last_event;
	size_t len = vz_strlen(text), total = utf8_chars(text, len), op = 0, at = 0;
	char *out = s->last_event_shown;
	size_t size = sizeof(s->last_event_shown);
	while (op < len && text[op] != ' ')
		op++;
	op = op < len ? op + 1 : 0; /* with its space; 0: no path */
	if (total <= chars || chars < op + 2) {
		vz_append(out, size, 0, total <= chars ? text : "");
		return;
	}
	for (size_t i = 0; i < op; i++)
		out[at++] = text[i];
	out[at] = '\0';
	at = vz_append(out, size, at, "\xe2\x80\xa6");
	size_t keep = chars - op - 1; /* characters of the path's end */
	size_t skip = op + utf8_prefix(text + op, len - op, utf8_chars(text + op, len - op) - keep);
	vz_append(out, size, at, text + skip);
}

static double text_em(const char *text)
{
	return CHAR_WIDTH_EM * (double)utf8_chars(text, vz_strlen(text));
}

/*
 * The overlay's boxes, as render_draw_frame lays the overlay out (see draw.c:
 * the same steps in font sizes), widths estimated at 0.6 em a character.
 * The top left box leaves room for a title line whether there is one or not.
 */
static void make_overlay(struct viz_scene *s, struct viz_frame *f)
{
	double size = f->font_size, w = f->width, h = f->height;
	const double title_em = 22 * CHAR_WIDTH_EM * 1.35;
	double width = vm_max(title_em, text_em(f->elapsed) * 1.6);
	width = vm_max(width, text_em(f->clock) * 0.9);
	double bottom = 5.1 + 0.6;
	if (f->caption[0]) {
		width = vm_max(width, text_em(f->caption) * 1.25 * 1.1); /* bold */
		bottom = 6.9 + 0.8;
	}
	f->clock_box = (struct viz_rect){0, 0, (float)((1.2 + width + 0.5) * size),
					 (float)(bottom * size)};
	f->process_box = (struct viz_rect){(float)w, 0, (float)w, 0};
	if (f->process_count) {
		double names = 0;
		for (size_t i = 0; i < f->process_count; i++)
			names = vm_max(names, text_em(f->processes[i].name));
		double right = w - 1.2 * size;
		f->process_box = (struct viz_rect){
			(float)(right - (names + 1.4) * size), 0, (float)w,
			(float)((1.6 + 1.45 * (double)(f->process_count - 1) + 0.8) * size)};
	}
	double small = 0.9 * size, y = h - 1.6 * small, x = 1.3 * small;
	if (f->legend_title)
		x += (text_em(f->legend_title) + 1) * small;
	for (size_t i = 0; i < f->legend_count; i++)
		x += (1.2 + text_em(f->legend[i].text) + 1.1) * small;
	f->legend_box = (struct viz_rect){0, (float)(y - 0.8 * small), (float)x, (float)h};
	double right = w - 1.3 * small;
	fit_last_event(s, (size_t)vm_max(0, (right - 1.3 * small) / (CHAR_WIDTH_EM * small)));
	f->last_event = s->last_event_shown;
	double line = vm_max(text_em(f->status), text_em(f->last_event));
	f->event_box = (struct viz_rect){(float)(right - (line + 0.3) * small),
					 (float)(y - 2.3 * small), (float)w, (float)h};
}

static void make_texts(struct viz_scene *s, struct viz_frame *f)
{
	vz_format_clock(s->clock, sizeof(s->clock), s->clock_ns);
	vz_format_elapsed(s->elapsed, sizeof(s->elapsed), s->clock_ns - s->origin_ns);
	size_t len = vz_append_uint(s->status, sizeof(s->status), 0, s->tree_count, 1, true);
	len = vz_append(s->status, sizeof(s->status), len,
			s->tree_count == 1 ? " node \xc2\xb7 " : " nodes \xc2\xb7 ");
	len = vz_append_uint(s->status, sizeof(s->status), len, s->events, 1, true);
	vz_append(s->status, sizeof(s->status), len, s->events == 1 ? " event" : " events");
	f->clock = s->clock;
	f->elapsed = s->elapsed;
	f->status = s->status;
	f->last_event = s->last_event;
	f->caption = s->caption;
	if (s->commit[0] && s->now - s->commit_t < s->fade) {
		size_t n = vz_append(s->caption_shown, sizeof(s->caption_shown), 0, s->caption);
		if (n)
			n = vz_append(s->caption_shown, sizeof(s->caption_shown), n, " \xc2\xb7 ");
		vz_append(s->caption_shown, sizeof(s->caption_shown), n, s->commit);
		f->caption = s->caption_shown;
	}
}

int vz_frame_build(struct viz_scene *s, struct viz_frame *f)
{
	struct view v = view_of(s);
	s->edge_len = s->frame_node_len = s->candidate_len = s->disc_len = 0;
	if (emit_tree(s, &v) != 0)
		return -1;
	*f = (struct viz_frame){
		.width = s->width,
		.height = s->height,
		.background = vz_background(),
		.edges = s->edges,
		.edge_count = s->edge_len,
		.nodes = s->frame_nodes,
		.node_count = s->frame_node_len,
		.font_size = (float)(14 * v.ui),
	};
	make_texts(s, f);
	list_processes(s, f);
	make_legend(s, f);
	make_overlay(s, f);
	return place_labels(s, &v, f);
}

int viz_scene_frame(struct viz_scene *s, struct viz_frame *frame)
{
	return vz_frame_build(s, frame);
}
