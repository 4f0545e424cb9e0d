"""Fluxes to magnitudes."""

from __future__ import annotations

import numpy as np

__all__ = ["AB_ZERO_JY", "MAG_PER_LN", "flux_to_jansky", "flux_to_mag"]

#: 2.5 / ln(10) = 1.0857...: d(mag) = MAG_PER_LN * d(flux) / flux
MAG_PER_LN = 2.5 / np.log(10.0)

#: flux density of AB magnitude 0 (Jy; Oke & Gunn 1983)
AB_ZERO_JY = 3631.0


def flux_to_jansky(flux, zeropoint):
    """Flux density (Jy) of a flux in image units, through an AB zero point.

    f_nu = 3631 Jy * 10^(-0.4 m) with m = zeropoint - 2.5 log10(flux), i.e.
    f_nu = flux * 3631 Jy * 10^(-0.4 zeropoint); linear in ``flux``, so it converts
    uncertainties too. NaN where ``zeropoint`` is NaN.

    Examples
    --------
    >>> round(float(flux_to_jansky(1.0, 22.5)) * 1e9, 3)  # one nanomaggy in nJy
    3631.0
    """
    return np.asarray(flux, dtype=float) * AB_ZERO_JY * 10.0 ** (-0.4 * np.asarray(zeropoint))


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
