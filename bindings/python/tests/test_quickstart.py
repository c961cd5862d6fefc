"""examples/python/quickstart.py runs as a user would run it and reports what it did."""

import subprocess
import sys

import pytest

import btfm
from conftest import SOURCE_ROOT, subprocess_env

QUICKSTART = SOURCE_ROOT / "examples" / "python" / "quickstart.py"


def test_quickstart_runs_and_reports_a_faithful_round_trip(tmp_path):
    if not QUICKSTART.is_file():
        pytest.skip(f"{QUICKSTART} not found")
    result = subprocess.run([sys.executable, str(QUICKSTART)], env=subprocess_env(),
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert f"libbtfm {btfm.version()} (package {btfm.__version__})" in out
    assert f"capabilities: {' '.join(btfm.capabilities())}" in out
    for param in btfm.param_info("container"):
        assert f"  {param.name} ({param.type}, default {param.default}" in out
    assert "loaded 'quickstart' with arrays ['weights', 'labels', 'note']" in out
    assert "weights: f32 shape (2, 3)" in out and "labels: i64 shape (4,)" in out
    assert "round trip identical: True" in out
    assert "note: fitted on subject 01" in out
    assert "loading it as an aligner fails: BTFM_E_KIND" in out
    assert list(tmp_path.iterdir()) == []  # the example cleans up after itself
