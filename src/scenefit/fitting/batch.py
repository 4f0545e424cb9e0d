"""fit_batch(): many independent LM fits of same-structure cutouts in one call.

The compiled LM solver of :func:`scenefit.fitting.fit` (staged: cheap rule, then defect
correction) is either mapped with ``jax.vmap`` over the objects -- every object keeps
its own parameters, damping, iteration count and status; the vectorised ``while_loop``
runs until the last object stops, finished objects are frozen; the solver linearises
at every trial point (``eager_jacobian``), since under ``vmap`` a conditional Jacobian
would be computed on every iteration anyway -- or, on a CPU, compiled once for one
object and run over the objects by one host thread per core. One compilation serves
the whole batch either way."""

from __future__ import annotations

import os
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .._layout import build_layout
from ..likelihood import LIKELIHOODS
from ..parameters import physical_and_slope, to_unconstrained
from ..render import RenderSettings, image_spec
from ..render._psf_mixture import pad_psf_mixture
from ..render.renderer import check_scene_and_image
from .bounds_recheck import near_bounds, restart_point
from .fit import _BOUNDED_STEP_CAP as BOUNDED_STEP_CAP
from .fit import finish_fit, make_defect, make_objective, make_solver, problem_args
from .lm import lm_result
from .priors import SoftConstraint, build_priors
from .result import FitResult
from .staged import DCHI2

__all__ = ["fit_batch", "BatchError"]


class BatchError(ValueError):
    """Scenes or images of a batch that do not share one structure."""


