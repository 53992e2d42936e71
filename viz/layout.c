/*
 * layout.c — where each node goes: a growth layout on a grid of cells.
 *
 * Every node takes one cell of an unbounded square grid (cell = 1 world
 * unit) and keeps it: dots are the same size at every depth, so depth
 * costs distance, not size, and the whole tree of a build (thousands of
 * nodes) fits one 720p frame with every dot a few pixels wide. (The
 * nested-disc layout this replaced shrank each level about 5 times: the
 * 11-level chain of the first workload was a 60-pixel star.)
 *
 *  - A file (or any leaf) takes the free cell nearest its directory, on
 *    the first ring around it that has one, preferring the side away from
 *    the root, and whose neighbours are only its directory and that
 *    directory's children: files cluster round their directory, ring
 *    after ring, and an empty cell runs between one directory's patch and
 *    the next, so that at overview a tree reads as patches (which
 *    directory holds what), not as one uniform grid. Directories' dots are
 *    drawn a size larger than files' (their neighbours are free when they
 *    are placed, and only files come nearer).
 *  - A directory takes the free cell nearest a point just outside what its
 *    parent holds so far (sqrt(descendants) away), in the direction from
 *    the root through its parent, fanned out left and right by the
 *    parent's count of directories; with its neighbours free, so that its
 *    first files sit round it. So the tree grows outwards like a radial
 *    tree: a chain of directories is a line out of the centre, and the
 *    root's own directories spread like a sunflower's seeds (golden
 *    angle). Offsets are stretched 1.5 times sideways: the tree grows to
 *    the shape of a 16:9 picture rather than a disc.
 *
 * Why: stable — a node's cell depends only on what existed when it was
 * placed, so nothing anywhere moves when a node appears (only a rename
 * moves a subtree, and it eases there); never overlapping — a cell holds
 * one dot narrower than the cell; cheap — a hash of occupied cells, and a
 * per-directory cursor so that a directory of n files costs O(sqrt n) per
 * file at worst, O(1) typically. The price: subtrees interleave where
 * they meet (a late file of a busy directory may sit beyond a subdirectory's
 * patch, never inside it), which the edges and colours make readable; the
 * gutters cost about a fifth more area, and files' dots fill more of
 * their cells to make up for it.
 *
 * Each node also keeps the box of cells its subtree holds (grown as nodes
 * appear, recomputed lazily after removals): the camera frames the whole
 * tree by the root's box, frames cull subtrees by theirs.
 */
#include "viz/scene.h"
#include "viz/vmath.h"

#define ROOT_RADIUS 0.48
#define DIR_RADIUS 0.54
#define LEAF_RADIUS 0.44
#define EASE_SECONDS 0.7     /* video time a node takes to move or grow */
#define DIR_GAP 2.2	     /* a new directory's distance beyond its parent's cluster */
#define ASPECT 1.5	     /* sideways stretch of directory offsets */
#define FAN 1.15	     /* radians: directories fan out up to this far each side */
#define GOLDEN_ANGLE 2.39996322972865332
#define CLEAR_RINGS 6	     /* search this far for a cell with free neighbours */
#define INITIAL_CELLS 1024

/* ---- the cell table: open addressing, linear probing ---- */

static uint32_t cell_hash(int32_t x, int32_t y)
{
	uint32_t h = (uint32_t)x * 0x9e3779b1u ^ (uint32_t)y * 0x85ebca77u;
	h ^= h >> 15;
	h *= 0x2c1b3c6du;
	h ^= h >> 12;
	return h;
}

/* The node in cell (X, Y), or VZ_NONE. */
static uint32_t cell_at(const struct viz_scene *s, int32_t x, int32_t y)
{
	uint32_t mask = s->cell_capacity - 1;
	for (uint32_t i = cell_hash(x, y) & mask;; i = (i + 1) & mask) {
		const struct vz_cell *c = &s->cells[i];
		if (c->id == VZ_NONE || (c->x == x && c->y == y))
			return c->id;
	}
}

