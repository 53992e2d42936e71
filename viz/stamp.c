/*
 * stamp.c — the frame's small dots and their halos drawn pixel by pixel.
 *
 * A drawing library (cairo, a browser canvas) builds, sorts and rasterises
 * a polygon for every circle: at overview a big tree is thousands of dots a
 * few pixels wide, and their halos while they flash cost more than all the
 * rest of a frame. Stamped here, each costs the few dozen pixels it covers.
 * The halos of all stamped nodes go first into a buffer that keeps, per
 * pixel, the strongest halo there, and are then laid over the picture at
 * once: halos that overlap do not add up into a blot. Thin edges go the
 * same way, before the nodes.
 */
#include "viz/viz.h"
#include "viz/vmath.h"

/* Halo rings: how far they reach (times the radius), how opaque, capped at
 * so many pixels (at 720 high) so that a big node's halo stays a rim. */
static const double glow_reach[VIZ_GLOW_RINGS] = {3.2, 2.3, 1.6};
static const double glow_alpha[VIZ_GLOW_RINGS] = {0.07, 0.11, 0.16};
static const double glow_cap[VIZ_GLOW_RINGS] = {16, 10, 5};

int viz_glow_level(const struct viz_frame_node *n)
{
	return (int)(n->glow * n->color.a * VIZ_GLOW_STEPS + 0.5f);
}

void viz_glow_ring(const struct viz_frame_node *n, int ring, double ui, double *radius,
		   double *alpha)
{
	double extra = vm_min(n->r * (glow_reach[ring] - 1), glow_cap[ring] * ui);
	*radius = n->r + extra + (VIZ_GLOW_RINGS - ring) * 1.5 * ui;
	*alpha = glow_alpha[ring] * viz_glow_level(n) / VIZ_GLOW_STEPS;
}

bool viz_stamped(const struct viz_stamp *st, const struct viz_frame_node *n)
{
	return n->r * st->scale < VIZ_STAMP_MAX_R;
}

static uint32_t channel(double x)
{
	return x <= 0 ? 0 : x >= 1 ? 255 : (uint32_t)(x * 255 + 0.5);
}

/* The rows this stamp draws: *FROM to *TO (exclusive). */
static void rows_of(const struct viz_stamp *st, int *from, int *to)
{
	bool all = st->row_from == 0 && st->row_to == 0;
	*from = all || st->row_from < 0 ? 0 : st->row_from;
	*to = all || st->row_to > st->height ? st->height : st->row_to;
}

/* The pixels from X0, Y0 to X1, Y1 (exclusive), clipped to the stamp's rows; false if none. */
static inline bool clip(const struct viz_stamp *st, double cx, double cy, double reach, int *x0,
		 int *y0, int *x1, int *y1)
{
	int from, to;
	rows_of(st, &from, &to);
	double fx0 = cx - reach, fy0 = cy - reach, fx1 = cx + reach, fy1 = cy + reach;
	if (fx1 < 0 || fy1 < from || fx0 > st->width || fy0 > to)
		return false;
	*x0 = fx0 < 0 ? 0 : (int)fx0;
	*y0 = fy0 < from ? from : (int)fy0;
	*x1 = fx1 + 1 > st->width ? st->width : (int)(fx1 + 1);
	*y1 = fy1 + 1 > to ? to : (int)(fy1 + 1);
	return *x0 < *x1 && *y0 < *y1;
}

static void grow_box(struct viz_stamp *st, int x0, int y0, int x1, int y1)
{
	if (st->box_x0 >= st->box_x1) {
		st->box_x0 = x0, st->box_y0 = y0, st->box_x1 = x1, st->box_y1 = y1;
		return;
	}
	st->box_x0 = x0 < st->box_x0 ? x0 : st->box_x0;
	st->box_y0 = y0 < st->box_y0 ? y0 : st->box_y0;
	st->box_x1 = x1 > st->box_x1 ? x1 : st->box_x1;
	st->box_y1 = y1 > st->box_y1 ? y1 : st->box_y1;
}

/* floor() and ceil() of V, which clip() has kept near the picture. */
static int floor_int(double v)
{
	int i = (int)v;
	return i - (v < i);
}

static int ceil_int(double v)
{
	int i = (int)v;
	return i + (v > i);
}

/* The pixels whose centres (x + 0.5) lie within HALF_WIDTH of CX: *LO to *HI (exclusive), within X0..X1. */
static inline void row_span(double cx, double half_width, int x0, int x1, int *lo, int *hi)
{
	int l = floor_int(cx - half_width - 0.5) + 1, h = ceil_int(cx + half_width - 0.5);
	*lo = l < x0 ? x0 : l;
	*hi = h > x1 ? x1 : h;
}

