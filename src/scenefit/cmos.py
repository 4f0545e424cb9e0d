"""CMOS pixels: only a sub-square of each pixel is sensitive.

Physics and conventions
-----------------------
* Each pixel records the integral of the PSF-convolved intensity over its *sensitive
  square*: side ``size`` (a fraction of the pixel side, 0 < size <= 1), centred at
  ``offset = (dx, dy)`` image pixels from the pixel centre (x = column, y = row). The
  square must lie inside the pixel: ``|dx|, |dy| <= (1 - size) / 2``.
* The value is **not** renormalised by the area fraction ``size**2``: a smooth source
  of total flux F records about ``size**2 * F`` summed over the image. A model fitted
  with the right :class:`CMOS` recovers the true flux; a plain-image fit of CMOS data
  recovers ``size**2 * F`` (and a centre moved by the offset).
* Convolution commutes with integration over a box, so the renderer integrates the
  unconvolved profile over the sensitive square around each render-grid node, convolves
  with the PSF as for plain pixels and samples the nodes at the squares' centres
  (:mod:`scenefit.render.renderer`). Point sources keep the plain convention (the PSF
  image is what a whole pixel records of a star) with the pixel's box response replaced
  by the sensitive square's (a ratio of sinc transfer functions applied to the Fourier
  phase ramp). Sky components stay per-pixel recorded levels (not multiplied by
  ``size**2``). ``docs/pixels.md`` has the details and measured numbers.
"""

from __future__ import annotations

import math

__all__ = ["CMOS"]


class CMOS:
    """Sensitive sub-square of every pixel of an image.

    Parameters
    ----------
    size : float
        Side of the sensitive square as a fraction of the pixel side, 0 < size <= 1.
    offset : (float, float)
        Centre of the sensitive square minus the pixel centre, (dx, dy) in image pixels
        (x = column, y = row); the square must lie inside the pixel.

    Raises
    ------
    ValueError
        If ``size`` is not in (0, 1] or the square sticks out of the pixel.

    Examples
    --------
    >>> CMOS(size=0.6, offset=(0.1, -0.2))
    CMOS(size=0.6, offset=(0.1, -0.2))
    >>> CMOS(size=0.6, offset=(0.3, 0.0))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: CMOS sensitive square (size 0.6, offset (0.3, 0.0)) sticks out of ...
    """

    __slots__ = ("size", "offset")

    def __init__(self, size: float, offset=(0.0, 0.0)):
        try:
            a = float(size)
            ox, oy = (float(v) for v in offset)
        except (TypeError, ValueError):
            raise ValueError(
                f"CMOS needs a number size and a pair offset=(dx, dy), got size={size!r}, "
                f"offset={offset!r}"
            ) from None
        if not (math.isfinite(a) and 0.0 < a <= 1.0):
            raise ValueError(f"CMOS size must be in (0, 1] (fraction of the pixel side), got {a}")
        if not (math.isfinite(ox) and math.isfinite(oy)):
            raise ValueError(f"CMOS offset must be finite, got {(ox, oy)}")
        half = (1.0 - a) / 2.0
        if max(abs(ox), abs(oy)) > half + 1e-12:
            raise ValueError(
                f"CMOS sensitive square (size {a}, offset {(ox, oy)}) sticks out of the "
                f"pixel: |dx| and |dy| must be <= (1 - size) / 2 = {half:.6g}"
            )
        object.__setattr__(self, "size", a)
        object.__setattr__(self, "offset", (ox, oy))

    def __setattr__(self, name, value):
        raise AttributeError("CMOS is immutable")

    @property
    def key(self) -> tuple[float, float, float]:
        """(size, dx, dy): the static description the renderer compiles for."""
        return (self.size, self.offset[0], self.offset[1])

    @property
    def area_fraction(self) -> float:
        """Sensitive fraction of the pixel area, ``size**2``."""
        return self.size**2

    def __eq__(self, other):
        return isinstance(other, CMOS) and self.key == other.key

    def __hash__(self):
        return hash(self.key)

    def __repr__(self) -> str:
        return f"CMOS(size={self.size}, offset={self.offset})"
