/*
 * scale.h — how much work a unit test does: RECORDER_TEST_SCALE (default 1)
 * scales its event counts, e.g. 0.05 under valgrind. scale_from_env() reads
 * it (in main), scaled(N) is N scaled, at least 1.
 */
#ifndef TRACEFS_TESTS_SCALE_H
#define TRACEFS_TESTS_SCALE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static double scale = 1.0;

/* False, having said so, when RECORDER_TEST_SCALE is set to other than a number in (0, 100]. */
static inline bool scale_from_env(void)
{
	const char *env = getenv("RECORDER_TEST_SCALE");
	if (!env)
		return true;
	char *end;
	scale = strtod(env, &end);
	if (*end || !(scale > 0 && scale <= 100)) {
		fprintf(stderr, "FAIL: bad RECORDER_TEST_SCALE '%s'\n", env);
		return false;
	}
	return true;
}

static inline uint64_t scaled(uint64_t n)
{
	uint64_t v = (uint64_t)((double)n * scale);
	return v ? v : 1;
}

#endif
