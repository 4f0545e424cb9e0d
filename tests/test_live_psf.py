"""Scenes with a live PSF (a PSF model with free parameters, docs/psf_models.md).

* rendering a scene with a MoffatPSF component equals rendering it with the same
  Moffat as a fixed PixelPSF (image PSF grid, the default grid, an oversampled grid);
* every Jacobian column (the PSF's forward-mode ones and the sources' block-sparse
  ones convolved with the drawn PSF) matches central finite differences;
* injection and recovery: a field of stars and a galaxy sharing a free Moffat PSF.

The PSF laws themselves: tests/test_psf_models.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.models import MoffatPSF
from scenefit.render import (
    DEFAULT_PSF_SHAPE,
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
)
from test_psf_models import IDS, JAC_CASES, field, reference_psf

FAST = RenderSettings.fast()


# ---------------------------------------------------------- live vs fixed PSF
@pytest.mark.parametrize(
    ("psf_shape", "s"),
    [
        ((25, 25), 1),
        (None, 1),
        pytest.param((31, 31), 2, marks=pytest.mark.slow),  # oversampled: ~6 s, opt-in
    ],
    ids=["image-grid", "default-grid", "oversampled"],
)
def test_moffat_psf_component_renders_like_the_same_fixed_pixel_psf(psf_shape, s):
    fwhm, beta, scale = 2.4, 3.2, 0.7
    grid = DEFAULT_PSF_SHAPE if psf_shape is None else psf_shape
    fixed = reference_psf(MoffatPSF, (fwhm, beta), grid, s, scale)
    placeholder = None if psf_shape is None else np.ones(psf_shape)  # values ignored
    live_img = sf.Image(np.zeros((40, 44)), pixel_scale=scale, psf=placeholder, psf_oversampling=s)
    fixed_img = sf.Image(np.zeros((40, 44)), pixel_scale=scale, psf=fixed, psf_oversampling=s)
    live = sf.render(field(MoffatPSF(name="psf", fwhm=fwhm, beta=beta)), live_img, FAST)
    ref = sf.render(field(), fixed_img, FAST)
    np.testing.assert_allclose(live, ref, rtol=0, atol=1e-9 * ref.max())
    other = sf.render(field(MoffatPSF(name="psf", fwhm=1.2 * fwhm, beta=beta)), live_img, FAST)
    assert np.abs(other - ref).max() > 1e-2 * ref.max()  # the parameters do act


# ------------------------------------------------------------------- Jacobian
# the other models take the Moffat's code path through the renderer (their own
# derivatives are checked by test_drawn_psf_derivatives_match_finite_differences):
# opt-in (-m slow), 10-15 s each
_SLOW_JAC = {"gaussian_psf", "airy_psf", "zernike_psf"}


@pytest.mark.parametrize(
    "psf",
    [
        pytest.param(c, marks=[pytest.mark.slow] if c.TYPE_NAME in _SLOW_JAC else [])
        for c in JAC_CASES
    ],
    ids=[*IDS, "zernike_psf"],
)
def test_jacobian_columns_match_finite_differences(psf):
    """Every column (the PSF's forward-mode ones, and the sources' block-sparse ones
    convolved with the drawn PSF) against Richardson-extrapolated central differences
    of the renderer."""
    scene = field(psf)
    if not isinstance(psf, MoffatPSF):  # the sources' columns are checked with the Moffat
        scene = sf.Scene([c if c.name == "psf" else _fixed(c) for c in scene.components])
    image = sf.Image(np.zeros((30, 30)), pixel_scale=0.8, psf=np.ones((17, 17)))
    layout, vals, x0 = build_layout(scene)
    spec, inputs = image_spec(image), image_inputs(image, layout)
    render = jax.jit(make_renderer(layout, spec, FAST))
    both = jax.jit(make_model_and_jacobian(layout, spec, FAST))
    base = jnp.asarray(vals.base)
    model, jac = both(base, inputs)
    np.testing.assert_allclose(model, render(base, inputs), rtol=0, atol=1e-12 * model.max())

    def at(x):
        return np.asarray(render(layout.expand(jnp.asarray(x), base), inputs))

    scale = np.abs(np.asarray(jac)).max(axis=(1, 2))
    for j, a in enumerate(layout.free_addresses):
        h = 1e-4 * max(abs(x0[j]), 0.05)  # Zernike terms start at 0

        def central(step, j=j):
            up, dn = x0.copy(), x0.copy()
            up[j] += step
            dn[j] -= step
            return (at(up) - at(dn)) / (2 * step)

        fd = (4 * central(h / 2) - central(h)) / 3
        col = np.asarray(jac[j])
        assert scale[j] > 0, a
        tol = 1e-7 if a.startswith("psf.") else 1e-5  # the Sersic's n: near its cusp
        np.testing.assert_allclose(col, fd, rtol=0, atol=tol * scale[j], err_msg=a)


def _fixed(comp):
    return comp.replace(**{k: sf.Param(p.value, fixed=True) for k, p in comp.params().items()})


# --------------------------------------------------------- injection-recovery
def test_stars_and_a_galaxy_sharing_a_free_moffat_psf_are_recovered():
    rng = np.random.default_rng(7)
    truth_psf = {"fwhm": 3.2, "beta": 2.8}
    stars = [
        sf.PointSource(name=f"star{i}", x=float(x), y=float(y), flux=float(f))
        for i, (x, y, f) in enumerate(
            zip(
                rng.uniform(-24, 24, 6),
                rng.uniform(-24, 24, 6),
                rng.uniform(300, 900, 6),
                strict=True,
            )
        )
    ]
    gal = sf.Sersic(name="gal", x=0.6, y=-1.1, flux=3000.0, r_e=4.0, n=1.2, q=0.65, pa=35.0)
    sky = sf.FlatSky(name="sky", sky=1.0)
    truth = sf.Scene([gal, *stars, sky, MoffatPSF(name="psf", **truth_psf)])
    blank = sf.Image(np.zeros((64, 64)))  # no PSF of its own: the default 31 x 31 grid
    noise = 0.5
    data = sf.render(truth, blank, FAST) + rng.normal(0, noise, (64, 64))
    image = sf.Image(data, sigma=noise)

    start = truth.replace_component("psf", MoffatPSF(fwhm=4.2, beta=4.5))
    start = start.replace_component("gal", gal.replace(r_e=5.0, n=2.0, flux=2500.0))
    res = sf.fit(start, image, settings=FAST)
    assert res.converged, res.message
    assert res.reduced_chi2 == pytest.approx(1.0, abs=0.1)
    for p, v in truth_psf.items():
        err = res.error(f"psf.{p}")
        assert np.isfinite(err) and err > 0
        assert abs(res.value(f"psf.{p}") - v) < 3.5 * err, (p, res.value(f"psf.{p}"), err)
    for a in ("gal.r_e", "gal.n", "gal.flux"):
        assert abs(res.value(a) - truth.param(a).value) < 3.5 * res.error(a), a
