/*
 * posix_script — a fixed, scripted sequence of file-system system calls for
 * differential testing: the output for a native directory and for the same
 * kind of directory seen through tracefs must be byte-identical.
 *
 *   posix_script DIR                 as root: the main script
 *   posix_script --as-user UID DIR   as root: set up root-owned objects,
 *                                    then fork, drop to UID and check
 *                                    permissions
 *
 * DIR must be an empty directory. Every step prints one line:
 *
 *   step name: RESULT [details]
 *
 * where RESULT is "ok" (0), "fd" (a descriptor), a number (bytes, offsets),
 * or "-1 ERRNAME". Nothing that legitimately differs between two
 * directories is printed: no inode or device numbers, no absolute times
 * (only explicitly set ones and relative comparisons), no block counts
 * (only "sparse" / "allocated" judgements), no directory sizes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#define KiB 1024LL
#define MiB (1024LL * KiB)
#define GiB (1024LL * MiB)

/* ---------------------------------------------------------------- output */

static int last_errno;

/* Evaluates EXPR (a system call returning a negative value on failure) and
 * keeps its errno in last_errno. */
#define CALL(expr)                                   \
	({                                           \
		errno = 0;                           \
		long call_r_ = (long)(expr);         \
		last_errno = call_r_ < 0 ? errno : 0; \
		call_r_;                             \
	})

static const char *ename(int e)
{
	static char buf[32];
	const char *n;

	if (e == 0)
		return "(no errno)";
	n = strerrorname_np(e);
	if (n)
		return n;
	snprintf(buf, sizeof buf, "E#%d", e);
	return buf;
}

static void line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void line(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

/* Prints "NAME: ok", "NAME: N" or "NAME: -1 ERRNO" for result R. */
static long step(const char *name, long r)
{
	if (r < 0)
		line("%s: -1 %s", name, ename(last_errno));
	else if (r == 0)
		line("%s: ok", name);
	else
		line("%s: %ld", name, r);
	return r;
}

/* Like step() for calls returning a descriptor. */
static int step_fd(const char *name, long r)
{
	if (r < 0)
		line("%s: -1 %s", name, ename(last_errno));
	else
		line("%s: fd", name);
	return (int)r;
}

/* Like step() for calls returning a count or an offset: 0 prints as 0. */
static long step_n(const char *name, long r)
{
	if (r < 0)
		line("%s: -1 %s", name, ename(last_errno));
	else
		line("%s: %ld", name, r);
	return r;
}

#define S(name, expr) step(name, CALL(expr))
#define SN(name, expr) step_n(name, CALL(expr))
#define SFD(name, expr) step_fd(name, CALL(expr))

/* Escapes control characters, backslash and quotes; UTF-8 passes through. */
static const char *esc_n(const char *s, size_t n)
{
	static char bufs[4][4 * 1024 + 64];
	static int which;
	char *b = bufs[which++ & 3], *p = b;
	size_t i;

	for (i = 0; i < n && p < b + sizeof bufs[0] - 8; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\\' || c == '"')
			p += sprintf(p, "\\%c", c);
		else if (c == '\n')
			p += sprintf(p, "\\n");
		else if (c < 0x20 || c == 0x7f)
			p += sprintf(p, "\\x%02x", c);
		else
			*p++ = (char)c;
	}
	if (i < n)
		p += sprintf(p, "...");
	*p = 0;
	return b;
}

static const char *esc(const char *s) { return esc_n(s, strlen(s)); }

static uint64_t fnv(const void *data, size_t n)
{
	const unsigned char *p = data;
	uint64_t h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < n; i++) {
		h ^= p[i];
		h *= 1099511628211ULL;
	}
	return h;
}

static const char *tname(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG: return "reg";
	case S_IFDIR: return "dir";
	case S_IFLNK: return "lnk";
	case S_IFIFO: return "fifo";
	case S_IFCHR: return "chr";
	case S_IFBLK: return "blk";
	case S_IFSOCK: return "sock";
	}
	return "?";
}

static const char *dtname(unsigned char t)
{
	switch (t) {
	case DT_REG: return "reg";
	case DT_DIR: return "dir";
	case DT_LNK: return "lnk";
	case DT_FIFO: return "fifo";
	case DT_CHR: return "chr";
	case DT_BLK: return "blk";
	case DT_SOCK: return "sock";
	case DT_UNKNOWN: return "unknown";
	}
	return "?";
}

/* The comparable part of a stat: type, permission bits, owner, link count,
 * and size for files and symlinks, device numbers for devices. */
static const char *sdesc(const struct stat *st)
{
	static char buf[2][200];
	static int which;
	char *b = buf[which++ & 1];
	int n;

	n = snprintf(b, sizeof buf[0], "type=%s mode=%04o uid=%u gid=%u nlink=%lu",
		     tname(st->st_mode), (unsigned)(st->st_mode & 07777),
		     (unsigned)st->st_uid, (unsigned)st->st_gid,
		     (unsigned long)st->st_nlink);
	if (S_ISREG(st->st_mode) || S_ISLNK(st->st_mode))
		snprintf(b + n, sizeof buf[0] - n, " size=%lld", (long long)st->st_size);
	else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode))
		snprintf(b + n, sizeof buf[0] - n, " rdev=%u:%u",
			 major(st->st_rdev), minor(st->st_rdev));
	return b;
}

/* NAME: the stat ST that a call returning R filled (kept in *OUT, if asked). */
static int said_stat(const char *name, long r, const struct stat *st, struct stat *out)
{
	if (r < 0) {
		line("%s: -1 %s", name, ename(last_errno));
		return -1;
	}
	line("%s: %s", name, sdesc(st));
	if (out)
		*out = *st;
	return 0;
}

/* NAME: stat of PATH (lstat when NOFOLLOW). */
static int pstat_at(const char *name, int dirfd, const char *path, int nofollow, struct stat *out)
{
	struct stat st;
	long r = CALL(fstatat(dirfd, path, &st, nofollow ? AT_SYMLINK_NOFOLLOW : 0));
	return said_stat(name, r, &st, out);
}
#define pstat(name, path) pstat_at(name, AT_FDCWD, path, 0, NULL)
#define plstat(name, path) pstat_at(name, AT_FDCWD, path, 1, NULL)

static int pfstat(const char *name, int fd, struct stat *out)
{
	struct stat st;
	long r = CALL(fstat(fd, &st));
	return said_stat(name, r, &st, out);
}

/* NAME: the whole content of PATH (escaped, or its size and hash if long). */
static void pcontent(const char *name, const char *path)
{
	static char buf[256 * 1024];
	size_t got = 0;
	long r;
	int fd = (int)CALL(open(path, O_RDONLY));

	if (fd < 0) {
		line("%s: -1 %s", name, ename(last_errno));
		return;
	}
	while (got < sizeof buf) {
		r = CALL(read(fd, buf + got, sizeof buf - got));
		if (r < 0) {
			line("%s: read -1 %s", name, ename(last_errno));
			close(fd);
			return;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	close(fd);
	if (got <= 80)
		line("%s: len=%zu data=\"%s\"", name, got, esc_n(buf, got));
	else
		line("%s: len=%zu hash=%016llx", name, got, (unsigned long long)fnv(buf, got));
}

/* NAME: the result of a read-type call R that filled BUF. */
static void pdata(const char *name, long r, const char *buf)
{
	if (r < 0)
		line("%s: -1 %s", name, ename(last_errno));
	else
		line("%s: %ld data=\"%s\"", name, r, esc_n(buf, (size_t)r));
}

static int all_zero(const char *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (buf[i])
			return 0;
	return 1;
}

static int write_file(const char *path, const char *data, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, data, strlen(data));
	close(fd);
	return n == (ssize_t)strlen(data) ? 0 : -1;
}

struct dent {
	char *name;
	unsigned char type;
};

static int dent_cmp(const void *a, const void *b)
{
	return strcmp(((const struct dent *)a)->name, ((const struct dent *)b)->name);
}

/* Reads directory PATH into a sorted array; returns the count or -1. */
static long read_dir(const char *path, struct dent **out)
{
	DIR *d;
	struct dirent *e;
	struct dent *v = NULL;
	size_t n = 0, cap = 0;

	errno = 0;
	d = opendir(path);
	if (!d) {
		last_errno = errno;
		return -1;
	}
	while ((errno = 0, e = readdir(d))) {
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			v = realloc(v, cap * sizeof *v);
		}
		v[n].name = strdup(e->d_name);
		v[n].type = e->d_type;
		n++;
	}
	last_errno = errno;
	closedir(d);
	if (last_errno) {
		free(v);
		return -1;
	}
	qsort(v, n, sizeof *v, dent_cmp);
	*out = v;
	return (long)n;
}

static void free_dents(struct dent *v, long n)
{
	long i;

	for (i = 0; i < n; i++)
		free(v[i].name);
	free(v);
}

/* NAME: the sorted listing of PATH, one line per entry with d_type and, if
 * DETAIL, the lstat description. */
static void plist(const char *name, const char *path, int detail)
{
	struct dent *v;
	long n = read_dir(path, &v), i;
	char p[PATH_MAX];
	struct stat st;

	if (n < 0) {
		line("%s: -1 %s", name, ename(last_errno));
		return;
	}
	line("%s: %ld entries", name, n);
	for (i = 0; i < n; i++) {
		if (!detail || !strcmp(v[i].name, ".") || !strcmp(v[i].name, "..")) {
			line("%s:   \"%s\" d_type=%s", name, esc(v[i].name), dtname(v[i].type));
			continue;
		}
		snprintf(p, sizeof p, "%s/%s", path, v[i].name);
		if (lstat(p, &st) < 0)
			line("%s:   \"%s\" d_type=%s lstat -1 %s", name, esc(v[i].name),
			     dtname(v[i].type), ename(errno));
		else
			line("%s:   \"%s\" d_type=%s %s", name, esc(v[i].name),
			     dtname(v[i].type), sdesc(&st));
	}
	free_dents(v, n);
}

/* ------------------------------------------------------------------ time */

static struct timespec ts(time_t s, long ns)
{
	struct timespec t = { .tv_sec = s, .tv_nsec = ns };
	return t;
}

static int ts_cmp(struct timespec a, struct timespec b)
{
	if (a.tv_sec != b.tv_sec)
		return a.tv_sec < b.tv_sec ? -1 : 1;
	if (a.tv_nsec != b.tv_nsec)
		return a.tv_nsec < b.tv_nsec ? -1 : 1;
	return 0;
}

/* A lower bound for a timestamp the file system takes after this call:
 * the coarse clock, rounded down to the second (file systems may use the
 * coarse clock and may have one-second granularity). */
static struct timespec before_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME_COARSE, &t);
	return ts(t.tv_sec - 1, 0);
}

/* An upper bound for a timestamp the file system took before this call. */
static struct timespec after_now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += 1;
	return t;
}

static const char *in_range(struct timespec t, struct timespec lo, struct timespec hi)
{
	return ts_cmp(t, lo) >= 0 && ts_cmp(t, hi) <= 0 ? "yes" : "no";
}

/* NAME: statx(2) of PATH in DIRFD with FLAGS: whether it gives a birth
 * time, and whether that lies in LO .. HI. */
static void pbirth(const char *name, int dirfd, const char *path, int flags, struct timespec lo,
		   struct timespec hi)
{
	struct statx stx;
	long r = CALL(statx(dirfd, path, flags, STATX_BASIC_STATS | STATX_BTIME, &stx));
	if (r < 0) {
		line("%s: -1 %s", name, ename(last_errno));
		return;
	}
	struct timespec born = ts(stx.stx_btime.tv_sec, stx.stx_btime.tv_nsec);
	line("%s: ok birth time %s", name,
	     stx.stx_mask & STATX_BTIME ? (strcmp(in_range(born, lo, hi), "yes") ? "out of range"
										 : "when it was made")
					: "not given");
}

