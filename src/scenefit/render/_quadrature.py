"""Quadrature rules: Gauss-Legendre on the unit pixel, an embedded pair for error
estimates, and Gauss-Legendre on [0, 1] for line integrals."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["pixel_rule", "embedded_pixel_rule", "line_rule"]


@lru_cache(maxsize=32)
def pixel_rule(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and weights of the 2-D tensor Gauss-Legendre rule on a unit pixel.

    Returns
    -------
    dx, dy : ndarray (order**2,)
        Node offsets from the pixel centre, in pixels.
    w : ndarray (order**2,)
        Weights summing to 1 (so the rule returns the pixel *mean*).

    Examples
    --------
    >>> dx, dy, w = pixel_rule(3)
    >>> float(w.sum())
    1.0
    """
    t, w = np.polynomial.legendre.leggauss(order)
    t, w = t / 2.0, w / 2.0
    dx, dy = np.meshgrid(t, t, indexing="xy")
    ww = np.outer(w, w)
    return dx.ravel(), dy.ravel(), ww.ravel()


@lru_cache(maxsize=32)
def embedded_pixel_rule(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Tensor Gauss-Legendre rules of ``order`` and ``order - 1`` on one node set.

    The nodes of both rules are concatenated, so one evaluation of the integrand gives
    the pixel mean by the order-k rule (``w_hi``, exact for polynomials of degree
    2k - 1 in each variable) and by the order-(k - 1) rule (``w_lo``); their difference
    is the usual conservative estimate of the error of the lower rule, hence a bound on
    (and a proxy for where) the error of the higher rule is large.

    Parameters
    ----------
    order : int
        k >= 2.

    Returns
    -------
    dx, dy : ndarray (k**2 + (k-1)**2,)
        Node offsets from the pixel centre, in pixels.
    w_hi, w_lo : ndarray (k**2 + (k-1)**2,)
        Weights (each summing to 1) of the order-k and order-(k-1) rules, zero on the
        other rule's nodes.

    Examples
    --------
    >>> dx, dy, hi, lo = embedded_pixel_rule(3)
    >>> dx.shape, float(hi.sum()), float(lo.sum())
    ((13,), 1.0, 1.0)
    """
    if order < 2:
        raise ValueError(f"an embedded rule needs order >= 2, got {order}")
    hx, hy, hw = pixel_rule(order)
    lx, ly, lw = pixel_rule(order - 1)
    dx = np.concatenate([hx, lx])
    dy = np.concatenate([hy, ly])
    w_hi = np.concatenate([hw, np.zeros_like(lw)])
    w_lo = np.concatenate([np.zeros_like(hw), lw])
    return dx, dy, w_hi, w_lo


@lru_cache(maxsize=32)
def line_rule(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (weights sum to 1).

    Examples
    --------
    >>> t, w = line_rule(4)
    >>> round(float((w * t**7).sum()), 12) == round(1 / 8, 12)
    True
    """
    t, w = np.polynomial.legendre.leggauss(order)
    return (t + 1.0) / 2.0, w / 2.0
