"""Likelihoods as whitened residuals plus an objective (pure functions).

Both likelihoods are written for a Gauss-Newton / Levenberg-Marquardt solver as a pair
``(r, objective)`` with ``objective = -2 ln L + const``:

* ``chi2``: r = (d - m) sqrt(w), objective = sum r^2 (w = inverse variance; 0 masks).
* ``poisson``: with counts c = gain d and expectation mu = gain m, the objective is the
  Poisson deviance 2 sum [mu - c + c ln(c / mu)] (the Cash statistic minus its
  model-independent part, so that it tends to chi^2 for large counts), and
  r = (c - mu) / sqrt(mu) with sqrt(mu) held constant in derivatives, which makes the
  Gauss-Newton step the Fisher-scoring step of the Poisson likelihood.
* ``chi2_model``: chi^2 with the variance estimated from the *model* (Imfit's
  ``--model-errors``): var(m) = m / gain + 1 / invvar, i.e. ``gain`` is the effective gain
  G (counts per image unit) and ``invvar`` the inverse of the model-independent part
  (original sky / G + N_comb RN^2 / G^2 in Imfit's terms; 0 masks). r = (d - m) / sqrt(var(m)),
  objective = sum r^2 (no ln var term: this is the statistic Imfit minimises, not a
  Gaussian log-likelihood). The Jacobian keeps the dependence of the variance on the
  model, dr/dm = -[1 + (d - m) / (2 G var)] / sqrt(var), so Gauss-Newton / LM converges to
  the minimum of this chi^2, as Imfit's finite-difference Jacobian does. (Holding var fixed
  per iteration would converge to a different point, the root of sum (d - m) m' / var = 0.)
  Pixels where var(m) <= 0 make the objective infinite.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

__all__ = ["LIKELIHOODS", "residuals_and_objective", "residual_jacobian"]

LIKELIHOODS = ("chi2", "poisson", "chi2_model")


def residuals_and_objective(kind: str, model, data, invvar, gain=1.0):
    """Whitened residuals (N,) and the objective (scalar) of one image.

    Parameters
    ----------
    kind : {"chi2", "poisson", "chi2_model"}
    model, data : array (H, W)
        Image units.
    invvar : array (H, W)
        Inverse variance; 0 excludes a pixel (masked). Only its zero pattern is used
        by the Poisson likelihood; for ``chi2_model`` it is the inverse of the
        model-independent part of the variance.
    gain : float
        Counts per image unit (Poisson and ``chi2_model``).

    Examples
    --------
    >>> import numpy as np
    >>> d = np.array([[4.0, 9.0]]); m = np.array([[5.0, 8.0]])
    >>> r, obj = residuals_and_objective("chi2_model", m, d, np.ones((1, 2)), 1.0)
    >>> round(float(obj), 6)  # (4-5)^2/(5+1) + (9-8)^2/(8+1)
    0.277778
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
    if kind == "chi2_model":
        valid, var = _model_variance(model, invvar, gain)
        ok = jnp.all(jnp.where(valid, var > 0, True))
        r = jnp.where(valid, (data - model) / jnp.sqrt(jnp.where(var > 0, var, 1.0)), 0.0)
        r = r.ravel()
        return r, jnp.where(ok, jnp.sum(r * r), jnp.inf)
    raise ValueError(f"unknown likelihood {kind!r}; choose one of {LIKELIHOODS}")


def residual_scale(kind: str, model, data, invvar, gain=1.0):
    """d r / d model per pixel (H, W): the whitened residuals' Jacobian is this times
    the model's (:func:`residual_jacobian`)."""
    if kind == "chi2":
        return -jnp.sqrt(invvar)
    if kind == "poisson":
        valid = invvar > 0
        mu = jnp.where(valid, model * gain, 1.0)
        return jnp.where(valid & (mu > 0), -gain / jnp.sqrt(jnp.where(mu > 0, mu, 1.0)), 0.0)
    if kind == "chi2_model":
        valid, var = _model_variance(model, invvar, gain)
        good = valid & (var > 0)
        v = jnp.where(good, var, 1.0)
        d = jnp.where(valid, data, 0.0)
        return jnp.where(good, -(1.0 + (d - model) / (2.0 * gain * v)) / jnp.sqrt(v), 0.0)
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
    scale = residual_scale(kind, model, data, invvar, gain)
    f = dmodel.shape[0]
    return (dmodel * scale[None]).reshape(f, -1).T


def _model_variance(model, invvar, gain):
    """(valid, var) for ``chi2_model``: var = model / gain + 1 / invvar on valid pixels."""
    valid = invvar > 0
    floor = 1.0 / jnp.where(valid, invvar, 1.0)
    return valid, jnp.where(valid, model / gain + floor, 1.0)
