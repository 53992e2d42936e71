/*
 * lineage.c — the process instances a stream names (the trace's processes
 * table): their parent, root and command line, shortened as `report`
 * shortens it, for the page's colours, tooltips and highlights. Ids grow
 * and a row comes before the events that name it, so what is read is
 * always the rows up to some id.
 */
#include "web/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "analyze/analyze.h"

#define LINE_MAX_BYTES 80 /* a command line on the page: the report's shortening */

void lineage_free(struct web_lineage *l)
{
	for (size_t i = 0; i < l->count; i++)
		free(l->rows[i].line);
	free(l->rows);
	*l = (struct web_lineage){0};
}

/* Whether the trace has a processes table (format 2 on). */
static int has_lineage(sqlite3 *db, bool *yes)
{
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'processes'",
			       -1, &stmt, NULL) != SQLITE_OK)
		return -1;
	int rc = sqlite3_step(stmt);
	*yes = rc == SQLITE_ROW;
	sqlite3_finalize(stmt);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -1;
}

/* A row; its command line from the argv JSON TEXT (NULL: not recorded). */
static int add_row(struct web_lineage *l, int64_t id, int64_t parent, int64_t root,
		   const char *text)
{
	if (l->count == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		struct web_lineage_row *rows = realloc(l->rows, cap * sizeof(*rows));
		if (!rows)
			return -1;
		l->rows = rows;
		l->cap = cap;
	}
	/* The reader checked the rows' ids; argv is checked here, a bad one is unknown. */
	char *line = text ? analyze_command_line(text, LINE_MAX_BYTES) : NULL;
	l->rows[l->count++] = (struct web_lineage_row){id, parent, root, line};
	return 0;
}

int lineage_read(struct web_lineage *l, struct trace_reader *reader, int64_t upto, char *err,
		 size_t err_size)
{
	if (upto <= l->last_id)
		return 0;
	sqlite3 *db = trace_reader_db(reader);
	bool present = false;
	if (l->table == 0) {
		if (has_lineage(db, &present) != 0) {
			snprintf(err, err_size, "reading the trace's processes: %s", sqlite3_errmsg(db));
			return -1;
		}
		l->table = present ? 1 : -1;
	}
	if (l->table < 0) { /* format 1: no lineage, events name no process */
		l->last_id = upto;
		return 0;
	}
	sqlite3_stmt *stmt;
	if (sqlite3_prepare_v2(db,
			       "SELECT id, parent_id, root_id, argv FROM processes"
			       " WHERE id > ?1 AND id <= ?2 ORDER BY id",
			       -1, &stmt, NULL) != SQLITE_OK) {
		snprintf(err, err_size, "reading the trace's processes: %s", sqlite3_errmsg(db));
		return -1;
	}
	sqlite3_bind_int64(stmt, 1, l->last_id);
	sqlite3_bind_int64(stmt, 2, upto);
	int rc;
	while ((rc = sqlite3_step(stmt)) == SQLITE_ROW) {
		int64_t id = sqlite3_column_int64(stmt, 0);
		int64_t parent = sqlite3_column_type(stmt, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 1);
		int64_t root = sqlite3_column_type(stmt, 2) == SQLITE_NULL ? 0 : sqlite3_column_int64(stmt, 2);
		const char *argv = (const char *)sqlite3_column_text(stmt, 3);
		if (add_row(l, id, parent, root, argv) != 0) {
			sqlite3_finalize(stmt);
			snprintf(err, err_size, "out of memory");
			return -1;
		}
		l->last_id = id;
	}
	if (rc != SQLITE_DONE) {
		snprintf(err, err_size, "reading the trace's processes: %s", sqlite3_errmsg(db));
		sqlite3_finalize(stmt);
		return -1;
	}
	sqlite3_finalize(stmt);
	if (upto != INT64_MAX)
		l->last_id = upto;
	return 0;
}

static void put_id(struct web_text *t, int64_t id)
{
	if (id > 0)
		text_printf(t, "%lld", (long long)id);
	else
		text_adds(t, "null");
}

void lineage_json(struct web_text *t, const struct web_lineage *l, size_t from)
{
	text_adds(t, "[");
	for (size_t i = from; i < l->count; i++) {
		const struct web_lineage_row *r = &l->rows[i];
		text_printf(t, "%s{\"id\":%lld,\"parent\":", i > from ? "," : "", (long long)r->id);
		put_id(t, r->parent);
		text_adds(t, ",\"root\":");
		put_id(t, r->root);
		text_adds(t, ",\"line\":");
		text_json_string(t, r->line);
		text_adds(t, "}");
	}
	text_adds(t, "]");
}

int instance_counts_add(struct web_instance_counts *c, int64_t id, uint64_t events, uint64_t errors)
{
	if (id <= 0 || id >= WEB_MAX_INSTANCES)
		return 0;
	if ((size_t)id >= c->size) {
		size_t size = c->size ? c->size : 1024;
		while (size <= (size_t)id)
			size *= 2;
		struct web_instance_tally *by_id = realloc(c->by_id, size * sizeof(*by_id));
		if (!by_id)
			return -1;
		memset(by_id + c->size, 0, (size - c->size) * sizeof(*by_id));
		c->by_id = by_id;
		c->size = size;
	}
	c->by_id[id].events += events;
	c->by_id[id].errors += errors;
	return 0;
}

void instance_counts_json(struct web_text *t, const struct web_instance_counts *c)
{
	text_adds(t, "[");
	bool first = true;
	for (size_t id = 1; id < c->size; id++) {
		if (!c->by_id[id].events)
			continue;
		text_printf(t, "%s[%zu,%llu,%llu]", first ? "" : ",", id,
			    (unsigned long long)c->by_id[id].events,
			    (unsigned long long)c->by_id[id].errors);
		first = false;
	}
	text_adds(t, "]");
}

void instance_counts_free(struct web_instance_counts *c)
{
	free(c->by_id);
	*c = (struct web_instance_counts){0};
}
