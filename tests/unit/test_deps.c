/*
 * test_deps.c — the build graph (analyze/deps.h): commands own their
 * compiler passes, inputs and outputs, temporaries, impact, hostile
 * lineage, and the command lines shown to people.
 */
#include "analyze/deps.h"

#include "tests/unit/check.h"

static void add(struct deps_graph *g, int64_t id, int64_t parent, bool root, const char *cwd,
		const char *const *argv)
{
	size_t argc = 0;
	while (argv && argv[argc])
		argc++;
	struct deps_process_info p = {.id = id,
				      .parent_id = parent,
				      .pid = 1000 + id,
				      .root = root,
				      .exe = argv ? argv[0] : NULL,
				      .cwd = cwd,
				      .argv = argv,
				      .argc = argc};
	CHECK(deps_graph_add_process(g, &p) == 0, "add process %lld", (long long)id);
}

static void access(struct deps_graph *g, int64_t id, enum deps_access a, const char *path,
		   const char *path2)
{
	CHECK(deps_graph_access(g, id, a, path, path2) == 0, "access %s", path);
}

static size_t file(const struct deps_graph *g, const char *path)
{
	size_t f = deps_graph_file(g, path);
	CHECK(f != DEPS_NONE, "no file %s", path);
	return f;
}

/* Whether COMMAND has PATH among its inputs (role 0) or outputs (role 1). */
static bool has(const struct deps_graph *g, size_t command, int role, const char *path)
{
	const struct deps_command *c = &g->commands[command];
	const size_t *files = role ? c->outputs : c->inputs;
	size_t n = role ? c->noutputs : c->ninputs;
	for (size_t i = 0; i < n; i++)
		if (strcmp(g->files[files[i]].path, path) == 0)
			return true;
	return false;
}

static size_t command_of_pid(const struct deps_graph *g, int64_t id)
{
	size_t p = deps_graph_process_index(g, id);
	CHECK(p != DEPS_NONE, "no process %lld", (long long)id);
	return g->processes[g->processes[p].owner].command;
}

/*
 * The shape of a build under a script:
 *   1 sh build.sh (root)
 *     2 sh configure -> 3 cat > conftest.c, 4 gcc conftest.c (5 cc1), 6 rm conftest*
 *     7 make -> 8 sh -c recipe -> 9 gcc -c x.c (10 cc1, 11 as), 12 mv .deps/x.Tpo .deps/x.Po
 *            -> 13 gcc -o prog x.o (14 collect2 -> 15 ld)
 *     16 make distclean -> 17 rm -f x.o prog .deps/x.Po
 */
