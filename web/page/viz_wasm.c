/*
 * viz_wasm.c — the scene model (viz/, less draw.c) for the browser page:
 * compiled with it to wasm32, freestanding, no libc. It gives the model an
 * allocator over the wasm memory, and the page flat functions (numbers and
 * pointers only) to feed events and to read frames.
 *
 * Frames are copied into one flat buffer of 32-bit words that app.js reads
 * through Float32Array and Uint32Array views (layout below). Colours go out
 * as 8-bit RGBA, which is what a canvas resolves them to anyway, and the
 * nodes, edges and halos come sorted by colour, so that the page fills
 * each colour as one path as viz/draw.c does with cairo, without sorting
 * in JavaScript.
 */
#include "viz/viz.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- what freestanding C must supply: the compiler emits calls to these ---- */

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;
	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;
	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

/* ---- memory: power-of-two size classes over a bump pointer ---- */

/*
 * The model says the size of what it frees, so blocks need no header: a
 * freed block goes on the list of its class, and a resize within a class
 * stays in place. Scenes are rebuilt on every snapshot; their blocks come
 * back in the same classes.
 */
#define MIN_CLASS 4 /* 16 bytes: keeps every block 16-aligned */
#define CLASSES 32
#define PAGE 65536 /* wasm pages; the Makefile caps the memory at 2 GiB, so sizes fit 32 bits */

extern unsigned char __heap_base;

static uintptr_t heap_top;
static void *free_list[CLASSES];

static int class_of(size_t size)
{
	int c = MIN_CLASS;
	while (c < CLASSES - 1 && ((size_t)1 << c) < size)
		c++;
	return c;
}

static void *take(int c)
{
	if (free_list[c]) {
		void *p = free_list[c];
		free_list[c] = *(void **)p;
		return p;
	}
	if (!heap_top)
		heap_top = ((uintptr_t)&__heap_base + 15) & ~(uintptr_t)15;
	size_t size = (size_t)1 << c;
	uintptr_t end = (uintptr_t)__builtin_wasm_memory_size(0) * PAGE;
	if (heap_top + size < heap_top)
		return NULL;
	if (heap_top + size > end) {
		size_t pages = (heap_top + size - end + PAGE - 1) / PAGE;
		if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1)
			return NULL;
	}
	void *p = (void *)heap_top;
	heap_top += size;
	return p;
}

static void give(void *p, size_t size)
{
	int c = class_of(size);
	*(void **)p = free_list[c];
	free_list[c] = p;
}

static void *wasm_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void)ctx;
	if (new_size == 0) {
		if (ptr)
			give(ptr, old_size);
		return NULL;
	}
	if (new_size > ((size_t)1 << (CLASSES - 1)))
		return NULL;
	if (ptr && class_of(old_size) == class_of(new_size))
		return ptr;
	void *p = take(class_of(new_size));
	if (!p)
		return NULL;
	if (ptr) {
		memcpy(p, ptr, old_size < new_size ? old_size : new_size);
		give(ptr, old_size);
	}
	return p;
}

static const struct viz_allocator allocator = {wasm_realloc, NULL};

/* A buffer of at least *CAPACITY >= NEED bytes, reallocated without copying. */
static void *grow(void *buffer, size_t *capacity, size_t need)
{
	if (need <= *capacity)
		return buffer;
	wasm_realloc(NULL, buffer, *capacity, 0);
	*capacity = 0;
	buffer = wasm_realloc(NULL, NULL, 0, need);
	if (buffer)
		*capacity = need;
	return buffer;
}

/* ---- strings from the page ---- */

static char *scratch;
static size_t scratch_capacity;

/*
 * A buffer of at least SIZE bytes where the page writes the NUL-terminated
 * strings of the next call (paths, process name). Valid until the next
 * call of tv_scratch; NULL when out of memory.
 */
EXPORT char *tv_scratch(size_t size)
{
	return scratch = grow(scratch, &scratch_capacity, size);
}

