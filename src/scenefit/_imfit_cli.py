"""The ``scenefit imfit`` and ``scenefit makeimage`` commands (Imfit-compatible front end).

Images are built with the default ``cd = [[-1, 0], [0, 1]]`` and pixel scale 1, so
Imfit's sizes in pixels are scenefit's arcsec and Imfit's PA is scenefit's PA.
The console summary follows Imfit's layout (fit statistic, reduced chi^2, AIC/BIC,
``NAME value # +/- error`` lines) so scripts that parse Imfit's output can read it.
"""

from __future__ import annotations

import math
import re
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np

__all__ = ["run_imfit", "run_makeimage", "read_fits_image", "data_based_variance"]


def _print(line: str = "") -> None:
    print(line, flush=True)


_FITS_SPEC = re.compile(r"^(?P<file>.+?)(\[(?P<hdu>\d+)\])?(\[(?P<sec>[^\]]*)\])?$")


def read_fits_image(path, what: str = "image") -> np.ndarray:
    """A 2-D FITS image as float64, with Imfit's (CFITSIO's) ``file[N][x1:x2,y1:y2]`` syntax.

    ``[N]`` picks HDU N (0 = primary); without it the first HDU holding a 2-D image is
    used. ``[x1:x2,y1:y2]`` cuts a section: 1-based, inclusive, x along rows (columns).
    Raises ValueError if there is no 2-D image or the section is malformed or outside
    the image, FileNotFoundError if the file does not exist.
    """
    from astropy.io import fits

    name, hdu, sec = str(path), None, None
    if not Path(name).exists():
        m = _FITS_SPEC.match(name)
        if m and (m["hdu"] or m["sec"] is not None) and Path(m["file"]).exists():
            name, sec = m["file"], m["sec"]
            hdu = int(m["hdu"]) if m["hdu"] else None
    path = Path(name)
    if not path.exists():
        raise FileNotFoundError(2, "No such file or directory", str(path))
    try:
        with fits.open(path) as hdul:
            if hdu is not None:
                if hdu >= len(hdul):
                    raise ValueError(f"{path}: no HDU {hdu} (the file has {len(hdul)})")
                cands = [hdul[hdu]]
            else:
                cands = list(hdul)
            data = next(
                (np.array(h.data, dtype=float) for h in cands if _is_image(h)),
                None,
            )
    except OSError as exc:
        raise ValueError(f"{path}: cannot read the {what} as FITS ({exc})") from None
    if data is None:
        where = f" in HDU {hdu}" if hdu is not None else ""
        raise ValueError(f"{path}: no 2-D image found{where} for the {what}")
    return data if sec is None else _section(data, sec, path)


def _is_image(h) -> bool:
    return h.is_image and h.data is not None and np.ndim(h.data) == 2


def _section(data, sec, path):
    m = re.fullmatch(r"\s*(\d+):(\d+)\s*,\s*(\d+):(\d+)\s*", sec)
    if not m:
        raise ValueError(f"{path}: image section [{sec}] is not of the form [x1:x2,y1:y2]")
    x1, x2, y1, y2 = (int(v) for v in m.groups())
    ny, nx = data.shape
    if not (1 <= x1 <= x2 <= nx and 1 <= y1 <= y2 <= ny):
        raise ValueError(
            f"{path}: image section [{sec}] lies outside the {nx} x {ny} (columns x rows) image"
        )
    return data[y1 - 1 : y2, x1 - 1 : x2]


def data_based_variance(data, original_sky=0.0, gain=1.0, read_noise=0.0, exptime=1.0, ncomb=1):
    """Imfit's data-based variance in image units (ADU^2).

    sigma^2 = (data + original_sky) / G + N_comb RN^2 / G^2 with G = gain exptime N_comb
    (gain in e-/ADU, read noise in e-). Non-positive values are returned as NaN so that
    the pixel is masked.
    """
    g = gain * exptime * ncomb
    var = (np.asarray(data, float) + original_sky) / g + ncomb * read_noise**2 / g**2
    return np.where(var > 0, var, np.nan)


