/*
 * text.c — JSON messages as lws_write() wants them (LWS_PRE bytes of room
 * in front of the payload), and the per-client queues of such messages.
 */
#include "web/internal.h"

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void text_free(struct web_text *t)
{
	free(t->data);
	*t = (struct web_text){0};
}

static bool reserve(struct web_text *t, size_t more)
{
	if (t->failed)
		return false;
	if (t->len + more + 1 <= t->cap)
		return true;
	size_t cap = t->cap ? t->cap : 4096;
	while (cap < t->len + more + 1)
		cap *= 2;
	unsigned char *data = realloc(t->data, LWS_PRE + cap);
	if (!data) {
		t->failed = true;
		return false;
	}
	t->data = data;
	t->cap = cap;
	return true;
}

void text_add(struct web_text *t, const char *bytes, size_t len)
{
	if (!reserve(t, len))
		return;
	memcpy(t->data + LWS_PRE + t->len, bytes, len);
	t->len += len;
	t->data[LWS_PRE + t->len] = '\0';
}

void text_adds(struct web_text *t, const char *s)
{
	text_add(t, s, strlen(s));
}

void text_printf(struct web_text *t, const char *format, ...)
{
	va_list args;
	va_start(args, format);
	int n = vsnprintf(NULL, 0, format, args);
	va_end(args);
	if (n < 0 || !reserve(t, (size_t)n))
		return;
	va_start(args, format);
	vsnprintf((char *)t->data + LWS_PRE + t->len, (size_t)n + 1, format, args);
	va_end(args);
	t->len += (size_t)n;
}

void text_json_string(struct web_text *t, const char *s)
{
	size_t n = trace_json_string(s, NULL, 0);
	if (!reserve(t, n))
		return;
	trace_json_string(s, (char *)t->data + LWS_PRE + t->len, n + 1);
	t->len += n;
}

void text_event(struct web_text *t, const struct trace_event *event, int64_t seq)
{
	/* Most events fit in 512 bytes: format in place, measure only if not. */
	if (!reserve(t, 512))
		return;
	size_t n = trace_event_to_json(event, seq, (char *)t->data + LWS_PRE + t->len, 512 + 1);
	if (n > 512) {
		if (!reserve(t, n))
			return;
		trace_event_to_json(event, seq, (char *)t->data + LWS_PRE + t->len, n + 1);
	}
	t->len += n;
}

void text_unput(struct web_text *t, char c)
{
	if (t->len > 0 && t->data[LWS_PRE + t->len - 1] == (unsigned char)c)
		t->data[LWS_PRE + --t->len] = '\0';
}

/* ---- outboxes ---- */

/* What a message takes in memory. */
static size_t message_bytes(const struct web_msg *msg)
{
	return sizeof(*msg) + LWS_PRE + msg->len;
}

static void account(struct web_outbox *box, ptrdiff_t delta)
{
	box->bytes += (size_t)delta;
	if (box->total)
		*box->total += (size_t)delta;
}

static void append(struct web_outbox *box, struct web_msg *msg)
{
	msg->next = NULL;
	if (box->tail)
		box->tail->next = msg;
	else
		box->head = msg;
	box->tail = msg;
	box->count++;
	account(box, (ptrdiff_t)message_bytes(msg));
}

int outbox_take(struct web_outbox *box, struct web_text *t)
{
	if (t->failed) {
		text_free(t);
		return -1;
	}
	struct web_msg *msg = malloc(sizeof(*msg) + LWS_PRE + t->len);
	if (!msg) {
		text_free(t);
		return -1;
	}
	msg->len = t->len;
	memcpy(msg->data + LWS_PRE, t->data + LWS_PRE, t->len);
	append(box, msg);
	t->len = 0;
	return 0;
}

int outbox_push(struct web_outbox *box, const char *json)
{
	size_t len = strlen(json);
	struct web_msg *msg = malloc(sizeof(*msg) + LWS_PRE + len);
	if (!msg)
		return -1;
	msg->len = len;
	memcpy(msg->data + LWS_PRE, json, len);
	append(box, msg);
	return 0;
}

int outbox_error(struct web_outbox *box, const char *message)
{
	struct web_text text = {0};
	text_adds(&text, "{\"type\":\"error\",\"message\":");
	text_json_string(&text, message);
	text_adds(&text, "}");
	int rc = outbox_take(box, &text);
	text_free(&text);
	return rc;
}

struct web_msg *outbox_pop(struct web_outbox *box)
{
	struct web_msg *msg = box->head;
	if (!msg)
		return NULL;
	box->head = msg->next;
	if (!box->head)
		box->tail = NULL;
	box->count--;
	account(box, -(ptrdiff_t)message_bytes(msg));
	return msg;
}

void outbox_move(struct web_outbox *to, struct web_outbox *from)
{
	struct web_msg *msg;
	while ((msg = outbox_pop(from)))
		append(to, msg);
}

void outbox_clear(struct web_outbox *box)
{
	struct web_msg *msg;
	while ((msg = outbox_pop(box)))
		free(msg);
}
