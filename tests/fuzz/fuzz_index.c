/*
 * fuzz_index.c — libFuzzer target for the loader of the index `tracefs
 * serve` keeps beside a trace (index_load in web/index.c, what serve runs
 * on a kept file's content once its header and checksum match): any bytes
 * give an index or a reason, never a crash, a sanitizer report, a hang or
 * unbounded memory; an index it accepts restores a seek to any time (the
 * first, the last, between, before and after) into a scene, as a browser's
 * seek would. `make fuzz` runs it on the seeds in tests/fuzz/corpus/index/
 * (index files of small traces, their 112-byte header cut off).
 */
#include "play/play.h"
#include "web/internal.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void seek(const struct trace_index *index, int64_t ts_ns)
{
	struct viz_options options = {.unplaced = true};
	struct viz_scene *scene = viz_scene_new(play_allocator(), &options);
	struct web_instance_counts instances = {0};
	int64_t seq;
	double t;
	if (!scene)
		abort();
	if (index_restore(index, ts_ns, scene, &instances, &seq, &t) != 0)
		abort(); /* only out of memory, which these sizes never are */
	instance_counts_free(&instances);
	viz_scene_free(scene);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char why[256] = "";
	struct trace_index *index = index_load(data, size, why, sizeof(why));
	if (!index) {
		if (!why[0] || !memchr(why, '\0', sizeof(why)))
			abort(); /* a refusal says why */
		return 0;
	}
	if (index_state(index) != NULL)
		abort(); /* loaded is ready */
	int64_t first, last, count;
	index_span(index, &first, &last, &count);
	const int64_t *buckets = index_buckets(index);
	int64_t total = 0;
	for (int i = 0; i < TIMELINE_BUCKETS; i++)
		total += buckets[i];
	if (total != count)
		abort();
	const struct analyze_phase_span *phases;
	size_t phase_count;
	index_phases(index, &phases, &phase_count);
	for (size_t i = 0; i < phase_count; i++)
		if (!phases[i].name)
			abort();
	int64_t times[] = {INT64_MIN, first, first / 2 + last / 2, last, INT64_MAX};
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++)
		seek(index, times[i]);
	index_free(index);
	return 0;
}
