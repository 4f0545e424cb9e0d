"""fit(): Levenberg-Marquardt fit of a scene to an image."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from .._layout import Layout, build_layout
from ..likelihood import (
    LIKELIHOODS,
    residual_jacobian,
    residual_scale,
    residuals_and_objective,
)
from ..models import EllipticalProfile
from ..parameters import from_unconstrained, physical_and_slope, to_unconstrained
from ..render import (
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
)
from ..render.renderer import (
    band_rows_supported,
    check_scene_and_image,
    make_band_model_and_jacobian,
)
from .bounds_recheck import near_bounds, recheck_bounds
from .covariance import covariance_from_fisher
from .lm import CONVERGED, LM_MESSAGES, lm_host, lm_solve
from .priors import SoftConstraint, build_priors, prior_residuals
from .result import FitResult
from .staged import lm_staged

__all__ = ["fit"]

#: largest change of a bounded parameter's unconstrained value per LM iteration
_BOUNDED_STEP_CAP = 3.0


def fit(
    scene,
    image,
    *,
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    max_iter: int = 200,
    ftol: float = 1e-9,
    xtol: float = 1e-10,
    priors: Mapping | None = None,
    constraints: Sequence[SoftConstraint] = (),
    staged: bool = True,
    offset=None,
    progress=None,
) -> FitResult:
    """Fit a scene to an image by Levenberg-Marquardt.

    Parameters
    ----------
    scene : Scene
        Starting point; every untied parameter needs a value inside its bounds
        (see :func:`scenefit.initialize`). It is not modified.
    image : Image
    likelihood : {"chi2", "poisson"}
        Gaussian chi^2 with the image's inverse variances, or Poisson (data in units
        of ``1 / image.gain`` counts, sky included).
    settings : RenderSettings, optional
        Integration accuracy.
    max_iter : int
        Maximum LM iterations.
    ftol, xtol : float
        Relative tolerances on the objective and the step.
    priors : mapping, optional
        Gaussian priors ``{"comp.param": (mean, sigma)}`` (physical units) or
        :class:`~scenefit.fitting.GaussianPrior` values, on free parameters.
    constraints : sequence of SoftConstraint
        Soft constraints: any differentiable function of named parameters with a
        width. Priors and constraints are extra residuals of the LM objective (see
        :mod:`scenefit.fitting.priors`); the covariance includes them.
    staged : bool
        Iterate on the cheap integration rule (``settings.coarse()``) first and
        converge on the accurate one by defect correction
        (:mod:`scenefit.fitting.staged`): the same optimum (to a chi^2 of 1e-6) at a
        fraction of the cost. The covariance then comes from the cheap rule's
        Jacobian. ``False``: every iteration on ``settings``. Ignored when
        ``settings`` has no cheaper rule. A correction that does not settle falls back
        to the unstaged fit.
    offset : array (H, W), optional
        A fixed image (image units per pixel) added to the scene's model, e.g. the
        light of sources fitted separately (:func:`scenefit.fitting.fit_iterative`).
    progress : callable, optional
        ``progress(n_iter, objective, lam, accepted)`` after every LM iteration, for
        long fits (see :func:`~scenefit.fitting.lm.lm_host`); off by default.

    Returns
    -------
    FitResult
        The best-fit scene, statistics, status and covariance.

    Raises
    ------
    ValueError
        If a starting value is missing or outside its bounds, or the likelihood is
        unknown, or no parameter is free.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, Gaussian, FlatSky
    >>> from scenefit.fitting import fit
    >>> img = Image(np.random.default_rng(0).normal(1.0, 0.1, (24, 24)), sigma=0.1)
    >>> res = fit(Scene([FlatSky(sky=0.0)]), img)
    >>> abs(res.value("flat_sky.sky") - 1.0) < 3 * res.error("flat_sky.sky")
    True
    """
    t0 = time.perf_counter()
    settings, layout, vals, x0 = prepare(scene, image, likelihood, settings)
    spec = image_spec(image)
    base_offset = _check_offset(offset, image.shape)
    kinds = np.asarray(layout.kinds)
    u0 = to_unconstrained(x0, kinds, vals.lo, vals.hi)
    pset = build_priors(layout, vals.base, priors, constraints)
    cap = np.where(kinds == 0, np.inf, _BOUNDED_STEP_CAP)
    coarse = settings.coarse() if staged else None

    def solve(u_start):
        result = None
        if coarse is not None:
            args = problem_args(vals, image, pset, offset=True, layout=layout)
            normal, tail, defect = _compiled_programs(
                layout, spec, (coarse, settings), likelihood, pset, args
            )

            def at(off):
                off = off if base_offset is None else base_offset + off
                return (*args[:6], {**args[6], "offset": off}, *args[7:])

            result = lm_staged(
                lambda u, off: normal(u, *at(off)),
                lambda u: defect(u, *args),
                u_start,
                int(max_iter),
                float(ftol),
                float(xtol),
                step_cap=cap,
                tail=None if tail is None else (lambda u: tail(jnp.asarray(u), *args)),
                progress=progress,
            )
        if result is None:  # unstaged, or a correction that did not settle
            args = problem_args(vals, image, pset, offset=base_offset is not None, layout=layout)
            if base_offset is not None:
                args[6]["offset"] = base_offset
            normal, tail, _ = _compiled_programs(layout, spec, (settings,), likelihood, pset, args)
            result = lm_host(
                lambda u: normal(u, *args),
                u_start,
                int(max_iter),
                float(ftol),
                float(xtol),
                step_cap=cap,
                tail=None if tail is None else (lambda u: tail(jnp.asarray(u), *args)),
                progress=progress,
            )
        return result

    result = recheck_bounds(solve, solve(u0), kinds, vals.lo, vals.hi)
    return finish_fit(scene, image, layout, vals, pset, result, likelihood, settings, t0)


def prepare(scene, image, likelihood, settings):
    """The checks every fitter starts with; ``(settings, layout, values, x0)``.

    Raises
    ------
    ValueError
        If the scene and image do not fit together, the likelihood is unknown, a value
        is missing or out of bounds, or no parameter is free.
    """
    check_scene_and_image(scene, image)
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
    layout, vals, x0 = build_layout(scene)
    if layout.n_free == 0:
        raise ValueError("no free parameters: every parameter is fixed or tied")
    return settings or RenderSettings(), layout, vals, x0


def _check_offset(offset, shape):
    """``offset`` as a device array of the image's shape, or None."""
    if offset is None:
        return None
    off = np.asarray(offset, dtype=float)
    if off.shape != tuple(shape):
        raise ValueError(f"offset has shape {off.shape}; the image is {tuple(shape)}")
    if not np.all(np.isfinite(off)):
        raise ValueError("offset has non-finite values")
    return jnp.asarray(off)


