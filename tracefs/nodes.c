/*
 * nodes.c — the inode table: a hash of (dev, ino) to node, reference
 * counting, and path building from the parent/name chain.
 *
 * Locking: `lock` guards the hash chains and every node's refs; `name_lock`
 * guards every node's parent and name; `fd_lock` guards the ring of nodes
 * that hold a descriptor, and only its holder sets a node's fd. Locks are
 * taken in the order name_lock, lock, fd_lock. A node's ancestors stay
 * alive while it does, because every node holds a reference on its parent;
 * the kernel keeps a node alive for the duration of any request that names
 * it.
 *
 * Descriptors: using one costs two atomic operations on the node (pin,
 * unpin) and no lock while it is open. The eviction hand (a CLOCK: a node
 * used since the hand last passed is skipped once) lets go of unpinned
 * descriptors only, under fd_lock: it sets fd to -1 and then looks at
 * pins again, while a user pins and then reads fd, so (all sequentially
 * consistent) either the user sees -1 and opens the node again, or the
 * hand sees the pin and puts the descriptor back.
 */
#include "tracefs/nodes.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define INITIAL_BUCKETS 4096
/* Bounds on how many descriptors the nodes hold: about half the process's
 * limit, the rest left for open files, the trace and the sockets. */
#define MIN_FDS 16
#define MAX_FDS (1u << 20)

static size_t hash_of(dev_t dev, ino_t ino, size_t bucket_count)
{
	uint64_t h = (uint64_t)ino * 0x9E3779B97F4A7C15ull ^ (uint64_t)dev;
	h ^= h >> 29;
	return (size_t)h & (bucket_count - 1);
}

/* Whether nodes can be opened again by file handle: the source's file
 * system makes handles and the daemon may open them (CAP_DAC_READ_SEARCH). */
static bool handles_work(struct node_table *table, int root_fd)
{
	char buffer[sizeof(struct file_handle) + MAX_HANDLE_SZ] __attribute__((aligned(8)));
	struct file_handle *handle = (struct file_handle *)buffer;
	handle->handle_bytes = MAX_HANDLE_SZ;
	if (name_to_handle_at(root_fd, "", handle, &table->root_mount_id, AT_EMPTY_PATH) == -1)
		return false;
	/* open_by_handle_at() wants a descriptor that is not O_PATH. */
	table->mount_fd = openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (table->mount_fd == -1)
		return false;
	int fd = open_by_handle_at(table->mount_fd, handle, O_PATH | O_CLOEXEC);
	if (fd == -1) {
		close(table->mount_fd);
		table->mount_fd = -1;
		return false;
	}
	close(fd);
	return true;
}

int nodes_init(struct node_table *table, int root_fd)
{
	struct stat st;

	memset(table, 0, sizeof(*table));
	table->mount_fd = -1;
	if (fstat(root_fd, &st) == -1)
		return -1;
	table->buckets = calloc(INITIAL_BUCKETS, sizeof(*table->buckets));
	if (!table->buckets)
		return -1;
	table->bucket_count = INITIAL_BUCKETS;
	pthread_mutex_init(&table->lock, NULL);
	pthread_rwlock_init(&table->name_lock, NULL);
	pthread_mutex_init(&table->fd_lock, NULL);
	struct rlimit limit;
	rlim_t half = getrlimit(RLIMIT_NOFILE, &limit) == 0 ? limit.rlim_cur / 2 : 512;
	table->max_fds = half < MIN_FDS ? MIN_FDS : half > MAX_FDS ? MAX_FDS : (size_t)half;
	table->handles = handles_work(table, root_fd);
	table->root.fd = root_fd; /* never let go: the root is not in the ring */
	table->root.dev = st.st_dev;
	table->root.ino = st.st_ino;
	table->root.type = st.st_mode & S_IFMT;
	table->root.refs = 1; /* never freed */
	return 0;
}

static void ring_insert_locked(struct node_table *table, struct node *node)
{
	struct node *hand = table->fd_hand;
	if (!hand) {
		node->fd_next = node->fd_prev = node;
		table->fd_hand = node;
	} else { /* just behind the hand: the last to be considered */
		node->fd_next = hand;
		node->fd_prev = hand->fd_prev;
		hand->fd_prev->fd_next = node;
		hand->fd_prev = node;
	}
	table->open_fds++;
}

static void ring_remove_locked(struct node_table *table, struct node *node)
{
	if (node->fd_next == node) {
		table->fd_hand = NULL;
	} else {
		node->fd_prev->fd_next = node->fd_next;
		node->fd_next->fd_prev = node->fd_prev;
		if (table->fd_hand == node)
			table->fd_hand = node->fd_next;
	}
	node->fd_next = node->fd_prev = NULL;
	table->open_fds--;
}

/* Keeps NODE's file handle, from FD, to open it again later; false when
 * it has none that the table can open. */
