/*
 * deps.h — private to the analysis side: the build graph behind `tracefs
 * deps`. Processes (the trace's lineage) and their file accesses, in seq
 * order, go in; out come commands, each with the files it read (inputs)
 * and the files it made (outputs).
 *
 * A command is a process together with the helpers it ran that are part of
 * it: a compiler driver (gcc, cc, clang, ...) owns what its cc1, as,
 * collect2 and ld did. Every other process is a command of its own (a make
 * recipe's shell, sed, mv, ar).
 *
 * A temporary is a file created and removed within one piece of the run:
 * created and removed by one command, or by two processes whose nearest
 * common ancestor is below the run's root (configure's conftest.c, a
 * recipe's x.Tpo renamed to x.Po), or a name created and removed three
 * times or more. `make` then `make distclean` under one script does not
 * make the objects temporaries: their common ancestor is the script. The
 * graph keeps temporaries (an impact goes through them) but marks them, so
 * that outputs, compile databases and drawings can leave them out.
 *
 * No I/O here: deps.c reads the trace and writes the formats.
 */
#ifndef TRACEFS_ANALYZE_DEPS_H
#define TRACEFS_ANALYZE_DEPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DEPS_NONE ((size_t)-1)

enum deps_access {
	DEPS_READ,   /* opened for reading */
	DEPS_WRITE,  /* opened for writing, written to or truncated */
	DEPS_CREATE, /* made: create, mknod, symlink */
	DEPS_REMOVE, /* unlinked */
	DEPS_RENAME, /* path renamed to path2: path's content is now path2's */
	DEPS_LINK,   /* path2 made another name of path */
};

/* A process as the trace's lineage gives it. Strings are copied. */
struct deps_process_info {
	int64_t id;	   /* processes.id, above 0 */
	int64_t parent_id; /* 0: none or unknown */
	int64_t pid;
	bool root; /* the process that started the work */
	const char *exe, *cwd; /* NULL if unknown */
	const char *const *argv; /* NULL if unknown */
	size_t argc;
};

struct deps_process {
	int64_t id, parent_id, pid;
	bool root;
	char *exe, *cwd;
	char **argv;
	size_t argc;
	size_t parent;	/* index, or DEPS_NONE */
	size_t owner;	/* the process whose command this process's accesses are */
	size_t command; /* index of its command, DEPS_NONE until it accesses a file */
	unsigned depth;
};

struct deps_file {
	char *path;
	bool temporary;
	size_t creator;	    /* process that made the current file, DEPS_NONE if it was there */
	unsigned removals;  /* times it was created in the run and removed */
	size_t last_writer; /* command, DEPS_NONE if none */
	size_t *readers, nreaders; /* commands, in order of first read (after deps_graph_finish) */
	size_t *writers, nwriters;
};

struct deps_command {
	size_t process; /* the process that leads it (its owner) */
	bool compiler;	/* its process is a compiler driver */
	size_t *inputs, ninputs; /* files, in order of first access (after deps_graph_finish) */
	size_t *outputs, noutputs;
};

struct deps_graph {
	struct deps_process *processes; /* sorted by id once linked */
	size_t nprocesses, processes_cap;
	struct deps_file *files;
	size_t nfiles, files_cap;
	struct deps_command *commands;
	size_t ncommands, commands_cap;
	/* private */
	size_t *file_slots, file_mask;			   /* path hash -> file index + 1 */
	uint64_t *edge_slots, edge_mask, nedges, edges_cap; /* (command, file, role) set */
	uint64_t *edges;				   /* in order of first access */
	unsigned *file_mark, *command_mark, mark;	   /* deps_graph_inputs' visits */
	bool linked, finished;
	int64_t unattributed; /* accesses of a process the lineage does not know */
};

void deps_graph_init(struct deps_graph *g);
void deps_graph_free(struct deps_graph *g);

/* Adds a process. 0, or -1 (out of memory). */
int deps_graph_add_process(struct deps_graph *g, const struct deps_process_info *info);

/*
 * Once every process is in: resolves parents and owners. 0, or -1 with a
 * message in err (two processes with one id, parents in a cycle, memory).
 */
int deps_graph_link(struct deps_graph *g, char *err, size_t err_size);

/* The index of the process with this id, or DEPS_NONE. After deps_graph_link. */
size_t deps_graph_process_index(const struct deps_graph *g, int64_t id);

/*
 * One access by process PROCESS_ID (as in processes.id), in seq order; path2
 * for DEPS_RENAME and DEPS_LINK. An access by a process the lineage does not
 * name is counted in g->unattributed. 0, or -1 (out of memory).
 */
int deps_graph_access(struct deps_graph *g, int64_t process_id, enum deps_access access,
		      const char *path, const char *path2);

/* After the last access: fills the readers, writers, inputs and outputs. 0 or -1 (memory). */
int deps_graph_finish(struct deps_graph *g);

/* The file with this path, or DEPS_NONE. */
size_t deps_graph_file(const struct deps_graph *g, const char *path);

/*
 * Every file made, transitively, from FILE (readers' outputs, their
 * readers' outputs, ...), temporaries left out; FILE itself only if it is
 * remade from itself. *out (malloc'd, the caller frees it) holds file
 * indexes, sorted by path. 0, or -1 (memory).
 */
int deps_graph_impact(const struct deps_graph *g, size_t file, size_t **out, size_t *count);

/*
 * What COMMAND's outputs are made from: its inputs, and through each input
 * that is a temporary, what the temporary's makers read (recursively), so
 * that `mv x.Tpo x.Po` has x.c and its headers. Temporaries left out. *out
 * (malloc'd) holds file indexes in order of first access. 0 or -1 (memory).
 */
int deps_graph_inputs(struct deps_graph *g, size_t command, size_t **out, size_t *count);

/* Makes room for NEED items of ITEM bytes in *array (of *cap). false: out of memory, *array kept. */
bool deps_grow(void **array, size_t *cap, size_t need, size_t item);

/* Whether a program name (a path or a base name) is a C/C++ compiler driver. */
bool deps_is_compiler(const char *program);

/*
 * Parses processes.argv, a JSON array of strings, into *argv (malloc'd
 * strings, *argc of them; free with deps_free_argv even on failure). NULL,
 * or what is wrong. A string holding a NUL (\u0000) is refused: no
 * argument can.
 */
const char *deps_parse_argv(const char *text, char ***argv, size_t *argc);
void deps_free_argv(char **argv, size_t argc);

/*
 * A command line for people: the program's base name and the arguments,
 * quoted where the shell would need it, at most MAX bytes. Over that, what
 * says least goes first, each run of it shown as "…": the options -I, -D,
 * -W, -f, -M...; then every option but -o, -c, -S and -E; then the
 * directories of the operands; then the end is cut with "…". Returns buf.
 */
char *deps_command_line(const char *const *argv, size_t argc, size_t max, char *buf,
			size_t size);

#endif
