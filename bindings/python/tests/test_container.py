"""btfm.Container: round trips of every dtype, errors, life cycle, numpy-free mode."""

import array
import gc
import os
import pickle
import subprocess
import sys

import numpy as np
import pytest

import btfm
from btfm import _arrays
from conftest import c_enum, header_text, subprocess_env

NUMERIC = [np.uint8, np.int32, np.int64, np.float32, np.float64]
SHAPES = [(), (0,), (1,), (7,), (3, 4), (2, 0, 5), (2, 3, 4), (1, 1, 1, 1, 1, 1, 1, 2)]


def sample(dtype, shape, seed=0):
    """Values that use the whole range of the dtype, so a lossy path would show."""
    rng = np.random.default_rng(seed)
    if np.issubdtype(dtype, np.integer):
        info = np.iinfo(dtype)
        out = rng.integers(info.min, info.max, size=shape, dtype=dtype, endpoint=True)
        if out.size >= 2:
            out.flat[0], out.flat[-1] = info.min, info.max
        return out
    out = (rng.standard_normal(shape) * 1e3).astype(dtype)
    if out.size >= 3:
        finfo = np.finfo(dtype)
        out.flat[0], out.flat[1], out.flat[2] = finfo.tiny, finfo.max, -0.0
    return out


def filled_container(kind="roundtrip"):
    c = btfm.Container(kind)
    c.params["fsync"] = False
    originals = {}
    for dtype in NUMERIC:
        for number, shape in enumerate(SHAPES):
            name = f"{np.dtype(dtype).name}/{number}"
            originals[name] = sample(dtype, shape, seed=number)
            c.put(name, originals[name])
    originals["note"] = "naïve café — 脳 🧠"
    c.put_text("note", originals["note"])
    originals["empty text"] = ""
    c.put_text("empty text", "")
    return c, originals


def assert_same(loaded, originals):
    assert loaded.keys() == list(originals)
    for name, original in originals.items():
        value = loaded[name]
        if isinstance(original, str):
            assert value == original
            continue
        assert isinstance(value, np.ndarray)
        assert value.dtype == original.dtype, name
        assert value.shape == original.shape, name
        # Bitwise identity (also tells -0.0 from 0.0).
        assert value.tobytes() == original.tobytes(), name


def test_dtype_table_equals_the_enum_in_container_h():
    enum = c_enum(header_text("container.h"), "btfm_dtype")
    assert {value: name[len("BTFM_DTYPE_"):].lower() for name, value in enum.items()} \
        == btfm.DTYPES


def test_round_trip_through_a_file(tmp_path):
    c, originals = filled_container()
    path = tmp_path / "model.btfm"
    with c:
        c.save(path)
    with btfm.Container.load(path) as loaded:
        assert loaded.kind == "roundtrip"
        assert len(loaded) == len(originals)
        assert_same(loaded, originals)


def test_round_trip_through_bytes():
    c, originals = filled_container()
    with c:
        blob = c.to_bytes()
        assert isinstance(blob, bytes)
        assert len(blob) == c.serialized_size()
        assert_same(c, originals)  # reading does not depend on a save
    for data in (blob, bytearray(blob), memoryview(blob)):
        with btfm.Container.from_bytes(data, kind="roundtrip") as loaded:
            assert_same(loaded, originals)


def test_file_and_buffer_serializations_are_identical(tmp_path):
    c, _ = filled_container()
    with c:
        c.save(tmp_path / "a.btfm")
        c.save(str(tmp_path / "b.btfm"))  # str and os.PathLike paths alike
        assert (tmp_path / "a.btfm").read_bytes() == c.to_bytes()
        assert (tmp_path / "b.btfm").read_bytes() == c.to_bytes()


def test_save_leaves_only_the_target_file(tmp_path):
    with btfm.Container("atomic") as c:
        c.put("x", np.arange(10.0))
        c.save(tmp_path / "m.btfm")
        c.save(tmp_path / "m.btfm")  # replacing an existing file
    assert sorted(os.listdir(tmp_path)) == ["m.btfm"]


def test_values_are_copies():
    data = np.arange(4, dtype=np.int32)
    with btfm.Container("copy") as c:
        c.put("x", data)
        data[0] = 99  # the container took a copy at put()
        first = c["x"]
        first[1] = 77  # and hands out copies
        assert c["x"].tolist() == [0, 1, 2, 3]


