"""Compose a geometry with a radial law into a concrete profile class.

``with_geometry(Sersic, GEN_ELLIPSE)`` is the class ``SersicGenEllipse`` (type name
``sersic_genellipse``) with the parameters ``[x, y, flux, r_e, n, c0, q, pa]``: the
law's own parameters, then the geometry's, between ``flux`` and ``q``, so that the
renderer's column layout ``[x, y, flux, *law, q, pa]`` holds unchanged. The class is
made once per (law, geometry) pair and cached: equal pairs give the identical class, so
a :class:`~scenefit._layout.Layout` groups such components into one batch.
"""

from __future__ import annotations

from functools import cache

from ._base import FLUX, POSITION, SHAPE, EllipticalProfile
from ._factory import make_profile_class
from .geometry import Geometry

__all__ = ["with_geometry", "law_params", "check_law"]

_DOC = """{law} law on a non-elliptical geometry ({geom}).

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec; x east, y north).
    flux : float or Param
        Total flux (image units), including the geometry's area factor.
    {law_names} : float or Param
        The parameters of :class:`{law_mod}.{law}` (same units and meaning; radii along
        the major axis, measured with the generalised radius below).
    {geom_names} : float or Param
        The geometry's parameters.
    q, pa : float or Param
        Axis ratio b/a and position angle (deg east of north) of the major axis.

    Notes
    -----
    {describe}

    I(xi, eta) = flux / (q total) radial(r(xi, eta)), total = the geometry's total
    (area factor x the law's plane integral; a warp integrates it), so ``flux`` is the
    total flux. Rendered by nested refinement near
    the centre (the exact elliptical core does not apply). Conventions and tests:
    ``docs/geometries.md``.

    Examples
    --------
    >>> from scenefit.io import model_class
    >>> model_class("{type_name}").param_names()[3:]
    {tail}
    """


def check_law(law_cls, what: str) -> None:
    """Raise ``TypeError`` unless ``law_cls`` is a concrete elliptical profile class
    without a geometry of its own (``what`` names the caller for the message)."""
    if not (isinstance(law_cls, type) and issubclass(law_cls, EllipticalProfile)):
        raise TypeError(f"{what} needs an elliptical profile class such as Sersic, got {law_cls!r}")
    if not law_cls.HAS_Q:
        raise TypeError(
            f"{what} needs a radial law; {law_cls.__name__} is a two-dimensional law "
            "without an axis ratio (it takes no geometry or truncation)"
        )
    if law_cls.ANGULAR:
        raise TypeError(
            f"{what}: {law_cls.__name__} blends several laws in angle (rays or wedges); "
            "compose the geometry or truncation with the law before making rays of it"
        )
    if law_cls.GEOMETRY is not None:
        raise TypeError(
            f"{what}: {law_cls.__name__} already has a geometry ({law_cls.GEOMETRY!r}); "
            "compose the geometry with the plain (or truncated) law instead"
        )


def law_params(cls) -> tuple:
    """The law's ParamSpecs of a profile class: those between ``flux`` and ``q``."""
    return tuple(cls.law_specs())


def with_geometry(law_cls: type, geometry: Geometry) -> type:
    """The profile class of ``law_cls``'s radial law on ``geometry`` (cached).

    Parameters
    ----------
    law_cls : EllipticalProfile subclass
        Any profile class on the plain ellipse (a truncated law too), not one that
        already has a geometry.
    geometry : Geometry
        E.g. :data:`~scenefit.models.genellipse.GEN_ELLIPSE` or
        ``FourierModes((1, 3, 4))``.

    Returns
    -------
    type
        A concrete :class:`EllipticalProfile` named ``<Law><Geometry>`` with type name
        ``<law>_<geometry>`` and parameters ``[x, y, flux, *law, *geometry, q, pa]``.

    Examples
    --------
    >>> from scenefit.models import Exponential
    >>> from scenefit.models.genellipse import GEN_ELLIPSE
    >>> with_geometry(Exponential, GEN_ELLIPSE).param_names()
    ('x', 'y', 'flux', 'h', 'c0', 'q', 'pa')
    """
    check_law(law_cls, "with_geometry")
    if not isinstance(geometry, Geometry):
        raise TypeError(f"with_geometry needs a Geometry value, got {geometry!r}")
    return _compose(law_cls, geometry)


@cache
def _compose(law_cls, geometry):
    """:func:`with_geometry` after its checks (positional: one cache entry per pair)."""
    laws = law_params(law_cls)
    geo = geometry.params
    clash = {p.name for p in laws} & {p.name for p in geo}
    if clash:  # pragma: no cover - no law uses the geometry's names today
        raise ValueError(f"{law_cls.__name__} and {geometry!r} both define {sorted(clash)}")
    n_law = len(laws)
    law_radial, law_total = law_cls.radial, law_cls.total

    def radial(r, law, **options):
        return law_radial(r, law[..., :n_law], **options)

    def total(law, **options):
        return geometry.total(law_radial, law_total, law[..., :n_law], law[..., n_law:], **options)

    def radius(dxi, deta, q, pa, law):
        return geometry.radius(dxi, deta, q, pa, law[..., n_law:])

    def initial_values(size):
        return {**law_cls.initial_values(size), **geometry.initial_values(size)}

    type_name = f"{law_cls.TYPE_NAME}_{geometry.type_suffix}"
    doc = _DOC.format(
        law=law_cls.__name__,
        law_mod=law_cls.__module__,
        geom=type(geometry).__name__,
        law_names=", ".join(p.name for p in laws),
        geom_names=", ".join(p.name for p in geo),
        describe=geometry.describe(),
        type_name=type_name,
        tail=repr(tuple(p.name for p in (*laws, *geo, *SHAPE))),
    )
    return make_profile_class(
        law_cls.__name__ + geometry.class_suffix,
        __name__,
        (*POSITION, FLUX, *laws, *geo, *SHAPE),
        type_name,
        doc,
        {
            "LAW": law_cls,
            "GEOMETRY": geometry,
            "radial": staticmethod(radial),
            "total": staticmethod(total),
            "radius": staticmethod(radius),
            "size_index": staticmethod(law_cls.size_index),
            "initial_values": staticmethod(initial_values),
        },
    )
