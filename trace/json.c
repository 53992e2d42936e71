/*
 * json.c — JSON for events (trace_event_to_json in trace.h) and the string
 * escaping beneath it (trace.h). Paths are arbitrary bytes, JSON is UTF-8
 * text: bytes that are not valid UTF-8 (strictly: no overlong forms, no
 * surrogates, nothing above U+10FFFF) become U+FFFD, one per byte.
 */
#include "trace/trace.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>


static const char replacement[] = "\xef\xbf\xbd"; /* U+FFFD */

size_t trace_json_utf8_length(const char *string)
{
	const unsigned char *s = (const unsigned char *)string;
	unsigned char c = s[0];

	/* && stops at the terminating NUL, which is no continuation byte. */
	if (c >= 0xc2 && c <= 0xdf)
		return (s[1] & 0xc0) == 0x80 ? 2 : 0;
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80; /* no overlong forms */
		unsigned char hi = c == 0xed ? 0x9f : 0xbf; /* no surrogates */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf; /* up to U+10FFFF */
		return s[1] >= lo && s[1] <= hi && (s[2] & 0xc0) == 0x80 && (s[3] & 0xc0) == 0x80
			       ? 4
			       : 0;
	}
	return 0;
}

size_t trace_json_escape_char(const char *s, char out[TRACE_JSON_ESCAPE_MAX], size_t *used)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char c = (unsigned char)s[0];
	const char *short_form = NULL;

	*used = 1;
	switch (c) {
	case '"': short_form = "\\\""; break;
	case '\\': short_form = "\\\\"; break;
	case '\n': short_form = "\\n"; break;
	case '\r': short_form = "\\r"; break;
	case '\t': short_form = "\\t"; break;
	case '\b': short_form = "\\b"; break;
	case '\f': short_form = "\\f"; break;
	default: break;
	}
	if (short_form) {
		memcpy(out, short_form, 2);
		return 2;
	}
	if (c < 0x20) {
		memcpy(out, "\\u00", 4);
		out[4] = hex[c >> 4];
		out[5] = hex[c & 15];
		return 6;
	}
	if (c < 0x80) {
		out[0] = (char)c;
		return 1;
	}
	size_t len = trace_json_utf8_length(s);
	if (len == 0) {
		memcpy(out, replacement, 3);
		return 3;
	}
	memcpy(out, s, len);
	*used = len;
	return len;
}

void trace_json_write_string(FILE *out, const char *s)
{
	char buf[512];
	size_t fill = 0;

	if (!s) {
		fputs("null", out);
		return;
	}
	buf[fill++] = '"';
	while (*s) {
		size_t used;
		if (fill + TRACE_JSON_ESCAPE_MAX + 1 > sizeof(buf)) {
			fwrite(buf, 1, fill, out); /* the caller checks ferror at the end */
			fill = 0;
		}
		fill += trace_json_escape_char(s, buf + fill, &used);
		s += used;
	}
	buf[fill++] = '"';
	fwrite(buf, 1, fill, out);
}

/* ---- an event into a caller's buffer, snprintf-style ---- */

struct bounded {
	char *buf;
	size_t size; /* of buf */
	size_t len;  /* what the whole output needs, even beyond size */
};

static void put(struct bounded *b, const char *s, size_t n)
{
	if (b->len + 1 < b->size) {
		size_t room = b->size - 1 - b->len;
		memcpy(b->buf + b->len, s, n < room ? n : room);
	}
	b->len += n;
}

static void put_text(struct bounded *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_int(struct bounded *b, int64_t v)
{
	/* By hand: snprintf was most of the cost of an event for the live stream. */
	char digits[24];
	char *end = digits + sizeof(digits), *p = end;
	uint64_t magnitude = v < 0 ? -(uint64_t)v : (uint64_t)v;
	do {
		*--p = (char)('0' + magnitude % 10);
		magnitude /= 10;
	} while (magnitude);
	if (v < 0)
		*--p = '-';
	put(b, p, (size_t)(end - p));
}

static void put_string(struct bounded *b, const char *s)
{
	char escaped[TRACE_JSON_ESCAPE_MAX];

	if (!s) {
		put_text(b, "null");
		return;
	}
	put(b, "\"", 1);
	while (*s) {
		/* Runs of plain ASCII, the usual path, go in at once. */
		size_t plain = 0;
		while (s[plain] >= 0x20 && s[plain] < 0x7f && s[plain] != '"' && s[plain] != '\\')
			plain++;
		if (plain) {
			put(b, s, plain);
			s += plain;
			continue;
		}
		size_t used;
		put(b, escaped, trace_json_escape_char(s, escaped, &used));
		s += used;
	}
	put(b, "\"", 1);
}

/* ,"key": */
static void put_key(struct bounded *b, const char *key)
{
	put(b, ",\"", 2);
	put_text(b, key);
	put(b, "\":", 2);
}

static void put_optional(struct bounded *b, const char *key, int64_t v, bool present)
{
	put_key(b, key);
	if (present)
		put_int(b, v);
	else
		put_text(b, "null");
}

size_t trace_event_to_json(const struct trace_event *e, int64_t seq, char *buf, size_t size)
{
	struct bounded b = {.buf = buf, .size = buf ? size : 0};
	/* A 'lost' row has no process: the view shows NULL there. */
	bool has_proc = e->op != TRACE_OP_LOST;

	put_text(&b, "{\"seq\":");
	put_int(&b, seq);
	put_optional(&b, "ts_ns", e->ts_ns, true);
	put_optional(&b, "dur_ns", e->dur_ns, true);
	put_key(&b, "op");
	put_string(&b, trace_op_name((enum trace_op)e->op));
	put_key(&b, "path");
	put_string(&b, e->path);
	put_key(&b, "path2");
	put_string(&b, e->path2);
	put_key(&b, "kind");
	put_string(&b, trace_kind_name((enum trace_kind)e->kind));
	put_optional(&b, "pid", e->pid, has_proc);
	put_key(&b, "comm");
	put_string(&b, has_proc ? e->comm : NULL);
	put_optional(&b, "uid", e->uid, has_proc);
	put_optional(&b, "gid", e->gid, has_proc);
	put_optional(&b, "result", e->result, true);
	put_optional(&b, "bytes", e->bytes, e->bytes >= 0);
	put_optional(&b, "offset", e->offset, e->offset >= 0);
	put_optional(&b, "flags", e->flags, true);
	put_optional(&b, "mode", e->mode, true);
	put_optional(&b, "process", e->process, e->process > 0);
	put(&b, "}", 1);
	if (b.size)
		b.buf[b.len < b.size ? b.len : b.size - 1] = '\0';
	return b.len;
}

size_t trace_json_string(const char *s, char *buf, size_t size)
{
	struct bounded b = {.buf = buf, .size = buf ? size : 0};

	put_string(&b, s);
	if (b.size)
		b.buf[b.len < b.size ? b.len : b.size - 1] = '\0';
	return b.len;
}