def test_non_contiguous_and_big_endian_inputs_are_stored_by_value():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    strided = base[::2, ::3]
    fortran = np.asfortranarray(base)
    swapped = base.astype(">f8")
    with btfm.Container("layout") as c:
        c.put("strided", strided)
        c.put("fortran", fortran)
        c.put("swapped", swapped)
        assert np.array_equal(c["strided"], strided) and c["strided"].shape == (2, 2)
        assert np.array_equal(c["fortran"], base)
        assert np.array_equal(c["swapped"], base) and c["swapped"].dtype == np.float64


def test_array_likes_and_explicit_shape():
    with btfm.Container("likes") as c:
        c.put("list", [[1.5, 2.5], [3.5, 4.5]])
        c.put("ints", [1, 2, 3])
        c.put("bytes", b"\x00\x01\xff")
        c.put("reshaped", np.arange(6, dtype=np.int32), shape=(3, 2))
        assert c["list"].dtype == np.float64 and c["list"].tolist() == [[1.5, 2.5], [3.5, 4.5]]
        assert c["ints"].dtype == np.int64
        assert c["bytes"].dtype == np.uint8 and c["bytes"].tolist() == [0, 1, 255]
        assert c["reshaped"].tolist() == [[0, 1], [2, 3], [4, 5]]
        with pytest.raises(ValueError, match="shape"):
            c.put("bad shape", np.arange(6), shape=(4, 2))


@pytest.mark.parametrize("value", [np.zeros(3, np.float16), np.zeros(3, np.int16),
                                   np.zeros(3, bool), np.zeros(3, np.complex64),
                                   np.array(["a"]), np.array([object()])])
def test_unsupported_dtypes_raise_type_error(value):
    with btfm.Container("types") as c:
        with pytest.raises(TypeError):
            c.put("x", value)
        assert len(c) == 0


def test_info_describes_without_copying():
    with btfm.Container("info") as c:
        c.put("w", np.zeros((2, 3), np.float32))
        c.put_text("t", "héllo")
        assert c.info("w") == btfm.ArrayInfo("w", "f32", (2, 3))
        assert c.info("t") == ("t", "utf8", (len("héllo".encode()),))


def test_mapping_protocol():
    with btfm.Container("mapping") as c:
        c.put("a", np.ones(2))
        c.put_text("b", "text")
        assert list(c) == ["a", "b"] == c.keys()
        assert "a" in c and "b" in c and "c" not in c
        assert None not in c and 3 not in c
        assert [name for name, _ in c.items()] == ["a", "b"]
        assert c.get("c") is None and c.get("c", 5) == 5 and c.get("b") == "text"
        assert repr(c) == "<btfm.Container kind='mapping' arrays=['a', 'b']>"


def test_missing_name_is_a_key_error_and_a_btfm_error():
    with btfm.Container("missing") as c:
        with pytest.raises(KeyError) as caught:
            c["nope"]
        assert isinstance(caught.value, btfm.Error)
        assert caught.value.status_name == "BTFM_E_NOTFOUND"
        assert "nope" in caught.value.message


def test_duplicate_name_is_refused_with_e_state():
    with btfm.Container("dup") as c:
        c.put("x", np.zeros(1))
        with pytest.raises(btfm.Error) as caught:
            c.put("x", np.ones(1))
        assert caught.value.status_name == "BTFM_E_STATE"
        assert "x" in caught.value.message
        assert c["x"].tolist() == [0.0]


def test_too_many_dimensions_are_refused():
    with btfm.Container("ndim") as c:
        c.put("eight", np.zeros((1,) * 8))
        with pytest.raises(btfm.Error) as caught:
            c.put("nine", np.zeros((1,) * 9))
        assert caught.value.status < 0 and "9" in caught.value.message
        assert c.keys() == ["eight"]


def test_none_and_wrong_types_raise_type_error_not_crash():
    with btfm.Container("none") as c:
        for call in (lambda: c.put(None, np.zeros(1)), lambda: c.put("x", None),
                     lambda: c.put_text(None, "t"), lambda: c.put_text("t", None),
                     lambda: c.put_text("t", b"bytes"), lambda: c[None], lambda: c[1],
                     lambda: c.save(None), lambda: c.info(None), lambda: c.put("s", "str")):
            with pytest.raises(TypeError):
                call()
        assert len(c) == 0
    for call in (lambda: btfm.Container(None), lambda: btfm.Container.load(None),
                 lambda: btfm.Container.from_bytes(None), lambda: btfm.Container.from_bytes("s"),
                 lambda: btfm.Container.load("x", kind=3)):
        with pytest.raises(TypeError):
            call()


def test_embedded_nul_is_refused_before_c_would_cut_the_string():
    with btfm.Container("nul") as c:
        with pytest.raises(ValueError):
            c.put_text("t", "a\0b")
        with pytest.raises(ValueError):
            c.put("a\0b", np.zeros(1))


