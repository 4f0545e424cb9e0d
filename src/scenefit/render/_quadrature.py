"""Gauss-Legendre rules on the unit pixel [-1/2, 1/2]^2."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

__all__ = ["pixel_rule"]


@lru_cache(maxsize=32)
def pixel_rule(order: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodes and weights of the 2-D tensor Gauss-Legendre rule on a unit pixel.

    Returns
    -------
    dx, dy : ndarray (order**2,)
        Node offsets from the pixel centre, in pixels.
    w : ndarray (order**2,)
        Weights summing to 1 (so the rule returns the pixel *mean*).
    """
    t, w = np.polynomial.legendre.leggauss(order)
    t, w = t / 2.0, w / 2.0
    dx, dy = np.meshgrid(t, t, indexing="xy")
    ww = np.outer(w, w)
    return dx.ravel(), dy.ravel(), ww.ravel()
