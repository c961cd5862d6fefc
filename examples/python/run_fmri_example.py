#!/usr/bin/env python3
"""Test driver of fmri_volume.py: writes a small simulated run with nibabel, runs the
example on it and checks what it prints against the simulation."""

import os
import subprocess
import sys
import tempfile

import nibabel as nib
import numpy as np

example = sys.argv[1]
with tempfile.TemporaryDirectory() as folder:
    shape = (16, 18, 14)
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    inside = x ** 2 / 0.5 + y ** 2 / 0.6 + z ** 2 / 0.4 < 1
    rng = np.random.default_rng(0)
    data = np.where(inside, 900.0, 50.0)[..., None] + rng.normal(0, 10, shape + (20,))
    img = nib.Nifti1Image(data.astype(np.int16), np.diag([3.0, 3.0, 3.0, 1.0]))
    img.header["pixdim"][4] = 2.0
    run = os.path.join(folder, "run_bold.nii.gz")
    nib.save(img, run)
    out = subprocess.run([sys.executable, example, run], check=True, capture_output=True,
                         text=True).stdout
    print(out)
    assert "16 x 18 x 14 voxels x 20 volumes, TR 2 s" in out, out
    kept = int(out.split("keeps ")[1].split()[0])
    # the EPI rule recovers the simulated brain, less a rim its opening trims off a brain
    # this small (608 voxels)
    assert 0.85 * inside.sum() < kept <= inside.sum(), (kept, inside.sum())
    assert "wrote (16, 18, 14, 20)" in out, out
