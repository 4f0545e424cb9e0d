"""The one table from model-type names to component classes.

Strings meet types here and nowhere else: configuration files, scene files and the
command line name a component type (``"sersic"``), and :func:`model_class` turns the
name into the class (:class:`~scenefit.models.Sersic`). Names are the classes'
``TYPE_NAME`` and are matched case-insensitively. Laws with a static size also accept
any size by name: ``mge<K>`` (K Gaussians) and ``spline<N>`` / ``spline<N>_zero``
(N nodes), built by :func:`~scenefit.models.multi_gaussian` and
:func:`~scenefit.models.spline_profile`, ``sky_grid<ny>x<nx>[_bicubic]`` (a sky on
ny x nx nodes, :func:`~scenefit.models.sky_grid`) and ``mixture_psf<K>`` (a PSF of K
Gaussians, :func:`~scenefit.models.mixture_psf`). Any elliptical profile's name takes suffixes
for a truncation and then a geometry (``docs/geometries.md``):
``<law>_trunc`` / ``_trunc_in`` / ``_trunc_inout`` (:func:`~scenefit.models.truncated`),
``<law>_genellipse`` (:func:`~scenefit.models.gen_ellipse`) and
``<law>_fourier<m>[_<m>...]`` (:func:`~scenefit.models.fourier_modes`),
``<law>_twist``, ``<law>_warp<K>`` (:func:`~scenefit.models.warped`), or instead of a
geometry ``<law>_rays<N>`` / ``<law>_wedges<N>`` (:func:`~scenefit.models.rays`,
:func:`~scenefit.models.wedges`), e.g. ``sersic_trunc_genellipse``,
``exponential_fourier1_3`` or ``moffat_rays3``.
"""

from __future__ import annotations

import re

from ..models import (
    MODEL_TYPES,
    EllipticalProfile,
    fourier_modes,
    gen_ellipse,
    mixture_psf,
    multi_gaussian,
    rays,
    sky_grid,
    spline_profile,
    truncated,
    twisted,
    warped,
    wedges,
)

__all__ = ["MODEL_REGISTRY", "model_class", "describe_models"]

#: ``{type name: component class}`` for every concrete component type, in the order of
#: :data:`scenefit.models.MODEL_TYPES`.
MODEL_REGISTRY: dict[str, type] = {cls.TYPE_NAME: cls for cls in MODEL_TYPES}


def model_class(name: str) -> type:
    """The component class registered under ``name`` (case-insensitive).

    Parameters
    ----------
    name : str
        A type name such as ``"sersic"`` or ``"flat_sky"``.

    Returns
    -------
    type
        A concrete :class:`~scenefit.models.Component` subclass.

    Raises
    ------
    TypeError
        If ``name`` is not a string.
    ValueError
        If no type has that name; the message lists the valid names.

    Examples
    --------
    >>> model_class("Sersic").__name__
    'Sersic'
    """
    if not isinstance(name, str):
        raise TypeError(f"a model type name must be a string, got {name!r}")
    key = name.strip().lower()
    cls = MODEL_REGISTRY.get(key) or _sized_class(key)
    if cls is None:
        raise ValueError(
            f"unknown model type {name!r}; valid types are {', '.join(MODEL_REGISTRY)}"
            " (and mge<K>, spline<N>, spline<N>_zero, sky_grid<ny>x<nx>[_bicubic],"
            " mixture_psf<K> for"
            " other sizes; <profile>_trunc,"
            " _trunc_in, _trunc_inout, then _genellipse, _twist, _warp<K>, _fourier<m>[_<m>...],"
            " _rays<N> or _wedges<N> for truncations, geometries, rays and wedges)"
        )
    return cls


