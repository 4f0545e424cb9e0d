"""Rendering: pixel integration, PSF convolution, point sources, sky."""

from ._psf_mixture import PSFMixture, fit_psf_mixture
from ._psf_model import DEFAULT_PSF_SHAPE, PSF_QUAD_ORDER, draw_psf_model, psf_image
from .renderer import (
    ImageSpec,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_model_jacobian,
    make_renderer,
    render,
)
from .settings import RenderSettings

__all__ = [
    "RenderSettings",
    "render",
    "make_renderer",
    "make_model_jacobian",
    "make_model_and_jacobian",
    "image_spec",
    "image_inputs",
    "ImageSpec",
    "fit_psf_mixture",
    "PSFMixture",
    "draw_psf_model",
    "psf_image",
    "DEFAULT_PSF_SHAPE",
    "PSF_QUAD_ORDER",
]
