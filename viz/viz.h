/*
 * viz.h — the whole interface of viz/: the scene model that turns a stream
 * of file-system events into a picture (a growing tree of nodes that flash
 * when accessed and fade out when removed), and the map from trace time to
 * video time.
 *
 * The model (every C file in viz/) is plain freestanding C: no libc,
 * no I/O, its own maths, memory through an allocator the caller passes in,
 * so the same files compile natively and with `clang --target=wasm32
 * -ffreestanding` for the browser (which, like any freestanding C, must
 * supply memcpy and memset). It is deterministic: the same events, times
 * and viewport give the same frames, bit for bit.
 *
 * Use: viz_scene_new(); optionally viz_scene_prescan() every event and
 * viz_scene_prescan_done(); then, in time order, viz_scene_apply() each
 * event and viz_scene_advance() to each frame's time, and viz_scene_frame()
 * gives what to draw in screen coordinates.
 */
#ifndef TRACEFS_VIZ_H
#define TRACEFS_VIZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/names.h"

/*
 * Memory for the model. realloc(ctx, NULL, 0, n) allocates, realloc(ctx, p,
 * old, 0) frees (and returns NULL), otherwise it resizes; NULL on failure.
 * Sizes are passed so that an arena or a wasm bump allocator needs no
 * headers.
 */
struct viz_allocator {
	void *(*realloc)(void *ctx, void *ptr, size_t old_size, size_t new_size);
	void *ctx;
};

/*
 * Operations and kinds of objects, numbered as the recorder numbers them
 * (one list, trace/names.h: plain macros, no code), so that a recorded
 * op is a viz_op as it is; VIZ_OP_UNKNOWN comes after the trace's ops.
 */
#define VIZ_ENUM_OP(id, name) VIZ_OP_##id,
enum viz_op { TRACE_OPS(VIZ_ENUM_OP) VIZ_OP_UNKNOWN, VIZ_OP_COUNT };
#undef VIZ_ENUM_OP

#define VIZ_ENUM_KIND(id, name) VIZ_KIND_##id,
enum viz_kind { TRACE_KINDS(VIZ_ENUM_KIND) VIZ_KIND_COUNT };
#undef VIZ_ENUM_KIND

/* The trace's names: "mkdir" ("?" for VIZ_OP_UNKNOWN), "dir" (NULL for VIZ_KIND_NONE). */
const char *viz_op_name(enum viz_op op);
const char *viz_kind_name(enum viz_kind kind);

enum viz_color_by {
	VIZ_COLOR_BY_KIND,    /* directories green, files blue; flashes red */
	VIZ_COLOR_BY_OP,      /* the class of the last operation on the node */
	VIZ_COLOR_BY_PROCESS, /* the process that last touched the node */
};

struct viz_options {
	double fade;		     /* seconds of video a flash takes to fade; <= 0: 2 */
	enum viz_color_by color_by;
	const char *root_label;	     /* name shown for "/" (copied); NULL: "/" */
	int64_t origin_ns;	     /* trace time shown as +0; 0: the first event's */
	/*
	 * Place no node: the scene keeps the tree, kinds, last operations and
	 * counters (what find, visit and the counters report), but skips the
	 * layout, the larger part of applying an event that adds a node. For
	 * a scene nobody draws (a server's snapshots): its frames show every
	 * node where the root is, and positions and territories say nothing.
	 */
	bool unplaced;
};

/* One operation. Strings are borrowed for the duration of the call. */
struct viz_event {
	double t;	   /* video time in seconds; never decreases */
	int64_t ts_ns;	   /* trace time, ns since the Unix epoch */
	enum viz_op op;
	enum viz_kind kind;
	int32_t result;	   /* 0 or more on success, -errno on failure */
	int32_t pid;
	const char *path;  /* "/", "/a/b" */
	const char *path2; /* new name for rename and link, output of copy_file_range */
	const char *comm;  /* process name or NULL */
	int64_t instance;  /* the process instance (a trace's processes.id), 0: unknown */
};