EXPORT int tv_op_count(void)
{
	return VIZ_OP_COUNT;
}

/* The trace's name of operation OP: the page builds its table from these. */
EXPORT const char *tv_op_name(int op)
{
	return viz_op_name((enum viz_op)op);
}

EXPORT int tv_op_unknown(void)
{
	return VIZ_OP_UNKNOWN;
}

EXPORT int tv_kind_count(void)
{
	return VIZ_KIND_COUNT;
}

/* The trace's name of kind KIND ("dir"), NULL for none. */
EXPORT const char *tv_kind_name(int kind)
{
	return viz_kind_name((enum viz_kind)kind);
}

/* ---- the scene ---- */

/* JSON numbers arrive as doubles; ns since the epoch fit them to ~256 ns. */
static int64_t to_ns(double ns)
{
	return ns > -9.2e18 && ns < 9.2e18 ? (int64_t)ns : 0;
}

/*
 * COLOR_BY: enum viz_color_by; FADE in seconds (<= 0: 2); ORIGIN_NS: the +0
 * of the clock (0: the first event's); ROOT_LABEL: the name shown for "/",
 * or NULL.
 */
EXPORT struct viz_scene *tv_scene_new(int color_by, double fade, double origin_ns,
				      const char *root_label)
{
	struct viz_options options = {.fade = fade,
				      .color_by = (enum viz_color_by)color_by,
				      .root_label = root_label,
				      .origin_ns = to_ns(origin_ns)};
	return viz_scene_new(&allocator, &options);
}

EXPORT void tv_scene_free(struct viz_scene *scene)
{
	viz_scene_free(scene);
}

EXPORT void tv_set_viewport(struct viz_scene *scene, int width, int height)
{
	viz_scene_set_viewport(scene, width, height);
}

/* PATH, PATH2, COMM: NUL-terminated strings in wasm memory, or NULL. 0 or -1. */
EXPORT int tv_apply(struct viz_scene *scene, int op, int kind, int result, int pid, double ts_ns,
		    double t, const char *path, const char *path2, const char *comm)
{
	struct viz_event e = {.t = t,
			      .ts_ns = to_ns(ts_ns),
			      .op = (enum viz_op)op,
			      .kind = (enum viz_kind)kind,
			      .result = result,
			      .pid = pid,
			      .path = path,
			      .path2 = path2,
			      .comm = comm};
	return viz_scene_apply(scene, &e);
}

/*
 * A node of a snapshot: present from the start, as if the trace had looked
 * it up; last touched by OP (-1: never) of PROCESS (-1: unknown) at T
 * (page seconds).
 */
EXPORT int tv_prescan(struct viz_scene *scene, int kind, const char *path, int op, int process,
		      double t)
{
	struct viz_event e = {.op = VIZ_OP_LOOKUP, .kind = (enum viz_kind)kind, .path = path};
	if (viz_scene_prescan(scene, &e) != 0)
		return -1;
	if (op >= 0 && op < VIZ_OP_UNKNOWN)
		viz_scene_restore_touch(scene, path, (enum viz_op)op, process, t);
	return 0;
}

static uint32_t rgba(struct viz_color c);

/* ---- the counters (see viz.h): counts go as doubles, exact below 2^53 ---- */

static uint64_t to_count(double n)
{
	return n > 0 && n < 1.8e19 ? (uint64_t)n : 0;
}

/* A snapshot's counters. NAME: a NUL-terminated string in wasm memory. 0 or -1. */
EXPORT int tv_restore_process(struct viz_scene *scene, const char *name, double events,
			      double errors, int color_slot)
{
	return viz_scene_restore_process(scene, name, to_count(events), to_count(errors),
					 color_slot);
}

EXPORT void tv_restore_events(struct viz_scene *scene, double events)
{
	viz_scene_restore_events(scene, to_count(events));
}

