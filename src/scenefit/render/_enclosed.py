"""Enclosed-light fractions of the radial laws (for the exact core integration).

For a radial law f(r) with total T = 2 pi int_0^inf f(s) s ds, the fraction of the
light of the circular (q = 1) profile inside radius r is

    L(r) = (2 pi / T) int_0^r f(s) s ds.

Closed forms: Sersic L = P(2n, b (r / r_e)^(1/n)) (P the regularised lower incomplete
gamma function, Graham & Driver 2005, PASA 22, 118, eq. 2); exponential
L = 1 - (1 + x) e^(-x), x = r / h; Gaussian L = 1 - exp(-r^2 / (2 sigma^2)); Moffat
L = 1 - (1 + (r / alpha)^2)^(1 - beta) (Moffat 1969).
"""

from __future__ import annotations

import jax.numpy as jnp

from ..models import Exponential, Gaussian, Moffat, Sersic
from ..models.moffat import moffat_alpha
from ..models.sersic import bn_of
from ._gamma import lower_gamma_p

__all__ = ["enclosed_fraction"]


def _sersic(bn_rule):
    def frac(r, law):
        r_e, n = law[..., 0], law[..., 1]
        b = bn_of(n, bn_rule)
        return lower_gamma_p(2.0 * n, b * jnp.power(r / r_e, 1.0 / n))

    return frac


def _exponential(r, law):
    x = r / law[..., 0]
    return -jnp.expm1(-x) - x * jnp.exp(-x)


def _gaussian(r, law):
    return -jnp.expm1(-0.5 * (r / law[..., 0]) ** 2)


def _moffat(r, law):
    alpha = moffat_alpha(law[..., 0], law[..., 1])
    return -jnp.expm1((1.0 - law[..., 1]) * jnp.log1p((r / alpha) ** 2))


def enclosed_fraction(law_cls, settings):
    """L(r, law) for ``law_cls`` (array function of the circular radius r, arcsec, and the
    law parameters), or ``None`` when no closed form is known.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from scenefit.render import RenderSettings
    >>> frac = enclosed_fraction(Sersic, RenderSettings())
    >>> round(float(frac(2.0, jnp.array([2.0, 4.0]))), 9)  # r_e holds half the light
    0.5
    """
    if law_cls is Sersic:
        return _sersic(settings.sersic_bn)
    return {Exponential: _exponential, Gaussian: _gaussian, Moffat: _moffat}.get(law_cls)
