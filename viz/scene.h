/*
 * scene.h — private to viz/: the data of the scene model shared by its
 * files (tree.c: nodes and names; layout.c: where nodes go;
 * scene.c: what events do; camera.c; frame.c: what to draw; names.c:
 * operation names, classes and colours; text.c: number formatting).
 */
#ifndef TRACEFS_VIZ_SCENE_H
#define TRACEFS_VIZ_SCENE_H

#include "viz/viz.h"

#define VZ_NONE UINT32_MAX

/*
 * Deepest level the model builds: events on paths deeper than this land on
 * the node at this depth. Work per event and per frame is proportional to
 * depth (ancestors are walked to count descendants, to grow the boxes the
 * frames cull by, to mark what the camera frames); a trace can hold paths
 * of a million components (gnulib's confdir3 probe goes as deep as
 * PATH_MAX allows), which would make each event cost a million steps.
 */
#define VZ_MAX_DEPTH 128

enum vz_state { VZ_FREE, VZ_ALIVE, VZ_DYING };

/* What a flash means, for its colour when colouring by kind. */
enum vz_touch { VZ_TOUCH_ACCESS, VZ_TOUCH_WRITE, VZ_TOUCH_DELETE, VZ_TOUCH_COMMIT };

/* Classes of operations, for colouring by operation. */
enum vz_class {
	VZ_CLASS_LOOKUP, /* lookup, getattr, access, statfs, readlink, getxattr, listxattr */
	VZ_CLASS_OPEN,	 /* open, opendir, release, releasedir, flush, flock, lseek */
	VZ_CLASS_READ,	 /* read, readdir */
	VZ_CLASS_WRITE,	 /* write, setattr, fallocate, fsync, setxattr, ... */
	VZ_CLASS_CREATE, /* mkdir, mknod, create, symlink, link */
	VZ_CLASS_DELETE, /* unlink, rmdir */
	VZ_CLASS_RENAME,
	VZ_CLASS_COMMIT, /* the versioned store committed (on the directory of its changes) */
	VZ_CLASS_COUNT
};

/* What --prescan learnt about a node. */
enum vz_prescan { VZ_PRESCAN_NONE, VZ_PRESCAN_EXISTED, VZ_PRESCAN_BORN };

struct vz_node {
	/* the tree; VZ_NONE where there is none */
	uint32_t parent, first_child, last_child, next_sibling, prev_sibling;
	uint32_t hash_next;	  /* next node in the same (parent, name) bucket */
	uint32_t name;		  /* index into scene->names */
	uint32_t generation;	  /* bumped when the id is reused */
	uint32_t descendants;	  /* nodes below it */
	uint32_t children;
	uint32_t above_active;	  /* == scene->camera.stamp: a node below was touched lately */
	uint32_t active_at;	  /* its entry in scene->active, + 1; 0: none */
	uint16_t depth;
	uint8_t kind, state, prescan;
	uint8_t touch, touch_class, touch_op, box_dirty;
	uint16_t process; /* who touched it last, index into scene->processes */
	uint32_t instance; /* the last process instance known to touch it (viz_event's), 0: none */
	/* layout (layout.c): its cell, and how its children find theirs */
	int32_t cx, cy;
	uint32_t leaf_ring;	/* leaves: the first ring around it that may have a free cell */
	uint32_t leaf_pos;	/* ...and where in it (past BEST_RINGS, see layout.c) */
	uint32_t dirs_placed;	/* directories placed under it: the next one's direction */
	int32_t box[4];		/* x0, y0, x1, y1: the cells of its subtree */
	double x, y;	 /* target position: the cell's centre */
	/* easing from (from_x, from_y) since move_t */
	double from_x, from_y, move_t;
	double born_t, touch_t, death_t;
	double subtree_touch_t; /* latest touch of it or any descendant */
};

struct vz_name {
	uint32_t offset, len; /* in scene->chars, followed by a NUL */
	uint32_t next;	      /* same hash bucket */
};

/* A node as it was when referred to: stale once the node is reused. */
struct vz_ref {
	uint32_t id, generation;
	double t;
};

#define VZ_NO_SLOT 0xff

struct vz_process {
	uint32_t name;
	double last_t;
	uint64_t events, errors;
	uint64_t family_events; /* a head's: its family's events, which earn its colour */
	uint16_t head;	      /* its family's head (see viz_scene_join_family()), itself if none */
	uint8_t shade;	      /* 0: the head's colour; K: the K-th shade of it (stats.c) */
	uint8_t slot; /* its colour, or VZ_NO_SLOT: see stats.c */
};

struct vz_box {
	double x0, y0, x1, y1;
	bool empty;
};

struct vz_camera {
	double x, y, half_height; /* world units */
	double t;		  /* when it was last moved */
	bool placed;
	struct vz_box held;	  /* the last active part, kept a while after it goes quiet */
	double held_t;
	uint32_t stamp; /* marks nodes per update, see vz_node.above_active */
};