static const char *tsfmt(struct timespec t)
{
	static char buf[4][40];
	static int which;
	char *b = buf[which++ & 3];

	snprintf(b, sizeof buf[0], "%lld.%09ld", (long long)t.tv_sec, t.tv_nsec);
	return b;
}

/* --------------------------------------------------------- root sections */

static void sec_open(void)
{
	int fd, fd2;
	long r;
	char buf[64];
	struct stat st;

	line("# open flags");
	S("open missing O_RDONLY", open("missing", O_RDONLY));
	S("open missing O_WRONLY", open("missing", O_WRONLY));
	fd = SFD("open f1 O_CREAT|O_EXCL|O_WRONLY 0644", open("f1", O_CREAT | O_EXCL | O_WRONLY, 0644));
	SN("write f1 hello", write(fd, "hello", 5));
	S("close f1", close(fd));
	pstat("stat f1", "f1");
	S("open f1 O_CREAT|O_EXCL again", open("f1", O_CREAT | O_EXCL | O_WRONLY, 0644));
	S("open f1 O_DIRECTORY", open("f1", O_RDONLY | O_DIRECTORY));
	S("open f1/x (file as dir)", open("f1/x", O_RDONLY));
	S("open f1/ (trailing slash)", open("f1/", O_RDONLY));
	S("open missingdir/x O_CREAT", open("missingdir/x", O_CREAT | O_WRONLY, 0644));
	fd = SFD("open f1 O_CREAT no O_EXCL", open("f1", O_CREAT | O_RDWR, 0600));
	pfstat("fstat f1 after O_CREAT on existing", fd, NULL);
	close(fd);

	fd = SFD("open f1 O_WRONLY|O_APPEND", open("f1", O_WRONLY | O_APPEND));
	SN("lseek f1 SEEK_CUR before append write", lseek(fd, 0, SEEK_CUR));
	SN("write f1 ' world' (append)", write(fd, " world", 6));
	SN("lseek f1 SEEK_CUR after append write", lseek(fd, 0, SEEK_CUR));
	SN("lseek f1 SEEK_SET 0", lseek(fd, 0, SEEK_SET));
	SN("write f1 '!' after seek 0 (append)", write(fd, "!", 1));
	SN("pwrite f1 'X' at 0 (append)", pwrite(fd, "X", 1, 0));
	S("close f1", close(fd));
	pcontent("content f1 after appends", "f1");

	fd = SFD("open f1 O_RDONLY", open("f1", O_RDONLY));
	SN("write to O_RDONLY fd", write(fd, "x", 1));
	r = CALL(read(fd, buf, sizeof buf));
	pdata("read f1", r, buf);
	r = CALL(pread(fd, buf, 5, 6));
	pdata("pread f1 5@6", r, buf);
	SN("lseek f1 SEEK_END", lseek(fd, 0, SEEK_END));
	SN("lseek f1 SEEK_SET -1", lseek(fd, -1, SEEK_SET));
	close(fd);

	fd = SFD("open f1 O_WRONLY|O_TRUNC", open("f1", O_WRONLY | O_TRUNC));
	pfstat("fstat f1 after O_TRUNC", fd, NULL);
	close(fd);
	pstat("stat f1 after O_TRUNC", "f1");

	S("mkdir d1 0755", mkdir("d1", 0755));
	S("open d1 O_WRONLY", open("d1", O_WRONLY));
	S("open d1 O_RDWR", open("d1", O_RDWR));
	S("open d1 O_CREAT|O_WRONLY", open("d1", O_CREAT | O_WRONLY, 0644));
	S("open d1 O_CREAT|O_EXCL", open("d1", O_CREAT | O_EXCL | O_RDONLY, 0644));
	fd = SFD("open d1 O_DIRECTORY", open("d1", O_RDONLY | O_DIRECTORY));
	SN("read on directory fd", read(fd, buf, sizeof buf));
	S("fsync directory fd", fsync(fd));
	close(fd);

	/* The creation mode and the umask. */
	umask(077);
	fd = SFD("umask 077: create f_um1 0666", open("f_um1", O_CREAT | O_WRONLY, 0666));
	pfstat("fstat f_um1", fd, NULL);
	close(fd);
	umask(0);
	fd = SFD("umask 0: create f_um2 0666", open("f_um2", O_CREAT | O_WRONLY, 0666));
	pfstat("fstat f_um2", fd, NULL);
	close(fd);
	S("umask 0: mkdir d_um 0777", mkdir("d_um", 0777));
	pstat("stat d_um", "d_um");
	S("umask 0: mkfifo p_um 0666", mkfifo("p_um", 0666));
	plstat("lstat p_um", "p_um");
	umask(022);
	S("umask 022: mkdir d_um2 0777", mkdir("d_um2", 0777));
	pstat("stat d_um2", "d_um2");

	/* Two descriptors of one file see each other's writes. */
	fd = SFD("open f_two O_CREAT|O_RDWR", open("f_two", O_CREAT | O_RDWR, 0644));
	fd2 = SFD("open f_two O_RDWR again", open("f_two", O_RDWR));
	SN("write f_two via fd1", write(fd, "first", 5));
	r = CALL(pread(fd2, buf, sizeof buf, 0));
	pdata("pread f_two via fd2", r, buf);
	SN("pwrite f_two via fd2 at 2", pwrite(fd2, "XY", 2, 2));
	r = CALL(pread(fd, buf, sizeof buf, 0));
	pdata("pread f_two via fd1", r, buf);
	fstat(fd, &st);
	line("fstat f_two size via fd1: %lld", (long long)st.st_size);
	close(fd);
	close(fd2);
}

