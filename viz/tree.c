/*
 * tree.c — the scene's tree: nodes in one array (ids are indexes, freed
 * ids reused), found by (parent, name) through a chained hash table; names
 * interned once each (a build creates and deletes conftest.c thousands of
 * times).
 */
#include "viz/scene.h"

#define INITIAL_NODES 256
#define INITIAL_BUCKETS 256
#define INITIAL_NAMES 256

/* FNV-1a: deterministic on every platform, good enough for path names. */
static uint32_t hash_bytes(uint32_t seed, const char *text, size_t len)
{
	uint32_t h = 2166136261u ^ seed;
	for (size_t i = 0; i < len; i++) {
		h ^= (unsigned char)text[i];
		h *= 16777619u;
	}
	return h;
}

static bool same_bytes(const char *a, const char *b, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

const char *vz_name_text(const struct viz_scene *s, uint32_t name, uint32_t *len)
{
	*len = s->names[name].len;
	return s->chars + s->names[name].offset;
}

/* ---- names ---- */

static int grow_name_buckets(struct viz_scene *s)
{
	uint32_t count = s->name_bucket_count ? s->name_bucket_count * 2 : INITIAL_NAMES;
	uint32_t *buckets = vz_alloc(s, count * sizeof(*buckets));
	if (!buckets)
		return -1;
	for (uint32_t i = 0; i < count; i++)
		buckets[i] = VZ_NONE;
	for (uint32_t i = 0; i < s->name_count; i++) {
		struct vz_name *n = &s->names[i];
		uint32_t b = hash_bytes(0, s->chars + n->offset, n->len) & (count - 1);
		n->next = buckets[b];
		buckets[b] = i;
	}
	vz_release(s, s->name_buckets, s->name_bucket_count * sizeof(*buckets));
	s->name_buckets = buckets;
	s->name_bucket_count = count;
	return 0;
}

uint32_t vz_intern(struct viz_scene *s, const char *name, size_t len)
{
	if (s->name_bucket_count) {
		uint32_t b = hash_bytes(0, name, len) & (s->name_bucket_count - 1);
		for (uint32_t i = s->name_buckets[b]; i != VZ_NONE; i = s->names[i].next)
			if (s->names[i].len == len && same_bytes(s->chars + s->names[i].offset, name, len))
				return i;
	}
	if (len > UINT32_MAX / 2 || s->chars_len + len + 1 > UINT32_MAX)
		return VZ_NONE;
	size_t names_capacity = s->name_capacity;
	if (vz_reserve(s, (void **)&s->chars, &s->chars_capacity, 1, s->chars_len + len + 1) != 0 ||
	    vz_reserve(s, (void **)&s->names, &names_capacity, sizeof(*s->names),
		       s->name_count + 1) != 0)
		return VZ_NONE;
	s->name_capacity = (uint32_t)names_capacity;
	if (s->name_count + 1 > s->name_bucket_count && grow_name_buckets(s) != 0)
		return VZ_NONE;
	vz_copy(s->chars + s->chars_len, name, len);
	uint32_t index = s->name_count++;
	struct vz_name *n = &s->names[index];
	n->offset = (uint32_t)s->chars_len;
	n->len = (uint32_t)len;
	s->chars[s->chars_len + len] = '\0'; /* so that a name is also a C string */
	s->chars_len += len + 1;
	uint32_t b = hash_bytes(0, name, len) & (s->name_bucket_count - 1);
	n->next = s->name_buckets[b];
	s->name_buckets[b] = index;
	return index;
}

/* ---- the (parent, name) table: names are interned, so the key is two ids ---- */

static uint32_t bucket_of(const struct viz_scene *s, uint32_t parent, uint32_t name)
{
	uint32_t key[2] = {parent, name};
	return hash_bytes(0, (const char *)key, sizeof(key)) & (s->bucket_count - 1);
}

static void hash_insert(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id);
	uint32_t b = bucket_of(s, n->parent, n->name);
	n->hash_next = s->buckets[b];
	s->buckets[b] = id;
}

