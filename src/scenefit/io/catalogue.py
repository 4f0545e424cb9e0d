"""A source catalogue (one row per source) as a Scene, for forced photometry."""

from __future__ import annotations

import numpy as np

from .names import model_class

__all__ = ["scene_from_catalogue", "has_sky_positions"]


def scene_from_catalogue(table, tangent_point=None):
    """A Scene from a catalogue with one row per source.

    Parameters
    ----------
    table : astropy Table or sequence of dict
        Columns ``name`` (component name), ``type`` (a model-type name,
        :func:`scenefit.io.model_class`), and the parameters of each row's type in
        their units (positions ``x``, ``y`` in tangent-plane arcsec, radii in arcsec,
        ``pa`` in degrees; ``docs/conventions.md``). A row may give its position as
        ``ra``, ``dec`` (degrees) instead of ``x``, ``y``: it is projected onto the
        gnomonic plane about ``tangent_point`` (:func:`scenefit.tangent.gnomonic`).
        A missing or masked ``flux`` is set to 1 (forced photometry solves it);
        columns a row's type does not have are ignored for that row.
    tangent_point : (float, float), optional
        (RA, Dec) in degrees of the tangent point, needed by rows with ``ra``/``dec``;
        the images must be on the same plane
        (:func:`scenefit.common_tangent_plane` with ``center=tangent_point``).

    Returns
    -------
    Scene

    Raises
    ------
    ValueError
        For an empty table, a missing ``name`` / ``type`` column, an unknown type,
        a row without a value for one of its type's shape parameters, or a row with
        ``ra``/``dec`` and no ``tangent_point``.

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
        if "x" in cls.param_names() and _sky_row(row):
            row = {**row, **_projected(row, i, tangent_point)}
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


def has_sky_positions(table) -> bool:
    """Whether a row of ``table`` gives its position as ``ra``/``dec`` without
    ``x``/``y`` (so that :func:`scene_from_catalogue` needs a tangent point).

    Examples
    --------
    >>> has_sky_positions([{"name": "s", "type": "point", "ra": 150.0, "dec": 2.0}])
    True
    """
    return any(_sky_row(_row_dict(r)) for r in table)


def _sky_row(row: dict) -> bool:
    return (
        row.get("x") is None
        and row.get("y") is None
        and row.get("ra") is not None
        and row.get("dec") is not None
    )


def _projected(row: dict, i: int, tangent_point) -> dict:
    """``{"x": xi, "y": eta}`` (arcsec) of a row's ``ra``/``dec`` about ``tangent_point``."""
    from ..tangent import gnomonic

    if tangent_point is None:
        raise ValueError(
            f"catalogue row {i} ({row.get('name')!r}) gives ra/dec but no x/y; sky "
            "positions need a tangent point: pass tangent_point=(RA, Dec) in degrees "
            "(forced_photometry: align_wcs=True)"
        )
    try:
        ra, dec = float(row["ra"]), float(row["dec"])
    except (TypeError, ValueError):
        raise ValueError(
            f"catalogue row {i} ({row.get('name')!r}): ra/dec must be numbers (degrees), "
            f"got {row['ra']!r}, {row['dec']!r}"
        ) from None
    a, d = np.radians(ra), np.radians(dec)
    a0, d0 = np.radians(tangent_point[0]), np.radians(tangent_point[1])
    if not np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0) > 0:
        raise ValueError(
            f"catalogue row {i} ({row.get('name')!r}) at (ra, dec) = ({ra}, {dec}) is 90 "
            f"degrees or more from the tangent point {tuple(tangent_point)}: it has no "
            "gnomonic projection"
        )
    xi, eta = gnomonic(ra, dec, *tangent_point)
    return {"x": float(xi), "y": float(eta)}


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
