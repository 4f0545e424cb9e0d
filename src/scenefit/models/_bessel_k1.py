"""The modified Bessel function K1 in JAX (``jax.scipy.special`` has none).

Two pieces, joined at x = 2 (both accurate to rounding there, so the join leaves no
step that finite differences would see):

* x <= 2: the ascending series (Abramowitz & Stegun 9.6.11 with n = 1), t = x^2 / 4,

      x K1(x) = 1 + 2 t ln(x / 2) sum_k t^k / (k! (k+1)!)
                  - t sum_k [psi(k+1) + psi(k+2)] t^k / (k! (k+1)!),

  both sums to k = 15 (terms below 1e-26 for t <= 1);
* x > 2: sqrt(x) e^x K1(x) = G(2 / x), with G a degree-40 Chebyshev interpolant on
  s = 2 / x in [0, 1] of scipy's ``k1e`` (built once, on first use, with numpy).

Measured against ``scipy.special.k1`` on 20 000 log-spaced x in [1e-6, 700]: largest
relative error 1.2e-14; the autodiff derivative against -K0 - K1 / x on 2000 x in
[1e-4, 300]: 9.7e-13; the step at the join 5e-15 (``tests/test_edge_on_disk.py``
asserts 1e-13, 1e-11, 1e-14; ``scripts/measure_edge_on_disk.py`` prints them). Values
and derivatives are finite from x = 0 (x K1 -> 1) to x = 1e300 (-> 0).
"""

from __future__ import annotations

from functools import lru_cache
from math import factorial

import jax.numpy as jnp
import numpy as np

__all__ = ["x_k1", "k1"]

_TERMS = 16
_CHEB_DEGREE = 40


@lru_cache(maxsize=1)
def _series():
    """Coefficients of the two ascending sums (numpy, float64)."""
    from scipy.special import digamma

    k = np.arange(_TERMS)
    inv = np.array([1.0 / (factorial(i) * factorial(i + 1)) for i in k])
    return inv, (digamma(k + 1.0) + digamma(k + 2.0)) * inv


@lru_cache(maxsize=1)
def _chebyshev():
    """Chebyshev coefficients of G(s) = sqrt(x) e^x K1(x), s = 2 / x, on y = 2 s - 1."""
    from numpy.polynomial import chebyshev
    from scipy.special import k1e

    def g(y):
        x = 2.0 / (0.5 * (y + 1.0))
        return np.sqrt(x) * k1e(x)

    return chebyshev.chebinterpolate(g, _CHEB_DEGREE)


def _poly(c, t):
    """sum_k c_k t^k by Horner's rule."""
    out = jnp.zeros_like(t) + c[-1]
    for ck in c[-2::-1]:
        out = out * t + ck
    return out


def _clenshaw(c, y):
    """sum_k c_k T_k(y) by Clenshaw's recurrence."""
    b1 = jnp.zeros_like(y)
    b2 = jnp.zeros_like(y)
    for ck in c[:0:-1]:
        b1, b2 = 2.0 * y * b1 - b2 + ck, b1
    return y * b1 - b2 + c[0]


def x_k1(x):
    """x K1(x) for x >= 0 (1 at x = 0), differentiable.

    Examples
    --------
    >>> round(float(x_k1(1.0)), 12)  # scipy: 1 * k1(1) = 0.601907230197
    0.601907230197
    """
    x = jnp.asarray(x, dtype=float)
    small = x <= 2.0
    xs = jnp.where(small, jnp.maximum(x, 1e-300), 1.0)  # the other branch's x: harmless
    xl = jnp.where(small, 3.0, x)
    inv, psi = _series()
    t = 0.25 * xs * xs
    lo = 1.0 + 2.0 * t * jnp.log(0.5 * xs) * _poly(inv, t) - t * _poly(psi, t)
    hi = jnp.sqrt(xl) * jnp.exp(-xl) * _clenshaw(_chebyshev(), 4.0 / xl - 1.0)
    return jnp.where(small, lo, hi)


def k1(x):
    """The modified Bessel function of the second kind K1(x), x > 0.

    Examples
    --------
    >>> round(float(k1(3.0)), 12)  # scipy: 0.040156431128
    0.040156431128
    """
    x = jnp.asarray(x, dtype=float)
    return x_k1(x) / x
