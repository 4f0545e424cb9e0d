"""The elliptical radius: tangent-plane offsets -> major-axis radius (the default
geometry of every :class:`~scenefit.models.EllipticalProfile`)."""

from __future__ import annotations

import jax.numpy as jnp

__all__ = ["elliptical_radius", "major_minor", "R_SOFT"]

#: softening added in quadrature to radii (arcsec) so that gradients stay finite at r = 0
R_SOFT = 1e-9


def major_minor(dxi, deta, pa_deg):
    """Offsets (a, b) along the major and minor axes (arcsec).

    ``a = dxi sin(pa) + deta cos(pa)`` (towards the major axis' PA end),
    ``b = dxi cos(pa) - deta sin(pa)``; for pa = 0, a points north and b east, so the
    angle atan2(b, a) runs from the major axis in the same sense as the PA.

    Examples
    --------
    >>> [float(v) for v in major_minor(0.0, 1.0, 0.0)]
    [1.0, 0.0]
    """
    t = jnp.deg2rad(pa_deg)
    s, c = jnp.sin(t), jnp.cos(t)
    return dxi * s + deta * c, dxi * c - deta * s


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

    Examples
    --------
    >>> round(float(elliptical_radius(1.0, 0.0, 0.5, 0.0)), 9)  # east = minor axis
    2.0
    """
    a, b = major_minor(dxi, deta, pa_deg)
    return jnp.sqrt(a * a + (b / q) ** 2 + R_SOFT**2)