static void sec_rw(void)
{
	static char big[MiB];
	static char back[MiB];
	char buf[64];
	int fd;
	long r;
	size_t i;
	struct stat st;
	const off_t far = 5 * GiB;

	line("# read/write and sparse files");
	fd = SFD("open big O_CREAT|O_RDWR", open("big", O_CREAT | O_RDWR, 0644));
	SN("pwrite big 'head' at 0", pwrite(fd, "head", 4, 0));
	SN("pwrite big 'tail' at 5GiB", pwrite(fd, "tail", 4, far));
	if (fstat(fd, &st) == 0)
		line("fstat big: size=%lld sparse=%s", (long long)st.st_size,
		     st.st_blocks * 512LL < MiB ? "yes" : "no");
	r = CALL(pread(fd, buf, 4, far));
	pdata("pread big 4@5GiB", r, buf);
	memset(buf, 'x', sizeof buf);
	r = CALL(pread(fd, buf, 16, 4 * GiB + 100));
	line("pread big 16@4GiB+100 (hole): %ld zeros=%s", r, r == 16 && all_zero(buf, 16) ? "yes" : "no");
	r = CALL(pread(fd, buf, 16, 2 * GiB - 8));
	line("pread big 16@2GiB-8 (hole): %ld zeros=%s", r, r == 16 && all_zero(buf, 16) ? "yes" : "no");
	r = CALL(pread(fd, buf, 10, far + 2));
	pdata("pread big 10@5GiB+2 (crosses EOF)", r, buf);
	SN("pread big at EOF", pread(fd, buf, 10, far + 4));
	SN("pread big past EOF", pread(fd, buf, 10, far + 100));
	SN("pread big negative offset", pread(fd, buf, 10, -1));

	line("# lseek SEEK_DATA/SEEK_HOLE");
	SN("lseek big SEEK_DATA 0", lseek(fd, 0, SEEK_DATA));
	SN("lseek big SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	SN("lseek big SEEK_DATA 1MiB", lseek(fd, MiB, SEEK_DATA));
	SN("lseek big SEEK_HOLE 1MiB", lseek(fd, MiB, SEEK_HOLE));
	SN("lseek big SEEK_DATA 5GiB+2", lseek(fd, far + 2, SEEK_DATA));
	SN("lseek big SEEK_HOLE 5GiB", lseek(fd, far, SEEK_HOLE));
	SN("lseek big SEEK_DATA at EOF", lseek(fd, far + 4, SEEK_DATA));
	SN("lseek big SEEK_DATA past EOF", lseek(fd, far + 100, SEEK_DATA));
	SN("lseek big SEEK_HOLE past EOF", lseek(fd, far + 100, SEEK_HOLE));
	SN("lseek big SEEK_END", lseek(fd, 0, SEEK_END));
	SN("lseek big SEEK_END -4", lseek(fd, -4, SEEK_END));
	r = CALL(read(fd, buf, sizeof buf));
	pdata("read big after SEEK_END -4", r, buf);
	SN("lseek big SEEK_CUR", lseek(fd, 0, SEEK_CUR));
	SN("lseek big bad whence", lseek(fd, 0, 42));
	S("fsync big", fsync(fd));
	S("fdatasync big", fdatasync(fd));
	S("close big", close(fd));
	pstat("stat big", "big");

	line("# large transfer");
	for (i = 0; i < sizeof big; i++)
		big[i] = (char)((i * 7 + i / 251) & 0xff);
	fd = SFD("open data O_CREAT|O_RDWR", open("data", O_CREAT | O_RDWR, 0644));
	SN("write data 1MiB", write(fd, big, sizeof big));
	SN("write data 1MiB again", write(fd, big, sizeof big));
	SN("pread data 1MiB at 1MiB", pread(fd, back, sizeof back, MiB));
	line("data second MiB matches: %s", memcmp(big, back, sizeof big) ? "no" : "yes");
	SN("pread data 1MiB at 1MiB+512KiB (short)", pread(fd, back, sizeof back, MiB + 512 * KiB));
	line("data tail matches: %s", memcmp(big + 512 * KiB, back, 512 * KiB) ? "no" : "yes");
	SN("pwrite data 3 bytes at 1000", pwrite(fd, "abc", 3, 1000));
	r = CALL(pread(fd, buf, 5, 999));
	line("pread data 5@999: %ld data=\"%s\"", r, r == 5 ? esc_n(buf + 1, 3) : "?");
	close(fd);
	pstat("stat data", "data");

	line("# mmap");
	fd = SFD("open mm O_CREAT|O_RDWR", open("mm", O_CREAT | O_RDWR, 0644));
	S("ftruncate mm 8192", ftruncate(fd, 8192));
	{
		char *m;
		errno = 0;
		m = mmap(NULL, 8192, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			line("mmap mm shared rw: -1 %s", ename(errno));
		} else {
			line("mmap mm shared rw: ok");
			memcpy(m + 4096, "mmap-data", 9);
			S("msync mm", msync(m, 8192, MS_SYNC));
			S("munmap mm", munmap(m, 8192));
		}
	}
	memset(buf, 0, sizeof buf);
	r = CALL(pread(fd, buf, 9, 4096));
	pdata("pread mm 9@4096 after mmap write", r, buf);
	SN("pwrite mm 'written' at 0", pwrite(fd, "written", 7, 0));
	{
		char *m;
		errno = 0;
		m = mmap(NULL, 8192, PROT_READ, MAP_SHARED, fd, 0);
		if (m == MAP_FAILED) {
			line("mmap mm shared ro: -1 %s", ename(errno));
		} else {
			line("mmap mm shared ro: ok data=\"%s\"", esc_n(m, 7));
			munmap(m, 8192);
		}
	}
	close(fd);
}

static void sec_truncate(void)
{
	int fd;
	char buf[64];
	long r;

	line("# truncate");
	write_file("tr", "abcdefgh", 0644);
	S("truncate tr 4", truncate("tr", 4));
	pcontent("content tr", "tr");
	fd = SFD("open tr O_RDWR", open("tr", O_RDWR));
	S("ftruncate tr 10", ftruncate(fd, 10));
	pstat("stat tr", "tr");
	memset(buf, 'x', sizeof buf);
	r = CALL(pread(fd, buf, sizeof buf, 0));
	line("pread tr: %ld head=\"%s\" rest-zeros=%s", r, esc_n(buf, 4),
	     r == 10 && all_zero(buf + 4, 6) ? "yes" : "no");
	S("ftruncate tr 2", ftruncate(fd, 2));
	pcontent("content tr", "tr");
	S("ftruncate tr -1", ftruncate(fd, -1));
	close(fd);
	fd = SFD("open tr O_RDONLY", open("tr", O_RDONLY));
	S("ftruncate O_RDONLY fd", ftruncate(fd, 0));
	close(fd);
	S("truncate tr 6GiB", truncate("tr", 6 * GiB));
	{
		struct stat st;
		if (stat("tr", &st) == 0)
			line("stat tr: size=%lld sparse=%s", (long long)st.st_size,
			     st.st_blocks * 512LL < MiB ? "yes" : "no");
	}
	S("truncate tr 0", truncate("tr", 0));
	pstat("stat tr", "tr");
	S("truncate missing", truncate("missing", 1));
	S("truncate d1 (dir)", truncate("d1", 0));
}

static void sec_chmod_chown(void)
{
	int fd;
	struct stat st;
	struct timespec lo, hi;

	line("# chmod and chown");
	write_file("m", "mode", 0644);
	lo = before_now();
	S("chmod m 0640", chmod("m", 0640));
	hi = after_now();
	if (stat("m", &st) == 0)
		line("stat m: %s ctime-in-call-window=%s", sdesc(&st), in_range(st.st_ctim, lo, hi));
	fd = SFD("open m O_RDONLY", open("m", O_RDONLY));
	S("fchmod m 0604", fchmod(fd, 0604));
	pfstat("fstat m", fd, NULL);
	close(fd);
	S("chmod m 0", chmod("m", 0));
	pstat("stat m", "m");
	fd = SFD("open m 0000 O_RDWR as root", open("m", O_RDWR));
	if (fd >= 0)
		close(fd);
	S("chmod m 04755", chmod("m", 04755));
	fd = SFD("open m O_WRONLY", open("m", O_WRONLY));
	SN("root writes m", write(fd, "x", 1));
	close(fd);
	pstat("stat m after root write (suid kept)", "m");
	S("chmod m 07777", chmod("m", 07777));
	pstat("stat m", "m");
	S("chown m 1234:1234", chown("m", 1234, 1234));
	pstat("stat m after chown (suid/sgid cleared)", "m");
	fd = SFD("open m O_RDONLY", open("m", O_RDONLY));
	S("fchown m 4321:-1", fchown(fd, 4321, (gid_t)-1));
	pfstat("fstat m", fd, NULL);
	S("fchown m -1:4321", fchown(fd, (uid_t)-1, 4321));
	pfstat("fstat m", fd, NULL);
	close(fd);
	S("chown m 0:0", chown("m", 0, 0));
	pstat("stat m", "m");
	S("symlink m ml", symlink("m", "ml"));
	S("lchown ml 1234:1234", lchown("ml", 1234, 1234));
	plstat("lstat ml", "ml");
	pstat("stat m (target unchanged)", "m");
	S("chown ml 2222:2222 (follows)", chown("ml", 2222, 2222));
	plstat("lstat ml", "ml");
	pstat("stat m", "m");
	S("chmod missing", chmod("missing", 0644));
	S("chown missing", chown("missing", 1, 1));
	S("mkdir dmode 0755", mkdir("dmode", 0755));
	S("chmod dmode 03777", chmod("dmode", 03777));
	pstat("stat dmode", "dmode");
	S("chown dmode 1234:1234 (dir keeps sgid)", chown("dmode", 1234, 1234));
	pstat("stat dmode", "dmode");
}

static void sec_times(void)
{
	int fd;
	struct stat st, st2;
	struct timespec t[2], lo, hi;

	line("# timestamps");
	write_file("t", "time", 0644);
	t[0] = ts(1234567890, 123456789);
	t[1] = ts(1000000000, 987654321);
	S("utimensat t explicit", utimensat(AT_FDCWD, "t", t, 0));
	if (stat("t", &st) == 0)
		line("stat t: atime=%s mtime=%s atime==set %s mtime==set %s",
		     tsfmt(st.st_atim), tsfmt(st.st_mtim),
		     ts_cmp(st.st_atim, t[0]) ? "no" : "yes",
		     ts_cmp(st.st_mtim, t[1]) ? "no" : "yes");
	t[0] = ts(0, UTIME_OMIT);
	t[1] = ts(1500000000, 1);
	S("utimensat t atime=OMIT mtime explicit", utimensat(AT_FDCWD, "t", t, 0));
	if (stat("t", &st) == 0)
		line("stat t: atime=%s mtime=%s atime unchanged %s mtime==set %s",
		     tsfmt(st.st_atim), tsfmt(st.st_mtim),
		     ts_cmp(st.st_atim, ts(1234567890, 123456789)) ? "no" : "yes",
		     ts_cmp(st.st_mtim, t[1]) ? "no" : "yes");
	t[0] = ts(4102444800LL, 999999999); /* 2100-01-01 */
	t[1] = ts(0, UTIME_OMIT);
	S("utimensat t atime=2100 mtime=OMIT", utimensat(AT_FDCWD, "t", t, 0));
	if (stat("t", &st) == 0)
		line("stat t: atime=%s mtime=%s", tsfmt(st.st_atim), tsfmt(st.st_mtim));
	t[0] = ts(0, UTIME_OMIT);
	t[1] = ts(0, UTIME_OMIT);
	S("utimensat t both OMIT", utimensat(AT_FDCWD, "t", t, 0));
	if (stat("t", &st) == 0)
		line("stat t: atime=%s mtime=%s", tsfmt(st.st_atim), tsfmt(st.st_mtim));
	t[0] = ts(0, 1000000000);
	S("utimensat t nsec out of range", utimensat(AT_FDCWD, "t", t, 0));

	lo = before_now();
	S("utimensat t UTIME_NOW both", utimensat(AT_FDCWD, "t", NULL, 0));
	hi = after_now();
	if (stat("t", &st) == 0)
		line("stat t: atime-now %s mtime-now %s ctime-now %s", in_range(st.st_atim, lo, hi),
		     in_range(st.st_mtim, lo, hi), in_range(st.st_ctim, lo, hi));

	t[0] = ts(1111111111, 111111111);
	t[1] = ts(1222222222, 222222222);
	utimensat(AT_FDCWD, "t", t, 0);
	t[0] = ts(0, UTIME_NOW);
	t[1] = ts(0, UTIME_OMIT);
	lo = before_now();
	S("utimensat t atime=NOW mtime=OMIT", utimensat(AT_FDCWD, "t", t, 0));
	hi = after_now();
	if (stat("t", &st) == 0)
		line("stat t: atime-now %s mtime=%s", in_range(st.st_atim, lo, hi), tsfmt(st.st_mtim));

	fd = SFD("open t O_RDWR", open("t", O_RDWR));
	t[0] = ts(1300000000, 5);
	t[1] = ts(1300000001, 6);
	S("futimens t explicit", futimens(fd, t));
	if (fstat(fd, &st) == 0)
		line("fstat t: atime=%s mtime=%s", tsfmt(st.st_atim), tsfmt(st.st_mtim));
	lo = before_now();
	SN("write t (updates mtime)", write(fd, "w", 1));
	hi = after_now();
	if (fstat(fd, &st) == 0)
		line("fstat t after write: atime=%s mtime-now %s ctime-now %s",
		     tsfmt(st.st_atim), in_range(st.st_mtim, lo, hi), in_range(st.st_ctim, lo, hi));
	t[0] = ts(1300000000, 5);
	t[1] = ts(1300000001, 6);
	futimens(fd, t);
	lo = before_now();
	S("ftruncate t 1 (updates mtime)", ftruncate(fd, 1));
	hi = after_now();
	if (fstat(fd, &st) == 0)
		line("fstat t after ftruncate: mtime-now %s", in_range(st.st_mtim, lo, hi));
	futimens(fd, t);
	{
		char c;
		SN("pread t", pread(fd, &c, 1, 0));
	}
	if (fstat(fd, &st) == 0)
		line("fstat t after read: mtime=%s", tsfmt(st.st_mtim));
	t[0] = ts(0, UTIME_NOW);
	t[1] = ts(0, UTIME_NOW);
	lo = before_now();
	S("futimens t NOW", futimens(fd, t));
	hi = after_now();
	if (fstat(fd, &st) == 0)
		line("fstat t: atime-now %s mtime-now %s", in_range(st.st_atim, lo, hi),
		     in_range(st.st_mtim, lo, hi));
	close(fd);

	/* A directory's mtime changes when an entry is added. */
	S("mkdir tdir", mkdir("tdir", 0755));
	t[0] = ts(1000000000, 0);
	t[1] = ts(1000000000, 0);
	S("utimensat tdir explicit", utimensat(AT_FDCWD, "tdir", t, 0));
	lo = before_now();
	S("create tdir/f", write_file("tdir/f", "", 0644));
	hi = after_now();
	if (stat("tdir", &st) == 0)
		line("stat tdir: mtime-now %s", in_range(st.st_mtim, lo, hi));

	/* On a symlink itself. */
	S("symlink t tl", symlink("t", "tl"));
	t[0] = ts(1100000000, 11);
	t[1] = ts(1100000000, 22);
	S("utimensat tl AT_SYMLINK_NOFOLLOW", utimensat(AT_FDCWD, "tl", t, AT_SYMLINK_NOFOLLOW));
	if (lstat("tl", &st) == 0 && stat("t", &st2) == 0)
		line("lstat tl: atime=%s mtime=%s; target mtime changed: %s", tsfmt(st.st_atim),
		     tsfmt(st.st_mtim), ts_cmp(st2.st_mtim, t[1]) ? "no" : "yes");
	S("utimensat missing", utimensat(AT_FDCWD, "missing", NULL, 0));

	/* The birth time, by path and by an open descriptor. */
	lo = before_now();
	S("create born", write_file("born", "x", 0644));
	hi = after_now();
	pbirth("statx born", AT_FDCWD, "born", AT_SYMLINK_NOFOLLOW, lo, hi);
	int born = open("born", O_RDONLY);
	pbirth("statx open born", born, "", AT_EMPTY_PATH, lo, hi);
	if (born >= 0)
		close(born);
	S("mkdir borndir", mkdir("borndir", 0755));
	pbirth("statx borndir", AT_FDCWD, "borndir", 0, lo, after_now());
}

static void sec_rename(void)
{
	int fd, dfd;
	char buf[64];
	long r;

	line("# rename");
	write_file("r_a", "A", 0644);
	S("rename r_a r_b", rename("r_a", "r_b"));
	plstat("lstat r_a", "r_a");
	pcontent("content r_b", "r_b");
	S("rename missing r_x", rename("missing", "r_x"));
	write_file("r_c", "C", 0644);
	S("rename r_c over r_b", rename("r_c", "r_b"));
	plstat("lstat r_c", "r_c");
	pcontent("content r_b", "r_b");
	write_file("r_d", "D", 0644);
	S("renameat2 r_d r_b NOREPLACE", renameat2(AT_FDCWD, "r_d", AT_FDCWD, "r_b", RENAME_NOREPLACE));
	pcontent("content r_b", "r_b");
	pcontent("content r_d", "r_d");
	S("renameat2 r_d r_d2 NOREPLACE", renameat2(AT_FDCWD, "r_d", AT_FDCWD, "r_d2", RENAME_NOREPLACE));
	plstat("lstat r_d", "r_d");
	pcontent("content r_d2", "r_d2");
	write_file("r_e", "E", 0644);
	S("renameat2 r_b r_e EXCHANGE", renameat2(AT_FDCWD, "r_b", AT_FDCWD, "r_e", RENAME_EXCHANGE));
	pcontent("content r_b", "r_b");
	pcontent("content r_e", "r_e");
	S("renameat2 r_b missing EXCHANGE", renameat2(AT_FDCWD, "r_b", AT_FDCWD, "missing", RENAME_EXCHANGE));
	S("renameat2 EXCHANGE|NOREPLACE", renameat2(AT_FDCWD, "r_b", AT_FDCWD, "r_e",
						    RENAME_EXCHANGE | RENAME_NOREPLACE));
	S("mkdir r_dirx", mkdir("r_dirx", 0700));
	write_file("r_dirx/inside", "I", 0644);
	S("renameat2 r_d2 r_dirx EXCHANGE (file<->dir)",
	  renameat2(AT_FDCWD, "r_d2", AT_FDCWD, "r_dirx", RENAME_EXCHANGE));
	plstat("lstat r_d2", "r_d2");
	plstat("lstat r_dirx", "r_dirx");
	pcontent("content r_d2/inside", "r_d2/inside");
	pcontent("content r_dirx", "r_dirx");

	S("mkdir rd1", mkdir("rd1", 0755));
	write_file("rd1/file", "in rd1", 0644);
	S("mkdir rd2 (empty)", mkdir("rd2", 0711));
	S("rename rd1 over empty rd2", rename("rd1", "rd2"));
	plstat("lstat rd1", "rd1");
	pstat("stat rd2", "rd2");
	pcontent("content rd2/file", "rd2/file");
	S("mkdir rd3", mkdir("rd3", 0755));
	S("mkdir rd4", mkdir("rd4", 0755));
	write_file("rd4/x", "x", 0644);
	S("rename rd3 over non-empty rd4", rename("rd3", "rd4"));
	S("rename file r_b over dir rd4", rename("r_b", "rd4"));
	S("rename dir rd3 over file r_e", rename("rd3", "r_e"));
	S("rename r_b onto itself", rename("r_b", "r_b"));
	pcontent("content r_b", "r_b");
	S("rename rd2 onto itself", rename("rd2", "rd2"));
	S("rename rd2 into rd2/sub", rename("rd2", "rd2/sub"));
	S("rename r_b/ (trailing slash on file)", rename("r_b/", "r_z"));
	S("rename rd4/ rd5/ (trailing slashes on dir)", rename("rd4/", "rd5/"));
	pstat("stat rd5", "rd5");
	S("rename rd5/x up to r_x", rename("rd5/x", "r_x"));
	pcontent("content r_x", "r_x");
	S("rename . x", rename(".", "r_dot"));
	S("rename rd5/.. x", rename("rd5/..", "r_dotdot"));

	/* Two names of one file: rename does nothing. */
	S("link r_b r_b2", link("r_b", "r_b2"));
	S("rename r_b onto its hard link r_b2", rename("r_b", "r_b2"));
	plstat("lstat r_b", "r_b");
	plstat("lstat r_b2", "r_b2");
	S("unlink r_b2", unlink("r_b2"));
	plstat("lstat r_b", "r_b");

	/* An open file keeps working after a rename. */
	fd = SFD("open r_e O_RDWR", open("r_e", O_RDWR));
	S("rename r_e r_f", rename("r_e", "r_f"));
	SN("pwrite renamed r_f via old fd", pwrite(fd, "F", 1, 1));
	pfstat("fstat r_f via old fd", fd, NULL);
	close(fd);
	pcontent("content r_f", "r_f");

	/* A directory descriptor keeps working after its parent is renamed. */
	S("mkdir mv", mkdir("mv", 0755));
	S("mkdir mv/sub", mkdir("mv/sub", 0755));
	dfd = SFD("open mv/sub O_DIRECTORY", open("mv/sub", O_RDONLY | O_DIRECTORY));
	S("rename mv mv2", rename("mv", "mv2"));
	fd = SFD("openat(mv/sub fd, f, O_CREAT)", openat(dfd, "f", O_CREAT | O_RDWR, 0644));
	SN("write mv2/sub/f", write(fd, "moved", 5));
	close(fd);
	pcontent("content mv2/sub/f", "mv2/sub/f");
	plstat("lstat mv/sub/f", "mv/sub/f");
	S("renameat(dfd, f, dfd, g)", renameat(dfd, "f", dfd, "g"));
	r = CALL(readlinkat(dfd, "g", buf, sizeof buf));
	step("readlinkat on a file", r);
	close(dfd);
	plist("list mv2/sub", "mv2/sub", 1);

	/* Rename a directory that has children cached by the kernel. */
	S("mkdir deepmv", mkdir("deepmv", 0755));
	S("mkdir deepmv/a", mkdir("deepmv/a", 0755));
	S("mkdir deepmv/a/b", mkdir("deepmv/a/b", 0755));
	write_file("deepmv/a/b/leaf", "leaf", 0644);
	pstat("stat deepmv/a/b/leaf", "deepmv/a/b/leaf");
	S("rename deepmv/a deepmv/z", rename("deepmv/a", "deepmv/z"));
	pcontent("content deepmv/z/b/leaf", "deepmv/z/b/leaf");
	plstat("lstat deepmv/a/b/leaf", "deepmv/a/b/leaf");
	S("rename deepmv/z/b/leaf deepmv/leaf2", rename("deepmv/z/b/leaf", "deepmv/leaf2"));
	plist("list deepmv", "deepmv", 1);
}

static void sec_link(void)
{
	int fd;
	char buf[64];
	long r;

	line("# link");
	write_file("l1", "L", 0644);
	pstat("stat l1", "l1");
	S("link l1 l2", link("l1", "l2"));
	pstat("stat l1", "l1");
	pstat("stat l2", "l2");
	S("link l2 l3", link("l2", "l3"));
	pstat("stat l1", "l1");
	pstat("stat l2", "l2");
	pstat("stat l3", "l3");
	S("link l1 l3 (exists)", link("l1", "l3"));
	S("link d1 dlink (directory)", link("d1", "dlink"));
	S("link missing l4", link("missing", "l4"));
	S("link l1 missingdir/l4", link("l1", "missingdir/l4"));
	S("unlink l2", unlink("l2"));
	pstat("stat l1", "l1");
	pstat("stat l3", "l3");
	plstat("lstat l2", "l2");
	fd = SFD("open l3 O_WRONLY|O_APPEND", open("l3", O_WRONLY | O_APPEND));
	SN("write via l3", write(fd, "3", 1));
	close(fd);
	pcontent("content l1", "l1");

	S("symlink l1 lsym", symlink("l1", "lsym"));
	S("link lsym lsym2 (links the symlink)", linkat(AT_FDCWD, "lsym", AT_FDCWD, "lsym2", 0));
	plstat("lstat lsym2", "lsym2");
	S("linkat lsym lsym3 AT_SYMLINK_FOLLOW", linkat(AT_FDCWD, "lsym", AT_FDCWD, "lsym3", AT_SYMLINK_FOLLOW));
	plstat("lstat lsym3", "lsym3");
	pstat("stat l1", "l1");
	S("unlink lsym3", unlink("lsym3"));

	/* An open file outlives its last name. */
	fd = SFD("open l1 O_RDWR", open("l1", O_RDWR));
	S("unlink l1", unlink("l1"));
	S("unlink l3", unlink("l3"));
	pfstat("fstat unlinked l1", fd, NULL);
	SN("pwrite unlinked l1", pwrite(fd, "gone", 4, 0));
	r = CALL(pread(fd, buf, sizeof buf, 0));
	pdata("pread unlinked l1", r, buf);
	S("ftruncate unlinked l1", ftruncate(fd, 2));
	pfstat("fstat unlinked l1", fd, NULL);
	S("close unlinked l1", close(fd));
	plstat("lstat l1", "l1");
}

static void sec_symlink(void)
{
	char buf[8192], target[4001];
	long r;
	int fd;

	line("# symlinks");
	write_file("s_target", "T", 0644);
	S("symlink s_target s1", symlink("s_target", "s1"));
	r = CALL(readlink("s1", buf, sizeof buf));
	pdata("readlink s1", r, buf);
	r = CALL(readlink("s1", buf, 3));
	pdata("readlink s1 bufsize 3", r, buf);
	plstat("lstat s1", "s1");
	pstat("stat s1", "s1");
	pcontent("content via s1", "s1");
	fd = SFD("open s1 O_RDONLY (follows)", open("s1", O_RDONLY));
	r = CALL(read(fd, buf, sizeof buf));
	pdata("read via s1", r, buf);
	close(fd);
	S("open s1 O_NOFOLLOW", open("s1", O_RDONLY | O_NOFOLLOW));
	fd = SFD("open s1 O_PATH|O_NOFOLLOW", open("s1", O_PATH | O_NOFOLLOW));
	pfstat("fstat O_PATH s1", fd, NULL);
	r = CALL(readlinkat(fd, "", buf, sizeof buf));
	pdata("readlinkat(O_PATH fd, \"\")", r, buf);
	close(fd);
	S("symlink x s1 (exists)", symlink("x", "s1"));
	SN("readlink on a file", readlink("s_target", buf, sizeof buf));
	SN("readlink missing", readlink("missing", buf, sizeof buf));

	S("symlink nowhere s2 (dangling)", symlink("nowhere", "s2"));
	pstat("stat s2", "s2");
	plstat("lstat s2", "s2");
	r = CALL(readlink("s2", buf, sizeof buf));
	pdata("readlink s2", r, buf);
	S("open s2 O_RDONLY", open("s2", O_RDONLY));
	S("open s2 O_CREAT|O_EXCL", open("s2", O_CREAT | O_EXCL | O_WRONLY, 0644));
	fd = SFD("open s2 O_CREAT (creates target)", open("s2", O_CREAT | O_WRONLY, 0640));
	if (fd >= 0) {
		SN("write via s2", write(fd, "created", 7));
		close(fd);
	}
	pstat("stat s2", "s2");
	pstat("stat nowhere", "nowhere");

	S("mkdir sd", mkdir("sd", 0755));
	S("symlink sd s3", symlink("sd", "s3"));
	write_file("sd/in", "in", 0644);
	pcontent("content s3/in", "s3/in");
	pstat("stat s3/", "s3/");
	S("rmdir s3 (symlink)", rmdir("s3"));
	S("unlink s3/ (trailing slash)", unlink("s3/"));
	S("symlink ../sd sd/up", symlink("../sd", "sd/up"));
	pcontent("content sd/up/up/up/in", "sd/up/up/up/in");
	S("symlink s5 s4", symlink("s5", "s4"));
	S("symlink s4 s5", symlink("s4", "s5"));
	pstat("stat s4 (loop)", "s4");
	S("open s4 (loop)", open("s4", O_RDONLY));

	memset(target, 'y', sizeof target - 1);
	target[sizeof target - 1] = 0;
	S("symlink 4000-byte target s6", symlink(target, "s6"));
	r = CALL(readlink("s6", buf, sizeof buf));
	line("readlink s6: %ld matches=%s", r, r == 4000 && !memcmp(buf, target, 4000) ? "yes" : "no");
	plstat("lstat s6", "s6");
	S("symlink empty target", symlink("", "s7"));
	S("symlink /abs/path s8", symlink("/nonexistent/abs/path", "s8"));
	r = CALL(readlink("s8", buf, sizeof buf));
	pdata("readlink s8", r, buf);
}

static void sec_special(void)
{
	int fd;

	line("# special files");
	S("mkfifo fifo 0644", mkfifo("fifo", 0644));
	plstat("lstat fifo", "fifo");
	S("mkfifo fifo again", mkfifo("fifo", 0644));
	fd = SFD("open fifo O_RDONLY|O_NONBLOCK", open("fifo", O_RDONLY | O_NONBLOCK));
	{
		int w = SFD("open fifo O_WRONLY|O_NONBLOCK (reader present)", open("fifo", O_WRONLY | O_NONBLOCK));
		char buf[16];
		long r;
		SN("write fifo", write(w, "pipe", 4));
		r = CALL(read(fd, buf, sizeof buf));
		pdata("read fifo", r, buf);
		close(w);
	}
	close(fd);
	S("open fifo O_WRONLY|O_NONBLOCK (no reader)", open("fifo", O_WRONLY | O_NONBLOCK));
	S("mknod fifo2 S_IFIFO 0600", mknod("fifo2", S_IFIFO | 0600, 0));
	plstat("lstat fifo2", "fifo2");
	S("mknod chr S_IFCHR 0666 1:3", mknod("chr", S_IFCHR | 0666, makedev(1, 3)));
	plstat("lstat chr", "chr");
	S("mknod blk S_IFBLK 0600 7:200", mknod("blk", S_IFBLK | 0600, makedev(7, 200)));
	plstat("lstat blk", "blk");
	S("mknod reg S_IFREG 0600", mknod("reg", S_IFREG | 0600, 0));
	plstat("lstat reg", "reg");
	S("mknod sock S_IFSOCK 0644", mknod("sock", S_IFSOCK | 0644, 0));
	plstat("lstat sock", "sock");
	S("mknod bad type", mknod("bad", 0170000 | 0644, 0));
	S("mknod fifo (exists)", mknod("fifo", S_IFIFO | 0644, 0));
	S("chmod fifo 0600", chmod("fifo", 0600));
	S("chown chr 1234:1234", chown("chr", 1234, 1234));
	plstat("lstat chr", "chr");
	S("rename chr chr2", rename("chr", "chr2"));
	S("link fifo2 fifo3", link("fifo2", "fifo3"));
	plstat("lstat fifo2", "fifo2");
	S("truncate fifo", truncate("fifo", 0));
}

static void sec_remove(void)
{
	line("# unlink and rmdir");
	S("mkdir ne", mkdir("ne", 0755));
	write_file("ne/x", "x", 0644);
	S("mkdir ne (exists)", mkdir("ne", 0755));
	S("mkdir f1 (file exists)", mkdir("f1", 0755));
	S("mkdir missingdir/x", mkdir("missingdir/x", 0755));
	S("mkdir f1/x", mkdir("f1/x", 0755));
	S("rmdir ne (non-empty)", rmdir("ne"));
	S("unlink ne (dir)", unlink("ne"));
	S("rmdir f1 (file)", rmdir("f1"));
	S("rmdir missing", rmdir("missing"));
	S("unlink missing", unlink("missing"));
	S("rmdir .", rmdir("."));
	S("rmdir ne/..", rmdir("ne/.."));
	S("rmdir ne/x/ (file with slash)", rmdir("ne/x/"));
	S("unlink f1/ (trailing slash)", unlink("f1/"));
	S("unlink ne/x", unlink("ne/x"));
	S("unlink ne/x again", unlink("ne/x"));
	S("rmdir ne/", rmdir("ne/"));
	plstat("lstat ne", "ne");
	S("unlinkat d_um AT_REMOVEDIR", unlinkat(AT_FDCWD, "d_um", AT_REMOVEDIR));
	S("unlinkat f_um1 AT_REMOVEDIR (file)", unlinkat(AT_FDCWD, "f_um1", AT_REMOVEDIR));
	S("unlinkat d_um2 0 (dir)", unlinkat(AT_FDCWD, "d_um2", 0));
	S("rmdir d_um2", rmdir("d_um2"));
	/* Remove and re-create the same name with another type. */
	S("unlink f_um2", unlink("f_um2"));
	S("mkdir f_um2", mkdir("f_um2", 0700));
	pstat("stat f_um2", "f_um2");
	S("rmdir f_um2", rmdir("f_um2"));
	S("symlink x f_um2", symlink("x", "f_um2"));
	plstat("lstat f_um2", "f_um2");
	S("unlink f_um2", unlink("f_um2"));
	write_file("f_um2", "again", 0600);
	pstat("stat f_um2", "f_um2");
}

static void pxattr(const char *name, long r, const char *buf)
{
	if (r < 0)
		line("%s: -1 %s", name, ename(last_errno));
	else
		line("%s: %ld value=\"%s\"", name, r, esc_n(buf, (size_t)r));
}

static void plistxattr(const char *name, const char *path, int follow)
{
	char buf[4096], *p;
	const char *names[64];
	long r;
	int n = 0, i, j;
	char out[4096];
	size_t o = 0;

	r = follow ? CALL(listxattr(path, buf, sizeof buf)) : CALL(llistxattr(path, buf, sizeof buf));
	if (r < 0) {
		line("%s: -1 %s", name, ename(last_errno));
		return;
	}
	for (p = buf; p < buf + r && n < 64; p += strlen(p) + 1)
		names[n++] = p;
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	out[0] = 0;
	for (i = 0; i < n; i++)
		o += (size_t)snprintf(out + o, sizeof out - o, "%s%s", i ? "," : "", esc(names[i]));
	line("%s: %ld [%s]", name, r, out);
}

static void sec_xattr(void)
{
	char buf[8192], val[4000];
	long r;
	int fd, i;

	line("# extended attributes");
	write_file("x1", "xattr", 0644);
	S("setxattr x1 user.a=va", setxattr("x1", "user.a", "va", 2, 0));
	SN("getxattr x1 user.a size 0", getxattr("x1", "user.a", NULL, 0));
	r = CALL(getxattr("x1", "user.a", buf, sizeof buf));
	pxattr("getxattr x1 user.a", r, buf);
	SN("getxattr x1 user.a size 1", getxattr("x1", "user.a", buf, 1));
	S("setxattr x1 user.a XATTR_CREATE (exists)", setxattr("x1", "user.a", "vb", 2, XATTR_CREATE));
	S("setxattr x1 user.b XATTR_REPLACE (missing)", setxattr("x1", "user.b", "vb", 2, XATTR_REPLACE));
	S("setxattr x1 user.a XATTR_REPLACE", setxattr("x1", "user.a", "new", 3, XATTR_REPLACE));
	r = CALL(getxattr("x1", "user.a", buf, sizeof buf));
	pxattr("getxattr x1 user.a", r, buf);
	S("setxattr x1 user.b XATTR_CREATE", setxattr("x1", "user.b", "vb", 2, XATTR_CREATE));
	S("setxattr x1 user.empty (empty value)", setxattr("x1", "user.empty", "", 0, 0));
	r = CALL(getxattr("x1", "user.empty", buf, sizeof buf));
	pxattr("getxattr x1 user.empty", r, buf);
	S("setxattr x1 both flags", setxattr("x1", "user.c", "v", 1, XATTR_CREATE | XATTR_REPLACE));
	SN("listxattr x1 size 0", listxattr("x1", NULL, 0));
	SN("listxattr x1 size 1", listxattr("x1", buf, 1));
	plistxattr("listxattr x1", "x1", 1);
	for (i = 0; i < 256; i++)
		buf[i] = (char)i;
	S("setxattr x1 user.bin (256 bytes 0..255)", setxattr("x1", "user.bin", buf, 256, 0));
	memset(buf, 0, 256);
	r = CALL(getxattr("x1", "user.bin", buf, sizeof buf));
	{
		int ok = r == 256;
		for (i = 0; ok && i < 256; i++)
			ok = (unsigned char)buf[i] == i;
		line("getxattr x1 user.bin: %ld matches=%s", r, ok ? "yes" : "no");
	}
	memset(val, 'v', sizeof val);
	S("setxattr x1 user.big (3000 bytes)", setxattr("x1", "user.big", val, 3000, 0));
	r = CALL(getxattr("x1", "user.big", buf, sizeof buf));
	line("getxattr x1 user.big: %ld matches=%s", r, r == 3000 && !memcmp(buf, val, 3000) ? "yes" : "no");
	S("removexattr x1 user.big", removexattr("x1", "user.big"));
	S("removexattr x1 user.bin", removexattr("x1", "user.bin"));
	S("removexattr x1 user.a", removexattr("x1", "user.a"));
	S("removexattr x1 user.a again", removexattr("x1", "user.a"));
	SN("getxattr x1 user.a (removed)", getxattr("x1", "user.a", buf, sizeof buf));
	SN("getxattr x1 user.never", getxattr("x1", "user.never", buf, sizeof buf));
	plistxattr("listxattr x1", "x1", 1);
	S("setxattr x1 bad namespace foo.bar", setxattr("x1", "foo.bar", "v", 1, 0));
	SN("getxattr x1 bad namespace foo.bar", getxattr("x1", "foo.bar", buf, sizeof buf));
	S("setxattr x1 trusted.t (root)", setxattr("x1", "trusted.t", "tv", 2, 0));
	r = CALL(getxattr("x1", "trusted.t", buf, sizeof buf));
	pxattr("getxattr x1 trusted.t", r, buf);
	S("removexattr x1 trusted.t", removexattr("x1", "trusted.t"));
	S("setxattr missing user.a", setxattr("missing", "user.a", "v", 1, 0));

	fd = SFD("open x1 O_RDONLY", open("x1", O_RDONLY));
	S("fsetxattr x1 user.f", fsetxattr(fd, "user.f", "fv", 2, 0));
	r = CALL(fgetxattr(fd, "user.f", buf, sizeof buf));
	pxattr("fgetxattr x1 user.f", r, buf);
	SN("flistxattr x1 size 0", flistxattr(fd, NULL, 0));
	S("fremovexattr x1 user.f", fremovexattr(fd, "user.f"));
	close(fd);

	S("mkdir xd", mkdir("xd", 0755));
	S("setxattr xd user.d", setxattr("xd", "user.d", "dir", 3, 0));
	r = CALL(getxattr("xd", "user.d", buf, sizeof buf));
	pxattr("getxattr xd user.d", r, buf);
	plistxattr("listxattr xd", "xd", 1);
	S("symlink x1 xl", symlink("x1", "xl"));
	S("lsetxattr xl user.l (symlink)", lsetxattr("xl", "user.l", "v", 1, 0));
	S("setxattr xl user.viaLink (follows)", setxattr("xl", "user.viaLink", "v", 1, 0));
	SN("lgetxattr xl user.viaLink", lgetxattr("xl", "user.viaLink", buf, sizeof buf));
	r = CALL(getxattr("xl", "user.viaLink", buf, sizeof buf));
	pxattr("getxattr xl user.viaLink", r, buf);
	plistxattr("llistxattr xl", "xl", 0);
	plistxattr("listxattr x1", "x1", 1);
	S("setxattr fifo user.p (fifo)", setxattr("fifo", "user.p", "v", 1, 0));
}

static void sec_fallocate(void)
{
	char buf[64 * 1024];
	int fd;
	long r;
	struct stat st;

	line("# fallocate");
	fd = SFD("open fa O_CREAT|O_RDWR", open("fa", O_CREAT | O_RDWR, 0644));
	S("fallocate fa mode 0 0+1MiB", fallocate(fd, 0, 0, MiB));
	if (fstat(fd, &st) == 0)
		line("fstat fa: size=%lld allocated=%s", (long long)st.st_size,
		     st.st_blocks * 512LL >= MiB ? "yes" : "no");
	S("fallocate fa KEEP_SIZE 1MiB+1MiB", fallocate(fd, FALLOC_FL_KEEP_SIZE, MiB, MiB));
	if (fstat(fd, &st) == 0)
		line("fstat fa: size=%lld allocated-beyond-eof=%s", (long long)st.st_size,
		     st.st_blocks * 512LL >= 2 * MiB ? "yes" : "no");
	memset(buf, 'a', sizeof buf);
	SN("pwrite fa 64KiB 'a' at 0", pwrite(fd, buf, sizeof buf, 0));
	S("fallocate fa PUNCH_HOLE|KEEP_SIZE 4096+8192",
	  fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 4096, 8192));
	memset(buf, 'x', sizeof buf);
	r = CALL(pread(fd, buf, 16384, 0));
	line("pread fa 16KiB: %ld [0]=%c hole-zeros=%s [12288]=%c", r, buf[0],
	     all_zero(buf + 4096, 8192) ? "yes" : "no", buf[12288]);
	if (fstat(fd, &st) == 0)
		line("fstat fa: size=%lld", (long long)st.st_size);
	SN("lseek fa SEEK_HOLE 0", lseek(fd, 0, SEEK_HOLE));
	SN("lseek fa SEEK_DATA 4096", lseek(fd, 4096, SEEK_DATA));
	S("fallocate fa PUNCH_HOLE without KEEP_SIZE", fallocate(fd, FALLOC_FL_PUNCH_HOLE, 0, 4096));
	S("fallocate fa len 0", fallocate(fd, 0, 0, 0));
	S("fallocate fa negative offset", fallocate(fd, 0, -1, 10));
	S("fallocate fa 0 at 3MiB+100 (grows)", fallocate(fd, 0, 3 * MiB, 100));
	if (fstat(fd, &st) == 0)
		line("fstat fa: size=%lld", (long long)st.st_size);
	close(fd);
	fd = SFD("open fa O_RDONLY", open("fa", O_RDONLY));
	S("fallocate on O_RDONLY fd", fallocate(fd, 0, 0, 10));
	close(fd);
	fd = SFD("open fa O_WRONLY|O_APPEND", open("fa", O_WRONLY | O_APPEND));
	S("fallocate PUNCH_HOLE on O_APPEND fd", fallocate(fd, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096));
	close(fd);
	fd = SFD("open d1 O_DIRECTORY", open("d1", O_RDONLY | O_DIRECTORY));
	S("fallocate on dir fd", fallocate(fd, 0, 0, 10));
	close(fd);
}

