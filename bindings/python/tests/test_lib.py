"""Finding and checking the shared library: search order, messages, version floor."""

import os
import re
import shutil
import subprocess
import sys
import textwrap

import pytest

import btfm
from conftest import PACKAGE_ROOT, header_text, subprocess_env


def run_python(code, env, cwd=None):
    return subprocess.run([sys.executable, "-c", textwrap.dedent(code)], env=env, cwd=cwd,
                          capture_output=True, text=True, timeout=60)


def test_loaded_library_is_the_one_named_by_the_environment():
    wanted = os.environ.get("BTFM_LIBRARY")
    if not wanted:
        pytest.skip("BTFM_LIBRARY is not set for this run")
    assert btfm.library_path == (os.path.abspath(wanted) if os.sep in wanted else wanted)


def test_every_declared_function_is_exported_by_the_version_script():
    # The version script lists the public ABI; the package must use nothing outside it.
    from btfm import _lib

    map_path = PACKAGE_ROOT.parents[1] / "lib" / "btfm.map"
    if not map_path.is_file():
        pytest.skip(f"{map_path} not found")
    exported = set()
    for line in map_path.read_text().splitlines():
        line = line.strip().rstrip(";")
        if line.startswith("btfm_"):
            exported.add(line)
    assert set(_lib._SIGNATURES) <= exported


def test_every_exported_function_is_declared():
    # A public function without a binding is a gap users of Python would hit.
    from btfm import _lib

    map_path = PACKAGE_ROOT.parents[1] / "lib" / "btfm.map"
    if not map_path.is_file():
        pytest.skip(f"{map_path} not found")
    exported = {line.strip().rstrip(";") for line in map_path.read_text().splitlines()
                if line.strip().startswith("btfm_")}
    assert sorted(exported - set(_lib._SIGNATURES)) == []