EXPORT void tv_restore_op_events(struct viz_scene *scene, int op, double events)
{
	viz_scene_restore_op_events(scene, (enum viz_op)op, to_count(events));
}

EXPORT void tv_restore_errno_events(struct viz_scene *scene, int errno_value, double events)
{
	viz_scene_restore_errno_events(scene, errno_value, to_count(events));
}

EXPORT double tv_events(struct viz_scene *scene)
{
	return (double)viz_scene_events(scene);
}

EXPORT double tv_op_events(struct viz_scene *scene, int op)
{
	return (double)viz_scene_op_events(scene, (enum viz_op)op);
}

EXPORT int tv_errno_slots(void)
{
	return VIZ_ERRNO_SLOTS;
}

EXPORT double tv_errno_events(struct viz_scene *scene, int errno_value)
{
	return (double)viz_scene_errno_events(scene, errno_value);
}

EXPORT int tv_process_count(struct viz_scene *scene)
{
	return (int)viz_scene_process_count(scene);
}

/* Process INDEX: name (p), events, errors (f64 as two words each), colour slot (i), colour (c). */
static union {
	struct {
		uint32_t name;
		uint32_t pad;
		double events, errors;
		int32_t slot;
		uint32_t color;
	} p;
	uint32_t words[8];
} process_out;

EXPORT uint32_t *tv_process(struct viz_scene *scene, int index)
{
	if (index < 0 || (size_t)index >= viz_scene_process_count(scene))
		return NULL;
	struct viz_process_info info;
	viz_scene_process(scene, (size_t)index, &info);
	process_out.p.name = (uint32_t)(uintptr_t)info.name;
	process_out.p.events = (double)info.events;
	process_out.p.errors = (double)info.errors;
	process_out.p.slot = info.color_slot;
	process_out.p.color = rgba(info.color);
	return process_out.words;
}

/* NAME joins the family of HEAD, in its SHADE-th shade (see viz_scene_join_family()). 0 or -1. */
EXPORT int tv_join_family(struct viz_scene *scene, const char *name, const char *head, int shade)
{
	return viz_scene_join_family(scene, name, head, shade > 0 ? (unsigned)shade : 0);
}

/* The index of the process called NAME, -1 if there is none. */
EXPORT int tv_process_named(struct viz_scene *scene, const char *name)
{
	for (size_t i = 0, n = viz_scene_process_count(scene); i < n; i++) {
		struct viz_process_info info;
		viz_scene_process(scene, i, &info);
		size_t k = 0;
		while (info.name[k] && info.name[k] == name[k])
			k++;
		if (info.name[k] == name[k])
			return (int)i;
	}
	return -1;
}

EXPORT int tv_process_colors(void)
{
	return VIZ_PROCESS_COLORS;
}

EXPORT int tv_prescan_done(struct viz_scene *scene)
{
	return viz_scene_prescan_done(scene);
}

/* TEXT: the caption under the clock (NUL-terminated in wasm memory), or NULL for none. */
EXPORT void tv_set_caption(struct viz_scene *scene, const char *text)
{
	viz_scene_set_caption(scene, text);
}

EXPORT int tv_advance(struct viz_scene *scene, double t, double trace_ns)
{
	return viz_scene_advance(scene, t, to_ns(trace_ns));
}

EXPORT int tv_hold(struct viz_scene *scene, double t)
{
	return viz_scene_hold(scene, t);
}

/* ---- frames ---- */

/*
 * The frame buffer, in 32-bit words: a header, then the records of each
 * section one after the other, in this order. f = float32, u = uint32,
 * p = pointer to a NUL-terminated string (0 for none), c = colour as
 * 0xRRGGBBAA.
 */
