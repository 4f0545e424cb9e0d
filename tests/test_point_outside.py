"""Sources outside the image contribute only the light their PSF (or profile) puts inside.

Regression: a point source placed by a Fourier phase ramp sits modulo the FFT size, so a
star 20-200 px outside a 32x32 image used to wrap around and land inside with its whole
flux. The references here are independent of the renderer:

* at integer (fine-)pixel positions a phase ramp is an exact shift, so the rendered
  image must equal the PSF stamp pasted at that pixel and clipped to the image (a
  direct loop over the stamp), for odd, even and non-square stamps and an oversampled
  PSF;
* at fractional positions, with a well-sampled Gaussian PSF, it must equal the sampled
  Gaussian moved to the position (the band-limited shift of a well-sampled Gaussian;
  the stamp is 6 sigma wide, so the light it leaves out is ~1e-8);
* a Gaussian galaxy outside the image (plain and sub-pixel-shifted rendering) must put
  in the analytic erf integral of its light over the image.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf

import scenefit as sf
from conftest import blank, gaussian_psf
from scenefit._layout import build_layout
from scenefit.render import image_inputs, image_spec, make_model_and_jacobian

SHAPE = (32, 40)  # rows, columns
# image-pixel positions from far outside (wrapped into the image before the fix),
# through the PSF's reach, to inside, on both sides of both axes
FAR = [-200.0, -120.0, -60.0, -20.0, 60.0, 75.0, 100.0, 230.0]
NEAR = [-7.0, -5.0, -3.0, -1.0, 2.0, 33.0, 36.0, 41.0, 44.0]


def _stamp_pasted(stamp, s, u, v, shape):
    """The stamp with its centre pixel on fine pixel (u, v) = (col, row) of the
    image's fine grid, clipped to the image and binned s x s (direct loops)."""
    h, w = shape
    fine = np.zeros((h * s, w * s))
    ph, pw = stamp.shape
    for k in range(ph):
        for m in range(pw):
            r, c = v + k - ph // 2, u + m - pw // 2
            if 0 <= r < h * s and 0 <= c < w * s:
                fine[r, c] += stamp[k, m]
    return fine.reshape(h, s, w, s).sum(axis=(1, 3))


def _point(image, px, py, flux=1.0):
    xi, eta = image.pixel_to_sky(px, py)
    return sf.Scene([sf.PointSource(x=float(xi), y=float(eta), flux=flux)])


@pytest.mark.parametrize(
    "psf,s",
    [
        (gaussian_psf(11, 1.5), 1),
        (gaussian_psf(10, 1.5), 1),  # even: centre at pixel 5
        (gaussian_psf((9, 13), 1.5), 1),
        (gaussian_psf(21, 1.5, oversampling=2), 2),
    ],
    ids=["odd", "even", "9x13", "oversampled"],
)
def test_point_at_a_pixel_is_the_clipped_stamp(psf, s):
    image = blank(SHAPE, psf=psf, psf_oversampling=s)
    stamp = image.psf.image
    worst = 0.0
    for p in FAR + NEAR:
        for q in (15.0, -30.0, 150.0, NEAR[1], NEAR[-2]):
            for px, py in ((p, q), (q, p)):
                u, v = int(px * s), int(py * s)  # fine pixel; its centre in image pixels:
                cx, cy = (u + 0.5) / s - 0.5, (v + 0.5) / s - 0.5
                got = sf.render(_point(image, cx, cy), image)
                want = _stamp_pasted(stamp, s, u, v, SHAPE)
                worst = max(worst, float(np.abs(got - want).max()))
                assert abs(got.sum() - want.sum()) < 1e-12, (px, py, got.sum(), want.sum())
    assert worst < 1e-12, worst


def test_point_at_a_fraction_of_a_pixel_is_the_shifted_gaussian():
    sigma = 2.0
    image = blank(SHAPE, psf=gaussian_psf(25, sigma))
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    for px, py in [(-13.3, 12.6), (-9.5, 20.2), (-3.7, -4.4), (45.25, 7.8), (20.1, 40.6)]:
        got = sf.render(_point(image, px, py), image)
        g = np.exp(-0.5 * ((xx - px) ** 2 + (yy - py) ** 2) / sigma**2) / (2 * np.pi * sigma**2)
        assert np.abs(got - g).max() < 2e-8, (px, py, np.abs(got - g).max())
        assert abs(got.sum() - g.sum()) < 1e-7, (px, py, got.sum(), g.sum())
    for px, py in [(-13.7, 12.6), (-40.2, 3.1), (15.5, 50.3), (-120.4, -77.9)]:
        assert np.abs(sf.render(_point(image, px, py), image)).max() == 0.0  # beyond reach


