"""Sky backgrounds (per image, not PSF-convolved)."""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp

from ._base import ParamSpec, SkyModel

__all__ = ["FlatSky", "TiltedSky"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class FlatSky(SkyModel):
    """A constant background.

    Parameters
    ----------
    sky : float or Param
        Background level in image units per pixel.

    Examples
    --------
    >>> FlatSky(sky=0.5).sky.value
    0.5
    """

    PARAMS = (ParamSpec("sky", "image units / pixel", None, None, "background level", 0.0),)
    TYPE_NAME = "flat_sky"

    sky: object = None

    @staticmethod
    def evaluate(params, dx, dy):
        return jnp.sum(params[:, 0]) * jnp.ones_like(dx)


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class TiltedSky(SkyModel):
    """A tilted-plane background, sky + dsky_dx * dx + dsky_dy * dy.

    ``dx``, ``dy`` are pixel offsets (columns, rows) from the image centre
    ((W - 1) / 2, (H - 1) / 2).

    Parameters
    ----------
    sky : level at the image centre (image units / pixel);
    dsky_dx, dsky_dy : gradients along columns and rows (image units / pixel / pixel).

    Examples
    --------
    >>> TiltedSky(sky=1.0, dsky_dx=0.01, dsky_dy=0.0).dsky_dx.value
    0.01
    """

    PARAMS = (
        ParamSpec("sky", "image units / pixel", None, None, "level at the image centre", 0.0),
        ParamSpec("dsky_dx", "image units / pixel^2", None, None, "gradient along columns", 0.0),
        ParamSpec("dsky_dy", "image units / pixel^2", None, None, "gradient along rows", 0.0),
    )
    TYPE_NAME = "tilted_sky"

    sky: object = None
    dsky_dx: object = None
    dsky_dy: object = None

    @staticmethod
    def evaluate(params, dx, dy):
        s = params[:, 0, None, None] + params[:, 1, None, None] * dx + params[:, 2, None, None] * dy
        return jnp.sum(s, axis=0)
