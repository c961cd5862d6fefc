#!/usr/bin/env python3
"""NIfTI load-and-mask speed, side by side in one run on the same files with a warm page
cache: a 64 x 64 x 36 x 300 int16 run (about 88 MB) masked to an n_times x n_voxels
float32 matrix.

  .nii     libbtfm: btfm.open(path, mask=mask_path).data
           nibabel: nib.load(path).get_fdata()[mask].T (what apply_mask-style code does)
  .nii.gz  the same, plus `zcat file > /dev/null` (the time just to inflate the file);
           the inflate libbtfm uses (ISA-L, or zlib in builds without it) is printed

Peak memory (maximum resident set size) of each reader is measured in a fresh child
process, next to the data's own size.

    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        /usr/bin/python3 bench/bench_nifti.py [--runs 5] [--quick]

Figures: doc/volumes.md.
"""

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time

import nibabel as nib
import numpy as np

import btfm

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from sidebyside import race, record  # noqa: E402

SHAPE = (64, 64, 36, 300)


def write_files(folder):
    rng = np.random.default_rng(0)
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in SHAPE[:3]], indexing="ij")
    inside = (x / 0.8) ** 2 + (y / 0.9) ** 2 + (z / 0.8) ** 2 < 1
    base = np.where(inside, 800, 30).astype(np.int16)
    data = base[..., None] + rng.integers(-40, 40, SHAPE, dtype=np.int16)
    affine = np.diag([3.0, 3.0, 3.5, 1.0])
    paths = {}
    for ext in (".nii", ".nii.gz"):
        img = nib.Nifti1Image(data, affine, dtype=np.int16)
        img.header["pixdim"][4] = 2.0
        paths[ext] = os.path.join(folder, "run" + ext)
        nib.save(img, paths[ext])
    mask_path = os.path.join(folder, "mask.nii.gz")
    nib.save(nib.Nifti1Image(inside.astype(np.uint8), affine), mask_path)
    return paths, mask_path, inside


def warm(path):
    with open(path, "rb") as f:
        while f.read(1 << 24):
            pass


def best_time(fn, runs):
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times)


# VmHWM (this process's peak resident set since exec) rather than ru_maxrss, which a
# child inherits from the process it was forked from.
HWM = "hwm = lambda: int([l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]); "
CHILD = {
    "btfm": ("import btfm, sys; " + HWM + "r0 = hwm(); "
             "x = btfm.open(sys.argv[1], mask=sys.argv[2]).data"),
    "nibabel": ("import nibabel as nib, numpy as np, sys; " + HWM + "r0 = hwm(); "
                "m = nib.load(sys.argv[2]).get_fdata() != 0; "
                "x = nib.load(sys.argv[1]).get_fdata()[m].T"),
}


def peak_mb(which, path, mask_path):
    """Peak resident memory a load adds to a fresh interpreter that has imported the
    reader (the high-water mark after the load minus the one before it), in MB."""
    code = CHILD[which] + "; print((hwm() - r0) / 1024)"
    out = subprocess.run([sys.executable, "-c", code, path, mask_path], check=True,
                         capture_output=True, text=True).stdout
    return float(out.strip())


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="3 runs, no memory peaks, .nii only")
    args = parser.parse_args()
    if args.quick:
        args.runs = 3
    with tempfile.TemporaryDirectory() as folder:
        paths, mask_path, inside = write_files(folder)
        n_vox = int(inside.sum())
        print(f"libbtfm {btfm.__version__}, .nii.gz inflated by {btfm.runtime_info()['inflate']}; "
              f"load average {os.getloadavg()[0]:.1f}")
        print(f"{SHAPE} int16 run, {os.path.getsize(paths['.nii']) / 1e6:.1f} MB .nii, "
              f"{os.path.getsize(paths['.nii.gz']) / 1e6:.1f} MB .nii.gz; mask of {n_vox} voxels; "
              f"output {SHAPE[3]} x {n_vox} float32 = {SHAPE[3] * n_vox * 4 / 1e6:.1f} MB")
        if args.quick:
            del paths[".nii.gz"]
        peaks = {} if args.quick else {
            ext: (peak_mb("btfm", path, mask_path), peak_mb("nibabel", path, mask_path))
            for ext, path in paths.items()}
        mask = nib.load(mask_path).get_fdata() != 0
        for ext, path in paths.items():
            warm(path)
            ours = btfm.open(path, mask=mask_path).data
            ref = nib.load(path).get_fdata()[mask].T
            # the same voxel set and values (nibabel's order is C order of the grid)
            assert ours.shape == ref.shape
            assert np.array_equal(np.sort(ours[0]), np.sort(ref[0].astype(np.float32)))
            del ours, ref
            with btfm.open(path, mask=mask_path) as ds:
                buf = np.empty((ds.n_times, ds.n_channels), dtype=np.float32)

            def fresh():
                with btfm.open(path, mask=mask_path) as ds:
                    return ds.data

            def reused():
                with btfm.open(path, mask=mask_path) as ds:
                    return ds.read(0, ds.n_times, out=buf)

            theirs = lambda: nib.load(path).get_fdata()[mask].T  # noqa: E731
            print(f"\n{ext}: {args.runs} interleaved runs a side after one warm-up")
            t_fresh, t_nib = race(fresh, theirs, args.runs)
            record("nifti", f"NIfTI {ext} load + mask, fresh array", t_fresh, t_nib,
                   "nibabel get_fdata()[mask]", target=10)
            t_reused, t_nib2 = race(reused, theirs, args.runs)
            record("nifti", f"NIfTI {ext} load + mask, reused array (out=buf)", t_reused, t_nib2,
                   "nibabel get_fdata()[mask]", target=10)
            t_ours = (min(t_fresh), statistics.median(t_fresh))
            t_nib = (min(t_nib), statistics.median(t_nib))
            if ext == ".nii.gz":
                t_zcat = best_time(lambda: subprocess.run(
                    f"zcat {path} > /dev/null", shell=True, check=True), args.runs)
                print(f"  zcat     {t_zcat[0] * 1e3:8.1f} ms ({t_zcat[1] * 1e3:.1f})")
                print(f"  libbtfm / zcat: {t_ours[0] / t_zcat[0]:.2f}x; "
                      f"nibabel / zcat: {t_nib[0] / t_zcat[0]:.2f}x")
            if peaks:
                print(f"  peak memory a load adds: libbtfm {peaks[ext][0]:.0f} MB, "
                      f"nibabel {peaks[ext][1]:.0f} MB (the result alone: "
                      f"{SHAPE[3] * n_vox * 4 / 2**20:.0f} MB float32)")


if __name__ == "__main__":
    main()
