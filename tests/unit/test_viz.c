/*
 * test_viz.c — unit test of the scene model (viz/), fed synthetic events:
 * the first workload's mkdirs give 88 + 1 green directories that do not
 * overlap, the newest one red and labelled; `rm -rf` leaves only the root;
 * missing ancestors appear; a rename moves a node to its new parent; a new
 * sibling moves no existing node; the same events give the same frames; a
 * random 100,000-node tree has no overlapping nodes, in the model and in
 * the frames drawn; a scene that places nothing holds the same tree; a store's commit flashes white and is captioned; prescan, the timeline, running out of memory, and the
 * maths against libm.
 *
 * Plain C, no framework: exits 0 on success, prints "FAIL: ..." and exits 1
 * otherwise. RECORDER_TEST_SCALE (default 1) scales the big tree, e.g. 0.05
 * under valgrind.
 */
#include "viz/viz.h"
#include "viz/vmath.h"
#include "play/play.h"
#include "tests/unit/check.h"
#include "tests/unit/scale.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---- */

static struct viz_scene *new_scene(void)
{
	struct viz_options options = {.fade = 2};
	struct viz_scene *s = viz_scene_new(play_allocator(), &options);
	CHECK(s, "viz_scene_new failed");
	viz_scene_set_viewport(s, 1280, 720);
	return s;
}

static void apply(struct viz_scene *s, double t, enum viz_op op, enum viz_kind kind,
		  int result, const char *path, const char *path2, const char *comm)
{
	struct viz_event e = {.t = t, .ts_ns = 1700000000000000000LL + (int64_t)(t * 1e9),
			      .op = op, .kind = kind, .result = result, .pid = 42, .path = path,
			      .path2 = path2, .comm = comm};
	CHECK(viz_scene_apply(s, &e) == 0, "apply %s %s failed", viz_op_name(op), path);
}

static void advance(struct viz_scene *s, double t)
{
	CHECK(viz_scene_advance(s, t, 1700000000000000000LL + (int64_t)(t * 1e9)) == 0,
	      "advance failed");
}

static bool find(struct viz_scene *s, const char *path, struct viz_node_info *info)
{
	return viz_scene_find(s, path, info) == 1;
}

/* The first workload's mkdirs, as the kernel sends them: a lookup that
 * fails, then the mkdir, by one `mkdir` process each. Returns the end time. */
static double first_workload_mkdirs(struct viz_scene *s, double t, double step)
{
	char path[256] = "";
	for (int level = 0; level < 11; level++) {
		char name[8];
		snprintf(name, sizeof(name), "/%d", level);
		strcat(path, name);
		apply(s, t, VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, path, NULL, "mkdir");
		apply(s, t += step, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "mkdir");
		for (char leaf = 'a'; leaf <= 'g'; leaf++) {
			char child[300];
			snprintf(child, sizeof(child), "%s/%c", path, leaf);
			apply(s, t += step, VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, child, NULL, "mkdir");
			apply(s, t += step, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, child, NULL, "mkdir");
		}
	}
	return t;
}

/* rm -rf 0: children before parents. */
static double first_workload_rm(struct viz_scene *s, double t, double step)
{
	for (int level = 10; level >= 0; level--) {
		char path[256] = "";
		for (int i = 0; i <= level; i++)
			snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%d", i);
		for (char leaf = 'a'; leaf <= 'g'; leaf++) {
			char child[300];
			snprintf(child, sizeof(child), "%s/%c", path, leaf);
			apply(s, t += step, VIZ_OP_RMDIR, VIZ_KIND_DIR, 0, child, NULL, "rm");
		}
		apply(s, t += step, VIZ_OP_RMDIR, VIZ_KIND_DIR, 0, path, NULL, "rm");
	}
	return t;
}

struct collected {
	struct viz_node_info *nodes;
	char **paths;
	size_t len, cap;
};

static void collect(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct collected *c = ctx;
	if (c->len == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 256;
		c->nodes = realloc(c->nodes, c->cap * sizeof(*c->nodes));
		c->paths = realloc(c->paths, c->cap * sizeof(*c->paths));
		CHECK(c->nodes && c->paths, "out of memory");
	}
	c->nodes[c->len] = *info;
	c->paths[c->len] = strdup(path);
	CHECK(c->paths[c->len], "out of memory");
	c->len++;
}

static void collect_all(struct viz_scene *s, struct collected *c)
{
	memset(c, 0, sizeof(*c));
	CHECK(viz_scene_visit(s, collect, c) == 0, "visit failed");
	CHECK(c->len == viz_scene_node_count(s), "visit saw %zu nodes, count says %zu", c->len,
	      viz_scene_node_count(s));
}

static void free_collected(struct collected *c)
{
	for (size_t i = 0; i < c->len; i++)
		free(c->paths[i]);
	free(c->nodes);
	free(c->paths);
}

/* ---- overlap: a sweep over circles sorted by their left edge ---- */

struct circle {
	double x, y, r;
	size_t index;
};

static int by_left(const void *a, const void *b)
{
	const struct circle *p = a, *q = b;
	double l = p->x - p->r, m = q->x - q->r;
	return (l > m) - (l < m);
}

/* Index pair of two overlapping circles, or false. */
static bool find_overlap(struct circle *c, size_t n, size_t *first, size_t *second)
{
	qsort(c, n, sizeof(*c), by_left);
	for (size_t i = 0; i < n; i++) {
		for (size_t j = i + 1; j < n && c[j].x - c[j].r <= c[i].x + c[i].r; j++) {
			double dx = c[i].x - c[j].x, dy = c[i].y - c[j].y, rr = c[i].r + c[j].r;
			if (dx * dx + dy * dy < rr * rr * (1 - 1e-9)) {
				*first = c[i].index;
				*second = c[j].index;
				return true;
			}
		}
	}
	return false;
}

static void check_no_overlap_in_model(const struct collected *all)
{
	struct circle *c = malloc(all->len * sizeof(*c));
	CHECK(c, "out of memory");
	for (size_t i = 0; i < all->len; i++)
		c[i] = (struct circle){all->nodes[i].target_x, all->nodes[i].target_y,
				       all->nodes[i].target_r, i};
	size_t a, b;
	bool overlap = find_overlap(c, all->len, &a, &b);
	free(c);
	CHECK(!overlap, "nodes %s and %s overlap", all->paths[a], all->paths[b]);
}

static void check_no_overlap_in_frame(const struct viz_frame *f)
{
	struct circle *c = malloc((f->node_count + 1) * sizeof(*c));
	CHECK(c, "out of memory");
	for (size_t i = 0; i < f->node_count; i++)
		c[i] = (struct circle){f->nodes[i].x, f->nodes[i].y, f->nodes[i].r, i};
	size_t a, b;
	bool overlap = find_overlap(c, f->node_count, &a, &b);
	free(c);
	CHECK(!overlap, "frame nodes %u (%.1f,%.1f r %.2f) and %u (%.1f,%.1f r %.2f) overlap",
	      f->nodes[a].id, f->nodes[a].x, f->nodes[a].y, f->nodes[a].r, f->nodes[b].id,
	      f->nodes[b].x, f->nodes[b].y, f->nodes[b].r);
}

static bool is_green(struct viz_color c)
{
	return c.g > 0.6f && c.r < 0.4f && c.b < 0.45f;
}

static bool is_red(struct viz_color c)
{
	return c.r > 0.9f && c.g < 0.35f && c.b < 0.35f;
}

/* ---- tests ---- */

static void test_first_workload(void)
{
	struct viz_scene *s = new_scene();
	double t = first_workload_mkdirs(s, 0, 0.05);
	for (double u = 0; u < t + 0.5; u += 1.0 / 30)
		advance(s, u); /* frame by frame: the camera follows */
	advance(s, t + 0.5); /* the newest node has grown, and still flashes */
	struct collected all;
	collect_all(s, &all);
	CHECK(all.len == 89, "after the mkdirs: %zu nodes, expected 88 + the root", all.len);
	for (size_t i = 0; i < all.len; i++)
		CHECK(all.nodes[i].kind == VIZ_KIND_DIR, "%s is not a directory", all.paths[i]);
	check_no_overlap_in_model(&all);
	free_collected(&all);

	/* The newest node is red and labelled; the frame's nodes do not overlap. */
	struct viz_node_info g;
	CHECK(find(s, "/0/1/2/3/4/5/6/7/8/9/10/g", &g), "no node for the last mkdir");
	CHECK(is_red(g.color), "last node not red: %.2f %.2f %.2f", g.color.r, g.color.g,
	      g.color.b);
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	check_no_overlap_in_frame(&f);
	bool labelled = false;
	for (size_t i = 0; i < f.label_count; i++)
		labelled |= f.labels[i].len == 1 && f.labels[i].text[0] == 'g' &&
			    f.labels[i].color.a > 0.9f;
	CHECK(labelled, "the last node has no label in the frame");
	bool drawn = false;
	for (size_t i = 0; i < f.node_count; i++)
		if (f.nodes[i].id == g.id) {
			drawn = true;
			CHECK(f.nodes[i].x >= 0 && f.nodes[i].x < 1280 && f.nodes[i].y >= 0 &&
			      f.nodes[i].y < 720, "the last node is off screen");
		}
	CHECK(drawn, "the last node is not drawn: the camera lost it");
	CHECK(strcmp(f.processes[0].name, "mkdir") == 0, "process shown: %s",
	      f.process_count ? f.processes[0].name : "none");

	/* Once the flashes have faded, all green. */
	advance(s, t + 3);
	collect_all(s, &all);
	for (size_t i = 0; i < all.len; i++)
		CHECK(is_green(all.nodes[i].color), "%s is not green after the fade",
		      all.paths[i]);
	free_collected(&all);

	/* rm -rf 0: removed nodes fade out, then only the root remains, even
	 * though rm closes the directory it removed after the rmdir. */
	t = first_workload_rm(s, t + 3, 0.02);
	apply(s, t, VIZ_OP_RELEASEDIR, VIZ_KIND_DIR, 0, "/0", NULL, "rm");
	advance(s, t + 0.1);
	struct viz_node_info zero;
	CHECK(find(s, "/0", &zero) && zero.dying && zero.color.a > 0.5f,
	      "/0 should be fading out");
	advance(s, t + 2.1);
	CHECK(viz_scene_node_count(s) == 1, "after rm -rf: %zu nodes, expected the root",
	      viz_scene_node_count(s));
	CHECK(!find(s, "/0", &zero), "/0 still there");
	viz_scene_free(s);
}

static void test_ancestors_appear(void)
{
	struct viz_scene *s = new_scene();
	apply(s, 1, VIZ_OP_GETATTR, VIZ_KIND_FILE, 0, "/usr/share/doc/README", NULL, "cat");
	struct viz_node_info info;
	CHECK(find(s, "/usr", &info) && info.kind == VIZ_KIND_DIR, "/usr missing or not a dir");
	CHECK(find(s, "/usr/share/doc", &info) && info.kind == VIZ_KIND_DIR, "/usr/share/doc");
	CHECK(find(s, "/usr/share/doc/README", &info) && info.kind == VIZ_KIND_FILE, "README");
	CHECK(info.depth == 4, "depth %d", info.depth);
	/* A failed lookup adds no node, only its directory (which exists). */
	apply(s, 2, VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, "/opt/missing/thing", NULL, "sh");
	CHECK(!find(s, "/opt/missing/thing", &info), "a missing file became a node");
	CHECK(find(s, "/opt/missing", &info), "the searched directory is missing");
	CHECK(viz_scene_node_count(s) == 7, "%zu nodes", viz_scene_node_count(s));
	/* Odd paths: doubled slashes, a trailing slash. */
	apply(s, 3, VIZ_OP_GETATTR, VIZ_KIND_DIR, 0, "//usr//lib/", NULL, "ls");
	CHECK(find(s, "/usr/lib", &info), "/usr/lib");
	advance(s, 5);
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	viz_scene_free(s);
}