static void sec_copy(void)
{
	static char src[100000], back[100000];
	int in, out, fd;
	loff_t oi, oo;
	long r, total;
	size_t i;

	line("# copy_file_range");
	for (i = 0; i < sizeof src; i++)
		src[i] = (char)('A' + i % 23);
	in = SFD("open cf_src O_CREAT|O_RDWR", open("cf_src", O_CREAT | O_RDWR, 0644));
	SN("write cf_src 100000", write(in, src, sizeof src));
	out = SFD("open cf_dst O_CREAT|O_RDWR", open("cf_dst", O_CREAT | O_RDWR, 0644));
	oi = 10;
	oo = 0;
	total = 0;
	do {
		r = CALL(copy_file_range(in, &oi, out, &oo, 50000 - total, 0));
		if (r > 0)
			total += r;
	} while (r > 0 && total < 50000);
	if (r < 0)
		line("copy_file_range cf_src@10 -> cf_dst@0 50000: -1 %s", ename(last_errno));
	else
		line("copy_file_range cf_src@10 -> cf_dst@0 50000: total=%ld off_in=%lld off_out=%lld",
		     total, (long long)oi, (long long)oo);
	SN("lseek cf_src SEEK_CUR (unchanged)", lseek(in, 0, SEEK_CUR));
	SN("lseek cf_dst SEEK_CUR (unchanged)", lseek(out, 0, SEEK_CUR));
	r = CALL(pread(out, back, sizeof back, 0));
	line("pread cf_dst: %ld matches=%s", r, r == 50000 && !memcmp(back, src + 10, 50000) ? "yes" : "no");
	/* Without offsets: the file positions are used and advanced. */
	lseek(in, 99990, SEEK_SET);
	lseek(out, 60000, SEEK_SET);
	SN("copy_file_range using positions (10 bytes left)", copy_file_range(in, NULL, out, NULL, 100, 0));
	SN("lseek cf_src SEEK_CUR", lseek(in, 0, SEEK_CUR));
	SN("lseek cf_dst SEEK_CUR", lseek(out, 0, SEEK_CUR));
	SN("copy_file_range at source EOF", copy_file_range(in, NULL, out, NULL, 100, 0));
	{
		struct stat st;
		char buf[16];
		if (fstat(out, &st) == 0)
			line("fstat cf_dst: size=%lld", (long long)st.st_size);
		r = CALL(pread(out, buf, 10, 60000));
		pdata("pread cf_dst 10@60000", r, buf);
		memset(buf, 'x', sizeof buf);
		r = CALL(pread(out, buf, 16, 50000));
		line("pread cf_dst 16@50000 (gap): %ld zeros=%s", r, r == 16 && all_zero(buf, 16) ? "yes" : "no");
	}
	oi = 0;
	oo = 10;
	SN("copy_file_range same file overlapping", copy_file_range(in, &oi, in, &oo, 100, 0));
	oi = 0;
	SN("copy_file_range bad flags", copy_file_range(in, &oi, out, NULL, 10, 1));
	fd = SFD("open cf_dst O_WRONLY", open("cf_dst", O_WRONLY));
	oi = 0;
	oo = 0;
	SN("copy_file_range from O_WRONLY fd", copy_file_range(fd, &oi, out, &oo, 10, 0));
	close(fd);
	fd = SFD("open cf_dst O_RDONLY", open("cf_dst", O_RDONLY));
	oi = 0;
	oo = 0;
	SN("copy_file_range to O_RDONLY fd", copy_file_range(in, &oi, fd, &oo, 10, 0));
	close(fd);
	close(in);
	close(out);
}

