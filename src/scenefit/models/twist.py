"""Isophote twist: a position angle that turns with radius.

The law sees the elliptical radius measured with the position angle

    PA(s) = pa + twist * s^2 / (s^2 + r_twist^2),    s = |p| (arcsec),

p the tangent-plane offset from the centre: the isophotes turn from ``pa`` at the
centre towards ``pa + twist`` far out, by half of ``twist`` at s = r_twist. The turn
depends on the *circular* radius s on purpose: the map p -> (p turned by PA(s) - pa) is
a rotation on every circle about the centre, so it preserves area, and the composed
profile keeps the law's plane integral exactly (area factor 1) and the light inside any
centred circle or annulus. (A turn driven by the elliptical radius would not preserve
area; the price of the circular one is that an isophote of a flattened profile turns a
little less at its ends on the minor axis, at s = q r, than on its major axis, s = r:
the isophotes are turned ellipses only where the turn is slow.)

The radius is not homogeneous in the offsets, so the exact core of
:mod:`scenefit.render._core_geometry` does not apply; the renderer uses nested
refinement at the centre, where the turn is small anyway (it grows as s^2).
An axis ratio varying with radius is the warp of :mod:`.warp` (isophote-fitting
convention, a numerically integrated total): no map with it preserves area.
"""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import jax.numpy as jnp

from ._base import ParamSpec
from ._compose import with_geometry
from ._ellipse import R_SOFT, major_minor
from .geometry import Geometry
from .sersic import Sersic

__all__ = ["Twist", "TWIST", "twisted", "SersicTwist"]

_PARAMS = (
    ParamSpec("twist", "deg", None, None, "turn of the PA from the centre to large radii", 40.0),
    ParamSpec("r_twist", "arcsec", 0.0, None, "circular radius of half the turn", 3.0),
)


@dataclasses.dataclass(frozen=True)
class Twist(Geometry):
    """Isophote twist: the ellipse with PA(s) = pa + twist s^2 / (s^2 + r_twist^2).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> g = jnp.array([90.0, 1e-6])  # a quarter turn reached at once
    >>> # 2 arcsec north of the centre of an ellipse q = 0.5 whose major axis points
    >>> # east far out (pa = 0 turned by 90 deg): the minor axis, so r = 2 / q
    >>> round(float(TWIST.radius(0.0, 2.0, 0.5, 0.0, g)), 6)
    4.0
    """

    #: the radius is not homogeneous in the offsets (no exact core)
    homogeneous: ClassVar[bool] = False

    @property
    def params(self):
        return _PARAMS

    @property
    def type_suffix(self):
        return "twist"

    @property
    def class_suffix(self):
        return "Twist"

    def turn(self, s2, g):
        """PA(s) - pa (deg) at squared circular radius ``s2`` (arcsec^2)."""
        return g[..., 0] * s2 / (s2 + g[..., 1] ** 2)

    def radius_uv(self, u, v, g):
        return jnp.sqrt(u * u + v * v + R_SOFT**2)

    def radius(self, dxi, deta, q, pa, g):
        a, b = major_minor(dxi, deta, pa + self.turn(dxi * dxi + deta * deta, g))
        return self.radius_uv(a, b / q, g)

    def area(self, g):
        return jnp.ones_like(g[..., 0])

    def initial_values(self, size=None):
        return {"twist": 0.0, "r_twist": 1.0 if size is None else float(size)}

    def describe(self):
        return (
            "Isophote twist: the ellipse with PA(s) = pa + twist s^2 / (s^2 + r_twist^2),\n"
            "    s the circular radius (arcsec): area-preserving, so the area factor is 1."
        )


#: the twist geometry (no options: one value)
TWIST = Twist()


def twisted(law_cls: type) -> type:
    """``law_cls`` with an isophote twist: ``<Law>Twist`` (cached).

    Examples
    --------
    >>> twisted(Sersic).param_names()[3:]
    ('r_e', 'n', 'twist', 'r_twist', 'q', 'pa')
    """
    return with_geometry(law_cls, TWIST)


#: the Sersic law with a twist, registered as ``sersic_twist``
SersicTwist = twisted(Sersic)