static void build(struct deps_graph *g)
{
	static const char *const sh[] = {"sh", "build.sh", NULL};
	static const char *const configure[] = {"sh", "configure", NULL};
	static const char *const cat[] = {"cat", NULL};
	static const char *const gcc_conftest[] = {"gcc", "-o", "conftest", "conftest.c", NULL};
	static const char *const cc1[] = {"/usr/libexec/gcc/cc1", "-quiet", NULL};
	static const char *const rm[] = {"rm", "-f", "conftest", "conftest.c", NULL};
	static const char *const make[] = {"make", NULL};
	static const char *const recipe[] = {"sh", "-c", "gcc ...", NULL};
	static const char *const gcc_c[] = {"x86_64-linux-gnu-gcc-12", "-DX=1", "-I.", "-c", "-o", "x.o", "x.c", NULL};
	static const char *const as[] = {"as", "-o", "x.o", NULL};
	static const char *const mv[] = {"mv", "-f", ".deps/x.Tpo", ".deps/x.Po", NULL};
	static const char *const link[] = {"gcc", "-o", "prog", "x.o", NULL};
	static const char *const collect2[] = {"/usr/libexec/gcc/collect2", NULL};
	static const char *const ld[] = {"/usr/bin/ld", NULL};
	static const char *const distclean[] = {"make", "distclean", NULL};
	static const char *const rm2[] = {"rm", "-f", "x.o", "prog", NULL};
	deps_graph_init(g);
	/* added out of order: the graph sorts by id */
	add(g, 17, 16, false, "/w", rm2);
	add(g, 1, 0, true, "/w", sh);
	add(g, 2, 1, false, "/w", configure);
	add(g, 3, 2, false, "/w", cat);
	add(g, 4, 2, false, "/w", gcc_conftest);
	add(g, 5, 4, false, "/w", cc1);
	add(g, 6, 2, false, "/w", rm);
	add(g, 7, 1, false, "/w", make);
	add(g, 8, 7, false, "/w", recipe);
	add(g, 9, 8, false, "/w", gcc_c);
	add(g, 10, 9, false, "/w", cc1);
	add(g, 11, 9, false, "/w", as);
	add(g, 12, 8, false, "/w", mv);
	add(g, 13, 7, false, "/w", link);
	add(g, 14, 13, false, "/w", collect2);
	add(g, 15, 14, false, "/w", ld);
	add(g, 16, 1, false, "/w", distclean);
	char err[256];
	CHECK(deps_graph_link(g, err, sizeof(err)) == 0, "link: %s", err);

	access(g, 1, DEPS_READ, "/build.sh", NULL);
	access(g, 2, DEPS_READ, "/configure", NULL);
	access(g, 3, DEPS_CREATE, "/conftest.c", NULL);
	access(g, 5, DEPS_READ, "/conftest.c", NULL);
	access(g, 4, DEPS_CREATE, "/conftest", NULL);
	access(g, 6, DEPS_REMOVE, "/conftest", NULL);
	access(g, 6, DEPS_REMOVE, "/conftest.c", NULL);
	access(g, 2, DEPS_CREATE, "/config.h", NULL);

	access(g, 7, DEPS_READ, "/Makefile", NULL);
	access(g, 10, DEPS_READ, "/x.c", NULL);
	access(g, 10, DEPS_READ, "/x.h", NULL);
	access(g, 10, DEPS_READ, "/config.h", NULL);
	access(g, 10, DEPS_CREATE, "/.deps/x.Tpo", NULL);
	access(g, 11, DEPS_CREATE, "/x.o", NULL);
	access(g, 11, DEPS_READ, "/x.o", NULL); /* reading what it made: no input */
	access(g, 12, DEPS_RENAME, "/.deps/x.Tpo", "/.deps/x.Po");
	access(g, 15, DEPS_READ, "/x.o", NULL);
	access(g, 15, DEPS_CREATE, "/prog", NULL);
	access(g, 99, DEPS_READ, "/nobody", NULL); /* not in the lineage */

	access(g, 16, DEPS_READ, "/Makefile", NULL);
	access(g, 17, DEPS_REMOVE, "/x.o", NULL);
	access(g, 17, DEPS_REMOVE, "/prog", NULL);
	access(g, 17, DEPS_REMOVE, "/.deps/x.Po", NULL);
	CHECK(deps_graph_finish(g) == 0, "finish");
}

static void test_commands(void)
{
	struct deps_graph g;
	build(&g);
	size_t compile = command_of_pid(&g, 9);
	CHECK(compile != DEPS_NONE && command_of_pid(&g, 10) == compile &&
		      command_of_pid(&g, 11) == compile,
	      "cc1 and as are the gcc command's");
	CHECK(g.commands[compile].compiler, "x86_64-linux-gnu-gcc-12 is a compiler");
	CHECK(g.processes[g.commands[compile].process].pid == 1009, "led by gcc");
	size_t link = command_of_pid(&g, 13);
	CHECK(command_of_pid(&g, 15) == link, "ld under collect2 is the link's");
	CHECK(command_of_pid(&g, 12) != compile, "mv is a command of its own");
	CHECK(has(&g, compile, 0, "/x.c") && has(&g, compile, 0, "/x.h") &&
		      has(&g, compile, 0, "/config.h"),
	      "compile inputs");
	CHECK(!has(&g, compile, 0, "/x.o"), "its own output is no input");
	CHECK(has(&g, compile, 1, "/x.o") && has(&g, compile, 1, "/.deps/x.Tpo"), "compile outputs");
	CHECK(has(&g, link, 0, "/x.o") && has(&g, link, 1, "/prog"), "the link");
	CHECK(g.unattributed == 1, "one access of an unknown process: %lld",
	      (long long)g.unattributed);

	/* temporaries: made and removed within configure, or renamed within a recipe */
	CHECK(g.files[file(&g, "/conftest.c")].temporary, "conftest.c is a temporary");
	CHECK(g.files[file(&g, "/conftest")].temporary, "conftest is a temporary");
	CHECK(g.files[file(&g, "/.deps/x.Tpo")].temporary, "x.Tpo is a temporary");
	/* made by make, removed by make distclean: their common ancestor is the root */
	CHECK(!g.files[file(&g, "/x.o")].temporary, "x.o is no temporary");
	CHECK(!g.files[file(&g, "/prog")].temporary, "prog is no temporary");
	CHECK(!g.files[file(&g, "/.deps/x.Po")].temporary, "x.Po is no temporary");
	CHECK(!g.files[file(&g, "/config.h")].temporary, "config.h is no temporary");

	/* what mv's x.Po is made from: through the temporary x.Tpo, what cc1 read */
	size_t *inputs, n;
	CHECK(deps_graph_inputs(&g, command_of_pid(&g, 12), &inputs, &n) == 0, "inputs");
	CHECK(n == 3 && strcmp(g.files[inputs[0]].path, "/x.c") == 0 &&
		      strcmp(g.files[inputs[1]].path, "/x.h") == 0 &&
		      strcmp(g.files[inputs[2]].path, "/config.h") == 0,
	      "x.Po is made from x.c x.h config.h (%zu files)", n);
	free(inputs);
	CHECK(deps_graph_inputs(&g, link, &inputs, &n) == 0 && n == 1 && inputs[0] == file(&g, "/x.o"),
	      "the link's inputs");
	free(inputs);

	const struct deps_file *h = &g.files[file(&g, "/x.h")];
	CHECK(h->nreaders == 1 && h->readers[0] == compile && h->nwriters == 0, "x.h's readers");
	deps_graph_free(&g);
}

