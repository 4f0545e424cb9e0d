"""Rendered flux of every profile against its analytic integral, and pixel integration
against an independent brute-force quadrature.

The analytic reference: for an elliptical profile with major-axis radius r, the fraction
of the light inside a region that is star-shaped about the centre is

    f = (1 / 2 pi) * integral_0^{2 pi} CDF(R(phi)) dphi,

where the region is expressed in "circularised" coordinates (a, b / q) (a, b the offsets
along the major and minor axes), R(phi) is the distance from the centre to the region's
boundary along direction phi, and CDF(R) is the circular enclosed-light fraction. An
image footprint (a parallelogram for any CD matrix) stays a convex polygon under this
linear map, so ``f`` is a 1-D integral that scipy evaluates to ~1e-12. This makes the
total-flux check exact even when the wings leave the image, for any pixel shape, rotation
or flip.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.integrate import dblquad, quad
from scipy.special import gamma, gammainc, gammaincinv

import scenefit as sf
from conftest import blank
from scenefit.models.sersic import half_light_bn, sersic_bn

SHAPE = (96, 96)  # one image shape for every flux test: one compilation per profile type

# CD matrices (arcsec / pixel): the default, non-square pixels, rotated + flipped
# (det > 0, i.e. east right), and a general skewed one.
_ROT = np.deg2rad(27.0)
CDS = {
    "default": [[-1.0, 0.0], [0.0, 1.0]],
    "non-square": [[-0.6, 0.0], [0.0, 1.1]],
    "rotated-flipped": (
        0.8 * np.array([[np.cos(_ROT), -np.sin(_ROT)], [np.sin(_ROT), np.cos(_ROT)]])
    ).tolist(),
    "skewed": [[-0.7, 0.15], [0.1, 0.9]],
}


# --------------------------------------------------------------------------- references
def sersic_cdf(n, r_e):
    b = gammaincinv(2.0 * n, 0.5)
    return lambda r: gammainc(2.0 * n, b * (r / r_e) ** (1.0 / n))


def gaussian_cdf(sigma):
    return lambda r: -np.expm1(-0.5 * (r / sigma) ** 2)


def moffat_cdf(fwhm, beta):
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    return lambda r: 1.0 - (1.0 + (r / alpha) ** 2) ** (1.0 - beta)


def fraction_in_image(cdf, image, x, y, q, pa):
    """Analytic fraction of an elliptical profile's light that falls on ``image``.

    ``x, y`` is the centre (arcsec), ``q`` the axis ratio, ``pa`` deg east of north.
    """
    h, w = image.shape
    corners_px = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    xi, eta = image.pixel_to_sky(corners_px[:, 0], corners_px[:, 1])
    dxi, deta = xi - x, eta - y
    t = np.deg2rad(pa)
    a = dxi * np.sin(t) + deta * np.cos(t)
    b = (dxi * np.cos(t) - deta * np.sin(t)) / q
    poly = np.stack([a, b], axis=1)
    # outward edge normals n and offsets d (n . p = d on the edge, d > 0: centre inside)
    nrm, off = [], []
    for i in range(4):
        p0, p1 = poly[i], poly[(i + 1) % 4]
        e = p1 - p0
        nv = np.array([e[1], -e[0]])
        if nv @ p0 < 0:
            nv = -nv
        nrm.append(nv)
        off.append(nv @ p0)
    nrm, off = np.array(nrm), np.array(off)
    assert np.all(off > 0), "the profile centre must lie inside the image"

    def edge_distance(phi):
        u = np.array([np.cos(phi), np.sin(phi)])
        nu = nrm @ u
        return np.min(np.where(nu > 0, off / np.where(nu > 0, nu, 1.0), np.inf))

    breaks = np.sort(np.mod(np.arctan2(poly[:, 1], poly[:, 0]), 2 * np.pi))
    edges = np.concatenate([[0.0], breaks, [2 * np.pi]])
    total = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        if hi > lo:
            total += quad(lambda p: cdf(edge_distance(p)), lo, hi, epsabs=1e-13, limit=200)[0]
    return total / (2 * np.pi)


def test_fraction_reference_limits():
    """The reference itself: a huge image holds everything; a circle-inscribed case."""
    img = blank(SHAPE)
    assert fraction_in_image(gaussian_cdf(2.0), img, 0.0, 0.0, 0.5, 30.0) == pytest.approx(
        1.0, abs=1e-12
    )
    # circular Gaussian on a square: between the inscribed and circumscribed circles
    s = 20.0
    f = fraction_in_image(gaussian_cdf(s), img, 0.0, 0.0, 1.0, 0.0)
    assert gaussian_cdf(s)(48.0) < f < gaussian_cdf(s)(48.0 * np.sqrt(2))


# ---------------------------------------------------------------------------- b_n
@pytest.mark.parametrize("n", np.geomspace(0.2, 10.0, 41))
def test_sersic_bn_is_the_half_light_constant(n):
    """r_e encloses half the light: P(2n, b_n) = 1/2 (regularised lower gamma)."""
    assert abs(gammainc(2.0 * n, float(sersic_bn(n))) - 0.5) < 1e-7


def test_half_light_bn_matches_scipy_over_the_table_range():
    # the numpy Newton solver behind the exact b_n table, against scipy's inverse
    n = np.geomspace(0.1, 25.0, 997)
    rel = np.abs(half_light_bn(n) / gammaincinv(2.0 * n, 0.5) - 1.0)
    assert rel.max() < 1e-12


# ---------------------------------------------------------------------------- totals
# The cusp of a high-n Sersic is under-integrated by the default core refinement (see
# test_pixel_integration_against_brute_force); measured total-flux errors with the
# default RenderSettings: n=4: +1.2e-4 (r_e=2, centred), +1.6e-4 (r_e=5, off-centre);
# n=3 on 0.8"/px rotated pixels: +2.2e-4; n=6: -3.7e-3. The errors vanish (< 2e-5) with
# refine_factor=32, so the analytic references are right and the renderer is at fault.
SERSIC_CASES = [
    # n, r_e (arcsec = px), x, y, q, pa
    (0.5, 3.0, 0.0, 0.0, 1.0, 0.0),
    (1.0, 2.0, 0.3, -0.2, 0.6, 30.0),
    (1.0, 6.0, 0.0, 0.0, 1.0, 0.0),
    (2.5, 4.0, -1.3, 2.1, 0.45, 110.0),
    pytest.param(4.0, 2.0, 0.0, 0.0, 1.0, 0.0),
    pytest.param(4.0, 5.0, 0.3, -0.2, 0.7, 60.0),
]


@pytest.mark.parametrize("n, r_e, x, y, q, pa", SERSIC_CASES)
def test_sersic_total_flux(n, r_e, x, y, q, pa):
    """Total flux within 1e-4 of the analytic integral over the image (n <= 4)."""
    img = blank(SHAPE)
    model = sf.render(sf.Scene([sf.Sersic(x=x, y=y, flux=250.0, r_e=r_e, n=n, q=q, pa=pa)]), img)
    expected = 250.0 * fraction_in_image(sersic_cdf(n, r_e), img, x, y, q, pa)
    assert model.sum() == pytest.approx(expected, rel=1e-4)


def test_sersic_total_flux_high_n():
    """Beyond the documented n <= 4 range a 1e-3 total is still expected (n = 6)."""
    n, r_e, x, y, q, pa = 6.0, 3.0, 0.41, 0.17, 0.8, 15.0
    img = blank(SHAPE)
    model = sf.render(sf.Scene([sf.Sersic(x=x, y=y, flux=1.0, r_e=r_e, n=n, q=q, pa=pa)]), img)
    expected = fraction_in_image(sersic_cdf(n, r_e), img, x, y, q, pa)
    assert expected < 0.98  # 3 % of the light is off the image: the reference matters
    assert model.sum() == pytest.approx(expected, rel=1e-3)


GRID_COMPONENTS = {
    "sersic": sf.Sersic(x=0.4, y=-0.3, flux=10.0, r_e=3.0, n=3.0, q=0.6, pa=40.0),
    "exponential": sf.Exponential(x=-0.2, y=0.5, flux=10.0, h=2.0, q=0.5, pa=75.0),
    "gaussian": sf.Gaussian(x=1.1, y=0.2, flux=10.0, sigma=2.5, q=0.35, pa=-20.0),
    "moffat": sf.Moffat(x=0.3, y=0.3, flux=10.0, fwhm=3.0, beta=2.5, q=0.8, pa=10.0),
}
GRID_CDFS = {
    "sersic": sersic_cdf(3.0, 3.0),
    "exponential": sersic_cdf(1.0, 1.678346990 * 2.0),  # r_e = 1.678347 h
    "gaussian": gaussian_cdf(2.5),
    "moffat": moffat_cdf(3.0, 2.5),
}


@pytest.mark.parametrize(
    "kind, cd",
    [pytest.param(k, c) for k in GRID_COMPONENTS for c in CDS],
)
def test_total_flux_any_pixel_grid(kind, cd):
    """Total flux = analytic integral over the footprint, whatever the CD matrix.

    Pixels here are 1"x1", 0.6"x1.1", 0.8" rotated by 27 deg with east to the right,
    and a general skewed matrix.
    """
    c = GRID_COMPONENTS[kind]
    img = blank(SHAPE, cd=CDS[cd])
    model = sf.render(sf.Scene([c]), img)
    frac = fraction_in_image(GRID_CDFS[kind], img, c.x.value, c.y.value, c.q.value, c.pa.value)
    assert model.sum() == pytest.approx(10.0 * frac, rel=1e-4)


def test_moffat_wings_leave_the_image_as_predicted():
    """A low-beta Moffat loses a large, analytically known fraction off the image edge."""
    img = blank(SHAPE)
    comp = sf.Moffat(x=0.0, y=0.0, flux=1.0, fwhm=4.0, beta=1.2, q=1.0, pa=0.0)
    frac = fraction_in_image(moffat_cdf(4.0, 1.2), img, 0.0, 0.0, 1.0, 0.0)
    assert frac < 0.8  # the test is meaningful: > 20 % of the light is off the image
    assert sf.render(sf.Scene([comp]), img).sum() == pytest.approx(frac, rel=1e-4)


def test_flux_is_linear_and_additive():
    img = blank(SHAPE)
    a = sf.Sersic(x=0.3, y=0.1, flux=3.0, r_e=2.5, n=1.5, q=0.7, pa=20.0)
    b = sf.Sersic(x=-4.0, y=6.0, flux=5.0, r_e=1.5, n=3.0, q=0.5, pa=100.0)
    ma = sf.render(sf.Scene([a]), img)
    mb = sf.render(sf.Scene([b]), img)
    mab = sf.render(sf.Scene([a, b]), img)
    np.testing.assert_allclose(mab, ma + mb, rtol=0, atol=1e-13 * mab.max())
    m2a = sf.render(sf.Scene([a.replace(flux=6.0)]), img)
    np.testing.assert_allclose(m2a, 2.0 * ma, rtol=1e-13, atol=0)


# ------------------------------------------------------------ pixel-integration accuracy
def _sersic_sb(n, r_e, q, pa, x, y, image):
    """Surface brightness per pixel area as a function of pixel coordinates (X, Y)."""
    b = gammaincinv(2.0 * n, 0.5)
    amp = 1.0 / (q * 2 * np.pi * n * r_e**2 * np.exp(b) * b ** (-2 * n) * gamma(2 * n))
    amp *= image.pixel_area
    t = np.deg2rad(pa)
    s, c = np.sin(t), np.cos(t)

    def f(X, Y):
        xi, eta = image.pixel_to_sky(X, Y)
        dxi, deta = xi - x, eta - y
        ra = dxi * s + deta * c
        rb = (dxi * c - deta * s) / q
        return amp * np.exp(-b * ((np.hypot(ra, rb) / r_e) ** (1.0 / n) - 1.0))

    return f


def _reference_pixel(f, row, col, cx, cy):
    """Adaptive 2-D quadrature of one pixel, split at the profile centre (the cusp)."""
    xs = [col - 0.5, col + 0.5]
    ys = [row - 0.5, row + 0.5]
    if xs[0] < cx < xs[1]:
        xs.insert(1, cx)
    if ys[0] < cy < ys[1]:
        ys.insert(1, cy)
    total = 0.0
    for y0, y1 in zip(ys[:-1], ys[1:], strict=True):
        for x0, x1 in zip(xs[:-1], xs[1:], strict=True):
            total += dblquad(lambda yy, xx: f(xx, yy), x0, x1, y0, y1, epsabs=1e-13, epsrel=1e-9)[0]
    return total


# Measured with the default RenderSettings, max |pixel error| / peak pixel over the 5x5
# pixels around the centre (always largest in the central pixel):
#   n=1: 3e-6 (centred), 6e-6 (off-centre), 1.7e-5 (off-centre, q=0.6) at r_e=2 px;
#   n=4, r_e=2 px: 6.1e-4 (centred), 4.2e-4 (off-centre), 5.1e-3 (off-centre, q=0.6);
#   n=4, r_e=5 px: 4.1e-4 (centred), 3.7e-4 (off-centre), 2.6e-3 (off-centre, q=0.6).
# The last ones exceed the ~1e-3 that RenderSettings / docs/accuracy.md state: a cusp
# inside a Gauss-Legendre cell (not on a cell edge) is integrated slowly, and the
# documented measurement only used sources centred on a pixel centre.
PIXEL_CASES = [
    (n, r_e, x, y, q, pa)
    for n in (1.0, 4.0)
    for r_e in (2.0, 5.0)
    for (x, y, q, pa) in ((0.0, 0.0, 1.0, 0.0), (0.3, -0.2, 1.0, 0.0), (0.3, -0.2, 0.6, 30.0))
]


@pytest.mark.parametrize(
    "n, r_e, x, y, q, pa",
    [c for c in PIXEL_CASES],
)
def test_pixel_integration_against_brute_force(n, r_e, x, y, q, pa):
    """Every pixel near the centre within 1e-3 of the peak pixel (n <= 4, r_e >= 2 px)."""
    img = blank((33, 33))
    model = sf.render(sf.Scene([sf.Sersic(x=x, y=y, flux=1.0, r_e=r_e, n=n, q=q, pa=pa)]), img)
    cx, cy = (float(v) for v in img.sky_to_pixel(x, y))
    f = _sersic_sb(n, r_e, q, pa, x, y, img)
    rows = range(round(cy) - 2, round(cy) + 3)
    cols = range(round(cx) - 2, round(cx) + 3)
    ref = np.array([[_reference_pixel(f, r, c, cx, cy) for c in cols] for r in rows])
    got = model[np.ix_(list(rows), list(cols))]
    err = np.abs(got - ref).max() / ref.max()
    assert err < 1e-3, f"max pixel error {err:.2e} of the peak"
