"""Iterative fitting of scenes too big for one Levenberg-Marquardt fit.

The scene is split into blocks of sources (``block_size`` sources each; sources linked
by ties stay together; all sky components form one block, fitted first in each sweep so
that sources do not absorb a sky offset). A sweep renders the whole scene once, then
fits each block in turn on a cutout around it against the data minus the light of every
other source (:func:`~scenefit.fitting.fit` with ``offset``), and updates the running
model on that cutout. An update is kept only if it lowers the objective over its cutout,
which covers the block's light before and after the fit, so the whole-scene objective
cannot rise by more than the light below the floor. Sweeps repeat until one lowers the
objective by less than ``dchi2``. Memory is bounded by the full-image model plus the largest
block's fit on its cutout, never a Jacobian of the whole scene.

A block's cutout is the box outside which each of its sources is fainter than
``floor`` x the median pixel noise, padded by the PSF's half-width, made a square of
32 x 2^k pixels (so that blocks share compiled programs) and clipped to the image.
If the fitted sources reach beyond the cutout (a radius or index grown in the fit), the
cutout grows to cover them and the block is fitted again (twice at most, to 4 x the
first side at most, so that a run-away source cannot take the memory). The sky block
is fitted on the whole image.

Uncertainties are those of the per-block fits (a block-diagonal covariance): they
ignore correlations between blocks, so they are too small for strongly blended sources
in different blocks.
"""

from __future__ import annotations

import sys
import time

import jax.numpy as jnp
import numpy as np

from .._layout import build_layout
from ..likelihood import residuals_and_objective
from ..models import EllipticalProfile, PointLike, PSFModel, SkyModel
from ..render import RenderSettings, render
from ..scene import Scene
from .fit import fit, prepare
from .result import FitResult

__all__ = ["fit_iterative"]

#: cutouts are squares of this side times a power of 2 (clipped to the image), so that
#: blocks share compiled programs
_BUCKET = 32
#: times a block's box may grow when its fitted sources reach beyond it
_GROWTHS = 2
#: a grown box's side is at most this times the first box's (a larger one is not fitted:
#: its sources have run away, and its fit would cost memory quadratic in the side)
_MAX_GROWTH = 4


