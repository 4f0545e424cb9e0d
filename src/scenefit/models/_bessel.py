"""The Bessel function J1(x) / x for the Airy PSF: traceable, smooth, float64-accurate.

Two classical expansions, joined at x = :data:`JOIN` (J1 within 2e-12 everywhere,
the series losing digits to cancellation just below the join and the expansion just
above it; ``tests/test_psf_models.py`` checks against SciPy):

* x < JOIN: the power series (Abramowitz & Stegun 9.1.10)
  J1(x) / x = 1/2 sum_k (-x^2 / 4)^k / (k! (k + 1)!);
* x >= JOIN: Hankel's asymptotic expansion (A&S 9.2.5, 9.2.9, 9.2.10)
  J1(x) = sqrt(2 / (pi x)) [P(x) cos chi - Q(x) sin chi], chi = x - 3 pi / 4, with
  P = sum_k (-1)^k a_2k / x^2k, Q = sum_k (-1)^k a_(2k+1) / x^(2k+1),
  a_k = prod_(j=1..k) (4 - (2j - 1)^2) / (k! 8^k).

Each branch is evaluated on an input clamped into its own range, so derivatives are
finite everywhere (no NaN leaks through ``jnp.where``).
"""

from __future__ import annotations

import math

import jax.numpy as jnp
import numpy as np

__all__ = ["j1_over_x", "JOIN"]

#: where the power series hands over to the asymptotic expansion
JOIN = 12.0
_SERIES_TERMS = 34
_ASYMPTOTIC_TERMS = 22


def _series_coefficients() -> np.ndarray:
    """Coefficients of J1(x)/x as a polynomial in z = x^2 / 4, highest power first."""
    c = [
        (-1) ** k / (2.0 * math.factorial(k) * math.factorial(k + 1)) for k in range(_SERIES_TERMS)
    ]
    return np.array(c[::-1])


def _asymptotic_coefficients() -> tuple[np.ndarray, np.ndarray]:
    """P and Q of Hankel's expansion as polynomials in y = 1 / x, highest power first."""
    a = [1.0]
    for k in range(1, _ASYMPTOTIC_TERMS):
        a.append(a[-1] * (4.0 - (2 * k - 1) ** 2) / (k * 8.0))
    p = np.zeros(_ASYMPTOTIC_TERMS)
    q = np.zeros(_ASYMPTOTIC_TERMS)
    for k, ak in enumerate(a):
        sign = (-1) ** (k // 2)
        (p if k % 2 == 0 else q)[k] = sign * ak
    return p[::-1], q[::-1]


_SERIES = _series_coefficients()
_P, _Q = _asymptotic_coefficients()


def j1_over_x(x):
    """J1(x) / x for x >= 0 (1/2 at x = 0), elementwise.

    Parameters
    ----------
    x : array
        Non-negative arguments.

    Returns
    -------
    array
        Same shape as ``x``.

    Examples
    --------
    >>> round(float(j1_over_x(0.0)), 12), abs(float(j1_over_x(3.8317059702075125))) < 1e-12
    (0.5, True)
    """
    x = jnp.asarray(x, dtype=float)
    near = x < JOIN
    xs = jnp.where(near, x, 0.0)
    series = jnp.polyval(jnp.asarray(_SERIES), 0.25 * xs * xs)
    xl = jnp.where(near, JOIN, x)
    y = 1.0 / xl
    chi = xl - 0.75 * jnp.pi
    p = jnp.polyval(jnp.asarray(_P), y)
    q = jnp.polyval(jnp.asarray(_Q), y)
    far = jnp.sqrt(2.0 / (jnp.pi * xl)) * (p * jnp.cos(chi) - q * jnp.sin(chi)) * y
    return jnp.where(near, series, far)