def test_empty_and_overlong_names_are_refused_by_the_library():
    with btfm.Container("names") as c:
        c.put("n" * 255, np.zeros(1))
        for name in ("", "n" * 256):
            with pytest.raises(btfm.Error) as caught:
                c.put(name, np.zeros(1))
            assert caught.value.status_name == "BTFM_E_INVALID"
        with pytest.raises(btfm.Error):
            btfm.Container("")


def test_wrong_kind_is_refused(tmp_path):
    with btfm.Container("aligner") as c:
        c.params["fsync"] = False
        c.save(tmp_path / "a.btfm")
        blob = c.to_bytes()
    for load in (lambda: btfm.Container.load(tmp_path / "a.btfm", kind="reward_head"),
                 lambda: btfm.Container.from_bytes(blob, kind="reward_head")):
        with pytest.raises(btfm.Error) as caught:
            load()
        assert caught.value.status_name == "BTFM_E_KIND"
        assert "aligner" in caught.value.message and "reward_head" in caught.value.message
    with btfm.Container.from_bytes(blob, kind="aligner") as ok:
        assert ok.kind == "aligner"


def test_every_corrupted_byte_is_detected():
    with btfm.Container("corrupt") as c:
        c.put("w", np.arange(12, dtype=np.float32).reshape(3, 4))
        c.put_text("t", "text")
        blob = c.to_bytes()
    for offset in range(len(blob)):
        damaged = bytearray(blob)
        damaged[offset] ^= 0x10
        with pytest.raises(btfm.Error) as caught:
            btfm.Container.from_bytes(bytes(damaged))
        assert caught.value.status_name in {"BTFM_E_CHECKSUM", "BTFM_E_FORMAT",
                                            "BTFM_E_TRUNCATED", "BTFM_E_VERSION"}, offset
        assert caught.value.message, offset


def test_every_truncation_is_detected():
    with btfm.Container("trunc") as c:
        c.put("w", np.arange(5, dtype=np.int64))
        blob = c.to_bytes()
    for size in range(len(blob)):
        with pytest.raises(btfm.Error) as caught:
            btfm.Container.from_bytes(blob[:size])
        assert caught.value.status_name in {"BTFM_E_TRUNCATED", "BTFM_E_FORMAT"}, size


def test_payload_corruption_is_a_checksum_error():
    payload = np.full(64, 0x5A, dtype=np.uint8)
    with btfm.Container("crc") as c:
        c.put("p", payload)
        blob = c.to_bytes()
    offset = blob.index(payload.tobytes())
    damaged = bytearray(blob)
    damaged[offset + 10] ^= 0xFF
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(bytes(damaged))
    assert caught.value.status_name == "BTFM_E_CHECKSUM"


def test_loading_garbage_and_missing_files(tmp_path):
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(b"not a container at all")
    assert caught.value.status_name in {"BTFM_E_FORMAT", "BTFM_E_TRUNCATED"}
    missing = tmp_path / "missing.btfm"
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.load(missing)
    assert caught.value.status_name in {"BTFM_E_IO", "BTFM_E_NOTFOUND"}
    assert str(missing) in caught.value.message


def test_save_into_a_missing_folder_is_an_io_error(tmp_path):
    with btfm.Container("io") as c:
        with pytest.raises(btfm.Error) as caught:
            c.save(tmp_path / "no" / "such" / "folder" / "m.btfm")
        assert caught.value.status_name == "BTFM_E_IO"
        assert "no/such/folder" in caught.value.message


def test_close_twice_and_use_after_close():
    c = btfm.Container("closing")
    c.put("x", np.zeros(2))
    assert not c.closed
    c.close()
    c.close()
    assert c.closed
    assert repr(c) == "<btfm.Container (closed)>"
    for call in (lambda: len(c), lambda: c["x"], lambda: c.keys(), lambda: c.kind,
                 lambda: "x" in c, lambda: c.put("y", np.zeros(1)), lambda: c.to_bytes(),
                 lambda: c.save("x.btfm"), lambda: c.put_text("t", "t"),
                 lambda: c.info("x"), lambda: c.serialized_size(), lambda: c.__enter__()):
        with pytest.raises(ValueError, match="closed btfm.Container"):
            call()


def test_context_manager_closes_even_on_error():
    with pytest.raises(RuntimeError):
        with btfm.Container("ctx") as c:
            raise RuntimeError("boom")
    assert c.closed


