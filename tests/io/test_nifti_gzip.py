"""Compressed NIfTI (.nii.gz) read by libbtfm's gzip reader (ISA-L's inflate, or zlib's in
builds without it) against nibabel on the same files: files written by nibabel, by the
gzip command at levels 1 and 9, several members (cat a.gz b.gz, bgzip-style blocks with an
extra field), reads large enough to inflate on one thread while another gathers (and the
same reads on one thread; every datatype through the gzip reader is in
test_nifti_interop.py), volume counts around the three buffers of that overlap, windows out
of order and backwards; damaged files give clear errors."""

import gzip
import os
import struct
import subprocess
import zlib

import nibabel as nib
import numpy as np
import pytest

import btfm

PIPELINE_BYTES = 4_200_000  # a read inflating more than 4e6 bytes uses two threads


def as_matrix(data4d):
    """(n_times, n_voxels) in the Fortran voxel order libbtfm uses."""
    nx, ny, nz, nt = data4d.shape
    return data4d.reshape((nx * ny * nz, nt), order="F").T


def nibabel_matrix(path):
    return as_matrix(nib.load(path).get_fdata()).astype(np.float32)


def read(path, start=0, stop=None, picks=None):
    with btfm.open(path) as ds:
        return ds.read(start, ds.n_times if stop is None else stop, picks=picks)


