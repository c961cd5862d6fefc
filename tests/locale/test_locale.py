"""Files written by the Python package in a process that switched to a decimal-comma
locale (locale.setlocale(LC_ALL, "de_DE.UTF-8"), as a Qt or GTK host does) are
byte-identical to those written in the C locale, and read back to the same values; the
btfm command's number output does not depend on the locale either. LOCPATH points at the
de_DE.UTF-8 built for the tests (tests/locale/meson.build)."""

import filecmp
import locale
import os
import subprocess

import numpy as np
import pytest

import btfm

SFREQ = 256.0  # a 3906.25 us sampling interval
FILES = ["rec.edf", "rec.bdf", "rec.vhdr"]


@pytest.fixture
def comma_locale():
    try:
        locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    except locale.Error:
        pytest.skip("no de_DE.UTF-8 locale (LOCPATH=%s)" % os.environ.get("LOCPATH"))
    assert locale.localeconv()["decimal_point"] == ","
    locale.setlocale(locale.LC_ALL, "C")
    yield
    locale.setlocale(locale.LC_ALL, "C")


def write_all(root):
    os.makedirs(root)
    t = np.arange(256 * 3 + 77)[:, None]
    data = (3.25e-5 * np.sin(0.05 * (t + 1) * np.arange(1, 4)) - 1.5e-6 * np.arange(3))
    ds = btfm.from_array(data.astype(np.float32), SFREQ)
    for ch in ds.channels:
        ch.type, ch.unit = "eeg", "V"
    ds.add_event(0.123456, 0.5, label="stim 1.5", type="stimulus", code=1)
    ds.metadata = {"PowerLineFrequency": 50.5, "EEGReference": "Cz", "Fraction": 0.125}
    for name in FILES:
        ds.save(os.path.join(root, name))
    with btfm.bids.Writer(os.path.join(root, "bids"), "locale") as w:
        w.add(ds, sub="01", task="rest", datatype="eeg", sidecar={"Threshold": 0.75})
    table = btfm.Table.from_columns({"onset": ["0.5", "1.25"], "value": ["3.75", "n/a"]})
    table.save(os.path.join(root, "table.tsv"))
    ds.close()


def read_all(root):
    out = []
    for name in FILES:
        with btfm.open(os.path.join(root, name)) as ds:
            out.append((ds.sfreq, ds.read(), ds.events[0]))
    rec = btfm.bids.open(os.path.join(root, "bids"))[0]
    out.append((rec.metadata["PowerLineFrequency"], rec.metadata["Threshold"]))
    table = btfm.read_table(os.path.join(root, "table.tsv"))
    out.append(list(table.numbers("value")))
    return out


def same_trees(a, b):
    cmp = filecmp.dircmp(a, b)
    files = 0
    for name in cmp.common_files:
        assert filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name
        files += 1
    assert not cmp.left_only and not cmp.right_only
    return files + sum(same_trees(os.path.join(a, d), os.path.join(b, d))
                       for d in cmp.common_dirs)


def test_files_do_not_follow_the_locale(tmp_path, comma_locale):
    write_all(str(tmp_path / "c"))
    in_c = read_all(str(tmp_path / "c"))
    locale.setlocale(locale.LC_ALL, "de_DE.UTF-8")
    write_all(str(tmp_path / "de"))
    in_de = read_all(str(tmp_path / "c"))
    locale.setlocale(locale.LC_ALL, "C")
    assert same_trees(str(tmp_path / "c"), str(tmp_path / "de")) >= 10
    for (sf_c, x_c, ev_c), (sf_de, x_de, ev_de) in zip(in_c[:3], in_de[:3]):
        assert sf_de == sf_c == SFREQ
        np.testing.assert_array_equal(x_de, x_c)
        assert ev_de == ev_c
    assert in_de[3] == in_c[3] == (50.5, 0.75)
    assert in_de[4][0] == 3.75 and np.isnan(in_de[4][1])


def test_cli_numbers_do_not_follow_the_locale(tmp_path, comma_locale):
    write_all(str(tmp_path / "c"))
    outputs = []
    for lang in ("C", "de_DE.UTF-8"):
        env = dict(os.environ, LC_ALL=lang)
        runs = [subprocess.run([os.environ["BTFM_EXE"], *args], env=env, capture_output=True,
                               text=True, check=True).stdout
                for args in (["info", "--json", str(tmp_path / "c" / "rec.vhdr")],
                             ["psd", str(tmp_path / "c" / "rec.edf"), "--fmax", "20"],
                             ["params", "--json"])]
        outputs.append(runs)
    assert outputs[0] == outputs[1]
    assert '"sfreq": 256' in outputs[0][0]
