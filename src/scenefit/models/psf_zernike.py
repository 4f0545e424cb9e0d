"""A diffraction PSF with Zernike aberrations (a live PSF, ``docs/psf_models.md``).

The pupil is a circular aperture (optionally with a central obscuration) carrying a
wavefront error W(u, v) = sum_j z_j Z_j(u, v) in waves, with Z_j the Zernike
polynomials in Noll's (1976) numbering and normalisation (each has unit RMS over the
unit disk, so z_j is the RMS wavefront error of that term):

=====  ===========================  ===========================
 j      Z_j (rho, theta)            name
=====  ===========================  ===========================
 4      sqrt(3) (2 rho^2 - 1)       defocus
 5      sqrt(6) rho^2 sin 2 theta   oblique astigmatism
 6      sqrt(6) rho^2 cos 2 theta   vertical astigmatism
 7      sqrt(8) (3 rho^3 - 2 rho) sin theta   vertical coma
 8      sqrt(8) (3 rho^3 - 2 rho) cos theta   horizontal coma
 9      sqrt(8) rho^3 sin 3 theta   vertical trefoil
 10     sqrt(8) rho^3 cos 3 theta   oblique trefoil
 11     sqrt(5) (6 rho^4 - 6 rho^2 + 1)       primary spherical
=====  ===========================  ===========================

Piston (j = 1) does nothing and tip/tilt (j = 2, 3) only move the PSF, which the
sources' positions already do; they are left out. The PSF is
|FT[A exp(2 pi i W)]|^2 (Fraunhofer), drawn by :func:`scenefit.render.draw_psf_model`.
"""

from __future__ import annotations

import dataclasses
import math

import jax.numpy as jnp

from ._base import ParamSpec, PSFModel

__all__ = ["ZernikePSF", "NOLL_TERMS"]

#: Noll indices of the aberration parameters ``z4 .. z11``
NOLL_TERMS = (4, 5, 6, 7, 8, 9, 10, 11)
_NAMES = {
    4: "defocus",
    5: "oblique astigmatism",
    6: "vertical astigmatism",
    7: "vertical coma",
    8: "horizontal coma",
    9: "vertical trefoil",
    10: "oblique trefoil",
    11: "primary spherical",
}


def zernike_terms(u, v):
    """The Noll Zernike polynomials Z_4 .. Z_11 at pupil coordinates ``u, v`` (units of
    the aperture radius, theta measured from +u towards +v), stacked on a last axis."""
    r2 = u * u + v * v
    s3, s5, s6, s8 = math.sqrt(3), math.sqrt(5), math.sqrt(6), math.sqrt(8)
    coma = 3.0 * r2 - 2.0
    return jnp.stack(
        [
            s3 * (2.0 * r2 - 1.0),
            s6 * 2.0 * u * v,
            s6 * (u * u - v * v),
            s8 * coma * v,
            s8 * coma * u,
            s8 * (3.0 * u * u * v - v**3),
            s8 * (u**3 - 3.0 * u * v * v),
            s5 * (6.0 * r2 * r2 - 6.0 * r2 + 1.0),
        ],
        axis=-1,
    )


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class ZernikePSF(PSFModel):
    """Diffraction-limited PSF of a circular aperture with low-order Zernike aberrations.

    Parameters
    ----------
    lambda_over_d : wavelength over aperture diameter (arcsec): with no aberration and
        no obscuration, the Airy pattern (:class:`AiryPSF`);
    obscuration : central obscuration, as a fraction of the aperture radius (usually
        fixed);
    z4 .. z11 : RMS wavefront error (waves) of Noll terms 4 (defocus) to 11 (spherical),
        in detector axes (u along image columns, v along rows).

    Notes
    -----
    The aperture edge is anti-aliased over one pupil sample (the transmission of a
    sample falls linearly from 1 to 0 across the edge), so the PSF is smooth in the
    obscuration. With small aberrations the peak falls as the Strehl ratio, about
    exp(-(2 pi sigma)^2) for an RMS error sigma (Marechal).

    Examples
    --------
    >>> ZernikePSF(lambda_over_d=1.5, obscuration=0.0, z4=0.1, z5=0, z6=0, z7=0, z8=0,
    ...            z9=0, z10=0, z11=0).z4.value
    0.1
    """

    PARAMS = (
        ParamSpec("lambda_over_d", "arcsec", 0.0, None, "wavelength / aperture diameter", 1.5),
        ParamSpec("obscuration", "", 0.0, 0.95, "central obscuration / aperture radius", 0.0),
        *(
            ParamSpec(f"z{j}", "waves", None, None, f"RMS {_NAMES[j]} (Noll {j})", 0.0)
            for j in NOLL_TERMS
        ),
    )
    TYPE_NAME = "zernike_psf"
    DRAWN_FROM = "pupil"

    lambda_over_d: object = None
    obscuration: object = None
    z4: object = None
    z5: object = None
    z6: object = None
    z7: object = None
    z8: object = None
    z9: object = None
    z10: object = None
    z11: object = None

    @staticmethod
    def pupil(u, v, du, params):
        r = jnp.sqrt(u * u + v * v)
        outer = jnp.clip((1.0 - r) / du + 0.5, 0.0, 1.0)
        inner = jnp.clip((r - params[1]) / du + 0.5, 0.0, 1.0)
        phase = zernike_terms(u, v) @ params[2:]
        return outer * inner, phase

    @staticmethod
    def diffraction_scale(params):
        return params[0]
