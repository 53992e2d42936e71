/*
 * scene.c — what events do to the scene: a node appears when its path is
 * first touched (with its missing ancestors), flashes when touched, moves
 * when renamed, fades out when removed; time passes; processes are
 * remembered for the overlay. Also the scene's life cycle, its memory
 * helpers and the read-only queries (find, visit).
 */
#include "viz/scene.h"
#include "viz/vmath.h"

#define BIRTH_FADE_SECONDS 0.35 /* a new node's fade-in */
#define NO_PROCESS 0xffff

/* ---- memory ---- */

void *vz_alloc(struct viz_scene *s, size_t size)
{
	return s->allocator.realloc(s->allocator.ctx, NULL, 0, size);
}

void vz_release(struct viz_scene *s, void *ptr, size_t size)
{
	if (ptr)
		s->allocator.realloc(s->allocator.ctx, ptr, size, 0);
}

int vz_reserve(struct viz_scene *s, void **array, size_t *capacity, size_t element, size_t need)
{
	if (need <= *capacity)
		return 0;
	size_t grown = *capacity ? *capacity : 16;
	while (grown < need) {
		if (grown > SIZE_MAX / 4 / element)
			return -1;
		grown *= 2;
	}
	void *p = s->allocator.realloc(s->allocator.ctx, *array, *capacity * element,
				       grown * element);
	if (!p)
		return -1;
	*array = p;
	*capacity = grown;
	return 0;
}

void vz_copy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *from = src;
	for (size_t i = 0; i < n; i++)
		d[i] = from[i];
}

void vz_zero(void *dst, size_t n)
{
	unsigned char *d = dst;
	for (size_t i = 0; i < n; i++)
		d[i] = 0;
}

/* ---- life cycle ---- */

struct viz_scene *viz_scene_new(const struct viz_allocator *allocator,
				const struct viz_options *options)
{
	struct viz_scene *s = allocator->realloc(allocator->ctx, NULL, 0, sizeof(*s));
	if (!s)
		return NULL;
	vz_zero(s, sizeof(*s));
	s->allocator = *allocator;
	s->fade = options && options->fade > 0 ? options->fade : 2.0;
	s->color_by = options ? options->color_by : VIZ_COLOR_BY_KIND;
	s->unplaced = options && options->unplaced;
	if (options && options->origin_ns) {
		s->origin_ns = options->origin_ns;
		s->have_origin = true;
	}
	s->now = VZ_NEVER;
	/* Nothing framed yet: else a frame in the first fade time before any
	 * event (the browser's idle start) frames the zero-sized box at 0,0. */
	s->camera.held.empty = true;
	s->width = 1280;
	s->height = 720;
	if (vz_tree_init(s, options ? options->root_label : NULL) != 0 ||
	    vz_layout_init(s) != 0) {
		viz_scene_free(s);
		return NULL;
	}
	struct vz_node *root = vz_node(s, 0);
	root->move_t = root->born_t = root->touch_t = root->subtree_touch_t = VZ_NEVER;
	return s;
}

void viz_scene_free(struct viz_scene *s)
{
	if (!s)
		return;
	vz_tree_free(s);
	vz_layout_free(s);
	vz_release(s, s->dying, s->dying_capacity * sizeof(*s->dying));
	vz_release(s, s->processes, s->process_capacity * sizeof(*s->processes));
	vz_release(s, s->process_index, s->process_index_size * sizeof(*s->process_index));
	vz_release(s, s->walk, s->walk_capacity * sizeof(*s->walk));
	vz_release(s, s->walk_stack, s->walk_stack_capacity * sizeof(*s->walk_stack));
	vz_release(s, s->edges, s->edge_capacity * sizeof(*s->edges));
	vz_release(s, s->frame_nodes, s->frame_node_capacity * sizeof(*s->frame_nodes));
	vz_release(s, s->discs, s->disc_capacity * sizeof(*s->discs));
	vz_release(s, s->bucket_start, s->bucket_start_capacity * sizeof(*s->bucket_start));
	vz_release(s, s->bucket_items, s->bucket_item_capacity * sizeof(*s->bucket_items));
	vz_release(s, s->path_buffer, s->path_capacity);
	struct viz_allocator allocator = s->allocator;
	allocator.realloc(allocator.ctx, s, sizeof(*s), 0);
}

void viz_scene_set_viewport(struct viz_scene *s, int width, int height)
{
	s->width = width > 0 ? width : 1;
	s->height = height > 0 ? height : 1;
}

void viz_scene_set_caption(struct viz_scene *s, const char *text)
{
	size_t len = text ? vz_strlen(text) : 0;
	if (len > sizeof(s->caption) - 1) {
		len = sizeof(s->caption) - 1;
		while (len > 0 && ((unsigned char)text[len] & 0xc0) == 0x80)
			len--; /* not in the middle of a character */
	}
	vz_copy(s->caption, text ? text : "", len);
	s->caption[len] = '\0';
}