enum {
	H_WIDTH,	/* u */
	H_HEIGHT,	/* u */
	H_BACKGROUND,	/* c */
	H_FONT_SIZE,	/* f */
	H_EDGES,	/* u: counts of the sections */
	H_NODES,
	H_GLOWS,
	H_LABELS,
	H_PROCESSES,
	H_LEGEND,
	H_CLOCK,	/* p */
	H_ELAPSED,	/* p */
	H_STATUS,	/* p */
	H_LAST_EVENT,	/* p */
	H_LEGEND_TITLE, /* p */
	H_CAPTION,	/* p */
	H_LAYER,	/* u: pointer to the stamped layer, RGBA bytes as an ImageData holds them */
	H_LAYER_X0,	/* u: the layer's pixels drawn this frame, x1 and y1 exclusive */
	H_LAYER_Y0,
	H_LAYER_X1,
	H_LAYER_Y1,
	HEADER_WORDS
};
#define EDGE_WORDS 6	/* x1 y1 x2 y2 width (f), colour (c); sorted by width and colour */
#define NODE_WORDS 6	/* x y r (f), colour (c), id (u), kind | collapsed << 8 | stamped << 9 (u) */
#define GLOW_WORDS 4	/* x y r (f), rgb << 8 | level 1..8 (u); flashing nodes not stamped, by that key */
/*
 * x y size (f), colour (c), text (pointer), length, ellipsis (u), plate (f),
 * box x0 y0 x1 y1 (f), node id (u), leader (u), leader x y (f)
 */
#define LABEL_WORDS 16
#define PROCESS_WORDS 3 /* name (p), colour (c), activity (f) */
#define LEGEND_WORDS 2	/* text (p), colour (c) */

union word {
	uint32_t u;
	float f;
};

static union word *frame_buffer;
static size_t frame_capacity;
static uint64_t *sort_keys;
static uint32_t *sort_order, *sort_spare;
static size_t keys_capacity, order_capacity, spare_capacity;

static uint32_t channel(float x)
{
	return x <= 0 ? 0 : x >= 1 ? 255 : (uint32_t)(x * 255 + 0.5f);
}

static uint32_t rgba(struct viz_color c)
{
	return channel(c.r) << 24 | channel(c.g) << 16 | channel(c.b) << 8 | channel(c.a);
}

/* Sorts SORT_ORDER[0..N) by SORT_KEYS (stable, LSD radix), skipping bytes all keys share. */
static void sort_by_keys(size_t n)
{
	for (int shift = 0; shift < 64; shift += 8) {
		size_t count[257] = {0};
		for (size_t i = 0; i < n; i++)
			count[((sort_keys[sort_order[i]] >> shift) & 255) + 1]++;
		bool trivial = false;
		for (int b = 1; b <= 256; b++)
			trivial |= count[b] == n;
		if (trivial)
			continue;
		for (int b = 1; b <= 256; b++)
			count[b] += count[b - 1];
		for (size_t i = 0; i < n; i++)
			sort_spare[count[(sort_keys[sort_order[i]] >> shift) & 255]++] = sort_order[i];
		uint32_t *t = sort_order;
		sort_order = sort_spare;
		sort_spare = t;
	}
}

/* Room to sort N items. 0 or -1. */
static int reserve_sort(size_t n)
{
	sort_keys = grow(sort_keys, &keys_capacity, n * sizeof(*sort_keys) + 8);
	sort_order = grow(sort_order, &order_capacity, n * sizeof(*sort_order) + 4);
	sort_spare = grow(sort_spare, &spare_capacity, n * sizeof(*sort_spare) + 4);
	return sort_keys && sort_order && sort_spare ? 0 : -1;
}

static void unsorted(size_t n)
{
	for (size_t i = 0; i < n; i++)
		sort_order[i] = (uint32_t)i;
}

static uint32_t string_word(const char *s)
{
	return (uint32_t)(uintptr_t)s;
}

/*
 * The stamped layer (see viz.h): the small nodes and their halos in
 * canvas pixels, transparent elsewhere, which the page lays over the edges
 * in one drawImage instead of a path per dot. Kept between frames: only
 * what the last frame drew is cleared.
 */
static struct viz_stamp layer;
static size_t layer_capacity, glow_capacity;

