"""Per-band photometry of a joint fit as a table (one row per source and band)."""

from __future__ import annotations

import numpy as np

__all__ = ["sed_table"]

_COLUMNS = {
    "source": (str, "component name"),
    "band": (str, "band key (the images' band, or the image label)"),
    "flux": (float, "total flux, image units of that band"),
    "flux_err": (float, "1-sigma uncertainty of flux (joint covariance)"),
    "zeropoint": (float, "magnitude zero point of the band (NaN if none)"),
    "mag": (float, "zeropoint - 2.5 log10(flux) (NaN without zero point or flux <= 0)"),
    "mag_err": (float, "2.5 / ln(10) flux_err / flux"),
    "flux_jy": (float, "flux density in Jy, from the zero point taken as AB (NaN if none)"),
    "flux_jy_err": (float, "1-sigma uncertainty of flux_jy"),
}

_COV_DESCRIPTION = "covariance of this flux with the source's flux in each band of meta['bands']"


def sed_table(result):
    """:meth:`JointFitResult.sed` as an astropy Table.

    Parameters
    ----------
    result : JointFitResult

    Returns
    -------
    astropy.table.Table
        Columns ``source, band, flux, flux_err, zeropoint, mag, mag_err, flux_jy,
        flux_jy_err, flux_cov`` (Jy through the zero point read as AB); ``meta``
        holds the joint objective, dof and convergence. Write it with
        ``t.write("sed.ecsv")``.
    """
    from astropy.table import Table

    from ._magnitudes import flux_to_jansky

    rows = result.sed()
    cols = {}
    for name, (kind, _) in _COLUMNS.items():
        if name.startswith("flux_jy"):
            continue
        vals = [np.nan if r[name] is None else r[name] for r in rows]
        cols[name] = np.array(vals, dtype=kind)
    cols["flux_jy"] = flux_to_jansky(cols["flux"], cols["zeropoint"])
    cols["flux_jy_err"] = flux_to_jansky(cols["flux_err"], cols["zeropoint"])
    bands = list(result.bands)
    covs = {src: result.flux_covariance(src) for src in dict.fromkeys(r["source"] for r in rows)}
    cols["flux_cov"] = np.array(
        [covs[r["source"]][bands.index(r["band"])] for r in rows], dtype=float
    ).reshape(len(rows), len(bands))
    t = Table(cols)
    for name, col in t.columns.items():
        col.description = _COLUMNS.get(name, (None, _COV_DESCRIPTION))[1]
    t.meta.update(
        {
            "likelihood": str(result.likelihood),
            "objective": float(result.objective),
            "dof": int(result.dof),
            "converged": bool(result.converged),
            "n_images": len(result.labels),
            "bands": bands,
        }
    )
    return t
