"""Pixel integration of elliptical profiles (pure, jit-friendly, static shapes)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..models import Sersic
from ._geometry import elliptical_radius
from ._imfit_sampling import imfit_component_image
from ._quadrature import pixel_rule

__all__ = [
    "bind_law",
    "profile_pixels",
    "component_image",
    "render_profile_group",
    "profile_group_jacobian",
]


class _BoundLaw:
    """A law's ``radial`` and ``total`` with keyword options fixed (e.g. Sersic b_n)."""

    def __init__(self, law_cls, **options):
        self.law_cls = law_cls
        self.options = options

    def radial(self, r, law):
        return self.law_cls.radial(r, law, **self.options)

    def total(self, law):
        return self.law_cls.total(law, **self.options)


def bind_law(law_cls, settings):
    """``radial``/``total`` of ``law_cls`` with the options that ``settings`` select.

    Only the Sersic law has one today: its b_n rule (``settings.sersic_bn``).
    """
    if law_cls is Sersic:
        return _BoundLaw(law_cls, bn_rule=settings.sersic_bn)
    return law_cls


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
    cd, crpix, ref = geom
    xc, yc, flux = prm[0], prm[1], prm[2]
    law, q, pa = prm[3:-2], prm[-2], prm[-1]
    amp = flux / (q * law_cls.total(law))
    dx, dy, w = pixel_rule(order)
    area = jnp.abs(jnp.linalg.det(cd)) * step * step
    xi = ref[0] + cd[0, 0] * (X - crpix[0]) + cd[0, 1] * (Y - crpix[1]) - xc
    eta = ref[1] + cd[1, 0] * (X - crpix[0]) + cd[1, 1] * (Y - crpix[1]) - yc
    oxi = (cd[0, 0] * dx + cd[0, 1] * dy) * step
    oeta = (cd[1, 0] * dx + cd[1, 1] * dy) * step
    r = elliptical_radius(xi[..., None] + oxi, eta[..., None] + oeta, q, pa)
    return amp * area * (law_cls.radial(r, law) @ w)


def component_image(law_cls, prm, grid, geom, settings):
    """One component on a regular grid, with its core refined.

    Parameters
    ----------
    law_cls : EllipticalProfile subclass
    prm : array (P,)
    grid : (x0, y0, s, (Hf, Wf))
        First pixel-centre coordinates (image pixels), oversampling, grid shape.
    geom : (cd, crpix, ref_sky)
    settings : RenderSettings

    Returns
    -------
    array (Hf, Wf)
        Flux per grid pixel, image units.
    """
    x0, y0, s, (hf, wf) = grid
    step = 1.0 / s
    X = x0 + jnp.arange(wf)[None, :] * step + jnp.zeros((hf, 1))
    Y = y0 + jnp.arange(hf)[:, None] * step + jnp.zeros((1, wf))
    law = bind_law(law_cls, settings)
    if settings.sampling != "adaptive":
        img = profile_pixels(law, prm, X, Y, step, 1, geom)
        if settings.sampling == "imfit":
            img = imfit_component_image(law, law_cls, prm, grid, geom, img)
        return img
    order = settings.quad_order
    img = profile_pixels(law, prm, X, Y, step, order, geom)
    if settings.refine_size == 0:
        return img
    cd, crpix, ref = geom
    pc = crpix + jnp.linalg.inv(cd) @ (jax.lax.stop_gradient(prm[:2]) - ref)
    fr = settings.refine_factor
    big = hf + wf + 10  # negative indices -> out of range, then dropped
    for level in range(settings.refine_levels):
        nw = settings.refine_size if level == 0 else 3
        img = _refine_level(law, prm, img, pc, grid, geom, order, level, nw, fr, big)
    return img


def _refine_level(law_cls, prm, img, pc, grid, geom, order, level, nw, fr, big):
    """Replace the coarse integral of ``nw`` x ``nw`` level-``level`` cells around the
    centre by their integral over ``fr`` x ``fr`` sub-cells.

    Level-l cells have size (pixel size) / fr**l and tile the pixels exactly, so the
    corrections telescope: a level-l cell's coarse value is the sum that level l-1
    already used for it. Each correction goes to the pixel that holds its cell.
    """
    x0, y0, s, _ = grid
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


def render_profile_group(law_cls, params, grid, geom, settings):
    """Sum of K same-type components (a ``lax.scan``: compile time flat in K).

    Parameters
    ----------
    params : array (K, P)
    grid, geom, settings : as in :func:`component_image`.
    """
    hf, wf = grid[3]

    def one(acc, prm):
        return acc + component_image(law_cls, prm, grid, geom, settings), None

    out, _ = jax.lax.scan(one, jnp.zeros((hf, wf)), params)
    return out


def profile_group_jacobian(law_cls, params, grid, geom, settings):
    """Derivative images of K same-type components w.r.t. their own parameters.

    Each component depends only on its own P parameters, so the Jacobian is
    block-sparse: K * P forward-mode passes over one component each, instead of
    (K * P) passes over all K components.

    Returns
    -------
    array (K, P, Hf, Wf)
    """

    def one(prm):
        jac = jax.jacfwd(lambda p: component_image(law_cls, p, grid, geom, settings))(prm)
        return jnp.moveaxis(jac, -1, 0)

    return jax.lax.map(one, params)