static bool save_handle(struct node_table *table, struct node *node, int fd)
{
	if (node->handle)
		return true;
	if (!table->handles)
		return false;
	char buffer[sizeof(struct file_handle) + MAX_HANDLE_SZ] __attribute__((aligned(8)));
	struct file_handle *handle = (struct file_handle *)buffer;
	handle->handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	/* Another file system mounted below the source needs its own mount
	 * descriptor: such nodes are opened again by name. */
	if (name_to_handle_at(fd, "", handle, &mount_id, AT_EMPTY_PATH) == -1 ||
	    mount_id != table->root_mount_id)
		return false;
	size_t size = sizeof(*handle) + handle->handle_bytes;
	node->handle = malloc(size);
	if (node->handle)
		memcpy(node->handle, handle, size);
	return node->handle != NULL;
}

/*
 * Lets go of unpinned descriptors, not used since the hand last passed,
 * until at most TARGET remain or every node was looked at twice. Called
 * with fd_lock held.
 */
static void evict_locked(struct node_table *table, size_t target)
{
	size_t steps = 2 * table->open_fds;
	while (table->open_fds > target && steps-- > 0) {
		struct node *node = table->fd_hand;
		table->fd_hand = node->fd_next;
		if (atomic_load_explicit(&node->recent, memory_order_relaxed)) {
			atomic_store_explicit(&node->recent, false, memory_order_relaxed);
			continue;
		}
		if (atomic_load(&node->pins))
			continue;
		int fd = atomic_exchange(&node->fd, -1);
		if (atomic_load(&node->pins)) {
			atomic_store(&node->fd, fd);
			continue;
		}
		save_handle(table, node, fd);
		ring_remove_locked(table, node);
		close(fd);
	}
}

/* Lets go of descriptors beyond the bound; not called with the other
 * table locks held, since letting go costs system calls. */
static void trim(struct node_table *table)
{
	pthread_mutex_lock(&table->fd_lock);
	if (table->open_fds > table->max_fds)
		evict_locked(table, table->max_fds);
	pthread_mutex_unlock(&table->fd_lock);
}

/* Makes FD the descriptor of NODE unless another thread gave it one
 * first; returns the descriptor NODE now has. The caller trims after. */
static int adopt_fd(struct node_table *table, struct node *node, int fd)
{
	/* The common case, a lookup of a node that has its descriptor, takes
	 * no lock: only fd_lock's holder turns -1 into a descriptor. */
	int held = atomic_load(&node->fd);
	if (held != -1) {
		close(fd);
		return held;
	}
	pthread_mutex_lock(&table->fd_lock);
	int current = atomic_load(&node->fd);
	if (current == -1) {
		atomic_store_explicit(&node->recent, true, memory_order_relaxed);
		atomic_store(&node->fd, fd);
		ring_insert_locked(table, node);
	}
	pthread_mutex_unlock(&table->fd_lock);
	if (current == -1)
		return fd;
	close(fd);
	return current;
}

/* Opens NODE again through its name in its parent, checked to be the same
 * inode: ESTALE rather than another file. */
static int open_by_name(struct node_table *table, struct node *node)
{
	pthread_rwlock_rdlock(&table->name_lock);
	struct node *parent = node->parent;
	char *name = strdup(node->name);
	if (name) { /* the parent must outlive a rename of NODE meanwhile */
		pthread_mutex_lock(&table->lock);
		parent->refs++;
		pthread_mutex_unlock(&table->lock);
	}
	pthread_rwlock_unlock(&table->name_lock);
	if (!name) {
		errno = ENOMEM;
		return -1;
	}
	int fd = -1;
	int parent_fd = nodes_fd_get(table, parent);
	if (parent_fd != -1) {
		fd = openat(parent_fd, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd != -1 && (fstatat(fd, "", &st, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) == -1 ||
				 st.st_ino != node->ino || st.st_dev != node->dev ||
				 (st.st_mode & S_IFMT) != node->type)) {
			close(fd);
			fd = -1;
			errno = ESTALE;
		} else if (fd == -1 && errno == ENOENT) {
			errno = ESTALE;
		}
		nodes_fd_put(parent);
	}
	int saved = errno;
	nodes_forget(table, parent, 1);
	free(name);
	errno = saved;
	return fd;
}

int nodes_fd_get(struct node_table *table, struct node *node)
{
	atomic_fetch_add(&node->pins, 1);
	int fd = atomic_load(&node->fd);
	if (fd != -1) {
		if (!atomic_load_explicit(&node->recent, memory_order_relaxed))
			atomic_store_explicit(&node->recent, true, memory_order_relaxed);
		return fd;
	}
	/* The handle is set under fd_lock (evict_locked): use a copy. */
	char buffer[sizeof(struct file_handle) + MAX_HANDLE_SZ] __attribute__((aligned(8)));
	struct file_handle *handle = NULL;
	pthread_mutex_lock(&table->fd_lock);
	if (node->handle) {
		handle = (struct file_handle *)buffer;
		memcpy(handle, node->handle, sizeof(*handle) + node->handle->handle_bytes);
	}
	pthread_mutex_unlock(&table->fd_lock);
	fd = handle ? open_by_handle_at(table->mount_fd, handle, O_PATH | O_CLOEXEC)
		    : open_by_name(table, node);
	if (fd == -1) {
		int saved = errno;
		atomic_fetch_sub(&node->pins, 1);
		errno = saved;
		return -1;
	}
	fd = adopt_fd(table, node, fd);
	trim(table);
	return fd;
}

