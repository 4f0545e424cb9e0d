"""The pixel -> tangent-plane map of the renderer's ``geom`` tuple, with SIP.

``geom`` is ``(cd, crpix, ref_sky)`` (affine) or ``(cd, crpix, ref_sky, sip)`` with
``sip`` the coefficient arrays of :meth:`scenefit.sip.SIP.as_inputs` (traced inputs of
the renderer). With SIP, a sample point's tangent-plane position comes from the full
map and its area weight is the Jacobian determinant of the distortion; the PSF stays
in pixel space (convolution on the pixel grid: the PSF is taken as constant in pixels
over the image, and a star's flux is its pixel sum).
"""

from __future__ import annotations

from types import SimpleNamespace

import jax.numpy as jnp

from ..sip import SIP

__all__ = ["has_sip", "sky_of_pixels", "area_factor", "pixel_of_sky", "local_affine"]


def has_sip(geom) -> bool:
    return len(geom) > 3 and geom[3] is not None


def _coeffs(geom):
    return SimpleNamespace(**geom[3])


def sky_of_pixels(geom, X, Y):
    """Tangent-plane (xi, eta) in arcsec of 0-based pixel points (X, Y) (arrays)."""
    cd, crpix, ref = geom[:3]
    if has_sip(geom):
        X, Y = SIP.distort(_coeffs(geom), X, Y, jnp)
    xi = ref[0] + cd[0, 0] * (X - crpix[0]) + cd[0, 1] * (Y - crpix[1])
    eta = ref[1] + cd[1, 0] * (X - crpix[0]) + cd[1, 1] * (Y - crpix[1])
    return xi, eta


def area_factor(geom, X, Y):
    """|det J| of the distortion at (X, Y) (multiplies |det cd| for the area)."""
    return jnp.abs(SIP.jacobian_det(_coeffs(geom), X, Y, jnp))


def pixel_of_sky(geom, sky):
    """0-based pixel (2,) of the tangent-plane point ``sky`` (2,) (differentiable)."""
    cd, crpix, ref = geom[:3]
    pc = crpix + jnp.linalg.solve(cd, sky - ref)
    if not has_sip(geom):
        return pc
    x, y = SIP.undistort(_coeffs(geom), pc[0], pc[1], jnp, newton=3)
    return jnp.stack([x, y])


def local_affine(geom, sky):
    """The affine ``(cd, crpix, ref)`` tangent to the map at the pixel of ``sky``
    (Gaussian-mixture profiles are rendered through it)."""
    if not has_sip(geom):
        return geom[:3]
    cd = geom[0]
    pc = pixel_of_sky(geom, sky)
    c = _coeffs(geom)
    u, v = pc[0] - c.origin[0], pc[1] - c.origin[1]
    from ..sip import _poly_grad

    au, av = _poly_grad(c.a, u, v, jnp)
    bu, bv = _poly_grad(c.b, u, v, jnp)
    jac = jnp.array([[1.0 + au, av], [bu, 1.0 + bv]])
    return (cd @ jac, pc, sky)
