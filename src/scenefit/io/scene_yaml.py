"""Scenes as YAML files (and as the plain dicts behind them).

File layout (version 1)::

    version: 1
    components:
    - type: sersic            # a TYPE_NAME from scenefit.io.MODEL_REGISTRY
      name: bulge
      x: 0.3                  # bare number: a free parameter with the default bounds
      n: {value: 4.0, fixed: true, lo: 0.2, hi: 10.0}
      ...
    ties: {disk.x: bulge.x}   # follower: leader

A parameter is either a bare number (or ``null``: no value yet), meaning a free
parameter with the type's default bounds, or a mapping with keys ``value`` (number or
null, default null), ``fixed`` (bool, default false), ``lo`` and ``hi`` (number, or null
for no bound; a missing key means the type's default bound). A missing parameter has no
value and the default bounds, as in the component constructors.

:func:`save_scene` writes the bare form only where it is exact (free, default bounds),
and floats with Python's shortest round-trip representation, so that
``load_scene(save_scene(scene, path)) == scene`` holds bit for bit.

Numbers that PyYAML reads as strings (``1e5``, ``2.0e5``: YAML 1.1 needs a dot and a
signed exponent) are accepted when Python's ``float`` parses them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path

import yaml

from ..models import Component
from ..parameters import Param
from ..scene import Scene
from ._yaml import read_yaml
from .names import MODEL_REGISTRY, model_class

__all__ = ["FORMAT_VERSION", "scene_to_dict", "scene_from_dict", "save_scene", "load_scene"]

#: version of the scene file layout written by :func:`save_scene`
FORMAT_VERSION = 1

_TOP_KEYS = ("version", "components", "ties")
_PARAM_KEYS = ("value", "fixed", "lo", "hi")


# --------------------------------------------------------------------------- writing
def scene_to_dict(scene: Scene) -> dict:
    """Plain-data form of a scene (only dicts, lists, str, float, bool and None).

    Parameters
    ----------
    scene : Scene

    Returns
    -------
    dict
        ``{"version": 1, "components": [...], "ties": {...}}`` as described in the
        module docstring.

    Raises
    ------
    TypeError
        If a component's type is not one that :func:`~scenefit.io.model_class` names
        (the registry, plus sized and composed profile names).

    Examples
    --------
    >>> from scenefit import FlatSky, Scene
    >>> scene_to_dict(Scene([FlatSky(sky=1.5)]))["components"]
    [{'type': 'flat_sky', 'name': 'flat_sky', 'sky': 1.5}]
    """
    if not isinstance(scene, Scene):
        raise TypeError(f"expected a Scene, got {type(scene).__name__}")
    comps = []
    for c in scene.components:
        name = c.TYPE_NAME
        if _registered(name) is not type(c):
            raise TypeError(
                f"component {c.name!r} is a {type(c).__name__}, which no name in "
                "scenefit.io.model_class resolves to, so it cannot be written"
            )
        d = {"type": name, "name": c.name}
        for spec in c.PARAMS:
            d[spec.name] = _param_to_data(getattr(c, spec.name), spec.lo, spec.hi)
        comps.append(d)
    return {"version": FORMAT_VERSION, "components": comps, "ties": scene.ties}


def _registered(name: str):
    """The class that :func:`model_class` gives for ``name`` (sized and composed
    classes included), or None."""
    try:
        return model_class(name)
    except ValueError:
        return None


def _param_to_data(p: Param, default_lo, default_hi):
    if not p.fixed and _same(p.lo, default_lo) and _same(p.hi, default_hi):
        return p.value
    return {"value": p.value, "fixed": p.fixed, "lo": p.lo, "hi": p.hi}


class _FlowDict(dict):
    """A dict that the YAML writer puts on one line (``{value: 1.0, fixed: true, ...}``)."""


class _Dumper(yaml.SafeDumper):
    """Safe YAML writer: block style, except parameter mappings on one line."""


_Dumper.add_representer(
    _FlowDict, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data, flow_style=True)
)


def _same(a, b) -> bool:
    """Bit-identical floats (0.0 and -0.0 differ), or both None."""
    if a is None or b is None:
        return a is None and b is None
    return float(a).hex() == float(b).hex()


def save_scene(scene: Scene, path) -> Path:
    """Write a scene to a YAML file (overwriting it).

    Parameters
    ----------
    scene : Scene
    path : str or Path

    Returns
    -------
    Path
        The file written.
    """
    path = Path(path)
    data = scene_to_dict(scene)
    data["components"] = [
        {k: _FlowDict(v) if isinstance(v, dict) else v for k, v in c.items()}
        for c in data["components"]
    ]
    text = yaml.dump(data, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)
    path.write_text("# scenefit scene\n" + text, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- reading
def load_scene(path) -> Scene:
    """Read a scene from a YAML file written by :func:`save_scene` or by hand.

    Parameters
    ----------
    path : str or Path

    Returns
    -------
    Scene

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If the file is not valid YAML or does not describe a scene; the message names
        the file and the offending entry.
    """
    data = read_yaml(path)
    return scene_from_dict(data, source=str(path))


def scene_from_dict(data, *, source: str | None = None) -> Scene:
    """Build a scene from its plain-data form (see the module docstring).

    Parameters
    ----------
    data : mapping
        With a ``components`` list, and optionally ``version`` and ``ties``.
    source : str, optional
        Where the data came from (a file name); prefixed to error messages.

    Returns
    -------
    Scene

    Raises
    ------
    ValueError
        If an entry is missing, unknown or of the wrong kind (unknown model type,
        unknown parameter, non-numeric value, bad tie, ...).

    Examples
    --------
    >>> s = scene_from_dict({"components": [{"type": "flat_sky", "sky": 2.0}]})
    >>> s["flat_sky"].sky.value
    2.0
    """
    where = f"{source}: " if source else ""
    if data is None:
        raise ValueError(f"{where}empty scene description; expected a 'components' list")
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{where}expected a mapping with a 'components' list at the top level, "
            f"got {type(data).__name__}"
        )
    extra = [k for k in data if k not in _TOP_KEYS]
    if extra:
        raise ValueError(
            f"{where}unknown top-level key(s) {', '.join(map(repr, extra))}; "
            f"allowed keys are {', '.join(_TOP_KEYS)}"
        )
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ValueError(f"{where}'version' must be a positive integer, got {version!r}")
    if version > FORMAT_VERSION:
        raise ValueError(
            f"{where}scene file version {version} is newer than this scenefit reads "
            f"(up to {FORMAT_VERSION}); upgrade scenefit"
        )
    if "components" not in data:
        raise ValueError(f"{where}missing the 'components' list")
    raw = data["components"]
    if not isinstance(raw, list) or not raw:
        raise ValueError(f"{where}'components' must be a non-empty list of mappings, got {raw!r}")
    comps = [_component_from_data(c, f"{where}components[{i}]") for i, c in enumerate(raw)]
    ties = _ties_from_data(data.get("ties"), where)
    try:
        return Scene(comps, ties)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}{exc}") from None


def _component_from_data(d, label: str) -> Component:
    if not isinstance(d, Mapping):
        raise ValueError(f"{label}: expected a mapping with a 'type' key, got {d!r}")
    if "type" not in d:
        raise ValueError(f"{label}: missing 'type'; valid types are {', '.join(MODEL_REGISTRY)}")
    try:
        cls = model_class(d["type"])
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: {exc}") from None
    name = d.get("name")
    if name is not None and not isinstance(name, str):
        raise ValueError(f"{label}: 'name' must be a string, got {name!r}")
    label = f"{label} ({cls.TYPE_NAME}{'' if name is None else ' ' + repr(name)})"
    valid = cls.param_names()
    unknown = [k for k in d if k not in ("type", "name") and k not in valid]
    if unknown:
        raise ValueError(
            f"{label}: unknown parameter(s) {', '.join(map(repr, unknown))}; "
            f"a {cls.TYPE_NAME} has {', '.join(valid)}"
        )
    params = {
        s.name: _param_from_data(d[s.name], s.lo, s.hi, f"{label}.{s.name}")
        for s in cls.PARAMS
        if s.name in d
    }
    try:
        return cls(name=name, **params)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: {exc}") from None


def _param_from_data(raw, default_lo, default_hi, label: str) -> Param:
    if isinstance(raw, Mapping):
        unknown = [k for k in raw if k not in _PARAM_KEYS]
        if unknown:
            raise ValueError(
                f"{label}: unknown key(s) {', '.join(map(repr, unknown))}; "
                f"a parameter mapping has {', '.join(_PARAM_KEYS)}"
            )
        value = _number(raw.get("value"), f"{label}.value")
        fixed = raw.get("fixed", False)
        if not isinstance(fixed, bool):
            raise ValueError(f"{label}.fixed: expected true or false, got {fixed!r}")
        lo = _number(raw["lo"], f"{label}.lo") if "lo" in raw else default_lo
        hi = _number(raw["hi"], f"{label}.hi") if "hi" in raw else default_hi
    else:
        value, fixed, lo, hi = _number(raw, label), False, default_lo, default_hi
    try:
        return Param(value, fixed=fixed, lo=lo, hi=hi)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{label}: {exc}") from None


def _number(x, label: str) -> float | None:
    """A float (or None) from YAML data; strings are accepted if float() parses them."""
    if x is None:
        return None
    if isinstance(x, bool) or not isinstance(x, int | float | str):
        raise ValueError(f"{label}: expected a number, got {x!r}")
    try:
        v = float(x)
    except (ValueError, OverflowError):
        raise ValueError(f"{label}: expected a number, got {x!r}") from None
    if math.isnan(v):
        raise ValueError(f"{label}: NaN is not allowed; give a number or null")
    return v


def _ties_from_data(ties, where: str) -> dict[str, str]:
    if ties is None:
        return {}
    if not isinstance(ties, Mapping):
        raise ValueError(
            f"{where}'ties' must be a mapping of 'component.param': 'component.param', got {ties!r}"
        )
    for k, v in ties.items():
        if not (isinstance(k, str) and isinstance(v, str)):
            raise ValueError(
                f"{where}tie {k!r}: {v!r}: both sides must be 'component.param' strings"
            )
    return dict(ties)
