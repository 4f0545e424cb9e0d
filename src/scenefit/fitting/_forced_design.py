"""The linear design of forced photometry: unit-flux source images and sky columns.

With every shape, position and PSF parameter fixed, a scene's model image is linear in
the source fluxes and in the sky parameters (a flux is a total flux by definition; the
sky models are linear in their parameters),

    model = offset + sum_k a_k theta_k,

where ``a_k`` (H, W) is the PSF-convolved image of source k at unit flux (or the image
of a unit sky parameter) and ``offset`` is the light of everything held fixed. The
columns ``a_k`` are the forward-mode Jacobian of the existing renderer with respect to
those parameters only (:func:`~scenefit.render.make_model_and_jacobian`): one compiled
program per scene structure and image structure renders all sources at once.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .._layout import build_layout
from ..models import PSFModel, SkyModel
from ..parameters import Param
from ..render import image_inputs, image_spec, make_model_and_jacobian

__all__ = ["Design", "linear_scene", "design", "source_names"]


@dataclass(frozen=True)
class Design:
    """One image's linear model: ``model = offset + columns^T theta``."""

    names: tuple[str, ...]  # addresses of the linear parameters (column order)
    columns: np.ndarray  # (F, H, W): model per unit of each parameter
    offset: np.ndarray  # (H, W): the light held fixed


def source_names(scene) -> tuple[str, ...]:
    """Names of the components whose ``flux`` is solved for (untied, not sky/PSF)."""
    out = []
    for c in scene.components:
        if isinstance(c, (SkyModel, PSFModel)) or "flux" not in c.param_names():
            continue
        if scene.leader_of(f"{c.name}.flux") == f"{c.name}.flux":
            out.append(c.name)
    return tuple(out)


def linear_scene(scene, fit_sky: bool):
    """``scene`` with only the source fluxes (set to 1, unbounded) and, with
    ``fit_sky``, the sky parameters (unbounded) free; everything else fixed."""
    comps = []
    for c in scene.components:
        ch = {}
        for p in c.param_names():
            par = getattr(c, p)
            if isinstance(c, SkyModel):
                ch[p] = Param(par.value, fixed=not fit_sky)
            elif p == "flux" and not isinstance(c, PSFModel):
                ch[p] = Param(1.0)
            else:
                ch[p] = dataclasses.replace(par, fixed=True, lo=None, hi=None)
        comps.append(dataclasses.replace(c, **ch))
    return type(scene)(comps, scene.ties)


def design(lin_scene, image, settings) -> Design:
    """The columns and offset of ``lin_scene`` (from :func:`linear_scene`) on ``image``."""
    layout, vals, x = build_layout(lin_scene)
    fn = _compiled(layout, image_spec(image), settings)
    model, jac = fn(jnp.asarray(vals.base), image_inputs(image, layout))
    model, jac = np.asarray(model), np.asarray(jac)
    offset = model - np.tensordot(np.asarray(x, float), jac, axes=1)
    return Design(layout.free_addresses, jac, offset)


@lru_cache(maxsize=32)
def _compiled(layout, spec, settings):
    return jax.jit(make_model_and_jacobian(layout, spec, settings))
