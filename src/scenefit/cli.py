"""The ``scenefit`` command line.

Subcommands:

* ``scenefit demo [--out DIR] [--seed N]`` -- simulate an image with known truth, fit it
  from an automatic start, compare with the truth and write the outputs;
* ``scenefit fit CONFIG.yaml [--out DIR]`` -- fit your own data, described by a YAML
  configuration (``docs/config.md``);
* ``scenefit models [--json]`` -- list the model types, their parameters, units and
  default bounds;
* ``scenefit imfit CONFIG IMAGE [options]`` -- fit an Imfit configuration file to a FITS
  image, with Imfit's options and console summary;
* ``scenefit makeimage CONFIG (--shape NROWS NCOLS | --refimage FILE) --output FILE`` --
  render an Imfit configuration into a FITS image;
* ``scenefit galfit FEEDME`` -- fit a GALFIT feedme file;
* ``scenefit forced REFERENCE IMAGE... --noise ... [--psf ...] [--out DIR]`` -- forced
  photometry: the fluxes of a scene's or a catalogue's sources in many images.

User errors (a missing file, malformed YAML, an unknown model name, a bad value) are
reported as ``scenefit: error: <message>`` on stderr with exit status 2, without a
traceback. Heavy imports (JAX, the fitter, matplotlib) happen only when a command runs.

Commands that fit or render keep JAX's compiled executables in a persistent cache, so a
second run with the same model structure and image size skips compilation: the
directory is ``$SCENEFIT_CACHE_DIR`` or ``~/.cache/scenefit/jax``; set
``SCENEFIT_NO_CACHE=1`` to turn it off (see :mod:`scenefit._compile_cache`). They also
add an XLA option that compiles faster to the process's ``XLA_FLAGS``
(:mod:`scenefit._xla_flags`).
"""

from __future__ import annotations

import argparse
import json
import sys

from ._forced_cli import add_forced

__all__ = ["main", "build_parser"]

#: exit status for errors in the user's input
EXIT_USAGE = 2

_DESCRIPTION = """\
scenefit: fit galaxies, stars, sky and PSF-convolved models to astronomical images
(JAX, exact gradients, Levenberg-Marquardt with uncertainties)."""

_EPILOG = """\
examples:
  scenefit demo                       simulate a galaxy + stars image, fit it, check the truth
  scenefit demo --out /tmp/demo --seed 3
  scenefit fit config.yaml            fit the images and sources described in config.yaml
  scenefit fit config.yaml --out results/
  scenefit models                     list model types and their parameters
  scenefit models --json              the same as JSON
  scenefit imfit config.dat image.fits --gain 4.7 --readnoise 4.3 --sky 130
  scenefit makeimage config.dat --shape 256 256 --output model.fits
  scenefit galfit galfit.feedme
  scenefit forced fit_scene.yaml g.fits r.fits --noise gs.fits rs.fits --psf gp.fits rp.fits

compiled fits are cached in ~/.cache/scenefit/jax, so a second run starts faster
(SCENEFIT_CACHE_DIR=DIR moves the cache, SCENEFIT_NO_CACHE=1 turns it off); the
command adds --xla_cpu_use_fusion_emitters=false to XLA_FLAGS (faster compilation on
a CPU) with jaxlib 0.10, unless you set that option yourself.

documentation: docs/config.md (configuration files), docs/conventions.md (units, angles),
docs/performance.md (speed, the compilation cache)."""

_DEMO_HELP = """\
Simulate a realistic 128x128 image (bulge + disk galaxy, three stars, sky, Moffat PSF,
CCD noise; known truth), detect the sources, build an automatic starting point, fit
everything at once, print each fitted value with its uncertainty beside the truth and the
pull (fit - truth) / sigma, and write the outputs: parameter tables (ECSV and FITS), a
GALFIT-layout imgblock, the best-fit scene (YAML), a PNG of data/model/residual, the
true scene, and the simulated data with a configuration that refits them with
'scenefit fit'."""

_DEMO_EPILOG = """\
examples:
  scenefit demo
  scenefit demo --out /tmp/demo --seed 7
  scenefit fit /tmp/demo/demo_config.yaml     refit the simulated data from the config

The last line says how many fitted parameters lie within 3 sigma of the truth; the exit
status is 0 either way."""

_FIT_HELP = """\
Fit the image and sources described by a YAML configuration file: missing starting
values are estimated from the image, all free parameters are fitted at once, the
result is printed with uncertainties, and the outputs (<prefix>_params.ecsv/.fits,
<prefix>_imgblock.fits, <prefix>_scene.yaml, <prefix>.png) are written to the output
folder. Exit status: 0 if the fit converged, 1 if it did not (outputs are written
anyway), 2 for an error in the input."""