static void cell_put(struct viz_scene *s, int32_t x, int32_t y, uint32_t id)
{
	uint32_t mask = s->cell_capacity - 1, i = cell_hash(x, y) & mask;
	while (s->cells[i].id != VZ_NONE)
		i = (i + 1) & mask;
	s->cells[i] = (struct vz_cell){x, y, id};
	s->cell_count++;
}

static int grow_cells(struct viz_scene *s)
{
	uint32_t old = s->cell_capacity, capacity = old ? old * 2 : INITIAL_CELLS;
	if (old >= (1u << 28))
		return -1;
	struct vz_cell *cells = vz_alloc(s, (size_t)capacity * sizeof(*cells));
	if (!cells)
		return -1;
	struct vz_cell *previous = s->cells;
	for (uint32_t i = 0; i < capacity; i++)
		cells[i].id = VZ_NONE;
	s->cells = cells;
	s->cell_capacity = capacity;
	s->cell_count = 0;
	for (uint32_t i = 0; i < old; i++)
		if (previous[i].id != VZ_NONE)
			cell_put(s, previous[i].x, previous[i].y, previous[i].id);
	vz_release(s, previous, (size_t)old * sizeof(*previous));
	return 0;
}

/* Frees ID's cell if it holds it: backward-shift deletion keeps probes short. */
static void cell_remove(struct viz_scene *s, uint32_t id)
{
	const struct vz_node *n = vz_node(s, id);
	uint32_t mask = s->cell_capacity - 1, i = cell_hash(n->cx, n->cy) & mask;
	while (s->cells[i].id != id) {
		if (s->cells[i].id == VZ_NONE)
			return; /* never placed */
		i = (i + 1) & mask;
	}
	s->cells[i].id = VZ_NONE;
	s->cell_count--;
	for (uint32_t j = (i + 1) & mask; s->cells[j].id != VZ_NONE; j = (j + 1) & mask) {
		uint32_t home = cell_hash(s->cells[j].x, s->cells[j].y) & mask;
		/* move it back to the hole unless its home lies in (i, j] */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			s->cells[i] = s->cells[j];
			s->cells[j].id = VZ_NONE;
			i = j;
		}
	}
}

/* ---- boxes ---- */

static bool box_has(const int32_t box[4], int32_t x, int32_t y)
{
	return x >= box[0] && y >= box[1] && x <= box[2] && y <= box[3];
}

static void box_add(int32_t box[4], const int32_t other[4])
{
	box[0] = other[0] < box[0] ? other[0] : box[0];
	box[1] = other[1] < box[1] ? other[1] : box[1];
	box[2] = other[2] > box[2] ? other[2] : box[2];
	box[3] = other[3] > box[3] ? other[3] : box[3];
}

/* ID was placed: its box is its cell, and its ancestors' boxes take it in. */
static void grow_boxes(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id);
	int32_t cell[4] = {n->cx, n->cy, n->cx, n->cy};
	n->box[0] = n->box[2] = n->cx;
	n->box[1] = n->box[3] = n->cy;
	for (uint32_t a = n->parent; a != VZ_NONE && !box_has(vz_node(s, a)->box, n->cx, n->cy);
	     a = vz_node(s, a)->parent)
		box_add(vz_node(s, a)->box, cell);
}

static void mark_dirty(struct viz_scene *s, uint32_t id)
{
	for (uint32_t a = id; a != VZ_NONE && !vz_node(s, a)->box_dirty; a = vz_node(s, a)->parent)
		vz_node(s, a)->box_dirty = 1;
	s->boxes_dirty = true;
}

static uint32_t first_dirty(const struct viz_scene *s, uint32_t child)
{
	while (child != VZ_NONE && !vz_node(s, child)->box_dirty)
		child = vz_node(s, child)->next_sibling;
	return child;
}

