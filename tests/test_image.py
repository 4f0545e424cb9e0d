"""Image construction: conventions, astropy NDData/CCDData and FITS with WCS."""

import numpy as np
import pytest
from astropy.io import fits
from astropy.nddata import CCDData, InverseVariance, NDData, StdDevUncertainty, VarianceUncertainty
from astropy.wcs import WCS

from scenefit import Image, PointSource, Scene, render


def _wcs(rot_deg=25.0, scale=0.25, flip=False):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 2.2]
    w.wcs.crpix = [20.5, 15.0]  # 1-based
    t = np.deg2rad(rot_deg)
    s = scale / 3600.0
    sx = s if flip else -s
    w.wcs.cd = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.diag([sx, s])
    return w


def _gnomonic(radec_deg, centre_deg):
    """Standard gnomonic (TAN) projection of RA/Dec about a centre, in arcsec."""
    ra, dec = np.deg2rad(radec_deg).T
    ra0, dec0 = np.deg2rad(centre_deg)
    cosc = np.sin(dec0) * np.sin(dec) + np.cos(dec0) * np.cos(dec) * np.cos(ra - ra0)
    xi = np.cos(dec) * np.sin(ra - ra0) / cosc
    eta = (np.cos(dec0) * np.sin(dec) - np.sin(dec0) * np.cos(dec) * np.cos(ra - ra0)) / cosc
    return np.rad2deg(np.c_[xi, eta]) * 3600.0


def test_array_defaults_north_up_east_left():
    img = Image(np.zeros((11, 21)), pixel_scale=0.5)
    np.testing.assert_allclose(img.cd, [[-0.5, 0], [0, 0.5]])
    np.testing.assert_allclose(img.pixel_to_sky(10.0, 5.0), (0.0, 0.0))  # centre -> origin
    xi, eta = img.pixel_to_sky(11.0, 6.0)  # one pixel right and up: west and north
    assert xi == pytest.approx(-0.5) and eta == pytest.approx(0.5)
    x, y = img.sky_to_pixel(*img.pixel_to_sky(3.3, 7.7))
    assert (x, y) == pytest.approx((3.3, 7.7))
    assert img.pixel_area == pytest.approx(0.25)


@pytest.mark.parametrize(
    "kind,cls,conv",
    [
        ("sigma", StdDevUncertainty, lambda s: s),
        ("variance", VarianceUncertainty, lambda s: s**2),
        ("invvar", InverseVariance, lambda s: 1 / s**2),
    ],
)
def test_nddata_uncertainties(kind, cls, conv):
    rng = np.random.default_rng(3)
    sig = rng.uniform(0.5, 2.0, (8, 9))
    data = rng.normal(size=(8, 9))
    mask = np.zeros((8, 9), bool)
    mask[2, 3] = True
    nd = NDData(data, uncertainty=cls(conv(sig)), mask=mask, psf=np.ones((3, 3)))
    img = Image.from_nddata(nd)
    np.testing.assert_allclose(img.invvar[~mask], 1 / sig[~mask] ** 2, rtol=1e-12)
    assert img.mask[2, 3] and img.invvar[2, 3] == 0
    assert img.psf is not None and img.psf.image.sum() == pytest.approx(1.0)


def test_ccddata_with_wcs_matches_astropy():
    w = _wcs()
    ccd = CCDData(
        np.ones((30, 40)), unit="adu", wcs=w, uncertainty=StdDevUncertainty(np.ones((30, 40)))
    )
    img = Image.from_nddata(ccd)
    np.testing.assert_allclose(img.cd, w.wcs.cd * 3600.0, rtol=1e-12)
    np.testing.assert_allclose(img.crpix, np.array(w.wcs.crpix) - 1.0)


@pytest.mark.parametrize("rot,flip", [(0.0, False), (25.0, False), (-70.0, True)])
def test_fits_wcs_tangent_plane_matches_astropy(tmp_path, rot, flip):
    """Tangent-plane coordinates equal astropy's intermediate world coordinates."""
    w = _wcs(rot, flip=flip)
    path = tmp_path / "img.fits"
    fits.PrimaryHDU(np.zeros((30, 40)), header=w.to_header()).writeto(path)
    yy, xx = np.mgrid[-6:7, -6:7]
    img = Image.from_fits(path, psf=np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2))
    pix = np.array([[0.0, 0.0], [12.3, 7.9], [39.0, 29.0]])
    imgcrd = _gnomonic(w.wcs_pix2world(pix, 0), w.wcs.crval)  # independent: RA/Dec -> plane
    xi, eta = img.pixel_to_sky(pix[:, 0], pix[:, 1])
    np.testing.assert_allclose(np.c_[xi, eta], imgcrd, atol=1e-9)
    # a point source placed at a tangent-plane position renders at that pixel
    model = render(Scene([PointSource(x=1.1, y=0.7, flux=1.0)]), img)
    yy, xx = np.mgrid[0:30, 0:40]
    centroid = ((model * xx).sum() / model.sum(), (model * yy).sum() / model.sum())
    # 1e-5 px: the sinc-shifted PSF loses a little light past the 13 x 13 PSF array
    assert centroid == pytest.approx(tuple(float(v) for v in img.sky_to_pixel(1.1, 0.7)), abs=1e-5)


def test_fits_without_wcs_uses_pixel_scale(tmp_path):
    path = tmp_path / "plain.fits"
    fits.PrimaryHDU(np.zeros((5, 6))).writeto(path)
    img = Image.from_fits(path, pixel_scale=0.4)
    np.testing.assert_allclose(img.cd, [[-0.4, 0], [0, 0.4]])
    assert img.wcs is None


def test_fits_errors(tmp_path):
    path = tmp_path / "cube.fits"
    fits.PrimaryHDU(np.zeros((2, 5, 6))).writeto(path)
    with pytest.raises(ValueError, match="2-D"):
        Image.from_fits(path)
    with pytest.raises(ValueError, match="no HDU"):
        Image.from_fits(path, hdu=3)


def test_image_is_immutable_and_inputs_untouched():
    data = np.arange(12.0).reshape(3, 4)
    data[1, 1] = np.nan
    keep = data.copy()
    img = Image(data, sigma=np.ones((3, 4)))
    np.testing.assert_array_equal(np.isnan(data), np.isnan(keep))
    assert img.mask[1, 1]
    with pytest.raises(AttributeError):
        img.data = None
    with pytest.raises(ValueError):
        img.data[0, 0] = 5.0
