"""Which convolution is faster: the cost model behind ``RenderSettings(convolution="auto")``.

Measured with ``scripts/measure_convolution_crossover.py`` (jitted, warm, float64, one
image, on the 2-core development CPU; JAX 0.10): direct convolution costs
``A * H * W * Ph * Pw`` and the zero-padded FFT ``B * Ny * Nx * log2(Ny * Nx)``
(milliseconds). The fit picks the faster method in 35 of 36 measured cases (grids 34 to
304 px, PSFs 3 to 49 px), and is never more than 1.3x slower than the better choice. In
practice direct wins only for PSFs of at most 5 x 5 (render-grid) pixels.
"""

from __future__ import annotations

import math

__all__ = ["choose_convolution", "DIRECT_MS_PER_MAC", "FFT_MS_PER_NLOGN"]

#: measured cost of direct convolution per multiply-add, ms
DIRECT_MS_PER_MAC = 3.12e-7
#: measured cost of the FFT convolution per N log2 N (N = padded transform size), ms
FFT_MS_PER_NLOGN = 8.53e-7


def choose_convolution(grid_shape, psf_shape, fft_shape) -> str:
    """``"direct"`` or ``"fft"``, whichever the measured cost model says is faster.

    Parameters
    ----------
    grid_shape : (H, W)
        Render grid (fine pixels, margins included).
    psf_shape : (Ph, Pw)
    fft_shape : (Ny, Nx)
        The padded transform size the FFT method would use.

    Examples
    --------
    >>> choose_convolution((260, 260), (5, 5), (270, 270))
    'direct'
    >>> choose_convolution((262, 262), (7, 7), (270, 270))
    'fft'
    """
    h, w = grid_shape
    ph, pw = psf_shape
    n = fft_shape[0] * fft_shape[1]
    direct = DIRECT_MS_PER_MAC * h * w * ph * pw
    fft = FFT_MS_PER_NLOGN * n * math.log2(n)
    return "direct" if direct < fft else "fft"
