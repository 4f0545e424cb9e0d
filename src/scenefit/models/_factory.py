"""Build a concrete profile class whose parameter list depends on a static size.

Laws with a fixed number of terms (K Gaussians, N spline nodes) are one class per size:
the size is static (array shapes, compilation), so it belongs to the type, not to the
values. :func:`make_profile_class` creates such a final class once per size; callers
cache it so that equal sizes give the identical class (the renderer groups by class).
"""

from __future__ import annotations

import dataclasses
import sys

from ._base import EllipticalProfile

__all__ = ["make_profile_class"]


def make_profile_class(name, module, params, type_name, doc, namespace, base=EllipticalProfile):
    """A frozen, keyword-only :class:`EllipticalProfile` dataclass named ``name``.

    Parameters
    ----------
    name : str
        Class name; also bound in ``module`` so instances pickle.
    module : str
        Module name the class claims (``__module__``).
    params : tuple of ParamSpec
        The full ``PARAMS`` (position, flux, law, shape).
    type_name : str
        Registry name (``TYPE_NAME``).
    doc : str
        Class docstring.
    namespace : dict
        Class attributes: ``radial``, ``total`` (staticmethods) and any constants.
    base : type
        The abstract family (default :class:`EllipticalProfile`; a sky grid passes
        :class:`~scenefit.models.SkyModel`).
    """
    fields = [(p.name, object, dataclasses.field(default=None)) for p in params]
    body = dict(namespace, PARAMS=tuple(params), TYPE_NAME=type_name, __doc__=doc)
    cls = dataclasses.make_dataclass(
        name,
        fields,
        bases=(base,),
        namespace=body,
        frozen=True,
        repr=False,
        kw_only=True,
    )
    cls.__module__ = module
    setattr(sys.modules[module], name, cls)
    return cls
