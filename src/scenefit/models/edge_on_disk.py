"""Edge-on disk: a perfectly edge-on exponential disk seen in projection."""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
from jax.scipy.special import gammaln

from ._base import FLUX, POSITION, EllipticalProfile, ParamSpec
from ._bessel_k1 import x_k1
from ._ellipse import R_SOFT, major_minor

__all__ = ["EdgeOnDisk", "vertical_profile", "vertical_integral"]

_LN2 = math.log(2.0)


def vertical_profile(z, n, z0):
    """sech^(2/n)(n |z| / (2 z0)), written as exp(-(2/n) ln cosh(.)) with
    ln cosh(y) = |y| + ln(1 + e^(-2|y|)) - ln 2, so that it neither overflows for large
    |z| or n nor loses its smoothness at z = 0 (the two terms' slopes cancel there).

    Examples
    --------
    >>> round(float(vertical_profile(0.0, 1.0, 1.0)), 12)
    1.0
    """
    y = jnp.abs(0.5 * n * z / z0)
    return jnp.exp(-(2.0 / n) * (y + jnp.log1p(jnp.exp(-2.0 * y)) - _LN2))


def vertical_integral(n, z0):
    """int sech^(2/n)(n |z| / (2 z0)) dz over the line (arcsec):
    2 sqrt(pi) z0 Gamma(1/n) / (n Gamma(1/n + 1/2)); 4 z0 for n = 1 (sech^2), 2 z0 for
    n -> infinity (exp(-|z| / z0)).

    Examples
    --------
    >>> round(float(vertical_integral(1.0, 0.5)), 12)
    2.0
    """
    return 2.0 * jnp.sqrt(jnp.pi) * z0 / n * jnp.exp(gammaln(1.0 / n) - gammaln(1.0 / n + 0.5))


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class EdgeOnDisk(EllipticalProfile):
    """Edge-on exponential disk (van der Kruit & Searle 1981; Imfit's EdgeOnDisk).

    I(r, z) = mu(0, 0) (|r| / h) K1(|r| / h) sech^(2/n)(n |z| / (2 z0)),

    r along the major axis (the disk's plane, at position angle ``pa``), z perpendicular
    to it: the line-of-sight integral of the luminosity density
    L_0 exp(-R / h) sech^(2/n)(n z / (2 z0)) of a disk seen exactly edge-on, for which
    mu(0, 0) = 2 h L_0 (K1 the modified Bessel function, :mod:`._bessel_k1`).

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec; x east, y north).
    flux : float or Param
        Total flux (image units).
    h : float or Param
        Radial scale length of the disk (arcsec).
    n : float or Param
        Vertical shape: n = 1 is sech^2 (isothermal), n = 2 sech, n -> infinity
        exp(-|z| / z0) (default bounds 0.1 .. none).
    z0 : float or Param
        Vertical scale height (arcsec).
    pa : float or Param
        Position angle of the disk's plane, degrees east of north.

    Notes
    -----
    No axis ratio: the flattening is z0 / h and the vertical law. Parameter columns
    ``[x, y, flux, h, n, z0, pa]`` (``HAS_Q = False``). Total flux

        F = mu(0, 0) pi h V(n, z0),  V = 2 sqrt(pi) z0 Gamma(1/n) / (n Gamma(1/n + 1/2)),

    from int_0^inf x K1(x) dx = pi / 2 (so int (|r| / h) K1(|r| / h) dr = pi h) and
    :func:`vertical_integral`; with mu(0, 0) = 2 h L_0, F = 2 pi h^2 L_0 V (for n = 1,
    8 pi h^2 z0 L_0, the luminosity of the three-dimensional disk). Not a radial law, so
    it takes no geometry or truncation; rendered with nested refinement at the centre.
    :meth:`radial` is the midplane profile (z = 0).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> law = jnp.array([3.0, 1.0, 0.5])  # h, n, z0
    >>> round(float(EdgeOnDisk.total(law) / (4 * jnp.pi * 3.0 * 0.5)), 12)  # n = 1
    1.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("h", "arcsec", 0.0, None, "radial scale length of the disk", 3.0),
        ParamSpec("n", "", 0.1, None, "vertical shape (1: sech^2, large: exponential)", 1.0),
        ParamSpec("z0", "arcsec", 0.0, None, "vertical scale height", 0.8),
        ParamSpec("pa", "deg", None, None, "position angle of the disk plane, east of north", 30.0),
    )
    TYPE_NAME = "edge_on_disk"
    HAS_Q = False

    x: object = None
    y: object = None
    flux: object = None
    h: object = None
    n: object = None
    z0: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        return x_k1(jnp.hypot(r, R_SOFT) / law[..., 0])

    @staticmethod
    def total(law):
        h, n, z0 = law[..., 0], law[..., 1], law[..., 2]
        return jnp.pi * h * vertical_integral(n, z0)

    @classmethod
    def surface(cls, dxi, deta, q, pa, law, radial=None):
        a, b = major_minor(dxi, deta, pa)
        return cls.radial(a, law) * vertical_profile(b, law[..., 1], law[..., 2])

    @staticmethod
    def initial_values(size: float) -> dict:
        return {"n": 1.0}