/* Pixels LO to HI (exclusive) of ROW take WORD where its opacity A beats theirs. */
static inline void glow_span(uint32_t *row, int lo, int hi, uint32_t a, uint32_t word)
{
	for (int x = lo; x < hi; x++) {
		uint32_t old = row[x];
		row[x] = a > old >> 24 ? word : old;
	}
}

/*
 * Where the halos are settled (see stamp_glows): the pixels of the halo
 * buffer holding ALPHA or more, counted in a summed-area table over the
 * box X0..X1, Y0..Y1 (exclusive) outside which there are none. ALPHA 0:
 * no table.
 */
struct cover {
	uint32_t alpha;
	int x0, y0, x1, y1;
};

/* The table's entry for the corner X, Y: the pixels holding the value above and left of it. */
static inline uint32_t cover_at(const struct viz_stamp *st, const struct cover *c, int x, int y)
{
	return st->cover[(size_t)(y - c->y0) * (size_t)(c->x1 - c->x0 + 1) + (size_t)(x - c->x0)];
}

/* Are all the pixels from X0, Y0 to X1, Y1 (exclusive) settled? */
static inline bool covered(const struct viz_stamp *st, const struct cover *c, int x0, int y0, int x1,
		    int y1)
{
	if (!c->alpha || x0 < c->x0 || y0 < c->y0 || x1 > c->x1 || y1 > c->y1)
		return false;
	uint32_t held = cover_at(st, c, x1, y1) - cover_at(st, c, x0, y1) -
			cover_at(st, c, x1, y0) + cover_at(st, c, x0, y0);
	return held == (uint32_t)(x1 - x0) * (uint32_t)(y1 - y0);
}

/* Counts the pixels of the halo buffer in the stamp's box that hold ALPHA or more into the table. */
static void count_cover(struct viz_stamp *st, uint32_t alpha, struct cover *c)
{
	*c = (struct cover){alpha, st->box_x0, st->box_y0, st->box_x1, st->box_y1};
	size_t w = (size_t)(c->x1 - c->x0 + 1);
	for (size_t x = 0; x < w; x++)
		st->cover[x] = 0;
	for (int y = c->y0; y < c->y1; y++) {
		const uint32_t *g = st->glow + (size_t)y * (size_t)st->width;
		const uint32_t *above = st->cover + (size_t)(y - c->y0) * w;
		uint32_t *here = st->cover + (size_t)(y - c->y0 + 1) * w, run = 0;
		here[0] = 0;
		for (int x = c->x0; x < c->x1; x++) {
			run += g[x] >> 24 >= alpha;
			here[x - c->x0 + 1] = above[x - c->x0 + 1] + run;
		}
	}
}

/*
 * A halo's rings: their squared radii in pixels, and the opacity inside
 * each (and its outer rings), for dots of radius R flashing at STRENGTH;
 * kept per strength from one node to the next, as flashes fading side by
 * side differ in strength far more often than in size.
 */
struct rings {
	float r;
	int strength; /* 0: none kept */
	double reach2[VIZ_GLOW_RINGS];
	uint32_t level[VIZ_GLOW_RINGS];
};

static const struct rings *halo_rings(const struct viz_stamp *st, const struct viz_frame_node *n,
				      double ui, struct rings kept[VIZ_GLOW_STEPS + 1])
{
	int strength = viz_glow_level(n);
	struct rings *k = &kept[strength < 0 ? 0 : strength > VIZ_GLOW_STEPS ? VIZ_GLOW_STEPS : strength];
	if (k->strength == strength && strength != 0 && k->r == n->r)
		return k;
	double alpha, radius, clear = 1;
	for (int ring = 0; ring < VIZ_GLOW_RINGS; ring++) {
		viz_glow_ring(n, ring, ui, &radius, &alpha);
		radius *= st->scale;
		k->reach2[ring] = radius * radius;
		clear *= 1 - alpha;
		k->level[ring] = channel(1 - clear);
	}
	k->r = n->r;
	k->strength = strength;
	return k;
}

/*
 * N's halo into the halo buffer: per pixel the strongest, with its colour.
 * The rings' edges are not smoothed: at their faintness nobody sees steps.
 * Each row is laid ring by ring over the pixels whose centres the ring
 * covers (a square root per ring and row, none per pixel): the rings nest
 * and grow stronger inwards, so each pixel takes only its innermost ring.
 * Only the rings whose opacity lies in FROM .. BELOW (exclusive) are laid;
 * halos and rows that COVER says are settled throughout are skipped.
 */
