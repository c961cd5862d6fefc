#!/usr/bin/env python3
"""Check libbtfm's public headers as a user's compiler sees them.

Default: every INCLUDE_DIR/btfm/*.h opens with a comment and an include guard named
BTFM_<FILE>_H, and compiles alone (included twice) as C11 and as C++11 with
-Wall -Wextra -pedantic -Werror. --consumer SRC --library LIB: build SRC (C++) against
the headers and the shared library, with the address of every BTFM_API function
taken, and run it, which proves the C linkage of every declaration. btfm/mpi.h, which
includes <mpi.h>, is checked with --mpi-flags (MPI's compile and link flags) and left
out without them (a build without the 'mpi' feature does not install it).

Exit status: 0 clean, 1 a header or program failed (named on stdout), 77 nothing to do
(no C++ compiler for --consumer), 99 the check itself could not run.
"""

import os
import re
import shlex
import subprocess
import sys
import tempfile

from abitool import Parser, Unrunnable, run, strip_c_comments
from check_exports import api_declarations, read_headers

C_FLAGS = ["-std=c11", "-Wall", "-Wextra", "-pedantic", "-Werror",
           "-Wstrict-prototypes", "-Wundef"]
CXX_FLAGS = ["-std=c++11", "-Wall", "-Wextra", "-pedantic", "-Werror", "-Wundef"]


MPI_HEADER = "mpi.h"


def public_headers(include_dir, with_mpi=False):
    folder = os.path.join(include_dir, "btfm")
    try:
        names = sorted(n for n in os.listdir(folder)
                       if n.endswith(".h") and (with_mpi or n != MPI_HEADER))
    except OSError as err:
        raise Unrunnable(f"cannot list public headers: {err}") from None
    if not names:
        raise Unrunnable(f"no headers in {folder}")
    return [f"btfm/{n}" for n in names]


