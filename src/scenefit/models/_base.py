"""Abstract component types.

A component is an immutable value whose fields are :class:`~scenefit.parameters.Param`.
Four abstract families exist, distinguished by how they are rendered:

* :class:`EllipticalProfile` -- a radial law on an elliptical geometry, pixel-integrated
  and convolved with the PSF (galaxies); its sub-family :class:`MixtureProfile` -- a
  law given as a sum of Gaussians -- is instead convolved analytically with a Gaussian
  mixture fitted to the PSF and drawn at image resolution (the fast path,
  ``docs/mixture.md``);
* :class:`PointLike` -- drawn as the PSF itself at a sub-pixel position (stars);
* :class:`SkyModel` -- per-image background, not convolved;
* :class:`PSFModel` -- the image's PSF given by a law with parameters (a "live" PSF,
  ``docs/psf_models.md``): drawn on the PSF grid inside the compiled program and used
  for every profile and point source instead of the image's fixed PSF.

Concrete classes are final; new models add a new class, not a subclass of a concrete one.
Each concrete class lists its parameters in ``PARAMS`` (name, unit, default lower
bound, default upper bound, description). The order of ``PARAMS`` is the column order of
the parameter arrays that the vectorised renderers receive.
"""

from __future__ import annotations

import abc
import dataclasses
from typing import ClassVar, NamedTuple

import jax.numpy as jnp

from ..parameters import Param, as_param
from ._ellipse import elliptical_radius

__all__ = [
    "ParamSpec",
    "Component",
    "EllipticalProfile",
    "MixtureProfile",
    "PointLike",
    "SkyModel",
    "PSFModel",
]


class ParamSpec(NamedTuple):
    """Description of one parameter of a component type."""

    name: str
    unit: str
    lo: float | None
    hi: float | None
    doc: str
    #: a typical value (listed by ``scenefit models``; used by examples and contract
    #: tests); never applied silently -- an unset parameter is filled by the initialiser
    default: float | None = None


