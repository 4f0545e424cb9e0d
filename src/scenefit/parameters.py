"""Model parameters: a value, a free/fixed flag, optional bounds.

Fitters never see these objects: a :class:`~scenefit.scene.Scene` flattens its
parameters into one vector, and bounded parameters are moved to an unconstrained
space through the smooth transforms defined here.

Transforms (``u`` unconstrained, ``x`` physical):

* no bounds:            ``x = u``
* lower bound only:     ``x = lo + exp(u)``
* upper bound only:     ``x = hi - exp(-u)``
* both bounds:          ``x = lo + (hi - lo) / (1 + exp(-u))``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import jax.numpy as jnp
import numpy as np

__all__ = [
    "Param",
    "as_param",
    "to_unconstrained",
    "from_unconstrained",
    "physical_and_slope",
    "bound_kind",
]

# bound kinds, stored as small integers so that they can live in index arrays
FREE, LOWER, UPPER, BOTH = 0, 1, 2, 3


@dataclass(frozen=True)
class Param:
    """One model parameter.

    Parameters
    ----------
    value : float or None
        Current value in the parameter's physical unit. ``None`` means "not given":
        :func:`scenefit.initialize` fills it from the image.
    fixed : bool
        If True the fitters keep the value.
    lo, hi : float or None
        Optional bounds (inclusive); ``None`` for no bound.

    Examples
    --------
    >>> Param(2.0, lo=0.0).lo
    0.0
    >>> Param(3.0).with_value(4.0).value
    4.0
    """

    value: float | None = None
    fixed: bool = False
    lo: float | None = None
    hi: float | None = None

    def __post_init__(self):
        for name in ("value", "lo", "hi"):
            v = getattr(self, name)
            if v is not None:
                try:
                    v = float(v)
                except (TypeError, ValueError):
                    raise TypeError(f"Param.{name} must be a number or None, got {v!r}") from None
                if math.isnan(v):
                    raise ValueError(f"Param.{name} is NaN; give a finite number or None")
                if name == "lo" and v == -math.inf or name == "hi" and v == math.inf:
                    v = None  # an infinite bound is no bound
                elif math.isinf(v):
                    raise ValueError(
                        f"Param.{name} = {v} is not allowed; give a finite number or None"
                    )
                object.__setattr__(self, name, v)
        object.__setattr__(self, "fixed", bool(self.fixed))
        if self.lo is not None and self.hi is not None and not self.lo < self.hi:
            raise ValueError(f"Param bounds must satisfy lo < hi, got lo={self.lo}, hi={self.hi}")

    def with_value(self, value: float) -> Param:
        """Return a copy with a new value."""
        return replace(self, value=float(value))

    def check(self, label: str = "parameter") -> None:
        """Raise ``ValueError`` if the value is missing or outside its bounds."""
        if self.value is None:
            raise ValueError(f"{label} has no value; give one or call scenefit.initialize()")
        if self.lo is not None and self.value < self.lo:
            raise ValueError(
                f"{label} = {self.value} is below its lower bound {self.lo}; "
                "change the starting value or the bound"
            )
        if self.hi is not None and self.value > self.hi:
            raise ValueError(
                f"{label} = {self.value} is above its upper bound {self.hi}; "
                "change the starting value or the bound"
            )

    def __repr__(self) -> str:
        parts = [f"{self.value!r}"]
        if self.fixed:
            parts.append("fixed=True")
        if self.lo is not None:
            parts.append(f"lo={self.lo!r}")
        if self.hi is not None:
            parts.append(f"hi={self.hi!r}")
        return f"Param({', '.join(parts)})"


def as_param(value, default_lo=None, default_hi=None) -> Param:
    """Coerce a number, None, or Param into a Param, applying default bounds.

    Default bounds apply only when the user gave a bare number (or None);
    a Param keeps exactly the bounds it was built with.
    """
    if isinstance(value, Param):
        return value
    return Param(value, lo=default_lo, hi=default_hi)


def bound_kind(lo: float | None, hi: float | None) -> int:
    """Integer code of a bound configuration (FREE, LOWER, UPPER or BOTH)."""
    if lo is None and hi is None:
        return FREE
    if hi is None:
        return LOWER
    if lo is None:
        return UPPER
    return BOTH


def from_unconstrained(u, kind, lo, hi):
    """Map unconstrained values to physical values (elementwise, jit-safe).

    Parameters
    ----------
    u : array (F,)
        Unconstrained values.
    kind : array of int (F,)
        Bound kinds (see module docstring).
    lo, hi : array (F,)
        Bounds; entries not used by ``kind`` are ignored (may be any finite number).
    """
    lo = jnp.where(jnp.isfinite(lo), lo, 0.0)
    hi = jnp.where(jnp.isfinite(hi), hi, 0.0)
    # each branch sees u only where it is used (0 elsewhere): an unbounded u of, say,
    # 3000 would make exp(u) infinite in an unused branch, and reverse-mode derivatives
    # multiply that branch's zero cotangent by it (0 * inf = NaN)
    x_lower = lo + jnp.exp(jnp.where(kind == LOWER, u, 0.0))
    x_upper = hi - jnp.exp(-jnp.where(kind == UPPER, u, 0.0))
    x_both = lo + (hi - lo) * _sigmoid(jnp.where(kind == BOTH, u, 0.0))
    return jnp.select([kind == LOWER, kind == UPPER, kind == BOTH], [x_lower, x_upper, x_both], u)


def physical_and_slope(u, kind, lo, hi):
    """:func:`from_unconstrained` and its slope dx/du, in numpy (host-side conversions
    of a fitter's result: no JAX dispatch or compilation).

    Returns
    -------
    x, dxdu : arrays (F,)

    Examples
    --------
    >>> x, s = physical_and_slope([0.0, 0.0], [FREE, BOTH], [0.0, 0.0], [0.0, 4.0])
    >>> x.tolist(), s.tolist()
    ([0.0, 2.0], [1.0, 1.0])
    """
    u, kind = np.asarray(u, dtype=float), np.asarray(kind)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    hi = np.where(np.isfinite(hi), hi, 0.0)
    e_lo = np.exp(np.where(kind == LOWER, u, 0.0))
    e_hi = np.exp(-np.where(kind == UPPER, u, 0.0))
    t = np.tanh(0.5 * np.where(kind == BOTH, u, 0.0))
    conds = [kind == LOWER, kind == UPPER, kind == BOTH]
    x = np.select(conds, [lo + e_lo, hi - e_hi, lo + (hi - lo) * (0.5 * (t + 1.0))], u)
    slope = np.select(conds, [e_lo, e_hi, (hi - lo) * 0.25 * (1.0 - t * t)], 1.0)
    return x, slope


#: fraction of a parameter's range by which a start on a bound is moved inside
BOUND_NUDGE = 1e-2


def to_unconstrained(x, kind, lo, hi):
    """Inverse of :func:`from_unconstrained` (numpy, for starting points).

    Values on (or within ``BOUND_NUDGE`` = 1e-2 of the range of) a bound are moved that
    far inside, so that the transform is not saturated and a fitter can leave the
    bound: at 1e-4 of the range the slope dx/du is 1e-4 and a Levenberg-Marquardt fit
    was measured to stall there (a Sersic started at q = 1 ended at q = 1 with chi^2
    14141 instead of 2304).
    """
    x = np.asarray(x, dtype=float)
    kind = np.asarray(kind)
    lo = np.where(np.isfinite(lo), lo, 0.0)
    hi = np.where(np.isfinite(hi), hi, 0.0)
    width = np.where(kind == BOTH, hi - lo, np.maximum(np.abs(x), 1.0))
    eps = BOUND_NUDGE * width
    u = x.copy()
    m = kind == LOWER
    u[m] = np.log(np.maximum(x[m] - lo[m], eps[m]))
    m = kind == UPPER
    u[m] = -np.log(np.maximum(hi[m] - x[m], eps[m]))
    m = kind == BOTH
    t = np.clip((x[m] - lo[m]) / (hi[m] - lo[m]), BOUND_NUDGE, 1 - BOUND_NUDGE)
    u[m] = np.log(t) - np.log1p(-t)
    return u


def _sigmoid(u):
    return 0.5 * (jnp.tanh(0.5 * u) + 1.0)