static void hash_remove(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id);
	uint32_t *link = &s->buckets[bucket_of(s, n->parent, n->name)];
	while (*link != id)
		link = &vz_node(s, *link)->hash_next;
	*link = n->hash_next;
}

static int grow_buckets(struct viz_scene *s)
{
	uint32_t count = s->bucket_count ? s->bucket_count * 2 : INITIAL_BUCKETS;
	uint32_t *buckets = vz_alloc(s, count * sizeof(*buckets));
	if (!buckets)
		return -1;
	vz_release(s, s->buckets, s->bucket_count * sizeof(*buckets));
	s->buckets = buckets;
	s->bucket_count = count;
	for (uint32_t i = 0; i < count; i++)
		buckets[i] = VZ_NONE;
	for (uint32_t id = 0; id < s->node_end; id++)
		if (vz_node(s, id)->state != VZ_FREE && vz_node(s, id)->parent != VZ_NONE)
			hash_insert(s, id);
	return 0;
}

uint32_t vz_child(const struct viz_scene *s, uint32_t parent, const char *name, size_t len)
{
	/* The name must be interned to be a child's name; look it up without adding. */
	uint32_t b = hash_bytes(0, name, len) & (s->name_bucket_count - 1);
	uint32_t interned = VZ_NONE;
	for (uint32_t i = s->name_buckets[b]; i != VZ_NONE; i = s->names[i].next)
		if (s->names[i].len == len && same_bytes(s->chars + s->names[i].offset, name, len)) {
			interned = i;
			break;
		}
	if (interned == VZ_NONE)
		return VZ_NONE;
	for (uint32_t id = s->buckets[bucket_of(s, parent, interned)]; id != VZ_NONE;
	     id = vz_node(s, id)->hash_next) {
		const struct vz_node *n = vz_node(s, id);
		if (n->parent == parent && n->name == interned)
			return id;
	}
	return VZ_NONE;
}

/* ---- nodes ---- */

static uint32_t new_node(struct viz_scene *s)
{
	uint32_t id;
	if (s->free_nodes != VZ_NONE) {
		id = s->free_nodes;
		s->free_nodes = vz_node(s, id)->next_sibling;
	} else {
		size_t capacity = s->node_capacity;
		if (s->node_end == VZ_NONE - 1 ||
		    vz_reserve(s, (void **)&s->nodes, &capacity, sizeof(*s->nodes),
			       (size_t)s->node_end + 1) != 0)
			return VZ_NONE;
		s->node_capacity = (uint32_t)capacity;
		id = s->node_end++;
		vz_node(s, id)->generation = 0;
	}
	struct vz_node *n = vz_node(s, id);
	uint32_t generation = n->generation;
	vz_zero(n, sizeof(*n));
	n->generation = generation;
	n->parent = n->first_child = n->last_child = VZ_NONE;
	n->next_sibling = n->prev_sibling = n->hash_next = VZ_NONE;
	n->state = VZ_ALIVE;
	return id;
}

static void add_descendants(struct viz_scene *s, uint32_t from, int64_t delta)
{
	for (uint32_t a = from; a != VZ_NONE; a = vz_node(s, a)->parent)
		vz_node(s, a)->descendants = (uint32_t)((int64_t)vz_node(s, a)->descendants + delta);
}

static void link_child(struct viz_scene *s, uint32_t parent, uint32_t id)
{
	struct vz_node *p = vz_node(s, parent), *n = vz_node(s, id);
	n->parent = parent;
	n->depth = (uint16_t)(p->depth + 1);
	n->prev_sibling = p->last_child;
	n->next_sibling = VZ_NONE;
	if (p->last_child != VZ_NONE)
		vz_node(s, p->last_child)->next_sibling = id;
	else
		p->first_child = id;
	p->last_child = id;
	p->children++;
	s->tree_changes++;
	add_descendants(s, parent, 1 + (int64_t)n->descendants);
}

