"""Fourier-mode perturbations of the ellipse, with user-chosen modes.

The isophote at law radius r lies, in the circularised frame (a, b / q), at

    R(theta) = r exp(S(theta)),    S(theta) = sum_m A_m cos(m (theta + phi_m)),

theta = atan2(b / q, a) measured from the major axis' PA end in the sense of the PA
(east of north: for pa = 0 from north towards east), so the law sees
r = sqrt(a^2 + (b / q)^2) exp(-S(theta)). A_m > 0 pushes the isophotes out at
theta = -phi_m (mod 360 / m deg). Area factor (relative to the ellipse, pi q r^2):
(1 / 2 pi) int_0^{2 pi} exp(2 S(theta)) dtheta, by the trapezoidal rule on
``64 max(m)`` angles (exponentially convergent for this periodic, entire integrand:
error < 1e-15 for |A_m| <= 1).
"""

from __future__ import annotations

import dataclasses

import jax.numpy as jnp
import numpy as np

from ._base import ParamSpec
from ._compose import with_geometry
from ._ellipse import R_SOFT
from .geometry import Geometry
from .sersic import Sersic

__all__ = ["FourierModes", "MAX_MODE", "fourier_modes", "SersicFourier1_3_4"]

#: largest mode number accepted
MAX_MODE = 32

#: typical amplitudes and phases (ParamSpec defaults) of the first modes
_TYPICAL = {1: (0.05, 20.0), 2: (0.04, 10.0), 3: (0.03, 15.0), 4: (0.04, 5.0)}


def _harmonics(c, s, m_max):
    """cos(k theta), sin(k theta) for k = 1..m_max from (c, s) = (cos, sin) theta, by
    complex multiplication (polynomials in c, s: smooth even where (c, s) = 0)."""
    out = [(c, s)]
    for _ in range(m_max - 1):
        ck, sk = out[-1]
        out.append((ck * c - sk * s, sk * c + ck * s))
    return out


@dataclasses.dataclass(frozen=True)
class FourierModes(Geometry):
    """Ellipse with Fourier-mode perturbations ``R = r exp(sum A_m cos(m (theta + phi_m)))``.

    Parameters
    ----------
    modes : tuple of int
        Distinct mode numbers m in 1..32, in increasing order (e.g. ``(1, 3, 4)``).
        Each adds an amplitude ``a_<m>`` (dimensionless) and a phase ``phi_<m>`` (deg).

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> f = FourierModes((4,))
    >>> [p.name for p in f.params]
    ['a_4', 'phi_4']
    >>> round(float(f.radius(0.0, 2.0, 1.0, 0.0, jnp.array([0.1, 0.0]))), 9)  # 2 e^-0.1
    1.809674836
    """

    modes: tuple[int, ...] = (1, 3, 4)

    def __post_init__(self):
        modes = self.modes
        if (
            not isinstance(modes, tuple)
            or not modes
            or not all(isinstance(m, int) and not isinstance(m, bool) for m in modes)
            or not all(1 <= m <= MAX_MODE for m in modes)
            or list(modes) != sorted(set(modes))
        ):
            raise ValueError(
                f"Fourier modes must be a non-empty tuple of distinct increasing integers in "
                f"1..{MAX_MODE}, got {modes!r} (e.g. (1, 3, 4))"
            )

    @property
    def params(self):
        out = []
        for m in self.modes:
            amp, phase = _TYPICAL.get(m, (0.02, 0.0))
            out.append(ParamSpec(f"a_{m}", "", None, None, f"amplitude of mode {m} (ln R)", amp))
            out.append(ParamSpec(f"phi_{m}", "deg", None, None, f"phase of mode {m} (deg)", phase))
        return tuple(out)

    @property
    def type_suffix(self):
        return "fourier" + "_".join(str(m) for m in self.modes)

    @property
    def class_suffix(self):
        return "Fourier" + "_".join(str(m) for m in self.modes)

    def perturbation(self, cos_t, sin_t, g):
        """S(theta) from cos(theta), sin(theta) (arrays) and g (..., 2 M)."""
        harm = _harmonics(cos_t, sin_t, max(self.modes))
        s = 0.0
        for k, m in enumerate(self.modes):
            amp, phi = g[..., 2 * k], jnp.deg2rad(g[..., 2 * k + 1]) * m
            cm, sm = harm[m - 1]
            s = s + amp * (cm * jnp.cos(phi) - sm * jnp.sin(phi))
        return s

    def radius_uv(self, u, v, g):
        r_ell = jnp.sqrt(u * u + v * v + R_SOFT**2)
        return r_ell * jnp.exp(-self.perturbation(u / r_ell, v / r_ell, g))

    def area(self, g):
        n = 64 * max(self.modes)
        t = 2.0 * np.pi * np.arange(n) / n
        s = self.perturbation(np.cos(t), np.sin(t), g[..., None, :])
        return jnp.mean(jnp.exp(2.0 * s), axis=-1)

    def describe(self):
        return (
            "Fourier modes m = " + ", ".join(map(str, self.modes)) + ": isophotes at\n"
            "    R(theta) = r exp(sum A_m cos(m (theta + phi_m))) in the circularised frame\n"
            "    (a, b/q), theta from the major axis in the sense of the PA; area factor\n"
            "    (1/2pi) int exp(2 S) dtheta (trapezoidal rule)."
        )


def fourier_modes(law_cls: type, modes=(1, 3, 4)) -> type:
    """``law_cls`` with Fourier modes ``modes``: ``<Law>Fourier<m>_<m>...`` (cached).

    Examples
    --------
    >>> from scenefit.models import Exponential
    >>> fourier_modes(Exponential, [2]).TYPE_NAME
    'exponential_fourier2'
    """
    return with_geometry(law_cls, FourierModes(tuple(modes)))


#: Sersic with the modes m = 1 (lopsided), 3 and 4 (boxy/disky), as GALFIT fits them
SersicFourier1_3_4 = fourier_modes(Sersic, (1, 3, 4))
