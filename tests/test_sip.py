"""SIP distortion (scenefit.sip) against astropy's WCS.

The synthetic header is scripts/sip_check.py's: order-3 A/B of HST/ACS-WFC-like
amplitudes, no AP/BP (scenefit fits the inverse), a 160 x 128 cutout whose SIP origin
is 1500 px away (pixels moved by up to 55 px, areas 7% below nominal).

Checks
------
* pixel -> sky and sky -> pixel agree with all_pix2world / all_world2pix to 1e-6 arcsec;
* every pixel's area agrees to 1e-6 relative with its outline mapped through astropy
  (edges split into 8 segments; the straight-edged quadrilateral agrees as well here,
  see docs/pixels.md);
* a rendered source keeps its flux (pixel sum / flux - 1 below 1e-6) and a Gaussian's
  pixels match a brute-force integral over sub-cells mapped through astropy;
* SIP written back out (to_wcs) maps pixels as the header did; cutouts keep the map;
  common_tangent_plane handles SIP images; a fit recovers an injected source.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import scenefit as sf
from scenefit.sip import SIP, to_wcs
from scenefit.tangent import gnomonic

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import sip_check as mock  # noqa: E402


@pytest.fixture(scope="module")
def setup():
    h = mock.header()
    return mock.image_from_header(h), mock.astropy_wcs(h), h


def test_header_is_read_with_its_sip(setup):
    img, _, _ = setup
    assert img.sip is not None and img.sip.order == 3
    assert img.sip.a[2, 0] == mock.A[(2, 0)] and img.sip.b[0, 2] == mock.B[(0, 2)]
    np.testing.assert_allclose(img.sip.origin, np.array(mock.CRPIX) - 1.0)


def test_positions_match_astropy(setup):
    img, w, _ = setup
    p2s, s2p = mock.positions(img, w)
    assert p2s < 1e-6 and s2p < 1e-6


def test_pixel_areas_match_mapped_outlines(setup):
    img, w, _ = setup
    ours = img.pixel_areas()
    assert np.ptp(ours) / ours.mean() > 1e-3  # the areas do vary
    assert np.abs(ours / img.pixel_area - 1).max() > 0.05
    poly = mock.polygon_areas(w, 8)
    assert np.abs(ours / poly - 1).max() < 1e-6


def test_flux_is_conserved_and_pixels_match_brute_force(setup):
    img, w, _ = setup
    gal, star = mock.flux_check(img)
    assert gal == pytest.approx(1.0, abs=1e-6)
    assert star == pytest.approx(1.0, abs=1e-9)
    # the brute force converges as 1 / n_sub^2 (midpoint sub-cells): 3e-6 at 40
    assert mock.brute_force_check(img, w, n_sub=40, half=2) < 6e-6


def test_inverse_round_trip_and_given_inverse():
    sip = SIP(_a(), _b(), (10.0, -20.0), shape=(64, 64))
    x, y = np.meshgrid(np.linspace(-5, 70, 30), np.linspace(-5, 70, 30))
    xd, yd = sip.distort(x, y)
    xb, yb = sip.undistort(xd, yd)
    assert np.abs(xb - x).max() < 1e-9 and np.abs(yb - y).max() < 1e-9
    given = SIP(sip.a, sip.b, sip.origin, sip.ap, sip.bp)  # the fitted inverse, given
    np.testing.assert_allclose(given.undistort(xd, yd), (xb, yb), atol=1e-12)


def _a():
    a = np.zeros((4, 4))
    a[2, 0], a[1, 1], a[0, 2], a[3, 0] = 8.6e-6, -5.2e-6, 2.2e-6, -4.6e-10
    return a


def _b():
    b = np.zeros((4, 4))
    b[2, 0], b[1, 1], b[0, 2], b[0, 3] = -2.9e-6, 6.2e-6, -6.9e-6, -2.8e-10
    return b


def test_to_wcs_round_trip(setup, tmp_path):
    img, w, _ = setup
    out = to_wcs(img, crval=mock.CRVAL)
    x, y = np.meshgrid(np.linspace(-0.5, 159.5, 17), np.linspace(-0.5, 127.5, 13))
    np.testing.assert_allclose(
        out.all_pix2world(x, y, 0), w.all_pix2world(x, y, 0), rtol=0, atol=1e-12
    )
    from astropy.io import fits

    hdr = out.to_header(relax=True)
    fits.PrimaryHDU(np.zeros(mock.SHAPE), header=hdr).writeto(tmp_path / "o.fits")
    back = sf.Image.from_fits(tmp_path / "o.fits")
    np.testing.assert_allclose(back.pixel_to_sky(x, y), img.pixel_to_sky(x, y), atol=1e-9)


def test_cutout_keeps_the_map(setup):
    img, _, _ = setup
    cut = img.cutout(slice(20, 60), slice(30, 90))
    x, y = np.array([0.0, 12.3, 59.5]), np.array([0.0, 33.1, 39.5])
    np.testing.assert_allclose(
        cut.pixel_to_sky(x, y), img.pixel_to_sky(x + 30, y + 20), rtol=0, atol=1e-9
    )
    np.testing.assert_allclose(cut.pixel_areas(), img.pixel_areas()[20:60, 30:90], rtol=1e-12)


def test_common_tangent_plane_handles_sip(setup):
    img, w, _ = setup
    other = img.cutout(slice(10, 128), slice(0, 120))
    center = (mock.CRVAL[0] + 0.02, mock.CRVAL[1] - 0.015)  # another tangent point
    out = sf.common_tangent_plane([img, other], center=center)
    for im, src in zip(out, (img, other), strict=True):
        assert im.sip is not None
        h, wd = src.shape
        x, y = np.meshgrid(np.linspace(-0.5, wd - 0.5, 7), np.linspace(-0.5, h - 0.5, 7))
        ra, dec = src.wcs.all_pix2world(x, y, 0)
        xi, eta = gnomonic(ra, dec, *center)
        got = im.pixel_to_sky(x, y)
        # the TAN-to-TAN re-projection left over after the affine fit, well below 0.01 px
        assert np.hypot(got[0] - xi, got[1] - eta).max() < 1e-3 * mock.SCALE


def test_fit_recovers_a_source_through_sip(setup):
    img, _, _ = setup
    cut = img.cutout(slice(40, 88), slice(50, 98))
    xc, yc = (float(v) for v in cut.pixel_to_sky(23.6, 24.2))
    truth = sf.Scene([sf.Gaussian(name="g", x=xc, y=yc, flux=50.0, sigma=0.15, q=0.7, pa=20)])
    fast = sf.RenderSettings.fast()
    clean = sf.render(truth, cut, fast)
    rng = np.random.default_rng(2)
    data = clean + rng.normal(0, 0.02, clean.shape)
    start = truth.replace_component("g", truth["g"].replace(x=xc + 0.05, flux=40.0))
    res = sf.fit(start, cut.replace(data=data, sigma=0.02), settings=fast)
    assert res.converged
    for k, v in (("g.x", xc), ("g.y", yc), ("g.flux", 50.0), ("g.sigma", 0.15)):
        assert abs(res.value(k) - v) < 4 * res.error(k), k