static void sec_locks(void)
{
	int a, b, st;
	struct flock fl;
	pid_t pid;

	line("# locks");
	write_file("lk", "lock", 0644);
	a = SFD("open lk fd A", open("lk", O_RDWR));
	b = SFD("open lk fd B", open("lk", O_RDWR));
	S("flock A LOCK_EX|LOCK_NB", flock(a, LOCK_EX | LOCK_NB));
	S("flock B LOCK_EX|LOCK_NB", flock(b, LOCK_EX | LOCK_NB));
	S("flock B LOCK_SH|LOCK_NB", flock(b, LOCK_SH | LOCK_NB));
	S("flock A LOCK_UN", flock(a, LOCK_UN));
	S("flock B LOCK_SH|LOCK_NB", flock(b, LOCK_SH | LOCK_NB));
	S("flock A LOCK_SH|LOCK_NB", flock(a, LOCK_SH | LOCK_NB));
	S("flock A LOCK_EX|LOCK_NB (B holds shared)", flock(a, LOCK_EX | LOCK_NB));
	S("flock B LOCK_UN", flock(b, LOCK_UN));
	S("flock A LOCK_EX|LOCK_NB (upgrade)", flock(a, LOCK_EX | LOCK_NB));
	S("flock A LOCK_UN", flock(a, LOCK_UN));

	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 10;
	S("fcntl A F_OFD_SETLK write 0+10", fcntl(a, F_OFD_SETLK, &fl));
	fl.l_type = F_RDLCK;
	fl.l_start = 5;
	fl.l_len = 1;
	S("fcntl B F_OFD_SETLK read 5+1", fcntl(b, F_OFD_SETLK, &fl));
	fl.l_type = F_RDLCK;
	fl.l_start = 5;
	fl.l_len = 1;
	fl.l_pid = 0;
	S("fcntl B F_OFD_GETLK 5+1", fcntl(b, F_OFD_GETLK, &fl));
	line("  conflicting lock: type=%s start=%lld len=%lld pid=%d",
	     fl.l_type == F_WRLCK ? "W" : fl.l_type == F_RDLCK ? "R" : "U",
	     (long long)fl.l_start, (long long)fl.l_len, fl.l_pid);
	fl.l_type = F_RDLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 10;
	fl.l_len = 5;
	fl.l_pid = 0;
	S("fcntl B F_OFD_SETLK read 10+5 (no overlap)", fcntl(b, F_OFD_SETLK, &fl));
	close(b);
	close(a);

	/* Classic POSIX locks belong to processes. */
	a = SFD("open lk", open("lk", O_RDWR));
	memset(&fl, 0, sizeof fl);
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	fl.l_start = 0;
	fl.l_len = 0;
	S("fcntl F_SETLK write whole file", fcntl(a, F_SETLK, &fl));
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int c = open("lk", O_RDWR);
		struct flock g;
		memset(&g, 0, sizeof g);
		g.l_type = F_RDLCK;
		g.l_whence = SEEK_SET;
		g.l_len = 1;
		S("child fcntl F_SETLK read", fcntl(c, F_SETLK, &g));
		g.l_type = F_RDLCK;
		g.l_start = 0;
		g.l_len = 1;
		S("child fcntl F_GETLK", fcntl(c, F_GETLK, &g));
		line("  conflicting lock: type=%s start=%lld len=%lld pid-is-parent=%s",
		     g.l_type == F_WRLCK ? "W" : g.l_type == F_RDLCK ? "R" : "U",
		     (long long)g.l_start, (long long)g.l_len, g.l_pid == getppid() ? "yes" : "no");
		fflush(stdout);
		_exit(0);
	}
	waitpid(pid, &st, 0);
	S("fcntl F_SETLK unlock", (fl.l_type = F_UNLCK, fcntl(a, F_SETLK, &fl)));
	close(a);
}