def test_jacobian_of_a_point_outside_is_its_clipped_stamp_derivative():
    """The block-sparse Jacobian (forward mode through the phase ramp) of a point whose
    stamp half overlaps the image matches finite differences of the render; one beyond
    the stamp's reach has an all-zero Jacobian."""
    image = blank(SHAPE, psf=gaussian_psf(25, 2.0))
    spec, inputs = image_spec(image), image_inputs(image)
    st = sf.RenderSettings()
    for px, py, zero in [(-4.3, 12.6, False), (-60.2, 12.6, True)]:
        layout, vals, x0 = build_layout(_point(image, px, py, flux=5.0))
        both = jax.jit(make_model_and_jacobian(layout, spec, st))
        p0 = layout.expand(jnp.asarray(x0), vals.base)
        model, jac = (np.asarray(a) for a in both(p0, inputs))
        if zero:
            assert not np.any(model) and not np.any(jac)
            continue
        for j in range(len(x0)):
            h = 1e-5
            dx = np.zeros(len(x0))
            dx[j] = h
            up = both(layout.expand(jnp.asarray(x0 + dx), vals.base), inputs)[0]
            dn = both(layout.expand(jnp.asarray(x0 - dx), vals.base), inputs)[0]
            fd = (np.asarray(up) - np.asarray(dn)) / (2 * h)
            assert np.abs(jac[j] - fd).max() < 1e-6 * np.abs(fd).max() + 1e-12, j


@pytest.mark.parametrize("shift", [None, "lanczos3"])
@pytest.mark.parametrize("px", [-60.0, -20.0, -8.0, 47.0, 70.0, 250.0])
def test_galaxy_outside_puts_in_its_analytic_light(shift, px):
    sigma = 3.0
    image = blank(SHAPE)
    xi, eta = image.pixel_to_sky(px, 15.5)
    scene = sf.Scene([sf.Gaussian(x=float(xi), y=float(eta), flux=1.0, sigma=sigma, q=1, pa=0)])
    got = sf.render(scene, image, sf.RenderSettings(subpixel_shift=shift)).sum()
    w, k = SHAPE[1], np.sqrt(2) * sigma
    want = 0.5 * (erf((w - 0.5 - px) / k) - erf((-0.5 - px) / k))
    want *= erf((SHAPE[0] / 2) / (np.sqrt(2) * sigma))  # rows: centred
    assert abs(got - want) < 1e-7 * want + 1e-15, (got, want)  # integration rule


@pytest.mark.parametrize("kernel", ["bilinear", "cubic", "lanczos3", "bicubic"])
def test_interpolated_points_outside_match_the_fourier_placement(kernel):
    """The other placements (kernel deposits, bicubic PSF interpolation) never wrapped:
    at a pixel just outside they put in the same light as the phase ramp (all are exact
    there; between pixels they differ by their interpolation error, 13 % of the edge
    light for bilinear at 0.4 px), and none from beyond the stamp's reach."""
    image = blank(SHAPE, psf=gaussian_psf(25, 2.0))
    st = sf.RenderSettings(point_interp=kernel)
    for px, py in [(-3.0, 12.0), (42.0, 30.0), (-5.0, -2.0), (-9.0, -2.0)]:
        want = sf.render(_point(image, px, py), image)
        got = sf.render(_point(image, px, py), image, st)
        assert np.abs(got - want).max() < 1e-12 * want.max() + 1e-16, (kernel, px, py)
        assert want.sum() > 1e-6
    for px, py in [(-60.2, 12.6), (20.0, 150.0), (-200.0, -200.0)]:
        assert np.abs(sf.render(_point(image, px, py), image, st)).max() == 0.0


def test_mixture_galaxy_outside_is_small_and_decays():
    """A Gaussian-mixture Sersic (rendered analytically with the PSF's mixture, no FFT)
    puts in less light the further out it is, and none from far away."""
    image = blank(SHAPE, psf=gaussian_psf(15, 1.5))
    sums = []
    for px in (-5.0, -15.0, -40.0, -200.0):
        xi, eta = image.pixel_to_sky(px, 15.5)
        gal = sf.SersicGM(x=float(xi), y=float(eta), flux=1.0, r_e=2.0, n=1.0, q=1.0, pa=0.0)
        sums.append(float(sf.render(sf.Scene([gal]), image).sum()))
    assert 0.0 < sums[0] < 0.2 and sums[0] > sums[1] > sums[2] >= 0.0, sums
    assert abs(sums[3]) < 1e-15, sums