void vz_layout_refresh(struct viz_scene *s)
{
	if (!s->boxes_dirty)
		return;
	s->boxes_dirty = false;
	if (!vz_node(s, 0)->box_dirty)
		return;
	/* Post-order over the dirty nodes only, without a stack. */
	uint32_t id = 0;
	for (;;) {
		uint32_t child = first_dirty(s, vz_node(s, id)->first_child);
		if (child != VZ_NONE) {
			id = child;
			continue;
		}
		struct vz_node *n = vz_node(s, id);
		n->box[0] = n->box[2] = n->cx;
		n->box[1] = n->box[3] = n->cy;
		for (uint32_t c = n->first_child; c != VZ_NONE; c = vz_node(s, c)->next_sibling)
			box_add(n->box, vz_node(s, c)->box);
		n->box_dirty = 0;
		if (id == 0)
			return;
		id = n->parent;
	}
}

/* ---- choosing a cell ---- */

/* The ring number of the offset (DX, DY): its distance, rounded. */
static uint32_t ring_of(int64_t dx, int64_t dy)
{
	return (uint32_t)(vm_sqrt((double)(dx * dx + dy * dy)) + 0.5);
}

/* Largest integer whose square is at most V. */
static int64_t isqrt(int64_t v)
{
	if (v <= 0)
		return 0;
	int64_t r = (int64_t)vm_sqrt((double)v);
	while (r * r > v)
		r--;
	while ((r + 1) * (r + 1) <= v)
		r++;
	return r;
}

struct want {
	int32_t x, y;	 /* the centre of the rings */
	double ux, uy;	 /* preferred direction (0, 0: none) */
	bool clear;	 /* the 8 neighbours must be free too */
	uint32_t family; /* else VZ_NONE, or: the neighbours must be this node or its children */
};

static bool usable(const struct viz_scene *s, int32_t x, int32_t y, const struct want *w)
{
	if (cell_at(s, x, y) != VZ_NONE)
		return false;
	if (!w->clear && w->family == VZ_NONE)
		return true;
	for (int dy = -1; dy <= 1; dy++)
		for (int dx = -1; dx <= 1; dx++) {
			uint32_t id = dx || dy ? cell_at(s, x + dx, y + dy) : VZ_NONE;
			if (id != VZ_NONE &&
			    (w->clear || (id != w->family && vz_node(s, id)->parent != w->family)))
				return false;
		}
	return true;
}

/*
 * A free cell of ring R around W (the cells whose distance rounds to R):
 * with FROM NULL the one most in W's preferred direction, else the first
 * at or after index *FROM in the ring's order (and *FROM moves past it).
 * False if there is none.
 */
static bool scan_ring(const struct viz_scene *s, const struct want *w, int64_t r, uint32_t *from,
		      int32_t *x, int32_t *y)
{
	double best = -1e300;
	bool found = false;
	uint32_t index = 0;
	for (int64_t dy = -r; dy <= r; dy++) {
		/* r^2 - r + 1 <= dx^2 + dy^2 <= r^2 + r */
		int64_t lo = r * r - r + 1 - dy * dy, hi = r * r + r - dy * dy;
		int64_t dx_min = lo <= 0 ? 0 : isqrt(lo - 1) + 1, dx_max = isqrt(hi);
		if (from && index + 2 * (dx_max - dx_min + 1) <= *from) {
			index += (uint32_t)(2 * (dx_max - dx_min + 1)); /* a row already full */
			continue;
		}
		for (int64_t dx = dx_min; dx <= dx_max; dx++) {
			for (int side = 0; side < 2; side++, index++) {
				if (side && !dx)
					continue;
				if (from && index < *from)
					continue;
				int64_t ox = side ? -dx : dx;
				int32_t cx = (int32_t)(w->x + ox), cy = (int32_t)(w->y + dy);
				double score = (ox * w->ux + dy * w->uy) / (r ? (double)r : 1);
				if (score <= best || !usable(s, cx, cy, w))
					continue;
				*x = cx;
				*y = cy;
				if (from) {
					*from = index + 1;
					return true;
				}
				best = score;
				found = true;
			}
		}
	}
	return found;
}

