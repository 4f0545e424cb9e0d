"""A fit that ends on a bound is restarted once off it (scenefit.fitting.bounds_recheck).

The regression case is the one that exposed the trap: cutout 17 of
``scripts/batch_throughput.make_cutouts(20, 0)`` (true q = 0.935), where the staged fit
used to end at q = 1 - 7e-14 with chi^2 4976 instead of the optimum's 4192.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import scenefit as sf
from scenefit.fitting import fit_batch
from scenefit.fitting.bounds_recheck import near_bounds, recheck_bounds, restart_point
from scenefit.fitting.lm import LMResult
from scenefit.parameters import BOTH, FREE, LOWER, UPPER, physical_and_slope, to_unconstrained

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))


def _result(u, obj, n_iter=3):
    u = np.atleast_1d(np.asarray(u, float))
    return LMResult(u, obj, np.eye(u.size), np.zeros(0), n_iter, n_iter + 1, 1, 100.0)


def test_near_bounds_marks_values_on_either_bound_only():
    lo, hi = np.array([0.0, 0.0, -np.inf]), np.array([1.0, 1.0, np.inf])
    assert near_bounds([1.0 - 1e-9, 0.5, 3.0], lo, hi).tolist() == [True, False, False]
    assert near_bounds([1e-12, 1.0 - 1e-3, -1e9], lo, hi).tolist() == [True, False, False]


def test_a_restart_that_finds_a_lower_point_is_kept_with_both_runs_counted():
    kinds, lo, hi = np.array([BOTH]), np.array([0.0]), np.array([1.0])
    starts = []

    def solve(u):
        starts.append(np.asarray(u, float).copy())
        return _result(to_unconstrained(np.array([0.4]), kinds, lo, hi), 10.0, n_iter=5)

    stuck = _result([40.0], 50.0)  # logistic(40) = 1 - 4e-18: on the upper bound
    out = recheck_bounds(solve, stuck, kinds, lo, hi)
    assert len(starts) == 1
    # the restart starts RESTART_NUDGE (0.1 of the range) inside the bound
    assert 1.0 / (1.0 + np.exp(-starts[0][0])) == pytest.approx(0.9)
    assert out.obj == 10.0 and out.n_iter == 8 and out.start_obj == 100.0


def test_a_restart_moves_only_the_parameters_on_a_bound():
    kinds = np.array([BOTH, BOTH, LOWER, UPPER, FREE])
    lo = np.array([0.0, 0.0, 2.0, -np.inf, -np.inf])
    hi = np.array([1.0, 1.0, np.inf, 5.0, np.inf])
    x = np.array([1e-12, 0.95, 2.0 + 1e-9, 5.0 - 1e-9, 3.0])
    back, _ = physical_and_slope(restart_point(x, kinds, lo, hi), kinds, lo, hi)
    # 0.1 of the range (of max(|x|, 1) for one-sided bounds) inside; 0.95 stays
    np.testing.assert_allclose(back, [0.1, 0.95, 2.2, 4.5, 3.0], rtol=1e-9)


def test_an_optimum_on_the_bound_is_kept_and_an_interior_result_not_restarted():
    kinds, lo, hi = np.array([BOTH]), np.array([0.0]), np.array([1.0])
    calls = []

    def solve(u):
        calls.append(u)
        return _result([40.0], 50.0 + 1e-9)  # comes back to the bound, no lower

    on_bound = _result([40.0], 50.0)
    assert recheck_bounds(solve, on_bound, kinds, lo, hi).u[0] == 40.0
    inside = _result([0.3], 50.0)
    assert recheck_bounds(solve, inside, kinds, lo, hi) is inside
    assert len(calls) == 1


@pytest.fixture(scope="module")
def cutout_17():
    from batch_throughput import make_cutouts

    images, starts, truths = make_cutouts(20, 0)
    return images[17], starts[17], truths[17]


def test_staged_fit_leaves_the_q_bound_it_used_to_stick_to(cutout_17):
    image, start, truth = cutout_17
    staged = sf.fit(start, image)
    plain = sf.fit(start, image, staged=False)
    assert staged.at_bound == ()
    assert staged.objective == pytest.approx(plain.objective, abs=1e-3)
    q, dq = staged.value("sersic.q"), staged.error("sersic.q")
    assert abs(q - truth.components[0].q.value) < 3.5 * dq


def test_batch_fit_leaves_the_q_bound_too(cutout_17):
    image, start, truth = cutout_17
    other = start.with_values(np.asarray(truth.values()))  # a second, easy object
    res = fit_batch([start, other], [image, image])
    assert all(r.at_bound == () for r in res)
    assert res[0].objective == pytest.approx(res[1].objective, abs=1e-2)