static void stamp_glow(struct viz_stamp *st, const struct viz_frame_node *n, double ui,
		       uint32_t from, uint32_t below, const struct cover *cover,
		       struct rings kept[VIZ_GLOW_STEPS + 1])
{
	const struct rings *k = halo_rings(st, n, ui, kept);
	const double *reach2 = k->reach2;
	const uint32_t *level = k->level;
	int first = 0, upto = 0; /* the rings laid: FIRST to UPTO (exclusive) */
	while (first < VIZ_GLOW_RINGS && level[first] < from)
		first++;
	for (upto = first; upto < VIZ_GLOW_RINGS && level[upto] < below;)
		upto++;
	if (first == upto)
		return;
	double cx = st->ox + n->x * st->scale, cy = st->oy + n->y * st->scale;
	int x0, y0, x1, y1;
	if (!clip(st, cx, cy, vm_sqrt(reach2[first]), &x0, &y0, &x1, &y1) ||
	    covered(st, cover, x0, y0, x1, y1))
		return;
	grow_box(st, x0, y0, x1, y1);
	uint32_t rgb = channel(n->glow_color.r) << 16 | channel(n->glow_color.g) << 8 |
		       channel(n->glow_color.b);
	for (int y = y0; y < y1; y++) {
		uint32_t *row = st->glow + (size_t)y * (size_t)st->width;
		/* the row's whole width settled: no need to know where the rings lie in it */
		if (covered(st, cover, x0, y, x1, y + 1))
			continue;
		double dy = y + 0.5 - cy;
		int lo[VIZ_GLOW_RINGS], hi[VIZ_GLOW_RINGS], rings = first;
		for (; rings < VIZ_GLOW_RINGS && rings <= upto; rings++) {
			double room = reach2[rings] - dy * dy;
			if (room <= 0)
				break;
			row_span(cx, vm_sqrt(room), x0, x1, &lo[rings], &hi[rings]);
			if (lo[rings] >= hi[rings])
				break;
		}
		if (rings > first && covered(st, cover, lo[first], y, hi[first], y + 1))
			continue;
		/* each pixel gets only its innermost ring: the strongest there */
		for (int ring = first; ring < rings && ring < upto; ring++) {
			uint32_t a = level[ring], word = a << 24 | rgb;
			int inner_lo = ring + 1 < rings ? lo[ring + 1] : hi[ring];
			int inner_hi = ring + 1 < rings ? hi[ring + 1] : hi[ring];
			glow_span(row, lo[ring], inner_lo, a, word);
			glow_span(row, inner_hi, hi[ring], a, word);
		}
	}
}

/* Two 8-bit lanes (bits 0-7 and 16-23), each up to 255 * 255, divided by 255 and rounded. */
static uint32_t div255_lanes(uint32_t x)
{
	x += 0x00800080;
	return ((x + ((x >> 8) & 0x00ff00ff)) >> 8) & 0x00ff00ff;
}

/*
 * Colour C (0xAARRGGBB, not premultiplied, alpha ignored) at opacity K
 * (0..255) over the premultiplied pixel P: premultiplied OVER, two channels
 * at a time (blue and red, green and alpha).
 */
static inline uint32_t over(uint32_t p, uint32_t c, uint32_t k)
{
	uint32_t keep = 255 - k;
	uint32_t rb = (c & 0x00ff00ff) * k + (p & 0x00ff00ff) * keep;
	uint32_t ga = (0x00ff0000 | ((c >> 8) & 0xff)) * k + ((p >> 8) & 0x00ff00ff) * keep;
	return div255_lanes(rb) | div255_lanes(ga) << 8;
}

/* The halo buffer over the picture, and cleared for the next frame. */
static void lay_glows(struct viz_stamp *st)
{
	for (int y = st->box_y0; y < st->box_y1; y++) {
		uint32_t *g = st->glow + (size_t)y * (size_t)st->width;
		uint32_t *p = st->pixels + (size_t)y * (size_t)st->stride;
		for (int x = st->box_x0; x < st->box_x1; x++) {
			uint32_t v = g[x];
			if (!v)
				continue;
			g[x] = 0;
			p[x] = over(p[x], v, v >> 24);
		}
	}
}

/*
 * N's dot, each pixel covered by how much of it lies within the circle
 * (in 255ths: a square root only for the pixels on its rim).
 */