/* Unit vector from the root through node P; (0, 0) for the root. */
static void outward(const struct viz_scene *s, const struct vz_node *p, double *ux, double *uy)
{
	const struct vz_node *root = vz_node(s, 0);
	double dx = p->x - root->x, dy = p->y - root->y, d = vm_sqrt(dx * dx + dy * dy);
	*ux = d > 0 ? dx / d : 0;
	*uy = d > 0 ? dy / d : 0;
}

/* 0, then +1/2, -1/2, +1/4, -1/4, +3/4, -3/4, +1/8, ...: spread, and centred. */
static double fan(uint32_t k)
{
	if (k == 0)
		return 0;
	uint32_t j = (k + 1) / 2;
	double v = 0, base = 0.5;
	for (; j; j >>= 1, base /= 2)
		if (j & 1)
			v += base;
	return k & 1 ? v : -v;
}

/*
 * The first rings are searched for the cell away from the root; past them
 * (a directory of more than about 30 files) in the ring's order from where
 * the last file went, so that a directory of n files costs O(n) in all.
 */
#define BEST_RINGS 3

static void place_leaf(struct viz_scene *s, uint32_t parent, int32_t *x, int32_t *y)
{
	struct vz_node *p = vz_node(s, parent);
	struct want w = {p->cx, p->cy, 0, 0, false, parent};
	outward(s, p, &w.ux, &w.uy);
	if (p->leaf_ring == 0)
		p->leaf_ring = 1;
	for (;;) {
		bool ordered = p->leaf_ring > BEST_RINGS;
		if (scan_ring(s, &w, p->leaf_ring, ordered ? &p->leaf_pos : NULL, x, y))
			return;
		p->leaf_ring++;
		p->leaf_pos = 0;
	}
}

/* Directories of a directory beyond this many steps out give up on free neighbours. */
#define MAX_MARCH 256

static void place_dir(struct viz_scene *s, struct vz_node *p, int32_t *x, int32_t *y)
{
	uint32_t k = p->dirs_placed++;
	double ux, uy;
	outward(s, p, &ux, &uy);
	if (ux == 0 && uy == 0) { /* round the root */
		ux = vm_cos(k * GOLDEN_ANGLE);
		uy = vm_sin(k * GOLDEN_ANGLE);
	} else {
		double c = vm_cos(FAN * fan(k)), sn = vm_sin(FAN * fan(k));
		double rx = ux * c - uy * sn, ry = ux * sn + uy * c;
		ux = rx;
		uy = ry;
	}
	double d = DIR_GAP + vm_sqrt((double)p->children / VM_PI);
	/* Near the target, with free neighbours; if that part is crowded, on
	 * along the same direction until it is not (out of a dense cluster). */
	struct want w = {0, 0, ux, uy, true, VZ_NONE};
	for (int step = 0; step < MAX_MARCH; step++) {
		double tx = p->x + ASPECT * d * ux, ty = p->y + d * uy;
		w.x = (int32_t)(tx < 0 ? tx - 0.5 : tx + 0.5);
		w.y = (int32_t)(ty < 0 ? ty - 0.5 : ty + 0.5);
		int rings = step == 0 ? CLEAR_RINGS : 2;
		for (int64_t r = 0; r <= rings; r++)
			if (scan_ring(s, &w, r, NULL, x, y))
				return;
		d += 2 * rings + 1;
	}
	w.clear = false;
	for (int64_t r = 0;; r++)
		if (scan_ring(s, &w, r, NULL, x, y))
			return;
}

/* Chooses ID's cell (its parent placed) and takes it. */
static int take_cell(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id), *p = vz_node(s, n->parent);
	int32_t x = p->cx, y = p->cy; /* unplaced: its parent's cell, and no cell of its own */
	if (!s->unplaced) {
		if (2 * (s->cell_count + 1) > s->cell_capacity && grow_cells(s) != 0)
			return -1;
		if (n->kind == VIZ_KIND_DIR)
			place_dir(s, p, &x, &y);
		else
			place_leaf(s, n->parent, &x, &y);
	}
	n->cx = x;
	n->cy = y;
	n->x = x;
	n->y = y;
	n->leaf_ring = 1;
	n->leaf_pos = 0;
	n->dirs_placed = 0;
	n->box_dirty = 0;
	if (s->unplaced) {
		n->box[0] = n->box[2] = x;
		n->box[1] = n->box[3] = y;
		return 0;
	}
	cell_put(s, x, y, id);
	grow_boxes(s, id);
	return 0;
}

