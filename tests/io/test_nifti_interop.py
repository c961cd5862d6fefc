"""NIfTI volumes read by libbtfm compared with nibabel on the same files: files written by
nibabel here (every datatype, NIfTI-1 and NIfTI-2, .nii/.nii.gz/.hdr+.img, big-endian,
scaled, sform/qform/pixdim affines) and the real files nibabel ships in its test data.
Masks are compared with a SciPy implementation of nilearn's documented rules (nilearn
itself is not packaged here); files written by libbtfm are read back by nibabel."""

import json
import os
import subprocess

import nibabel as nib
import numpy as np
import pytest
from scipy import ndimage

import btfm

NIBABEL_DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")


def reference(img):
    """What a nibabel user gets: get_fdata() as (nx, ny, nz, nt) float64."""
    data = img.get_fdata()
    return data if data.ndim == 4 else data[..., np.newaxis]


def as_matrix(data4d):
    """(n_times, n_voxels) in the Fortran voxel order libbtfm uses."""
    nx, ny, nz, nt = data4d.shape
    return data4d.reshape((nx * ny * nz, nt), order="F").T


def compare(path, img, rtol=0.0):
    expected = as_matrix(reference(img))
    with btfm.open(path) as ds:
        assert ds.format == "nifti"
        assert ds.volume_shape == reference(img).shape
        got = ds.data
        np.testing.assert_allclose(ds.affine, img.affine, rtol=1e-6, atol=1e-5)
        tr = img.header.get_zooms()[3] if len(img.shape) > 3 else 0.0
        units = img.header.get_xyzt_units()[1]
        tr *= {"msec": 1e-3, "usec": 1e-6}.get(units, 1.0)
        if len(img.shape) > 3 and tr > 0:
            assert ds.sfreq == pytest.approx(1.0 / tr)
        assert ds.channels[0].type == "bold"
    # float32 output: equal to the float32 rounding of nibabel's float64 values
    np.testing.assert_array_equal(got, expected.astype(np.float32))


DTYPES = [np.uint8, np.int8, np.int16, np.uint16, np.int32, np.uint32, np.int64,
          np.uint64, np.float32, np.float64]


@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("ext", [".nii", ".nii.gz"])
def test_every_datatype_matches_nibabel(tmp_path, dtype, ext):
    rng = np.random.default_rng(1)
    info = np.iinfo(dtype) if np.issubdtype(dtype, np.integer) else None
    if info is not None:
        lo, hi = max(info.min, -30000), min(info.max, 30000)
        data = rng.integers(lo, hi, size=(5, 6, 4, 7), endpoint=True).astype(dtype)
    else:
        data = rng.standard_normal((5, 6, 4, 7)).astype(dtype) * 100
    affine = np.array([[-2.0, 0, 0, 90], [0, 2.5, 0, -126], [0, 0, 3, -72], [0, 0, 0, 1]])
    img = nib.Nifti1Image(data, affine, dtype=dtype)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.0
    path = str(tmp_path / ("x" + ext))
    nib.save(img, path)
    compare(path, nib.load(path))


def test_scaling_big_endian_and_units(tmp_path):
    data = np.arange(4 * 3 * 2 * 5, dtype=np.int16).reshape((4, 3, 2, 5))
    header = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(data, np.diag([3.0, 3.0, 4.0, 1.0]), header)
    img.header.set_slope_inter(0.25, -7.5)
    img.header.set_xyzt_units("mm", "msec")
    img.header["pixdim"][4] = 1500.0
    path = str(tmp_path / "be.nii")
    nib.save(img, path)
    back = nib.load(path)
    assert back.header.endianness == ">"
    compare(path, back)
    with btfm.open(path) as ds:
        assert ds.zooms == pytest.approx((3.0, 3.0, 4.0, 1.5))
        assert ds.sfreq == pytest.approx(1 / 1.5)
        # the scaling formula, independent of nibabel
        np.testing.assert_allclose(ds.data[:, 0], 0.25 * data[0, 0, 0, :] - 7.5)


