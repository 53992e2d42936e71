/*
 * render.c — `tracefs render FILE.db -o OUT`: replays a recorded trace
 * through the scene model (viz/) and draws it with cairo into a PNG (the
 * final state, or the state at --at), a directory of numbered PNG frames,
 * or an .mp4/.webm video by piping raw frames into ffmpeg. Output goes to
 * a temporary name and is renamed into place only when complete, so an
 * error or Ctrl-C leaves nothing half-written.
 */
#include <cairo.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "recorder/recorder.h"
#include "tracefs/tracefs.h"
#include "viz/viz.h"

#define DEFAULT_VIDEO_SECONDS 60.0 /* the default speed makes the video about this long */
#define TAIL_SECONDS 4.0	   /* after the last event, besides the fade: the camera settles */
#define MAX_PIXELS (8192 * 8192)

enum output_kind { OUTPUT_PNG, OUTPUT_FRAMES, OUTPUT_VIDEO, OUTPUT_NONE };

struct render_options {
	const char *trace, *output, *title, *dump;
	enum output_kind kind;
	const char *format; /* "mp4" or "webm" */
	int width, height;
	double fps, speed, idle_skip, fade;
	double at, from, to; /* seconds from the first event; NAN when not given */
	enum viz_color_by color_by;
	bool prescan, benchmark;
};

/* Where the output is being written, to be renamed or removed at the end. */
struct output {
	char temp[PATH_MAX];
	bool temp_exists;
	pid_t ffmpeg;
	int pipe_fd;
	cairo_surface_t *surface;
	cairo_t *cr;
	long frames_written;
};

struct timing {
	double events, model, draw; /* seconds spent */
	int64_t event_count;
};

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static double now_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- options ---- */

static void usage(FILE *out, const char *prog)
{
	fprintf(out,
		"usage: %s FILE.db -o OUT [options]\n"
		"       %s FILE.db --benchmark [options]\n"
		"\n"
		"Draws a recorded trace as a growing tree: directories green, files blue,\n"
		"symlinks amber, others violet; a node flashes red when accessed (orange when\n"
		"written, magenta when removed) and shows its name, then fades back.\n"
		"\n"
		"OUT decides what is written:\n"
		"  NAME.png          one picture: the final state, or the state at --at\n"
		"  NAME.mp4, .webm   a video, encoded by ffmpeg (which must be installed)\n"
		"  NAME or NAME/     a directory of numbered frames, NAME/frame-000001.png ...\n"
		"\n"
		"options:\n"
		"  -o, --output OUT      what to write (see above)\n"
		"  --at SECONDS          for a .png: the moment to draw, in seconds from the\n"
		"                        trace's first event (default: the end, settled)\n"
		"  --size WxH            picture size in pixels (default 1280x720)\n"
		"  --fps N               frames per second of video (default 30)\n"
		"  --speed X             trace seconds per video second (default: the video\n"
		"                        lasts about a minute)\n"
		"  --idle-skip SECONDS   shorten quiet gaps longer than this (trace seconds)\n"
		"                        to this length (default: no skipping)\n"
		"  --from SECONDS        start the video this long after the first event\n"
		"  --to SECONDS          end it this long after the first event\n"
		"  --title TEXT          a title in the top left corner\n"
		"  --fade SECONDS        how long a flash takes to fade, in video seconds\n"
		"                        (default 2)\n"
		"  --color-by kind|op|process\n"
		"                        colour nodes by kind (default), by the last operation\n"
		"                        on them, or by the process that last touched them\n"
		"  --prescan             start from the whole tree the trace shows existed at\n"
		"                        its start, instead of growing it as it is touched\n"
		"  --dump-scene FILE     also write the model's nodes and the last frame's\n"
		"                        drawing as JSON\n"
		"  --benchmark           draw every frame but write nothing; print frames/s\n"
		"  -h, --help            this text\n"
		"\n"
		"Each frame shows the trace time, the processes active in the last moments\n"
		"and a legend. On a terminal a progress bar shows how far along it is.\n",
		prog, prog);
}

static int parse_number(const char *prog, const char *name, const char *text, double min,
			double *value)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if (errno || end == text || *end || !isfinite(v) || v < min) {
		fprintf(stderr, "%s: bad %s '%s': expected a number%s\n", prog, name, text,
			min > 0 ? " above 0" : min == 0 ? " of 0 or more" : "");
		return -1;
	}
	*value = v;
	return 0;
}

