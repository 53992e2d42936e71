/*
 * options.c — command-line pieces shared by `tracefs mount` and `tracefs run`:
 * the file-system options (caching, polling), the trace file's name, the
 * recorded command line.
 */
#include "tracefs/options.h"

#include <errno.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

void options_default_fs(struct fs_options *fs)
{
	*fs = (struct fs_options){
		.timeout = DEFAULT_CACHE_TIMEOUT, .poll_us = DEFAULT_POLL_US, .uring = -1};
}

static int apply_poll(struct fs_options *fs, const char *option)
{
	char *end;
	errno = 0;
	long us = strtol(option + 5, &end, 10);
	if (*end || end == option + 5 || errno || us < 0 || us > 1000000) {
		fprintf(stderr, "tracefs: -o %s: expected microseconds from 0 to 1000000\n",
			option);
		return -1;
	}
	fs->poll_us = us;
	return 1;
}

int options_apply_fs(struct fs_options *fs, const char *option)
{
	if (strcmp(option, "exact") == 0) {
		fs->exact = true;
		return 1;
	}
	if (strcmp(option, "direct_io") == 0) {
		fs->direct_io = true;
		return 1;
	}
	if (strcmp(option, "uring") == 0 || strcmp(option, "nouring") == 0) {
		fs->uring = option[0] == 'u';
		return 1;
	}
	if (strncmp(option, "poll=", 5) == 0)
		return apply_poll(fs, option);
	if (strncmp(option, "timeout=", 8) != 0)
		return 0;
	char *end;
	fs->timeout = strtod(option + 8, &end);
	if (*end || end == option + 8 || fs->timeout < 0) {
		fprintf(stderr, "tracefs: -o %s: expected a number of seconds\n", option);
		return -1;
	}
	return 1;
}

int options_parse_db_mode(const char *prog, const char *text, unsigned *mode)
{
	char *end;
	errno = 0;
	unsigned long value = strtoul(text, &end, 8);
	if (*end || end == text || errno || text[0] == '-' || value > 0666 || !(value & 0600)) {
		fprintf(stderr,
			"%s: --db-mode %s: expected octal permission bits from 0600 to 0666, "
			"e.g. 0640 to let the file's group read the trace\n",
			prog, text);
		return -1;
	}
	*mode = (unsigned)value;
	return 0;
}

/* A decimal id from the environment, if it is one. */
static bool id_from_env(const char *name, uint32_t *id)
{
	const char *text = getenv(name);
	char *end;
	if (!text || !*text)
		return false;
	errno = 0;
	unsigned long long value = strtoull(text, &end, 10);
	if (*end || errno || text[0] == '-' || value >= UINT32_MAX)
		return false;
	*id = (uint32_t)value;
	return true;
}

void options_db_owner(bool *give, uint32_t *uid, uint32_t *gid)
{
	*give = false;
	if (geteuid() != 0)
		return; /* the file is the caller's already */
	if (id_from_env("SUDO_UID", uid)) {
		*give = id_from_env("SUDO_GID", gid);
	} else if (id_from_env("PKEXEC_UID", uid)) {
		struct passwd *pw = getpwuid((uid_t)*uid);
		*gid = pw ? (uint32_t)pw->pw_gid : 0;
		*give = pw != NULL;
	}
}

int options_for_each(const char *list, int (*apply)(void *ctx, const char *option), void *ctx)
{
	char *copy = strdup(list);
	if (!copy)
		return -1;
	int rc = 0;
	char *save = NULL;
	for (char *opt = strtok_r(copy, ",", &save); opt && rc == 0;
	     opt = strtok_r(NULL, ",", &save))
		rc = apply(ctx, opt);
	free(copy);
	return rc;
}

char *options_trace_path(const char *db)
{
	char name[64];
	if (!db) {
		time_t now = time(NULL);
		struct tm tm;
		localtime_r(&now, &tm);
		strftime(name, sizeof(name), "tracefs-%Y%m%d-%H%M%S.db", &tm);
		db = name;
	}
	if (db[0] == '/')
		return strdup(db);
	char *cwd = getcwd(NULL, 0);
	char *path;
	if (!cwd || asprintf(&path, "%s/%s", cwd, db) == -1)
		path = NULL;
	free(cwd);
	return path;
}

char *options_join_words(int argc, char **argv)
{
	char *line = NULL;
	for (int i = 0; i < argc; i++) {
		char *joined;
		if (asprintf(&joined, "%s%s%s", line ? line : "", line ? " " : "", argv[i]) == -1) {
			free(line);
			return NULL;
		}
		free(line);
		line = joined;
	}
	return line;
}