void nodes_fd_put(struct node *node)
{
	atomic_fetch_sub(&node->pins, 1);
}

bool nodes_shed(struct node_table *table)
{
	pthread_mutex_lock(&table->fd_lock);
	size_t before = table->open_fds;
	size_t target = before / 2;
	table->max_fds = target < MIN_FDS ? MIN_FDS : target;
	evict_locked(table, table->max_fds);
	bool shed = table->open_fds < before;
	pthread_mutex_unlock(&table->fd_lock);
	return shed;
}

static void free_node(struct node_table *table, struct node *node)
{
	pthread_mutex_lock(&table->fd_lock);
	int fd = atomic_load(&node->fd);
	if (fd != -1)
		ring_remove_locked(table, node);
	pthread_mutex_unlock(&table->fd_lock);
	if (fd != -1)
		close(fd);
	free(node->handle);
	free(node->name);
	free(node);
}

void nodes_destroy(struct node_table *table)
{
	for (size_t i = 0; i < table->bucket_count; i++) {
		struct node *node = table->buckets[i];
		while (node) {
			struct node *next = node->hash_next;
			free_node(table, node);
			node = next;
		}
	}
	while (table->retired) {
		struct node *next = table->retired->hash_next;
		free_node(table, table->retired);
		table->retired = next;
	}
	free(table->buckets);
	close(table->root.fd);
	if (table->mount_fd != -1)
		close(table->mount_fd);
	pthread_mutex_destroy(&table->lock);
	pthread_rwlock_destroy(&table->name_lock);
	pthread_mutex_destroy(&table->fd_lock);
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
	struct node **link = node->retired ? &table->retired
					   : &table->buckets[hash_of(node->dev, node->ino,
								     table->bucket_count)];
	while (*link != node)
		link = &(*link)->hash_next;
	*link = node->hash_next;
	if (!node->retired)
		table->node_count--;
}

/* Takes NODE, whose object is gone, out of the hash: the kernel may still
 * name it (and gets ESTALE), but no lookup finds it any more. */
static void retire_locked(struct node_table *table, struct node *node)
{
	unhash_locked(table, node);
	node->retired = true;
	node->hash_next = table->retired;
	table->retired = node;
}

/*
 * Whether the object open as FD (described by ST), which a lookup found
 * under the inode number of NODE while NODE held no descriptor, is NODE's
 * object. Without a descriptor a node does not keep its inode alive: its
 * object may have been removed and the number given to a new one. The type
 * tells them apart when it differs, the file handle (which holds the
 * inode's generation) otherwise. Called with table->lock held.
 */
static bool same_object(struct node_table *table, struct node *node, int fd,
			const struct stat *st)
{
	if ((st->st_mode & S_IFMT) != node->type)
		return false;
	char buffer[sizeof(struct file_handle) + MAX_HANDLE_SZ] __attribute__((aligned(8)));
	struct file_handle *handle = (struct file_handle *)buffer;
	handle->handle_bytes = MAX_HANDLE_SZ;
	int mount_id;
	bool same = true; /* without handles, as the type says */
	pthread_mutex_lock(&table->fd_lock);
	if (node->handle && name_to_handle_at(fd, "", handle, &mount_id, AT_EMPTY_PATH) == 0)
		same = handle->handle_type == node->handle->handle_type &&
		       handle->handle_bytes == node->handle->handle_bytes &&
		       memcmp(handle->f_handle, node->handle->f_handle, handle->handle_bytes) == 0;
	pthread_mutex_unlock(&table->fd_lock);
	return same;
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
		free_node(table, node);
		node = parent;
		count = 1;
	}
}

struct node *nodes_add_lookup(struct node_table *table, struct node *parent,
			      const char *name, int fd, const struct stat *st)
{
	bool adopted = true; /* a descriptor more, to trim once unlocked */
	pthread_rwlock_wrlock(&table->name_lock);
	pthread_mutex_lock(&table->lock);
	struct node *node = find_locked(table, st->st_dev, st->st_ino);
	if (node && node != &table->root && atomic_load(&node->fd) == -1 &&
	    !same_object(table, node, fd, st)) {
		/* A new object: a new node, so that the kernel never takes it
		 * for the old one it may still hold (a directory's dentry
		 * there would make this one's ESTALE). */
		retire_locked(table, node);
		node = NULL;
	}
	if (node) {
		/* Saves opening it again if its descriptor was let go. */
		adopted = atomic_load(&node->fd) == -1;
		adopt_fd(table, node, fd);
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
		adopted = false;
		goto out;
	}
	atomic_init(&node->fd, -1);
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
	adopt_fd(table, node, fd);
out:
	pthread_mutex_unlock(&table->lock);
	pthread_rwlock_unlock(&table->name_lock);
	if (adopted)
		trim(table);
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
