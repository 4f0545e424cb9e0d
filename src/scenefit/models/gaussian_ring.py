"""Gaussian ring: a Gaussian in radius centred on a ring radius."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from jax.scipy.special import erf

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["GaussianRing"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class GaussianRing(EllipticalProfile):
    """Elliptical ring, I(r) = A exp(-(r - r_ring)^2 / (2 sigma^2)).

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux (image units).
    r_ring : float or Param
        Ring radius along the major axis (arcsec).
    sigma : float or Param
        Radial Gaussian width of the ring (arcsec).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    Total flux (substituting u = r - r_ring):

        F = 2 pi q A [sigma^2 exp(-r_ring^2 / (2 sigma^2))
                      + r_ring sigma sqrt(pi / 2) (1 + erf(r_ring / (sqrt(2) sigma)))].

    Same law as Imfit's GaussianRing (there A is the peak intensity).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> law = jnp.array([5.0, 1.0])  # r_ring, sigma
    >>> float(GaussianRing.radial(jnp.array(5.0), law))
    1.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("r_ring", "arcsec", 0.0, None, "ring radius along the major axis", 6.0),
        ParamSpec("sigma", "arcsec", 0.0, None, "radial Gaussian width of the ring", 1.5),
        *SHAPE,
    )
    TYPE_NAME = "gaussian_ring"

    x: object = None
    y: object = None
    flux: object = None
    r_ring: object = None
    sigma: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        r_ring, sigma = law[..., 0], law[..., 1]
        return jnp.exp(-0.5 * ((r - r_ring) / sigma) ** 2)

    @staticmethod
    def total(law):
        r_ring, sigma = law[..., 0], law[..., 1]
        z = r_ring / sigma
        core = sigma**2 * jnp.exp(-0.5 * z * z)
        ring = r_ring * sigma * jnp.sqrt(jnp.pi / 2.0) * (1.0 + erf(z / jnp.sqrt(2.0)))
        return 2.0 * jnp.pi * (core + ring)