int vz_layout_init(struct viz_scene *s)
{
	if (grow_cells(s) != 0)
		return -1;
	struct vz_node *root = vz_node(s, 0);
	root->cx = root->cy = 0;
	root->leaf_ring = 1;
	cell_put(s, 0, 0, 0);
	grow_boxes(s, 0);
	return 0;
}

void vz_layout_free(struct viz_scene *s)
{
	vz_release(s, s->cells, (size_t)s->cell_capacity * sizeof(*s->cells));
}

double vz_full_radius(const struct vz_node *n)
{
	if (n->parent == VZ_NONE)
		return ROOT_RADIUS;
	return n->kind == VIZ_KIND_DIR ? DIR_RADIUS : LEAF_RADIUS;
}

double vz_radius(const struct viz_scene *s, const struct vz_node *n)
{
	/* it grows, but is a fair size at once: a node appearing is news */
	return vz_full_radius(n) * (0.6 + 0.4 * vm_ease((vz_motion_now(s) - n->born_t) / EASE_SECONDS));
}

void vz_current(const struct viz_scene *s, const struct vz_node *n, double *x, double *y)
{
	double u = vm_ease((vz_motion_now(s) - n->move_t) / EASE_SECONDS);
	*x = n->from_x + (n->x - n->from_x) * u;
	*y = n->from_y + (n->y - n->from_y) * u;
}

int vz_place_new(struct viz_scene *s, uint32_t id, double t)
{
	if (take_cell(s, id) != 0)
		return -1;
	struct vz_node *n = vz_node(s, id);
	/* It grows out of where its parent's dot goes: out of where that dot is
	 * now, a chain made faster than dots ease would bunch up where it
	 * started, each level on the one above, their names piled up. */
	const struct vz_node *p = vz_node(s, n->parent);
	n->from_x = p->x;
	n->from_y = p->y;
	n->move_t = n->born_t = t + s->held; /* motion time */
	return 0;
}

/* Next node of the subtree of TOP in depth-first order, or VZ_NONE. */
static uint32_t next_in_subtree(const struct viz_scene *s, uint32_t top, uint32_t id)
{
	if (vz_node(s, id)->first_child != VZ_NONE)
		return vz_node(s, id)->first_child;
	while (id != top) {
		if (vz_node(s, id)->next_sibling != VZ_NONE)
			return vz_node(s, id)->next_sibling;
		id = vz_node(s, id)->parent;
	}
	return VZ_NONE;
}

void vz_unplace_subtree(struct viz_scene *s, uint32_t top)
{
	struct vz_node *t = vz_node(s, top);
	if (t->parent != VZ_NONE) {
		struct vz_node *p = vz_node(s, t->parent);
		uint32_t ring = ring_of((int64_t)t->cx - p->cx, (int64_t)t->cy - p->cy);
		if (ring >= 1 && ring <= p->leaf_ring) {
			p->leaf_ring = ring; /* its files may take the cell again */
			p->leaf_pos = 0;
		}
		mark_dirty(s, t->parent);
	}
	for (uint32_t id = top; id != VZ_NONE; id = next_in_subtree(s, top, id))
		cell_remove(s, id);
}

int vz_replace(struct viz_scene *s, uint32_t top, double t)
{
	for (uint32_t id = top; id != VZ_NONE; id = next_in_subtree(s, top, id)) {
		struct vz_node *n = vz_node(s, id);
		vz_current(s, n, &n->from_x, &n->from_y);
		uint16_t depth = vz_node(s, n->parent)->depth;
		n->depth = depth < UINT16_MAX ? (uint16_t)(depth + 1) : depth;
		if (take_cell(s, id) != 0)
			return -1;
		vz_node(s, id)->move_t = t + s->held; /* motion time */
	}
	return 0;
}