/* What a node keeps of a process instance: 32 bits, 0 for unknown or past them. */
uint32_t viz_instance_key(int64_t instance);

struct viz_scene;

/* NULL when out of memory. The allocator must outlive the scene. */
struct viz_scene *viz_scene_new(const struct viz_allocator *allocator,
				const struct viz_options *options);
void viz_scene_free(struct viz_scene *scene);

/*
 * --prescan: feed every event of the trace first; the nodes that existed
 * when the trace started (touched, and not created by the trace) are then
 * present from the start. Call viz_scene_prescan_done() once after the last.
 * All functions returning int give 0, or -1 when out of memory.
 */
int viz_scene_prescan(struct viz_scene *scene, const struct viz_event *event);
int viz_scene_prescan_done(struct viz_scene *scene);

/* Applies an event at event->t (>= the scene's time). */
int viz_scene_apply(struct viz_scene *scene, const struct viz_event *event);
/* Counts an event (see viz_scene_events()) without applying it: one known to change nothing. */
int viz_scene_count(struct viz_scene *scene, const struct viz_event *event);

/*
 * Moves the scene's time to T (never backwards): flashes fade, removed
 * nodes disappear, the camera eases towards the active part of the tree.
 * TRACE_NS is the trace time the clock shows (see viz_timeline_trace_ns).
 */
int viz_scene_advance(struct viz_scene *scene, double t, int64_t trace_ns);

/*
 * Moves only the scene's motion to T (a paused replay): the camera and the
 * layout still ease, while flashes, labels and fading nodes stay as they
 * are, and the next viz_scene_advance() goes on from where they stopped.
 */
int viz_scene_hold(struct viz_scene *scene, double t);

/* The size of the picture in pixels; the camera frames for it. */
void viz_scene_set_viewport(struct viz_scene *scene, int width, int height);

/*
 * A short caption the overlay shows under the clock: what the workload is
 * doing now (the phase, "configure"). TEXT is copied, cut at a character
 * boundary to VIZ_CAPTION_MAX - 1 bytes; NULL or "" removes it. Labels
 * keep clear of it like of the rest of the overlay.
 */
#define VIZ_CAPTION_MAX 64
void viz_scene_set_caption(struct viz_scene *scene, const char *text);

/* ---- What to draw: screen coordinates in pixels, y down. ---- */

struct viz_color {
	float r, g, b, a; /* 0..1, not premultiplied */
};

struct viz_frame_edge {
	float x1, y1, x2, y2, width;
	struct viz_color color;
};

struct viz_frame_node {
	float x, y, r;
	struct viz_color color;
	float glow;	   /* 0..1: how strongly it flashes (draw a halo) */
	struct viz_color glow_color;
	uint32_t id;	   /* stable while the node lives */
	uint8_t kind;	   /* enum viz_kind */
	bool collapsed;	   /* stands for a whole subtree (the grid layout never needs it) */
};

struct viz_rect {
	float x0, y0, x1, y1;
};

/*
 * Labels never overlap one another, the overlay's boxes, or a directory
 * other than their own, and fit the picture (cut with an ellipsis). Their
 * widths are DejaVu Sans's (other fonts: about as wide), computed by the
 * model, so that the browser and the video agree.
 */
struct viz_frame_label {
	float x, y;	   /* left end of the baseline's middle: text is centred on y */
	float size;	   /* font size in pixels */
	struct viz_color color;
	const char *text;  /* not NUL-terminated: LEN bytes */
	uint32_t len;
	bool ellipsis;	   /* TEXT was cut: draw "…" after it */
	/*
	 * Opacity of a plate in the background colour behind the text, over
	 * BOX: names sit over the dots of a packed tree (a directory's over
	 * its files) and would not read without one. 0: none.
	 */
	float plate;
	/*
	 * All the label takes, text, halo and plate: 0.6 size above and below
	 * y, 0.2 size either side of the text at DejaVu Sans's widths. The
	 * boxes of a frame's labels never meet, fading or not.
	 */
	struct viz_rect box;
	uint32_t id; /* the node it names */
	/*
	 * The text starts nearer its own node than any other, or else (in a
	 * dense tree) a leader says whose it is: a line from LEADER_X,
	 * LEADER_Y on the node's edge to the box's side nearest the node, at y.
	 */
	bool leader;
	float leader_x, leader_y;
};