def test_zero_or_nan_slope_means_no_scaling(tmp_path):
    data = np.arange(24, dtype=np.int16).reshape((2, 3, 4))
    for slope in (0.0, np.nan):
        img = nib.Nifti1Image(data, np.eye(4))
        path = str(tmp_path / "s.nii")
        nib.save(img, path)
        raw = bytearray(open(path, "rb").read())
        raw[112:116] = np.float32(slope).tobytes()  # scl_slope
        raw[116:120] = np.float32(5.0).tobytes()    # scl_inter, ignored with it
        open(path, "wb").write(raw)
        with btfm.open(path) as ds:
            np.testing.assert_array_equal(ds.data[0], data.ravel(order="F"))


def test_affine_rule_sform_then_qform_then_pixdim(tmp_path):
    data = np.zeros((4, 5, 6), np.float32)
    sform = np.array([[0, -2.0, 0, 10], [3.0, 0, 0, -20], [0, 0, 1.5, 5], [0, 0, 0, 1]])
    qform = np.array([[-2.0, 0, 0, 30], [0, 2.0, 0, -40], [0, 0, 2.0, 50], [0, 0, 0, 1]])
    cases = [("both", 2, 1), ("qform only", 0, 1), ("neither", 0, 0)]
    for name, scode, qcode in cases:
        img = nib.Nifti1Image(data, None)
        img.header.set_zooms((2.0, 2.0, 2.0))
        img.set_sform(sform, code=scode)
        img.set_qform(qform, code=qcode)
        path = str(tmp_path / f"{name.replace(' ', '_')}.nii")
        nib.save(img, path)
        back = nib.load(path)
        with btfm.open(path) as ds:
            np.testing.assert_allclose(ds.affine, back.affine, atol=1e-5, err_msg=name)
    # "neither": nibabel's base affine, by hand: x flipped, grid centre at the origin
    np.testing.assert_allclose(back.affine[:3, 3], [3.0, -4.0, -5.0])


def test_nifti2_and_hdr_img_pairs(tmp_path):
    rng = np.random.default_rng(2)
    data = rng.standard_normal((6, 5, 4, 3)).astype(np.float32)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    p2 = str(tmp_path / "two.nii.gz")
    nib.save(nib.Nifti2Image(data, affine), p2)
    compare(p2, nib.load(p2))
    pair = str(tmp_path / "pair.img")
    nib.save(nib.Nifti1Pair(data, affine), pair)
    assert os.path.exists(str(tmp_path / "pair.hdr"))
    compare(str(tmp_path / "pair.hdr"), nib.load(pair))
    compare(pair, nib.load(pair))


@pytest.mark.parametrize("name", ["example4d.nii.gz", "example_nifti2.nii.gz",
                                  "functional.nii", "anatomical.nii", "standard.nii.gz",
                                  "reoriented_anat_moved.nii"])
def test_files_shipped_with_nibabel(name):
    path = os.path.join(NIBABEL_DATA, name)
    if not os.path.exists(path):
        pytest.skip(f"{name} is not in this nibabel's test data")
    compare(path, nib.load(path))


def test_windows_and_picks_equal_the_whole_read(tmp_path):
    rng = np.random.default_rng(3)
    data = rng.integers(-500, 500, size=(7, 6, 5, 20)).astype(np.int16)
    path = str(tmp_path / "w.nii.gz")
    nib.save(nib.Nifti1Image(data, np.eye(4)), path)
    expected = as_matrix(data.astype(np.float64)).astype(np.float32)
    with btfm.open(path) as ds:
        np.testing.assert_array_equal(ds.read(12, 17), expected[12:17])
        np.testing.assert_array_equal(ds.read(3, 9), expected[3:9])  # backwards in gzip
        picks = [5, 0, 100, 17]
        np.testing.assert_array_equal(ds.read(0, 20, picks=picks), expected[:, picks])
        np.testing.assert_array_equal(ds.read_native(100), expected[:, 100])


# ---- masks ----

