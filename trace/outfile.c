/*
 * outfile.c — output files that appear whole or not at all (trace.h).
 */
#include "trace/trace.h"


#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TEMP_SUFFIX ".tmp-XXXXXX"
/* A temporary file this much older than its last write whose writer holds
 * no lock on it was left by a writer that died (killed, a crash): the age
 * covers the instant between its creation and its lock. */
#define STALE_SECONDS 60

/* mkstemp makes 0600; a plain output file gets what open(0666) would. */
static int fix_mode(int fd)
{
	mode_t mask = umask(0);
	umask(mask);
	return fchmod(fd, 0666 & ~mask);
}

/* Whether ST is of the same file as INPUT followed by SUFFIX. */
static bool same_file(const struct stat *st, const char *input, const char *suffix)
{
	char *name;
	struct stat other;

	if (asprintf(&name, "%s%s", input, suffix) < 0)
		return false;
	bool same = stat(name, &other) == 0 && other.st_dev == st->st_dev &&
		    other.st_ino == st->st_ino;
	free(name);
	return same;
}

int trace_output_check(const char *output, const char *trace, char *err, size_t err_size)
{
	static const char *const suffixes[] = {"", "-wal", "-shm"};
	struct stat st;

	/* A name that does not exist yet, or leads nowhere, is no file of ours. */
	if (stat(output, &st) != 0)
		return 0;
	for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
		if (!same_file(&st, trace, suffixes[i]))
			continue;
		if (*suffixes[i])
			snprintf(err, err_size,
				 "refusing to write %s: it is %s%s, part of the trace being read; "
				 "give another output file",
				 output, trace, suffixes[i]);
		else
			snprintf(err, err_size,
				 "refusing to write %s: it is the trace being read%s%s%s; give "
				 "another output file",
				 output, strcmp(output, trace) ? " (" : "",
				 strcmp(output, trace) ? trace : "", strcmp(output, trace) ? ")" : "");
		return -1;
	}
	return 0;
}

/* OUT writing PATH through a temporary file, 0600 if PRIVATE. 0, or -1 with a message. */
static int open_temp(struct trace_outfile *out, const char *path, bool private, char *err,
		     size_t err_size)
{
	out->path = strdup(path);
	if (!out->path || asprintf(&out->temp, "%s" TEMP_SUFFIX, path) < 0) {
		out->temp = NULL;
		snprintf(err, err_size, "out of memory");
		trace_outfile_abort(out);
		return -1;
	}
	int fd = mkostemp(out->temp, O_CLOEXEC);
	if (fd < 0) {
		snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
		free(out->temp);
		out->temp = NULL; /* nothing to remove */
		trace_outfile_abort(out);
		return -1;
	}
	/* Held until it is closed: trace_outfile_clean() leaves it alone. Where the file system has
	 * no locks, none is held, and none can be taken by the cleaner either. */
	(void)flock(fd, LOCK_EX | LOCK_NB);
	if ((!private && fix_mode(fd) != 0) || !(out->file = fdopen(fd, "w"))) {
		snprintf(err, err_size, "cannot create %s: %s", path, strerror(errno));
		if (!out->file)
			close(fd);
		trace_outfile_abort(out);
		return -1;
	}
	return 0;
}

int trace_outfile_open(struct trace_outfile *out, const char *path, const char *input, char *err,
		 size_t err_size)
{
	memset(out, 0, sizeof(*out));
	if (trace_output_check(path, input, err, err_size) != 0)
		return -1;
	/* A device or a fifo (-o /dev/null, -o /dev/stdout) is written in
	 * place: renaming a file over it would replace the device itself. */
	struct stat st;
	if (stat(path, &st) == 0 && !S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {
		out->path = strdup(path);
		if (!out->path || !(out->file = fopen(path, "we"))) {
			snprintf(err, err_size, "cannot write %s: %s", path,
				 out->path ? strerror(errno) : "out of memory");
			trace_outfile_abort(out);
			return -1;
		}
		return 0;
	}
	return open_temp(out, path, false, err, err_size);
}

int trace_outfile_private(struct trace_outfile *out, const char *path, char *err, size_t err_size)
{
	memset(out, 0, sizeof(*out));
	return open_temp(out, path, true, err, err_size);
}

int trace_outfile_commit(struct trace_outfile *out, char *err, size_t err_size)
{
	int failed = ferror(out->file) || fflush(out->file) != 0;
	int saved = errno;

	if (fclose(out->file) != 0 && !failed) {
		failed = 1;
		saved = errno;
	}
	out->file = NULL;
	if (!failed && out->temp && rename(out->temp, out->path) != 0) {
		failed = 1;
		saved = errno;
	}
	if (failed) {
		snprintf(err, err_size, "cannot write %s: %s", out->path,
			 saved ? strerror(saved) : "write error");
		trace_outfile_abort(out);
		return -1;
	}
	free(out->temp);
	out->temp = NULL;
	trace_outfile_abort(out); /* frees the rest */
	return 0;
}

void trace_outfile_abort(struct trace_outfile *out)
{
	if (out->file)
		fclose(out->file); /* its data are being thrown away */
	if (out->temp)
		unlink(out->temp); /* best effort: nothing better to do on failure */
	free(out->temp);
	free(out->path);
	memset(out, 0, sizeof(*out));
}

int trace_outfile_finish(struct trace_outfile *out, const char *prog, const char *failure)
{
	char err[1024];
	if (failure) {
		fprintf(stderr, "%s: %s\n", prog, failure);
		trace_outfile_abort(out);
		return 1;
	}
	if (out->file) {
		if (trace_outfile_commit(out, err, sizeof(err)) == 0)
			return 0;
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "%s: cannot write to standard output\n", prog);
		return 1;
	}
	return 0;
}

/* Whether NAME is STEM followed by a temporary file's suffix. */
static bool is_temp_of(const char *name, const char *stem, size_t stem_len)
{
	static const char suffix[] = TEMP_SUFFIX;
	const size_t fixed = sizeof(suffix) - 1 - 6; /* ".tmp-", then mkstemp's six characters */
	return strncmp(name, stem, stem_len) == 0 && strncmp(name + stem_len, suffix, fixed) == 0 &&
	       strlen(name + stem_len + fixed) == 6;
}

void trace_outfile_clean(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir = slash ? strndup(path, (size_t)(slash - path) + 1) : strdup(".");
	const char *stem = slash ? slash + 1 : path;
	DIR *d = dir ? opendir(dir) : NULL;
	free(dir);
	if (!d)
		return; /* nothing can be written there either */
	size_t stem_len = strlen(stem);
	time_t now = time(NULL);
	struct dirent *entry;
	while ((entry = readdir(d))) {
		if (!is_temp_of(entry->d_name, stem, stem_len))
			continue;
		/* Looked at before it is opened: a device or FIFO by that name is never opened. */
		struct stat st;
		if (fstatat(dirfd(d), entry->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 ||
		    !S_ISREG(st.st_mode) || st.st_uid != geteuid())
			continue;
		/* Read-write: where flock is emulated with POSIX locks (NFS), an exclusive one needs it. */
		int fd = openat(dirfd(d), entry->d_name, O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* Ours, written to last long ago, and its writer is gone (no lock). */
		if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
		    now - st.st_mtime > STALE_SECONDS && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlinkat(dirfd(d), entry->d_name, 0); /* best effort: another may clean it first */
		close(fd);
	}
	closedir(d);
}
