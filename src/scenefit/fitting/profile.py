"""Profile-likelihood intervals: one parameter stepped and held, the others refitted.

The covariance of a fit is the local curvature of the objective at the optimum; where
the likelihood is far from Gaussian (faint sources, a Sersic index or size that trades
against the sky) it can understate an error by a factor of several, and it cannot show
an asymmetric one. The profile of the objective -- its minimum over every other
parameter at each fixed value of one -- gives an interval that does not rely on that
approximation: the values where it rises by ``delta`` (1 for 68.3 % with chi^2; 4 for
95.4 %), found by refitting with the parameter held.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["ProfileInterval", "profile_interval"]


@dataclass(frozen=True)
class ProfileInterval:
    """The profile-likelihood interval of one parameter.

    Attributes
    ----------
    address : str
        ``"component.parameter"``.
    best : float
        The best-fit value.
    lower, upper : float
        Where the profile rises by ``delta`` (linear interpolation of sqrt(rise)
        between the bracketing steps); ``nan`` where it did not within the steps taken
        (a bound reached or ``max_sigma`` covered).
    delta : float
        The rise that defines the interval (objective units).
    values, rise : ndarray
        The held values and the profile's rise above the best objective there (sorted
        by value, the best fit included with rise 0).
    """

    address: str
    best: float
    lower: float
    upper: float
    delta: float
    values: np.ndarray
    rise: np.ndarray

    @property
    def errors(self) -> tuple[float, float]:
        """(best - lower, upper - best)."""
        return self.best - self.lower, self.upper - self.best


def profile_interval(
    result, address: str, delta: float = 1.0, step: float = 0.5, max_sigma: float = 8.0, **fit_kw
) -> ProfileInterval:
    """Profile-likelihood interval of one free parameter of a fit.

    Steps the parameter away from its best value in units of ``step`` times its
    covariance error, on each side, holding it fixed and refitting all the others
    (each fit started from the previous one), until the objective has risen by more
    than ``delta`` or ``max_sigma`` errors are covered or a bound is reached.

    Parameters
    ----------
    result : FitResult
        A converged fit (:func:`scenefit.fit`); its image, likelihood and settings are
        reused.
    address : str
        A free parameter, ``"component.parameter"`` (not one tied to another).
    delta : float
        Rise of the objective that bounds the interval (1: 68.3 %, 4: 95.4 % for one
        parameter of a chi^2 or Poisson deviance).
    step : float
        Step in units of the covariance error (the first step is one such step).
    max_sigma : float
        The farthest the walk goes on each side, in covariance errors.
    **fit_kw
        Passed to :func:`scenefit.fit` (e.g. ``priors``; ``max_iter``).

    Returns
    -------
    ProfileInterval

    Raises
    ------
    ValueError
        If the parameter is not free, is tied, or has no finite positive error, or it is
        the fit's only free parameter.

    Examples
    --------
    >>> import numpy as np, scenefit as sf
    >>> img = sf.Image(np.random.default_rng(1).normal(2.0, 0.5, (20, 20)), sigma=0.5)
    >>> res = sf.fit(sf.Scene([sf.TiltedSky(name="sky", sky=0.0, dsky_dx=0, dsky_dy=0)]), img)
    >>> iv = profile_interval(res, "sky.dsky_dx")  # a linear model: the covariance error
    >>> bool(np.allclose(iv.errors, res.error("sky.dsky_dx"), rtol=1e-6))
    True
    """
    from .fit import fit

    scene = result.scene
    if address not in result.free:
        raise ValueError(f"{address!r} is not a free parameter of this fit")
    if scene.leader_of(address) != address:
        raise ValueError(f"{address!r} is tied to {scene.leader_of(address)!r}; profile that")
    if len(result.free) < 2:
        raise ValueError("a profile needs at least one other free parameter to refit")
    sigma = float(result.error(address))
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"{address!r} has no finite positive error ({sigma}) to step by")
    name, pname = address.split(".", 1)
    p0 = scene.param(address)
    best, obj0 = float(p0.value), float(result.objective) + float(result.penalty)
    kw = {"likelihood": result.likelihood, "settings": result.settings, **fit_kw}

    def held(start, value):
        from ..parameters import Param

        comp = start[name]
        return start.replace_component(name, comp.replace(**{pname: Param(value, fixed=True)}))

    def walk(sign):
        pts, start = [], scene
        bound = p0.hi if sign > 0 else p0.lo
        for k in range(1, int(math.ceil(max_sigma / step)) + 1):
            v = best + sign * k * step * sigma
            if bound is not None and (v - bound) * sign >= 0:
                break
            res = fit(held(start, v), result.image, **kw)
            rise = float(res.objective) + float(res.penalty) - obj0
            pts.append((v, rise))
            start = res.scene
            if rise > delta:
                break
        return pts

    up, down = walk(+1.0), walk(-1.0)
    upper, lower = _crossing(best, up, delta), _crossing(best, down, delta)
    pts = sorted([*down, (best, 0.0), *up])
    return ProfileInterval(
        address,
        best,
        lower,
        upper,
        float(delta),
        np.array([v for v, _ in pts]),
        np.array([r for _, r in pts]),
    )


def _crossing(best, pts, delta):
    """Where sqrt(rise) reaches sqrt(delta), interpolated linearly between steps."""
    prev_v, prev_s = best, 0.0
    target = math.sqrt(delta)
    for v, rise in pts:
        s = math.sqrt(max(rise, 0.0))
        if s >= target:
            return prev_v + (target - prev_s) / (s - prev_s) * (v - prev_v)
        prev_v, prev_s = v, s
    return float("nan")
