"""libbtfm's TSV and JSON readers and writers against Python's own: the csv module and
float() for tables, the json module for JSON (through tests/core/json_tool, since the JSON
reader is internal). Random Unicode text, escapes and numbers, seeded so runs repeat."""

import csv
import json
import math
import os
import random
import struct
import subprocess

import numpy as np
import pytest

import btfm

JSON_TOOL = os.environ["BTFM_JSON_TOOL"]

# Characters from every UTF-8 length, quotes, backslashes and control characters.
ALPHABET = ("abcXYZ019 _-.,;:'\"\\/é€ßΩж中文🙂𝄞\u00a0\u2028\u2029\x7f"
            "\x01\x08\x0c\x1b\u0000\ud7ff\ue000\uffff\U0010ffff")


def random_text(rng, max_len=12, exclude=""):
    chars = [c for c in ALPHABET if c not in exclude]
    return "".join(rng.choice(chars) for _ in range(rng.randint(0, max_len)))


def random_double(rng):
    """Any finite double: random bit patterns cover every exponent and subnormals."""
    while True:
        (value,) = struct.unpack("<d", struct.pack("<Q", rng.getrandbits(64)))
        if math.isfinite(value):
            return value


def random_decimal_text(rng):
    """A decimal number as people and programs write it, in the grammar both accept."""
    sign = rng.choice(["", "-", ""])
    digits = "".join(rng.choice("0123456789") for _ in range(rng.randint(1, 25)))
    frac = "".join(rng.choice("0123456789") for _ in range(rng.randint(0, 25)))
    text = sign + digits.lstrip("0") if len(digits) > 1 else sign + digits
    if not text.lstrip("-"):
        text += "0"
    if frac:
        text += "." + frac
    if rng.random() < 0.5:
        text += rng.choice("eE") + rng.choice(["", "-", "+"]) + str(rng.randint(0, 330))
    return text


def short_decimal_text(rng):
    """Numbers as BIDS files usually hold them (few digits, small exponents), including
    leading and trailing zeros and exponents around the exact powers of ten (1e22)."""
    digits = str(rng.randint(0, 10 ** rng.randint(1, 17)))
    point = rng.randint(0, len(digits))
    text = digits[:point] + "." + digits[point:] if rng.random() < 0.7 else digits
    if text.startswith("."):
        text = "0" + text
    text = "0" * rng.randint(0, 2) + text + "0" * rng.randint(0, 3) * ("." in text)
    if rng.random() < 0.4:
        text += "e" + str(rng.randint(-30, 30))
    return rng.choice(["", "-", "+"]) + text


def same_bits(a, b):
    return struct.pack("<d", a) == struct.pack("<d", b)


# ---- TSV ----

def write_tsv(path, rows, line_end="\n", bom=False):
    with open(path, "w", encoding="utf-8-sig" if bom else "utf-8", newline="") as f:
        writer = csv.writer(f, delimiter="\t", quoting=csv.QUOTE_NONE, escapechar=None,
                            quotechar=None, lineterminator=line_end)
        writer.writerows(rows)


def read_tsv(path):
    with open(path, encoding="utf-8-sig", newline="") as f:
        return [row for row in csv.reader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]


@pytest.mark.parametrize("seed", range(6))
def test_tsv_cells_match_python_csv(tmp_path, seed):
    rng = random.Random(seed)
    n_columns = rng.randint(1, 7)
    header = [f"c{i}_" + random_text(rng, 6, "\t\r\n\x00\u2028\u2029") for i in range(n_columns)]
    rows = []
    for _ in range(rng.randint(0, 200)):
        row = [rng.choice(["n/a", random_text(rng, 12, "\t\r\n\x00"), repr(random_double(rng))])
               for _ in range(n_columns)]
        if n_columns == 1 and row[0] == "":
            row[0] = "n/a"
        rows.append(row)
    path = tmp_path / "t.tsv"
    write_tsv(path, [header] + rows, line_end=rng.choice(["\n", "\r\n"]), bom=seed % 2 == 1)
    table = btfm.read_table(path)
    truth = read_tsv(path)
    assert table.columns == truth[0]
    assert len(table) == len(truth) - 1
    for c, name in enumerate(truth[0]):
        assert table.strings(c) == [None if r[c] == "n/a" else r[c] for r in truth[1:]]


