"""Pixel integration of elliptical profiles (pure, jit-friendly, static shapes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..models import CoreSersic, Sersic
from ._core import core_block
from ._enclosed import enclosed_fraction
from ._imfit_sampling import imfit_component_image
from ._pixmap import area_factor, has_sip, pixel_of_sky, sky_of_pixels
from ._quadrature import embedded_pixel_rule, pixel_rule

__all__ = [
    "bind_law",
    "profile_pixels",
    "profile_pixels_with_error",
    "refine_worst",
    "refine_chunk",
    "refinement_weight",
    "worst_mask",
    "component_image",
    "render_profile_group",
    "profile_group_jacobian",
    "linearize_group",
    "grid_cell",
]


def grid_cell(grid) -> float:
    """Side (image pixels) of the cell integrated around each node of a render grid:
    the grid spacing 1 / s, or a CMOS sensitive square's side (the optional fifth entry
    of the grid tuple, ``renderer._Grid.fine``)."""
    return grid[4] if len(grid) > 4 else 1.0 / grid[2]


#: pixels fainter than this fraction of the component's brightest pixel get an absolute
#: error budget (rel_tol times this fraction of the peak) instead of a relative one
BRIGHT_FRACTION = 1e-3

#: Gauss-Legendre nodes per pixel edge in the exact core integration
CORE_NODES = 32


class _BoundLaw:
    """A law's ``radial`` and ``total`` with keyword options fixed (e.g. Sersic b_n);
    ``radius`` (the geometry) passes through."""

    def __init__(self, law_cls, **options):
        self.law_cls = law_cls
        self.options = options
        self.radius = law_cls.radius
        self.unpack = law_cls.unpack
        self.HAS_Q = law_cls.HAS_Q
        self.ANGULAR = law_cls.ANGULAR

    def surface(self, dxi, deta, q, pa, law):
        return self.law_cls.surface(dxi, deta, q, pa, law, self.radial)

    def radial(self, r, law, **extra):
        return self.law_cls.radial(r, law, **self.options, **extra)

    def total(self, law):
        return self.law_cls.total(law, **self.options)


def bind_law(law_cls, settings):
    """``radial``/``total``/``radius`` of ``law_cls`` with the options that ``settings``
    select.

    Only the Sersic and core-Sersic laws have one today: the b_n rule
    (``settings.sersic_bn``), also when composed with a geometry or a truncation.
    """
    if law_cls.root_law() in (Sersic, CoreSersic):
        return _BoundLaw(law_cls, bn_rule=settings.sersic_bn)
    return law_cls


def _weighted_samples(law_cls, prm, X, Y, step, dx, dy, geom):
    """Flux density samples (image units per pixel) at the rule nodes ``dx, dy`` of the
    pixels centred at (X, Y): array (..., m)."""
    cd, crpix, ref = geom[:3]
    xc, yc, flux = prm[0], prm[1], prm[2]
    law, q, pa = law_cls.unpack(prm)
    amp = flux / (q * law_cls.total(law))
    area = jnp.abs(jnp.linalg.det(cd)) * step * step
    if has_sip(geom):  # sky positions from the full map, areas from its Jacobian
        Xs, Ys = X[..., None] + dx * step, Y[..., None] + dy * step
        sx, sy = sky_of_pixels(geom, Xs, Ys)
        area = area * area_factor(geom, Xs, Ys)
        dxi, deta = sx - xc, sy - yc
        if not law_cls.HAS_Q:
            return amp * area * law_cls.surface(dxi, deta, q, pa, law)
        return amp * area * law_cls.radial(law_cls.radius(dxi, deta, q, pa, law), law)
    xi = ref[0] + cd[0, 0] * (X - crpix[0]) + cd[0, 1] * (Y - crpix[1]) - xc
    eta = ref[1] + cd[1, 0] * (X - crpix[0]) + cd[1, 1] * (Y - crpix[1]) - yc
    oxi = (cd[0, 0] * dx + cd[0, 1] * dy) * step
    oeta = (cd[1, 0] * dx + cd[1, 1] * dy) * step
    dxi, deta = xi[..., None] + oxi, eta[..., None] + oeta
    if not law_cls.HAS_Q or law_cls.ANGULAR:  # a 2-d law (edge-on disk), rays, wedges
        return amp * area * law_cls.surface(dxi, deta, q, pa, law)
    # a radial law: surface() in the same order of operations as before it existed, so
    # that the traced programs (and the persistent compilation cache) stay the same
    r = law_cls.radius(dxi, deta, q, pa, law)
    return amp * area * law_cls.radial(r, law)


def profile_pixels(law_cls, prm, X, Y, step, order, geom):
    """Integrated flux of one component in pixels centred at (X, Y).

    Parameters
    ----------
    law_cls : EllipticalProfile subclass, or :func:`bind_law` of one
        Supplies ``radial`` and ``total``.
    prm : array (P,)
        ``[x, y, flux, *law, q, pa]`` (arcsec, image units, deg).
    X, Y : array (...)
        Pixel-centre coordinates in image pixels (0-based).
    step : float
        Pixel size in image pixels (1 / oversampling, or smaller for sub-pixels).
    order : int
        Gauss-Legendre order per axis.
    geom : (cd (2, 2), crpix (2,), ref_sky (2,))
        The image's pixel -> tangent-plane map.

    Returns
    -------
    array (...)
        Flux in each pixel, image units.
    """
    dx, dy, w = pixel_rule(order)
    return _weighted_samples(law_cls, prm, X, Y, step, dx, dy, geom) @ w


def profile_pixels_with_error(law_cls, prm, X, Y, step, order, geom):
    """As :func:`profile_pixels`, plus an error estimate |GL_k - GL_(k-1)| from the
    order-(k - 1) rule, both arrays (...). The estimate is that of the lower rule's
    error, so conservative for the order-k value (see
    :func:`._quadrature.embedded_pixel_rule`)."""
    # one evaluation of the law on both node sets: one copy of it in the compiled
    # program (compile time grows with the number of copies)
    dx, dy, w_hi, w_lo = embedded_pixel_rule(order)
    samples = _weighted_samples(law_cls, prm, X, Y, step, dx, dy, geom)
    hi = samples @ w_hi
    diff = jnp.abs(hi - samples @ w_lo)
    # Two rules can agree by accident where the integrand is barely resolved (a thin
    # ridge crossing the pixel): a second, independent estimate from the spread of the
    # samples, the 1-D Gauss-Legendre error term c_k f^(2k) for f ~ exp(g x) with g the
    # log-range of the samples over the span of the nodes
    top = jnp.max(samples, axis=-1)
    low = jnp.maximum(jnp.min(samples, axis=-1), 1e-300 + 1e-30 * top)
    g = jnp.minimum(jnp.log(jnp.maximum(top, 1e-300) / low), 60.0) / _node_span(order)
    spread = jnp.abs(hi) * _gl_error_constant(order) * g ** (2 * order)
    return hi, jnp.maximum(diff, spread)


def _gl_error_constant(k: int) -> float:
    """c_k of the k-point Gauss-Legendre error c_k f^(2k) on a unit interval:
    (k!)^4 / ((2k + 1) ((2k)!)^3) (Abramowitz & Stegun 25.4.30)."""
    from math import factorial

    return factorial(k) ** 4 / ((2 * k + 1) * factorial(2 * k) ** 3)


def _node_span(k: int) -> float:
    """Distance between the outermost k-point Gauss-Legendre nodes on a unit interval."""
    return float(np.polynomial.legendre.leggauss(k)[0].max())


def _adaptive(settings):
    """Whether ``settings`` ask for error-driven refinement (needs quad_order >= 2)."""
    return (
        settings.rel_tol is not None
        and settings.quad_order >= 2
        and settings.refine_pixels > 0
        and settings.refine_rounds > 0
    )


def component_image(law_cls, prm, grid, geom, settings, frame=None):
    """One component on a regular grid, integrated to ``settings.rel_tol``.

    Steps (``sampling="adaptive"``; static shapes throughout). Within the
    ``refine_window`` x ``refine_window`` grid pixels around the centre (the accurate
    zone, where profiles are steep):

    1. every pixel by the ``quad_order`` Gauss-Legendre rule, with error estimates
       from the embedded lower-order rule and from the spread of the samples;
    2. the ``refine_size`` x ``refine_size`` pixels around the centre exactly, from edge
       integrals of the enclosed light (:mod:`._core`; also for a generalised ellipse
       or Fourier modes on such a law, :mod:`._core_geometry`); laws without a
       closed-form enclosed light (truncated ones too) get nested geometric refinement
       instead (``refine_levels``);
    3. up to ``refine_rounds`` rounds of error-driven refinement (:func:`refine_worst`).

    Beyond the window, where profiles are smooth on the pixel scale, every pixel is
    integrated by the ``far_order`` Gauss-Legendre rule (at most ``quad_order``). The
    window follows the centre's pixel and is clamped to the grid; on a grid no larger
    than the window there is no far zone.

    Parameters
    ----------
    law_cls : EllipticalProfile subclass
    prm : array (P,)
    grid : (x0, y0, s, (Hf, Wf))
        First pixel-centre coordinates (image pixels), oversampling, grid shape.
    geom : (cd, crpix, ref_sky)
    settings : RenderSettings
    frame : grid tuple, optional
        The full grid of which ``grid`` is a band of whole rows (same columns and
        oversampling; ``grid``'s first row may lie anywhere in or below ``frame``'s):
        the accurate zone is then placed as on ``frame``, so that the band equals the
        same rows of the full-grid image (banded Jacobians, :mod:`.renderer`).

    Returns
    -------
    array (Hf, Wf)
        Flux per grid pixel, image units.
    """
    if frame is not None:
        return _band_image(law_cls, prm, grid, frame, geom, settings)
    x0, y0, s, (hf, wf) = grid[:4]
    law = bind_law(law_cls, settings)
    if settings.sampling != "adaptive":
        X, Y = _centres(grid)
        img = profile_pixels(law, prm, X, Y, grid_cell(grid), 1, geom)
        if settings.sampling == "imfit":
            img = imfit_component_image(law, law_cls, prm, grid, geom, img)
        return img
    wh, ww = min(settings.refine_window, hf), min(settings.refine_window, wf)
    if (wh, ww) == (hf, wf):
        return _accurate_zone(law, law_cls, prm, grid, geom, settings)
    far, near, i0, j0 = _far_and_window(law, law_cls, prm, grid, grid, geom, settings)
    return place_window(far, near, i0, j0)


def place_window(far, near, i0, j0):
    """``far`` (H, W) with the block ``near`` (h, w) written at row ``i0``, column ``j0``
    (any integers: the rows and columns of the block that fall outside ``far`` are
    dropped).

    The same as ``lax.dynamic_update_slice``, written as a select: XLA fuses ``far``'s
    computation into an in-place update and then re-evaluates the per-component
    constants (a Sersic's b_n table look-up, sin and cos of the position angle) at
    every pixel (1.8 ms instead of 0.7 ms for a 250 x 250 component, measured); a
    select keeps them out of the loop."""
    h, w = near.shape
    rows = jnp.arange(far.shape[0])[:, None] - i0
    cols = jnp.arange(far.shape[1])[None, :] - j0
    inside = (rows >= 0) & (rows < h) & (cols >= 0) & (cols < w)
    near = jax.lax.optimization_barrier(near)  # not recomputed for every gathered pixel
    block = near[jnp.clip(rows, 0, h - 1), jnp.clip(cols, 0, w - 1)]
    return jnp.where(inside, block, far)


def _far_and_window(law, law_cls, prm, rows, frame, geom, settings):
    """The ``far_order`` rule on the grid ``rows`` (``frame`` or a band of its rows),
    and the accurate zone in the window around the centre, placed on ``frame``:
    ``(far, near, i0, j0)`` with (i0, j0) the window's first frame row and column."""
    x0, y0, s, (hf, wf) = frame[:4]
    wh, ww = min(settings.refine_window, hf), min(settings.refine_window, wf)
    X, Y = _centres(rows)
    far_order = min(settings.far_order, settings.quad_order)
    far = profile_pixels(law, prm, X, Y, grid_cell(frame), far_order, geom)
    pc = _centre_pixel(geom, prm)
    j0 = jnp.clip(jnp.round((pc[0] - x0) * s).astype(int) - ww // 2, 0, wf - ww)
    i0 = jnp.clip(jnp.round((pc[1] - y0) * s).astype(int) - wh // 2, 0, hf - wh)
    window = (x0 + j0 / s, y0 + i0 / s, s, (wh, ww)) + tuple(frame[4:])
    return far, _accurate_zone(law, law_cls, prm, window, geom, settings), i0, j0


def _band_image(law_cls, prm, band, frame, geom, settings):
    """:func:`component_image` on the rows ``band`` of the grid ``frame``."""
    x0, y0, s, (hf, wf) = frame[:4]
    yb, (hb, _) = band[1], band[3]
    rb = jnp.round((yb - y0) * s).astype(int)  # first band row in frame rows
    law = bind_law(law_cls, settings)
    wh, ww = min(settings.refine_window, hf), min(settings.refine_window, wf)
    if settings.sampling != "adaptive" or (wh, ww) == (hf, wf):
        full = component_image(law_cls, prm, frame, geom, settings)
        full = jnp.pad(full, ((0, hb), (0, 0)))  # bands may reach below the frame
        return jax.lax.dynamic_slice_in_dim(full, rb, hb, axis=0)
    far, near, i0, j0 = _far_and_window(law, law_cls, prm, band, frame, geom, settings)
    return place_window(far, near, i0 - rb, j0)  # the window's rows in the band only


def _centres(grid):
    """Pixel-centre coordinates (X, Y) of a grid (image pixels), arrays (Hf, Wf)."""
    x0, y0, s, (hf, wf) = grid[:4]
    X = x0 + jnp.arange(wf)[None, :] / s + jnp.zeros((hf, 1))
    Y = y0 + jnp.arange(hf)[:, None] / s + jnp.zeros((1, wf))
    return X, Y


def _accurate_zone(law, law_cls, prm, grid, geom, settings):
    """Steps 1-3 of :func:`component_image` on ``grid``."""
    step = grid_cell(grid)
    X, Y = _centres(grid)
    order = settings.quad_order
    adaptive = _adaptive(settings)
    if adaptive:
        img, est = profile_pixels_with_error(law, prm, X, Y, step, order, geom)
    else:
        img, est = profile_pixels(law, prm, X, Y, step, order, geom), None
    if settings.refine_size:
        pc = _centre_pixel(geom, prm)
        img, rows, cols = _refine_core(law, law_cls, prm, img, pc, grid, geom, settings)
        if adaptive:  # the core is exact (or refined): no budget for it
            est = est.at[rows[:, None], cols[None, :]].set(0.0, mode="drop")
    if adaptive:
        img = refine_worst(law, prm, img, est, X, Y, step, geom, settings)
    return img


def _centre_pixel(geom, prm):
    """Pixel of a component's centre (no gradient: it only places windows and blocks)."""
    cd, crpix, ref = geom[:3]
    if has_sip(geom):
        return pixel_of_sky(geom, jax.lax.stop_gradient(prm[:2]))
    return crpix + jnp.linalg.inv(cd) @ (jax.lax.stop_gradient(prm[:2]) - ref)


def _refine_core(law, law_cls, prm, img, pc, grid, geom, settings):
    """The block of pixels around the centre: exact edge integrals where the law has a
    closed-form enclosed light, else nested geometric refinement."""
    hf, wf = grid[3]
    nw = settings.refine_size
    big = hf + wf + 10  # negative indices -> out of range, then dropped
    frac, geometry = enclosed_fraction(law_cls, settings), None
    homogeneous = law_cls.GEOMETRY is not None and law_cls.GEOMETRY.homogeneous
    if frac is None and homogeneous:  # a geometry on a closed-form law
        frac = enclosed_fraction(law_cls.LAW, settings)
        geometry = (law_cls.GEOMETRY, len(law_cls.LAW.PARAMS) - 5)
    if frac is not None:
        vals, rows, cols = core_block(frac, prm, pc, grid, geom, nw, CORE_NODES, geometry)
        rr = jnp.where(rows < 0, big, rows)
        cc = jnp.where(cols < 0, big, cols)
        return img.at[rr[:, None], cc[None, :]].set(vals, mode="drop"), rr, cc
    x0, y0, s, _ = grid[:4]
    fr = settings.refine_factor
    if grid_cell(grid) != 1.0 / s:  # CMOS squares: each cell refined on its own
        return _refine_cells(law, prm, img, pc, grid, geom, settings, nw, big)
    for level in range(settings.refine_levels):
        n = nw if level == 0 else 3
        img = _refine_level(law, prm, img, pc, grid, geom, settings.quad_order, level, n, fr, big)
    i0 = jnp.floor((pc[0] - x0) * s + 0.5).astype(int) - nw // 2
    j0 = jnp.floor((pc[1] - y0) * s + 0.5).astype(int) - nw // 2
    rr, cc = j0 + jnp.arange(nw), i0 + jnp.arange(nw)
    return img, jnp.where(rr < 0, big, rr), jnp.where(cc < 0, big, cc)


def worst_mask(key, k, tol, bins=128):
    """Which entries of ``key`` are (about) its ``k`` largest above ``tol``.

    :func:`jax.lax.top_k` sorts, which on CPU costs ~40 ms for 65,536 entries; this
    instead histograms the entries by quarter-octave (exponent and two mantissa bits,
    no logarithm) below the largest one (one pass) and finds the lowest bin such that
    at most ``k`` entries lie in it or above. So every marked entry exceeds ``tol`` and
    every entry above both ``tol`` and about 1.2 x the k-th largest is marked; when
    even the top bin holds more than ``k``, all of it is marked (the caller gathers the
    first ``k`` in index order with a static-size :func:`jax.numpy.nonzero`).

    Parameters
    ----------
    key : array (N,)
        Non-negative scores (no gradient).
    k : int
        Static number of slots.
    tol : float
        Entries at or below ``tol`` are never marked.
    bins : int
        Quarter-octave bins below the largest entry (128: a range of 2^32).

    Returns
    -------
    bool array (N,)
    """
    m, e = jnp.frexp(jnp.maximum(key, 1e-300))
    level = 4 * e + jnp.floor((m - 0.5) * 8.0).astype(e.dtype)  # increasing with key
    idx = jnp.clip(jnp.max(level) - level, 0, bins)
    counts = jnp.zeros(bins + 1, idx.dtype).at[idx].add(1)
    nsel = jnp.maximum(jnp.sum(jnp.cumsum(counts[:bins]) <= k), 1)  # bins 0..nsel-1
    return (idx < nsel) & (key > tol)


def refine_chunk(k: int, ladder: bool) -> int:
    """Cells per chunk of a refinement round: ``k`` / 4 with ``ladder`` (when that is a
    whole number of at least 32), else ``k`` (one chunk).

    Examples
    --------
    >>> refine_chunk(512, True), refine_chunk(512, False), refine_chunk(64, True)
    (128, 512, 64)
    """
    c = k // 4
    return c if ladder and c >= 32 and 4 * c == k else k


#: cells whose estimated error exceeds BLEND_FROM of the budget are partly refined, and
#: fully from BLEND_TO on: the margin covers estimates that fall short of the true error
#: (measured up to 10x, next to steep cusps of thin profiles)
BLEND_FROM = 0.05
BLEND_TO = 0.25


def refinement_weight(key, tol):
    """Weight of a cell's refined value: 0 for an estimated error (relative to the
    budget ``tol``) up to ``BLEND_FROM``, 1 from ``BLEND_TO`` on, a smoothstep between.

    Blending keeps the rendered image a continuous (and, with the weight's own
    derivative, differentiable) function of the parameters: a cell that crosses the
    threshold moves smoothly from its coarse to its refined value instead of jumping by
    its integration error, which would leave steps in the fit objective. Cells over the
    budget are always refined in full, so the budget holds as without blending.

    Examples
    --------
    >>> [round(float(refinement_weight(k, 1.0)), 12) for k in (0.01, 0.15, 2.0)]
    [0.0, 0.5, 1.0]
    """
    t = jnp.clip((key / tol - BLEND_FROM) / (BLEND_TO - BLEND_FROM), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def refine_worst(law, prm, img, est, X, Y, step, geom, settings):
    """Error-driven refinement rounds (step 3 of :func:`component_image`).

    Each round splits the (at most ``refine_pixels``) cells whose estimated error, over
    max(|pixel|, 1e-3 peak), is largest and above ``BLEND_FROM`` x ``rel_tol`` into
    ``refine_factor`` x ``refine_factor`` sub-cells, and moves the pixel from the
    cell's value towards the sum of its sub-cells by :func:`refinement_weight`. A
    sub-cell enters the next round's pool carrying the weight with which its value is
    present in the pixel.

    Parameters
    ----------
    law : bound law (:func:`bind_law`)
    prm : array (P,)
    img, est : arrays (Hf, Wf)
        Pixel fluxes and their error estimates.
    X, Y : arrays (Hf, Wf)
        Pixel centres (image pixels).
    step : float
        Grid pixel size (image pixels).
    geom : (cd, crpix, ref_sky)
    settings : RenderSettings

    Returns
    -------
    array (Hf, Wf)
    """
    k = min(settings.refine_pixels, img.size)
    peak = jnp.max(jnp.abs(img))
    denom = (jnp.abs(img) + BRIGHT_FRACTION * peak).ravel()
    # the pool of candidate cells: centre, value, parent pixel, error key, presence weight
    flat = img.ravel()
    pool = (X.ravel(), Y.ravel(), flat, jnp.arange(img.size), est.ravel() / denom)
    pool += (jnp.ones(img.size),)
    size = step
    chunk = refine_chunk(k, settings.refine_ladder)
    for _ in range(settings.refine_rounds):
        flat, pool = _refine_round(law, prm, geom, settings, flat, pool, denom, size, k, chunk)
        size = size / settings.refine_factor
    return flat.reshape(img.shape)


def _refine_round(law, prm, geom, settings, flat, pool, denom, size, k, chunk):
    """One round of :func:`refine_worst`: the (at most ``k``) worst cells of ``pool``
    split, in chunks of ``chunk`` cells of which only those holding picked cells run.

    ``pool`` is ``(cx, cy, cval, parent, key, scale)`` (cell centres, values, parent
    pixels, error keys, presence weights; cells of side ``size``); returns the new
    ``flat`` image and the pool of the sub-cells (``k * f**2`` entries, zeros where no
    cell was picked: keys of 0 are never picked).
    """
    order, f, tol = settings.quad_order, settings.refine_factor, settings.rel_tol
    cx, cy, cval, parent, key, scale = pool
    sub = (np.arange(f) + 0.5) / f - 0.5
    mask = worst_mask(jax.lax.stop_gradient(key), k, BLEND_FROM * tol)
    n_live = jnp.sum(mask)
    picks = jnp.nonzero(mask, size=k, fill_value=0)[0]  # index order; the first k

    def split(state, c):
        slot = c * chunk + jnp.arange(chunk)
        pick = jax.lax.dynamic_slice_in_dim(picks, c * chunk, chunk)
        live = slot < n_live
        xs = cx[pick][:, None, None] + sub[None, None, :] * size + jnp.zeros((1, f, 1))
        ys = cy[pick][:, None, None] + sub[None, :, None] * size + jnp.zeros((1, 1, f))
        v, e = profile_pixels_with_error(law, prm, xs, ys, size / f, order, geom)
        wgt = jnp.where(live, scale[pick] * refinement_weight(key[pick], tol), 0.0)
        flat = state[0].at[parent[pick]].add(wgt * (v.sum(axis=(1, 2)) - cval[pick]))
        par = jnp.repeat(parent[pick], f * f)
        sub_key = jnp.where(jnp.repeat(live, f * f), e.ravel() / denom[par], 0.0)
        new = (xs.ravel(), ys.ravel(), v.ravel(), par, sub_key, jnp.repeat(wgt, f * f))
        at = c * chunk * f * f
        return (flat,) + tuple(
            jax.lax.dynamic_update_slice_in_dim(old, val, at, 0)
            for old, val in zip(state[1:], new, strict=True)
        )

    def step(state, c):  # a chunk without a picked cell is skipped
        return jax.lax.cond(c * chunk < n_live, split, lambda s, c: s, state, c), None

    n = k * f * f
    empty = (jnp.zeros(n), jnp.zeros(n), jnp.zeros(n), jnp.zeros(n, int))
    empty += (jnp.zeros(n), jnp.zeros(n))
    (flat, *new_pool), _ = jax.lax.scan(step, (flat, *empty), jnp.arange(k // chunk))
    return flat, tuple(new_pool)


def _refine_level(law_cls, prm, img, pc, grid, geom, order, level, nw, fr, big):
    """Replace the coarse integral of ``nw`` x ``nw`` level-``level`` cells around the
    centre by their integral over ``fr`` x ``fr`` sub-cells.

    Level-l cells have size (pixel size) / fr**l and tile the pixels exactly, so the
    corrections telescope: a level-l cell's coarse value is the sum that level l-1
    already used for it. Each correction goes to the pixel that holds its cell.
    """
    x0, y0, s, _ = grid[:4]
    step = 1.0 / s
    nsub = fr**level  # cells per pixel along an axis at this level
    cell = step / nsub
    ex, ey = x0 - 0.5 * step, y0 - 0.5 * step  # edge of the first grid pixel
    mx = jnp.floor((pc[0] - ex) / cell).astype(int) - nw // 2 + jnp.arange(nw)
    my = jnp.floor((pc[1] - ey) / cell).astype(int) - nw // 2 + jnp.arange(nw)
    Xc = (ex + (mx + 0.5) * cell)[None, :] + jnp.zeros((nw, 1))
    Yc = (ey + (my + 0.5) * cell)[:, None] + jnp.zeros((1, nw))
    coarse = profile_pixels(law_cls, prm, Xc, Yc, cell, order, geom)
    sub = (np.arange(fr) + 0.5) / fr - 0.5
    Xs = Xc[:, :, None, None] + sub[None, None, None, :] * cell
    Ys = Yc[:, :, None, None] + sub[None, None, :, None] * cell
    fine = profile_pixels(law_cls, prm, Xs, Ys, cell / fr, order, geom).sum(axis=(2, 3))
    cols = jnp.floor_divide(mx, nsub)
    rows = jnp.floor_divide(my, nsub)
    rr = jnp.where(rows < 0, big, rows)[:, None] + jnp.zeros((1, nw), int)
    cc = jnp.where(cols < 0, big, cols)[None, :] + jnp.zeros((nw, 1), int)
    return img.at[rr, cc].add(fine - coarse, mode="drop")


def _refine_cells(law, prm, img, pc, grid, geom, settings, nw, big):
    """Nested refinement of the ``nw`` x ``nw`` cells nearest the centre when cells do
    not tile the grid (CMOS squares of side :func:`grid_cell`, which leave gaps or
    overlap): level 0 splits each cell into ``refine_factor`` x ``refine_factor``
    sub-cells; level l >= 1 splits the 3 x 3 level-l sub-cells of each cell nearest
    the centre (those inside the cell), telescoping as :func:`_refine_level` does."""
    x0, y0, s, _ = grid[:4]
    cell, order, fr = grid_cell(grid), settings.quad_order, settings.refine_factor
    i0 = jnp.round((pc[0] - x0) * s).astype(int) - nw // 2
    j0 = jnp.round((pc[1] - y0) * s).astype(int) - nw // 2
    cols, rows = i0 + jnp.arange(nw), j0 + jnp.arange(nw)
    ex = (x0 + cols / s - 0.5 * cell)[None, :, None, None]  # cell corners (1, nw, 1, 1)
    ey = (y0 + rows / s - 0.5 * cell)[:, None, None, None]
    sub = (np.arange(fr) + 0.5) / fr - 0.5
    total = jnp.zeros((nw, nw))
    for level in range(settings.refine_levels):
        n = fr**level  # level-l sub-cells per cell side
        size = cell / n
        if level == 0:
            mx = my = jnp.zeros((1, 1, 1, 1), int)
            ok = jnp.ones((nw, nw, 1, 1), bool)
        else:
            k = jnp.arange(3) - 1
            mx = jnp.floor((pc[0] - ex) / size).astype(int) + k[None, None, None, :]
            my = jnp.floor((pc[1] - ey) / size).astype(int) + k[None, None, :, None]
            ok = (mx >= 0) & (mx < n) & (my >= 0) & (my < n)
        Xc = ex + (mx + 0.5) * size + jnp.zeros_like(ey)
        Yc = ey + (my + 0.5) * size + jnp.zeros_like(ex)
        coarse = profile_pixels(law, prm, Xc, Yc, size, order, geom)
        Xs = Xc[..., None, None] + sub[None, None, None, None, None, :] * size
        Ys = Yc[..., None, None] + sub[None, None, None, None, :, None] * size
        fine = profile_pixels(law, prm, Xs, Ys, size / fr, order, geom).sum(axis=(-2, -1))
        total = total + jnp.where(ok, fine - coarse, 0.0).sum(axis=(-2, -1))
    rr = jnp.where(rows < 0, big, rows)
    cc = jnp.where(cols < 0, big, cols)
    return img.at[rr[:, None], cc[None, :]].add(total, mode="drop"), rr, cc


def render_profile_group(law_cls, params, grid, geom, settings, frame=None):
    """Sum of K same-type components (a ``lax.scan``: compile time flat in K).

    Parameters
    ----------
    params : array (K, P)
    grid, geom, settings, frame : as in :func:`component_image`.
    """
    hf, wf = grid[3]

    def one(acc, prm):
        return acc + component_image(law_cls, prm, grid, geom, settings, frame), None

    out, _ = jax.lax.scan(one, jnp.zeros((hf, wf)), params)
    return out


def linearize_group(image_of, params):
    """Images and derivative images of K same-type components, in one forward pass.

    Each component depends only on its own P parameters, so the Jacobian is
    block-sparse: K * P forward-mode directions over one component each, instead of
    K * P over all K components. The primal image of each component is computed once,
    beside its P tangents (``jax.jacfwd`` would compute and discard it).

    Parameters
    ----------
    image_of : callable
        ``prm (P,) -> image (Hf, Wf)`` of one component.
    params : array (K, P)

    Returns
    -------
    total : array (Hf, Wf)
        Sum of the K images.
    jac : array (K, P, Hf, Wf)
    """

    def one(prm):
        basis = jnp.eye(prm.shape[0], dtype=prm.dtype)
        return jax.vmap(lambda v: jax.jvp(image_of, (prm,), (v,)), out_axes=(None, 0))(basis)

    images, jac = jax.lax.map(one, params)
    return images.sum(axis=0), jac


def profile_group_jacobian(law_cls, params, grid, geom, settings, frame=None):
    """:func:`linearize_group` of :func:`component_image`: the (Hf, Wf) sum of the K
    images and their derivative images (K, P, Hf, Wf)."""
    return linearize_group(
        lambda p: component_image(law_cls, p, grid, geom, settings, frame), params
    )
