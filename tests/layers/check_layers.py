#!/usr/bin/env python3
"""Hold every file of lib/ to the layer table of lib/meson.build.

  check_layers.py --source-root S --build-root B --layer 'NAME|DEPS|HEADERS|THIRD' ...
                  [--extra LAYER=FILE ...]

Each --layer is one line of the table: the layer's folder under lib/, the layers it may
use, the public headers it owns (include/btfm/<name>.h) and the third-party headers it
may include (comma-separated; a layer may also use what its dependencies may use, their
dependencies included). For every layer, every .c and .h file of its folder is run
through the preprocessor exactly as the build compiles it (compile_commands.json), but
with only the layer's own and its dependencies' folders under lib/ and public headers
under include/btfm/ on the include path: an include of anything else (a back-arrow) is a
missing file. Third-party headers (every header some layer lists) are checked on the
include lines themselves: a layer includes only those it lists. The table itself must
hold: dependencies come earlier in the table, every folder of lib/ is a layer, every
public header but the umbrella btfm.h belongs to exactly one layer, and doc/layout.md
states the same dependencies. --extra checks one more file as if it were in LAYER (the
negative tests: then only the fixtures are preprocessed).

Exit status: 0 clean, 1 a violation (each named on stdout), 99 the check could not run.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

UMBRELLA = "btfm.h"


class Unrunnable(Exception):
    pass


def parse_layers(specs):
    layers = []
    for spec in specs:
        parts = spec.split("|")
        if len(parts) != 4:
            raise Unrunnable(f"--layer {spec!r}: expected NAME|DEPS|HEADERS|THIRD")
        name, deps, headers, third = (p.strip() for p in parts)
        split = lambda text: [x.strip() for x in text.split(",") if x.strip()]
        layers.append({"name": name, "deps": split(deps),
                       "headers": [h + ".h" for h in split(headers)], "third": split(third)})
    return layers


def check_table(layers, source_root):
    """Problems of the table itself: order, coverage of lib/ and include/btfm/."""
    problems = []
    seen = set()
    for layer in layers:
        for dep in layer["deps"]:
            if dep not in seen:
                problems.append(f"layer {layer['name']}: may use {dep}, which is not an earlier "
                                "layer of the table")
        seen.add(layer["name"])
    lib = os.path.join(source_root, "lib")
    for entry in sorted(os.listdir(lib)):
        if os.path.isdir(os.path.join(lib, entry)) and entry not in seen:
            problems.append(f"lib/{entry}/ is not a layer of the table in lib/meson.build")
    owners = {}
    for layer in layers:
        for header in layer["headers"]:
            owners.setdefault(header, []).append(layer["name"])
    public = os.path.join(source_root, "include", "btfm")
    for header in sorted(os.listdir(public)):
        if not header.endswith(".h") or header == UMBRELLA:
            continue
        if header not in owners:
            problems.append(f"include/btfm/{header} belongs to no layer of the table")
        elif len(owners[header]) > 1:
            problems.append(f"include/btfm/{header} is claimed by {', '.join(owners[header])}")
    for header, names in owners.items():
        if not os.path.exists(os.path.join(public, header)):
            problems.append(f"layer {names[0]}: public header include/btfm/{header} does not exist")
    return problems, {h: n[0] for h, n in owners.items()}


def check_doc(layers, source_root):
    """doc/layout.md's 'may use' column names the same layers as the table."""
    path = os.path.join(source_root, "doc", "layout.md")
    names = {layer["name"] for layer in layers}
    stated = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"\|\s*`lib/(\w+)/`\s*\|.*\|([^|]*)\|\s*$", line)
            if m:
                stated[m.group(1)] = {w for w in re.findall(r"\w+", m.group(2)) if w in names}
    problems = []
    for layer in layers:
        if layer["name"] not in stated:
            problems.append(f"doc/layout.md has no row for lib/{layer['name']}/")
        elif stated[layer["name"]] != set(layer["deps"]):
            problems.append(f"doc/layout.md says lib/{layer['name']}/ may use "
                            f"{', '.join(sorted(stated[layer['name']])) or 'nothing'}; the table "
                            f"says {', '.join(layer['deps']) or 'nothing'}")
    return problems


