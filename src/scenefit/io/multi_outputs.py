"""Outputs of a fit over several images: per-image model and residual FITS, the SED."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._fits import header_value
from .sed import sed_table

__all__ = ["write_multi_outputs", "multi_output_paths", "SED_FILE"]

#: name of the SED table written by :func:`write_multi_outputs`
SED_FILE = "sed.ecsv"


def write_multi_outputs(result, outdir, *, overwrite: bool = False) -> dict[str, Path]:
    """Write each image's model and residual and the SED table of a multi-image result.

    Files, all inside ``outdir`` (created with its parents if missing):

    * ``<label>_model.fits``: the best-fit model of image ``label`` (image units per
      pixel), with the image's celestial WCS in the header when it has one, and
      ``BAND``, ``MAGZPT``, ``CHISQ``, ``NPIX`` keywords;
    * ``<label>_residual.fits``: data - model, NaN at masked pixels (same header);
    * ``sed.ecsv``: :func:`scenefit.io.sed_table` (flux, AB magnitude from the zero
      point, uncertainties, and each source's flux covariance between bands).

    Parameters
    ----------
    result : JointFitResult or ForcedResult
    outdir : str or Path
        Folder; nothing is written outside it.
    overwrite : bool
        Replace files that exist; otherwise refuse (nothing is written).

    Returns
    -------
    dict of str -> Path
        ``"<label>_model"``, ``"<label>_residual"`` and ``"sed"``.

    Raises
    ------
    FileExistsError
        If one of the files exists and ``overwrite`` is False (lists them).
    ValueError
        If an image label is not usable as a file name (path separators, ``.``/``..``).
    """
    from astropy.io import fits

    images = _images(result)
    labels = tuple(result.labels)
    outdir = Path(outdir)
    paths = multi_output_paths(labels, outdir)
    existing = [str(p) for p in paths.values() if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"refusing to overwrite {existing}; pass overwrite=True or choose another folder"
        )
    outdir.mkdir(parents=True, exist_ok=True)
    chi2 = result.chi2_per_image
    for lab, img, model in zip(labels, images, result.models(), strict=True):
        model = np.asarray(model, dtype=float)
        resid = np.where(img.invvar > 0, img.data - model, np.nan)
        for kind, arr in (("model", model), ("residual", resid)):
            hdu = fits.PrimaryHDU(arr)
            if img.wcs is not None:
                hdu.header.update(img.wcs.to_header(relax=True))
            hdu.header["OBJECT"] = (f"{lab} {kind}", "scenefit multi-image fit")
            hdu.header["BAND"] = (str(img.band) if img.band is not None else "", "band")
            if img.zeropoint is not None:
                hdu.header["MAGZPT"] = (img.zeropoint, "magnitude zero point")
            hdu.header["CHISQ"] = (header_value(float(chi2[lab])), "chi^2 of this image")
            hdu.header["NPIX"] = (int(img.n_valid), "unmasked pixels")
            hdu.writeto(paths[f"{lab}_{kind}"], overwrite=True)
    sed_table(result).write(paths["sed"], format="ascii.ecsv", overwrite=True)
    return paths


def multi_output_paths(labels, outdir) -> dict[str, Path]:
    """The files :func:`write_multi_outputs` writes for images ``labels`` into
    ``outdir`` (keys as it returns them), without writing anything.

    Raises
    ------
    ValueError
        If a label is not usable as a file name (path separators, ``.``/``..``,
        ``sed``).

    Examples
    --------
    >>> sorted(p.name for p in multi_output_paths(["g"], "out").values())
    ['g_model.fits', 'g_residual.fits', 'sed.ecsv']
    """
    for lab in labels:
        if lab in (".", "..") or any(c in lab for c in ("/", "\\", "\0")) or lab == "sed":
            raise ValueError(
                f"image label {lab!r} cannot name a file (path separator, '.', '..' or "
                "'sed'); give plain labels= to the fit"
            )
    outdir = Path(outdir)
    paths = {}
    for lab in labels:
        paths[f"{lab}_model"] = outdir / f"{lab}_model.fits"
        paths[f"{lab}_residual"] = outdir / f"{lab}_residual.fits"
    paths["sed"] = outdir / SED_FILE
    return paths


def _images(result) -> tuple:
    if hasattr(result, "images"):
        return tuple(result.images)
    return tuple(r.image for r in result.results)