def fit_batch(
    scenes,
    images: Sequence,
    *,
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    max_iter: int = 200,
    ftol: float = 1e-9,
    xtol: float = 1e-10,
    priors: Mapping | None = None,
    constraints: Sequence[SoftConstraint] = (),
    method: str = "auto",
    staged: bool = True,
) -> list[FitResult]:
    """Fit one scene structure to many same-size cutouts, all in one vectorised call.

    Parameters
    ----------
    scenes : Scene or sequence of Scene
        One starting scene used for every image, or one per image. All must have the
        same structure: the same component types and names, the same fixed flags,
        ties and kinds of bounds (the numbers may differ).
    images : sequence of Image
        Cutouts of one shape with PSFs of one shape and oversampling (the PSF pixels,
        pixel scales, weights and masks may differ).
    likelihood, settings, max_iter, ftol, xtol, priors, constraints
        As in :func:`scenefit.fitting.fit` (the same priors for every object).
    method : {"auto", "vmap", "map"}
        ``"vmap"``: all objects advance together through one vectorised solver (best
        on a GPU); ``"map"``: one compiled per-object solver, each object run to its
        end, objects spread over one thread per CPU core (best on a CPU, where
        vectorising only adds work); ``"auto"``: ``"vmap"`` on GPU/TPU, ``"map"`` on
        CPU. Both give the same results as single fits.
    staged : bool
        Iterate on the cheap integration rule and converge on the accurate one by
        defect correction, as :func:`scenefit.fitting.fit` does (Gauss-Newton
        correction rounds, at most ``STAGED_ROUNDS`` per object, inside the compiled
        loop; the reported objective is the accurate one at the final point). Ignored
        when the settings have no cheaper rule.

    Returns
    -------
    list of FitResult
        One per image, in order. An object with fewer valid pixels than free
        parameters is not fitted: its status is 6 (non-finite objective) and
        ``converged`` is False; an object that does not converge is flagged by its
        status as in a single fit. Neither affects the others. ``seconds`` is the
        batch wall time divided by the number of objects; ``extra["batch_index"]``
        is the position in the batch.

    Raises
    ------
    BatchError
        If the scenes or images do not share one structure, or the lengths differ.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, FlatSky
    >>> rng = np.random.default_rng(1)
    >>> imgs = [Image(rng.normal(v, 0.1, (16, 16)), sigma=0.1) for v in (1.0, 2.0, 3.0)]
    >>> res = fit_batch(Scene([FlatSky(sky=0.0)]), imgs)
    >>> [round(r.value("flat_sky.sky")) for r in res]
    [1, 2, 3]
    """
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
    if method == "auto":
        method = "map" if jax.default_backend() == "cpu" else "vmap"
    if method not in ("vmap", "map"):
        raise ValueError(f"method must be 'auto', 'vmap' or 'map', got {method!r}")
    images = list(images)
    if not images:
        raise BatchError("fit_batch needs at least one image")
    if isinstance(scenes, Sequence):
        scenes = list(scenes)
        if len(scenes) != len(images):
            raise BatchError(f"got {len(scenes)} scenes for {len(images)} images; give one each")
    else:
        scenes = [scenes] * len(images)
    settings = settings or RenderSettings()
    if method == "vmap":  # vmapped, every refinement chunk would run (same images)
        settings = replace(settings, refine_ladder=False)
    coarse = settings.coarse() if staged else None
    t0 = time.perf_counter()

    spec = image_spec(images[0])
    layout = None
    rows = []
    for k, (scene, image) in enumerate(zip(scenes, images, strict=True)):
        check_scene_and_image(scene, image)
        lay, vals, x0 = build_layout(scene)
        if layout is None:
            layout = lay
            if layout.n_free == 0:
                raise ValueError("no free parameters: every parameter is fixed or tied")
        elif lay != layout:
            raise BatchError(
                f"scene {k} has a different structure from scene 0 (components, fixed "
                "flags, ties or bound kinds differ); batch only same-structure scenes"
            )
        if image_spec(image) != spec:
            raise BatchError(
                f"image {k} has shape/PSF {image_spec(image)}, image 0 has {spec}; "
                "cut all images to one size with one PSF size"
            )
        rows.append((vals, x0))

    kinds = np.asarray(layout.kinds)
    psets = [build_priors(layout, vals.base, priors, constraints) for vals, _ in rows]
    static = psets[0].static
    u0 = np.stack([to_unconstrained(x0, kinds, v.lo, v.hi) for v, x0 in rows])
    per_object = [
        problem_args(v, img, ps, offset=coarse is not None, layout=layout)
        for (v, _), img, ps in zip(rows, images, psets, strict=True)
    ]
    _pad_psf_mixtures(per_object)
    # too few valid pixels: poison the data so that the objective is non-finite (status 6)
    for k, img in enumerate(images):
        if img.n_valid < layout.n_free:
            args = list(per_object[k])
            args[3] = jnp.full_like(args[3], jnp.nan)
            per_object[k] = tuple(args)
    stacked = jax.tree_util.tree_map(lambda *a: jnp.stack([jnp.asarray(x) for x in a]), *per_object)

    solve = _batched(layout, spec, settings, coarse, likelihood, static, method)
    states = solve(jnp.asarray(u0), int(max_iter), float(ftol), float(xtol), *stacked)
    states = jax.tree_util.tree_map(np.asarray, states)
    states = _recheck_bounds(
        solve,
        states,
        kinds,
        rows,
        (int(max_iter), float(ftol), float(xtol)),
        stacked,
        only_flagged=method == "map",
    )
    per_second = (time.perf_counter() - t0) / len(images)

    out = []
    for k, (scene, image) in enumerate(zip(scenes, images, strict=True)):
        state_k = jax.tree_util.tree_map(lambda a, k=k: a[k], states)
        done = lm_result(state_k, psets[k].size)
        res = finish_fit(scene, image, layout, rows[k][0], psets[k], done, likelihood, settings, t0)
        out.append(_with_batch_info(res, k, per_second))
    return out


def _recheck_bounds(solve, states, kinds, rows, controls, stacked, only_flagged=False):
    """Objects that ended on a bound, restarted once off it (:mod:`.bounds_recheck`).

    With ``only_flagged`` (the per-object loop) only those objects are solved again;
    otherwise (vmap, where another batch size would recompile) the whole batch is, with
    the others started at their results, where they stop at once. An object keeps the
    restart only where its objective is lower.
    """
    lo = np.stack([v.lo for v, _ in rows])
    hi = np.stack([v.hi for v, _ in rows])
    kinds_b = np.broadcast_to(kinds, lo.shape)
    x = physical_and_slope(states.u, kinds_b, lo, hi)[0]
    flagged = near_bounds(x, lo, hi).any(axis=1) & np.isfinite(states.obj)
    flagged &= states.status != 6
    if not flagged.any():
        return states
    u1 = np.array(states.u)
    for k in np.flatnonzero(flagged):
        u1[k] = restart_point(x[k], kinds, lo[k], hi[k])
    if only_flagged:
        idx = np.flatnonzero(flagged)
        part = jax.tree_util.tree_map(lambda a: np.asarray(a)[idx], stacked)
        sub = jax.tree_util.tree_map(np.asarray, solve(u1[idx], *controls, *part))
        again = jax.tree_util.tree_map(lambda a, b: _scatter(a, b, idx), states, sub)
    else:
        again = jax.tree_util.tree_map(np.asarray, solve(jnp.asarray(u1), *controls, *stacked))
    take = flagged & np.isfinite(again.obj) & (again.obj < states.obj)

    def pick(a, b):
        t = take.reshape((-1,) + (1,) * (a.ndim - 1))
        return np.where(t, b, a)

    out = jax.tree_util.tree_map(pick, states, again)
    return out._replace(
        n_iter=np.where(flagged, states.n_iter + again.n_iter, states.n_iter),
        n_eval=np.where(flagged, states.n_eval + again.n_eval, states.n_eval),
        start_obj=states.start_obj,
    )


