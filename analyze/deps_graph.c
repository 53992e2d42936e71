/*
 * deps_graph.c — the build graph (see deps.h): processes, commands, files
 * and the edges command -> file (read) and command -> file (made).
 */
#include "analyze/deps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROLE_INPUT 0
#define ROLE_OUTPUT 1
/* A name made and removed this often is a scratch name (configure run as the root). */
#define SCRATCH_REMOVALS 3

static char *copy(const char *s)
{
	return s ? strdup(s) : NULL;
}

bool deps_grow(void **array, size_t *cap, size_t need, size_t item)
{
	if (need <= *cap)
		return true;
	size_t cap2 = *cap ? *cap * 2 : 64;
	while (cap2 < need)
		cap2 *= 2;
	void *bigger = realloc(*array, cap2 * item);
	if (!bigger)
		return false;
	*array = bigger;
	*cap = cap2;
	return true;
}

void deps_graph_init(struct deps_graph *g)
{
	memset(g, 0, sizeof(*g));
}

void deps_graph_free(struct deps_graph *g)
{
	for (size_t i = 0; i < g->nprocesses; i++) {
		struct deps_process *p = &g->processes[i];
		free(p->exe);
		free(p->cwd);
		for (size_t a = 0; a < p->argc; a++)
			free(p->argv[a]);
		free(p->argv);
	}
	for (size_t i = 0; i < g->nfiles; i++) {
		free(g->files[i].path);
		free(g->files[i].readers);
		free(g->files[i].writers);
	}
	for (size_t i = 0; i < g->ncommands; i++) {
		free(g->commands[i].inputs);
		free(g->commands[i].outputs);
	}
	free(g->processes);
	free(g->files);
	free(g->commands);
	free(g->file_slots);
	free(g->edge_slots);
	free(g->edges);
	free(g->file_mark);
	free(g->command_mark);
	deps_graph_init(g);
}

int deps_graph_add_process(struct deps_graph *g, const struct deps_process_info *info)
{
	if (!deps_grow((void **)&g->processes, &g->processes_cap, g->nprocesses + 1,
		  sizeof(*g->processes)))
		return -1;
	struct deps_process p = {
		.id = info->id,
		.parent_id = info->parent_id,
		.pid = info->pid,
		.root = info->root,
		.exe = copy(info->exe),
		.cwd = copy(info->cwd),
		.parent = DEPS_NONE,
		.owner = DEPS_NONE,
		.command = DEPS_NONE,
	};
	bool ok = (!info->exe || p.exe) && (!info->cwd || p.cwd);
	if (ok && info->argv) {
		p.argv = calloc(info->argc + 1, sizeof(*p.argv));
		ok = p.argv != NULL;
		for (size_t a = 0; ok && a < info->argc; a++) {
			p.argv[a] = strdup(info->argv[a]);
			ok = p.argv[a] != NULL;
			p.argc = a + 1;
		}
	}
	g->processes[g->nprocesses++] = p; /* freed with the graph even if incomplete */
	return ok ? 0 : -1;
}

static int by_id(const void *a, const void *b)
{
	const struct deps_process *p = a, *q = b;
	return (p->id > q->id) - (p->id < q->id);
}

