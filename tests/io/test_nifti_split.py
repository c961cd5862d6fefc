"""Large .nii.gz files (9 MiB and more compressed) read to their last volume, which libbtfm
inflates on two threads (the second from a deflate block boundary past the middle), against
nibabel on the same files: written by Python's gzip at levels 1 and 6 and by the gzip
command at -9, read whole and through a mask; two members (read the ordinary way) and
damaged files, whose errors must be those of the same read on one thread."""

import gzip
import os
import re
import struct
import subprocess
import zlib

import nibabel as nib
import numpy as np
import pytest

import btfm

SHAPE = (37, 41, 23)  # odd sizes
NT = 149              # prime
MIN_BYTES = 9 << 20   # the two-thread read needs 8 MiB of compressed data


@pytest.fixture(scope="module")
def nii(tmp_path_factory):
    """An int16 .nii by nibabel: noise around three levels, like voxels of a volume. Wide
    noise keeps zlib fast and the member large."""
    rng = np.random.default_rng(2026)
    levels = rng.choice([0, 812, 1433], size=SHAPE)
    data = (levels[..., None] + rng.integers(-8000, 8001, size=SHAPE + (NT,))).astype(np.int16)
    path = tmp_path_factory.mktemp("split") / "run.nii"
    nib.save(nib.Nifti1Image(data, np.eye(4), dtype=np.int16), str(path))
    return path


def nibabel_matrix(path, mask=None):
    """(n_times, n_voxels): voxels in the file's order (x fastest), or nibabel's
    data[mask] order with a mask."""
    data = nib.load(str(path)).get_fdata(dtype=np.float32)
    if mask is not None:
        return data[mask].T
    return data.reshape((-1, data.shape[3]), order="F").T


def read(path, mask=None):
    with btfm.open(str(path), mask=mask, voxel_order="C" if mask is not None else None) as ds:
        return ds.read(0, ds.n_times)


def write(path, data):
    path.write_bytes(data)
    return path


@pytest.fixture(scope="module")
def level1(nii):
    """The .nii by Python's gzip at level 1."""
    return gzip.compress(nii.read_bytes(), 1)


@pytest.fixture(scope="module")
def truth(nii):
    return nibabel_matrix(nii)


@pytest.mark.parametrize("writer", ["python-1", "python-6", "gzip-9"])
def test_large_files_whole_and_masked(nii, level1, tmp_path, writer):
    path = tmp_path / "run.nii.gz"
    if writer == "gzip-9":
        with open(path, "wb") as out:
            subprocess.run(["gzip", "-9", "-c", str(nii)], stdout=out, check=True)
    else:
        write(path, level1 if writer == "python-1" else gzip.compress(nii.read_bytes(), 6))
    assert os.path.getsize(path) >= MIN_BYTES
    expected = nibabel_matrix(path)
    assert expected.shape == (NT, np.prod(SHAPE))
    np.testing.assert_array_equal(read(path), expected)
    mask = np.random.default_rng(3).random(SHAPE) < 0.3
    np.testing.assert_array_equal(read(path, mask), nibabel_matrix(path, mask))


def test_two_members(nii, truth, tmp_path):
    """Two members: the second thread's tail would end at the first member's end, not at
    the trailer, so the read is the ordinary one, with all the data."""
    raw = nii.read_bytes()
    cut = len(raw) * 5 // 8  # the first member holds where the second thread searches
    path = write(tmp_path / "two.nii.gz", gzip.compress(raw[:cut], 1) + gzip.compress(raw[cut:], 1))
    assert os.path.getsize(path) >= MIN_BYTES
    np.testing.assert_array_equal(read(path), truth)


def error_of(path, monkeypatch=None, threads=None):
    if threads is not None:
        monkeypatch.setenv("BTFM_NUM_THREADS", str(threads))
    try:
        with pytest.raises(btfm.Error) as e:
            read(path)
    finally:
        if threads is not None:
            monkeypatch.delenv("BTFM_NUM_THREADS")
    return e.value.status_name, e.value.message


def inflated_length(member):
    """The length of what a member's deflate data inflates to (zlib, no trailer check)."""
    d = zlib.decompressobj(-15)
    return len(d.decompress(member[10:]))


@pytest.mark.parametrize("fraction", [0.93, 0.3])
def test_flipped_bit_fails_as_on_one_thread(level1, truth, tmp_path, monkeypatch, fraction):
    """A bit flipped in the second thread's part of the member (0.93) or the first's (0.3):
    the same status and message as the read on one thread, which reads the member in
    order (for these flips, the CRC-32 check at its end)."""
    bad = bytearray(level1)
    bad[int(len(bad) * fraction)] ^= 0x10
    path = write(tmp_path / "bad.nii.gz", bytes(bad))
    two = error_of(path)
    one = error_of(path, monkeypatch, threads=1)
    assert two == one, (two, one)
    assert two[0] == "BTFM_E_FORMAT" and re.search(r"byte \d+ of the uncompressed data: the "
                                                   r"CRC-32 check failed", two[1]), two
    with btfm.open(str(path)) as ds:  # the volumes before the damage are right
        np.testing.assert_array_equal(ds.read(0, 2), truth[:2])


def test_damaged_member_longer_than_the_data(level1, tmp_path, monkeypatch):
    """64 zero bytes in the first third of the member: it still inflates, to a few bytes
    more than its ISIZE and than the header needs, with other data from the damage on
    (zlib: "incorrect data check"). The read must fail (CRC-32 or length), on two threads
    and on one, rather than return that data."""
    bad = bytearray(level1)
    at = len(bad) * 3 // 10
    bad[at:at + 64] = bytes(64)
    bad = bytes(bad)
    assert inflated_length(bad) > struct.unpack("<I", bad[-4:])[0]
    with pytest.raises(zlib.error, match="incorrect data check"):
        zlib.decompress(bad, 31)
    path = write(tmp_path / "longer.nii.gz", bad)
    two = error_of(path)
    one = error_of(path, monkeypatch, threads=1)
    assert two == one, (two, one)
