"""J^T J and J^T r accumulated over bands of rows equal the whole-Jacobian ones."""

from __future__ import annotations

import importlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.fitting import fit
from scenefit.fitting.fit import jacobian_bands, make_normal_equations, problem_args
from scenefit.fitting.priors import build_priors
from scenefit.parameters import to_unconstrained
from scenefit.render import RenderSettings, image_inputs, image_spec
from scenefit.render.renderer import band_rows_supported

fit_module = importlib.import_module("scenefit.fitting.fit")  # the module, not fit()


def _psf():
    scene = sf.Scene([sf.Moffat(x=0, y=0, flux=1, fwhm=2.0, beta=3, q=1, pa=0)])
    return sf.PixelPSF(sf.render(scene, sf.Image(np.zeros((9, 9)))))


def _problem(psf, points):
    comps = [
        # centres near band edges and the image edge, one off the image
        sf.Sersic(name="a", x=-6.0, y=4.2, flux=800.0, r_e=2.5, n=2.5, q=0.6, pa=30.0),
        sf.Exponential(name="b", x=9.0, y=-14.0, flux=500.0, h=3.0, q=0.8, pa=100.0),
        sf.Gaussian(name="c", x=2.0, y=23.0, flux=300.0, sigma=2.0, q=0.9, pa=10.0),
        sf.TiltedSky(name="sky", sky=1.0, dsky_dx=0.01, dsky_dy=-0.02),
    ]
    if points:
        comps.append(sf.PointSource(name="star", x=-3.0, y=-8.3, flux=400.0))
    scene = sf.Scene(comps)
    blank = sf.Image(np.zeros((47, 40)), psf=psf)
    rng = np.random.default_rng(1)
    image = blank.replace(data=sf.render(scene, blank) + rng.normal(0, 1, blank.shape), sigma=1.0)
    return scene, image


@pytest.mark.parametrize(
    ("with_psf", "points", "likelihood", "settings"),
    [
        (False, True, "chi2", RenderSettings()),
        (True, False, "chi2", RenderSettings()),
        (True, False, "poisson", RenderSettings.fast()),
        (False, False, "chi2", RenderSettings(sampling="imfit")),
    ],
)
def test_banded_normal_equations_equal_the_whole(with_psf, points, likelihood, settings):
    scene, image = _problem(_psf() if with_psf else None, points)
    if likelihood == "poisson":  # positive data
        image = image.replace(data=np.abs(image.data) + 1.0, sigma=1.0)
    layout, vals, x0 = build_layout(scene)
    spec = image_spec(image)
    assert band_rows_supported(layout, spec, settings)
    pset = build_priors(layout, vals.base, None, ())
    args = problem_args(vals, image, pset, offset=True)
    args[6]["offset"] = jnp.full(image.shape, 0.25)
    u = jnp.asarray(to_unconstrained(x0, np.asarray(layout.kinds), vals.lo, vals.hi)) + 0.01
    whole = jax.jit(make_normal_equations(layout, spec, settings, likelihood, pset.static)[0])
    obj1, g1, a1 = whole(u, *args)
    for bands in (3, 5):
        fn = make_normal_equations(layout, spec, settings, likelihood, pset.static, bands)[0]
        obj, g, a = jax.jit(fn)(u, *args)
        assert float(obj) == pytest.approx(float(obj1), rel=1e-12)
        np.testing.assert_allclose(g, g1, rtol=1e-9, atol=1e-9 * float(jnp.max(jnp.abs(g1))))
        np.testing.assert_allclose(a, a1, rtol=1e-9, atol=1e-10 * float(jnp.max(jnp.abs(a1))))


def test_points_through_a_psf_are_not_banded():
    scene, image = _problem(_psf(), points=True)
    layout = build_layout(scene)[0]
    assert not band_rows_supported(layout, image_spec(image), RenderSettings())
    assert jacobian_bands(layout, image_spec(image), RenderSettings()) == 1


def test_a_banded_fit_equals_the_whole_fit(monkeypatch):
    scene, image = _problem(_psf(), points=False)
    start = scene.replace_component("a", scene["a"].replace(flux=600.0, r_e=3.0))
    whole = fit(start, image)
    layout = build_layout(start)[0]
    monkeypatch.setattr(fit_module, "BAND_BYTES", 8 * layout.n_free * 47 * 12)
    assert jacobian_bands(layout, image_spec(image), RenderSettings()) == 4
    fit_module._PROGRAMS.clear()
    banded = fit(start, image)
    fit_module._PROGRAMS.clear()
    assert banded.objective == pytest.approx(whole.objective, rel=1e-10)
    for a in whole.free:
        assert banded.value(a) == pytest.approx(whole.value(a), rel=1e-7, abs=1e-8)
        assert banded.error(a) == pytest.approx(whole.error(a), rel=1e-6)


@pytest.mark.parametrize("row", [-0.4, -9.0, 120.3, 60.0])
def test_bands_place_the_accurate_window_of_an_edge_source(row):
    # an image taller than the accurate window, so that each band has a far zone; the
    # window of a source centred off the top edge lies above every band but the first
    # (a negative offset into the band, which must not wrap around to its bottom)
    from scenefit.render.renderer import make_band_model_and_jacobian, make_renderer

    image = sf.Image(np.zeros((121, 50)), sigma=1.0)
    y = row - (121 - 1) / 2.0
    scene = sf.Scene([sf.Sersic(name="a", x=3.0, y=y, flux=900.0, r_e=6.0, n=2.0, q=0.7, pa=20)])
    layout, vals, x0 = build_layout(scene)
    p = layout.expand(jnp.asarray(x0), jnp.asarray(vals.base))
    spec, inputs = image_spec(image), image_inputs(image)
    settings = RenderSettings().coarse()
    assert settings.refine_window < 121 / 3
    whole = np.asarray(make_renderer(layout, spec, settings)(p, inputs))
    n_rows = 41
    band = make_band_model_and_jacobian(layout, spec, settings, n_rows)
    rows = [np.asarray(band(p, inputs, r0)[0]) for r0 in range(0, 121, n_rows)]
    np.testing.assert_allclose(np.concatenate(rows)[:121], whole, rtol=1e-12, atol=1e-12)
