"""fit_joint(): one Levenberg-Marquardt fit of a scene to several images at once.

Each image keeps its own pixels, noise, mask, PSF and pixel -> tangent-plane map, and
contributes its own chi^2 (or Poisson deviance); the joint objective is their sum.
Shapes are shared, brightnesses are free per band and skies per image
(:mod:`._joint_plan`). The joint normal equations are the per-image ones added into the
joint vector,

    J^T J = sum_i P_i^T (J_i^T J_i) P_i,    J^T r = sum_i P_i^T (J_i^T r_i),

with P_i the selection of image i's parameters (``plan.index[i]``); each image's
``J_i^T J_i`` comes from the same compiled program a single-image :func:`fit` uses
(shared when the structure is the same), and the iteration is
:func:`~.lm.lm_host` (or the staged :func:`~.staged.lm_staged`) on the sums. The
covariance is the inverse of the joint J^T J.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import jax.numpy as jnp
import numpy as np

from ..likelihood import LIKELIHOODS
from ..parameters import physical_and_slope
from ..render import RenderSettings, image_spec
from ._joint_plan import build_plan, check_images
from .bounds_recheck import near_bounds, recheck_bounds
from .covariance import covariance_from_fisher
from .fit import _BOUNDED_STEP_CAP, _compiled_programs, _wrap_angles, problem_args
from .joint_result import JointFitResult
from .lm import CONVERGED, LM_MESSAGES, lm_host
from .priors import build_priors
from .result import FitResult
from .staged import lm_staged

__all__ = ["fit_joint"]


def fit_joint(
    scene,
    images,
    *,
    per_band=None,
    start=None,
    labels=None,
    align_wcs: bool = False,
    center=None,
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    max_iter: int = 200,
    ftol: float = 1e-9,
    xtol: float = 1e-10,
    staged: bool = True,
) -> JointFitResult:
    """Fit one scene to several images jointly (shared shapes, per-band brightness).

    Parameters
    ----------
    scene : Scene
        Sources on the tangent plane (positions in arcsec) plus the sky components
        that every image gets a copy of. Every untied parameter needs a starting value.
        Not modified.
    images : list of Image
        Any sizes, pixel scales, rotations and flips (``cd``), offsets (``crpix``,
        ``ref_sky``) and PSFs. Their tangent planes must be the same one (see
        ``align_wcs``). Images with the same ``band`` share the per-band parameters
        (and must have the same zero point, if any).
    per_band : sequence of str, optional
        Parameter addresses that are free separately in each band, e.g.
        ``("gal.flux", "gal.r_e")``; default each non-sky component's ``flux``. Sky
        components are always free per image.
    start : mapping, optional
        Starting values of per-band / per-image parameters by joint name
        (``{"gal.flux[g]": 120.0, "flat_sky.sky[2]": 0.1}``); others start at the
        scene's value.
    labels : sequence of str, optional
        Image labels used in per-image names (``"flat_sky.sky[label]"``) and for
        images without a band; default the bands when all images have distinct ones,
        else ``"0"``, ``"1"``, ...
    align_wcs : bool
        Re-reference every image (each needs a celestial ``wcs``) to one common tangent
        plane first (:func:`scenefit.common_tangent_plane`, about ``center``); the
        scene's positions are then arcsec on that plane. Off: the images' own
        ``cd``, ``crpix`` and ``ref_sky`` are taken as already sharing one plane.
    center : (float, float), optional
        (RA, Dec) in degrees of the common tangent point for ``align_wcs``; default the
        centre of the first image.
    likelihood, settings, max_iter, ftol, xtol, staged
        As in :func:`scenefit.fitting.fit`, applied to every image.

    Returns
    -------
    JointFitResult
        Shared values and errors once, per-band / per-image ones by label, a
        :class:`FitResult` per image (its scene, model, residuals, chi^2, and the joint
        covariance restricted to its parameters) and the total chi^2.

    Raises
    ------
    TypeError
        If ``scene`` is not a Scene or ``images`` not a list of Image.
    ValueError
        For an empty list, an unknown likelihood, unknown or tied ``per_band`` names,
        unknown ``start`` names, an image that contains none of the sources, a band
        parameter no image constrains, images of one band with different zero points,
        a missing WCS with ``align_wcs``, or no free parameter.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, FlatSky
    >>> rng = np.random.default_rng(1)
    >>> imgs = [Image(rng.normal(v, 0.1, (16, 16)), sigma=0.1) for v in (1.0, 2.0)]
    >>> res = fit_joint(Scene([FlatSky(sky=0.0)]), imgs)
    >>> [round(res.value(f"flat_sky.sky[{k}]"), 1) for k in ("0", "1")]
    [1.0, 2.0]
    """
    t0 = time.perf_counter()
    images = check_images(images)
    if align_wcs:
        from ..tangent import common_tangent_plane

        images = common_tangent_plane(images, center=center)
    if likelihood not in LIKELIHOODS:
        raise ValueError(f"unknown likelihood {likelihood!r}; choose one of {LIKELIHOODS}")
    plan = build_plan(scene, images, per_band, start, labels)
    if not plan.names:
        raise ValueError("no free parameters: every parameter is fixed or tied")
    settings = settings or RenderSettings()
    coarse = settings.coarse() if staged else None
    u0 = _to_unconstrained(plan)
    cap = np.where(plan.kinds == 0, np.inf, _BOUNDED_STEP_CAP)
    problems = None

    def solve(u_start):
        nonlocal problems
        result = None
        if coarse is not None:
            problems = [
                _Problem.of(plan, i, img, (coarse, settings), likelihood)
                for i, img in enumerate(images)
            ]
            result = lm_staged(
                lambda u, offs: _normal(problems, plan, u, offs),
                lambda u: [p.defect_at(u) for p in problems],
                u_start,
                int(max_iter),
                float(ftol),
                float(xtol),
                step_cap=cap,
            )
        if result is None:  # unstaged, or a correction that did not settle
            problems = [
                _Problem.of(plan, i, img, (settings,), likelihood) for i, img in enumerate(images)
            ]
            none = [None] * len(problems)
            result = lm_host(
                lambda u: _normal(problems, plan, u, none),
                u_start,
                int(max_iter),
                float(ftol),
                float(xtol),
                step_cap=cap,
            )
        return result

    result = recheck_bounds(solve, solve(u0), plan.kinds, plan.lo, plan.hi)
    return _finish(plan, images, problems, result, likelihood, settings, t0)


@dataclass(frozen=True)
class _Problem:
    """One image's compiled programs and arguments."""

    index: np.ndarray
    args: tuple
    normal: object
    defect: object  # None unless staged

    @classmethod
    def of(cls, plan, i, image, rules, likelihood):
        layout, vals = plan.layout, plan.values[i]
        pset = build_priors(layout, vals.base)
        args = problem_args(vals, image, pset, offset=len(rules) == 2, layout=layout)
        normal, _, defect = _compiled_programs(
            layout, image_spec(image), rules, likelihood, pset, args
        )
        return cls(plan.index[i], args, normal, defect)

    def at(self, off):
        """The arguments with the staged fit's defect image ``off`` (None: as built)."""
        if off is None:
            return self.args
        a = self.args
        return (*a[:6], {**a[6], "offset": off}, *a[7:])

    def u(self, u):
        return jnp.asarray(np.asarray(u, float)[self.index])

    def defect_at(self, u):
        return self.defect(self.u(u), *self.args)


