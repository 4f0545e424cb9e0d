"""Weighted linear least squares with some variables non-negative, from normal equations.

Minimise chi^2(theta) = theta^T M theta - 2 b^T theta + const subject to theta_k >= 0
for k in ``nonneg`` (the others free, of either sign), where M = A W A^T and
b = A W r come from a design A (n, N), weights W (N,) and data r (N,). This is the
bounded-variable least-squares problem of Lawson & Hanson (1974, ch. 23) written in n
variables instead of N pixels: with M = S^T S (S = sqrt(diag s) V^T from the
eigendecomposition M = V diag(s) V^T), chi^2 = |S theta - S^-T b|^2 + const, which
:func:`scipy.optimize.lsq_linear` (``method="bvls"``, an exact active-set method)
solves. The solution is then polished on its free set by a direct solve, and the
covariance is the inverse of M restricted to that set (the active-set normal matrix).
"""

from __future__ import annotations

import numpy as np

__all__ = ["solve_bounded"]


def solve_bounded(M, b, nonneg):
    """Solve the bounded problem of the module docstring.

    Parameters
    ----------
    M : ndarray (n, n)
        Normal matrix A W A^T, symmetric positive semi-definite (units: 1 / theta^2
        in chi^2 units).
    b : ndarray (n,)
        A W r.
    nonneg : ndarray (n,) of bool
        Which variables are constrained to theta >= 0.

    Returns
    -------
    theta : ndarray (n,)
        The minimiser.
    at_bound : ndarray (n,) of bool
        Constrained variables that sit at 0 with a non-negative gradient (the active
        set).
    cov : ndarray (n, n)
        Inverse of M over the variables not at the bound; an at-bound variable gets
        the variance it would have if free, (M^-1)_kk, and no covariances.

    Examples
    --------
    >>> M = np.array([[2.0, 0.0], [0.0, 1.0]])
    >>> theta, at_bound, _ = solve_bounded(M, np.array([2.0, -1.0]), np.array([True, True]))
    >>> theta.tolist(), at_bound.tolist()
    ([1.0, 0.0], [False, True])
    """
    from scipy.optimize import lsq_linear

    M = np.asarray(M, float)
    b = np.asarray(b, float)
    nonneg = np.asarray(nonneg, bool)
    n = b.size
    d = np.sqrt(np.diag(M))
    if n == 0:
        return np.zeros(0), np.zeros(0, bool), np.zeros((0, 0))
    if not np.all(d > 0):
        raise ValueError("every variable must have a positive diagonal normal-matrix entry")
    Ms = M / np.outer(d, d)  # unit diagonal: the solver's tolerances see one scale
    bs = b / d
    s, V = np.linalg.eigh(Ms)
    keep = s > s.max() * 1e-14
    S = np.sqrt(s[keep])[:, None] * V[:, keep].T
    rhs = (V[:, keep].T @ bs) / np.sqrt(s[keep])
    lo = np.where(nonneg, 0.0, -np.inf)
    sol = lsq_linear(S, rhs, bounds=(lo, np.full(n, np.inf)), method="bvls", tol=1e-12)
    y = np.where(nonneg, np.maximum(sol.x, 0.0), sol.x)
    at_bound = nonneg & (y <= 0.0)
    free = ~at_bound
    if free.any():  # polish: the exact least-squares solution on the free set
        yf = np.linalg.lstsq(Ms[np.ix_(free, free)], bs[free], rcond=None)[0]
        if np.all(yf[nonneg[free]] >= 0.0):
            y = np.zeros(n)
            y[free] = yf
    grad = Ms @ y - bs  # half the chi^2 gradient; >= 0 at an active lower bound
    at_bound = nonneg & (y <= 0.0) & (grad >= -1e-10 * (1.0 + np.abs(bs)))
    theta = y / d
    cov = np.zeros((n, n))
    free = ~at_bound
    if free.any():
        cov[np.ix_(free, free)] = _inverse(Ms[np.ix_(free, free)]) / np.outer(d[free], d[free])
    if at_bound.any():
        full = np.diag(_inverse(Ms)) / d**2
        cov[at_bound, at_bound] = full[at_bound]
    return theta, at_bound, cov


def _inverse(A):
    """Inverse of a symmetric positive semi-definite matrix; inf on the diagonal of
    directions it does not constrain."""
    s, V = np.linalg.eigh(A)
    ok = s > s.max() * 1e-14
    inv = (V[:, ok] / s[ok]) @ V[:, ok].T
    if not ok.all():
        bad = np.any(np.abs(V[:, ~ok]) > 1e-8, axis=1)
        inv[bad, :] = np.where(np.eye(len(s), dtype=bool)[bad], np.inf, inv[bad, :])
    return inv