def fit_iterative(
    scene,
    image,
    *,
    block_size: int = 1,
    order: str = "sequential",
    seed: int = 0,
    max_sweeps: int = 20,
    dchi2: float = 0.1,
    floor: float = 0.01,
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    max_iter: int = 100,
    progress: bool = False,
) -> FitResult:
    """Fit a large scene block by block (module docstring).

    Parameters
    ----------
    scene : Scene
        Starting point (every free parameter with a value). Not modified.
    image : Image
    block_size : int
        Sources per block (1: each source on its own).
    order : {"sequential", "random"}
        Blocks in scene order every sweep, or shuffled anew each sweep (``seed``).
    seed : int
        Seed of the random order.
    max_sweeps : int
        Sweeps before giving up (status 5).
    dchi2 : float
        A sweep lowering the objective by at most this (chi^2 units) ends the fit.
    floor : float
        Cutouts reach out to where a source is fainter than ``floor`` x the median
        pixel noise (sigma) per pixel.
    likelihood, settings, max_iter
        As in :func:`~scenefit.fitting.fit` (``max_iter`` per block fit).
    progress : bool
        Print one line per sweep to stderr.

    Returns
    -------
    FitResult
        The whole scene; ``objective`` is that of the full-image model at the end.
        ``extra`` holds ``sweeps``, ``objective_history`` (after each sweep, the first
        entry at the start), ``failed_blocks`` (names of sources whose block fit
        raised; they keep their previous values) and ``rejected_updates`` (block fits
        not kept because they raised the objective over their cutout). A sweep that
        raises the whole-scene objective by more than ``dchi2`` ends the fit, not
        converged (status 5): the scene before that sweep is returned, and the history
        ends with its objective again (the errors are those of the rejected sweep's
        block fits).

    Raises
    ------
    ValueError
        For an unknown ``order`` or likelihood, a ``block_size`` below 1, a scene
        with a PSF model (a live PSF couples every source: fit it with
        :func:`~scenefit.fitting.fit`), or a scene the image cannot fit
        (:func:`~scenefit.fitting.fit`'s checks).
    """
    if order not in ("sequential", "random"):
        raise ValueError(f"order must be 'sequential' or 'random', got {order!r}")
    if not (isinstance(block_size, int) and block_size >= 1):
        raise ValueError(f"block_size must be a positive integer, got {block_size!r}")
    if any(isinstance(c, PSFModel) for c in getattr(scene, "components", ())):
        raise ValueError(
            "fit_iterative cannot fit a scene with a PSF model: the PSF is shared by every "
            "source, so blocks are not independent; use fit(), or fix the PSF "
            "(scenefit.render.psf_image) and fit the sources iteratively"
        )
    t0 = time.perf_counter()
    settings, layout, _, _ = prepare(scene, image, likelihood, settings)
    blocks = _blocks(scene, block_size)
    sky_first = any(isinstance(scene[n], SkyModel) for n in blocks[-1])
    if sky_first:  # the sky first: a sky offset would otherwise be absorbed by sources
        blocks = [blocks[-1], *blocks[:-1]]
    sigma = np.sqrt(1.0 / image.invvar[~image.mask])
    noise_floor = floor * float(np.median(sigma))
    rng = np.random.default_rng(seed)
    data = jnp.asarray(image.data)
    invvar = jnp.asarray(image.invvar)

    fit_kw = dict(likelihood=likelihood, settings=settings, max_iter=max_iter)

    def objective(model, cut=(slice(None), slice(None))):
        d, w = data[cut], invvar[cut]
        return float(residuals_and_objective(likelihood, model, d, w, image.gain)[1])

    current = scene
    total = np.array(render(current, image, settings))  # writable copy
    history = [objective(total)]
    fits: dict = {}
    failed: set = set()
    n_iter = n_eval = rejected = 0
    converged = raised = False
    for sweep in range(1, max_sweeps + 1):
        before = current
        todo = list(blocks[1:]) if sky_first else list(blocks)
        if order == "random":
            rng.shuffle(todo)
        if sky_first:
            todo.insert(0, blocks[0])
        for names in todo:
            sub = _sub_scene(current, names)
            if not build_layout(sub)[0].n_free:
                continue
            try:
                res, rows, cols, others = _fit_block(sub, image, total, noise_floor, fit_kw)
            except ValueError:
                failed.update(names)
                continue
            failed.difference_update(names)
            cut = (rows, cols)
            new_total = others + np.asarray(render(res.scene, image.cutout(*cut), settings))
            old = objective(total[cut], cut)
            if objective(new_total, cut) > old + 1e-9 * max(1.0, abs(old)):
                rejected += 1  # the block fit made its whole box worse: keep the old values
                continue
            total[cut] = new_total
            current = _with_block(current, res.scene)
            fits[names] = res
            n_iter, n_eval = n_iter + res.n_iter, n_eval + res.n_eval
        total = np.array(render(current, image, settings))  # exact, not patched
        history.append(objective(total))
        if progress:
            print(
                f"scenefit: sweep {sweep}: objective {history[-1]:.6g} "
                f"(change {history[-1] - history[-2]:+.4g})",
                file=sys.stderr,
            )
        if history[-1] > history[-2] + dchi2:
            # a block's light beyond its cutout (or a blend the cutouts split) made the
            # whole scene worse: keep the previous sweep's scene and stop, not converged
            current = before
            history.append(history[-2])
            raised = True
            break
        if history[-2] - history[-1] <= dchi2:
            converged = True
            break
    return _result(
        scene,
        current,
        image,
        layout,
        fits,
        history,
        failed,
        rejected,
        converged,
        raised,
        n_iter,
        n_eval,
        likelihood,
        settings,
        time.perf_counter() - t0,
    )


