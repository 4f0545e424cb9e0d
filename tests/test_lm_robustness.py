"""Levenberg-Marquardt on awkward problems: degeneracies, bounds, purity, determinism.

The fitter must never raise on a well-formed but singular problem; it reports what it
could not determine (``ill_conditioned``, infinite uncertainties, ``at_bound``, status).
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from conftest import gaussian_psf
from scenefit import Param

SHAPE = (48, 48)
NOISE = 0.1
PSF = gaussian_psf(15, 1.5)
BLANK = sf.Image(np.zeros(SHAPE), psf=PSF)


def noisy(scene, seed):
    rng = np.random.default_rng(seed)
    model = sf.render(scene, BLANK)
    return sf.Image(model + rng.normal(0, NOISE, SHAPE), sigma=NOISE, psf=PSF)


SERSIC_TRUTH = dict(x=0.3, y=-0.2, flux=1000.0, r_e=3.5, n=2.0, q=0.6, pa=40.0)
SERSIC_IMAGE = noisy(sf.Scene([sf.Sersic(**SERSIC_TRUTH), sf.FlatSky(sky=1.0)]), seed=0)


def sersic_start(**changes):
    kw = dict(x=0.0, y=0.0, flux=800.0, r_e=3.0, n=1.5, q=0.8, pa=30.0)
    kw.update(changes)
    return sf.Scene([sf.Sersic(**kw), sf.FlatSky(sky=0.9)])


# ------------------------------------------------------------------- degeneracies
def _fixed_gaussian(name, flux):
    fix = lambda v: Param(v, fixed=True)  # noqa: E731
    return sf.Gaussian(
        name=name, x=fix(0.2), y=fix(0.1), flux=flux, sigma=fix(2.5), q=fix(0.7), pa=fix(30.0)
    )


def test_degenerate_flux_split_is_reported_not_raised():
    """Two identical components: only the sum of their fluxes is constrained."""
    img = noisy(sf.Scene([_fixed_gaussian("g", 500.0), sf.FlatSky(sky=1.0)]), seed=1)
    start = sf.Scene(
        [_fixed_gaussian("a", 200.0), _fixed_gaussian("b", 250.0), sf.FlatSky(sky=0.9)]
    )
    res = sf.fit(start, img)
    assert np.isfinite(res.objective) and res.reduced_chi2 < 1.15
    assert res.ill_conditioned
    assert res.error("a.flux") == np.inf and res.error("b.flux") == np.inf
    assert np.isfinite(res.error("flat_sky.sky"))  # the sky is still determined
    assert res.value("a.flux") + res.value("b.flux") == pytest.approx(500.0, rel=0.02)
    assert "ill-conditioned" in res.summary()


def test_fully_free_duplicate_components_do_not_crash():
    """Both components entirely free and starting identical: a result, finite chi2."""
    img = noisy(sf.Scene([sf.Gaussian(x=0.2, y=0.1, flux=500, sigma=2.5, q=0.7, pa=30)]), 2)
    g = dict(x=0.2, y=0.1, flux=250.0, sigma=2.5, q=0.7, pa=30.0)
    res = sf.fit(sf.Scene([sf.Gaussian(name="a", **g), sf.Gaussian(name="b", **g)]), img)
    assert np.isfinite(res.objective)
    assert res.reduced_chi2 < 1.15
    assert res.covariance.shape == (12, 12)
    assert res.message == sf.fitting.LM_MESSAGES[res.status]


def test_parameter_without_effect_is_flagged():
    """A component far outside the image: its parameters do not affect the model."""
    img = noisy(sf.Scene([sf.Sersic(**SERSIC_TRUTH), sf.FlatSky(sky=1.0)]), seed=3)
    far = sf.Gaussian(name="far", x=5000.0, y=0.0, flux=10.0, sigma=1.0, q=0.9, pa=0.0)
    start = sersic_start()
    res = sf.fit(sf.Scene([*start.components, far]), img)
    assert np.isfinite(res.objective)
    assert res.ill_conditioned
    for p in ("x", "y", "flux", "sigma", "q", "pa"):
        assert res.error(f"far.{p}") == np.inf, p
        # untouched (to the rounding of the bound transform's round trip)
        assert res.value(f"far.{p}") == pytest.approx(far.params()[p].value, rel=1e-12)
    assert np.isfinite(res.error("sersic.flux"))


def test_position_angle_of_a_round_profile_is_flagged():
    """PA of a q = 1 profile (q fixed) has no effect: it must be reported unconstrained."""
    truth = sf.Scene(
        [sf.Gaussian(x=0.2, y=0.1, flux=500, sigma=2.5, q=1.0, pa=30), sf.FlatSky(sky=1.0)]
    )
    img = noisy(truth, seed=4)
    g = sf.Gaussian(x=0.2, y=0.1, flux=400, sigma=2.0, q=Param(1.0, fixed=True), pa=10.0)
    res = sf.fit(sf.Scene([g, sf.FlatSky(sky=0.9)]), img)
    assert np.isfinite(res.objective) and np.isfinite(res.error("gaussian.flux"))
    assert res.ill_conditioned
    assert res.error("gaussian.pa") == np.inf


# -------------------------------------------------------------------------- bounds


@pytest.mark.parametrize(
    "start",
    [
        pytest.param(dict(q=1.0), id="q-at-upper-default-bound"),
        pytest.param(dict(n=0.2), id="n-at-lower-default-bound"),
        pytest.param(dict(r_e=Param(2.0, lo=2.0)), id="r_e-at-lower-only-bound"),
        pytest.param(dict(q=0.02), id="q-at-lower-default-bound"),
        pytest.param(dict(n=10.0), id="n-at-upper-default-bound"),
        pytest.param(dict(pa=Param(30.0, lo=30.0, hi=60.0)), id="pa-at-user-bound"),
    ],
)
def test_fit_starting_exactly_on_a_bound(start):
    res = sf.fit(sersic_start(**start), SERSIC_IMAGE)
    assert res.converged, res.message
    assert res.at_bound == ()
    # sqrt(2 / dof) ~ 0.03: 1.15 is a 5-sigma bound on a good fit's reduced chi^2
    assert res.reduced_chi2 < 1.15
    for k, v in SERSIC_TRUTH.items():
        a = f"sersic.{k}"
        assert abs(res.value(a) - v) < 5 * res.error(a), (a, res.value(a), v)


def test_truth_beyond_a_bound_ends_at_the_bound():
    truth = dict(SERSIC_TRUTH, n=6.0)
    img = noisy(sf.Scene([sf.Sersic(**truth), sf.FlatSky(sky=1.0)]), seed=5)
    res = sf.fit(sersic_start(n=Param(2.0, lo=0.5, hi=4.0)), img)
    assert res.at_bound == ("sersic.n",)
    assert res.value("sersic.n") == pytest.approx(4.0, abs=1e-6)
    assert res.scene.param("sersic.n").hi == 4.0  # bounds are kept in the result


def test_truth_below_a_lower_bound_ends_at_the_bound():
    truth = sf.Scene(
        [sf.Gaussian(x=0.3, y=-0.2, flux=1000, sigma=1.0, q=0.6, pa=40), sf.FlatSky(sky=1)]
    )
    img = noisy(truth, seed=6)
    g = sf.Gaussian(x=0.0, y=0.0, flux=800, sigma=Param(3.0, lo=2.0), q=0.8, pa=30)
    res = sf.fit(sf.Scene([g, sf.FlatSky(sky=0.9)]), img)
    assert "gaussian.sigma" in res.at_bound
    assert res.value("gaussian.sigma") == pytest.approx(2.0, abs=1e-6)


# ------------------------------------------------------------ failure is a status
def test_non_finite_start_is_a_status_not_an_exception():
    """Poisson with a negative expected count at the start: status 6, nothing raised."""
    rng = np.random.default_rng(7)
    img = sf.Image(rng.poisson(5.0, SHAPE).astype(float), psf=PSF)
    res = sf.fit(sf.Scene([sf.FlatSky(sky=-1.0)]), img, likelihood="poisson")
    assert not res.converged
    assert res.status == 6 and "not finite" in res.message
    assert res.value("flat_sky.sky") == -1.0


# ------------------------------------------------------------- purity, determinism
def test_fit_does_not_mutate_its_inputs():
    start = sersic_start()
    before = (repr(start), start.values().copy(), start.ties)
    data, invvar, mask = (
        SERSIC_IMAGE.data.copy(),
        SERSIC_IMAGE.invvar.copy(),
        SERSIC_IMAGE.mask.copy(),
    )
    res = sf.fit(start, SERSIC_IMAGE)
    assert (repr(start), start.ties) == (before[0], before[2])
    np.testing.assert_array_equal(start.values(), before[1])
    assert res.initial is start and res.scene is not start
    assert res.scene != start  # the result is a new value
    np.testing.assert_array_equal(SERSIC_IMAGE.data, data)
    np.testing.assert_array_equal(SERSIC_IMAGE.invvar, invvar)
    np.testing.assert_array_equal(SERSIC_IMAGE.mask, mask)


def test_repeat_fits_are_identical():
    a = sf.fit(sersic_start(), SERSIC_IMAGE)
    b = sf.fit(sersic_start(), SERSIC_IMAGE)
    np.testing.assert_array_equal(a.scene.values(), b.scene.values())
    np.testing.assert_array_equal(a.covariance, b.covariance)
    assert (a.objective, a.n_iter, a.n_eval, a.status) == (
        b.objective,
        b.n_iter,
        b.n_eval,
        b.status,
    )
