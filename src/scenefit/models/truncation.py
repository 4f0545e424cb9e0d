"""Inner and outer truncation of any radial law by smooth (logistic) steps.

    I_trunc(r) = I(r) * S_in(r) * S_out(r),
    S_in(r)  = 1 / (1 + exp(-(r - r_in) / w_in)),
    S_out(r) = 1 / (1 + exp((r - r_out) / w_out)),

r the major-axis (or generalised) radius. The softening widths ``w_in``, ``w_out``
(arcsec) are parameters like the radii (fix them for a sharp edge of known width):
each step goes from 12 % to 88 % over r_t +- 2 w, and is 1 / (1 + e^-x) at x widths
inside. The law is differentiable in every parameter for w > 0. S_in(0) =
1 / (1 + exp(r_in / w_in)) is small but not zero (4.7e-2 for r_in = 3 w_in).

The total has no closed form; it is the plane integral by 16-point Gauss-Legendre on
48 panels equal in ln r (:func:`._radial_quadrature.log_radius_total`), with extra
panel edges at r_t + (-8, -4, -2, -1, 0, 1, 2, 4, 8, 16) w and at the law's own radii
(its parameters in arcsec): with an outer step, from 1e-9 (r_out + 40 w_out) to
r_out + 40 w_out (S_out < 5e-18 beyond); with only an inner step, the law's own total
minus the light the step removes, integrated up to r_in + 40 w_in.
``tests/test_geometries.py`` compares the totals with ``scipy.integrate.quad``.
"""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, ParamSpec
from ._compose import check_law, law_params
from ._factory import make_profile_class
from ._radial_quadrature import log_radius_total
from .exponential import Exponential

__all__ = ["truncated", "truncation_steps", "TRUNCATIONS", "ExponentialTrunc"]

#: the accepted (inner, outer) combinations and their type-name / class-name suffixes
TRUNCATIONS = {
    (False, True): ("trunc", "Trunc"),
    (True, False): ("trunc_in", "TruncIn"),
    (True, True): ("trunc_inout", "TruncInOut"),
}

_INNER = (
    ParamSpec("r_in", "arcsec", 0.0, None, "inner truncation radius (major axis)", 1.0),
    ParamSpec("w_in", "arcsec", 0.0, None, "softening width of the inner truncation", 0.3),
)
_OUTER = (
    ParamSpec("r_out", "arcsec", 0.0, None, "outer truncation radius (major axis)", 6.0),
    ParamSpec("w_out", "arcsec", 0.0, None, "softening width of the outer truncation", 0.5),
)
_EDGES = (-8.0, -4.0, -2.0, -1.0, 0.0, 1.0, 2.0, 4.0, 8.0, 16.0)
_REACH = 40.0  # widths beyond the step that the quadrature covers


def truncation_steps(r, t, inner: bool, outer: bool):
    """S_in(r) S_out(r) for the truncation parameters ``t`` (..., 2 or 4):
    ``[r_in, w_in]``, ``[r_out, w_out]`` or ``[r_in, w_in, r_out, w_out]`` (arcsec).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> float(truncation_steps(jnp.array(5.0), jnp.array([5.0, 0.5]), False, True))
    0.5
    """
    s = 1.0
    k = 0
    if inner:
        s = s * jax.nn.sigmoid((r - t[..., 0]) / t[..., 1])
        k = 2
    if outer:
        s = s * jax.nn.sigmoid((t[..., k] - r) / t[..., k + 1])
    return s


def _edges(t, radii, inner, outer):
    """Extra ln r panel edges: around each step, and at the law's radii."""
    parts = [radii]
    pairs = ([(0, 1)] if inner else []) + ([(2, 3) if inner else (0, 1)] if outer else [])
    for i, j in pairs:
        parts.append(t[..., i, None] + t[..., j, None] * jnp.asarray(_EDGES))
    return jnp.log(jnp.maximum(jnp.concatenate(parts, axis=-1), 1e-300))


