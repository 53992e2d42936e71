/*
 * output.c — where frames go: one PNG, a directory of numbered PNGs, or
 * ffmpeg through a pipe. Output goes to a temporary name and is renamed
 * into place only when complete, so an error or Ctrl-C leaves nothing
 * half-written.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trace/trace.h"
#include "render/internal.h"

/* ---- ffmpeg ---- */

bool in_path(const char *name)
{
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		char candidate[PATH_MAX];
		if (snprintf(candidate, sizeof(candidate), "%.*s/%s", (int)(len ? len : 1),
			     len ? path : ".", name) < (int)sizeof(candidate) &&
		    access(candidate, X_OK) == 0)
			return true;
		path += len + (path[len] == ':');
	}
	return false;
}

static int start_ffmpeg(const char *prog, const struct render_options *o, struct output *out)
{
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) != 0) {
		fprintf(stderr, "%s: cannot create a pipe to ffmpeg: %s\n", prog, strerror(errno));
		return -1;
	}
	char size[32], rate[32];
	snprintf(size, sizeof(size), "%dx%d", o->width, o->height);
	snprintf(rate, sizeof(rate), "%.6g", o->fps);
	const char *mp4[] = {"-c:v", "libx264", "-preset", "medium", "-crf", "20", "-pix_fmt",
			     "yuv420p", "-movflags", "+faststart", NULL};
	const char *webm[] = {"-c:v", "libvpx-vp9", "-crf", "32", "-b:v", "0", "-row-mt", "1",
			      "-deadline", "good", "-cpu-used", "4", "-pix_fmt", "yuv420p", NULL};
	const char *args[48] = {"ffmpeg", "-hide_banner", "-loglevel", "error", "-nostdin", "-y",
				"-f", "rawvideo", "-pix_fmt", "bgr0", "-s", size, "-framerate",
				rate, "-i", "pipe:0"};
	size_t n = 16;
	for (const char **a = strcmp(o->format, "mp4") == 0 ? mp4 : webm; *a; a++)
		args[n++] = *a;
	args[n++] = "-r";
	args[n++] = rate;
	args[n++] = "-f";
	args[n++] = o->format;
	args[n++] = out->temp;
	args[n] = NULL;
	out->ffmpeg = fork();
	if (out->ffmpeg < 0) {
		fprintf(stderr, "%s: cannot start ffmpeg: %s\n", prog, strerror(errno));
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	if (out->ffmpeg == 0) {
		if (dup2(fds[0], STDIN_FILENO) < 0)
			_exit(126);
		execvp("ffmpeg", (char **)args);
		fprintf(stderr, "%s: cannot run ffmpeg: %s\n", prog, strerror(errno));
		_exit(127);
	}
	close(fds[0]);
	out->pipe_fd = fds[1];
	out->temp_exists = true; /* ffmpeg creates it */
	return 0;
}

/* Closes the pipe and waits for ffmpeg. 0 if it encoded everything. */
static int finish_ffmpeg(const char *prog, struct output *out)
{
	if (out->pipe_fd >= 0) {
		close(out->pipe_fd);
		out->pipe_fd = -1;
	}
	if (out->ffmpeg <= 0)
		return 0;
	int status;
	pid_t pid;
	while ((pid = waitpid(out->ffmpeg, &status, 0)) < 0 && errno == EINTR)
		;
	out->ffmpeg = 0;
	if (pid < 0) {
		fprintf(stderr, "%s: waiting for ffmpeg: %s\n", prog, strerror(errno));
		return -1;
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "%s: ffmpeg failed (exit status %d)\n", prog, WEXITSTATUS(status));
	else
		fprintf(stderr, "%s: ffmpeg was killed by signal %d\n", prog, WTERMSIG(status));
	return -1;
}

static int write_all(int fd, const unsigned char *data, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, data, len);
		if (n < 0 && errno == EINTR && !render_interrupted)
			continue;
		if (n <= 0)
			return -1;
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* ---- output ---- */

static int remove_tree(const char *dir)
{
	char path[PATH_MAX + 32];
	for (long i = 1;; i++) {
		snprintf(path, sizeof(path), "%s/frame-%06ld.png", dir, i);
		if (unlink(path) != 0 && errno == ENOENT)
			break;
	}
	return rmdir(dir);
}

void output_discard(struct output *out, const struct render_options *o)
{
	if (out->pipe_fd >= 0) {
		close(out->pipe_fd);
		out->pipe_fd = -1;
	}
	if (out->ffmpeg > 0) {
		kill(out->ffmpeg, SIGKILL); /* its output is thrown away: no need to finish encoding */
		while (waitpid(out->ffmpeg, NULL, 0) < 0 && errno == EINTR)
			;
		out->ffmpeg = 0;
	}
	if (out->temp_exists) {
		if (o->kind == OUTPUT_FRAMES)
			remove_tree(out->temp);
		else
			unlink(out->temp);
		out->temp_exists = false;
	}
}

int temp_name(const char *prog, const char *final, char *temp, size_t size)
{
	char copy[PATH_MAX];
	snprintf(copy, sizeof(copy), "%s", final);
	size_t len = strlen(copy);
	while (len > 1 && copy[len - 1] == '/')
		copy[--len] = '\0';
	const char *slash = strrchr(copy, '/');
	int dir_len = slash ? (int)(slash - copy) : 0;
	const char *base = slash ? slash + 1 : copy;
	int n = slash ? snprintf(temp, size, "%.*s/.%s.partial-%ld", dir_len ? dir_len : 1,
				 dir_len ? copy : "/", base, (long)getpid())
		      : snprintf(temp, size, ".%s.partial-%ld", base, (long)getpid());
	if (n < 0 || (size_t)n >= size) {
		fprintf(stderr, "%s: output name too long: %s\n", prog, final);
		return -1;
	}
	return 0;
}