#define VZ_ACTIVE_CAPACITY 4096 /* recently touched nodes the camera looks at */
#define VZ_MAX_PROCESSES_SHOWN 6
#define VZ_MAX_LEGEND 12
#define VZ_MAX_PROCESSES 4096	/* more distinct names share the last colour slot */
#define VZ_LABEL_CANDIDATES 160
#define VZ_MAX_LABELS 48
#define VZ_LAST_EVENT 160

/* A node in depth-first order, and the entry after its subtree. */
struct vz_walk {
	uint32_t id, end;
};

/* A cell of the layout's grid and the node in it. */
struct vz_cell {
	int32_t x, y;
	uint32_t id;
};

/* A directory's dot on screen, which labels keep off. */
struct vz_disc {
	float x, y, r;
	uint32_t id;
};

struct vz_label_candidate {
	double priority;
	float x, y, r, alpha;
	uint32_t id;
	bool flashing;
};

struct viz_scene {
	struct viz_allocator allocator;
	double fade;
	enum viz_color_by color_by;
	bool prescan_done;
	bool unplaced; /* see viz_options.unplaced: layout.c takes no cells */

	struct vz_node *nodes;
	uint32_t node_capacity, node_end, free_nodes; /* free list through next_sibling */
	uint32_t tree_count;			      /* nodes in the tree */
	uint32_t tree_changes;			      /* bumped at every link and unlink */
	uint32_t *buckets;			      /* (parent, name) -> node */
	uint32_t bucket_count;

	char *chars;
	size_t chars_len, chars_capacity;
	struct vz_name *names;
	uint32_t name_count, name_capacity;
	uint32_t *name_buckets;
	uint32_t name_bucket_count;

	struct vz_ref *dying; /* in order of death time */
	size_t dying_head, dying_len, dying_capacity;

	struct vz_ref active[VZ_ACTIVE_CAPACITY];
	uint32_t active_next, active_len;

	struct vz_process *processes;
	uint32_t process_count, process_capacity;
	uint32_t *process_index; /* open addressing: name + 1, 0 empty */
	uint32_t process_index_size;

	double now;	   /* activity time: what flashes, fades and labels age by */
	double held;	   /* seconds of motion without activity (viz_scene_hold);
			      the camera and the layout ease by now + held */
	int64_t clock_ns, origin_ns;
	bool have_origin;
	uint64_t events;
	uint64_t op_events[VIZ_OP_COUNT];
	uint64_t errno_events[VIZ_ERRNO_SLOTS];
	uint16_t slot_owner[VIZ_PROCESS_COLORS]; /* process + 1, 0: free (stats.c) */
	char last_event[VZ_LAST_EVENT];
	char caption[VIZ_CAPTION_MAX];
	/* The versioned store's last commit, added to the caption while its
	 * flash lasts: "commit 1a2b3c4" from commit_t. */
	char commit[24];
	double commit_t;
	char caption_shown[VIZ_CAPTION_MAX + 32];

	struct vz_cell *cells; /* open addressing by (x, y); id VZ_NONE: empty */
	uint32_t cell_capacity, cell_count;
	bool boxes_dirty; /* some node's box may be too big: see vz_layout_refresh */
	struct vz_camera camera;
	int width, height;

	/* The tree in depth-first order, as frames walk it (frame.c): rebuilt
	 * when tree_changes says the tree changed since walk_changes. */
	struct vz_walk *walk;
	size_t walk_len, walk_capacity;
	uint32_t *walk_stack; /* while building: the entries of the path walked */
	size_t walk_stack_capacity;
	uint32_t walk_changes;
	bool walk_built;

	/* frame output, reused */
	struct viz_frame_edge *edges;
	size_t edge_len, edge_capacity;
	struct viz_frame_node *frame_nodes;
	size_t frame_node_len, frame_node_capacity;
	struct vz_label_candidate candidates[VZ_LABEL_CANDIDATES]; /* a min-heap on priority */
	size_t candidate_len;
	struct viz_frame_label labels[VZ_MAX_LABELS];
	struct vz_disc *discs;
	size_t disc_len, disc_capacity;
	/* the frame's nodes by square of the screen, for labels' nearest-node rule */
	uint32_t *bucket_start, *bucket_items;
	size_t bucket_start_capacity, bucket_item_capacity;
	uint32_t bucket_columns, bucket_rows;
	float bucket_max_r;
	char last_event_shown[VZ_LAST_EVENT + 4]; /* with a leading ellipsis */
	char *path_buffer;
	size_t path_capacity;
	char clock[48], elapsed[32], status[80];
	struct viz_frame_process shown[VZ_MAX_PROCESSES_SHOWN];
	struct viz_legend_entry legend[VZ_MAX_LEGEND];
	uint8_t legend_slot[VZ_MAX_LEGEND]; /* colour slot of each process entry, while sorting */
};

/* ---- memory (scene.c) ---- */
void *vz_alloc(struct viz_scene *s, size_t size);
void vz_release(struct viz_scene *s, void *ptr, size_t size);
/* Grows *ARRAY (of ELEMENT-byte items, *CAPACITY of them) to hold NEED. 0 or -1. */
int vz_reserve(struct viz_scene *s, void **array, size_t *capacity, size_t element, size_t need);
void vz_copy(void *dst, const void *src, size_t n);
void vz_zero(void *dst, size_t n);

