/*
 * nodes.c — the inode table: a hash of (dev, ino) to node, reference
 * counting, and path building from the parent/name chain.
 *
 * Locking: `lock` guards the hash chains and every node's refs; `name_lock`
 * guards every node's parent and name. Where both are needed, name_lock is
 * taken first. A node's ancestors stay alive while it does, because every
 * node holds a reference on its parent; the kernel keeps a node alive for
 * the duration of any request that names it.
 */
#include "tracefs/nodes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INITIAL_BUCKETS 4096

static size_t hash_of(dev_t dev, ino_t ino, size_t bucket_count)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	h ^= h >> 29;
	return (size_t)h & (bucket_count - 1);
}

int nodes_init(struct node_table *table, int root_fd)
{
	struct stat st;

	memset(table, 0, sizeof(*table));
	if (fstat(root_fd, &st) == -1)
		return -1;
	table->buckets = calloc(INITIAL_BUCKETS, sizeof(*table->buckets));
	if (!table->buckets)
		return -1;
	table->bucket_count = INITIAL_BUCKETS;
	pthread_mutex_init(&table->lock, NULL);
	pthread_rwlock_init(&table->name_lock, NULL);
	table->root.fd = root_fd;
	table->root.dev = st.st_dev;
	table->root.ino = st.st_ino;
	table->root.type = st.st_mode & S_IFMT;
	table->root.refs = 1; /* never freed */
	return 0;
}

static void free_node(struct node *node)
{
	close(node->fd);
	free(node->name);
	free(node);
}

void nodes_destroy(struct node_table *table)
{
	for (size_t i = 0; i < table->bucket_count; i++) {
		struct node *node = table->buckets[i];
		while (node) {
			struct node *next = node->hash_next;
			free_node(node);
			node = next;
		}
	}
	free(table->buckets);
	close(table->root.fd);
	pthread_mutex_destroy(&table->lock);
	pthread_rwlock_destroy(&table->name_lock);
}

/* Called with table->lock held. */
static struct node *find_locked(struct node_table *table, dev_t dev, ino_t ino)
{
	if (dev == table->root.dev && ino == table->root.ino)
		return &table->root;
	struct node *node = table->buckets[hash_of(dev, ino, table->bucket_count)];
	while (node && !(node->ino == ino && node->dev == dev))
		node = node->hash_next;
	return node;
}

/* Doubles the bucket array; on allocation failure the table stays as it is. */
static void grow_locked(struct node_table *table)
{
	size_t count = table->bucket_count * 2;
	struct node **buckets = calloc(count, sizeof(*buckets));
	if (!buckets)
		return;
	for (size_t i = 0; i < table->bucket_count; i++) {
		struct node *node = table->buckets[i];
		while (node) {
			struct node *next = node->hash_next;
			size_t b = hash_of(node->dev, node->ino, count);
			node->hash_next = buckets[b];
			buckets[b] = node;
			node = next;
		}
	}
	free(table->buckets);
	table->buckets = buckets;
	table->bucket_count = count;
}

static void unhash_locked(struct node_table *table, struct node *node)
{
	struct node **link = &table->buckets[hash_of(node->dev, node->ino, table->bucket_count)];
	while (*link != node)
		link = &(*link)->hash_next;
	*link = node->hash_next;
	table->node_count--;
}

/*
 * Drops COUNT references of NODE and frees it and then any ancestors whose
 * last reference it held. Called with table->lock held; the caller must
 * also hold name_lock for writing, since freeing changes parent pointers.
 */
static void unref_locked(struct node_table *table, struct node *node, uint64_t count)
{
	while (node && node != &table->root) {
		node->refs -= count;
		if (node->refs > 0)
			return;
		struct node *parent = node->parent;
		unhash_locked(table, node);
		free_node(node);
		node = parent;
		count = 1;
	}
}