def brain_like(shape=(20, 22, 18), n_times=12, seed=4):
    """An ellipsoid of signal on a noisy low background, like raw EPI."""
    rng = np.random.default_rng(seed)
    x, y, z = np.meshgrid(*[np.linspace(-1, 1, n) for n in shape], indexing="ij")
    inside = (x / 0.7) ** 2 + (y / 0.8) ** 2 + (z / 0.6) ** 2 < 1
    base = np.where(inside, 800.0, 40.0) + rng.normal(0, 15, shape)
    data = base[..., None] + rng.normal(0, 10, shape + (n_times,))
    return data.astype(np.float32), inside


def nilearn_epi_mask(data4d):
    """nilearn.masking.compute_epi_mask with its defaults, as documented and written in
    nilearn (mean, FWHM-1-voxel smoothing, histogram gap between the 0.2 and 0.85
    quantiles, opening 2, largest connected component)."""
    mean = data4d.astype(np.float64).mean(axis=-1)
    nan_mask = np.isnan(mean)
    mean[~np.isfinite(mean)] = 0
    sigma = 1.0 / np.sqrt(8 * np.log(2))
    for axis in range(3):
        ndimage.gaussian_filter1d(mean, sigma, output=mean, axis=axis)
    mean[nan_mask] = np.nan
    mean[~np.isfinite(mean)] = 0
    s = np.sort(mean.ravel())
    lo = int(np.floor(0.2 * len(s)))
    hi = min(int(np.floor(0.85 * len(s))), len(s) - 1)
    ia = (s[lo + 1:hi + 1] - s[lo:hi]).argmax()
    threshold = 0.5 * (s[ia + lo] + s[ia + lo + 1])
    mask = mean >= threshold
    mask = ndimage.binary_erosion(mask, iterations=2)
    if mask.any():
        labels, _ = ndimage.label(mask)
        counts = np.bincount(labels.ravel())
        counts[0] = 0
        mask = labels == counts.argmax()
    mask = ndimage.binary_dilation(mask, iterations=4)
    return ndimage.binary_erosion(mask, iterations=2)


def nilearn_background_mask(data4d, border=2):
    mean = data4d.astype(np.float64).mean(axis=-1)
    parts = [mean[:border], mean[-border:], mean[:, :border], mean[:, -border:],
             mean[:, :, :border], mean[:, :, -border:]]
    edge = np.concatenate([p.ravel() for p in parts])
    if np.isnan(edge).any():
        return ~np.isnan(mean)
    return mean != np.median(edge)


def save(tmp_path, name, data, affine=None):
    path = str(tmp_path / name)
    nib.save(nib.Nifti1Image(data, np.eye(4) if affine is None else affine), path)
    return path


def test_epi_and_background_masks_match_nilearns_rules(tmp_path):
    data, inside = brain_like()
    path = save(tmp_path, "epi.nii.gz", data)
    expected_epi = nilearn_epi_mask(data)
    # the rule finds the simulated brain (a sanity check on the reference itself)
    assert (expected_epi == inside).mean() > 0.97
    with btfm.open(path, mask="epi") as ds:
        assert ds.mask_kind == "epi"
        np.testing.assert_array_equal(ds.voxel_indices, np.flatnonzero(expected_epi.ravel(order="F")))
        x, y, z = ds.voxel_coords.T
        assert expected_epi[x, y, z].all()
        np.testing.assert_array_equal(ds.data, as_matrix(data)[:, ds.voxel_indices])
    background = data.copy()
    background[~inside] = 0  # already masked data: a homogeneous background
    path = save(tmp_path, "bg.nii.gz", background)
    with btfm.open(path, mask="background") as ds:
        expected = nilearn_background_mask(background)
        np.testing.assert_array_equal(ds.voxel_indices, np.flatnonzero(expected.ravel(order="F")))
    with btfm.open(path, mask=("threshold", 400.0)) as ds:
        expected = background.astype(np.float64).mean(axis=-1) > 400.0
        np.testing.assert_array_equal(ds.voxel_indices, np.flatnonzero(expected.ravel(order="F")))
        ds.set_mask("all")
        assert ds.n_channels == background[..., 0].size


