"""Levenberg-Marquardt injection and recovery on seeded noisy mocks.

Mocks are rendered with scenefit itself (this checks the fitter and its covariance, not
the renderer, which the other test files check against independent references). Every
trial draws a truth, adds noise, starts from a perturbed guess and fits.

Statistics used
---------------
* Pulls (fit - truth) / sigma are N(0, 1) if the fit is unbiased and the covariance
  right; |pull| < 3 then holds 99.73 % of the time, so requiring 95 % of all
  (trial, parameter) pairs leaves a wide margin for the mild non-linearity of n and r_e.
* Calibration: with N fits of one truth under fresh noise, the sample standard deviation
  s of a fitted parameter has a relative standard error of about 1 / sqrt(2 (N - 1)).
  The ratio s / median(reported sigma) must lie within 20 % of 1: with N = 200 the
  standard error is 5 %, so 20 % is a 4-sigma bound (false alarm ~6e-5 per parameter,
  5e-4 for the 8 parameters). The slow variant uses N = 1000 (2.2 %) and a 10 % bound
  (4.5 sigma).
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from conftest import gaussian_psf

SHAPE = (48, 48)
NOISE = 0.1
PSF = gaussian_psf(15, 1.5)
BLANK = sf.Image(np.zeros(SHAPE), psf=PSF)
KEYS = ("x", "y", "flux", "r_e", "n", "q", "pa", "sky")
ADDR = {k: ("flat_sky.sky" if k == "sky" else f"sersic.{k}") for k in KEYS}


def sersic_scene(v):
    return sf.Scene(
        [
            sf.Sersic(
                x=v["x"], y=v["y"], flux=v["flux"], r_e=v["r_e"], n=v["n"], q=v["q"], pa=v["pa"]
            ),
            sf.FlatSky(sky=v["sky"]),
        ]
    )


def draw_truth(rng):
    return dict(
        x=rng.uniform(-1, 1),
        y=rng.uniform(-1, 1),
        flux=rng.uniform(500, 2000),
        r_e=rng.uniform(2, 6),
        n=rng.uniform(0.7, 4),
        q=rng.uniform(0.4, 0.9),
        pa=rng.uniform(0, 180),
        sky=rng.uniform(0.5, 1.5),
    )


def perturb(v, rng):
    """A starting point: off by up to half a pixel, 30 % in flux, 40 % in size, ..."""
    return dict(
        x=v["x"] + rng.uniform(-0.5, 0.5),
        y=v["y"] + rng.uniform(-0.5, 0.5),
        flux=v["flux"] * rng.uniform(0.7, 1.3),
        r_e=v["r_e"] * rng.uniform(0.7, 1.4),
        n=float(np.clip(v["n"] + rng.uniform(-0.5, 0.5), 0.5, 6.0)),
        q=float(np.clip(v["q"] + rng.uniform(-0.1, 0.1), 0.1, 0.98)),
        pa=v["pa"] + rng.uniform(-15, 15),
        sky=v["sky"] + rng.uniform(-0.1, 0.1),
    )


def deviation(key, fitted, true):
    d = fitted - true
    return (d + 90.0) % 180.0 - 90.0 if key == "pa" else d  # PA is defined modulo 180


def run_recovery(n_trials, seed):
    rng = np.random.default_rng(seed)
    pulls, converged = [], []
    for _ in range(n_trials):
        truth = draw_truth(rng)
        model = sf.render(sersic_scene(truth), BLANK)
        img = sf.Image(model + rng.normal(0, NOISE, SHAPE), sigma=NOISE, psf=PSF)
        res = sf.fit(sersic_scene(perturb(truth, rng)), img)
        converged.append(res.converged)
        pulls.append(
            [deviation(k, res.value(ADDR[k]), truth[k]) / res.error(ADDR[k]) for k in KEYS]
        )
    return np.array(pulls), np.array(converged)


def check_recovery(pulls, converged):
    assert converged.all(), f"{(~converged).sum()} of {converged.size} fits did not converge"
    assert np.all(np.isfinite(pulls))
    inside = np.abs(pulls) < 3.0
    assert inside.mean() >= 0.95, (
        f"only {inside.mean():.1%} of pulls within 3 sigma; per parameter: "
        + ", ".join(f"{k}={m:.0%}" for k, m in zip(KEYS, inside.mean(axis=0), strict=True))
    )


def test_injection_recovery():
    check_recovery(*run_recovery(40, seed=1))


@pytest.mark.slow
def test_injection_recovery_many():
    check_recovery(*run_recovery(200, seed=2))


def run_calibration(n_trials, seed):
    """Std of fitted values and median reported sigma over fits of one fixed truth."""
    rng = np.random.default_rng(seed)
    truth = dict(x=0.3, y=-0.2, flux=1000.0, r_e=3.5, n=2.0, q=0.6, pa=40.0, sky=1.0)
    model = sf.render(sersic_scene(truth), BLANK)
    fitted, sigmas = [], []
    for _ in range(n_trials):
        img = sf.Image(model + rng.normal(0, NOISE, SHAPE), sigma=NOISE, psf=PSF)
        res = sf.fit(sersic_scene(perturb(truth, rng)), img)
        assert res.converged, res.message
        fitted.append([deviation(k, res.value(ADDR[k]), truth[k]) for k in KEYS])
        sigmas.append([res.error(ADDR[k]) for k in KEYS])
    fitted, sigmas = np.array(fitted), np.array(sigmas)
    ratio = fitted.std(axis=0, ddof=1) / np.median(sigmas, axis=0)
    bias = fitted.mean(axis=0) / np.median(sigmas, axis=0)  # in units of sigma
    return ratio, bias


def check_calibration(ratio, bias, n_trials, tol):
    detail = ", ".join(f"{k}={r:.3f}" for k, r in zip(KEYS, ratio, strict=True))
    assert np.all(np.abs(ratio - 1.0) < tol), f"scatter / reported sigma: {detail}"
    # the mean of N pulls has standard error 1 / sqrt(N); allow 4 of those
    assert np.all(np.abs(bias) < 4.0 / np.sqrt(n_trials)), f"bias / sigma: {bias}"


def test_uncertainties_match_scatter():
    ratio, bias = run_calibration(200, seed=3)
    check_calibration(ratio, bias, 200, tol=0.20)


@pytest.mark.slow
def test_uncertainties_match_scatter_precisely():
    ratio, bias = run_calibration(1000, seed=4)
    check_calibration(ratio, bias, 1000, tol=0.10)


# ------------------------------------------------------------------ bulge + disk, ties
def bulge_disk(v):
    return sf.Scene(
        [
            sf.Sersic(
                name="bulge",
                x=v["x"],
                y=v["y"],
                flux=v["fb"],
                r_e=v["re"],
                n=v["n"],
                q=v["qb"],
                pa=v["pab"],
            ),
            sf.Exponential(
                name="disk", x=v["x"], y=v["y"], flux=v["fd"], h=v["h"], q=v["qd"], pa=v["pad"]
            ),
            sf.FlatSky(sky=v["sky"]),
        ],
        ties={"disk.x": "bulge.x", "disk.y": "bulge.y"},
    )


BD_ADDR = {
    "x": "bulge.x",
    "y": "bulge.y",
    "fb": "bulge.flux",
    "re": "bulge.r_e",
    "n": "bulge.n",
    "qb": "bulge.q",
    "pab": "bulge.pa",
    "fd": "disk.flux",
    "h": "disk.h",
    "qd": "disk.q",
    "pad": "disk.pa",
    "sky": "flat_sky.sky",
}


def test_bulge_disk_with_tied_centres():
    rng = np.random.default_rng(5)
    pulls = []
    for _ in range(8):
        t = dict(
            x=rng.uniform(-1, 1),
            y=rng.uniform(-1, 1),
            fb=rng.uniform(600, 1000),
            re=rng.uniform(1.5, 2.5),
            n=rng.uniform(2.5, 4.5),
            qb=rng.uniform(0.7, 0.9),
            pab=rng.uniform(0, 180),
            fd=rng.uniform(2000, 3000),
            h=rng.uniform(4, 6),
            qd=rng.uniform(0.35, 0.6),
            pad=rng.uniform(0, 180),
            sky=1.0,
        )
        model = sf.render(bulge_disk(t), BLANK)
        img = sf.Image(model + rng.normal(0, NOISE, SHAPE), sigma=NOISE, psf=PSF)
        start = {k: v * rng.uniform(0.85, 1.15) for k, v in t.items()}
        start.update(x=t["x"] + 0.3, y=t["y"] - 0.3, n=3.0, pab=t["pab"] + 10, pad=t["pad"] - 10)
        start["qb"] = min(start["qb"], 0.95)  # stay inside the q <= 1 bound
        res = sf.fit(bulge_disk(start), img)
        assert res.converged, res.message
        assert "disk.x" not in res.free and "disk.y" not in res.free
        assert len(res.free) == 12
        for c in ("x", "y"):  # the tie holds in the result, for values and errors
            assert res.value(f"disk.{c}") == res.value(f"bulge.{c}")
            assert res.error(f"disk.{c}") == res.error(f"bulge.{c}")
        pulls.append(
            [
                deviation("pa" if k in ("pab", "pad") else k, res.value(a), t[k]) / res.error(a)
                for k, a in BD_ADDR.items()
            ]
        )
    pulls = np.array(pulls)
    assert np.all(np.isfinite(pulls))
    assert (np.abs(pulls) < 3).mean() >= 0.95, np.round(pulls, 2)


# ---------------------------------------------------------------------------- Poisson
def test_poisson_recovery():
    """Counts drawn from Poisson(model), sky included, gain 1; Poisson likelihood."""
    rng = np.random.default_rng(6)
    pulls = []
    for _ in range(20):
        t = draw_truth(rng)
        t.update(flux=rng.uniform(3000, 8000), sky=rng.uniform(10, 30))
        mu = sf.render(sersic_scene(t), BLANK)
        counts = rng.poisson(mu).astype(float)
        img = sf.Image(counts, psf=PSF, gain=1.0)
        start = perturb(t, rng)
        start["sky"] = t["sky"] * rng.uniform(0.9, 1.1)
        res = sf.fit(sersic_scene(start), img, likelihood="poisson")
        assert res.converged, res.message
        assert res.likelihood == "poisson"
        # the deviance tends to chi^2 with dof degrees of freedom
        assert abs(res.objective - res.dof) < 5 * np.sqrt(2 * res.dof)
        pulls.append([deviation(k, res.value(ADDR[k]), t[k]) / res.error(ADDR[k]) for k in KEYS])
    pulls = np.array(pulls)
    assert (np.abs(pulls) < 3).mean() >= 0.95, np.round(pulls, 2)
    # the Fisher-matrix errors are right on average: pooled pull std near 1
    # (160 pulls: standard error of the std ~6 %; +-30 % is ~5 sigma)
    assert 0.7 < pulls.std() < 1.3