struct viz_legend_entry {
	const char *text;
	struct viz_color color;
};

struct viz_frame_process {
	const char *name;
	struct viz_color color;
	float activity; /* 0..1: 1 just now, fading */
};

/* Valid until the next call that changes the scene. */
struct viz_frame {
	int width, height;
	struct viz_color background;
	const struct viz_frame_edge *edges;
	size_t edge_count;
	const struct viz_frame_node *nodes; /* parents before children */
	size_t node_count;
	const struct viz_frame_label *labels;
	size_t label_count;
	const char *clock;	/* "2024-05-01 12:00:03.250 UTC" */
	const char *elapsed;	/* "+1:02.250" */
	const char *status;	/* "89 nodes, 176 events" */
	const char *last_event; /* "mkdir /0/1/a", its start cut ("…") to fit the width */
	const char *caption;	/* "configure", or "" (see viz_scene_set_caption) */
	const struct viz_frame_process *processes; /* most recent first */
	size_t process_count;
	const char *legend_title;
	const struct viz_legend_entry *legend;
	size_t legend_count;
	float font_size; /* a size for the overlay text that suits the picture */
	/*
	 * Where the overlay goes, as render/ draws it from
	 * font_size (a drawer of its own keeps within these): labels and the
	 * camera's framing keep clear of them.
	 */
	struct viz_rect clock_box;   /* top left: title, elapsed time, clock, caption */
	struct viz_rect process_box; /* top right: process names */
	struct viz_rect legend_box;  /* bottom left */
	struct viz_rect event_box;   /* bottom right: last event and counts */
};

int viz_scene_frame(struct viz_scene *scene, struct viz_frame *frame);

/* ---- The model itself, for tests and machine-readable dumps. ---- */

struct viz_node_info {
	uint32_t id, parent_id; /* parent_id == id for the root */
	int depth;
	const char *name; /* not NUL-terminated: NAME_LEN bytes */
	size_t name_len;
	enum viz_kind kind;
	double x, y, r;		     /* world position and radius now */
	double target_x, target_y;   /* where it is easing to */
	double target_r;
	double territory;	     /* radius round it its subtree's cells lie within (target) */
	struct viz_color color;	     /* colour now, opacity in a */
	double flash;		     /* 0..1 */
	bool dying;		     /* removed, fading out */
	enum viz_op last_op;	     /* the last operation on it; VIZ_OP_UNKNOWN: none */
	int process;		     /* who did it: see viz_scene_process(); -1: unknown */
	int64_t instance;	     /* the last process instance known to touch it, 0: none */
	double touch_t;		     /* when (as event->t and T of advance are given), if last_op is known */
};

/* Nodes in the tree, the root and the fading ones included. */
size_t viz_scene_node_count(const struct viz_scene *scene);

/* 1 and INFO for the node at PATH, 0 if there is none. */
int viz_scene_find(const struct viz_scene *scene, const char *path, struct viz_node_info *info);

/*
 * Calls FN for every node, parents before children; PATH is NUL-terminated
 * and valid during the call. -1 when out of memory.
 */
int viz_scene_visit(struct viz_scene *scene,
		    void (*fn)(void *ctx, const char *path, const struct viz_node_info *info),
		    void *ctx);

/*
 * ---- What the events so far add up to ----
 * The counters of the page's panel and of render's --dump-scene: the same
 * numbers for the same events. Requests the kernel makes itself (pid 0,
 * no process name) count as the process "kernel".
 */

#define VIZ_ERRNO_SLOTS 160 /* errors are counted by errno below this, the rest together in 0 */
#define VIZ_PROCESS_COLORS 11 /* the busiest processes have a colour of their own */

