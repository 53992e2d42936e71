/*
 * names.c — the names the trace gives operations, kinds of objects and the
 * processes that made requests (trace.h), from the one list in names.h.
 */
#include "trace/trace.h"

#define NAME_OF(id, name) name,
static const char *const op_names[TRACE_OP_COUNT] = {TRACE_OPS(NAME_OF)};
static const char *const kind_names[TRACE_KIND_COUNT] = {TRACE_KINDS(NAME_OF)};
#undef NAME_OF

const char *trace_op_name(enum trace_op op)
{
	return (unsigned)op < TRACE_OP_COUNT ? op_names[op] : NULL;
}

const char *trace_kind_name(enum trace_kind kind)
{
	return (unsigned)kind < TRACE_KIND_COUNT ? kind_names[kind] : NULL;
}

const char *trace_process_name(const char *comm, int32_t pid)
{
	if (comm)
		return comm;
	return pid == 0 ? "kernel" : NULL;
}
