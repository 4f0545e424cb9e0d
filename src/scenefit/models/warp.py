"""Warp: position angle and axis ratio that vary with radius (splines in ln r).

The isophote of law radius r (arcsec, along its own major axis) is the ellipse of
semi-major axis r, axis ratio q(r) and position angle PA(r), with

    PA(r) = pa + dPA(r),   q(r) = q exp(L(r)),

dPA (deg) and L = ln(q(r) / q) natural cubic splines in t = (K - 1) ln(r / r_w0) /
ln(r_w1 / r_w0) through K nodes log-spaced from ``r_w0`` to ``r_w1``: zero at the first
node (so ``pa`` and ``q`` are the central values), ``dpa_<k>`` and ``lnq_<k>`` at the
others, held constant inside r_w0 and beyond r_w1. This is the convention of isophote
fitting (q and PA as functions of the semi-major axis). The law sees the r whose
ellipse passes through the offset: the root of r = sqrt(a(r)^2 + (b(r) / q(r))^2),
a, b the offsets along the axes of PA(r), found by Newton's method from the circular
radius (:data:`NEWTON_STEPS` steps; the last one carries the derivatives, by the
implicit-function theorem).

**Flux.** The isophotes are nested when the map (r, t) -> r R(PA(r)) (cos t,
q(r) sin t) has a positive Jacobian, r (q + r q' sin^2 t) + PA' r^2 (1 - q^2) sin t cos t
> 0; then the plane integral is exact in one dimension,

    q total = pi int_0^inf I(r) d(r^2 q(r)),

because the twist term integrates to zero over t: the PA warp does not change the total,
the q warp does. ``total`` is that integral over q, q-independent:
T = T_law m_end + int_0^{r_w1} 2 pi r I(r) [m (1 + L' / 2) - m_end] dr, m = e^L,
L' = dL / d ln r, m_end = m(r_w1), by 16-point Gauss-Legendre on 48 panels in ln r from
1e-6 r_w0 (plus the law's radii); so ``flux`` stays the total flux to the quadrature's
accuracy (``tests/test_warp.py`` compares it with a 2-d integration of the rendered
law). The warp must stay nested (|d PA / d ln r| < 2 q sqrt(1 + L') / (1 - q^2) rad):
nothing enforces it.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from typing import ClassVar

import jax
import jax.numpy as jnp

from ._base import ParamSpec
from ._compose import with_geometry
from ._ellipse import R_SOFT, major_minor
from ._radial_quadrature import log_radius_total
from .geometry import Geometry
from .sersic import Sersic
from .sky_grid import _basis

__all__ = ["Warp", "warped", "NEWTON_STEPS", "SersicWarp3"]

#: Newton steps of the radius solve (quadratic convergence; the last carries gradients)
NEWTON_STEPS = 6
_TYPICAL_DPA = 25.0  # deg at the outer node (typical value)
_TYPICAL_LNQ = -0.35


@cache
def _params(n_nodes):
    out = [
        ParamSpec("r_w0", "arcsec", 0.0, None, "first warp node (inside it: pa, q)", 1.0),
        ParamSpec("r_w1", "arcsec", 0.0, None, "last warp node (beyond it: constant)", 5.0),
    ]
    for k in range(1, n_nodes):
        frac = k / (n_nodes - 1)
        out.append(
            ParamSpec(f"dpa_{k}", "deg", None, None, f"PA - pa at node {k}", _TYPICAL_DPA * frac)
        )
    for k in range(1, n_nodes):
        frac = k / (n_nodes - 1)
        out.append(
            ParamSpec(
                f"lnq_{k}", "", None, None, f"ln(q / q_centre) at node {k}", _TYPICAL_LNQ * frac
            )
        )
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class Warp(Geometry):
    """PA and axis ratio varying with radius: natural cubic splines in ln r.

    Parameters
    ----------
    n_nodes : int
        Spline nodes K (2..12), log-spaced from ``r_w0`` to ``r_w1``; the first is the
        centre's ``pa`` and ``q``, the others add ``dpa_<k>`` (deg) and ``lnq_<k>``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> w = Warp(2)
    >>> [p.name for p in w.params]
    ['r_w0', 'r_w1', 'dpa_1', 'lnq_1']
    >>> g = jnp.array([1.0, 2.0, 90.0, 0.0])  # a quarter turn from 1 to 2 arcsec
    >>> # 4 arcsec north, q = 0.5, pa = 0: far out the major axis points east, so
    >>> # north is the minor axis and r = 4 / q
    >>> round(float(w.radius(0.0, 4.0, 0.5, 0.0, g)), 6)
    8.0
    """

    n_nodes: int = 3
    homogeneous: ClassVar[bool] = False

    def __post_init__(self):
        k = self.n_nodes
        if not isinstance(k, int) or isinstance(k, bool) or not 2 <= k <= 12:
            raise ValueError(f"a warp needs an integer number of nodes in 2..12, got {k!r}")

    @property
    def params(self):
        return _params(self.n_nodes)

    @property
    def type_suffix(self):
        return f"warp{self.n_nodes}"

    @property
    def class_suffix(self):
        return f"Warp{self.n_nodes}"

    def _node_t(self, lr, g):
        """Spline coordinate t (0 .. K - 1, clipped) at ln r."""
        l0, l1 = jnp.log(g[..., 0]), jnp.log(g[..., 1])
        t = (self.n_nodes - 1) * (lr - l0) / (l1 - l0)
        return jnp.clip(t, 0.0, self.n_nodes - 1.0)

    def _nodes(self, g):
        """Node values (..., K) of dPA (deg) and L, zero at the first node."""
        k = self.n_nodes
        zero = jnp.zeros_like(g[..., :1])
        return (
            jnp.concatenate([zero, g[..., 2 : k + 1]], axis=-1),
            jnp.concatenate([zero, g[..., k + 1 : 2 * k]], axis=-1),
        )

    def warp(self, r, g):
        """(dPA in deg, L = ln(q(r) / q)) at major-axis radius ``r`` (arcsec)."""
        lr = 0.5 * jnp.log(r * r + R_SOFT**2)
        w = _basis(self._node_t(lr, g), self.n_nodes, "bicubic")
        dpa, lnq = self._nodes(g)
        return jnp.sum(w * dpa, -1), jnp.sum(w * lnq, -1)

    def _rho(self, r, dxi, deta, q, pa, g):
        dpa, lnq = self.warp(r, g)
        a, b = major_minor(dxi, deta, pa + dpa)
        qr = q * jnp.exp(lnq)
        return jnp.sqrt(a * a + (b / qr) ** 2 + R_SOFT**2)

    def radius_uv(self, u, v, g):  # the ellipse at the centre's q (used only there)
        return jnp.sqrt(u * u + v * v + R_SOFT**2)

    def radius(self, dxi, deta, q, pa, g):
        dxi, deta = jnp.broadcast_arrays(jnp.asarray(dxi, float), jnp.asarray(deta, float))
        sg = jax.lax.stop_gradient
        args = (sg(dxi), sg(deta), sg(q), sg(pa), sg(g))

        def residual(r, *a):
            return r - self._rho(r, *a)

        r = self._rho(jnp.sqrt(dxi * dxi + deta * deta + R_SOFT**2), *args)
        for _ in range(NEWTON_STEPS):
            f, df = jax.jvp(lambda rr: residual(rr, *args), (r,), (jnp.ones_like(r),))
            r = jnp.maximum(r - f / jnp.maximum(df, 0.05), 0.5 * r)
        r = sg(r)
        _, df = jax.jvp(lambda rr: residual(rr, *args), (r,), (jnp.ones_like(r),))
        # one more step whose value is ~0 but whose derivatives are those of the root
        return r - residual(r, dxi, deta, q, pa, g) / sg(jnp.maximum(df, 0.05))

    def area(self, g):  # pragma: no cover - the warp's total depends on the law
        raise NotImplementedError("a warp's total depends on the law: use Warp.total")

    def total(self, law_radial, law_total, law, g, **options):
        k = self.n_nodes
        m_end = jnp.exp(g[..., 2 * k - 1])
        gb = g[..., None, None, :]
        lb = law[..., None, None, :]
        lnq_nodes = self._nodes(gb)[1]

        def lnq_of(lr):
            return jnp.sum(_basis(self._node_t(lr, gb), k, "bicubic") * lnq_nodes, -1)

        def f(r):
            lr = jnp.log(r)
            lnq, slope = jax.jvp(lnq_of, (lr,), (jnp.ones_like(lr),))  # L, dL / d ln r
            weight = jnp.exp(lnq) * (1.0 + 0.5 * slope) - m_end[..., None, None]
            return law_radial(r, lb, **options) * weight

        r0, r1 = g[..., 0], g[..., 1]
        frac = jnp.linspace(0.0, 1.0, k)
        extra = jnp.log(r0)[..., None] + (jnp.log(r1) - jnp.log(r0))[..., None] * frac
        return law_total(law, **options) * m_end + log_radius_total(f, 1e-6 * r0, r1, extra=extra)

    def initial_values(self, size=None):
        s = 1.0 if size is None else float(size)
        out = {"r_w0": 0.5 * s, "r_w1": 3.0 * s}
        out.update({p.name: 0.0 for p in self.params[2:]})
        return out

    def describe(self):
        return (
            f"Warp ({self.n_nodes} nodes): isophotes are ellipses of semi-major axis r with\n"
            "    PA(r) = pa + dPA(r), q(r) = q exp(L(r)), natural cubic splines in ln r\n"
            "    between r_w0 and r_w1 (zero at r_w0); total = pi int I d(r^2 q(r)) / q\n"
            "    by radial quadrature (scenefit.models.warp)."
        )


def warped(law_cls: type, n_nodes: int = 3) -> type:
    """``law_cls`` with a PA and q warp on ``n_nodes`` nodes: ``<Law>Warp<K>`` (cached).

    Examples
    --------
    >>> warped(Sersic, 2).param_names()[3:]
    ('r_e', 'n', 'r_w0', 'r_w1', 'dpa_1', 'lnq_1', 'q', 'pa')
    """
    return with_geometry(law_cls, Warp(n_nodes))


#: Sersic with a 3-node warp, registered as ``sersic_warp3``
SersicWarp3 = warped(Sersic, 3)