_FIT_EPILOG = """\
minimal configuration (paths relative to the configuration file):

  images:
    - data: image.fits          # FITS (WCS from the header) or .npy
      sigma: sigma.fits         # or variance: / invvar:, a file or a number
      psf: psf.fits
  sources:
    - {type: sersic, name: bulge, position: {pixel: [63.2, 64.8]}, n: {value: 4, fixed: true}}
    - {type: exponential, name: disk, x: {tie: bulge.x}, y: {tie: bulge.y}}
    - {type: flat_sky}
  output: {dir: scenefit-out, prefix: fit}

See docs/config.md for every key; 'scenefit models' lists the types and parameters."""

_MODELS_EPILOG = """\
examples:
  scenefit models
  scenefit models --json | python -m json.tool"""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``scenefit`` command."""
    from . import __version__

    fmt = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(
        prog="scenefit", description=_DESCRIPTION, epilog=_EPILOG, formatter_class=fmt
    )
    parser.add_argument("--version", action="version", version=f"scenefit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser(
        "demo",
        help="simulate an image with known truth, fit it, compare",
        description=_DEMO_HELP,
        epilog=_DEMO_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="scenefit-demo",
        help="output folder (created if missing; default: %(default)s)",
    )
    p.add_argument(
        "--seed", type=int, default=0, help="seed of the simulated noise (default: %(default)s)"
    )
    p.set_defaults(func=_cmd_demo)

    p = sub.add_parser(
        "fit",
        help="fit your data as described by a YAML configuration",
        description=_FIT_HELP,
        epilog=_FIT_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG.yaml", help="the configuration file")
    p.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="output folder, overriding output.dir of the configuration",
    )
    p.set_defaults(func=_cmd_fit)

    p = sub.add_parser(
        "models",
        help="list model types, parameters, units and default bounds",
        description="List every model type with its parameters, units and default bounds.",
        epilog=_MODELS_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("--json", action="store_true", help="print JSON instead of text")
    p.set_defaults(func=_cmd_models)
    _add_imfit(sub, fmt)
    _add_makeimage(sub, fmt)
    _add_galfit(sub, fmt)
    add_forced(sub, fmt)
    return parser


_IMFIT_HELP = """\
Fit the model of an Imfit configuration file to a FITS image, as Imfit does: the same
file formats, options, noise model and console summary (fit statistic, reduced chi^2,
AIC/BIC, best-fit parameters with +/- errors). Imfit's 1-based pixel positions, PA
(deg CCW from +y), ell = 1 - b/a and pixel sizes are converted to scenefit's on input
and back on output; surface brightnesses I_e/I_0 are fitted as total fluxes.
Without --noise the variance is Imfit's data-based one,
(data + sky)/G + N_comb RN^2/G^2 with G = gain exptime N_comb."""

_IMFIT_EPILOG = """\
examples:
  scenefit imfit config.dat image.fits --gain 4.725 --readnoise 4.3 --sky 130.1
  scenefit imfit config.dat image.fits --noise sigma.fits --psf psf.fits --save-params best.dat
  scenefit imfit config.dat image.fits --poisson-mlr --save-model model.fits

