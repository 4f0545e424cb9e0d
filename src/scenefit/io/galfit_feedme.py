"""GALFIT feedme (input) files: read them into a :class:`GalfitFeedme` and a Scene.

Format (Peng et al. 2002, 2010; the GALFIT user's manual): image parameters on lines
``A)`` to ``P)`` (``A`` input image, ``B`` output imgblock, ``C`` sigma image, ``D`` PSF,
``E`` PSF oversampling, ``F`` bad-pixel mask, ``G`` constraints, ``H`` fitting region
``xmin xmax ymin ymax``, ``I`` convolution box, ``J`` magnitude zero point, ``K`` plate
scale, ``O`` display, ``P`` mode), then numbered components: ``0) type`` followed by
``N) value(s) fit-flag(s)`` lines and ``Z) 0|1``. ``#`` starts a comment.

Supported component types and their parameters (sizes in pixels):

=========  ==========================================================================
sersic     1) x y  3) mag  4) r_e  5) n  9) q  10) PA
devauc     1) x y  3) mag  4) r_e  9) q  10) PA           (Sersic with n = 4, fixed)
expdisk    1) x y  3) mag  4) r_s (scale length h)  9) q  10) PA
gaussian   1) x y  3) mag  4) FWHM  9) q  10) PA       (sigma = FWHM / 2 sqrt(2 ln 2))
moffat     1) x y  3) mag  4) FWHM  5) beta  9) q  10) PA
psf        1) x y  3) mag
sky        1) sky  2) dsky/dx  3) dsky/dy      (per pixel, at the fitting-region centre)
=========  ==========================================================================

``C0)`` (boxy > 0, disky < 0) on any of the profiles draws it on GALFIT's generalised
ellipse, r = (|x|^(C0+2) + |y/q|^(C0+2))^(1/(C0+2)): the ``<law>_genellipse`` type
with ``c0 = C0`` (Imfit's convention is GALFIT's). Fourier (``F1)`` ...), bending
(``B1)`` ...) and coordinate-rotation (``R0)`` ...) modes are not read.

Conversions: positions are 1-based pixels of the *whole* input image (0-based pixel =
value - 1, then minus the fitting region's lower corner when the image is cropped to
``H``); PA is degrees with up = 0 and counter-clockwise (left = 90), equal to scenefit's
PA on an image with the default ``cd``; magnitudes become total fluxes through the zero
point ``J``: flux = exptime 10^(-0.4 (mag - J)) (GALFIT's magnitudes are per second when
the image header has EXPTIME); fit flag 1 = free, 0 = fixed.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["GalfitComponent", "GalfitFeedme", "read_feedme", "parse_feedme", "GALFIT_TYPES"]

#: component type -> the parameter numbers it needs (besides 1) position, except sky)
GALFIT_TYPES = {
    "sersic": (1, 3, 4, 5, 9, 10),
    "devauc": (1, 3, 4, 9, 10),
    "expdisk": (1, 3, 4, 9, 10),
    "gaussian": (1, 3, 4, 9, 10),
    "moffat": (1, 3, 4, 5, 9, 10),
    "psf": (1, 3),
    "sky": (1,),
}

_FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))
#: types that take GALFIT's C0) (boxy/disky) line
_BOXY = ("sersic", "devauc", "expdisk", "gaussian", "moffat")


@dataclass(frozen=True)
class GalfitComponent:
    """One numbered component: its type, ``{number: (values, flags)}`` and its Z flag."""

    type: str
    params: dict
    skip_in_output: bool = False
    line: int = 0


@dataclass(frozen=True)
class GalfitFeedme:
    """The content of a GALFIT feedme file.

    Attributes
    ----------
    options : dict
        ``{"A": "input.fits", ...}`` raw strings of the image-parameter lines.
    components : tuple of GalfitComponent
    source : str
        File name, for messages; relative paths in ``options`` are relative to its folder.

    Examples
    --------
    >>> fm = parse_feedme("J) 25\\n0) psf\\n1) 10 12 1 1\\n3) 20 1\\n")
    >>> fm.zeropoint, fm.components[0].type
    (25.0, 'psf')
    """

    options: dict
    components: tuple
    source: str = "<string>"

    @property
    def zeropoint(self) -> float:
        return _opt_floats(self, "J", 1, default=[0.0])[0]

    @property
    def region(self):
        """(xmin, xmax, ymin, ymax), 1-based inclusive, or None for the whole image."""
        if "H" not in self.options:
            return None
        v = _opt_floats(self, "H", 4)
        return tuple(int(round(a)) for a in v)

    def path(self, key) -> Path | None:
        """The file named on line ``key`` (relative to the feedme), None if none/blank."""
        v = self.options.get(key, "").split()
        if not v or v[0].lower() == "none":
            return None
        p = Path(v[0])
        return p if p.is_absolute() else Path(self.source).parent / p

    def to_scene(self, image, origin=(0, 0), exptime: float = 1.0):
        """The scenefit :class:`~scenefit.Scene` on ``image``.

        ``origin`` is the 0-based (x, y) of ``image``'s first pixel in the full input image
        (the fitting region's lower corner when the image was cropped to ``H``).
        """
        from ..scene import Scene

        comps, taken = [], set()
        for c in self.components:
            comps.append(_component(c, self, image, origin, exptime, taken))
        return Scene(comps)


def read_feedme(path) -> GalfitFeedme:
    """Read a GALFIT feedme file.

    Raises
    ------
    ValueError
        With the file name, line number and what is wrong (unknown component type or
        parameter, missing values, bad fit flags, missing parameters).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    return parse_feedme(text, source=str(path))


_LINE = re.compile(r"^\s*([A-Za-z]\d*|\d+)\)\s*(.*)$")


def parse_feedme(text: str, source: str = "<string>") -> GalfitFeedme:
    """Parse the text of a feedme file (see :func:`read_feedme`)."""

    def err(lineno, msg):
        return ValueError(f"{source}, line {lineno}: {msg}")

    options: dict = {}
    comps: list[GalfitComponent] = []
    cur = None  # [type, params, z, line]

    def close():
        if cur is None:
            return
        typ, params, z, line = cur
        missing = [n for n in GALFIT_TYPES[typ] if n not in params]
        if missing:
            raise err(
                line,
                f"component {typ} is missing parameter(s) " + ", ".join(f"{n})" for n in missing),
            )
        comps.append(GalfitComponent(typ, params, z, line))

    for lineno, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        m = _LINE.match(line)
        if not m:
            raise err(lineno, f"cannot read {line.strip()!r} (expected 'X) value' or 'N) value')")
        key, rest = m.group(1), m.group(2).strip()
        if key.isdigit():
            num = int(key)
            if num == 0:
                close()
                typ = rest.split()[0].lower() if rest else ""
                if typ not in GALFIT_TYPES:
                    raise err(
                        lineno,
                        f"unknown or unsupported component type {rest!r}; "
                        "scenefit reads " + ", ".join(GALFIT_TYPES),
                    )
                cur = [typ, {}, False, lineno]
                continue
            if cur is None:
                raise err(lineno, f"parameter {num}) before any '0) type' line")
            typ, params = cur[0], cur[1]
            if num in (6, 7, 8) and typ != "sky":
                continue  # unused slots of the classic profiles
            allowed = GALFIT_TYPES[typ] + ((2, 3) if typ == "sky" else ())
            if num not in allowed:
                raise err(
                    lineno,
                    f"component {typ} has no parameter {num}) (scenefit reads "
                    + ", ".join(f"{n})" for n in sorted(set(allowed)))
                    + ")",
                )
            params[num] = _values_flags(
                rest, 2 if num == 1 and typ != "sky" else 1, lineno, err, f"{typ} {num})"
            )
        elif key.upper() == "Z" and cur is not None:
            cur[2] = rest.split()[:1] == ["1"]
        elif key.upper() == "C0" and cur is not None and cur[0] in _BOXY:
            cur[1]["C0"] = _values_flags(rest, 1, lineno, err, f"{cur[0]} C0)")
        elif len(key) == 1 and key.upper() in "ABCDEFGHIJKLMNOPRSUVW" and cur is None:
            options[key.upper()] = rest
        elif cur is not None:
            raise err(
                lineno,
                f"unsupported component parameter {key}) for {cur[0]} (C0) is read for "
                + ", ".join(_BOXY)
                + "; Fourier, bending and coordinate-rotation modes are not implemented)",
            )
        else:
            raise err(lineno, f"unknown image parameter {key})")
    close()
    if not comps:
        raise ValueError(f"{source}: no components found (need '0) type' blocks)")
    return GalfitFeedme(options, tuple(comps), source)


def _values_flags(rest, n, lineno, err, what):
    tok = rest.split()
    if len(tok) < n:
        raise err(lineno, f"{what} needs {n} value(s), got {len(tok)}")
    try:
        vals = [float(t) for t in tok[:n]]
    except ValueError:
        raise err(lineno, f"{what}: {' '.join(tok[:n])!r} is not a number") from None
    if not all(math.isfinite(v) for v in vals):
        raise err(lineno, f"{what}: values must be finite")
    flags = tok[n : 2 * n]
    if flags and len(flags) != n:
        raise err(lineno, f"{what} needs {n} fit flag(s) (1 = free, 0 = fixed)")
    if any(f not in ("0", "1") for f in flags):
        raise err(lineno, f"{what}: fit flags must be 0 or 1, got {' '.join(flags)!r}")
    free = [f == "1" for f in flags] if flags else [True] * n
    return vals, free


def _opt_floats(fm, key, n, default=None):
    raw = fm.options.get(key)
    if raw is None:
        if default is not None:
            return default
        raise ValueError(f"{fm.source}: image parameter {key}) is missing")
    tok = raw.split()
    try:
        vals = [float(t) for t in tok[:n]]
    except ValueError:
        raise ValueError(f"{fm.source}: {key}) {raw!r}: expected {n} number(s)") from None
    if len(vals) < n:
        raise ValueError(f"{fm.source}: {key}) {raw!r}: expected {n} number(s)")
    return vals


def _check_values(c: GalfitComponent, source) -> None:
    """``ValueError`` for values no profile can take (drawing them gives a meaningless
    image, not an error)."""

    def val(num):
        return c.params[num][0][0] if num in c.params else None

    where = f"{source}, line {c.line}: component {c.type}"
    checks = [(4, lambda v: v > 0, "4) (size) must be positive")]
    checks += [(9, lambda v: 0 < v <= 1, "9) (axis ratio) must be in (0, 1]")]
    checks += [("C0", lambda v: v > -2, "C0) must be above -2")]
    if c.type == "sersic":
        checks.append((5, lambda v: v > 0, "5) (Sersic index) must be positive"))
    if c.type == "moffat":
        checks.append((5, lambda v: v > 1, "5) (beta) must be above 1 (finite total flux)"))
    for num, ok, what in checks:
        v = val(num)
        if v is not None and not ok(v):
            raise ValueError(f"{where}: {what}, got {v:g}")


def _component(c: GalfitComponent, fm, image, origin, exptime, taken):
    from .. import models
    from ..parameters import Param

    if c.type not in ("sky", "psf"):
        _check_values(c, fm.source)

    def par(num, f=lambda v: v, i=0):
        vals, free = c.params[num]
        return Param(f(vals[i]), fixed=not free[i])

    name = _unique(c.type if c.type != "psf" else "point", taken)
    if c.type == "sky":
        sky = par(1)
        g = [c.params.get(k, ([0.0], [False])) for k in (2, 3)]
        if all(v[0][0] == 0.0 and not v[1][0] for v in g):
            return models.FlatSky(name=name, sky=sky)
        return models.TiltedSky(
            name=name,
            sky=sky,
            dsky_dx=Param(g[0][0][0], fixed=not g[0][1][0]),
            dsky_dy=Param(g[1][0][0], fixed=not g[1][1][0]),
        )
    (x, y), (fx, fy) = c.params[1]
    xi, eta = image.pixel_to_sky(x - 1.0 - origin[0], y - 1.0 - origin[1])
    scale = image.pixel_scale
    zp = fm.zeropoint
    kw = dict(
        name=name,
        x=Param(float(xi), fixed=not fx),
        y=Param(float(eta), fixed=not fy),
        flux=par(3, lambda m: exptime * 10.0 ** (-0.4 * (m - zp))),
    )
    if c.type == "psf":
        return models.PointSource(**kw)
    kw["q"] = par(9)
    kw["pa"] = par(10)
    if c.type in ("sersic", "devauc"):
        law = models.Sersic
        kw["r_e"] = par(4, lambda v: v * scale)
        kw["n"] = par(5) if c.type == "sersic" else Param(4.0, fixed=True)
    elif c.type == "expdisk":
        law = models.Exponential
        kw["h"] = par(4, lambda v: v * scale)
    elif c.type == "gaussian":
        law = models.Gaussian
        kw["sigma"] = par(4, lambda v: v * scale / _FWHM_PER_SIGMA)
    elif c.type == "moffat":
        law = models.Moffat
        kw.update(fwhm=par(4, lambda v: v * scale), beta=par(5))
    else:  # pragma: no cover - the parser rejects unknown types
        raise KeyError(c.type)
    if "C0" in c.params:
        kw["c0"] = par("C0")
        return models.gen_ellipse(law)(**kw)
    return law(**kw)


def _unique(name, taken):
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    taken.add(out)
    return out


def scene_to_feedme_text(scene, image, zeropoint: float, origin=(0, 0), exptime=1.0) -> str:
    """Components of ``scene`` in feedme layout (1-based positions, magnitudes, pixels).

    Every parameter's fit flag is 1 unless it is fixed.
    """
    from .. import models

    out = []
    for k, c in enumerate(scene.components, 1):
        out.append(f"# Component number: {k}")
        if isinstance(c, models.FlatSky | models.TiltedSky):
            out.append(" 0) sky")
            out.append(f" 1) {c.sky.value:.6g} {_flag(c.sky)}")
            if isinstance(c, models.TiltedSky):
                out.append(f" 2) {c.dsky_dx.value:.6g} {_flag(c.dsky_dx)}")
                out.append(f" 3) {c.dsky_dy.value:.6g} {_flag(c.dsky_dy)}")
            out.append("")
            continue
        px, py = image.sky_to_pixel(c.x.value, c.y.value)
        boxy = getattr(type(c), "GEOMETRY", None) is models.GEN_ELLIPSE
        typ = {
            models.Sersic: "sersic",
            models.Exponential: "expdisk",
            models.Gaussian: "gaussian",
            models.Moffat: "moffat",
            models.PointSource: "psf",
        }[type(c).LAW if boxy else type(c)]
        out.append(f" 0) {typ}")
        out.append(
            f" 1) {float(px) + 1 + origin[0]:.4f} {float(py) + 1 + origin[1]:.4f} "
            f"{_flag(c.x)} {_flag(c.y)}"
        )
        mag = zeropoint - 2.5 * math.log10(c.flux.value / exptime)
        out.append(f" 3) {mag:.4f} {_flag(c.flux)}")
        s = image.pixel_scale
        if typ == "sersic":
            out += [
                f" 4) {c.r_e.value / s:.4f} {_flag(c.r_e)}",
                f" 5) {c.n.value:.4f} {_flag(c.n)}",
            ]
        elif typ == "expdisk":
            out.append(f" 4) {c.h.value / s:.4f} {_flag(c.h)}")
        elif typ == "gaussian":
            out.append(f" 4) {c.sigma.value * _FWHM_PER_SIGMA / s:.4f} {_flag(c.sigma)}")
        elif typ == "moffat":
            out += [
                f" 4) {c.fwhm.value / s:.4f} {_flag(c.fwhm)}",
                f" 5) {c.beta.value:.4f} {_flag(c.beta)}",
            ]
        if typ != "psf":
            out += [f" 9) {c.q.value:.4f} {_flag(c.q)}", f"10) {c.pa.value:.4f} {_flag(c.pa)}"]
        if boxy:
            out.append(f"C0) {c.c0.value:.4f} {_flag(c.c0)}")
        out.append(" Z) 0")
        out.append("")
    return "\n".join(out)


def _flag(p) -> int:
    return 0 if p.fixed else 1


def feedme_image(fm: GalfitFeedme):
    """Build the :class:`~scenefit.Image` of a feedme (cropped to ``H``) and its origin.

    Data from ``A``, sigma from ``C`` (or, when it is ``none``, the data-based
    sigma^2 = data / G + RN^2 / G^2 with G = GAIN * NCOMBINE and RN = RDNOISE from the
    image header, defaults 1, 1, 0), PSF from ``D`` with oversampling ``E``, mask ``F``
    (non-zero = bad; FITS only). Pixel scale 1 (sizes stay in pixels) and the default cd,
    so GALFIT's PA equals scenefit's. Returns ``(image, origin, exptime)``.
    """
    from astropy.io import fits

    from ..image import Image

    a = fm.path("A")
    if a is None:
        raise ValueError(f"{fm.source}: A) names no input image")
    if not a.exists():
        raise FileNotFoundError(2, "No such file or directory", str(a))
    with fits.open(a) as hdul:
        hdu = next((h for h in hdul if h.data is not None and np.ndim(h.data) == 2), None)
        if hdu is None:
            raise ValueError(f"{a}: no 2-D image")
        data = np.array(hdu.data, float)
        header = hdu.header
    exptime = float(header.get("EXPTIME", 1.0) or 1.0)
    gain = float(header.get("GAIN", 1.0) or 1.0) * float(header.get("NCOMBINE", 1) or 1)
    rn = float(header.get("RDNOISE", 0.0) or 0.0)

    def read(key, what):
        p = fm.path(key)
        if p is None:
            return None
        if p.suffix.lower() not in (".fits", ".fit", ".fts", ".gz"):
            raise ValueError(
                f"{fm.source}: {key}) {p}: only FITS files are supported for the {what}"
            )
        if not p.exists():
            raise FileNotFoundError(2, "No such file or directory", str(p))
        arr = np.array(fits.getdata(p), float)
        return arr

    sigma = read("C", "sigma image")
    mask = read("F", "mask")
    psf = read("D", "PSF")
    for arr, what in ((sigma, "sigma image"), (mask, "mask")):
        if arr is not None and arr.shape != data.shape:
            raise ValueError(
                f"{fm.source}: the {what} has shape {arr.shape}, the image {data.shape}"
            )
    m = np.zeros(data.shape, bool) if mask is None else (mask != 0) | ~np.isfinite(mask)
    if sigma is None:
        var = data / gain + rn**2 / gain**2
        bad = ~(var > 0)
        sigma = np.sqrt(np.where(bad, 1.0, var))
    else:
        bad = ~(np.isfinite(sigma) & (sigma > 0))
        sigma = np.where(bad, 1.0, sigma)
    m = m | (bad & np.isfinite(data))
    origin = (0, 0)
    reg = fm.region
    if reg is not None:
        x0, x1, y0, y1 = reg
        h, w = data.shape
        if not (1 <= x0 <= x1 <= w and 1 <= y0 <= y1 <= h):
            raise ValueError(f"{fm.source}: H) region {reg} is outside the {w} x {h} image")
        sl = (slice(y0 - 1, y1), slice(x0 - 1, x1))
        data, sigma, m = data[sl], sigma[sl], m[sl]
        origin = (x0 - 1, y0 - 1)
    over = int(_opt_floats(fm, "E", 1, default=[1])[0])
    image = Image(
        data,
        sigma=sigma,
        mask=m,
        psf=psf,
        psf_oversampling=over,
        pixel_scale=1.0,
        zeropoint=fm.zeropoint,
    )
    return image, origin, exptime