uint64_t viz_scene_events(const struct viz_scene *scene);
uint64_t viz_scene_op_events(const struct viz_scene *scene, enum viz_op op);
/* Failed events with -ERRNO_VALUE as result (0: those with an errno >= VIZ_ERRNO_SLOTS). */
uint64_t viz_scene_errno_events(const struct viz_scene *scene, int errno_value);

struct viz_process_info {
	const char *name;
	uint64_t events, errors;
	int color_slot;		/* 0..VIZ_PROCESS_COLORS-1, or -1: drawn as one of the others */
	struct viz_color color; /* its colour when colouring by process */
};

/*
 * Processes may form families (a command and the processes it started, as
 * the page's colour by command has them): a family has the colour of its
 * head, which the events of all of its members earn, and a member is drawn
 * in a shade of it: SHADE 1, 2, ... lighter and darker by turns, further
 * each time (past VIZ_FAMILY_SHADES they come round again). NAME joins the
 * family of HEAD (process names, as events' comm) before its first event,
 * once; a head does not join another family. 0, or -1 when out of memory.
 */
#define VIZ_FAMILY_SHADES 6
int viz_scene_join_family(struct viz_scene *scene, const char *name, const char *head,
			  unsigned shade);

/* Processes in the order they were first seen; INDEX < viz_scene_process_count(). */
size_t viz_scene_process_count(const struct viz_scene *scene);
void viz_scene_process(const struct viz_scene *scene, size_t index, struct viz_process_info *info);

/*
 * ---- Carrying that state in a snapshot ----
 * A scene rebuilt from a snapshot (the tree through viz_scene_prescan())
 * gets back the counters and the nodes' last operations and processes, so
 * that it colours and counts as the scene the snapshot was taken of.
 * Processes are restored first, in their order. 0, or -1 out of memory.
 */
int viz_scene_restore_process(struct viz_scene *scene, const char *name, uint64_t events,
			      uint64_t errors, int color_slot);
void viz_scene_restore_events(struct viz_scene *scene, uint64_t events);
void viz_scene_restore_op_events(struct viz_scene *scene, enum viz_op op, uint64_t events);
void viz_scene_restore_errno_events(struct viz_scene *scene, int errno_value, uint64_t events);
/*
 * The node at PATH was last touched by OP of PROCESS (-1: unknown) at T,
 * in the time given to viz_scene_advance() (it flashes if that is recent
 * when the scene advances; a hold stops the clock it fades by).
 */
void viz_scene_restore_touch(struct viz_scene *scene, const char *path, enum viz_op op,
			     int process, double t);

/* ---- Trace time to video time ---- */

/*
 * A piecewise-linear map between the trace's span FIRST_NS .. LAST_NS and
 * video seconds 0 .. knots[slices]: knots[i] is the video time at the start
 * of the i-th of SLICES equal slices of the span (non-decreasing; the
 * caller owns the array). The clock never leaves the span: times before it
 * map to 0, after it to the end, and every video time to a trace time in
 * it. Plain data, no allocation.
 */
struct viz_timeline {
	int64_t first_ns, last_ns;
	const double *knots; /* slices + 1 */
	size_t slices;
};

/*
 * How video time is shared out. By activity (SPEED and IDLE_SKIP 0): the
 * slices with activity share (1 - quiet share) of DURATION, ACTIVE_SHARE
 * of it evenly and the rest in proportion to their activity (e.g. events),
 * so busy stretches get time; the empty slices
 * share the quiet share, the fraction of the span they cover but at most
 * VIZ_QUIET_SHARE, so a pause is a short pause. At constant speed: SPEED
 * trace seconds per video second, runs of empty slices longer than
 * IDLE_SKIP trace seconds (if > 0) cut to it; with SPEED 0, the speed that
 * makes it DURATION long.
 */
#define VIZ_ACTIVE_SHARE 0.1
#define VIZ_QUIET_SHARE 0.08
struct viz_pacing {
	double duration; /* video seconds for the span */
	double speed, idle_skip;
};

