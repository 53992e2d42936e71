/*
 * test_viz_stats.c — the scene model's counters (viz/stats.c): events by
 * operation, errno and process; pid 0 counted as "kernel"; colours for the
 * busiest processes only; families (a command and its children) in shades
 * of one colour; each node's last process instance; and a scene rebuilt
 * from what a snapshot carries (the restore functions) counts and colours
 * as the original does.
 */
#include <math.h>

#include "play/play.h"
#include "tests/unit/check.h"
#include "viz/viz.h"

static struct viz_scene *new_scene(enum viz_color_by color_by)
{
	struct viz_options options = {.color_by = color_by};
	struct viz_scene *s = viz_scene_new(play_allocator(), &options);
	CHECK(s, "viz_scene_new");
	return s;
}

static double clock_t_s;

static void apply(struct viz_scene *s, enum viz_op op, const char *path, const char *comm,
		  int pid, int result)
{
	clock_t_s += 0.001;
	struct viz_event e = {.t = clock_t_s,
			      .ts_ns = 1700000000000000000 + (int64_t)(clock_t_s * 1e9),
			      .op = op,
			      .kind = VIZ_KIND_FILE,
			      .result = result,
			      .pid = pid,
			      .path = path,
			      .comm = comm};
	CHECK(viz_scene_apply(s, &e) == 0, "viz_scene_apply");
}

/* The index of the process called NAME, or -1. */
static int process_index(const struct viz_scene *s, const char *name, struct viz_process_info *info)
{
	for (size_t i = 0; i < viz_scene_process_count(s); i++) {
		viz_scene_process(s, i, info);
		if (strcmp(info->name, name) == 0)
			return (int)i;
	}
	return -1;
}

/* Counts by operation, errno and process; the kernel's requests. */
static void test_counts(void)
{
	struct viz_scene *s = new_scene(VIZ_COLOR_BY_PROCESS);
	for (int i = 0; i < 5; i++)
		apply(s, VIZ_OP_LOOKUP, "/missing", "configure", 100, -2);
	apply(s, VIZ_OP_CREATE, "/a", "configure", 100, 0);
	apply(s, VIZ_OP_WRITE, "/a", "cc1", 101, 0);
	apply(s, VIZ_OP_GETXATTR, "/a", NULL, 0, -61);
	apply(s, VIZ_OP_READ, "/a", NULL, 0, -5000); /* an errno past the counted ones */
	CHECK(viz_scene_events(s) == 9, "events %llu", (unsigned long long)viz_scene_events(s));
	CHECK(viz_scene_op_events(s, VIZ_OP_LOOKUP) == 5 && viz_scene_op_events(s, VIZ_OP_CREATE) == 1 &&
		      viz_scene_op_events(s, VIZ_OP_WRITE) == 1 &&
		      viz_scene_op_events(s, VIZ_OP_GETXATTR) == 1,
	      "counts by operation");
	CHECK(viz_scene_errno_events(s, 2) == 5 && viz_scene_errno_events(s, 61) == 1 &&
		      viz_scene_errno_events(s, 0) == 1 && viz_scene_errno_events(s, 5000) == 0,
	      "counts by errno: ENOENT %llu, ENODATA %llu, others %llu",
	      (unsigned long long)viz_scene_errno_events(s, 2),
	      (unsigned long long)viz_scene_errno_events(s, 61),
	      (unsigned long long)viz_scene_errno_events(s, 0));
	struct viz_process_info p;
	CHECK(viz_scene_process_count(s) == 3, "%zu processes", viz_scene_process_count(s));
	CHECK(process_index(s, "configure", &p) == 0 && p.events == 6 && p.errors == 5,
	      "configure: %llu events, %llu errors", (unsigned long long)p.events,
	      (unsigned long long)p.errors);
	CHECK(process_index(s, "kernel", &p) == 2 && p.events == 2 && p.errors == 2,
	      "pid 0 without a name counts as the kernel");
	/* the node's last toucher and operation */
	struct viz_node_info n;
	CHECK(viz_scene_find(s, "/a", &n) && n.last_op == VIZ_OP_READ && n.process == 2,
	      "/a: last op %d by process %d", n.last_op, n.process);
	viz_scene_free(s);
}