/* ---- tree.c ---- */
int vz_tree_init(struct viz_scene *s, const char *root_label);
void vz_tree_free(struct viz_scene *s);
/* The time the camera and the layout ease by: activity time plus the time held. */
static inline double vz_motion_now(const struct viz_scene *s)
{
	return s->now + s->held;
}

static inline struct vz_node *vz_node(const struct viz_scene *s, uint32_t id)
{
	return &s->nodes[id];
}
/* The child of PARENT called NAME (LEN bytes), or VZ_NONE. */
uint32_t vz_child(const struct viz_scene *s, uint32_t parent, const char *name, size_t len);
/* A new child (its layout not yet set), or VZ_NONE when out of memory. */
uint32_t vz_add_child(struct viz_scene *s, uint32_t parent, const char *name, size_t len,
		      enum viz_kind kind);
/* Moves ID under PARENT as NAME; the layout is the caller's. -1 out of memory. */
int vz_move_node(struct viz_scene *s, uint32_t id, uint32_t parent, const char *name,
		 size_t len);
/* Takes ID and its subtree out of the tree and frees them. */
void vz_drop_subtree(struct viz_scene *s, uint32_t id);
const char *vz_name_text(const struct viz_scene *s, uint32_t name, uint32_t *len);
/* The index of NAME in the name table, added if new; VZ_NONE when out of memory. */
uint32_t vz_intern(struct viz_scene *s, const char *name, size_t len);

/* ---- layout.c ---- */
/* Places the root (after vz_tree_init). -1 out of memory. */
int vz_layout_init(struct viz_scene *s);
/* Gives a new node its cell; it grows out of its parent from time T. -1 out of memory. */
int vz_place_new(struct viz_scene *s, uint32_t id, double t);
/* After a move or a change of kind: new cells for the subtree, eased there from T. */
int vz_replace(struct viz_scene *s, uint32_t id, double t);
/* Gives back the cells of ID's subtree, before the tree frees it. */
void vz_unplace_subtree(struct viz_scene *s, uint32_t id);
/* Recomputes the boxes that removals left too big. */
void vz_layout_refresh(struct viz_scene *s);
/* Position now (eased), and the dot's radius now, in world units. */
void vz_current(const struct viz_scene *s, const struct vz_node *n, double *x, double *y);
double vz_radius(const struct viz_scene *s, const struct vz_node *n);
/* The dot's radius once grown. */
double vz_full_radius(const struct vz_node *n);
void vz_layout_free(struct viz_scene *s);

/* ---- scene.c ---- */
#define VZ_NEVER (-1e30) /* a time long before anything */
/*
 * Colour and opacity of N now, had it last been touched at TOUCH_T; *FLASH
 * receives how strongly it flashes (0..1) and *GLOW (if not NULL) the
 * flash's own colour.
 */
struct viz_color vz_node_color(const struct viz_scene *s, const struct vz_node *n,
			       double touch_t, double *flash, struct viz_color *glow);

/* ---- stats.c ---- */
/* Counts event E of PROCESS (an index, or 0xffff), and gives the busiest processes colours. */
void vz_stats_count(struct viz_scene *s, const struct viz_event *e, uint16_t process);
/* The colour of PROCESS's nodes when colouring by process. */
struct viz_color vz_process_shade(const struct viz_scene *s, uint16_t process);

/* ---- camera.c ---- */
/* Eases the camera towards the active part of the tree, up to the scene's time. */
void vz_camera_update(struct viz_scene *s);

/* ---- frame.c ---- */
int vz_frame_build(struct viz_scene *s, struct viz_frame *frame);

/* ---- names.c ---- */
enum vz_class vz_class_of(enum viz_op op);
const char *vz_class_name(enum vz_class c);
struct viz_color vz_kind_color(enum viz_kind kind);
struct viz_color vz_touch_color(enum vz_touch touch);
struct viz_color vz_class_color(enum vz_class c);
struct viz_color vz_process_color(uint32_t index);
struct viz_color vz_background(void);
struct viz_color vz_mix(struct viz_color a, struct viz_color b, double t);
struct viz_color vz_fade_mix(struct viz_color rest, struct viz_color hot, double t);

/* ---- text.c ---- */
/* Appends to BUF (SIZE bytes, NUL-terminated, truncating); returns the new length. */
size_t vz_append(char *buf, size_t size, size_t len, const char *text);
size_t vz_append_uint(char *buf, size_t size, size_t len, uint64_t value, int min_digits,
		      bool thousands);
void vz_format_clock(char *buf, size_t size, int64_t ns);
void vz_format_elapsed(char *buf, size_t size, int64_t ns);
size_t vz_strlen(const char *s);
/* The width of LEN bytes of UTF-8 TEXT in DejaVu Sans, in em (other characters: 1 em). */
double vz_text_em(const char *text, size_t len);

#endif
