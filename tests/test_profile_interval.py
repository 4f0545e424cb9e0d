"""Profile-likelihood intervals (``scenefit.fitting.profile_interval``): exact for a
linear model, and at a non-linear one the interval's ends are where a refit with the
parameter held has risen by delta."""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from scenefit.fitting import profile_interval
from scenefit.parameters import Param


def test_linear_model_gives_the_covariance_error_on_both_sides():
    img = sf.Image(np.random.default_rng(3).normal(1.0, 0.2, (16, 18)), sigma=0.2)
    scene = sf.Scene([sf.TiltedSky(name="sky", sky=0.0, dsky_dx=0.0, dsky_dy=0.0)])
    res = sf.fit(scene, img)
    iv = profile_interval(res, "sky.sky", step=0.4)
    err = res.error("sky.sky")
    assert iv.errors == pytest.approx((err, err), rel=1e-6)
    # the rise is (k step)^2 in covariance errors at every held value
    k = (iv.values - iv.best) / err
    np.testing.assert_allclose(iv.rise, k**2, atol=1e-6)
    assert iv.values[0] < iv.best < iv.values[-1] and np.all(np.diff(iv.values) > 0)
    two = profile_interval(res, "sky.sky", delta=4.0)
    assert two.errors == pytest.approx((2 * err, 2 * err), rel=1e-6)


def test_nonlinear_interval_ends_where_the_held_refit_rises_by_delta():
    rng = np.random.default_rng(5)
    truth = sf.Scene([sf.Gaussian(name="g", x=0.2, y=-0.1, flux=60.0, sigma=1.2, q=1, pa=0)])
    blank = sf.Image(np.zeros((16, 16)), pixel_scale=1.0)
    data = sf.render(truth, blank) + rng.normal(0, 0.3, (16, 16))
    img = sf.Image(data, sigma=0.3)
    start = sf.Gaussian(
        name="g",
        x=0.0,
        y=0.0,
        flux=50.0,
        sigma=1.0,
        q=Param(1.0, fixed=True),
        pa=Param(0.0, fixed=True),
    )
    res = sf.fit(sf.Scene([start]), img)
    iv = profile_interval(res, "g.sigma", step=0.8)
    lo, hi = iv.errors
    assert lo > 0 and hi > 0
    assert np.all(np.isfinite([iv.lower, iv.upper]))
    obj0 = res.objective
    for end in (iv.lower, iv.upper):
        held = sf.Scene([res.scene["g"].replace(sigma=Param(end, fixed=True))])
        rise = sf.fit(held, img).objective - obj0
        assert rise == pytest.approx(1.0, abs=0.05)


def test_profile_interval_refuses_what_it_cannot_profile():
    img = sf.Image(np.random.default_rng(0).normal(0.0, 1.0, (10, 10)), sigma=1.0)
    res = sf.fit(sf.Scene([sf.FlatSky(name="sky", sky=0.0)]), img)
    with pytest.raises(ValueError, match="at least one other"):
        profile_interval(res, "sky.sky")
    scene = sf.Scene([sf.TiltedSky(name="sky", sky=0.0, dsky_dx=Param(0.0, fixed=True), dsky_dy=0)])
    res2 = sf.fit(scene, img)
    with pytest.raises(ValueError, match="not a free parameter"):
        profile_interval(res2, "sky.dsky_dx")
