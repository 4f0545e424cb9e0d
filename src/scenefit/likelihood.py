"""Likelihoods as whitened residuals plus an objective (pure functions).

Both likelihoods are written for a Gauss-Newton / Levenberg-Marquardt solver as a pair
``(r, objective)`` with ``objective = -2 ln L + const``:

* ``chi2``: r = (d - m) sqrt(w), objective = sum r^2 (w = inverse variance; 0 masks).
* ``poisson``: with counts c = gain d and expectation mu = gain m, the objective is the
  Poisson deviance 2 sum [mu - c + c ln(c / mu)] (the Cash statistic minus its
  model-independent part, so that it tends to chi^2 for large counts), and
  r = (c - mu) / sqrt(mu) with sqrt(mu) held constant in derivatives, which makes the
  Gauss-Newton step the Fisher-scoring step of the Poisson likelihood.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LIKELIHOODS", "residuals_and_objective", "residual_jacobian"]

LIKELIHOODS = ("chi2", "poisson")


def residuals_and_objective(kind: str, model, data, invvar, gain=1.0):
    """Whitened residuals (N,) and the objective (scalar) of one image.

    Parameters
    ----------
    kind : {"chi2", "poisson"}
    model, data : array (H, W)
        Image units.
    invvar : array (H, W)
        Inverse variance; 0 excludes a pixel (masked). Only its zero pattern is used
        by the Poisson likelihood.
    gain : float
        Counts per image unit (Poisson only).
    """
    if kind == "chi2":
        r = ((data - model) * jnp.sqrt(invvar)).ravel()
        return r, jnp.sum(r * r)
    if kind == "poisson":
        valid = invvar > 0
        c = jnp.where(valid, data * gain, 0.0)
        mu = jnp.where(valid, model * gain, 1.0)
        ok = jnp.all(mu > 0)
        mu_safe = jnp.where(mu > 0, mu, 1.0)
        clog = jnp.where(c > 0, c * jnp.log(jnp.where(c > 0, c, 1.0) / mu_safe), 0.0)
        dev = 2.0 * jnp.sum(jnp.where(valid, mu_safe - c + clog, 0.0))
        dev = jnp.where(ok, dev, jnp.inf)
        scale = jax.lax.stop_gradient(jnp.sqrt(mu_safe))
        r = jnp.where(valid, (c - mu) / scale, 0.0).ravel()
        return r, dev
    raise ValueError(f"unknown likelihood {kind!r}; choose one of {LIKELIHOODS}")


def residual_jacobian(kind: str, dmodel, model, data, invvar, gain=1.0):
    """Jacobian of the whitened residuals from model derivatives.

    Parameters
    ----------
    dmodel : array (F, H, W)
        d model / d parameter, image units per parameter unit.
    model, data, invvar, gain : as in :func:`residuals_and_objective`.

    Returns
    -------
    array (N, F)
        d r / d parameter with N = H * W, consistent with
        :func:`residuals_and_objective`.
    """
    if kind == "chi2":
        scale = -jnp.sqrt(invvar)
    elif kind == "poisson":
        valid = invvar > 0
        mu = jnp.where(valid, model * gain, 1.0)
        scale = jnp.where(valid & (mu > 0), -gain / jnp.sqrt(jnp.where(mu > 0, mu, 1.0)), 0.0)
    else:
        raise ValueError(f"unknown likelihood {kind!r}; choose one of {LIKELIHOODS}")
    f = dmodel.shape[0]
    return (dmodel * scale[None]).reshape(f, -1).T