def truncated(law_cls: type, inner: bool = False, outer: bool = True) -> type:
    """The class of ``law_cls`` with smooth inner and/or outer truncation (cached).

    Parameters
    ----------
    law_cls : EllipticalProfile subclass
        A profile on the plain ellipse (compose a geometry with the truncated class,
        not the other way round).
    inner, outer : bool
        Which steps to apply (at least one). Each adds a radius and a softening width:
        ``r_in, w_in`` and/or ``r_out, w_out`` (arcsec), after the law's parameters.

    Returns
    -------
    type
        ``<Law>Trunc`` / ``<Law>TruncIn`` / ``<Law>TruncInOut``, type name
        ``<law>_trunc`` / ``<law>_trunc_in`` / ``<law>_trunc_inout``.

    Examples
    --------
    >>> from scenefit.models import Exponential
    >>> truncated(Exponential).param_names()[3:]
    ('h', 'r_out', 'w_out', 'q', 'pa')
    """
    check_law(law_cls, "truncated")
    if law_cls.LAW is not None:
        raise TypeError(
            f"truncated: {law_cls.__name__} is already a composed profile; truncate the "
            "plain law once (inner=True, outer=True for both steps)"
        )
    if (bool(inner), bool(outer)) not in TRUNCATIONS:
        raise ValueError("truncated needs inner=True, outer=True or both")
    return _truncated(law_cls, bool(inner), bool(outer))


@cache
def _truncated(law_cls, inner, outer):
    """:func:`truncated` with normalised arguments (one cache entry per class)."""
    type_suffix, class_suffix = TRUNCATIONS[(inner, outer)]
    laws = law_params(law_cls)
    steps = (_INNER if inner else ()) + (_OUTER if outer else ())
    n_law = len(laws)
    radius_cols = [i for i, p in enumerate(laws) if p.unit == "arcsec"]
    law_radial, law_total = law_cls.radial, law_cls.total

    def radial(r, law, **options):
        t = law[..., n_law:]
        return law_radial(r, law[..., :n_law], **options) * truncation_steps(r, t, inner, outer)

    def total(law, **options):
        lp, t = law[..., :n_law], law[..., n_law:]
        extra = _edges(t, law[..., radius_cols], inner, outer)
        b = law[..., None, None, :]  # broadcast against the quadrature's (..., P, order)
        if outer:
            r_hi = t[..., -2] + _REACH * t[..., -1]

            def f(r):
                return radial(r, b, **options)

            return log_radius_total(f, 1e-9 * r_hi, r_hi, extra=extra)
        r_hi = t[..., 0] + _REACH * t[..., 1]

        def removed(r):
            s = jax.nn.sigmoid((b[..., n_law] - r) / b[..., n_law + 1])
            return law_radial(r, b[..., :n_law], **options) * s

        return law_total(lp, **options) - log_radius_total(removed, 1e-9 * r_hi, r_hi, extra=extra)

    def initial_values(size):
        out = dict(law_cls.initial_values(size))
        if inner:
            out.update(r_in=0.5 * size, w_in=0.1 * size)
        if outer:
            out.update(r_out=3.0 * size, w_out=0.3 * size)
        return out

    doc = f"""{law_cls.__name__} law with {
        " and ".join(n for n, on in (("an inner", inner), ("an outer", outer)) if on)
    } smooth truncation.

    Parameters
    ----------
    x, y, flux : centre (arcsec) and total flux (image units) of the truncated profile.
    {", ".join(p.name for p in laws)} : the parameters of
        :class:`{law_cls.__module__}.{law_cls.__name__}`.
    {", ".join(p.name for p in steps)} : truncation radii and softening widths (arcsec).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    I(r) = I_law(r) S_in(r) S_out(r) with logistic steps
    S_in = 1 / (1 + exp(-(r - r_in) / w_in)), S_out = 1 / (1 + exp((r - r_out) / w_out));
    the total by radial quadrature (:mod:`scenefit.models.truncation`).

    Examples
    --------
    >>> from scenefit.io import model_class
    >>> model_class("{law_cls.TYPE_NAME}_{type_suffix}").param_names()[-4:]
    {tuple(p.name for p in (*steps[-2:], *SHAPE))!r}
    """
    return make_profile_class(
        law_cls.__name__ + class_suffix,
        __name__,
        (*POSITION, FLUX, *laws, *steps, *SHAPE),
        f"{law_cls.TYPE_NAME}_{type_suffix}",
        doc,
        {
            "LAW": law_cls,
            "INNER": inner,
            "OUTER": outer,
            "radial": staticmethod(radial),
            "total": staticmethod(total),
            "size_index": staticmethod(law_cls.size_index),
            "initial_values": staticmethod(initial_values),
        },
    )


#: an exponential disk with an outer truncation (a disk edge)
ExponentialTrunc = truncated(Exponential)
