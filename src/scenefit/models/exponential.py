"""Exponential disk: I(r) = I_0 exp(-r / h)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["Exponential"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Exponential(EllipticalProfile):
    """Exponential profile (a Sersic with n = 1), parameterised by its scale length.

    Parameters
    ----------
    x, y : centre (arcsec); flux : total flux (image units);
    h : scale length along the major axis (arcsec; r_e = 1.678347 h);
    q : axis ratio; pa : position angle (deg east of north).

    Notes
    -----
    Total flux F = 2 pi q h^2 I_0.

    Examples
    --------
    >>> Exponential(x=0, y=0, flux=10, h=3, q=0.5, pa=0).h.value
    3.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("h", "arcsec", 0.0, None, "scale length along the major axis", 2.0),
        *SHAPE,
    )
    TYPE_NAME = "exponential"

    x: object = None
    y: object = None
    flux: object = None
    h: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        return jnp.exp(-r / law[..., 0])

    @staticmethod
    def total(law):
        return 2.0 * jnp.pi * law[..., 0] ** 2