def test_mask_image_array_and_geometry_checks(tmp_path):
    data, inside = brain_like(shape=(8, 9, 7), n_times=5)
    affine = np.diag([2.0, 2.0, 2.0, 1.0])
    path = save(tmp_path, "run.nii", data, affine)
    mask_path = save(tmp_path, "mask.nii.gz", inside.astype(np.uint8), affine)
    expected = as_matrix(data)[:, np.flatnonzero(inside.ravel(order="F"))]
    with btfm.open(path, mask=mask_path) as ds:
        assert ds.mask_kind == "image"
        np.testing.assert_array_equal(ds.data, expected)
        # the nilearn/nibabel way: data[mask] gives (n_voxels, n_times) in C order of the
        # grid; the same set of voxels
        assert sorted(map(tuple, ds.voxel_coords)) == sorted(map(tuple, np.argwhere(inside)))
        ds.set_mask(inside)
        assert ds.mask_kind == "voxels"
        np.testing.assert_array_equal(ds.data, expected)
    shifted = save(tmp_path, "shifted.nii", inside.astype(np.uint8),
                   np.array([[2.0, 0, 0, 1], [0, 2, 0, 0], [0, 0, 2, 0], [0, 0, 0, 1]]))
    with btfm.open(path) as ds:
        with pytest.raises(btfm.Error, match=r"affine \[2 0 0 1\].*has \[2 0 0 0\]"):
            ds.set_mask(shifted)
        small = save(tmp_path, "small.nii", np.ones((8, 9, 6), np.uint8), affine)
        with pytest.raises(btfm.Error, match="shape 8 x 9 x 6 x 1, expected 8 x 9 x 7"):
            ds.set_mask(small)
        with pytest.raises(btfm.Error, match="selects no voxel"):
            ds.set_mask(np.zeros(inside.shape, bool))
        assert ds.n_channels == inside.size  # a refused mask leaves the dataset as it was


@pytest.mark.parametrize("shape", [(5, 7, 3), (4, 4, 4), (1, 6, 5)])  # odd, cubic, one slice
def test_voxel_order_against_nibabel_indexing(tmp_path, shape):
    """Which column is which voxel: the default F order (x fastest, the file's) and the C
    order of nibabel's get_fdata()[mask] (nilearn's maskers), for every voxel and for a
    mask, checked against nibabel's indexing of the same file, never against ourselves."""
    rng = np.random.default_rng(11)
    data = rng.standard_normal(shape + (6,)).astype(np.float32)
    path = save(tmp_path, "run.nii.gz", data)
    inside = rng.random(shape) < 0.4
    inside.flat[0] = inside.flat[-1] = True
    mask_path = save(tmp_path, "mask.nii", inside.astype(np.uint8))
    fdata = nib.load(path).get_fdata()              # (nx, ny, nz, nt) as nibabel gives it
    mask_img = nib.load(mask_path).get_fdata() != 0
    c_all = fdata.reshape(-1, 6).T                   # C order: get_fdata() flattened
    c_mask = fdata[mask_img].T                       # the nilearn/nibabel way
    f_all = np.stack([fdata[..., t].ravel(order="F") for t in range(6)])
    f_mask = np.stack([fdata[..., t].T[mask_img.T] for t in range(6)])  # x fastest
    with btfm.open(path) as ds:
        assert ds.voxel_order == "F"
        np.testing.assert_array_equal(ds.data, f_all.astype(np.float32))
        ds.voxel_order = "C"
        assert ds.voxel_order == "C"
        np.testing.assert_array_equal(ds.data, c_all.astype(np.float32))
        np.testing.assert_array_equal(ds.voxel_coords, np.argwhere(np.ones(shape, bool)))
        ds.set_mask(mask_path)                       # later masks follow the order
        np.testing.assert_array_equal(ds.data, c_mask.astype(np.float32))
        np.testing.assert_array_equal(ds.voxel_coords, np.argwhere(mask_img))
        assert ds.ch_names[1] == ",".join(map(str, np.argwhere(mask_img)[1]))
        # a reordered mask writes back the same volume
        out = str(tmp_path / "out.nii")
        btfm.from_array(ds.data, ds.sfreq, like=ds).save(out)
        np.testing.assert_array_equal(nib.load(out).get_fdata()[mask_img], c_mask.T)
        ds.voxel_order = "F"                         # and back, on the mask in force
        np.testing.assert_array_equal(ds.data, f_mask.astype(np.float32))
        with pytest.raises(ValueError, match="voxel_order must be"):
            ds.voxel_order = "x"
    with btfm.open(path, mask=inside, voxel_order="C") as ds:
        np.testing.assert_array_equal(ds.data, c_mask.astype(np.float32))
    with btfm.open(path, mask=inside) as ds:
        np.testing.assert_array_equal(ds.data, f_mask.astype(np.float32))