def compile_source(compiler, flags, source, name, workdir, output=None, libraries=()):
    """Compile `source` text saved as workdir/name (and link it into `output` when
    given); returns (ok, compiler messages)."""
    path = os.path.join(workdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(source)
    if output:
        command = compiler + flags + [path, "-o", output] + list(libraries)
    else:
        command = compiler + flags + ["-fsyntax-only", path]
    try:
        proc = subprocess.run(command, capture_output=True, text=True)
    except OSError as err:
        raise Unrunnable(f"cannot run {compiler[0]}: {err}") from None
    return proc.returncode == 0, (proc.stdout + proc.stderr).strip()


def preamble_problems(include_dir, header):
    """The header's leading comment, include guard and closing #endif."""
    with open(os.path.join(include_dir, header), encoding="utf-8") as f:
        text = f.read()
    problems = []
    if not text.lstrip().startswith(("/*", "//")):
        problems.append("does not open with a comment saying what it is for")
    stem = re.sub(r"\W", "_", os.path.basename(header)[:-2]).upper()
    guard = f"BTFM_{stem}_H"
    uncommented = strip_c_comments(text)
    directives = re.findall(r"(?m)^[ \t]*#[ \t]*(\w+)[ \t]*(\S*)", uncommented)
    if directives[:2] != [("ifndef", guard), ("define", guard)]:
        problems.append(f"does not start with '#ifndef {guard}' / '#define {guard}'")
    if not directives or directives[-1][0] != "endif":
        problems.append("does not end with the guard's #endif")
    return guard, problems


def check_headers(args, workdir):
    failures, guards = 0, {}
    for header in public_headers(args.include_dir, bool(args.mpi_flags)):
        guard, problems = preamble_problems(args.include_dir, header)
        if guard in guards:
            problems.append(f"include guard {guard} also used by {guards[guard]}")
        guards[guard] = header
        # Twice, to exercise the guard; the typedef keeps export.h's translation unit
        # from being empty, which ISO C forbids.
        source = f"#include <{header}>\n#include <{header}>\ntypedef int tu_not_empty;\n"
        include = [f"-I{args.include_dir}"]
        if header == "btfm/" + MPI_HEADER:
            include += args.mpi_flags
        stem = os.path.basename(header)[:-2]
        languages = [("C11", args.cc, C_FLAGS, f"alone_{stem}.c")]
        if args.cxx:
            languages.append(("C++11", args.cxx, CXX_FLAGS, f"alone_{stem}.cpp"))
        passed = []
        for name, compiler, flags, filename in languages:
            ok, messages = compile_source(compiler, flags + include, source, filename, workdir)
            if ok:
                passed.append(name)
            else:
                problems.append(f"does not compile alone as {name} "
                                f"({' '.join(compiler + flags)}):\n{messages}")
        if problems:
            failures += 1
            print(f"FAIL {header}:")
            for problem in problems:
                print("  " + problem.replace("\n", "\n    "))
        else:
            print(f"ok   {header}: comment, guard {guard}, alone as {', '.join(passed)}")
    if not args.cxx:
        print("note: no C++ compiler given, C++ compilation not checked")
    return summary(failures, "public headers")


def check_consumer(args, workdir):
    if not args.cxx:
        print("SKIP: no C++ compiler")
        return 77
    with open(args.consumer, encoding="utf-8") as f:
        source = f.read()
    # Take the address of every declared function too: a declaration outside
    # extern "C" would then be an undefined C++-mangled reference at link time.
    functions = sorted(api_declarations(read_headers(
        [os.path.join(args.include_dir, h) for h in public_headers(args.include_dir,
                                                                  bool(args.mpi_flags))])))
    if args.mpi_flags:
        source = f"#include <btfm/{MPI_HEADER}>\n" + source
    source += ("\ntypedef void (*btfm_any_fn)(void);\n"
               "extern const btfm_any_fn btfm_every_api_function[];\n"
               "const btfm_any_fn btfm_every_api_function[] = {\n"
               + "".join(f"    reinterpret_cast<btfm_any_fn>(&{f}),\n" for f in functions)
               + "};\n")
    program = os.path.join(workdir, "consumer")
    library = os.path.abspath(args.library)
    flags = CXX_FLAGS + args.flag + [f"-I{args.include_dir}"] + args.mpi_flags
    libraries = [library, f"-Wl,-rpath,{os.path.dirname(library)}"] + args.mpi_flags
    ok, messages = compile_source(args.cxx, flags, source, "consumer.cpp", workdir,
                                  output=program, libraries=libraries)
    command = " ".join(args.cxx + flags + [args.consumer] + libraries)
    if not ok:
        print(f"FAIL: {args.consumer} does not build as C++11 against {library}:\n"
              f"  {command}\n{messages}")
        return 1
    print(f"built: {command}\n  (plus the address of each of the {len(functions)} "
          "BTFM_API functions)")
    proc = subprocess.run([program], capture_output=True, text=True)
    sys.stdout.write(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        print(f"FAIL: the C++ consumer exited with status {proc.returncode}")
        return 1
    print("OK: the C++ consumer builds, links and runs")
    return 0


def summary(failures, what):
    if failures:
        print(f"FAIL: {failures} of the {what} failed")
        return 1
    print(f"OK: all {what} pass")
    return 0


def main():
    parser = Parser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cc", default="cc", help="C compiler command (default: cc)")
    parser.add_argument("--cxx", default="", help="C++ compiler command (empty: none)")
    parser.add_argument("--consumer", help="C++ program to build and run")
    parser.add_argument("--library", help="shared library the --consumer program links")
    parser.add_argument("--flag", action="append", default=[],
                        help="extra compile and link flag for --consumer (repeatable)")
    parser.add_argument("--mpi-flags", default="",
                        help="MPI's compile and link flags: check btfm/mpi.h too")
    parser.add_argument("include_dir", help="folder that holds btfm/*.h")
    args = parser.parse_args()
    args.cc = shlex.split(args.cc)
    args.cxx = shlex.split(args.cxx)
    args.mpi_flags = shlex.split(args.mpi_flags)
    if args.consumer and not args.library:
        parser.error("--consumer needs --library")
    with tempfile.TemporaryDirectory(prefix="btfm-headers-") as workdir:
        return run(check_consumer if args.consumer else check_headers, args, workdir)


if __name__ == "__main__":
    sys.exit(main())
