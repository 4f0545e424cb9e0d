"""Staged Levenberg-Marquardt: iterate on a cheap integration rule, converge on the
accurate one by defect correction.

Most of an LM fit is spent far from the optimum, where the integration accuracy of the
model hardly matters. A staged fit therefore runs :func:`~.lm.lm_host` on the cheap
rule (:meth:`~scenefit.render.RenderSettings.coarse`: no error-driven refinement),
then corrects it: with the defect image D(u_k) = m_accurate(u_k) - m_cheap(u_k) frozen,
the model m_cheap(u) + D(u_k) agrees with the accurate model at u_k and has the cheap
Jacobian, so minimising it from u_k moves towards the accurate optimum. Each round
costs one accurate render; the error of a round shrinks by about |dD/du| / |dm/du|
(the relative integration error of the cheap rule's derivatives, ~1e-3), so one or two
rounds leave the accurate objective within ``dchi2`` of its minimum.

The accurate rule's Jacobian is never computed: the covariance comes from the cheap
rule's J^T J at the final point (it differs from the accurate one by the cheap rule's
relative derivative error). The final objective is the accurate one, exactly.
"""

from __future__ import annotations

import numpy as np

from .lm import LMResult, damped_step, lm_host

__all__ = ["lm_staged"]

#: a round that lowers the accurate objective by no more than this (chi^2 units; a
#: parameter shift of ~1e-3 sigma) ends the correction
DCHI2 = 1e-6
#: relative objective change that ends the first (cheap-rule) stage: it only has to
#: reach the quadratic regime, since the correction rounds take Gauss-Newton steps to
#: ``ftol`` on the accurate objective (saves the last one or two LM iterations)
STAGE1_FTOL = 1e-6


def lm_staged(
    normal,
    defect,
    u0,
    max_iter,
    ftol=1e-9,
    xtol=1e-10,
    step_cap=None,
    tail=None,
    max_rounds=6,
    dchi2=DCHI2,
    progress=None,
):
    """Minimise the accurate objective through the cheap one (module docstring).

    The first stage is a full LM run with the defect of the starting point frozen (so
    its starting objective is the accurate one); each correction round then freezes
    the defect at the current point and takes one Gauss-Newton step, until the step's
    predicted decrease of the accurate objective is at most ``max(dchi2, ftol *
    objective)``. The next round's accurate objective tests the step: one that does not
    lower it is undone and a full LM round (with the earlier defect) taken instead.

    Parameters
    ----------
    normal : callable
        ``normal(u, offset) -> (objective, J^T r, J^T J)`` of the cheap model with the
        image ``offset`` added to it.
    defect : callable
        ``u -> accurate model image - cheap model image``.
    u0 : array (F,)
    max_iter : int
        Iterations of all stages together (a correction round counts as one).
    ftol, xtol, step_cap
        As in :func:`~.lm.lm_host`.
    tail : callable, optional
        ``u -> residuals`` reported in :attr:`LMResult.r_tail` at the final point.
    max_rounds : int
        Correction rounds before giving up.
    dchi2 : float
        Predicted decrease (objective units) below which the correction stops.
    progress : callable, optional
        As in :func:`~.lm.lm_host` (the iteration count restarts in each LM stage).

    Returns
    -------
    LMResult or None
        ``None`` when the correction did not settle within ``max_rounds`` or raised
        the accurate objective; the caller then fits with the accurate rule directly.
    """
    cap = None if step_cap is None else np.asarray(step_cap, float)

    def lm_round(u, off, tol, budget):  # a full LM run with the defect ``off`` frozen
        return lm_host(
            lambda v: normal(v, off), u, budget, tol, xtol, step_cap=step_cap, progress=progress
        )

    u = np.asarray(u0, float)
    first = lm_round(u, defect(u), max(ftol, STAGE1_FTOL), max_iter)
    n_iter, n_eval = first.n_iter, first.n_eval + 1
    if first.status == 6:  # not finite at the start
        return first
    u, best = np.asarray(first.u, float), np.inf
    before = None  # (u, defect) before an untested Gauss-Newton step
    for _ in range(max_rounds):
        off = defect(u)
        obj, g, A = (np.asarray(v, float) for v in normal(u, off))
        obj = float(obj)
        n_eval += 2
        if before is not None and not (np.isfinite(obj) and obj < best):
            u, off = before  # the step raised the accurate objective: a full LM round
            rnd = lm_round(u, off, ftol, max(int(max_iter) - n_iter, 1))
            n_iter, n_eval = n_iter + rnd.n_iter, n_eval + rnd.n_eval
            u, before = np.asarray(rnd.u, float), None
            continue
        if not np.isfinite(obj) or obj > best:
            return None  # the correction diverges
        best = obj
        step = damped_step(A, g, 1e-9, cap)[0]  # Gauss-Newton, barely damped
        pred = float(-2.0 * step @ g - step @ (A @ step))
        if pred <= max(dchi2, ftol * obj) or n_iter >= max_iter:
            break
        n_iter += 1
        before = (u, off)
        u = u + step
    else:
        return None
    return LMResult(
        u=u,
        obj=obj,
        fisher=A,
        r_tail=np.zeros(0) if tail is None else np.asarray(tail(u)),
        n_iter=n_iter,
        n_eval=n_eval,
        status=5 if n_iter >= max_iter and first.status == 0 else first.status,
        start_obj=first.start_obj,
    )