def test_atlas_labels_are_means_like_niftilabelsmasker(tmp_path):
    rng = np.random.default_rng(5)
    data = rng.standard_normal((6, 5, 4, 9)).astype(np.float32)
    atlas = rng.choice([0, 3, 7, 12], size=(6, 5, 4)).astype(np.int16)
    path = save(tmp_path, "run.nii.gz", data)
    atlas_path = save(tmp_path, "atlas.nii.gz", atlas)
    with btfm.open(path, labels=atlas_path) as ds:
        assert ds.mask_kind == "labels"
        assert ds.ch_names == ["3", "7", "12"]
        assert list(ds.label_values) == [3, 7, 12]
        expected = np.stack([data[atlas == k].astype(np.float64).mean(axis=0)
                             for k in (3, 7, 12)], axis=1)
        np.testing.assert_allclose(ds.data, expected, rtol=1e-6, atol=1e-6)
        # unmasking a label result fills each label's voxels, through the writer
        out = str(tmp_path / "labels_out.nii")
        btfm.from_array(ds.data, ds.sfreq, like=ds).save(out)
        back = nib.load(out).get_fdata()
        for j, k in enumerate((3, 7, 12)):
            np.testing.assert_allclose(back[atlas == k], np.broadcast_to(
                expected[:, j], back[atlas == k].shape), rtol=1e-6, atol=1e-6)
        assert (back[atlas == 0] == 0).all()
    bad = save(tmp_path, "bad_atlas.nii", np.full((6, 5, 4), 1.5, np.float32))
    with btfm.open(path) as ds, pytest.raises(btfm.Error, match="value 1.5 at voxel"):
        ds.set_labels(bad)


# ---- writing ----

@pytest.mark.parametrize("ext", [".nii", ".nii.gz"])
def test_written_volumes_read_back_by_nibabel(tmp_path, ext):
    data, inside = brain_like(shape=(9, 8, 7), n_times=6)
    affine = np.array([[0, -2.5, 0, 30], [2.5, 0, 0, -12], [0, 0, 3, 4], [0, 0, 0, 1]])
    img = nib.Nifti1Image(data, affine)
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 2.2
    path = str(tmp_path / "src.nii.gz")
    nib.save(img, path)
    with btfm.open(path, mask=inside) as ds:
        result = ds.data * 2.0 + 1.0  # a derived n_times x n_channels result
        out = str(tmp_path / ("result" + ext))
        btfm.from_array(result, ds.sfreq, like=ds).save(out)
        ds.save(str(tmp_path / ("copy" + ext)))
    back = nib.load(out)
    assert back.shape == data.shape
    np.testing.assert_allclose(back.affine, nib.load(path).affine, atol=1e-5)
    assert back.header.get_zooms()[3] == pytest.approx(2.2)
    values = back.get_fdata()
    np.testing.assert_allclose(values[inside], (data[inside] * 2.0 + 1.0), rtol=1e-6)
    assert (values[~inside] == 0).all()
    copy = nib.load(str(tmp_path / ("copy" + ext))).get_fdata()
    np.testing.assert_array_equal(copy[inside], data[inside])


# ---- refusals ----

