"""FFT and direct (real-space) PSF convolution compute the same map; "auto" follows the
measured cost model; the Jacobian uses the renderer's choice.

All renders use one 20 x 24 image and small PSFs so that each variant compiles fast.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from conftest import blank
from scenefit._layout import build_layout
from scenefit.render import (
    ImageSpec,
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_jacobian,
    make_renderer,
)
from scenefit.render._conv_cost import choose_convolution
from scenefit.render.renderer import _Grid

SHAPE = (20, 24)


def asymmetric_psf(ny, nx):
    """A lopsided, non-negative PSF (any error in flipping or centring shows)."""
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    p = np.exp(-0.5 * ((xx - nx // 2 - 0.7) ** 2 / 2.0 + (yy - ny // 2 + 0.4) ** 2 / 1.2))
    return p + 0.05 * (xx + 2 * yy) / (nx + ny)


def scene(points=True):
    comps = [
        sf.Exponential(x=0.4, y=-0.3, flux=50.0, h=1.5, q=0.7, pa=40.0),
        sf.Gaussian(x=-3.1, y=2.2, flux=20.0, sigma=0.8, q=0.5, pa=-20.0),
        sf.TiltedSky(sky=0.5, dsky_dx=0.01, dsky_dy=-0.02),
    ]
    if points:
        comps.append(sf.PointSource(x=4.3, y=-2.7, flux=15.0))
    return sf.Scene(comps)


CASES = {  # PSF shape, oversampling
    "odd-1x": ((5, 7), 1),
    "even-1x": ((6, 4), 1),
    "odd-2x": ((9, 9), 2),
    "even-2x": ((8, 10), 2),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("points", ["fourier", "cubic", None])
def test_fft_and_direct_agree(case, points):
    (ny, nx), s = CASES[case]
    img = blank(SHAPE, psf=asymmetric_psf(ny, nx), psf_oversampling=s)
    sc = scene(points is not None)
    interp = points or "fourier"
    # the fixed integration rule: what is compared is the convolution, not the integral
    fft = sf.render(sc, img, RenderSettings(convolution="fft", point_interp=interp, rel_tol=None))
    direct = sf.render(
        sc, img, RenderSettings(convolution="direct", point_interp=interp, rel_tol=None)
    )
    err = np.abs(fft - direct).max() / np.abs(fft).max()
    assert err < 1e-12, err
    plain = sf.render(sc, blank(SHAPE), RenderSettings.fast())
    assert np.abs(fft - plain).max() > 0.1  # the PSF did something


def test_direct_convolution_matches_numpy_reference():
    """An independent real-space convolution with explicit loops (same-size output,
    PSF centre at (Ph // 2, Pw // 2), zeros outside the grid)."""
    from scenefit.render._convolve import convolve_direct

    rng = np.random.default_rng(1)
    model = rng.random((7, 9))
    psf = rng.random((4, 3))
    ref = np.zeros_like(model)
    for i in range(7):
        for j in range(9):
            for k in range(4):
                for m in range(3):
                    a, b = i + 4 // 2 - k, j + 3 // 2 - m
                    if 0 <= a < 7 and 0 <= b < 9:
                        ref[i, j] += model[a, b] * psf[k, m]
    out = np.asarray(convolve_direct(jnp.asarray(model)[None], jnp.asarray(psf))[0])
    np.testing.assert_allclose(out, ref, rtol=0, atol=1e-14)


@pytest.mark.parametrize(
    "method,points", [("direct", "fourier"), ("direct", "lanczos3"), ("fft", "bicubic")]
)
def test_jacobian_with_direct_convolution_equals_dense(method, points):
    """(The FFT path is covered by tests/test_jacobian.py; bicubic points skip it.)"""
    img = blank(SHAPE, psf=asymmetric_psf(5, 5), psf_oversampling=1)
    layout, vals, x0 = build_layout(scene())
    spec, inputs = image_spec(img), image_inputs(img)
    st = RenderSettings(convolution=method, point_interp=points, rel_tol=None)
    render = make_renderer(layout, spec, st)
    jac = make_model_jacobian(layout, spec, st)
    dense = jax.jit(jax.jacfwd(lambda x: render(layout.expand(x, vals.base), inputs)))(
        jnp.asarray(x0)
    )
    dense = np.moveaxis(np.asarray(dense), -1, 0)
    sparse = np.asarray(jax.jit(jac)(layout.expand(jnp.asarray(x0), vals.base), inputs))
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-12 * np.abs(dense).max())


def test_auto_follows_the_cost_model():
    def method(psf_shape, st, points=False, shape=(64, 64)):
        spec = ImageSpec(shape=shape, psf_shape=psf_shape, oversampling=1)
        return _Grid.of(spec, st, points).method

    auto = RenderSettings()
    assert auto.convolution == "auto"
    assert method((3, 3), auto) == "direct"
    assert method((25, 25), auto) == "fft"
    # Fourier point sources need the transform anyway
    assert method((3, 3), auto, points=True) == "fft"
    assert method((3, 3), RenderSettings(point_interp="cubic"), points=True) == "direct"
    # explicit choices are obeyed
    assert method((25, 25), RenderSettings(convolution="direct")) == "direct"
    assert method((3, 3), RenderSettings(convolution="fft")) == "fft"
    # the rule: direct wins only while H W Ph Pw is small against N log N
    assert choose_convolution((512, 512), (5, 5), (540, 540)) == "direct"
    assert choose_convolution((512, 512), (9, 9), (540, 540)) == "fft"


@pytest.mark.parametrize(
    "field,value",
    [("convolution", "fast"), ("subpixel_shift", "lanczos5"), ("point_interp", "spline")],
)
def test_bad_psf_settings_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        RenderSettings(**{field: value})
