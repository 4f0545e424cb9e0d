"""Spline profile: log-brightness through nodes at automatic log-spaced radii."""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, ParamSpec
from ._factory import make_profile_class
from ._radial_quadrature import radial_total

__all__ = ["spline_profile", "spline_knots", "Spline6", "Spline6Zero", "EXTRAPOLATIONS"]

#: what the profile does beyond the last node
EXTRAPOLATIONS = ("loglinear", "zero")

_DOC = """Spline profile with {n} nodes (centre + {m} log-spaced), {extra} beyond the last.

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux (image units).
    r_min, r_max : float or Param
        Radii of the first and last off-centre node (arcsec, r_min < r_max); the {m}
        nodes are log-spaced between them, the first node sits at r = 0. They are
        usually fixed (e.g. to about one pixel and the image half-size).
    s_1 .. s_{m} : float or Param
        ln I(r_k) - ln I(0) at the off-centre nodes (natural log). Relative values
        keep the overall scale in ``flux`` alone (no degeneracy).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    ln I is a natural cubic spline in r through (0, 0), (r_k, s_k). Beyond r_max the
    profile is {extra_doc} The total is the integral of 2 pi r I(r) by 16-point
    Gauss-Legendre on two panels per spline segment (plus the analytic tail), relative
    error < 1e-9 against scipy (tests/test_profile_totals.py). Other sizes and the other
    extrapolation: :func:`scenefit.models.spline.spline_profile`.

    Reference: the spline models of AstroPhot (Stone et al. 2023, MNRAS 525, 6377).

    Examples
    --------
    >>> from scenefit.models.spline import spline_profile
    >>> S = spline_profile(4)
    >>> S.param_names()[3:]
    ('r_min', 'r_max', 's_1', 's_2', 's_3', 'q', 'pa')
    """

_EXTRA_DOC = {
    "loglinear": (
        "log-linear: ln I continues as a straight line in r with decay rate "
        "lambda = softplus(-S'(r_max) r_max) / r_max (S' the spline slope; the softplus "
        "keeps the tail decaying, and equals the slope when it is steep), so the total "
        "is finite and I is continuous."
    ),
    "zero": (
        "zero, reached continuously: inside r_max the law is "
        "I = I_0' max(exp(S(r)) - exp(s_last), 0) (the value at the last node subtracted, as "
        "in King's tidal truncation), so the s_k are node values before that subtraction "
        "and every derivative, r_max included, is exact."
    ),
}


def spline_knots(law, n_nodes):
    """Node radii (..., n_nodes): 0 then ``n_nodes - 1`` log-spaced in [r_min, r_max].

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> [round(float(v), 6) for v in spline_knots(jnp.array([1.0, 100.0]), 4)]
    [0.0, 1.0, 10.0, 100.0]
    """
    r_min, r_max = law[..., 0], law[..., 1]
    t = jnp.linspace(0.0, 1.0, n_nodes - 1)
    logs = jnp.log(r_min)[..., None] + (jnp.log(r_max) - jnp.log(r_min))[..., None] * t
    return jnp.concatenate([jnp.zeros_like(r_min)[..., None], jnp.exp(logs)], axis=-1)


def _second_derivatives(knots, s):
    """Natural cubic spline: second derivatives M (..., N) at the knots (M_0 = M_-1 = 0)."""
    h = jnp.diff(knots, axis=-1)
    n = knots.shape[-1]
    if n == 2:
        return jnp.zeros_like(s)
    diag = 2.0 * (h[..., :-1] + h[..., 1:])
    off = h[..., 1:-1]
    a = _tridiag(diag, off)
    slope = jnp.diff(s, axis=-1) / h
    rhs = 6.0 * jnp.diff(slope, axis=-1)
    inner = jnp.linalg.solve(a, rhs[..., None])[..., 0]
    zero = jnp.zeros_like(s[..., :1])
    return jnp.concatenate([zero, inner, zero], axis=-1)


def _tridiag(diag, off):
    """Symmetric tridiagonal matrices (..., m, m) from the diagonal and off-diagonal."""
    m = diag.shape[-1]
    eye = jnp.eye(m)
    up = jnp.eye(m, k=1)
    lo = jnp.eye(m, k=-1)
    offp = jnp.concatenate([off, jnp.zeros_like(diag[..., :1])], axis=-1)
    offm = jnp.concatenate([jnp.zeros_like(diag[..., :1]), off], axis=-1)
    return diag[..., None] * eye + offp[..., :, None] * up + offm[..., :, None] * lo


def _spline_parts(law, n_nodes):
    knots = spline_knots(law, n_nodes)
    s = jnp.concatenate([jnp.zeros_like(law[..., :1]), law[..., 2 : 2 + n_nodes - 1]], axis=-1)
    return knots, s, _second_derivatives(knots, s)


