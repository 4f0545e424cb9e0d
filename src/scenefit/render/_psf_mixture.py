"""A PSF image as a sum of concentric elliptical Gaussians (host-side fit, cached).

Used by the Gaussian-mixture fast path (:mod:`._mixture`): a Gaussian-mixture profile
convolved with a Gaussian-mixture PSF is again a Gaussian mixture, so no pixel
convolution is needed.

Conventions: the PSF pixel values are taken as samples, at PSF-pixel centres, of the
continuous PSF (the same reading as the pixel convolution of the exact path, see
``docs/conventions.md``, PSF); offsets are from the declared centre, pixel
(ny // 2, nx // 2); results are in *image* pixels (PSF pixels / oversampling), x = column.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

__all__ = [
    "PSFMixture",
    "fit_psf_mixture",
    "pad_psf_mixture",
    "PSF_COMPONENTS",
    "EXACT_ENOUGH",
    "UNDERSAMPLED",
]

#: the most Gaussians per PSF (fewer when they already fit to ``EXACT_ENOUGH``)
PSF_COMPONENTS = 3

#: a fit whose largest residual is below this fraction of the PSF peak adds no further
#: Gaussian (e.g. a sampled Gaussian PSF is one Gaussian)
EXACT_ENOUGH = 1e-6

#: lower bound on a fitted component's standard deviation, PSF pixels
_MIN_SIGMA = 0.05

#: a PSF whose smallest moment sigma is below this (PSF pixels) is not fitted: its
#: pixel values are not samples of a smooth function; every component gets its moments
UNDERSAMPLED = 0.6


@dataclass(frozen=True, eq=False)
class PSFMixture:
    """A PSF as sum_k w_k N(x; centre, cov_k), image pixels.

    Attributes
    ----------
    weights : ndarray (K,)
        Flux fractions, sum 1.
    centre : ndarray (2,)
        (dx, dy) of the common centre from the PSF's declared centre, image pixels.
    cov : ndarray (K, 2, 2)
        Covariances in image pixels^2, (x, y) order.
    max_residual : float
        max |mixture - PSF| over the PSF pixels, as a fraction of the PSF's peak pixel.
    """

    weights: np.ndarray
    centre: np.ndarray
    cov: np.ndarray
    max_residual: float

    def as_array(self) -> np.ndarray:
        """(K, 6) rows [w, dx, dy, cov_xx, cov_xy, cov_yy]: the renderer's input."""
        k = len(self.weights)
        return np.column_stack(
            [
                self.weights,
                np.full(k, self.centre[0]),
                np.full(k, self.centre[1]),
                self.cov[:, 0, 0],
                self.cov[:, 0, 1],
                self.cov[:, 1, 1],
            ]
        )


def fit_psf_mixture(psf, n_components: int = PSF_COMPONENTS) -> PSFMixture:
    """Least-squares fit of at most ``n_components`` concentric Gaussians to a PixelPSF.

    Parameters
    ----------
    psf : PixelPSF
    n_components : int
        The most Gaussians (>= 1); fewer when they fit to ``EXACT_ENOUGH`` of the peak
        (the renderer's cost is proportional to their number).

    Returns
    -------
    PSFMixture
        In image pixels; weights sum to 1 (as the PSF image does: flux is conserved
        as in the exact path). Cached by the PSF's bytes and oversampling.

    Notes
    -----
    Minimises sum_pixels (mixture - psf)^2 over the common centre, each Cholesky
    factor (sigma >= 0.05 PSF px) and the weights (summing to 1, as the PSF image does)
    with ``scipy.optimize.least_squares``, greedily: one Gaussian from the image
    moments, then each further one started twice as wide as the widest so far with a
    tenth of the light, and all refitted. A PSF whose moment sigma is below
    ``UNDERSAMPLED`` (0.6 PSF px) is not fitted: it becomes one Gaussian with its
    moments (centroid and covariance; zero for a one-pixel delta, which then leaves
    models unchanged as its pixel convolution does).

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import PixelPSF
    >>> yy, xx = np.mgrid[-7:8, -7:8]
    >>> m = fit_psf_mixture(PixelPSF(np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2)))
    >>> bool(m.max_residual < 1e-6), round(float(np.einsum("k,kii->", m.weights, m.cov)) / 2, 4)
    (True, 2.25)
    """
    if not (isinstance(n_components, int) and n_components >= 1):
        raise ValueError(f"n_components must be a positive integer, got {n_components!r}")
    img = np.ascontiguousarray(psf.image, dtype=float)
    return _fit_cached(img.tobytes(), img.shape, int(psf.oversampling), n_components)