size_t viz_scene_node_count(const struct viz_scene *s)
{
	return s->tree_count;
}

/* ---- processes ---- */

static int grow_process_index(struct viz_scene *s)
{
	uint32_t size = s->process_index_size ? s->process_index_size * 2 : 64;
	uint32_t *index = vz_alloc(s, size * sizeof(*index));
	if (!index)
		return -1;
	vz_zero(index, size * sizeof(*index));
	for (uint32_t p = 0; p < s->process_count; p++) {
		uint32_t h = (s->processes[p].name * 2654435761u) & (size - 1);
		while (index[h])
			h = (h + 1) & (size - 1);
		index[h] = p + 1;
	}
	vz_release(s, s->process_index, s->process_index_size * sizeof(*index));
	s->process_index = index;
	s->process_index_size = size;
	return 0;
}

/* The index of the process called COMM, seen at T (or before: VZ_NEVER); NO_PROCESS if none. */
static int touch_process(struct viz_scene *s, const char *comm, double t, uint16_t *process)
{
	*process = NO_PROCESS;
	if (!comm || !comm[0])
		return 0;
	uint32_t name = vz_intern(s, comm, vz_strlen(comm));
	if (name == VZ_NONE)
		return -1;
	if (2 * (s->process_count + 1) > s->process_index_size && grow_process_index(s) != 0)
		return -1;
	uint32_t mask = s->process_index_size - 1, h = (name * 2654435761u) & mask;
	for (; s->process_index[h]; h = (h + 1) & mask) {
		struct vz_process *p = &s->processes[s->process_index[h] - 1];
		if (p->name == name) {
			p->last_t = vm_max(p->last_t, t);
			*process = (uint16_t)(s->process_index[h] - 1);
			return 0;
		}
	}
	if (s->process_count >= VZ_MAX_PROCESSES) {
		*process = VZ_MAX_PROCESSES - 1;
		s->processes[*process].last_t = vm_max(s->processes[*process].last_t, t);
		return 0;
	}
	size_t capacity = s->process_capacity;
	if (vz_reserve(s, (void **)&s->processes, &capacity, sizeof(*s->processes),
		       s->process_count + 1) != 0)
		return -1;
	s->process_capacity = (uint32_t)capacity;
	s->processes[s->process_count] = (struct vz_process){
		.name = name, .last_t = t, .head = (uint16_t)s->process_count, .slot = VZ_NO_SLOT};
	s->process_index[h] = ++s->process_count;
	*process = (uint16_t)(s->process_count - 1);
	return 0;
}

/* ---- paths ---- */

/* Length of the next component of PATH at *POS (skipping slashes), 0 at the end. */
static size_t next_component(const char *path, size_t *pos)
{
	while (path[*pos] == '/')
		(*pos)++;
	size_t len = 0;
	while (path[*pos + len] && path[*pos + len] != '/')
		len++;
	return len;
}

/* Length of the parent of PATH ("/a/b" -> 2, "/a" -> 0, meaning the root). */
static size_t parent_length(const char *path)
{
	size_t len = vz_strlen(path);
	while (len > 0 && path[len - 1] == '/')
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	while (len > 0 && path[len - 1] == '/')
		len--;
	return len;
}

static void revive(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id);
	n->state = VZ_ALIVE;
	n->death_t = VZ_NEVER;
}

static uint32_t new_child(struct viz_scene *s, uint32_t parent, const char *name, size_t len,
			  enum viz_kind kind, double t)
{
	uint32_t id = vz_add_child(s, parent, name, len, kind);
	if (id == VZ_NONE)
		return VZ_NONE;
	struct vz_node *n = vz_node(s, id);
	n->touch_t = n->subtree_touch_t = n->death_t = VZ_NEVER;
	n->process = NO_PROCESS;
	if (vz_place_new(s, id, t) != 0) {
		vz_drop_subtree(s, id);
		return VZ_NONE;
	}
	return id;
}

/*
 * The node at the first LEN bytes of PATH. With CREATE, missing nodes are
 * made (directories on the way, KIND at the end) and removed ones revived;
 * *ERROR is set when out of memory. VZ_NONE when absent. Below
 * VZ_MAX_DEPTH there are no nodes: with CREATE the node at that depth
 * stands for everything below it (it is touched instead), without it the
 * path is absent (so removing a deeper path removes nothing).
 */