/*
 * Depth is capped (128 levels): a path of 100,000 components makes 128
 * nodes, and the events below land on the deepest; removing a path below
 * the cap removes nothing. A million-component path once took render 57 s.
 */
static void test_deep_paths(void)
{
	struct viz_scene *s = new_scene();
	size_t levels = (size_t)(100000 * scale) < 1000 ? 1000 : (size_t)(100000 * scale);
	char *deep = malloc(levels * 2 + 1);
	CHECK(deep, "out of memory");
	for (size_t i = 0; i < levels; i++)
		memcpy(deep + 2 * i, "/d", 2);
	deep[levels * 2] = '\0';
	int64_t start = now_ns(CLOCK_MONOTONIC);
	for (int i = 0; i < 20; i++) {
		apply(s, i * 0.1, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, deep, NULL, "mkdir");
		advance(s, i * 0.1);
		struct viz_frame f;
		CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	}
	struct viz_node_info info;
	CHECK(viz_scene_node_count(s) == 129, "%zu nodes for a %zu-deep path",
	      viz_scene_node_count(s), levels);
	CHECK(!find(s, deep, &info), "a node below the cap");
	deep[128 * 2] = '\0';
	CHECK(find(s, deep, &info) && info.depth == 128 && info.kind == VIZ_KIND_DIR,
	      "no directory at the cap");
	CHECK(info.flash > 0.9, "the node at the cap does not flash for the events below it");
	deep[128 * 2] = '/';
	apply(s, 3, VIZ_OP_RMDIR, VIZ_KIND_DIR, 0, deep, NULL, "rmdir");
	advance(s, 6);
	CHECK(viz_scene_node_count(s) == 129, "removing below the cap removed %zu nodes",
	      129 - viz_scene_node_count(s));
	printf("deep paths: 20 events on a %zu-component path in %.1f ms\n", levels,
	       (double)(now_ns(CLOCK_MONOTONIC) - start) / 1e6);
	free(deep);
	viz_scene_free(s);
}