static void test_impact(void)
{
	struct deps_graph g;
	build(&g);
	size_t *out, n;
	CHECK(deps_graph_impact(&g, file(&g, "/x.h"), &out, &n) == 0, "impact");
	/* x.o, prog and, through the temporary x.Tpo, x.Po; sorted by path */
	CHECK(n == 3, "x.h makes 3 files, not %zu", n);
	CHECK(strcmp(g.files[out[0]].path, "/.deps/x.Po") == 0 &&
		      strcmp(g.files[out[1]].path, "/prog") == 0 &&
		      strcmp(g.files[out[2]].path, "/x.o") == 0,
	      "impact of x.h: %s %s %s", g.files[out[0]].path, g.files[out[1]].path,
	      g.files[out[2]].path);
	free(out);
	CHECK(deps_graph_impact(&g, file(&g, "/prog"), &out, &n) == 0 && n == 0, "prog makes nothing");
	free(out);
	deps_graph_free(&g);
}

/* A name made and removed again and again under the root itself is scratch. */
static void test_scratch_names(void)
{
	static const char *const configure[] = {"sh", "configure", NULL};
	static const char *const cat[] = {"cat", NULL};
	static const char *const rm[] = {"rm", NULL};
	struct deps_graph g;
	deps_graph_init(&g);
	add(&g, 1, 0, true, "/", configure);
	for (int i = 0; i < 3; i++) {
		add(&g, 2 + 2 * i, 1, false, "/", cat);
		add(&g, 3 + 2 * i, 1, false, "/", rm);
	}
	add(&g, 20, 1, false, "/", cat);
	add(&g, 21, 1, false, "/", rm);
	char err[256];
	CHECK(deps_graph_link(&g, err, sizeof(err)) == 0, "link: %s", err);
	access(&g, 20, DEPS_CREATE, "/once", NULL);
	access(&g, 21, DEPS_REMOVE, "/once", NULL);
	for (int i = 0; i < 2; i++) {
		access(&g, 2 + 2 * i, DEPS_CREATE, "/conftest.c", NULL);
		access(&g, 3 + 2 * i, DEPS_REMOVE, "/conftest.c", NULL);
	}
	CHECK(deps_graph_finish(&g) == 0, "finish");
	CHECK(!g.files[file(&g, "/conftest.c")].temporary, "twice is not yet scratch");
	CHECK(!g.files[file(&g, "/once")].temporary, "made and removed under the root: kept");
	deps_graph_free(&g);

	deps_graph_init(&g);
	add(&g, 1, 0, true, "/", configure);
	for (int i = 0; i < 3; i++) {
		add(&g, 2 + 2 * i, 1, false, "/", cat);
		add(&g, 3 + 2 * i, 1, false, "/", rm);
	}
	CHECK(deps_graph_link(&g, err, sizeof(err)) == 0, "link: %s", err);
	for (int i = 0; i < 3; i++) {
		access(&g, 2 + 2 * i, DEPS_CREATE, "/conftest.c", NULL);
		access(&g, 3 + 2 * i, DEPS_REMOVE, "/conftest.c", NULL);
	}
	CHECK(deps_graph_finish(&g) == 0, "finish");
	CHECK(g.files[file(&g, "/conftest.c")].temporary, "three times is scratch");
	deps_graph_free(&g);
}

