"""SHA-256 and HMAC-SHA-256 of lib/core/sha256.c (with the SHA extensions where the CPU has
them, and the portable kernel) against Python's hashlib and hmac, on
sizes around the 64-byte block and its 55/56-byte padding boundary, and keys shorter than,
equal to and longer than a block."""
import hashlib
import hmac
import os
import random
import subprocess

import pytest

TOOL = os.environ["BTFM_HASH_TOOL"]
SIZES = [0, 1, 3, 55, 56, 57, 63, 64, 65, 119, 120, 127, 128, 129, 1000, 65535, 65536,
         65537, 200003]


def run(*args):
    return subprocess.run([TOOL, *map(str, args)], check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.mark.parametrize("size", SIZES)
def test_sha256_matches_hashlib(tmp_path, size):
    data = random.Random(size).randbytes(size)
    path = tmp_path / "data.bin"
    path.write_bytes(data)
    assert run("sha256", path) == hashlib.sha256(data).hexdigest()
    assert run("sha256-scalar", path) == hashlib.sha256(data).hexdigest()
    for piece in (1, 7, 64, 100):
        if size <= 4096:
            assert run("sha256-split", path, piece) == hashlib.sha256(data).hexdigest()


@pytest.mark.parametrize("key_size", [0, 1, 20, 63, 64, 65, 131])
@pytest.mark.parametrize("size", [0, 5, 64, 1000])
def test_hmac_matches_python(tmp_path, key_size, size):
    rng = random.Random(key_size * 1000 + size)
    key, data = rng.randbytes(key_size), rng.randbytes(size)
    (tmp_path / "key").write_bytes(key)
    (tmp_path / "data").write_bytes(data)
    expected = hmac.new(key, data, hashlib.sha256).hexdigest()
    assert run("hmac", tmp_path / "key", tmp_path / "data") == expected


def test_missing_file_is_an_error_naming_it(tmp_path):
    r = subprocess.run([TOOL, "sha256", str(tmp_path / "absent.edf")], capture_output=True,
                       text=True)
    assert r.returncode == 1 and "absent.edf" in r.stderr