static uint32_t resolve(struct viz_scene *s, const char *path, size_t len, bool create,
			enum viz_kind kind, double t, int *error)
{
	uint32_t id = 0;
	size_t pos = 0;
	for (;;) {
		size_t n = next_component(path, &pos);
		if (n == 0 || pos >= len)
			return id;
		if (pos + n > len)
			n = len - pos;
		size_t rest = pos + n;
		while (rest < len && path[rest] == '/')
			rest++;
		bool last = rest >= len;
		if (vz_node(s, id)->depth >= VZ_MAX_DEPTH)
			return create ? id : VZ_NONE;
		uint32_t child = vz_child(s, id, path + pos, n);
		if (child == VZ_NONE) {
			if (!create)
				return VZ_NONE;
			child = new_child(s, id, path + pos, n, last ? kind : VIZ_KIND_DIR, t);
			if (child == VZ_NONE) {
				*error = -1;
				return VZ_NONE;
			}
		} else if (vz_node(s, child)->state == VZ_DYING) {
			if (!create)
				return VZ_NONE;
			revive(s, child);
		}
		id = child;
		pos += n;
	}
}

/* ---- what events do ---- */

uint32_t viz_instance_key(int64_t instance)
{
	return instance > 0 && instance <= UINT32_MAX ? (uint32_t)instance : 0;
}

/* The process instance of event E, as a node keeps it. */
static uint32_t instance_of(const struct viz_event *e)
{
	return viz_instance_key(e->instance);
}

static void touch(struct viz_scene *s, uint32_t id, enum vz_touch how, enum vz_class class,
		  enum viz_op op, uint16_t process, uint32_t instance, double t)
{
	struct vz_node *n = vz_node(s, id);
	if (instance) /* the kernel's own requests (no instance) are on behalf of the last one */
		n->instance = instance;
	n->touch_t = t;
	n->touch = (uint8_t)how;
	n->touch_class = (uint8_t)class;
	/* the source of a link or a copy is read: its op must say the same class */
	n->touch_op = (uint8_t)(vz_class_of(op) == class ? op : VIZ_OP_READ);
	n->process = process;
	for (uint32_t a = id; a != VZ_NONE && vz_node(s, a)->subtree_touch_t < t;
	     a = vz_node(s, a)->parent)
		vz_node(s, a)->subtree_touch_t = t;
	/* One entry per node: a file written a thousand times in a second must
	 * not push every other recently touched node out of the camera's view. */
	if (n->active_at) {
		struct vz_ref *ref = &s->active[n->active_at - 1];
		if (ref->id == id && ref->generation == n->generation) {
			ref->t = t;
			return;
		}
	}
	s->active[s->active_next] = (struct vz_ref){id, n->generation, t};
	n->active_at = s->active_next + 1;
	s->active_next = (s->active_next + 1) % VZ_ACTIVE_CAPACITY;
	if (s->active_len < VZ_ACTIVE_CAPACITY)
		s->active_len++;
}

static int queue_death(struct viz_scene *s, uint32_t id, double t)
{
	if (s->dying_head > 0 && s->dying_head * 2 >= s->dying_len) {
		size_t keep = s->dying_len - s->dying_head;
		for (size_t i = 0; i < keep; i++)
			s->dying[i] = s->dying[s->dying_head + i];
		s->dying_len = keep;
		s->dying_head = 0;
	}
	if (vz_reserve(s, (void **)&s->dying, &s->dying_capacity, sizeof(*s->dying),
		       s->dying_len + 1) != 0)
		return -1;
	s->dying[s->dying_len++] = (struct vz_ref){id, vz_node(s, id)->generation, t};
	return 0;
}

/* Marks ID and everything below it as removed at T: they fade out, then go. */
static int fade_out(struct viz_scene *s, uint32_t top, double t)
{
	if (top == 0 || vz_node(s, top)->state != VZ_ALIVE)
		return 0;
	if (queue_death(s, top, t) != 0)
		return -1;
	for (uint32_t id = top; id != VZ_NONE;) {
		struct vz_node *n = vz_node(s, id);
		if (n->state == VZ_ALIVE) {
			n->state = VZ_DYING;
			n->death_t = t;
		}
		if (n->first_child != VZ_NONE) {
			id = n->first_child;
			continue;
		}
		while (id != top && vz_node(s, id)->next_sibling == VZ_NONE)
			id = vz_node(s, id)->parent;
		id = id == top ? VZ_NONE : vz_node(s, id)->next_sibling;
	}
	return 0;
}

/*
 * An event told us what ID is (it keeps its cell: only its colour and size
 * change). A node with children is a directory whatever an event below
 * VZ_MAX_DEPTH, which lands on it, says.
 */
static void set_kind(struct viz_scene *s, uint32_t id, enum viz_kind kind)
{
	if (kind != VIZ_KIND_NONE && id != 0 && vz_node(s, id)->first_child == VZ_NONE)
		vz_node(s, id)->kind = (uint8_t)kind;
}

static bool is_within(const struct viz_scene *s, uint32_t id, uint32_t ancestor)
{
	for (; id != VZ_NONE; id = vz_node(s, id)->parent)
		if (id == ancestor)
			return true;
	return false;
}

