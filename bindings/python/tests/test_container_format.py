"""The container bytes against doc/container.md, read and written here by an independent
pure-Python implementation of that spec (with its own bitwise CRC-32)."""

import struct

import numpy as np
import pytest

import btfm
from conftest import SOURCE_ROOT

SPEC = SOURCE_ROOT / "doc" / "container.md"
MAGIC = b"\x89BTFM\r\n\x1a"
# dtype codes and little-endian numpy types, from the spec's ARRY table.
SPEC_DTYPES = {1: "<u1", 2: "<i4", 3: "<i8", 4: "<f4", 5: "<f8"}
SPEC_TEXT = 6


@pytest.fixture(autouse=True)
def need_spec():
    if not SPEC.is_file():
        pytest.skip(f"{SPEC} not found")


def crc32(data):
    """CRC-32/ISO-HDLC, bit by bit: reflected polynomial 0xEDB88320."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0xEDB88320 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


def chunk(kind, payload):
    head = kind + struct.pack("<Q", len(payload))
    return head + payload + struct.pack("<I", crc32(head + payload))


def encode(kind, arrays, version=1, oldest=1, writer=10000, extra_chunks=(), tail=b""):
    """Spec-conforming bytes. `arrays` maps name -> numpy array or str."""
    kind_bytes = kind.encode()
    out = [MAGIC, chunk(b"HEAD", struct.pack("<IIIIH", version, oldest, writer, len(arrays),
                                             len(kind_bytes)) + kind_bytes)]
    out.extend(extra_chunks)
    for name, value in arrays.items():
        name_bytes = name.encode()
        if isinstance(value, str):
            code, shape, data = SPEC_TEXT, (len(value.encode()),), value.encode()
        else:
            code = next(c for c, t in SPEC_DTYPES.items() if np.dtype(t) == value.dtype)
            shape, data = value.shape, value.astype(SPEC_DTYPES[code]).tobytes()
        payload = (struct.pack("<H", len(name_bytes)) + name_bytes
                   + struct.pack("<BBH", code, len(shape), 0)
                   + b"".join(struct.pack("<Q", n) for n in shape) + data)
        out.append(chunk(b"ARRY", payload))
    out.append(chunk(b"TAIL", b""))
    return b"".join(out) + tail


def decode(blob):
    """(head fields, {name: array or str}, [chunk types]) from spec-conforming bytes."""
    assert blob[:8] == MAGIC
    pos, types, arrays, head = 8, [], {}, None
    while pos < len(blob):
        kind = blob[pos:pos + 4]
        (length,) = struct.unpack_from("<Q", blob, pos + 4)
        payload = blob[pos + 12:pos + 12 + length]
        assert len(payload) == length
        (crc,) = struct.unpack_from("<I", blob, pos + 12 + length)
        assert crc == crc32(blob[pos:pos + 12 + length]), f"bad CRC at byte {pos}"
        types.append(kind.decode("ascii"))
        pos += 12 + length + 4
        if kind == b"HEAD":
            version, oldest, writer, count, kind_len = struct.unpack_from("<IIIIH", payload)
            head = dict(version=version, oldest=oldest, writer=writer, count=count,
                        kind=payload[18:18 + kind_len].decode("utf-8"))
            assert 18 + kind_len == length
        elif kind == b"ARRY":
            (name_len,) = struct.unpack_from("<H", payload)
            name = payload[2:2 + name_len].decode("utf-8")
            code, ndim, reserved = struct.unpack_from("<BBH", payload, 2 + name_len)
            assert reserved == 0
            at = 2 + name_len + 4
            shape = struct.unpack_from(f"<{ndim}Q", payload, at)
            data = payload[at + 8 * ndim:]
            if code == SPEC_TEXT:
                arrays[name] = data.decode("utf-8")
            else:
                count = int(np.prod(shape, dtype=np.int64)) if ndim else 1
                assert len(data) == count * np.dtype(SPEC_DTYPES[code]).itemsize
                arrays[name] = np.frombuffer(data, SPEC_DTYPES[code]).reshape(shape)
        elif kind == b"TAIL":
            assert length == 0 and pos == len(blob), "nothing may follow TAIL"
    return head, arrays, types


def originals():
    return {
        "u8": np.array([[0, 1], [254, 255]], np.uint8),
        "i32": np.array([-2**31, 2**31 - 1, 0], np.int32),
        "i64": np.arange(24, dtype=np.int64).reshape(2, 3, 4) - 2**62,
        "f32": np.array([1.5, -0.0, np.finfo(np.float32).tiny], np.float32),
        "f64": np.float64(np.pi).reshape(()),
        "empty": np.zeros((3, 0), np.float64),
        "text": "snow ❄ 雪",
    }


def test_crc_implementation_matches_the_standard_check_value():
    assert crc32(b"123456789") == 0xCBF43926  # the catalogue's check value


def test_python_written_container_parses_with_the_spec_reader():
    with btfm.Container("format-test") as c:
        for name, value in originals().items():
            c.put_text(name, value) if isinstance(value, str) else c.put(name, value)
        blob = c.to_bytes()
    head, arrays, types = decode(blob)
    assert types == ["HEAD"] + ["ARRY"] * len(originals()) + ["TAIL"]
    assert head == dict(version=btfm.container_format_version(), oldest=1,
                        writer=btfm.version_number(), count=len(originals()),
                        kind="format-test")
    assert list(arrays) == list(originals())
    for name, value in originals().items():
        if isinstance(value, str):
            assert arrays[name] == value
        else:
            assert arrays[name].shape == value.shape
            assert arrays[name].dtype.newbyteorder("=") == value.dtype
            assert arrays[name].tobytes() == value.astype(arrays[name].dtype).tobytes()


def test_spec_written_container_loads_identically():
    blob = encode("spec-writer", originals(), writer=btfm.version_number())
    with btfm.Container.from_bytes(blob, kind="spec-writer") as c:
        assert c.keys() == list(originals())
        for name, value in originals().items():
            got = c[name]
            if isinstance(value, str):
                assert got == value
            else:
                assert got.dtype == value.dtype and got.shape == value.shape
                assert got.tobytes() == value.tobytes()
        # Writing it back gives the same bytes (the writer version field is ours above).
        assert c.to_bytes() == blob


def test_unknown_optional_chunk_is_skipped():
    blob = encode("skip", {"x": np.arange(3, dtype=np.int32)},
                  extra_chunks=[chunk(b"note", b"written by a newer tool")])
    with btfm.Container.from_bytes(blob) as c:
        assert c.keys() == ["x"] and c["x"].tolist() == [0, 1, 2]


@pytest.mark.parametrize("mutation", [
    dict(extra_chunks=[chunk(b"NOTE", b"must be understood")]),
    dict(tail=b"\0"),
])
def test_spec_violations_are_refused_with_the_offset(mutation):
    blob = encode("bad", {"x": np.zeros(2)}, **mutation)
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(blob)
    assert caught.value.status_name == "BTFM_E_FORMAT"
    assert "byte" in caught.value.message  # the spec promises the offset


def test_file_needing_a_newer_reader_is_refused():
    blob = encode("bad", {"x": np.zeros(2)}, version=3, oldest=2)
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(blob)
    assert caught.value.status_name == "BTFM_E_VERSION"
    assert "2" in caught.value.message


def test_newer_version_readable_by_old_readers_loads():
    blob = encode("newer", {"x": np.ones(2)}, version=2, oldest=1)
    with btfm.Container.from_bytes(blob) as c:
        assert c["x"].tolist() == [1.0, 1.0]


def array_chunk(name_bytes, code, shape, data):
    return chunk(b"ARRY", struct.pack("<H", len(name_bytes)) + name_bytes
                 + struct.pack("<BBH", code, len(shape), 0)
                 + b"".join(struct.pack("<Q", n) for n in shape) + data)


def hand_made(kind, array_chunks):
    head = struct.pack("<IIIIH", 1, 1, 10000, len(array_chunks), len(kind)) + kind
    return MAGIC + chunk(b"HEAD", head) + b"".join(array_chunks) + chunk(b"TAIL", b"")


def test_duplicate_names_are_refused():
    x = array_chunk(b"x", 1, (1,), b"\0")
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(hand_made(b"dup", [x, x]))
    assert caught.value.status_name == "BTFM_E_FORMAT"
    assert '"x"' in caught.value.message or "x" in caught.value.message


def test_invalid_utf8_name_is_refused():
    blob = hand_made(b"utf", [array_chunk(b"\xc3\x28", 1, (1,), b"\0")])
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(blob)
    assert caught.value.status_name == "BTFM_E_FORMAT"


def test_shape_disagreeing_with_data_is_refused():
    short = array_chunk(b"x", 4, (3,), np.zeros(2, "<f4").tobytes())  # 3 declared, 2 given
    with pytest.raises(btfm.Error) as caught:
        btfm.Container.from_bytes(hand_made(b"shape", [short]))
    assert caught.value.status_name == "BTFM_E_FORMAT"


def test_hand_made_container_is_accepted_when_right():
    right = array_chunk(b"x", 4, (2,), np.array([0.25, -8.0], "<f4").tobytes())
    with btfm.Container.from_bytes(hand_made(b"shape", [right])) as c:
        assert c["x"].tolist() == [0.25, -8.0]
