"""The generalised ellipse (superellipse): boxy and disky isophotes.

Imfit's convention (``Sersic_GenEllipse``, ``Exponential_GenEllipse``; Athanassoula et
al. 1990, MNRAS 245, 130): with a, b the offsets along the major and minor axes,

    r = (|a|^C + |b / q|^C)^(1 / C),    C = c0 + 2,

so c0 = 0 is the ellipse, c0 < 0 disky (C = 1 a diamond), c0 > 0 boxy (a rectangle as
c0 -> infinity). The area inside r = 1 is 4 q Gamma(1 + 1/C)^2 / Gamma(1 + 2/C)
(pi q for C = 2).
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp
from jax.scipy.special import gammaln

from ._base import ParamSpec
from ._compose import with_geometry
from ._ellipse import R_SOFT
from .exponential import Exponential
from .geometry import Geometry
from .sersic import Sersic

__all__ = [
    "GenEllipse",
    "GEN_ELLIPSE",
    "superellipse_area",
    "gen_ellipse",
    "SersicGenEllipse",
    "ExponentialGenEllipse",
]

_C0 = ParamSpec(
    "c0", "", -1.5, 4.0, "boxiness: exponent c0 + 2; < 0 disky, 0 ellipse, > 0 boxy", 0.5
)


def superellipse_area(c):
    """Area of |x|^c + |y|^c <= 1 over pi: 4 Gamma(1 + 1/c)^2 / (pi Gamma(1 + 2/c)).

    Examples
    --------
    >>> [round(float(superellipse_area(c)), 12) for c in (1.0, 2.0)]  # diamond, circle
    [0.636619772368, 1.0]
    """
    c = jnp.asarray(c, dtype=float)
    return jnp.exp(math.log(4.0 / math.pi) + 2.0 * gammaln(1.0 + 1.0 / c) - gammaln(1.0 + 2.0 / c))


@dataclasses.dataclass(frozen=True)
class GenEllipse(Geometry):
    """Generalised ellipse with Imfit's boxiness parameter ``c0`` (exponent c0 + 2).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> g = GenEllipse()
    >>> round(float(g.radius(1.0, 1.0, 1.0, 0.0, jnp.array([0.0]))), 9)  # circle
    1.414213562
    >>> round(float(g.radius(1.0, 1.0, 1.0, 0.0, jnp.array([2.0]))), 9)  # C = 4
    1.189207115
    """

    @property
    def params(self):
        return (_C0,)

    @property
    def type_suffix(self):
        return "genellipse"

    @property
    def class_suffix(self):
        return "GenEllipse"

    def radius_uv(self, u, v, g):
        c = g[..., 0] + 2.0
        # softened moduli (finite gradients at u = 0 or v = 0, also in c), and the
        # larger one factored out: no overflow of |u|^C for large radii or large C
        ua = jnp.sqrt(u * u + R_SOFT**2)
        vb = jnp.sqrt(v * v + R_SOFT**2)
        m = jnp.maximum(ua, vb)
        return m * jnp.power(jnp.power(ua / m, c) + jnp.power(vb / m, c), 1.0 / c)

    def area(self, g):
        return superellipse_area(g[..., 0] + 2.0)

    def describe(self):
        return (
            "Generalised ellipse (Imfit's GenEllipse): r = (|a|^C + |b/q|^C)^(1/C) with\n"
            "    C = c0 + 2 (c0 < 0 disky, 0 the ellipse, > 0 boxy), a and b the offsets\n"
            "    along the major and minor axes; area factor 4 Gamma(1+1/C)^2 /\n"
            "    (pi Gamma(1+2/C))."
        )


#: the generalised-ellipse geometry (it has no options: one value)
GEN_ELLIPSE = GenEllipse()


def gen_ellipse(law_cls: type) -> type:
    """``law_cls`` on the generalised ellipse: ``<Law>GenEllipse`` (cached).

    Examples
    --------
    >>> from scenefit.models import Sersic
    >>> gen_ellipse(Sersic).param_names()[3:]
    ('r_e', 'n', 'c0', 'q', 'pa')
    """
    return with_geometry(law_cls, GEN_ELLIPSE)


#: Imfit's Sersic_GenEllipse and Exponential_GenEllipse
SersicGenEllipse = gen_ellipse(Sersic)
ExponentialGenEllipse = gen_ellipse(Exponential)
