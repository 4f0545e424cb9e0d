"""Point sources: sub-pixel position and flux, with and without a PSF.

With a PSF, a point source is a band-limited delta (a Fourier phase ramp) convolved with
the PSF, so its centroid is the requested position plus the PSF's own first moment
(zero here) and its flux is exact, up to the PSF's power at the Nyquist frequency
(exp(-2 pi^2 sigma^2 / 4) ~ 3e-9 for sigma = 2 px). Without a PSF it is deposited with
bilinear weights, which conserve flux and centroid exactly.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from conftest import blank, centroid, gaussian_psf

SHAPE = (48, 48)
OFFSETS = [0.0, 0.25, 0.5, 0.73]
_T = np.deg2rad(35.0)
ROTATED_CD = 0.7 * np.array([[np.cos(_T), np.sin(_T)], [np.sin(_T), -np.cos(_T)]])

IMAGES = {
    "psf-1x": dict(psf=gaussian_psf(25, 2.0)),
    "psf-2x": dict(psf=gaussian_psf(49, 2.0, oversampling=2), psf_oversampling=2),
    "psf-1x-rotated-cd": dict(psf=gaussian_psf(25, 2.0), cd=ROTATED_CD),
    "no-psf": dict(),
}


def _render_at(image, px, py, flux=321.0):
    """Render one point source placed at pixel (px, py); return the image."""
    xi, eta = image.pixel_to_sky(px, py)
    return sf.render(sf.Scene([sf.PointSource(x=float(xi), y=float(eta), flux=flux)]), image)


@pytest.mark.parametrize("kind", list(IMAGES))
def test_point_source_lands_where_requested(kind):
    image = blank(SHAPE, **IMAGES[kind])
    tol = 1e-3 if "psf" in kind and kind != "no-psf" else 1e-10
    for dx in OFFSETS:
        for dy in OFFSETS:
            px, py = 22.0 + dx, 25.0 + dy
            img = _render_at(image, px, py)
            assert centroid(img) == pytest.approx((px, py), abs=tol), (dx, dy)
            assert img.sum() == pytest.approx(321.0, rel=1e-6 if tol == 1e-3 else 1e-12)


def test_no_psf_deposit_is_bilinear():
    """Without a PSF the flux is split between the four nearest pixels."""
    img = _render_at(blank(SHAPE), 10.25, 20.75, flux=1.0)
    assert np.count_nonzero(img) == 4
    assert img[20, 10] == pytest.approx(0.75 * 0.25, abs=1e-15)
    assert img[20, 11] == pytest.approx(0.25 * 0.25, abs=1e-15)
    assert img[21, 10] == pytest.approx(0.75 * 0.75, abs=1e-15)
    assert img[21, 11] == pytest.approx(0.25 * 0.75, abs=1e-15)
    on_pixel = _render_at(blank(SHAPE), 10.0, 20.0, flux=1.0)
    assert on_pixel[20, 10] == 1.0 and np.count_nonzero(on_pixel) == 1


def test_point_source_on_a_pixel_centre_is_the_psf():
    """At an integer pixel, the image is the PSF itself, shifted: no interpolation."""
    psf = gaussian_psf(25, 2.0)
    img = _render_at(blank(SHAPE, psf=psf), 22.0, 25.0, flux=1.0)
    expected = np.zeros(SHAPE)
    expected[25 - 12 : 25 + 13, 22 - 12 : 22 + 13] = psf
    np.testing.assert_allclose(img, expected, rtol=0, atol=1e-14)


def test_point_source_and_compact_galaxy_agree_on_position():
    """Every component type uses the same pixel <-> sky convention: a point source and a
    compact Gaussian at the same (x, y) have the same centroid.

    The Gaussian is kept at least ~1 px wide: the PSF acts on the *pixel-integrated*
    model (the Imfit/GALFIT convention), and the discrete first moment of a source much
    narrower than a pixel is biased towards the pixel centre (by 0.05 px for sigma =
    0.3 px, q = 0.5; 2e-4 px for sigma = 1 px).
    """
    image = blank(SHAPE, psf=gaussian_psf(25, 2.0), cd=ROTATED_CD)
    x, y = 1.37, -2.21
    pt = sf.render(sf.Scene([sf.PointSource(x=x, y=y, flux=1.0)]), image)
    gal = sf.Gaussian(x=x, y=y, flux=1.0, sigma=1.0, q=0.5, pa=20.0)
    g = sf.render(sf.Scene([gal]), image)
    px, py = (float(v) for v in image.sky_to_pixel(x, y))
    assert centroid(pt) == pytest.approx((px, py), abs=1e-3)
    assert centroid(g) == pytest.approx((px, py), abs=1e-3)


def test_point_source_flux_is_linear_and_additive():
    image = blank(SHAPE, psf=gaussian_psf(25, 2.0))
    a = sf.PointSource(x=3.3, y=-1.2, flux=5.0)
    b = sf.PointSource(x=-6.1, y=4.4, flux=2.0)
    ma = sf.render(sf.Scene([a]), image)
    mb = sf.render(sf.Scene([b]), image)
    mab = sf.render(sf.Scene([a, b]), image)
    np.testing.assert_allclose(mab, ma + mb, rtol=0, atol=1e-13 * mab.max())
