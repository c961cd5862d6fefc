"""The Python package installed as README.md says on Debian 12: the README's commands
(the shell block after "<!-- run by tests/consumer_test/test_python_venv.py -->") run as
written, with HOME in a scratch folder that holds a copy of bindings/python: a virtual
environment that also sees Debian's packages, pip with --no-build-isolation and never the
network. The installed package finds libbtfm.so.1 on the system's library path
(LD_LIBRARY_PATH stands for an installed library here). Also: /usr/bin/python3 itself
refuses the install (PEP 668), which is why the README sends users to a virtual
environment.
usage: test_python_venv.py PYTHON LIBDIR"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import unittest

PYTHON, LIBDIR = sys.argv[1], os.path.abspath(sys.argv[2])
del sys.argv[1:3]
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
MARKER = "<!-- run by tests/consumer_test/test_python_venv.py -->"


def readme_commands():
    text = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    m = re.search(re.escape(MARKER) + r"\n```sh\n(.*?)```", text, re.S)
    assert m, "README.md has no shell block after " + MARKER
    return m.group(1)


class PythonInstall(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        cls.home = os.path.join(cls.dir.name, "home")
        os.mkdir(cls.home)
        # the README runs from the source tree; pip writes build files into the package
        # folder, so a copy stands in for it
        shutil.copytree(os.path.join(ROOT, "bindings", "python"),
                        os.path.join(cls.dir.name, "bindings", "python"),
                        ignore=shutil.ignore_patterns("tests", "__pycache__", "build", "*.egg-info"))

    @classmethod
    def tearDownClass(cls):
        cls.dir.cleanup()

    def run_sh(self, script, **env):
        clean = {k: v for k, v in os.environ.items()
                 if k not in ("BTFM_LIBRARY", "PYTHONPATH", "LD_LIBRARY_PATH", "VIRTUAL_ENV")}
        clean.update(HOME=self.home, PIP_NO_INDEX="1", PIP_DISABLE_PIP_VERSION_CHECK="1",
                     PATH=os.path.dirname(PYTHON) + os.pathsep + clean.get("PATH", ""))
        clean.update(env)
        return subprocess.run(["sh", "-e", "-c", script], capture_output=True, text=True,
                              timeout=600, env=clean, cwd=self.dir.name)

    def test_system_python_refuses_pip_install(self):
        r = self.run_sh("%s -m pip install --no-build-isolation bindings/python" % PYTHON)
        if r.returncode == 0:
            self.skipTest(f"{PYTHON} is not externally managed")
        self.assertIn("externally-managed-environment", r.stdout + r.stderr)

    def test_the_readme_commands(self):
        r = self.run_sh(readme_commands(), LD_LIBRARY_PATH=LIBDIR)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stdout.strip().splitlines()[-1], "1.3.0")
        python = os.path.join(self.home, "btfm-venv", "bin", "python")
        r = self.run_sh(python + " -c 'import btfm, numpy; print(btfm.__file__); "
                        "print(btfm.library_path)'", LD_LIBRARY_PATH=LIBDIR)
        self.assertEqual(r.returncode, 0, r.stderr)
        where, library = r.stdout.split()
        self.assertTrue(where.startswith(os.path.join(self.home, "btfm-venv") + os.sep), where)
        self.assertNotIn(os.sep, library.replace(LIBDIR + os.sep, ""))  # found by the loader
        # without the library anywhere, the ImportError says where it looked
        r = self.run_sh(python + " -c 'import btfm'")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("cannot load the libbtfm shared library", r.stderr)
        self.assertIn("system search path", r.stderr)


if __name__ == "__main__":
    unittest.main(verbosity=2)