/* Fills KNOTS[0 .. SLICES] from COUNTS[0 .. SLICES-1], the activity in each slice of the span. */
void viz_timeline_pace(double *knots, const int64_t *counts, size_t slices, int64_t first_ns,
		       int64_t last_ns, const struct viz_pacing *pacing);

void viz_timeline_init(struct viz_timeline *timeline, int64_t first_ns, int64_t last_ns,
		       const double *knots, size_t slices);
/* The video time of trace time TS_NS (any int64). */
double viz_timeline_video_t(const struct viz_timeline *timeline, int64_t ts_ns);
/* The trace time the clock shows at video time T, within the span. */
int64_t viz_timeline_trace_ns(const struct viz_timeline *timeline, double t);
/* The video time of the last event. */
double viz_timeline_end(const struct viz_timeline *timeline);

/*
 * ---- Stamping: a frame's small dots and halos straight into pixels ----
 * A drawing library builds and rasterises a polygon per circle; a big tree
 * at overview is thousands of dots a few pixels wide, which cost far less
 * stamped (render/draw.c with cairo and the page both do). Nodes whose
 * radius is under VIZ_STAMP_MAX_R pixels are stamped, with their halos;
 * the drawer draws the rest (viz_stamped() says which) as it likes.
 * Halos are VIZ_GLOW_RINGS translucent discs (viz_glow_ring()).
 */
#define VIZ_STAMP_MAX_R 6.0
#define VIZ_GLOW_RINGS 3
#define VIZ_GLOW_STEPS 8 /* halo strengths, so that drawers can batch alike halos */

struct viz_stamp {
	/* the picture: premultiplied 0xAARRGGBB words (cairo's ARGB32), STRIDE words a row */
	uint32_t *pixels;
	int width, height, stride;
	uint32_t *glow;	       /* WIDTH * HEIGHT words, all 0 (and left so) */
	/*
	 * NULL, or (WIDTH + 1) * (HEIGHT + 1) words of scratch: then halos
	 * hidden under stronger ones are skipped (the same pixels, much faster
	 * when thousands of nodes flash at once).
	 */
	uint32_t *cover;
	/*
	 * NULL, or room for HALO_CAPACITY node indexes: if the frame has no more
	 * nodes, those whose halos reach the stamp's rows are listed there once
	 * instead of being sought among all in each band of opacity.
	 */
	uint32_t *halos;
	size_t halo_capacity;
	double scale, ox, oy;  /* pixel = o + frame coordinates * scale (a zoomed view) */
	/*
	 * The rows stamped, ROW_FROM to ROW_TO (exclusive; 0 and 0: all): stamps
	 * of disjoint rows of one picture, each with its own COVER, may run at
	 * once, and together they stamp what one stamp of all the rows would.
	 */
	int row_from, row_to;
	int box_x0, box_y0, box_x1, box_y1; /* out: the pixels changed (x1, y1 exclusive) */
};

/* Stamps FRAME's small nodes and their halos; returns how many nodes it stamped. */
size_t viz_stamp_frame(struct viz_stamp *stamp, const struct viz_frame *frame);
bool viz_stamped(const struct viz_stamp *stamp, const struct viz_frame_node *node);
/*
 * Stamps FRAME's edges no wider than VIZ_STAMP_MAX_EDGE pixels (the
 * drawer draws the rest: viz_stamped_edge() says which), before the nodes.
 * Edges that cross keep the stronger per pixel, as one path filled would.
 * Returns how many it stamped.
 */
#define VIZ_STAMP_MAX_EDGE 2.0
size_t viz_stamp_edges(struct viz_stamp *stamp, const struct viz_frame *frame);
bool viz_stamped_edge(const struct viz_stamp *stamp, const struct viz_frame_edge *edge);
/* How strongly NODE's halo shows, 0 (none) .. VIZ_GLOW_STEPS. */
int viz_glow_level(const struct viz_frame_node *node);
/* Ring RING's radius and opacity round NODE (frame coordinates; UI: height / 720). */
void viz_glow_ring(const struct viz_frame_node *node, int ring, double ui, double *radius,
		   double *alpha);
#endif