def _scatter(full, part, idx):
    """``full`` with rows ``idx`` replaced by ``part`` (a copy)."""
    out = np.array(full)
    out[idx] = part
    return out


def _pad_psf_mixtures(per_object) -> None:
    """Give every image's PSF Gaussian mixture (inputs of Gaussian-mixture profiles)
    the same number of rows, so that the inputs stack (zero-weight rows, in place)."""
    mixes = [args[6].get("psf_mixture") for args in per_object]
    if any(m is None for m in mixes):
        return
    k = max(m.shape[0] for m in mixes)
    for args, m in zip(per_object, mixes, strict=True):
        args[6]["psf_mixture"] = jnp.asarray(pad_psf_mixture(m, k))


def _with_batch_info(res: FitResult, k: int, seconds: float) -> FitResult:
    return replace(res, seconds=seconds, extra={**res.extra, "batch_index": k})


#: Gauss-Newton correction rounds of a staged batch fit after its first (cheap-rule) LM
#: stage, at most (as :func:`~.staged.lm_staged`; one or two settle it in
#: tests/test_staged.py)
STAGED_ROUNDS = 6


def _staged_solver(layout, spec, settings, coarse, likelihood, prior_static, eager):
    """``solve(u0, max_iter, ftol, xtol, *args)`` of a staged fit, as one traceable
    function that follows :func:`~.staged.lm_staged`: an LM run on the cheap rule with
    the defect image of the starting point frozen, then up to ``STAGED_ROUNDS``
    correction rounds, each freezing the defect at the current point and taking one
    barely damped Gauss-Newton step, until the step's predicted decrease is at most
    ``max(DCHI2, ftol * objective)``. A step that does not lower the objective gets a
    full LM round instead (``eager``, i.e. vmapped: the correction stops there, since a
    vmapped ``lax.cond`` would run the LM round for every object). The returned state
    holds the accurate residuals and objective at the final point and the cheap rule's
    Jacobian there."""
    cheap = make_solver(layout, spec, coarse, likelihood, prior_static, eager_jacobian=eager)
    fun, linearize, _ = make_objective(layout, spec, coarse, likelihood, prior_static)
    defect = make_defect(layout, spec, coarse, settings)
    accurate, _, _ = make_objective(layout, spec, settings, likelihood, prior_static)
    cap = jnp.where(jnp.asarray(layout.kinds, dtype=int) == 0, jnp.inf, BOUNDED_STEP_CAP)

    def at(args, off):
        return (*args[:6], {**args[6], "offset": off}, *args[7:])

    def pick(cond, a, b):
        return jax.tree_util.tree_map(lambda x, y: jnp.where(cond, x, y), a, b)

    def solve(u0, max_iter, ftol, xtol, *args):
        first = cheap(u0, max_iter, ftol, xtol, *at(args, defect(u0, *args)))

        def going(carry):
            st, k, done = carry
            return ~done & (k < STAGED_ROUNDS) & (st.n_iter < max_iter)

        def round_(carry):
            st, k, _ = carry
            a = at(args, defect(st.u, *args))
            r, obj, J = linearize(st.u, *a)
            g, A = J.T @ r, J.T @ J
            step = _gauss_newton_step(A, g, cap)
            pred = -2.0 * step @ g - step @ (A @ step)
            settled = ~(pred > jnp.maximum(DCHI2, ftol * obj))
            here = st._replace(
                r=r, obj=obj, jac=J, need_jac=jnp.asarray(False), n_eval=st.n_eval + 2
            )
            f_new = fun(st.u + step, *a)[1]
            better = jnp.isfinite(f_new) & (f_new < obj)
            moved = here._replace(
                u=st.u + step, obj=f_new, need_jac=jnp.asarray(True), n_iter=st.n_iter + 1
            )
            moved = moved._replace(n_eval=moved.n_eval + 1)
            if eager:
                return pick(settled | ~better, here, moved), k + 1, settled | ~better

            def lm_round():
                rnd = cheap(st.u, jnp.maximum(max_iter - st.n_iter, 1), ftol, xtol, *a)
                # no lower point found (status 4): the previous optimum and status stand
                rnd = rnd._replace(status=jnp.where(rnd.status == 4, st.status, rnd.status))
                return rnd._replace(n_iter=st.n_iter + rnd.n_iter, n_eval=here.n_eval + rnd.n_eval)

            nxt = jax.lax.cond(
                settled, lambda: here, lambda: jax.lax.cond(better, lambda: moved, lm_round)
            )
            return nxt, k + 1, settled

        st, _, settled = jax.lax.while_loop(
            going, round_, (first, jnp.asarray(0), jnp.asarray(False))
        )
        if not eager:  # rounds ran out after a step: linearise at the final point

            def relinearised():
                return st._replace(jac=linearize(st.u, *at(args, defect(st.u, *args)))[2])

            st = jax.lax.cond(settled, lambda: st, relinearised)
            # settled: the residuals are the accurate ones at st.u (defect frozen there)
            r, obj = jax.lax.cond(settled, lambda: (st.r, st.obj), lambda: accurate(st.u, *args))
        else:
            r, obj = accurate(st.u, *args)
        status = jnp.where((st.n_iter >= max_iter) & (first.status == 0), 5, st.status)
        return st._replace(r=r, obj=obj, start_obj=first.start_obj, status=status)

    return solve


