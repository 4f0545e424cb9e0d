"""Point sources placed by bicubic-spline interpolation of the PSF image (Imfit's rule).

Imfit evaluates a ``PointSource`` at each pixel centre as ``flux * P(x - x0, y - y0)``,
where ``P`` interpolates the normalised PSF image with GSL's ``gsl_interp2d_bicubic``:
on every cell between four PSF pixels, the tensor-product cubic Hermite polynomial that
matches the PSF values and the node derivatives ``dP/dx``, ``dP/dy`` and
``d2P/dxdy``. The node derivatives come from natural cubic splines through each row
(``dP/dx``) and each column (``dP/dy``) of the PSF, and ``d2P/dxdy`` from the natural
spline along x through the ``dP/dy`` values. ``P`` is zero beyond the PSF's extent,
``|dx| <= (Pw - 1) / 2``, ``|dy| <= (Ph - 1) / 2`` (offsets from the middle of the
array, which is pixel ``(Ph // 2, Pw // 2)`` for odd sizes). The image so made is not
convolved again: it already is the PSF.

Everything here is linear in the PSF and, being C1, differentiable in the position.
Evaluation is separable: with per-column weights ``Wx0`` (value basis) and ``Wx1``
(derivative basis) and likewise per row, the image is
``Wy0 P Wx0^T + Wy0 P_x Wx1^T + Wy1 P_y Wx0^T + Wy1 P_xy Wx1^T``.
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["natural_spline_derivative_matrix", "bicubic_point_image"]


@lru_cache(maxsize=32)
def natural_spline_derivative_matrix(n: int) -> np.ndarray:
    """``D`` (n, n) such that ``D @ y`` are the node slopes of the natural cubic spline
    through ``y`` on unit-spaced nodes.

    The second derivatives ``M`` solve ``M_(i-1) + 4 M_i + M_(i+1) = 6 (y_(i+1) - 2 y_i +
    y_(i-1))`` with ``M_0 = M_(n-1) = 0``; the slope at node i is ``y_(i+1) - y_i -
    (2 M_i + M_(i+1)) / 6`` (and ``y_(n-1) - y_(n-2) + (M_(n-2) + 2 M_(n-1)) / 6`` at the
    last node).

    Examples
    --------
    >>> D = natural_spline_derivative_matrix(5)
    >>> [round(float(v), 12) for v in D @ np.arange(5.0)]  # a line: slope 1 everywhere
    [1.0, 1.0, 1.0, 1.0, 1.0]
    """
    if n < 3:
        raise ValueError(f"a natural cubic spline needs at least 3 nodes, got {n}")
    # second differences -> interior second derivatives: A M_int = 6 S y
    A = 4.0 * np.eye(n - 2) + np.eye(n - 2, k=1) + np.eye(n - 2, k=-1)
    S = np.zeros((n - 2, n))
    for i in range(n - 2):
        S[i, i : i + 3] = (1.0, -2.0, 1.0)
    M = np.zeros((n, n))
    M[1:-1] = np.linalg.solve(A, 6.0 * S)
    fwd = np.eye(n, k=1) - np.eye(n)  # y_(i+1) - y_i
    D = fwd - (2.0 * M + np.roll(M, -1, axis=0)) / 6.0
    D[-1] = (np.eye(n)[-1] - np.eye(n)[-2]) + (M[-2] + 2.0 * M[-1]) / 6.0
    return D


def _hermite_weights(u, n):
    """Value- and slope-basis weights (m, n) of a 1-D cubic Hermite interpolant at
    positions ``u`` (m,) in node-index units; zero outside [0, n - 1]."""
    cell = jnp.clip(jnp.floor(u), 0, n - 2)
    t = u - cell
    t2, t3 = t * t, t * t * t
    inside = ((u >= 0) & (u <= n - 1)).astype(u.dtype)
    k = jnp.arange(n)[None, :]
    lo = (k == cell[:, None].astype(int)).astype(u.dtype)
    hi = (k == cell[:, None].astype(int) + 1).astype(u.dtype)
    h00, h01 = 2 * t3 - 3 * t2 + 1, -2 * t3 + 3 * t2
    h10, h11 = t3 - 2 * t2 + t, t3 - t2
    w0 = (h00[:, None] * lo + h01[:, None] * hi) * inside[:, None]
    w1 = (h10[:, None] * lo + h11[:, None] * hi) * inside[:, None]
    return w0, w1


def bicubic_point_image(points, psf, shape):
    """Point sources as bicubic-spline-interpolated PSFs sampled at pixel centres.

    Parameters
    ----------
    points : array (K, 3)
        ``[col, row, flux]`` of each point in pixel coordinates of the output grid
        (0-based pixel centres), which has the PSF's pixel size.
    psf : array (Ph, Pw)
        Normalised PSF image (Ph, Pw >= 3).
    shape : (H, W)
        Output grid shape.

    Returns
    -------
    array (H, W)
        ``sum_k flux_k P(j - col_k, i - row_k)`` at pixel (i, j).

    Examples
    --------
    >>> import numpy as np
    >>> psf = np.outer([1, 2, 1], [1, 2, 1]) / 16.0
    >>> img = bicubic_point_image(np.array([[2.0, 2.0, 5.0]]), psf, (5, 5))
    >>> bool(np.allclose(img[1:4, 1:4], 5 * psf))  # whole-pixel position: the PSF itself
    True
    """
    ph, pw = psf.shape
    psf = jnp.asarray(psf)
    dx = jnp.asarray(natural_spline_derivative_matrix(pw))
    dy = jnp.asarray(natural_spline_derivative_matrix(ph))
    zx = psf @ dx.T
    zy = dy @ psf
    zxy = zy @ dx.T
    h, w = shape
    cols = jnp.arange(w, dtype=psf.dtype)
    rows = jnp.arange(h, dtype=psf.dtype)

    def one(pt):
        wx0, wx1 = _hermite_weights(cols - pt[0] + (pw - 1) / 2.0, pw)
        wy0, wy1 = _hermite_weights(rows - pt[1] + (ph - 1) / 2.0, ph)
        img = wy0 @ psf @ wx0.T + wy0 @ zx @ wx1.T + wy1 @ zy @ wx0.T + wy1 @ zxy @ wx1.T
        return pt[2] * img

    return jax.lax.map(one, points).sum(axis=0)
