"""Imfit's point-source placement (``RenderSettings(point_interp="bicubic")``): the PSF
interpolated by a bicubic spline with natural-spline node derivatives (GSL's
``interp2d_bicubic``, which Imfit's ``PointSource`` uses) and sampled at pixel centres.

Independent references: at whole-pixel offsets the image is the PSF itself; along a row
of PSF nodes the Hermite patches reduce to the 1-D natural cubic spline through that
row (scipy's ``CubicSpline(bc_type="natural")``); beyond the PSF image it is zero.
The Imfit regression case itself is ``tests/test_cli_imfit_options.py``.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.interpolate import CubicSpline

import scenefit as sf
from conftest import blank
from scenefit.render._bicubic import bicubic_point_image, natural_spline_derivative_matrix

RNG = np.random.default_rng(3)
PSF = RNG.random((7, 9)) + 1.0
PSF /= PSF.sum()


@pytest.mark.parametrize("n", [3, 4, 8, 35])
def test_node_slopes_are_the_natural_spline_slopes(n):
    y = RNG.normal(size=n)
    ref = CubicSpline(np.arange(n), y, bc_type="natural")(np.arange(n), 1)
    np.testing.assert_allclose(natural_spline_derivative_matrix(n) @ y, ref, atol=1e-14)


def test_whole_pixel_offset_reproduces_the_psf():
    img = np.asarray(bicubic_point_image(np.array([[10.0, 6.0, 3.0]]), PSF, (13, 21)))
    np.testing.assert_allclose(img[3:10, 6:15], 3.0 * PSF, rtol=0, atol=1e-15)
    assert img.sum() == pytest.approx(3.0, rel=1e-12)


@pytest.mark.parametrize("col", [10.3, 9.71, 10.5])
def test_a_row_of_nodes_is_the_natural_cubic_spline_of_that_row(col):
    img = np.asarray(bicubic_point_image(np.array([[col, 6.0, 2.0]]), PSF, (13, 21)))
    u = np.arange(21) - col + 4.0  # PSF column coordinate of each pixel
    inside = (u >= 0) & (u <= 8)
    spline = CubicSpline(np.arange(9), PSF[3], bc_type="natural")
    np.testing.assert_allclose(img[6][inside], 2.0 * spline(u[inside]), atol=1e-15)
    assert np.all(img[6][~inside] == 0.0)
    assert np.all(img[:3] == 0.0) and np.all(img[10:] == 0.0)  # beyond the PSF rows


def test_renderer_places_it_without_convolving_it_again():
    psf = np.outer(np.hanning(9)[1:-1], np.hanning(11)[1:-1])
    image = blank((25, 25), psf=psf)
    px, py = 12.4, 11.8
    x, y = (float(v) for v in image.pixel_to_sky(px, py))
    sc = sf.Scene([sf.PointSource(x=x, y=y, flux=5.0)])
    got = sf.render(sc, image, sf.RenderSettings(point_interp="bicubic"))
    ref = np.asarray(bicubic_point_image(np.array([[px, py, 5.0]]), psf / psf.sum(), (25, 25)))
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-14)
    assert sf.RenderSettings.imfit().point_interp == "bicubic"
