"""Forced photometry (forced_photometry): fixed shapes, fluxes by bounded linear least squares.

Mock (tests/forced_mock.py): two overlapping galaxies and a star between them in g and r
images of different scales, orientations and PSFs, rendered with scenefit (the solver
is under test, not the renderer) with seeded Gaussian noise.

Checks
------
* Recovery and calibration: fluxes within 4 sigma of the truth; over 40 noise seeds the
  pulls (fit - truth) / sigma of 6 fluxes have mean ~0 and width ~1 (240 pulls: the
  width's standard error is ~0.05, the bounds are 4 of them).
* Non-negativity: a source of zero true flux is never negative; when the unconstrained
  solution is negative it sits at 0, flagged, and the other fluxes equal the
  unconstrained solution without that source (the active-set optimum).
* The linear solution is the chi^2 minimum: a Levenberg-Marquardt joint fit with the
  shapes fixed converges to the same fluxes, skies and uncertainties (``-m slow``);
  scipy's NNLS on the weighted pixels gives the same constrained solution.
* Every input route (Scene, FitResult, JointFitResult, catalogue table) gives the same numbers; bad
  input raises clear errors.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

import forced_mock as mock
import scenefit as sf
from scenefit.parameters import Param

CHEAP = sf.RenderSettings().coarse()
SOURCES = ("a", "b", "star")


@pytest.fixture(scope="module")
def images():
    return mock.make_images(seed=5, settings=CHEAP)


@pytest.fixture(scope="module")
def forced(images):
    return sf.forced_photometry(mock.scene(), images, settings=CHEAP)


def test_fluxes_and_skies_are_recovered_within_their_errors(forced):
    assert forced.sources == SOURCES and forced.bands == ("g", "r")
    for band in forced.bands:
        for s in SOURCES:
            pull = (forced.value(s, band) - mock.FLUX[band][s]) / forced.error(s, band)
            assert abs(pull) < 4.0, (s, band, pull)
        name = f"sky.sky[{band}]"
        assert abs(forced.sky[name] - mock.SKY[band]) < 4 * forced.sky_err[name]
    assert abs(forced.reduced_chi2 - 1.0) < 5 * np.sqrt(2.0 / forced.dof)
    # overlapping sources: their fluxes are correlated (negatively, sharing light)
    c = forced.covariance[0]
    assert c[0, 1] < 0 and np.allclose(c, c.T)
    # the SED rows carry AB magnitudes from the zero point
    row = next(r for r in forced.sed() if r["source"] == "a" and r["band"] == "r")
    assert row["mag"] == pytest.approx(mock.ZEROPOINT - 2.5 * np.log10(row["flux"]), rel=1e-12)
    assert row["mag_err"] == pytest.approx(2.5 / np.log(10) * row["flux_err"] / row["flux"])


def test_pulls_over_noise_seeds_have_unit_width():
    pulls = []
    for seed in range(40):
        res = sf.forced_photometry(
            mock.scene(), mock.make_images(100 + seed, CHEAP), settings=CHEAP
        )
        for band in res.bands:
            for s in SOURCES:
                pulls.append((res.value(s, band) - mock.FLUX[band][s]) / res.error(s, band))
    pulls = np.asarray(pulls)
    assert abs(pulls.mean()) < 4 / np.sqrt(pulls.size), pulls.mean()
    assert 0.8 < pulls.std() < 1.2, pulls.std()


def test_a_zero_flux_source_is_held_at_zero():
    flux = {b: {**f, "star": 0.0} for b, f in mock.FLUX.items()}
    for seed in range(20):
        imgs = mock.make_images(seed, CHEAP, flux=flux)
        free = sf.forced_photometry(mock.scene(), imgs, settings=CHEAP, nonnegative=False)
        if free.value("star", "g") < 0:
            break
    else:  # pragma: no cover - 20 seeds without a negative draw has probability 1e-6
        pytest.fail("no seed gave a negative unconstrained star flux")
    res = sf.forced_photometry(mock.scene(), imgs, settings=CHEAP)
    assert np.all(res.flux >= 0)
    assert res.value("star", "g") == 0.0 and res.at_bound[0, 2]
    assert res.chi2_per_image["g"] >= free.chi2_per_image["g"]
    # the active-set optimum, against scipy's NNLS on the sqrt(invvar)-weighted pixels
    # (the unit-flux columns from the same renderer; the sky as two non-negative columns)
    from scipy.optimize import nnls

    from scenefit.fitting._forced_design import design, linear_scene

    d = design(linear_scene(mock.scene(), True), imgs[0], CHEAP)
    w = np.sqrt(imgs[0].invvar).ravel()
    A = d.columns.reshape(4, -1)
    A = np.vstack([A, -A[3:]]) * w  # a, b, star, +sky, -sky
    x, _ = nnls(A.T, (imgs[0].data - d.offset).ravel() * w)
    for k, s in enumerate(SOURCES):
        assert res.value(s, "g") == pytest.approx(x[k], rel=1e-7, abs=1e-9 * res.error(s, "g"))
    assert res.sky["sky.sky[g]"] == pytest.approx(x[3] - x[4], rel=1e-7)
    # its error is the one it would have if free: an upper limit's scale
    assert res.error("star", "g") == pytest.approx(free.error("star", "g"), rel=1e-9)
    flags = {(r["source"], r["band"]): r["at_bound"] for r in res.sed()}
    assert flags[("star", "g")] and not flags[("a", "g")]


@pytest.fixture(scope="module")
def lm(images):
    def frozen(c):
        if isinstance(c, sf.FlatSky):
            return c
        ch = {p: dataclasses.replace(getattr(c, p), fixed=True) for p in c.param_names()}
        ch["flux"] = Param(100.0)  # free, unbounded: the linear problem has no bound
        return dataclasses.replace(c, **ch)

    start = sf.Scene([frozen(c) for c in mock.scene().components])
    return sf.fit_joint(start, images, settings=CHEAP, staged=False)


@pytest.mark.slow  # the LM fit compiles its own programs (~40 s here)
def test_linear_solution_is_the_lm_fit_with_frozen_shapes(images, forced, lm):
    assert lm.converged, lm.message
    assert lm.chi2 == pytest.approx(forced.chi2, rel=1e-9)
    for band in forced.bands:
        for s in SOURCES:
            err = forced.error(s, band)
            assert abs(lm.value(f"{s}.flux[{band}]") - forced.value(s, band)) < 1e-4 * err
            assert lm.error(f"{s}.flux[{band}]") == pytest.approx(err, rel=1e-6)
        name = f"sky.sky[{band}]"
        assert abs(lm.value(name) - forced.sky[name]) < 1e-4 * forced.sky_err[name]
    cov = lm.flux_covariance("a")  # bands: fluxes of one band correlate, bands do not
    assert cov[0, 1] == pytest.approx(0.0, abs=1e-6 * np.sqrt(cov[0, 0] * cov[1, 1]))
    # the forced result of the LM fit's shapes is the same solve again
    again = sf.forced_photometry(lm, images, settings=CHEAP)
    np.testing.assert_allclose(again.flux, forced.flux, rtol=1e-9)
    single = lm.results[1]  # a FitResult (the r image's): its shapes are the true ones
    assert isinstance(single, sf.FitResult)
    np.testing.assert_allclose(
        sf.forced_photometry(single, images, settings=CHEAP).flux, forced.flux, rtol=1e-9
    )


def test_catalogue_and_scene_inputs_give_the_same_fluxes(images, forced):
    from astropy.table import Table

    rows = []
    for c in mock.scene().components:
        if isinstance(c, sf.FlatSky):
            continue
        rows.append(
            {"name": c.name, "type": c.TYPE_NAME, **{p: v.value for p, v in c.params().items()}}
        )
    cols = sorted({k for r in rows for k in r})
    table = Table(
        {k: [r.get(k, np.nan) if k not in ("name", "type") else r[k] for r in rows] for k in cols}
    )
    table["flux"] = np.nan  # fluxes are not needed
    res = sf.forced_photometry(table, images, settings=CHEAP)
    np.testing.assert_allclose(res.flux, forced.flux, rtol=1e-10)


def test_bad_inputs_raise_clear_errors(images):
    scene = mock.scene()
    with pytest.raises(ValueError, match="empty"):
        sf.forced_photometry(scene, [])
    with pytest.raises(TypeError, match=r"images\[1\] is a str"):
        sf.forced_photometry(scene, [images[0], "r.fits"])
    with pytest.raises(TypeError, match="reference must be a Scene"):
        sf.forced_photometry(42, images)
    with pytest.raises(ValueError, match="no sources with a flux"):
        sf.forced_photometry(sf.Scene([sf.FlatSky(sky=0.0)]), images)
    with pytest.raises(ValueError, match="catalogue is empty"):
        sf.forced_photometry([], images)
    with pytest.raises(ValueError, match="has no value for 'r_e'"):
        sf.forced_photometry([{"name": "a", "type": "sersic", "x": 0, "y": 0}], images)
    with pytest.raises(ValueError, match="unknown model type"):
        sf.forced_photometry([{"name": "a", "type": "blob", "x": 0, "y": 0}], images)
    with pytest.raises(ValueError, match="labels for 2 images"):
        sf.forced_photometry(scene, images, labels=["only"])
    with pytest.raises(ValueError, match=r"images\[1\].*contains none of the sources"):
        sf.forced_photometry(scene, [images[0], images[1].replace(ref_sky=(300.0, 0.0))])
    with pytest.raises(ValueError, match="does not match data shape"):
        sf.Image(np.zeros((8, 8)), sigma=np.ones((8, 9)))


def test_catalogue_ra_dec_rows_are_projected_about_the_tangent_point():
    from scenefit.io import scene_from_catalogue
    from scenefit.tangent import gnomonic

    ra0, dec0 = 150.0, 60.0  # far from the equator: RA offsets shrink by cos(dec)
    row = {"name": "s", "type": "point", "ra": 150.001, "dec": 60.0005}
    sc = scene_from_catalogue([row], tangent_point=(ra0, dec0))
    xi, eta = gnomonic(row["ra"], row["dec"], ra0, dec0)
    assert (sc["s"].x.value, sc["s"].y.value) == (float(xi), float(eta))
    # small offsets: xi ~ dRA cos(dec) (east positive), eta ~ dDec, in arcsec
    assert sc["s"].x.value == pytest.approx(3.6 * np.cos(np.radians(60.0)), rel=1e-4)
    assert sc["s"].y.value == pytest.approx(1.8, rel=1e-4)
    with pytest.raises(ValueError, match="ra/dec but no x/y.*tangent point"):
        scene_from_catalogue([row])
    with pytest.raises(ValueError, match="90 degrees or more"):
        scene_from_catalogue([{**row, "ra": 330.0, "dec": -60.0}], tangent_point=(ra0, dec0))
    with pytest.raises(ValueError, match="ra/dec but no x/y"):  # forced without align_wcs
        sf.forced_photometry([row], mock.blank_images())
