/*
 * camera.c — what part of the world the picture shows.
 *
 * The camera shows the whole tree (the root's box of cells) as long as its
 * dots are a fair size at that scale: with the grid layout that is up to
 * several thousand nodes at 720p. A bigger tree is shown around what is
 * active, no closer than ZOOM_CELL_PX between cells, and kept over the
 * tree (no void beside it). Active: every node touched in the last fade
 * time (all of them: a build working in two directories at once shows
 * both, it does not pick one), each with its parent and grandparent, so
 * that a view holds the directory being worked in and never a lone dot. A
 * touched directory with touched nodes below it adds nothing of its own:
 * programs stat "/" and their working directory all the time, and the
 * nodes below bring their ancestors in anyway. A while after the activity
 * stops the camera shows the whole tree.
 *
 * The framed box goes into the part of the picture the overlay leaves
 * free (clock and caption at the top, legend and last event at the
 * bottom), never closer than MIN_HALF_CELLS cells (dots stay a modest size
 * and a view holds a neighbourhood, not one directory filling the frame).
 * It eases there: out quickly when something to frame is off screen (the
 * action is on screen within a few frames), in slowly, and not at all
 * while the target is within the view and no more than a little smaller
 * (no pumping back and forth as activity comes and goes). Zoom is eased in
 * log space, so that a zoom by 1000 takes as long as one by 10.
 */
#include "viz/scene.h"
#include "viz/vmath.h"

#define EASE_OUT_SECONDS 0.25 /* time constant when something to frame is off screen */
#define EASE_IN_SECONDS 1.2   /* time constant when closing in */
#define MIN_HALF_CELLS 9.0    /* the view is at least 18 cells high */
#define ZOOM_CELL_PX 10.0     /* a big tree is shown no closer than this (at 720 high) */
#define PAD_CELLS 1.0	      /* room round what is framed */
#define ZOOM_IN_BELOW 0.7     /* close in only when the target is this much smaller */
/* The free part of the picture, as fractions of its width and height. */
#define SAFE_LEFT 0.015
#define SAFE_RIGHT 0.985
#define SAFE_TOP 0.15
#define SAFE_BOTTOM 0.90

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

/* The valid entry of the active list at I touched within the fade time, or VZ_NONE. */
static uint32_t active_node(const struct viz_scene *s, uint32_t i)
{
	const struct vz_ref *ref = &s->active[i];
	const struct vz_node *n = vz_node(s, ref->id);
	if (s->now - ref->t > s->fade || n->generation != ref->generation || n->state == VZ_FREE)
		return VZ_NONE;
	return ref->id;
}

static void include_node(const struct viz_scene *s, struct vz_box *box, uint32_t id)
{
	double x, y;
	vz_current(s, vz_node(s, id), &x, &y);
	include(box, x, y, PAD_CELLS);
}

static struct vz_box active_box(struct viz_scene *s)
{
	struct vz_box box = {.empty = true};
	s->camera.stamp++;
	for (uint32_t i = 0; i < s->active_len; i++) {
		uint32_t id = active_node(s, i);
		if (id == VZ_NONE)
			continue;
		for (uint32_t a = vz_node(s, id)->parent;
		     a != VZ_NONE && vz_node(s, a)->above_active != s->camera.stamp;
		     a = vz_node(s, a)->parent)
			vz_node(s, a)->above_active = s->camera.stamp;
	}
	for (uint32_t i = 0; i < s->active_len; i++) {
		uint32_t id = active_node(s, i);
		if (id == VZ_NONE || vz_node(s, id)->above_active == s->camera.stamp)
			continue;
		include_node(s, &box, id);
		for (uint32_t a = vz_node(s, id)->parent, up = 0; a != VZ_NONE && up < 2;
		     a = vz_node(s, a)->parent, up++)
			include_node(s, &box, a);
	}
	return box;
}

/* The whole tree: the root's box of cells (current once the layout is refreshed). */
static struct vz_box tree_box(struct viz_scene *s)
{
	const int32_t *b = vz_node(s, 0)->box;
	return (struct vz_box){b[0] - PAD_CELLS, b[1] - PAD_CELLS, b[2] + PAD_CELLS,
			       b[3] + PAD_CELLS, false};
}

/* The scale (pixels a cell) that fits BOX into the free part of the picture. */
static double fit(const struct viz_scene *s, const struct vz_box *box)
{
	double safe_w = (SAFE_RIGHT - SAFE_LEFT) * s->width;
	double safe_h = (SAFE_BOTTOM - SAFE_TOP) * s->height;
	return vm_min(safe_w / vm_max(box->x1 - box->x0, 1e-9),
		      safe_h / vm_max(box->y1 - box->y0, 1e-9));
}

