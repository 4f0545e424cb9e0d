"""Sersic profile as a Gaussian mixture (the fast path, ``docs/mixture.md``).

I(r) ~= sum_j a_j(n) N(r; sigma_j(n) r_e), j = 1..16, with sigma_j(n) / r_e and a_j(n)
read from a table (``data/sersic_mixture.npz``, written by
``scripts/make_sersic_mixture_table.py``) by a cubic spline in ln(n - 0.45). The
amplitudes sum to 1, so the total flux is exact.
"""

from __future__ import annotations

import dataclasses
from functools import cache
from importlib import resources

import jax.numpy as jnp
import numpy as np

from ._base import FLUX, POSITION, SHAPE, MixtureProfile, ParamSpec

__all__ = ["SersicGM", "sersic_mixture"]

_TABLE = "sersic_mixture.npz"


@cache
def _table():
    """(knots (R,), coef (4, R - 1, 2K), shift, K) of the stored spline (read once)."""
    with resources.files(__package__).joinpath("data", _TABLE).open("rb") as fh:
        t = np.load(fh)
        return t["knots"], t["coef"], float(t["shift"]), int(t["k"])


def sersic_mixture(n):
    """Gaussian mixture of the unit-flux Sersic profile of index ``n`` with r_e = 1.

    Parameters
    ----------
    n : array (...)
        Sersic index; the table covers [0.5, 10] (values outside are clipped to it).

    Returns
    -------
    amp : array (..., K)
        Flux fractions (sum 1).
    sigma : array (..., K)
        Standard deviations in units of r_e (exact-b_n Sersic: r_e is the half-light
        radius).

    Examples
    --------
    >>> amp, sigma = sersic_mixture(0.5)  # n = 1/2 is a Gaussian: one component
    >>> j = int(amp.argmax()); round(float(amp[j]), 4), round(float(sigma[j]), 4)
    (1.0, 0.8493)
    """
    knots, coef, shift, k = _table()
    t = jnp.clip(jnp.log(jnp.asarray(n, dtype=float) - shift), knots[0], knots[-1])
    i = jnp.clip(jnp.searchsorted(jnp.asarray(knots), t) - 1, 0, len(knots) - 2)
    d = (t - jnp.asarray(knots)[i])[..., None]
    c = jnp.moveaxis(jnp.asarray(coef)[:, i], 0, -2)  # (..., 4, 2K)
    v = ((c[..., 0, :] * d + c[..., 1, :]) * d + c[..., 2, :]) * d + c[..., 3, :]
    return v[..., k:], jnp.exp(v[..., :k])


@dataclasses.dataclass(frozen=True, repr=False, kw_only=True)
class SersicGM(MixtureProfile):
    """Sersic (1968) profile rendered as a mixture of 16 Gaussians (fast path).

    The same parameters and units as :class:`~scenefit.models.Sersic` (exact b_n);
    rendered analytically: each Gaussian is convolved with a Gaussian-mixture fit of
    the image's PSF and integrated over the pixel to second order (``docs/mixture.md``
    gives the measured accuracy against :class:`Sersic` and the speed).

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec; x east, y north).
    flux : float or Param
        Total flux in image units.
    r_e : float or Param
        Half-light radius along the major axis (arcsec).
    n : float or Param
        Sersic index (bounds 0.5..10: below 1/2 a Sersic profile is not a positive
        mixture of Gaussians).
    q : float or Param
        Axis ratio b/a (0.02..1).
    pa : float or Param
        Position angle of the major axis, degrees east of north.

    Notes
    -----
    I(r) = flux / q sum_j a_j(n) exp(-r^2 / (2 s_j^2)) / (2 pi s_j^2) with
    s_j = sigma_j(n) r_e (:func:`sersic_mixture`) and r the elliptical radius.
    ``RenderSettings.sersic_bn`` does not apply: the table is the exact-b_n profile.

    Examples
    --------
    >>> g = SersicGM(x=0.0, y=0.0, flux=100.0, r_e=2.0, n=4.0, q=0.7, pa=30.0)
    >>> g.TYPE_NAME, g.n.value
    ('sersic_gm', 4.0)
    """

    PARAMS = (
        *POSITION,
        FLUX,
        ParamSpec("r_e", "arcsec", 0.0, None, "half-light radius along the major axis", 2.0),
        ParamSpec("n", "", 0.5, 10.0, "Sersic index", 2.0),
        *SHAPE,
    )
    TYPE_NAME = "sersic_gm"

    x: object = None
    y: object = None
    flux: object = None
    r_e: object = None
    n: object = None
    q: object = None
    pa: object = None

    @staticmethod
    def mixture(law):
        amp, sigma = sersic_mixture(law[..., 1])
        return amp, sigma * jnp.asarray(law)[..., 0, None]
