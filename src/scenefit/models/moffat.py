"""Elliptical Moffat (1969): I(r) = I_0 [1 + (r / alpha)^2]^(-beta)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["Moffat", "moffat_alpha"]


def moffat_alpha(fwhm, beta):
    """Moffat core width alpha (same unit as ``fwhm``): alpha = FWHM / (2 sqrt(2^(1/beta) - 1))."""
    return fwhm / (2.0 * jnp.sqrt(jnp.power(2.0, 1.0 / beta) - 1.0))


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Moffat(EllipticalProfile):
    """Elliptical Moffat profile, parameterised by FWHM and beta (as in Imfit).

    Parameters
    ----------
    x, y : centre (arcsec); flux : total flux (image units);
    fwhm : full width at half maximum along the major axis (arcsec);
    beta : power-law index (> 1 for a finite total flux);
    q : axis ratio; pa : position angle (deg east of north).

    Notes
    -----
    Total flux F = pi q alpha^2 I_0 / (beta - 1).

    Examples
    --------
    >>> Moffat(x=0, y=0, flux=1, fwhm=1.0, beta=3.0, q=1, pa=0).beta.value
    3.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("fwhm", "arcsec", 0.0, None, "full width at half maximum (major axis)", 3.0),
        ParamSpec("beta", "", 1.01, 30.0, "power-law index", 3.0),
        *SHAPE,
    )
    TYPE_NAME = "moffat"

    x: object = None
    y: object = None
    flux: object = None
    fwhm: object = None
    beta: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        alpha = moffat_alpha(law[..., 0], law[..., 1])
        return jnp.power(1.0 + (r / alpha) ** 2, -law[..., 1])

    @staticmethod
    def total(law):
        alpha = moffat_alpha(law[..., 0], law[..., 1])
        return jnp.pi * alpha**2 / (law[..., 1] - 1.0)