static void unlink_child(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id), *p = vz_node(s, n->parent);
	if (n->prev_sibling != VZ_NONE)
		vz_node(s, n->prev_sibling)->next_sibling = n->next_sibling;
	else
		p->first_child = n->next_sibling;
	if (n->next_sibling != VZ_NONE)
		vz_node(s, n->next_sibling)->prev_sibling = n->prev_sibling;
	else
		p->last_child = n->prev_sibling;
	p->children--;
	s->tree_changes++;
	add_descendants(s, n->parent, -1 - (int64_t)n->descendants);
	n->parent = n->next_sibling = n->prev_sibling = VZ_NONE;
}

int vz_tree_init(struct viz_scene *s, const char *root_label)
{
	s->free_nodes = VZ_NONE;
	if (grow_buckets(s) != 0)
		return -1;
	const char *label = root_label && root_label[0] ? root_label : "/";
	uint32_t name = vz_intern(s, label, vz_strlen(label));
	uint32_t root = name == VZ_NONE ? VZ_NONE : new_node(s);
	if (root == VZ_NONE)
		return -1;
	struct vz_node *n = vz_node(s, root);
	n->name = name;
	n->kind = VIZ_KIND_DIR;
	s->tree_count = 1;
	return 0;
}

void vz_tree_free(struct viz_scene *s)
{
	vz_release(s, s->nodes, s->node_capacity * sizeof(*s->nodes));
	vz_release(s, s->buckets, s->bucket_count * sizeof(*s->buckets));
	vz_release(s, s->chars, s->chars_capacity);
	vz_release(s, s->names, s->name_capacity * sizeof(*s->names));
	vz_release(s, s->name_buckets, s->name_bucket_count * sizeof(*s->name_buckets));
}

uint32_t vz_add_child(struct viz_scene *s, uint32_t parent, const char *name, size_t len,
		      enum viz_kind kind)
{
	uint32_t interned = vz_intern(s, name, len);
	if (interned == VZ_NONE)
		return VZ_NONE;
	if (s->tree_count + 1 > s->bucket_count && grow_buckets(s) != 0)
		return VZ_NONE;
	uint32_t id = new_node(s);
	if (id == VZ_NONE)
		return VZ_NONE;
	struct vz_node *n = vz_node(s, id);
	n->name = interned;
	n->kind = (uint8_t)kind;
	link_child(s, parent, id);
	hash_insert(s, id);
	s->tree_count++;
	return id;
}

int vz_move_node(struct viz_scene *s, uint32_t id, uint32_t parent, const char *name,
		 size_t len)
{
	uint32_t interned = vz_intern(s, name, len);
	if (interned == VZ_NONE)
		return -1;
	hash_remove(s, id);
	unlink_child(s, id);
	vz_node(s, id)->name = interned;
	link_child(s, parent, id);
	hash_insert(s, id);
	return 0;
}

/* ---- removal ---- */

/* ID must be out of the hash table and of its parent's list. */
static void free_node(struct viz_scene *s, uint32_t id)
{
	struct vz_node *n = vz_node(s, id);
	n->state = VZ_FREE;
	n->generation++;
	n->parent = VZ_NONE;
	n->next_sibling = s->free_nodes;
	s->free_nodes = id;
	s->tree_count--;
}

void vz_drop_subtree(struct viz_scene *s, uint32_t top)
{
	vz_unplace_subtree(s, top);
	/* Leaves first: each freed node is its parent's first child. */
	uint32_t cur = top;
	for (;;) {
		while (vz_node(s, cur)->first_child != VZ_NONE)
			cur = vz_node(s, cur)->first_child;
		if (cur == top)
			break;
		uint32_t up = vz_node(s, cur)->parent;
		struct vz_node *u = vz_node(s, up);
		u->first_child = vz_node(s, cur)->next_sibling;
		u->children--;
		if (u->first_child == VZ_NONE)
			u->last_child = VZ_NONE;
		else
			vz_node(s, u->first_child)->prev_sibling = VZ_NONE;
		hash_remove(s, cur);
		free_node(s, cur);
		cur = up;
	}
	hash_remove(s, top);
	unlink_child(s, top); /* its descendants count still covers the freed ones */
	free_node(s, top);
}
