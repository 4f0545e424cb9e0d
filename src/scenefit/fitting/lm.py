"""Levenberg-Marquardt: a pure, jit-compiled damped Gauss-Newton solver.

Marquardt's diagonal scaling with Nielsen's (1999) damping update. The damped normal
matrix J^T J + lambda D (D the diagonal of J^T J, floored) is positive definite for any
lambda > 0, so the step never fails on a singular J^T J; a step that produces a
non-finite objective is rejected and the damping raised.

Two drivers share these rules. :func:`lm_solve` runs the whole iteration inside one
``lax.while_loop`` (pure, vmap-able: the batch fitter uses it); the model function is
traced twice (residuals at a trial point; residuals with the Jacobian by forward mode,
only after an accepted step). :func:`lm_host` iterates on the host around one compiled
function (the objective with the normal equations J^T J, J^T r), which keeps the
Jacobian on the device: single fits use it.

Status codes (``LM_MESSAGES``): 1-3 converged, 4 stalled, 5 iteration limit, 6 the
starting point has a non-finite objective.
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = [
    "LMState",
    "LMResult",
    "lm_solve",
    "lm_host",
    "lm_result",
    "LM_MESSAGES",
    "CONVERGED",
    "residuals_and_jacobian",
]

LM_MESSAGES = {
    0: "running",
    1: "converged: relative change of the objective below ftol",
    2: "converged: relative step size below xtol",
    3: "converged: gradient below gtol",
    4: "stalled: no step reduces the objective (damping exhausted)",
    5: "not converged: iteration limit reached",
    6: "failed: the objective is not finite at the starting point",
}
CONVERGED = (1, 2, 3)


class LMState(NamedTuple):
    u: jax.Array  # current point (F,)
    r: jax.Array  # residuals at u (N,)
    obj: jax.Array  # objective at u
    jac: jax.Array  # dr/du at u (N, F) -- valid when need_jac is False
    need_jac: jax.Array  # the Jacobian must be (re)computed at u
    lam: jax.Array
    nu: jax.Array
    n_iter: jax.Array
    n_eval: jax.Array
    status: jax.Array
    start_obj: jax.Array  # objective at the starting point


def residuals_and_jacobian(fun, u):
    """``(r, objective, J)`` in one forward-mode pass (primal computed once)."""

    def pushforward(t):
        return jax.jvp(fun, (u,), (t,))

    (r, obj), (jr, _) = jax.vmap(pushforward, out_axes=((None, None), (1, 0)))(
        jnp.eye(u.shape[0], dtype=u.dtype)
    )
    return r, obj, jr


def lm_solve(
    fun,
    u0,
    max_iter,
    ftol=1e-9,
    xtol=1e-10,
    gtol=1e-12,
    lam0=1e-3,
    linearize=None,
    step_cap=None,
    eager_jacobian=False,
):
    """Minimise ``objective`` with residuals ``r`` from ``fun(u) -> (r, objective)``.

    Parameters
    ----------
    fun : callable
        ``u (F,) -> (r (N,), objective ())``; the Gauss-Newton model is |r + J du|^2.
    u0 : array (F,)
        Start (unconstrained parameters).
    max_iter : int or array
        Maximum number of iterations (accepted plus rejected steps).
    ftol, xtol, gtol : float
        Tolerances on the relative objective change, the relative step and the
        scaled gradient.
    lam0 : float
        Initial damping (relative to the diagonal of J^T J).
    linearize : callable, optional
        ``u -> (r, objective, J)``; default: forward-mode over ``fun``
        (:func:`residuals_and_jacobian`). Pass a structured (e.g. block-sparse)
        Jacobian here.
    step_cap : array (F,), optional
        Largest change of each u per iteration (inf for none); a longer step is
        shortened as a whole, keeping its direction. Bounded parameters use a cap of a
        few units so that a parameter starting near a bound, where the transform is
        nearly flat, does not jump across the whole range on a linearisation that
        holds only locally.
    eager_jacobian : bool
        Linearise at every trial point (residuals and Jacobian in one pass) instead of
        evaluating residuals there and linearising only after an accepted step. This
        avoids ``lax.cond``, which ``jax.vmap`` turns into evaluating both branches:
        use it when the solver is vmapped over many problems.

    Returns
    -------
    LMState
        Final state with the Jacobian at the final point; ``status`` as in
        ``LM_MESSAGES``.
    """
    if linearize is None:

        def linearize(u):
            return residuals_and_jacobian(fun, u)

    n, f = jax.eval_shape(fun, u0)[0].shape[0], u0.shape[0]
    if eager_jacobian:
        r0, obj0, jac0 = linearize(u0)
    else:
        r0, obj0, jac0 = jnp.zeros(n), jnp.asarray(jnp.inf), jnp.zeros((n, f))
    init = LMState(
        u=u0,
        r=r0,
        obj=jnp.asarray(obj0),
        jac=jac0,
        need_jac=jnp.asarray(not eager_jacobian),
        lam=jnp.asarray(lam0, float),
        nu=jnp.asarray(2.0),
        n_iter=jnp.asarray(0),
        n_eval=jnp.asarray(0),
        status=jnp.asarray(0),
        start_obj=jnp.asarray(obj0),
    )

    def cond(s):
        # keep going while running, and once more after the end to relinearise
        return ((s.status == 0) & (s.n_iter < max_iter)) | s.need_jac

    def body(s):
        # 1. (re)linearise at u after an accepted step (or at the start)
        if eager_jacobian:
            r, obj, J = s.r, s.obj, s.jac
        else:
            r, obj, J = jax.lax.cond(
                s.need_jac,
                linearize,
                lambda u: (s.r, s.obj, s.jac),
                s.u,
            )
        done = s.status != 0  # this pass only relinearised at the final point
        bad_start = ~jnp.isfinite(obj)
        # 2. damped Gauss-Newton step
        A = J.T @ J
        g = J.T @ r
        d = jnp.diag(A)
        D = jnp.maximum(d, 1e-12 * jnp.maximum(jnp.max(d), 1e-300))
        step = -jnp.linalg.solve(A + s.lam * jnp.diag(D), g)
        step = jnp.where(jnp.all(jnp.isfinite(step)), step, 0.0)
        if step_cap is not None:
            shrink = jnp.min(jnp.where(jnp.abs(step) > step_cap, step_cap / jnp.abs(step), 1.0))
            step = step * shrink
        u_new = s.u + step
        if eager_jacobian:
            r_new, f_new, J_new = linearize(u_new)
        else:
            r_new, f_new = fun(u_new)
        pred = -2.0 * step @ g - step @ (A @ step)
        actual = obj - f_new
        rho = actual / jnp.where(pred > 0, pred, jnp.inf)
        ok = jnp.isfinite(f_new) & (rho > 1e-4) & jnp.any(step != 0) & ~bad_start & ~done
        # 3. damping update (Nielsen)
        lam = jnp.where(
            ok, s.lam * jnp.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), s.lam * s.nu
        )
        nu = jnp.where(ok, 2.0, 2.0 * s.nu)
        # 4. convergence
        scale = jnp.maximum(obj, 1e-300)
        f_conv = ok & (actual <= ftol * scale) & (pred <= ftol * scale)
        x_conv = ok & (jnp.linalg.norm(step) <= xtol * (jnp.linalg.norm(s.u) + xtol))
        g_conv = jnp.max(jnp.abs(g) / jnp.sqrt(D)) <= gtol * jnp.sqrt(scale)
        status = jnp.select([bad_start, f_conv, x_conv, g_conv, lam > 1e16], [6, 1, 2, 3, 4], 0)
        n_iter = s.n_iter + jnp.where(done, 0, 1)
        status = jnp.where((status == 0) & (n_iter >= max_iter), 5, status)
        status = jnp.where(done, s.status, status)
        return LMState(
            u=jnp.where(ok, u_new, s.u),
            r=jnp.where(ok, r_new, r),
            obj=jnp.where(ok, f_new, obj),
            jac=jnp.where(ok, J_new, J) if eager_jacobian else J,
            need_jac=jnp.zeros((), bool) if eager_jacobian else ok,
            lam=jnp.where(done, s.lam, lam),
            nu=nu,
            n_iter=n_iter,
            n_eval=s.n_eval + jnp.where(done, 0, 1) + s.need_jac.astype(int),
            status=status,
            start_obj=jnp.where(s.n_eval == 0, obj, s.start_obj),
        )

    return jax.lax.while_loop(cond, body, init)


class LMResult(NamedTuple):
    """What a finished fit hands on (from :func:`lm_host`, or from an :class:`LMState`
    by :func:`lm_result`): arrays are numpy."""

    u: object  # final point (F,)
    obj: float  # objective there
    fisher: object  # J^T J at u, unconstrained parameters (F, F)
    r_tail: object  # the last residuals at u (prior/constraint residuals, when asked)
    n_iter: int
    n_eval: int
    status: int
    start_obj: float


def lm_result(state: LMState, n_tail: int = 0) -> LMResult:
    """:class:`LMResult` of a final :class:`LMState` (one problem, not a batch)."""
    jac = np.asarray(state.jac)
    r = np.asarray(state.r)
    return LMResult(
        u=np.asarray(state.u),
        obj=float(state.obj),
        fisher=jac.T @ jac,
        r_tail=r[r.shape[0] - n_tail :],
        n_iter=int(state.n_iter),
        n_eval=int(state.n_eval),
        status=int(state.status),
        start_obj=float(state.start_obj),
    )


def damped_step(A, g, lam, cap=None, max_clip_rounds=4):
    """The LM step -(A + lam D)^-1 g in numpy (D the diagonal of A, floored), zero if
    the solve fails; returns ``(step, D)``.

    With ``cap``, a component longer than its cap is clipped to it and the step of the
    other components is solved again with the clipped ones held (the minimiser of the
    damped quadratic model on that face of the box), up to ``max_clip_rounds`` times;
    a step still too long is then shortened as a whole. Shortening the whole step
    instead lets one parameter heading for a bound hold back all the others: on big
    scenes of overlapping galaxies the fit then crawls for tens of iterations."""
    d = np.diag(A)
    D = np.maximum(d, 1e-12 * max(float(d.max(initial=0.0)), 1e-300))
    M = A + lam * np.diag(D)
    step = _solve(M, g)
    if cap is None:
        return step, D
    held = np.zeros(g.shape, bool)
    for _ in range(max_clip_rounds):
        over = (np.abs(step) > cap) & ~held
        if not over.any():
            break
        held |= over
        step = np.where(over, np.sign(step) * cap, step)
        free = ~held
        if not free.any():
            break
        step[free] = _solve(M[np.ix_(free, free)], g[free] + M[np.ix_(free, held)] @ step[held])
    over = np.abs(step) > cap
    if over.any():
        step = step * np.min(cap[over] / np.abs(step[over]))
    return step, D


def _solve(M, g):
    """-M^-1 g, zero where the solve fails or is not finite."""
    try:
        step = -np.linalg.solve(M, g)
    except np.linalg.LinAlgError:
        return np.zeros_like(g)
    return step if np.all(np.isfinite(step)) else np.zeros_like(g)


def lm_host(
    normal,
    u0,
    max_iter,
    ftol=1e-9,
    xtol=1e-10,
    gtol=1e-12,
    lam0=1e-3,
    step_cap=None,
    tail=None,
    progress=None,
) -> LMResult:
    """:func:`lm_solve`'s algorithm with the iteration on the host.

    The model is only ever touched through one compiled function, ``normal(u) ->
    (objective, J^T r, J^T J)``, at every trial point: steps are mostly accepted, and
    then the trial point's normal equations are the next step's (a separate objective
    at trial points, then the normal equations after acceptance, cost more: one more
    call per accepted step, one more compiled program). The F x F algebra runs in
    numpy and the Jacobian never leaves the device. Same damping, acceptance and
    convergence rules and status codes as :func:`lm_solve`; the step cap clips the
    components that exceed it and re-solves for the others (:func:`damped_step`)
    instead of shortening the whole step.

    Parameters
    ----------
    normal : callable
        As above; arrays may be JAX or numpy.
    u0 : array (F,)
    max_iter : int
    ftol, xtol, gtol, lam0, step_cap
        As in :func:`lm_solve`.
    tail : callable, optional
        ``u -> residuals`` reported in :attr:`LMResult.r_tail` at the final point.
    progress : callable, optional
        Called after every iteration as ``progress(n_iter, objective, lam, accepted)``
        (e.g. to print a line per iteration of a long fit).

    Returns
    -------
    LMResult
    """
    u = np.asarray(u0, float)
    cap = None if step_cap is None else np.asarray(step_cap, float)

    def linearise(v):
        o, gv, Av = (np.asarray(a, float) for a in normal(v))
        return float(o), gv, Av

    obj, g, A = linearise(u)
    start_obj = obj
    n_eval, n_iter, status = 1, 0, 0
    lam, nu = float(lam0), 2.0
    if not np.isfinite(obj):
        status = 6
    while status == 0 and n_iter < max_iter:
        step, D = damped_step(A, g, lam, cap)
        u_new = u + step
        trial = linearise(u_new)
        f_new = trial[0]
        n_eval += 1
        pred = float(-2.0 * step @ g - step @ (A @ step))
        actual = obj - f_new
        rho = actual / pred if pred > 0 else 0.0
        ok = bool(np.isfinite(f_new) and rho > 1e-4 and np.any(step != 0))
        lam = lam * max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3) if ok else lam * nu
        nu = 2.0 if ok else 2.0 * nu
        scale = max(obj, 1e-300)
        f_conv = ok and actual <= ftol * scale and pred <= ftol * scale
        x_conv = ok and np.linalg.norm(step) <= xtol * (np.linalg.norm(u) + xtol)
        g_conv = float(np.max(np.abs(g) / np.sqrt(D))) <= gtol * np.sqrt(scale)
        n_iter += 1
        status = 1 if f_conv else 2 if x_conv else 3 if g_conv else 4 if lam > 1e16 else 0
        if status == 0 and n_iter >= max_iter:
            status = 5
        if ok:
            u = u_new
            obj, g, A = trial
        if progress is not None:
            progress(n_iter, obj, lam, ok)
    r_tail = np.zeros(0) if tail is None else np.asarray(tail(u))
    return LMResult(u, obj, A, r_tail, n_iter, n_eval, status, start_obj)
