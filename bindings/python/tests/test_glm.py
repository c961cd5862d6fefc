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
