"""Fit configurations: a YAML file naming the images, sources, options and outputs.

The schema is documented, with a complete example, in ``docs/config.md``; in short::

    images:                       # one image (multi-image fitting comes later)
      - data: image.fits          # FITS (WCS read from the header) or .npy
        hdu: 0                    # optional; default: first HDU holding a 2-D image
        sigma: sigma.fits         # or variance: / invvar: ; a file or a number
        mask: mask.fits           # non-zero = bad pixel
        psf: psf.fits
        psf_oversampling: 1
        pixel_scale: 0.396        # arcsec/pixel, only if the data have no celestial WCS
        zeropoint: 22.5
        gain: 1.0
        band: r
    sources:                      # or  scene: start.yaml  (a scene file)
      - type: sersic              # a model type name (``scenefit models``)
        name: bulge
        position: {pixel: [63.2, 64.8]}     # or {radec: [deg, deg]}; or give x: / y:
        n: {value: 4, fixed: true}
        r_e: {value: 2.0, lo: 0.1, hi: 20}
        flux: 1000                # bare number = starting value, default bounds
      - type: exponential
        name: disk
        x: {tie: bulge.x}
        y: {tie: bulge.y}
      - type: flat_sky
    likelihood: chi2              # or poisson
    fit: {max_iter: 200, ftol: 1.0e-9, xtol: 1.0e-10}
    render: {quad_order: 3, refine_size: 5, refine_factor: 8}
    output: {dir: scenefit-out, prefix: fit}

Relative paths are relative to the folder of the configuration file. Every error names
the file and the key that is wrong.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..image import Image
from ..likelihood import LIKELIHOODS
from ..models import PSFModel
from ..parameters import Param
from ..render import RenderSettings
from ..scene import Scene
from ._yaml import read_yaml
from .names import MODEL_REGISTRY, model_class
from .scene_yaml import load_scene

__all__ = ["FitConfig", "load_config", "TOP_KEYS", "IMAGE_KEYS"]

#: allowed top-level keys
TOP_KEYS = ("images", "sources", "scene", "likelihood", "fit", "render", "output")
#: allowed keys of one image entry
IMAGE_KEYS = (
    "data",
    "hdu",
    "sigma",
    "variance",
    "invvar",
    "mask",
    "psf",
    "psf_oversampling",
    "pixel_scale",
    "zeropoint",
    "gain",
    "band",
)
_FIT_KEYS = ("max_iter", "ftol", "xtol")
_RENDER_KEYS = ("quad_order", "refine_size", "refine_factor")
_OUTPUT_KEYS = ("dir", "prefix")
_PARAM_KEYS = ("value", "fixed", "lo", "hi", "tie")
_FILE_KEYS = ("file", "hdu")
_FITS_SUFFIXES = (".fits", ".fit", ".fts", ".fits.gz", ".fit.gz", ".fts.gz", ".fits.fz")


@dataclass(frozen=True)
class FitConfig:
    """A parsed fit configuration (see :func:`load_config`).

    Attributes
    ----------
    path : Path
        The configuration file.
    images : tuple of Image
        The images to fit (currently exactly one).
    scene : Scene
        Starting scene; values may be missing (None): :func:`scenefit.initialize`
        fills them from the image.
    likelihood : str
        ``"chi2"`` or ``"poisson"``.
    max_iter : int
    ftol, xtol : float
        Options of :func:`scenefit.fit`.
    settings : RenderSettings
    output_dir : Path
        Folder for the outputs (absolute, or relative to the working directory when the
        configuration path was).
    prefix : str
        File-name prefix of the outputs.
    """

    path: Path
    images: tuple
    scene: Scene
    likelihood: str = "chi2"
    max_iter: int = 200
    ftol: float = 1e-9
    xtol: float = 1e-10
    settings: RenderSettings = RenderSettings()
    output_dir: Path = Path("scenefit-out")
    prefix: str = "fit"

    @property
    def image(self) -> Image:
        """The (single) image."""
        return self.images[0]


# ------------------------------------------------------------------------ entry point
def load_config(path) -> FitConfig:
    """Read and validate a fit configuration file.

    Parameters
    ----------
    path : str or Path
        A YAML file following ``docs/config.md``.

    Returns
    -------
    FitConfig

    Raises
    ------
    FileNotFoundError
        If the configuration file or a file it names does not exist.
    ValueError
        If the file is not valid YAML, or a key is unknown, missing or has a bad value
        (unknown model type, non-numeric value, bad bounds, starting value outside its
        bounds, unknown tie target, shape mismatch, ...). The message names the file and
        the key.

    Examples
    --------
    >>> import numpy as np, tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> np.save(d / "img.npy", np.ones((20, 20)))
    >>> _ = (d / "c.yaml").write_text(
    ...     "images: [{data: img.npy, sigma: 0.1, pixel_scale: 0.5}]\\n"
    ...     "sources: [{type: flat_sky, sky: 1.0}]\\n")
    >>> cfg = load_config(d / "c.yaml")
    >>> cfg.image.shape, cfg.scene.names, cfg.output_dir == d / "scenefit-out"
    ((20, 20), ('flat_sky',), True)
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"configuration file {str(path)!r} not found")
    data = read_yaml(path)
    return config_from_dict(data, path)


