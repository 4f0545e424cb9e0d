"""Autodiff gradients of rendered images against central finite differences.

The objective is L(p) = sum(w * model(p)) with a fixed random weight image w, so that
every pixel's derivative contributes. Steps are h_i = 1e-5 * max(|p_i|, 1): the
truncation error (~h^2 L''') and the rounding error (~1e-16 L / h) are then both ~1e-9
relative; measured agreement is ~1e-7 or better, so the 1e-5 tolerance has margin.

Positions are kept away from half-pixel boundaries: the core-refinement block of an
elliptical profile is placed by rounding the centre's pixel (a piecewise-constant
choice), and a PSF-less point source is a bilinear deposit (kinked at integer pixels).
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from conftest import blank, gaussian_psf
from scenefit._layout import build_layout
from scenefit.render import RenderSettings, image_inputs, image_spec, make_renderer

SCENE = sf.Scene(
    [
        sf.Sersic(x=0.23, y=-0.31, flux=120.0, r_e=3.1, n=2.3, q=0.62, pa=33.0),
        sf.Exponential(x=-6.27, y=5.18, flux=60.0, h=2.2, q=0.45, pa=121.0),
        sf.Gaussian(x=7.21, y=-6.69, flux=40.0, sigma=1.7, q=0.7, pa=-40.0),
        sf.Moffat(x=-7.3, y=-7.2, flux=50.0, fwhm=2.6, beta=2.7, q=0.8, pa=75.0),
        sf.PointSource(x=5.33, y=8.27, flux=30.0),
        sf.FlatSky(sky=0.7),
        sf.TiltedSky(sky=0.2, dsky_dx=0.01, dsky_dy=-0.02),
    ]
)

_T = np.deg2rad(20.0)
ROTATED_CD = 0.9 * np.array([[np.cos(_T), -np.sin(_T)], [np.sin(_T), np.cos(_T)]])

# The whole scene (every component type) is checked with a PSF; the other render paths
# (a rotated pixel grid; an oversampled PSF; no PSF, where point sources are deposited
# bilinearly) are checked on a smaller scene that holds what those paths change, to keep
# compilation (reverse mode through the renderer: ~30 s for 7 types) affordable.
SMALL = sf.Scene([SCENE["sersic"], SCENE["point"], SCENE["tilted_sky"]])
CASES = {
    "psf": (SCENE, dict(psf=gaussian_psf(11, 1.3))),
    "psf-rotated-cd": (SMALL, dict(psf=gaussian_psf(11, 1.3), cd=ROTATED_CD)),
    "psf-rotated-cd-whole-scene": (SCENE, dict(psf=gaussian_psf(11, 1.3), cd=ROTATED_CD)),
    "psf-oversampled-2": (
        SMALL,
        dict(psf=gaussian_psf(21, 1.3, oversampling=2), psf_oversampling=2),
    ),
    "no-psf": (SMALL, dict()),
}


@lru_cache(maxsize=16)
def _compiled(layout, spec):
    """Jitted L(p, inputs, w), its gradient, and its batched version (one compile each)."""
    render = make_renderer(layout, spec, RenderSettings())

    def loss(p, inputs, w):
        return jnp.sum(w * render(p, inputs))

    return jax.jit(loss), jax.jit(jax.grad(loss))


def _objective(scene, image, seed=0):
    """Pure functions of the full parameter vector p, L(p) = sum(w * model(p)) and
    grad L (reverse mode), with p0 and the parameter addresses."""
    layout, values, _ = build_layout(scene)
    loss, grad = _compiled(layout, image_spec(image))
    inputs = image_inputs(image)
    w = jnp.asarray(np.random.default_rng(seed).normal(size=image.shape))
    return (
        lambda p: loss(p, inputs, w),
        lambda p: grad(p, inputs, w),
        jnp.asarray(values.base),
        layout.addresses,
    )


def _check_gradient(objective, rel_step=1e-5, rtol=1e-5):
    loss, grad, p0, addresses = objective
    ad = np.asarray(grad(p0))
    h = rel_step * np.maximum(np.abs(np.asarray(p0)), 1.0)
    fd = np.array(
        [
            (float(loss(p0.at[i].add(hi))) - float(loss(p0.at[i].add(-hi)))) / (2 * hi)
            for i, hi in enumerate(h)
        ]
    )
    # absolute floor: a tiny fraction of the largest gradient, for near-zero entries
    bad = np.abs(ad - fd) > rtol * np.abs(ad) + 1e-9 * np.abs(ad).max()
    detail = [
        f"{a}: ad={g:.8g} fd={f:.8g}"
        for a, g, f, b in zip(addresses, ad, fd, bad, strict=True)
        if b
    ]
    assert not bad.any(), "; ".join(detail)
    return ad


@pytest.mark.parametrize(
    "kind",
    [
        pytest.param(k, marks=pytest.mark.slow)
        if k in ("psf-oversampled-2", "psf-rotated-cd-whole-scene")
        else k
        for k in CASES
    ],
)
def test_gradient_of_every_parameter_matches_finite_differences(kind):
    scene, image_kwargs = CASES[kind]
    image = blank((32, 32), **image_kwargs)
    objective = _objective(scene, image)
    ad = _check_gradient(objective)
    addresses = objective[-1]
    # every parameter of every component type influences the image here
    assert np.all(np.abs(ad) > 0), [a for a, g in zip(addresses, ad, strict=True) if g == 0]


def test_sky_gradients_are_exact_sums():
    """d/d(sky) sum(w m) = sum(w); d/d(dsky_dx) = sum(w dx) (linear, not convolved)."""
    image = blank((32, 32), psf=gaussian_psf(11, 1.3))
    _, grad, p0, addresses = _objective(SCENE, image)
    ad = dict(zip(addresses, np.asarray(grad(p0)), strict=True))
    w = np.random.default_rng(0).normal(size=image.shape)
    dy, dx = np.mgrid[:32, :32] - 15.5
    assert ad["flat_sky.sky"] == pytest.approx(w.sum(), rel=1e-12)
    assert ad["tilted_sky.sky"] == pytest.approx(w.sum(), rel=1e-12)
    assert ad["tilted_sky.dsky_dx"] == pytest.approx((w * dx).sum(), rel=1e-12)
    assert ad["tilted_sky.dsky_dy"] == pytest.approx((w * dy).sum(), rel=1e-12)


def test_flux_gradient_is_exact():
    """The model is linear in each flux: L(p + f_i e_i) - L(p) = f_i dL/df_i exactly."""
    image = blank((32, 32), psf=gaussian_psf(11, 1.3))
    loss, grad, p0, addresses = _objective(SCENE, image)
    ad = np.asarray(grad(p0))
    for i, a in enumerate(addresses):
        if a.endswith(".flux"):
            diff = float(loss(p0.at[i].multiply(2.0))) - float(loss(p0))
            assert diff == pytest.approx(float(p0[i]) * ad[i], rel=1e-10), a


def test_gradients_through_ties():
    """A tie routes the leader's value to the follower: moving the leader moves both, so
    dL/d(leader) of the tied scene = dL/d(leader) + dL/d(follower) of the untied one."""
    image = blank((32, 32), psf=gaussian_psf(11, 1.3))
    loss, grad, _, addresses = _objective(SCENE, image)
    tied = SCENE.with_ties({"exponential.x": "sersic.x", "exponential.y": "sersic.y"})
    layout, values, x0 = build_layout(tied)
    assert "exponential.x" not in layout.free_addresses
    p_tied = layout.expand(x0, values.base)  # the exponential now sits on the Sersic
    assert p_tied[addresses.index("exponential.x")] == p_tied[addresses.index("sersic.x")]
    g = dict(zip(addresses, np.asarray(grad(p_tied)), strict=True))
    free = list(layout.free_addresses)
    for c in ("x", "y"):
        i = free.index(f"sersic.{c}")
        h = 1e-5
        up = float(loss(layout.expand(x0 + h * np.eye(len(x0))[i], values.base)))
        down = float(loss(layout.expand(x0 - h * np.eye(len(x0))[i], values.base)))
        expected = g[f"sersic.{c}"] + g[f"exponential.{c}"]
        assert (up - down) / (2 * h) == pytest.approx(expected, rel=1e-6)


def test_reverse_mode_through_the_bound_transforms_is_finite_for_large_values():
    # an unbounded parameter of 3000 (a flux) made exp(u) infinite in the unused branches
    # of from_unconstrained, and reverse mode turned their zero cotangents into NaN
    from scenefit.parameters import BOTH, FREE, LOWER, UPPER, from_unconstrained

    kind = jnp.array([FREE, FREE, LOWER, UPPER, BOTH])
    lo = jnp.array([-jnp.inf, -jnp.inf, 0.0, -jnp.inf, 0.1])
    hi = jnp.array([jnp.inf, jnp.inf, jnp.inf, 5.0, 0.9])
    u = jnp.array([3000.0, -2500.0, 3.0, -1.0, 0.5])

    def f(v):
        return jnp.sum(jnp.log(jnp.abs(from_unconstrained(v, kind, lo, hi)) + 1.0))

    rev = np.asarray(jax.grad(f)(u))
    fwd = np.asarray(jax.jacfwd(f)(u))
    assert np.all(np.isfinite(rev))
    np.testing.assert_allclose(rev, fwd, rtol=1e-12)