/* Lineage from a hostile trace: duplicate ids, unknown parents, cycles. */
static void test_bad_lineage(void)
{
	static const char *const sh[] = {"sh", NULL};
	struct deps_graph g;
	char err[256];

	deps_graph_init(&g);
	add(&g, 1, 0, true, "/", sh);
	add(&g, 1, 0, false, "/", sh);
	CHECK(deps_graph_link(&g, err, sizeof(err)) != 0 && strstr(err, "two processes"),
	      "duplicate id: %s", err);
	deps_graph_free(&g);

	deps_graph_init(&g);
	add(&g, 1, 7, false, "/", sh);
	CHECK(deps_graph_link(&g, err, sizeof(err)) != 0 && strstr(err, "not in the trace"),
	      "unknown parent: %s", err);
	deps_graph_free(&g);

	deps_graph_init(&g);
	add(&g, 1, 3, false, "/", sh);
	add(&g, 2, 1, false, "/", sh);
	add(&g, 3, 2, false, "/", NULL);
	CHECK(deps_graph_link(&g, err, sizeof(err)) != 0 && strstr(err, "cycle"), "cycle: %s", err);
	deps_graph_free(&g);

	/* a chain of 100,000 compilers (one pass; walking up from each would be 5e9 steps) */
	static const char *const gcc[] = {"gcc", NULL};
	deps_graph_init(&g);
	for (int64_t id = 100000; id >= 1; id--)
		add(&g, id, id - 1, id == 1, "/", gcc);
	CHECK(deps_graph_link(&g, err, sizeof(err)) == 0, "chain: %s", err);
	CHECK(g.processes[99999].depth == 99999 && g.processes[99999].owner == 0, "the chain's owner");
	deps_graph_free(&g);

	/* a process without argv or cwd (gone before it was read) still owns its accesses */
	deps_graph_init(&g);
	add(&g, 1, 0, true, NULL, NULL);
	CHECK(deps_graph_link(&g, err, sizeof(err)) == 0, "link: %s", err);
	access(&g, 1, DEPS_CREATE, "/a", NULL);
	access(&g, 1, DEPS_RENAME, "/a", NULL); /* no target: ignored */
	access(&g, 1, DEPS_RENAME, "/a", "/a");
	CHECK(deps_graph_finish(&g) == 0 && g.ncommands == 1 && g.commands[0].noutputs == 1,
	      "gone process");
	deps_graph_free(&g);
}

