/*
 * posix_random — random file-system system calls from a seed, for
 * differential testing: the output for a native directory and for the same
 * kind of directory seen through tracefs must be byte-identical.
 *
 *   posix_random [--workers N] [--ops N] SEED DIR
 *
 * N worker processes (default 4) run at once, worker K in DIR/wK, each
 * doing --ops operations (default 20000) drawn from SEED and K over a small
 * pool of names, so that names are reused, replaced, linked and renamed
 * often: hard links of symlinks, names that now mean another file, renames
 * over and across directories. Each operation prints one line with its
 * result; after all workers end, the state of every worker's tree is
 * printed (type, mode, link count, size, explicitly set times, symlink
 * target, xattrs, content checksum, which names share an inode). Nothing
 * that legitimately differs between two directories is printed.
 *
 * DIR must be an empty directory. Runs as root (trusted.* xattrs, which
 * symlinks can carry).
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Times set explicitly lie before this; others are "now" in both runs. */
#define EXPLICIT_TIME_LIMIT 1000000000

static uint64_t rng_state;

static uint64_t next_random(void) /* splitmix64 */
{
	uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

static unsigned pick(unsigned n)
{
	return (unsigned)(next_random() % n);
}

static FILE *out;

static const char *ename(int e)
{
	const char *name = strerrorname_np(e);
	return name ? name : "E?";
}

/* Prints the result of a call that returned R (-1 with errno on failure). */
static void result(long r, const char *detail)
{
	if (r < 0)
		fprintf(out, "-1 %s\n", ename(errno));
	else if (detail)
		fprintf(out, "%ld %s\n", r, detail);
	else
		fprintf(out, "%ld\n", r);
}

/* A path from the pool: a directory prefix and a name, both often reused. */
static void random_path(char path[16])
{
	static const char *const prefixes[] = {"", "", "a/", "b/", "a/b/", "c/a/"};
	snprintf(path, 16, "%s%c", prefixes[pick(6)], 'a' + pick(6));
}

static void random_xattr_name(char name[16])
{
	static const char *const names[] = {"user.k0", "user.k1", "trusted.k0", "trusted.k1"};
	snprintf(name, 16, "%s", names[pick(4)]);
}

/* A checksum of the file's bytes, or of the error opening it. */
static void print_content(const char *path)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
	if (fd == -1) {
		fprintf(out, " content:%s", ename(errno));
		return;
	}
	uint64_t sum = 1469598103934665603ull;
	char buf[4096];
	ssize_t n;
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		for (ssize_t i = 0; i < n; i++)
			sum = (sum ^ (unsigned char)buf[i]) * 1099511628211ull;
	fprintf(out, " content:%016llx%s", (unsigned long long)sum, n < 0 ? ename(errno) : "");
	close(fd);
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The xattrs of PATH itself (not followed), sorted, with their values. */
static void print_xattrs(const char *path)
{
	char list[1024];
	ssize_t n = llistxattr(path, list, sizeof(list));
	if (n < 0) {
		fprintf(out, " xattrs:%s", ename(errno));
		return;
	}
	char *names[64];
	size_t count = 0;
	for (ssize_t i = 0; i < n && count < 64; i += (ssize_t)strlen(list + i) + 1)
		names[count++] = list + i;
	qsort(names, count, sizeof(names[0]), compare_strings);
	for (size_t i = 0; i < count; i++) {
		char value[64];
		ssize_t v = lgetxattr(path, names[i], value, sizeof(value) - 1);
		value[v < 0 ? 0 : v] = '\0';
		fprintf(out, " %s=%s", names[i], v < 0 ? ename(errno) : value);
	}
}

/* Only mtime: reads update atime natively but not when the kernel answers
 * them from its cache of a FUSE file. */
static void print_mtime(const struct timespec *t)
{
	if (t->tv_sec < EXPLICIT_TIME_LIMIT)
		fprintf(out, " mtime:%lld.%09ld", (long long)t->tv_sec, t->tv_nsec);
}

/* Everything comparable about PATH itself (not followed), on one line. */
static void print_object(const char *path)
{
	struct stat st;
	if (lstat(path, &st) == -1) {
		fprintf(out, "-1 %s\n", ename(errno));
		return;
	}
	fprintf(out, "%s %04o nlink:%lu", S_ISDIR(st.st_mode)   ? "dir"
					  : S_ISLNK(st.st_mode) ? "symlink"
					  : S_ISREG(st.st_mode) ? "file"
								: "other",
		(unsigned)st.st_mode & 07777, (unsigned long)st.st_nlink);
	if (!S_ISDIR(st.st_mode))
		fprintf(out, " size:%lld", (long long)st.st_size);
	print_mtime(&st.st_mtim);
	if (S_ISLNK(st.st_mode)) {
		char target[256];
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		fprintf(out, " -> %s", target);
	}
	if (S_ISREG(st.st_mode))
		print_content(path);
	print_xattrs(path);
	fputc('\n', out);
}

static void op_write(const char *path, bool create)
{
	int flags = O_WRONLY | O_NOFOLLOW | O_NONBLOCK | (create ? O_CREAT | O_TRUNC : O_APPEND);
	unsigned size = pick(3) == 0 ? 0 : 1 + pick(5000);
	char data[5000];
	for (unsigned i = 0; i < size; i++)
		data[i] = (char)('a' + pick(26));
	int fd = open(path, flags, 0600 | pick(0100));
	if (fd == -1) {
		result(-1, NULL);
		return;
	}
	result(write(fd, data, size), NULL);
	close(fd);
}

static void random_times(struct timespec times[2])
{
	for (int i = 0; i < 2; i++) {
		switch (pick(4)) {
		case 0:
			times[i].tv_nsec = UTIME_OMIT;
			break;
		default:
			times[i].tv_sec = 1000 + pick(900000000);
			times[i].tv_nsec = pick(1000000000);
			break;
		}
	}
}

static void readdir_sorted(const char *path)
{
	DIR *dir = opendir(path);
	if (!dir) {
		result(-1, NULL);
		return;
	}
	char *names[64];
	size_t count = 0;
	struct dirent *entry;
	while ((entry = readdir(dir)) && count < 64)
		if (strcmp(entry->d_name, ".") && strcmp(entry->d_name, ".."))
			if (asprintf(&names[count], "%s:%u", entry->d_name, entry->d_type) >= 0)
				count++;
	closedir(dir);
	qsort(names, count, sizeof(names[0]), compare_strings);
	fprintf(out, "%zu", count);
	for (size_t i = 0; i < count; i++) {
		fprintf(out, " %s", names[i]);
		free(names[i]);
	}
	fputc('\n', out);
}

static void one_operation(unsigned worker, unsigned step)
{
	char path[16], path2[16], name[16];
	struct timespec times[2];
	char value[16], buf[256];
	random_path(path);
	random_path(path2);
	unsigned op = pick(22);
	fprintf(out, "w%u %05u ", worker, step);
	switch (op) {
	case 0:
	case 1:
		fprintf(out, "create %s: ", path);
		op_write(path, true);
		break;
	case 2:
		fprintf(out, "append %s: ", path);
		op_write(path, false);
		break;
	case 3:
		fprintf(out, "mkdir %s: ", path);
		result(mkdir(path, 0700 | pick(0100)), NULL);
		break;
	case 4:
	case 5:
		/* Targets from the pool, relative, some through "..". */
		snprintf(buf, sizeof(buf), "%s%s", pick(3) ? "" : "../", path2);
		fprintf(out, "symlink %s -> %s: ", path, buf);
		result(symlink(buf, path), NULL);
		break;
	case 6:
	case 7:
		fprintf(out, "link %s %s: ", path2, path);
		result(linkat(AT_FDCWD, path2, AT_FDCWD, path, 0), NULL);
		break;
	case 8:
	case 9:
		fprintf(out, "unlink %s: ", path);
		result(unlink(path), NULL);
		break;
	case 10:
		fprintf(out, "rmdir %s: ", path);
		result(rmdir(path), NULL);
		break;
	case 11: {
		static const unsigned flags[] = {0, 0, RENAME_NOREPLACE, RENAME_EXCHANGE};
		unsigned f = flags[pick(4)];
		fprintf(out, "rename %s %s %u: ", path2, path, f);
		result(renameat2(AT_FDCWD, path2, AT_FDCWD, path, f), NULL);
		break;
	}
	case 12:
		random_times(times);
		fprintf(out, "lutimes %s: ", path);
		result(utimensat(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), NULL);
		break;
	case 13:
		random_times(times);
		fprintf(out, "utimes %s: ", path);
		result(utimensat(AT_FDCWD, path, times, 0), NULL);
		break;
	case 14:
		random_xattr_name(name);
		snprintf(value, sizeof(value), "v%u", pick(1000));
		fprintf(out, "lsetxattr %s %s=%s: ", path, name, value);
		result(lsetxattr(path, name, value, strlen(value), 0), NULL);
		break;
	case 15: {
		random_xattr_name(name);
		fprintf(out, "lgetxattr %s %s: ", path, name);
		ssize_t n = lgetxattr(path, name, buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = '\0';
		result(n, buf);
		break;
	}
	case 16:
		random_xattr_name(name);
		fprintf(out, "lremovexattr %s %s: ", path, name);
		result(lremovexattr(path, name), NULL);
		break;
	case 17:
	case 18:
		fprintf(out, "lstat %s: ", path);
		print_object(path);
		break;
	case 19:
		fprintf(out, "chmod %s: ", path);
		result(chmod(path, 0600 | pick(0200)), NULL);
		break;
	case 20:
		fprintf(out, "truncate %s: ", path);
		result(truncate(path, pick(8000)), NULL);
		break;
	default:
		fprintf(out, "readdir %s: ", path);
		readdir_sorted(pick(2) ? path : ".");
		break;
	}
}

/* Inodes seen by print_tree, numbered by first appearance. */
static ino_t tree_inodes[4096];
static unsigned tree_inode_count;

static unsigned inode_number(ino_t ino)
{
	for (unsigned i = 0; i < tree_inode_count; i++)
		if (tree_inodes[i] == ino)
			return i + 1;
	if (tree_inode_count < 4096)
		tree_inodes[tree_inode_count++] = ino;
	return tree_inode_count;
}

/* Prints every object below DIR, depth first, sorted, and which names
 * share an inode. */
static void print_tree(const char *dir, unsigned worker)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);
	if (n < 0) {
		fprintf(out, "w%u tree %s: -1 %s\n", worker, dir, ename(errno));
		return;
	}
	for (int i = 0; i < n; i++) {
		const char *name = entries[i]->d_name;
		if (strcmp(name, ".") && strcmp(name, "..")) {
			char path[4096];
			snprintf(path, sizeof(path), "%s/%s", dir, name);
			struct stat st;
			int rc = lstat(path, &st);
			fprintf(out, "w%u tree %s inode:%u: ", worker, path,
				rc == 0 ? inode_number(st.st_ino) : 0);
			print_object(path);
			if (rc == 0 && S_ISDIR(st.st_mode))
				print_tree(path, worker);
		}
		free(entries[i]);
	}
	free(entries);
}

