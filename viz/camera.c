/*
 * camera.c — what part of the world the picture shows. The camera frames
 * the part of the tree touched in the last fade time: for each touched
 * node, the used part of its disc, or if it has no children the ring of
 * leaves around its parent (so a build working in lib/ shows the files of
 * lib/, and configure touching the top files shows those). A touched
 * directory with touched nodes below it adds nothing: programs stat "/"
 * and their working directory all the time, and framing those would show
 * the whole tree instead of where the work is. For the same reason a disc
 * touched far less often than the busiest one is left out. A while after
 * the activity stops the camera frames the whole tree. It eases there, panning and
 * zooming smoothly (zoom in log space, so that a zoom by 1000 takes as long
 * as one by 10).
 */
#include "viz/scene.h"
#include "viz/vmath.h"

#define EASE_SECONDS 0.8    /* time constant of the camera's easing */
#define MARGIN 1.35	    /* room around what is framed, and for the overlay text */
#define MIN_HALF_HEIGHT 1e-12 /* below this, a pixel is a few units in the last place of a double */

static void include(struct vz_box *box, double x, double y, double r)
{
	if (box->empty) {
		*box = (struct vz_box){x - r, y - r, x + r, y + r, false};
		return;
	}
	box->x0 = vm_min(box->x0, x - r);
	box->y0 = vm_min(box->y0, y - r);
	box->x1 = vm_max(box->x1, x + r);
	box->y1 = vm_max(box->y1, y + r);
}

static bool inside(const struct vz_box *box, double x, double y, double r)
{
	return !box->empty && x - r >= box->x0 && x + r <= box->x1 && y - r >= box->y0 &&
	       y + r <= box->y1;
}

#define MIN_WEIGHT 0.3 /* of the busiest disc's, for a disc to be framed */

struct activity {
	struct vz_box box;
	float max_weight;
};

/* Calls FN for each node touched in the last fade time, with a weight that
 * falls from 1 to 0 over that time, fast at first: the camera follows what
 * happens now more than what happened a moment ago. */
static void for_each_active(struct viz_scene *s,
			    void (*fn)(struct viz_scene *s, uint32_t id, float weight,
				       struct activity *activity),
			    struct activity *activity)
{
	for (uint32_t i = 0; i < s->active_len; i++) {
		uint32_t at = (s->active_next + VZ_ACTIVE_CAPACITY - 1 - i) % VZ_ACTIVE_CAPACITY;
		const struct vz_ref *ref = &s->active[at];
		double age = s->now - ref->t;
		if (age > s->fade)
			break; /* newest first: the rest are older */
		const struct vz_node *n = vz_node(s, ref->id);
		double weight = 1 - vm_max(age, 0) / s->fade;
		if (n->generation == ref->generation && n->state != VZ_FREE)
			fn(s, ref->id, (float)(weight * weight), activity);
	}
}

static void mark_ancestors(struct viz_scene *s, uint32_t id, float weight,
			   struct activity *activity)
{
	(void)weight;
	(void)activity;
	for (uint32_t a = vz_node(s, id)->parent;
	     a != VZ_NONE && vz_node(s, a)->above_active != s->camera.stamp; a = vz_node(s, a)->parent)
		vz_node(s, a)->above_active = s->camera.stamp;
}

/* The node whose used disc a touch of ID asks to frame, or VZ_NONE;
 * *LEAVES: only the rings of leaves around it. */
static uint32_t framed_by(const struct viz_scene *s, uint32_t id, bool *leaves)
{
	const struct vz_node *n = vz_node(s, id);
	bool childless = n->first_child == VZ_NONE && n->parent != VZ_NONE;
	*leaves = childless && n->region == VZ_REGION_FILE;
	if (n->above_active == s->camera.stamp)
		return VZ_NONE;
	return childless ? n->parent : id;
}

static void add_weight(struct viz_scene *s, uint32_t id, float weight, struct activity *activity)
{
	bool leaves;
	uint32_t framed = framed_by(s, id, &leaves);
	if (framed == VZ_NONE)
		return;
	struct vz_node *n = vz_node(s, framed);
	if (n->weight_stamp != s->camera.stamp) {
		n->weight_stamp = s->camera.stamp;
		n->camera_weight = 0;
	}
	n->camera_weight += weight;
	activity->max_weight = (float)vm_max(activity->max_weight, n->camera_weight);
}

static void include_busy(struct viz_scene *s, uint32_t id, float weight,
			 struct activity *activity)
{
	(void)weight;
	bool leaves;
	uint32_t framed = framed_by(s, id, &leaves);
	if (framed == VZ_NONE)
		return;
	const struct vz_node *n = vz_node(s, framed);
	if (n->camera_weight < MIN_WEIGHT * activity->max_weight)
		return;
	double x, y, territory;
	vz_current(s, n, &x, &y, &territory);
	include(&activity->box, x, y, territory * vz_used_extent(s, n, leaves));
}

static struct vz_box active_box(struct viz_scene *s)
{
	struct activity activity = {.box.empty = true};
	s->camera.stamp++;
	for_each_active(s, mark_ancestors, &activity);
	for_each_active(s, add_weight, &activity);
	for_each_active(s, include_busy, &activity);
	return activity.box;
}

/* Every node; a subtree whose disc is already inside the box adds nothing. */
static struct vz_box tree_box(const struct viz_scene *s)
{
	struct vz_box box = {.empty = true};
	uint32_t id = 0;
	while (id != VZ_NONE) {
		const struct vz_node *n = vz_node(s, id);
		double x, y, territory;
		vz_current(s, n, &x, &y, &territory);
		bool skip = inside(&box, x, y, territory);
		if (!skip)
			include(&box, x, y, territory * vz_dot_ratio(n));
		if (!skip && n->first_child != VZ_NONE) {
			id = n->first_child;
			continue;
		}
		while (id != 0 && vz_node(s, id)->next_sibling == VZ_NONE)
			id = vz_node(s, id)->parent;
		id = id == 0 ? VZ_NONE : vz_node(s, id)->next_sibling;
	}
	return box;
}

void vz_camera_update(struct viz_scene *s)
{
	struct vz_camera *c = &s->camera;
	struct vz_box box = active_box(s);
	if (!box.empty) {
		c->held = box;
		c->held_t = s->now;
	} else if (!c->held.empty && s->now - c->held_t < s->fade) {
		box = c->held;
	} else {
		box = tree_box(s);
	}
	double aspect = (double)s->width / s->height;
	double x = (box.x0 + box.x1) / 2, y = (box.y0 + box.y1) / 2;
	double half = vm_max((box.y1 - box.y0) / 2, (box.x1 - box.x0) / 2 / aspect) * MARGIN;
	half = vm_max(half, MIN_HALF_HEIGHT);
	if (!c->placed) {
		c->x = x;
		c->y = y;
		c->half_height = half;
		c->t = s->now;
		c->placed = true;
		return;
	}
	double k = 1 - vm_exp(-(s->now - c->t) / EASE_SECONDS);
	double old_half = c->half_height;
	c->half_height *= vm_exp(vm_log(half / c->half_height) * k);
	/* The distance left to pan shrinks at least as fast as the view: else
	 * a zoom by a million would leave the target far off screen. */
	double keep = (1 - k) * vm_min(1, c->half_height / old_half);
	c->x = x + (c->x - x) * keep;
	c->y = y + (c->y - y) * keep;
	c->t = s->now;
}
