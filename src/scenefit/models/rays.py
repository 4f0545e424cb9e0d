"""Rays and wedges: several copies of a radial law, each with its own parameters,
blended in angle about the centre.

With (u, v) = (a, b / q) the circularised frame (a, b along the major and minor axes of
the global ``pa``, ``q``) and theta = atan2(v, u) its polar angle (from the major
axis, in the sense of the PA), ray k of N (k = 0 .. N - 1) points along
theta_k = k 180 / N deg and its opposite, theta_k + 180 (so PA + 180 is the same
model): ray 0 is the major axis; for N = 2 ray 1 is the minor axis. The law sees the
elliptical radius r = sqrt(u^2 + v^2), and

    I(r, theta) = flux / (q T) sum_k w_k(theta) A_k I_k(r),   A_0 = 1, A_k = ``amp_<k>``,

I_k the law with ray k's parameters (``<name>_<k>``), at its own amplitude convention
(Sersic: 1 at r_e; exponential: 1 at the centre). With x the distance in angle from a
ray's centre in units of the ray spacing Delta = 180 / N deg (0 at the ray, 1 at its
neighbour), the weights are w(x) = 1 - S(|x|),

    S(x) = sin^2((pi / 2) clip((x - 1/2) / e + 1/2, 0, 1)),

a C1 step of full width e (in units of Delta) centred half-way between the rays; the
weights of neighbours sum to 1 everywhere. **Rays** (``rays``) have e = 1: the blend
spans the whole spacing (w_0 = cos^2 theta, w_1 = sin^2 theta for N = 2). **Wedges**
(``wedges``) have e = :data:`WEDGE_EDGE` = 0.1: each wedge (|theta - theta_k| < Delta
/ 2) is its own law, with a steep but smooth edge (a sharp one would make the
derivatives with respect to the centre and PA miss the edge's motion).

**Flux.** Each weight integrates to 2 pi / N over the circle (the step is odd about the
half-way angle), so the plane integral is q T with T = (1 / N) sum_k A_k T_k, T_k the
law's total with ray k's parameters: ``flux`` is exactly the total flux. ``radial`` is
the azimuthal mean sum_k A_k I_k(r) / N (its plane integral is T).
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, ParamSpec
from ._compose import check_law, law_params
from ._ellipse import R_SOFT, major_minor
from ._factory import make_profile_class
from .exponential import Exponential
from .sersic import Sersic

__all__ = ["rays", "wedges", "angular_weights", "WEDGE_EDGE", "SersicRays2", "ExponentialWedges2"]

#: full width of a wedge's edge in units of the wedge spacing
WEDGE_EDGE = 0.1
_KINDS = {"rays": (1.0, "Rays"), "wedges": (WEDGE_EDGE, "Wedges")}


def angular_weights(cos2t, sin2t, n: int, edge: float):
    """Weights (..., n) of the n rays at doubled angle 2 theta given by its cosine and
    sine (arrays): the blend of the module docstring; they sum to 1.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> [round(float(v), 12) for v in angular_weights(jnp.array(0.0), jnp.array(1.0), 2, 1.0)]
    [0.5, 0.5]
    """
    phi = jnp.arctan2(sin2t, cos2t)  # 2 theta in (-pi, pi]
    y = phi * n / (2.0 * jnp.pi)  # ray coordinate, spacing 1
    k = jnp.arange(n)
    d = jnp.abs(jnp.mod(y[..., None] - k + 0.5 * n, n) - 0.5 * n)
    x = jnp.clip((jnp.minimum(d, 1.0) - 0.5) / edge + 0.5, 0.0, 1.0)
    return 1.0 - jnp.sin(0.5 * jnp.pi * x) ** 2


def _check(law_cls, n, what):
    check_law(law_cls, what)
    if not isinstance(n, int) or isinstance(n, bool) or not 2 <= n <= 16:
        raise ValueError(f"{what} needs an integer number of rays in 2..16, got {n!r}")


def rays(law_cls: type, n_rays: int = 2) -> type:
    """``n_rays`` copies of ``law_cls`` blended smoothly in angle: ``<Law>Rays<N>``.

    Parameters
    ----------
    law_cls : EllipticalProfile subclass
        A radial law on the ellipse (a truncated law too), not one with a geometry.
    n_rays : int
        Rays N (2..16), evenly spaced in angle over 180 deg (each with its opposite).

    Returns
    -------
    type
        Parameters ``[x, y, flux, *law_0, ..., *law_(N-1), amp_1 .. amp_(N-1), q, pa]``,
        type name ``<law>_rays<N>``.

    Examples
    --------
    >>> rays(Sersic, 2).param_names()[3:]
    ('r_e_0', 'n_0', 'r_e_1', 'n_1', 'amp_1', 'q', 'pa')
    """
    _check(law_cls, n_rays, "rays")
    return _angular(law_cls, n_rays, "rays")


def wedges(law_cls: type, n_wedges: int = 2) -> type:
    """``n_wedges`` copies of ``law_cls`` in angular wedges with steep edges:
    ``<Law>Wedges<N>`` (the parameters as for :func:`rays`).

    Examples
    --------
    >>> wedges(Exponential, 3).TYPE_NAME
    'exponential_wedges3'
    """
    _check(law_cls, n_wedges, "wedges")
    return _angular(law_cls, n_wedges, "wedges")


@cache
def _angular(law_cls, n, kind):
    edge, class_suffix = _KINDS[kind]
    laws = law_params(law_cls)
    n_law = len(laws)
    per_ray = []
    for k in range(n):
        for p in laws:
            per_ray.append(p._replace(name=f"{p.name}_{k}", doc=f"{p.doc} (ray {k})"))
    amps = tuple(
        ParamSpec(f"amp_{k}", "", 0.0, None, f"brightness of ray {k} relative to ray 0", 0.8)
        for k in range(1, n)
    )
    # typical values: the rays differ (larger radii along the later rays)
    per_ray = [
        p._replace(
            default=p.default * (1.0 + 0.3 * (i // n_law)) if p.unit == "arcsec" else p.default
        )
        for i, p in enumerate(per_ray)
    ]
    law_radial, law_total = law_cls.radial, law_cls.total

    def split(law):
        """(..., N, L) ray parameters and (..., N) amplitudes."""
        ray = law[..., : n * n_law].reshape(law.shape[:-1] + (n, n_law))
        amp = jnp.concatenate([jnp.ones_like(law[..., :1]), law[..., n * n_law :]], -1)
        return ray, amp

    def radial(r, law, weights=None, **options):
        ray, amp = split(law)
        vals = law_radial(jnp.asarray(r)[..., None], ray, **options)
        w = 1.0 / n if weights is None else weights
        return jnp.sum(w * amp * vals, -1)

    def total(law, **options):
        ray, amp = split(law)
        return jnp.mean(amp * law_total(ray, **options), -1)

    def surface(dxi, deta, q, pa, law, radial=None):
        radial = _CLS[0].radial if radial is None else radial
        a, b = major_minor(dxi, deta, pa)
        v = b / q
        r2 = a * a + v * v + R_SOFT**2
        w = angular_weights((a * a - v * v) / r2, 2.0 * a * v / r2, n, edge)
        return radial(jnp.sqrt(r2), law, weights=w)

    def initial_values(size):
        base = dict(law_cls.initial_values(size))
        out = {f"{k}_{j}": v for k, v in base.items() for j in range(n)}
        out.update({p.name: 1.0 for p in amps})
        return out

    words = "blended smoothly in angle (cos^2)" if kind == "rays" else "in wedges (steep edges)"
    type_name = f"{law_cls.TYPE_NAME}_{kind}{n}"
    doc = f"""{n} {law_cls.__name__} laws {words} about the centre.

    Parameters
    ----------
    x, y, flux : centre (arcsec) and total flux (image units).
    <name>_<k> : the parameters of :class:`{law_cls.__module__}.{law_cls.__name__}` for
        ray k = 0 .. {n - 1} (ray 0 along the major axis, ray k at k 180 / {n} deg).
    amp_<k> : brightness of ray k relative to ray 0 (k >= 1).
    q, pa : axis ratio and position angle (deg east of north) of the frame.

    Notes
    -----
    I = flux / (q T) sum_k w_k(theta) amp_k I_k(r), r the elliptical radius and theta
    the circularised angle; T = mean_k amp_k T_k, exact (:mod:`scenefit.models.rays`).

    Examples
    --------
    >>> from scenefit.io import model_class
    >>> model_class("{type_name}").param_names()[-3:]
    {tuple(p.name for p in (*amps[-1:], *SHAPE))!r}
    """
    _CLS = []
    cls = make_profile_class(
        law_cls.__name__ + class_suffix + str(n),
        __name__,
        (*POSITION, FLUX, *per_ray, *amps, *SHAPE),
        type_name,
        doc,
        {
            "LAW": law_cls,
            "ANGULAR": True,
            "N_RAYS": n,
            "EDGE": edge,
            "radial": staticmethod(radial),
            "total": staticmethod(total),
            "surface": staticmethod(surface),
            "size_index": staticmethod(law_cls.size_index),
            "initial_values": staticmethod(initial_values),
        },
    )
    _CLS.append(cls)
    return cls


#: a Sersic with separate major- and minor-axis profiles, registered as ``sersic_rays2``
SersicRays2 = rays(Sersic, 2)
#: an exponential in two wedges (major- and minor-axis quadrants): ``exponential_wedges2``
ExponentialWedges2 = wedges(Exponential, 2)
