"""Pixelated point-spread functions.

Conventions
-----------
* A PSF image is normalised to sum 1 when it is built (the input is not modified).
* Its centre is the centre of pixel ``(ny // 2, nx // 2)`` (0-based row, column), the
  convention of Imfit and GALFIT, for odd and even sizes; odd sizes are recommended.
  A model's centroid moves by the PSF centroid's offset from that pixel
  (:attr:`PixelPSF.centroid_offset`): an even-sized PSF whose light is centred on the
  middle of the array moves models by -0.5 px (/ oversampling) along that axis.
* ``oversampling = s`` means that s x s PSF pixels cover one image pixel; the model is
  then rendered on a grid s times finer than the image, convolved, and binned.
* The PSF image is convolved with the pixel-integrated model, as Imfit and GALFIT do;
  give the PSF as it should act on pixel-integrated fluxes.
"""

from __future__ import annotations

import numpy as np

__all__ = ["PixelPSF"]


class PixelPSF:
    """A PSF given as an image.

    Parameters
    ----------
    image : array_like (Ph, Pw)
        PSF pixel values; normalised to unit sum on construction.
    oversampling : int
        PSF pixels per image pixel along each axis (default 1).

    Raises
    ------
    ValueError
        If the image is not 2-D, has non-finite values, or a non-positive sum.

    Examples
    --------
    >>> import numpy as np
    >>> psf = PixelPSF(np.ones((3, 3)))
    >>> float(psf.image.sum())
    1.0
    """

    __slots__ = ("_image", "_oversampling")

    def __init__(self, image, oversampling: int = 1):
        try:
            arr = np.array(image, dtype=float, copy=True)
        except (TypeError, ValueError):
            raise ValueError(
                f"PSF must be an array of numbers, got {type(image).__name__}"
            ) from None
        if arr.ndim != 2 or arr.size == 0:
            raise ValueError(f"PSF must be a non-empty 2-D array, got shape {arr.shape}")
        if not np.all(np.isfinite(arr)):
            raise ValueError("PSF contains NaN or infinite values; clean it before use")
        total = arr.sum()
        if not total > 0:
            raise ValueError(f"PSF must have a positive sum, got {total!r}")
        if not isinstance(oversampling, int | np.integer) or oversampling < 1:
            raise ValueError(f"PSF oversampling must be a positive integer, got {oversampling!r}")
        arr /= total
        arr.setflags(write=False)
        self._image = arr
        self._oversampling = int(oversampling)

    @property
    def image(self) -> np.ndarray:
        """Normalised PSF image (read-only)."""
        return self._image

    @property
    def oversampling(self) -> int:
        """PSF pixels per image pixel."""
        return self._oversampling

    @property
    def centroid_offset(self) -> tuple[float, float]:
        """(dx, dy): the PSF's light centroid minus its declared centre, image pixels.

        Convolution moves every model's centroid by this much; it is (0, 0) for a
        PSF symmetric about pixel (ny // 2, nx // 2).

        Examples
        --------
        >>> import numpy as np
        >>> PixelPSF(np.ones((4, 4))).centroid_offset  # even size, centred in the array
        (-0.5, -0.5)
        >>> bool(np.allclose(PixelPSF(np.ones((3, 3))).centroid_offset, 0.0))
        True
        """
        ny, nx = self._image.shape
        yy, xx = np.mgrid[:ny, :nx]
        s = self._oversampling
        dx = float((xx * self._image).sum() - nx // 2) / s
        dy = float((yy * self._image).sum() - ny // 2) / s
        return (dx, dy)

    @property
    def shape(self) -> tuple[int, int]:
        return self._image.shape

    def __repr__(self) -> str:
        return f"PixelPSF(shape={self.shape}, oversampling={self.oversampling})"
