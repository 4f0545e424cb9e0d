"""A second look at fits that end on a bound.

Bounded parameters are fitted through saturating transforms (logistic, exponential:
:mod:`scenefit.parameters`). Once a step takes one onto its bound, dx/du is ~0 there and
the fitter cannot come back, even when the optimum lies inside: a Sersic with true q =
0.935 was measured to end at q = 1 - 7e-14 with chi^2 4976 where the optimum (q =
0.937) has 4192 (scripts/batch_throughput.py, cutout 17 of seed 0). So a fit that ends
with a parameter on a bound is restarted once with those parameters moved back inside
by ``RESTART_NUDGE`` of their range, and the lower objective of the two runs is kept.
A parameter whose optimum really is on the bound returns there. A restart only 1e-2 of
the range inside (as a start on a bound is moved) was measured to fall back onto the
bound from there: on that cutout, with 1e-14 relative changes to the Sersic b_n, the
batch fitter's restart ended at q = 1 again (chi^2 4976); from 0.1 both fitters reach
the optimum.
"""

from __future__ import annotations

import numpy as np

from ..parameters import physical_and_slope, to_unconstrained
from .lm import LMResult

__all__ = ["near_bounds", "recheck_bounds"]

#: a parameter within this fraction of its range (or of max(|x|, 1) for one-sided
#: bounds) of a bound counts as on it (as FitResult.at_bound reports it)
NEAR = 1e-6
#: a restart moves a parameter on a bound this fraction of its range (of max(|x|, 1)
#: for one-sided bounds) inside
RESTART_NUDGE = 0.1


def near_bounds(x, lo, hi):
    """Boolean mask of the physical values ``x`` that sit on a bound (``NEAR``)."""
    x, lo, hi = (np.asarray(v, float) for v in (x, lo, hi))
    width = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(np.abs(x), 1.0))
    return (np.abs(x - lo) <= NEAR * width) | (np.abs(hi - x) <= NEAR * width)


def restart_point(x, kinds, lo, hi):
    """Unconstrained start of a restart from the physical values ``x`` (F,): the
    parameters on a bound moved ``RESTART_NUDGE`` of their range inside, the others
    as they are (:func:`~scenefit.parameters.to_unconstrained`).

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit.parameters import BOTH, physical_and_slope
    >>> u = restart_point([1.0, 0.5], [BOTH, BOTH], [0.0, 0.0], [1.0, 1.0])
    >>> np.round(physical_and_slope(u, [BOTH, BOTH], [0.0, 0.0], [1.0, 1.0])[0], 6)
    array([0.9, 0.5])
    """
    x, lo, hi = (np.asarray(v, float) for v in (x, lo, hi))
    on = near_bounds(x, lo, hi)
    width = np.where(np.isfinite(hi - lo), hi - lo, np.maximum(np.abs(x), 1.0))
    step = RESTART_NUDGE * width
    low = np.isfinite(lo) & (np.abs(x - lo) <= np.abs(hi - x))  # the nearer bound
    moved = np.where(low, np.where(np.isfinite(lo), lo, x) + step, hi - step)
    return to_unconstrained(np.where(on, moved, x), kinds, lo, hi)


def recheck_bounds(solve, result: LMResult, kinds, lo, hi) -> LMResult:
    """Restart ``solve`` once off the bounds that ``result`` ended on; keep the better.

    Parameters
    ----------
    solve : callable
        ``u_start -> LMResult`` (the fit to repeat; compiled programs are reused).
    result : LMResult
        The finished first run.
    kinds, lo, hi : array (F,)
        Bound kinds and bounds of the free parameters (physical units).

    Returns
    -------
    LMResult
        ``result`` when no parameter is on a bound or the restart is not lower;
        otherwise the restart, with the iterations of both runs counted.
    """
    if result.status == 6 or not np.isfinite(result.obj):
        return result
    kinds = np.asarray(kinds)
    x = physical_and_slope(result.u, kinds, lo, hi)[0]
    if not near_bounds(x, lo, hi).any():
        return result
    again = solve(restart_point(x, kinds, lo, hi))
    n_iter, n_eval = result.n_iter + again.n_iter, result.n_eval + again.n_eval
    if not (np.isfinite(again.obj) and again.obj < result.obj):
        return result._replace(n_iter=n_iter, n_eval=n_eval)
    return again._replace(n_iter=n_iter, n_eval=n_eval, start_obj=result.start_obj)
