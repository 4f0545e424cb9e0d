"""An independent reference for pixel-integrated elliptical profiles (numpy + scipy only).

Nothing here calls scenefit. Each pixel is cut into ``sub`` x ``sub`` cells, the cells
are further cut at breakpoints that accumulate geometrically at the profile centre
(x_c +- 2^-k / sub px, k = 1..``levels``, in x and in y: a tensor-graded mesh that
isolates the point cusp), and every cell is integrated with an ``order`` x ``order``
Gauss-Legendre rule. Converged to ~1e-9 relative per pixel for the profiles in
``docs/accuracy.md`` (checked by doubling ``sub`` and ``order``).

Geometry: the plain-array image of scenefit's conventions (``docs/conventions.md``):
pixel (x, y) maps to xi = -(x - (W-1)/2) * scale, eta = (y - (H-1)/2) * scale; the source
is at (xi, eta) = (x0, y0); pa is east of north; radii along the major axis.
"""

from __future__ import annotations

import numpy as np
from scipy.special import gamma, gammaincinv


def radial_law(kind, **p):
    """(f(r), total) of a radial law; total = int f 2 pi r dr (q = 1)."""
    if kind == "sersic":
        n, r_e = p["n"], p["r_e"]
        b = gammaincinv(2 * n, 0.5)
        total = 2 * np.pi * n * r_e**2 * np.exp(b) * b ** (-2 * n) * gamma(2 * n)
        return (lambda r: np.exp(-b * ((r / r_e) ** (1 / n) - 1))), total
    if kind == "exponential":
        h = p["h"]
        return (lambda r: np.exp(-r / h)), 2 * np.pi * h**2
    if kind == "gaussian":
        s = p["sigma"]
        return (lambda r: np.exp(-0.5 * (r / s) ** 2)), 2 * np.pi * s**2
    if kind == "moffat":
        beta = p["beta"]
        alpha = p["fwhm"] / (2 * np.sqrt(2 ** (1 / beta) - 1))
        return (lambda r: (1 + (r / alpha) ** 2) ** (-beta)), np.pi * alpha**2 / (beta - 1)
    raise ValueError(f"unknown law {kind!r}")


def _breaks(n_pix, centre, sub, levels):
    edges = np.arange(n_pix * sub + 1) / sub - 0.5
    g = 2.0 ** -np.arange(1, levels + 1) / sub
    pts = np.concatenate([edges, centre + g, centre - g, [centre]])
    pts = pts[(pts >= -0.5) & (pts <= n_pix - 0.5)]
    return np.unique(pts)


def reference_image(
    shape, kind, x0, y0, q, pa, flux=1.0, scale=1.0, sub=4, order=10, levels=45, **law
):
    """Pixel-integrated fluxes (H, W) of one elliptical profile.

    Parameters
    ----------
    shape : (H, W)
    kind : {"sersic", "exponential", "gaussian", "moffat"}
    x0, y0 : float
        Centre on the tangent plane (arcsec; x east, y north).
    q, pa : float
        Axis ratio and position angle (deg east of north).
    flux : float
    scale : float
        Pixel scale (arcsec / px).
    **law : the law's parameters (arcsec): r_e and n, h, sigma, or fwhm and beta.
    """
    h, w = shape
    f, total = radial_law(kind, **law)
    amp = flux / (q * total)
    xc = (w - 1) / 2 - x0 / scale  # pixel position of the centre
    yc = (h - 1) / 2 + y0 / scale
    bx, by = _breaks(w, xc, sub, levels), _breaks(h, yc, sub, levels)
    t, wt = np.polynomial.legendre.leggauss(order)
    t, wt = (t + 1) / 2, wt / 2

    def nodes(b):
        lo, ln = b[:-1], np.diff(b)
        return (
            (lo[:, None] + ln[:, None] * t).ravel(),
            (ln[:, None] * wt).ravel(),
            np.repeat(np.clip(np.floor((lo + ln / 2) + 0.5).astype(int), 0, None), order),
        )

    X, WX, PX = nodes(bx)
    Y, WY, PY = nodes(by)
    th = np.deg2rad(pa)
    out = np.zeros(shape)
    xi = -(X - (w - 1) / 2) * scale - x0
    for iy in range(h):  # row by row keeps memory small
        sel = PY == iy
        eta = (Y[sel] - (h - 1) / 2) * scale - y0
        a = xi[None, :] * np.sin(th) + eta[:, None] * np.cos(th)
        b = xi[None, :] * np.cos(th) - eta[:, None] * np.sin(th)
        vals = f(np.sqrt(a * a + (b / q) ** 2)) * WY[sel][:, None] * WX[None, :]
        out[iy] = np.bincount(PX, weights=vals.sum(axis=0), minlength=w)[:w]
    return amp * scale * scale * out
