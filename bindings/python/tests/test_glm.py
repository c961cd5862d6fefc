"""btfm.glm's Python surface: the GLM handle's life cycle, argument checks in Python,
and values against closed forms (intercept-only model = one-sample t test)."""

import numpy as np
import pytest

import btfm
from btfm import glm


def test_glm_handle_life_cycle_and_one_sample_t():
    rng = np.random.RandomState(0)
    y = (0.5 + rng.randn(30, 4)).astype(np.float32)
    with glm.GLM(np.ones((30, 1)), noise_model="ols") as model:
        model.fit(y)
        effect, var, t = model.contrast([1.0])
        s2 = y.astype(float).var(axis=0, ddof=1)
        np.testing.assert_allclose(effect, y.mean(0), rtol=1e-5)
        np.testing.assert_allclose(t, y.mean(0) / np.sqrt(s2 / 30), rtol=1e-4)
        assert model.dof == 29
        assert "ols" in repr(model)
    assert model.closed
    with pytest.raises(ValueError):
        model.betas
    model.close()  # twice is harmless


def test_python_side_checks():
    with pytest.raises(ValueError):
        glm.clean(np.zeros((10, 2, 2)), 2.0)
    with pytest.raises(ValueError):
        glm.clean(np.zeros((10, 2)), 2.0, standardize="bogus")
    with pytest.raises(ValueError):
        glm.design_matrix({"duration": [1.0]}, 2.0, 50)
    with pytest.raises(btfm.Error) as err:
        glm.GLM(np.ones((10, 2)))
    assert err.value.status_name == "BTFM_E_NUMERIC"


def test_not_fitted_is_a_state_error():
    model = glm.GLM(np.column_stack([np.ones(20), np.arange(20.0)]))
    with pytest.raises(btfm.Error) as err:
        model.betas
    assert err.value.status_name == "BTFM_E_STATE"


def test_fit_progress_and_a_cancelled_refit_keeps_the_previous_fit():
    rng = np.random.RandomState(1)
    x = np.column_stack([np.ones(40), np.sin(np.arange(40) * 0.3)])
    y = (rng.randn(40, 700)).astype(np.float32)   # three blocks of 256 voxels
    seen = []
    with glm.GLM(x, noise_model="ar1") as model:
        model.fit(y, progress=lambda stage, fraction: seen.append((stage, fraction)))
        fractions = [f for _, f in seen]
        assert fractions[-1] == 1.0 and fractions == sorted(fractions)
        assert {"OLS fit", "AR(1) refit"} <= {s for s, _ in seen}
        before = model.betas
        with pytest.raises(btfm.Error, match="cancelled by the progress callback"):
            model.fit(-y, progress=lambda stage, fraction: stage == "AR(1) refit")
        np.testing.assert_array_equal(model.betas, before)
        # the betas of the first fit are OLS/AR(1) estimates: refit without a callback
        np.testing.assert_array_equal(model.fit(y).betas, before)
    events = {"onset": [2.0, 20.0, 40.0], "duration": [1.0, 1.0, 1.0],
              "trial_type": ["a", "b", "a"]}
    wide = rng.randn(40, 2100).astype(np.float32)
    with pytest.raises(btfm.Error, match="cancelled"):
        glm.lss(wide, events, 2.0, progress=lambda stage, fraction: fraction > 0)
    np.testing.assert_array_equal(glm.lss(wide, events, 2.0, progress=lambda s, f: False),
                                  glm.lss(wide, events, 2.0))
