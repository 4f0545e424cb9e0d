"""The ``scenefit`` command line.

Subcommands:

* ``scenefit demo [--out DIR] [--seed N]`` -- simulate an image with known truth, fit it
  from an automatic start, compare with the truth and write the outputs;
* ``scenefit fit CONFIG.yaml [--out DIR]`` -- fit your own data, described by a YAML
  configuration (``docs/config.md``);
* ``scenefit models [--json]`` -- list the model types, their parameters, units and
  default bounds.

User errors (a missing file, malformed YAML, an unknown model name, a bad value) are
reported as ``scenefit: error: <message>`` on stderr with exit status 2, without a
traceback. Heavy imports (JAX, the fitter, matplotlib) happen only when a command runs.
"""

from __future__ import annotations

import argparse
import json
import sys

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

documentation: docs/config.md (configuration files), docs/conventions.md (units, angles)."""

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
    return parser


def main(argv=None) -> int:
    """Run the command line.

    Parameters
    ----------
    argv : list of str, optional
        Arguments without the program name; default ``sys.argv[1:]``.

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
    try:
        return args.func(args)
    except BrokenPipeError:  # output piped into e.g. `head`: stop quietly
        sys.stderr.close()
        return 0
    except (ValueError, TypeError, OSError) as exc:  # FileNotFoundError is an OSError
        print(f"scenefit: error: {_message(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("scenefit: interrupted", file=sys.stderr)
        return 130


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


def _cmd_models(args) -> int:
    from .io import describe_models

    models = describe_models()
    if args.json:
        _print(json.dumps(models, indent=2))
        return 0
    for m in models:
        _print(f"{m['name']} ({m['class']}): {m['doc']}")
        for p in m["params"]:
            bounds = f"[{_bound(p['lo'])}, {_bound(p['hi'])}]"
            _print(f"    {p['name']:8s} {p['unit'] or '-':22s} {bounds:16s} {p['doc']}")
        _print("")
    _print("bounds shown are the defaults; a configuration may set lo/hi per parameter.")
    return 0


def _bound(v) -> str:
    return "none" if v is None else f"{v:g}"


def _print(line: str) -> None:
    print(line, flush=True)
