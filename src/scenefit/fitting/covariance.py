"""Covariance from the Fisher matrix, robust to singular and ill-conditioned cases."""

from __future__ import annotations

import numpy as np

__all__ = ["covariance_from_fisher"]


def covariance_from_fisher(fisher, rcond: float = 1e-12, values=None, dead_rtol: float = 1e-10):
    """Invert a Fisher (J^T J) matrix without ever failing.

    The matrix is scaled to unit diagonal, eigen-decomposed, and inverted on the
    subspace whose eigenvalues exceed ``rcond`` times the largest. Parameters with a
    component along a discarded (unconstrained) direction get an infinite variance;
    a parameter the data do not constrain at all (zero diagonal) likewise.

    Parameters
    ----------
    fisher : array (F, F)
    rcond : float
        Relative eigenvalue threshold of the scaled matrix.
    values : array (F,), optional
        Parameter values; a parameter whose response sqrt(F_ii) * max(|x_i|, 1) is
        below ``dead_rtol`` times the largest is treated as unconstrained (its
        Jacobian column is numerically zero).

    Returns
    -------
    cov : ndarray (F, F)
    ill_conditioned : bool
        True if any direction was discarded.
    condition : float
        Condition number of the scaled matrix (inf if singular).
    """
    A = np.asarray(fisher, float)
    n = A.shape[0]
    if n == 0:
        return np.zeros((0, 0)), False, 1.0
    d = np.diag(A).copy()
    dead = ~(d > 0) | ~np.isfinite(d)
    if values is not None:
        resp = np.sqrt(np.where(dead, 0.0, d)) * np.maximum(np.abs(np.asarray(values)), 1.0)
        dead |= resp <= dead_rtol * resp.max()
    scale = np.where(dead, 1.0, np.sqrt(np.where(dead, 1.0, d)))
    S = A / np.outer(scale, scale)
    S[dead, :] = 0.0
    S[:, dead] = 0.0
    S = 0.5 * (S + S.T)
    if not np.all(np.isfinite(S)):
        return np.full((n, n), np.inf), True, np.inf
    lam, V = np.linalg.eigh(S)
    top = max(lam.max(), 0.0)
    good = lam > rcond * top if top > 0 else np.zeros(n, bool)
    inv = (V[:, good] / lam[good]) @ V[:, good].T
    cov = inv / np.outer(scale, scale)
    bad_dirs = V[:, ~good]
    touched = (np.abs(bad_dirs) > 1e-6).any(axis=1) | dead
    cov[touched, :] = np.inf
    cov[:, touched] = np.inf
    cond = top / lam[good].min() if good.any() else np.inf
    return cov, bool((~good).any() or dead.any()), float(cond if good.all() else np.inf)