/* The centre, along one axis, of a view SPAN wide over [A0, A1] kept within [T0, T1]. */
static double keep_within(double a0, double a1, double t0, double t1, double span)
{
	double centre = (a0 + a1) / 2;
	if (span >= t1 - t0)
		return (t0 + t1) / 2;
	return vm_clamp(centre, t0 + span / 2, t1 - span / 2);
}

/* The shift of a view [V0, V0 + SPAN] that brings [A0, A1] inside it, least first. */
static double shift_to_hold(double v0, double span, double a0, double a1)
{
	if (a1 - a0 >= span)
		return (a0 + a1) / 2 - (v0 + span / 2);
	return a0 < v0 ? a0 - v0 : a1 > v0 + span ? a1 - (v0 + span) : 0;
}

/*
 * The easing may trail what it follows: a chain that grows a cell every
 * few frames would leave its newest nodes past the picture's edge. What is
 * framed is never drawn outside the picture: the view widens and pans just
 * enough, which follows the growth as smoothly as the growth goes.
 */
static void keep_in_picture(struct viz_scene *s, const struct vz_box *framed)
{
	struct vz_camera *c = &s->camera;
	double w = s->width, h = s->height;
	double bw = vm_max(framed->x1 - framed->x0, 1e-9), bh = vm_max(framed->y1 - framed->y0, 1e-9);
	double widest = vm_min(w / bw, h / bh); /* the largest scale that holds the box */
	if (h / 2 / c->half_height > widest)
		c->half_height = h / 2 / widest;
	double scale = h / 2 / c->half_height, span_x = w / scale, span_y = h / scale;
	c->x += shift_to_hold(c->x - span_x / 2, span_x, framed->x0, framed->x1);
	c->y += shift_to_hold(c->y - span_y / 2, span_y, framed->y0, framed->y1);
}

void vz_camera_update(struct viz_scene *s)
{
	struct vz_camera *c = &s->camera;
	struct vz_box tree = tree_box(s), box = active_box(s);
	if (!box.empty) {
		c->held = box;
		c->held_t = s->now;
	} else if (!c->held.empty && s->now - c->held_t < s->fade) {
		box = c->held;
	} else {
		box = tree;
	}
	/* The whole tree while its dots are big enough; else the activity, no
	 * closer than needed for its dots to be ZOOM_CELL_PX apart. */
	double w = s->width, h = s->height;
	double scale = vm_max(fit(s, &tree), vm_min(fit(s, &box), ZOOM_CELL_PX * h / 720));
	scale = vm_min(scale, h / 2 / MIN_HALF_CELLS);
	/* What must be in the view: the whole tree when that is the target (its
	 * cells, where a new node is going while it still moves out of its
	 * parent), else the activity. */
	const struct vz_box *framed = scale <= fit(s, &tree) ? &tree : &box;
	double half = h / 2 / scale;
	/* the free part of the picture, in world units, kept over the tree */
	double span_x = (SAFE_RIGHT - SAFE_LEFT) * w / scale;
	double span_y = (SAFE_BOTTOM - SAFE_TOP) * h / scale;
	double x = keep_within(box.x0, box.x1, tree.x0, tree.x1, span_x);
	double y = keep_within(box.y0, box.y1, tree.y0, tree.y1, span_y);
	/* that centre goes to the free part's centre */
	x -= ((SAFE_LEFT + SAFE_RIGHT) / 2 - 0.5) * w / scale;
	y -= ((SAFE_TOP + SAFE_BOTTOM) / 2 - 0.5) * h / scale;
	if (!c->placed) {
		c->x = x;
		c->y = y;
		c->half_height = half;
		c->t = vz_motion_now(s);
		c->placed = true;
		return;
	}
	double dt = vm_max(vz_motion_now(s) - c->t, 0);
	c->t = vz_motion_now(s);
	/* Is the box inside the view now? */
	double now_scale = h / 2 / c->half_height;
	double vx0 = c->x - w / 2 / now_scale, vy0 = c->y - c->half_height;
	bool inside = framed->x0 >= vx0 + SAFE_LEFT * w / now_scale &&
		      framed->x1 <= vx0 + SAFE_RIGHT * w / now_scale &&
		      framed->y0 >= vy0 + SAFE_TOP * h / now_scale &&
		      framed->y1 <= vy0 + SAFE_BOTTOM * h / now_scale;
	if (inside && half >= ZOOM_IN_BELOW * c->half_height && half <= c->half_height)
		return; /* it is all on screen, at about the right size: stay */
	double k = 1 - vm_exp(-dt / (inside ? EASE_IN_SECONDS : EASE_OUT_SECONDS));
	double old_half = c->half_height;
	c->half_height *= vm_exp(vm_log(half / c->half_height) * k);
	/* The distance left to pan shrinks at least as fast as the view: else
	 * a zoom by a million would leave the target far off screen. */
	double keep = (1 - k) * vm_min(1, c->half_height / old_half);
	c->x = x + (c->x - x) * keep;
	c->y = y + (c->y - y) * keep;
	keep_in_picture(s, framed);
}
