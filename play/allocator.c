/*
 * allocator.c — the scene model's memory from malloc, for every native
 * user of the model (render, the live stream, replay, the serve index); the
 * WebAssembly page brings its own.
 */
#include <stdlib.h>

#include "play/play.h"

static void *libc_realloc(void *ctx, void *ptr, size_t old_size, size_t new_size)
{
	(void)ctx;
	(void)old_size;
	if (new_size == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, new_size);
}

const struct viz_allocator *play_allocator(void)
{
	static const struct viz_allocator allocator = {libc_realloc, NULL};
	return &allocator;
}
