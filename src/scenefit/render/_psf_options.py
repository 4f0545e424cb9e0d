"""Accepted values of the PSF-related :class:`RenderSettings` fields, and their check.

Kept apart from ``settings.py`` so that the PSF code owns its own vocabulary.
"""

from __future__ import annotations

__all__ = [
    "CONVOLUTION_METHODS",
    "SUBPIXEL_SHIFTS",
    "POINT_INTERPS",
    "MIXTURE_PIXEL_ORDERS",
    "check_psf_options",
]

#: accepted values of :attr:`RenderSettings.convolution`
CONVOLUTION_METHODS = ("auto", "fft", "direct")
#: accepted values of :attr:`RenderSettings.subpixel_shift`
SUBPIXEL_SHIFTS = (None, "lanczos3", "bilinear")
#: accepted values of :attr:`RenderSettings.point_interp`
POINT_INTERPS = ("fourier", "lanczos3", "cubic", "bilinear", "bicubic")
#: accepted values of :attr:`RenderSettings.mixture_pixel_order`
MIXTURE_PIXEL_ORDERS = (2, 4)


def check_psf_options(settings) -> None:
    """Raise ``ValueError`` if a PSF-related field of ``settings`` is not accepted."""
    for field, allowed in (
        ("convolution", CONVOLUTION_METHODS),
        ("subpixel_shift", SUBPIXEL_SHIFTS),
        ("point_interp", POINT_INTERPS),
        ("mixture_pixel_order", MIXTURE_PIXEL_ORDERS),
    ):
        value = getattr(settings, field)
        if value not in allowed:
            raise ValueError(f"{field} must be one of {allowed}, got {value!r}")