static const char *base_name(const char *path, size_t *len)
{
	size_t end = vz_strlen(path);
	while (end > 0 && path[end - 1] == '/')
		end--;
	size_t start = end;
	while (start > 0 && path[start - 1] != '/')
		start--;
	*len = end - start;
	return path + start;
}

/* rename: the node, with its subtree, moves to its new parent and name. */
static int apply_rename(struct viz_scene *s, const struct viz_event *e, double t,
			uint32_t *touched)
{
	int error = 0;
	uint32_t src = resolve(s, e->path, vz_strlen(e->path), false, VIZ_KIND_NONE, t, &error);
	if (src == VZ_NONE || src == 0) {
		*touched = resolve(s, e->path2, vz_strlen(e->path2), true, e->kind, t, &error);
		return error;
	}
	uint32_t parent = resolve(s, e->path2, parent_length(e->path2), true, VIZ_KIND_DIR, t,
				  &error);
	if (error)
		return error;
	*touched = src;
	if (is_within(s, parent, src))
		return 0; /* into itself: the rename failed, whatever the trace says */
	size_t len;
	const char *name = base_name(e->path2, &len);
	if (len == 0)
		return 0;
	uint32_t existing = vz_child(s, parent, name, len);
	if (existing == src)
		return 0;
	if (existing != VZ_NONE)
		vz_drop_subtree(s, existing); /* replaced at once, as rename does */
	struct vz_node *n = vz_node(s, src);
	uint32_t old_parent = n->parent;
	if (old_parent == parent)
		return vz_move_node(s, src, parent, name, len); /* same cell */
	vz_unplace_subtree(s, src);
	if (vz_move_node(s, src, parent, name, len) != 0)
		return -1;
	return vz_replace(s, src, t);
}

static enum viz_kind kind_of_event(const struct viz_event *e)
{
	if (e->kind != VIZ_KIND_NONE)
		return e->kind;
	switch (e->op) {
	case VIZ_OP_MKDIR:
	case VIZ_OP_RMDIR:
	case VIZ_OP_OPENDIR:
	case VIZ_OP_READDIR:
	case VIZ_OP_RELEASEDIR:
	case VIZ_OP_FSYNCDIR:
		return VIZ_KIND_DIR;
	case VIZ_OP_SYMLINK:
		return VIZ_KIND_SYMLINK;
	case VIZ_OP_MKNOD:
		return VIZ_KIND_OTHER;
	default:
		return VIZ_KIND_NONE;
	}
}

/* The node at PATH, even one fading out, or VZ_NONE. */
static uint32_t find_any(const struct viz_scene *s, const char *path)
{
	uint32_t id = 0;
	size_t pos = 0, n;
	while (id != VZ_NONE && (n = next_component(path, &pos)) > 0) {
		id = vz_child(s, id, path + pos, n);
		pos += n;
	}
	return id;
}

/*
 * Operations on an open file or directory, or its attributes: they go on
 * after the name is removed (a process writing an unlinked temporary file,
 * rm's releasedir after its rmdir) and must not bring the name back.
 */
static bool works_on_handle(enum viz_op op)
{
	switch (op) {
	case VIZ_OP_READ:
	case VIZ_OP_WRITE:
	case VIZ_OP_FLUSH:
	case VIZ_OP_RELEASE:
	case VIZ_OP_FSYNC:
	case VIZ_OP_READDIR:
	case VIZ_OP_RELEASEDIR:
	case VIZ_OP_FSYNCDIR:
	case VIZ_OP_FLOCK:
	case VIZ_OP_FALLOCATE:
	case VIZ_OP_LSEEK:
	case VIZ_OP_GETATTR:
	case VIZ_OP_SETATTR:
		return true;
	default:
		return false;
	}
}

/*
 * Are ID and its ancestors alive, and within VZ_MAX_DEPTH? Then resolve()
 * with CREATE finds ID by its path, changing nothing on the way.
 */
static bool alive_path(const struct viz_scene *s, uint32_t id)
{
	if (vz_node(s, id)->depth > VZ_MAX_DEPTH)
		return false;
	for (; id != VZ_NONE; id = vz_node(s, id)->parent)
		if (vz_node(s, id)->state != VZ_ALIVE)
			return false;
	return true;
}

/* The node a successful event is about, created if new. */
static uint32_t ensure(struct viz_scene *s, const char *path, enum viz_kind kind, double t,
		       int *error)
{
	uint32_t id = resolve(s, path, vz_strlen(path), true,
			      kind == VIZ_KIND_NONE ? VIZ_KIND_FILE : kind, t, error);
	if (id != VZ_NONE && !*error)
		set_kind(s, id, kind);
	return id;
}