def test_garbage_collection_frees_the_handle():
    before = btfm.live_allocations()
    c = btfm.Container("gc")
    c.put("x", np.zeros(1000))
    del c
    gc.collect()
    assert btfm.live_allocations() == before


def test_numpy_free_mode_returns_shaped_arrays(monkeypatch):
    numbers = np.arange(6, dtype=np.float32).reshape(2, 3)
    with btfm.Container("no numpy") as c:
        c.put("w", numbers)
        c.put("i", np.array([-1, 2**40], np.int64))
        c.put("b", np.array([0, 255], np.uint8))
        c.put("s", np.float64(2.5))
        c.put_text("t", "still text")
        monkeypatch.setattr(_arrays, "numpy", None)
        w = c["w"]
        assert isinstance(w, array.array) and isinstance(w, btfm.ShapedArray)
        assert w.typecode == "f" and w.shape == (2, 3) and w.tolist() == numbers.ravel().tolist()
        assert c["i"].tolist() == [-1, 2**40] and c["i"].itemsize == 8
        assert c["b"].tolist() == [0, 255] and c["b"].typecode == "B"
        assert c["s"].shape == () and c["s"].tolist() == [2.5]
        assert c["t"] == "still text"


def test_numpy_free_mode_accepts_array_array_and_buffers(monkeypatch):
    monkeypatch.setattr(_arrays, "numpy", None)
    with btfm.Container("no numpy") as c:
        c.put("f", array.array("d", [1.0, -2.0]))
        c.put("m", array.array("i", range(6)), shape=(2, 3))
        c.put("bytes", b"\x01\x02")
        c.put("ro", memoryview(array.array("f", [0.5, 1.5])).toreadonly())
        round_tripped = c["m"]
        c.put("again", round_tripped)  # a ShapedArray keeps its shape
        c.put("scalar", array.array("q", [-5]), shape=())
        c.put("scalar again", c["scalar"])
        hand_made = btfm.ShapedArray("f", [1.0, 2.0])  # .shape None: 1-D
        c.put("hand made", hand_made)
        with pytest.raises(TypeError):
            c.put("list", [1.0, 2.0])
        with pytest.raises(TypeError):
            c.put("h", array.array("h", [1]))
        blob = c.to_bytes()
    monkeypatch.undo()
    with btfm.Container.from_bytes(blob) as loaded:
        assert loaded["f"].tolist() == [1.0, -2.0] and loaded["f"].dtype == np.float64
        assert loaded["m"].tolist() == [[0, 1, 2], [3, 4, 5]] and loaded["m"].dtype == np.int32
        assert loaded["bytes"].dtype == np.uint8 and loaded["bytes"].tolist() == [1, 2]
        assert loaded["ro"].tolist() == [0.5, 1.5] and loaded["ro"].dtype == np.float32
        assert loaded["again"].shape == (2, 3)
        assert loaded["scalar"].shape == () and loaded["scalar again"].shape == ()
        assert loaded["scalar again"] == -5 and loaded["scalar again"].dtype == np.int64
        assert loaded["hand made"].shape == (2,)


def test_shaped_arrays_keep_their_shape_with_numpy_too(monkeypatch):
    with btfm.Container("shaped") as c:
        c.put("m", np.arange(6, dtype=np.int32).reshape(2, 3))
        monkeypatch.setattr(_arrays, "numpy", None)
        shaped = c["m"]
        monkeypatch.undo()
        c.put("copy", shaped)
        assert c["copy"].shape == (2, 3) and c["copy"].dtype == np.int32


def test_container_format_version_is_positive():
    assert btfm.container_format_version() >= 1


def test_pickle_round_trip():
    with btfm.Container("pickled") as c:
        c.put("w", np.arange(6, dtype=np.int32).reshape(3, 2))
        c.put_text("t", "text")
        copy = pickle.loads(pickle.dumps(c))
    with copy:
        assert copy.kind == "pickled" and copy.keys() == ["w", "t"]
        assert copy["w"].tolist() == [[0, 1], [2, 3], [4, 5]] and copy["t"] == "text"


def test_import_without_numpy_installed(tmp_path):
    # sys.modules["numpy"] = None makes `import numpy` fail as if it were absent.
    code = (
        "import sys; sys.modules['numpy'] = None\n"
        "import array, btfm\n"
        "c = btfm.Container('plain')\n"
        "c.put('m', array.array('d', [1, 2, 3, 4, 5, 6]), shape=(3, 2))\n"
        "d = btfm.Container.from_bytes(c.to_bytes())\n"
        "print(type(d['m']).__name__, d['m'].shape, d['m'].tolist())\n")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ShapedArray (3, 2) [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]"
