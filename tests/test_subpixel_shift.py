"""Sub-pixel centring of profiles before convolution (``RenderSettings.subpixel_shift``).

Accuracy reference: a Sersic n = 4, r_e = 1 px profile convolved with a Gaussian PSF
(sigma = 1 px, sampled), rendered with the PSF oversampled 9 x (the converged answer).
Measured (``scripts/measure_psf_shift_accuracy.py``) at offset (0.3, -0.4) px and
elsewhere: the Lanczos-3 re-centring removes most of the error that depends on the
sub-pixel phase; the error that remains with the source on a pixel centre (4.8e-2 of
the peak here) needs an oversampled PSF. On smooth profiles the interpolation is the
larger error, which is why the default is no shift.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from conftest import blank, centroid
from scenefit._layout import build_layout
from scenefit.render import (
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_jacobian,
    make_renderer,
)

SHAPE = (25, 25)


def psf(sigma, s=1):
    size = 2 * int(7 * sigma * s) + 1
    yy, xx = np.mgrid[:size, :size] - size // 2
    p = np.exp(-0.5 * (xx**2 + yy**2) / (sigma * s) ** 2)
    return p / p.sum()


def sersic_at(image, px, py):
    x, y = (float(v) for v in image.pixel_to_sky(px, py))
    return sf.Scene([sf.Sersic(x=x, y=y, flux=1.0, r_e=1.0, n=4.0, q=1.0, pa=0.0)])


@pytest.mark.parametrize("kind", ["lanczos3", "bilinear"])
def test_on_a_pixel_centre_the_shift_changes_nothing(kind):
    image = blank(SHAPE, psf=psf(1.0))
    sc = sersic_at(image, 12.0, 11.0)
    plain = sf.render(sc, image)
    shifted = sf.render(sc, image, RenderSettings(subpixel_shift=kind))
    np.testing.assert_allclose(shifted, plain, rtol=0, atol=1e-13 * plain.max())


@pytest.mark.parametrize("kind", ["lanczos3", "bilinear"])
def test_flux_is_conserved_and_bilinear_keeps_the_centroid(kind):
    """A compact source (all its light on the grid): the shift weights sum to 1, so the
    flux is that of the profile integrated on a pixel centre (which differs from the
    off-centre integral by the quadrature error, 8e-9 here)."""
    image = blank(SHAPE, psf=psf(1.0))

    def scene(px, py):
        x, y = (float(v) for v in image.pixel_to_sky(px, py))
        return sf.Scene([sf.Gaussian(x=x, y=y, flux=1.0, sigma=0.6, q=0.7, pa=20.0)])

    centred = sf.render(scene(12.0, 12.0), image)
    shifted = sf.render(scene(12.3, 11.6), image, RenderSettings(subpixel_shift=kind))
    assert shifted.sum() == pytest.approx(centred.sum(), rel=1e-12)
    assert shifted.sum() == pytest.approx(1.0, rel=1e-7)
    # bilinear re-centring keeps the centroid exactly, normalised Lanczos-3 to 0.0198 px
    tol = 0.021 if kind == "lanczos3" else 1e-10
    assert centroid(shifted) == pytest.approx((12.3, 11.6), abs=tol)


def test_lanczos_recentring_helps_a_steep_profile_off_pixel():
    image = blank(SHAPE, psf=psf(1.0))
    ref_image = blank(SHAPE, psf=psf(1.0, 9), psf_oversampling=9)
    sc = sersic_at(image, 12.3, 11.6)
    ref = sf.render(sc, ref_image)
    err = {
        k: np.abs(sf.render(sc, image, RenderSettings(subpixel_shift=k)) - ref).max() / ref.max()
        for k in (None, "lanczos3")
    }
    on_pixel = sersic_at(image, 12.0, 12.0)
    err_centred = np.abs(sf.render(on_pixel, image) - sf.render(on_pixel, ref_image)).max()
    err_centred /= sf.render(on_pixel, ref_image).max()
    # re-centring brings the off-pixel error down to the on-pixel-centre level
    assert err["lanczos3"] < 0.7 * err[None], err
    assert err["lanczos3"] < 1.1 * err_centred, (err, err_centred)


@pytest.mark.slow
def test_jacobian_with_shift_equals_dense_and_finite_differences():
    """Differentiable in the centre: the block-sparse Jacobian equals jacfwd, and the
    x-derivative equals a central finite difference."""
    image = sf.Image(np.zeros(SHAPE), psf=psf(1.0), cd=[[-0.3, 0.05], [0.02, 0.28]])
    sc = sf.Scene(
        [
            sf.Exponential(x=0.31, y=-0.17, flux=10.0, h=0.8, q=0.7, pa=30.0),
            sf.Gaussian(x=-1.1, y=0.4, flux=5.0, sigma=0.5, q=0.5, pa=10.0),
        ]
    )
    layout, vals, x0 = build_layout(sc)
    spec, inputs = image_spec(image), image_inputs(image)
    st = RenderSettings(subpixel_shift="lanczos3")
    render = make_renderer(layout, spec, st)
    jac = make_model_jacobian(layout, spec, st)
    f = jax.jit(lambda x: render(layout.expand(x, vals.base), inputs))
    x0 = jnp.asarray(x0)
    dense = np.moveaxis(np.asarray(jax.jit(jax.jacfwd(f))(x0)), -1, 0)
    sparse = np.asarray(jax.jit(jac)(layout.expand(x0, vals.base), inputs))
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-12 * np.abs(dense).max())
    i = layout.free_addresses.index("exponential.x")
    h = 1e-6
    e = np.zeros(x0.shape)
    e[i] = h
    fd = (np.asarray(f(x0 + e)) - np.asarray(f(x0 - e))) / (2 * h)
    assert np.abs(dense[i]).max() > 0.05  # the centre matters
    np.testing.assert_allclose(dense[i], fd, rtol=0, atol=1e-6 * np.abs(dense[i]).max())