static void stamp_dot(struct viz_stamp *st, const struct viz_frame_node *n)
{
	double r = n->r * st->scale, k0 = n->color.a * 255;
	double cx = st->ox + n->x * st->scale, cy = st->oy + n->y * st->scale;
	int x0, y0, x1, y1;
	if (!clip(st, cx, cy, r + 1, &x0, &y0, &x1, &y1))
		return;
	grow_box(st, x0, y0, x1, y1);
	uint32_t c = channel(n->color.r) << 16 | channel(n->color.g) << 8 | channel(n->color.b);
	uint32_t solid = channel(n->color.a);
	uint32_t solid_word = solid == 255 ? 0xff000000 | c : 0;
	double inside = r > 0.5 ? (r - 0.5) * (r - 0.5) : 0, outside = (r + 0.5) * (r + 0.5);
	for (int y = y0; y < y1; y++) {
		uint32_t *row = st->pixels + (size_t)y * (size_t)st->stride;
		double dy = y + 0.5 - cy;
		for (int x = x0; x < x1; x++) {
			double dx = x + 0.5 - cx, d2 = dx * dx + dy * dy;
			if (d2 >= outside)
				continue;
			if (d2 <= inside) {
				row[x] = solid_word ? solid_word : over(row[x], c, solid);
				continue;
			}
			double cover = r + 0.5 - vm_sqrt(d2);
			uint32_t k = (uint32_t)((cover > 1 ? 1 : cover) * k0 + 0.5);
			row[x] = over(row[x], c, k);
		}
	}
}

static double magnitude(double x)
{
	return x < 0 ? -x : x;
}

bool viz_stamped_edge(const struct viz_stamp *st, const struct viz_frame_edge *e)
{
	return e->width * st->scale <= VIZ_STAMP_MAX_EDGE;
}

/*
 * E into the halo buffer (which keeps the strongest per pixel, as for
 * halos): along its longer axis, the few pixels across it, each covered by
 * how near it lies to the segment (a box filter of the line's width).
 */
static void stamp_edge(struct viz_stamp *st, const struct viz_frame_edge *e)
{
	double x1 = st->ox + e->x1 * st->scale, y1 = st->oy + e->y1 * st->scale;
	double x2 = st->ox + e->x2 * st->scale, y2 = st->oy + e->y2 * st->scale;
	double dx = x2 - x1, dy = y2 - y1, len2 = dx * dx + dy * dy;
	double half = e->width * st->scale / 2, reach = half + 1;
	if (len2 <= 0 || e->color.a <= 0)
		return;
	bool steep = magnitude(dy) > magnitude(dx);
	/* u: along the longer axis, v: across; the pixels within REACH of the line */
	double u1 = steep ? y1 : x1, u2 = steep ? y2 : x2, v1 = steep ? x1 : y1;
	double du = steep ? dy : dx, dv = steep ? dx : dy, across = reach * vm_sqrt(len2) / magnitude(du);
	/* the pixels within the picture and the stamp's rows: u in U_MIN..U_MAX, v in V_MIN..V_MAX */
	int rows_from, rows_to;
	rows_of(st, &rows_from, &rows_to);
	int u_min = steep ? rows_from : 0, u_max = steep ? rows_to : st->width;
	int v_min = steep ? 0 : rows_from, v_max = steep ? st->width : rows_to;
	double from = vm_min(u1, u2) - reach, to = vm_max(u1, u2) + reach;
	int u0 = from < u_min ? u_min : (int)from, uend = to + 1 > u_max ? u_max : (int)(to + 1);
	uint32_t rgb = channel(e->color.r) << 16 | channel(e->color.g) << 8 | channel(e->color.b);
	double alpha = e->color.a * 255;
	for (int u = u0; u < uend; u++) {
		double pu = u + 0.5, t = (pu - u1) / du;
		double vc = v1 + (t < 0 ? 0 : t > 1 ? 1 : t) * dv;
		double vlo = vc - across, vhi = vc + across + 1;
		int v0 = vlo < v_min ? v_min : (int)vlo, vend = vhi > v_max ? v_max : (int)vhi;
		if (v0 >= vend)
			continue;
		int x0 = steep ? v0 : u, y0 = steep ? u : v0;
		grow_box(st, x0, y0, steep ? vend : u + 1, steep ? u + 1 : vend);
		for (int v = v0; v < vend; v++) {
			double px = steep ? v + 0.5 : pu, py = steep ? pu : v + 0.5;
			double s = ((px - x1) * dx + (py - y1) * dy) / len2;
			s = s < 0 ? 0 : s > 1 ? 1 : s;
			double ex = px - (x1 + s * dx), ey = py - (y1 + s * dy);
			double cover = half + 0.5 - vm_sqrt(ex * ex + ey * ey);
			if (cover <= 0)
				continue;
			uint32_t a = (uint32_t)((cover > 1 ? 1 : cover) * alpha + 0.5);
			uint32_t *g = st->glow + (size_t)(steep ? u : v) * (size_t)st->width +
				      (size_t)(steep ? v : u);
			if (a > *g >> 24)
				*g = a << 24 | rgb;
		}
	}
}

