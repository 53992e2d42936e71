/*
 * test_intern — the writer's string table: ids in order of first
 * appearance, rollback (truncate), and the bound on memory: at its limit
 * the table forgets the keys not found since it last did so, while keys in
 * use keep their ids, and new ids never repeat an old one.
 */
#include <stdio.h>
#include <string.h>

#include "recorder/intern.h"
#include "tests/unit/check.h"

static int64_t intern(struct intern_table *table, const char *key)
{
	size_t len = strlen(key);
	uint64_t hash = rec_intern_hash(key, len);
	int64_t id = rec_intern_find(table, key, len, hash);
	return id ? id : rec_intern_add(table, key, len, hash);
}

static int64_t find(struct intern_table *table, const char *key)
{
	return rec_intern_find(table, key, strlen(key), rec_intern_hash(key, strlen(key)));
}

static void test_ids_and_truncate(void)
{
	struct intern_table table;
	CHECK(rec_intern_init(&table) == 0, "init");
	CHECK(intern(&table, "/a") == 1 && intern(&table, "/b") == 2 && intern(&table, "/a") == 1,
	      "ids in order of first appearance");
	CHECK(intern(&table, "/c") == 3 && rec_intern_count(&table) == 3, "count is the highest id");
	rec_intern_truncate(&table, 1);
	CHECK(find(&table, "/b") == 0 && find(&table, "/c") == 0 && find(&table, "/a") == 1,
	      "truncate forgets the ids above it");
	CHECK(intern(&table, "/c") == 2, "ids continue after the truncation point");
	rec_intern_destroy(&table);
}

static void test_bound(void)
{
	enum { LIMIT = 1000, KEYS = 100000 };
	struct intern_table table;
	char key[32];
	CHECK(rec_intern_init(&table) == 0, "init");
	table.limit = LIMIT;
	int64_t hot = intern(&table, "/hot");
	int64_t last = hot;
	for (int i = 0; i < KEYS; i++) {
		snprintf(key, sizeof(key), "/cold/%d", i);
		int64_t id = intern(&table, key);
		CHECK(id == last + 1, "key %d got id %lld after %lld", i, (long long)id, (long long)last);
		last = id;
		CHECK(table.count <= LIMIT, "%zu keys held, over the limit %d", table.count, LIMIT);
		if (i % 10 == 0)
			CHECK(intern(&table, "/hot") == hot, "a key in use keeps its id (at %d)", i);
	}
	CHECK(rec_intern_count(&table) == (size_t)last, "the highest id is %lld", (long long)last);
	CHECK(find(&table, "/cold/0") == 0, "an old key no longer used is forgotten");
	snprintf(key, sizeof(key), "/cold/%d", KEYS - 1);
	CHECK(find(&table, key) == last, "the newest key is held");
	/* A rollback across a bounding: ids above the mark are forgotten. */
	size_t mark = rec_intern_count(&table);
	for (int i = 0; i < LIMIT * 2; i++) {
		snprintf(key, sizeof(key), "/txn/%d", i);
		intern(&table, key);
		if (i % 10 == 0)
			intern(&table, "/hot");
	}
	rec_intern_truncate(&table, mark);
	CHECK(find(&table, "/txn/1999") == 0 && rec_intern_count(&table) == mark,
	      "truncate after bounding");
	CHECK(intern(&table, "/new") == (int64_t)mark + 1, "ids continue from the mark");
	CHECK(intern(&table, "/hot") == hot, "the key in use survived the rollback");
	rec_intern_destroy(&table);
}

int main(void)
{
	test_ids_and_truncate();
	test_bound();
	printf("test_intern: ok\n");
	return 0;
}
