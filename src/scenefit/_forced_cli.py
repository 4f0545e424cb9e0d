"""The ``scenefit forced REFERENCE IMAGE... [options]`` command: forced photometry.

Reads a reference (a scene YAML file, or a catalogue table: ECSV, CSV or a FITS table)
and images given on the command line, runs :func:`scenefit.forced_photometry` and
writes its outputs (:func:`scenefit.io.write_multi_outputs`) into ``--out``. The
images are read by the same code as the images of ``scenefit fit`` configurations
(:mod:`scenefit.io.config`). Only the parser is built at import; JAX and astropy are
imported when the command runs.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["add_forced", "run_forced"]

_HELP = """\
Forced photometry: hold the shapes and positions of the REFERENCE's sources fixed and
solve their fluxes (>= 0) and a flat sky per image in every IMAGE by linear least
squares; images of the same --band share the fluxes. Writes <label>_model.fits and
<label>_residual.fits per image and sed.ecsv (flux, flux_err, AB magnitude from the
zero point, flux_jy) into --out, and prints the fluxes.

REFERENCE is a scene file (.yaml/.yml, e.g. <prefix>_scene.yaml written by 'scenefit
fit') or a catalogue table (.ecsv, .csv, or a FITS table): one row per source with
columns name, type (a model type, 'scenefit models') and that type's parameters in
scenefit units (x, y in tangent-plane arcsec, radii in arcsec, pa in degrees; flux may
be missing). A catalogue may give ra, dec (degrees) instead of x, y: every image then
needs a celestial WCS and all are projected onto one tangent plane (about --center, or
the first image's centre).

Per-image options take one value per IMAGE, in the same order, or a single value for
all of them; put REFERENCE and the IMAGEs before the options (an option takes every
value that follows it). Exit status: 0 done, 2 an error in the input."""

_EPILOG = """\
examples:
  scenefit forced fit-out/fit_scene.yaml g.fits r.fits z.fits --noise gs.fits rs.fits zs.fits \\
      --psf gp.fits rp.fits zp.fits --band g r z --zeropoint 22.5 --out forced/
  scenefit forced catalogue.ecsv i1.fits i2.fits --noise 0.05 0.08 --psf p.fits --band i
  scenefit forced cat.fits img.fits --noise ivar.fits --errors-are-weights --overwrite

Positions of a scene file are arcsec on the tangent plane of the image it was fitted
on: images with a FITS WCS use their own plane (about their CRVAL); images that share
one (same CRVAL) need nothing more. Otherwise give --center RA DEC (the fitted image's
CRVAL): every image is then re-projected onto that plane. Plain arrays (.npy, FITS
without WCS) map pixel (x, y) to ((x0 - x) s, (y - y0) s) arcsec about their centre
(x0, y0) with s = --pixel-scale (docs/conventions.md)."""

#: per-image options: (dest, flag, metavar, type, help)
_PER_IMAGE = (
    ("noise", "--noise", "N", str, "1-sigma noise: a FITS/.npy map or a number (required)"),
    ("psf", "--psf", "P", str, "PSF image (FITS/.npy, normalised to sum 1)"),
    ("mask", "--mask", "M", str, "mask image (non-zero = bad pixel)"),
    ("psf_oversampling", "--psf-oversampling", "K", int, "oversampling of the PSF (default 1)"),
    ("zeropoint", "--zeropoint", "ZP", float, "magnitude zero point (default: header MAGZERO...)"),
    ("band", "--band", "B", str, "band name (default: each image its own band)"),
    ("pixel_scale", "--pixel-scale", "S", float, "arcsec/pixel of images without a WCS"),
    ("label", "--label", "L", str, "name of the image in outputs (default: its file name)"),
)

_FITS_SUFFIXES = (".fits", ".fit", ".fts")


def add_forced(sub, fmt) -> None:
    """Add the ``forced`` subcommand to the subparsers ``sub``."""
    p = sub.add_parser(
        "forced",
        help="forced photometry: fluxes of fixed-shape sources in many images",
        description=_HELP,
        epilog=_EPILOG,
        formatter_class=fmt,
    )
    p.add_argument("reference", metavar="REFERENCE", help="scene file (.yaml) or catalogue")
    p.add_argument("images", metavar="IMAGE", nargs="+", help="FITS (or .npy) images")
    for dest, flag, metavar, typ, text in _PER_IMAGE:
        p.add_argument(flag, dest=dest, nargs="+", type=typ, metavar=metavar, help=text)
    g = p.add_mutually_exclusive_group()
    g.add_argument("--errors-are-variances", action="store_true", help="--noise holds variances")
    g.add_argument(
        "--errors-are-weights", action="store_true", help="--noise holds weights (1/sigma^2)"
    )
    p.add_argument(
        "--center",
        nargs=2,
        type=float,
        metavar=("RA", "DEC"),
        help="tangent point (deg) of the reference positions; re-projects every image "
        "onto it (each needs a WCS)",
    )
    p.add_argument(
        "--no-sky", action="store_true", help="do not fit a sky (keep the reference's skies)"
    )
    p.add_argument(
        "--allow-negative", action="store_true", help="do not constrain the fluxes to >= 0"
    )
    p.add_argument(
        "--coarse", action="store_true", help="coarser, faster integration (RenderSettings.coarse)"
    )
    p.add_argument(
        "--out",
        metavar="DIR",
        default="scenefit-forced",
        help="output folder (created if missing; default: %(default)s)",
    )
    p.add_argument("--overwrite", action="store_true", help="replace existing output files")
    p.set_defaults(func=run_forced)


def _print(line: str = "") -> None:
    print(line, flush=True)


def run_forced(args) -> int:
    """Run ``scenefit forced`` with parsed ``args``; returns the exit status."""
    import time

    t0 = time.perf_counter()
    n = len(args.images)
    values = {dest: _per_image(args, dest, flag, n) for dest, flag, *_ in _PER_IMAGE}
    if args.noise is None:
        raise ValueError(
            "give --noise: a 1-sigma map or a number per image (or one for all); the flux "
            "uncertainties need the pixel noise"
        )
    labels = _labels(args.images, values["label"])
    out = Path(args.out)
    _check_out(out, labels, args.overwrite)
    reference, on_sky = _read_reference(args.reference)
    images = [_read_image(args, values, i) for i in range(n)]
    align = on_sky or args.center is not None
    if align:
        why = "the reference gives ra/dec" if on_sky else "--center was given"
        for i, img in enumerate(images):
            if img.wcs is None:
                raise ValueError(
                    f"image {i + 1} ({args.images[i]}) has no celestial WCS, but {why}: the "
                    "images must be projected onto one tangent plane; give images with a "
                    "FITS WCS, or a reference with x/y on the images' own planes"
                )
    from . import forced_photometry
    from .render import RenderSettings

    _print(f"scenefit forced: {args.reference} on {n} image{'s' if n > 1 else ''}")
    for lab, img in zip(labels, images, strict=True):
        _print(f"  {lab}: {img!r}")
    _print("  solving (the first run includes JAX compilation) ...")
    res = forced_photometry(
        reference,
        images,
        labels=labels,
        fit_sky=not args.no_sky,
        nonnegative=not args.allow_negative,
        align_wcs=align,
        center=args.center,
        settings=RenderSettings().coarse() if args.coarse else RenderSettings(),
    )
    _print("")
    _print(res.summary())
    _print("")
    paths = res.write(out, overwrite=args.overwrite)
    _print("wrote:")
    for p in paths.values():
        _print(f"  {p}")
    _print(f"total wall time {time.perf_counter() - t0:.1f} s")
    return 0


# ------------------------------------------------------------------ helpers
def _per_image(args, dest: str, flag: str, n: int) -> list | None:
    """The values of a per-image option, one per image (a single one repeated)."""
    vals = getattr(args, dest)
    if vals is None:
        return None
    if len(vals) == 1:
        return vals * n
    if len(vals) != n:
        raise ValueError(
            f"{flag}: got {len(vals)} values for {n} images; give one per image (in the "
            "order of the images) or one for all"
        )
    return list(vals)


def _stem(path: str) -> str:
    name = Path(path).name
    for suffix in (".gz", ".fz"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
    low = name.lower()
    for suffix in (*_FITS_SUFFIXES, ".npy"):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


def _labels(paths, given) -> list[str]:
    labels = list(given) if given is not None else [_stem(p) for p in paths]
    seen = {}
    for path, lab in zip(paths, labels, strict=True):
        if lab in seen:
            what = "--label values" if given is not None else "file names"
            raise ValueError(
                f"images {seen[lab]} and {path} have the same label {lab!r} (from their "
                f"{what}); give distinct names with --label"
            )
        seen[lab] = path
    return labels


def _check_out(out: Path, labels, overwrite: bool) -> None:
    """Refuse, before any work, an --out that is a file or would lose files."""
    from .io.multi_outputs import multi_output_paths

    if out.exists() and not out.is_dir():
        raise ValueError(f"--out {str(out)!r} is a file, not a folder")
    paths = multi_output_paths(labels, out).values()
    existing = [p.name for p in paths if p.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"refusing to overwrite {', '.join(existing)} in {str(out)!r}; pass --overwrite "
            "or choose another --out"
        )


def _read_reference(path: str):
    """(Scene or Table, whether its positions are ra/dec)."""
    from .io.catalogue import has_sky_positions

    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"reference {path!r} not found")
    if p.is_dir():
        raise ValueError(f"reference {path!r} is a folder, not a file")
    low = p.name.lower()
    if low.endswith((".yaml", ".yml")):
        from .io.scene_yaml import load_scene

        return load_scene(p), False
    if low.endswith(".ecsv"):
        fmt = "ascii.ecsv"
    elif low.endswith(".csv"):
        fmt = "ascii.csv"
    elif low.endswith(tuple(s + z for s in _FITS_SUFFIXES for z in ("", ".gz"))):
        fmt = "fits"
    else:
        raise ValueError(
            f"reference {path!r}: unknown file type; give a scene file (.yaml, .yml) or a "
            "catalogue table (.ecsv, .csv, .fits)"
        )
    from astropy.table import Table

    try:
        table = Table.read(p, format=fmt)
    except (ValueError, TypeError, OSError, KeyError, IndexError) as exc:
        raise ValueError(f"reference {path!r}: cannot read it as a {fmt} table ({exc})") from None
    return table, has_sky_positions(table)


def _read_image(args, values, i: int):
    """Image ``i`` through the image reader of fit configurations."""
    from .io.config import _Ctx
    from .io.config import _read_image as read_entry

    kind = (
        "variance"
        if args.errors_are_variances
        else "invvar"
        if args.errors_are_weights
        else "sigma"
    )
    entry = {"data": args.images[i]}
    for dest, *_ in _PER_IMAGE:
        v = values[dest]
        if v is None or dest == "label":
            continue
        key = kind if dest == "noise" else dest
        entry[key] = _number_or_file(v[i]) if dest == "noise" else v[i]
    if "psf_oversampling" in entry and "psf" not in entry:
        raise ValueError("--psf-oversampling given without --psf")
    label = f"image {i + 1} ({args.images[i]})"
    ctx = _Ctx(Path("scenefit forced"), base=Path("."), where="")
    try:
        return read_entry(ctx, entry, label)
    except (FileNotFoundError, ValueError) as exc:
        msg = str(exc)
        for key, flag in _KEY_FLAGS.items():  # the configuration's keys as options
            if msg.startswith(f"{label}{key}"):
                msg = f"{label}{flag}{msg[len(label) + len(key) :]}"
                break
        raise type(exc)(msg) from None


#: image-entry keys of :func:`scenefit.io.config._read_image` -> this command's options
_KEY_FLAGS = {
    ".data": "",
    ".sigma": " --noise",
    ".variance": " --noise",
    ".invvar": " --noise",
    ".mask": " --mask",
    ".psf_oversampling": " --psf-oversampling",
    ".psf": " --psf",
    ".pixel_scale": " --pixel-scale",
    ".zeropoint": " --zeropoint",
    ".band": " --band",
}


def _number_or_file(v: str):
    try:
        return float(v)
    except ValueError:
        return v
