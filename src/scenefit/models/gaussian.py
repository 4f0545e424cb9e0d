"""Elliptical Gaussian: I(r) = I_0 exp(-r^2 / (2 sigma^2))."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["Gaussian"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Gaussian(EllipticalProfile):
    """Elliptical Gaussian profile.

    Parameters
    ----------
    x, y : centre (arcsec); flux : total flux (image units);
    sigma : standard deviation along the major axis (arcsec; FWHM = 2.35482 sigma);
    q : axis ratio; pa : position angle (deg east of north).

    Notes
    -----
    Total flux F = 2 pi q sigma^2 I_0.

    Examples
    --------
    >>> Gaussian(x=0, y=0, flux=1, sigma=1.5, q=1, pa=0).sigma.value
    1.5
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("sigma", "arcsec", 0.0, None, "standard deviation along the major axis", 1.5),
        *SHAPE,
    )
    TYPE_NAME = "gaussian"

    x: object = None
    y: object = None
    flux: object = None
    sigma: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        return jnp.exp(-0.5 * (r / law[..., 0]) ** 2)

    @staticmethod
    def total(law):
        return 2.0 * jnp.pi * law[..., 0] ** 2
