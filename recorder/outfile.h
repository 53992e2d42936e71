/*
 * outfile.h — private to recorder/: an output file that appears whole or not
 * at all. Written to a temporary file in the same directory, renamed over
 * the target by outfile_commit(); outfile_abort() removes it. So an error
 * half-way (a corrupt trace, a full disk) leaves no half-written file.
 */
#ifndef TRACEFS_RECORDER_OUTFILE_H
#define TRACEFS_RECORDER_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct outfile {
	FILE *file; /* write here */
	char *path; /* the target */
	char *temp; /* the temporary file, until committed or aborted */
};

/*
 * Starts writing PATH, made from the trace INPUT: refused, as
 * rec_output_check() says, when PATH is INPUT by another name. 0, or -1
 * with a message in err.
 */
int outfile_open(struct outfile *out, const char *path, const char *input, char *err,
		 size_t err_size);

/* Flushes, closes and renames into place. 0, or -1 with a message (and aborts). */
int outfile_commit(struct outfile *out, char *err, size_t err_size);

/* Closes and removes the temporary file. Safe after a failed open or commit. */
void outfile_abort(struct outfile *out);

#endif
