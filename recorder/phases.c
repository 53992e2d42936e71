/*
 * phases.c — the phases of a run, as the report finds them, for other
 * modules (the replay page): only their names and times.
 */
#include "recorder/analysis.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void rec_phases_free(struct rec_phase *phases, size_t count)
{
	for (size_t i = 0; phases && i < count; i++)
		free(phases[i].name);
	free(phases);
}

int rec_phases_read(const char *file, struct rec_phase **phases, size_t *count, char *err,
		    size_t err_size)
{
	*phases = NULL;
	*count = 0;
	struct analysis a;
	if (analysis_run(file, 1, &a, err, err_size) != 0)
		return -1;
	int rc = 0;
	if (a.nphases) {
		*phases = calloc(a.nphases, sizeof(**phases));
		rc = *phases ? 0 : -1;
	}
	for (size_t i = 0; rc == 0 && i < a.nphases; i++) {
		const struct an_phase *p = &a.phases[i];
		(*phases)[i] = (struct rec_phase){strdup(p->name ? p->name : "?"), p->start_ns,
						  p->end_ns};
		if (!(*phases)[i].name)
			rc = -1;
		*count = i + 1;
	}
	analysis_free(&a);
	if (rc != 0) {
		rec_phases_free(*phases, *count);
		*phases = NULL;
		*count = 0;
		snprintf(err, err_size, "out of memory");
	}
	return rc;
}