/* Checks that OUT can be written before spending time on it. */
static int check_output(const char *prog, const struct render_options *o)
{
	struct stat st;
	char err[1024];
	if (trace_output_check(o->output, o->trace, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	if (stat(o->output, &st) == 0) {
		if (o->kind == OUTPUT_FRAMES) {
			if (!S_ISDIR(st.st_mode)) {
				fprintf(stderr, "%s: %s exists and is not a directory\n", prog, o->output);
				return -1;
			}
			DIR *dir = opendir(o->output);
			if (!dir) {
				fprintf(stderr, "%s: cannot open %s: %s\n", prog, o->output,
					strerror(errno));
				return -1;
			}
			struct dirent *entry;
			bool empty = true;
			while (empty && (entry = readdir(dir)))
				empty = strcmp(entry->d_name, ".") == 0 ||
					strcmp(entry->d_name, "..") == 0;
			closedir(dir);
			if (!empty) {
				fprintf(stderr, "%s: %s is not empty: frames go into a new or "
						"empty directory\n", prog, o->output);
				return -1;
			}
		} else if (S_ISDIR(st.st_mode)) {
			fprintf(stderr, "%s: %s is a directory\n", prog, o->output);
			return -1;
		}
	}
	return 0;
}

int output_open(const char *prog, const struct render_options *o, struct output *out)
{
	out->pipe_fd = -1;
	out->surface = cairo_image_surface_create(CAIRO_FORMAT_RGB24, o->width, o->height);
	if (cairo_surface_status(out->surface) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "%s: cannot create a %dx%d picture: %s\n", prog, o->width, o->height,
			cairo_status_to_string(cairo_surface_status(out->surface)));
		return -1;
	}
	out->cr = cairo_create(out->surface);
	if (cairo_status(out->cr) != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "%s: cannot draw: %s\n", prog,
			cairo_status_to_string(cairo_status(out->cr)));
		return -1;
	}
	if (o->kind == OUTPUT_NONE)
		return 0;
	if (check_output(prog, o) != 0 || temp_name(prog, o->output, out->temp, sizeof(out->temp)) != 0)
		return -1;
	if (o->kind == OUTPUT_FRAMES) {
		if (mkdir(out->temp, 0777) != 0) {
			fprintf(stderr, "%s: cannot create %s: %s\n", prog, out->temp, strerror(errno));
			return -1;
		}
		out->temp_exists = true;
	} else if (o->kind == OUTPUT_VIDEO) {
		return start_ffmpeg(prog, o, out);
	}
	return 0;
}

static int write_png(const char *prog, cairo_surface_t *surface, const char *path)
{
	cairo_status_t status = cairo_surface_write_to_png(surface, path);
	if (status != CAIRO_STATUS_SUCCESS) {
		fprintf(stderr, "%s: cannot write %s: %s\n", prog, path,
			status == CAIRO_STATUS_WRITE_ERROR ? strerror(errno ? errno : EIO)
							   : cairo_status_to_string(status));
		return -1;
	}
	return 0;
}

/* Hands the picture now on the surface to the output. */
int output_emit(const char *prog, const struct render_options *o, struct output *out)
{
	cairo_surface_flush(out->surface);
	out->frames_written++;
	switch (o->kind) {
	case OUTPUT_FRAMES: {
		char path[PATH_MAX + 32];
		snprintf(path, sizeof(path), "%s/frame-%06ld.png", out->temp, out->frames_written);
		return write_png(prog, out->surface, path);
	}
	case OUTPUT_VIDEO: {
		const unsigned char *data = cairo_image_surface_get_data(out->surface);
		int stride = cairo_image_surface_get_stride(out->surface);
		for (int y = 0; y < o->height; y++) {
			if (write_all(out->pipe_fd, data + (size_t)y * (size_t)stride,
				      (size_t)o->width * 4) != 0) {
				fprintf(stderr, "%s: writing to ffmpeg: %s\n", prog,
					errno == EPIPE ? "ffmpeg stopped reading" : strerror(errno));
				finish_ffmpeg(prog, out); /* says how it ended */
				return -1;
			}
		}
		return 0;
	}
	default:
		return 0;
	}
}

/* Moves the finished output into place. */
int output_commit(const char *prog, const struct render_options *o, struct output *out)
{
	if (o->kind == OUTPUT_PNG) {
		if (write_png(prog, out->surface, out->temp) != 0) {
			unlink(out->temp);
			return -1;
		}
		out->temp_exists = true;
	}
	if (o->kind == OUTPUT_VIDEO && finish_ffmpeg(prog, out) != 0)
		return -1;
	if (o->kind != OUTPUT_NONE && rename(out->temp, o->output) != 0) {
		fprintf(stderr, "%s: cannot rename %s to %s: %s\n", prog, out->temp, o->output,
			strerror(errno));
		return -1;
	}
	out->temp_exists = false;
	return 0;
}

void output_close(struct output *out)
{
	if (out->cr)
		cairo_destroy(out->cr);
	if (out->surface)
		cairo_surface_destroy(out->surface);
}

