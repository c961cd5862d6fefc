#!/usr/bin/env python3
"""Check libbtfm's public enums: their size and their values.

  check_enums.py width INCLUDE_DIR
      Every public enum is int-sized, also when the user compiles with -fshort-enums.
  check_enums.py values INCLUDE_DIR BASELINE [--write]
      Every enumerator of the last release (BASELINE, one "enum name value" a line)
      still exists with the same value, and no new enumerator of that enum reuses a
      released value. Needed besides abidiff, which cannot see the enums that
      functions take as int (dtypes, parameters, log levels). --write regenerates
      BASELINE (update-baseline.sh does that when a release is cut).

Exit status: 0 clean, 1 a check failed (named on stdout), 99 the check could not run.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile

from abitool import Parser, Unrunnable, run, strip_c_comments
from check_headers import C_FLAGS, compile_source, public_headers


def public_enums(include_dir):
    """[(enum name, [enumerator names])] in header order."""
    enums = []
    for header in public_headers(include_dir):
        with open(os.path.join(include_dir, header), encoding="utf-8") as f:
            text = strip_c_comments(f.read())
        for name, body in re.findall(r"\btypedef\s+enum\s+(\w+)\s*\{(.*?)\}", text, re.S):
            members = [m.group(1) for item in body.split(",")
                       if (m := re.match(r"\s*([A-Za-z_]\w*)", item))]
            enums.append((name, members))
    if not enums:
        raise Unrunnable("no public enums found")
    return enums


def includes(include_dir):
    return "".join(f"#include <{h}>\n" for h in public_headers(include_dir))


def check_width(args, workdir):
    failures = 0
    for enum, _ in public_enums(args.include_dir):
        for extra in ([], ["-fshort-enums"]):
            source = (f"{includes(args.include_dir)}"
                      f"_Static_assert(sizeof(enum {enum}) == sizeof(int), "
                      f"\"enum {enum} is not int-sized\");\n")
            ok, messages = compile_source(args.cc, C_FLAGS + extra + [f"-I{args.include_dir}"],
                                          source, f"width_{enum}.c", workdir)
            if not ok:
                failures += 1
                print(f"FAIL enum {enum} is not int-sized with {' '.join(args.cc + extra)}; "
                      "a sentinel beyond 16 bits (0x7fffffff) keeps it int-sized:")
                print("    " + messages.replace("\n", "\n    "))
                break
        else:
            print(f"ok   enum {enum}: int-sized, also with -fshort-enums")
    if failures:
        print(f"FAIL: {failures} public enums are not int-sized")
        return 1
    print("OK: every public enum is int-sized")
    return 0


def current_values(args, workdir):
    """[(enum, enumerator, value)] as the compiler sees the headers."""
    enums = public_enums(args.include_dir)
    lines = "".join(f'    printf("%s %s %lld\\n", "{enum}", "{member}", (long long){member});\n'
                    for enum, members in enums for member in members)
    source = f"#include <stdio.h>\n{includes(args.include_dir)}\nint main(void)\n{{\n{lines}" \
             "    return 0;\n}\n"
    program = os.path.join(workdir, "enum_values")
    ok, messages = compile_source(args.cc, C_FLAGS + [f"-I{args.include_dir}"], source,
                                  "enum_values.c", workdir, output=program)
    if not ok:
        raise Unrunnable(f"cannot build the enum dump program:\n{messages}")
    proc = subprocess.run([program], capture_output=True, text=True)
    if proc.returncode != 0:
        raise Unrunnable(f"the enum dump program failed:\n{proc.stderr}")
    return [tuple(line.split()[:2]) + (int(line.split()[2]),)
            for line in proc.stdout.splitlines()]


def read_baseline(path):
    values = {}
    try:
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                line = line.split("#", 1)[0].strip()
                if not line:
                    continue
                fields = line.split()
                if len(fields) != 3:
                    raise Unrunnable(f"{path}:{number}: expected 'enum name value'")
                values[(fields[0], fields[1])] = int(fields[2])
    except OSError as err:
        raise Unrunnable(f"cannot read the enum baseline: {err}; it is written by "
                         "tests/abi/update-baseline.sh when a release is cut") from None
    return values


def check_values(args, workdir):
    current = current_values(args, workdir)
    if args.write:
        with open(args.baseline, "w", encoding="utf-8") as f:
            f.write("# Public enumerators of the last release: enum, name, value. Written by\n"
                    "# tests/abi/update-baseline.sh; never edited by hand (doc/ABI.md).\n")
            for enum, member, value in current:
                f.write(f"{enum} {member} {value}\n")
        print(f"wrote {len(current)} enumerators to {args.baseline}")
        return 0
    baseline = read_baseline(args.baseline)
    now = {(enum, member): value for enum, member, value in current}
    problems = []
    for (enum, member), value in baseline.items():
        if (enum, member) not in now:
            problems.append(f"{enum}: {member} ({value}) was removed; a retired value keeps "
                            "its name in the header")
        elif now[(enum, member)] != value:
            problems.append(f"{enum}: {member} changed from {value} to {now[(enum, member)]}")
    added = [(enum, member, value) for (enum, member), value in now.items()
             if (enum, member) not in baseline]
    for enum, member, value in added:
        reused = [m for (e, m), v in baseline.items() if e == enum and v == value]
        if reused:
            problems.append(f"{enum}: new {member} reuses the value {value} of {reused[0]}")
    if problems:
        print(f"FAIL: public enums differ from the release in {args.baseline}:")
        for problem in problems:
            print("  " + problem)
        return 1
    for enum, member, value in added:
        print(f"added {enum} {member} = {value}")
    print(f"OK: the {len(baseline)} released enumerators keep their values"
          + (f"; {len(added)} added" if added else ""))
    return 0


def main():
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", default="cc", help="C compiler command (default: cc)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=Parser)
    width = sub.add_parser("width", help="every public enum is int-sized")
    width.add_argument("include_dir")
    values = sub.add_parser("values", help="enumerator values against the baseline")
    values.add_argument("include_dir")
    values.add_argument("baseline")
    values.add_argument("--write", action="store_true", help="regenerate the baseline")
    args = parser.parse_args()
    args.cc = shlex.split(args.cc)
    with tempfile.TemporaryDirectory(prefix="btfm-enums-") as workdir:
        return run(check_width if args.command == "width" else check_values, args, workdir)


if __name__ == "__main__":
    sys.exit(main())
