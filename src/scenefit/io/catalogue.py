"""A source catalogue (one row per source) as a Scene, for forced photometry."""

from __future__ import annotations

import numpy as np

from .names import model_class

__all__ = ["scene_from_catalogue"]


def scene_from_catalogue(table):
    """A Scene from a catalogue with one row per source.

    Parameters
    ----------
    table : astropy Table or sequence of dict
        Columns ``name`` (component name), ``type`` (a model-type name,
        :func:`scenefit.io.model_class`), and the parameters of each row's type in
        their units (positions ``x``, ``y`` in tangent-plane arcsec, radii in arcsec,
        ``pa`` in degrees; ``docs/conventions.md``). A missing or masked ``flux`` is
        set to 1 (forced photometry solves it); columns a row's type does not have are
        ignored for that row.

    Returns
    -------
    Scene

    Raises
    ------
    ValueError
        For an empty table, a missing ``name`` / ``type`` column, an unknown type,
        or a row without a value for one of its type's shape parameters.

    Examples
    --------
    >>> sc = scene_from_catalogue([{"name": "s1", "type": "point", "x": 1.0, "y": -2.0}])
    >>> sc["s1"].x.value, sc["s1"].flux.value
    (1.0, 1.0)
    """
    from ..scene import Scene

    rows = [_row_dict(r) for r in table]
    if not rows:
        raise ValueError("the catalogue is empty: give at least one source row")
    comps = []
    for i, row in enumerate(rows):
        missing = [c for c in ("name", "type") if c not in row or row[c] is None]
        if missing:
            raise ValueError(
                f"catalogue row {i} has no {missing}; columns are {sorted(row)} "
                "(need 'name', 'type' and the type's parameters)"
            )
        cls = model_class(str(row["type"]))
        kw = {}
        for p in cls.param_names():
            v = row.get(p)
            if v is None and p == "flux":
                v = 1.0
            if v is None:
                raise ValueError(
                    f"catalogue row {i} ({row['name']!r}, type {row['type']!r}) has no value "
                    f"for {p!r}; the type's parameters are {list(cls.param_names())}"
                )
            kw[p] = float(v)
        comps.append(cls(name=str(row["name"]), **kw))
    return Scene(comps)


def _row_dict(row) -> dict:
    """A table row or mapping as ``{column: value}``; masked or NaN values are None."""
    keys = row.colnames if hasattr(row, "colnames") else list(row)
    out = {}
    for k in keys:
        v = row[k]
        if np.ma.is_masked(v):
            v = None
        elif isinstance(v, (float, np.floating)) and not np.isfinite(v):
            v = None
        elif isinstance(v, np.generic):
            v = v.item()
        out[str(k)] = v
    return out
