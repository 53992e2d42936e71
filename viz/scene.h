/*
 * scene.h — private to viz/: the data of the scene model shared by its
 * files (tree.c: nodes, names and slots; layout.c: where nodes go;
 * scene.c: what events do; camera.c; frame.c: what to draw; names.c:
 * operation names, classes and colours; text.c: number formatting).
 */
#ifndef TRACEFS_VIZ_SCENE_H
#define TRACEFS_VIZ_SCENE_H

#include "viz/viz.h"

#define VZ_NONE UINT32_MAX

/* Children of a directory go in two zones of its disc: see layout.c. */
enum vz_region { VZ_REGION_FILE, VZ_REGION_DIR, VZ_REGION_COUNT };

enum vz_state { VZ_FREE, VZ_ALIVE, VZ_DYING };

/* What a flash means, for its colour when colouring by kind. */
enum vz_touch { VZ_TOUCH_ACCESS, VZ_TOUCH_WRITE, VZ_TOUCH_DELETE };

/* Classes of operations, for colouring by operation. */
enum vz_class {
	VZ_CLASS_LOOKUP, /* lookup, getattr, access, statfs, readlink, getxattr, listxattr */
	VZ_CLASS_OPEN,	 /* open, opendir, release, releasedir, flush, flock, lseek */
	VZ_CLASS_READ,	 /* read, readdir */
	VZ_CLASS_WRITE,	 /* write, setattr, fallocate, fsync, setxattr, ... */
	VZ_CLASS_CREATE, /* mkdir, mknod, create, symlink, link */
	VZ_CLASS_DELETE, /* unlink, rmdir */
	VZ_CLASS_RENAME,
	VZ_CLASS_COUNT
};

/* What --prescan learnt about a node. */
enum vz_prescan { VZ_PRESCAN_NONE, VZ_PRESCAN_EXISTED, VZ_PRESCAN_BORN };

struct vz_node {
	/* the tree; VZ_NONE where there is none */
	uint32_t parent, first_child, last_child, next_sibling, prev_sibling;
	uint32_t hash_next;	  /* next node in the same (parent, name) bucket */
	uint32_t name;		  /* index into scene->names */
	uint32_t generation;	  /* bumped when the slot is reused */
	uint32_t descendants;	  /* nodes below it */
	uint32_t above_active;	  /* == scene->camera.stamp: a node below was touched lately */
	uint32_t weight_stamp;	  /* == scene->camera.stamp: camera_weight is current */
	float camera_weight;	  /* recent touches that make the camera frame this disc */
	/* its place among its parent's children, and its own children's */
	uint32_t slot;
	uint32_t next_slot[VZ_REGION_COUNT]; /* slots handed out so far */
	uint32_t used_slots[VZ_REGION_COUNT];
	uint32_t free_slots[VZ_REGION_COUNT]; /* list in scene->slot_pool */
	uint8_t kind, region, state, prescan;
	uint8_t touch, touch_class, touch_op;
	uint16_t process; /* who touched it last, index into scene->processes */
	/* layout target: the disc its subtree lives in */
	double x, y, territory;
	double ux, uy; /* unit vector from the parent: its children fan out that way */
	/* easing from (from_x, from_y, from_territory) since move_t */
	double from_x, from_y, from_territory, move_t;
	double born_t, touch_t, death_t;
	double subtree_touch_t; /* latest touch of it or any descendant */
};

struct vz_name {
	uint32_t offset, len; /* in scene->chars, followed by a NUL */
	uint32_t next;	      /* same hash bucket */
};

struct vz_slot_entry {
	uint32_t slot, next;
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
	uint8_t slot; /* its colour, or VZ_NO_SLOT: see stats.c */
};

/* One circle of equal slots around a node; see layout.c. */
struct vz_ring {
	double distance, size, phase; /* in units of the parent's territory */
	uint32_t count, first;	      /* slots in it, index of its first */
};

