#!/usr/bin/env python3
"""Check the symbols a libbtfm binary exports against the version script and headers.

Shared library: every dynamic symbol must carry the btfm_ prefix, be listed by name in
exactly one node of the version script (and be bound to that node), and be declared in
a public header; every name the script lists must be exported, and so must every
function a public header declares with BTFM_API. Static archive (--static): every
global symbol must carry the prefix, since it shares the program's namespace.

Exit status: 0 clean, 1 offenders found (listed on stdout), 99 the check itself could
not run (missing tool, unreadable input), so that meson reports an error rather than
a failure, also for the deliberately bad libraries registered with should_fail.
"""

import os
import re
import subprocess
import sys

from abitool import Parser, Unrunnable, run, strip_c_comments

PREFIX = "btfm_"
CHECKS = ("prefix", "map", "header", "declared")
# Linker-provided symbols some toolchains leave in the dynamic table.
STANDARD_SYMBOLS = {"_init", "_fini", "_edata", "_end", "__bss_start",
                    "__bss_start__", "__bss_end__", "_bss_end__", "__end__"}
WILDCARD = re.compile(r"[*?\[]")


def run_nm(nm, args, path):
    try:
        proc = subprocess.run([nm] + args + [path], capture_output=True, text=True)
    except OSError as err:
        raise Unrunnable(f"cannot run {nm}: {err}")
    if proc.returncode != 0:
        raise Unrunnable(f"{nm} {' '.join(args)} {path} failed:\n{proc.stderr.strip()}")
    return proc.stdout


def dynamic_symbols(nm, library, node_names):
    """Defined dynamic symbols as {name: version or None}."""
    out = run_nm(nm, ["-D", "--defined-only", "--with-symbol-versions"], library)
    symbols = {}
    for line in out.splitlines():
        fields = line.split()
        if len(fields) < 2:
            continue
        kind, full = fields[-2], fields[-1]
        name, _, version = full.partition("@")
        version = version.lstrip("@")
        if version in ("", "Base"):  # unversioned; newer nm prints "@Base"
            version = None
        # Each version node appears as an absolute symbol named after it.
        if kind == "A" and name in node_names:
            continue
        if name in STANDARD_SYMBOLS:
            continue
        symbols[name] = version
    return symbols


def archive_globals(nm, archive):
    """Global symbols defined by the members of a static archive."""
    out = run_nm(nm, ["-g", "--defined-only"], archive)
    names = set()
    for line in out.splitlines():
        fields = line.split()
        if len(fields) == 3:
            names.add(fields[2])
    return names