/* Colours go to the busiest; a newcomer takes one when it overtakes the least busy holder. */
static void test_colours(void)
{
	struct viz_scene *s = new_scene(VIZ_COLOR_BY_PROCESS);
	char name[16], path[16];
	/* 11 processes with 10 events each take the 11 colours */
	for (int p = 0; p < VIZ_PROCESS_COLORS; p++) {
		snprintf(name, sizeof(name), "p%d", p);
		snprintf(path, sizeof(path), "/f%d", p);
		for (int i = 0; i < 10 + p; i++)
			apply(s, VIZ_OP_READ, path, name, 10 + p, 0);
	}
	apply(s, VIZ_OP_READ, "/late", "late", 99, 0);
	struct viz_process_info p0, late;
	CHECK(process_index(s, "late", &late) >= 0 && late.color_slot == -1,
	      "a twelfth process with one event has no colour: slot %d", late.color_slot);
	struct viz_node_info n;
	CHECK(viz_scene_find(s, "/late", &n), "find /late");
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame");
	CHECK(f.legend_count == VIZ_PROCESS_COLORS + 1 && strcmp(f.legend[0].text, "p10") == 0 &&
		      strcmp(f.legend[f.legend_count - 1].text, "others") == 0,
	      "legend: %zu entries, first %s, last %s", f.legend_count, f.legend[0].text,
	      f.legend[f.legend_count - 1].text);
	/* p0 (10 events) is the least busy holder; "late" overtakes it at 13 */
	for (int i = 0; i < 12; i++)
		apply(s, VIZ_OP_READ, "/late", "late", 99, 0);
	process_index(s, "late", &late);
	process_index(s, "p0", &p0);
	CHECK(late.color_slot >= 0 && p0.color_slot == -1,
	      "late (13 events) took p0's (10) colour: late %d, p0 %d", late.color_slot,
	      p0.color_slot);
	viz_scene_free(s);
}

/* Hue in degrees of C (not grey). */
static double hue(struct viz_color c)
{
	double max = fmax(c.r, fmax(c.g, c.b)), min = fmin(c.r, fmin(c.g, c.b)), d = max - min;
	double h = max == c.r ? fmod((c.g - c.b) / d + 6, 6) : max == c.g ? (c.b - c.r) / d + 2 : (c.r - c.g) / d + 4;
	return h * 60;
}

static double distance(struct viz_color a, struct viz_color b)
{
	return sqrt((a.r - b.r) * (a.r - b.r) + (a.g - b.g) * (a.g - b.g) + (a.b - b.b) * (a.b - b.b));
}

/* A family: its head's colour, earned by all of its members; a shade of it each. */
static void test_families(void)
{
	struct viz_scene *s = new_scene(VIZ_COLOR_BY_PROCESS);
	CHECK(viz_scene_join_family(s, "make › cc1", "make", 1) == 0 &&
		      viz_scene_join_family(s, "make › as", "make", 2) == 0,
	      "join");
	apply(s, VIZ_OP_READ, "/Makefile", "make", 10, 0);
	for (int i = 0; i < 20; i++) {
		apply(s, VIZ_OP_READ, "/x.c", "make › cc1", 11, 0);
		apply(s, VIZ_OP_WRITE, "/x.o", "make › as", 12, 0);
	}
	/* 11 other processes with 30 events each: a family of 41 keeps its colour */
	char name[16];
	for (int p = 0; p < VIZ_PROCESS_COLORS; p++) {
		snprintf(name, sizeof(name), "p%d", p);
		for (int i = 0; i < 30; i++)
			apply(s, VIZ_OP_READ, "/other", name, 20 + p, 0);
	}
	struct viz_process_info make, cc1, as;
	CHECK(process_index(s, "make", &make) == 0 && make.events == 1 && make.color_slot >= 0,
	      "make (1 event, its family 41) has a colour: slot %d", make.color_slot);
	process_index(s, "make › cc1", &cc1);
	process_index(s, "make › as", &as);
	CHECK(cc1.color_slot == -1 && as.color_slot == -1, "members own no colour");
	CHECK(fabs(hue(cc1.color) - hue(make.color)) < 2 && fabs(hue(as.color) - hue(make.color)) < 2,
	      "shades keep the hue: make %.0f, cc1 %.0f, as %.0f", hue(make.color), hue(cc1.color),
	      hue(as.color));
	CHECK(distance(cc1.color, make.color) > 0.15 && distance(as.color, make.color) > 0.15 &&
		      distance(cc1.color, as.color) > 0.15,
	      "shades apart: %.2f %.2f %.2f", distance(cc1.color, make.color),
	      distance(as.color, make.color), distance(cc1.color, as.color));
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame");
	bool listed = false;
	for (size_t i = 0; i < f.legend_count; i++)
		listed |= strcmp(f.legend[i].text, "make") == 0;
	CHECK(listed, "the legend names the family's head");
	/* once, before the first event: a process with events stays as it is */
	CHECK(viz_scene_join_family(s, "p0", "make", 3) == 0, "join");
	struct viz_process_info p0;
	process_index(s, "p0", &p0);
	CHECK(p0.color_slot >= 0, "p0 kept its own colour");
	viz_scene_free(s);
}

/* Each node keeps the last process instance known to touch it; the kernel's requests keep it. */
static void test_instances(void)
{
	struct viz_scene *s = new_scene(VIZ_COLOR_BY_PROCESS);
	struct viz_event e = {.t = 1, .op = VIZ_OP_CREATE, .kind = VIZ_KIND_FILE, .path = "/a",
			      .comm = "cc1", .pid = 5, .instance = 7};
	CHECK(viz_scene_apply(s, &e) == 0, "apply");
	e = (struct viz_event){.t = 2, .op = VIZ_OP_RELEASE, .kind = VIZ_KIND_FILE, .path = "/a"};
	CHECK(viz_scene_apply(s, &e) == 0, "apply");
	struct viz_node_info n;
	CHECK(viz_scene_find(s, "/a", &n) && n.instance == 7, "/a's instance %lld, expected 7",
	      (long long)n.instance);
	e = (struct viz_event){.t = 3, .op = VIZ_OP_READ, .kind = VIZ_KIND_FILE, .path = "/a",
			       .comm = "as", .pid = 6, .instance = 9};
	CHECK(viz_scene_apply(s, &e) == 0, "apply");
	CHECK(viz_scene_find(s, "/a", &n) && n.instance == 9, "/a's instance %lld, expected 9",
	      (long long)n.instance);
	CHECK(viz_scene_find(s, "/", &n) && n.instance == 0, "/ untouched: instance %lld",
	      (long long)n.instance);
	viz_scene_free(s);
}

