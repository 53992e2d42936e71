/*
 * layout.c — where each node goes: a nested-disc ("balloon") layout with
 * fixed slots.
 *
 * Every node owns a disc, its territory; its subtree is drawn inside it and
 * nowhere else. Its children get slots in that disc, in two zones: files
 * and other leaves on rings close around the node's dot (short edges, a
 * compact cluster), directories on rings further out (room for their own
 * subtrees). Each zone is a sequence of rings of equal slots; each ring's
 * slots are smaller than the previous ring's by a fixed ratio, chosen so
 * that the rings converge to the zone's edge: the sequence never ends, so
 * any number of children fits. A child takes the next slot when it first
 * appears (or one a removed sibling left) and keeps it: the slot depends
 * only on its index, never on how many siblings there are.
 *
 * Why this and not a force-directed or a size-weighted radial layout:
 *  - stable: a node's target is a function of its parent's target and its
 *    own slot index, so a sibling appearing (or anything appearing
 *    anywhere) moves no existing node; only a rename or a change of kind
 *    moves a subtree, and then it eases there;
 *  - never overlapping, by construction: slots are disjoint discs inside
 *    the parent's disc, recursively, with no relaxation to converge;
 *  - cheap: placing a node is O(1), nothing is recomputed per frame, and a
 *    frame visits only the subtrees whose discs are on screen;
 *  - legible at 100,000 nodes: a crowded directory's later children get
 *    smaller slots (shrinking), and a subtree whose disc is a few pixels
 *    wide is drawn as one node (collapsing, see frame.c), while the camera
 *    zooms into the part of the tree that is active (camera.c).
 * The price: deep subtrees are small when seen from the top, which the
 * camera makes up for by following the activity.
 *
 * Each node's children fan out from the direction pointing away from its
 * parent (slot 0 straight ahead, then alternately left and right), so the
 * tree grows outwards from the root.
 */
#include "viz/scene.h"
#include "viz/vmath.h"

/* Dot radius as a fraction of the territory: a directory's dot sits in the
 * middle of its disc; a leaf's slot is little more than its dot. */
#define DIR_DOT 0.045
#define LEAF_DOT 0.72

/* Zones, as fractions of the territory's radius. */
#define FILE_ZONE_INNER 0.075
#define FILE_ZONE_OUTER 0.30
#define FILE_FIRST_SIZE 0.011
#define DIR_ZONE_INNER 0.32
#define DIR_ZONE_OUTER 1.0
#define DIR_FIRST_SIZE 0.195 /* eight directories fit in the first ring */

#define EASE_SECONDS 0.7 /* video time a node takes to move or grow */

static void build_rings(struct vz_rings *rings, double inner, double outer, double first)
{
	/* Ring j's slots have radius first * q^j; touching rings then sum to
	 * inner + 2 * first / (1 - q), which is OUTER for this q. */
	double q = 1 - 2 * first / (outer - inner);
	double size = first, distance = inner + first;
	uint64_t total = 0;
	rings->count = 0;
	while (rings->count < VZ_MAX_RINGS && total < (1u << 31)) {
		double fit = VM_PI * distance / size; /* sin x <= x: never more than this */
		uint32_t count = fit > (1 << 24) ? (1 << 24) : (uint32_t)fit;
		while (count > 3 && distance * vm_sin(VM_PI / count) < size)
			count--;
		struct vz_ring *ring = &rings->ring[rings->count];
		ring->distance = distance;
		ring->size = size;
		ring->count = count;
		ring->first = (uint32_t)total;
		/* Half a slot off straight ahead on the first ring, so that no slot
		 * lies straight back on the edge from the parent; the rings
		 * stagger from there. */
		ring->phase = (rings->count & 1) ? 0 : VM_PI / count;
		rings->count++;
		total += count;
		double next = size * q;
		distance += size + next;
		size = next;
	}
}

void vz_layout_init(struct viz_scene *s)
{
	build_rings(&s->rings[VZ_REGION_FILE], FILE_ZONE_INNER, FILE_ZONE_OUTER, FILE_FIRST_SIZE);
	build_rings(&s->rings[VZ_REGION_DIR], DIR_ZONE_INNER, DIR_ZONE_OUTER, DIR_FIRST_SIZE);
}