@lru_cache(maxsize=32)
def _fit_cached(raw, shape, oversampling, k):
    img = np.frombuffer(raw, dtype=float).reshape(shape)
    ny, nx = shape
    yy, xx = np.mgrid[:ny, :nx]
    dx, dy = (xx - nx // 2).ravel().astype(float), (yy - ny // 2).ravel().astype(float)
    data = img.ravel()
    centre, cov = _moments(data, dx, dy)
    if np.linalg.eigvalsh(cov)[0] < UNDERSAMPLED**2:
        # too narrow to fit samples of a continuous Gaussian: the PSF's own moments
        fit = (np.ones(1), centre, cov[None])
    else:
        fit = _least_squares(data, dx, dy, centre, cov, k, 0.5 * max(nx, ny))
    w, centre, cov = fit
    resid = np.abs(_mixture_samples(w, centre, cov, dx, dy) - data).max() / data.max()
    s = float(oversampling)
    return PSFMixture(weights=w, centre=centre / s, cov=cov / s**2, max_residual=float(resid))


def _moments(data, dx, dy):
    """Centroid (2,) and central second moments (2, 2) of the PSF image, PSF pixels."""
    tot = data.sum()
    mx, my = (data * dx).sum() / tot, (data * dy).sum() / tot
    ex, ey = dx - mx, dy - my
    cov = np.array(
        [[(data * ex * ex).sum(), (data * ex * ey).sum()], [0.0, (data * ey * ey).sum()]]
    )
    cov[1, 0] = cov[0, 1]
    return np.array([mx, my]), cov / tot


def _least_squares(data, dx, dy, centre, cov, k, half):
    """Greedy fit: one Gaussian from the moments, then each further one started twice
    as wide as the widest so far with a tenth of the light, and all refitted; stops
    early once the residual is below ``EXACT_ENOUGH`` of the peak."""
    from scipy.optimize import least_squares

    cov = cov + np.eye(2) * 1e-6
    l11 = np.sqrt(max(cov[0, 0], _MIN_SIGMA**2))
    l21 = cov[0, 1] / l11
    l22 = np.sqrt(max(cov[1, 1] - l21**2, _MIN_SIGMA**2))
    x = np.array([*centre, np.log(l11), l21, np.log(l22)])
    peak = data.max()
    for m in range(1, k + 1):
        lo, hi = _bounds(m, half)
        fit = least_squares(
            lambda v, m=m: _mixture_samples(*_unpack(v, m), dx, dy) - data,
            np.clip(x, lo + 1e-9, hi - 1e-9),
            bounds=(lo, hi),
            x_scale="jac",
            ftol=1e-12,
            xtol=1e-12,
            gtol=1e-12,
            max_nfev=100 * len(x),
        )
        x = fit.x
        if m == k or np.abs(fit.fun).max() < EXACT_ENOUGH * peak:
            break
        _, _, c = _unpack(x, m)
        j = int(np.argmax(c[:, 0, 0] + c[:, 1, 1]))
        chol = x[2 + 3 * j : 5 + 3 * j] * [1.0, 2.0, 1.0] + [np.log(2.0), 0.0, np.log(2.0)]
        x = np.concatenate([x[: 2 + 3 * m], chol, x[2 + 3 * m :], [np.log(0.1)]])
    return _unpack(x, m)


def _bounds(k, half):
    """Bounds of the packed parameters: centre within the image, sigma in
    [_MIN_SIGMA, 8 x the half-size], |l21| <= 4 x the half-size, the k - 1 relative
    log-weights within +-30."""
    lo = [-half, -half] + [np.log(_MIN_SIGMA), -4 * half, np.log(_MIN_SIGMA)] * k
    hi = [half, half] + [np.log(8 * half), 4 * half, np.log(8 * half)] * k
    return np.array(lo + [-30.0] * (k - 1)), np.array(hi + [30.0] * (k - 1))


def _unpack(x, k):
    """Packed [centre (2), (ln l11, l21, ln l22) x k, ln w_2/w_1 .. ln w_k/w_1] ->
    (weights summing to 1, centre, covariances)."""
    centre = np.asarray(x[:2], dtype=float)
    chol = np.asarray(x[2 : 2 + 3 * k]).reshape(k, 3)
    l11, l21, l22 = np.exp(chol[:, 0]), chol[:, 1], np.exp(chol[:, 2])
    cov = np.empty((k, 2, 2))
    cov[:, 0, 0] = l11**2
    cov[:, 0, 1] = cov[:, 1, 0] = l11 * l21
    cov[:, 1, 1] = l21**2 + l22**2
    logw = np.concatenate([[0.0], x[2 + 3 * k :]])
    w = np.exp(logw - logw.max())
    return w / w.sum(), centre, cov


def _mixture_samples(w, centre, cov, dx, dy):
    """The mixture at the pixel offsets (dx, dy) (PSF pixels)."""
    det = cov[:, 0, 0] * cov[:, 1, 1] - cov[:, 0, 1] ** 2
    ex, ey = dx[None] - centre[0], dy[None] - centre[1]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        quad = (
            cov[:, 1, 1, None] * ex**2
            - 2 * cov[:, 0, 1, None] * ex * ey
            + cov[:, 0, 0, None] * ey**2
        ) / det[:, None]
        g = np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(det[:, None]))
    # a zero-width Gaussian (moments of a delta) is all in its own pixel
    delta = ((np.abs(ex) < 0.5) & (np.abs(ey) < 0.5)).astype(float)
    g = np.where(det[:, None] > 0, g, delta)
    return np.sum(w[:, None] * g, axis=0)


def pad_psf_mixture(rows, k: int) -> np.ndarray:
    """(k, 6) rows: ``rows`` (m <= k of :meth:`PSFMixture.as_array`) and k - m copies of
    the last row with weight 0 (the same image; for stacking the inputs of images whose
    PSFs need different numbers of Gaussians)."""
    rows = np.asarray(rows, dtype=float)
    pad = np.repeat(rows[-1:], k - len(rows), axis=0)
    pad[:, 0] = 0.0
    return np.concatenate([rows, pad])
