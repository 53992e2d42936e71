/*
 * check.h — the unit tests' assertions and small helpers: CHECK(cond, fmt,
 * ...) prints "FAIL: file:line: message", runs check_on_fail (a test's
 * tidying up, if it set one) and exits 1 when COND is false.
 */
#ifndef TRACEFS_TESTS_CHECK_H
#define TRACEFS_TESTS_CHECK_H

#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* What a failing test runs before it exits, e.g. removing its scratch directory. */
static void (*check_on_fail)(void);

#define FAIL(...) check_fail_at(__FILE__, __LINE__, __VA_ARGS__)
#define CHECK(cond, ...)                   \
	do {                               \
		if (!(cond))               \
			FAIL(__VA_ARGS__); \
	} while (0)

__attribute__((format(printf, 3, 4), noreturn)) static inline void
check_fail_at(const char *file, int line, const char *fmt, ...)
{
	va_list ap;
	const char *name = strrchr(file, '/');
	fprintf(stderr, "FAIL: %s:%d: ", name ? name + 1 : file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	if (check_on_fail)
		check_on_fail();
	exit(1);
}

static inline int64_t now_ns(clockid_t clock)
{
	struct timespec ts;
	CHECK(clock_gettime(clock, &ts) == 0, "clock_gettime: %s", strerror(errno));
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static inline void sleep_ms(long ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = ms % 1000 * 1000000};
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

#endif
