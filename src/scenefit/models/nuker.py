"""Nuker law (Lauer et al. 1995): a double power law with a smooth break."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
from jax.scipy.special import gammaln

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec

__all__ = ["Nuker"]

_TINY = 1e-12  # r / r_b floor: keeps the central cusp finite at r = 0


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Nuker(EllipticalProfile):
    """Nuker profile: inner slope gamma, outer slope beta, break r_b, sharpness alpha.

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux (image units).
    r_b : float or Param
        Break radius along the major axis (arcsec).
    alpha : float or Param
        Sharpness of the break (0.1..10; large = sharp).
    beta : float or Param
        Outer logarithmic slope; bounded to (2, 20] so that the total flux is finite.
    gamma : float or Param
        Inner logarithmic slope (0..1.8; 0 = flat core). The centre is a cusp for
        gamma > 0: the law is evaluated at max(r, 1e-12 r_b) there.
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    I(r) = I_b 2^((beta - gamma) / alpha) (r / r_b)^-gamma
    [1 + (r / r_b)^alpha]^((gamma - beta) / alpha), so I(r_b) = I_b.

    Total flux (u = (r / r_b)^alpha turns the integral into a Beta function):
    F = 2 pi q r_b^2 I_b 2^((beta - gamma) / alpha) / alpha
    B((2 - gamma) / alpha, (beta - 2) / alpha), finite for gamma < 2 < beta.
    Nuker fits with beta <= 2 need a truncated model, which this class does not offer.

    Reference: Lauer T. R. et al. 1995, AJ 110, 2622.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> law = jnp.array([1.0, 2.0, 3.0, 0.5])  # r_b, alpha, beta, gamma
    >>> float(Nuker.radial(jnp.array(1.0), law))  # I(r_b) = 1
    1.0
    >>> Nuker(x=0, y=0, flux=1, r_b=1, alpha=2, beta=3, gamma=0.5, q=1, pa=0).beta.value
    3.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("r_b", "arcsec", 0.0, None, "break radius along the major axis", 2.0),
        ParamSpec("alpha", "", 0.1, 10.0, "sharpness of the break", 2.0),
        ParamSpec("beta", "", 2.01, 20.0, "outer logarithmic slope (> 2)", 3.5),
        ParamSpec("gamma", "", 0.0, 1.8, "inner logarithmic slope", 0.3),
        *SHAPE,
    )
    TYPE_NAME = "nuker"

    x: object = None
    y: object = None
    flux: object = None
    r_b: object = None
    alpha: object = None
    beta: object = None
    gamma: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        r_b, alpha, beta, gamma = law[..., 0], law[..., 1], law[..., 2], law[..., 3]
        lx = jnp.log(jnp.maximum(r / r_b, _TINY))
        log_i = (
            (beta - gamma) / alpha * jnp.log(2.0)
            - gamma * lx
            + (gamma - beta) / alpha * jnp.logaddexp(0.0, alpha * lx)
        )
        return jnp.exp(log_i)

    @staticmethod
    def total(law):
        r_b, alpha, beta, gamma = law[..., 0], law[..., 1], law[..., 2], law[..., 3]
        a, b = (2.0 - gamma) / alpha, (beta - 2.0) / alpha
        log_beta = gammaln(a) + gammaln(b) - gammaln(a + b)
        return (
            2.0
            * jnp.pi
            * r_b**2
            / alpha
            * jnp.exp((beta - gamma) / alpha * jnp.log(2.0) + log_beta)
        )