@pytest.mark.parametrize("seed", range(4))
def test_tsv_numbers_match_python_float(tmp_path, seed):
    rng = random.Random(100 + seed)
    texts = [random_decimal_text(rng) for _ in range(3000)]
    texts += [repr(random_double(rng)) for _ in range(3000)]
    texts += [short_decimal_text(rng) for _ in range(6000)]
    texts = [t for t in texts if math.isfinite(float(t))]
    texts[::7] = ["n/a"] * len(texts[::7])
    path = tmp_path / "n.tsv"
    write_tsv(path, [["value"]] + [[t] for t in texts])
    values = btfm.read_table(path)["value"]
    assert isinstance(values, np.ndarray) and values.dtype == np.float64
    for text, value in zip(texts, values):
        if text == "n/a":
            assert math.isnan(value)
        else:
            assert same_bits(float(text), float(value)), text


def test_tsv_written_by_btfm_read_by_python(tmp_path):
    rng = random.Random(7)
    numbers = [random_double(rng) for _ in range(500)] + [0.0, -0.0, 1e-320, float("nan")]
    labels = [random_text(rng, 10, "\t\r\n\x00") or "n/a" for _ in range(len(numbers))]
    table = btfm.Table.from_columns({"onset": numbers, "trial_type": labels})
    path = tmp_path / "events.tsv"
    table.save(path)
    raw = path.read_bytes()
    assert b"\r" not in raw and not raw.startswith(b"\xef\xbb\xbf")
    truth = read_tsv(path)
    assert truth[0] == ["onset", "trial_type"]
    for (onset, label), number, expected_label in zip(truth[1:], numbers, labels):
        if math.isnan(number):
            assert onset == "n/a"
        else:
            assert same_bits(float(onset), number)
        assert label == expected_label


def test_tsv_row_count_error_names_the_line(tmp_path):
    path = tmp_path / "bad.tsv"
    path.write_text("onset\tduration\n1\t2\n3\n")
    with pytest.raises(btfm.Error) as info:
        btfm.read_table(path)
    assert info.value.status_name == "BTFM_E_FORMAT"
    assert f"{path}: line 3: 1 cell, but the header has 2 columns" in str(info.value)
    # Python's csv module sees the same short row on the same line.
    assert [len(r) for r in read_tsv(path)] == [2, 2, 1]


# ---- JSON ----

def random_json(rng, depth=0):
    kind = rng.randint(0, 9 if depth < 4 else 5)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return random_double(rng)
    if kind == 3:
        return rng.randint(-2**53, 2**53)
    if kind in (4, 5):
        return random_text(rng, 16)
    if kind in (6, 7):
        return [random_json(rng, depth + 1) for _ in range(rng.randint(0, 5))]
    return {random_text(rng, 8): random_json(rng, depth + 1) for _ in range(rng.randint(0, 12))}


def same_json(a, b):
    """Equal values, numbers compared as doubles bit for bit, object member order too."""
    if isinstance(a, bool) or isinstance(b, bool) or a is None or b is None:
        return a is b
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return same_bits(float(a), float(b))
    if isinstance(a, str) and isinstance(b, str):
        return a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return list(a) == list(b) and all(same_json(a[k], b[k]) for k in a)
    return False


def run_tool(*args):
    return subprocess.run([JSON_TOOL, *map(str, args)], capture_output=True, text=True)


@pytest.mark.parametrize("seed", range(8))
def test_json_written_by_python_read_by_btfm_and_back(tmp_path, seed):
    rng = random.Random(1000 + seed)
    doc = {f"k{i}": random_json(rng) for i in range(20)}
    src, out = tmp_path / "in.json", tmp_path / "out.json"
    text = json.dumps(doc, ensure_ascii=seed % 2 == 0, indent=[None, 2, "\t", 0][seed % 4])
    src.write_text(text, encoding="utf-8")
    done = run_tool("dump", src, out)
    assert done.returncode == 0, done.stderr
    back = json.loads(out.read_text(encoding="utf-8"))
    assert same_json(doc, back)
    # Ours is idempotent: its own output reads back to the same text.
    again = tmp_path / "again.json"
    assert run_tool("dump", out, again).returncode == 0
    assert again.read_bytes() == out.read_bytes()


