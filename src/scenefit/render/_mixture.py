"""Gaussian-mixture profiles at image resolution: analytic PSF convolution and a
second-order pixel integration (pure, jit-friendly).

A profile sum_j a_j N(mu, S_j) (:class:`~scenefit.models.MixtureProfile`, covariances
S_j in image pixels^2 from the tangent-plane ones through the CD matrix) convolved with
a PSF sum_k w_k N(m, P_k) (:func:`._psf_mixture.fit_psf_mixture`) is
sum_jk a_j w_k N(mu + m, S_j + P_k). Integrating over a pixel, a unit box whose
cumulants per axis are 1/12 (variance), -1/120 (fourth), 1/252 (sixth), ..., is to
second order adding I/12 to every covariance and sampling at the pixel centre. With
g = N(S + I/12) (the axes of the box are independent, so there are no mixed cumulants):

    pixel(x) = int_box f = exp(-(d_x^4 + d_y^4) / 2880 + ...) g(x)
             = g(x) - (g_xxxx + g_yyyy) / 2880 + O(d^6 / 181440)

For a round Gaussian of total variance s^2 (px^2) the error at its centre is
-1/(480 s^4) of its peak: 2.1e-3 for s = 1 px, 3.8e-4 for a PSF of sigma 1.5 px
(s^2 = 2.25 + 1/12). ``order=4`` (``RenderSettings.mixture_pixel_order``) keeps the
fourth-cumulant term, g_xxxx = g (u_x^4 - 6 L_xx u_x^2 + 3 L_xx^2) with L = (S + I/12)^-1
and u = L (x - mu); the error is then the sixth cumulant's, 1/181440 (d_x^6 + d_y^6) g,
about 1.7e-4 / s^6 of the peak. ``tests/test_mixture.py`` checks both against exact
(erf) pixel integrals; ``docs/mixture.md`` has the measured image errors.

Each Gaussian is divided by the sum of its pixel values over the infinite grid
(:func:`sample_sum`, analytic), which is 1 to 1e-8 with a PSF of sigma >= 0.7 px and
keeps the flux exact without one, where Gaussians narrower than a pixel are sampled
too coarsely (their shape is then only approximate: ``docs/mixture.md``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._integrate import linearize_group
from ._pixmap import local_affine

__all__ = [
    "NO_PSF",
    "mixture_image",
    "sample_sum",
    "render_mixture_group",
    "mixture_group_jacobian",
]

#: the "PSF mixture" of an image without a PSF: one Gaussian of zero width
NO_PSF = np.array([[1.0, 0.0, 0.0, 0.0, 0.0, 0.0]])

#: variance of a unit pixel (a box of width 1) along each axis, pixels^2
PIXEL_VARIANCE = 1.0 / 12.0

#: Gaussians per unrolled loop step (measured fastest on CPU)
UNROLL = 8


def mixture_image(law_cls, prm, shape, geom, psf_mix, order=2, box=None):
    """One mixture profile, PSF-convolved and pixel-integrated, on the image pixels.

    Parameters
    ----------
    law_cls : MixtureProfile subclass
    prm : array (P,)
        ``[x, y, flux, *law, q, pa]`` (arcsec, image units, deg).
    shape : (H, W)
        Image shape; pixel centres at 0..W-1 (x) and 0..H-1 (y).
    geom : (cd (2, 2), crpix (2,), ref_sky (2,))
        The image's pixel -> tangent-plane map (arcsec per pixel).
    psf_mix : array (K, 6)
        Rows [w, dx, dy, cov_xx, cov_xy, cov_yy] in image pixels (a common centre
        (dx, dy): row 0's is used); :data:`NO_PSF` without a PSF.
    order : {2, 4}
        Order of the pixel-integration rule (module docstring).
    box : (size, dx, dy), optional
        CMOS pixels (:class:`~scenefit.cmos.CMOS`): integrate over the sensitive square
        of side ``size`` centred at (dx, dy) from each pixel centre instead of the whole
        pixel (its cumulants scale as size^2 and size^4; the value is not renormalised).

    Returns
    -------
    array (H, W)
        Flux per pixel, image units.
    """
    cd, crpix, ref = local_affine(geom, prm[:2])  # SIP: the map tangent at the centre
    a, ox, oy = (1.0, 0.0, 0.0) if box is None else box
    var = PIXEL_VARIANCE * a * a
    flux, law, q, pa = prm[2], prm[3:-2], prm[-2], prm[-1]
    amp, sigma = law_cls.mixture(law)  # (J,), arcsec
    inv = jnp.linalg.inv(cd)
    centre = crpix + inv @ (prm[:2] - ref) + psf_mix[0, 1:3]
    t = jnp.deg2rad(pa)
    major = jnp.stack([jnp.sin(t), jnp.cos(t)])  # (xi, eta) of the major axis
    minor = jnp.stack([jnp.cos(t), -jnp.sin(t)])
    unit = jnp.outer(major, major) + q**2 * jnp.outer(minor, minor)  # sigma = 1 arcsec
    unit = inv @ unit @ inv.T  # pixels^2 per arcsec^2
    # (J, K) total covariances [xx, xy, yy]
    cxx = sigma[:, None] ** 2 * unit[0, 0] + psf_mix[None, :, 3] + var
    cxy = sigma[:, None] ** 2 * unit[0, 1] + psf_mix[None, :, 4]
    cyy = sigma[:, None] ** 2 * unit[1, 1] + psf_mix[None, :, 5] + var
    det = cxx * cyy - cxy**2
    norm = flux * amp[:, None] * psf_mix[None, :, 0] / (2 * jnp.pi * jnp.sqrt(det))
    centre = centre - jnp.array([ox, oy])  # pixels sample at centre + offset
    norm = (a * a * norm / sample_sum(cxx, cxy, cyy, centre, order, a)).ravel()
    # precision entries, halved: exp(-(pxx dx^2 + 2 pxy dx dy + pyy dy^2) / 2)
    pxx, pxy, pyy = (v.ravel() for v in (-0.5 * cyy / det, cxy / det, -0.5 * cxx / det))
    h, w = shape
    dx = jnp.arange(w, dtype=float) - centre[0]
    dy = jnp.arange(h, dtype=float) - centre[1]
    xx, xy, yy = dx[None, :] ** 2, dy[:, None] * dx[None, :], dy[:, None] ** 2

    # one Gaussian per step (each step one fused pass over the pixels; a broadcast
    # over all J K at once is several times slower on CPU)
    def add(i, acc):
        g = jnp.exp(pxx[i] * xx + pxy[i] * xy + pyy[i] * yy)
        if order == 4:  # minus (g_xxxx + g_yyyy) / 2880; L = (-2 pxx, -pxy, -2 pyy)
            lxx, lxy, lyy = -2.0 * pxx[i], -pxy[i], -2.0 * pyy[i]
            ux = lxx * dx[None, :] + lxy * dy[:, None]
            uy = lxy * dx[None, :] + lyy * dy[:, None]
            ux2, uy2 = ux * ux, uy * uy
            h4 = ux2 * (ux2 - 6.0 * lxx) + uy2 * (uy2 - 6.0 * lyy) + 3.0 * (lxx**2 + lyy**2)
            g = g * (1.0 - a**4 * h4 / 2880.0)
        return acc + norm[i] * g

    return jax.lax.fori_loop(0, norm.shape[0], add, jnp.zeros(shape), unroll=UNROLL)


def sample_sum(cxx, cxy, cyy, centre, order=2, size=1.0):
    """Sum over the infinite pixel grid of the pixel rule's values of a unit-flux
    Gaussian N(centre, C) (Poisson summation):

        sum_k ghat(k) cos(2 pi k . centre),  ghat(k) = exp(-2 pi^2 k^T C k),

    k over the integer vectors with |k_x|, |k_y| <= 3 (the rest is below 4e-7 for
    C >= I / 12); with ``order=4`` ghat(k) also has the factor
    1 - (2 pi)^4 (k_x^4 + k_y^4) / 2880. 1 to 1e-8 once C >= 0.6 I px^2 (a PSF of
    sigma >= 0.7 px); dividing by it makes the flux exact also for Gaussians narrower
    than a pixel (no PSF), whose samples alone sum to up to 1.9 times their flux.

    Parameters
    ----------
    cxx, cxy, cyy : arrays (...)
        Covariances, pixels^2.
    centre : array (2,)
        (x, y) in pixels.
    size : float
        Side of the integration box in pixels (a CMOS sensitive square; 1: the pixel);
        scales the order-4 term by size^4.

    Returns
    -------
    array (...)
    """
    k = np.arange(-3, 4, dtype=float)
    kx, ky = (v.ravel() for v in np.meshgrid(k, k))
    quad = kx**2 * cxx[..., None] + 2 * kx * ky * cxy[..., None] + ky**2 * cyy[..., None]
    ghat = jnp.exp(-2 * jnp.pi**2 * quad)
    if order == 4:
        ghat = ghat * (1.0 - size**4 * (2 * np.pi) ** 4 * (kx**4 + ky**4) / 2880.0)
    return jnp.sum(ghat * jnp.cos(2 * jnp.pi * (kx * centre[0] + ky * centre[1])), axis=-1)


def render_mixture_group(law_cls, params, shape, geom, psf_mix, order=2, box=None):
    """Sum of K same-type mixture components (a ``lax.scan``), (H, W)."""

    def one(acc, prm):
        return acc + mixture_image(law_cls, prm, shape, geom, psf_mix, order, box), None

    out, _ = jax.lax.scan(one, jnp.zeros(shape), params)
    return out


def mixture_group_jacobian(law_cls, params, shape, geom, psf_mix, order=2, box=None):
    """The (H, W) sum of K components and their derivative images (K, P, H, W)
    (:func:`._integrate.linearize_group`: forward mode over each component's own P
    parameters)."""

    def image_of(p):
        return mixture_image(law_cls, p, shape, geom, psf_mix, order, box)

    return linearize_group(image_of, params)