@pytest.mark.parametrize("dtype", [np.int16, np.float64], ids=lambda d: np.dtype(d).name)
def test_two_threads_and_one(tmp_path, dtype, monkeypatch):
    shape = (61, 53, 29)  # primes
    nt = -(-PIPELINE_BYTES // (np.prod(shape) * np.dtype(dtype).itemsize))
    rng = np.random.default_rng(np.dtype(dtype).itemsize)
    data = rng.integers(0, 100, size=shape + (nt,)).astype(dtype)
    img = nib.Nifti1Image(data, np.eye(4), dtype=dtype)
    if np.dtype(dtype).kind != "f":
        img.header.set_slope_inter(0.25, -3.0)  # scaled as nibabel scales
    path = str(tmp_path / "d.nii.gz")
    nib.save(img, path)
    expected = nibabel_matrix(path)
    picks = np.sort(rng.choice(expected.shape[1], 5000, replace=False))  # many runs
    two = read(path)
    two_picked = read(path, picks=picks)
    monkeypatch.setenv("BTFM_NUM_THREADS", "1")
    one = read(path)
    np.testing.assert_array_equal(two, expected)
    np.testing.assert_array_equal(two_picked, expected[:, picks])
    np.testing.assert_array_equal(one, expected)


def run_file(tmp_path, shape=(23, 19, 17), nt=11, dtype=np.float32):
    """A run written by nibabel as .nii: smooth values with noise, like EPI."""
    rng = np.random.default_rng(5)
    x = np.linspace(0, 3, np.prod(shape), dtype=np.float32).reshape(shape)
    data = (np.sin(x)[..., None] * 100 + rng.integers(0, 8, shape + (nt,))).astype(dtype)
    path = str(tmp_path / "run.nii")
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    return path


def member(data, level=6, extra=None, name=None):
    """One gzip member by hand (RFC 1952): optional FEXTRA and FNAME fields."""
    flags = (4 if extra is not None else 0) | (8 if name is not None else 0)
    head = b"\x1f\x8b\x08" + bytes([flags]) + b"\0\0\0\0\0\x03"
    if extra is not None:
        head += struct.pack("<H", len(extra)) + extra
    if name is not None:
        head += name + b"\0"
    body = zlib.compressobj(level, zlib.DEFLATED, -15)
    return head + body.compress(data) + body.flush() + struct.pack(
        "<II", zlib.crc32(data), len(data) & 0xFFFFFFFF)


WINDOWS = [(5, 9), (0, 3), (2, 6), (8, 11), (1, 2), (0, 11), (6, 10), (3, 8)]


def test_gzip_command_members_and_windows(tmp_path):
    src = run_file(tmp_path)
    raw = open(src, "rb").read()
    files = {}
    for level in ("-1", "-9"):
        out = str(tmp_path / f"l{level}.nii.gz")
        with open(out, "wb") as f:
            subprocess.run(["gzip", level, "-c", src], stdout=f, check=True)
        files[level] = out
    # cat a.gz b.gz, split inside a volume at an odd byte
    cut = 352 + 3 * 23 * 19 * 17 * 4 + 7
    files["cat"] = str(tmp_path / "cat.nii.gz")
    open(files["cat"], "wb").write(gzip.compress(raw[:cut]) + gzip.compress(raw[cut:]))
    # bgzip-style: blocks (of 30011 bytes here), each a member with a "BC" extra field, the
    # empty end-of-file member, and one member with a file name
    blocks = [member(raw[i:i + 30011], 1, extra=b"BC\x02\x00\x00\x00")
              for i in range(0, len(raw) - 30011, 30011)]
    tail = raw[len(blocks) * 30011:]
    files["bgzf"] = str(tmp_path / "bgzf.nii.gz")
    open(files["bgzf"], "wb").write(b"".join(blocks) + member(tail, 9, name=b"run.nii")
                                    + member(b"", 1, extra=b"BC\x02\x00\x00\x00"))
    truth = nibabel_matrix(src)
    for key, path in files.items():
        np.testing.assert_array_equal(nibabel_matrix(path), truth)  # nibabel agrees
        with btfm.open(path) as ds:
            for start, stop in WINDOWS:  # out of order and backwards
                np.testing.assert_array_equal(ds.read(start, stop), truth[start:stop],
                                              err_msg=f"{key} [{start}, {stop})")


def test_counts_around_the_overlap_depth(tmp_path):
    """1.7 MB volumes: reads of 3 volumes and more overlap inflating and gathering through
    three buffers; 1 and 2 run on one thread."""
    src = run_file(tmp_path, shape=(67, 61, 53), nt=6, dtype=np.float64)
    path = src + ".gz"
    open(path, "wb").write(gzip.compress(open(src, "rb").read(), 1))
    truth = nibabel_matrix(path)
    with btfm.open(path) as ds:
        for start, stop in [(0, 3), (1, 5), (2, 6), (0, 6), (4, 5), (0, 2), (3, 6), (0, 4)]:
            np.testing.assert_array_equal(ds.read(start, stop), truth[start:stop],
                                          err_msg=f"[{start}, {stop})")


def test_damaged_files_fail_clearly(tmp_path):
    src = run_file(tmp_path, shape=(31, 29, 23), nt=9)
    raw = open(src, "rb").read()
    good = gzip.compress(raw, 6)
    truth = nibabel_matrix(src)

    def attempt(data, name):
        path = str(tmp_path / name)
        open(path, "wb").write(data)
        with btfm.open(path) as ds:
            return ds.read(0, ds.n_times)

    def fails(data, name, status, pattern):
        with pytest.raises(btfm.Error, match=pattern) as e:
            attempt(data, name)
        assert e.value.status_name in status, e.value

    # bytes after the last member are ignored, as gzip and nibabel ignore them
    np.testing.assert_array_equal(attempt(good + b"\0\0garbage", "tail.nii.gz"), truth)
    crc = bytearray(good)
    crc[-8] ^= 1
    fails(bytes(crc), "crc.nii.gz", ["BTFM_E_FORMAT"], r"volume \d: corrupted gzip data at "
          r"byte \d+ of the uncompressed data: the CRC-32 check failed")
    fails(good[:len(good) * 3 // 4], "cut.nii.gz", ["BTFM_E_TRUNCATED"],
          "ends inside a compressed member")
    # garbage between two members ends the data early
    half = len(raw) // 2
    fails(gzip.compress(raw[:half]) + b"junk" + gzip.compress(raw[half:]), "mid.nii.gz",
          ["BTFM_E_TRUNCATED"], "shorter than its header says")
    # flipped bytes in the compressed body: an error naming the byte, never a crash
    rng = np.random.default_rng(9)
    for k, at in enumerate(rng.integers(2000, len(good) - 8, 12)):
        bad = bytearray(good)
        bad[at] ^= 1 << int(rng.integers(8))
        fails(bytes(bad), f"flip{k}.nii.gz", ["BTFM_E_FORMAT", "BTFM_E_TRUNCATED"],
              r"byte \d+ of the uncompressed data")
