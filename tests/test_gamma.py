"""The compile-cheap incomplete gamma function against scipy (values and derivatives)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import gammainc

from scenefit.render._gamma import X_MAX, lower_gamma_p


@pytest.mark.parametrize("a", [0.4, 1.0, 2.5, 8.0, 16.0, 20.0])
def test_matches_scipy(a):
    x = np.concatenate([np.geomspace(1e-8, X_MAX, 400), [X_MAX * 1.01, 500.0]])
    got = np.asarray(lower_gamma_p(jnp.asarray(a), jnp.asarray(x)))
    ref = gammainc(a, x)
    assert np.max(np.abs(got - ref) / ref) < 1e-12 or np.max(np.abs(got - ref)) < 1e-9
    inside = x <= X_MAX
    assert np.max(np.abs(got[inside] - ref[inside]) / ref[inside]) < 1e-12


@pytest.mark.parametrize("a, x", [(4.0, 2.0), (16.0, 20.0), (1.0, 0.01), (0.8, 3.0)])
def test_derivatives_match_finite_differences(a, x):
    da, dx = jax.grad(lambda u, v: lower_gamma_p(u, v), argnums=(0, 1))(a, x)
    h = 1e-6
    fa = (gammainc(a + h, x) - gammainc(a - h, x)) / (2 * h)
    fx = (gammainc(a, x + h) - gammainc(a, x - h)) / (2 * h)
    assert float(da) == pytest.approx(fa, rel=1e-6)
    assert float(dx) == pytest.approx(fx, rel=1e-6)