def _options(args, model):
    """Image-description values: command line over config file over Imfit's defaults."""
    opt = model.options
    out = {}
    for key, arg, default in (
        ("GAIN", "gain", 1.0),
        ("READNOISE", "readnoise", 0.0),
        ("ORIGINAL_SKY", "sky", 0.0),
        ("EXPTIME", "exptime", 1.0),
        ("NCOMBINED", "ncombined", 1.0),
    ):
        v = getattr(args, arg)
        if v is not None:
            out[key] = float(v)
        elif key in opt:
            out[key] = float(opt[key])
            _print(f"Value from config file: {key} = {opt[key]:f}")
        else:
            out[key] = default
    for key in ("GAIN", "EXPTIME", "NCOMBINED"):
        if not out[key] > 0:
            raise ValueError(f"{key.lower()} must be positive, got {out[key]}")
    return out


def _settings(args):
    from .render import RenderSettings

    if getattr(args, "imfit_sampling", False):
        if not hasattr(RenderSettings, "imfit"):
            raise NotImplementedError(
                "--imfit-sampling (Imfit's sub-pixel sampling rule) is not yet implemented "
                "in this version of scenefit; leave the flag out to use scenefit's integration"
            )
        return RenderSettings.imfit(subsampling=not args.nosubsampling)
    if args.nosubsampling:
        return RenderSettings(quad_order=1, refine_size=0)
    return RenderSettings()


def _build_image(args, opts, data, model_errors=False):
    """The Image to fit: data, mask, PSF and weights.

    With ``model_errors`` the weights hold the inverse of the model-independent part of
    Imfit's variance, original_sky / G + N_comb RN^2 / G^2, and ``gain`` is G = gain exptime
    N_comb, as the ``chi2_model`` likelihood expects (var = model / G + that part).
    """
    from .image import Image

    mask = np.zeros(data.shape, bool)
    if args.mask:
        m = read_fits_image(args.mask, "mask")
        if m.shape != data.shape:
            raise ValueError(f"mask {args.mask} has shape {m.shape}, the image {data.shape}")
        mask = ~np.isfinite(m) | (m != 0)
    kw = {}
    if args.noise:
        noise = read_fits_image(args.noise, "noise image")
        if noise.shape != data.shape:
            raise ValueError(
                f"noise image {args.noise} has shape {noise.shape}, the image {data.shape}"
            )
        bad = ~np.isfinite(noise)
        if args.errors_are_weights:
            bad |= noise < 0
            kw["invvar"] = np.where(bad, 0.0, noise)
        elif args.errors_are_variances:
            bad |= noise <= 0
            kw["variance"] = np.where(bad, 1.0, noise)
        else:
            bad |= noise <= 0
            kw["sigma"] = np.where(bad, 1.0, noise)
        mask = mask | bad
    elif model_errors:
        g = opts["GAIN"] * opts["EXPTIME"] * opts["NCOMBINED"]
        var0 = opts["ORIGINAL_SKY"] / g + opts["NCOMBINED"] * opts["READNOISE"] ** 2 / g**2
        if var0 < 0:
            raise ValueError(
                f"original sky and read noise give a negative model-independent variance "
                f"({var0:g}); check --sky"
            )
        # with neither sky nor read noise the variance is model / G alone
        kw["invvar"] = 1.0 / max(var0, 1e-300)
        kw["gain"] = g
    else:
        var = data_based_variance(
            data,
            opts["ORIGINAL_SKY"],
            opts["GAIN"],
            opts["READNOISE"],
            opts["EXPTIME"],
            opts["NCOMBINED"],
        )
        bad = ~np.isfinite(var)
        nonpos = bad & np.isfinite(data) & ~mask
        if nonpos.any():
            # Imfit stops here too (infinite weights): say which pixels and what to do
            y, x = np.argwhere(nonpos)[0]
            raise ValueError(
                f"{int(nonpos.sum())} unmasked pixel(s) have a data-based variance <= 0 "
                f"(data + original sky <= 0 with no read noise; first at x={x + 1}, y={y + 1}); "
                "give the subtracted sky with --sky, a --noise map, --readnoise, or mask them"
            )
        kw["variance"] = np.where(bad, 1.0, var)
    psf = read_fits_image(args.psf, "PSF") if args.psf else None
    return Image(data, mask=mask, psf=psf, pixel_scale=1.0, **kw)


def _stat_name(likelihood_flag):
    return {
        "chi2": "CHI-SQUARE",
        "cash": "CASH STATISTIC",
        "poisson": "POISSON-MLR STATISTIC",
    }[likelihood_flag]


def _cash_constant(counts, valid):
    """2 sum (d ln d - d): Cash statistic = Poisson deviance - this (counts d > 0)."""
    c = np.where(valid & (counts > 0), counts, 1.0)
    return float(2.0 * np.sum(np.where(valid & (counts > 0), c * np.log(c) - c, 0.0)))


