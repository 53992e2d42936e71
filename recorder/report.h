/*
 * report.h — private to recorder/: the renderers of `tracefs report` (the
 * terminal, JSON and HTML forms of one struct analysis) and the number and
 * path formatting they share.
 */
#ifndef TRACEFS_RECORDER_REPORT_H
#define TRACEFS_RECORDER_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "recorder/analysis.h"

/* Each writes the whole report; the caller checks the stream for errors. */
void report_text(FILE *out, const struct analysis *a, bool utf8);
void report_json(FILE *out, const struct analysis *a);
void report_html(FILE *out, const struct analysis *a);

/* 1,234,567 */
const char *report_count(int64_t n, char *buf, size_t size);
/* 512 B, 1.5 KiB, 12.3 MiB, ... */
const char *report_bytes(int64_t n, char *buf, size_t size);
/* 850 ns, 12.5 us, 3.20 ms, 1.25 s, 4m26.8s, 1h02m */
const char *report_duration(int64_t ns, char *buf, size_t size);
/* A time since the first event: 0:00.0, 4:26.8, 1:02:03 */
const char *report_offset(int64_t ns, char *buf, size_t size);
/* 12.3% of total (0 when total is 0) */
const char *report_share(int64_t part, int64_t total, char *buf, size_t size);

/*
 * A path (or any trace string) made safe for a terminal: bytes below 0x20,
 * 0x7f and, unless utf8, bytes above 0x7f are shown as \xNN. If longer than
 * width columns, the start is cut and replaced by "...". NULL shows as
 * "(none)".
 */
const char *report_path(const char *path, size_t width, bool utf8, char *buf, size_t size);

/* What a finding is called, and a sentence about it with its numbers. */
const char *report_finding_title(enum an_finding_kind kind);
void report_finding_summary(const struct analysis *a, const struct an_finding *f, char *buf,
			    size_t size);

#endif