/* memset() here goes byte by byte: the layer is cleared a word at a time. */
static void clear_words(uint32_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		p[i] = 0;
}

/* 255 / a in 16.16 fixed point, for a = 1..255 */
static uint32_t unpremultiply[256];

static int stamp_layer(const struct viz_frame *f, int width, int height, double scale, double ox,
		       double oy)
{
	if (!unpremultiply[1])
		for (uint32_t a = 1; a < 256; a++)
			unpremultiply[a] = (255u << 16) / a;
	size_t pixels = (size_t)width * (size_t)height;
	if (width != layer.width || height != layer.height) {
		layer.pixels = grow(layer.pixels, &layer_capacity, pixels * 4);
		layer.glow = grow(layer.glow, &glow_capacity, pixels * 4);
		if (!layer.pixels || !layer.glow)
			return -1;
		clear_words(layer.pixels, pixels);
		clear_words(layer.glow, pixels);
		layer.width = layer.stride = width;
		layer.height = height;
	} else {
		for (int y = layer.box_y0; y < layer.box_y1; y++)
			clear_words(layer.pixels + (size_t)y * (size_t)width + layer.box_x0,
				    (size_t)(layer.box_x1 - layer.box_x0));
	}
	layer.scale = scale;
	layer.ox = ox;
	layer.oy = oy;
	viz_stamp_frame(&layer, f);
	/* premultiplied 0xAARRGGBB words to the bytes R, G, B, A of an ImageData */
	for (int y = layer.box_y0; y < layer.box_y1; y++) {
		uint32_t *p = layer.pixels + (size_t)y * (size_t)width;
		for (int x = layer.box_x0; x < layer.box_x1; x++) {
			uint32_t v = p[x], a = v >> 24;
			if (!a)
				continue;
			uint32_t r = (v >> 16) & 255, g = (v >> 8) & 255, b = v & 255;
			if (a < 255) { /* a division per pixel costs more than the rest together */
				uint32_t inverse = unpremultiply[a];
				r = (r * inverse + 0x8000) >> 16;
				g = (g * inverse + 0x8000) >> 16;
				b = (b * inverse + 0x8000) >> 16;
			}
			p[x] = a << 24 | b << 16 | g << 8 | r; /* little-endian: R first */
		}
	}
	return 0;
}

/*
 * Builds the frame of SCENE now and stamps its small nodes into a layer of
 * WIDTH by HEIGHT canvas pixels, where pixel = O + frame coordinates *
 * SCALE; returns the frame buffer, or NULL when out of memory.
 */
