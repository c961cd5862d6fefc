"""The README's C and Lua examples, extracted and run as a reader would run them.
(The Python example is run by the Python binding's tests.)"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
LIB_DIR, LUA_DIR, CC = sys.argv[1:4]
del sys.argv[1:4]


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


if __name__ == "__main__":
    unittest.main(verbosity=2)
