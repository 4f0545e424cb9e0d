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
def footprint(image, x, y, q, pa):
    """The image footprint in the circularised frame (u, v) = (a, b / q) about the
    centre: ``(boundary, angles)``, boundary(phi) the distance to the edge along polar
    angle phi and the angles (rad) where that function has corners."""
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

    return boundary, np.mod(np.arctan2(poly[:, 1], poly[:, 0]), 2 * np.pi)


def fraction_in_image(cdf, g, image, x, y, q, pa):
    """Fraction of a profile's light on ``image``: centre (x, y) arcsec, axis ratio q,
    PA deg east of north, law CDF ``cdf`` (circular radius -> fraction), unit radius g."""
    boundary, corner_angles = footprint(image, x, y, q, pa)
    pts = np.unique(np.concatenate([[0.0, 2 * np.pi], corner_angles, QUARTERS]))
    num = 0.0
    for lo, hi in zip(pts[:-1], pts[1:], strict=True):
        num += quad(lambda p: cdf(boundary(p) * g(p)) / g(p) ** 2, lo, hi, epsabs=1e-13, limit=400)[
            0
        ]
    return num / (2 * np.pi * area_factor(g, QUARTERS))


# ----------------------------------------------------------------- rays and wedges
def ray_weight(theta, k, n, edge):
    """Weight of ray k of n at circularised angle theta (rad): 1 - S(x), x the angular
    distance to the ray (or its opposite) in units of pi / n, S the sin^2 step of full
    width ``edge`` centred at x = 1/2 (docs/geometries.md, written again)."""
    spacing = np.pi / n
    d = np.abs(np.mod(theta - k * spacing + 0.5 * np.pi, np.pi) - 0.5 * np.pi) / spacing
    x = np.clip((np.minimum(d, 1.0) - 0.5) / edge + 0.5, 0.0, 1.0)
    return 1.0 - np.sin(0.5 * np.pi * x) ** 2


def rays_fraction_in_image(cdfs, totals, n, edge, image, x, y, q, pa):
    """Fraction of the light of a ray / wedge profile on ``image``: ray k has the
    enclosed-light fraction ``cdfs[k]`` and plane integral ``totals[k]`` (times its
    amplitude); both the light on the image and the normalisation are integrated in
    angle numerically (so the exact total, 1 / n of the sum, is checked too)."""
    boundary, corner_angles = footprint(image, x, y, q, pa)
    kinks = [
        np.mod(k * np.pi / n + s * (0.5 + h * edge / 2) * np.pi / n + m * np.pi, 2 * np.pi)
        for k in range(n)
        for s in (-1, 1)
        for h in (-1, 1)
        for m in (0, 1)
    ]
    pts = np.unique(np.concatenate([[0.0, 2 * np.pi], corner_angles, kinks]))
    num = den = 0.0
    for k in range(n):

        def wk(p, k=k):
            return ray_weight(p, k, n, edge)

        def inside(p, k=k):
            return ray_weight(p, k, n, edge) * cdfs[k](boundary(p))

        for lo, hi in zip(pts[:-1], pts[1:], strict=True):
            num += totals[k] * quad(inside, lo, hi, epsabs=1e-13, limit=400)[0]
            den += totals[k] * quad(wk, lo, hi, epsabs=1e-14, epsrel=1e-13, limit=400)[0]
    assert den == pytest_approx(2 * np.pi * sum(totals) / n)
    return num / den


def pytest_approx(v):
    import pytest

    return pytest.approx(v, rel=1e-10)


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


# ------------------------------------------------------------------ isophote twist
def twist_fraction_in_image(f, total, q, pa, twist, r_twist, image, x, y):
    """Twist: :func:`polar_fraction_in_image` of the twisted ellipse radius."""

    def surface(dxi, deta):
        s2 = dxi * dxi + deta * deta
        t = np.deg2rad(pa + twist * s2 / (s2 + r_twist**2))
        a = dxi * np.sin(t) + deta * np.cos(t)
        b = dxi * np.cos(t) - deta * np.sin(t)
        return f(np.sqrt(a * a + (b / q) ** 2))

    return polar_fraction_in_image(surface, total, image, x, y)


