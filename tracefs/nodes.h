/*
 * nodes.h — the inode table of the passthrough (private to tracefs/).
 *
 * One node per backing inode that the kernel holds a reference to. A node
 * reaches its backing object through an O_PATH descriptor (so operations
 * never resolve paths in the backing tree), and keeps the kernel's lookup
 * count and its current name and parent, from which the path of every
 * event is built.
 *
 * Descriptors are bounded: at most about half the descriptor limit are
 * held, the least recently used ones are let go, and a node whose
 * descriptor was let go is opened again on its next use — by file handle
 * (open_by_handle_at) where the file system and the daemon's privileges
 * allow, else by its name in its parent, checked to be the same inode
 * (ESTALE when it is not: never another file).
 */
#ifndef TRACEFS_NODES_H
#define TRACEFS_NODES_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

struct file_handle;

struct node {
	_Atomic int fd;		  /* O_PATH descriptor of the backing object, or -1 */
	_Atomic unsigned pins;	  /* operations using fd right now */
	_Atomic bool recent;	  /* used since the eviction hand last passed */
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
	struct node *hash_next; /* in its hash chain, or in the retired list */
	bool retired; /* its object is gone: in no hash chain (see nodes.c) */
	/* Ring of nodes holding a descriptor, guarded by fd_lock. */
	struct node *fd_prev, *fd_next;
	struct file_handle *handle; /* saved when fd is first let go, or NULL */
};

struct node_table {
	pthread_mutex_t lock;	     /* hash chains and refs */
	pthread_rwlock_t name_lock;  /* parent and name of every node */
	pthread_mutex_t fd_lock;     /* the descriptor ring; who sets fd */
	struct node **buckets;
	struct node *retired; /* nodes the kernel still holds whose objects are gone */
	size_t bucket_count; /* a power of two */
	size_t node_count;
	struct node *fd_hand; /* next in the ring to consider letting go */
	size_t open_fds;      /* nodes in the ring */
	size_t max_fds;
	int root_mount_id;
	int mount_fd; /* the source opened for open_by_handle_at(), or -1 */
	bool handles; /* open_by_handle_at works on the source */
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

/*
 * The O_PATH descriptor of NODE, opened again if it was let go, and kept
 * open until nodes_fd_put(). Returns -1 with errno set (ESTALE when the
 * object is gone); nothing is to be put then.
 */
int nodes_fd_get(struct node_table *table, struct node *node);
void nodes_fd_put(struct node *node);

/*
 * Lets go of descriptors after an EMFILE or ENFILE elsewhere, so that the
 * call may be retried; lowers the bound for good. Returns whether any was
 * let go.
 */
bool nodes_shed(struct node_table *table);

/* Moves NODE under NEW_PARENT as NEW_NAME after a successful rename. */
int nodes_rename(struct node_table *table, struct node *node,
		 struct node *new_parent, const char *new_name);

/* Path of NODE relative to the mount ("/" for the root); malloc'd. */
char *nodes_path(struct node_table *table, struct node *node);

/* Path of NAME inside PARENT; malloc'd. */
char *nodes_child_path(struct node_table *table, struct node *parent,
		       const char *name);

#endif