static void sec_names(void)
{
	char name[300];
	static const char *const odd[] = {
		"with space", "new\nline", "\xc3\xa9 \xe6\x97\xa5\xe6\x9c\xac \n x", "tab\tname",
		"-dash", ".hidden", "back\\slash", "quote'\"", "  leading", "trailing  ",
		"star*?[x]", "#hash%percent", "\x7f" "del",
	};
	size_t i;
	int fd;

	line("# names");
	memset(name, 'n', 255);
	name[255] = 0;
	fd = SFD("create 255-byte name", open(name, O_CREAT | O_WRONLY, 0644));
	close(fd);
	pstat("stat 255-byte name", name);
	S("mkdir 255-byte name (exists)", mkdir(name, 0755));
	name[0] = 'm';
	S("mkdir 255-byte name", mkdir(name, 0755));
	S("symlink to 255-byte name", symlink(name, "long-link"));
	S("rename 255-byte dir", rename(name, "short-dir"));
	name[0] = 'n';
	name[255] = 'n';
	name[256] = 0;
	S("create 256-byte name", open(name, O_CREAT | O_WRONLY, 0644));
	S("stat 256-byte name", stat(name, &(struct stat){ 0 }));
	S("mkdir 256-byte name", mkdir(name, 0755));
	S("symlink 256-byte name", symlink("x", name));
	S("rename to 256-byte name", rename("short-dir", name));
	S("link to 256-byte name", link("f1", name));
	S("mknod 256-byte name", mknod(name, S_IFIFO | 0644, 0));
	S("unlink 256-byte name", unlink(name));
	S("setxattr 256-byte name", setxattr(name, "user.a", "v", 1, 0));
	/* 255 bytes of UTF-8: 127 two-byte characters and one ASCII. */
	for (i = 0; i < 127; i++) {
		name[2 * i] = (char)0xc3;
		name[2 * i + 1] = (char)0xa9;
	}
	name[254] = 'x';
	name[255] = 0;
	fd = SFD("create 255-byte UTF-8 name", open(name, O_CREAT | O_WRONLY, 0644));
	close(fd);
	memset(name, 'a', 250);
	name[250] = 0;
	strcat(name, "/b");
	S("open 250/b (missing parent)", open(name, O_CREAT | O_WRONLY, 0644));

	for (i = 0; i < sizeof odd / sizeof odd[0]; i++) {
		char step_name[120];
		snprintf(step_name, sizeof step_name, "create \"%s\"", esc(odd[i]));
		S(step_name, write_file(odd[i], odd[i], 0644));
		snprintf(step_name, sizeof step_name, "content \"%s\"", esc(odd[i]));
		pcontent(step_name, odd[i]);
	}
	S("mkdir \"dir with\\nnewline\"", mkdir("dir with\nnewline", 0755));
	S("rename \"with space\" into it", rename("with space", "dir with\nnewline/with space"));
	plist("list \"dir with\\nnewline\"", "dir with\nnewline", 1);
}