size_t deps_graph_process_index(const struct deps_graph *g, int64_t id)
{
	size_t lo = 0, hi = g->nprocesses;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (g->processes[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < g->nprocesses && g->processes[lo].id == id ? lo : DEPS_NONE;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');
	return slash ? slash + 1 : path;
}

bool deps_is_compiler(const char *program)
{
	static const char *const drivers[] = {"cc", "c++", "gcc", "g++", "clang", "clang++",
					      "c89", "c99"};
	const char *name = base_name(program);
	size_t len = strlen(name);
	/* gcc-12, clang-16, x86_64-linux-gnu-gcc-12.2: the version goes */
	const char *dash = strrchr(name, '-');
	if (dash && dash[1] && strspn(dash + 1, "0123456789.") == strlen(dash + 1))
		len = (size_t)(dash - name);
	for (size_t i = 0; i < sizeof(drivers) / sizeof(drivers[0]); i++) {
		size_t n = strlen(drivers[i]);
		/* the name itself, or a cross compiler's prefix-gcc */
		if (len >= n && strncmp(name + len - n, drivers[i], n) == 0 &&
		    (len == n || (len > n + 1 && name[len - n - 1] == '-')))
			return true;
	}
	return false;
}

/* Whether what P's children do is part of P's command. */
static bool owns_children(const struct deps_process *p)
{
	const char *names[2] = {p->argc ? p->argv[0] : NULL, p->exe};
	for (int i = 0; i < 2; i++) {
		if (!names[i])
			continue;
		const char *name = base_name(names[i]);
		if (deps_is_compiler(name) || strcmp(name, "collect2") == 0 ||
		    strcmp(name, "lto-wrapper") == 0)
			return true;
	}
	return false;
}

int deps_graph_link(struct deps_graph *g, char *err, size_t err_size)
{
	if (g->nprocesses > 0)
		qsort(g->processes, g->nprocesses, sizeof(*g->processes), by_id);
	for (size_t i = 0; i < g->nprocesses; i++) {
		struct deps_process *p = &g->processes[i];
		if (i > 0 && p[-1].id == p->id) {
			snprintf(err, err_size, "two processes have the id %lld", (long long)p->id);
			return -1;
		}
		if (p->parent_id != 0) {
			p->parent = deps_graph_process_index(g, p->parent_id);
			if (p->parent == DEPS_NONE) {
				snprintf(err, err_size,
					 "process %lld names a parent %lld that is not in the trace",
					 (long long)p->id, (long long)p->parent_id);
				return -1;
			}
		}
	}
	/*
	 * Depths and owners, each process once (a hostile trace may chain
	 * 100,000 processes): walk up to a process already done, then fill in
	 * downwards. A walk that meets itself is a cycle.
	 */
	size_t *path = malloc((g->nprocesses + 1) * sizeof(*path));
	unsigned char *state = calloc(g->nprocesses + 1, 1); /* 0 new, 1 on the walk, 2 done */
	if (!path || !state) {
		free(path);
		free(state);
		snprintf(err, err_size, "out of memory");
		return -1;
	}
	int rc = 0;
	for (size_t i = 0; rc == 0 && i < g->nprocesses; i++) {
		size_t n = 0, q = i;
		while (q != DEPS_NONE && state[q] != 2) {
			if (state[q] == 1) {
				snprintf(err, err_size, "the parents of process %lld form a cycle",
					 (long long)g->processes[i].id);
				rc = -1;
				break;
			}
			state[q] = 1;
			path[n++] = q;
			q = g->processes[q].parent;
		}
		while (rc == 0 && n > 0) { /* from the top down: the parent is done */
			struct deps_process *p = &g->processes[path[--n]];
			const struct deps_process *parent =
				p->parent == DEPS_NONE ? NULL : &g->processes[p->parent];
			p->depth = parent ? parent->depth + 1 : 0;
			p->owner = parent && owns_children(parent) ? parent->owner : path[n];
			state[path[n]] = 2;
		}
	}
	free(path);
	free(state);
	if (rc != 0)
		return -1;
	g->linked = true;
	return 0;
}

/* ---- files: a hash table of paths ---- */

static uint64_t hash_path(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

size_t deps_graph_file(const struct deps_graph *g, const char *path)
{
	if (!g->file_slots)
		return DEPS_NONE;
	for (size_t i = hash_path(path) & g->file_mask;; i = (i + 1) & g->file_mask) {
		size_t slot = g->file_slots[i];
		if (slot == 0)
			return DEPS_NONE;
		if (strcmp(g->files[slot - 1].path, path) == 0)
			return slot - 1;
	}
}

static int rehash_files(struct deps_graph *g, size_t slots)
{
	size_t *table = calloc(slots, sizeof(*table));
	if (!table)
		return -1;
	for (size_t f = 0; f < g->nfiles; f++) {
		size_t i = hash_path(g->files[f].path) & (slots - 1);
		while (table[i])
			i = (i + 1) & (slots - 1);
		table[i] = f + 1;
	}
	free(g->file_slots);
	g->file_slots = table;
	g->file_mask = slots - 1;
	return 0;
}

/* The file of PATH, added if new; DEPS_NONE if out of memory. */
static size_t intern_file(struct deps_graph *g, const char *path)
{
	size_t found = deps_graph_file(g, path);
	if (found != DEPS_NONE)
		return found;
	if ((g->nfiles + 1) * 2 > (g->file_slots ? g->file_mask + 1 : 0) &&
	    rehash_files(g, g->file_slots ? (g->file_mask + 1) * 2 : 1024) != 0)
		return DEPS_NONE;
	if (!deps_grow((void **)&g->files, &g->files_cap, g->nfiles + 1, sizeof(*g->files)))
		return DEPS_NONE;
	char *copied = strdup(path);
	if (!copied)
		return DEPS_NONE;
	g->files[g->nfiles] = (struct deps_file){
		.path = copied, .creator = DEPS_NONE, .last_writer = DEPS_NONE};
	size_t i = hash_path(path) & g->file_mask;
	while (g->file_slots[i])
		i = (i + 1) & g->file_mask;
	g->file_slots[i] = g->nfiles + 1;
	return g->nfiles++;
}

/* ---- edges: a set of (command, file, role) ---- */

static uint64_t edge_key(size_t command, size_t file, int role)
{
	return ((uint64_t)command << 33 | (uint64_t)file << 1 | (uint64_t)role) + 1;
}

static uint64_t hash_edge(uint64_t key)
{
	key ^= key >> 33;
	key *= 0xff51afd7ed558ccdULL;
	return key ^ (key >> 33);
}

static bool has_edge(const struct deps_graph *g, uint64_t key)
{
	if (!g->edge_slots)
		return false;
	for (uint64_t i = hash_edge(key) & g->edge_mask;; i = (i + 1) & g->edge_mask) {
		if (g->edge_slots[i] == key)
			return true;
		if (g->edge_slots[i] == 0)
			return false;
	}
}

static int add_edge(struct deps_graph *g, size_t command, size_t file, int role)
{
	uint64_t key = edge_key(command, file, role);
	if (has_edge(g, key))
		return 0;
	if ((g->nedges + 1) * 2 > (g->edge_slots ? g->edge_mask + 1 : 0)) {
		uint64_t slots = g->edge_slots ? (g->edge_mask + 1) * 2 : 4096;
		uint64_t *table = calloc(slots, sizeof(*table));
		if (!table)
			return -1;
		for (uint64_t e = 0; e < g->nedges; e++) {
			uint64_t i = hash_edge(g->edges[e]) & (slots - 1);
			while (table[i])
				i = (i + 1) & (slots - 1);
			table[i] = g->edges[e];
		}
		free(g->edge_slots);
		g->edge_slots = table;
		g->edge_mask = slots - 1;
	}
	size_t cap = g->edges_cap;
	if (!deps_grow((void **)&g->edges, &cap, g->nedges + 1, sizeof(*g->edges)))
		return -1;
	g->edges_cap = cap;
	g->edges[g->nedges++] = key;
	uint64_t i = hash_edge(key) & g->edge_mask;
	while (g->edge_slots[i])
		i = (i + 1) & g->edge_mask;
	g->edge_slots[i] = key;
	return 0;
}

/* ---- accesses ---- */

static size_t command_of(struct deps_graph *g, size_t process)
{
	size_t owner = g->processes[process].owner;
	struct deps_process *p = &g->processes[owner];
	if (p->command != DEPS_NONE)
		return p->command;
	if (!deps_grow((void **)&g->commands, &g->commands_cap, g->ncommands + 1, sizeof(*g->commands)))
		return DEPS_NONE;
	const char *program = p->argc ? p->argv[0] : p->exe;
	g->commands[g->ncommands] = (struct deps_command){
		.process = owner,
		.compiler = (program && deps_is_compiler(program)) ||
			    (p->exe && deps_is_compiler(p->exe)),
	};
	p->command = g->ncommands;
	return g->ncommands++;
}

/* The nearest common ancestor of processes A and B (either one itself), or DEPS_NONE. */
static size_t common_ancestor(const struct deps_graph *g, size_t a, size_t b)
{
	while (a != DEPS_NONE && b != DEPS_NONE && a != b) {
		if (g->processes[a].depth >= g->processes[b].depth)
			a = g->processes[a].parent;
		else
			b = g->processes[b].parent;
	}
	return a == b ? a : DEPS_NONE;
}

/* FILE, made by file->creator, is removed by process REMOVER. */
static void removed(struct deps_graph *g, struct deps_file *file, size_t remover)
{
	if (file->creator == DEPS_NONE)
		return; /* there before the run (or made by someone unknown): a real removal */
	size_t ancestor = common_ancestor(g, file->creator, remover);
	if (g->processes[file->creator].owner == g->processes[remover].owner ||
	    (ancestor != DEPS_NONE && !g->processes[ancestor].root &&
	     g->processes[ancestor].parent != DEPS_NONE) ||
	    ++file->removals >= SCRATCH_REMOVALS)
		file->temporary = true;
	file->creator = DEPS_NONE;
}

/* COMMAND read FILE: an input, unless it is reading what it made itself. */
static int read_file(struct deps_graph *g, size_t command, size_t file)
{
	if (has_edge(g, edge_key(command, file, ROLE_OUTPUT)))
		return 0;
	return add_edge(g, command, file, ROLE_INPUT);
}

static int wrote_file(struct deps_graph *g, size_t command, size_t file)
{
	g->files[file].last_writer = command;
	return add_edge(g, command, file, ROLE_OUTPUT);
}

int deps_graph_access(struct deps_graph *g, int64_t process_id, enum deps_access access,
		      const char *path, const char *path2)
{
	size_t process = deps_graph_process_index(g, process_id);
	if (process == DEPS_NONE || !g->linked) {
		g->unattributed++;
		return 0;
	}
	size_t command = command_of(g, process);
	size_t file = intern_file(g, path);
	if (command == DEPS_NONE || file == DEPS_NONE)
		return -1;
	size_t file2 = DEPS_NONE;
	if (access == DEPS_RENAME || access == DEPS_LINK) {
		if (!path2) /* a rename without a target: nothing moved */
			return 0;
		file2 = intern_file(g, path2);
		if (file2 == DEPS_NONE)
			return -1;
	}
	switch (access) {
	case DEPS_READ: return read_file(g, command, file);
	case DEPS_WRITE: return wrote_file(g, command, file);
	case DEPS_CREATE:
		if (g->files[file].creator != DEPS_NONE) /* made again over itself */
			removed(g, &g->files[file], process);
		g->files[file].creator = process;
		return wrote_file(g, command, file);
	case DEPS_REMOVE: removed(g, &g->files[file], process); return 0;
	case DEPS_RENAME:
		if (file2 == file)
			return 0;
		if (read_file(g, command, file) != 0 || wrote_file(g, command, file2) != 0)
			return -1;
		if (g->files[file2].creator != DEPS_NONE) /* replaced */
			removed(g, &g->files[file2], process);
		removed(g, &g->files[file], process);
		g->files[file2].creator = process;
		return 0;
	case DEPS_LINK:
		if (read_file(g, command, file) != 0 || wrote_file(g, command, file2) != 0)
			return -1;
		g->files[file2].creator = process;
		return 0;
	}
	return 0;
}

/* Room was made before: finish counts first. */
static void append(size_t *array, size_t *count, size_t value)
{
	array[(*count)++] = value;
}

int deps_graph_finish(struct deps_graph *g)
{
	/* count, allocate, fill: in order of first access */
	size_t *file_in = calloc(g->nfiles + 1, sizeof(size_t));
	size_t *file_out = calloc(g->nfiles + 1, sizeof(size_t));
	size_t *cmd_in = calloc(g->ncommands + 1, sizeof(size_t));
	size_t *cmd_out = calloc(g->ncommands + 1, sizeof(size_t));
	bool ok = file_in && file_out && cmd_in && cmd_out;
	for (uint64_t e = 0; ok && e < g->nedges; e++) {
		uint64_t key = g->edges[e] - 1;
		size_t command = (size_t)(key >> 33), file = (size_t)((key >> 1) & 0xffffffffULL);
		if (key & 1) {
			file_out[file]++;
			cmd_out[command]++;
		} else {
			file_in[file]++;
			cmd_in[command]++;
		}
	}
	for (size_t f = 0; ok && f < g->nfiles; f++) {
		struct deps_file *file = &g->files[f];
		file->readers = malloc((file_in[f] + 1) * sizeof(size_t));
		file->writers = malloc((file_out[f] + 1) * sizeof(size_t));
		ok = file->readers && file->writers;
	}
	for (size_t c = 0; ok && c < g->ncommands; c++) {
		struct deps_command *command = &g->commands[c];
		command->inputs = malloc((cmd_in[c] + 1) * sizeof(size_t));
		command->outputs = malloc((cmd_out[c] + 1) * sizeof(size_t));
		ok = command->inputs && command->outputs;
	}
	for (uint64_t e = 0; ok && e < g->nedges; e++) {
		uint64_t key = g->edges[e] - 1;
		size_t c = (size_t)(key >> 33), f = (size_t)((key >> 1) & 0xffffffffULL);
		struct deps_file *file = &g->files[f];
		struct deps_command *command = &g->commands[c];
		if (key & 1) {
			append(file->writers, &file->nwriters, c);
			append(command->outputs, &command->noutputs, f);
		} else {
			append(file->readers, &file->nreaders, c);
			append(command->inputs, &command->ninputs, f);
		}
	}
	free(file_in);
	free(file_out);
	free(cmd_in);
	free(cmd_out);
	g->finished = ok;
	return ok ? 0 : -1;
}

static int by_path(const void *a, const void *b, void *g)
{
	const struct deps_file *files = ((const struct deps_graph *)g)->files;
	return strcmp(files[*(const size_t *)a].path, files[*(const size_t *)b].path);
}

int deps_graph_impact(const struct deps_graph *g, size_t file, size_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	bool *seen = calloc(g->nfiles + 1, sizeof(*seen));
	size_t *queue = malloc((g->nfiles + 1) * sizeof(*queue));
	size_t *result = malloc((g->nfiles + 1) * sizeof(*result));
	if (!seen || !queue || !result) {
		free(seen);
		free(queue);
		free(result);
		return -1;
	}
	size_t head = 0, tail = 0, n = 0;
	queue[tail++] = file;
	while (head < tail) {
		const struct deps_file *f = &g->files[queue[head++]];
		for (size_t r = 0; r < f->nreaders; r++) {
			const struct deps_command *c = &g->commands[f->readers[r]];
			for (size_t o = 0; o < c->noutputs; o++) {
				size_t made = c->outputs[o];
				if (seen[made])
					continue;
				seen[made] = true;
				queue[tail++] = made;
				if (!g->files[made].temporary)
					result[n++] = made;
			}
		}
	}
	free(seen);
	free(queue);
	qsort_r(result, n, sizeof(*result), by_path, (void *)g);
	*out = result;
	*count = n;
	return 0;
}

int deps_graph_inputs(struct deps_graph *g, size_t command, size_t **out, size_t *count)
{
	*out = NULL;
	*count = 0;
	if (!g->file_mark) {
		g->file_mark = calloc(g->nfiles + 1, sizeof(unsigned));
		g->command_mark = calloc(g->ncommands + 1, sizeof(unsigned));
		if (!g->file_mark || !g->command_mark)
			return -1;
	}
	if (++g->mark == 0) { /* wrapped: start the marks afresh */
		memset(g->file_mark, 0, (g->nfiles + 1) * sizeof(unsigned));
		memset(g->command_mark, 0, (g->ncommands + 1) * sizeof(unsigned));
		g->mark = 1;
	}
	size_t *stack = malloc((g->ncommands + 1) * sizeof(*stack)), depth = 0;
	size_t *files = NULL, n = 0, cap = 0;
	if (!stack)
		return -1;
	stack[depth++] = command;
	g->command_mark[command] = g->mark;
	while (depth > 0) {
		const struct deps_command *c = &g->commands[stack[--depth]];
		for (size_t i = 0; i < c->ninputs; i++) {
			const struct deps_file *f = &g->files[c->inputs[i]];
			if (!f->temporary) {
				if (g->file_mark[c->inputs[i]] == g->mark)
					continue;
				g->file_mark[c->inputs[i]] = g->mark;
				if (!deps_grow((void **)&files, &cap, n + 1, sizeof(*files))) {
					free(stack);
					free(files);
					return -1;
				}
				files[n++] = c->inputs[i];
				continue;
			}
			for (size_t w = 0; w < f->nwriters; w++)
				if (g->command_mark[f->writers[w]] != g->mark) {
					g->command_mark[f->writers[w]] = g->mark;
					stack[depth++] = f->writers[w];
				}
		}
	}
	free(stack);
	*out = files;
	*count = n;
	return 0;
}

/* ---- command lines ---- */

/* Appends the UTF-8 of code point CP. */
static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xc0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xe0 | cp >> 12);
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (char)(0xf0 | cp >> 18);
	out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static bool hex4(const char *s, uint32_t *value)
{
	*value = 0;
	for (int i = 0; i < 4; i++) {
		char c = s[i];
		int digit = c >= '0' && c <= '9'   ? c - '0'
			    : c >= 'a' && c <= 'f' ? c - 'a' + 10
			    : c >= 'A' && c <= 'F' ? c - 'A' + 10
						   : -1;
		if (digit < 0)
			return false;
		*value = *value << 4 | (uint32_t)digit;
	}
	return true;
}

const char *deps_parse_argv(const char *text, char ***argv, size_t *argc)
{
	const char *s = text;
	size_t cap = 0;
	*argv = NULL;
	*argc = 0;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (*s++ != '[')
		return "argv is no JSON array";
	for (bool first = true;; first = false) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s == ']' && first) {
			s++;
			break;
		}
		if (*s != '"')
			return "argv holds something other than strings";
		s++;
		/* the string's bytes up to its closing quote: its UTF-8 is no longer */
		size_t n = 0;
		while (s[n] && s[n] != '"')
			n += s[n] == '\\' && s[n + 1] ? 2 : 1;
		char *arg = malloc(n + 1), *w = arg;
		if (!arg)
			return "out of memory";
		if (*argc + 1 >= cap) {
			cap = cap ? cap * 2 : 8;
			char **bigger = realloc(*argv, cap * sizeof(**argv));
			if (!bigger) {
				free(arg);
				return "out of memory";
			}
			*argv = bigger;
		}
		(*argv)[(*argc)++] = arg;
		while (*s != '"') {
			unsigned char c = (unsigned char)*s;
			if (c == '\0' || c < 0x20)
				return "argv holds a malformed string";
			if (c != '\\') {
				*w++ = *s++;
				continue;
			}
			s++;
			const char *simple = strchr("\"\\/bfnrt", *s);
			if (*s && simple) {
				*w++ = "\"\\/\b\f\n\r\t"[simple - "\"\\/bfnrt"];
				s++;
				continue;
			}
			uint32_t cp, low;
			if (*s != 'u' || !hex4(s + 1, &cp))
				return "argv holds a malformed escape";
			s += 5;
			if (cp >= 0xd800 && cp < 0xdc00) {
				if (s[0] != '\\' || s[1] != 'u' || !hex4(s + 2, &low) || low < 0xdc00 ||
				    low >= 0xe000)
					return "argv holds a lone surrogate";
				cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
				s += 6;
			} else if (cp >= 0xdc00 && cp < 0xe000) {
				return "argv holds a lone surrogate";
			}
			if (cp == 0)
				return "argv holds a NUL character";
			w += put_utf8(w, cp); /* \uXXXX is 6 bytes, its UTF-8 at most 4 */
		}
		*w = '\0';
		s++;
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
			s++;
		if (*s == ']') {
			s++;
			break;
		}
		if (*s++ != ',')
			return "argv is a malformed JSON array";
	}
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	return *s ? "argv has bytes after its array" : NULL;
}

