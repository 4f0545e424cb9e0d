"""The regularised lower incomplete gamma function P(a, x), cheap to compile.

``jax.scipy.special.gammainc`` is accurate, but its XLA program (series and continued
fraction in while loops, and a separate ``igamma_grad_a`` for d/da) costs ~0.3 s to
compile per use and ~0.7 s with its derivative in ``a``; the exact core of every
Sersic component uses it several times per fit. Here P is the series

    P(a, x) = e^-x sum_{k >= 0} x^(a + k) / Gamma(a + k + 1)

(Abramowitz & Stegun 6.5.29) truncated at a static ``K`` terms, each term computed in
log space. All terms are positive, so there is no cancellation; derivatives in ``a``
and ``x`` come from automatic differentiation of elementary functions. For x > X_MAX,
P = 1 - Q with Q(a, x) < 1e-9 for a <= 20 (Sersic n <= 10), and 1 is returned.
Accuracy against scipy: ~1e-13 relative for 0.4 <= a <= 20, 0 < x <= X_MAX
(``tests/test_gamma.py``).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["lower_gamma_p", "X_MAX", "N_TERMS"]

#: beyond this x, P(a, x) is returned as 1 (Q(20, 60) ~ 4e-10)
X_MAX = 60.0
#: static number of series terms (enough for x <= X_MAX to ~1e-16)
N_TERMS = 128


def lower_gamma_p(a, x):
    """Regularised lower incomplete gamma function P(a, x).

    Parameters
    ----------
    a : scalar array
        Shape parameter, a > 0 (one value: the log-Gamma terms are computed once).
    x : array (...)
        x >= 0.

    Returns
    -------
    array (...)

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> round(float(lower_gamma_p(jnp.asarray(1.0), jnp.asarray(2.0))), 12)  # 1 - e^-2
    0.864664716763
    """
    k = jnp.arange(N_TERMS, dtype=jnp.result_type(float))
    log_den = jax.lax.lgamma(a + k + 1.0)  # (K,), independent of x
    xs = jnp.clip(x, 1e-300, X_MAX)
    lx = jnp.log(xs)[..., None]
    terms = jnp.exp((a + k) * lx - xs[..., None] - log_den)
    return jnp.where(x > X_MAX, 1.0, jnp.sum(terms, axis=-1))
