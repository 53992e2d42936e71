/*
 * nodes.h — the inode table of the passthrough (private to tracefs/).
 *
 * One node per backing inode that the kernel holds a reference to. A node
 * keeps an O_PATH descriptor of the backing object (so operations never
 * resolve paths in the backing tree), the kernel's lookup count, and its
 * current name and parent, from which the path of every event is built.
 */
#ifndef TRACEFS_NODES_H
#define TRACEFS_NODES_H

#include <pthread.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct node {
	int fd; /* O_PATH descriptor of the backing object */
	dev_t dev;
	ino_t ino;
	mode_t type; /* S_IFMT bits */
	/* Kernel lookups plus child nodes that point here; guarded by the
	 * table mutex. The node is freed when this reaches zero. */
	uint64_t refs;
	/* Current name and parent, guarded by the table's name lock. A hard
	 * link takes the name it was last looked up by. */
	struct node *parent;
	char *name;
	struct node *hash_next;
};

struct node_table {
	pthread_mutex_t lock;	     /* hash chains and refs */
	pthread_rwlock_t name_lock;  /* parent and name of every node */
	struct node **buckets;
	size_t bucket_count; /* a power of two */
	size_t node_count;
	struct node root;
};

/* Takes ownership of root_fd (an O_PATH descriptor of the source). */
int nodes_init(struct node_table *table, int root_fd);
void nodes_destroy(struct node_table *table);

/*
 * Records a kernel lookup of NAME in PARENT that found the object described
 * by ST and opened as FD (ownership passes to the table: FD is closed when
 * the object is known already). Returns the node, or NULL with errno set.
 */
struct node *nodes_add_lookup(struct node_table *table, struct node *parent,
			      const char *name, int fd, const struct stat *st);

/* Drops COUNT kernel lookups of NODE. */
void nodes_forget(struct node_table *table, struct node *node, uint64_t count);

/* The node for (dev, ino) if the kernel holds it, else NULL. */
struct node *nodes_find(struct node_table *table, dev_t dev, ino_t ino);

/* Moves NODE under NEW_PARENT as NEW_NAME after a successful rename. */
int nodes_rename(struct node_table *table, struct node *node,
		 struct node *new_parent, const char *new_name);

/* Path of NODE relative to the mount ("/" for the root); malloc'd. */
char *nodes_path(struct node_table *table, struct node *node);

/* Path of NAME inside PARENT; malloc'd. */
char *nodes_child_path(struct node_table *table, struct node *parent,
		       const char *name);

/*
 * Copies the name of NODE into a malloc'd string and returns it, with a
 * duplicate of the parent's descriptor in *parent_fd that the caller closes
 * (for the *at() calls that must not follow a symlink node). Returns NULL
 * with errno set for the root, which has no name, or on failure.
 */
char *nodes_name_in_parent(struct node_table *table, struct node *node,
			   int *parent_fd);

#endif