def run_imfit(args) -> int:
    """``scenefit imfit CONFIG IMAGE``: fit an Imfit configuration to a FITS image."""
    import time

    t0 = time.perf_counter()
    from . import fit
    from .io.imfit_config import read_imfit_config, result_to_imfit
    from .likelihood import residuals_and_objective
    from .models import FlatSky
    from .render import render
    from .scene import Scene

    if sum(bool(v) for v in (args.cashstat, args.poisson_mlr, args.model_errors)) > 1:
        raise ValueError("give at most one of --cashstat, --poisson-mlr and --model-errors")
    if args.model_errors and args.noise:
        raise ValueError(
            "--model-errors estimates the errors from the model; it cannot be combined with "
            "--noise (leave one of them out)"
        )
    stat = "cash" if args.cashstat else "poisson" if args.poisson_mlr else "chi2"
    settings = _settings(args)
    bn_rule = getattr(settings, "sersic_bn", None) or "exact"
    _print(f"\tImage file = {args.image}")
    _print(f"\tconfiguration file = {args.config}")
    model = read_imfit_config(args.config)
    opts = _options(args, model)
    data = read_fits_image(args.image)
    _print(
        f"naxis1 [# pixels/row] = {data.shape[1]}, naxis2 [# pixels/col] = {data.shape[0]}; "
        f"nPixels_tot = {data.size}"
    )
    g_eff = opts["GAIN"] * opts["EXPTIME"] * opts["NCOMBINED"]
    poisson = stat != "chi2"
    if poisson:
        # Poisson statistics need the counts: the original sky goes back into the data and,
        # as a fixed flat sky, into the model
        image = _build_image(args, opts, data + opts["ORIGINAL_SKY"]).replace(gain=g_eff)
    elif args.model_errors:
        image = _build_image(args, opts, data, model_errors=True)
    else:
        image = _build_image(args, opts, data)
    if image.psf is None:
        _print("* No PSF image supplied -- no image convolution will be done!")
    scene, notes = model.to_scene(image, bn_rule)
    for note in notes:
        _print(f"* note: {note}")
    n_user = len(scene)
    if poisson:
        scene = Scene(
            [*scene.components, FlatSky(name="original_sky", sky=_fixed(opts["ORIGINAL_SKY"]))],
            scene.ties,
        )
    _print(
        f"Function{'s' if len(model.functions) > 1 else ''}: "
        + ", ".join(f.name for f in model.functions)
    )
    n_valid = image.n_valid
    _print(f"Model Object: {data.size} data values (pixels)")
    _print(f"ModelObject: mask vector applied to weight vector. ({n_valid} valid pixels remain)")
    like = "poisson" if poisson else "chi2_model" if args.model_errors else "chi2"
    const = 0.0
    if stat == "cash":
        const = _cash_constant(image.data * g_eff, ~image.mask)

    if args.chisquare_only:
        m = render(scene, image, settings)
        _, obj = residuals_and_objective(like, m, image.data, image.invvar, image.gain)
        value = float(obj) - const
        _print("")
        _print(f"  {_stat_name(stat)} = {value:f}")
        return 0

    mode = {
        "chi2": "chi^2 (model-based errors)"
        if args.model_errors
        else "chi^2 (user-supplied errors)"
        if args.noise
        else "chi^2 (data-based errors)",
        "cash": "Cash statistic",
        "poisson": "Poisson MLR statistic",
    }[stat]
    _print("")
    _print(f"Performing fit by minimizing {mode}:")
    _print("Calling Levenberg-Marquardt solver (scenefit, JAX) ...")
    result = fit(
        scene, image, likelihood=like, settings=settings, progress=_iteration_printer(args, const)
    )
    obj0 = result.initial_objective
    value = result.objective - const
    k = len(result.free)
    dof = result.dof
    _print("")
    _print(f"*** scenefit status = {result.status} -- {result.message}")
    _print(f"  {_stat_name(stat)} = {value:f}    ({dof} DOF)")
    _print(f"  INITIAL {'CHI^2' if stat == 'chi2' else 'STATISTIC'} = {float(obj0) - const:f}")
    n_par = sum(2 + sum(len(f.params) for f in fs.functions) for fs in model.function_sets)
    _print(f"        NPAR = {n_par}")
    _print(f"       NFREE = {k}")
    _print(f"     NITER = {result.n_iter}")
    _print(f"      NFEV = {result.n_eval}")
    _print("")
    red = result.objective / dof if dof > 0 else math.nan
    label = "Reduced Chi^2" if stat == "chi2" else "Reduced Chi^2 equivalent"
    _print(f"{label} = {red:f}")
    aic, bic = aic_bic(value, k, n_valid)
    _print(f"AIC = {aic:f}, BIC = {bic:f}")
    _print("")
    user = Scene(result.scene.components[:n_user], result.scene.ties)
    res_user = replace(result, scene=user)
    best = result_to_imfit(res_user, model)
    text = best.to_text()
    _print(text.rstrip("\n"))
    _print("")
    header = [
        "Best-fit parameters written by scenefit imfit",
        f"  Image file: {args.image}",
        f"  Configuration file: {args.config}",
        "  Algorithm: Levenberg-Marquardt (scenefit)",
        f"  Fit statistic: {mode}",
        f"  Best-fit value: {value:f}",
        f"  Reduced value: {red:f}",
        f"  AIC: {aic:f}",
        f"  BIC: {bic:f}",
    ]
    if args.save_params:
        best.write(args.save_params, header_lines=header)
        _print(f'Saving best-fit parameters in file "{args.save_params}"')
    if args.save_model or args.save_residual:
        mod = np.asarray(result.model())
        if poisson:
            mod = mod - opts["ORIGINAL_SKY"]
        if args.save_model:
            _write_fits(args.save_model, mod)
            _print(f'Saving model image in file "{args.save_model}"')
        if args.save_residual:
            _write_fits(args.save_residual, data - mod)
            _print(f'Saving residual (data - model) image in file "{args.save_residual}"')
    _print("")
    _print(
        f"(Elapsed time: {result.seconds:f} sec for fit, {time.perf_counter() - t0:f} sec total)"
    )
    _print("Done!")
    if not result.converged:
        print(f"scenefit: warning: the fit did not converge ({result.message})", file=sys.stderr)
        return 1
    return 0