def config_from_dict(data, path) -> FitConfig:
    """Build a :class:`FitConfig` from parsed YAML.

    Parameters
    ----------
    data : mapping
        The parsed file.
    path : str or Path
        The file it came from: relative paths are resolved against its folder, and
        errors are prefixed with it.
    """
    path = Path(path)
    ctx = _Ctx(path)
    if data is None:
        raise ValueError(f"{path}: the file is empty; it needs at least 'images' and 'sources'")
    if not isinstance(data, Mapping):
        raise ValueError(
            f"{path}: expected a mapping of keys ({', '.join(TOP_KEYS)}) at the top level, "
            f"got {type(data).__name__}"
        )
    ctx.check_keys(data, TOP_KEYS, "top level")

    if "images" not in data:
        raise ValueError(f"{path}: missing 'images' (a list with one image entry)")
    raw_images = data["images"]
    if isinstance(raw_images, Mapping):
        raw_images = [raw_images]
    if not isinstance(raw_images, list) or not raw_images:
        raise ValueError(f"{path}: 'images' must be a non-empty list of image entries")
    if len(raw_images) > 1:
        raise ValueError(
            f"{path}: 'images' lists {len(raw_images)} images; this version fits one image "
            "at a time (multi-image fitting comes later). Keep one entry."
        )
    images = tuple(_read_image(ctx, d, f"images[{i}]") for i, d in enumerate(raw_images))

    if "sources" in data and "scene" in data:
        raise ValueError(f"{path}: give either 'sources' or 'scene' (a scene file), not both")
    if "scene" in data:
        scene_file = ctx.file(data["scene"], "scene")
        scene = load_scene(scene_file)
        _check_starting_values(ctx, scene, "scene")
    elif "sources" in data:
        scene = _read_sources(ctx, data["sources"], images[0])
    else:
        raise ValueError(
            f"{path}: missing 'sources' (a list of components) or 'scene' (a scene file)"
        )

    likelihood = data.get("likelihood", "chi2")
    if not isinstance(likelihood, str) or likelihood.strip().lower() not in LIKELIHOODS:
        raise ValueError(
            f"{path}: likelihood: unknown likelihood {likelihood!r}; "
            f"valid ones are {', '.join(LIKELIHOODS)}"
        )
    likelihood = likelihood.strip().lower()

    fit_opts = ctx.mapping(data.get("fit"), "fit", _FIT_KEYS)
    max_iter = ctx.integer(fit_opts.get("max_iter", 200), "fit.max_iter", minimum=1)
    ftol = ctx.positive(fit_opts.get("ftol", 1e-9), "fit.ftol")
    xtol = ctx.positive(fit_opts.get("xtol", 1e-10), "fit.xtol")

    rend = ctx.mapping(data.get("render"), "render", _RENDER_KEYS)
    rkw = {k: ctx.integer(v, f"render.{k}", minimum=0) for k, v in rend.items()}
    try:
        settings = RenderSettings(**rkw)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path}: render: {exc}") from None

    out = ctx.mapping(data.get("output"), "output", _OUTPUT_KEYS)
    out_dir = out.get("dir", "scenefit-out")
    if not isinstance(out_dir, str) or not out_dir.strip():
        raise ValueError(f"{path}: output.dir: expected a folder name, got {out_dir!r}")
    prefix = out.get("prefix", "fit")
    if (
        not isinstance(prefix, str)
        or not prefix
        or prefix in (".", "..")
        or any(c in prefix for c in "/\\\0")
    ):
        raise ValueError(
            f"{path}: output.prefix: expected a plain file-name prefix without path "
            f"separators, got {prefix!r}; choose the folder with output.dir"
        )
    return FitConfig(
        path=path,
        images=images,
        scene=scene,
        likelihood=likelihood,
        max_iter=max_iter,
        ftol=ftol,
        xtol=xtol,
        settings=settings,
        output_dir=ctx.base / Path(out_dir).expanduser(),
        prefix=prefix,
    )