static void test_compilers(void)
{
	const char *yes[] = {"gcc", "cc", "/usr/bin/c++", "g++-12", "clang", "clang++-16",
			     "x86_64-linux-gnu-gcc-12", "arm-none-eabi-gcc", "c99"};
	const char *no[] = {"cc1", "gcc-ar", "collect2", "ld", "sh", "ccache", "as", "ncc", "-gcc",
			    "make"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		CHECK(deps_is_compiler(yes[i]), "%s is a compiler", yes[i]);
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
		CHECK(!deps_is_compiler(no[i]), "%s is no compiler", no[i]);
}

static void test_command_line(void)
{
	char buf[128];
	const char *gcc[] = {"/usr/bin/gcc", "-DHAVE_CONFIG_H", "-I.", "-I", "../lib", "-Wall",
			     "-MT", "x.o", "-MD", "-c", "-o", "x.o", "x.c"};
	deps_command_line(gcc, 13, 200, buf, sizeof(buf));
	CHECK(strcmp(buf, "gcc -DHAVE_CONFIG_H -I. -I ../lib -Wall -MT x.o -MD -c -o x.o x.c") == 0,
	      "fits: %s", buf);
	deps_command_line(gcc, 13, 30, buf, sizeof(buf));
	CHECK(strcmp(buf, "gcc … -c -o x.o x.c") == 0, "noise left out: %s", buf);
	const char *sh[] = {"sh", "-c", "echo 'hi' > out; cat a b c d e f g h"};
	deps_command_line(sh, 3, 20, buf, sizeof(buf));
	CHECK(strlen(buf) <= 20 && strncmp(buf, "sh -c 'echo '\\''h", 17) == 0 &&
		      strcmp(buf + strlen(buf) - 3, "…") == 0,
	      "cut with …: %s", buf);
	deps_command_line(NULL, 0, 20, buf, sizeof(buf));
	CHECK(strcmp(buf, "?") == 0, "no argv: %s", buf);
	/* a tiny buffer: cut, terminated, never overrun */
	char small[8];
	deps_command_line(gcc, 13, 100, small, sizeof(small));
	CHECK(strlen(small) < sizeof(small), "small buffer: %s", small);
	/* UTF-8 is cut at a character boundary */
	const char *utf[] = {"echo", "ééééééééééé"};
	deps_command_line(utf, 2, 12, buf, sizeof(buf));
	CHECK(strlen(buf) <= 12, "utf-8 cut to 12 bytes: %s", buf);
	for (const unsigned char *s = (const unsigned char *)buf; *s; s++)
		CHECK((*s & 0xe0) != 0xc0 || (s[1] & 0xc0) == 0x80, "utf-8 cut in a character: %s",
		      buf);
}

/* Random bytes flipped in a JSON argv: a result or a refusal, never a crash (under ASan). */
static void test_parse_argv_mutations(void)
{
	const char *seed = "[\"sh\", \"-c\", \"echo \\\"a\\\\b\\\" \\u00e9\\ud83d\\ude00 > x\"]";
	const char alphabet[] = "[]\",\\u0123456789abcdefxnrt \x01\xc3\xa9";
	size_t len = strlen(seed);
	char text[128];
	uint64_t state = 42;
	for (int round = 0; round < 20000; round++) {
		memcpy(text, seed, len + 1);
		for (int flips = 1 + round % 4; flips > 0; flips--) {
			state = state * 6364136223846793005ULL + 1442695040888963407ULL;
			size_t at = (size_t)(state >> 33) % len;
			text[at] = alphabet[(state >> 20) % (sizeof(alphabet) - 1)];
		}
		if (round % 7 == 0) /* cut short too */
			text[(size_t)(state >> 40) % len] = '\0';
		char **argv;
		size_t argc;
		const char *bad = deps_parse_argv(text, &argv, &argc);
		for (size_t i = 0; !bad && i < argc; i++)
			CHECK(strlen(argv[i]) <= len, "an argument longer than its text");
		deps_free_argv(argv, argc);
	}
}

static void test_parse_argv(void)
{
	char **argv;
	size_t argc;
	CHECK(deps_parse_argv(" [ \"cc\" , \"a b\\n\\\"q\\\"\", \"\\u00e9\\ud83d\\ude00\" ] ", &argv,
			      &argc) == NULL &&
		      argc == 3 && strcmp(argv[0], "cc") == 0 && strcmp(argv[1], "a b\n\"q\"") == 0 &&
		      strcmp(argv[2], "é😀") == 0,
	      "a JSON argv");
	deps_free_argv(argv, argc);
	/* escaped quotes: the string is longer than up to its first quote */
	CHECK(deps_parse_argv("[\"sh\", \"echo \\\"a\\\" \\\"b\\\" \\\"c\\\" \\\"d\\\" > \\\"out\\\"\"]",
			      &argv, &argc) == NULL &&
		      argc == 2 && strcmp(argv[1], "echo \"a\" \"b\" \"c\" \"d\" > \"out\"") == 0,
	      "escaped quotes: %s", argc == 2 ? argv[1] : "?");
	deps_free_argv(argv, argc);
	CHECK(deps_parse_argv("[]", &argv, &argc) == NULL && argc == 0, "empty argv");
	deps_free_argv(argv, argc);
	const char *bad[] = {"",	  "[",	      "[\"a\"",   "[\"a\",]", "[1]",	 "{}",
			     "[\"a\"] x", "[\"\\x\"]", "[\"\\u00\"]", "[\"\\ud800\"]", "[\"\\u0000\"]",
			     "[\"a\nb\"]", "[\"a\" \"b\"]"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(deps_parse_argv(bad[i], &argv, &argc) != NULL, "refused: %s", bad[i]);
		deps_free_argv(argv, argc);
	}
}

int main(void)
{
	test_parse_argv();
	test_parse_argv_mutations();
	test_commands();
	test_impact();
	test_scratch_names();
	test_bad_lineage();
	test_compilers();
	test_command_line();
	printf("test_deps: ok\n");
	return 0;
}