def test_bad_environment_path_is_an_import_error_naming_it(tmp_path):
    missing = tmp_path / "no-such-libbtfm.so.1"
    result = run_python("import btfm", subprocess_env(BTFM_LIBRARY=str(missing)), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert str(missing) in result.stderr
    assert "$BTFM_LIBRARY" in result.stderr


def test_without_any_library_every_place_tried_is_listed(tmp_path):
    env = subprocess_env()
    env.pop("BTFM_LIBRARY", None)
    env["LD_LIBRARY_PATH"] = str(tmp_path)  # an empty folder: nothing to find there
    result = run_python("import btfm; print(btfm.library_path)", env, cwd=tmp_path)
    if result.returncode == 0:
        pytest.skip(f"a system libbtfm is installed ({result.stdout.strip()})")
    assert "ImportError" in result.stderr
    assert "package folder" in result.stderr
    assert os.path.join(str(PACKAGE_ROOT), "btfm", "libbtfm.so.1") in result.stderr
    assert "system search path" in result.stderr
    assert "BTFM_LIBRARY" in result.stderr  # the hint says how to fix it


def test_library_next_to_the_package_is_found_second(tmp_path):
    if not os.path.isabs(btfm.library_path):
        pytest.skip("the library was loaded by name, there is no file to copy")
    shutil.copytree(PACKAGE_ROOT / "btfm", tmp_path / "btfm",
                    ignore=shutil.ignore_patterns("__pycache__"))
    bundled = tmp_path / "btfm" / "libbtfm.so.1"
    shutil.copy(btfm.library_path, bundled)
    env = subprocess_env(PYTHONPATH=str(tmp_path))
    env.pop("BTFM_LIBRARY", None)
    result = run_python("import btfm; print(btfm.library_path); print(btfm.version())", env,
                        cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    path, version = result.stdout.split()
    assert path == str(bundled)
    assert version == btfm.version()


def test_too_old_library_is_refused_with_both_versions(tmp_path):
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build a stand-in for an old libbtfm")
    source = tmp_path / "old.c"
    source.write_text('unsigned btfm_version_number(void) { return 9903; }\n'
                      'const char *btfm_version_string(void) { return "0.99.3"; }\n')
    old = tmp_path / "libbtfm.so.1"
    subprocess.run([compiler, "-shared", "-fPIC", "-o", str(old), str(source)], check=True)
    result = run_python("import btfm", subprocess_env(BTFM_LIBRARY=str(old)), tmp_path)
    assert result.returncode != 0
    assert "ImportError" in result.stderr
    assert "0.99.3" in result.stderr and "9903" in result.stderr
    assert "1.3.0" in result.stderr and "10300" in result.stderr


def test_minimum_version_is_not_newer_than_the_headers():
    # The package must accept the library built from this tree.
    text = header_text("version.h")
    parts = {k: int(re.search(rf"#define BTFM_VERSION_{k}\s+(\d+)", text).group(1))
             for k in ("MAJOR", "MINOR", "PATCH")}
    number = parts["MAJOR"] * 10000 + parts["MINOR"] * 100 + parts["PATCH"]
    assert btfm.MIN_VERSION_NUMBER == 10300
    assert btfm.MIN_VERSION_NUMBER <= number


def c_prototypes():
    """{name: (return type, [parameter types])} from the public headers' BTFM_API lines,
    types normalized: no `const`, no parameter names, `*` attached."""
    from conftest import INCLUDE_DIR

    if not INCLUDE_DIR.is_dir():
        pytest.skip(f"{INCLUDE_DIR} not found")
    text = "".join(p.read_text() for p in sorted(INCLUDE_DIR.glob("*.h")))
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.S)

    def normalize(decl, has_name):
        decl = re.sub(r"\bconst\b", "", decl)
        stars = decl.count("*")
        words = decl.replace("*", " ").split()
        if has_name:
            words = words[:-1]
        return " ".join(words) + " " + "*" * stars if stars else " ".join(words)

    found = {}
    for ret, name, params in re.findall(r"BTFM_API\s+([^;#]*?)\b(btfm_\w+)\s*\(([^)]*)\)\s*;",
                                        text, re.S):
        params = [p for p in (p.strip() for p in params.split(",")) if p and p != "void"]
        found[name] = (normalize(ret, False), [normalize(p, True) for p in params])
    return found


def test_declared_types_match_the_header_prototypes():
    import ctypes

    from btfm import _lib

    scalar = {"int": ctypes.c_int, "btfm_status": ctypes.c_int, "unsigned": ctypes.c_uint,
              "long": ctypes.c_long, "size_t": ctypes.c_size_t, "double": ctypes.c_double,
              "int64_t": ctypes.c_int64, "void *": ctypes.c_void_p, "char *": ctypes.c_char_p,
              "btfm_container *": _lib.ContainerPtr, "void": None,
              "btfm_log_fn": _lib.LOG_FN, "btfm_malloc_fn": _lib.MALLOC_FN,
              "btfm_realloc_fn": _lib.REALLOC_FN, "btfm_free_fn": _lib.FREE_FN}

    scalar["float"] = ctypes.c_float
    scalar["uint8_t"] = ctypes.c_uint8
    scalar["int32_t"] = ctypes.c_int32
    scalar["uint64_t"] = ctypes.c_uint64
    scalar["unsigned char"] = ctypes.c_ubyte
    scalar["MPI_Comm"] = ctypes.c_void_p  # Open MPI's communicator handle is a pointer

    def expected(c_type):
        if c_type in scalar:
            return scalar[c_type]
        # A callback type "btfm_<name>_fn" is _lib.<NAME>_FN.
        if c_type.startswith("btfm_") and c_type.endswith("_fn"):
            return getattr(_lib, c_type[len("btfm_"):].upper())
        # A handle "btfm_<name> *" is _lib.<Name>Ptr where the package defines one, else an
        # opaque void pointer.
        if c_type.startswith("btfm_") and c_type.endswith(" *") and c_type.count("*") == 1:
            name = c_type[len("btfm_"):-2].strip()
            camel = "".join(part.capitalize() for part in name.split("_")) + "Ptr"
            return getattr(_lib, camel, ctypes.c_void_p)
        assert c_type.endswith("*"), c_type
        return ctypes.POINTER(expected(c_type[:-1].strip()))  # "char **" -> "char *"

    prototypes = c_prototypes()
    assert set(prototypes) == set(_lib._SIGNATURES)
    for name, (ret, params) in prototypes.items():
        restype, argtypes = _lib._SIGNATURES[name]
        assert restype == expected(ret), name
        assert list(argtypes) == [expected(p) for p in params], name
