"""The run-time report (btfm_runtime_info, `btfm version --verbose`, btfm.runtime_info)
against what the kernel and OpenBLAS say independently: /proc/cpuinfo's model name and
flags, os.cpu_count(), the family forced by OPENBLAS_CORETYPE; and the one-time warning
when OpenBLAS falls back to kernels below the CPU's instruction set (simulated by a
preloaded openblas_get_corename, as no OPENBLAS_CORETYPE may be set then)."""

import os
import subprocess
import sys

import pytest

import btfm

LEVELS = ["sse3", "ssse3", "sse4.1", "sse4.2", "avx", "avx2", "avx512"]
SUGGESTED = {"avx512": "SkylakeX", "avx2": "Haswell", "avx": "Sandybridge",
             "sse4.2": "Nehalem"}


def cpuinfo():
    with open("/proc/cpuinfo") as f:
        text = f.read()
    fields = dict(line.split(":", 1) for line in text.split("\n\n")[0].splitlines()
                  if ":" in line)
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    flags = set(fields.get("flags", "").split())
    isa = "unknown"
    for level, needs in [("sse3", {"pni"}), ("ssse3", {"ssse3"}), ("sse4.1", {"sse4_1"}),
                         ("sse4.2", {"sse4_2"}), ("avx", {"avx"}), ("avx2", {"avx2", "fma"}),
                         ("avx512", {"avx512f", "avx512cd", "avx512bw", "avx512dq",
                                     "avx512vl"})]:
        if needs <= flags:
            isa = level
    return fields.get("model name", ""), flags, isa


def report(env):
    out = subprocess.run([os.environ["BTFM_EXE"], "version", "--verbose"], env=env,
                         capture_output=True, text=True, check=True).stdout
    lines = out.splitlines()[1:]
    return dict(line.split(": ", 1) for line in lines)


def test_report_matches_cpuinfo_and_forced_family():
    model, flags, isa = cpuinfo()
    env = dict(os.environ, OPENBLAS_CORETYPE="Prescott", OPENBLAS_NUM_THREADS="1")
    r = report(env)
    assert r["cpu"] == model
    assert r["cpu_isa"] == isa
    assert {"pni" if f == "sse3" else f for f in r["cpu_features"].split()} <= flags
    assert int(r["cpu_count"]) == os.cpu_count()
    assert r["blas"].startswith("OpenBLAS ")
    assert r["blas_kernels"] == "Prescott" and r["blas_kernels_isa"] == "sse3"
    assert "Prescott" in r["blas_config"]
    assert r["blas_threads"] == "1"
    assert r["OPENBLAS_CORETYPE"] == "Prescott"
    assert r["OMP_NUM_THREADS"] == os.environ.get("OMP_NUM_THREADS", "(unset)")
    if isa in SUGGESTED:
        assert "OPENBLAS_CORETYPE=%s" % SUGGESTED[isa] in r["advice"]
    # the Python binding reports the same in this process
    info = btfm.runtime_info()
    assert info["cpu"] == model and info["version"] == btfm.version()
    assert info["capabilities"].split() == btfm.capabilities()
    # the inflate named is the one the capabilities say was built in
    expected = "isa-l " if "isal" in btfm.capabilities() else "zlib "
    assert r["inflate"].startswith(expected) and info["inflate"] == r["inflate"]


CHILD = """
import btfm, numpy as np
seen = []
btfm.set_log_handler(lambda level, message: seen.append(message))
rng = np.random.default_rng(0)
for _ in range(2):
    subjects = [rng.standard_normal((40, 60)).astype(np.float32) for _ in range(2)]
    btfm.Aligner(method="hyperalignment").fit(subjects)
print(len(seen))
for m in seen:
    print(m)
"""


@pytest.mark.parametrize("family", ["Prescott", "Haswell"])
def test_one_warning_when_kernels_fall_back(family):
    _, _, isa = cpuinfo()
    lib = os.environ["BTFM_FAKE_CORENAME_LIB"]
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    env.update(LD_PRELOAD=lib, BTFM_FAKE_CORENAME=family)
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    below = LEVELS.index(isa) > LEVELS.index({"Prescott": "sse3", "Haswell": "avx2"}[family]) \
        if isa in LEVELS else False
    warnings = [m for m in out[1:] if "OPENBLAS_CORETYPE" in m]
    if below:
        assert int(out[0]) >= 1 and len(warnings) == 1, out
        assert "'%s' kernels" % family in warnings[0]
        assert "OPENBLAS_CORETYPE=%s" % SUGGESTED[isa] in warnings[0]
    else:
        assert warnings == [], out
    # chosen by OPENBLAS_CORETYPE: the host's call, no warning
    env["OPENBLAS_CORETYPE"] = family
    out = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                         text=True, check=True).stdout.splitlines()
    assert [m for m in out[1:] if "OPENBLAS_CORETYPE" in m] == []
