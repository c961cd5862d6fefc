"""btfm.spectrum.rfft / irfft against numpy.fft for every length 1..300, primes (Bluestein
above 65), powers of two and a product of six small primes; long lengths on both sides of
the four-step threshold.

Tolerance: max |ours - numpy| <= 1e-12 x max |numpy| per length (double precision);
1e-6 relative for the float32 entry points."""

import ctypes

import numpy as np
import pytest

from btfm import spectrum
from btfm._lib import lib

LENGTHS = list(range(1, 301)) + [1009, 4096, 10007, 2 * 3 * 5 * 7 * 11 * 13, 4 * 97, 2 * 131]


@pytest.mark.parametrize("n", LENGTHS)
def test_rfft_irfft_match_numpy(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((3, n))
    ours = spectrum.rfft(x)
    ref = np.fft.rfft(x)
    scale = np.abs(ref).max()
    assert np.abs(ours - ref).max() <= 1e-12 * scale
    spec = ref + 1j * rng.standard_normal(ref.shape) * (np.arange(ref.shape[1]) > 0)
    back = spectrum.irfft(spec, n)
    ref_back = np.fft.irfft(spec, n)
    assert np.abs(back - ref_back).max() <= 1e-12 * max(np.abs(ref_back).max(), 1e-300)


@pytest.mark.parametrize("n", [7, 64, 250, 1009])
def test_float_entry_points(n):
    x = np.random.default_rng(1).standard_normal(n).astype(np.float32)
    plan = ctypes.c_void_p()
    assert lib.btfm_fft_new(ctypes.byref(plan), n) == 0
    try:
        out = np.empty(2 * (n // 2 + 1), dtype=np.float32)
        fp = ctypes.POINTER(ctypes.c_float)
        assert lib.btfm_fft_rfft_f32(plan, x.ctypes.data_as(fp), out.ctypes.data_as(fp)) == 0
        ref = np.fft.rfft(x.astype(np.float64))
        got = out[0::2] + 1j * out[1::2]
        assert np.abs(got - ref).max() <= 1e-6 * np.abs(ref).max()
        back = np.empty(n, dtype=np.float32)
        assert lib.btfm_fft_irfft_f32(plan, out.ctypes.data_as(fp), back.ctypes.data_as(fp)) == 0
        assert np.abs(back - x).max() <= 1e-6 * np.abs(x).max()
    finally:
        lib.btfm_fft_free(plan)


def test_rfft_pads_and_cuts_like_numpy():
    x = np.arange(10.0)
    np.testing.assert_allclose(spectrum.rfft(x, 16), np.fft.rfft(x, 16), atol=1e-12)
    np.testing.assert_allclose(spectrum.rfft(x, 7), np.fft.rfft(x, 7), atol=1e-12)


@pytest.mark.parametrize("rows", [1, 7, 8, 9, 17, 64])
@pytest.mark.parametrize("n", [1, 2, 15, 512, 10007, 30030])
def test_many_rows_match_numpy(rows, n):
    """The many-row entry points (rows taken several at a time by the vector kernels, a
    partial last group) against numpy.fft, and against the library's one-row transform;
    the cached plan serves repeated calls of one length."""
    rng = np.random.default_rng(rows * 100003 + n)
    x = rng.standard_normal((rows, n))
    ref = np.fft.rfft(x)
    scale = np.abs(ref).max()
    for _ in range(2):
        ours = spectrum.rfft(x)
        assert np.abs(ours - ref).max() <= 1e-12 * scale
    plan = ctypes.c_void_p()
    assert lib.btfm_fft_new(ctypes.byref(plan), n) == 0
    try:
        dp = ctypes.POINTER(ctypes.c_double)
        one = np.empty(n // 2 + 1, dtype=np.complex128)
        row = np.ascontiguousarray(x[-1])
        assert lib.btfm_fft_rfft(plan, row.ctypes.data_as(dp), one.view(np.float64).ctypes.data_as(dp)) == 0
        assert np.abs(one - ours[-1]).max() <= 1e-12 * scale
    finally:
        lib.btfm_fft_free(plan)
    back = spectrum.irfft(ref, n)
    assert np.abs(back - x).max() <= 1e-12 * np.abs(x).max()


def test_many_rows_bad_arguments():
    plan = ctypes.c_void_p()
    assert lib.btfm_fft_new(ctypes.byref(plan), 8) == 0
    try:
        dp = ctypes.POINTER(ctypes.c_double)
        buf = np.zeros(16)
        assert lib.btfm_fft_rfft_rows(plan, buf.ctypes.data_as(dp), -1, buf.ctypes.data_as(dp)) != 0
        assert lib.btfm_fft_rfft_rows(plan, None, 1, buf.ctypes.data_as(dp)) != 0
        assert lib.btfm_fft_irfft_rows(plan, buf.ctypes.data_as(dp), 0, buf.ctypes.data_as(dp)) == 0
    finally:
        lib.btfm_fft_free(plan)


# Long lengths take the four-step path of the batched kernels once a batch of eight
# transforms reaches 1 MiB (complex length 8192: real n = 16384), and of the one-row
# entry points at 16 times that (complex length 65536): just below and at the first
# threshold, Bluestein with a split inner plan (16382 = 2 x 8191, 65537 prime), the
# square split 2^17 (256 x 256, also the one-row threshold), the non-square 2^18
# (256 x 512), a composite 3 x 2^15 (192 x 256) and an odd composite 3^4 5^2 7^2.
FOUR_STEP = [16380, 16382, 16384, 2**17, 3 * 2**15, 2**18, 99225, 65537]


@pytest.mark.parametrize("n", FOUR_STEP)
def test_four_step_lengths_match_numpy(n):
    rng = np.random.default_rng(n)
    x = rng.standard_normal((9, n))  # a full group of eight rows and a partial one
    ref = np.fft.rfft(x)
    scale = np.abs(ref).max()
    assert np.abs(spectrum.rfft(x) - ref).max() <= 1e-12 * scale
    assert np.abs(spectrum.irfft(ref, n) - x).max() <= 1e-12 * np.abs(x).max()
    plan = ctypes.c_void_p()  # the one-row entry points, forward and inverse
    assert lib.btfm_fft_new(ctypes.byref(plan), n) == 0
    try:
        dp = ctypes.POINTER(ctypes.c_double)
        one = np.empty(n // 2 + 1, dtype=np.complex128)
        row = np.ascontiguousarray(x[4])
        assert lib.btfm_fft_rfft(plan, row.ctypes.data_as(dp), one.view(np.float64).ctypes.data_as(dp)) == 0
        assert np.abs(one - ref[4]).max() <= 1e-12 * scale
        back = np.empty(n)
        assert lib.btfm_fft_irfft(plan, one.view(np.float64).ctypes.data_as(dp), back.ctypes.data_as(dp)) == 0
        assert np.abs(back - x[4]).max() <= 1e-12 * np.abs(x).max()
    finally:
        lib.btfm_fft_free(plan)