def closure(layers, name):
    by_name = {layer["name"]: layer for layer in layers}
    todo, allowed = [name], set()
    while todo:
        current = todo.pop()
        if current not in allowed:
            allowed.add(current)
            todo.extend(by_name[current]["deps"])
    return allowed


def compile_command(build_root, source_root):
    """The compiler and the flags the build uses for lib/ files, without the include paths
    into the source and build trees, and the directory to run it in."""
    path = os.path.join(build_root, "compile_commands.json")
    try:
        with open(path, encoding="utf-8") as f:
            commands = json.load(f)
    except OSError as e:
        raise Unrunnable(f"cannot read {path}: {e}")
    lib = os.path.realpath(os.path.join(source_root, "lib"))
    for entry in commands:
        source = os.path.realpath(os.path.join(entry["directory"], entry["file"]))
        if source.startswith(lib + os.sep) and "libbtfm" in entry.get("output", entry["command"]):
            break
    else:
        raise Unrunnable("no lib/ source in compile_commands.json")
    args = shlex.split(entry["command"]) if "command" in entry else list(entry["arguments"])
    trees = (os.path.realpath(source_root), os.path.realpath(build_root))
    kept, skip = [args[0]], False
    for arg in args[1:]:
        if skip:
            skip = False
            continue
        if arg in ("-o", "-MQ", "-MF", "-MT", "-c"):
            skip = arg != "-c"
            continue
        if arg in ("-MD", "-MMD") or arg == entry["file"]:
            continue
        if arg.startswith("-I"):
            where = os.path.realpath(os.path.join(entry["directory"], arg[2:]))
            if where.startswith(trees[0]) or where.startswith(trees[1]):
                continue
        if arg.startswith("-fdiagnostics-color"):
            continue
        kept.append(arg)
    return kept, entry["directory"]


def mirror(source, target):
    """Real folders holding links to the files: a ".." in an include then climbs the
    restricted tree, not the real one."""
    for folder, _, files in os.walk(source):
        here = os.path.join(target, os.path.relpath(folder, source))
        os.makedirs(here, exist_ok=True)
        for file in files:
            os.symlink(os.path.join(folder, file), os.path.join(here, file))


def layer_files(source_root, name):
    top = os.path.join(source_root, "lib", name)
    for folder, _, files in os.walk(top):
        for file in sorted(files):
            if file.endswith((".c", ".h")):
                yield os.path.relpath(os.path.join(folder, file), top)


MISSING = re.compile(r"^(.*?):\d+:\d+: fatal error: ([^:]+): No such file or directory", re.M)
THIRD = re.compile(r'^\s*#\s*include\s*<([^>]+)>', re.M)
QUOTED = re.compile(r'^\s*#\s*include\s*"([^"]+)"', re.M)


def text_problems(path, shown, layer, third_party):
    """The include lines themselves: third-party headers, and relative paths out of the
    layer's folder (which the preprocessor would follow through the real tree)."""
    problems = []
    with open(path, encoding="utf-8") as f:
        text = f.read()
    for header in THIRD.findall(text):
        if header in third_party and header not in layer["third"]:
            problems.append(f"{shown} includes <{header}>, which layer {layer['name']} may not "
                            f"use (its third-party headers: {', '.join(layer['third']) or 'none'})")
    if shown.startswith("lib/"):
        for header in QUOTED.findall(text):
            target = os.path.normpath(os.path.join(os.path.dirname(shown), header))
            if ".." in header and not target.startswith(f"lib/{layer['name']}/"):
                problems.append(f"{shown} includes \"{header}\" ({target}) by a relative path "
                                f"out of lib/{layer['name']}/; name another layer's header from "
                                "lib/ (\"core/internal.h\") so the layering can be checked")
    return problems


