"""Exact integration of the pixels around a profile centre (edge integrals of the
enclosed light).

For an elliptical profile, map a pixel offset x to the circularised coordinates
u = M x, |u| = the major-axis radius r. Split a pixel into the triangles that join the
profile centre to each of its edges; in polar coordinates about the centre the radial
integral of a triangle is the enclosed light L(r) (:mod:`._enclosed`), so the flux of a
pixel is a sum of four smooth 1-D integrals, one per edge (signs from the orientation):

    F_pixel = F / (2 pi) * sum_edges d_e int L(|u(w)|) / |u(w)| dw,

with d_e the signed distance (in u) from the centre to the edge's line, the edge
parametrised by s = |d_e| sinh(w) along the line from the foot of the perpendicular,
and |u(w)| = |d_e| cosh(w). With L = 1 the sum is the angle subtended, 2 pi for the pixel
holding the centre. The variable w (the inverse Gudermannian of the polar angle) keeps
the integrand smooth however steep the cusp (Sersic n = 8) and however close the centre
lies to an edge, so a fixed Gauss-Legendre rule integrates it to ~1e-10. Shared edges are
integrated once. Away from the centre the terms cancel more and more, which is why this
is used only for a small block of pixels around the centre.

A non-elliptical geometry (generalised ellipse, Fourier modes) on a law with a closed-form
enclosed light uses the same loop with the generalised edge integrals of
:mod:`._core_geometry`.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._core_geometry import geometry_edge_integrals
from ._pixmap import has_sip, sky_of_pixels
from ._quadrature import line_rule

__all__ = ["core_block"]

#: smallest |d| / (edge length) used in the edge integrals (the term is d times a
#: bounded function of |d|, so clipping |d| changes it by O(1e-13) of the pixel)
_D_MIN = 1e-13


def _edge_integrals(frac, law, A, B, nodes):
    """int over the segment A -> B of the triangle (0, A, B), in units of F / (2 pi).

    A, B : arrays (..., 2) of circularised offsets (arcsec) from the centre.
    """
    t, w = line_rule(nodes)
    e = B - A
    length = jnp.sqrt(jnp.sum(e * e, axis=-1))
    tx, ty = e[..., 0] / length, e[..., 1] / length
    d = A[..., 0] * ty - A[..., 1] * tx  # signed distance of the line from the centre
    sa = A[..., 0] * tx + A[..., 1] * ty
    sb = B[..., 0] * tx + B[..., 1] * ty
    dd = jnp.maximum(jnp.abs(d), _D_MIN * length)
    wa, wb = jnp.arcsinh(sa / dd), jnp.arcsinh(sb / dd)
    ww = wa[..., None] + (wb - wa)[..., None] * t
    rho = dd[..., None] * jnp.cosh(ww)
    g = frac(rho, law) / rho
    return d * (wb - wa) * (g @ w)


def core_block(frac, prm, pc, grid, geom, nw, nodes, geometry=None):
    """Fluxes of the ``nw`` x ``nw`` grid pixels around the centre, and their indices.

    Parameters
    ----------
    frac : callable
        Enclosed-light fraction L(r, law) of the law (:func:`._enclosed.enclosed_fraction`).
    prm : array (P,)
        ``[x, y, flux, *law, q, pa]``.
    pc : array (2,)
        Centre in image pixels (no gradient: it only picks the block).
    grid, geom : as in :func:`._integrate.component_image`.
    nw : int
        Block width in grid pixels.
    nodes : int
        Gauss-Legendre nodes per edge.
    geometry : (Geometry, int), optional
        For a non-elliptical geometry: the geometry and the number of law parameters
        (the rest of ``prm[3:-2]`` are the geometry's); ``frac`` is then the law's.

    Returns
    -------
    vals : array (nw, nw)
        Flux per pixel, image units.
    rows, cols : int arrays (nw,)
        Grid indices of the block (may fall outside the grid).
    """
    x0, y0, s, _ = grid[:4]
    cd = geom[0]
    step = 1.0 / s
    cell = grid[4] if len(grid) > 4 else step  # a CMOS grid: cells of another size
    flux, law = prm[2], prm[3:-2]
    ex, ey = x0 - 0.5 * step, y0 - 0.5 * step  # outer edge of the first grid pixel
    i0 = jnp.floor((pc[0] - ex) / step).astype(int) - nw // 2
    j0 = jnp.floor((pc[1] - ey) / step).astype(int) - nw // 2
    cols, rows = i0 + jnp.arange(nw), j0 + jnp.arange(nw)
    if cell != step:
        X = (x0 + cols * step)[None, :] + jnp.zeros((nw, 1))
        Y = (y0 + rows * step)[:, None] + jnp.zeros((1, nw))
        vals = _separate_cells(frac, prm, X, Y, cell, geom, nodes, geometry)
        return vals, rows, cols
    k = jnp.arange(nw + 1)
    X = (ex + (i0 + k) * step)[None, :] + jnp.zeros((nw + 1, 1))
    Y = (ey + (j0 + k) * step)[:, None] + jnp.zeros((1, nw + 1))
    U = _circularised(prm, X, Y, geom)  # corners (nw + 1, nw + 1, 2), [row, col]
    # every edge in one call (one copy of the law in the compiled program)
    m = (nw + 1) * nw
    starts = jnp.concatenate([U[:, :-1].reshape(m, 2), U[:-1, :].reshape(m, 2)])
    ends = jnp.concatenate([U[:, 1:].reshape(m, 2), U[1:, :].reshape(m, 2)])
    e, flux = _edges(frac, law, flux, starts, ends, nodes, geometry)
    h = e[:m].reshape(nw + 1, nw)  # along x
    v = e[m:].reshape(nw, nw + 1)  # along y
    # pixel (j, i): corners (i, j) -> (i+1, j) -> (i+1, j+1) -> (i, j+1), a closed loop
    loop = h[:-1, :] + v[:, 1:] - h[1:, :] - v[:, :-1]
    # the loop runs counter-clockwise in u when det(M) > 0; M = diag(1, 1/q) R cd with
    # det R = -1 for the (a, b) axes used here
    orient = -jnp.sign(jnp.linalg.det(cd))
    vals = jax.lax.stop_gradient(orient) * flux / (2.0 * jnp.pi) * loop
    return vals, rows, cols


def _circularised(prm, X, Y, geom):
    """Circularised offsets (..., 2) from the centre of the image-pixel points (X, Y)
    (with SIP, corners mapped through the full map: cells become quadrilaterals with
    straight edges)."""
    cd, crpix, ref = geom[:3]
    xc, yc, q, pa = prm[0], prm[1], prm[-2], prm[-1]
    if has_sip(geom):
        xi, eta = sky_of_pixels(geom, X, Y)
        xi, eta = xi - xc, eta - yc
    else:
        xi = ref[0] + cd[0, 0] * (X - crpix[0]) + cd[0, 1] * (Y - crpix[1]) - xc
        eta = ref[1] + cd[1, 0] * (X - crpix[0]) + cd[1, 1] * (Y - crpix[1]) - yc
    th = jnp.deg2rad(pa)
    a = xi * jnp.sin(th) + eta * jnp.cos(th)
    b = (xi * jnp.cos(th) - eta * jnp.sin(th)) / q
    return jnp.stack([a, b], axis=-1)


def _edges(frac, law, flux, starts, ends, nodes, geometry):
    """Edge integrals of the segments ``starts -> ends`` and the flux they scale."""
    if geometry is None:
        return _edge_integrals(frac, law, starts, ends, nodes), flux
    geo, n_law = geometry
    lp, gp = law[:n_law], law[n_law:]
    e = geometry_edge_integrals(frac, lp, lambda u, v: geo.radius_uv(u, v, gp), starts, ends, nodes)
    return e, flux / geo.area(gp)


def _separate_cells(frac, prm, X, Y, cell, geom, nodes, geometry):
    """Fluxes of square cells of side ``cell`` (image pixels) centred at (X, Y), each
    with its own four edges (cells that do not tile the plane: CMOS sensitive squares,
    which leave gaps or overlap)."""
    cd = geom[0]
    law, flux = prm[3:-2], prm[2]
    h = 0.5 * cell
    corner = [_circularised(prm, X + sx * h, Y + sy * h, geom) for sx, sy in _CORNERS]
    c00, c10, c11, c01 = corner  # counter-clockwise in (x, y)
    starts = jnp.stack([c00, c10, c01, c00]).reshape(-1, 2)  # bottom, right, top, left
    ends = jnp.stack([c10, c11, c11, c01]).reshape(-1, 2)
    e, flux = _edges(frac, law, flux, starts, ends, nodes, geometry)
    bottom, right, top, left = e.reshape((4,) + X.shape)
    loop = bottom + right - top - left
    orient = -jnp.sign(jnp.linalg.det(cd))
    return jax.lax.stop_gradient(orient) * flux / (2.0 * jnp.pi) * loop


_CORNERS = ((-1.0, -1.0), (1.0, -1.0), (1.0, 1.0), (-1.0, 1.0))