static int run_worker(unsigned worker, uint64_t seed, unsigned ops, const char *dir)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/w%u", dir, worker);
	if (mkdir(path, 0755) == -1 || chdir(path) == -1) {
		fprintf(stderr, "posix_random: %s: %s\n", path, strerror(errno));
		return 1;
	}
	rng_state = seed * 0x100000001B3ull + worker;
	for (unsigned step = 0; step < ops; step++)
		one_operation(worker, step);
	print_tree(".", worker);
	return fflush(out) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	unsigned workers = 4, ops = 20000;
	int arg = 1;
	for (; arg + 1 < argc && strncmp(argv[arg], "--", 2) == 0; arg += 2) {
		if (strcmp(argv[arg], "--workers") == 0)
			workers = (unsigned)atoi(argv[arg + 1]);
		else if (strcmp(argv[arg], "--ops") == 0)
			ops = (unsigned)atoi(argv[arg + 1]);
		else
			break;
	}
	if (argc - arg != 2 || workers < 1 || workers > 64) {
		fprintf(stderr, "usage: posix_random [--workers N] [--ops N] SEED DIR\n");
		return 2;
	}
	uint64_t seed = strtoull(argv[arg], NULL, 0);
	const char *dir = argv[arg + 1];
	umask(022);
	/* Each worker writes into its own memory file; the parent prints
	 * them in order once all are done. */
	int files[64];
	pid_t pids[64];
	for (unsigned k = 0; k < workers; k++) {
		files[k] = memfd_create("posix_random", MFD_CLOEXEC);
		if (files[k] == -1) {
			perror("posix_random: memfd_create");
			return 1;
		}
		pids[k] = fork();
		if (pids[k] == -1) {
			perror("posix_random: fork");
			return 1;
		}
		if (pids[k] == 0) {
			out = fdopen(files[k], "w");
			_exit(out ? run_worker(k, seed, ops, dir) : 1);
		}
	}
	int status = 0;
	for (unsigned k = 0; k < workers; k++) {
		int ws;
		if (waitpid(pids[k], &ws, 0) == -1 || !WIFEXITED(ws) || WEXITSTATUS(ws) != 0) {
			fprintf(stderr, "posix_random: worker %u failed\n", k);
			status = 1;
		}
	}
	for (unsigned k = 0; k < workers; k++) {
		char buf[65536];
		ssize_t n;
		off_t offset = 0;
		while ((n = pread(files[k], buf, sizeof(buf), offset)) > 0) {
			fwrite(buf, 1, (size_t)n, stdout);
			offset += n;
		}
		close(files[k]);
	}
	return fflush(stdout) == 0 ? status : 1;
}
