"""Shared helpers: where the source tree is, the public headers as independent truth,
and the environment a subprocess needs to import the same btfm against the same library.
"""

import os
import re
import sys
from pathlib import Path

import pytest

PACKAGE_ROOT = Path(__file__).resolve().parents[1]  # bindings/python
SOURCE_ROOT = Path(__file__).resolve().parents[3]   # the libbtfm source tree
INCLUDE_DIR = SOURCE_ROOT / "include" / "btfm"

if str(PACKAGE_ROOT) not in sys.path:
    sys.path.insert(0, str(PACKAGE_ROOT))


def header_text(name):
    """Text of a public header, or skip the test when the headers are not beside us."""
    path = INCLUDE_DIR / name
    if not path.is_file():
        pytest.skip(f"{path} not found: tests run outside the libbtfm source tree")
    return path.read_text(encoding="utf-8")


def c_enum(header, enum_name):
    """{NAME: value} of the enumerators of `typedef enum enum_name {...}` in a header,
    leaving out the size-fixing *_MAX_/*_MIN_ sentinels."""
    match = re.search(r"typedef\s+enum\s+" + enum_name + r"\s*\{(.*?)\}", header, re.S)
    assert match, f"enum {enum_name} not found"
    body = re.sub(r"/\*.*?\*/", "", match.group(1), flags=re.S)
    values = {}
    for name, value in re.findall(r"(\w+)\s*=\s*(-?(?:0x)?[0-9a-fA-F]+)", body):
        if not name.endswith("_"):
            values[name] = int(value, 0)
    return values


def subprocess_env(**extra):
    """os.environ plus what lets a child `import btfm` from this tree, same library."""
    import btfm

    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(
        [str(PACKAGE_ROOT)] + [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p])
    if os.path.isabs(btfm.library_path):
        env["BTFM_LIBRARY"] = btfm.library_path
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.update(extra)
    return env


@pytest.fixture
def restore_log_state():
    """Put the library's log level and handler back after a test that changes them."""
    import btfm

    level = btfm.get_log_level()
    yield
    btfm.set_log_handler(None)
    btfm.set_log_level(level)
