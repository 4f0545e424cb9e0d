"""Sub-pixel centring of profiles before PSF convolution (``RenderSettings.subpixel_shift``).

Each component is integrated on the render grid moved by its fractional pixel offset,
so that its centre falls exactly on a (fine) pixel centre; the image is then moved back
by that offset with an interpolation kernel (Lanczos-3 or bilinear, see
:mod:`._interp`). This is the re-centring the AstroPhot paper (Stone et al. 2023)
describes, where the shift back is applied after the PSF convolution. Convolution and
interpolation are both convolutions and commute, so scenefit shifts each component back
*before* the (single, shared) convolution: the same result at the cost of one
convolution for all components.

The centre enters the image only through the shift weights (the integer pixel is held
fixed), so the image is differentiable in the centre; the Lanczos-3 kernel is C1.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._integrate import component_image, linearize_group
from ._interp import shift_image

__all__ = ["centred_component_image", "render_centred_group", "centred_group_jacobian"]


def centred_component_image(law_cls, prm, grid, geom, settings, kind):
    """One component integrated centred on a pixel, then shifted to its true centre.

    Parameters are those of :func:`._integrate.component_image`; ``kind`` is the
    interpolation kernel (``"lanczos3"`` or ``"bilinear"``).

    Returns
    -------
    array (Hf, Wf)
    """
    x0, y0, s, _ = grid
    cd, crpix, ref = geom
    pc = crpix + jnp.linalg.solve(cd, prm[:2] - ref)  # image pixels
    f = jnp.stack([(pc[0] - x0) * s, (pc[1] - y0) * s])  # render-grid pixels
    frac = f - jnp.round(jax.lax.stop_gradient(f))  # in [-1/2, 1/2]
    centred = prm.at[:2].add(-(cd @ frac) / s)  # on a pixel centre, constant in prm[:2]
    img = component_image(law_cls, centred, grid, geom, settings)
    return shift_image(img, frac[0], frac[1], kind)


def render_centred_group(law_cls, params, grid, geom, settings):
    """Sum of K same-type components, each rendered by :func:`centred_component_image`."""
    hf, wf = grid[3]
    kind = settings.subpixel_shift

    def one(acc, prm):
        return acc + centred_component_image(law_cls, prm, grid, geom, settings, kind), None

    out, _ = jax.lax.scan(one, jnp.zeros((hf, wf)), params)
    return out


def centred_group_jacobian(law_cls, params, grid, geom, settings):
    """Sum image (Hf, Wf) and derivative images (K, P, Hf, Wf) of
    :func:`render_centred_group`'s components (:func:`._integrate.linearize_group`)."""
    kind = settings.subpixel_shift
    return linearize_group(
        lambda p: centred_component_image(law_cls, p, grid, geom, settings, kind), params
    )