def _gauss_newton_step(A, g, cap):
    """-(A + 1e-9 D)^-1 g (D the floored diagonal of A), shortened as a whole to the
    per-parameter ``cap``; zero where the solve is not finite."""
    d = jnp.diag(A)
    D = jnp.maximum(d, 1e-12 * jnp.maximum(jnp.max(d), 1e-300))
    step = -jnp.linalg.solve(A + 1e-9 * jnp.diag(D), g)
    step = jnp.where(jnp.all(jnp.isfinite(step)), step, 0.0)
    scale = jnp.minimum(1.0, jnp.min(cap / jnp.maximum(jnp.abs(step), 1e-300)))
    return step * scale


@lru_cache(maxsize=16)
def _batched(layout, spec, settings, coarse, likelihood, prior_static, method):
    """Jitted batch solver (objects along axis 0; limits and tolerances shared);
    staged when ``coarse`` (the cheap rule) is given."""
    eager = method == "vmap"
    if coarse is None:
        solve = make_solver(layout, spec, settings, likelihood, prior_static, eager_jacobian=eager)
    else:
        solve = _staged_solver(layout, spec, settings, coarse, likelihood, prior_static, eager)
    if method == "vmap":
        return jax.jit(jax.vmap(solve, in_axes=(0, None, None, None) + (0,) * 8))
    return _looped(jax.jit(solve))


def _looped(single):
    """``solve(u0, max_iter, ftol, xtol, *args)`` over stacked objects as a host loop of
    the one compiled per-object solver ``single``, with one worker thread per CPU core
    (the compiled program releases the GIL, so objects run side by side; a 64 x 64
    cutout alone keeps only one core busy; ``jax.lax.map`` inside one program runs
    them one after another). tests/test_batch.py checks the results against single
    fits."""

    def solve(u0, max_iter, ftol, xtol, *args):
        u0, args = np.asarray(u0), jax.tree_util.tree_map(np.asarray, args)

        def one(k):
            a = jax.tree_util.tree_map(lambda x: x[k], args)
            st = single(u0[k], max_iter, ftol, xtol, *a)
            return jax.tree_util.tree_map(np.asarray, st)

        states = [one(0)]  # compiles once, before the threads share the program
        with ThreadPoolExecutor(max_workers=_workers()) as pool:
            states += list(pool.map(one, range(1, u0.shape[0])))
        return jax.tree_util.tree_map(lambda *a: np.stack(a), *states)

    return solve


def _workers() -> int:
    """Threads of the CPU batch loop: the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)
