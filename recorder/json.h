/*
 * json.h — private to recorder/: JSON string escaping that yields valid JSON
 * for any bytes (paths are bytes, not text), shared by rec_event_to_json
 * (recorder.h), the exporters and the report's --json output.
 */
#ifndef TRACEFS_RECORDER_JSON_H
#define TRACEFS_RECORDER_JSON_H

#include <stddef.h>
#include <stdio.h>

/*
 * The length of the valid UTF-8 sequence of two to four bytes at the start
 * of S (NUL-terminated), or 0: ASCII, or not UTF-8 (strictly: no overlong
 * forms, no surrogates, nothing above U+10FFFF).
 */
size_t json_utf8_length(const char *s);

/* The most bytes json_escape_char() writes for one character. */
#define JSON_ESCAPE_MAX 8

/*
 * Escapes the character at the start of S (a NUL-terminated string, not at
 * its end) for a JSON string: quote and backslash escaped, control bytes as
 * \n, \t, ... or \u00XX, valid UTF-8 copied, a byte that does not start a
 * valid UTF-8 sequence replaced by U+FFFD. Writes the escape into out,
 * returns its length and puts the number of bytes of S used into *used.
 */
size_t json_escape_char(const char *s, char out[JSON_ESCAPE_MAX], size_t *used);

/* Writes S as a JSON string, quotes included, or null if S is NULL. */
void json_write_string(FILE *out, const char *s);

#endif