def _log_profile(r, law, n_nodes):
    """(ln I inside the nodes, outside-mask, tail decay rate, ln I at r_max)."""
    knots, s, m = _spline_parts(law, n_nodes)
    h = jnp.diff(knots, axis=-1)
    x = r[..., None]
    k0, k1 = knots[..., :-1], knots[..., 1:]
    s0, s1, m0, m1 = s[..., :-1], s[..., 1:], m[..., :-1], m[..., 1:]
    seg = (
        m0 * (k1 - x) ** 3 / (6.0 * h)
        + m1 * (x - k0) ** 3 / (6.0 * h)
        + (s0 / h - m0 * h / 6.0) * (k1 - x)
        + (s1 / h - m1 * h / 6.0) * (x - k0)
    )
    inside_seg = (x >= k0) & (x < k1)
    inside_seg = inside_seg.at[..., 0].set(inside_seg[..., 0] | (x[..., 0] < k0[..., 0]))
    log_in = jnp.sum(jnp.where(inside_seg, seg, 0.0), axis=-1)
    r_max = knots[..., -1]
    end_slope = (s[..., -1] - s[..., -2]) / h[..., -1] + m[..., -2] * h[..., -1] / 6.0
    lam = jax.nn.softplus(-end_slope * r_max) / r_max
    return log_in, r >= r_max, lam, s[..., -1], r_max


def _radial(n_nodes, extrapolation):
    def radial(r, law):
        log_in, outside, lam, s_end, r_max = _log_profile(r, law, n_nodes)
        if extrapolation == "zero":
            return jnp.where(outside, 0.0, jnp.maximum(jnp.exp(log_in) - jnp.exp(s_end), 0.0))
        tail = s_end - lam * (r - r_max)
        return jnp.exp(jnp.where(outside, tail, log_in))

    return radial


def _total(n_nodes, extrapolation):
    radial = _radial(n_nodes, extrapolation)

    def total(law):
        knots = spline_knots(law, n_nodes)
        mids = 0.5 * (knots[..., :-1] + knots[..., 1:])
        edges = jnp.sort(jnp.concatenate([knots, mids], axis=-1), axis=-1)
        inner = radial_total(lambda r: radial(r, law[..., None, None, :]), edges)
        if extrapolation == "zero":
            return inner
        _, _, lam, s_end, r_max = _log_profile(knots[..., -1], law, n_nodes)
        return inner + 2.0 * jnp.pi * jnp.exp(s_end) * (r_max / lam + 1.0 / lam**2)

    return total


@cache
def spline_profile(n_nodes: int = 6, extrapolation: str = "loglinear") -> type:
    """The spline profile class with ``n_nodes`` nodes (cached: one class per option).

    Parameters
    ----------
    n_nodes : int
        Number of nodes including the centre (3..64).
    extrapolation : {"loglinear", "zero"}
        Beyond the last node: continue ln I linearly in r, or drop to zero.

    Returns
    -------
    type
        A concrete :class:`~scenefit.models.EllipticalProfile` named ``Spline<n>`` (or
        ``Spline<n>Zero``) with type name ``spline<n>`` (or ``spline<n>_zero``).

    Examples
    --------
    >>> spline_profile(8, "zero").TYPE_NAME
    'spline8_zero'
    """
    if isinstance(n_nodes, bool) or not isinstance(n_nodes, int) or not 3 <= n_nodes <= 64:
        raise ValueError(
            f"a spline profile needs an integer number of nodes in 3..64, got {n_nodes!r}"
        )
    if extrapolation not in EXTRAPOLATIONS:
        raise ValueError(
            f"unknown extrapolation {extrapolation!r}; expected one of {EXTRAPOLATIONS}"
        )
    m = n_nodes - 1
    radii = (
        ParamSpec("r_min", "arcsec", 0.0, None, "radius of the first off-centre node", 0.5),
        ParamSpec("r_max", "arcsec", 0.0, None, "radius of the last node", 10.0),
    )
    # default values: an exponential with h = 2 arcsec sampled at the default nodes
    default_r = [0.5 * 20.0 ** (i / (m - 1)) for i in range(m)]
    values = tuple(
        ParamSpec(
            f"s_{i}", "", None, None, f"ln I(r_{i}) - ln I(0)", round(-default_r[i - 1] / 2.0, 4)
        )
        for i in range(1, m + 1)
    )
    zero = extrapolation == "zero"
    return make_profile_class(
        f"Spline{n_nodes}" + ("Zero" if zero else ""),
        __name__,
        (*POSITION, FLUX, *radii, *values, *SHAPE),
        f"spline{n_nodes}" + ("_zero" if zero else ""),
        _DOC.format(n=n_nodes, m=m, extra=extrapolation, extra_doc=_EXTRA_DOC[extrapolation]),
        {
            "N_NODES": n_nodes,
            "EXTRAPOLATION": extrapolation,
            "radial": staticmethod(_radial(n_nodes, extrapolation)),
            "total": staticmethod(_total(n_nodes, extrapolation)),
            "size_index": staticmethod(lambda: 1),
        },
    )


#: six-node spline profiles registered as ``spline6`` and ``spline6_zero``
Spline6 = spline_profile(6, "loglinear")
Spline6Zero = spline_profile(6, "zero")
