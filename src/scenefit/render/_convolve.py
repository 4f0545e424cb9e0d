"""FFT convolution with the PSF, sub-pixel point sources, and binning."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

__all__ = ["convolve_with_points", "deposit_points", "bin_image"]


def convolve_with_points(model, psf, points, fft_shape):
    """Linear convolution of ``model`` with ``psf``, plus PSF-shaped point sources.

    Parameters
    ----------
    model : array (Hm, Wm)
        Pixel-integrated model (flux per pixel) on the render grid.
    psf : array (Ph, Pw)
        Normalised PSF, centre at pixel (Ph // 2, Pw // 2).
    points : array (K, 3) or None
        ``[col, row, flux]`` of point sources in render-grid pixel coordinates
        (fractional). Each is a band-limited delta (a Fourier phase ramp), so its
        centroid lands exactly at the requested sub-pixel position and its flux is
        conserved exactly.
    fft_shape : (Ny, Nx)
        Transform size, at least (Hm + Ph - 1, Wm + Pw - 1) so that nothing wraps.

    Returns
    -------
    array (Hm, Wm)
        The convolved image aligned with ``model`` ("same" convolution).
    """
    ny, nx = fft_shape
    hm, wm = model.shape
    ph, pw = psf.shape
    spec = jnp.fft.rfft2(model, s=(ny, nx))
    if points is not None:
        ky = np.fft.fftfreq(ny) * ny
        kx = np.fft.rfftfreq(nx) * nx
        ey = jnp.exp(-2j * jnp.pi * points[:, 1, None] * ky[None, :] / ny)
        ex = jnp.exp(-2j * jnp.pi * points[:, 0, None] * kx[None, :] / nx)
        spec = spec + jnp.einsum("k,ky,kx->yx", points[:, 2].astype(complex), ey, ex)
    out = jnp.fft.irfft2(spec * jnp.fft.rfft2(psf, s=(ny, nx)), s=(ny, nx))
    cy, cx = ph // 2, pw // 2
    return out[cy : cy + hm, cx : cx + wm]


def deposit_points(image, points):
    """Add point sources by bilinear weights (no PSF): flux and centroid exact.

    ``points`` is (K, 3) ``[col, row, flux]`` in image pixel coordinates.
    """
    h, w = image.shape
    x, y, f = points[:, 0], points[:, 1], points[:, 2]
    i0, j0 = jnp.floor(y), jnp.floor(x)
    ty, tx = y - i0, x - j0
    i0, j0 = i0.astype(int), j0.astype(int)
    big = h + w + 10
    for di, dj, wt in (
        (0, 0, (1 - ty) * (1 - tx)),
        (0, 1, (1 - ty) * tx),
        (1, 0, ty * (1 - tx)),
        (1, 1, ty * tx),
    ):
        ii, jj = i0 + di, j0 + dj
        ii = jnp.where(ii < 0, big, ii)
        jj = jnp.where(jj < 0, big, jj)
        image = image.at[ii, jj].add(f * wt, mode="drop")
    return image


def bin_image(fine, s):
    """Sum s x s blocks: (H*s, W*s) -> (H, W)."""
    if s == 1:
        return fine
    h, w = fine.shape[0] // s, fine.shape[1] // s
    return fine.reshape(h, s, w, s).sum(axis=(1, 3))
