#!/usr/bin/env python3
"""Compare a libbtfm build with the ABI baseline of the last release (libabigail).

  abi_compat.py dump LIBRARY HEADERS_DIR OUT.abi
      Write the ABI of LIBRARY (abidw) with the flags that keep the file stable: no
      type defined outside HEADERS_DIR (private layouts behind opaque handles), no
      absolute paths, hash type ids, no imported symbols or DT_NEEDED entries.
  abi_compat.py compare BASELINE.abi LIBRARY HEADERS_DIR [--suppressions F]...
      Dump LIBRARY the same way and abidiff it against BASELINE. Passes when nothing
      changed or when symbols were only added, and only in version nodes the baseline
      does not have (a released node is never edited). Fails on abidiff's
      "incompatible change" bit (8), on any removed or changed function or variable
      (abidiff reports a changed signature with bit 4 only), and on a symbol that
      moved to another version node. The report is printed either way.

Exit status: 0 compatible, 1 incompatible, 77 skipped (no debug information, or
another architecture than the baseline's), 99 the check could not run.
"""

import os
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ElementTree

from abitool import Parser

ABIDW_FLAGS = ["--drop-private-types", "--no-corpus-path", "--no-comp-dir-path",
               "--short-locs", "--type-id-style", "hash", "--drop-undefined-syms",
               "--no-elf-needed"]
# abidiff's exit status bits (libabigail's abidiff_status).
ABIDIFF_ERROR, ABIDIFF_USAGE_ERROR, ABIDIFF_ABI_CHANGE, ABIDIFF_INCOMPATIBLE = 1, 2, 4, 8


class Outcome(Exception):
    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def run(command):
    try:
        return subprocess.run(command, capture_output=True, text=True)
    except OSError as err:
        raise Outcome(99, f"cannot run {command[0]}: {err}")


def has_debug_info(args, library):
    proc = run([args.readelf, "-S", "-W", library])
    if proc.returncode != 0:
        raise Outcome(99, f"{args.readelf} -S {library} failed:\n{proc.stderr.strip()}")
    return re.search(r"\.(z?debug_info|gnu_debuglink)\b", proc.stdout) is not None


def dump(args, library, headers_dir, out):
    if not os.path.exists(library):
        raise Outcome(99, f"no such library: {library} (build it first)")
    if not has_debug_info(args, library):
        raise Outcome(77, f"{library} has no debug information, so its types cannot be "
                          "compared; build with -g (buildtype debug or debugoptimized)")
    command = [args.abidw] + ABIDW_FLAGS
    if headers_dir:
        command += ["--headers-dir", headers_dir]
    command += ["--out-file", out, library]
    proc = run(command)
    if proc.returncode != 0:
        raise Outcome(99, f"{' '.join(command)} failed ({proc.returncode}):\n"
                          f"{proc.stdout}{proc.stderr}")


def corpus_symbols(path):
    """(architecture, {symbol name: version or ''}) of an abidw file."""
    try:
        root = ElementTree.parse(path).getroot()
    except (OSError, ElementTree.ParseError) as err:
        raise Outcome(99, f"cannot read {path}: {err}")
    symbols = {s.get("name"): s.get("version", "") for s in root.iter("elf-symbol")}
    return root.get("architecture", ""), symbols


def summary_counts(report):
    """Sum of (removed, changed) over abidiff's summary lines."""
    removed = changed = 0
    for line in report.splitlines():
        if "changes summary:" not in line:
            continue
        numbers = dict((kind, int(n)) for n, kind in
                       re.findall(r"(\d+) (Removed|Changed|Added)", line))
        removed += numbers.get("Removed", 0)
        changed += numbers.get("Changed", 0)
    return removed, changed


def compare(args):
    if not os.path.exists(args.baseline):
        raise Outcome(99, f"no baseline {args.baseline}: it is written by "
                          "tests/abi/update-baseline.sh when a release is cut")
    baseline_arch, baseline = corpus_symbols(args.baseline)
    with tempfile.TemporaryDirectory(prefix="btfm-abi-") as workdir:
        current_path = os.path.join(workdir, "current.abi")
        dump(args, args.library, args.headers_dir, current_path)
        current_arch, current = corpus_symbols(current_path)
        if current_arch != baseline_arch:
            raise Outcome(77, f"the baseline describes {baseline_arch}, this build "
                              f"{current_arch}: nothing to compare")
        command = [args.abidiff]
        for suppressions in args.suppressions:
            command += ["--suppressions", suppressions]
        if args.ignore_soname:
            command.append("--ignore-soname")
        command += [args.baseline, current_path]
        print("$ " + " ".join(command))
        proc = run(command)
    print(proc.stdout + proc.stderr if proc.stdout or proc.stderr else "(no differences)")

    status = proc.returncode
    if status & (ABIDIFF_ERROR | ABIDIFF_USAGE_ERROR) or status > 15:
        raise Outcome(99, f"abidiff failed with status {status}")
    problems = []
    if status & ABIDIFF_INCOMPATIBLE:
        problems.append("abidiff reports an incompatible change (exit bit 8)")
    if status & ABIDIFF_ABI_CHANGE:
        removed, changed = summary_counts(proc.stdout)
        if removed or changed:
            problems.append(f"{removed} removed and {changed} changed functions or "
                            "variables: only additions are compatible")
    released = {v for v in baseline.values() if v}
    for name in sorted(current):
        version = current[name]
        if name in baseline and baseline[name] != version:
            problems.append(f"{name} moved from version node {baseline[name] or '<none>'} "
                            f"to {version or '<none>'}")
        elif name not in baseline and version in released:
            problems.append(f"{name} was added to the released node {version}: new "
                            "symbols go in a new node (doc/ABI.md)")
    if problems:
        raise Outcome(1, "FAIL: incompatible with the baseline " + args.baseline + ":\n  "
                         + "\n  ".join(problems))
    added = sorted(set(current) - set(baseline))
    if added:
        print(f"OK: compatible; {len(added)} symbols added in new version nodes: "
              + ", ".join(f"{n}@{current[n]}" for n in added))
    else:
        print(f"OK: the ABI of {args.library} matches the baseline")
    return 0


def main():
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--abidw", default="abidw")
    parser.add_argument("--abidiff", default="abidiff")
    parser.add_argument("--readelf", default="readelf")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    dump_parser = sub.add_parser("dump", help="write the ABI of a library")
    dump_parser.add_argument("library")
    dump_parser.add_argument("headers_dir")
    dump_parser.add_argument("out")
    compare_parser = sub.add_parser("compare", help="compare a library with a baseline")
    compare_parser.add_argument("baseline")
    compare_parser.add_argument("library")
    compare_parser.add_argument("headers_dir", nargs="?", default="",
                                help="public headers (omit for a library without)")
    compare_parser.add_argument("--suppressions", action="append", default=[],
                                help="abidiff suppression file (repeatable)")
    compare_parser.add_argument("--ignore-soname", action="store_true")
    args = parser.parse_args()
    try:
        if args.command == "dump":
            dump(args, args.library, args.headers_dir, args.out)
            print(f"wrote {args.out}")
            return 0
        return compare(args)
    except Outcome as outcome:
        print(str(outcome), file=sys.stdout if outcome.status == 1 else sys.stderr)
        if outcome.status == 77:
            print("SKIP", file=sys.stderr)
        return outcome.status


if __name__ == "__main__":
    sys.exit(main())
