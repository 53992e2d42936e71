/*
 * options.c — the options of `tracefs render`, checked before any work.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "play/play.h"
#include "render/internal.h"

#define MAX_PIXELS (8192 * 8192)

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
		"  NAME.png          one picture: the tree at its fullest (the moment the\n"
		"                    most nodes are alive), or the state at --at\n"
		"  NAME.mp4, .webm   a video, encoded by ffmpeg (which must be installed)\n"
		"  NAME or NAME/     a directory of numbered frames, NAME/frame-000001.png ...\n"
		"\n"
		"options:\n"
		"  -o, --output OUT      what to write (see above)\n"
		"  --at SECONDS          for a .png: the moment to draw, in seconds from the\n"
		"                        trace's first event (default: the fullest moment)\n"
		"  --size WxH            picture size in pixels (default 1280x720)\n"
		"  --fps N               frames per second of video (default 30)\n"
		"  --duration SECONDS    length of the video (default: a second per %d\n"
		"                        events, from %g to %g seconds)\n"
		"  --speed X             a constant speed instead of pacing by activity:\n"
		"                        X trace seconds per video second\n"
		"  --idle-skip SECONDS   a constant speed, with quiet gaps longer than this\n"
		"                        (trace seconds) cut to this length\n"
		"  --from SECONDS        start the video this long after the first event\n"
		"  --to SECONDS          end it this long after the first event\n"
		"  --title TEXT          a title in the top left corner\n"
		"  --no-caption          no caption of the phase (configure, make, ...)\n"
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
		"By default the video is paced by activity: busy stretches get time and\n"
		"quiet ones are short. Each frame shows the trace time (never outside the\n"
		"trace), the phase of the workload, the processes active in the last\n"
		"moments and a legend. On a terminal a progress bar shows how far along\n"
		"it is.\n",
		prog, prog, PLAY_EVENTS_PER_SECOND, PLAY_MIN_SECONDS, PLAY_MAX_SECONDS);
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
       OPT_FADE, OPT_COLOR, OPT_PRESCAN, OPT_DUMP, OPT_BENCH, OPT_DURATION, OPT_NO_CAPTION };

int options_parse(int argc, char **argv, struct render_options *o)
{
	static const struct option longs[] = {
		{"output", required_argument, NULL, 'o'}, {"at", required_argument, NULL, OPT_AT},
		{"size", required_argument, NULL, OPT_SIZE}, {"fps", required_argument, NULL, OPT_FPS},
		{"speed", required_argument, NULL, OPT_SPEED},
		{"idle-skip", required_argument, NULL, OPT_IDLE},
		{"duration", required_argument, NULL, OPT_DURATION},
		{"no-caption", no_argument, NULL, OPT_NO_CAPTION},
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
		case OPT_DURATION:
			bad = parse_number(prog, "--duration", optarg, 1e-3, &o->duration);
			break;
		case OPT_NO_CAPTION: o->no_caption = true; break;
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
	if (o->speed > 0 && o->duration > 0) {
		fprintf(stderr, "%s: give --speed or --duration, not both\n", prog);
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

