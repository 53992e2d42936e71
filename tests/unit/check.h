/*
 * check.h — the unit tests' assertions: CHECK(cond, fmt, ...) prints
 * "FAIL: file:line: message" and exits 1 when COND is false.
 */
#ifndef TRACEFS_TESTS_CHECK_H
#define TRACEFS_TESTS_CHECK_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

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
	fprintf(stderr, "FAIL: %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

#endif