def _iteration_printer(args, const):
    """With ``--verbose``, the fit's ``progress`` callback: one line per iteration."""
    if not getattr(args, "verbose", False):
        return None

    def show(n_iter, obj, lam, accepted):
        mark = "" if accepted else "  (step rejected)"
        _print(f"  iteration {n_iter:4d}: statistic = {obj - const:.6f}  lambda = {lam:.3g}{mark}")

    return show


def aic_bic(stat: float, k: int, n: int) -> tuple[float, float]:
    """Imfit's AIC (with the small-sample correction) and BIC.

    AIC = stat + 2k + 2k(k+1)/(n-k-1), BIC = stat + k ln n (k free parameters, n valid
    pixels).
    """
    aic = stat + 2 * k + (2 * k * (k + 1) / (n - k - 1) if n - k - 1 > 0 else math.inf)
    return aic, stat + k * math.log(n)


def _fixed(v):
    from .parameters import Param

    return Param(float(v), fixed=True)


def _write_fits(path, arr, dtype=np.float64):
    from astropy.io import fits

    fits.PrimaryHDU(np.asarray(arr, dtype=dtype)).writeto(path, overwrite=True)


def run_makeimage(args) -> int:
    """``scenefit makeimage CONFIG``: render an Imfit configuration into a FITS image."""
    from .image import Image
    from .io.imfit_config import read_imfit_config, strip_limits
    from .render import render

    model = strip_limits(read_imfit_config(args.config, check_limits=False))
    if args.refimage:
        shape = read_fits_image(args.refimage, "reference image").shape
    elif args.shape:
        shape = tuple(int(v) for v in args.shape)
    elif "NROWS" in model.options and "NCOLS" in model.options:
        shape = (int(model.options["NROWS"]), int(model.options["NCOLS"]))
    else:
        raise ValueError(
            "the image size is unknown: give --shape NROWS NCOLS or --refimage FILE, or "
            "NCOLS and NROWS in the configuration file"
        )
    if min(shape) < 1:
        raise ValueError(f"image shape must be positive, got {shape}")
    psf = read_fits_image(args.psf, "PSF") if args.psf else None
    image = Image(np.zeros(shape), psf=psf, pixel_scale=1.0)
    settings = _settings(args)
    scene, _ = model.to_scene(image, getattr(settings, "sersic_bn", None) or "exact")
    out = render(scene, image, settings)
    _write_fits(args.output, out, np.float32)
    _print(f'Saving output model image ("{args.output}", {shape[0]} rows x {shape[1]} columns) ...')
    _print("Done!")
    return 0
