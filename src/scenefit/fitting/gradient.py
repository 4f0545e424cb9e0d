"""Gradient-based optimisers on the LM objective: scipy's L-BFGS-B and optax (Adam).

Both minimise the same objective as :func:`~scenefit.fitting.fit` (chi^2 or the Poisson
deviance, plus priors and constraints) over the unconstrained parameters u (bounds are
honoured by the same smooth transforms), with the gradient from autodiff of the
accurate renderer (forward mode, see :func:`_forward_value_and_grad`). The covariance
is that of the LM fit: the inverse Fisher matrix J^T J at the end point. Useful as a
cross-check; for a few hundred parameters LM converges in far fewer evaluations.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import replace

import jax
import jax.numpy as jnp
import numpy as np

from ..parameters import to_unconstrained
from ..render import RenderSettings, image_spec
from .fit import _compiled_programs, finish_fit, make_objective, prepare, problem_args
from .lm import LMResult
from .priors import SoftConstraint, build_priors
from .result import FitResult

__all__ = ["fit_gradient", "GRADIENT_METHODS"]

#: accepted values of ``method``
GRADIENT_METHODS = ("lbfgsb", "adam")


def fit_gradient(
    scene,
    image,
    *,
    method: str = "lbfgsb",
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    max_iter: int = 1000,
    gtol: float = 1e-6,
    ftol: float = 1e-12,
    learning_rate: float = 1.0,
    priors: Mapping | None = None,
    constraints: Sequence[SoftConstraint] = (),
) -> FitResult:
    """Fit a scene by a gradient optimiser (module docstring).

    Parameters
    ----------
    scene, image, likelihood, settings, priors, constraints
        As in :func:`~scenefit.fitting.fit`.
    method : {"lbfgsb", "adam"}
        ``scipy.optimize.minimize(method="L-BFGS-B")``, or ``optax.adam`` (needs the
        optional ``optax`` package: ``pip install 'scenefit[optim]'``).
    max_iter : int
        Iterations (L-BFGS-B) or steps (Adam).
    gtol : float
        Convergence: largest |d objective / d u| (L-BFGS-B's ``pgtol``; for Adam the
        same test on the full gradient).
    ftol : float
        L-BFGS-B's relative objective-change tolerance (``ftol``); Adam stops when ten
        consecutive steps change the objective by less than ``ftol`` x objective.
    learning_rate : float
        Adam's initial step in units of each parameter's Fisher width at the start
        (1 / sqrt of the diagonal of J^T J), decaying to zero over ``max_iter`` steps
        (cosine schedule).

    Returns
    -------
    FitResult
        ``status`` 1 converged, 5 iteration limit, 6 non-finite start; ``message`` says
        which optimiser and why it stopped; ``n_eval`` counts gradient evaluations.

    Raises
    ------
    ValueError
        For an unknown method or likelihood, or a scene with no free parameter.
    ImportError
        For ``method="adam"`` without optax.
    """
    if method not in GRADIENT_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {GRADIENT_METHODS}")
    t0 = time.perf_counter()
    settings, layout, vals, x0 = prepare(scene, image, likelihood, settings)
    spec = image_spec(image)
    kinds = np.asarray(layout.kinds)
    u0 = to_unconstrained(x0, kinds, vals.lo, vals.hi)
    pset = build_priors(layout, vals.base, priors, constraints)
    args = problem_args(vals, image, pset, layout=layout)
    fun = make_objective(layout, spec, settings, likelihood, pset.static)[0]
    value_and_grad = jax.jit(_forward_value_and_grad(lambda u, *a: fun(u, *a)[1]))

    def objective(u):
        f, g = value_and_grad(np.asarray(u, float), *args)
        return float(f), np.asarray(g, float)

    start_obj = objective(u0)[0]
    if not np.isfinite(start_obj):
        u, n_iter, n_eval, status, why = u0, 0, 1, 6, "the objective is not finite at the start"
    elif method == "lbfgsb":
        u, n_iter, n_eval, status, why = _lbfgsb(objective, u0, max_iter, gtol, ftol)
    normal, tail, _ = _compiled_programs(layout, spec, (settings,), likelihood, pset, args)
    if np.isfinite(start_obj) and method == "adam":
        # steps in units of the start's Fisher widths (a whitening by the full matrix
        # was tried and converged worse: the start's correlations mislead), so one
        # rate suits every parameter
        diag = np.diag(np.asarray(normal(np.asarray(u0, float), *args)[2], float))
        whiten = np.diag(1.0 / np.sqrt(np.maximum(diag, 1e-12 * max(float(diag.max()), 1e-300))))
        u, n_iter, n_eval, status, why = _adam(
            objective, u0, whiten, max_iter, gtol, ftol, learning_rate
        )
    obj, _, fisher = (np.asarray(v, float) for v in normal(np.asarray(u, float), *args))
    r_tail = np.zeros(0) if tail is None else np.asarray(tail(np.asarray(u), *args))
    lm = LMResult(u, float(obj), fisher, r_tail, n_iter, n_eval + 1, status, start_obj)
    res = finish_fit(scene, image, layout, vals, pset, lm, likelihood, settings, t0)
    return replace(res, message=f"{method}: {why}")


def _forward_value_and_grad(f):
    """``(f(u), grad f(u))`` by forward mode, one tangent per parameter (the way the LM
    Jacobian is taken). Reverse mode through the adaptive integration was measured to
    give NaN gradients at some trial points (a where-branch that is not taken), which
    stops L-BFGS-B; forward mode does not, and costs the same as one LM
    linearisation."""

    def vg(u, *args):
        def push(t):
            return jax.jvp(lambda v: f(v, *args), (u,), (t,))

        vals, grads = jax.vmap(push)(jnp.eye(u.shape[0], dtype=u.dtype))
        return vals[0], grads

    return vg


def _lbfgsb(objective, u0, max_iter, gtol, ftol):
    from scipy.optimize import minimize

    out = minimize(
        objective,
        u0,
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": int(max_iter), "gtol": gtol, "ftol": ftol},
    )
    status = 1 if out.success else 5 if out.nit >= max_iter else 4
    return out.x, int(out.nit), int(out.nfev), status, str(out.message)


def _adam(objective, u0, whiten, max_iter, gtol, ftol, learning_rate):
    """Adam on z, u = u0 + whiten @ z, with a cosine-decaying rate (steps shrink to
    zero by ``max_iter``, so the end point settles)."""
    try:
        import optax
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError("method='adam' needs optax: pip install 'scenefit[optim]'") from err
    opt = optax.adam(optax.cosine_decay_schedule(learning_rate, int(max_iter)))
    z = np.zeros_like(np.asarray(u0, float))
    state = opt.init(z)
    best_z, best_f = z, np.inf
    quiet = 0
    f_prev = np.inf
    for step in range(1, int(max_iter) + 1):
        f, g = objective(u0 + whiten @ z)
        if f < best_f:
            best_z, best_f = z, f
        if np.max(np.abs(g)) <= gtol:
            return u0 + whiten @ z, step, step, 1, "gradient below gtol"
        quiet = quiet + 1 if abs(f_prev - f) <= ftol * max(abs(f), 1e-300) else 0
        if quiet >= 10:
            return u0 + whiten @ best_z, step, step, 1, "objective unchanged over ten steps"
        f_prev = f
        updates, state = opt.update(whiten.T @ g, state, z)
        z = np.asarray(optax.apply_updates(z, updates), float)
    return u0 + whiten @ best_z, int(max_iter), int(max_iter), 5, "step limit reached"
