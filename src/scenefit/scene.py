"""Scene: the components of a model, with parameter ties.

A scene is an immutable value. Parameters are addressed as ``"<component>.<param>"``
(e.g. ``"disk.x"``). A tie ``{"disk.x": "bulge.x"}`` makes ``disk.x`` follow
``bulge.x``: one value is fitted and both components use it (bulge + disk sharing a
centre).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping

import numpy as np

from .models import Component

__all__ = ["Scene"]


class Scene:
    """An ordered collection of named components plus equality ties.

    Parameters
    ----------
    components : iterable of Component
        Unnamed components get unique names from their type (``sersic``, ``sersic_1``).
    ties : mapping str -> str, optional
        ``{"follower": "leader"}`` parameter addresses.

    Examples
    --------
    >>> from scenefit.models import Sersic, Exponential
    >>> s = Scene([Sersic(name="bulge", x=0, y=0, flux=1, r_e=1, n=4, q=1, pa=0),
    ...            Exponential(name="disk", x=0, y=0, flux=1, h=3, q=0.5, pa=10)],
    ...           ties={"disk.x": "bulge.x", "disk.y": "bulge.y"})
    >>> s["disk"].h.value
    3.0
    """

    __slots__ = ("_components", "_ties")

    def __init__(self, components: Iterable[Component], ties: Mapping[str, str] | None = None):
        comps = tuple(components)
        for c in comps:
            if not isinstance(c, Component):
                raise TypeError(f"Scene components must be model components, got {c!r}")
        if not comps:
            raise ValueError("a Scene needs at least one component")
        comps = _named(comps)
        object.__setattr__(self, "_components", comps)
        object.__setattr__(self, "_ties", dict(ties or {}))
        self._check_ties()

    def __setattr__(self, name, value):
        raise AttributeError("Scene is immutable; use with_values / replace_component")

    # -------------------------------------------------------------- access
    @property
    def components(self) -> tuple[Component, ...]:
        return self._components

    @property
    def ties(self) -> dict[str, str]:
        return dict(self._ties)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self._components)

    def __getitem__(self, name: str) -> Component:
        for c in self._components:
            if c.name == name:
                return c
        raise KeyError(f"no component named {name!r}; components are {list(self.names)}")

    def __len__(self) -> int:
        return len(self._components)

    def __iter__(self):
        return iter(self._components)

    def __eq__(self, other) -> bool:
        return (
            isinstance(other, Scene)
            and self._components == other._components
            and self._ties == other._ties
        )

    def __hash__(self):
        return hash((self._components, tuple(sorted(self._ties.items()))))

    def __repr__(self) -> str:
        lines = [f"Scene({len(self)} components)"]
        lines += [f"  {c!r}" for c in self._components]
        lines += [f"  tie {k} -> {v}" for k, v in self._ties.items()]
        return "\n".join(lines)

    # ---------------------------------------------------------- addresses
    def addresses(self) -> list[str]:
        """All parameter addresses in flattening order."""
        return [f"{c.name}.{p}" for c in self._components for p in c.param_names()]

    def param(self, address: str):
        """The :class:`~scenefit.parameters.Param` at ``"component.param"``."""
        comp, _, p = address.partition(".")
        c = self[comp]
        if p not in c.param_names():
            raise KeyError(f"{type(c).__name__} {comp!r} has no parameter {p!r}")
        return getattr(c, p)

    def leader_of(self, address: str) -> str:
        """The address whose value ``address`` follows (itself if untied)."""
        return self._ties.get(address, address)

    def _check_ties(self):
        known = set(self.addresses())
        for f, lead in self._ties.items():
            if f == lead:
                raise ValueError(f"parameter {f} cannot be tied to itself")
            for a in (f, lead):
                if a not in known:
                    raise ValueError(f"tie {f} -> {lead}: unknown parameter {a!r}")
            if lead in self._ties:
                raise ValueError(
                    f"tie {f} -> {lead}: {lead} is itself tied to {self._ties[lead]}; "
                    f"tie {f} to {self._ties[lead]} directly"
                )

    # ------------------------------------------------------------ values
    def values(self) -> np.ndarray:
        """All parameter values (tied ones take their leader's), flattening order."""
        out = []
        for a in self.addresses():
            v = self.param(self.leader_of(a)).value
            out.append(np.nan if v is None else v)
        return np.array(out, dtype=float)

    def with_values(self, values) -> Scene:
        """A new scene with all parameter values replaced (flattening order)."""
        values = np.asarray(values, dtype=float)
        if values.shape != (len(self.addresses()),):
            raise ValueError(
                f"expected {len(self.addresses())} values, got array of shape {values.shape}"
            )
        i = 0
        comps = []
        for c in self._components:
            ch = {}
            for p in c.param_names():
                ch[p] = getattr(c, p).with_value(float(values[i]))
                i += 1
            comps.append(dataclasses.replace(c, **ch))
        return Scene(comps, self._ties)

    def replace_component(self, name: str, component: Component) -> Scene:
        """A new scene with one component replaced (the new one takes ``name``)."""
        comps = [
            dataclasses.replace(component, name=name) if c.name == name else c
            for c in self._components
        ]
        if name not in self.names:
            raise KeyError(f"no component named {name!r}")
        return Scene(comps, self._ties)

    def with_ties(self, ties: Mapping[str, str]) -> Scene:
        """A new scene with extra ties."""
        return Scene(self._components, {**self._ties, **ties})

    def missing(self) -> list[str]:
        """Addresses of untied parameters that have no value yet."""
        return [a for a in self.addresses() if a not in self._ties and self.param(a).value is None]

    def check(self) -> None:
        """Raise ``ValueError`` if a value is missing or outside its bounds."""
        for a in self.addresses():
            if a not in self._ties:
                self.param(a).check(a)


def _named(comps: tuple[Component, ...]) -> tuple[Component, ...]:
    taken = {c.name for c in comps if c.name}
    if len(taken) != len([c for c in comps if c.name]):
        seen = set()
        for c in comps:
            if c.name in seen:
                raise ValueError(f"two components are named {c.name!r}; names must be unique")
            if c.name:
                seen.add(c.name)
    out = []
    for c in comps:
        if not c.name:
            base = c.TYPE_NAME or type(c).__name__.lower()
            name, k = base, 1
            while name in taken:
                name, k = f"{base}_{k}", k + 1
            taken.add(name)
            c = dataclasses.replace(c, name=name)
        elif "." in c.name:
            raise ValueError(f"component name {c.name!r} must not contain '.'")
        out.append(c)
    return tuple(out)
