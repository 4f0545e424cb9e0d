"""GALFIT-style "imgblock": data, model and residual in one multi-extension FITS file.

Layout
------
====  ========  =======================================================================
HDU   EXTNAME   content (float64, shape of the image)
====  ========  =======================================================================
0     (none)    empty primary HDU
1     INPUT     the fitted data; masked pixels are NaN (an Image keeps no values there)
2     MODEL     the best-fit model (``result.model()``), everywhere
3     RESIDUAL  data - model; NaN at masked pixels
====  ========  =======================================================================

Each image HDU carries the image's celestial WCS when ``result.image.wcs`` is set.

The MODEL header describes the fit with GALFIT's keyword conventions: ``COMP_k`` holds
the component type in GALFIT's vocabulary (``sersic``, ``expdisk``, ``gaussian``,
``moffat``, ``psf``, ``sky``; the card comment gives the scenefit name and type), and
``k_XC``, ``k_YC``, ``k_MAG``, ``k_RE``, ``k_RS``, ``k_FWHM``, ``k_N``, ``k_AR``, ``k_PA``,
``k_SKY``, ``k_DSDX``, ``k_DSDY`` hold strings ``"value +/- error"``, in GALFIT's units:

* XC, YC: pixel position, 1-based (FITS/GALFIT convention; scenefit's is 0-based on the
  tangent plane), errors from the x, y covariance mapped through the CD matrix;
* MAG: zp - 2.5 log10(flux) (only when the image has a zero point; also ``k_FLUX``,
  always, in image units);
* RE (Sersic r_e), RS (exponential h), FWHM (Gaussian 2.3548 sigma; Moffat fwhm): pixels,
  converted with the geometric-mean pixel scale;
* AR: axis ratio q; PA: degrees from image +y (up) towards -x (left), in [-90, 90);
  both assume square pixels;
* N (Sersic n), BETA (Moffat beta, a scenefit keyword); SKY, DSDX, DSDY: image units
  per pixel and per pixel^2, relative to the image centre.

As in GALFIT, a held (fixed) value is written ``[value]``, a tied one ``{value} +/- err``
and one at a bound or with an infinite error ``*value* +/- *err*``.
Fit statistics: CHISQ (the objective), NDOF, NFREE, NFIX, CHI2NU, plus LIKELIHD, NITER,
STATUS, CONVERGD, FITMSG and SFVERSN (scenefit version); inputs: DATAIN, SIGMA, PSF, MASK,
CONSTRNT, FITSECT, CONVBOX, MAGZPT, LOGFILE.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..models import Exponential, FlatSky, Gaussian, Moffat, PointSource, Sersic, TiltedSky
from ._fits import header_value
from ._magnitudes import flux_to_mag
from ._rows import ParamRow, address_covariance, parameter_rows

__all__ = ["write_imgblock"]

#: GALFIT's name for each component type
GALFIT_TYPES = {
    Sersic: "sersic",
    Exponential: "expdisk",
    Gaussian: "gaussian",
    Moffat: "moffat",
    PointSource: "psf",
    FlatSky: "sky",
    TiltedSky: "sky",
}

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))

# parameter (arcsec) -> (keyword, factor): written as factor * value / pixel scale
_SIZES = {
    "r_e": ("RE", 1.0),
    "h": ("RS", 1.0),
    "sigma": ("FWHM", FWHM_PER_SIGMA),
    "fwhm": ("FWHM", 1.0),
}
# parameters written unchanged
_SAME = {"n": "N", "beta": "BETA", "q": "AR", "sky": "SKY", "dsky_dx": "DSDX", "dsky_dy": "DSDY"}


def write_imgblock(result, path, *, logfile: str | None = None) -> Path:
    """Write the data, model and residual of a fit as a GALFIT-style imgblock.

    Parameters
    ----------
    result : FitResult
    path : str or Path
        Output FITS file (overwritten).
    logfile : str, optional
        Name recorded in the LOGFILE keyword (e.g. the parameter table written with it).

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    See the module docstring for the extensions and the MODEL header keywords.
    """
    from astropy.io import fits

    path = Path(path)
    image = result.image
    mask = np.asarray(image.mask)
    model = np.asarray(result.model(), dtype=float)
    data = np.where(mask, np.nan, image.data)
    resid = np.where(mask, np.nan, image.data - model)

    hdus = [fits.PrimaryHDU()]
    for extname, arr in (("INPUT", data), ("MODEL", model), ("RESIDUAL", resid)):
        h = fits.ImageHDU(arr, name=extname)
        if image.wcs is not None:
            h.header.update(image.wcs.to_header(relax=True))
        hdus.append(h)
    _describe_fit(hdus[2].header, result, logfile)
    fits.HDUList(hdus).writeto(path, overwrite=True)
    return path


def _describe_fit(header, result, logfile) -> None:
    from .. import __version__

    image = result.image
    h, w = image.shape
    rows = parameter_rows(result)
    header["OBJECT"] = ("model", "scenefit best-fit model")
    header["COMMENT"] = "Fit description in GALFIT imgblock keyword conventions (scenefit)."
    header["DATAIN"] = ("INPUT", "extension holding the fitted data")
    header["SIGMA"] = ("Image invvar", "per-pixel uncertainty taken from the Image")
    psf = image.psf
    header["PSF"] = (
        "none" if psf is None else f"{psf.shape[1]}x{psf.shape[0]} oversampling {psf.oversampling}",
        "PSF image size (x by y)",
    )
    header["MASK"] = (f"{int(np.count_nonzero(image.mask))} pixels", "masked pixels (NaN in INPUT)")
    ties = result.scene.ties
    header["CONSTRNT"] = (f"{len(ties)} ties", "parameter ties (see the scene file)")
    header["FITSECT"] = (f"[1:{w},1:{h}]", "image region fitted")
    header["CONVBOX"] = (f"{w}, {h}", "convolution box (x, y)")
    if image.zeropoint is not None:
        header["MAGZPT"] = (image.zeropoint, "magnitude zero point")
    header["LOGFILE"] = (logfile or "none", "parameter table written with this file")
    header["CHISQ"] = (header_value(float(result.objective)), f"{result.likelihood} objective")
    header["NDOF"] = (int(result.dof), "degrees of freedom")
    header["NFREE"] = (len(result.free), "free parameters")
    header["NFIX"] = (sum(r.fixed and not r.tied_to for r in rows), "fixed parameters")
    header["CHI2NU"] = (header_value(float(result.reduced_chi2)), "objective / NDOF")
    header["LIKELIHD"] = (result.likelihood, "likelihood")
    header["NITER"] = (int(result.n_iter), "iterations")
    header["STATUS"] = (int(result.status), "fitter status code")
    header["CONVERGD"] = (bool(result.converged), "fitter converged")
    header["FITMSG"] = str(result.message)
    header["SFVERSN"] = (__version__, "scenefit version")
    by_address = {r.address: r for r in rows}
    for k, comp in enumerate(result.scene.components, start=1):
        kind = GALFIT_TYPES.get(type(comp), comp.TYPE_NAME)
        header[f"COMP_{k}"] = (kind, f"{comp.name} ({comp.TYPE_NAME})")
        for key, text, comment in _component_cards(comp, result, by_address):
            header[f"{k}_{key}"] = (text, comment)


def _component_cards(comp, result, rows) -> list[tuple[str, str, str]]:
    """(keyword suffix, "value +/- error", comment) for each parameter of ``comp``."""
    image = result.image
    scale = image.pixel_scale
    zp = image.zeropoint
    names = comp.param_names()
    cards = []
    for name in names:
        row = rows[f"{comp.name}.{name}"]
        v, e = row.value, row.uncertainty
        if name == "x" and "y" in names:
            cards += _centre_cards(comp, result, rows)
        elif name == "y" and "x" in names:
            continue
        elif name == "flux":
            if zp is not None:
                m, me = flux_to_mag(v, e, zp)
                cards.append(("MAG", _fmt(float(m), float(me), row), "magnitude"))
            cards.append(("FLUX", _fmt(v, e, row), "total flux [image units]"))
        elif name == "pa":
            cards.append(("PA", _fmt(_pa_image(v, image.cd), e, row), "PA [deg: up=0, left=90]"))
        elif name in _SIZES and row.unit == "arcsec":
            key, f = _SIZES[name]
            cards.append((key, _fmt(f * v / scale, f * e / scale, row), f"{key} [pixel]"))
        elif name in _SAME:
            cards.append((_SAME[name], _fmt(v, e, row), f"{name} [{row.unit or 'unitless'}]"))
        else:  # a type GALFIT has no keyword for: scenefit's name and unit
            cards.append((name.upper(), _fmt(v, e, row), f"{name} [{row.unit or 'unitless'}]"))
    return cards


def _centre_cards(comp, result, rows):
    image = result.image
    ax, ay = f"{comp.name}.x", f"{comp.name}.y"
    px, py = image.sky_to_pixel(rows[ax].value, rows[ay].value)
    cov = address_covariance(result, [ax, ay])
    if np.all(np.isfinite(cov)):
        j = np.linalg.inv(image.cd)
        ex, ey = np.sqrt(np.clip(np.diag(j @ cov @ j.T), 0.0, None))
    else:
        ex = ey = math.inf
    return [
        ("XC", _fmt(float(px) + 1.0, float(ex), rows[ax]), "x centre [pixel, 1-based]"),
        ("YC", _fmt(float(py) + 1.0, float(ey), rows[ay]), "y centre [pixel, 1-based]"),
    ]


def _pa_image(pa_deg: float, cd) -> float:
    """Angle of the major axis from image +y towards -x, degrees in [-90, 90).

    ``pa_deg`` is east of north on the tangent plane; the axis direction
    (sin pa, cos pa) is mapped to pixel offsets with the inverse CD matrix.
    """
    t = math.radians(pa_deg)
    dx, dy = np.linalg.solve(np.asarray(cd, float), [math.sin(t), math.cos(t)])
    return float((math.degrees(math.atan2(-dx, dy)) + 90.0) % 180.0 - 90.0)


def _fmt(v: float, e: float, row: ParamRow) -> str:
    if row.fixed:
        return f"[{v:.6g}]"
    if row.tied_to:
        return f"{{{v:.6g}}} +/- {e:.6g}"
    if row.at_bound or not math.isfinite(e):
        return f"*{v:.6g}* +/- *{e:.6g}*"
    return f"{v:.6g} +/- {e:.6g}"