def _fit_block(sub, image, total, noise_floor, fit_kw):
    """Fit one block on its cutout against the data minus every other source's light.

    The cutout covers the block's light at the start; if the fitted sources reach
    beyond it (a radius or index grown in the fit), the box grows to cover both and the
    fit is repeated from the start, at most ``_GROWTHS`` times and to a side of at most
    ``_MAX_GROWTH`` times the first. Returns the fit, the (rows, cols) slices of the
    final box and the other sources' light in it.
    """
    settings = fit_kw["settings"]
    whole = (slice(0, image.shape[0]), slice(0, image.shape[1]))
    lo, hi = _extent(sub, image, noise_floor)
    rows, cols = _box(lo, hi, image)
    cap = _MAX_GROWTH * max(rows.stop - rows.start, cols.stop - cols.start)
    for attempt in range(_GROWTHS + 1):
        cut = image.cutout(rows, cols)
        others = total[rows, cols] - np.asarray(render(sub, cut, settings))
        res = fit(sub, cut, offset=others, **fit_kw)
        lo2, hi2 = _extent(res.scene, image, noise_floor)
        lo, hi = np.minimum(lo, lo2), np.maximum(hi, hi2)
        grown = _box(lo, hi, image)
        side = max(s.stop - s.start for s in grown)
        # stop when the box covers the fit, is the whole image, or would pass the cap
        # (a source run away to a huge r_e or n: its fit would cost memory ~ side^2)
        if attempt == _GROWTHS or grown == (rows, cols) or (rows, cols) == whole or side > cap:
            break
        rows, cols = grown
    return res, rows, cols, others


def _blocks(scene, block_size):
    """Tuples of component names: ties joined (union-find), sky components together,
    sources chunked in scene order."""
    names = list(scene.names)
    parent = {n: n for n in names}

    def root(n):
        while parent[n] != n:
            n = parent[n]
        return n

    for follower, leader in scene.ties.items():
        a, b = root(follower.split(".")[0]), root(leader.split(".")[0])
        if a != b:
            parent[b] = a
    groups: dict = {}
    for n in names:
        groups.setdefault(root(n), []).append(n)
    sky = [n for n in names if isinstance(scene[n], SkyModel)]
    blocks, chunk = [], []
    for members in groups.values():
        if all(m in sky for m in members):
            continue
        chunk.extend(members)
        if len(chunk) >= block_size:
            blocks.append(tuple(chunk))
            chunk = []
    if chunk:
        blocks.append(tuple(chunk))
    if sky:
        blocks.append(tuple(sky))
    return blocks


def _sub_scene(scene, names):
    comps = [scene[n] for n in names]
    ties = {f: l for f, l in scene.ties.items() if f.split(".")[0] in names}
    return Scene(comps, ties)


def _with_block(scene, block):
    out = scene
    for c in block.components:
        out = out.replace_component(c.name, c)
    return out


def _extent(sub, image, noise_floor):
    """(lo, hi) pixel corners (x, y) of the box outside which every source of the block
    is fainter than ``noise_floor``, padded by the PSF's half-width; the whole image
    for a sky block."""
    h, w = image.shape
    if any(isinstance(c, SkyModel) for c in sub.components):
        return np.array([0.0, 0.0]), np.array([float(w), float(h)])
    psf_half = np.zeros(2)
    if image.psf is not None:
        psf_half = np.array(image.psf.shape[::-1]) / 2.0 / image.psf.oversampling
    lo, hi = np.array([np.inf, np.inf]), np.array([-np.inf, -np.inf])
    for c in sub.components:
        xc, yc = image.sky_to_pixel(c.x.value, c.y.value)
        half = _half_extent(c, image, noise_floor) + psf_half + 1.0
        lo = np.minimum(lo, np.array([xc, yc]) - half)
        hi = np.maximum(hi, np.array([xc, yc]) + half)
    return lo, hi


