/*
 * traces.h — trace files for the unit tests: a recorder opened on one
 * (open_recorder, close_recorder), a copy of one (copy_file), SQL run on one
 * (sql_exec, e.g. to spoil it). Each failure is the test's (CHECK).
 */
#ifndef TRACEFS_TESTS_TRACES_H
#define TRACEFS_TESTS_TRACES_H

#include "recorder/recorder.h"
#include "tests/unit/check.h"

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

/* A recorder writing PATH: CAPACITY events queued (0: the default), commits every INTERVAL_MS. */
static inline struct recorder *open_recorder(const char *path, size_t capacity, int interval_ms)
{
	struct recorder_options options = {
		.db_path = path,
		.source = "/srv/source",
		.mountpoint = "/mnt/traced",
		.command_line = "tracefs /srv/source /mnt/traced",
		.cache_mode = "default",
		.queue_capacity = capacity,
		.commit_interval_ms = interval_ms,
	};
	char err[512] = "";
	struct recorder *r = recorder_open(&options, err, sizeof(err));
	CHECK(r, "recorder_open(%s): %s", path, err);
	return r;
}

static inline void close_recorder(struct recorder *r)
{
	char err[512] = "";
	CHECK(recorder_close(r, err, sizeof(err)) == 0, "recorder_close: %s", err);
}

static inline void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb");
	CHECK(in, "open %s: %s", from, strerror(errno));
	FILE *out = fopen(to, "wb");
	CHECK(out, "create %s: %s", to, strerror(errno));
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		CHECK(fwrite(buf, 1, n, out) == n, "write %s: %s", to, strerror(errno));
	CHECK(!ferror(in), "read %s", from);
	CHECK(fclose(in) == 0 && fclose(out) == 0, "close %s: %s", to, strerror(errno));
}

/* Runs SQL on the database PATH (made if there is none). */
static inline void sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;
	CHECK(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) ==
		      SQLITE_OK,
	      "open %s", path);
	char *msg = NULL;
	int rc = sqlite3_exec(db, sql, NULL, NULL, &msg);
	CHECK(rc == SQLITE_OK, "%s: %s", sql, msg ? msg : sqlite3_errstr(rc));
	CHECK(sqlite3_close(db) == SQLITE_OK, "close %s", path);
}

#endif