POSITION = (
    ParamSpec("x", "arcsec", None, None, "tangent-plane xi (east) of the centre", 0.0),
    ParamSpec("y", "arcsec", None, None, "tangent-plane eta (north) of the centre", 0.0),
)
FLUX = ParamSpec("flux", "image units", None, None, "total flux (integral over the plane)", 1.0)
SHAPE = (
    ParamSpec("q", "", 0.02, 1.0, "axis ratio b/a", 0.7),
    ParamSpec("pa", "deg", None, None, "position angle of the major axis, east of north", 30.0),
)


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class Component(abc.ABC):
    """Abstract base of every model component."""

    PARAMS: ClassVar[tuple[ParamSpec, ...]] = ()
    TYPE_NAME: ClassVar[str] = ""

    name: str | None = None

    def __post_init__(self):
        for spec in self.PARAMS:
            raw = getattr(self, spec.name)
            object.__setattr__(self, spec.name, as_param(raw, spec.lo, spec.hi))
        if self.name is not None and not isinstance(self.name, str):
            raise TypeError(f"component name must be a string, got {self.name!r}")

    @classmethod
    def param_names(cls) -> tuple[str, ...]:
        """Names of the parameters, in array-column order."""
        return tuple(s.name for s in cls.PARAMS)

    def params(self) -> dict[str, Param]:
        """The parameters as an ordered ``{name: Param}`` dict."""
        return {s.name: getattr(self, s.name) for s in self.PARAMS}

    def replace(self, **changes) -> Component:
        """Return a copy with some fields replaced (numbers become Params)."""
        out = {}
        for k, v in changes.items():
            if k in self.param_names() and not isinstance(v, Param):
                v = getattr(self, k).with_value(v)
            out[k] = v
        return dataclasses.replace(self, **out)

    def __repr__(self) -> str:
        def fmt(p: Param) -> str:
            s = "None" if p.value is None else f"{p.value:.6g}"
            return s + ("(fixed)" if p.fixed else "")

        body = ", ".join(f"{k}={fmt(p)}" for k, p in self.params().items())
        label = f"name={self.name!r}, " if self.name else ""
        return f"{type(self).__name__}({label}{body})"


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class EllipticalProfile(Component):
    """A radial surface-brightness law on an elliptical (or generalised) geometry.

    Subclasses implement :meth:`radial` and :meth:`total` as pure array functions of the
    law's own parameters (those between ``flux`` and ``q`` in ``PARAMS``).
    The rendered surface brightness is

        I(xi, eta) = flux / (q * total(law)) * radial(r, law)

    where r = :meth:`radius` is the elliptical radius along the major axis (arcsec),
    r^2 = a^2 + (b / q)^2 with a, b the offsets along the major and minor axes.
    Classes composed with a non-elliptical geometry (:mod:`scenefit.models.geometry`)
    override :meth:`radius`, and their :meth:`total` includes the geometry's area
    factor, so ``flux`` stays the total flux.
    """

    #: the profile class this one was composed from (by a geometry or a truncation,
    #: :mod:`scenefit.models._compose`); None for a law on the plain ellipse
    LAW: ClassVar[type | None] = None
    #: the non-elliptical geometry (:class:`scenefit.models.geometry.Geometry`), or None
    GEOMETRY: ClassVar[object] = None
    #: whether the class has an axis ratio ``q`` (the column before ``pa``); a
    #: two-dimensional law without one (:class:`~scenefit.models.EdgeOnDisk`) has the
    #: layout ``[x, y, flux, *law, pa]``, is rendered with q = 1 in the amplitude and
    #: overrides :meth:`surface`
    HAS_Q: ClassVar[bool] = True
    #: whether the surface brightness depends on the angle about the centre through
    #: more than the radius (rays and wedges, :mod:`scenefit.models.rays`): the
    #: renderer then calls :meth:`surface`, which such a class overrides
    ANGULAR: ClassVar[bool] = False

    @classmethod
    def unpack(cls, prm):
        """``(law, q, pa)`` of a parameter row ``[x, y, flux, *law, (q,) pa]`` (array or
        sequence); q = 1.0 for a class without an axis ratio."""
        if cls.HAS_Q:
            return prm[3:-2], prm[-2], prm[-1]
        return prm[3:-1], 1.0, prm[-1]

    @classmethod
    def law_specs(cls) -> tuple[ParamSpec, ...]:
        """The law's ParamSpecs: those between ``flux`` and ``q`` (or ``pa``)."""
        return cls.unpack(cls.PARAMS)[0]

    @classmethod
    def surface(cls, dxi, deta, q, pa, law, radial=None):
        """Unit-amplitude surface brightness at tangent-plane offsets ``dxi, deta``
        (arcsec): ``radial(radius(...))`` for a radial law (``radial`` defaults to
        :meth:`radial`; a renderer passes the law with its options bound). A
        two-dimensional law (no axis ratio) overrides it; then :meth:`total` is its
        plane integral. (For radial laws the renderer calls :meth:`radius` and
        :meth:`radial` itself, the same values.)"""
        radial = cls.radial if radial is None else radial
        return radial(cls.radius(dxi, deta, q, pa, law), law)

    @staticmethod
    def radius(dxi, deta, q, pa, law):
        """Major-axis radius (arcsec) at tangent-plane offsets ``dxi, deta`` (arcsec)
        from the centre; ``law`` holds the law (and geometry) parameters. The ellipse
        (:func:`~scenefit.models._ellipse.elliptical_radius`) unless overridden."""
        return elliptical_radius(dxi, deta, q, pa)

    @staticmethod
    def initial_values(size: float) -> dict:
        """Starting values of parameters the initialiser cannot measure, for a profile
        of half-light radius ``size`` (arcsec): ``{name: value}`` (none by default)."""
        return {}

    @classmethod
    def root_law(cls) -> type:
        """The plain law this class is built on (itself for a plain law).

        Examples
        --------
        >>> from scenefit.models import Sersic
        >>> Sersic.root_law() is Sersic
        True
        """
        return cls if cls.LAW is None else cls.LAW.root_law()

    @staticmethod
    @abc.abstractmethod
    def radial(r, law):
        """Surface brightness at major-axis radius ``r`` (arcsec) for unit amplitude.

        ``law`` is an array (..., L) of the law parameters; ``r`` broadcasts against
        ``law[..., 0]``.
        """

    @staticmethod
    @abc.abstractmethod
    def total(law):
        """Integral of :meth:`radial` over the plane for q = 1, in arcsec^2."""

    @staticmethod
    def size_index() -> int:
        """Column (within the law parameters) of the characteristic radius."""
        return 0


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class MixtureProfile(EllipticalProfile):
    """An elliptical profile that is a sum of concentric Gaussians of one shape.

    Subclasses implement :meth:`mixture`; :meth:`radial` and :meth:`total` follow from
    it, so the profile is also a valid :class:`EllipticalProfile` (initialisation,
    extents and contract tests use them). The renderer does not integrate it on the
    grid: it adds each Gaussian's covariance to those of the PSF's Gaussian mixture and
    of the pixel (1/12 px^2 per axis) and evaluates the sum at pixel centres
    (:mod:`scenefit.render._mixture`).

        radial(r) = sum_j a_j exp(-r^2 / (2 sigma_j^2)) / (2 pi sigma_j^2),  total = 1
    """

    @staticmethod
    @abc.abstractmethod
    def mixture(law):
        """``(amp, sigma)``, arrays (..., J): the flux fraction of each Gaussian (summing
        to 1) and its standard deviation along the major axis (arcsec); the minor-axis
        one is q sigma."""

    @classmethod
    def radial(cls, r, law):
        amp, sigma = cls.mixture(law)
        r = jnp.asarray(r)[..., None]
        return jnp.sum(amp * jnp.exp(-0.5 * (r / sigma) ** 2) / (2 * jnp.pi * sigma**2), -1)

    @classmethod
    def total(cls, law):
        return jnp.ones_like(jnp.asarray(law, dtype=float)[..., 0])


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class PointLike(Component):
    """A point source drawn with the image's PSF."""


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class SkyModel(Component):
    """A background model, added to the image after PSF convolution."""

    @staticmethod
    @abc.abstractmethod
    def evaluate(params, dx, dy):
        """Sky in image units per pixel.

        ``params`` is (K, P); ``dx``, ``dy`` are pixel offsets from the image centre
        (H, W). Returns (H, W), summed over K.
        """

    @classmethod
    def evaluate_on(cls, params, dx, dy, shape):
        """:meth:`evaluate` for a sky that also needs the whole image's ``shape``
        (H, W) (``dx``, ``dy`` may cover a band of its rows): a grid of nodes spread
        over the image (:mod:`scenefit.models.sky_grid`). The renderer calls this."""
        return cls.evaluate(params, dx, dy)


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class PSFModel(Component):
    """A point-spread function given by a law with (possibly free) parameters.

    A scene holds at most one. The renderer then draws the PSF from the parameters
    inside the compiled program (:func:`scenefit.render.draw_psf_model`, normalised to
    unit sum on the grid) and convolves every profile and point source with it instead
    of the image's fixed PSF; the fitters get exact derivatives with respect to its
    parameters. The grid is the image's PSF grid (shape and oversampling of
    ``image.psf``, whose values are then ignored) or, for an image without a PSF,
    :data:`scenefit.render.DEFAULT_PSF_SHAPE` at the image's resolution. The PSF is
    centred on the centre of pixel ``(Ph // 2, Pw // 2)``, the :mod:`scenefit.psf`
    convention.

    A subclass is drawn in one of two ways (``DRAWN_FROM``):

    * ``"law"``: :meth:`evaluate` is the PSF as a function of tangent-plane offsets
      (arcsec), integrated over each PSF pixel by the renderer -- the PSF is a function
      on the sky, and the image's CD matrix (pixel scale, flips, shear) maps it to
      pixels;
    * ``"pupil"``: :meth:`pupil` is the aperture's complex transmission, and the PSF is
      the squared modulus of its Fourier transform (Fraunhofer diffraction), with
      :meth:`diffraction_scale` (lambda / D) setting the angular scale; pupil
      coordinates are fixed to the detector (u along image columns, v along rows).
    """

    #: how the renderer draws the PSF: "law" (:meth:`evaluate`) or "pupil" (:meth:`pupil`)
    DRAWN_FROM: ClassVar[str] = "law"

    @staticmethod
    def evaluate(dxi, deta, params):
        """PSF surface brightness (any normalisation) at offsets ``dxi, deta`` (arcsec)
        from its centre; ``params`` is an array (P,) in ``PARAMS`` order. Implemented
        by the ``"law"`` models."""
        raise NotImplementedError

    @staticmethod
    def pupil(u, v, du, params):
        """``(amplitude, phase)`` of the pupil at coordinates ``u, v`` in units of the
        aperture radius (the phase in waves), sampled on a regular grid of spacing
        ``du`` (for anti-aliasing the aperture's edges). Implemented by the ``"pupil"``
        models."""
        raise NotImplementedError

    @staticmethod
    def diffraction_scale(params):
        """Wavelength over aperture diameter (arcsec) of a ``"pupil"`` model."""
        raise NotImplementedError
