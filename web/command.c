/*
 * command.c — the messages a client may send (the README's "The live stream"), parsed with
 * libwebsockets' own streaming JSON parser (lejp) and checked strictly:
 * one JSON object, a known "cmd" string (no NUL in it: "ping\u0000xx" is
 * not ping), numbers as JSON writes them (no leading zeros), fields of the
 * right type and range.
 */
#include "web/internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const field_paths[] = {"cmd", "ts_ns", "value"};
enum { FIELD_CMD = 1, FIELD_TS_NS, FIELD_VALUE }; /* index + 1 */

struct parse_state {
	char cmd[16];
	bool has_cmd, has_ts_ns, has_value;
	int64_t ts_ns;
	double value;
	const char *error; /* the first problem seen */
};

static void fail(struct parse_state *s, const char *error)
{
	if (!s->error)
		s->error = error;
}

/* A JSON number has no leading zero ("0", "0.5", "-0" but not "01" or "-007"). */
static bool plain_number(const char *text)
{
	if (*text == '-')
		text++;
	return !(text[0] == '0' && text[1] >= '0' && text[1] <= '9');
}

/* Which field the parser is at: only a top-level key counts ("cmd", not "cmd[]" or "x.cmd"). */
static int field_at(const struct lejp_ctx *ctx)
{
	for (int i = 0; i < (int)(sizeof(field_paths) / sizeof(field_paths[0])); i++)
		if (strcmp(ctx->path, field_paths[i]) == 0)
			return i + 1;
	return 0;
}

static signed char on_token(struct lejp_ctx *ctx, char reason)
{
	struct parse_state *s = ctx->user;
	bool container = reason == LEJPCB_ARRAY_START || reason == LEJPCB_OBJECT_START;
	if (!container && !(reason & LEJP_FLAG_CB_IS_VALUE))
		return 0; /* the path is not yet meaningful at every other point */
	int field = field_at(ctx);
	if (field && container) {
		fail(s, field == FIELD_CMD ? "\"cmd\" must be a string" : "a field has the wrong type");
		return 0;
	}
	if (container || reason == LEJPCB_VAL_STR_CHUNK) {
		if (reason == LEJPCB_VAL_STR_CHUNK && field == FIELD_CMD)
			fail(s, "unknown command");
		return 0;
	}
	switch (field) {
	case FIELD_CMD:
		if (reason != LEJPCB_VAL_STR_END)
			fail(s, "\"cmd\" must be a string");
		else if (strlen(ctx->buf) >= sizeof(s->cmd) || strlen(ctx->buf) != ctx->npos)
			fail(s, "unknown command");
		else {
			strcpy(s->cmd, ctx->buf);
			s->has_cmd = true;
		}
		break;
	case FIELD_TS_NS: {
		char *end;
		errno = 0;
		long long v = strtoll(ctx->buf, &end, 10);
		if (reason != LEJPCB_VAL_NUM_INT || errno || *end || !plain_number(ctx->buf))
			fail(s, "\"ts_ns\" must be an integer (ns since the epoch)");
		else {
			s->ts_ns = v;
			s->has_ts_ns = true;
		}
		break;
	}
	case FIELD_VALUE: {
		char *end;
		double v = strtod(ctx->buf, &end);
		if ((reason != LEJPCB_VAL_NUM_INT && reason != LEJPCB_VAL_NUM_FLOAT) || *end ||
		    !isfinite(v) || !plain_number(ctx->buf))
			fail(s, "\"value\" must be a number");
		else {
			s->value = v;
			s->has_value = true;
		}
		break;
	}
	default:
		break; /* other fields are ignored */
	}
	return 0;
}

static bool only_space(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!s[i] || !strchr(" \t\r\n", s[i]))
			return false;
	return true;
}

static int to_command(const struct parse_state *s, struct web_command *command, char *err,
		      size_t err_size)
{
	static const struct {
		const char *name;
		enum web_cmd cmd;
	} commands[] = {{"ping", CMD_PING}, {"snapshot", CMD_SNAPSHOT}, {"play", CMD_PLAY},
			{"pause", CMD_PAUSE}, {"seek", CMD_SEEK},	  {"speed", CMD_SPEED}};
	if (!s->has_cmd) {
		snprintf(err, err_size, "no \"cmd\" in the message");
		return -1;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (strcmp(s->cmd, commands[i].name) != 0)
			continue;
		*command = (struct web_command){.cmd = commands[i].cmd, .ts_ns = s->ts_ns,
						.value = s->value};
		if (command->cmd == CMD_SEEK && !s->has_ts_ns) {
			snprintf(err, err_size, "seek needs \"ts_ns\"");
			return -1;
		}
		if (command->cmd == CMD_SPEED &&
		    (!s->has_value || !(s->value >= WEB_MIN_SPEED) || s->value > WEB_MAX_SPEED)) {
			snprintf(err, err_size, "speed needs a \"value\" from %g to %g",
				 WEB_MIN_SPEED, WEB_MAX_SPEED);
			return -1;
		}
		return 0;
	}
	snprintf(err, err_size, "unknown command");
	return -1;
}

int command_parse(const char *json, size_t len, struct web_command *command, char *err,
		  size_t err_size)
{
	size_t start = 0;
	while (start < len && json[start] && strchr(" \t\r\n", json[start]))
		start++;
	if (len > WEB_MAX_MESSAGE || start == len || json[start] != '{') {
		snprintf(err, err_size, "a message must be one JSON object");
		return -1;
	}
	struct parse_state state = {0};
	struct lejp_ctx ctx;
	memset(&ctx, 0, sizeof(ctx));
	lejp_construct(&ctx, on_token, &state, field_paths,
		       (unsigned char)(sizeof(field_paths) / sizeof(field_paths[0])));
	int rc = lejp_parse(&ctx, (const unsigned char *)json + start, (int)(len - start));
	lejp_destruct(&ctx);
	if (rc < 0 || !only_space(json + len - rc, (size_t)rc)) {
		snprintf(err, err_size, "malformed JSON: %s",
			 rc < 0 ? lejp_error_to_string(rc) : "text after the object");
		return -1;
	}
	if (state.error) {
		snprintf(err, err_size, "%s", state.error);
		return -1;
	}
	return to_command(&state, command, err, err_size);
}