static int apply_success(struct viz_scene *s, const struct viz_event *e, double t,
			 uint16_t process)
{
	enum vz_class class = vz_class_of(e->op);
	enum vz_touch how = class == VZ_CLASS_WRITE	 ? VZ_TOUCH_WRITE
			    : class == VZ_CLASS_COMMIT ? VZ_TOUCH_COMMIT
						       : VZ_TOUCH_ACCESS;
	enum viz_kind kind = kind_of_event(e);
	int error = 0;
	uint32_t id = VZ_NONE;
	switch (e->op) {
	case VIZ_OP_RENAME:
		if (!e->path2)
			break;
		error = apply_rename(s, e, t, &id);
		break;
	case VIZ_OP_UNLINK:
	case VIZ_OP_RMDIR:
		id = resolve(s, e->path, vz_strlen(e->path), false, VIZ_KIND_NONE, t, &error);
		if (id != VZ_NONE) {
			touch(s, id, VZ_TOUCH_DELETE, class, e->op, process, instance_of(e), t);
			return fade_out(s, id, t);
		}
		return 0;
	case VIZ_OP_LINK:
	case VIZ_OP_COPY_FILE_RANGE:
		/* the source is read; the new name or the output is written */
		id = ensure(s, e->path, kind, t, &error);
		if (id != VZ_NONE)
			touch(s, id, VZ_TOUCH_ACCESS, VZ_CLASS_READ, e->op, process, instance_of(e), t);
		if (!e->path2 || error)
			break;
		id = ensure(s, e->path2, kind, t, &error);
		if (e->op == VIZ_OP_COPY_FILE_RANGE)
			how = VZ_TOUCH_WRITE;
		break;
	default:
		id = find_any(s, e->path);
		if (id != VZ_NONE && alive_path(s, id)) /* what ensure() would find: */
			set_kind(s, id, kind);		/* not looked up twice */
		else if (id == VZ_NONE || vz_node(s, id)->state != VZ_DYING || !works_on_handle(e->op))
			id = ensure(s, e->path, kind, t, &error);
		break;
	}
	if (id != VZ_NONE && !error)
		touch(s, id, how, class, e->op, process, instance_of(e), t);
	if (e->op == VIZ_OP_COMMIT && e->path2) {
		size_t len = vz_append(s->commit, sizeof(s->commit), 0, "commit ");
		for (size_t i = 0; i < 7 && e->path2[i]; i++)
			s->commit[len++] = e->path2[i];
		s->commit[len] = '\0';
		s->commit_t = t;
	}
	return error;
}

/* A failed operation: the node if we know it, else the directory searched. */
static int apply_failure(struct viz_scene *s, const struct viz_event *e, double t,
			 uint16_t process)
{
	int error = 0;
	uint32_t id = resolve(s, e->path, vz_strlen(e->path), false, VIZ_KIND_NONE, t, &error);
	if (id == VZ_NONE)
		id = resolve(s, e->path, parent_length(e->path), true, VIZ_KIND_DIR, t, &error);
	if (id != VZ_NONE && !error)
		touch(s, id, VZ_TOUCH_ACCESS, vz_class_of(e->op), e->op, process, instance_of(e), t);
	return error;
}

static void describe_event(struct viz_scene *s, const struct viz_event *e)
{
	size_t len = vz_append(s->last_event, sizeof(s->last_event), 0, viz_op_name(e->op));
	if (!e->path)
		return;
	len = vz_append(s->last_event, sizeof(s->last_event), len, " ");
	const char *path = e->path;
	size_t path_len = vz_strlen(path), room = sizeof(s->last_event) - 1 - len;
	if (path_len > room) { /* keep the end of a long path: it says the most */
		len = vz_append(s->last_event, sizeof(s->last_event), len, "\xe2\x80\xa6");
		room = sizeof(s->last_event) - 1 - len;
		path += path_len - room;
	}
	vz_append(s->last_event, sizeof(s->last_event), len, path);
}

/* Counts E at T; *PROCESS: who made it. 0 or -1. */
static int count_event(struct viz_scene *s, const struct viz_event *e, double t, uint16_t *process)
{
	s->events++;
	/* Requests the kernel makes itself come with pid 0 and no process name. */
	const char *comm = e->comm && e->comm[0]		   ? e->comm
			   : e->pid == 0 && e->op != VIZ_OP_LOST ? "kernel"
								   : NULL;
	if (touch_process(s, comm, t, process) != 0)
		return -1;
	vz_stats_count(s, e, *process);
	return 0;
}

/* Motion to T; activity too unless HOLD. */
static void move_clocks(struct viz_scene *s, double t, bool hold)
{
	double motion = vz_motion_now(s);
	if (t <= motion)
		return;
	if (hold && s->now > VZ_NEVER / 2)
		s->held += t - motion;
	else
		s->now = t - s->held;
}

int viz_scene_count(struct viz_scene *s, const struct viz_event *e)
{
	uint16_t process;
	return count_event(s, e, vm_max(e->t - s->held, s->now), &process);
}

