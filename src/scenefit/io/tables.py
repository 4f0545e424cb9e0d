"""Parameter tables of a fit (astropy Table; ECSV or FITS files).

Layout
------
One row per parameter address of the best-fit scene, in flattening order:

============  =====  =========================================================
column        type   meaning
============  =====  =========================================================
component     str    component name
type          str    component type name (``sersic``, ``point``, ...)
parameter     str    parameter name
value         float  best-fit value, in ``unit``
uncertainty   float  1-sigma uncertainty (0 if held fixed, inf if unconstrained)
unit          str    unit of value, uncertainty, lo and hi ('' if dimensionless)
free          bool   fitted (one of ``result.free``)
fixed         bool   held at its value (its own flag, or its leader's)
tied_to       str    leader address ``component.param``; '' if untied
lo, hi        float  bounds; NaN for none
at_bound      bool   ended within 1e-6 (relative) of a bound
mag, mag_err  float  only if the image has a zero point: on ``flux`` rows the
                     magnitude zp - 2.5 log10(flux) and 2.5/ln(10) sigma/flux;
                     NaN on other rows and where flux <= 0
============  =====  =========================================================

Tied parameters report their leader's value, uncertainty, bounds and flags. Magnitudes
are extra columns rather than extra rows so that every row stays one parameter address
and every column keeps one meaning; select them with ``t[t["parameter"] == "flux"]``.

``meta`` holds the fit statistics (see :data:`META_KEYS`). In FITS files the keys are
written as the 8-character header keywords of :data:`FITS_META_KEYS`, and non-finite
numbers (which FITS headers cannot hold) as the strings ``'nan'``, ``'inf'``, ``'-inf'``.

Reading back with astropy: empty strings come back masked, and ``Table.read`` of a
FITS file masks NaN floats unless given ``mask_invalid=False``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._fits import header_value
from ._magnitudes import flux_to_mag
from ._rows import parameter_rows

__all__ = ["META_KEYS", "FITS_META_KEYS", "parameter_table", "write_table"]

#: ``meta`` key -> FITS header keyword used by :func:`write_table` for ``.fits`` files
FITS_META_KEYS = {
    "likelihood": "LIKELIHD",
    "objective": "OBJECTIV",
    "dof": "NDOF",
    "reduced_chi2": "CHI2NU",
    "n_free": "NFREE",
    "n_iter": "NITER",
    "n_eval": "NEVAL",
    "status": "STATUS",
    "message": "FITMSG",
    "converged": "CONVERGD",
    "ill_conditioned": "ILLCOND",
    "zeropoint": "MAGZPT",
    "scenefit_version": "SFVERSN",
}

#: keys of ``parameter_table(result).meta`` (``zeropoint`` only if the image has one)
META_KEYS = tuple(FITS_META_KEYS)

_DESCRIPTIONS = {
    "component": "component name",
    "type": "component type",
    "parameter": "parameter name",
    "value": "best-fit value (unit in column 'unit')",
    "uncertainty": "1-sigma uncertainty; 0 if held fixed",
    "unit": "unit of value, uncertainty, lo, hi",
    "free": "fitted parameter",
    "fixed": "held at its value",
    "tied_to": "address of the leader this parameter follows",
    "lo": "lower bound (NaN: none)",
    "hi": "upper bound (NaN: none)",
    "at_bound": "ended at a bound",
    "mag": "magnitude zp - 2.5 log10(flux) (flux rows)",
    "mag_err": "1-sigma magnitude uncertainty 1.0857 sigma_flux / flux",
}


def parameter_table(result):
    """Table of the best-fit parameters of a fit.

    Parameters
    ----------
    result : FitResult

    Returns
    -------
    astropy.table.Table
        Columns and ``meta`` as described in the module docstring.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import FlatSky, Image, Scene, fit
    >>> img = Image(np.random.default_rng(0).normal(1.0, 0.1, (8, 8)), sigma=0.1)
    >>> t = parameter_table(fit(Scene([FlatSky(sky=0.0)]), img))
    >>> t["parameter"].tolist(), t.meta["dof"]
    (['sky'], 63)
    """
    from astropy.table import Table

    from .. import __version__

    rows = parameter_rows(result)
    cols = {
        "component": np.array([r.component for r in rows], dtype=str),
        "type": np.array([r.type for r in rows], dtype=str),
        "parameter": np.array([r.parameter for r in rows], dtype=str),
        "value": np.array([r.value for r in rows], dtype=float),
        "uncertainty": np.array([r.uncertainty for r in rows], dtype=float),
        "unit": np.array([r.unit for r in rows], dtype=str),
        "free": np.array([r.free for r in rows], dtype=bool),
        "fixed": np.array([r.fixed for r in rows], dtype=bool),
        "tied_to": np.array([r.tied_to for r in rows], dtype=str),
        "lo": np.array([r.lo for r in rows], dtype=float),
        "hi": np.array([r.hi for r in rows], dtype=float),
        "at_bound": np.array([r.at_bound for r in rows], dtype=bool),
    }
    zp = result.image.zeropoint
    if zp is not None:
        is_flux = cols["parameter"] == "flux"
        mag, err = flux_to_mag(cols["value"], cols["uncertainty"], zp)
        cols["mag"] = np.where(is_flux, mag, np.nan)
        cols["mag_err"] = np.where(is_flux, err, np.nan)

    t = Table(cols)
    for name, col in t.columns.items():
        col.description = _DESCRIPTIONS[name]
    meta = {
        "likelihood": str(result.likelihood),
        "objective": float(result.objective),
        "dof": int(result.dof),
        "reduced_chi2": float(result.reduced_chi2),
        "n_free": len(result.free),
        "n_iter": int(result.n_iter),
        "n_eval": int(result.n_eval),
        "status": int(result.status),
        "message": str(result.message),
        "converged": bool(result.converged),
        "ill_conditioned": bool(result.ill_conditioned),
    }
    if zp is not None:
        meta["zeropoint"] = float(zp)
    meta["scenefit_version"] = __version__
    t.meta.update(meta)
    return t


def write_table(result, path) -> Path:
    """Write :func:`parameter_table` to ``path``, overwriting it.

    Parameters
    ----------
    result : FitResult
    path : str or Path
        ``.ecsv`` for ECSV (meta in its YAML header) or ``.fits`` / ``.fit`` for a FITS
        binary table (meta as header keywords, see :data:`FITS_META_KEYS`).

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ValueError
        If the suffix is neither.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in (".ecsv", ".fits", ".fit"):
        raise ValueError(
            f"cannot tell the table format of {path.name!r} from its suffix; use .ecsv or .fits"
        )
    t = parameter_table(result)
    if suffix == ".ecsv":
        t.write(path, format="ascii.ecsv", overwrite=True)
    else:
        t.meta = {FITS_META_KEYS[k]: header_value(v) for k, v in t.meta.items()}
        t.write(path, format="fits", overwrite=True)
    return path
