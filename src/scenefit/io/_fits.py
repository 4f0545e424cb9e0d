"""FITS header helpers."""

from __future__ import annotations

import math

__all__ = ["header_value"]


def header_value(v):
    """A value a FITS header card can hold: non-finite floats become 'nan', 'inf', '-inf'.

    Examples
    --------
    >>> header_value(float("nan")), header_value(2.0)
    ('nan', 2.0)
    """
    if isinstance(v, float) and not math.isfinite(v):
        return "nan" if math.isnan(v) else ("inf" if v > 0 else "-inf")
    return v
