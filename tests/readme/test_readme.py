"""The README's C and Lua examples, and every shell block of README.md and doc/*.md
marked runnable (an HTML comment `<!-- runnable -->` on the line before its ```sh fence),
extracted and run as a reader would run them. (The Python example is run by the Python
binding's tests.)"""
import glob
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LIB_DIR, LUA_DIR, CC, BTFM_EXE = sys.argv[1:5]
del sys.argv[1:5]
RUNNABLE = re.compile(r"^<!-- runnable -->\n```sh\n(.*?)^```", re.S | re.M)


def runnable_blocks():
    """(file, line, text) of every shell block marked runnable."""
    found = []
    for path in [os.path.join(ROOT, "README.md")] + sorted(glob.glob(os.path.join(ROOT, "doc", "*.md"))):
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in RUNNABLE.finditer(text):
            found.append((os.path.relpath(path, ROOT), text.count("\n", 0, m.start()) + 1, m.group(1)))
    return found


def block(lang):
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    m = re.search(r"```%s\n(.*?)```" % lang, text, re.S)
    if not m:
        raise AssertionError("README.md has no ```%s block" % lang)
    return m.group(1)


def version():
    text = open(os.path.join(ROOT, "include", "btfm", "version.h")).read()
    return ".".join(re.search(r"#define BTFM_VERSION_%s (\d+)" % p, text).group(1)
                    for p in ("MAJOR", "MINOR", "PATCH"))


class Readme(unittest.TestCase):
    def test_c_example(self):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "app.c")
            with open(src, "w") as f:
                f.write(block("c"))
            exe = os.path.join(d, "app")
            subprocess.run([CC, "-std=c11", "-Wall", "-Werror", src, "-I", os.path.join(ROOT, "include"),
                            "-L", LIB_DIR, "-lbtfm", "-o", exe], check=True)
            r = subprocess.run([exe], capture_output=True, text=True,
                               env=dict(os.environ, LD_LIBRARY_PATH=LIB_DIR))
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "libbtfm %s: 1 array\n" % version())

    def test_lua_example(self):
        lua = shutil.which("lua5.4")
        if not lua or not os.path.exists(os.path.join(LUA_DIR, "btfm.so")):
            self.skipTest("lua5.4 or the Lua module is not built")
        r = subprocess.run([lua, "-e", block("lua")], capture_output=True, text=True,
                           env=dict(os.environ, LUA_CPATH=os.path.join(LUA_DIR, "?.so"),
                                    LD_LIBRARY_PATH=LIB_DIR))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith(version() + "\tcore "), r.stdout)


class ShellBlocks(unittest.TestCase):
    def test_runnable_shell_blocks(self):
        """Each block runs in a fresh folder under bash -e (a failing command fails the
        block), with the built btfm first on PATH and the built Python package and Lua
        module found, as after an install."""
        blocks = runnable_blocks()
        self.assertGreaterEqual(len(blocks), 2, "no shell block is marked runnable")
        env = dict(os.environ,
                   PATH=os.pathsep.join([os.path.dirname(BTFM_EXE), "/usr/bin",
                                         os.environ.get("PATH", "")]),
                   BTFM_LIBRARY=os.path.join(LIB_DIR, "libbtfm.so.1"),
                   LD_LIBRARY_PATH=LIB_DIR,
                   PYTHONPATH=os.path.join(ROOT, "bindings", "python"),
                   PYTHONDONTWRITEBYTECODE="1",
                   LUA_CPATH=os.path.join(LUA_DIR, "?.so") + ";;", LC_ALL="C")
        for name, line, text in blocks:
            with self.subTest(block="%s:%d" % (name, line)), tempfile.TemporaryDirectory() as d:
                r = subprocess.run(["bash", "-e", "-o", "pipefail", "-c", text], cwd=d, env=env,
                                   capture_output=True, text=True)
                self.assertEqual(r.returncode, 0, "%s:%d failed:\n%s\n%s%s" % (
                    name, line, text, r.stdout[-2000:], r.stderr[-2000:]))


if __name__ == "__main__":
    unittest.main(verbosity=2)
