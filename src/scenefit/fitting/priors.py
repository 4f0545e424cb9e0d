"""Gaussian priors and soft constraints as extra whitened residuals.

A Gaussian prior N(mean, sigma) on a parameter x adds the residual (x - mean) / sigma;
a soft constraint g(a, b, ...) ~ N(target, width) on any differentiable function g of
named parameters adds (g - target) / width (one residual per element of g). The
Levenberg-Marquardt objective becomes

    objective = -2 ln L(data | x) + sum_k r_k^2 = -2 ln [L(data | x) prior(x)] + const,

so the optimum is the maximum a posteriori point, and the Fisher matrix J^T J built from
the stacked residuals (pixels and priors) is the inverse posterior covariance of the
Laplace approximation. For a linear model with a Gaussian prior this is exact: the
posterior precision is the sum of the data precision and 1 / sigma^2 (product of
Gaussians).

Priors act on physical parameter values (the units users see), whatever transform the
fitter applies to bounded parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

import jax.numpy as jnp
import numpy as np

__all__ = ["GaussianPrior", "SoftConstraint", "PriorSet", "build_priors", "PriorError"]


class PriorError(ValueError):
    """A prior or constraint that cannot be used with the given scene."""


@dataclass(frozen=True)
class GaussianPrior:
    """A Gaussian prior N(mean, sigma) on one parameter, in its physical unit.

    Examples
    --------
    >>> GaussianPrior(4.0, 0.5).sigma
    0.5
    """

    mean: float
    sigma: float

    def __post_init__(self):
        m, s = float(self.mean), float(self.sigma)
        if not np.isfinite(m):
            raise PriorError(f"prior mean must be finite, got {self.mean!r}")
        if not (np.isfinite(s) and s > 0):
            raise PriorError(f"prior sigma must be positive and finite, got {self.sigma!r}")
        object.__setattr__(self, "mean", m)
        object.__setattr__(self, "sigma", s)


@dataclass(frozen=True, eq=False)
class SoftConstraint:
    """A soft constraint ``fn(*params) ~ N(target, width)``.

    Parameters
    ----------
    fn : callable
        ``fn(v_1, ..., v_k) -> scalar or array``, written with ``jax.numpy`` so that it
        can be differentiated; ``v_i`` is the physical value of ``params[i]``.
    params : sequence of str
        Parameter addresses (``"component.param"``); fixed and tied parameters may be
        used (they enter with their current, or leader's, value).
    width : float
        Standard deviation of ``fn`` about ``target``, in the unit of ``fn``.
    target : float
        Preferred value of ``fn``.
    name : str, optional
        Label used in :attr:`FitResult.penalties`.

    Examples
    --------
    >>> c = SoftConstraint(lambda a, b: a - b, ("disk.pa", "bar.pa"), width=2.0)
    >>> c.params
    ('disk.pa', 'bar.pa')
    """

    fn: Callable
    params: tuple
    width: float
    target: float = 0.0
    name: str | None = None

    def __post_init__(self):
        if not callable(self.fn):
            raise PriorError(f"SoftConstraint.fn must be callable, got {type(self.fn).__name__}")
        params = (self.params,) if isinstance(self.params, str) else tuple(self.params)
        if not params:
            raise PriorError("SoftConstraint needs at least one parameter address")
        w = float(self.width)
        if not (np.isfinite(w) and w > 0):
            raise PriorError(
                f"SoftConstraint width must be positive and finite, got {self.width!r}"
            )
        object.__setattr__(self, "params", params)
        object.__setattr__(self, "width", w)
        object.__setattr__(self, "target", float(self.target))


@dataclass(frozen=True, eq=False)
class PriorSet:
    """Priors and constraints resolved against one scene layout.

    ``static`` (hashable, part of compilation keys) holds indices into the full
    parameter vector p and the constraint functions; ``arrays`` holds the numbers.
    """

    static: tuple  # (prior_index tuple, ((fn, index tuple, size), ...))
    mean: np.ndarray  # (K,)
    sigma: np.ndarray  # (K,)
    target: np.ndarray  # (C,) one per constraint residual
    width: np.ndarray  # (C,)
    labels: tuple  # (K + C,) residual labels

    @property
    def size(self) -> int:
        return len(self.labels)

    @property
    def arrays(self):
        return (
            jnp.asarray(self.mean),
            jnp.asarray(self.sigma),
            jnp.asarray(self.target),
            jnp.asarray(self.width),
        )


def prior_residuals(static, p, arrays):
    """Whitened prior and constraint residuals (K + C,) at the full parameter vector p.

    Pure and traceable; ``static`` and ``arrays`` come from a :class:`PriorSet`.
    """
    index, constraints = static
    mean, sigma, target, width = arrays
    parts = []
    if index:
        parts.append((p[jnp.asarray(index, dtype=int)] - mean) / sigma)
    start = 0
    for fn, idx, size in constraints:
        g = jnp.ravel(jnp.asarray(fn(*[p[i] for i in idx]), dtype=p.dtype))
        parts.append((g - target[start : start + size]) / width[start : start + size])
        start += size
    if not parts:
        return jnp.zeros((0,), dtype=p.dtype)
    return jnp.concatenate(parts)


def build_priors(
    layout,
    base: np.ndarray,
    priors: Mapping | None = None,
    constraints: Sequence[SoftConstraint] = (),
) -> PriorSet:
    """Resolve ``{"comp.param": (mean, sigma) | GaussianPrior}`` and constraints.

    Raises
    ------
    PriorError
        If an address is unknown, a prior names a fixed parameter, or a constraint's
        function does not return finite numbers at the starting values.
    """
    index_of = {a: i for i, a in enumerate(layout.addresses)}
    free = set(layout.free_index)

    def resolve(address, what):
        if not isinstance(address, str) or address not in index_of:
            raise PriorError(
                f"{what}: unknown parameter {address!r}; known addresses are "
                f"{list(layout.addresses)}"
            )
        return layout.leader[index_of[address]]

    idx, mean, sigma, labels = [], [], [], []
    for address, spec in (priors or {}).items():
        i = resolve(address, "prior")
        if i not in free:
            raise PriorError(
                f"prior on {address!r}: the parameter is fixed; free it or drop the prior"
            )
        if isinstance(spec, Mapping):
            spec = GaussianPrior(**spec)
        elif not isinstance(spec, GaussianPrior):
            try:
                spec = GaussianPrior(*spec)
            except TypeError:
                raise PriorError(
                    f"prior on {address!r} must be (mean, sigma) or a GaussianPrior, got {spec!r}"
                ) from None
        idx.append(i)
        mean.append(spec.mean)
        sigma.append(spec.sigma)
        labels.append(f"prior:{address}")

    cons, target, width = [], [], []
    for k, c in enumerate(constraints):
        if not isinstance(c, SoftConstraint):
            raise PriorError(f"constraints must be SoftConstraint values, got {type(c).__name__}")
        cidx = tuple(resolve(a, f"constraint {c.name or k}") for a in c.params)
        p0 = jnp.asarray(base)[jnp.asarray(layout.leader, dtype=int)]
        g0 = np.ravel(np.asarray(c.fn(*[p0[i] for i in cidx]), dtype=float))
        if g0.size == 0 or not np.all(np.isfinite(g0)):
            raise PriorError(
                f"constraint {c.name or k} returned {g0!r} at the starting values; "
                "it must return finite numbers"
            )
        cons.append((c.fn, cidx, int(g0.size)))
        target += [c.target] * g0.size
        width += [c.width] * g0.size
        label = c.name or f"constraint_{k}"
        labels += [label] if g0.size == 1 else [f"{label}[{j}]" for j in range(g0.size)]

    return PriorSet(
        static=(tuple(idx), tuple(cons)),
        mean=np.array(mean, float),
        sigma=np.array(sigma, float),
        target=np.array(target, float),
        width=np.array(width, float),
        labels=tuple(labels),
    )