def polar_fraction_in_image(surface, total, image, x, y):
    """Fraction of the light of a profile on ``image``, by direct polar integration
    about the centre: int s ds int_{A(s)} surface(s cos phi, s sin phi) dphi / total,
    A(s) the arcs of the circle of radius s inside the image footprint (exact
    circle-edge intersections). ``surface``: numpy function of tangent-plane offsets;
    ``total``: its plane integral."""
    h, w = image.shape
    corners = np.array([[-0.5, -0.5], [w - 0.5, -0.5], [w - 0.5, h - 0.5], [-0.5, h - 0.5]])
    xi, eta = image.pixel_to_sky(corners[:, 0], corners[:, 1])
    poly = np.stack([np.asarray(xi) - x, np.asarray(eta) - y], axis=1)
    edges = [(poly[i], poly[(i + 1) % 4]) for i in range(4)]

    def cross(u, v):
        return u[0] * v[1] - u[1] * v[0]

    centre_side = [cross(p1 - p0, -p0) for p0, p1 in edges]

    def inside(pt):
        sides = zip(edges, centre_side, strict=True)
        return all(cross(p1 - p0, pt - p0) * c >= 0 for (p0, p1), c in sides)

    def arcs(s):
        ang = [0.0, 2 * np.pi]
        for p0, p1 in edges:
            d = p1 - p0
            a, b, c = d @ d, 2 * p0 @ d, p0 @ p0 - s * s
            disc = b * b - 4 * a * c
            if disc <= 0:
                continue
            for t in ((-b - np.sqrt(disc)) / (2 * a), (-b + np.sqrt(disc)) / (2 * a)):
                if 0.0 <= t <= 1.0:
                    pt = p0 + t * d
                    ang.append(np.mod(np.arctan2(pt[1], pt[0]), 2 * np.pi))
        ang = np.unique(ang)
        out = []
        for lo, hi in zip(ang[:-1], ang[1:], strict=True):
            mid = 0.5 * (lo + hi)
            if hi > lo and inside(s * np.array([np.cos(mid), np.sin(mid)])):
                out.append((lo, hi))
        return out

    dist_edges = []
    for p0, p1 in edges:
        d = p1 - p0
        t = np.clip(-(p0 @ d) / (d @ d), 0.0, 1.0)
        dist_edges.append(np.linalg.norm(p0 + t * d))
    breaks = np.unique(np.concatenate([dist_edges, np.linalg.norm(poly, axis=1)]))
    s_edges = np.concatenate(
        [[0.0], np.geomspace(1e-7, breaks[0], 400)]
        + [np.linspace(a, b, 300)[1:] for a, b in zip(breaks[:-1], breaks[1:], strict=True)]
    )
    xs, ws = np.polynomial.legendre.leggauss(8)
    xt, wt = np.polynomial.legendre.leggauss(32)
    pts_s, pts_phi, weights = [], [], []
    for a, b in zip(s_edges[:-1], s_edges[1:], strict=True):
        for s, wsi in zip(0.5 * (a + b) + 0.5 * (b - a) * xs, 0.5 * (b - a) * ws, strict=True):
            for lo, hi in arcs(s):
                pts_s.append(np.full(32, s))
                pts_phi.append(0.5 * (lo + hi) + 0.5 * (hi - lo) * xt)
                weights.append(wsi * s * 0.5 * (hi - lo) * wt)
    s = np.concatenate(pts_s)
    phi = np.concatenate(pts_phi)
    dxi, deta = s * np.cos(phi), s * np.sin(phi)
    return float(np.sum(np.concatenate(weights) * surface(dxi, deta)) / total)


# ------------------------------------------------------------------------- warp
def warp_radius(dxi, deta, q, pa, r_w0, r_w1, dpa, lnq):
    """Law radius of the warp (docs/geometries.md, written again): the r whose ellipse
    (PA(r), q(r)) passes through the offset, by 64 bisections in ln r (the isophotes
    nested: r - rho(r) increases). ``dpa``, ``lnq``: the K node values (first 0)."""
    from scipy.interpolate import CubicSpline

    k = len(dpa)
    spl_pa = CubicSpline(np.arange(k), dpa, bc_type="natural")
    spl_q = CubicSpline(np.arange(k), lnq, bc_type="natural")

    def rho(r):
        t = np.clip((k - 1) * np.log(r / r_w0) / np.log(r_w1 / r_w0), 0, k - 1)
        th = np.deg2rad(pa + spl_pa(t))
        a = dxi * np.sin(th) + deta * np.cos(th)
        b = dxi * np.cos(th) - deta * np.sin(th)
        return np.sqrt(a * a + (b / (q * np.exp(spl_q(t)))) ** 2)

    s = np.maximum(np.hypot(dxi, deta), 1e-300)
    lo, hi = np.log(s * 1e-3), np.log(s * 1e3 / q)
    for _ in range(64):  # the bracket (< 30 in ln r) shrinks below 1e-17
        mid = 0.5 * (lo + hi)
        up = np.exp(mid) - rho(np.exp(mid)) > 0
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return np.exp(0.5 * (lo + hi))


def polar_plane_integral(surface, s_max, n_phi=512):
    """int of ``surface`` over the disc s < s_max about the centre: 8-point
    Gauss-Legendre on 600 panels in ln s (from 1e-6 arcsec), trapezoid in angle."""
    edges = np.concatenate([[0.0], np.geomspace(1e-6, s_max, 600)])
    xs, ws = np.polynomial.legendre.leggauss(8)
    a, b = edges[:-1, None], edges[1:, None]
    s = (0.5 * (a + b) + 0.5 * (b - a) * xs).ravel()
    w = (0.5 * (b - a) * ws).ravel()
    phi = 2 * np.pi * np.arange(n_phi) / n_phi
    ss, pp = np.meshgrid(s, phi, indexing="ij")
    vals = surface(ss * np.cos(pp), ss * np.sin(pp))
    return float(np.sum(vals.mean(axis=1) * 2 * np.pi * s * w))
