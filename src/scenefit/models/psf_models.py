"""Analytic PSF laws with parameters (live PSFs, ``docs/psf_models.md``): circular
Gaussian, Moffat and Airy.

Each is a :class:`~scenefit.models.PSFModel`: put one in a Scene and the renderer
draws the image's PSF from it (pixel-integrated on the PSF grid, normalised to unit
sum) inside the compiled program, so its parameters can be fitted or sampled with
the sources. Widths are on the sky (arcsec); the image's CD matrix maps them to pixels.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from ._base import ParamSpec, PSFModel
from ._bessel import j1_over_x
from .moffat import moffat_alpha

__all__ = ["GaussianPSF", "MoffatPSF", "AiryPSF", "AIRY_FIRST_ZERO", "AIRY_FWHM"]

#: first zero of J1 over pi: the first dark ring of the Airy pattern is at
#: 1.21967 lambda / D
AIRY_FIRST_ZERO = 3.8317059702075125 / math.pi
#: FWHM of the Airy pattern in units of lambda / D
AIRY_FWHM = 1.0289939
#: FWHM / sigma of a Gaussian, 2 sqrt(2 ln 2)
GAUSSIAN_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

_FWHM = ParamSpec("fwhm", "arcsec", 0.0, None, "full width at half maximum of the PSF", 3.0)


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class GaussianPSF(PSFModel):
    """Circular Gaussian PSF: P(r) proportional to exp(-r^2 / (2 sigma^2)).

    Parameters
    ----------
    fwhm : full width at half maximum (arcsec), fwhm = 2 sqrt(2 ln 2) sigma.

    Examples
    --------
    >>> GaussianPSF(fwhm=2.5).fwhm.value
    2.5
    """

    PARAMS = (_FWHM,)
    TYPE_NAME = "gaussian_psf"

    fwhm: object = None

    @staticmethod
    def evaluate(dxi, deta, params):
        sigma = params[0] / GAUSSIAN_FWHM_PER_SIGMA
        return jnp.exp(-0.5 * (dxi * dxi + deta * deta) / (sigma * sigma))


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class MoffatPSF(PSFModel):
    """Circular Moffat (1969) PSF: P(r) proportional to [1 + (r / alpha)^2]^(-beta).

    Parameters
    ----------
    fwhm : full width at half maximum (arcsec), alpha = fwhm / (2 sqrt(2^(1/beta) - 1));
    beta : power-law index of the wings (larger: closer to a Gaussian).

    Examples
    --------
    >>> MoffatPSF(fwhm=3.0, beta=2.5).beta.value
    2.5
    """

    PARAMS = (_FWHM, ParamSpec("beta", "", 1.01, 30.0, "power-law index of the wings", 3.0))
    TYPE_NAME = "moffat_psf"

    fwhm: object = None
    beta: object = None

    @staticmethod
    def evaluate(dxi, deta, params):
        alpha = moffat_alpha(params[0], params[1])
        return jnp.power(1.0 + (dxi * dxi + deta * deta) / (alpha * alpha), -params[1])


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class AiryPSF(PSFModel):
    """Airy pattern: the diffraction-limited PSF of an unobstructed circular aperture.

    P(r) is proportional to [2 J1(v) / v]^2, v = pi r / (lambda / D). The first dark
    ring is at r = 1.21967 lambda / D (:data:`AIRY_FIRST_ZERO`), the FWHM is
    1.02899 lambda / D (:data:`AIRY_FWHM`). J1 comes from
    :func:`scenefit.models._bessel.j1_over_x` (within 2e-12 of SciPy's, smooth).

    Parameters
    ----------
    lambda_over_d : wavelength over aperture diameter, as an angle (arcsec).

    Examples
    --------
    >>> AiryPSF(lambda_over_d=1.2).lambda_over_d.value
    1.2
    """

    PARAMS = (
        ParamSpec("lambda_over_d", "arcsec", 0.0, None, "wavelength / aperture diameter", 1.5),
    )
    TYPE_NAME = "airy_psf"

    lambda_over_d: object = None

    @staticmethod
    def evaluate(dxi, deta, params):
        v = jnp.pi * jnp.sqrt(dxi * dxi + deta * deta) / params[0]
        return (2.0 * j1_over_x(v)) ** 2
