"""Elliptical geometry: tangent-plane offsets -> major-axis radius."""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["elliptical_radius", "R_SOFT"]

#: softening added in quadrature to radii (arcsec) so that gradients stay finite at r = 0
R_SOFT = 1e-9


def elliptical_radius(dxi, deta, q, pa_deg):
    """Elliptical radius along the major axis.

    Parameters
    ----------
    dxi, deta : array
        Offsets from the centre on the tangent plane (arcsec; xi east, eta north).
    q : float
        Axis ratio b/a.
    pa_deg : float
        Position angle of the major axis, degrees east of north.

    Returns
    -------
    r : array
        sqrt(a^2 + (b/q)^2) in arcsec, a along the major axis, b along the minor.
    """
    t = jnp.deg2rad(pa_deg)
    s, c = jnp.sin(t), jnp.cos(t)
    a = dxi * s + deta * c
    b = dxi * c - deta * s
    return jnp.sqrt(a * a + (b / q) ** 2 + R_SOFT**2)