static void sec_many(void)
{
	char name[128];
	struct dent *v;
	long n, i, made = 0;
	uint64_t h = 0;
	DIR *d;
	long first = 0, second = 0;

	line("# large directory");
	S("mkdir many", mkdir("many", 0755));
	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof name, "many/entry-%04ld-%s", i,
			 "padding-padding-padding-padding-padding-padding-padding");
		if (write_file(name, "", 0644) == 0)
			made++;
	}
	line("created many/*: %ld", made);
	n = read_dir("many", &v);
	if (n < 0) {
		line("readdir many: -1 %s", ename(last_errno));
	} else {
		for (i = 0; i < n; i++)
			h = h * 31 + fnv(v[i].name, strlen(v[i].name));
		line("readdir many: %ld entries hash=%016llx", n, (unsigned long long)h);
		free_dents(v, n);
	}
	d = opendir("many");
	if (d) {
		while (readdir(d))
			first++;
		rewinddir(d);
		while (readdir(d))
			second++;
		closedir(d);
	}
	line("readdir many twice with rewinddir: %ld %ld", first, second);
	/* telldir/seekdir: come back to the middle and read on. */
	d = opendir("many");
	if (d) {
		long pos = -1, k = 0, after = 0;
		struct dirent *e;
		char mid[256] = "", again[256] = "";
		while ((e = readdir(d))) {
			if (++k == 300) {
				pos = telldir(d);
			} else if (k == 301) {
				snprintf(mid, sizeof mid, "%s", e->d_name);
			}
		}
		seekdir(d, pos);
		e = readdir(d);
		if (e)
			snprintf(again, sizeof again, "%s", e->d_name);
		while (readdir(d))
			after++;
		closedir(d);
		line("seekdir to entry 301: same entry %s, %ld entries follow", strcmp(mid, again) ? "no" : "yes",
		     after);
	}
	made = 0;
	for (i = 0; i < 600; i++) {
		snprintf(name, sizeof name, "many/entry-%04ld-%s", i,
			 "padding-padding-padding-padding-padding-padding-padding");
		if (unlink(name) == 0)
			made++;
	}
	line("unlinked many/*: %ld", made);
	plist("list many", "many", 0);
	S("rmdir many", rmdir("many"));
}

