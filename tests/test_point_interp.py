"""Point sources whose PSF image is interpolated at the sub-pixel position
(``RenderSettings(point_interp=...)``), against a PSF evaluated analytically there.

The PSF is a circular Gaussian of sigma = 2 px sampled at pixel centres; the reference
is the same Gaussian sampled around the shifted position (normalised to unit sum).
Tolerances are ~1.3x the maxima measured by ``scripts/measure_psf_shift_accuracy.py``
over these offsets (fourier 3.9e-10, lanczos3 4.6e-3, cubic 7.4e-3, bilinear 5.7e-2 of
the peak); snapping the PSF to the nearest pixel would be off by 0.22 of the peak.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from conftest import blank, centroid, gaussian_psf

SHAPE = (33, 33)
SIGMA = 2.0
OFFSETS = [(0.25, 0.0), (0.5, 0.5), (0.3, -0.4), (0.73, 0.12)]
TOL = {"fourier": 1e-8, "lanczos3": 6e-3, "cubic": 1e-2, "bilinear": 7.5e-2}


def render_point(image, px, py, interp, flux=1.0):
    x, y = (float(v) for v in image.pixel_to_sky(px, py))
    sc = sf.Scene([sf.PointSource(x=x, y=y, flux=flux)])
    return sf.render(sc, image, sf.RenderSettings(point_interp=interp))


def shifted_gaussian(px, py):
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
    g = np.exp(-0.5 * ((xx - px) ** 2 + (yy - py) ** 2) / SIGMA**2)
    return g / g.sum()


@pytest.mark.parametrize("interp", list(TOL))
def test_interpolated_psf_matches_the_shifted_analytic_psf(interp):
    image = blank(SHAPE, psf=gaussian_psf(29, SIGMA))
    worst = snapped = 0.0
    for dx, dy in OFFSETS:
        px, py = 16.0 + dx, 16.0 + dy
        m = render_point(image, px, py, interp)
        ref = shifted_gaussian(px, py)
        worst = max(worst, np.abs(m - ref).max() / ref.max())
        near = shifted_gaussian(np.floor(px + 0.5), np.floor(py + 0.5))
        snapped = max(snapped, np.abs(near - ref).max() / ref.max())
    assert snapped > 0.15  # the sub-pixel shift matters (0.22 of the peak)
    assert worst < TOL[interp], worst


@pytest.mark.parametrize("interp", ["lanczos3", "cubic", "bilinear"])
@pytest.mark.parametrize("s", [1, 2])
def test_flux_is_conserved_and_centroid_is_where_requested(interp, s):
    """Kernel weights are normalised: the flux is exact. Bilinear and cubic kernels
    reproduce linear functions, so the centroid is exact; normalised Lanczos-3 does not,
    and moves the first moment by up to 0.0198 px (measured)."""
    image = blank(SHAPE, psf=gaussian_psf(25 * s - (s - 1), SIGMA, s), psf_oversampling=s)
    tol = 0.021 if interp == "lanczos3" else 1e-9
    for dx, dy in OFFSETS:
        px, py = 16.0 + dx, 15.0 + dy
        m = render_point(image, px, py, interp, flux=7.0)
        assert m.sum() == pytest.approx(7.0, rel=1e-12)
        assert centroid(m) == pytest.approx((px, py), abs=tol)


@pytest.mark.parametrize("interp", ["lanczos3", "cubic", "bilinear"])
def test_on_a_pixel_centre_every_kernel_gives_the_psf(interp):
    psf = gaussian_psf(25, SIGMA)
    m = render_point(blank(SHAPE, psf=psf), 16.0, 15.0, interp)
    expected = np.zeros(SHAPE)
    expected[15 - 12 : 15 + 13, 16 - 12 : 16 + 13] = psf
    np.testing.assert_allclose(m, expected, rtol=0, atol=1e-14)


def test_without_psf_the_kernel_deposits_the_flux():
    """No PSF: the point is spread with the kernel's weights (cubic: 4 x 4 pixels)."""
    m = render_point(blank(SHAPE), 10.3, 12.6, "cubic", flux=3.0)
    assert np.count_nonzero(np.abs(m) > 1e-15) == 16
    assert m.sum() == pytest.approx(3.0, rel=1e-12)
    assert centroid(m) == pytest.approx((10.3, 12.6), abs=1e-12)
