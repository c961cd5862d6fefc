"""btfm.sim from Python: parameters from the library's tables, keyword checking, progress
and cancellation (nothing left on disk), the truth tables read back, and the written
dataset opened through btfm.bids."""

import numpy as np
import pytest

import btfm


def small(tmp_path, name="s", **params):
    params = {"n_annotators": 2, "n_items": 6, "n_channels": 8, "sfreq": 100, "line_freq": 0,
              "n_pairs": 4, "n_bad_channels": 0, **params}
    return btfm.sim.rating_session(tmp_path / name, **params)


def test_params_come_from_the_library():
    names = [p.name for p in btfm.sim.params("rating_session")]
    assert names[0] == "seed" and "effect_scale" in names and "num_threads" in names
    assert names[-2:] == ["theta_engagement_uv", "blink_engagement"]
    info = {p.name: p for p in btfm.sim.params("shared_response")}
    assert info["correspondence"].type == "real" and info["correspondence"].max == 1.0
    assert "sim_rating_session" in btfm.object_kinds()
    with pytest.raises(ValueError, match="rating_session"):
        btfm.sim.params("no_such")


def test_session_reads_back_through_bids(tmp_path):
    root = small(tmp_path, rating_fraction=0.5)
    dataset = btfm.bids.open(root)
    assert dataset.subjects == ["01", "02"]
    eeg = dataset.query(datatype="eeg")
    assert len(eeg) == 2
    ds = eeg[1].open()
    assert ds.n_channels == 10 and ds.sfreq == 100
    labels = {e.label for e in ds.events}
    assert labels == {"item_onset", "gaze", "item_end", "rating"}
    items = btfm.sim.truth(root, "items")
    assert len(items) == 6 and items.columns[:2] == ["item_id", "reward"]
    perceived = btfm.sim.truth(root, "perceived", subject=2)
    assert np.sum(~np.isnan(perceived["rating"])) == 3
    beh = dataset.query(subject="02", task="rating")[0].read_table()
    assert sorted(beh["item_id"]) == sorted(perceived["item_id"][~np.isnan(perceived["rating"])])


def test_bad_keywords_and_values(tmp_path):
    with pytest.raises(TypeError, match="n_anotators"):
        btfm.sim.rating_session(tmp_path / "a", n_anotators=2)
    with pytest.raises(btfm.Error) as err:
        btfm.sim.rating_session(tmp_path / "b", n_channels=300)
    assert err.value.status_name == "BTFM_E_RANGE" and "n_channels" in str(err.value)
    with pytest.raises(TypeError, match="number"):
        btfm.sim.rating_session(tmp_path / "c", seed="1")
    with pytest.raises(btfm.Error, match="segments_min"):
        btfm.sim.rating_session(tmp_path / "d", segments_min=5, segments_max=2)
    with pytest.raises(TypeError, match="per participant"):
        btfm.sim.truth(tmp_path, "perceived")
    assert list(tmp_path.iterdir()) == []


def test_cancel_leaves_nothing(tmp_path):
    seen = []

    def stop_halfway(stage, fraction):
        seen.append((stage, fraction))
        return fraction > 0.5

    with pytest.raises(btfm.Error) as err:
        small(tmp_path, progress=stop_halfway)
    assert err.value.status_name == "BTFM_E_CANCELLED"
    assert list(tmp_path.iterdir()) == []
    assert any(stage.startswith("annotator 2") for stage, _ in seen)
    fractions = [f for _, f in seen]
    assert fractions == sorted(fractions)

    def raises(stage, fraction):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        small(tmp_path, progress=raises)
    assert list(tmp_path.iterdir()) == []


def test_shared_response_from_python(tmp_path):
    root = btfm.sim.shared_response(tmp_path / "s", n_subjects=2, n_times=50, n_components=2,
                                    grid_x=4, grid_y=3, grid_z=2, baseline=100)
    ds = btfm.bids.open(root).query(subject="02")[0].open()
    data = ds.read()
    assert data.shape == (50, 24) and abs(data.mean() - 100) < 5
    course = btfm.sim.truth(root, "shared_response")
    assert course.columns == ["component_1", "component_2"] and len(course) == 50