def preprocess_problems(files, layer, allowed, command, cwd, tree, owners, dirs):
    """One preprocessor run over the layer's files with the restricted include path; each
    missing include is a header the layer may not use."""
    run = subprocess.run(command + ["-x", "c", "-E", "-I" + os.path.join(tree, "include"),
                                    "-I" + os.path.join(tree, "lib")] + [p for p, _ in files],
                         cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    shown_of = {os.path.normpath(p): shown for p, shown in files}
    problems = []
    for m in MISSING.finditer(run.stderr):
        where = os.path.normpath(os.path.join(cwd, m.group(1)))
        shown = shown_of.get(where, where.replace(tree + os.sep, ""))
        missing = m.group(2).strip()
        base = os.path.basename(missing)
        if missing.startswith("btfm/") and base in owners:
            whose = f"a public header of layer {owners[base]}"
        elif missing.startswith("btfm/"):
            whose = "the umbrella header (tools and bindings only)" if base == UMBRELLA \
                else "no layer's header"
        else:
            whose = next((f"in layer {d}" for d in dirs
                          if os.path.normpath(missing).split("/")[0] == d),
                         "outside the layer's reach")
        problems.append(f"{shown} includes {missing} ({whose}); layer {layer['name']} may use "
                        f"only {', '.join(sorted(allowed))}")
    if run.returncode != 0 and not problems:
        raise Unrunnable(f"preprocessing layer {layer['name']} failed:\n{run.stderr}")
    return problems


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--source-root", required=True)
    parser.add_argument("--build-root", required=True)
    parser.add_argument("--layer", action="append", default=[])
    parser.add_argument("--extra", action="append", default=[])
    args = parser.parse_args()
    try:
        layers = parse_layers(args.layer)
        if not layers:
            raise Unrunnable("no --layer given")
        problems, owners = check_table(layers, args.source_root)
        problems += check_doc(layers, args.source_root)
        command, cwd = compile_command(args.build_root, args.source_root)
        third_party = {h for layer in layers for h in layer["third"]}
        dirs = [layer["name"] for layer in layers]
        extras = {}
        for extra in args.extra:
            name, _, path = extra.partition("=")
            extras.setdefault(name, []).append(os.path.abspath(path))
        def check_layer(layer):
            allowed = closure(layers, layer["name"])
            found = []
            with tempfile.TemporaryDirectory(prefix="btfm-layers-") as tree:
                os.makedirs(os.path.join(tree, "include", "btfm"))
                os.makedirs(os.path.join(tree, "lib"))
                root = os.path.abspath(args.source_root)
                for other in layers:
                    if other["name"] not in allowed:
                        continue
                    mirror(os.path.join(root, "lib", other["name"]),
                           os.path.join(tree, "lib", other["name"]))
                    for header in other["headers"]:
                        os.symlink(os.path.join(root, "include", "btfm", header),
                                   os.path.join(tree, "include", "btfm", header))
                if extras:  # a negative test: only the fixtures
                    files = [(path, os.path.relpath(path)) for path in extras.get(layer["name"], [])]
                else:
                    files = [(os.path.join(tree, "lib", layer["name"], rel),
                              f"lib/{layer['name']}/{rel}") for rel in
                             layer_files(args.source_root, layer["name"])]
                if files:
                    for path, shown in files:
                        found += text_problems(path, shown, layer, third_party)
                    found += preprocess_problems(files, layer, allowed, command, cwd, tree,
                                                 owners, dirs)
            return found, len(files)

        # The layers are independent: two at a time (the preprocessor runs are the cost).
        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            results = list(pool.map(check_layer, layers))
        problems += [p for found, _ in results for p in found]
        checked = sum(n for _, n in results)
    except Unrunnable as e:
        print(f"cannot run: {e}")
        return 99
    for problem in problems:
        print("FAIL " + problem)
    if problems:
        print(f"FAIL: {len(problems)} layering problems in {checked} files")
        return 1
    print(f"OK: {checked} files of {len(layers)} layers use only the layers they may")
    return 0


if __name__ == "__main__":
    sys.exit(main())