void deps_free_argv(char **argv, size_t argc)
{
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
}



/*
 * How much of a command line to leave out, from nothing to most: the
 * options that say least (-I, -D, -W, -f, -M...), then every option but
 * -o, -c, -S and -E, then the directories of the operands too.
 */
enum shortening { SHOW_ALL, SKIP_NOISE, SKIP_OPTIONS, BASE_NAMES };

/* Options whose value is the next argument: left out with it. */
static bool takes_argument(const char *arg)
{
	static const char *const options[] = {
		"-I",	     "-D",	  "-U",		 "-MF",	    "-MT",	     "-MQ",
		"-include",  "-isystem", "-iquote",	 "-idirafter", "-imultiarch", "-dumpbase",
		"-dumpbase-ext", "-auxbase", "-plugin", "-dynamic-linker", "-m", "-z",
		"-x",	     "-L",	  "-T",		 "-e",	    "--param",	     "-Xlinker"};
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (strcmp(arg, options[i]) == 0)
			return true;
	return false;
}

/* How many arguments from ARG on SHORTENING leaves out (0: ARG is shown). */
static size_t left_out(const char *arg, bool has_next, enum shortening shortening)
{
	if (shortening == SHOW_ALL || arg[0] != '-' || arg[1] == '\0')
		return 0;
	if (shortening == SKIP_NOISE) {
		static const char *const noise_with_argument[] = {
			"-I", "-D", "-U", "-MF", "-MT", "-MQ", "-include", "-isystem", "-iquote",
			"-idirafter"};
		for (size_t i = 0; i < sizeof(noise_with_argument) / sizeof(noise_with_argument[0]);
		     i++)
			if (strcmp(arg, noise_with_argument[i]) == 0)
				return has_next ? 2 : 1;
		return strchr("IDUWfgOmM", arg[1]) && strcmp(arg, "-M") != 0 &&
			       strcmp(arg, "-MM") != 0
			       ? 1
			       : 0;
	}
	if (strcmp(arg, "-o") == 0 || strcmp(arg, "-c") == 0 || strcmp(arg, "-S") == 0 ||
	    strcmp(arg, "-E") == 0)
		return 0;
	return takes_argument(arg) && has_next ? 2 : 1;
}

