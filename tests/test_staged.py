"""Staged LM (cheap rule first, defect correction to the accurate rule): the same
optimum as the unstaged fit, the exact accurate objective, a fallback when the
correction does not settle."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import least_squares

import scenefit as sf
from scenefit.fitting import fit
from scenefit.fitting.staged import lm_staged


def _problem(seed=3):
    rng = np.random.default_rng(seed)
    psf = sf.PixelPSF(
        sf.render(
            sf.Scene([sf.Moffat(x=0, y=0, flux=1, fwhm=2.5, beta=3, q=1, pa=0)]),
            sf.Image(np.zeros((15, 15))),
        )
    )
    truth = sf.Scene(
        [
            sf.Sersic(x=0.3, y=-0.2, flux=3000.0, r_e=2.0, n=3.5, q=0.6, pa=30.0),
            sf.FlatSky(sky=2.0),
        ]
    )
    blank = sf.Image(np.zeros((48, 48)), psf=psf)
    data = sf.render(truth, blank) + rng.normal(0.0, 1.0, blank.shape)
    image = blank.replace(data=data, sigma=1.0)
    start = truth.replace_component(
        "sersic", truth["sersic"].replace(flux=2400.0, r_e=2.6, n=2.5, q=0.7, pa=40.0)
    )
    return start, image


@pytest.fixture(scope="module")
def both():
    start, image = _problem()
    return image, fit(start, image), fit(start, image, staged=False)


def test_staged_reaches_the_unstaged_optimum(both):
    _, staged, plain = both
    assert staged.converged and plain.converged
    # the correction stops within ~1e-3 sigma of the accurate optimum (its fixed point
    # is where the cheap rule's gradient vanishes; the difference is the cheap rule's
    # derivative error times the noise)
    for a in plain.free:
        assert abs(staged.value(a) - plain.value(a)) < 0.01 * plain.error(a), a
        assert staged.error(a) == pytest.approx(plain.error(a), rel=0.01), a
    assert staged.objective == pytest.approx(plain.objective, abs=1e-3)
    assert staged.initial_objective == pytest.approx(plain.initial_objective, rel=1e-12)


def test_staged_objective_is_the_accurate_one(both):
    image, staged, _ = both
    model = sf.render(staged.scene, image)  # default (accurate) settings
    chi2 = float(np.sum((image.data - model) ** 2 * image.invvar))
    assert staged.objective == pytest.approx(chi2, rel=1e-10)


def test_settings_without_a_cheaper_rule_fit_unstaged():
    start, image = _problem()
    fast = sf.RenderSettings.fast()
    a = fit(start, image, settings=fast)
    b = fit(start, image, settings=fast, staged=False)
    assert (a.objective, a.n_iter, a.n_eval) == (b.objective, b.n_iter, b.n_eval)


# lm_staged on its own: a small nonlinear least-squares problem in numpy

_T = np.linspace(0.0, 3.0, 40)
_DATA = 2.0 * np.exp(-0.7 * _T) + 0.01 * np.sin(7.0 * _T)


def _cheap(u):
    return u[0] * np.exp(-u[1] * _T)


def _accurate(u, eps):
    return _cheap(u) + eps * u[0] * np.sin(u[1] * _T)


def _driver(eps):
    def normal(u, off):
        r = _DATA - _cheap(u) - off
        J = -np.stack([np.exp(-u[1] * _T), -u[0] * _T * np.exp(-u[1] * _T)], axis=1)
        return r @ r, J.T @ r, J.T @ J

    return normal, (lambda u: _accurate(u, eps) - _cheap(u))


def test_lm_staged_converges_to_the_accurate_least_squares_optimum():
    eps = 1e-3
    normal, defect = _driver(eps)
    res = lm_staged(normal, defect, np.array([1.0, 1.5]), 100)
    ref = least_squares(lambda u: _DATA - _accurate(u, eps), [1.0, 1.5], xtol=1e-15)
    assert res is not None and res.status in (1, 2, 3)
    assert res.obj == pytest.approx(float(ref.fun @ ref.fun), rel=1e-6)
    np.testing.assert_allclose(res.u, ref.x, rtol=1e-4)
    r_final = _DATA - _accurate(res.u, eps)
    assert res.obj == pytest.approx(float(r_final @ r_final), rel=1e-12)  # exact objective


def test_lm_staged_gives_up_when_the_correction_does_not_settle():
    normal, _ = _driver(0.0)
    calls = []

    def wild(u):  # a defect that changes sign every call: the correction cannot settle
        calls.append(1)
        return (-1.0) ** len(calls) * 0.5 * np.cos(3.0 * _T) * u[0]

    assert lm_staged(normal, wild, np.array([1.0, 1.5]), 100) is None
