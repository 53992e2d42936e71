#!/usr/bin/env python3
"""check-build-graph.py — checks `tracefs deps` of an autotools build against
the build itself.

  check-build-graph.py COMPILE_COMMANDS DEPS.MK TREE KEPT BUILT

COMPILE_COMMANDS and DEPS.MK: `tracefs deps --format compile-commands` and
`--format make` of the traced build, which ran in TREE; KEPT: the same
build's tree made natively and kept before `make distclean` (its
.deps/*.Po are gcc's own -MD output); BUILT: the traced build's file
listing after make (`./path type` lines).

Checks: the database has one entry per object built, with "-c", its "-o"
and its source among the arguments, and no configure probe; every object's
recorded inputs within the tree equal those gcc -MD wrote; for a sample,
equal those `gcc -M` lists now with the same arguments. Dependencies are
compared within the source tree: the trace sees nothing else. -M, not -MM:
-MM leaves out headers that system headers include, and gnulib's
replacement headers (lib/stddef.h ...) are just that.
"""
import json
import os
import subprocess
import sys

ccdb, depfile, tree, kept, built = sys.argv[1:]
entries = json.load(open(ccdb))

objects = sorted(line.split()[0][2:] for line in open(built) if line.split()[0].endswith(".o"))
outputs = sorted(os.path.relpath(e["output"], tree) for e in entries)
if outputs != objects:
    sys.exit("compile_commands outputs differ from the objects built:\n  only in the database: %s\n"
             "  only built: %s" % (sorted(set(outputs) - set(objects)), sorted(set(objects) - set(outputs))))
if len({e["file"] for e in entries}) != len(entries):
    sys.exit("a source file has two entries")
for e in entries:
    args = e["arguments"]
    if "-c" not in args or "-o" not in args or "conftest" in e["file"]:
        sys.exit("not a compile of the build: %s" % e)
    if args[args.index("-o") + 1] != os.path.relpath(e["output"], e["directory"]):
        sys.exit("output is not -o's: %s" % e)
    if os.path.relpath(e["file"], e["directory"]) not in args:
        sys.exit("file is not among the arguments: %s" % e)

# The make rules: target -> prerequisites, relative to the tree.
rules = {}
for line in open(depfile).read().replace("\\\n", " ").splitlines():
    target, _, rest = line.partition(": ")
    rules[os.path.relpath(target.rstrip(":"), tree)] = {os.path.relpath(p, tree) for p in rest.split()}


def in_tree(directory, paths):
    """gcc's dependency paths (relative to DIRECTORY of KEPT) that lie within the tree."""
    found = set()
    for p in paths:
        full = os.path.normpath(os.path.join(kept, directory, p))
        if full.startswith(kept + "/"):
            found.add(os.path.relpath(full, kept))
    return found


def prerequisites(make_text):
    """The prerequisites of the first rule of gcc's make output."""
    first_rule = make_text.replace("\\\n", " ").split("\n")[0]
    return first_rule.partition(": ")[2].split()


for e in entries:
    obj = os.path.relpath(e["output"], tree)
    directory = os.path.relpath(e["directory"], tree)
    args = e["arguments"]
    if "-MF" not in args:
        sys.exit("%s: no -MF among the arguments, no gcc -MD output to compare" % obj)
    po = os.path.join(kept, directory, args[args.index("-MF") + 1].replace(".Tpo", ".Po"))
    want = in_tree(directory, prerequisites(open(po).read()))
    if rules.get(obj) != want:
        sys.exit("%s: recorded %s\n  gcc -MD wrote %s" % (obj, sorted(rules.get(obj, ())), sorted(want)))

sample = [e for e in entries
          if os.path.basename(e["output"]) in ("utils.o", "http.o", "main.o", "url.o", "libgnu_a-base32.o")]
for e in sample:
    command, skip = [], False
    for a in e["arguments"]:
        if skip:
            skip = False
        elif a in ("-o", "-MT", "-MF", "-MQ"):
            skip = True
        elif a not in ("-c", "-MD", "-MP", "-MMD"):
            command.append(a)
    directory = os.path.relpath(e["directory"], tree)
    out = subprocess.run(command + ["-M"], cwd=os.path.join(kept, directory), capture_output=True,
                         text=True, check=True).stdout
    want = in_tree(directory, prerequisites(out))
    got = rules[os.path.relpath(e["output"], tree)]
    if got != want:
        sys.exit("%s: recorded %s\n  gcc -M lists %s" % (e["output"], sorted(got), sorted(want)))

print("  compile_commands.json: %d entries, one per object built; the inputs of all %d objects "
      "equal gcc -MD's, of %d (%s) gcc -M's now"
      % (len(entries), len(entries), len(sample), " ".join(os.path.basename(e["output"]) for e in sample)))
