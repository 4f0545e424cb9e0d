"""Edge integrals of the exact core (:mod:`._core`) for non-elliptical geometries.

In the circularised frame (u, v) = (a, b / q) a geometry's radius is r = rho g(phi),
homogeneous of degree 1 (:mod:`scenefit.models.geometry`). The light of the triangle
(0, A, B) is then, with L the law's circular enclosed-light fraction and A_g the
geometry's area factor,

    F / (2 pi A_g) int dphi L(rho_edge g) / g^2
  = F / (2 pi A_g) d int L(r) rho / r^2 dw,

the same edge parametrisation as for the ellipse (rho = |d| cosh w along the edge's
line, so dphi = d dw / rho), with L(rho) / rho replaced by L(r) rho / r^2. The
generalised ellipse's brightness has a kink (c0 = -1) or a cusp in curvature (other
c0) where an isophote crosses the major or minor axis, so each edge is split where
its line crosses u = 0 and v = 0: three pieces, each with the full Gauss-Legendre
rule, smooth on each piece (static shapes: pieces outside the edge have zero length).
"""

from __future__ import annotations

import jax.numpy as jnp

from ._quadrature import line_rule

__all__ = ["geometry_edge_integrals"]

#: as in :mod:`._core`: smallest |d| / (edge length) used in the edge integrals
_D_MIN = 1e-13


def _crossing(f, tc, dd, lo, hi):
    """w at which the line f + s t crosses the axis f + s tc = 0, clipped into [lo, hi]
    (lo when the line is parallel to the axis)."""
    ok = jnp.abs(tc) > 1e-12
    s = -f / jnp.where(ok, tc, 1.0)
    return jnp.clip(jnp.where(ok, jnp.arcsinh(s / dd), lo), lo, hi)


def geometry_edge_integrals(frac, law, radius_uv, A, B, nodes):
    """int over the segment A -> B of the triangle (0, A, B), in units of
    F / (2 pi A_g) (A_g the geometry's area factor).

    Parameters
    ----------
    frac : callable
        ``frac(r, law)``: the law's circular enclosed-light fraction.
    law : array (L,)
        The law parameters.
    radius_uv : callable
        ``radius_uv(u, v)``: the geometry's radius in the circularised frame (arcsec),
        its parameters bound.
    A, B : arrays (..., 2)
        Circularised offsets (u, v) of the segment's ends from the centre (arcsec).
    nodes : int
        Gauss-Legendre nodes per piece (three pieces per edge).

    Returns
    -------
    array (...)
    """
    t, wts = line_rule(nodes)
    e = B - A
    length = jnp.sqrt(jnp.sum(e * e, axis=-1))
    tx, ty = e[..., 0] / length, e[..., 1] / length
    d = A[..., 0] * ty - A[..., 1] * tx  # signed distance of the line from the centre
    sa = A[..., 0] * tx + A[..., 1] * ty
    sb = B[..., 0] * tx + B[..., 1] * ty
    dd = jnp.maximum(jnp.abs(d), _D_MIN * length)
    wa, wb = jnp.arcsinh(sa / dd), jnp.arcsinh(sb / dd)
    fx, fy = A[..., 0] - sa * tx, A[..., 1] - sa * ty  # foot of the perpendicular
    lo, hi = jnp.minimum(wa, wb), jnp.maximum(wa, wb)
    cuts = jnp.sort(
        jnp.stack([lo, _crossing(fx, tx, dd, lo, hi), _crossing(fy, ty, dd, lo, hi), hi], -1),
        axis=-1,
    )
    w0, w1 = cuts[..., :-1], cuts[..., 1:]  # (..., 3) pieces
    ww = w0[..., None] + (w1 - w0)[..., None] * t  # (..., 3, nodes)
    s = dd[..., None, None] * jnp.sinh(ww)
    u = fx[..., None, None] + s * tx[..., None, None]
    v = fy[..., None, None] + s * ty[..., None, None]
    rho = dd[..., None, None] * jnp.cosh(ww)
    r = radius_uv(u, v)
    g = frac(r, law) * rho / (r * r)
    return d * jnp.sign(wb - wa) * jnp.sum((w1 - w0) * (g @ wts), axis=-1)