def parse_version_script(path):
    """Nodes in file order: [{'name', 'parent', 'global': [...], 'local': [...]}]."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as err:
        raise Unrunnable(f"cannot read version script: {err}")
    text = strip_c_comments(re.sub(r"(?m)#[^\n]*", " ", text))
    tokens = re.findall(r"[{};:]|[^\s{};:]+", text)
    nodes, pos = [], 0

    def expect(token):
        nonlocal pos
        if pos >= len(tokens) or tokens[pos] != token:
            found = tokens[pos] if pos < len(tokens) else "end of file"
            raise Unrunnable(f"{path}: expected '{token}', found '{found}'")
        pos += 1

    while pos < len(tokens):
        node = {"name": None, "parent": None, "global": [], "local": []}
        if tokens[pos] != "{":
            node["name"] = tokens[pos]
            pos += 1
        expect("{")
        scope = "global"
        while pos < len(tokens) and tokens[pos] != "}":
            token = tokens[pos]
            if token in ("global", "local") and pos + 1 < len(tokens) and tokens[pos + 1] == ":":
                scope, pos = token, pos + 2
                continue
            if token == "extern":
                raise Unrunnable(f"{path}: 'extern' blocks are not supported by this check")
            node[scope].append(token)
            pos += 1
            expect(";")
        expect("}")
        if pos < len(tokens) and tokens[pos] != ";":
            node["parent"] = tokens[pos]
            pos += 1
        expect(";")
        nodes.append(node)
    return nodes


def read_headers(paths):
    """{header path: comment-free text} for the given files and folders (*.h)."""
    files = []
    for path in paths:
        if os.path.isdir(path):
            files += sorted(os.path.join(path, n) for n in os.listdir(path) if n.endswith(".h"))
        else:
            files.append(path)
    texts = {}
    for path in files:
        try:
            with open(path, encoding="utf-8") as f:
                texts[path] = strip_c_comments(f.read())
        except OSError as err:
            raise Unrunnable(f"cannot read header: {err}")
    if not texts:
        raise Unrunnable("no public headers given")
    return texts


def api_declarations(header_texts):
    """Names of the functions declared with BTFM_API."""
    names = set()
    for text in header_texts.values():
        # Drop preprocessor lines (with continuations): the macro's own definition.
        text = re.sub(r"(?m)^[ \t]*#(?:[^\n]*\\\n)*[^\n]*", " ", text)
        for match in re.finditer(r"\bBTFM_API\b[^;{}()]*?\b([A-Za-z_]\w*)\s*\(", text):
            names.add(match.group(1))
    return names


def check_shared(args):
    nodes = parse_version_script(args.version_script)
    node_names = {n["name"] for n in nodes if n["name"]}
    exported = dynamic_symbols(args.nm, args.library, node_names)
    checks = set(args.check or CHECKS)
    problems = []  # (heading, [offender lines])

    if "prefix" in checks:
        bad = sorted(s for s in exported if not s.startswith(PREFIX))
        problems.append((f"exported without the '{PREFIX}' prefix", bad))

    if "map" in checks:
        listed = {}  # name -> node
        duplicates, patterns = [], []
        for node in nodes:
            for name in node["global"]:
                if WILDCARD.search(name):
                    patterns.append(f"{name} (node {node['name'] or '<anonymous>'})")
                elif name in listed:
                    duplicates.append(f"{name} (nodes {listed[name]} and {node['name']})")
                else:
                    listed[name] = node["name"]
        problems.append(("exported but not listed by name in the version script",
                         sorted(s for s in exported if s not in listed)))
        problems.append(("listed in the version script but not exported",
                         sorted(s for s in listed if s not in exported)))
        problems.append(("global wildcard in the version script (list each symbol by name)",
                         patterns))
        problems.append(("listed in more than one version node", sorted(duplicates)))
        problems.append(("bound to another version node than the one that lists it",
                         sorted(f"{s}@{exported[s] or '<none>'} (listed in {listed[s]})"
                                for s in exported
                                if s in listed and listed[s] and exported[s] != listed[s])))

    if "header" in checks or "declared" in checks:
        headers = read_headers(args.headers)
    if "header" in checks:
        def declared(name):
            pattern = re.compile(r"\b" + re.escape(name) + r"\s*\(")
            return any(pattern.search(t) for t in headers.values())
        problems.append(("exported but declared in no public header",
                         sorted(s for s in exported if not declared(s))))
    if "declared" in checks:
        problems.append(("declared BTFM_API in a public header but not exported",
                         sorted(api_declarations(headers) - set(exported))))

    return report(problems, f"{len(exported)} exported symbols of {args.library}, "
                            f"version script {args.version_script} "
                            f"({', '.join(sorted(node_names)) or 'no nodes'}); "
                            f"checks: {', '.join(c for c in CHECKS if c in checks)}")


def check_static(args):
    names = archive_globals(args.nm, args.library)
    # Names starting with "__" or "_X" belong to the implementation (sanitizers, gcov).
    bad = sorted(n for n in names if not n.startswith(PREFIX) and not re.match(r"_[_A-Z]", n))
    return report([(f"global symbols of the static library without the '{PREFIX}' prefix",
                    bad)], f"{len(names)} global symbols of {args.library} carry the "
                           f"'{PREFIX}' prefix")


def report(problems, success):
    failed = [(heading, items) for heading, items in problems if items]
    if not failed:
        print(f"OK: {success}")
        return 0
    for heading, items in failed:
        print(f"FAIL: {len(items)} symbol(s) {heading}:")
        for item in items:
            print(f"  {item}")
    return 1


def main():
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nm", default="nm", help="nm program (default: nm)")
    parser.add_argument("--check", action="append", choices=CHECKS,
                        help="run only this check (repeatable; default: all)")
    parser.add_argument("--static", action="store_true",
                        help="LIBRARY is a static archive: check only the prefix")
    parser.add_argument("library")
    parser.add_argument("version_script", nargs="?")
    parser.add_argument("headers", nargs="*", help="public headers or folders of them")
    args = parser.parse_args()
    if not args.static and not args.version_script:
        parser.error("a shared library needs its version script")
    return run(check_static if args.static else check_shared, args)


if __name__ == "__main__":
    sys.exit(main())