def _box(lo, hi, image):
    """(rows, cols) slices of the square of 32 x 2^k pixels centred on the box
    (lo, hi), clipped to the image (module docstring)."""
    h, w = image.shape
    side = _BUCKET * 2 ** int(np.ceil(np.log2(max(float(np.max(hi - lo)), 1.0) / _BUCKET)))
    side = max(side, _BUCKET)
    out = []
    for a, b, n in zip(lo, hi, (w, h), strict=True):
        size = min(n, side)
        start = int(np.clip(np.floor((a + b) / 2.0 - size / 2.0 + 0.5), 0, n - size))
        out.append(slice(start, start + size))
    return out[1], out[0]


def _half_extent(comp, image, noise_floor):
    """Half-widths (x, y) in pixels of the box outside which ``comp`` is fainter than
    ``noise_floor`` per pixel."""
    if isinstance(comp, PointLike) or not isinstance(comp, EllipticalProfile):
        return np.array([2.0, 2.0])
    vals = [p.value for p in comp.params().values()]
    flux = vals[2]
    law, q, pa = type(comp).unpack(vals)  # q = 1 without an axis ratio (edge-on disk)
    law = np.asarray(law, float)
    scale = image.pixel_scale
    r = np.geomspace(1e-2, 4.0 * max(image.shape), 600) * scale
    amp = abs(flux) / (q * float(comp.total(law))) * image.pixel_area
    sb = amp * np.asarray(comp.radial(r, law))
    above = np.nonzero(sb > noise_floor)[0]
    R = r[above[-1]] if above.size else r[0]
    t = np.deg2rad(pa)
    hxi = np.hypot(R * np.sin(t), q * R * np.cos(t))
    heta = np.hypot(R * np.cos(t), q * R * np.sin(t))
    return np.abs(np.linalg.inv(image.cd)) @ np.array([hxi, heta])


def _result(
    start,
    scene,
    image,
    layout,
    fits,
    history,
    failed,
    rejected,
    converged,
    raised,
    n_iter,
    n_eval,
    likelihood,
    settings,
    seconds,
):
    free = layout.free_addresses
    index = {a: i for i, a in enumerate(free)}
    cov = np.full((len(free), len(free)), 0.0)
    np.fill_diagonal(cov, np.inf)
    at_bound, ill = [], False
    for res in fits.values():
        ids = [index[a] for a in res.free]
        cov[np.ix_(ids, ids)] = res.covariance
        at_bound.extend(res.at_bound)
        ill = ill or res.ill_conditioned
    status = 1 if converged else 5
    if converged:
        message = (
            f"converged: a sweep lowered the objective by less than dchi2 "
            f"({len(history) - 1} sweeps)"
        )
    elif raised:
        message = (
            f"not converged: sweep {len(history) - 2} raised the whole-scene objective "
            f"({history[-2]:.6g} from {history[-1]:.6g}); the scene before it is returned"
        )
    else:
        message = f"not converged: sweep limit reached ({len(history) - 1} sweeps)"

    return FitResult(
        scene=scene,
        initial=start,
        image=image,
        objective=history[-1],
        dof=int(image.n_valid - len(free)),
        n_iter=n_iter,
        n_eval=n_eval,
        status=status,
        message=message,
        converged=converged and not failed,
        free=free,
        covariance=cov,
        at_bound=tuple(at_bound),
        ill_conditioned=ill,
        likelihood=likelihood,
        settings=settings,
        seconds=seconds,
        extra={
            "sweeps": len(history) - 1,
            "objective_history": history,
            "failed_blocks": sorted(failed),
            "rejected_updates": rejected,
        },
        initial_objective=history[0],
    )