/* Appends TEXT at *len, counting what did not fit too. */
static void emit(char *buf, size_t size, size_t *len, const char *text, size_t n)
{
	if (*len < size) {
		size_t fit = n < size - *len ? n : size - *len - 1;
		memcpy(buf + *len, text, fit);
		buf[*len + fit] = '\0';
	}
	*len += n;
}

/* Appends ARG to buf (at *len), quoted if the shell needs it. */
static void put_arg(char *buf, size_t size, size_t *len, const char *arg, bool first)
{
	bool plain = *arg != '\0';
	for (const char *s = arg; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=+,:@%",
			    *s))
			plain = false;
	if (!first)
		emit(buf, size, len, " ", 1);
	if (plain) {
		emit(buf, size, len, arg, strlen(arg));
		return;
	}
	emit(buf, size, len, "'", 1);
	for (const char *s = arg; *s; s++) {
		if (*s == '\'')
			emit(buf, size, len, "'\\''", 4);
		else if (*s == '\n')
			emit(buf, size, len, "\\n", 2);
		else
			emit(buf, size, len, s, 1);
	}
	emit(buf, size, len, "'", 1);
}

/* The command line into buf, shortened by SHORTENING; its full length. */
static size_t render_line(const char *const *argv, size_t argc, enum shortening shortening,
			  char *buf, size_t size)
{
	size_t len = 0;
	bool skipped = false;
	if (size)
		buf[0] = '\0';
	put_arg(buf, size, &len, base_name(argv[0]), true);
	for (size_t a = 1; a < argc; a++) {
		size_t skip = left_out(argv[a], a + 1 < argc, shortening);
		if (skip) {
			if (!skipped)
				emit(buf, size, &len, " …", strlen(" …"));
			skipped = true;
			a += skip - 1;
			continue;
		}
		skipped = false;
		/* -o's value and the operands, by base name at the last stage */
		bool path_like = !strchr(argv[a], ' ');
		put_arg(buf, size, &len,
			shortening == BASE_NAMES && path_like ? base_name(argv[a]) : argv[a], false);
	}
	return len;
}

char *deps_command_line(const char *const *argv, size_t argc, size_t max, char *buf, size_t size)
{
	if (size == 0)
		return buf;
	if (max >= size)
		max = size - 1;
	if (argc == 0 || !argv) {
		snprintf(buf, size, "?");
		return buf;
	}
	size_t len = render_line(argv, argc, SHOW_ALL, buf, size);
	for (int shortening = SKIP_NOISE; len > max && shortening <= BASE_NAMES; shortening++)
		len = render_line(argv, argc, (enum shortening)shortening, buf, size);
	if (len > max && max >= 4) {
		/* cut at a character boundary, leaving room for "…" (3 bytes) */
		size_t cut = max - 3;
		while (cut > 0 && ((unsigned char)buf[cut] & 0xc0) == 0x80)
			cut--;
		memcpy(buf + cut, "…", 4);
	}
	return buf;
}