int viz_scene_apply(struct viz_scene *s, const struct viz_event *e)
{
	move_clocks(s, e->t, false);
	double t = s->now;
	if (!s->have_origin) {
		s->origin_ns = e->ts_ns;
		s->have_origin = true;
	}
	uint16_t process;
	if (count_event(s, e, t, &process) != 0)
		return -1;
	describe_event(s, e);
	if (e->op == VIZ_OP_LOST || !e->path || e->path[0] != '/')
		return 0;
	return e->result >= 0 ? apply_success(s, e, t, process) : apply_failure(s, e, t, process);
}

/* ---- --prescan ---- */

static bool creates(enum viz_op op)
{
	return vz_class_of(op) == VZ_CLASS_CREATE;
}

/* Marks the node at PATH (new ones as FLAG; ancestors found new existed). */
static int prescan_path(struct viz_scene *s, const char *path, enum viz_kind kind,
			enum vz_prescan flag)
{
	int error = 0;
	uint32_t before = s->tree_count;
	uint32_t id = ensure(s, path, kind, VZ_NEVER, &error);
	if (error || id == VZ_NONE)
		return error;
	if (s->tree_count != before) {
		/* Every node just made existed at the start, but the path itself
		 * if the trace creates it. */
		for (uint32_t a = id; a != VZ_NONE && vz_node(s, a)->prescan == VZ_PRESCAN_NONE;
		     a = vz_node(s, a)->parent)
			vz_node(s, a)->prescan = VZ_PRESCAN_EXISTED;
		vz_node(s, id)->prescan = (uint8_t)flag;
	}
	return 0;
}

int viz_scene_prescan(struct viz_scene *s, const struct viz_event *e)
{
	if (e->op == VIZ_OP_LOST || !e->path || e->path[0] != '/')
		return 0;
	enum viz_kind kind = kind_of_event(e);
	if (e->result < 0) {
		/* the directory searched existed */
		size_t len = parent_length(e->path);
		int error = 0;
		uint32_t id = resolve(s, e->path, len, false, VIZ_KIND_NONE, VZ_NEVER, &error);
		if (id != VZ_NONE)
			return 0;
		uint32_t before = s->tree_count;
		id = resolve(s, e->path, len, true, VIZ_KIND_DIR, VZ_NEVER, &error);
		for (uint32_t a = id; !error && s->tree_count != before && a != VZ_NONE &&
				      vz_node(s, a)->prescan == VZ_PRESCAN_NONE;
		     a = vz_node(s, a)->parent)
			vz_node(s, a)->prescan = VZ_PRESCAN_EXISTED;
		return error;
	}
	bool two_paths = e->op == VIZ_OP_RENAME || e->op == VIZ_OP_LINK ||
			 e->op == VIZ_OP_COPY_FILE_RANGE;
	int error = prescan_path(s, e->path, kind,
				 creates(e->op) && e->op != VIZ_OP_LINK ? VZ_PRESCAN_BORN
									: VZ_PRESCAN_EXISTED);
	if (!error && two_paths && e->path2)
		error = prescan_path(s, e->path2, kind,
				     e->op == VIZ_OP_COPY_FILE_RANGE ? VZ_PRESCAN_EXISTED
								     : VZ_PRESCAN_BORN);
	return error;
}

/* The node after ID's subtree in depth-first order, or VZ_NONE. */
static uint32_t following(const struct viz_scene *s, uint32_t id)
{
	while (id != 0 && vz_node(s, id)->next_sibling == VZ_NONE)
		id = vz_node(s, id)->parent;
	return id == 0 ? VZ_NONE : vz_node(s, id)->next_sibling;
}

int viz_scene_prescan_done(struct viz_scene *s)
{
	/* A node that existed keeps its ancestors; what remains was created by
	 * the trace itself and appears when the trace creates it. */
	for (uint32_t id = 0; id < s->node_end; id++) {
		if (vz_node(s, id)->state == VZ_FREE || vz_node(s, id)->prescan != VZ_PRESCAN_EXISTED)
			continue;
		for (uint32_t a = vz_node(s, id)->parent;
		     a != VZ_NONE && vz_node(s, a)->prescan != VZ_PRESCAN_EXISTED;
		     a = vz_node(s, a)->parent)
			vz_node(s, a)->prescan = VZ_PRESCAN_EXISTED;
	}
	uint32_t id = vz_node(s, 0)->first_child;
	while (id != VZ_NONE) {
		uint32_t next;
		if (vz_node(s, id)->prescan != VZ_PRESCAN_EXISTED) {
			next = following(s, id);
			vz_drop_subtree(s, id);
		} else {
			next = vz_node(s, id)->first_child;
			if (next == VZ_NONE)
				next = following(s, id);
		}
		id = next;
	}
	s->prescan_done = true;
	return 0;
}

/* ---- time ---- */

