"""Layout: how a Scene's parameters map to one flat vector, and back.

A :class:`Layout` is the static (hashable) structure used to compile renderers and
fitters; :class:`LayoutValues` holds the numbers that are passed as arguments, so that
scenes with the same structure and different values reuse one compiled function.

Vectors
-------
* ``p`` (M,): every parameter, flattening order (tied ones follow their leader).
* ``x`` (F,): the free parameters (untied, not fixed), physical units.
* ``u`` (F,): ``x`` moved to an unconstrained space (see :mod:`scenefit.parameters`).

``p = base.at[free_index].set(x)[leader]`` expands x back to p.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import jax.numpy as jnp
import numpy as np

from .parameters import bound_kind
from .scene import Scene

__all__ = ["Layout", "LayoutValues", "build_layout"]


@dataclass(frozen=True)
class Layout:
    """Static structure of a scene (hashable; used as a compilation key). Names are not
    part of the structure: scenes that differ only in component names compare equal and
    share compiled programs."""

    types: tuple[type, ...]  # component type per component
    groups: tuple[tuple[type, tuple[tuple[int, ...], ...]], ...]  # type -> index rows into p
    free_index: tuple[int, ...]  # positions in p of the free leaders
    leader: tuple[int, ...]  # p[i] takes the value of p[leader[i]]
    kinds: tuple[int, ...]  # bound kind of each free parameter
    addresses: tuple[str, ...] = field(compare=False)  # "comp.param" of every entry of p

    @property
    def n_free(self) -> int:
        return len(self.free_index)

    @property
    def free_addresses(self) -> tuple[str, ...]:
        return tuple(self.addresses[i] for i in self.free_index)

    def expand(self, x, base):
        """Full parameter vector p from the free values x (jit-safe; numpy in, numpy
        out)."""
        if isinstance(x, np.ndarray) and isinstance(base, np.ndarray):
            p = np.array(base, dtype=float)
            p[np.asarray(self.free_index, dtype=int)] = x
            return p[np.asarray(self.leader, dtype=int)]
        p = jnp.asarray(base).at[jnp.asarray(self.free_index, dtype=int)].set(x)
        return p[jnp.asarray(self.leader, dtype=int)]

    def group_params(self, p):
        """``[(type, (K, P) array)]`` for each component type, p gathered by index."""
        return [(t, p[np.asarray(rows, dtype=int)]) for t, rows in self.groups]


@dataclass(frozen=True)
class LayoutValues:
    """Numbers that go with a Layout: starting values and bounds."""

    base: np.ndarray  # (M,) all values
    lo: np.ndarray  # (F,) lower bounds of free params (-inf if none)
    hi: np.ndarray  # (F,) upper bounds (+inf if none)


def build_layout(scene: Scene) -> tuple[Layout, LayoutValues, np.ndarray]:
    """Flatten a scene.

    Returns
    -------
    layout : Layout
    values : LayoutValues
    x0 : ndarray (F,)
        Starting values of the free parameters.

    Raises
    ------
    ValueError
        If a value is missing or outside its bounds.
    """
    scene.check()
    addresses = scene.addresses()
    index = {a: i for i, a in enumerate(addresses)}
    base = scene.values()
    leader = [index[scene.leader_of(a)] for a in addresses]

    free_index, kinds, lo, hi = [], [], [], []
    for i, a in enumerate(addresses):
        if leader[i] != i:
            continue
        par = scene.param(a)
        if par.fixed:
            continue
        free_index.append(i)
        kinds.append(bound_kind(par.lo, par.hi))
        lo.append(-np.inf if par.lo is None else par.lo)
        hi.append(np.inf if par.hi is None else par.hi)

    groups: dict[type, list[tuple[int, ...]]] = {}
    i = 0
    for c in scene.components:
        n = len(c.PARAMS)
        groups.setdefault(type(c), []).append(tuple(range(i, i + n)))
        i += n

    layout = Layout(
        types=tuple(type(c) for c in scene.components),
        groups=tuple((t, tuple(rows)) for t, rows in groups.items()),
        free_index=tuple(free_index),
        leader=tuple(leader),
        kinds=tuple(kinds),
        addresses=tuple(addresses),
    )
    vals = LayoutValues(base=base, lo=np.array(lo, float), hi=np.array(hi, float))
    return layout, vals, base[np.array(free_index, dtype=int)]