def test_bad_files_are_refused_with_the_field_named(tmp_path):
    data = np.zeros((3, 3, 3, 2), np.int16)
    path = save(tmp_path, "ok.nii", data)
    raw = open(path, "rb").read()

    def variant(name, patch):
        blob = bytearray(raw)
        patch(blob)
        p = str(tmp_path / name)
        open(p, "wb").write(bytes(blob))
        return p

    truncated = variant("trunc.nii", lambda b: b.__delitem__(slice(len(b) - 10, None)))
    with pytest.raises(btfm.Error, match="the file has .* bytes") as info:
        btfm.open(truncated)
    assert info.value.status == btfm.Status.E_TRUNCATED
    bad_dim = variant("dim.nii", lambda b: b.__setitem__(slice(40, 42), np.int16(9).tobytes()))
    with pytest.raises(btfm.Error, match=r"byte 40: dim\[0\] is 9, expected 1 to 7"):
        btfm.open(bad_dim)
    complex_t = variant("cplx.nii", lambda b: b.__setitem__(slice(70, 72), np.int16(32).tobytes()))
    with pytest.raises(btfm.Error, match="datatype 32 \\(complex\\)"):
        btfm.open(complex_t)
    magic = variant("magic.nii", lambda b: b.__setitem__(slice(344, 348), b"xx1\0"))
    with pytest.raises(btfm.Error, match="byte 344: magic"):
        btfm.open(magic, format="nifti")
    with pytest.raises(btfm.Error, match="not a volume"):
        btfm.from_array(np.zeros((4, 2), np.float32), 10.0).save(str(tmp_path / "x.nii"))


# ---- command line ----

def test_btfm_info_describes_the_volume(tmp_path):
    affine = np.array([[-2.0, 0, 0, 90], [0, 2.5, 0, -126], [0, 0, 3, -72], [0, 0, 0, 1]])
    img = nib.Nifti1Image(np.zeros((5, 6, 4, 7), np.int16), affine)
    img.header.set_xyzt_units("mm", "msec")
    img.header["pixdim"][4] = 2500.0
    path = str(tmp_path / "run.nii.gz")
    nib.save(img, path)
    out = subprocess.run([os.environ["BTFM_EXE"], "info", "--json", path], check=True,
                         capture_output=True, text=True).stdout
    info = json.loads(out)
    assert info["format"] == "nifti" and info["n_times"] == 7 and info["n_channels"] == 120
    assert info["volume"]["shape"] == [5, 6, 4, 7]
    assert info["volume"]["zooms"] == pytest.approx([2.0, 2.5, 3.0, 2.5])
    np.testing.assert_allclose(np.reshape(info["volume"]["affine"], (4, 4)), affine)
    assert info["sfreq"] == pytest.approx(0.4)
    text = subprocess.run([os.environ["BTFM_EXE"], "info", path], check=True,
                          capture_output=True, text=True).stdout
    assert "5 x 6 x 4 voxels x 7 volumes" in text and "TR 2.5 s" in text
    assert info["volume"]["voxel_order"] == "F"
    assert "voxel order: F (x fastest" in text and "get_fdata()[mask] is in C order" in text


# ---- BIDS func recordings ----