EXPORT union word *tv_frame(struct viz_scene *scene, int width, int height, double scale,
			    double ox, double oy)
{
	struct viz_frame f;
	if (viz_scene_frame(scene, &f) != 0 || width <= 0 || height <= 0 ||
	    stamp_layer(&f, width, height, scale, ox, oy) != 0)
		return NULL;
	size_t glows = 0;
	for (size_t i = 0; i < f.node_count; i++)
		glows += viz_glow_level(&f.nodes[i]) > 0 && !viz_stamped(&layer, &f.nodes[i]);
	size_t words = HEADER_WORDS + f.edge_count * EDGE_WORDS + f.node_count * NODE_WORDS +
		       glows * GLOW_WORDS + f.label_count * LABEL_WORDS +
		       f.process_count * PROCESS_WORDS + f.legend_count * LEGEND_WORDS;
	frame_buffer = grow(frame_buffer, &frame_capacity, words * sizeof(union word));
	size_t most = f.edge_count > f.node_count ? f.edge_count : f.node_count;
	if (!frame_buffer || reserve_sort(most) != 0)
		return NULL;
	union word *w = frame_buffer;
	w[H_WIDTH].u = (uint32_t)f.width;
	w[H_HEIGHT].u = (uint32_t)f.height;
	w[H_BACKGROUND].u = rgba(f.background);
	w[H_FONT_SIZE].f = f.font_size;
	w[H_EDGES].u = (uint32_t)f.edge_count;
	w[H_NODES].u = (uint32_t)f.node_count;
	w[H_GLOWS].u = (uint32_t)glows;
	w[H_LABELS].u = (uint32_t)f.label_count;
	w[H_PROCESSES].u = (uint32_t)f.process_count;
	w[H_LEGEND].u = (uint32_t)f.legend_count;
	w[H_CLOCK].u = string_word(f.clock);
	w[H_ELAPSED].u = string_word(f.elapsed);
	w[H_STATUS].u = string_word(f.status);
	w[H_LAST_EVENT].u = string_word(f.last_event);
	w[H_LEGEND_TITLE].u = string_word(f.legend_title);
	w[H_CAPTION].u = string_word(f.caption);
	w[H_LAYER].u = (uint32_t)(uintptr_t)layer.pixels;
	w[H_LAYER_X0].u = (uint32_t)layer.box_x0;
	w[H_LAYER_Y0].u = (uint32_t)layer.box_y0;
	w[H_LAYER_X1].u = (uint32_t)layer.box_x1;
	w[H_LAYER_Y1].u = (uint32_t)layer.box_y1;
	w += HEADER_WORDS;

	/* Edge widths are multiples of a quarter pixel (times the UI scale). */
	for (size_t i = 0; i < f.edge_count; i++)
		sort_keys[i] = (uint64_t)(uint32_t)(f.edges[i].width * 64 + 0.5f) << 32 |
			       rgba(f.edges[i].color);
	unsorted(f.edge_count);
	sort_by_keys(f.edge_count);
	for (size_t i = 0; i < f.edge_count; i++, w += EDGE_WORDS) {
		const struct viz_frame_edge *e = &f.edges[sort_order[i]];
		w[0].f = e->x1;
		w[1].f = e->y1;
		w[2].f = e->x2;
		w[3].f = e->y2;
		w[4].f = e->width;
		w[5].u = (uint32_t)sort_keys[sort_order[i]];
	}

	unsorted(f.node_count);
	for (size_t i = 0; i < f.node_count; i++)
		sort_keys[i] = rgba(f.nodes[i].color);
	sort_by_keys(f.node_count);
	for (size_t i = 0; i < f.node_count; i++, w += NODE_WORDS) {
		const struct viz_frame_node *n = &f.nodes[sort_order[i]];
		w[0].f = n->x;
		w[1].f = n->y;
		w[2].f = n->r;
		w[3].u = (uint32_t)sort_keys[sort_order[i]];
		w[4].u = n->id;
		w[5].u = n->kind | (uint32_t)n->collapsed << 8 |
			 (uint32_t)viz_stamped(&layer, n) << 9;
	}

	/* Halos: the flashing nodes not stamped, by glow colour and strength. */
	size_t g = 0;
	for (size_t i = 0; i < f.node_count; i++) {
		int level = viz_glow_level(&f.nodes[i]);
		if (level > 0 && !viz_stamped(&layer, &f.nodes[i])) {
			sort_order[g] = (uint32_t)i;
			sort_keys[i] = (uint64_t)(rgba(f.nodes[i].glow_color) >> 8) << 8 |
				       (uint32_t)level;
			g++;
		}
	}
	sort_by_keys(glows);
	for (size_t i = 0; i < glows; i++, w += GLOW_WORDS) {
		const struct viz_frame_node *n = &f.nodes[sort_order[i]];
		w[0].f = n->x;
		w[1].f = n->y;
		w[2].f = n->r;
		w[3].u = (uint32_t)sort_keys[sort_order[i]];
	}

	for (size_t i = 0; i < f.label_count; i++, w += LABEL_WORDS) {
		const struct viz_frame_label *l = &f.labels[i];
		w[0].f = l->x;
		w[1].f = l->y;
		w[2].f = l->size;
		w[3].u = rgba(l->color);
		w[4].u = string_word(l->text);
		w[5].u = l->len;
		w[6].u = l->ellipsis;
		w[7].f = l->plate;
		w[8].f = l->box.x0;
		w[9].f = l->box.y0;
		w[10].f = l->box.x1;
		w[11].f = l->box.y1;
		w[12].u = l->id;
		w[13].u = l->leader;
		w[14].f = l->leader_x;
		w[15].f = l->leader_y;
	}
	for (size_t i = 0; i < f.process_count; i++, w += PROCESS_WORDS) {
		w[0].u = string_word(f.processes[i].name);
		w[1].u = rgba(f.processes[i].color);
		w[2].f = f.processes[i].activity;
	}
	for (size_t i = 0; i < f.legend_count; i++, w += LEGEND_WORDS) {
		w[0].u = string_word(f.legend[i].text);
		w[1].u = rgba(f.legend[i].color);
	}
	return frame_buffer;
}

