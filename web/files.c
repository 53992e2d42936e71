/*
 * files.c — the page's static files, from the web root only: a URL path is
 * checked character by character, then opened one component at a time
 * beneath the root's descriptor with symlinks refused, so neither ".." nor
 * a symlink (planted by anyone) can lead a request outside the root.
 */
#include "web/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_URL_PATH 256
#define MAX_FILE_BYTES (64 << 20)

int files_open_root(const char *root, char *err, size_t err_size)
{
	int fd = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1)
		snprintf(err, err_size, "cannot open the web root %s: %s (build it with `make`)", root,
			 strerror(errno));
	return fd;
}

/* "/a/b.js" -> "a/b.js"; NULL unless every segment is a plain name. */
static bool relative_name(const char *url, char *out, size_t out_size)
{
	if (url[0] != '/')
		return false;
	const char *rel = url + 1;
	if (!*rel)
		rel = "index.html";
	size_t len = strlen(rel);
	if (len >= out_size)
		return false;
	bool segment_start = true;
	for (size_t i = 0; i < len; i++) {
		char c = rel[i];
		bool plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			     (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
		if (c == '/') {
			if (segment_start)
				return false; /* empty segment */
			segment_start = true;
			continue;
		}
		if (!plain || (segment_start && c == '.'))
			return false; /* "..", hidden files, anything unusual */
		segment_start = false;
	}
	if (segment_start)
		return false; /* ends with '/' */
	memcpy(out, rel, len + 1);
	return true;
}

static const char *mime_of(const char *name)
{
	static const struct {
		const char *suffix, *mime;
	} types[] = {
		{".html", "text/html; charset=utf-8"},
		{".js", "text/javascript; charset=utf-8"},
		{".mjs", "text/javascript; charset=utf-8"},
		{".css", "text/css; charset=utf-8"},
		{".wasm", "application/wasm"},
		{".json", "application/json"},
		{".svg", "image/svg+xml"},
		{".png", "image/png"},
		{".ico", "image/x-icon"},
		{".txt", "text/plain; charset=utf-8"},
	};
	size_t len = strlen(name);
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		size_t n = strlen(types[i].suffix);
		if (len > n && strcmp(name + len - n, types[i].suffix) == 0)
			return types[i].mime;
	}
	return "application/octet-stream";
}

/*
 * Opens NAME (checked plain names joined by '/') component by component,
 * each with O_NOFOLLOW: no symlink is followed and, the names holding no
 * "..", nothing outside the root can be reached. (openat2's RESOLVE_BENEATH
 * would do the same in one call, but valgrind and older kernels lack it.)
 */
static int open_beneath(int root_fd, const char *name)
{
	char component[MAX_URL_PATH];
	int dir = root_fd;
	for (;;) {
		const char *slash = strchr(name, '/');
		if (!slash)
			break;
		size_t len = (size_t)(slash - name);
		memcpy(component, name, len);
		component[len] = '\0';
		int next = openat(dir, component, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		if (dir != root_fd)
			close(dir);
		if (next == -1) {
			errno = saved;
			return -1;
		}
		dir = next;
		name = slash + 1;
	}
	int fd = openat(dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	int saved = errno;
	if (dir != root_fd)
		close(dir);
	errno = saved;
	return fd;
}

int files_load(int root_fd, const char *url_path, char **body, size_t *len, const char **mime)
{
	char name[MAX_URL_PATH];
	if (root_fd == -1)
		return 404;
	if (!relative_name(url_path, name, sizeof(name)))
		return 403;
	int fd = open_beneath(root_fd, name);
	if (fd == -1)
		return errno == ENOENT ? 404 : 403; /* ELOOP: a symlink */
	struct stat st;
	int status = 500;
	char *data = NULL;
	if (fstat(fd, &st) != 0)
		goto done;
	if (!S_ISREG(st.st_mode)) {
		status = 404;
		goto done;
	}
	if (st.st_size > MAX_FILE_BYTES || !(data = malloc((size_t)st.st_size + 1)))
		goto done;
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			goto done;
		got += (size_t)n;
	}
	*body = data;
	*len = got;
	*mime = mime_of(name);
	data = NULL;
	status = 200;
done:
	free(data);
	close(fd);
	return status;
}