def write_func_tree(root, tr=2.0, sidecar_tr=2.0):
    """A BIDS folder with one fMRI run, written here with nibabel, json and plain text."""
    data, inside = brain_like(shape=(10, 9, 8), n_times=15, seed=7)
    func = root / "sub-01" / "func"
    func.mkdir(parents=True)
    (root / "dataset_description.json").write_text(json.dumps(
        {"Name": "func test", "BIDSVersion": "1.8.0"}))
    img = nib.Nifti1Image(data, np.diag([3.0, 3.0, 3.5, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = tr
    nib.save(img, func / "sub-01_task-rest_bold.nii.gz")
    slice_timing = [0.0, 1.0, 0.25, 1.25, 0.5, 1.5, 0.75, 1.75]
    (func / "sub-01_task-rest_bold.json").write_text(json.dumps(
        {"TaskName": "rest", "RepetitionTime": sidecar_tr, "SliceTiming": slice_timing}))
    (func / "sub-01_task-rest_events.tsv").write_text(
        "onset\tduration\ttrial_type\tvalue\trating\n"
        "4.0\t2.0\tface\t1\t0.5\n"
        "n/a\t1.0\thouse\t2\t0.1\n"
        "10.0\tn/a\tn/a\t3\tn/a\n"
        "14.5\t2.0\thouse\t2\t0.9\n")
    mask_path = str(root / "mask.nii.gz")
    nib.save(nib.Nifti1Image(inside.astype(np.uint8), np.diag([3.0, 3.0, 3.5, 1.0])), mask_path)
    return data, inside, slice_timing, mask_path


def test_bids_func_recording_opens_with_its_sidecars(tmp_path):
    data, inside, slice_timing, mask_path = write_func_tree(tmp_path)
    layout = btfm.bids.open(tmp_path)
    (rec,) = layout.query(sub="01", datatype="func")
    assert rec.entities["task"] == "rest" and rec.suffix == "bold"
    with rec.open(mask=mask_path) as ds:
        assert ds.format == "nifti" and ds.sfreq == pytest.approx(0.5)
        np.testing.assert_array_equal(ds.data, as_matrix(data)[:, np.flatnonzero(inside.ravel(order="F"))])
        assert ds.metadata["SliceTiming"] == slice_timing
        # MNE-BIDS rules: rows with an n/a onset dropped; labels from the trial_type
        # column (it exists), whose n/a rows are dropped too
        assert [(e.onset, e.duration, e.label) for e in ds.events] == [
            (4.0, 2.0, "face"), (14.5, 2.0, "house")]
        assert list(ds.events_table["rating"]) == [0.5, 0.9]  # the kept rows
    # opened directly, the image still finds its sidecar
    with btfm.open(rec.path) as ds:
        assert ds.metadata["SliceTiming"] == slice_timing
        assert ds.metadata["RepetitionTime"] == 2.0


def test_bids_func_repetition_time_must_agree(tmp_path):
    write_func_tree(tmp_path, tr=2.0, sidecar_tr=2.5)
    (rec,) = btfm.bids.open(tmp_path).query(datatype="func")
    with pytest.raises(btfm.Error, match="rule repetition-time.*RepetitionTime 2.5 s but the image's is 2 s"):
        rec.open()


def test_bids_writer_writes_func_runs_that_read_back(tmp_path):
    data, inside = brain_like(shape=(8, 7, 6), n_times=10, seed=11)
    img = nib.Nifti1Image(data, np.diag([2.5, 2.5, 3.0, 1.0]))
    img.header.set_xyzt_units("mm", "sec")
    img.header["pixdim"][4] = 1.5
    src = str(tmp_path / "src.nii.gz")
    nib.save(img, src)
    out = tmp_path / "bids"
    with btfm.open(src, mask=inside) as ds:
        result = btfm.from_array(ds.data * 0.5, ds.sfreq, like=ds)
        result.add_event(3.0, 1.5, "face")
        writer = btfm.bids.Writer(out, name="derived")
        writer.add(result, sub="02", task="faces", datatype="func")
        writer.finish()
    path = out / "sub-02" / "func" / "sub-02_task-faces_bold.nii.gz"
    assert path.exists() and not (out / "sub-02" / "func" / "sub-02_task-faces_channels.tsv").exists()
    sidecar = json.loads((out / "sub-02" / "func" / "sub-02_task-faces_bold.json").read_text())
    assert sidecar["TaskName"] == "faces" and sidecar["RepetitionTime"] == pytest.approx(1.5)
    back = nib.load(str(path))
    np.testing.assert_allclose(back.get_fdata()[inside], data[inside] * 0.5, rtol=1e-6)
    assert back.header.get_zooms()[3] == pytest.approx(1.5)
    (rec,) = btfm.bids.open(out).query(sub="02", datatype="func")
    with rec.open(mask=inside) as ds:
        assert [(e.onset, e.label) for e in ds.events] == [(3.0, "face")]
        assert ds.metadata["RepetitionTime"] == pytest.approx(1.5)
