"""Point source: a PSF-shaped component."""

from __future__ import annotations

import dataclasses

from ._base import FLUX, POSITION, PointLike

__all__ = ["PointSource"]


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class PointSource(PointLike):
    """An unresolved source drawn with the image's PSF at a sub-pixel position.

    Parameters
    ----------
    x, y : centre on the tangent plane (arcsec); flux : total flux (image units).

    Examples
    --------
    >>> PointSource(x=1.0, y=-2.0, flux=500.0).flux.value
    500.0
    """

    PARAMS = (*POSITION, FLUX)
    TYPE_NAME = "point"

    x: object = None
    y: object = None
    flux: object = None