struct copy {
	struct viz_scene *into;
	double now;
};

static void copy_node(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct copy *c = ctx;
	struct viz_event e = {.op = VIZ_OP_LOOKUP, .kind = info->kind, .path = path};
	CHECK(viz_scene_prescan(c->into, &e) == 0, "prescan %s", path);
	if (info->last_op != VIZ_OP_UNKNOWN)
		viz_scene_restore_touch(c->into, path, info->last_op, info->process, info->touch_t);
}

struct colour_check {
	struct viz_scene *other;
	size_t nodes;
};

static void same_colour(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct colour_check *c = ctx;
	struct viz_node_info o;
	CHECK(viz_scene_find(c->other, path, &o), "%s missing from the restored scene", path);
	CHECK(o.color.r == info->color.r && o.color.g == info->color.g && o.color.b == info->color.b &&
		      o.last_op == info->last_op && o.process == info->process,
	      "%s: restored rgb %.3f %.3f %.3f (op %d, process %d), original %.3f %.3f %.3f (op %d, "
	      "process %d)",
	      path, o.color.r, o.color.g, o.color.b, o.last_op, o.process, info->color.r,
	      info->color.g, info->color.b, info->last_op, info->process);
	c->nodes++;
}

/* What a snapshot carries rebuilds a scene that counts and colours the same. */
static void test_restore(void)
{
	for (int mode = VIZ_COLOR_BY_KIND; mode <= VIZ_COLOR_BY_PROCESS; mode++) {
		struct viz_scene *s = new_scene((enum viz_color_by)mode);
		char name[16], path[32];
		for (int i = 0; i < 300; i++) {
			snprintf(name, sizeof(name), "cmd%d", i % 17);
			snprintf(path, sizeof(path), "/d%d/f%d", i % 7, i % 41);
			apply(s, (enum viz_op)(i % VIZ_OP_LOST), path, name, i % 17 ? 1000 + i % 17 : 0,
			      i % 5 ? 0 : -2);
		}
		CHECK(viz_scene_advance(s, clock_t_s + 10, 0) == 0, "advance");
		struct viz_scene *r = new_scene((enum viz_color_by)mode);
		for (size_t i = 0; i < viz_scene_process_count(s); i++) {
			struct viz_process_info p;
			viz_scene_process(s, i, &p);
			CHECK(viz_scene_restore_process(r, p.name, p.events, p.errors, p.color_slot) == 0,
			      "restore process");
		}
		viz_scene_restore_events(r, viz_scene_events(s));
		for (int op = 0; op < VIZ_OP_COUNT; op++)
			viz_scene_restore_op_events(r, (enum viz_op)op,
						    viz_scene_op_events(s, (enum viz_op)op));
		for (int e = 0; e < VIZ_ERRNO_SLOTS; e++)
			viz_scene_restore_errno_events(r, e, viz_scene_errno_events(s, e));
		struct copy c = {r, clock_t_s + 10};
		CHECK(viz_scene_visit(s, copy_node, &c) == 0, "visit");
		CHECK(viz_scene_prescan_done(r) == 0, "prescan_done");
		CHECK(viz_scene_advance(r, clock_t_s + 10, 0) == 0, "advance");
		CHECK(viz_scene_events(r) == viz_scene_events(s) && viz_scene_events(r) == 300,
		      "events after the restore");
		for (size_t i = 0; i < viz_scene_process_count(s); i++) {
			struct viz_process_info a, b;
			viz_scene_process(s, i, &a);
			viz_scene_process(r, i, &b);
			CHECK(strcmp(a.name, b.name) == 0 && a.events == b.events &&
				      a.errors == b.errors && a.color_slot == b.color_slot,
			      "process %zu: %s %llu slot %d restored as %s %llu slot %d", i, a.name,
			      (unsigned long long)a.events, a.color_slot, b.name,
			      (unsigned long long)b.events, b.color_slot);
		}
		struct colour_check cc = {r, 0};
		CHECK(viz_scene_visit(s, same_colour, &cc) == 0, "visit");
		CHECK(cc.nodes > 40, "only %zu nodes compared", cc.nodes);
		viz_scene_free(s);
		viz_scene_free(r);
	}
}

int main(void)
{
	test_counts();
	test_colours();
	test_families();
	test_instances();
	test_restore();
	printf("test_viz_stats: ok\n");
	return 0;
}
