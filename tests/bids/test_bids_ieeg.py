"""iEEG (sEEG, ECoG) and EEG electrode positions from BIDS electrodes.tsv and
coordsystem.json, in a tree written here without libbtfm (EDF by tests/io/edfspec.py from
the specification, TSV and JSON by hand): the positions come back in metres as the numbers
written divided by the stated units, in the stated coordinate system; the samples match
MNE's EDF reader and the channel types channels.tsv."""

import json
import os

import mne
import numpy as np
import pytest

import btfm
import edfspec

SFREQ = 200.0
SEEG = ["LA1", "LA2", "LA3", "LB1", "LB2"]
ECOG = ["G1", "G2", "G3"]


def put(root, rel, text):
    path = os.path.join(root, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def write_edf(path, names, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    rng = np.random.default_rng(seed)
    signals = [{"label": name, "digital": rng.integers(-30000, 30000, int(SFREQ) * 2),
                "spr": int(SFREQ), "dim": "uV", "pmin": -3200, "pmax": 3200,
                "dmin": -32768, "dmax": 32767} for name in names]
    edfspec.write(path, signals, 2, plus=None, startdate="02.03.21", starttime="10.20.30")


def electrodes_tsv(rows):
    return "name\tx\ty\tz\tsize\n" + "".join(
        "\t".join([name] + ["n/a" if v is None else repr(v) for v in xyz] + ["5"]) + "\n"
        for name, xyz in rows)


# Coordinates as written (in the file's units); LB2 has none, LC1 was not recorded.
SEEG_MM = [("LA1", (-31.5, 12.25, 4.0)), ("LA2", (-35.0, 12.5, 4.5)),
           ("LA3", (-38.75, 12.0, 5.0)), ("LB1", (-20.0, -7.5, 30.125)),
           ("LB2", (None, None, None)), ("LC1", (1.0, 2.0, 3.0))]
SEEG_MNI_M = [("LA1", (-0.0301, 0.0105, 0.002)), ("LA2", (-0.034, 0.011, 0.0025))]
ECOG_CM = [("G1", (-5.5, 1.25, 6.0)), ("G2", (-5.75, 0.5, 6.25)), ("G3", (-6.0, -0.25, 6.5))]


@pytest.fixture()
def tree(tmp_path):
    root = str(tmp_path / "ds")
    put(root, "dataset_description.json", json.dumps({"Name": "ieeg", "BIDSVersion": "1.8.0"}))
    sidecar = {"TaskName": "rest", "SamplingFrequency": SFREQ, "PowerLineFrequency": 50,
               "SoftwareFilters": "n/a", "iEEGReference": "LA1"}
    put(root, "task-rest_ieeg.json", json.dumps(sidecar))
    # sub-01: sEEG in two spaces (ACPC mm and MNI m); the first by name (ACPC) applies
    folder = "sub-01/ieeg/"
    write_edf(os.path.join(root, folder + "sub-01_task-rest_ieeg.edf"), SEEG, 1)
    put(root, folder + "sub-01_task-rest_channels.tsv", "name\ttype\tunits\n" +
        "".join(f"{n}\tSEEG\tuV\n" for n in SEEG))
    put(root, folder + "sub-01_space-ACPC_electrodes.tsv", electrodes_tsv(SEEG_MM))
    put(root, folder + "sub-01_space-ACPC_coordsystem.json", json.dumps(
        {"iEEGCoordinateSystem": "ACPC", "iEEGCoordinateUnits": "mm"}))
    put(root, folder + "sub-01_space-MNI152NLin2009aSym_electrodes.tsv",
        electrodes_tsv(SEEG_MNI_M))
    put(root, folder + "sub-01_space-MNI152NLin2009aSym_coordsystem.json", json.dumps(
        {"iEEGCoordinateSystem": "MNI152NLin2009aSym", "iEEGCoordinateUnits": "m"}))
    # sub-02: ECoG in cm, files at the subject level without a space entity
    write_edf(os.path.join(root, "sub-02/ieeg/sub-02_task-rest_ieeg.edf"), ECOG, 2)
    put(root, "sub-02/ieeg/sub-02_task-rest_channels.tsv", "name\ttype\tunits\n" +
        "".join(f"{n}\tECOG\tuV\n" for n in ECOG))
    put(root, "sub-02/ieeg/sub-02_electrodes.tsv", electrodes_tsv(ECOG_CM))
    put(root, "sub-02/ieeg/sub-02_coordsystem.json", json.dumps(
        {"iEEGCoordinateSystem": "Other", "iEEGCoordinateUnits": "cm",
         "iEEGCoordinateSystemDescription": "surface photo"}))
    return root


def expected(rows, names, scale):
    table = {name: xyz for name, xyz in rows}
    return np.array([[np.nan] * 3 if table.get(n, (None,))[0] is None
                     else [v * scale for v in table[n]] for n in names])


def test_positions_in_metres_in_the_stated_system(tree):
    layout = btfm.bids.open(tree)
    assert layout.datatypes == ["ieeg"]
    with layout.query(sub="01")[0].open() as ds:
        assert ds.coordinate_frame == "ACPC"
        np.testing.assert_allclose(ds.positions, expected(SEEG_MM, SEEG, 1e-3), rtol=1e-15)
        assert [c.type for c in ds.channels] == ["seeg"] * len(SEEG)
        raw = mne.io.read_raw_edf(os.path.join(tree, "sub-01/ieeg/sub-01_task-rest_ieeg.edf"),
                                  preload=True, verbose="error")
        np.testing.assert_allclose(ds.data, raw.get_data().T, rtol=1e-6, atol=1e-12)
    with layout.query(sub="02")[0].open() as ds:
        assert ds.coordinate_frame == "Other"
        np.testing.assert_allclose(ds.positions, expected(ECOG_CM, ECOG, 1e-2), rtol=1e-15)
        assert [c.type for c in ds.channels] == ["ecog"] * len(ECOG)


def test_space_without_coordsystem_is_refused_or_skipped(tree):
    os.remove(os.path.join(tree, "sub-01/ieeg/sub-01_space-ACPC_coordsystem.json"))
    with pytest.raises(btfm.Error, match="electrodes-coordsystem"):
        btfm.bids.open(tree).query(sub="01")[0].open()
    with btfm.bids.open(tree, lenient=True).query(sub="01")[0].open() as ds:
        assert np.isnan(ds.positions).all()
        assert ds.coordinate_frame == "unknown"


def test_units_that_are_not_lengths_give_no_positions(tree):
    put(tree, "sub-02/ieeg/sub-02_coordsystem.json", json.dumps(
        {"iEEGCoordinateSystem": "Pixels", "iEEGCoordinateUnits": "pixels"}))
    with btfm.bids.open(tree).query(sub="02")[0].open() as ds:
        assert np.isnan(ds.positions).all()


def test_bad_numbers_and_missing_columns_name_the_file(tree):
    put(tree, "sub-02/ieeg/sub-02_electrodes.tsv", "name\tx\ty\tz\tsize\nG1\t1,5\t0\t0\t5\n")
    with pytest.raises(btfm.Error, match="sub-02_electrodes.tsv"):
        btfm.bids.open(tree).query(sub="02")[0].open()
    put(tree, "sub-02/ieeg/sub-02_electrodes.tsv", "name\tx\ty\tsize\nG1\t1\t0\t5\n")
    with pytest.raises(btfm.Error, match=r'sub-02_electrodes.tsv.*no column "z"'):
        btfm.bids.open(tree).query(sub="02")[0].open()


def test_eeg_electrodes_use_the_eeg_keys(tmp_path):
    root = str(tmp_path / "eeg")
    put(root, "dataset_description.json", json.dumps({"Name": "eeg", "BIDSVersion": "1.8.0"}))
    names = ["Fz", "Cz", "Pz"]
    put(root, "task-x_eeg.json", json.dumps(
        {"TaskName": "x", "SamplingFrequency": SFREQ, "PowerLineFrequency": 50,
         "SoftwareFilters": "n/a", "EEGReference": "Cz"}))
    write_edf(os.path.join(root, "sub-01/eeg/sub-01_task-x_eeg.edf"), names, 3)
    put(root, "sub-01/eeg/sub-01_electrodes.tsv", "name\tx\ty\tz\n"
        "Fz\t0.0\t0.0714\t0.0878\nCz\t0.0\t0.0\t0.1\nPz\t0.0\t-0.0714\t0.0878\n")
    put(root, "sub-01/eeg/sub-01_coordsystem.json", json.dumps(
        {"EEGCoordinateSystem": "CapTrak", "EEGCoordinateUnits": "m"}))
    with btfm.bids.open(root)[0].open() as ds:
        assert ds.coordinate_frame == "CapTrak"
        np.testing.assert_array_equal(ds.positions, [[0.0, 0.0714, 0.0878], [0.0, 0.0, 0.1],
                                                     [0.0, -0.0714, 0.0878]])