struct node *nodes_add_lookup(struct node_table *table, struct node *parent,
			      const char *name, int fd, const struct stat *st)
{
	pthread_rwlock_wrlock(&table->name_lock);
	pthread_mutex_lock(&table->lock);
	struct node *node = find_locked(table, st->st_dev, st->st_ino);
	if (node) {
		close(fd);
		node->refs++;
		if (node != &table->root &&
		    (node->parent != parent || strcmp(node->name, name) != 0)) {
			char *copy = strdup(name);
			if (copy) {
				parent->refs++;
				unref_locked(table, node->parent, 1);
				node->parent = parent;
				free(node->name);
				node->name = copy;
			}
		}
		goto out;
	}
	node = calloc(1, sizeof(*node));
	char *copy = strdup(name);
	if (!node || !copy) {
		free(node);
		free(copy);
		close(fd);
		node = NULL;
		errno = ENOMEM;
		goto out;
	}
	node->fd = fd;
	node->dev = st->st_dev;
	node->ino = st->st_ino;
	node->type = st->st_mode & S_IFMT;
	node->refs = 1;
	node->parent = parent;
	node->name = copy;
	parent->refs++;
	if (table->node_count >= table->bucket_count)
		grow_locked(table);
	size_t b = hash_of(node->dev, node->ino, table->bucket_count);
	node->hash_next = table->buckets[b];
	table->buckets[b] = node;
	table->node_count++;
out:
	pthread_mutex_unlock(&table->lock);
	pthread_rwlock_unlock(&table->name_lock);
	return node;
}

void nodes_forget(struct node_table *table, struct node *node, uint64_t count)
{
	pthread_rwlock_wrlock(&table->name_lock);
	pthread_mutex_lock(&table->lock);
	unref_locked(table, node, count);
	pthread_mutex_unlock(&table->lock);
	pthread_rwlock_unlock(&table->name_lock);
}

struct node *nodes_find(struct node_table *table, dev_t dev, ino_t ino)
{
	pthread_mutex_lock(&table->lock);
	struct node *node = find_locked(table, dev, ino);
	pthread_mutex_unlock(&table->lock);
	return node;
}

int nodes_rename(struct node_table *table, struct node *node,
		 struct node *new_parent, const char *new_name)
{
	char *copy = strdup(new_name);
	if (!copy)
		return -1;
	pthread_rwlock_wrlock(&table->name_lock);
	pthread_mutex_lock(&table->lock);
	new_parent->refs++;
	unref_locked(table, node->parent, 1);
	node->parent = new_parent;
	free(node->name);
	node->name = copy;
	pthread_mutex_unlock(&table->lock);
	pthread_rwlock_unlock(&table->name_lock);
	return 0;
}

/* Length of the path of NODE; called with name_lock held. */
static size_t path_length_locked(const struct node *node)
{
	size_t length = 0;
	for (; node->parent; node = node->parent)
		length += 1 + strlen(node->name);
	return length;
}

/* Writes the path of NODE so that it ends just before END; returns its start. */
static char *fill_path_locked(const struct node *node, char *end)
{
	for (; node->parent; node = node->parent) {
		size_t n = strlen(node->name);
		end -= n;
		memcpy(end, node->name, n);
		*--end = '/';
	}
	return end;
}

char *nodes_child_path(struct node_table *table, struct node *parent,
		       const char *name)
{
	size_t name_length = strlen(name);
	pthread_rwlock_rdlock(&table->name_lock);
	size_t length = path_length_locked(parent);
	char *path = malloc(length + 1 + name_length + 1);
	if (path) {
		fill_path_locked(parent, path + length);
		path[length] = '/';
		memcpy(path + length + 1, name, name_length + 1);
	}
	pthread_rwlock_unlock(&table->name_lock);
	return path;
}

char *nodes_path(struct node_table *table, struct node *node)
{
	pthread_rwlock_rdlock(&table->name_lock);
	size_t length = path_length_locked(node);
	char *path = malloc(length ? length + 1 : 2);
	if (path) {
		if (length) {
			fill_path_locked(node, path + length);
			path[length] = '\0';
		} else {
			strcpy(path, "/");
		}
	}
	pthread_rwlock_unlock(&table->name_lock);
	return path;
}

char *nodes_name_in_parent(struct node_table *table, struct node *node,
			   int *parent_fd)
{
	char *name = NULL;
	pthread_rwlock_rdlock(&table->name_lock);
	if (!node->parent) {
		errno = EINVAL;
	} else {
		name = strdup(node->name);
		*parent_fd = name ? fcntl(node->parent->fd, F_DUPFD_CLOEXEC, 0) : -1;
		if (*parent_fd == -1) {
			free(name);
			name = NULL;
		}
	}
	pthread_rwlock_unlock(&table->name_lock);
	return name;
}