# ------------------------------------------------------------------------- helpers
class _Ctx:
    """The configuration file being read: resolves paths, formats errors.

    ``base`` (default the file's folder) resolves relative paths; ``where`` (default
    ``"<path>: "``) starts every message (the command line passes its own)."""

    def __init__(self, path: Path, base: Path | None = None, where: str | None = None):
        self.path = path
        self.base = path.parent if base is None else base
        self.where = f"{path}: " if where is None else where

    def error(self, key: str, msg: str) -> ValueError:
        return ValueError(f"{self.where}{key}: {msg}")

    def check_keys(self, d: Mapping, allowed, where: str) -> None:
        bad = [k for k in d if k not in allowed]
        if bad:
            raise ValueError(
                f"{self.where}{where}: unknown key(s) {', '.join(map(repr, bad))}; "
                f"allowed keys are {', '.join(allowed)}"
            )

    def mapping(self, d, key: str, allowed) -> Mapping:
        if d is None:
            return {}
        if not isinstance(d, Mapping):
            raise self.error(key, f"expected a mapping with keys {', '.join(allowed)}, got {d!r}")
        self.check_keys(d, allowed, key)
        return d

    def number(self, x, key: str, allow_none: bool = False) -> float | None:
        if x is None and allow_none:
            return None
        if isinstance(x, bool) or not isinstance(x, int | float | str):
            raise self.error(key, f"expected a number, got {x!r}")
        try:
            v = float(x)
        except (ValueError, OverflowError):
            raise self.error(key, f"expected a number, got {x!r}") from None
        if not math.isfinite(v):
            raise self.error(key, f"expected a finite number, got {x!r}")
        return v

    def positive(self, x, key: str) -> float:
        v = self.number(x, key)
        if not v > 0:
            raise self.error(key, f"must be positive, got {x!r}")
        return v

    def integer(self, x, key: str, minimum: int | None = None) -> int:
        if isinstance(x, bool) or not isinstance(x, int):
            raise self.error(key, f"expected an integer, got {x!r}")
        if minimum is not None and x < minimum:
            raise self.error(key, f"must be at least {minimum}, got {x}")
        return int(x)

    def file(self, value, key: str) -> Path:
        if not isinstance(value, str) or not value.strip():
            raise self.error(key, f"expected a file name, got {value!r}")
        p = Path(value).expanduser()
        if not p.is_absolute():
            p = self.base / p
        if not p.exists():
            raise FileNotFoundError(f"{self.where}{key}: file {str(p)!r} not found")
        if p.is_dir():
            raise self.error(key, f"{str(p)!r} is a folder, not a file")
        return p


def _is_fits(p: Path) -> bool:
    return p.name.lower().endswith(_FITS_SUFFIXES)


def _first_image_hdu(p: Path):
    from astropy.io import fits

    with fits.open(p) as hdul:
        for i, h in enumerate(hdul):
            if h.is_image and h.data is not None and np.ndim(h.data) == 2:
                return i
    return None


def _read_array(ctx: _Ctx, spec, key: str) -> np.ndarray:
    """A 2-D array from ``file.fits`` / ``file.npy`` or ``{file: ..., hdu: ...}``."""
    hdu = None
    if isinstance(spec, Mapping):
        ctx.check_keys(spec, _FILE_KEYS, key)
        if "file" not in spec:
            raise ctx.error(key, "missing 'file'")
        hdu = spec.get("hdu")
        spec = spec["file"]
    p = ctx.file(spec, key)
    return _load_2d(ctx, p, hdu, key)[0]