static int parse_size(const char *prog, const char *text, int *width, int *height)
{
	char *end;
	long w = strtol(text, &end, 10), h = 0;
	if (end != text && (*end == 'x' || *end == 'X')) {
		const char *rest = end + 1;
		h = strtol(rest, &end, 10);
		if (end == rest)
			h = 0;
	}
	if (*end || w < 16 || h < 16 || w > 16384 || h > 16384 || w * h > MAX_PIXELS) {
		fprintf(stderr, "%s: bad --size '%s': expected WIDTHxHEIGHT, e.g. 1920x1080\n",
			prog, text);
		return -1;
	}
	*width = (int)w;
	*height = (int)h;
	return 0;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* From the name of OUT: a picture, a video, or a directory of frames. */
static int output_kind(const char *prog, struct render_options *o)
{
	const char *base = strrchr(o->output, '/');
	base = base ? base + 1 : o->output;
	const char *dot = strrchr(base, '.');
	if (ends_with(o->output, ".png")) {
		o->kind = OUTPUT_PNG;
	} else if (ends_with(o->output, ".mp4") || ends_with(o->output, ".webm")) {
		o->kind = OUTPUT_VIDEO;
		o->format = ends_with(o->output, ".mp4") ? "mp4" : "webm";
	} else if (!*base || !dot || dot == base) {
		o->kind = OUTPUT_FRAMES;
	} else {
		fprintf(stderr,
			"%s: cannot write '%s': unknown type '%s'; use .png, .mp4, .webm, or a "
			"directory name (no extension) for PNG frames\n",
			prog, o->output, dot);
		return -1;
	}
	return 0;
}

enum { OPT_AT = 256, OPT_SIZE, OPT_FPS, OPT_SPEED, OPT_IDLE, OPT_FROM, OPT_TO, OPT_TITLE,
       OPT_FADE, OPT_COLOR, OPT_PRESCAN, OPT_DUMP, OPT_BENCH };

static int parse_options(int argc, char **argv, struct render_options *o)
{
	static const struct option longs[] = {
		{"output", required_argument, NULL, 'o'}, {"at", required_argument, NULL, OPT_AT},
		{"size", required_argument, NULL, OPT_SIZE}, {"fps", required_argument, NULL, OPT_FPS},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"idle-skip", required_argument, NULL, OPT_IDLE},
		{"from", required_argument, NULL, OPT_FROM}, {"to", required_argument, NULL, OPT_TO},
		{"title", required_argument, NULL, OPT_TITLE},
		{"fade", required_argument, NULL, OPT_FADE},
		{"color-by", required_argument, NULL, OPT_COLOR},
		{"colour-by", required_argument, NULL, OPT_COLOR},
		{"prescan", no_argument, NULL, OPT_PRESCAN},
		{"dump-scene", required_argument, NULL, OPT_DUMP},
		{"benchmark", no_argument, NULL, OPT_BENCH}, {"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *prog = argv[0];
	*o = (struct render_options){.width = 1280, .height = 720, .fps = 30, .fade = 2,
				     .at = NAN, .from = NAN, .to = NAN};
	int c;
	opterr = 1;
	while ((c = getopt_long(argc, argv, "o:h", longs, NULL)) != -1) {
		int bad = 0;
		switch (c) {
		case 'o': o->output = optarg; break;
		case OPT_AT: bad = parse_number(prog, "--at", optarg, 0, &o->at); break;
		case OPT_SIZE: bad = parse_size(prog, optarg, &o->width, &o->height); break;
		case OPT_FPS: bad = parse_number(prog, "--fps", optarg, 1e-9, &o->fps); break;
		case OPT_SPEED: bad = parse_number(prog, "--speed", optarg, 1e-12, &o->speed); break;
		case OPT_IDLE: bad = parse_number(prog, "--idle-skip", optarg, 1e-9, &o->idle_skip); break;
		case OPT_FROM: bad = parse_number(prog, "--from", optarg, 0, &o->from); break;
		case OPT_TO: bad = parse_number(prog, "--to", optarg, 0, &o->to); break;
		case OPT_TITLE: o->title = optarg; break;
		case OPT_FADE: bad = parse_number(prog, "--fade", optarg, 1e-3, &o->fade); break;
		case OPT_COLOR:
			if (strcmp(optarg, "kind") == 0) {
				o->color_by = VIZ_COLOR_BY_KIND;
			} else if (strcmp(optarg, "op") == 0) {
				o->color_by = VIZ_COLOR_BY_OP;
			} else if (strcmp(optarg, "process") == 0) {
				o->color_by = VIZ_COLOR_BY_PROCESS;
			} else {
				fprintf(stderr, "%s: bad --color-by '%s': use kind, op or process\n",
					prog, optarg);
				bad = -1;
			}
			break;
		case OPT_PRESCAN: o->prescan = true; break;
		case OPT_DUMP: o->dump = optarg; break;
		case OPT_BENCH: o->benchmark = true; break;
		case 'h': usage(stdout, prog); return 1;
		default: fprintf(stderr, "Try '%s --help'.\n", prog); return -1;
		}
		if (bad)
			return -1;
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "%s: %s\nTry '%s --help'.\n", prog,
			optind == argc ? "no trace file given" : "more than one trace file given", prog);
		return -1;
	}
	o->trace = argv[optind];
	if (o->fps > 1000) {
		fprintf(stderr, "%s: bad --fps %g: at most 1000\n", prog, o->fps);
		return -1;
	}
	if (!isnan(o->from) && !isnan(o->to) && o->to <= o->from) {
		fprintf(stderr, "%s: --to (%g) must come after --from (%g)\n", prog, o->to, o->from);
		return -1;
	}
	if (o->benchmark) {
		o->kind = OUTPUT_NONE;
		return 0;
	}
	if (!o->output) {
		fprintf(stderr, "%s: no output given: use -o OUT.png, OUT.mp4, OUT.webm or a "
				"directory\n", prog);
		return -1;
	}
	if (output_kind(prog, o) != 0)
		return -1;
	if (!isnan(o->at) && o->kind != OUTPUT_PNG) {
		fprintf(stderr, "%s: --at draws one picture: use it with an OUT.png\n", prog);
		return -1;
	}
	if (o->kind == OUTPUT_VIDEO && (o->width % 2 || o->height % 2)) {
		fprintf(stderr, "%s: a video needs an even width and height, not %dx%d\n", prog,
			o->width, o->height);
		return -1;
	}
	return 0;
}

/* ---- ffmpeg ---- */

/* True if NAME is an executable file in a directory of $PATH. */
static bool in_path(const char *name)
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
		if (n < 0 && errno == EINTR)
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

/* Removes what was written so far, and stops ffmpeg. */
static void discard_output(struct output *out, const struct render_options *o)
{
	if (out->pipe_fd >= 0) {
		close(out->pipe_fd);
		out->pipe_fd = -1;
	}
	if (out->ffmpeg > 0) {
		kill(out->ffmpeg, SIGTERM);
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

/* A temporary name next to FINAL: same file system, so rename() can move it. */
static int temp_name(const char *prog, const char *final, char *temp, size_t size)
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
	if (rec_output_check(o->output, o->trace, err, sizeof(err)) != 0) {
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

static int open_output(const char *prog, const struct render_options *o, struct output *out)
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
static int emit_frame(const char *prog, const struct render_options *o, struct output *out)
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
static int commit_output(const char *prog, const struct render_options *o, struct output *out)
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

static void close_output(struct output *out)
{
	if (out->cr)
		cairo_destroy(out->cr);
	if (out->surface)
		cairo_surface_destroy(out->surface);
}

/* ---- reading the trace ---- */

struct source {
	struct rec_reader *reader;
	enum viz_op ops[REC_OP_COUNT];
	int64_t first_ns, last_ns, count;
	int64_t limit_ns; /* events after this are not shown */
};

static void to_viz_event(const struct source *src, const struct rec_event *e,
			 struct viz_event *v)
{
	*v = (struct viz_event){
		.ts_ns = e->ts_ns,
		.op = e->op < REC_OP_COUNT ? src->ops[e->op] : VIZ_OP_UNKNOWN,
		.kind = viz_kind_from_name(rec_kind_name((enum rec_kind)e->kind)),
		.result = e->result,
		.pid = e->pid,
		.path = e->path,
		.path2 = e->path2,
		.comm = e->comm,
	};
}

/* The next event up to the limit: 1, 0 at the end, -1 on error (reported). */
static int next_event(const char *prog, struct source *src, struct rec_event *e)
{
	char err[512];
	int64_t seq;
	int got = rec_reader_next(src->reader, e, &seq, err, sizeof(err));
	if (got < 0)
		fprintf(stderr, "%s: %s\n", prog, err);
	if (got == 1 && e->ts_ns > src->limit_ns)
		return 0;
	return got;
}

static int64_t seconds_to_ns(double seconds)
{
	return (int64_t)llround(seconds * 1e9);
}

/*
 * Reads the whole trace once before drawing: it is checked from end to end
 * (a corrupt trace fails before any output exists), the length of the
 * video is known for the progress bar and the default speed, and --prescan
 * learns the tree at the start. Returns the length of the trace up to --to
 * (or its end) in trace seconds after idle skipping, and in *AT the same up
 * to AT_NS; -1 on error.
 */
static double prepass(const char *prog, const struct render_options *o, struct source *src,
		      struct viz_scene *scene, int64_t origin_ns, int64_t at_ns, double *at)
{
	struct viz_timeline timeline;
	viz_timeline_init(&timeline, origin_ns, 1, o->idle_skip);
	struct rec_event e;
	int got;
	bool before_at = true;
	while ((got = next_event(prog, src, &e)) == 1) {
		if (before_at && e.ts_ns > at_ns) {
			*at = viz_timeline_peek(&timeline, at_ns);
			before_at = false;
		}
		viz_timeline_map(&timeline, e.ts_ns);
		struct viz_event v;
		to_viz_event(src, &e, &v);
		if (o->prescan && viz_scene_prescan(scene, &v) != 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
		if (interrupted)
			return -1;
	}
	if (got < 0)
		return -1;
	if (o->prescan && viz_scene_prescan_done(scene) != 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	char err[512];
	if (rec_reader_seek(src->reader, INT64_MIN, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	if (before_at)
		*at = viz_timeline_peek(&timeline, at_ns);
	if (src->limit_ns != INT64_MAX)
		return viz_timeline_peek(&timeline, src->limit_ns);
	return timeline.started ? timeline.last_t : 0;
}

/* ---- progress ---- */

struct progress {
	bool shown;
	double start, last;
};

static void show_progress(struct progress *p, long done, long total)
{
	double now = now_seconds();
	if (!p->shown || (now - p->last < 0.1 && done < total))
		return;
	p->last = now;
	double fraction = total > 0 ? (double)done / (double)total : 1;
	int filled = (int)(fraction * 30);
	char bar[31];
	memset(bar, '#', (size_t)filled);
	memset(bar + filled, '-', (size_t)(30 - filled));
	bar[30] = '\0';
	double elapsed = now - p->start;
	long eta = done > 0 ? (long)(elapsed / (double)done * (double)(total - done) + 0.5) : 0;
	fprintf(stderr, "\rrendering [%s] %3d%%  frame %ld/%ld  ETA %ld:%02ld ", bar,
		(int)(fraction * 100), done, total, eta / 60, eta % 60);
	if (done >= total)
		fputc('\n', stderr);
}

/* ---- the scene dump ---- */

static void json_string(FILE *f, const char *s, size_t len)
{
	fputc('"', f);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_color(FILE *f, struct viz_color c)
{
	fprintf(f, "[%.4f,%.4f,%.4f,%.4f]", c.r, c.g, c.b, c.a);
}

static const char *kind_text(enum viz_kind kind)
{
	static const char *const names[] = {"none", "file", "dir", "symlink", "other"};
	return (unsigned)kind <= VIZ_KIND_OTHER ? names[kind] : "none";
}

struct dump {
	FILE *f;
	bool first;
};

static void dump_node(void *ctx, const char *path, const struct viz_node_info *n)
{
	struct dump *d = ctx;
	fprintf(d->f, "%s\n{\"id\":%" PRIu32 ",\"parent\":%" PRIu32 ",\"path\":", d->first ? "" : ",",
		n->id, n->parent_id);
	json_string(d->f, path, strlen(path));
	fprintf(d->f, ",\"name\":");
	json_string(d->f, n->name, n->name_len);
	fprintf(d->f,
		",\"kind\":\"%s\",\"depth\":%d,\"x\":%.17g,\"y\":%.17g,\"r\":%.17g,"
		"\"target_x\":%.17g,\"target_y\":%.17g,\"target_r\":%.17g,\"territory\":%.17g,"
		"\"flash\":%.4f,\"dying\":%s,\"color\":",
		kind_text(n->kind), n->depth, n->x, n->y, n->r, n->target_x, n->target_y,
		n->target_r, n->territory, n->flash, n->dying ? "true" : "false");
	json_color(d->f, n->color);
	fputc('}', d->f);
	d->first = false;
}

static void dump_frame(FILE *f, const struct viz_frame *fr)
{
	fprintf(f, "\"frame\":{\"width\":%d,\"height\":%d,\"clock\":", fr->width, fr->height);
	json_string(f, fr->clock, strlen(fr->clock));
	fprintf(f, ",\"elapsed\":");
	json_string(f, fr->elapsed, strlen(fr->elapsed));
	fprintf(f, ",\"status\":");
	json_string(f, fr->status, strlen(fr->status));
	fprintf(f, ",\"nodes\":[");
	for (size_t i = 0; i < fr->node_count; i++) {
		const struct viz_frame_node *n = &fr->nodes[i];
		fprintf(f, "%s\n{\"id\":%" PRIu32 ",\"x\":%.3f,\"y\":%.3f,\"r\":%.3f,\"glow\":%.3f,"
			   "\"collapsed\":%s,\"color\":",
			i ? "," : "", n->id, n->x, n->y, n->r, n->glow, n->collapsed ? "true" : "false");
		json_color(f, n->color);
		fputc('}', f);
	}
	fprintf(f, "],\n\"labels\":[");
	for (size_t i = 0; i < fr->label_count; i++) {
		const struct viz_frame_label *l = &fr->labels[i];
		fprintf(f, "%s\n{\"text\":", i ? "," : "");
		json_string(f, l->text, l->len);
		fprintf(f, ",\"x\":%.3f,\"y\":%.3f,\"size\":%.3f,\"color\":", l->x, l->y, l->size);
		json_color(f, l->color);
		fputc('}', f);
	}
	fprintf(f, "],\n\"processes\":[");
	for (size_t i = 0; i < fr->process_count; i++) {
		fprintf(f, "%s", i ? "," : "");
		json_string(f, fr->processes[i].name, strlen(fr->processes[i].name));
	}
	fprintf(f, "],\"edges\":%zu}", fr->edge_count);
}

static int write_dump(const char *prog, const char *path, struct viz_scene *scene,
		      const struct viz_frame *frame, double t)
{
	char temp[PATH_MAX];
	if (temp_name(prog, path, temp, sizeof(temp)) != 0)
		return -1;
	FILE *f = fopen(temp, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, temp, strerror(errno));
		return -1;
	}
	struct dump d = {f, true};
	fprintf(f, "{\"time\":%.6f,\"node_count\":%zu,\n", t, viz_scene_node_count(scene));
	dump_frame(f, frame);
	fprintf(f, ",\n\"nodes\":[");
	int failed = viz_scene_visit(scene, dump_node, &d);
	fprintf(f, "]}\n");
	if (failed) {
		fprintf(stderr, "%s: out of memory\n", prog);
	} else if (ferror(f) || fflush(f) != 0) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, temp, strerror(errno));
		failed = -1;
	}
	if (fclose(f) != 0 && !failed) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, temp, strerror(errno));
		failed = -1;
	}
	if (!failed && rename(temp, path) != 0) {
		fprintf(stderr, "%s: cannot rename %s to %s: %s\n", prog, temp, path, strerror(errno));
		failed = -1;
	}
	if (failed)
		unlink(temp);
	return failed ? -1 : 0;
}

/* ---- the frame loop ---- */

struct player {
	struct source *src;
	struct viz_scene *scene;
	struct viz_timeline timeline;
	struct rec_event pending; /* read, not yet applied */
	double pending_t;
	bool have_pending, done;
};

/* Applies the events up to video time T. 0 or -1. */
static int play_until(const char *prog, struct player *p, double t, struct timing *timing)
{
	double start = now_seconds();
	while (!p->done) {
		if (!p->have_pending) {
			int got = next_event(prog, p->src, &p->pending);
			if (got < 0)
				return -1;
			if (got == 0) {
				p->done = true;
				break;
			}
			p->pending_t = viz_timeline_map(&p->timeline, p->pending.ts_ns);
			p->have_pending = true;
		}
		if (p->pending_t > t)
			break;
		struct viz_event v;
		to_viz_event(p->src, &p->pending, &v);
		v.t = p->pending_t;
		p->have_pending = false;
		timing->event_count++;
		if (viz_scene_apply(p->scene, &v) != 0) {
			fprintf(stderr, "%s: out of memory\n", prog);
			return -1;
		}
	}
	timing->events += now_seconds() - start;
	return 0;
}

static int draw_frame(const char *prog, const struct render_options *o, struct player *p,
		      struct output *out, struct viz_frame *frame, struct timing *timing)
{
	double start = now_seconds();
	if (viz_scene_frame(p->scene, frame) != 0) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return -1;
	}
	double drawn = now_seconds();
	char err[256];
	if (viz_draw_frame(out->cr, frame, o->title, err, sizeof(err)) != 0) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return -1;
	}
	cairo_surface_flush(out->surface);
	double end = now_seconds();
	timing->model += drawn - start;
	timing->draw += end - drawn;
	return emit_frame(prog, o, out);
}

static int run_frames(const char *prog, const struct render_options *o, struct player *p,
		      struct output *out, double end_t, struct timing *timing)
{
	bool single = o->kind == OUTPUT_PNG;
	long total = (long)floor(end_t * o->fps + 1e-9) + 1;
	struct progress progress = {.shown = isatty(STDERR_FILENO) && !single, .start = now_seconds()};
	struct viz_frame frame;
	for (long i = 0; i < total; i++) {
		/* the last frame of a picture is exactly at the moment asked for */
		double t = single && i == total - 1 ? end_t : (double)i / o->fps;
		if (interrupted)
			return -1;
		if (play_until(prog, p, t, timing) != 0)
			return -1;
		double start = now_seconds();
		viz_scene_advance(p->scene, t, viz_timeline_trace_ns(&p->timeline, t));
		timing->model += now_seconds() - start;
		if (!single || i == total - 1) {
			if (draw_frame(prog, o, p, out, &frame, timing) != 0)
				return -1;
			show_progress(&progress, i + 1, total);
		}
	}
	if (o->dump && write_dump(prog, o->dump, p->scene, &frame, end_t) != 0)
		return -1;
	return 0;
}

static void print_benchmark(const struct render_options *o, const struct output *out,
			    const struct timing *t, double wall)
{
	double frames = (double)out->frames_written;
	printf("render benchmark: %s, %dx%d, %ld frames, %" PRId64 " events\n", o->trace,
	       o->width, o->height, out->frames_written, t->event_count);
	printf("  %.1f frames/s overall (reading the trace, model and drawing; no encoding)\n",
	       frames / wall);
	printf("  %.1f frames/s model and drawing alone\n", frames / (t->model + t->draw));
	printf("  per frame: %.3f ms reading and applying events, %.3f ms model, %.3f ms drawing\n",
	       t->events / frames * 1e3, t->model / frames * 1e3, t->draw / frames * 1e3);
}

/* ---- the command ---- */

static char *root_label(struct rec_reader *reader)
{
	char *mountpoint = rec_reader_meta(reader, "mountpoint");
	if (!mountpoint)
		return NULL;
	const char *base = strrchr(mountpoint, '/');
	char *label = base && base[1] ? strdup(base + 1) : NULL;
	free(mountpoint);
	return label;
}

static int render(const char *prog, const struct render_options *o)
{
	char err[512];
	struct source src = {.limit_ns = INT64_MAX};
	src.reader = rec_reader_open(o->trace, err, sizeof(err));
	if (!src.reader) {
		fprintf(stderr, "%s: %s\n", prog, err);
		return 1;
	}
	for (int op = 0; op < REC_OP_COUNT; op++)
		src.ops[op] = viz_op_from_name(rec_op_name((enum rec_op)op));
	if (rec_reader_span(src.reader, &src.first_ns, &src.last_ns, &src.count) != 0) {
		fprintf(stderr, "%s: %s: cannot read the span of the trace: the file is corrupt\n",
			prog, o->trace);
		rec_reader_close(src.reader);
		return 1;
	}
	if (src.count == 0) {
		fprintf(stderr, "%s: %s: the trace holds no events: nothing to draw\n", prog, o->trace);
		rec_reader_close(src.reader);
		return 1;
	}
	int64_t origin = isnan(o->from) ? src.first_ns : src.first_ns + seconds_to_ns(o->from);
	if (!isnan(o->to))
		src.limit_ns = src.first_ns + seconds_to_ns(o->to);
	int64_t at_ns = isnan(o->at) ? src.limit_ns : src.first_ns + seconds_to_ns(o->at);
	if (origin > src.last_ns) {
		fprintf(stderr, "%s: --from %g is past the end of the trace (%.3f s long)\n", prog,
			o->from, (double)(src.last_ns - src.first_ns) / 1e9);
		rec_reader_close(src.reader);
		return 1;
	}

	char *label = root_label(src.reader);
	struct viz_options vo = {.fade = o->fade, .color_by = o->color_by, .root_label = label,
				 .origin_ns = origin};
	struct viz_scene *scene = viz_scene_new(viz_libc_allocator(), &vo);
	free(label);
	struct output out = {.pipe_fd = -1};
	struct timing timing = {0};
	int rc = 1;
	if (!scene) {
		fprintf(stderr, "%s: out of memory\n", prog);
		goto done;
	}
	viz_scene_set_viewport(scene, o->width, o->height);
	double at_span = 0;
	double span = prepass(prog, o, &src, scene, origin, at_ns, &at_span);
	if (span < 0)
		goto done;
	double speed = o->speed > 0 ? o->speed : span > 0 ? span / DEFAULT_VIDEO_SECONDS : 1;
	double end_t = (isnan(o->at) ? span : at_span) / speed;
	if (!isnan(o->at) && at_ns < src.limit_ns)
		src.limit_ns = at_ns; /* nothing after the moment drawn */
	bool open_end = o->kind != OUTPUT_PNG ? isnan(o->to) : isnan(o->at);
	if (open_end) /* let the last flashes fade and the camera settle */
		end_t += o->fade + TAIL_SECONDS;
	if (open_output(prog, o, &out) != 0)
		goto done;
	struct player player = {.src = &src, .scene = scene};
	viz_timeline_init(&player.timeline, origin, speed, o->idle_skip);
	double start = now_seconds();
	if (run_frames(prog, o, &player, &out, end_t, &timing) != 0)
		goto done;
	double wall = now_seconds() - start;
	if (commit_output(prog, o, &out) != 0)
		goto done;
	if (o->benchmark)
		print_benchmark(o, &out, &timing, wall);
	rc = 0;
done:
	if (rc != 0)
		discard_output(&out, o);
	if (interrupted) {
		fprintf(stderr, "\n%s: interrupted; nothing written\n", prog);
		rc = 130;
	}
	close_output(&out);
	viz_scene_free(scene);
	rec_reader_close(src.reader);
	/* cairo keeps fonts cached for the life of the process: hand them back,
	 * so that leak checkers see only real leaks. */
	cairo_debug_reset_static_data();
	return rc;
}

int tracefs_render_command(int argc, char **argv)
{
	const char *prog = argv[0];
	struct render_options o;
	int parsed = parse_options(argc, argv, &o);
	if (parsed != 0)
		return parsed > 0 ? 0 : 2;
	if (o.kind == OUTPUT_VIDEO && !in_path("ffmpeg")) {
		fprintf(stderr, "%s: cannot write %s: ffmpeg is not installed (not found in PATH); "
				"install it, or render PNG frames into a directory instead\n",
			prog, o.output);
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	struct sigaction ignore = {.sa_handler = SIG_IGN};
	if (sigaction(SIGINT, &sa, NULL) != 0 || sigaction(SIGTERM, &sa, NULL) != 0 ||
	    sigaction(SIGPIPE, &ignore, NULL) != 0) {
		fprintf(stderr, "%s: cannot set signal handlers: %s\n", prog, strerror(errno));
		return 1;
	}
	return render(prog, &o);
}