Exit status: 0 converged, 1 not converged, 2 an error in the input."""


def _add_imfit(sub, fmt) -> None:
    p = sub.add_parser(
        "imfit",
        help="fit an Imfit configuration file to a FITS image (Imfit-compatible)",
        description=_IMFIT_HELP,
        epilog=_IMFIT_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG", help="Imfit configuration file")
    p.add_argument("image", metavar="IMAGE", help="FITS image to fit")
    p.add_argument("--mask", metavar="FILE", help="mask image (non-zero = bad pixel)")
    p.add_argument("--noise", metavar="FILE", help="noise image (sigma unless told otherwise)")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--errors-are-variances", action="store_true", help="the noise image holds variances"
    )
    g.add_argument(
        "--errors-are-weights",
        action="store_true",
        help="the noise image holds weights (1/sigma^2)",
    )
    p.add_argument("--psf", metavar="FILE", help="PSF image (normalised to sum 1)")
    for opt, what in (
        ("--gain", "e-/ADU"),
        ("--readnoise", "read noise in e-"),
        ("--sky", "original sky level (ADU) already subtracted from the image"),
        ("--exptime", "exposure time (image in counts/s)"),
        ("--ncombined", "number of images averaged into this one"),
    ):
        p.add_argument(
            opt,
            type=float,
            default=None,
            metavar="X",
            help=f"{what} (overrides the configuration file)",
        )
    p.add_argument(
        "--chisquare-only",
        action="store_true",
        help="print the fit statistic of the initial model and stop",
    )
    s = p.add_mutually_exclusive_group()
    s.add_argument("--cashstat", action="store_true", help="minimise the Cash statistic")
    s.add_argument(
        "--poisson-mlr",
        action="store_true",
        help="minimise the Poisson maximum-likelihood-ratio statistic",
    )
    s.add_argument(
        "--model-errors",
        action="store_true",
        help="chi^2 with errors estimated from the model instead of the data",
    )
    p.add_argument(
        "--nosubsampling", action="store_true", help="sample each pixel at its centre only"
    )
    p.add_argument(
        "--imfit-sampling",
        action="store_true",
        help="use Imfit's sub-pixel sampling rule (for exact comparisons)",
    )
    p.add_argument(
        "--save-params", metavar="FILE", help="write the best-fit parameters in Imfit's format"
    )
    p.add_argument("--save-model", metavar="FILE", help="write the best-fit model image")
    p.add_argument("--save-residual", metavar="FILE", help="write data - model")
    p.add_argument(
        "--verbose",
        action="store_true",
        help="print the fit statistic after every LM iteration (for long fits)",
    )
    p.set_defaults(func=_cmd_imfit)


def _add_makeimage(sub, fmt) -> None:
    p = sub.add_parser(
        "makeimage",
        help="render an Imfit configuration file into a FITS image",
        description="Render the model of an Imfit configuration file (limits are ignored) "
        "into a FITS image (float32), optionally convolved with a PSF.",
        epilog="examples:\n  scenefit makeimage config.dat --shape 128 128 --output m.fits\n"
        "  scenefit makeimage config.dat --refimage data.fits --psf psf.fits --output m.fits",
        formatter_class=fmt,
    )
    p.add_argument("config", metavar="CONFIG", help="Imfit configuration file")
    g = p.add_mutually_exclusive_group()
    g.add_argument(
        "--shape",
        nargs=2,
        type=int,
        metavar=("NROWS", "NCOLS"),
        help="output size (default: NROWS/NCOLS of the configuration)",
    )
    g.add_argument("--refimage", metavar="FILE", help="take the size from this FITS image")
    p.add_argument("--psf", metavar="FILE", help="PSF image to convolve with")
    p.add_argument(
        "--nosubsampling", action="store_true", help="sample each pixel at its centre only"
    )
    p.add_argument(
        "--imfit-sampling", action="store_true", help="use Imfit's sub-pixel sampling rule"
    )
    p.add_argument("--output", "-o", metavar="FILE", required=True, help="output FITS file")
    p.set_defaults(func=_cmd_makeimage)


def _add_galfit(sub, fmt) -> None:
    p = sub.add_parser(
        "galfit",
        help="fit a GALFIT feedme file",
        description="Fit the image and components described by a GALFIT feedme file "
        "(A-P image parameters, numbered components). GALFIT's 1-based positions, PA "
        "(deg, up = 0, counter-clockwise), magnitudes (zero point J) and fit flags are "
        "converted. Prints the result in the feedme layout and writes the imgblock (B).",
        epilog="examples:\n  scenefit galfit galfit.feedme\n"
        "  scenefit galfit galfit.feedme --output-feedme best.feedme",
        formatter_class=fmt,
    )
    p.add_argument("feedme", metavar="FEEDME", help="GALFIT input file")
    p.add_argument(
        "--output-feedme", metavar="FILE", help="write the best-fit model as a feedme file"
    )
    p.set_defaults(func=_cmd_galfit)


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``. Only when
        ``argv`` is None (the ``scenefit`` program itself) do the fitting and rendering
        commands turn on the persistent compilation cache (unless ``SCENEFIT_NO_CACHE``
        is set), so that calls from Python code and tests write nothing to the user's
        cache directory, and add the XLA option that compiles faster
        (:mod:`scenefit._xla_flags`) to this process's ``XLA_FLAGS``.

    Returns
    -------
    int
        Exit status: 0 success, 1 a fit that did not converge, 2 an error in the input.
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help, --version, or a usage error (status 2)
        return int(exc.code or 0)
    if args.command is None:
        parser.print_help()
        return 0
    if argv is None and args.command in _COMPILING:
        from ._xla_flags import prefer_fast_compilation

        prefer_fast_compilation()  # before the first computation starts JAX's backend
        _enable_cache()
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0
    except (
        ValueError,
        TypeError,
        OSError,
        NotImplementedError,
    ) as exc:  # FileNotFoundError is an OSError
        print(f"scenefit: error: {_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scenefit: interrupted", file=sys.stderr)
        return 130


#: commands that compile JAX functions and so use the persistent compilation cache
_COMPILING = ("demo", "fit", "imfit", "makeimage", "galfit", "forced")


def _enable_cache() -> None:
    """Turn on JAX's persistent compilation cache unless ``SCENEFIT_NO_CACHE`` is set.

    The directory is ``$SCENEFIT_CACHE_DIR`` or the user cache directory
    (``~/.cache/scenefit/jax``); a directory that cannot be created only costs speed.
    """
    from ._compile_cache import cache_disabled_by_env, enable_compile_cache

    if cache_disabled_by_env():
        return
    try:
        enable_compile_cache()
    except (OSError, ValueError) as exc:
        print(f"scenefit: warning: compilation cache disabled ({_message(exc)})", file=sys.stderr)


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.strerror}: {exc.filename!r}"
    return str(exc) or type(exc).__name__


# ------------------------------------------------------------------------ commands
def _cmd_demo(args) -> int:
    from .demo import run_demo

    run_demo(args.out, seed=args.seed, progress=_print)
    return 0


def _cmd_fit(args) -> int:
    import time
    from pathlib import Path

    t0 = time.perf_counter()
    from . import fit, initialize
    from .io import write_outputs
    from .io.config import load_config

    cfg = load_config(args.config)
    out_dir = Path(args.out) if args.out is not None else cfg.output_dir
    image = cfg.image
    _print(f"scenefit fit: {cfg.path}")
    _print(f"  image: {image!r}")
    missing = cfg.scene.missing()
    scene = initialize(cfg.scene, image) if missing else cfg.scene
    if missing:
        _print(f"  automatic starting values for {len(missing)} parameters")
    _print(f"  fitting {len(scene)} components (the first fit includes JAX compilation) ...")
    result = fit(
        scene,
        image,
        likelihood=cfg.likelihood,
        settings=cfg.settings,
        max_iter=cfg.max_iter,
        ftol=cfg.ftol,
        xtol=cfg.xtol,
    )
    _print("")
    _print(result.summary())
    _print("")
    paths = write_outputs(result, out_dir, prefix=cfg.prefix)
    _print("wrote:")
    for p in paths.values():
        _print(f"  {p}")
    _print(f"total wall time {time.perf_counter() - t0:.1f} s")
    if not result.converged:
        print(f"scenefit: warning: the fit did not converge ({result.message})", file=sys.stderr)
        return 1
    return 0


def _cmd_imfit(args) -> int:
    from ._imfit_cli import run_imfit

    return run_imfit(args)


def _cmd_makeimage(args) -> int:
    from ._imfit_cli import run_makeimage

    return run_makeimage(args)


def _cmd_galfit(args) -> int:
    from ._galfit_cli import run_galfit

    return run_galfit(args)


def _cmd_models(args) -> int:
    from .io import describe_models

    models = describe_models()
    if args.json:
        _print(json.dumps(models, indent=2))
        return 0
    for m in models:
        _print(f"{m['name']} ({m['class']}): {m['doc']}")
        _print(f"    {'param':8s} {'unit':22s} {'default':>8s} {'bounds':16s} description")
        for p in m["params"]:
            bounds = f"[{_bound(p['lo'])}, {_bound(p['hi'])}]"
            default = "-" if p["default"] is None else f"{p['default']:g}"
            unit = p["unit"] or "-"
            _print(f"    {p['name']:8s} {unit:22s} {default:>8s} {bounds:16s} {p['doc']}")
        _print("")
    _print(
        "bounds shown are the defaults; a configuration may set lo/hi per parameter.\n"
        "default is a typical value for examples; unset parameters are initialised from "
        "the image.\nOther sizes: mge<K> (K Gaussians), spline<N> / spline<N>_zero (N nodes), "
        "sky_grid<ny>x<nx>[_bicubic] (sky nodes).\nGeometries and truncations: "
        "<law>[_trunc | _trunc_in | _trunc_inout][_genellipse | _twist | _warp<K> | "
        "_fourier<m>[_<m>...] | _rays<N> | _wedges<N>] "
        "(docs/geometries.md); gallery: docs/models.md."
    )
    return 0


def _bound(v) -> str:
    return "none" if v is None else f"{v:g}"


def _print(line: str) -> None:
    print(line, flush=True)