def _load_2d(ctx: _Ctx, p: Path, hdu, key: str):
    """(array, hdu used) from a FITS or .npy file, with errors naming the key."""
    if hdu is not None and (isinstance(hdu, bool) or not isinstance(hdu, int | str)):
        raise ctx.error(key, f"hdu must be an HDU number or name, got {hdu!r}")
    if _is_fits(p):
        from astropy.io import fits

        try:
            if hdu is None:
                hdu = _first_image_hdu(p)
                if hdu is None:
                    raise ctx.error(key, f"{p.name} has no HDU holding a 2-D image")
            with fits.open(p) as hdul:
                try:
                    h = hdul[hdu]
                except (IndexError, KeyError):
                    raise ctx.error(
                        key, f"{p.name} has no HDU {hdu!r} (it has {len(hdul)})"
                    ) from None
                arr = None if h.data is None else np.array(h.data, dtype=float)
        except OSError as exc:
            raise ctx.error(key, f"cannot read {p.name} as FITS ({exc})") from None
    elif p.suffix.lower() == ".npy":
        if hdu is not None:
            raise ctx.error(key, f"hdu is only meaningful for FITS files, not {p.name}")
        try:
            arr = np.load(p, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise ctx.error(key, f"cannot read {p.name} as a .npy array ({exc})") from None
        try:
            arr = np.asarray(arr, dtype=float)
        except (TypeError, ValueError):
            raise ctx.error(key, f"{p.name} does not hold numbers") from None
    else:
        raise ctx.error(
            key, f"unsupported file type {p.name!r}; use FITS (.fits, .fits.gz, ...) or .npy"
        )
    if arr is None or arr.ndim != 2:
        raise ctx.error(
            key, f"{p.name}: expected a 2-D image, got {None if arr is None else arr.shape}"
        )
    return arr, hdu


def _read_image(ctx: _Ctx, d, label: str) -> Image:
    if not isinstance(d, Mapping):
        raise ctx.error(label, f"expected a mapping with a 'data' file, got {d!r}")
    ctx.check_keys(d, IMAGE_KEYS, label)
    if "data" not in d:
        raise ctx.error(label, "missing 'data' (the image file)")
    kw = {}
    given = [k for k in ("sigma", "variance", "invvar") if d.get(k) is not None]
    if len(given) > 1:
        raise ctx.error(label, f"give at most one of sigma, variance, invvar (got {given})")
    for k in given:
        v = d[k]
        if isinstance(v, int | float) and not isinstance(v, bool):
            kw[k] = ctx.positive(v, f"{label}.{k}") if k != "invvar" else float(v)
        else:
            kw[k] = _read_array(ctx, v, f"{label}.{k}")
    if d.get("mask") is not None:
        kw["mask"] = _read_array(ctx, d["mask"], f"{label}.mask") != 0
    if d.get("psf") is not None:
        kw["psf"] = _read_array(ctx, d["psf"], f"{label}.psf")
        kw["psf_oversampling"] = ctx.integer(
            d.get("psf_oversampling", 1), f"{label}.psf_oversampling", minimum=1
        )
    elif "psf_oversampling" in d:
        raise ctx.error(f"{label}.psf_oversampling", "given without a 'psf'")
    if d.get("pixel_scale") is not None:
        kw["pixel_scale"] = ctx.positive(d["pixel_scale"], f"{label}.pixel_scale")
    if d.get("zeropoint") is not None:
        kw["zeropoint"] = ctx.number(d["zeropoint"], f"{label}.zeropoint")
    if d.get("gain") is not None:
        kw["gain"] = ctx.positive(d["gain"], f"{label}.gain")
    if d.get("band") is not None:
        if not isinstance(d["band"], str | int):
            raise ctx.error(f"{label}.band", f"expected a band name, got {d['band']!r}")
        kw["band"] = str(d["band"])

    spec = d["data"]
    hdu = d.get("hdu")
    if isinstance(spec, Mapping):
        ctx.check_keys(spec, _FILE_KEYS, f"{label}.data")
        if hdu is not None and "hdu" in spec:
            raise ctx.error(label, "hdu given twice (in data and next to it)")
        hdu = spec.get("hdu", hdu)
        spec = spec.get("file")
    p = ctx.file(spec, f"{label}.data")
    try:
        if _is_fits(p):
            _, hdu = _load_2d(ctx, p, hdu, f"{label}.data")  # validates the HDU
            return Image.from_fits(p, hdu=hdu, **kw)
        data, _ = _load_2d(ctx, p, hdu, f"{label}.data")
        return Image(data, **kw)
    except (ValueError, TypeError) as exc:
        msg = str(exc)
        if msg.startswith(f"{ctx.where}{label}"):
            raise
        raise ctx.error(label, msg) from None


# -------------------------------------------------------------------------- sources
def _read_sources(ctx: _Ctx, raw, image: Image) -> Scene:
    if not isinstance(raw, list) or not raw:
        raise ctx.error("sources", f"expected a non-empty list of components, got {raw!r}")
    comps, ties, labels = [], [], {}
    for i, d in enumerate(raw):
        comp, comp_ties, label = _read_source(ctx, d, i, image)
        comps.append(comp)
        ties.append(comp_ties)
        labels[i] = label
    psfs = [labels[i] for i, c in enumerate(comps) if isinstance(c, PSFModel)]
    if len(psfs) > 1:
        raise ctx.error(
            "sources",
            f"at most one PSF model may be given, got {len(psfs)} ({', '.join(psfs)})",
        )
    try:
        scene = Scene(comps)
    except (TypeError, ValueError) as exc:
        raise ctx.error("sources", str(exc)) from None
    # ties, with the names that Scene gave to unnamed components
    tie_map = {}
    names = scene.names
    for i, comp_ties in enumerate(ties):
        for p, target in comp_ties.items():
            key = f"{labels[i]}.{p}"
            comp_name, _, tp = target.partition(".")
            tp = tp or p
            if comp_name not in names:
                raise ctx.error(
                    f"{key}.tie",
                    f"no component named {comp_name!r}; components are {', '.join(names)}",
                )
            leader = scene[comp_name]
            if tp not in leader.param_names():
                raise ctx.error(
                    f"{key}.tie",
                    f"{comp_name!r} ({leader.TYPE_NAME}) has no parameter {tp!r}; "
                    f"it has {', '.join(leader.param_names())}",
                )
            follower = f"{names[i]}.{p}"
            lead = f"{comp_name}.{tp}"
            if lead == follower:
                raise ctx.error(f"{key}.tie", "a parameter cannot be tied to itself")
            tie_map[follower] = lead
    for f, lead in tie_map.items():
        if lead in tie_map:
            raise ctx.error(
                "sources",
                f"{f} is tied to {lead}, which is itself tied to {tie_map[lead]}; "
                f"tie {f} to {tie_map[lead]} directly",
            )
    try:
        scene = scene.with_ties(tie_map)
    except (TypeError, ValueError) as exc:
        raise ctx.error("sources", str(exc)) from None
    return scene


def _read_source(ctx: _Ctx, d, i: int, image: Image):
    label = f"sources[{i}]"
    if not isinstance(d, Mapping):
        raise ctx.error(label, f"expected a mapping with a 'type' key, got {d!r}")
    if "type" not in d:
        raise ctx.error(label, f"missing 'type'; valid types are {', '.join(MODEL_REGISTRY)}")
    try:
        cls = model_class(d["type"])
    except (TypeError, ValueError) as exc:
        raise ctx.error(f"{label}.type", str(exc)) from None
    name = d.get("name")
    if name is not None and (not isinstance(name, str) or not name or "." in name):
        raise ctx.error(f"{label}.name", f"expected a name without '.', got {name!r}")
    valid = cls.param_names()
    allowed = ("type", "name", *valid) + (("position",) if "x" in valid else ())
    bad = [k for k in d if k not in allowed]
    if bad:
        raise ctx.error(
            label,
            f"unknown key(s) {', '.join(map(repr, bad))} for a {cls.TYPE_NAME}; "
            f"allowed keys are {', '.join(allowed)}",
        )
    params, ties = {}, {}
    specs = {s.name: s for s in cls.PARAMS}
    for p in valid:
        if p in d:
            par, tie = _read_param(ctx, d[p], specs[p], f"{label}.{p}")
            if tie is not None:
                ties[p] = tie
            else:
                params[p] = par
    if "position" in d:
        if "x" in d or "y" in d:
            raise ctx.error(f"{label}.position", "give either position or x/y, not both")
        xi, eta = _read_position(ctx, d["position"], image, f"{label}.position")
        params["x"] = Param(xi, lo=specs["x"].lo, hi=specs["x"].hi)
        params["y"] = Param(eta, lo=specs["y"].lo, hi=specs["y"].hi)
    try:
        comp = cls(name=name, **params)
    except (TypeError, ValueError) as exc:
        raise ctx.error(label, str(exc)) from None
    return comp, ties, label


def _read_param(ctx: _Ctx, raw, spec, key: str):
    """(Param, None) or (None, tie target) from a bare value or a mapping."""
    if isinstance(raw, Mapping):
        ctx.check_keys(raw, _PARAM_KEYS, key)
        if "tie" in raw:
            others = [k for k in raw if k != "tie"]
            if others:
                raise ctx.error(
                    key,
                    f"a tied parameter takes its leader's value and settings; remove "
                    f"{', '.join(others)} (or the tie)",
                )
            target = raw["tie"]
            if not isinstance(target, str) or not target.strip():
                raise ctx.error(f"{key}.tie", f"expected 'component.param', got {target!r}")
            return None, target.strip()
        value = ctx.number(raw.get("value"), f"{key}.value", allow_none=True)
        fixed = raw.get("fixed", False)
        if not isinstance(fixed, bool):
            raise ctx.error(f"{key}.fixed", f"expected true or false, got {fixed!r}")
        if fixed and value is None:
            raise ctx.error(key, "fixed: true needs a value")
        lo = ctx.number(raw["lo"], f"{key}.lo", allow_none=True) if "lo" in raw else spec.lo
        hi = ctx.number(raw["hi"], f"{key}.hi", allow_none=True) if "hi" in raw else spec.hi
    else:
        value = ctx.number(raw, key, allow_none=True)
        fixed, lo, hi = False, spec.lo, spec.hi
    if lo is not None and hi is not None and not lo < hi:
        raise ctx.error(key, f"bounds must satisfy lo < hi, got lo={lo}, hi={hi}")
    if value is not None and lo is not None and value < lo:
        raise ctx.error(
            key,
            f"starting value {value:g} is below its lower bound {lo:g}; "
            "change the value or the bound (lo)",
        )
    if value is not None and hi is not None and value > hi:
        raise ctx.error(
            key,
            f"starting value {value:g} is above its upper bound {hi:g}; "
            "change the value or the bound (hi)",
        )
    return Param(value, fixed=fixed, lo=lo, hi=hi), None


def _read_position(ctx: _Ctx, raw, image: Image, key: str) -> tuple[float, float]:
    """Tangent-plane (xi, eta) arcsec from {pixel: [x, y]} or {radec: [ra, dec]}."""
    if not isinstance(raw, Mapping) or len(raw) != 1 or next(iter(raw)) not in ("pixel", "radec"):
        raise ctx.error(
            key,
            "expected {pixel: [x, y]} (0-based column, row) or {radec: [ra, dec]} "
            f"(degrees), got {raw!r}",
        )
    kind, pair = next(iter(raw.items()))
    if not isinstance(pair, list | tuple) or len(pair) != 2:
        raise ctx.error(f"{key}.{kind}", f"expected two numbers, got {pair!r}")
    a = ctx.number(pair[0], f"{key}.{kind}[0]")
    b = ctx.number(pair[1], f"{key}.{kind}[1]")
    if kind == "radec":
        if image.wcs is None:
            raise ctx.error(
                f"{key}.radec",
                "the image has no celestial WCS; give the position in pixels "
                "({pixel: [x, y]}) or as x/y in arcsec",
            )
        px, py = image.wcs.world_to_pixel_values(a, b)
        a, b = float(px), float(py)
        if not (math.isfinite(a) and math.isfinite(b)):
            raise ctx.error(f"{key}.radec", "the WCS cannot place this position on the image")
    xi, eta = image.pixel_to_sky(a, b)
    return float(xi), float(eta)


def _check_starting_values(ctx: _Ctx, scene: Scene, key: str) -> None:
    for a in scene.addresses():
        if a in scene.ties:
            continue
        p = scene.param(a)
        if p.value is not None:
            try:
                p.check(a)
            except ValueError as exc:
                raise ctx.error(key, str(exc)) from None