int viz_scene_hold(struct viz_scene *s, double t)
{
	move_clocks(s, t, true);
	vz_layout_refresh(s);
	vz_camera_update(s);
	return 0;
}

int viz_scene_advance(struct viz_scene *s, double t, int64_t trace_ns)
{
	move_clocks(s, t, false);
	t = s->now;
	s->clock_ns = trace_ns;
	while (s->dying_head < s->dying_len && s->dying[s->dying_head].t + s->fade <= t) {
		struct vz_ref ref = s->dying[s->dying_head++];
		struct vz_node *n = vz_node(s, ref.id);
		if (n->generation == ref.generation && n->state == VZ_DYING && n->death_t == ref.t)
			vz_drop_subtree(s, ref.id);
	}
	vz_layout_refresh(s);
	vz_camera_update(s);
	return 0;
}

/* ---- colours ---- */

/* The colour of nodes never touched, coloured by operation or process. */
static struct viz_color dim_color(void)
{
	return vz_mix(vz_background(), (struct viz_color){0.55f, 0.6f, 0.68f, 1}, 0.6);
}

struct viz_color vz_node_color(const struct viz_scene *s, const struct vz_node *n,
			       double touch_t, double *flash, struct viz_color *glow)
{
	/* Full colour for the first third of the fade, then back to rest: a
	 * long blend of red and green would read as a third colour. */
	double age = s->now - touch_t;
	*flash = age >= 0 ? vm_ease(1.5 * (1 - age / s->fade)) : 0;
	struct viz_color rest = vz_kind_color((enum viz_kind)n->kind), hot;
	switch (s->color_by) {
	case VIZ_COLOR_BY_OP:
		hot = vz_class_color((enum vz_class)n->touch_class);
		rest = n->touch_t > VZ_NEVER ? vz_mix(hot, vz_background(), 0.35) : dim_color();
		break;
	case VIZ_COLOR_BY_PROCESS:
		hot = vz_process_shade(s, n->process);
		rest = n->process != NO_PROCESS ? vz_mix(hot, vz_background(), 0.35) : dim_color();
		break;
	default:
		hot = vz_touch_color((enum vz_touch)n->touch);
		break;
	}
	if (s->color_by != VIZ_COLOR_BY_KIND)
		hot = vz_mix(hot, (struct viz_color){1, 1, 1, 1}, 0.25);
	if (glow)
		*glow = hot;
	struct viz_color c = vz_fade_mix(rest, hot, *flash);
	/* fading in, but seen from the first frame */
	double alpha = vm_clamp(0.35 + 0.65 * (vz_motion_now(s) - n->born_t) / BIRTH_FADE_SECONDS, 0, 1);
	if (n->state == VZ_DYING) {
		/* A removed node keeps the removal's colour while it fades out:
		 * blended back towards a file's blue it would pass through the
		 * violet that means "other". */
		if (s->color_by == VIZ_COLOR_BY_KIND)
			c = vz_touch_color(VZ_TOUCH_DELETE);
		alpha *= vm_clamp(1 - (s->now - n->death_t) / s->fade, 0, 1);
	}
	c.a = (float)alpha;
	return c;
}

/* ---- queries ---- */

static void fill_info(const struct viz_scene *s, uint32_t id, int depth, struct viz_node_info *info)
{
	const struct vz_node *n = vz_node(s, id);
	uint32_t len;
	info->id = id;
	info->parent_id = id == 0 ? 0 : n->parent;
	info->depth = depth;
	info->name = vz_name_text(s, n->name, &len);
	info->name_len = len;
	info->kind = (enum viz_kind)n->kind;
	vz_current(s, n, &info->x, &info->y);
	info->r = vz_radius(s, n);
	info->target_x = n->x;
	info->target_y = n->y;
	info->target_r = vz_full_radius(n);
	/* the farthest corner of its subtree's cells (boxes are current after advance) */
	double dx = vm_max(n->x - n->box[0], n->box[2] - n->x) + 0.5;
	double dy = vm_max(n->y - n->box[1], n->box[3] - n->y) + 0.5;
	info->territory = vm_sqrt(dx * dx + dy * dy);
	info->color = vz_node_color(s, n, n->touch_t, &info->flash, NULL);
	info->dying = n->state == VZ_DYING;
	info->last_op = n->touch_t > VZ_NEVER ? (enum viz_op)n->touch_op : VIZ_OP_UNKNOWN;
	info->process = n->touch_t > VZ_NEVER && n->process != NO_PROCESS ? n->process : -1;
	info->instance = n->touch_t > VZ_NEVER ? n->instance : 0;
	info->touch_t = n->touch_t + s->held; /* in the caller's time, as restore_touch takes it */
}