#define VZ_MAX_RINGS 96
struct vz_rings {
	struct vz_ring ring[VZ_MAX_RINGS];
	uint32_t count;
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

#define VZ_ACTIVE_CAPACITY 2048 /* recent touches the camera looks at */
#define VZ_MAX_PROCESSES_SHOWN 6
#define VZ_MAX_LEGEND 12
#define VZ_MAX_PROCESSES 4096	/* more distinct names share the last colour slot */
#define VZ_LABEL_CANDIDATES 160
#define VZ_MAX_LABELS 48

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

	struct vz_node *nodes;
	uint32_t node_capacity, node_end, free_nodes; /* free list through next_sibling */
	uint32_t tree_count;			      /* nodes in the tree */
	uint32_t *buckets;			      /* (parent, name) -> node */
	uint32_t bucket_count;

	char *chars;
	size_t chars_len, chars_capacity;
	struct vz_name *names;
	uint32_t name_count, name_capacity;
	uint32_t *name_buckets;
	uint32_t name_bucket_count;

	struct vz_slot_entry *slot_pool;
	uint32_t pool_len, pool_capacity, pool_free;

	struct vz_ref *dying; /* in order of death time */
	size_t dying_head, dying_len, dying_capacity;

	struct vz_ref active[VZ_ACTIVE_CAPACITY];
	uint32_t active_next, active_len;

	struct vz_process *processes;
	uint32_t process_count, process_capacity;
	uint32_t *process_index; /* open addressing: name + 1, 0 empty */
	uint32_t process_index_size;

	double now;
	int64_t clock_ns, origin_ns;
	bool have_origin;
	uint64_t events;
	uint64_t op_events[VIZ_OP_COUNT];
	uint64_t errno_events[VIZ_ERRNO_SLOTS];
	uint16_t slot_owner[VIZ_PROCESS_COLORS]; /* process + 1, 0: free (stats.c) */
	char last_event[160];

	struct vz_rings rings[VZ_REGION_COUNT];
	struct vz_camera camera;
	int width, height;

	/* frame output, reused */
	struct viz_frame_edge *edges;
	size_t edge_len, edge_capacity;
	struct viz_frame_node *frame_nodes;
	size_t frame_node_len, frame_node_capacity;
	struct vz_label_candidate candidates[VZ_LABEL_CANDIDATES]; /* a min-heap on priority */
	size_t candidate_len;
	struct viz_frame_label labels[VZ_MAX_LABELS];
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
/* A slot in REGION of PARENT (the lowest never used, or one freed), or VZ_NONE. */
uint32_t vz_take_slot(struct viz_scene *s, uint32_t parent, enum vz_region region);
void vz_give_slot(struct viz_scene *s, uint32_t parent, enum vz_region region, uint32_t slot);
const char *vz_name_text(const struct viz_scene *s, uint32_t name, uint32_t *len);
/* The index of NAME in the name table, added if new; VZ_NONE when out of memory. */
uint32_t vz_intern(struct viz_scene *s, const char *name, size_t len);

/* ---- layout.c ---- */
void vz_layout_init(struct viz_scene *s);
enum vz_region vz_region_of(enum viz_kind kind);
/* Gives a new node its slot and place; it grows out of its parent from time T. */
int vz_place_new(struct viz_scene *s, uint32_t id, double t);
/* After a move or a change of kind: a new slot, and the subtree eases there from T. */
int vz_replace(struct viz_scene *s, uint32_t id, double t);
/* Position and territory now (eased); the dot radius. */
void vz_current(const struct viz_scene *s, const struct vz_node *n, double *x, double *y,
		double *territory);
double vz_dot_ratio(const struct vz_node *n);
/* Radius, as a fraction of territory, that N's children (or only its leaves) use so far. */
double vz_used_extent(const struct viz_scene *s, const struct vz_node *n, bool files_only);

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

/* ---- text.c ---- */
/* Appends to BUF (SIZE bytes, NUL-terminated, truncating); returns the new length. */
size_t vz_append(char *buf, size_t size, size_t len, const char *text);
size_t vz_append_uint(char *buf, size_t size, size_t len, uint64_t value, int min_digits,
		      bool thousands);
void vz_format_clock(char *buf, size_t size, int64_t ns);
void vz_format_elapsed(char *buf, size_t size, int64_t ns);
size_t vz_strlen(const char *s);

#endif
