"""Empirical King (1962) law and its alpha generalisation (Elson 1999; Peng et al. 2010)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile, ParamSpec
from ._radial_quadrature import panel_integral

__all__ = ["King"]

#: panel edges on s in [0, 1] for the total: dyadic towards s = 0, where the integrand
#: behaves as s^alpha (Gauss-Legendre on [a, 2a] then converges geometrically)
#: (numpy, not jax.numpy: module constants must not start JAX at import)
_S_EDGES = np.concatenate([np.zeros(1), 2.0 ** np.arange(-48.0, 1.0)])


def _t_tidal(law):
    r_c, r_t, alpha = law[..., 0], law[..., 1], law[..., 2]
    return jnp.power(1.0 + (r_t / r_c) ** 2, -1.0 / alpha)


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class King(EllipticalProfile):
    """Modified King profile; alpha = 2 is the empirical King (1962) law.

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux (image units).
    r_c : float or Param
        Core radius along the major axis (arcsec).
    r_t : float or Param
        Tidal (truncation) radius along the major axis (arcsec); I = 0 for r >= r_t.
    alpha : float or Param
        Concentration exponent (0.1..10; 2 = King 1962; fix it there for the classic law).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    With t(r) = [1 + (r / r_c)^2]^(-1 / alpha) and t_t = t(r_t),

        I(r) = I_0 [(t(r) - t_t) / (1 - t_t)]^alpha   for r < r_t, else 0,

    so I_0 is the central surface brightness (Imfit's ModifiedKing, GALFIT's ``king``).
    The total has no closed form for general alpha: with t = t_t + (1 - t_t) s,

        F = pi q r_c^2 I_0 alpha (1 - t_t) int_0^1 s^alpha (t_t + (1 - t_t) s)^(-alpha-1) ds,

    evaluated with 16-point Gauss-Legendre on 49 dyadic panels in s (relative error
    < 1e-10 against scipy for the default bounds; see tests/test_profile_totals.py).

    References: King I. 1962, AJ 67, 471; Elson R. 1999, in Globular clusters, 209;
    Peng C. et al. 2010, AJ 139, 2097.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> law = jnp.array([1.0, 10.0, 2.0])  # r_c, r_t, alpha
    >>> float(King.radial(jnp.array([0.0, 10.0]), law)[1])
    0.0
    >>> King(x=0, y=0, flux=1, r_c=1, r_t=10, alpha=2, q=1, pa=0).r_t.value
    10.0
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("r_c", "arcsec", 0.0, None, "core radius along the major axis", 1.5),
        ParamSpec("r_t", "arcsec", 0.0, None, "tidal radius along the major axis", 12.0),
        ParamSpec("alpha", "", 0.1, 10.0, "concentration exponent (2 = King 1962)", 2.0),
        *SHAPE,
    )
    TYPE_NAME = "king"

    x: object = None
    y: object = None
    flux: object = None
    r_c: object = None
    r_t: object = None
    alpha: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def radial(r, law):
        r_c, alpha = law[..., 0], law[..., 2]
        t_t = _t_tidal(law)
        t = jnp.power(1.0 + (r / r_c) ** 2, -1.0 / alpha)
        d = (t - t_t) / (1.0 - t_t)
        inside = d > 0.0
        return jnp.where(inside, jnp.exp(alpha * jnp.log(jnp.where(inside, d, 1.0))), 0.0)

    @staticmethod
    def total(law):
        r_c, alpha = law[..., 0], law[..., 2]
        t_t = _t_tidal(law)
        a, tt = alpha[..., None, None], t_t[..., None, None]

        def f(s):
            return jnp.exp(a * jnp.log(s) - (a + 1.0) * jnp.log(tt + (1.0 - tt) * s))

        integral = panel_integral(f, _S_EDGES)
        return jnp.pi * r_c**2 * alpha * (1.0 - t_t) * integral
