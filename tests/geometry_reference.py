"""Independent numpy/scipy references for the non-elliptical geometries (tests only).

Nothing here calls scenefit's JAX code: the radii are the formulae of
``docs/geometries.md`` written again in numpy, and the integrals use scipy.

Light inside a region star-shaped about the centre. In the circularised frame
(u, v) = (a, b / q) (a, b along the major and minor axes) every geometry's radius is
r = rho g(phi), rho = |(u, v)|, phi = atan2(v, u), with g(phi) the radius of the unit
vector. Polar integration of a radial law f over rho then gives

    light(phi < ..., rho < R(phi)) = int dphi (1 / g^2) int_0^{R g} f(s) s ds,

so the fraction of the light in the region is

    int CDF(R(phi) g(phi)) / g(phi)^2 dphi / int 1 / g(phi)^2 dphi,

CDF the law's circular enclosed-light fraction, and the area inside r = 1 is
(1 / 2) int dphi / g^2 (in units of q: the map (a, b) -> (u, v) has Jacobian 1 / q).
"""

from __future__ import annotations

import numpy as np
from scipy.integrate import quad
from scipy.special import gammaincinv, gammaln


# ----------------------------------------------------------------------- unit radii g
def genellipse_g(c0):
    """g(phi) of Imfit's generalised ellipse, exponent C = c0 + 2."""
    c = c0 + 2.0
    return lambda phi: (np.abs(np.cos(phi)) ** c + np.abs(np.sin(phi)) ** c) ** (1.0 / c)


def fourier_g(modes, amps, phases_deg):
    """g(phi) = exp(-sum A_m cos(m (phi + phi_m))) of the Fourier-mode geometry."""

    def g(phi):
        s = sum(
            a * np.cos(m * (phi + np.deg2rad(p)))
            for m, a, p in zip(modes, amps, phases_deg, strict=True)
        )
        return np.exp(-s)

    return g


def ellipse_g(phi):
    return np.ones_like(np.asarray(phi, dtype=float))


def g_of(cls, kw):
    """The reference g for a scenefit profile class and its parameter values."""
    geo = cls.GEOMETRY
    if geo is None:
        return ellipse_g
    if type(geo).__name__ == "GenEllipse":
        return genellipse_g(kw["c0"])
    modes = geo.modes
    return fourier_g(modes, [kw[f"a_{m}"] for m in modes], [kw[f"phi_{m}"] for m in modes])


def area_factor(g, breaks=()):
    """(1 / 2 pi) int_0^{2 pi} dphi / g^2: area inside r = 1 over that of the ellipse."""
    pts = sorted({0.0, 2 * np.pi, *breaks})
    tot = sum(
        quad(lambda p: g(p) ** -2.0, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=400)[0]
        for lo, hi in zip(pts[:-1], pts[1:], strict=True)
    )
    return tot / (2 * np.pi)


QUARTERS = tuple(k * np.pi / 2 for k in range(1, 4))


# ------------------------------------------------------------ light on an image footprint
def fraction_in_image(cdf, g, image, x, y, q, pa):
    """Fraction of a profile's light on ``image``: centre (x, y) arcsec, axis ratio q,
    PA deg east of north, law CDF ``cdf`` (circular radius -> fraction), unit radius g."""
    h, w = image.shape
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    xi, eta = image.pixel_to_sky(corners[:, 0], corners[:, 1])
    dxi, deta = np.asarray(xi) - x, np.asarray(eta) - y
    t = np.deg2rad(pa)
    u = dxi * np.sin(t) + deta * np.cos(t)
    v = (dxi * np.cos(t) - deta * np.sin(t)) / q
    poly = np.stack([u, v], axis=1)
    normals, offsets = [], []
    for i in range(4):
        p0, p1 = poly[i], poly[(i + 1) % 4]
        nv = np.array([p1[1] - p0[1], p0[0] - p1[0]])
        if nv @ p0 < 0:
            nv = -nv
        normals.append(nv)
        offsets.append(nv @ p0)
    normals, offsets = np.array(normals), np.array(offsets)
    assert np.all(offsets > 0), "the centre must lie inside the image"

    def boundary(phi):
        nu = normals @ np.array([np.cos(phi), np.sin(phi)])
        return np.min(np.where(nu > 0, offsets / np.where(nu > 0, nu, 1.0), np.inf))

    corner_angles = np.mod(np.arctan2(poly[:, 1], poly[:, 0]), 2 * np.pi)
    pts = np.unique(np.concatenate([[0.0, 2 * np.pi], corner_angles, QUARTERS]))
    num = 0.0
    for lo, hi in zip(pts[:-1], pts[1:], strict=True):
        num += quad(lambda p: cdf(boundary(p) * g(p)) / g(p) ** 2, lo, hi, epsabs=1e-13, limit=400)[
            0
        ]
    return num / (2 * np.pi * area_factor(g, QUARTERS))


# -------------------------------------------------------- brute-force pixel integration
def sersic_sb(flux, r_e, n, q, pa, g_radius, area):
    """Surface brightness (flux / arcsec^2) of a Sersic on a geometry, as a numpy
    function of tangent-plane offsets: exact b_n from scipy, total
    2 pi n r_e^2 e^b b^-2n Gamma(2n) times q times ``area``."""
    b = gammaincinv(2.0 * n, 0.5)
    log_total = np.log(2 * np.pi * n * r_e**2) + b + gammaln(2 * n) - 2 * n * np.log(b)
    amp = flux / (q * area * np.exp(log_total))
    t = np.deg2rad(pa)

    def sb(dxi, deta):
        a = dxi * np.sin(t) + deta * np.cos(t)
        bb = (dxi * np.cos(t) - deta * np.sin(t)) / q
        r = g_radius(a, bb)
        return amp * np.exp(-b * ((r / r_e) ** (1.0 / n) - 1.0))

    return sb


def genellipse_radius(c0):
    c = c0 + 2.0
    return lambda u, v: (np.abs(u) ** c + np.abs(v) ** c) ** (1.0 / c)


def pixel_integral(sb, image, col, row, x, y, n_sub=16, order=12, depth=8):
    """Flux in pixel (row, col) of ``image`` by tensor Gauss-Legendre on n_sub x n_sub
    sub-cells; the sub-cell that holds the profile centre (x, y) is split 2 x 2 again,
    ``depth`` times (the cusp)."""
    gx, gw = np.polynomial.legendre.leggauss(order)
    cd = np.asarray(image.cd, dtype=float)
    jac = abs(np.linalg.det(cd))
    px, py = (float(v) for v in image.sky_to_pixel(x, y))

    def cell(x0, y0, size, level):
        # cell [x0, x0 + size] x [y0, y0 + size] in pixel coordinates
        if level < depth and x0 <= px <= x0 + size and y0 <= py <= y0 + size:
            h = size / 2
            return sum(cell(x0 + i * h, y0 + j * h, h, level + 1) for i in (0, 1) for j in (0, 1))
        X = x0 + 0.5 * size * (gx + 1.0)
        Y = y0 + 0.5 * size * (gx + 1.0)
        XX, YY = np.meshgrid(X, Y)
        xi, eta = image.pixel_to_sky(XX, YY)
        vals = sb(np.asarray(xi) - x, np.asarray(eta) - y)
        return float(gw @ vals @ gw) * (0.5 * size) ** 2 * jac

    s = 1.0 / n_sub
    out = 0.0
    for i in range(n_sub):
        for j in range(n_sub):
            out += cell(col - 0.5 + i * s, row - 0.5 + j * s, s, 0)
    return out
