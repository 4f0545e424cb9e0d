"""Fluxes to magnitudes."""

from __future__ import annotations

import numpy as np

__all__ = ["MAG_PER_LN", "flux_to_mag"]

#: 2.5 / ln(10) = 1.0857...: d(mag) = MAG_PER_LN * d(flux) / flux
MAG_PER_LN = 2.5 / np.log(10.0)


def flux_to_mag(flux, sigma_flux, zeropoint: float):
    """Magnitude and its 1-sigma uncertainty from a flux.

    m = zeropoint - 2.5 log10(flux), sigma_m = 2.5 / ln(10) * sigma_flux / flux
    (first-order propagation).

    Parameters
    ----------
    flux, sigma_flux : float or array
        Total flux and its uncertainty, image units.
    zeropoint : float
        Magnitude of a source with flux 1 (image units).

    Returns
    -------
    mag, sigma_mag : ndarray
        NaN where the flux is not positive (the magnitude is undefined).

    Examples
    --------
    >>> m, s = flux_to_mag(100.0, 1.0, 25.0)
    >>> float(m), round(float(s), 5)
    (20.0, 0.01086)
    """
    f = np.asarray(flux, dtype=float)
    s = np.asarray(sigma_flux, dtype=float)
    ok = f > 0
    safe = np.where(ok, f, 1.0)
    mag = np.where(ok, zeropoint - 2.5 * np.log10(safe), np.nan)
    err = np.where(ok, MAG_PER_LN * np.abs(s) / safe, np.nan)
    return mag, err
