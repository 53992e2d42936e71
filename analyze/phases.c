/*
 * phases.c — the phases of a run, as the report finds them, for other
 * modules (the replay page): only their names and times.
 */
#include "analyze/analyze.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void analyze_phases_free(struct analyze_phase_span *phases, size_t count)
{
	for (size_t i = 0; phases && i < count; i++)
		free(phases[i].name);
	free(phases);
}

int analyze_phases_read(const char *file, struct analyze_phase_span **phases, size_t *count, char *err,
		    size_t err_size)
{
	*phases = NULL;
	*count = 0;
	struct analyze_result a;
	if (analyze_run(file, 1, &a, err, err_size) != 0)
		return -1;
	int rc = 0;
	if (a.nphases) {
		*phases = calloc(a.nphases, sizeof(**phases));
		rc = *phases ? 0 : -1;
	}
	for (size_t i = 0; rc == 0 && i < a.nphases; i++) {
		const struct analyze_phase *p = &a.phases[i];
		(*phases)[i] = (struct analyze_phase_span){strdup(p->name ? p->name : "?"), p->start_ns,
						  p->end_ns};
		if (!(*phases)[i].name)
			rc = -1;
		*count = i + 1;
	}
	analyze_free(&a);
	if (rc != 0) {
		analyze_phases_free(*phases, *count);
		*phases = NULL;
		*count = 0;
		snprintf(err, err_size, "out of memory");
	}
	return rc;
}
