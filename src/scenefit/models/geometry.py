"""Geometries: how tangent-plane offsets become the radius that a radial law sees.

A galaxy model is a geometry plus a radial law. Every law in :mod:`scenefit.models`
comes on the ellipse; a :class:`Geometry` replaces the ellipse by another family of
nested isophotes, and :func:`scenefit.models.with_geometry` composes it with any law
into a new concrete profile class (``gen_ellipse(Sersic)`` is ``SersicGenEllipse``).

A geometry is an immutable value with two pure array functions of its own parameters
``g`` (array (..., G), the columns named by ``PARAMS``):

* :meth:`Geometry.radius_uv` -- (u, v, g) -> r, a generalised major-axis radius in the
  circularised frame u = a, v = b / q (a, b the offsets along the major and minor axes;
  the ellipse is r = sqrt(u^2 + v^2)), positively homogeneous of degree 1:
  r(t u, t v) = t r; :meth:`Geometry.radius` maps tangent-plane offsets to (u, v);
* :meth:`Geometry.area` -- the area inside r = 1 divided by that of the ellipse, pi q.

Homogeneity makes the light inside the isophote r = R the same fraction of the total as
for the ellipse, so the law's radii keep their meaning (a Sersic r_e still encloses half
of the light, inside the generalised isophote), and the plane integral of the composed
profile is q * area(g) * total(law): ``flux`` stays the total flux.

The concrete geometries live in :mod:`.genellipse` (Imfit's generalised ellipse) and
:mod:`.fourier` (Fourier-mode perturbations); ``docs/geometries.md`` states the
conventions and what is tested.
"""

from __future__ import annotations

import abc

from ._base import ParamSpec
from ._ellipse import major_minor

__all__ = ["Geometry"]


class Geometry(abc.ABC):
    """Abstract geometry (concrete ones are frozen dataclasses: hashable values, so that
    equal geometries compose into the identical class)."""

    #: whether :meth:`radius` is positively homogeneous of degree 1 in the offsets (the
    #: exact core of the renderer needs it; the twist of :mod:`.twist` is not)
    homogeneous = True

    @property
    @abc.abstractmethod
    def params(self) -> tuple[ParamSpec, ...]:
        """The geometry's parameters, in column order of ``g`` (may depend on the value,
        e.g. the modes)."""

    @property
    @abc.abstractmethod
    def type_suffix(self) -> str:
        """Appended to the law's type name with an underscore (``"genellipse"``)."""

    @property
    @abc.abstractmethod
    def class_suffix(self) -> str:
        """Appended to the law's class name (``"GenEllipse"``)."""

    @abc.abstractmethod
    def radius_uv(self, u, v, g):
        """Generalised radius (arcsec) in the circularised frame.

        Parameters
        ----------
        u, v : array
            u = a, v = b / q (arcsec): a, b the offsets along the major and minor axes
            (:func:`~scenefit.models._ellipse.major_minor`); the ellipse is
            sqrt(u^2 + v^2).
        g : array (..., G)
            The geometry parameters.
        """

    def radius(self, dxi, deta, q, pa, g):
        """Generalised major-axis radius (arcsec) at tangent-plane offsets.

        Parameters
        ----------
        dxi, deta : array
            Offsets from the centre (arcsec; xi east, eta north).
        q : float
            Axis ratio b/a.
        pa : float
            Position angle of the major axis, degrees east of north.
        g : array (..., G)
            The geometry parameters.
        """
        a, b = major_minor(dxi, deta, pa)
        return self.radius_uv(a, b / q, g)

    @abc.abstractmethod
    def area(self, g):
        """Area inside the isophote r = 1 over that of the ellipse (pi q): array (...)."""

    def total(self, law_radial, law_total, law, g, **options):
        """Plane integral over q of the composed profile (arcsec^2 times the law's unit).

        ``law_total(law) * area(g)`` for a homogeneous geometry; a geometry whose
        isophotes change shape with radius (the warp of :mod:`.warp`) overrides it and
        integrates ``law_radial`` itself. ``options`` are the law's (e.g. Sersic's b_n
        rule).
        """
        return law_total(law, **options) * self.area(g)

    def initial_values(self, size: float | None = None) -> dict:
        """Starting values of the parameters for the initialiser (the ellipse); ``size``
        is the profile's measured half-light radius (arcsec), when known."""
        return {p.name: 0.0 for p in self.params}

    @abc.abstractmethod
    def describe(self) -> str:
        """A few lines for the composed class's docstring: the formula and conventions."""
