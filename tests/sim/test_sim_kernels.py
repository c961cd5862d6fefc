"""The simulators give the same bytes under every OpenBLAS kernel family and thread count,
and the same data as on the machine that recorded DIGESTS below: a small rating session
(EDF+, fMRI on) and a shared-response session (NIfTI, and EDF) written by `btfm sim` in
child processes with OPENBLAS_CORETYPE set to each family. The recorded digests cover the
data (recordings, the decompressed NIfTI payloads, the truth tables) but not JSON
sidecars, which carry the library version. A change of the generative model changes the
digests on purpose: record the new ones (run this file with --print) and say why in the
commit."""
import gzip
import hashlib
import os
import sys
import tempfile
import unittest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from cli_support import program, run  # noqa: E402

program()  # the btfm under test: the first argument
FAMILIES = ["Prescott", "Nehalem", "Sandybridge", "Haswell", "SkylakeX"]

SESSIONS = {
    "rating": ["rating-session", "n_annotators=2", "n_items=6", "n_channels=8", "sfreq=125",
               "n_pairs=4", "fmri=1", "fmri_voxel_mm=8"],
    "shared-nifti": ["shared-response", "n_subjects=3", "n_times=40", "n_components=4"],
    "shared-edf": ["shared-response", "n_subjects=2", "n_times=200", "n_components=3",
                   "format=1", "n_channels=16"],
}

# sha256 of the data of each session (see data_digest), recorded on x86-64 Linux.
DIGESTS = {
    "rating": "ed84ad1badb1486fd4201e30abd1a77b1f9a68e42b4b7cef1b6f16a73df45f0a",
    "shared-nifti": "77d3ad19d143db2bf34ff9be28dbb463499dde98636ffd07b55c3871e9f46a2d",
    "shared-edf": "c21950031fc0614d380909160a1dec40296ba55a6d5623b952958d647b28a4dc",
}


def write(name, out, family, threads):
    kind, *params = SESSIONS[name]
    argv = ["sim", kind, out]
    for p in params + [f"num_threads={threads}"] * (kind == "rating-session"):
        argv += ["--param", p]
    env = dict(os.environ, OPENBLAS_CORETYPE=family, OPENBLAS_NUM_THREADS="1",
               BTFM_PROGRESS="never")
    r = run(*argv, env=env)
    if r.returncode:
        raise AssertionError(f"btfm {' '.join(argv)}: {r.stderr}")


def files(root):
    for d, _, names in os.walk(root):
        for n in names:
            path = os.path.join(d, n)
            yield os.path.relpath(path, root), path


def raw_digest(root):
    h = hashlib.sha256()
    for rel, path in sorted(files(root)):
        h.update(rel.encode() + b"\0")
        with open(path, "rb") as f:
            h.update(f.read())
    return h.hexdigest()


def data_digest(root):
    """The data, independent of zlib and of the version the sidecars name."""
    h = hashlib.sha256()
    for rel, path in sorted(files(root)):
        if rel.endswith(".json") or os.path.basename(rel) == "README":
            continue
        with open(path, "rb") as f:
            raw = f.read()
        h.update(rel.encode() + b"\0")
        h.update(gzip.decompress(raw) if rel.endswith(".gz") else raw)
    return h.hexdigest()


class Determinism(unittest.TestCase):
    def test_same_bytes_under_every_kernel_family_and_as_recorded(self):
        with tempfile.TemporaryDirectory() as tmp:
            for name in SESSIONS:
                raw, data = set(), set()
                for i, family in enumerate(FAMILIES):
                    out = os.path.join(tmp, f"{name}-{family}")
                    write(name, out, family, threads=1 + i % 3)
                    raw.add(raw_digest(out))
                    data.add(data_digest(out))
                self.assertEqual(len(raw), 1, f"{name}: files differ between kernel families")
                self.assertEqual(data.pop(), DIGESTS[name],
                                 f"{name}: the data differ from the recorded digest")


if __name__ == "__main__":
    if "--print" in sys.argv:
        with tempfile.TemporaryDirectory() as tmp:
            for name in SESSIONS:
                out = os.path.join(tmp, name)
                write(name, out, "Haswell", 1)
                print(f'    "{name}": "{data_digest(out)}",')
        sys.exit(0)
    unittest.main(verbosity=2)