size_t viz_stamp_edges(struct viz_stamp *st, const struct viz_frame *f)
{
	size_t stamped = 0;
	st->box_x0 = st->box_y0 = st->box_x1 = st->box_y1 = 0;
	for (size_t i = 0; i < f->edge_count; i++) {
		if (viz_stamped_edge(st, &f->edges[i])) {
			stamp_edge(st, &f->edges[i]);
			stamped++;
		}
	}
	lay_glows(st);
	return stamped;
}

/*
 * The halos. In a big tree at overview most nodes flash at once, at full
 * strength, and their halos overlap many times over: most pixels end up
 * holding the innermost ring of a full-strength halo, the strongest value
 * there is, and the rest nearly all a full-strength halo's middle ring.
 * So with a table (st->cover) the rings are laid in bands of opacity,
 * strongest first: the innermost rings of the strongest halos; then the
 * rings down to the strongest middle ring, skipping what lies wholly
 * within the first; then the rest, skipping what lies wholly within what
 * is laid. Within a band, in the frame's order, so that the first of
 * equals keeps its colour as it would: the same pixels, a fraction of the
 * work.
 */
static void stamp_glows(struct viz_stamp *st, const struct viz_frame *f)
{
	double ui = f->height / 720.0;
	struct cover cover = {0};
	const struct viz_frame_node *strongest = NULL;
	int top = 0;
	for (size_t i = 0; i < f->node_count; i++) {
		const struct viz_frame_node *n = &f->nodes[i];
		int level = viz_glow_level(n);
		if (viz_stamped(st, n) && level > top) {
			top = level;
			strongest = n;
		}
	}
	if (top == 0)
		return;
	/* the rings' opacities depend on the strength alone */
	struct rings kept[VIZ_GLOW_STEPS + 1] = {0};
	const uint32_t *level = halo_rings(st, strongest, ui, kept)->level;
	uint32_t bands[] = {UINT32_MAX, level[VIZ_GLOW_RINGS - 1], level[VIZ_GLOW_RINGS - 2], 0};
	int band_count = 3;
	if (!st->cover) { /* one band, all of it */
		bands[1] = 0;
		band_count = 1;
	}
	/* the halos that may reach the stamp's rows, in the frame's order: the outermost ring's box meets them */
	size_t listed = 0;
	bool list = st->halos && st->halo_capacity >= f->node_count;
	for (size_t i = 0; list && i < f->node_count; i++) {
		const struct viz_frame_node *n = &f->nodes[i];
		if (!viz_stamped(st, n) || viz_glow_level(n) == 0)
			continue;
		double reach = vm_sqrt(halo_rings(st, n, ui, kept)->reach2[0]);
		int x0, y0, x1, y1;
		if (clip(st, st->ox + n->x * st->scale, st->oy + n->y * st->scale, reach, &x0, &y0, &x1,
			 &y1))
			st->halos[listed++] = (uint32_t)i;
	}
	for (int band = 0; band < band_count; band++) {
		if (band > 0 && st->box_x0 < st->box_x1)
			count_cover(st, bands[band], &cover);
		for (size_t k = 0; list && k < listed; k++)
			stamp_glow(st, &f->nodes[st->halos[k]], ui, bands[band + 1], bands[band], &cover,
				   kept);
		for (size_t i = 0; !list && i < f->node_count; i++) {
			const struct viz_frame_node *n = &f->nodes[i];
			if (viz_stamped(st, n) && viz_glow_level(n) > 0)
				stamp_glow(st, n, ui, bands[band + 1], bands[band], &cover, kept);
		}
	}
}

size_t viz_stamp_frame(struct viz_stamp *st, const struct viz_frame *f)
{
	size_t stamped = 0;
	st->box_x0 = st->box_y0 = st->box_x1 = st->box_y1 = 0;
	stamp_glows(st, f);
	lay_glows(st);
	for (size_t i = 0; i < f->node_count; i++) {
		if (viz_stamped(st, &f->nodes[i])) {
			stamp_dot(st, &f->nodes[i]);
			stamped++;
		}
	}
	return stamped;
}