def layout_key(layout: Layout) -> tuple:
    """A process-independent description of what a compiled program takes from a layout
    (component types by qualified name, parameter rows, free and tied parameters, bound
    kinds; not the names)."""

    def name(t):
        return f"{t.__module__}.{t.__qualname__}"

    groups = tuple((name(t), rows) for t, rows in layout.groups)
    return (groups, layout.free_index, layout.leader, layout.kinds)


#: bytes of one band of the Jacobian when J^T J is accumulated band by band
BAND_BYTES = 256 * 2**20


def jacobian_bands(layout: Layout, spec, settings) -> int:
    """Bands of image rows the normal equations are accumulated over: 1 (the whole
    Jacobian at once) unless it exceeds :data:`BAND_BYTES` and the problem allows
    bands (:func:`~scenefit.render.renderer.band_rows_supported`)."""
    h, w = spec.shape
    size = 8 * layout.n_free * h * w
    if size <= BAND_BYTES or not band_rows_supported(layout, spec, settings):
        return 1
    return min(h, -(-size // BAND_BYTES))


def make_normal_equations(
    layout: Layout, spec, settings, likelihood, prior_static, n_bands: int = 1
):
    """``(normal, tail)`` for :func:`~scenefit.fitting.lm.lm_host`.

    ``normal(u, *args) -> (objective, J^T r, J^T J)``; ``tail(u, *args)`` the
    prior/constraint residuals (``None`` without priors). ``args`` from
    :func:`problem_args`. With ``n_bands > 1`` the Jacobian is never held whole: J^T J
    and J^T r are accumulated over bands of image rows (a ``lax.scan``), so memory is
    bounded by one band. Pure and traceable."""
    _, linearize, _ = make_objective(layout, spec, settings, likelihood, prior_static)

    def normal(u, *args):
        r, obj, J = linearize(u, *args)
        return obj, J.T @ r, J.T @ J

    if n_bands > 1:
        normal = _banded_normal(layout, spec, settings, likelihood, prior_static, n_bands)

    tail = None
    if prior_static[0] or prior_static[1]:
        priors_of = _prior_function(layout, prior_static)

        def tail(u, base, lo, hi, data, invvar, gain, inputs, parr):
            return priors_of(u, base, lo, hi, parr)

    return normal, tail


def _prior_function(layout, prior_static):
    """``priors_of(u, base, lo, hi, parr)``: the prior/constraint residuals of the
    unconstrained parameters u (traceable)."""
    kinds = jnp.asarray(layout.kinds, dtype=int)

    def priors_of(u, base, lo, hi, parr):
        p = layout.expand(from_unconstrained(u, kinds, lo, hi), base)
        return prior_residuals(prior_static, p, parr)

    return priors_of


def _banded_normal(layout, spec, settings, likelihood, prior_static, n_bands):
    """``normal(u, *args)`` of :func:`make_normal_equations`, accumulated over bands."""
    h, w = spec.shape
    rows = -(-h // n_bands)
    pad = rows * n_bands - h
    band_fn = make_band_model_and_jacobian(layout, spec, settings, rows)
    kinds = jnp.asarray(layout.kinds, dtype=int)
    has_priors = bool(prior_static[0] or prior_static[1])
    n_free = layout.n_free

    priors_of = _prior_function(layout, prior_static)

    def normal(u, base, lo, hi, data, invvar, gain, inputs, parr):
        x, dxdu = jax.jvp(lambda v: from_unconstrained(v, kinds, lo, hi), (u,), (jnp.ones_like(u),))
        p = layout.expand(x, base)
        offset = inputs.get("offset", jnp.zeros((h, w)))
        data_p, invvar_p, off_p = (jnp.pad(a, ((0, pad), (0, 0))) for a in (data, invvar, offset))

        def band(carry, b):
            obj, g, A = carry
            row0 = b * rows
            model, dmodel = band_fn(p, inputs, row0)

            def rows_of(a):
                return jax.lax.dynamic_slice_in_dim(a, row0, rows, axis=0)

            d, wt = rows_of(data_p), rows_of(invvar_p)
            model = model + rows_of(off_p)
            r, o = residuals_and_objective(likelihood, model, d, wt, gain)
            J = (dmodel * residual_scale(likelihood, model, d, wt, gain)[None]).reshape(n_free, -1)
            return (obj + o, g + J @ r, A + J @ J.T), None

        zero = (jnp.zeros(()), jnp.zeros(n_free), jnp.zeros((n_free, n_free)))
        (obj, g, A), _ = jax.lax.scan(band, zero, jnp.arange(n_bands))
        g, A = g * dxdu, A * jnp.outer(dxdu, dxdu)
        if has_priors:
            rp = prior_residuals(prior_static, p, parr)
            Jp = jax.jacfwd(priors_of)(u, base, lo, hi, parr)
            obj, g, A = obj + jnp.sum(rp * rp), g + Jp.T @ rp, A + Jp.T @ Jp
        return obj, g, A

    return normal


def make_defect(layout: Layout, spec, coarse, settings):
    """``defect(u, *args) -> accurate model image - cheap model image`` (the staged
    fit's correction, :mod:`scenefit.fitting.staged`); ``args`` from
    :func:`problem_args`. Pure and traceable."""
    accurate = make_renderer(layout, spec, settings)
    cheap = make_renderer(layout, spec, coarse)
    kinds = jnp.asarray(layout.kinds, dtype=int)

    def defect(u, base, lo, hi, data, invvar, gain, inputs, parr):
        p = layout.expand(from_unconstrained(u, kinds, lo, hi), base)
        return accurate(p, inputs) - cheap(p, inputs)

    return defect


#: compiled (normal, tail, defect) per problem structure, this process
_PROGRAMS: dict = {}
_PROGRAMS_MAX = 64


def _signature(args) -> tuple:
    leaves, tree = jax.tree_util.tree_flatten(args)
    return (str(tree), tuple((np.shape(v), str(jnp.result_type(v))) for v in leaves))


def _compiled_programs(layout, spec, rules, likelihood, pset, args):
    """The compiled ``normal``, ``tail`` and ``defect`` of a problem
    (:func:`make_normal_equations`, :func:`make_defect`).

    ``rules`` is ``(settings,)`` for an unstaged fit (``defect`` is then ``None``) or
    ``(coarse, settings)`` for a staged one (``normal`` on the cheap rule). Compiled
    once per structure and process, in two threads: one program is traced (Python)
    while the other compiles (XLA). Loaded from the program cache when the persistent
    cache is on (:mod:`scenefit._program_cache`) and the problem calls no user
    functions."""
    from concurrent.futures import ThreadPoolExecutor

    from .._program_cache import load_or_compile

    u = jnp.zeros(layout.n_free)
    key = (layout, spec, rules, likelihood, pset.static, _signature((u, *args)))
    hit = _PROGRAMS.get(key)
    if hit is not None:
        return hit
    n_bands = jacobian_bands(layout, spec, rules[0])
    normal, tail = make_normal_equations(layout, spec, rules[0], likelihood, pset.static, n_bands)
    fns = {"normal": normal}
    if len(rules) == 2:
        fns = {"defect": make_defect(layout, spec, *rules), **fns}  # the largest first
    common = ("lm", layout_key(layout), repr(spec), repr(rules), likelihood, n_bands)

    def build(name):
        parts = None if pset.static[1] else common + (name, pset.static)  # no user callables
        return load_or_compile(fns[name], parts, (u, *args))

    with ThreadPoolExecutor(max_workers=2) as pool:
        compiled = dict(zip(fns, pool.map(build, fns), strict=True))
    out = (compiled["normal"], None if tail is None else jax.jit(tail), compiled.get("defect"))
    if len(_PROGRAMS) >= _PROGRAMS_MAX:
        _PROGRAMS.pop(next(iter(_PROGRAMS)))
    _PROGRAMS[key] = out
    return out


def problem_args(vals, image, pset, offset: bool = False, layout=None) -> tuple:
    """The array arguments of the functions from :func:`make_objective`; ``offset``:
    with an all-zero ``"offset"`` image in the inputs (added to the model, see
    :func:`make_objective`); ``layout``: the scene's (needed for Gaussian-mixture
    profiles, see :func:`~scenefit.render.image_inputs`)."""
    inputs = image_inputs(image, layout)
    if offset:
        inputs["offset"] = jnp.zeros(image.shape)
    return (
        jnp.asarray(vals.base),
        jnp.asarray(vals.lo),
        jnp.asarray(vals.hi),
        jnp.asarray(image.data),
        jnp.asarray(image.invvar),
        image.gain,
        inputs,
        pset.arrays,
    )


def finish_fit(scene, image, layout, vals, pset, result, likelihood, settings, t0) -> FitResult:
    """FitResult from a finished LM run (:class:`~scenefit.fitting.lm.LMResult`): the
    covariance, flags and penalties (numpy side)."""
    kinds = np.asarray(layout.kinds)
    dof = image.n_valid - layout.n_free
    status = int(result.status)
    x, dxdu = physical_and_slope(np.asarray(result.u), kinds, vals.lo, vals.hi)
    # Fisher matrix in physical units: J_x = J_u / (dx/du)
    with np.errstate(divide="ignore", invalid="ignore"):
        fisher = np.asarray(result.fisher) / np.outer(dxdu, dxdu)
    fisher = np.where(np.isfinite(fisher), fisher, 0.0)
    cov, ill, cond = covariance_from_fisher(fisher, values=x)
    ill = ill or cond > 1e12

    p = np.asarray(layout.expand(x, vals.base))
    new_scene = _wrap_angles(scene.with_values(p))
    near = near_bounds(x, vals.lo, vals.hi)
    rp = np.asarray(result.r_tail)[: pset.size] if pset.size else np.zeros(0)
    penalty = float(np.sum(rp * rp)) if pset.size else 0.0
    start_penalty = 0.0
    if pset.size:  # the priors' share of the starting objective
        r0 = prior_residuals(pset.static, jnp.asarray(vals.base), pset.arrays)
        start_penalty = float(np.sum(np.asarray(r0) ** 2))
    return FitResult(
        scene=new_scene,
        initial=scene,
        image=image,
        objective=float(result.obj) - penalty,
        dof=int(dof),
        n_iter=int(result.n_iter),
        n_eval=int(result.n_eval),
        status=status,
        message=LM_MESSAGES[status],
        converged=status in CONVERGED,
        free=layout.free_addresses,
        covariance=cov,
        at_bound=tuple(a for a, b in zip(layout.free_addresses, near, strict=True) if b),
        ill_conditioned=bool(ill),
        likelihood=likelihood,
        settings=settings,
        seconds=time.perf_counter() - t0,
        penalty=penalty,
        penalties=dict(zip(pset.labels, (float(v) for v in rp), strict=True)),
        initial_objective=float(result.start_obj) - start_penalty,
    )


def make_objective(layout: Layout, spec, settings, likelihood, prior_static):
    """``(fun, linearize, log_jacobian)`` of the unconstrained parameters u.

    ``fun(u, *args) -> (r, objective)``, ``linearize(u, *args) -> (r, objective, J)``
    with ``args`` from :func:`problem_args`; r stacks the whitened pixel residuals
    and the prior/constraint residuals. An ``"offset"`` image in the inputs is added to
    the model (the staged fit's defect correction). ``log_jacobian(u, lo, hi)`` is
    sum_i ln |dx_i/du_i| of the bound transforms. All are pure and traceable.
    """
    render = make_renderer(layout, spec, settings)
    model_and_jac = make_model_and_jacobian(layout, spec, settings)
    kinds = jnp.asarray(layout.kinds, dtype=int)
    has_priors = bool(prior_static[0] or prior_static[1])

    priors_of = _prior_function(layout, prior_static)

    def fun(u, base, lo, hi, data, invvar, gain, inputs, parr):
        x = from_unconstrained(u, kinds, lo, hi)
        p = layout.expand(x, base)
        model = render(p, inputs) + inputs.get("offset", 0.0)
        r, obj = residuals_and_objective(likelihood, model, data, invvar, gain)
        if has_priors:
            rp = prior_residuals(prior_static, p, parr)
            r, obj = jnp.concatenate([r, rp]), obj + jnp.sum(rp * rp)
        return r, obj

    def linearize(u, base, lo, hi, data, invvar, gain, inputs, parr):
        x, dxdu = jax.jvp(lambda v: from_unconstrained(v, kinds, lo, hi), (u,), (jnp.ones_like(u),))
        p = layout.expand(x, base)
        model, model_jac = model_and_jac(p, inputs)
        model = model + inputs.get("offset", 0.0)
        r, obj = residuals_and_objective(likelihood, model, data, invvar, gain)
        J = residual_jacobian(likelihood, model_jac, model, data, invvar, gain)
        J = J * dxdu[None, :]
        if has_priors:
            rp = prior_residuals(prior_static, p, parr)
            Jp = jax.jacfwd(priors_of)(u, base, lo, hi, parr)
            r, obj = jnp.concatenate([r, rp]), obj + jnp.sum(rp * rp)
            J = jnp.concatenate([J, Jp])
        return r, obj, J

    def log_jacobian(u, lo, hi):
        _, dxdu = jax.jvp(lambda v: from_unconstrained(v, kinds, lo, hi), (u,), (jnp.ones_like(u),))
        return jnp.sum(jnp.log(jnp.abs(dxdu)))

    return fun, linearize, log_jacobian


def make_solver(layout: Layout, spec, settings, likelihood, prior_static, eager_jacobian=False):
    """Un-jitted ``solve(u0, max_iter, ftol, xtol, *args) -> LMState`` (vmap-able;
    ``eager_jacobian`` as in :func:`~scenefit.fitting.lm.lm_solve`)."""
    fun, linearize, _ = make_objective(layout, spec, settings, likelihood, prior_static)
    cap = jnp.where(jnp.asarray(layout.kinds, dtype=int) == 0, jnp.inf, _BOUNDED_STEP_CAP)

    def solve(u0, max_iter, ftol, xtol, *args):
        return lm_solve(
            lambda u: fun(u, *args),
            u0,
            max_iter,
            ftol,
            xtol,
            linearize=lambda u: linearize(u, *args),
            step_cap=cap,
            eager_jacobian=eager_jacobian,
        )

    return solve


def _wrap_angles(scene):
    """Position angles of elliptical profiles folded into [0, 180) deg."""
    comps = []
    changed = False
    for c in scene.components:
        if isinstance(c, EllipticalProfile) and c.pa.value is not None:
            pa = c.pa.value % 180.0
            lo, hi = c.pa.lo, c.pa.hi
            if pa != c.pa.value and lo is None and hi is None:
                c = c.replace(pa=pa)
                changed = True
        comps.append(c)
    if not changed:
        return scene
    from ..scene import Scene

    return Scene(comps, scene.ties)