def test_json_numbers_match_python_float(tmp_path):
    rng = random.Random(5)
    texts = [random_decimal_text(rng) for _ in range(4000)]
    texts += [short_decimal_text(rng) for _ in range(6000)]
    texts = [t[1:] if t.startswith("+") else t for t in texts]
    # JSON has no leading zeros and no empty fractions; keep what json.loads accepts.
    kept = []
    for t in texts:
        try:
            value = json.loads(t)
        except ValueError:
            continue
        if math.isfinite(float(value)):
            kept.append(t)
    src, out = tmp_path / "n.json", tmp_path / "o.json"
    src.write_text("[" + ",".join(kept) + "]")
    done = run_tool("dump", src, out)
    assert done.returncode == 0, done.stderr
    back = json.loads(out.read_text())
    assert len(back) == len(kept)
    for text, value in zip(kept, back):
        assert same_bits(float(text), float(value)), text


def test_json_merge_matches_dict_update(tmp_path):
    rng = random.Random(11)
    base = {random_text(rng, 4): random_json(rng) for _ in range(15)}
    over = {random_text(rng, 4): random_json(rng) for _ in range(15)}
    over.update({k: 1.5 for k in list(base)[:5]})
    (tmp_path / "b.json").write_text(json.dumps(base))
    (tmp_path / "o.json").write_text(json.dumps(over))
    done = run_tool("merge", tmp_path / "b.json", tmp_path / "o.json", tmp_path / "m.json")
    assert done.returncode == 0, done.stderr
    expected = dict(base)
    expected.update(over)  # Python keeps base's order and appends over's new keys: the rule
    assert same_json(expected, json.loads((tmp_path / "m.json").read_text()))


# Texts both Python's json module and ours refuse, with Python's line and column as the
# truth for where the error is.
MALFORMED = [
    "[1,]", '{"a":1,}', "[1 2]", '{"a" 1}', "\n\n  [1,\n  ]", "[.5]", "tru", "[nul]", "'a'",
    '{"a":1}}', "[1] x", "", "   ", '{"a":"b\\x"}', '"abc', '{a:1}', "[1,,2]",
    '{"é":[1,"x",tru]}', '"tab\there"', '{"k": "line\nbreak"}', '[1, {"€": [true false]}]',
]

# Refused by both, but located differently: Python's number pattern backtracks ("01" is
# 0 followed by extra data at column 2), we point at the offending character itself.
MALFORMED_ELSEWHERE = ["01", "[01]", "1.", "1e", "[-]", '["\\u12"]', '\n{\n "x": [\n  1e\n ]}']


@pytest.mark.parametrize("text", MALFORMED)
def test_json_errors_where_python_finds_them(tmp_path, text):
    with pytest.raises(json.JSONDecodeError) as python_error:
        json.loads(text)
    src = tmp_path / "bad.json"
    src.write_text(text, encoding="utf-8")
    done = run_tool("position", src)
    assert done.returncode == 1
    line, column = map(int, done.stdout.split())
    assert (line, column) == (python_error.value.lineno, python_error.value.colno), \
        (done.stderr, python_error.value.msg)


@pytest.mark.parametrize("text", MALFORMED_ELSEWHERE)
def test_json_refused_by_both(tmp_path, text):
    with pytest.raises(json.JSONDecodeError):
        json.loads(text)
    src = tmp_path / "bad.json"
    src.write_text(text, encoding="utf-8")
    done = run_tool("position", src)
    assert done.returncode == 1 and len(done.stdout.split()) == 2, done.stderr


@pytest.mark.parametrize("text", ['{"a":1,"a":2}', "NaN", "[Infinity]", "[-Infinity]", "1e400",
                                  '"\\ud800"', "\ufeff{}"])
def test_json_stricter_than_python(tmp_path, text):
    """Python accepts these (duplicates, non-finite numbers, lone surrogates, a BOM when
    decoded as utf-8-sig); RFC 8259 interoperability rules do not, and neither do we."""
    src = tmp_path / "strict.json"
    src.write_text(text, encoding="utf-8")
    done = run_tool("position", src)
    assert done.returncode == 1 and done.stdout.split()[0] == "1", done.stderr