static void test_rename(void)
{
	struct viz_scene *s = new_scene();
	apply(s, 0, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/a/x", NULL, "touch");
	apply(s, 0.1, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, "/b", NULL, "mkdir");
	apply(s, 0.2, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/a/y", NULL, "touch");
	advance(s, 5);
	struct viz_node_info x, b, y;
	CHECK(find(s, "/a/x", &x) && find(s, "/b", &b), "setup");
	apply(s, 5, VIZ_OP_RENAME, VIZ_KIND_FILE, 0, "/a/x", "/b/y", "mv");
	advance(s, 5);
	struct viz_node_info gone;
	CHECK(!find(s, "/a/x", &gone), "/a/x still there");
	CHECK(find(s, "/b/y", &y), "/b/y missing");
	CHECK(y.id == x.id, "the renamed node is a new node, not the same one moved");
	CHECK(fabs(y.x - x.x) < 1e-12 && fabs(y.y - x.y) < 1e-12,
	      "the node jumped instead of easing: (%g,%g) -> (%g,%g)", x.x, x.y, y.x, y.y);
	double d = hypot(y.target_x - b.target_x, y.target_y - b.target_y);
	CHECK(d < 2, "the renamed node is not next to /b: %.1f cells away", d);
	advance(s, 7);
	CHECK(find(s, "/b/y", &y) && y.x == y.target_x && y.y == y.target_y,
	      "the node has not arrived");
	/* Renaming within a directory keeps the place; over an existing name replaces it. */
	apply(s, 8, VIZ_OP_RENAME, VIZ_KIND_FILE, 0, "/b/y", "/b/z", "mv");
	struct viz_node_info z;
	CHECK(find(s, "/b/z", &z) && z.target_x == y.target_x && z.target_y == y.target_y,
	      "a rename in place moved the node");
	apply(s, 9, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/b/w", NULL, "touch");
	apply(s, 10, VIZ_OP_RENAME, VIZ_KIND_FILE, 0, "/b/w", "/b/z", "mv");
	CHECK(find(s, "/b/z", &z) && !find(s, "/b/w", &y), "rename over an existing name");
	/* A directory moves with its subtree. */
	apply(s, 11, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, "/c/d/e", NULL, "mkdir");
	apply(s, 12, VIZ_OP_RENAME, VIZ_KIND_DIR, 0, "/c/d", "/b/d", "mv");
	CHECK(find(s, "/b/d/e", &y) && !find(s, "/c/d", &x), "subtree not moved");
	viz_scene_free(s);
}

/* The ids viz_scene_visit gives, in its order (parents before children, depth first). */
struct visit_ids {
	uint32_t ids[64];
	size_t len;
};

static void collect_id(void *ctx, const char *path, const struct viz_node_info *info)
{
	(void)path;
	struct visit_ids *v = ctx;
	if (v->len < 64)
		v->ids[v->len++] = info->id;
}

/*
 * A frame walks the tree in an order it keeps from one frame to the next:
 * after nodes are added, moved and removed it draws exactly the nodes of
 * the tree, in the tree's depth-first order, and between changes the same.
 */
static void test_frame_follows_tree(void)
{
	struct viz_scene *s = new_scene();
	const struct {
		enum viz_op op;
		enum viz_kind kind;
		const char *path, *path2;
	} steps[] = {
		{VIZ_OP_CREATE, VIZ_KIND_FILE, "/a/x", NULL},
		{VIZ_OP_CREATE, VIZ_KIND_FILE, "/a/y", NULL},
		{VIZ_OP_MKDIR, VIZ_KIND_DIR, "/b", NULL},
		{VIZ_OP_RENAME, VIZ_KIND_FILE, "/a/x", "/b/x"},
		{VIZ_OP_UNLINK, VIZ_KIND_FILE, "/a/y", NULL},
		{VIZ_OP_MKDIR, VIZ_KIND_DIR, "/c/d/e", NULL},
		{VIZ_OP_RENAME, VIZ_KIND_DIR, "/c/d", "/b/d"},
		{VIZ_OP_CREATE, VIZ_KIND_FILE, "/a/z", NULL},
		{VIZ_OP_RMDIR, VIZ_KIND_DIR, "/b/d/e", NULL},
		{VIZ_OP_READ, VIZ_KIND_FILE, "/b/x", NULL},
	};
	double t = 0;
	for (size_t k = 0; k < sizeof(steps) / sizeof(steps[0]); k++) {
		apply(s, t, steps[k].op, steps[k].kind, 0, steps[k].path, steps[k].path2, "sh");
		for (int again = 0; again < 2; again++) { /* removed nodes gone, moves done */
			t += 10;
			advance(s, t);
			struct visit_ids tree = {0};
			CHECK(viz_scene_visit(s, collect_id, &tree) == 0, "visit failed");
			struct viz_frame f;
			CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
			bool same = f.node_count == tree.len;
			for (size_t i = 0; same && i < tree.len; i++)
				same = f.nodes[i].id == tree.ids[i];
			CHECK(same, "after %s %s: the frame draws %zu nodes, the tree has %zu, or not "
				    "in its order", viz_op_name(steps[k].op), steps[k].path, f.node_count,
			      tree.len);
		}
	}
	viz_scene_free(s);
}

/* One line per node that viz_scene_visit gives, for comparing scenes. */
struct tree_text {
	char *text;
	size_t len, cap;
	bool placed_apart; /* some node's target is not the root's */
};

static void describe_node(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct tree_text *t = ctx;
	char line[512];
	int n = snprintf(line, sizeof(line), "%s %d %d %d %d %d\n", path, info->kind, info->depth,
			 info->dying, info->last_op, info->process);
	CHECK(n > 0 && (size_t)n < sizeof(line), "line too long");
	if (t->len + (size_t)n + 1 > t->cap) {
		t->cap = (t->len + (size_t)n + 1) * 2;
		t->text = realloc(t->text, t->cap);
		CHECK(t->text, "out of memory");
	}
	memcpy(t->text + t->len, line, (size_t)n + 1);
	t->len += (size_t)n;
	t->placed_apart = t->placed_apart || info->target_x != 0 || info->target_y != 0;
}

/*
 * viz_options.unplaced: the same events give the same tree (paths, kinds,
 * depths, removals, last operations, processes) and counters, with no
 * node placed: every target is the root's.
 */
static void test_unplaced(void)
{
	struct viz_options placed_options = {.fade = 2}, unplaced_options = {.fade = 2, .unplaced = true};
	struct viz_scene *scenes[2] = {viz_scene_new(play_allocator(), &placed_options),
				       viz_scene_new(play_allocator(), &unplaced_options)};
	struct tree_text trees[2] = {{0}, {0}};
	char deep[128 * 2 + 16] = "";
	for (int i = 0; i < 130; i++)
		strcat(deep, "/d");
	for (int k = 0; k < 2; k++) {
		struct viz_scene *s = scenes[k];
		CHECK(s, "viz_scene_new failed");
		double t = first_workload_mkdirs(s, 0, 0.01);
		apply(s, t, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/a/x", NULL, "touch");
		apply(s, t + 0.1, VIZ_OP_RENAME, VIZ_KIND_DIR, 0, "/0/1", "/b/1", "mv");
		apply(s, t + 0.2, VIZ_OP_RENAME, VIZ_KIND_FILE, 0, "/a/x", "/a/y", "mv");
		apply(s, t + 0.3, VIZ_OP_RMDIR, VIZ_KIND_DIR, 0, "/b/1/2/a", NULL, "rmdir");
		apply(s, t + 0.4, VIZ_OP_READ, VIZ_KIND_FILE, 0, deep, NULL, "cat");
		apply(s, t + 0.5, VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, "/b/1/nothing", NULL, "ls");
		advance(s, t + 0.6);
		struct viz_frame f;
		CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
		CHECK(viz_scene_visit(s, describe_node, &trees[k]) == 0, "visit failed");
	}
	CHECK(trees[0].len > 0 && strcmp(trees[0].text, trees[1].text) == 0,
	      "an unplaced scene holds another tree:\n%s\n---\n%s", trees[0].text, trees[1].text);
	CHECK(trees[0].placed_apart && !trees[1].placed_apart, "the unplaced scene placed its nodes");
	CHECK(viz_scene_node_count(scenes[0]) == viz_scene_node_count(scenes[1]) &&
		      viz_scene_events(scenes[0]) == viz_scene_events(scenes[1]) &&
		      viz_scene_errno_events(scenes[0], 2) == viz_scene_errno_events(scenes[1], 2) &&
		      viz_scene_process_count(scenes[0]) == viz_scene_process_count(scenes[1]),
	      "the counters differ");
	for (int k = 0; k < 2; k++) {
		free(trees[k].text);
		viz_scene_free(scenes[k]);
	}
}

/* Adding nodes anywhere never changes an existing node's target. */
static void test_stable(void)
{
	struct viz_scene *s = new_scene();
	double t = first_workload_mkdirs(s, 0, 0.01);
	apply(s, t, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/0/1/file", NULL, "touch");
	advance(s, t + 10);
	struct collected before, after;
	collect_all(s, &before);
	apply(s, t + 10, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, "/0/1/h", NULL, "mkdir"); /* a sibling */
	apply(s, t + 10, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/0/1/other", NULL, "touch");
	for (int i = 0; i < 300; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/0/many/f%d", i);
		apply(s, t + 10, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "touch");
	}
	advance(s, t + 20);
	collect_all(s, &after);
	size_t j = 0;
	for (size_t i = 0; i < before.len; i++) {
		while (j < after.len && strcmp(after.paths[j], before.paths[i]) != 0)
			j++;
		CHECK(j < after.len, "%s disappeared", before.paths[i]);
		const struct viz_node_info *a = &before.nodes[i], *b = &after.nodes[j];
		CHECK(a->target_x == b->target_x && a->target_y == b->target_y &&
		      a->target_r == b->target_r && a->x == b->x && a->y == b->y,
		      "%s moved when siblings appeared", before.paths[i]);
	}
	check_no_overlap_in_model(&after);
	free_collected(&before);
	free_collected(&after);
	viz_scene_free(s);
}

struct frame_copy {
	size_t nodes, edges, labels;
	struct viz_frame_node node[64];
	struct viz_frame_edge edge[64];
	char text[32][64];
	char clock[64], elapsed[32], status[64];
};

static void copy_frame(const struct viz_frame *f, struct frame_copy *c)
{
	memset(c, 0, sizeof(*c));
	c->nodes = f->node_count;
	c->edges = f->edge_count;
	c->labels = f->label_count;
	memcpy(c->node, f->nodes, (f->node_count < 64 ? f->node_count : 64) * sizeof(*f->nodes));
	memcpy(c->edge, f->edges, (f->edge_count < 64 ? f->edge_count : 64) * sizeof(*f->edges));
	for (size_t i = 0; i < f->label_count && i < 32; i++)
		snprintf(c->text[i], sizeof(c->text[i]), "%.*s@%.3f,%.3f", (int)f->labels[i].len,
			 f->labels[i].text, f->labels[i].x, f->labels[i].y);
	snprintf(c->clock, sizeof(c->clock), "%s", f->clock);
	snprintf(c->elapsed, sizeof(c->elapsed), "%s", f->elapsed);
	snprintf(c->status, sizeof(c->status), "%s", f->status);
}

static void run_for_determinism(struct frame_copy frames[4])
{
	struct viz_scene *s = new_scene();
	double t = first_workload_mkdirs(s, 0, 0.03);
	apply(s, t, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/0/1/x.c", NULL, "cc");
	apply(s, t, VIZ_OP_WRITE, VIZ_KIND_FILE, 0, "/0/1/x.c", NULL, "cc");
	double times[4] = {0.5, t * 0.7, t + 0.3, t + 4};
	struct viz_frame f;
	for (int i = 0; i < 4; i++) {
		for (double u = times[i] - 1; u <= times[i]; u += 1.0 / 30)
			advance(s, u); /* the camera eases frame by frame */
		advance(s, times[i]);
		CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
		copy_frame(&f, &frames[i]);
	}
	viz_scene_free(s);
}

static void test_deterministic(void)
{
	static struct frame_copy a[4], b[4];
	run_for_determinism(a);
	run_for_determinism(b);
	for (int i = 0; i < 4; i++)
		CHECK(memcmp(&a[i], &b[i], sizeof(a[i])) == 0, "frame %d differs between runs", i);
	CHECK(a[2].nodes > 0 && a[2].edges > 0 && a[2].labels > 0, "empty frame");
}

/* ---- a random big tree ---- */

static uint64_t rng = 88172645463325252ULL;

static uint32_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (uint32_t)rng;
}

static void test_big_tree(void)
{
	size_t target = (size_t)(100000 * scale);
	if (target < 2000)
		target = 2000;
	struct viz_scene *s = new_scene();
	/* Directories, each made inside a random earlier one at most nine
	 * deep, like a source tree; the first few get thousands of files. */
	size_t dirs_cap = target / 8 + 16, dirs = 1;
	char **dir = calloc(dirs_cap, sizeof(*dir));
	int *depth = calloc(dirs_cap, sizeof(*depth));
	CHECK(dir && depth, "out of memory");
	dir[0] = strdup("");
	double t = 0;
	for (size_t n = 1; n < target; n++) {
		uint32_t r = next_random();
		size_t parent = r % 7 == 0 ? r % (dirs < 4 ? dirs : 4) : next_random() % dirs;
		char path[4096];
		bool is_dir = dirs < dirs_cap && r % 8 == 0 && depth[parent] < 9;
		snprintf(path, sizeof(path), "%s/%s%zu", dir[parent], is_dir ? "d" : "f", n);
		apply(s, t += 0.0001, is_dir ? VIZ_OP_MKDIR : VIZ_OP_CREATE,
		      is_dir ? VIZ_KIND_DIR : VIZ_KIND_FILE, 0, path, NULL, "gen");
		if (is_dir) {
			depth[dirs] = depth[parent] + 1;
			dir[dirs++] = strdup(path);
		}
	}
	advance(s, t + 5);
	struct collected all;
	collect_all(s, &all);
	CHECK(all.len == target, "%zu nodes, expected %zu", all.len, target);
	check_no_overlap_in_model(&all);
	free_collected(&all);
	/* Frames: the whole tree, then zoomed into the busiest directory. */
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	check_no_overlap_in_frame(&f);
	size_t overview = f.node_count;
	CHECK(overview > target * 9 / 10, "the overview of %zu nodes draws %zu", target, overview);
	float overview_r = 1e9f; /* the whole tree stays in view while its dots are this big */
	for (size_t i = 0; i < f.node_count; i++)
		overview_r = f.nodes[i].r < overview_r ? f.nodes[i].r : overview_r;
	for (int i = 0; i < 50; i++) {
		char path[64];
		snprintf(path, sizeof(path), "%s/f%zu", dir[dirs - 1], target + (size_t)i);
		apply(s, t + 5 + i * 0.01, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "gen");
	}
	for (double u = t + 5; u < t + 6.5; u += 1.0 / 30)
		advance(s, u);
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	check_no_overlap_in_frame(&f);
	size_t new_on_screen = 0;
	for (size_t i = 0; i < f.node_count; i++)
		new_on_screen += f.nodes[i].id >= target && f.nodes[i].r >= 2 &&
				 f.nodes[i].x >= 0 && f.nodes[i].x <= 1280 && f.nodes[i].y >= 0 &&
				 f.nodes[i].y <= 720;
	CHECK(new_on_screen == 50, "%zu of the 50 new files on screen at >= 2 px", new_on_screen);
	CHECK(overview_r >= 2 || f.node_count < overview, "not zoomed in: %zu nodes drawn",
	      f.node_count);
	printf("big tree: %zu nodes, %zu directories; %zu drawn in the overview, %zu zoomed in\n",
	       target, dirs, overview, f.node_count);
	for (size_t i = 0; i < dirs; i++)
		free(dir[i]);
	free(dir);
	free(depth);
	viz_scene_free(s);
}

/*
 * A tree too big for its picture (a million files at 1280x720, here 20,000
 * in 97 directories at 128x72): its dots come out smaller than a pixel's
 * fifth, and are drawn that big, not left out (the picture was empty).
 */
static void test_sea_of_dots(void)
{
	struct viz_scene *s = new_scene();
	viz_scene_set_viewport(s, 128, 72);
	double t = 0;
	char path[64];
	for (int i = 0; i < 20000; i++) {
		snprintf(path, sizeof(path), "/src/d%d/f%d.c", i % 97, i);
		apply(s, t += 0.0001, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "gen");
	}
	advance(s, t + 5);
	size_t nodes = viz_scene_node_count(s);
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	struct viz_node_info info;
	CHECK(find(s, "/src/d0/f0.c", &info), "no /src/d0/f0.c");
	float smallest = 1e9f;
	for (size_t i = 0; i < f.node_count; i++)
		smallest = f.nodes[i].r < smallest ? f.nodes[i].r : smallest;
	CHECK(f.node_count > nodes * 9 / 10, "%zu of %zu nodes drawn", f.node_count, nodes);
	CHECK(smallest >= 0.2f - 1e-6f, "a dot of %.3f px", smallest);
	printf("sea of dots: %zu of %zu nodes drawn at 128x72, the smallest %.2f px\n", f.node_count,
	       nodes, smallest);
	viz_scene_free(s);
}

static void test_caption(void)
{
	struct viz_scene *s = new_scene();
	struct viz_frame f;
	advance(s, 0);
	CHECK(viz_scene_frame(s, &f) == 0 && f.caption && !f.caption[0], "caption before any");
	viz_scene_set_caption(s, "configure");
	CHECK(viz_scene_frame(s, &f) == 0 && strcmp(f.caption, "configure") == 0, "caption: %s",
	      f.caption);
	/* Cut to fit, never inside a character (2-byte é). */
	char long_text[200] = "";
	for (int i = 0; i < 60; i++)
		strcat(long_text, "\xc3\xa9");
	viz_scene_set_caption(s, long_text);
	CHECK(viz_scene_frame(s, &f) == 0 && strlen(f.caption) == VIZ_CAPTION_MAX - 2 &&
	      strncmp(f.caption, long_text, strlen(f.caption)) == 0, "long caption: %zu bytes",
	      strlen(f.caption));
	viz_scene_set_caption(s, NULL);
	CHECK(viz_scene_frame(s, &f) == 0 && !f.caption[0], "caption not removed");
	viz_scene_free(s);
}

static bool legend_has(const struct viz_frame *f, const char *text)
{
	for (size_t i = 0; i < f->legend_count; i++)
		if (strcmp(f->legend[i].text, text) == 0)
			return true;
	return false;
}

/* How far C is from the legend's "other" violet: its saturation where its hue is violet's. */
static double violet_saturation(struct viz_color c)
{
	double mx = fmax(c.r, fmax(c.g, c.b)), mn = fmin(c.r, fmin(c.g, c.b));
	if (mx <= 0 || mx - mn < 1e-6)
		return 0;
	double d = mx - mn, h;
	if (mx == c.r)
		h = fmod((c.g - c.b) / d + 6, 6);
	else if (mx == c.g)
		h = (c.b - c.r) / d + 2;
	else
		h = (c.r - c.g) / d + 4;
	h *= 60;
	return h >= 250 && h <= 320 ? d / mx : 0;
}

/* A file's red flash fades back to its blue without passing through violet. */
static void test_fade_not_violet(void)
{
	struct viz_scene *s = new_scene();
	apply(s, 0, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/a", NULL, "touch");
	apply(s, 3, VIZ_OP_READ, VIZ_KIND_FILE, 0, "/a", NULL, "cat");
	double worst = 0, worst_t = 0;
	for (double t = 3; t <= 6; t += 0.02) {
		advance(s, t);
		struct viz_node_info info;
		CHECK(find(s, "/a", &info), "/a missing");
		double v = violet_saturation(info.color);
		if (v > worst) {
			worst = v;
			worst_t = t;
		}
	}
	printf("fade: most violet %.2f (saturation) at t=%.2f\n", worst, worst_t);
	CHECK(worst < 0.3, "the fading flash reads violet at t=%.2f (saturation %.2f)", worst_t, worst);
	viz_scene_free(s);
}

/* A paused replay: held, the scene keeps its flashes and its fading node
 * however long the pause, while the layout still eases into place; the
 * fades go on from where they stopped once it advances again. */
static void test_hold(void)
{
	struct viz_scene *s = new_scene();
	apply(s, 0, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, "/d", NULL, "mkdir");
	apply(s, 0.2, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/d/gone", NULL, "touch");
	apply(s, 0.4, VIZ_OP_UNLINK, VIZ_KIND_FILE, 0, "/d/gone", NULL, "rm");
	apply(s, 0.5, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/d/a", NULL, "touch");
	advance(s, 1);
	struct viz_node_info before, held, gone;
	CHECK(find(s, "/d/a", &before) && before.flash > 0.1, "/d/a does not flash before the pause");
	CHECK(before.x != before.target_x || before.y != before.target_y,
	      "/d/a is already in place 0.5 s after it appeared");
	CHECK(viz_scene_hold(s, 30) == 0, "hold failed");
	CHECK(find(s, "/d/a", &held), "/d/a gone while held");
	CHECK(held.flash == before.flash, "the flash faded while held: %.3f then %.3f", before.flash,
	      held.flash);
	CHECK(held.x == held.target_x && held.y == held.target_y, "/d/a did not ease into place while held");
	CHECK(find(s, "/d/gone", &gone) && gone.dying, "the removed node went while held");
	/* An event during a pause (a seek's snapshot, a late batch): it flashes
	 * fully and grows out of its parent as any new node does. */
	apply(s, 30.01, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/d/late", NULL, "touch");
	CHECK(viz_scene_hold(s, 30.02) == 0, "hold failed");
	struct viz_node_info late;
	CHECK(find(s, "/d/late", &late) && late.flash > 0.99, "a node made while held does not flash fully");
	CHECK(late.x != late.target_x && late.r < late.target_r,
	      "a node made while held is in place at once (%.2f/%.2f, r %.2f of %.2f)", late.x,
	      late.target_x, late.r, late.target_r);
	CHECK(late.touch_t > 30 && late.touch_t <= 30.02, "touch_t %.3f is not in the caller's time",
	      late.touch_t);
	struct viz_node_info dir;
	viz_scene_restore_touch(s, "/d", VIZ_OP_READ, -1, 30.02);
	CHECK(find(s, "/d", &dir) && dir.flash > 0.99 && dir.touch_t == 30.02,
	      "a touch restored at the caller's time does not flash now (%.2f at %.3f)", dir.flash,
	      dir.touch_t);
	advance(s, 30.5);
	struct viz_node_info after;
	CHECK(find(s, "/d/a", &after) && after.flash > 0 && after.flash < held.flash,
	      "after the pause the flash does not go on fading from where it was: %.3f then %.3f",
	      held.flash, after.flash);
	advance(s, 33);
	CHECK(find(s, "/d/a", &after) && after.flash == 0, "the flash does not end after the pause");
	CHECK(!find(s, "/d/gone", &gone), "the removed node stays after its fade");
	viz_scene_free(s);
}

/* A commit of the versioned store flashes the directory of its changes
 * white, is named in the caption while the flash lasts, and has a legend
 * entry only where there are commits. */
static void test_commit(void)
{
	struct viz_scene *s = new_scene();
	struct viz_frame f;
	apply(s, 0, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, "/docs", NULL, "mkdir");
	apply(s, 0.1, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, "/docs/a", NULL, "vim");
	advance(s, 0.5);
	CHECK(viz_scene_frame(s, &f) == 0 && !legend_has(&f, "committed"),
	      "a legend entry for commits without any");
	viz_scene_set_caption(s, "edit");
	apply(s, 3, VIZ_OP_COMMIT, VIZ_KIND_DIR, 0, "/docs",
	      "1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d", "tracefs");
	advance(s, 3.1);
	struct viz_node_info info;
	CHECK(find(s, "/docs", &info) && info.flash > 0.9, "the committed directory does not flash");
	CHECK(info.color.r > 0.95 && info.color.g > 0.95 && info.color.b > 0.95,
	      "a commit's flash is not white: %.2f %.2f %.2f", info.color.r, info.color.g,
	      info.color.b);
	CHECK(viz_scene_frame(s, &f) == 0 && strcmp(f.caption, "edit \xc2\xb7 commit 1a2b3c4") == 0,
	      "caption during a commit: %s", f.caption);
	CHECK(legend_has(&f, "committed"), "no legend entry for commits");
	advance(s, 5.5);
	CHECK(viz_scene_frame(s, &f) == 0 && strcmp(f.caption, "edit") == 0,
	      "caption after the commit's flash: %s", f.caption);
	viz_scene_free(s);
}

/* ---- what the picture shows: numbers (issue 12) ---- */

#define W 1280
#define H 720

/* The frame's node for each model id (NULL if not drawn), from a frame. */
static const struct viz_frame_node **index_frame(const struct viz_frame *f, size_t ids)
{
	const struct viz_frame_node **by_id = calloc(ids + 1, sizeof(*by_id));
	CHECK(by_id, "out of memory");
	for (size_t i = 0; i < f->node_count; i++)
		if (f->nodes[i].id < ids)
			by_id[f->nodes[i].id] = &f->nodes[i];
	return by_id;
}

static size_t max_id(const struct collected *all)
{
	size_t m = 0;
	for (size_t i = 0; i < all->len; i++)
		m = all->nodes[i].id > m ? all->nodes[i].id : m;
	return m + 1;
}

/* Drawn whole inside the picture, at a radius of 2 pixels or more. */
static bool shown(const struct viz_frame_node *n)
{
	return n && n->r >= 2 && n->x - n->r >= 0 && n->x + n->r <= W && n->y - n->r >= 0 &&
	       n->y + n->r <= H;
}

/* Every node of the tree shown at >= 2 px; returns the smallest radius. */
static double check_all_shown(struct viz_scene *s, const char *what)
{
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	struct collected all;
	collect_all(s, &all);
	const struct viz_frame_node **by_id = index_frame(&f, max_id(&all));
	double smallest = 1e9;
	size_t ok = 0;
	for (size_t i = 0; i < all.len; i++) {
		const struct viz_frame_node *n = by_id[all.nodes[i].id];
		ok += shown(n);
		if (n)
			smallest = fmin(smallest, n->r);
	}
	CHECK(ok == all.len, "%s: %zu of %zu nodes shown at >= 2 px (smallest %.2f px)", what, ok,
	      all.len, smallest);
	free(by_id);
	free_collected(&all);
	return smallest;
}

/* Advances frame by frame (FPS a second) from FROM to TO: the camera eases. */
static void play(struct viz_scene *s, double from, double to, double fps)
{
	for (double u = from; u < to; u += 1 / fps)
		advance(s, u);
	advance(s, to);
}

static double fps_for_tests(void)
{
	return scale < 1 ? 10 : 30; /* valgrind */
}

/* Just after the last mkdir, all 89 directories at >= 2 px, the chain a line outwards. */
static void test_first_workload_visible(void)
{
	struct viz_scene *s = new_scene();
	double t = first_workload_mkdirs(s, 0, 0.015); /* as fast as the real one */
	play(s, 0, t + 1.0 / 30, fps_for_tests());
	double smallest = check_all_shown(s, "first workload just after its last mkdir");
	char path[64] = "";
	double last = 0;
	for (int level = 0; level < 11; level++) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%d", level);
		struct viz_node_info info;
		CHECK(find(s, path, &info), "%s missing", path);
		double d = hypot(info.target_x, info.target_y);
		CHECK(d > last, "the chain turns back at %s (%.1f cells from the root after %.1f)",
		      path, d, last);
		last = d;
	}
	printf("first workload: 89 directories, smallest drawn %.1f px, chain %.0f cells long\n",
	       smallest, last);
	viz_scene_free(s);
}

/* The frames up to T (FPS a second from *NEXT on): nodes drawn past an edge of the picture. */
struct edges_watch {
	size_t frames, cut;
	char first[96]; /* the first cut: its time and where */
};

static void look_at_edges(struct viz_scene *s, double t, double fps, double *next,
			  struct edges_watch *w)
{
	for (; *next <= t; *next += 1 / fps) {
		advance(s, *next);
		struct viz_frame f;
		CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
		w->frames++;
		for (size_t i = 0; i < f.node_count; i++) {
			const struct viz_frame_node *n = &f.nodes[i];
			if (n->x - n->r >= 0 && n->x + n->r <= f.width && n->y - n->r >= 0 &&
			    n->y + n->r <= f.height)
				continue;
			if (!w->cut++)
				snprintf(w->first, sizeof(w->first), "t=%.2f node %u at %.0f,%.0f r %.1f",
					 *next, n->id, n->x, n->y, n->r);
		}
	}
}

/*
 * The first workload's mkdirs at the pace of a shell (25 ms an event),
 * looked at every frame at 999x684 (the page's canvas beside its panel):
 * the chain grows past the view's edge all the time, and its newest nodes,
 * still moving out of their parents, must never be drawn past an edge.
 */
static void test_growth_on_screen(void)
{
	struct viz_scene *s = new_scene();
	viz_scene_set_viewport(s, 999, 684);
	struct edges_watch w = {0};
	double fps = fps_for_tests(), t = 0, next = 0, step = 0.025;
	char path[256] = "";
	for (int level = 0; level < 11; level++) {
		snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%d", level);
		apply(s, t += step, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "mkdir");
		look_at_edges(s, t, fps, &next, &w);
		for (char leaf = 'a'; leaf <= 'g'; leaf++) {
			char child[300];
			snprintf(child, sizeof(child), "%s/%c", path, leaf);
			apply(s, t += step, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, child, NULL, "mkdir");
			look_at_edges(s, t, fps, &next, &w);
		}
	}
	look_at_edges(s, t + 3, fps, &next, &w);
	printf("growth: %zu frames, %zu nodes drawn past an edge%s%s\n", w.frames, w.cut,
	       w.cut ? ", the first " : "", w.first);
	CHECK(w.cut == 0, "the growing chain was drawn past the picture's edge %zu times (first: %s)",
	      w.cut, w.first);
	viz_scene_free(s);
}

/* 5,000-node trees at 1280x720, settled: every node at >= 2 px. */
static void test_5000_visible(void)
{
	struct viz_scene *s = new_scene();
	double t = 0;
	char path[256];
	for (int d = 0; d < 100; d++) { /* unpacked directory by directory */
		snprintf(path, sizeof(path), "/d%02d", d);
		apply(s, t += 0.0005, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "tar");
		for (int f = 0; f < 50; f++) {
			snprintf(path, sizeof(path), "/d%02d/file%02d.c", d, f);
			apply(s, t += 0.0005, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "tar");
		}
	}
	play(s, t, t + 5, fps_for_tests());
	double wide = check_all_shown(s, "100 directories of 50 files");
	viz_scene_free(s);

	/* deep and wide: a chain ten deep, eight directories of 60 files at each level */
	s = new_scene();
	t = 0;
	char chain[256] = "";
	size_t count = 1;
	for (int level = 0; level < 10; level++) {
		snprintf(chain + strlen(chain), sizeof(chain) - strlen(chain), "/level%d", level);
		apply(s, t += 0.0005, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, chain, NULL, "cp");
		count++;
		for (int d = 0; d < 8; d++)
			for (int f = 0; f < 60; f++) {
				snprintf(path, sizeof(path), "%s/sub%d/f%02d", chain, d, f);
				apply(s, t += 0.0005, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "cp");
				count += f == 0 ? 2 : 1;
			}
	}
	CHECK(viz_scene_node_count(s) == count, "%zu nodes, expected %zu", viz_scene_node_count(s),
	      count);
	play(s, t, t + 5, fps_for_tests());
	double deep = check_all_shown(s, "deep and wide");
	printf("5,000-node trees at 1280x720: smallest dot %.2f px (100 x 50), %.2f px (%zu nodes, "
	       "10 deep)\n", wide, deep, count);
	viz_scene_free(s);
}

/*
 * The hierarchy reads at overview: the files of a directory lie together,
 * an empty cell between them and any other directory's files or
 * subdirectories' files (a gutter round each directory's patch), however
 * the tree grew (unpacked directory by directory, then files added all
 * over it, as configure and make do).
 */
static void test_directories_are_patches(void)
{
	struct viz_scene *s = new_scene();
	double t = 0;
	char path[128];
	for (int d = 0; d < 30; d++) {
		snprintf(path, sizeof(path), "/wget/%s%d", d < 6 ? "" : d < 20 ? "lib/" : "tests/", d);
		apply(s, t += 0.001, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "tar");
		for (int f = 0; f < 5 + d * 7 % 60; f++) {
			char file[160];
			snprintf(file, sizeof(file), "%s/file%d.c", path, f);
			apply(s, t += 0.001, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, file, NULL, "tar");
		}
	}
	for (int f = 0; f < 40; f++) { /* configure's files at the top, make's objects everywhere */
		snprintf(path, sizeof(path), "/wget/conf%d.h", f);
		apply(s, t += 0.001, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "sh");
		snprintf(path, sizeof(path), "/wget/%s%d/file%d.o", f % 30 < 6 ? "" : f % 30 < 20 ? "lib/" : "tests/",
			 f % 30, f);
		apply(s, t += 0.001, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "as");
	}
	advance(s, t + 5);
	struct collected all;
	collect_all(s, &all);
	size_t files = 0, pairs = 0;
	for (size_t i = 0; i < all.len; i++) {
		const struct viz_node_info *a = &all.nodes[i];
		if (a->kind != VIZ_KIND_FILE)
			continue;
		files++;
		for (size_t j = 0; j < i; j++) {
			const struct viz_node_info *b = &all.nodes[j];
			if (b->kind != VIZ_KIND_FILE || b->parent_id == a->parent_id)
				continue;
			double gap = fmax(fabs(a->target_x - b->target_x), fabs(a->target_y - b->target_y));
			pairs++;
			CHECK(gap >= 2, "%s and %s, files of different directories, are neighbours",
			      all.paths[i], all.paths[j]);
		}
	}
	printf("patches: %zu files, an empty cell between all %zu pairs of different directories\n",
	       files, pairs);
	free_collected(&all);
	viz_scene_free(s);
}

/* ---- a workload like the wget build, frame by frame ---- */

static bool rects_meet(struct viz_rect a, struct viz_rect b)
{
	return a.x0 < b.x1 && b.x0 < a.x1 && a.y0 < b.y1 && b.y0 < a.y1;
}

static size_t utf8_length(const char *text, size_t len)
{
	size_t chars = 0;
	for (size_t i = 0; i < len; i++)
		chars += ((unsigned char)text[i] & 0xc0) != 0x80;
	return chars;
}

/* Label boxes meet neither each other nor the overlay. */
static void check_labels(const struct viz_frame *f, double t)
{
	struct viz_rect box[64];
	const struct viz_rect overlay[4] = {f->clock_box, f->process_box, f->legend_box,
					    f->event_box};
	CHECK(f->label_count <= 64, "%zu labels", f->label_count);
	for (size_t i = 0; i < f->label_count; i++) {
		const struct viz_frame_label *l = &f->labels[i];
		box[i] = l->box;
		CHECK(box[i].x0 >= 0 && box[i].x1 <= W && box[i].y0 >= 0 && box[i].y1 <= H,
		      "t=%.2f: label '%.*s' runs off the picture: %.2f %.2f %.2f %.2f", t, (int)l->len, l->text, box[i].x0, box[i].y0, box[i].x1, box[i].y1);
		for (int o = 0; o < 4; o++)
			CHECK(!rects_meet(box[i], overlay[o]), "t=%.2f: label '%.*s' over overlay box %d",
			      t, (int)l->len, l->text, o);
		for (size_t j = 0; j < i; j++)
			CHECK(!rects_meet(box[i], box[j]), "t=%.2f: labels '%.*s' and '%.*s' overlap", t,
			      (int)l->len, l->text, (int)f->labels[j].len, f->labels[j].text);
	}
	/* the clock's box and the legend's stay clear of each other too */
	CHECK(!rects_meet(f->clock_box, f->legend_box), "clock over legend");
	CHECK(utf8_length(f->last_event, strlen(f->last_event)) * 0.6 * 0.9 * f->font_size <=
	      W - 2.6 * 0.9 * f->font_size, "t=%.2f: the last event runs off: %s", t, f->last_event);
}

struct watch {
	size_t moments, flashing, on_screen, worst_moments, few_views, labels;
	double worst; /* the lowest share of flashing nodes on screen at a moment */
	double worst_t;
};

/* One moment: flashing nodes on screen, at least 3 nodes in view, labels. */
static void look(struct viz_scene *s, struct watch *w, double t)
{
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	check_labels(&f, t);
	w->labels += f.label_count;
	struct collected all;
	collect_all(s, &all);
	const struct viz_frame_node **by_id = index_frame(&f, max_id(&all));
	size_t flashing = 0, on = 0, in_view = 0;
	for (size_t i = 0; i < all.len; i++) {
		const struct viz_node_info *n = &all.nodes[i];
		const struct viz_frame_node *d = by_id[n->id];
		in_view += d && d->x >= 0 && d->x <= W && d->y >= 0 && d->y <= H && d->r >= 2;
		if (n->flash > 0.05 && n->color.a > 0.05) {
			flashing++;
			on += shown(d);
		}
	}
	size_t want = all.len < 3 ? all.len : 3;
	CHECK(in_view >= want, "t=%.2f: %zu nodes in view of %zu", t, in_view, all.len);
	if (flashing) {
		double share = (double)on / (double)flashing;
		w->moments++;
		w->flashing += flashing;
		w->on_screen += on;
		if (share < w->worst) {
			w->worst = share;
			w->worst_t = t;
		}
	}
	free(by_id);
	free_collected(&all);
}

/*
 * Unpack (a tree of 2,400 files in 48 directories, two levels), configure
 * (top-level files and conftest.c made and removed again and again, failing
 * lookups under /usr/include), make -j2 (two directories at a time, sources
 * read and objects written), distclean, rm -rf: at every sampled frame at
 * least 90% of the flashing nodes on screen at >= 2 px, no view with fewer
 * than 3 nodes, labels clear of each other and of the overlay.
 */
static void test_workload_on_screen(void)
{
	struct viz_scene *s = new_scene();
	struct watch w = {.worst = 1};
	double fps = fps_for_tests(), t = 0, next_look = 0;
	char path[256];
#define AT(dt) (t += (dt))
#define LOOK()                                              \
	do {                                                \
		while (next_look <= t) {                    \
			advance(s, next_look);              \
			look(s, &w, next_look);             \
			next_look += 1 / fps;               \
		}                                           \
	} while (0)
	/* unpack: 2.4 s */
	for (int d = 0; d < 48; d++) {
		snprintf(path, sizeof(path), "/wget/%s%d%s", d < 8 ? "" : "lib/", d,
			 d % 5 == 4 ? "/sub" : "");
		apply(s, AT(0.001), VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "tar");
		for (int f = 0; f < 50; f++) {
			char file[300];
			snprintf(file, sizeof(file), "%s/source_file_%02d.c", path, f);
			apply(s, AT(0.001), VIZ_OP_CREATE, VIZ_KIND_FILE, 0, file, NULL, "tar");
			apply(s, t, VIZ_OP_WRITE, VIZ_KIND_FILE, 0, file, NULL, "tar");
			LOOK();
		}
	}
	/* configure: 20 s */
	for (int i = 0; i < 2000; i++) {
		snprintf(path, sizeof(path), "/wget/conftest%d.c", i % 3);
		apply(s, AT(0.004), VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "cc1");
		apply(s, AT(0.002), VIZ_OP_WRITE, VIZ_KIND_FILE, 0, "/wget/config.log", NULL, "sh");
		snprintf(path, sizeof(path), "/usr/include/header%d.h", i % 40);
		apply(s, AT(0.002), VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, path, NULL, "cc1");
		snprintf(path, sizeof(path), "/wget/conftest%d.c", i % 3);
		apply(s, AT(0.002), VIZ_OP_UNLINK, VIZ_KIND_FILE, 0, path, NULL, "rm");
		LOOK();
	}
	/* make -j2: two directories at a time */
	for (int d = 0; d < 48; d += 2) {
		for (int f = 0; f < 50; f++) {
			for (int j = 0; j < 2; j++) {
				snprintf(path, sizeof(path), "/wget/%s%d%s/source_file_%02d.c",
					 d + j < 8 ? "" : "lib/", d + j, (d + j) % 5 == 4 ? "/sub" : "", f);
				apply(s, AT(0.003), VIZ_OP_READ, VIZ_KIND_FILE, 0, path, NULL, "cc1");
				path[strlen(path) - 1] = 'o';
				apply(s, AT(0.003), VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "as");
			}
			LOOK();
		}
	}
	/* distclean, then rm -rf */
	for (int d = 0; d < 48; d++)
		for (int f = 0; f < 50; f++) {
			snprintf(path, sizeof(path), "/wget/%s%d%s/source_file_%02d.o",
				 d < 8 ? "" : "lib/", d, d % 5 == 4 ? "/sub" : "", f);
			apply(s, AT(0.002), VIZ_OP_UNLINK, VIZ_KIND_FILE, 0, path, NULL, "rm");
			LOOK();
		}
	for (int d = 47; d >= 0; d--) {
		for (int f = 0; f < 50; f++) {
			snprintf(path, sizeof(path), "/wget/%s%d%s/source_file_%02d.c",
				 d < 8 ? "" : "lib/", d, d % 5 == 4 ? "/sub" : "", f);
			apply(s, AT(0.0005), VIZ_OP_UNLINK, VIZ_KIND_FILE, 0, path, NULL, "rm");
			LOOK();
		}
		snprintf(path, sizeof(path), "/wget/%s%d", d < 8 ? "" : "lib/", d);
		apply(s, AT(0.0005), VIZ_OP_RMDIR, VIZ_KIND_DIR, 0, path, NULL, "rm");
	}
	AT(4); /* the end: what is left must be on screen too */
	LOOK();
#undef AT
#undef LOOK
	double share = (double)w.on_screen / (double)w.flashing;
	printf("workload: %zu moments with flashing nodes; %.1f%% of flashing nodes on screen at "
	       ">= 2 px overall, %.1f%% at the worst moment (t=%.2f); %.1f labels a frame\n",
	       w.moments, 100 * share, 100 * w.worst, w.worst_t,
	       (double)w.labels / (double)(w.moments ? w.moments : 1));
	CHECK(w.worst >= 0.9, "at t=%.2f only %.1f%% of the flashing nodes were on screen",
	      w.worst_t, 100 * w.worst);
	viz_scene_free(s);
}

/* A long last event is cut at its start to fit; a label near the edge is cut or moved. */
static void test_text_fits(void)
{
	struct viz_scene *s = new_scene();
	viz_scene_set_viewport(s, 640, 360);
	char path[1024] = "";
	for (int i = 0; i < 30; i++)
		strcat(path, "/a_rather_long_name");
	apply(s, 0, VIZ_OP_GETATTR, VIZ_KIND_FILE, 0, path, NULL, "stat");
	advance(s, 0.5);
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	CHECK(strncmp(f.last_event, "getattr \xe2\x80\xa6", 11) == 0 &&
	      strcmp(f.last_event + strlen(f.last_event) - 19, "/a_rather_long_name") == 0,
	      "last event not cut at its start: %s", f.last_event);
	double width = 0.6 * 0.9 * f.font_size * (double)utf8_length(f.last_event, strlen(f.last_event));
	CHECK(width <= 640 - 2.6 * 0.9 * f.font_size, "last event %.0f px wide in 640", width);
	viz_scene_free(s);
}

static void test_prescan(void)
{
	struct viz_scene *s = new_scene();
	struct viz_event events[] = {
		{.op = VIZ_OP_GETATTR, .kind = VIZ_KIND_FILE, .path = "/src/old.c"},
		{.op = VIZ_OP_CREATE, .kind = VIZ_KIND_FILE, .path = "/src/new.o"},
		{.op = VIZ_OP_MKDIR, .kind = VIZ_KIND_DIR, .path = "/build"},
		{.op = VIZ_OP_CREATE, .kind = VIZ_KIND_FILE, .path = "/build/out"},
		{.op = VIZ_OP_LOOKUP, .kind = VIZ_KIND_NONE, .result = -2, .path = "/etc/x/y"},
	};
	for (size_t i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		CHECK(viz_scene_prescan(s, &events[i]) == 0, "prescan failed");
	CHECK(viz_scene_prescan_done(s) == 0, "prescan_done failed");
	advance(s, 0);
	struct viz_node_info info;
	CHECK(find(s, "/src/old.c", &info) && info.color.a == 1, "/src/old.c not there from the start");
	CHECK(find(s, "/etc/x", &info), "/etc/x (searched) not there from the start");
	CHECK(!find(s, "/src/new.o", &info) && !find(s, "/build", &info),
	      "nodes the trace creates are there before it creates them");
	CHECK(viz_scene_node_count(s) == 5, "%zu nodes", viz_scene_node_count(s));
	viz_scene_free(s);
}

/* An allocator that fails after a budget: the model must fail cleanly. */
struct budget {
	long left;
};

static void *budget_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void)old_size;
	struct budget *b = ctx;
	if (new_size == 0) {
		free(ptr);
		return NULL;
	}
	if (b->left-- <= 0)
		return NULL;
	return realloc(ptr, new_size);
}

static void test_out_of_memory(void)
{
	for (long budget = 0; budget < 60; budget++) {
		struct budget b = {budget};
		struct viz_allocator allocator = {budget_realloc, &b};
		struct viz_scene *s = viz_scene_new(&allocator, NULL);
		if (!s)
			continue;
		bool failed = false;
		for (int i = 0; i < 400 && !failed; i++) {
			char path[64];
			snprintf(path, sizeof(path), "/d%d/f%d", i % 7, i);
			struct viz_event e = {.t = i * 0.01, .op = VIZ_OP_CREATE, .kind = VIZ_KIND_FILE,
					      .path = path, .comm = i % 2 ? "a" : "b"};
			failed = viz_scene_apply(s, &e) != 0;
		}
		struct viz_frame f;
		viz_scene_advance(s, 10, 0);
		viz_scene_frame(s, &f);
		viz_scene_free(s); /* no leak, no crash: valgrind checks */
	}
}

static void test_math(void)
{
	for (double x = -50; x <= 50; x += 0.0137) {
		CHECK(fabs(vm_sin(x) - sin(x)) < 1e-13, "sin(%g)", x);
		CHECK(fabs(vm_cos(x) - cos(x)) < 1e-13, "cos(%g)", x);
		CHECK(fabs(vm_exp(x / 5) - exp(x / 5)) < 1e-13 * exp(x / 5), "exp(%g)", x / 5);
	}
	for (double x = 1e-12; x < 1e12; x *= 1.37)
		CHECK(fabs(vm_log(x) - log(x)) < 1e-13 * fmax(1, fabs(log(x))), "log(%g)", x);
}

/* ---- stamping small nodes and their halos into pixels ---- */

static uint32_t pixel_at(const struct viz_stamp *st, int x, int y)
{
	return st->pixels[(size_t)y * (size_t)st->stride + (size_t)x];
}

/*
 * A frame of small dots, some flashing: every small node is stamped (the
 * drawer's paths are left with the big ones), a dot's centre has its
 * colour, a halo lies round a flashing dot and nowhere near a quiet one,
 * two overlapping halos of one colour are no stronger than one, and only
 * the changed box is touched.
 */
/* ---- labels: next to their own node, clear of one another, wide enough for their text ---- */

/*
 * DejaVu Sans's advance widths in em of some names, as cairo measures
 * them: wider than "0.6 em a character" ("mnt" is 2.0 em).
 */
static const struct {
	const char *text;
	double em;
} measured[] = {
	{"mnt", 2.000},	   {"mmmm", 3.896},   {"WWW", 2.967},	{"Makefile", 4.193},
	{"main.c", 3.367}, {"main.o", 3.429}, {"wwwww", 4.090}, {"MMMMM", 4.315},
	{"a", 0.613},	   {"g", 0.635},      {"0", 0.636},	{"10", 1.272},
};

static double measured_em(const char *text, size_t len)
{
	for (size_t i = 0; i < sizeof(measured) / sizeof(measured[0]); i++)
		if (strlen(measured[i].text) == len && memcmp(measured[i].text, text, len) == 0)
			return measured[i].em;
	return -1;
}

/*
 * Every label: its box holds its text (at DejaVu Sans's widths, when
 * known) with the plate's 0.2 size either side, meets no other label's box
 * (fading ones included), and its start is nearer its own node than any
 * other node drawn (a label names the node it is beside) or a leader
 * joins it to its node (counted in *LEADERS). Returns the number of labels.
 */
static size_t check_labels_attached(const struct viz_frame *f, double t, const char *what,
				    size_t *leaders)
{
	for (size_t i = 0; i < f->label_count; i++) {
		const struct viz_frame_label *l = &f->labels[i];
		const struct viz_rect b = l->box;
		double em = l->ellipsis ? -1 : measured_em(l->text, l->len);
		CHECK(b.y0 <= l->y - 0.6f * l->size + 0.01f && b.y1 >= l->y + 0.6f * l->size - 0.01f &&
		      b.x0 <= l->x - 0.2f * l->size + 0.01f,
		      "%s t=%.2f: label '%.*s' box does not hold its plate", what, t, (int)l->len,
		      l->text);
		CHECK(em < 0 || b.x1 >= l->x + (em + 0.2) * l->size - 0.01,
		      "%s t=%.2f: label '%.*s' is %.1f px wide, its box %.1f px", what, t, (int)l->len,
		      l->text, em * l->size, b.x1 - l->x);
		for (size_t j = 0; j < i; j++)
			CHECK(!rects_meet(b, f->labels[j].box),
			      "%s t=%.2f: labels '%.*s' (opacity %.2f) and '%.*s' (opacity %.2f) overlap",
			      what, t, (int)l->len, l->text, l->color.a, (int)f->labels[j].len,
			      f->labels[j].text, f->labels[j].color.a);
		const struct viz_frame_node *own = NULL;
		for (size_t k = 0; k < f->node_count && !own; k++)
			if (f->nodes[k].id == l->id)
				own = &f->nodes[k];
		CHECK(own, "%s t=%.2f: label '%.*s' names node %u, not drawn", what, t, (int)l->len,
		      l->text, l->id);
		/* where the text starts: its left end right of the node, its right end left of it */
		double ax = l->x >= own->x ? l->x : b.x1 - 0.2 * l->size;
		double near = hypot(ax - own->x, l->y - own->y) - own->r;
		if (l->leader) { /* a line from the node's edge to the label's box says whose it is */
			double edge = hypot(l->leader_x - own->x, l->leader_y - own->y);
			CHECK(fabs(edge - own->r) < 1 && l->leader_y == l->y,
			      "%s t=%.2f: label '%.*s''s leader starts %.1f px from its node's centre, "
			      "radius %.1f", what, t, (int)l->len, l->text, edge, own->r);
			(*leaders)++;
			continue;
		}
		for (size_t k = 0; k < f->node_count; k++) {
			const struct viz_frame_node *n = &f->nodes[k];
			if (n == own || n->color.a < 0.3f)
				continue;
			double d = hypot(ax - n->x, l->y - n->y) - n->r;
			CHECK(d > near, "%s t=%.2f: label '%.*s' of node %u starts %.1f px from node %u, "
			      "%.1f px from its own", what, t, (int)l->len, l->text, l->id, d, n->id, near);
		}
	}
	return f->label_count;
}

/*
 * The first workload's chain grown as fast as the video shows it (a mkdir
 * every few frames, faster than a node eases to its place): at every frame
 * the chain reads as a chain — each level drawn clear of the one above it
 * once it is a third of a second old, the levels in order along it — and
 * the labels are attached to their nodes, never stacked.
 */
static void test_chain_grows_as_chain(void)
{
	struct viz_scene *s = new_scene();
	const double step = 0.02, fps = fps_for_tests();
	double t = 0, next = 0, born[11];
	char chain[11][48];
	size_t labels = 0, frames = 0, leaders = 0;
	double closest = 1e9;
	for (int level = 0; level < 11; level++) {
		snprintf(chain[level], sizeof(chain[level]), "%.40s/%d", level ? chain[level - 1] : "",
			 level);
		for (int leaf = -1; leaf < 7; leaf++) {
			char path[128];
			if (leaf < 0)
				snprintf(path, sizeof(path), "%.47s", chain[level]);
			else
				snprintf(path, sizeof(path), "%.47s/%c", chain[level], 'a' + leaf);
			apply(s, t, VIZ_OP_LOOKUP, VIZ_KIND_NONE, -2, path, NULL, "mkdir");
			apply(s, t += step, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "mkdir");
			if (leaf < 0)
				born[level] = t;
			for (; next <= t + step; next += 1 / fps) {
				advance(s, next);
				struct viz_frame f;
				CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
				labels += check_labels_attached(&f, next, "chain", &leaders);
				frames++;
				for (int k = 1; k <= level; k++) {
					if (next - born[k] < 0.33)
						continue;
					struct viz_node_info a, b;
					CHECK(find(s, chain[k - 1], &a) && find(s, chain[k], &b), "chain lost");
					const struct viz_frame_node *da = NULL, *db = NULL;
					for (size_t i = 0; i < f.node_count; i++) {
						da = f.nodes[i].id == a.id ? &f.nodes[i] : da;
						db = f.nodes[i].id == b.id ? &f.nodes[i] : db;
					}
					CHECK(da && db, "t=%.2f: level %d or %d of the chain not drawn", next,
					      k - 1, k);
					double d = hypot(da->x - db->x, da->y - db->y) - da->r - db->r;
					closest = fmin(closest, d);
					CHECK(d >= 2, "t=%.2f: levels %d and %d of the chain drawn %.1f px apart "
					      "(%.1f s after level %d appeared)", next, k - 1, k, d,
					      next - born[k], k);
				}
			}
		}
	}
	printf("chain: %zu frames while it grows, levels at least %.1f px apart, %.1f labels a "
	       "frame, each nearest its node (%zu with a leader)\n", frames, closest,
	       (double)labels / (double)frames, leaders);
	viz_scene_free(s);
}

/*
 * A handful of nodes, as a small trace gives (the camera close in, dots
 * large and neighbours a few pixels apart): each label is nearer its own
 * node than any other; wide names get boxes as wide as their text; the
 * fading names keep clear of the live ones.
 */
static void test_tiny_tree_labels(void)
{
	static const char *const paths[] = {"/mnt", "/mnt/Makefile", "/mnt/main.c", "/mnt/main.o",
					    "/mnt/mmmm", "/mnt/WWW", "/mnt/wwwww", "/mnt/MMMMM"};
	const size_t count = sizeof(paths) / sizeof(paths[0]);
	struct viz_scene *s = new_scene();
	double t = 0;
	apply(s, t, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, paths[0], NULL, "mkdir");
	for (size_t i = 1; i < count; i++)
		apply(s, t += 0.05, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, paths[i], NULL, "make");
	size_t labels = 0, frames = 0, leaders = 0;
	/* reads one after another: names of every age, from just touched to fading out */
	for (int round = 0; round < 4; round++)
		for (size_t i = 0; i < count; i++) {
			apply(s, t += 0.23, VIZ_OP_READ, i ? VIZ_KIND_FILE : VIZ_KIND_DIR, 0, paths[i],
			      NULL, round % 2 ? "cc1" : "make");
			for (double u = t; u < t + 0.23; u += 1.0 / 30) {
				advance(s, u);
				struct viz_frame f;
				CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
				labels += check_labels_attached(&f, u, "tiny tree", &leaders);
				frames++;
			}
		}
	printf("tiny tree: %.1f labels a frame, each nearest its node (%zu with a leader), none "
	       "over another\n", (double)labels / (double)frames, leaders);
	CHECK(labels >= 2 * frames, "only %zu labels in %zu frames", labels, frames);
	viz_scene_free(s);
}

/*
 * Names are drawn over the dots of a packed tree (a quiet directory's over
 * its files): each gets a plate in the background colour as opaque as it
 * is, and names too faint to read are not drawn.
 */
static void test_label_plates(void)
{
	struct viz_scene *s = new_scene();
	char path[64];
	for (int d = 0; d < 6; d++) {
		snprintf(path, sizeof(path), "/dir%d", d);
		apply(s, 0, VIZ_OP_MKDIR, VIZ_KIND_DIR, 0, path, NULL, "mkdir");
		for (int i = 0; i < 120; i++) {
			snprintf(path, sizeof(path), "/dir%d/file%d", d, i);
			apply(s, 0, VIZ_OP_CREATE, VIZ_KIND_FILE, 0, path, NULL, "tar");
		}
	}
	advance(s, 30);
	apply(s, 30, VIZ_OP_READ, VIZ_KIND_FILE, 0, "/dir3/file7", NULL, "cat");
	apply(s, 30, VIZ_OP_READ, VIZ_KIND_FILE, 0, "/dir4/file9", NULL, "cat");
	advance(s, 31.7); /* the first names fading out */
	apply(s, 31.7, VIZ_OP_READ, VIZ_KIND_FILE, 0, "/dir1/file1", NULL, "cat");
	advance(s, 31.8);
	struct viz_frame f;
	CHECK(viz_scene_frame(s, &f) == 0, "frame failed");
	size_t over_dots = 0;
	for (size_t i = 0; i < f.label_count; i++) {
		const struct viz_frame_label *l = &f.labels[i];
		double width = 0.6 * l->size * (double)(utf8_length(l->text, l->len) + l->ellipsis);
		bool meets = false;
		for (size_t k = 0; k < f.node_count && !meets; k++) {
			const struct viz_frame_node *n = &f.nodes[k];
			double nx = fmax(l->x, fmin(n->x, l->x + width));
			double ny = fmax(l->y - 0.6 * l->size, fmin(n->y, l->y + 0.6 * l->size));
			meets = n->kind == VIZ_KIND_FILE && hypot(n->x - nx, n->y - ny) < n->r;
		}
		CHECK(l->color.a >= 0.35f, "label %.*s drawn at opacity %.2f", (int)l->len, l->text,
		      l->color.a);
		CHECK(l->plate >= 0.75f * l->color.a, "label %.*s at %.2f has plate %.2f",
		      (int)l->len, l->text, l->color.a, l->plate);
		over_dots += meets;
	}
	CHECK(over_dots > 0 && f.label_count > 2, "%zu of %zu labels over file dots", over_dots,
	      f.label_count);
	viz_scene_free(s);
}

#define SW 200
#define SH 100
static void test_stamp(void)
{
	static uint32_t pixels[SW * SH], glow[SW * SH];
	struct viz_color blue = {0.25f, 0.5f, 1, 1}, red = {1, 0.2f, 0.2f, 1};
	struct viz_frame_node nodes[] = {
		{.x = 20.5f, .y = 20.5f, .r = 2, .color = blue},		      /* quiet */
		{.x = 100.5f, .y = 50.5f, .r = 2, .color = red, .glow = 1, .glow_color = red},
		{.x = 150.5f, .y = 50.5f, .r = 2, .color = red, .glow = 1, .glow_color = red},
		{.x = 153.5f, .y = 50.5f, .r = 2, .color = red, .glow = 1, .glow_color = red},
		{.x = 60.5f, .y = 50.5f, .r = 30, .color = blue, .glow = 1, .glow_color = red}, /* big */
	};
	struct viz_frame f = {.width = SW, .height = SH, .nodes = nodes, .node_count = 5};
	struct viz_stamp st = {.pixels = pixels, .width = SW, .height = SH, .stride = SW, .glow = glow,
			       .scale = 1};
	CHECK(!viz_stamped(&st, &nodes[4]) && viz_stamped(&st, &nodes[0]),
	      "a %.0f px node is stamped, or a %.0f px one is not", nodes[4].r, nodes[0].r);
	size_t stamped = viz_stamp_frame(&st, &f);
	CHECK(stamped == 4, "%zu nodes stamped, not 4", stamped);
	CHECK(pixel_at(&st, 20, 20) == 0xff4080ff, "a dot's centre is %08x, not its colour",
	      pixel_at(&st, 20, 20));
	CHECK(pixel_at(&st, 20, 26) == 0, "a quiet dot has a halo: %08x", pixel_at(&st, 20, 26));
	uint32_t halo = pixel_at(&st, 100, 54), pair = pixel_at(&st, 151, 54);
	CHECK(halo >> 24 > 0 && (halo >> 16 & 255) > (halo & 255),
	      "no red halo 4 px from a flashing dot: %08x", halo);
	CHECK(pair == halo, "two overlapping halos add up: %08x where one is %08x", pair, halo);
	CHECK(pixel_at(&st, 60, 50) == 0, "a big node was stamped");
	CHECK(st.box_x0 <= 18 && st.box_x1 >= 23 && st.box_x1 <= 175 && st.box_y0 >= 0 &&
		      st.box_y1 <= SH,
	      "changed box %d,%d-%d,%d", st.box_x0, st.box_y0, st.box_x1, st.box_y1);
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		CHECK(glow[i] == 0, "the halo buffer is not left clear at %zu", i);
	for (int y = 0; y < SH; y++)
		for (int x = 0; x < SW; x++)
			CHECK(pixel_at(&st, x, y) == 0 ||
				      (x >= st.box_x0 && x < st.box_x1 && y >= st.box_y0 &&
				       y < st.box_y1),
			      "pixel %d,%d changed outside the box", x, y);
}

/*
 * A halo and a dot at odd positions in a zoomed, shifted view: every pixel
 * of the halo has the opacity of the rings whose discs hold its centre
 * (the rows are laid span by span, the rings defined per pixel), and the
 * dot's pixels add up to its area.
 */
static void test_stamp_shapes(void)
{
	static uint32_t pixels[SW * SH], glow[SW * SH];
	struct viz_color red = {1, 0.2f, 0.2f, 1}, blue = {0.25f, 0.5f, 1, 1};
	struct viz_frame_node nodes[] = {
		{.x = 20.3f, .y = 30.7f, .r = 1.3f, .color = red, .glow = 0.8f, .glow_color = red},
		{.x = 90.6f, .y = 22.45f, .r = 2.2f, .color = blue},
	};
	struct viz_frame f = {.width = SW, .height = 720, .nodes = nodes, .node_count = 2};
	struct viz_stamp st = {.pixels = pixels, .width = SW, .height = SH, .stride = SW, .glow = glow,
			       .scale = 1.7, .ox = 3.1, .oy = -2.2};
	viz_stamp_frame(&st, &f);
	const struct viz_frame_node *n = &nodes[0];
	double cx = st.ox + n->x * st.scale, cy = st.oy + n->y * st.scale, ui = f.height / 720.0;
	double reach[VIZ_GLOW_RINGS], alpha[VIZ_GLOW_RINGS];
	for (int ring = 0; ring < VIZ_GLOW_RINGS; ring++) {
		viz_glow_ring(n, ring, ui, &reach[ring], &alpha[ring]);
		reach[ring] *= st.scale;
	}
	size_t halo_pixels = 0, wrong = 0;
	for (int y = 0; y < SH; y++) {
		for (int x = 0; x < 70; x++) {
			double d = hypot(x + 0.5 - cx, y + 0.5 - cy);
			if (d < n->r * st.scale + 1)
				continue; /* the dot's own pixels */
			double clear = 1;
			for (int ring = 0; ring < VIZ_GLOW_RINGS; ring++)
				if (d * d < reach[ring] * reach[ring])
					clear *= 1 - alpha[ring];
			uint32_t a = (uint32_t)((1 - clear) * 255 + 0.5), want = 0;
			if (a) {
				uint32_t r = (uint32_t)(255.0 * a / 255 + 0.5);
				uint32_t gb = (uint32_t)(51.0 * a / 255 + 0.5);
				want = a << 24 | r << 16 | gb << 8 | gb;
				halo_pixels++;
			}
			if (pixel_at(&st, x, y) != want && wrong++ < 3)
				CHECK(false, "halo pixel %d,%d is %08x, not %08x", x, y, pixel_at(&st, x, y),
				      want);
		}
	}
	CHECK(wrong == 0 && halo_pixels > 100, "%zu of %zu halo pixels wrong", wrong, halo_pixels);
	/* the dot: alone in its corner of the picture */
	double cover = 0, rx = st.ox + nodes[1].x * st.scale, ry = st.oy + nodes[1].y * st.scale;
	for (int y = 0; y < SH; y++)
		for (int x = 120; x < SW; x++)
			cover += (pixel_at(&st, x, y) >> 24) / 255.0;
	double area = M_PI * pow(nodes[1].r * st.scale, 2);
	CHECK(fabs(cover - area) < 0.02 * area, "a dot of area %.2f covers %.2f pixels", area, cover);
	CHECK(pixel_at(&st, (int)rx, (int)ry) == 0xff4080ff, "the dot's centre is %08x",
	      pixel_at(&st, (int)rx, (int)ry));
}

/*
 * A crowd of flashing dots, as a big tree at overview has them: halos of
 * every strength and two colours over one another, in a zoomed, shifted
 * view, some near the edges. Stamped with the scratch table (which skips
 * halos hidden under the strongest), every pixel and the changed box are
 * what they are without it; the strongest came out somewhere, so there
 * was something to skip.
 */
#define CROWD 3000

/* CROWD small dots spread over the picture (and past its edges), most flashing; how many at full strength. */
static int make_crowd(struct viz_frame_node *nodes)
{
	struct viz_color red = {1, 0.2f, 0.2f, 1}, orange = {1, 0.6f, 0.1f, 1}, blue = {0.25f, 0.5f, 1, 1};
	uint64_t seed = 7;
	int strongest = 0;
	for (int i = 0; i < CROWD; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(seed >> 33);
		float glow_strength = r % 3 ? 1.0f : (float)(r % 97) / 96;
		nodes[i] = (struct viz_frame_node){
			.x = (float)(r % 1237) / 1237 * 130 - 8, .y = (float)(r % 4391) / 4391 * 70 - 6,
			.r = 0.3f + (float)(r % 13) / 10, .color = blue, .glow = glow_strength,
			.glow_color = r % 5 ? red : orange, .id = (uint32_t)i};
		nodes[i].color.a = r % 7 ? 1 : 0.5f;
		strongest += viz_glow_level(&nodes[i]) == VIZ_GLOW_STEPS;
	}
	return strongest;
}

static void test_stamp_crowd(void)
{
	static uint32_t plain[SW * SH], fast[SW * SH], glow[SW * SH], cover[(SW + 1) * (SH + 1)];
	static struct viz_frame_node nodes[CROWD];
	int strongest = make_crowd(nodes);
	struct viz_frame f = {.width = SW, .height = 720, .nodes = nodes, .node_count = CROWD};
	struct viz_stamp st = {.pixels = plain, .width = SW, .height = SH, .stride = SW, .glow = glow,
			       .scale = 1.5, .ox = 3.1, .oy = 2.2};
	viz_stamp_frame(&st, &f);
	struct viz_stamp quick = st;
	quick.pixels = fast;
	quick.cover = cover;
	viz_stamp_frame(&quick, &f);
	CHECK(strongest > 100, "only %d dots flash at full strength", strongest);
	size_t differ = 0;
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		if (plain[i] != fast[i] && differ++ < 3)
			CHECK(false, "pixel %zu is %08x with the table, %08x without", i, fast[i],
			      plain[i]);
	CHECK(differ == 0, "%zu pixels differ", differ);
	CHECK(quick.box_x0 == st.box_x0 && quick.box_y0 == st.box_y0 &&
		      quick.box_x1 == st.box_x1 && quick.box_y1 == st.box_y1,
	      "changed box %d,%d-%d,%d with the table, %d,%d-%d,%d without", quick.box_x0,
	      quick.box_y0, quick.box_x1, quick.box_y1, st.box_x0, st.box_y0, st.box_x1, st.box_y1);
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		CHECK(glow[i] == 0, "the halo buffer is not left clear at %zu", i);
}

/*
 * Thin edges stamped: the pixels on the line take its colour, those off it
 * stay, a steep and a shallow edge alike; where two cross, the stronger
 * shows (not their sum); a wide edge is left to the drawer.
 */
static void test_stamp_edges(void)
{
	static uint32_t pixels[SW * SH], glow[SW * SH];
	struct viz_color grey = {0.5f, 0.5f, 0.5f, 0.5f};
	struct viz_frame_edge edges[] = {
		{.x1 = 10, .y1 = 20.5f, .x2 = 110, .y2 = 20.5f, .width = 1, .color = grey},  /* across */
		{.x1 = 60.5f, .y1 = 5, .x2 = 60.5f, .y2 = 60, .width = 1, .color = grey},   /* down, crossing */
		{.x1 = 130, .y1 = 10, .x2 = 170, .y2 = 70, .width = 1.5f, .color = grey},   /* steep */
		{.x1 = 10, .y1 = 80, .x2 = 100, .y2 = 80, .width = 6, .color = grey},	    /* wide */
	};
	struct viz_frame f = {.width = SW, .height = SH, .edges = edges, .edge_count = 4};
	struct viz_stamp st = {.pixels = pixels, .width = SW, .height = SH, .stride = SW, .glow = glow,
			       .scale = 1};
	CHECK(viz_stamped_edge(&st, &edges[0]) && !viz_stamped_edge(&st, &edges[3]),
	      "which edges are stamped");
	size_t stamped = viz_stamp_edges(&st, &f);
	CHECK(stamped == 3, "%zu edges stamped, not 3", stamped);
	uint32_t on = pixel_at(&st, 30, 20);
	CHECK(on >> 24 >= 120 && on >> 24 <= 135 && (on & 255) >= 60 && (on & 255) <= 68,
	      "a pixel on a half-opaque grey edge is %08x", on);
	CHECK(pixel_at(&st, 30, 23) == 0 && pixel_at(&st, 30, 17) == 0,
	      "an edge 1 px wide covers 3 px away: %08x %08x", pixel_at(&st, 30, 23),
	      pixel_at(&st, 30, 17));
	CHECK(pixel_at(&st, 60, 20) == on, "crossing edges add up: %08x where one is %08x",
	      pixel_at(&st, 60, 20), on);
	CHECK(pixel_at(&st, 60, 40) == on, "a vertical edge is %08x, not %08x", pixel_at(&st, 60, 40), on);
	/* the steep one: at y = 40.5 it is at x = 150.33 */
	CHECK(pixel_at(&st, 150, 40) >> 24 > 100 && pixel_at(&st, 145, 40) == 0 &&
		      pixel_at(&st, 155, 40) == 0,
	      "the steep edge: %08x %08x %08x", pixel_at(&st, 145, 40), pixel_at(&st, 150, 40),
	      pixel_at(&st, 155, 40));
	CHECK(pixel_at(&st, 50, 80) == 0, "a wide edge was stamped");
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		CHECK(glow[i] == 0, "the buffer is not left clear at %zu", i);
}

/*
 * Stamps of disjoint rows (render/ runs them on two threads), each with
 * its own scratch table and list of halos, make the picture one stamp of
 * all the rows (without a list) makes, wherever the rows are split; each
 * leaves the other rows alone.
 */
static void test_stamp_rows(void)
{
	enum { EDGES = 60 };
	static uint32_t whole[SW * SH], split[SW * SH], glow[SW * SH];
	static uint32_t cover[(SW + 1) * (SH + 1)], cover2[(SW + 1) * (SH + 1)];
	static uint32_t halos[CROWD], halos2[CROWD];
	static struct viz_frame_node nodes[CROWD];
	struct viz_frame_edge edges[EDGES];
	make_crowd(nodes);
	uint64_t seed = 11;
	for (int i = 0; i < EDGES; i++) { /* shallow and steep, some off the picture */
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		uint32_t r = (uint32_t)(seed >> 33);
		edges[i] = (struct viz_frame_edge){
			.x1 = (float)(r % 211) - 5, .y1 = (float)(r % 113) - 6,
			.x2 = (float)(r % 197) - 3, .y2 = (float)(r % 107) - 4,
			.width = 0.5f + (float)(r % 4) / 4,
			.color = {0.6f, 0.7f, 0.8f, 0.2f + (float)(r % 5) / 8}};
	}
	struct viz_frame f = {.width = SW, .height = 720, .nodes = nodes, .node_count = CROWD,
			      .edges = edges, .edge_count = EDGES};
	struct viz_stamp st = {.pixels = whole, .width = SW, .height = SH, .stride = SW, .glow = glow,
			       .cover = cover, .scale = 1.5, .ox = 3.1, .oy = 2.2};
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		whole[i] = 0xff0b0f17;
	viz_stamp_edges(&st, &f);
	viz_stamp_frame(&st, &f);
	const int splits[] = {1, 23, 50, 51, SH - 1, SH};
	for (size_t k = 0; k < sizeof(splits) / sizeof(splits[0]); k++) {
		int at = splits[k];
		for (size_t i = 0; i < (size_t)SW * SH; i++)
			split[i] = 0xff0b0f17;
		struct viz_stamp above = st, below = st;
		above.pixels = below.pixels = split;
		above.row_to = at;
		below.row_from = at;
		below.row_to = SH;
		below.cover = cover2;
		/* listing the halos that reach each band's rows changes nothing either */
		above.halos = halos;
		below.halos = halos2;
		above.halo_capacity = below.halo_capacity = CROWD;
		viz_stamp_edges(&above, &f);
		size_t untouched = 0;
		for (size_t i = (size_t)at * SW; i < (size_t)SW * SH; i++)
			untouched += split[i] == 0xff0b0f17 && glow[i] == 0;
		CHECK(untouched == (size_t)(SH - at) * SW,
		      "stamping the edges of rows 0-%d changed %zu pixels below them", at,
		      (size_t)(SH - at) * SW - untouched);
		viz_stamp_edges(&below, &f);
		viz_stamp_frame(&below, &f);
		viz_stamp_frame(&above, &f);
		size_t differ = 0;
		for (size_t i = 0; i < (size_t)SW * SH; i++)
			if (split[i] != whole[i] && differ++ < 3)
				CHECK(false, "split at row %d: pixel %zu is %08x, %08x in one stamp", at,
				      i, split[i], whole[i]);
		CHECK(differ == 0, "split at row %d: %zu pixels differ", at, differ);
		CHECK(above.box_y1 <= at && (below.box_y0 >= at || below.box_x0 >= below.box_x1),
		      "split at row %d: the boxes changed are rows %d-%d and %d-%d", at,
		      above.box_y0, above.box_y1, below.box_y0, below.box_y1);
	}
	for (size_t i = 0; i < (size_t)SW * SH; i++)
		CHECK(glow[i] == 0, "the halo buffer is not left clear at %zu", i);
}

int main(void)
{
	if (!scale_from_env())
		return 1;
	test_math();
	test_fade_not_violet();
	test_hold();
	test_ancestors_appear();
	test_deep_paths();
	test_first_workload();
	test_rename();
	test_frame_follows_tree();
	test_unplaced();
	test_stable();
	test_deterministic();
	test_prescan();
	test_caption();
	test_commit();
	test_out_of_memory();
	test_first_workload_visible();
	test_growth_on_screen();
	test_5000_visible();
	test_directories_are_patches();
	test_text_fits();
	test_workload_on_screen();
	test_big_tree();
	test_sea_of_dots();
	test_stamp();
	test_stamp_shapes();
	test_stamp_crowd();
	test_stamp_edges();
	test_stamp_rows();
	test_label_plates();
	test_chain_grows_as_chain();
	test_tiny_tree_labels();
	printf("test_viz: ok\n");
	return 0;
}
