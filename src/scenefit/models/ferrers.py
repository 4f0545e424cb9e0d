"""Ferrers law (Ferrers 1877) in GALFIT's form: a profile that vanishes at r_out."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from jax.scipy.special import gammaln

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["Ferrers"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Ferrers(EllipticalProfile):
    """Ferrers profile, I(r) = I_0 [1 - (r / r_out)^(2 - beta)]^alpha inside r_out.

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux (image units).
    r_out : float or Param
        Outer radius along the major axis (arcsec); I = 0 for r >= r_out.
    alpha : float or Param
        Outer truncation sharpness (0..10; Imfit's FerrersBar2D ``n``).
    beta : float or Param
        Central slope (-2..1.9; Imfit's FerrersBar2D has beta = 0).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    With u = (r / r_out)^(2 - beta) the total is a Beta function:

        F = 2 pi q r_out^2 I_0 / (2 - beta) B(2 / (2 - beta), alpha + 1).

    For alpha > 0 the profile reaches zero continuously at r_out, so derivatives with
    respect to r_out are exact; alpha = 0 is a flat disc with a sharp edge.

    References: Ferrers N. M. 1877, Q. J. Pure Appl. Math. 14, 1;
    Peng C. et al. 2010, AJ 139, 2097 (GALFIT 3, "ferrer").

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> law = jnp.array([10.0, 2.0, 0.0])  # r_out, alpha, beta
    >>> round(float(Ferrers.total(law)), 6)  # 2 pi 100 / 2 * B(1, 3) = pi 100 / 3
    104.719755
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("r_out", "arcsec", 0.0, None, "outer radius along the major axis", 10.0),
        ParamSpec("alpha", "", 0.0, 10.0, "outer truncation sharpness", 2.0),
        ParamSpec("beta", "", -2.0, 1.9, "central slope", 0.5),
        *SHAPE,
    )
    TYPE_NAME = "ferrers"

    x: object = None
    y: object = None
    flux: object = None
    r_out: object = None
    alpha: object = None
    beta: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        r_out, alpha, beta = law[..., 0], law[..., 1], law[..., 2]
        x = r / r_out
        inside = x < 1.0
        xs = jnp.where(inside, x, 0.5)
        base = -jnp.expm1((2.0 - beta) * jnp.log(jnp.maximum(xs, 1e-300)))
        val = jnp.exp(alpha * jnp.log(base))
        return jnp.where(inside, val, 0.0)

    @staticmethod
    def total(law):
        r_out, alpha, beta = law[..., 0], law[..., 1], law[..., 2]
        a, b = 2.0 / (2.0 - beta), alpha + 1.0
        log_b = gammaln(a) + gammaln(b) - gammaln(a + b)
        return 2.0 * jnp.pi * r_out**2 / (2.0 - beta) * jnp.exp(log_b)
