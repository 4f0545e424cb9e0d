"""PSF convolution ("same" size, no wrap-around) by FFT or in real space, Fourier
point sources, and binning.

Both convolutions compute the same linear map: with the PSF centre at pixel
``(cy, cx) = (Ph // 2, Pw // 2)``, ``out[i, j] = sum_{k,l} model[i + cy - k, j + cx - l]
psf[k, l]``, the model taken as zero outside its grid. They agree to rounding (~1e-15
of the peak, ``tests/test_convolution_methods.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ._interp import deposit_points

__all__ = [
    "convolve",
    "convolve_fft",
    "convolve_direct",
    "point_image",
    "point_spectra",
    "convolve_with_points",
    "deposit_points",
    "bin_image",
]


def convolve_fft(batch, psf, fft_shape):
    """Same-size linear convolution of a stack of images with ``psf`` by zero-padded FFT.

    Parameters
    ----------
    batch : array (N, Hm, Wm)
    psf : array (Ph, Pw)
        Centre at pixel (Ph // 2, Pw // 2).
    fft_shape : (Ny, Nx)
        At least (Hm + Ph - 1, Wm + Pw - 1) so that nothing wraps.

    Returns
    -------
    array (N, Hm, Wm)
    """
    spec = jnp.fft.rfft2(batch, s=fft_shape)
    return _spectra_to_images(spec, psf, fft_shape, batch.shape[-2:])


def _spectra_to_images(spec, psf, fft_shape, out_shape):
    """Multiply spectra (N, Ny, Nx//2+1) by the PSF's, invert and crop to ``out_shape``."""
    out = jnp.fft.irfft2(spec * jnp.fft.rfft2(psf, s=fft_shape)[None], s=fft_shape)
    cy, cx = psf.shape[0] // 2, psf.shape[1] // 2
    return out[:, cy : cy + out_shape[0], cx : cx + out_shape[1]]


def convolve_direct(batch, psf):
    """Same-size linear convolution of a stack of images with ``psf`` in real space.

    Same map as :func:`convolve_fft` (``jax.lax.conv_general_dilated`` with the kernel
    flipped); cost ~ N Hm Wm Ph Pw multiply-adds.

    Examples
    --------
    >>> import numpy as np
    >>> img = np.zeros((1, 5, 5)); img[0, 2, 2] = 1.0
    >>> k = np.arange(9.0).reshape(3, 3)
    >>> bool(np.allclose(convolve_direct(img, k)[0, 1:4, 1:4], k))
    True
    """
    ph, pw = psf.shape
    cy, cx = ph // 2, pw // 2
    out = jax.lax.conv_general_dilated(
        batch[:, None],
        jnp.asarray(psf)[::-1, ::-1][None, None],
        window_strides=(1, 1),
        padding=((ph - 1 - cy, cy), (pw - 1 - cx, cx)),
        precision=jax.lax.Precision.HIGHEST,
    )
    return out[:, 0]


def convolve(batch, psf, method, fft_shape):
    """:func:`convolve_fft` (``method="fft"``) or :func:`convolve_direct` (``"direct"``)."""
    if method == "fft":
        return convolve_fft(batch, psf, fft_shape)
    if method == "direct":
        return convolve_direct(batch, psf)
    raise ValueError(f"convolution method must be 'fft' or 'direct', got {method!r}")


def point_spectra(points, fft_shape):
    """Fourier spectra (K, Ny, Nx // 2 + 1) of band-limited deltas at ``points``.

    ``points`` is (K, 3) ``[col, row, flux]``; each spectrum is a phase ramp, so the
    centroid lands exactly at the sub-pixel position and the flux is exact.
    """
    ny, nx = fft_shape
    ky = np.fft.fftfreq(ny) * ny
    kx = np.fft.rfftfreq(nx) * nx
    ey = jnp.exp(-2j * jnp.pi * points[:, 1, None] * ky[None, :] / ny)
    ex = jnp.exp(-2j * jnp.pi * points[:, 0, None] * kx[None, :] / nx)
    return points[:, 2, None, None] * ey[:, :, None] * ex[:, None, :]


def point_image(points, psf, fft_shape, out_shape, response=None):
    """Sum of PSF images placed at ``points`` by Fourier phase ramps, (H, W)
    (``response``: an optional multiplier of their spectra)."""
    spec = point_spectra(points, fft_shape).sum(axis=0, keepdims=True)
    if response is not None:
        spec = spec * response[None]
    return _spectra_to_images(spec, psf, fft_shape, out_shape)[0]


def convolve_with_points(model, psf, points, fft_shape, method="fft", response=None):
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
    method : {"fft", "direct"}
        How the model is convolved (the points always use the FFT).
    response : array (Ny, Nx // 2 + 1), optional
        Multiplier of the points' spectra (a CMOS pixel response; default none).

    Returns
    -------
    array (Hm, Wm)
        The convolved image aligned with ``model`` ("same" convolution).
    """
    if method == "fft" and points is not None:  # one transform for model and points
        spec = jnp.fft.rfft2(model[None], s=fft_shape)
        pts = point_spectra(points, fft_shape).sum(axis=0, keepdims=True)
        spec = spec + (pts if response is None else pts * response[None])
        return _spectra_to_images(spec, psf, fft_shape, model.shape)[0]
    out = convolve(model[None], psf, method, fft_shape)[0]
    if points is not None:
        out = out + point_image(points, psf, fft_shape, model.shape, response)
    return out


def bin_image(fine, s):
    """Sum s x s blocks: (..., H*s, W*s) -> (..., H, W)."""
    if s == 1:
        return fine
    h, w = fine.shape[-2] // s, fine.shape[-1] // s
    return fine.reshape(fine.shape[:-2] + (h, s, w, s)).sum(axis=(-3, -1))
