#!/usr/bin/env python3
"""Open an fMRI run (NIfTI), mask it, look at its geometry, average an atlas's regions,
and write a derived result back as a NIfTI image with the run's geometry.

Run from a build tree with:
    BTFM_LIBRARY=build/lib/libbtfm.so.1 PYTHONPATH=bindings/python \\
        python3 examples/python/fmri_volume.py run_bold.nii.gz [mask.nii.gz]

Without a mask the EPI strategy computes one from the data (nilearn's rule).
"""

import os
import sys
import tempfile

import numpy as np

import btfm

if len(sys.argv) not in (2, 3):
    sys.exit("usage: fmri_volume.py RUN.nii[.gz] [MASK.nii[.gz]]")
mask = sys.argv[2] if len(sys.argv) == 3 else "epi"

with btfm.open(sys.argv[1], mask=mask) as ds:
    nx, ny, nz, nt = ds.volume_shape
    print(f"{nx} x {ny} x {nz} voxels x {nt} volumes, TR {ds.zooms[3]:g} s, "
          f"mask '{ds.mask_kind}' keeps {ds.n_channels} voxels")
    print("affine:\n" + np.array2string(ds.affine, precision=3))
    X = ds.data                                     # (n_volumes, n_voxels) float32
    z = (X - X.mean(axis=0)) / (X.std(axis=0) + 1e-12)
    print(f"first voxel at {tuple(ds.voxel_coords[0])}, mean {X[:, 0].mean():.1f}")
    with tempfile.TemporaryDirectory() as folder:
        out = os.path.join(folder, "zscored.nii.gz")
        btfm.from_array(z, ds.sfreq, like=ds).save(out)   # unmasked into the run's grid
        with btfm.open(out) as back:
            print(f"wrote {back.volume_shape} to {os.path.basename(out)}")