/* ---- queries, for the page's counters, tooltips and test hooks ---- */

/* Nodes alive (not fading out): all, directories, files, symlinks, others;
 * then the dying, and the alive ones that flash (visibly). */
enum { COUNT_TOTAL, COUNT_DIR, COUNT_FILE, COUNT_SYMLINK, COUNT_OTHER, COUNT_DYING, COUNT_FLASHING, COUNTS };
static uint32_t counts[COUNTS];

static void count_node(void *ctx, const char *path, const struct viz_node_info *info)
{
	(void)ctx;
	(void)path;
	if (info->dying) {
		counts[COUNT_DYING]++;
		return;
	}
	counts[COUNT_TOTAL]++;
	if (info->flash > 0.05)
		counts[COUNT_FLASHING]++;
	switch (info->kind) {
	case VIZ_KIND_DIR: counts[COUNT_DIR]++; break;
	case VIZ_KIND_FILE: counts[COUNT_FILE]++; break;
	case VIZ_KIND_SYMLINK: counts[COUNT_SYMLINK]++; break;
	case VIZ_KIND_OTHER: counts[COUNT_OTHER]++; break;
	default: break;
	}
}

/* The counts above (COUNTS words), or NULL when out of memory. */
EXPORT uint32_t *tv_count(struct viz_scene *scene)
{
	for (int i = 0; i < COUNTS; i++)
		counts[i] = 0;
	return viz_scene_visit(scene, count_node, NULL) == 0 ? counts : NULL;
}

/* What tv_find() found: id, kind (enum viz_kind), dying (0 or 1), colour now (c), flash 0..1 (f). */
static union word found[5];

/* The node at PATH (even one fading out), or NULL if there is none. */
EXPORT union word *tv_find(struct viz_scene *scene, const char *path)
{
	struct viz_node_info info;
	if (!viz_scene_find(scene, path, &info))
		return NULL;
	found[0].u = info.id;
	found[1].u = info.kind;
	found[2].u = info.dying;
	found[3].u = rgba(info.color);
	found[4].f = (float)info.flash;
	return found;
}

struct path_search {
	uint32_t id;
	bool matched;
	char *text;
	size_t capacity;
};

static struct path_search search;

static void match_id(void *ctx, const char *path, const struct viz_node_info *info)
{
	struct path_search *s = ctx;
	if (info->id != s->id || s->matched)
		return;
	size_t len = 0;
	while (path[len])
		len++;
	s->text = grow(s->text, &s->capacity, len + 1);
	if (!s->text)
		return;
	memcpy(s->text, path, len + 1);
	s->matched = true;
}

/*
 * The path of node ID (as in frames), NUL-terminated, or NULL if there is
 * none. Walks the whole tree: for a hover, not for every frame.
 */
EXPORT const char *tv_path_of(struct viz_scene *scene, uint32_t id)
{
	search.id = id;
	search.matched = false;
	if (viz_scene_visit(scene, match_id, &search) != 0 || !search.matched)
		return NULL;
	return search.text;
}
