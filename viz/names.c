/*
 * names.c — the trace's operation and kind names (from the one list in
 * trace/names.h), the classes operations fall into, and the colours of
 * the picture (one palette, so that the video and the browser agree).
 */
#include "viz/scene.h"

#define NAME_OF(id, name) name,
static const char *const op_names[VIZ_OP_COUNT] = {TRACE_OPS(NAME_OF) "?"};
static const char *const kind_names[VIZ_KIND_COUNT] = {TRACE_KINDS(NAME_OF)};
#undef NAME_OF

const char *viz_op_name(enum viz_op op)
{
	return (unsigned)op < VIZ_OP_COUNT ? op_names[op] : op_names[VIZ_OP_UNKNOWN];
}

const char *viz_kind_name(enum viz_kind kind)
{
	return (unsigned)kind < VIZ_KIND_COUNT ? kind_names[kind] : 0;
}

enum vz_class vz_class_of(enum viz_op op)
{
	switch (op) {
	case VIZ_OP_OPEN:
	case VIZ_OP_OPENDIR:
	case VIZ_OP_RELEASE:
	case VIZ_OP_RELEASEDIR:
	case VIZ_OP_FLUSH:
	case VIZ_OP_FLOCK:
	case VIZ_OP_LSEEK:
		return VZ_CLASS_OPEN;
	case VIZ_OP_READ:
	case VIZ_OP_READDIR:
		return VZ_CLASS_READ;
	case VIZ_OP_WRITE:
	case VIZ_OP_SETATTR:
	case VIZ_OP_FALLOCATE:
	case VIZ_OP_FSYNC:
	case VIZ_OP_FSYNCDIR:
	case VIZ_OP_SETXATTR:
	case VIZ_OP_REMOVEXATTR:
	case VIZ_OP_COPY_FILE_RANGE:
		return VZ_CLASS_WRITE;
	case VIZ_OP_MKDIR:
	case VIZ_OP_MKNOD:
	case VIZ_OP_CREATE:
	case VIZ_OP_SYMLINK:
	case VIZ_OP_LINK:
		return VZ_CLASS_CREATE;
	case VIZ_OP_UNLINK:
	case VIZ_OP_RMDIR:
		return VZ_CLASS_DELETE;
	case VIZ_OP_RENAME:
		return VZ_CLASS_RENAME;
	case VIZ_OP_COMMIT:
		return VZ_CLASS_COMMIT;
	default:
		return VZ_CLASS_LOOKUP;
	}
}

const char *vz_class_name(enum vz_class c)
{
	static const char *const names[VZ_CLASS_COUNT] = {
		"lookup, stat", "open, close", "read", "write", "create", "delete", "rename", "commit",
	};
	return names[c];
}

static struct viz_color rgb(unsigned hex)
{
	return (struct viz_color){
		(float)((hex >> 16) & 0xff) / 255, (float)((hex >> 8) & 0xff) / 255,
		(float)(hex & 0xff) / 255, 1};
}

struct viz_color vz_background(void) { return rgb(0x0b0f17); }

struct viz_color vz_kind_color(enum viz_kind kind)
{
	switch (kind) {
	case VIZ_KIND_DIR: return rgb(0x3fb950);	/* green */
	case VIZ_KIND_SYMLINK: return rgb(0xe3b341); /* amber */
	case VIZ_KIND_OTHER: return rgb(0xb083f0);	/* violet: fifos, sockets, devices */
	default: return rgb(0x4c8df6);		/* blue */
	}
}

struct viz_color vz_touch_color(enum vz_touch touch)
{
	switch (touch) {
	case VZ_TOUCH_WRITE: return rgb(0xff9f1c);	/* orange */
	case VZ_TOUCH_DELETE: return rgb(0xf34fc6); /* magenta */
	case VZ_TOUCH_COMMIT: return rgb(0xffffff); /* white: the store committed */
	default: return rgb(0xff3b30);		/* red */
	}
}

struct viz_color vz_class_color(enum vz_class c)
{
	static const unsigned colors[VZ_CLASS_COUNT] = {
		0x6cb6ff, /* lookup: light blue */
		0xb392f0, /* open: lavender */
		0x57d364, /* read: green */
		0xff9f1c, /* write: orange */
		0xf5d547, /* create: yellow */
		0xff5c57, /* delete: red */
		0x39d0d8, /* rename: cyan */
		0xffffff, /* commit: white */
	};
	return rgb(colors[c]);
}

/* Distinct on a dark background; processes past the twelfth share colours. */
struct viz_color vz_process_color(uint32_t index)
{
	static const unsigned colors[] = {
		0x4e9cf5, 0xff9f1c, 0x57d364, 0xff5c8a, 0xb392f0, 0xf5d547,
		0x39d0d8, 0xff7b4a, 0x9bd35a, 0xe07be0, 0x7fa7ff, 0xd9b38c,
	};
	return rgb(colors[index % (sizeof(colors) / sizeof(colors[0]))]);
}

struct viz_color vz_mix(struct viz_color a, struct viz_color b, double t)
{
	float u = (float)t;
	return (struct viz_color){a.r + (b.r - a.r) * u, a.g + (b.g - a.g) * u,
				  a.b + (b.b - a.b) * u, a.a + (b.a - a.a) * u};
}

/*
 * A flash fading back: halfway between red and a file's blue a straight
 * mix is the violet the legend calls "other", so the middle of the way is
 * drawn nearer grey (of the same lightness): a glow cooling, not a third colour.
 */
struct viz_color vz_fade_mix(struct viz_color rest, struct viz_color hot, double t)
{
	struct viz_color c = vz_mix(rest, hot, t);
	float grey = 0.3f * c.r + 0.59f * c.g + 0.11f * c.b;
	float alpha = c.a;
	c = vz_mix(c, (struct viz_color){grey, grey, grey, alpha}, 4 * t * (1 - t) * 0.75);
	return c;
}