/* Unlike resolve(), also finds nodes that are fading out. */
int viz_scene_find(const struct viz_scene *s, const char *path, struct viz_node_info *info)
{
	uint32_t id = 0;
	int depth = 0;
	size_t pos = 0, n;
	while ((n = next_component(path, &pos)) > 0) {
		id = vz_child(s, id, path + pos, n);
		if (id == VZ_NONE)
			return 0;
		pos += n;
		depth++;
	}
	fill_info(s, id, depth, info);
	return 1;
}

/* Writes the path of ID, NUL-terminated, into the path buffer. 0 or -1. */
static int path_of(struct viz_scene *s, uint32_t id)
{
	size_t len = 0;
	for (uint32_t a = id; a != 0; a = vz_node(s, a)->parent)
		len += 1 + s->names[vz_node(s, a)->name].len;
	if (vz_reserve(s, (void **)&s->path_buffer, &s->path_capacity, 1, len + 2) != 0)
		return -1;
	if (id == 0) {
		s->path_buffer[0] = '/';
		s->path_buffer[1] = '\0';
		return 0;
	}
	s->path_buffer[len] = '\0';
	for (uint32_t a = id; a != 0; a = vz_node(s, a)->parent) {
		uint32_t n;
		const char *name = vz_name_text(s, vz_node(s, a)->name, &n);
		len -= n;
		vz_copy(s->path_buffer + len, name, n);
		s->path_buffer[--len] = '/';
	}
	return 0;
}

int viz_scene_visit(struct viz_scene *s,
		    void (*fn)(void *ctx, const char *path, const struct viz_node_info *info),
		    void *ctx)
{
	uint32_t id = 0;
	int depth = 0;
	while (id != VZ_NONE) {
		struct viz_node_info info;
		if (path_of(s, id) != 0)
			return -1;
		fill_info(s, id, depth, &info);
		fn(ctx, s->path_buffer, &info);
		const struct vz_node *n = vz_node(s, id);
		if (n->first_child != VZ_NONE) {
			id = n->first_child;
			depth++;
			continue;
		}
		uint32_t next = following(s, id);
		if (next != VZ_NONE) { /* next is a child of one of id's ancestors */
			for (uint32_t a = id; a != vz_node(s, next)->parent; a = vz_node(s, a)->parent)
				depth--;
			depth++;
		}
		id = next;
	}
	return 0;
}

/* ---- restoring a snapshot's state (the counters are in stats.c) ---- */

int viz_scene_restore_process(struct viz_scene *s, const char *name, uint64_t events,
			      uint64_t errors, int color_slot)
{
	uint16_t process;
	if (touch_process(s, name, VZ_NEVER, &process) != 0)
		return -1;
	if (process == NO_PROCESS)
		return 0;
	struct vz_process *p = &s->processes[process];
	s->processes[p->head].family_events += events - p->events;
	p->events = events;
	p->errors = errors;
	if (color_slot >= 0 && color_slot < VIZ_PROCESS_COLORS && p->slot == VZ_NO_SLOT) {
		if (s->slot_owner[color_slot])
			s->processes[s->slot_owner[color_slot] - 1].slot = VZ_NO_SLOT;
		s->slot_owner[color_slot] = (uint16_t)(process + 1);
		p->slot = (uint8_t)color_slot;
	}
	return 0;
}

int viz_scene_join_family(struct viz_scene *s, const char *name, const char *head, unsigned shade)
{
	uint16_t member, leader;
	if (touch_process(s, head, VZ_NEVER, &leader) != 0 ||
	    touch_process(s, name, VZ_NEVER, &member) != 0)
		return -1;
	if (member == NO_PROCESS || leader == NO_PROCESS || member == leader || shade == 0)
		return 0;
	struct vz_process *p = &s->processes[member];
	/* once, before its first event; no family within a family */
	if (p->head != member || p->events || p->slot != VZ_NO_SLOT || s->processes[leader].head != leader)
		return 0;
	for (uint32_t q = 0; q < s->process_count; q++)
		if (s->processes[q].head == member && q != member)
			return 0;
	p->head = leader;
	p->shade = (uint8_t)((shade - 1) % VIZ_FAMILY_SHADES + 1);
	return 0;
}

void viz_scene_restore_touch(struct viz_scene *s, const char *path, enum viz_op op, int process,
			     double t)
{
	uint32_t id = path ? find_any(s, path) : VZ_NONE;
	if (id == VZ_NONE || (unsigned)op >= VIZ_OP_COUNT)
		return;
	struct vz_node *n = vz_node(s, id);
	t -= s->held;
	n->touch_t = t > VZ_NEVER / 2 ? t : VZ_NEVER / 2; /* later than never, whatever T says */
	n->touch = VZ_TOUCH_ACCESS;
	n->touch_class = (uint8_t)vz_class_of(op);
	n->touch_op = (uint8_t)op;
	n->process = process >= 0 && (uint32_t)process < s->process_count ? (uint16_t)process
									    : NO_PROCESS;
	n->instance = 0;
}