def _normal(problems, plan, u, offs):
    n = len(plan.names)
    obj, g, A = 0.0, np.zeros(n), np.zeros((n, n))
    parts = [p.normal(p.u(u), *p.at(off)) for p, off in zip(problems, offs, strict=True)]
    for p, (o, gi, Ai) in zip(problems, parts, strict=True):
        obj += float(o)
        g[p.index] += np.asarray(gi)
        A[np.ix_(p.index, p.index)] += np.asarray(Ai)
    return obj, g, A


def _to_unconstrained(plan):
    from ..parameters import to_unconstrained

    return to_unconstrained(plan.x0, plan.kinds, plan.lo, plan.hi)


def _finish(plan, images, problems, result, likelihood, settings, t0) -> JointFitResult:
    """Covariance, per-image results and statistics from a finished LM run."""
    u = np.asarray(result.u, float)
    x, dxdu = physical_and_slope(u, plan.kinds, plan.lo, plan.hi)
    with np.errstate(divide="ignore", invalid="ignore"):
        fisher = np.asarray(result.fisher) / np.outer(dxdu, dxdu)
    fisher = np.where(np.isfinite(fisher), fisher, 0.0)
    cov, ill, cond = covariance_from_fisher(fisher, values=x)
    ill = bool(ill or cond > 1e12)
    near = near_bounds(x, plan.lo, plan.hi)
    at_bound = tuple(n for n, b in zip(plan.names, near, strict=True) if b)
    status = int(result.status)
    offs = [p.defect_at(u) if p.defect is not None else None for p in problems]
    chi2 = [float(p.normal(p.u(u), *p.at(off))[0]) for p, off in zip(problems, offs, strict=True)]
    elapsed = time.perf_counter() - t0
    per_image = []
    for i, img in enumerate(images):
        idx = plan.index[i]
        p = np.asarray(plan.layout.expand(x[idx], plan.values[i].base))
        sc = _wrap_angles(plan.scenes[i].with_values(p))
        per_image.append(
            FitResult(
                scene=sc,
                initial=plan.scenes[i],
                image=img,
                objective=chi2[i],
                dof=int(img.n_valid - idx.size),
                n_iter=int(result.n_iter),
                n_eval=int(result.n_eval),
                status=status,
                message=LM_MESSAGES[status],
                converged=status in CONVERGED,
                free=plan.layout.free_addresses,
                covariance=cov[np.ix_(idx, idx)],
                at_bound=tuple(
                    a for a, b in zip(plan.layout.free_addresses, near[idx], strict=True) if b
                ),
                ill_conditioned=ill,
                likelihood=likelihood,
                settings=settings,
                seconds=elapsed,
                extra={"joint": True, "label": plan.labels[i], "band_key": plan.keys[i]},
                initial_objective=float("nan"),
            )
        )
    out = JointFitResult(
        results=tuple(per_image),
        names=plan.names,
        x=x,
        covariance=cov,
        labels=plan.labels,
        keys=plan.keys,
        per_band=plan.per_band,
        per_image=plan.per_image,
        objective=float(sum(chi2)),
        dof=int(sum(img.n_valid for img in images) - len(plan.names)),
        n_iter=int(result.n_iter),
        n_eval=int(result.n_eval),
        status=status,
        message=LM_MESSAGES[status],
        converged=status in CONVERGED,
        at_bound=at_bound,
        ill_conditioned=ill,
        likelihood=likelihood,
        settings=settings,
        seconds=elapsed,
        initial_objective=float(result.start_obj),
    )
    # the values as the images' scenes report them (position angles folded to [0, 180))
    return replace(out, x=np.array([out.value(n) for n in plan.names], dtype=float))