enum vz_region vz_region_of(enum viz_kind kind)
{
	return kind == VIZ_KIND_DIR ? VZ_REGION_DIR : VZ_REGION_FILE;
}

double vz_dot_ratio(const struct vz_node *n)
{
	return n->region == VZ_REGION_DIR ? DIR_DOT : LEAF_DOT;
}

static const struct vz_ring *ring_of(const struct vz_rings *rings, uint32_t slot)
{
	uint32_t lo = 0, hi = rings->count - 1;
	while (lo < hi) {
		uint32_t mid = (lo + hi + 1) / 2;
		if (rings->ring[mid].first <= slot)
			lo = mid;
		else
			hi = mid - 1;
	}
	return &rings->ring[lo];
}

double vz_used_extent(const struct viz_scene *s, const struct vz_node *n, bool files_only)
{
	double extent = vz_dot_ratio(n);
	for (int r = 0; r < VZ_REGION_COUNT; r++) {
		if (n->next_slot[r] == 0 || (files_only && r != VZ_REGION_FILE))
			continue;
		const struct vz_ring *ring = ring_of(&s->rings[r], n->next_slot[r] - 1);
		extent = vm_max(extent, ring->distance + ring->size);
	}
	return extent;
}

/* Target of a child from its parent's target and its slot. */
static void set_target(struct viz_scene *s, struct vz_node *n)
{
	const struct vz_node *p = vz_node(s, n->parent);
	const struct vz_ring *ring = ring_of(&s->rings[n->region], n->slot);
	uint32_t index = n->slot - ring->first;
	/* 0, +1, -1, +2, -2, ...: fan out from straight ahead */
	double step = (index & 1) ? (double)((index + 1) / 2) : -(double)(index / 2);
	double angle = ring->phase + step * 2 * VM_PI / ring->count;
	double c = vm_cos(angle), sn = vm_sin(angle);
	n->ux = p->ux * c - p->uy * sn;
	n->uy = p->ux * sn + p->uy * c;
	n->x = p->x + n->ux * ring->distance * p->territory;
	n->y = p->y + n->uy * ring->distance * p->territory;
	n->territory = ring->size * p->territory;
}

void vz_current(const struct viz_scene *s, const struct vz_node *n, double *x, double *y,
		double *territory)
{
	double u = vm_ease((s->now - n->move_t) / EASE_SECONDS);
	*x = n->from_x + (n->x - n->from_x) * u;
	*y = n->from_y + (n->y - n->from_y) * u;
	*territory = n->from_territory + (n->territory - n->from_territory) * u;
}

int vz_place_new(struct viz_scene *s, uint32_t id, double t)
{
	struct vz_node *n = vz_node(s, id);
	n->region = (uint8_t)vz_region_of((enum viz_kind)n->kind);
	n->slot = vz_take_slot(s, n->parent, (enum vz_region)n->region);
	if (n->slot == VZ_NONE)
		return -1;
	n = vz_node(s, id);
	set_target(s, n);
	/* It grows out of its parent's dot. */
	vz_current(s, vz_node(s, n->parent), &n->from_x, &n->from_y, &n->from_territory);
	n->from_territory = 0;
	n->move_t = t;
	n->born_t = t;
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

int vz_replace(struct viz_scene *s, uint32_t top, double t)
{
	struct vz_node *n = vz_node(s, top);
	n->region = (uint8_t)vz_region_of((enum viz_kind)n->kind);
	n->slot = vz_take_slot(s, n->parent, (enum vz_region)n->region);
	if (n->slot == VZ_NONE)
		return -1;
	for (uint32_t id = top; id != VZ_NONE; id = next_in_subtree(s, top, id)) {
		n = vz_node(s, id);
		vz_current(s, n, &n->from_x, &n->from_y, &n->from_territory);
		n->move_t = t;
		set_target(s, n);
	}
	return 0;
}
