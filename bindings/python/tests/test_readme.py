"""The first ```python block of the top-level README.md runs, so it never rots."""

import re
import subprocess
import sys

import pytest

from conftest import SOURCE_ROOT, subprocess_env

README = SOURCE_ROOT / "README.md"


def first_python_block(text):
    """Body of the first ```python fenced block, or None."""
    match = re.search(r"^```python[ \t]*\n(.*?)^```", text, re.S | re.M)
    return match.group(1) if match else None


def test_readme_python_block_runs(tmp_path):
    if not README.is_file():
        pytest.skip(f"{README} does not exist yet")
    block = first_python_block(README.read_text(encoding="utf-8"))
    if block is None:
        pytest.skip(f"{README} has no ```python block")
    script = tmp_path / "readme_block.py"
    script.write_text(block, encoding="utf-8")
    result = subprocess.run([sys.executable, str(script)], env=subprocess_env(), cwd=tmp_path,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, f"README block failed:\n{block}\n{result.stderr}"


def test_block_extraction_takes_the_first_python_block():
    text = "intro\n```c\nint x;\n```\n```python\nprint(1)\n```\n```python\nprint(2)\n```\n"
    assert first_python_block(text) == "print(1)\n"
    assert first_python_block("```pythonic\nx\n```\n") is None
    assert first_python_block("no code here") is None
