"""fit_gradient: L-BFGS-B and Adam reach the LM optimum and report its covariance."""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from scenefit.fitting import fit, fit_gradient


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(4)
    truth = sf.Scene(
        [
            sf.Gaussian(x=0.4, y=-0.3, flux=500.0, sigma=2.0, q=0.7, pa=40.0),
            sf.FlatSky(sky=1.0),
        ]
    )
    blank = sf.Image(np.zeros((28, 28)))
    image = blank.replace(data=sf.render(truth, blank) + rng.normal(0, 0.5, (28, 28)), sigma=0.5)
    g = truth["gaussian"]
    start = truth.replace_component("gaussian", g.replace(flux=400.0, sigma=2.5, x=0.0))
    return start, image, fit(start, image)


@pytest.mark.parametrize("method", ["lbfgsb", "adam"])
def test_gradient_optimisers_reach_the_lm_optimum(problem, method):
    pytest.importorskip("optax") if method == "adam" else None
    start, image, lm = problem
    kw = {"max_iter": 1500} if method == "adam" else {}
    res = fit_gradient(start, image, method=method, **kw)
    assert res.converged, res.message
    tol = 0.02 if method == "lbfgsb" else 0.1  # Adam stops on a flat objective, less tight
    for a in lm.free:
        assert abs(res.value(a) - lm.value(a)) < tol * lm.error(a), a
        assert res.error(a) == pytest.approx(lm.error(a), rel=0.02), a
    assert res.objective == pytest.approx(lm.objective, abs=0.05)
    assert res.message.startswith(method)


def test_unknown_method_is_rejected(problem):
    start, image, _ = problem
    with pytest.raises(ValueError, match="unknown method"):
        fit_gradient(start, image, method="newton")
