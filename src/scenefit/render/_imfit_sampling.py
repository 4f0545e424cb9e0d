"""Imfit's (GALFIT's) pixel sub-sampling rule, with static shapes for jit.

Imfit evaluates each 2-D function at pixel centres, except where the pixel centre lies
at elliptical radius r < 10 pixels from the function's centre (r measured along the
major axis, r^2 = a^2 + (b / q)^2); there the pixel value is the mean of N x N samples
at the centres of N x N equal sub-pixels:

* N = min(100, int(k / scale)) if scale <= 1 px and r <= 1 px;
* otherwise N = 20 if r <= r_in, else min(100, int(20 / r)) (2 to 4);

with the per-function constants below (from Imfit's documentation of its functions'
``CalculateSubsamples``; Imfit is GPL, this is an independent implementation).

Static shapes: the rule can only change pixel values inside the 21 x 21 pixels around
the pixel nearest the centre (r >= Euclidean distance), and N > 20 only inside the
central 3 x 3. So the window is evaluated with a 20 x 20 masked sub-grid (samples
i < N kept, at offsets (i + 1/2) / N - 1/2) and the central 3 x 3 also with a
100 x 100 masked sub-grid; N is chosen per pixel with ``jnp.where``.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

from ..models import GEN_ELLIPSE, Exponential, Gaussian, Moffat, Sersic
from ..models.moffat import moffat_alpha

__all__ = ["imfit_rule", "imfit_component_image", "IMFIT_RULES"]

#: profile type -> (k of the small-scale rule, r_in in pixels)
IMFIT_RULES = {
    Sersic: (20.0, 4.0),
    Exponential: (20.0, 3.0),
    Gaussian: (40.0, 3.0),
    Moffat: (40.0, 3.0),
}

R_MAX = 10.0  # pixels: sub-sampling only where r < R_MAX
HALF = 10  # window half-width in pixels (Euclidean distance <= r < 10)
N_MID = 20  # largest N outside the small-scale core rule
N_MAX = 100


def imfit_rule(law_cls):
    """(k, r_in) of Imfit's rule for ``law_cls``; ``ValueError`` if it has none.

    Imfit's ``Sersic_GenEllipse`` and ``Exponential_GenEllipse`` use the rule of their
    law, with the generalised radius (checked against makeimage's output for
    ``Sersic_GenEllipse``, tests/test_geometries.py)."""
    if law_cls.GEOMETRY is GEN_ELLIPSE and law_cls.LAW in (Sersic, Exponential):
        law_cls = law_cls.LAW
    try:
        return IMFIT_RULES[law_cls]
    except KeyError:
        names = ", ".join(t.__name__ for t in IMFIT_RULES)
        raise ValueError(
            f"Imfit sampling is defined for {names}; got {law_cls.__name__} "
            "(use sampling='adaptive' or 'center' for it)"
        ) from None


def _scale_length(law_cls, law):
    """The length in Imfit's small-scale rule (same unit as the law's sizes)."""
    if law_cls is Moffat:
        return moffat_alpha(law[0], law[1])
    return law[0]


def n_subsamples(r, scale, k, r_in):
    """Imfit's N per pixel (int array) from the pixel-centre radius ``r`` (pixels)."""
    small = (scale <= 1.0) & (r <= 1.0)
    n_small = jnp.minimum(N_MAX, jnp.floor(k / scale))
    n_far = jnp.minimum(N_MAX, jnp.floor(20.0 / jnp.maximum(r, 1e-300)))
    n = jnp.where(small, n_small, jnp.where(r <= r_in, float(N_MID), n_far))
    return jnp.where(r < R_MAX, n, 1.0).astype(int)


def imfit_component_image(law, law_cls, prm, grid, geom, center_img):
    """Replace the pixel-centre values of ``center_img`` by Imfit's sub-sampled means.

    Parameters
    ----------
    law : object with ``radial(r, law_params)`` and ``total(law_params)``
        The (possibly b_n-bound) law functions.
    law_cls : EllipticalProfile subclass (selects the rule)
    prm : array (P,)
    grid : (x0, y0, s, (Hf, Wf))
    geom : (cd, crpix, ref_sky)
    center_img : array (Hf, Wf)
        The component sampled at grid-pixel centres (flux per grid pixel).

    Returns
    -------
    array (Hf, Wf)
    """
    k, r_in = imfit_rule(law_cls)
    x0, y0, s, (hf, wf) = grid
    cd, crpix, ref = geom
    step = 1.0 / s
    pix = jnp.sqrt(jnp.abs(jnp.linalg.det(cd))) * step  # arcsec per grid pixel
    xc, yc, flux = prm[0], prm[1], prm[2]
    lawp, q, pa = prm[3:-2], prm[-2], prm[-1]
    amp = flux / (q * law.total(lawp)) * pix * pix

    def value(X, Y):
        xi = ref[0] + cd[0, 0] * (X - crpix[0]) + cd[0, 1] * (Y - crpix[1]) - xc
        eta = ref[1] + cd[1, 0] * (X - crpix[0]) + cd[1, 1] * (Y - crpix[1]) - yc
        return law.radius(xi, eta, q, pa, lawp)

    # window of grid pixels around the one nearest the centre
    pc = crpix + jnp.linalg.inv(cd) @ (jax.lax.stop_gradient(prm[:2]) - ref)
    ic = jnp.round((pc[0] - x0) / step).astype(int)
    jc = jnp.round((pc[1] - y0) / step).astype(int)
    offs = jnp.arange(-HALF, HALF + 1)
    cols = ic + offs
    rows = jc + offs
    Xw = (x0 + cols * step)[None, :] + jnp.zeros((2 * HALF + 1, 1))
    Yw = (y0 + rows * step)[:, None] + jnp.zeros((1, 2 * HALF + 1))
    r_arc = value(Xw, Yw)
    r_pix = jax.lax.stop_gradient(r_arc / pix)
    scale = jax.lax.stop_gradient(_scale_length(law_cls, lawp) / pix)
    n = n_subsamples(r_pix, scale, k, r_in)

    def subsampled(X, Y, nn, nmax):
        i = np.arange(nmax)
        nf = nn.astype(float)[..., None]
        t = ((i + 0.5) / nf - 0.5) * step  # (..., nmax) offsets in image pixels
        keep = i < nn[..., None]
        xs = X[..., None, None] + t[..., None, :]
        ys = Y[..., None, None] + t[..., :, None]
        f = law.radial(value(xs, ys), lawp)
        w = (keep[..., :, None] & keep[..., None, :]).astype(float)
        return amp * jnp.sum(f * w, axis=(-2, -1)) / (nf[..., 0] ** 2)

    centre = amp * law.radial(r_arc, lawp)
    mid = subsampled(Xw, Yw, jnp.minimum(n, N_MID), N_MID)
    win = jnp.where(n > 1, mid, centre)
    c = slice(HALF - 1, HALF + 2)
    core = subsampled(Xw[c, c], Yw[c, c], jnp.maximum(n[c, c], 1), N_MAX)
    win = win.at[c, c].set(jnp.where(n[c, c] > N_MID, core, win[c, c]))

    big = hf + wf + 10  # out-of-range index -> dropped
    rr = jnp.where((rows < 0) | (rows >= hf), big, rows)[:, None] + jnp.zeros_like(n)
    cc = jnp.where((cols < 0) | (cols >= wf), big, cols)[None, :] + jnp.zeros_like(n)
    return center_img.at[rr, cc].set(win, mode="drop")