static void sec_deep(void)
{
	enum { LEVELS = 30, NAMELEN = 200 };
	char names[LEVELS][NAMELEN + 1];
	char buf[64], *full;
	int top, fds[LEVELS + 1], i, depth = 0, fd, ok;
	long r;
	size_t len = 0;

	line("# deep path");
	top = open(".", O_RDONLY | O_DIRECTORY);
	for (i = 0; i <= LEVELS; i++)
		fds[i] = -1;
	for (i = 0; i < LEVELS; i++) {
		int n = snprintf(names[i], sizeof names[i], "level%02d-", i);
		memset(names[i] + n, 'd', NAMELEN - n);
		names[i][NAMELEN] = 0;
	}
	for (i = 0; i < LEVELS; i++) {
		if (CALL(mkdir(names[i], 0755)) < 0) {
			line("deep mkdir level %d: -1 %s", i, ename(last_errno));
			break;
		}
		if (CALL(chdir(names[i])) < 0) {
			line("deep chdir level %d: -1 %s", i, ename(last_errno));
			break;
		}
		depth++;
	}
	line("deep mkdir+chdir levels: %d (path length %d)", depth, depth * (NAMELEN + 1));
	fd = SFD("deep create leaf", open("leaf", O_CREAT | O_EXCL | O_RDWR, 0600));
	SN("deep write leaf", write(fd, "deep data", 9));
	r = CALL(pread(fd, buf, sizeof buf, 0));
	pdata("deep pread leaf", r, buf);
	pfstat("deep fstat leaf", fd, NULL);
	close(fd);
	pstat("deep stat leaf", "leaf");
	S("deep mkdir sub", mkdir("sub", 0755));
	S("deep rename leaf sub/leaf2", rename("leaf", "sub/leaf2"));
	S("deep symlink sub/leaf2 sl", symlink("sub/leaf2", "sl"));
	pcontent("deep content via sl", "sl");
	S("deep setxattr", setxattr("sub/leaf2", "user.deep", "1", 1, 0));
	S("deep rename sub/leaf2 back to leaf", rename("sub/leaf2", "leaf"));
	S("deep unlink sl", unlink("sl"));
	S("deep rmdir sub", rmdir("sub"));
	plist("deep list", ".", 1);
	ok = 0;
	for (i = depth - 1; i >= 0; i--)
		if (chdir("..") == 0)
			ok++;
	line("deep chdir .. back up: %d", ok);
	S("fchdir back to top", fchdir(top));

	/* The whole path is longer than PATH_MAX for the kernel. */
	full = malloc((size_t)LEVELS * (NAMELEN + 1) + 8);
	for (i = 0; i < depth; i++) {
		memcpy(full + len, names[i], NAMELEN);
		len += NAMELEN;
		full[len++] = '/';
	}
	memcpy(full + len, "leaf", 5);
	S("open deep path as one string", open(full, O_RDONLY));
	free(full);

	/* Walk down with openat and remove from the bottom up. */
	fds[0] = dup(top);
	ok = 0;
	for (i = 0; i < depth; i++) {
		fds[i + 1] = (int)CALL(openat(fds[i], names[i], O_RDONLY | O_DIRECTORY));
		if (fds[i + 1] < 0) {
			line("deep openat level %d: -1 %s", i, ename(last_errno));
			break;
		}
		ok++;
	}
	line("deep openat levels: %d", ok);
	if (ok == depth) {
		pstat_at("deep fstatat leaf", fds[depth], "leaf", 1, NULL);
		fd = (int)CALL(openat(fds[depth], "leaf", O_RDONLY));
		r = fd < 0 ? -1 : CALL(read(fd, buf, sizeof buf));
		pdata("deep read leaf via openat", r, buf);
		if (fd >= 0)
			close(fd);
		S("deep unlinkat leaf", unlinkat(fds[depth], "leaf", 0));
	}
	ok = 0;
	for (i = depth; i > 0; i--) {
		if (fds[i - 1] < 0)
			continue;
		if (unlinkat(fds[i - 1], names[i - 1], AT_REMOVEDIR) == 0)
			ok++;
		else
			line("deep rmdir level %d: -1 %s", i - 1, ename(errno));
	}
	for (i = 0; i <= depth; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	line("deep rmdir levels: %d", ok);
	plstat("lstat level00", names[0]);
	close(top);
}

static void sec_misc(void)
{
	struct statvfs sv;
	int fd;

	line("# statvfs and access");
	if (CALL(statvfs(".", &sv)) < 0)
		line("statvfs .: -1 %s", ename(last_errno));
	else
		line("statvfs .: f_namemax=%lu", (unsigned long)sv.f_namemax);
	fd = open("f_two", O_RDONLY);
	if (CALL(fstatvfs(fd, &sv)) < 0)
		line("fstatvfs f_two: -1 %s", ename(last_errno));
	else
		line("fstatvfs f_two: f_namemax=%lu", (unsigned long)sv.f_namemax);
	close(fd);
	S("statvfs missing", statvfs("missing", &sv));
	S("access f_two F_OK", access("f_two", F_OK));
	S("access f_two R_OK|W_OK", access("f_two", R_OK | W_OK));
	S("access f_two X_OK (0644, root)", access("f_two", X_OK));
	S("access d1 X_OK", access("d1", X_OK));
	S("access missing F_OK", access("missing", F_OK));
	S("faccessat s2 AT_SYMLINK_NOFOLLOW", faccessat(AT_FDCWD, "s2", F_OK, AT_SYMLINK_NOFOLLOW));
	S("faccessat f_two AT_EACCESS", faccessat(AT_FDCWD, "f_two", R_OK, AT_EACCESS));
	S("chdir d1", chdir("d1"));
	pstat("stat ..", "..");
	S("chdir ..", chdir(".."));
	S("chdir f_two (file)", chdir("f_two"));
	S("chdir missing", chdir("missing"));
}

static int run_root(void)
{
	sec_open();
	sec_rw();
	sec_truncate();
	sec_chmod_chown();
	sec_times();
	sec_rename();
	sec_link();
	sec_symlink();
	sec_special();
	sec_remove();
	sec_xattr();
	sec_fallocate();
	sec_copy();
	sec_locks();
	sec_names();
	sec_many();
	sec_deep();
	sec_misc();
	line("# final listing");
	plist("list .", ".", 1);
	return 0;
}

/* ------------------------------------------------------------ as a user */

static void setup_as_root(uid_t uid)
{
	int ok = 1;
#define MUST(x) do { if ((x) < 0) { line("setup: %s: -1 %s", #x, ename(errno)); ok = 0; } } while (0)
	MUST(mkdir("rootdir", 0755));
	MUST(chmod("rootdir", 0755));
	MUST(write_file("rootdir/f", "root file", 0644));
	MUST(write_file("secret", "secret", 0600));
	MUST(write_file("pub", "public", 0644));
	MUST(write_file("pubw", "world-writable", 0666));
	MUST(chmod("pubw", 0666));
	MUST(write_file("pubsuid", "suid", 0644));
	MUST(chmod("pubsuid", 06777));
	MUST(mkdir("sticky", 0755));
	MUST(chmod("sticky", 01777));
	MUST(write_file("sticky/rootfile", "in sticky", 0666));
	MUST(chmod("sticky/rootfile", 0666));
	MUST(mkdir("open", 0755));
	MUST(chmod("open", 0777));
	MUST(mkdir("sgid", 0755));
	MUST(chown("sgid", 0, 1234));
	MUST(chmod("sgid", 02777));
	MUST(mkdir("priv", 0700));
	MUST(write_file("priv/f", "private", 0644));
	MUST(mkdir("xonly", 0711));
	MUST(chmod("xonly", 0711));
	MUST(write_file("xonly/f", "reachable", 0644));
	MUST(write_file("mine", "user-owned, group root", 0644));
	MUST(chown("mine", uid, 0));
	MUST(write_file("rootdir/userfile", "user's file in root dir", 0666));
	MUST(chown("rootdir/userfile", uid, uid));
#undef MUST
	line("setup as root: %s", ok ? "ok" : "FAILED");
	plist("setup listing", ".", 1);
}

static void user_checks(uid_t uid)
{
	int fd;
	char buf[64];
	long r;
	struct timespec t[2], lo, hi;
	struct stat st;

	line("ids: uid=%u euid=%u gid=%u egid=%u groups=%d", (unsigned)getuid(), (unsigned)geteuid(),
	     (unsigned)getgid(), (unsigned)getegid(), getgroups(0, NULL));

	line("# in a root-owned 0755 directory");
	S("create rootdir/new", open("rootdir/new", O_CREAT | O_WRONLY, 0644));
	S("mkdir rootdir/nd", mkdir("rootdir/nd", 0755));
	S("mkfifo rootdir/p", mkfifo("rootdir/p", 0644));
	S("symlink rootdir/s", symlink("x", "rootdir/s"));
	S("unlink rootdir/f", unlink("rootdir/f"));
	S("unlink rootdir/userfile (own file, dir not writable)", unlink("rootdir/userfile"));
	S("rename rootdir/f open/f", rename("rootdir/f", "open/f"));
	S("link rootdir/userfile rootdir/hl", link("rootdir/userfile", "rootdir/hl"));
	pcontent("read rootdir/f", "rootdir/f");
	plist("list rootdir", "rootdir", 0);
	fd = SFD("open rootdir/userfile O_RDWR (own file)", open("rootdir/userfile", O_RDWR));
	SN("write rootdir/userfile", write(fd, "U", 1));
	close(fd);
	S("chmod rootdir/userfile 0600 (own)", chmod("rootdir/userfile", 0600));
	pstat("stat rootdir/userfile", "rootdir/userfile");

	line("# root's files");
	S("open secret O_RDONLY (0600 root)", open("secret", O_RDONLY));
	pcontent("read pub (0644 root)", "pub");
	S("open pub O_WRONLY", open("pub", O_WRONLY));
	S("open pub O_RDWR|O_TRUNC", open("pub", O_RDWR | O_TRUNC));
	S("open pub O_RDONLY|O_TRUNC", open("pub", O_RDONLY | O_TRUNC));
	S("truncate pub", truncate("pub", 0));
	S("chmod pub 0777", chmod("pub", 0777));
	S("chown pub to self", chown("pub", uid, uid));
	S("chown pub -1:-1", chown("pub", (uid_t)-1, (gid_t)-1));
	S("setxattr pub user.x", setxattr("pub", "user.x", "v", 1, 0));
	SN("getxattr secret user.x", getxattr("secret", "user.x", buf, sizeof buf));
	S("setxattr pubw user.x (0666)", setxattr("pubw", "user.x", "v", 1, 0));
	r = CALL(getxattr("pubw", "user.x", buf, sizeof buf));
	pxattr("getxattr pubw user.x", r, buf);
	S("setxattr pubw trusted.x", setxattr("pubw", "trusted.x", "v", 1, 0));
	S("link pub open/hl (protected_hardlinks)", link("pub", "open/hl"));
	S("link pubw open/hlw", link("pubw", "open/hlw"));
	pstat("stat pub", "pub");
	pstat("stat pubw", "pubw");

	line("# access()");
	S("access pub R_OK", access("pub", R_OK));
	S("access pub W_OK", access("pub", W_OK));
	S("access pub X_OK", access("pub", X_OK));
	S("access pubw W_OK", access("pubw", W_OK));
	S("access secret R_OK", access("secret", R_OK));
	S("access secret F_OK", access("secret", F_OK));
	S("access rootdir X_OK", access("rootdir", X_OK));
	S("access rootdir W_OK", access("rootdir", W_OK));
	S("access priv/f F_OK", access("priv/f", F_OK));
	S("access open W_OK", access("open", W_OK));

	line("# timestamps on root's 0666 file");
	lo = before_now();
	S("utimensat pubw NULL (UTIME_NOW)", utimensat(AT_FDCWD, "pubw", NULL, 0));
	hi = after_now();
	if (stat("pubw", &st) == 0)
		line("stat pubw: mtime-now %s", in_range(st.st_mtim, lo, hi));
	t[0] = ts(0, UTIME_NOW);
	t[1] = ts(0, UTIME_NOW);
	S("utimensat pubw both UTIME_NOW", utimensat(AT_FDCWD, "pubw", t, 0));
	t[0] = ts(1000000000, 0);
	t[1] = ts(1000000000, 0);
	S("utimensat pubw explicit", utimensat(AT_FDCWD, "pubw", t, 0));
	t[0] = ts(0, UTIME_OMIT);
	t[1] = ts(0, UTIME_NOW);
	S("utimensat pubw OMIT/NOW", utimensat(AT_FDCWD, "pubw", t, 0));
	S("utimensat pub NULL (not writable)", utimensat(AT_FDCWD, "pub", NULL, 0));
	fd = SFD("open pubw O_RDWR|O_TRUNC", open("pubw", O_RDWR | O_TRUNC));
	SN("write pubw", write(fd, "mine now", 8));
	t[0] = ts(1000000000, 0);
	t[1] = ts(1000000000, 0);
	S("futimens pubw explicit", futimens(fd, t));
	S("futimens pubw NULL", futimens(fd, NULL));
	S("fchmod pubw", fchmod(fd, 0600));
	close(fd);
	pstat("stat pubw", "pubw");

	line("# write kills suid/sgid");
	fd = SFD("open pubsuid O_WRONLY (06777 root)", open("pubsuid", O_WRONLY));
	SN("write pubsuid", write(fd, "S", 1));
	close(fd);
	pstat("stat pubsuid (suid/sgid cleared)", "pubsuid");

	line("# sticky directory");
	S("unlink sticky/rootfile", unlink("sticky/rootfile"));
	S("rename sticky/rootfile sticky/x", rename("sticky/rootfile", "sticky/x"));
	S("rmdir sticky (not empty, not own)", rmdir("sticky"));
	fd = SFD("open sticky/rootfile O_WRONLY (0666)", open("sticky/rootfile", O_WRONLY));
	SN("write sticky/rootfile", write(fd, "w", 1));
	close(fd);
	fd = SFD("create sticky/mine", open("sticky/mine", O_CREAT | O_EXCL | O_WRONLY, 0644));
	close(fd);
	S("rename sticky/mine sticky/mine2", rename("sticky/mine", "sticky/mine2"));
	S("rename sticky/mine2 over sticky/rootfile", rename("sticky/mine2", "sticky/rootfile"));
	S("unlink sticky/mine2", unlink("sticky/mine2"));

	line("# objects the user creates");
	fd = SFD("create open/uf 0644", open("open/uf", O_CREAT | O_EXCL | O_RDWR, 0644));
	pfstat("fstat open/uf", fd, NULL);
	SN("write open/uf", write(fd, "user data", 9));
	close(fd);
	pstat("stat open/uf", "open/uf");
	S("mkdir open/ud", mkdir("open/ud", 0755));
	pstat("stat open/ud", "open/ud");
	fd = SFD("create open/ud/deeper", open("open/ud/deeper", O_CREAT | O_WRONLY, 0600));
	close(fd);
	pstat("stat open/ud/deeper", "open/ud/deeper");
	S("symlink open/us", symlink("uf", "open/us"));
	plstat("lstat open/us", "open/us");
	S("mkfifo open/up", mkfifo("open/up", 0600));
	plstat("lstat open/up", "open/up");
	S("mknod open/ur S_IFREG", mknod("open/ur", S_IFREG | 0640, 0));
	plstat("lstat open/ur", "open/ur");
	S("mknod open/uc S_IFCHR (not root)", mknod("open/uc", S_IFCHR | 0600, makedev(1, 3)));
	S("link open/uf open/ul", link("open/uf", "open/ul"));
	pstat("stat open/ul", "open/ul");
	S("rename open/uf open/uf2", rename("open/uf", "open/uf2"));
	S("setxattr open/uf2 user.u", setxattr("open/uf2", "user.u", "mine", 4, 0));
	plistxattr("listxattr open/uf2", "open/uf2", 1);
	t[0] = ts(1200000000, 500);
	t[1] = ts(1200000001, 600);
	S("utimensat open/uf2 explicit (owner)", utimensat(AT_FDCWD, "open/uf2", t, 0));
	if (stat("open/uf2", &st) == 0)
		line("stat open/uf2: atime=%s mtime=%s", tsfmt(st.st_atim), tsfmt(st.st_mtim));
	S("chown open/uf2 to 0:0", chown("open/uf2", 0, 0));
	S("chown open/uf2 to -1:0 (not a member)", chown("open/uf2", (uid_t)-1, 0));
	S("chown open/uf2 to self", chown("open/uf2", uid, uid));
	S("chmod open/uf2 04755", chmod("open/uf2", 04755));
	pstat("stat open/uf2", "open/uf2");
	fd = SFD("open open/uf2 O_WRONLY", open("open/uf2", O_WRONLY));
	SN("write open/uf2", write(fd, "x", 1));
	close(fd);
	pstat("stat open/uf2 after write (suid cleared)", "open/uf2");
	S("chmod open/uf2 06755", chmod("open/uf2", 06755));
	pstat("stat open/uf2", "open/uf2");
	S("truncate open/uf2 3", truncate("open/uf2", 3));
	pstat("stat open/uf2 after truncate (suid/sgid cleared)", "open/uf2");
	S("chmod mine 02755 (group not ours)", chmod("mine", 02755));
	pstat("stat mine (sgid dropped)", "mine");
	S("chmod mine 01644 (sticky on file)", chmod("mine", 01644));
	pstat("stat mine", "mine");
	S("chmod open/ud 02755 (own group)", chmod("open/ud", 02755));
	pstat("stat open/ud", "open/ud");
	S("unlink open/ul", unlink("open/ul"));
	S("rmdir open/ud (not empty)", rmdir("open/ud"));
	plist("list open", "open", 1);

	line("# setgid directory");
	fd = SFD("create sgid/f", open("sgid/f", O_CREAT | O_WRONLY, 0644));
	pfstat("fstat sgid/f (group inherited)", fd, NULL);
	close(fd);
	S("mkdir sgid/d", mkdir("sgid/d", 0755));
	pstat("stat sgid/d (group and sgid inherited)", "sgid/d");
	S("mkfifo sgid/p", mkfifo("sgid/p", 0644));
	plstat("lstat sgid/p", "sgid/p");
	S("symlink sgid/s", symlink("f", "sgid/s"));
	plstat("lstat sgid/s", "sgid/s");

	line("# unreadable and search-only directories");
	S("opendir priv (0700 root)", open("priv", O_RDONLY | O_DIRECTORY));
	S("stat priv/f", stat("priv/f", &st));
	S("chdir priv", chdir("priv"));
	S("open xonly O_DIRECTORY (0711)", open("xonly", O_RDONLY | O_DIRECTORY));
	pstat("stat xonly/f", "xonly/f");
	pcontent("read xonly/f", "xonly/f");
	S("create xonly/new", open("xonly/new", O_CREAT | O_WRONLY, 0644));
	S("chdir xonly", chdir("xonly"));
	pstat("stat f in xonly", "f");
	S("chdir ..", chdir(".."));
	S("rmdir rootdir", rmdir("rootdir"));
	S("rename open rootdir/open", rename("open", "rootdir/open"));
	S("statvfs .", statvfs(".", &(struct statvfs){ 0 }));
}

static int run_as_user(uid_t uid)
{
	pid_t pid;
	int status;

	setup_as_root(uid);
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setgid(uid) < 0 || setuid(uid) < 0) {
			line("dropping privileges: -1 %s", ename(errno));
			fflush(stdout);
			_exit(3);
		}
		user_checks(uid);
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) < 0) {
		perror("waitpid");
		return 1;
	}
	line("user process: %s %d", WIFEXITED(status) ? "exit" : "signal",
	     WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
	line("# final listing (as root)");
	plist("list .", ".", 1);
	plist("list open", "open", 1);
	plist("list sgid", "sgid", 1);
	plist("list sticky", "sticky", 1);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *dir;
	long as_user = -1;
	DIR *d;
	struct dirent *e;
	int n = 0;

	if (argc == 4 && !strcmp(argv[1], "--as-user")) {
		char *end;
		as_user = strtol(argv[2], &end, 10);
		if (*end || as_user <= 0) {
			fprintf(stderr, "posix_script: bad uid '%s'\n", argv[2]);
			return 2;
		}
		dir = argv[3];
	} else if (argc == 2 && argv[1][0] != '-') {
		dir = argv[1];
	} else {
		fprintf(stderr, "usage: posix_script [--as-user UID] DIR\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	umask(022);
	if (chdir(dir) < 0) {
		fprintf(stderr, "posix_script: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	d = opendir(".");
	if (!d) {
		fprintf(stderr, "posix_script: %s: %s\n", dir, strerror(errno));
		return 2;
	}
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	if (n) {
		fprintf(stderr, "posix_script: %s is not empty\n", dir);
		return 2;
	}
	if (geteuid() != 0) {
		fprintf(stderr, "posix_script: must run as root\n");
		return 2;
	}
	if (as_user > 0)
		return run_as_user((uid_t)as_user);
	return run_root();
}
