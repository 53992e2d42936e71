/*
 * fuzz_command.c — libFuzzer target for the parser of what a websocket
 * client sends (command_parse in web/command.c): any bytes give a command
 * in range or an error with a message, never a crash or a sanitizer report.
 * `make fuzz` runs it on the seeds in tests/fuzz/corpus/command/.
 */
#include "web/internal.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct web_command c;
	char err[256] = "";

	if (command_parse((const char *)data, size, &c, err, sizeof(err)) == 0) {
		/* What the replay relies on. */
		if (c.cmd == CMD_SPEED && !(c.value > 0 && c.value <= WEB_MAX_SPEED))
			abort();
	} else if (!err[0] || !memchr(err, '\0', sizeof(err))) {
		abort(); /* a refusal says why */
	}
	return 0;
}