def _sized_class(key: str) -> type | None:
    """``mge<K>`` / ``spline<N>`` / ``spline<N>_zero`` -> the class of that size; a
    profile name with a truncation and/or geometry suffix -> the composed class."""
    composed = _composed_class(key)
    if composed is not None:
        return composed
    m = re.fullmatch(r"mge(\d+)", key)
    if m:
        return multi_gaussian(int(m.group(1)))
    m = re.fullmatch(r"spline(\d+)(_zero)?", key)
    if m:
        return spline_profile(int(m.group(1)), "zero" if m.group(2) else "loglinear")
    m = re.fullmatch(r"mixture_psf(\d+)", key)
    if m:
        return mixture_psf(int(m.group(1)))
    m = re.fullmatch(r"sky_grid(\d+)x(\d+)(_bicubic)?", key)
    if m:
        return sky_grid(int(m.group(1)), int(m.group(2)), "bicubic" if m.group(3) else "bilinear")
    return None


_GEOMETRY_SUFFIX = re.compile(
    r"(.+)_(genellipse|twist|warp(\d+)|fourier(\d+(?:_\d+)*)|(rays|wedges)(\d+))"
)
_TRUNCATION_SUFFIX = re.compile(r"(.+)_trunc(_in|_inout)?")


def _composed_class(key: str) -> type | None:
    """``<law>[_trunc[_in|_inout]][_genellipse|_twist|_warp<K>|_fourier<m>[_<m>...]|
    _rays<N>|_wedges<N>]`` -> its class, or
    None if ``key`` has no such suffix (or names no elliptical profile before it)."""
    geometry = None
    m = _GEOMETRY_SUFFIX.fullmatch(key)
    if m:
        key, geometry = m.group(1), m.group(2)
    trunc = None
    t = _TRUNCATION_SUFFIX.fullmatch(key)
    if t:
        key, trunc = t.group(1), t.group(2) or ""
    if geometry is None and trunc is None:
        return None
    law = MODEL_REGISTRY.get(key) or _sized_class(key)
    if law is None or not issubclass(law, EllipticalProfile) or law.LAW is not None:
        return None
    if not law.HAS_Q:  # a two-dimensional law (edge-on disk): no geometry, no truncation
        return None
    if trunc is not None:
        law = truncated(law, inner=trunc != "", outer=trunc != "_in")
    if geometry == "genellipse":
        return gen_ellipse(law)
    if geometry == "twist":
        return twisted(law)
    if geometry is None:
        return law
    try:
        if m.group(3):
            return warped(law, int(m.group(3)))
        if m.group(5):
            return (rays if m.group(5) == "rays" else wedges)(law, int(m.group(6)))
        return fourier_modes(law, tuple(int(v) for v in m.group(4).split("_")))
    except ValueError:
        return None
    return law


def describe_models() -> list[dict]:
    """Plain-data description of every model type (for ``scenefit models``).

    Returns
    -------
    list of dict
        One dict per type, in registry order, with keys ``name`` (type name),
        ``class`` (class name), ``doc`` (first line of the class docstring) and
        ``params``: a list of ``{"name", "unit", "default", "lo", "hi", "doc"}`` dicts
        giving each parameter's unit, typical value (``default``, not applied
        automatically) and default bounds (``None`` for none). Only strings,
        floats and None appear, so the result can be dumped to JSON as it is.

    Examples
    --------
    >>> d = describe_models()[0]
    >>> d["name"], [p["name"] for p in d["params"]][:3]
    ('sersic', ['x', 'y', 'flux'])
    """
    out = []
    for name, cls in MODEL_REGISTRY.items():
        doc = (cls.__doc__ or "").strip().splitlines()
        out.append(
            {
                "name": name,
                "class": cls.__name__,
                "doc": doc[0].strip() if doc else "",
                "params": [
                    {
                        "name": s.name,
                        "unit": s.unit,
                        "default": None if s.default is None else float(s.default),
                        "lo": None if s.lo is None else float(s.lo),
                        "hi": None if s.hi is None else float(s.hi),
                        "doc": s.doc,
                    }
                    for s in cls.PARAMS
                ],
            }
        )
    return out
