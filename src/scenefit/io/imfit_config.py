"""Imfit configuration files: read them into an :class:`ImfitModel`, convert to a Scene,
and write fitted scenes back in Imfit's parameter-file format.

The format (Erwin 2015, ApJ 799, 226; the Imfit manual) is line based:

* optional header lines ``KEYWORD value`` (``GAIN``, ``READNOISE``, ``ORIGINAL_SKY``,
  ``EXPTIME``, ``NCOMBINED``, and ``NCOLS``/``NROWS`` for makeimage);
* function sets, each starting with ``X0 value [limits]`` and ``Y0 value [limits]``
  followed by one or more ``FUNCTION Name [# LABEL text]`` blocks;
* parameter lines ``NAME value [lo,hi | fixed]``; ``#`` starts a comment.

Conversions to scenefit (all explicit, see ``docs/conventions.md``):

* positions: Imfit pixel centres are 1-based, so the 0-based pixel is (X0 - 1, Y0 - 1),
  mapped to the tangent plane with :meth:`scenefit.Image.pixel_to_sky`;
* PA: Imfit's degrees counter-clockwise from +y of the pixel grid; converted through the
  image's ``cd`` (identical to scenefit's PA for the default ``cd = [[-s, 0], [0, s]]``);
* ``ell = 1 - q``;
* sizes (``r_e``, ``h``, ``sigma``, ``fwhm``) are pixels, multiplied by the pixel scale;
* ``I_e`` / ``I_0`` (counts/pixel at r_e / at the centre) become total fluxes:
  Sersic F = 2 pi q n r_e^2 I_e e^b b^-2n Gamma(2n), exponential 2 pi q h^2 I_0,
  Gaussian 2 pi q sigma^2 I_0, Moffat pi q alpha^2 I_0 / (beta - 1) (sizes in pixels);
  ``Sersic_GenEllipse`` / ``Exponential_GenEllipse`` (boxiness ``c0``, as it is) the
  Sersic / exponential factor times the generalised ellipse's area factor
  4 Gamma(1 + 1/C)^2 / (pi Gamma(1 + 2/C)), C = c0 + 2 (``docs/geometries.md``);
  ``EdgeOnDisk`` (``PA L_0 h n z_0``, no ``ell``): ``z_0`` and ``h`` are sizes,
  F = 2 pi h^2 L_0 V(n, z_0) with V the integral of sech^(2/n)(n z / (2 z_0)) over z
  (mu(0, 0) = 2 h L_0 is the central surface brightness);
  ``PointSource`` ``I_tot`` is the total flux; sky levels are per pixel as they are.

Limits: positions, PA, ell and sizes convert exactly. Limits on ``I_e`` / ``I_0`` are
exact flux limits only when every other parameter of that function is fixed; otherwise
the conversion factor changes during the fit and scenefit applies the limits at the
*starting* shape (flux bounds = I limits x the starting conversion factor), an
approximation reported in :attr:`ImfitModel.notes`. When writing results back, the
original Imfit limits are kept. The mapping is exact for conformal ``cd`` matrices
(rotation, flip and one scale); a skewed ``cd`` raises ``ValueError``.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ._imfit_laws import law_flux_factor, law_from_component, law_spec, law_to_kwargs

__all__ = [
    "ImfitParam",
    "ImfitFunction",
    "ImfitFunctionSet",
    "ImfitModel",
    "read_imfit_config",
    "parse_imfit_config",
    "IMFIT_FUNCTIONS",
    "result_to_imfit",
    "strip_limits",
    "flux_factor",
]

#: Imfit function name -> its parameters in the order Imfit requires them
IMFIT_FUNCTIONS: dict[str, tuple[str, ...]] = {
    "Sersic": ("PA", "ell", "n", "I_e", "r_e"),
    "Exponential": ("PA", "ell", "I_0", "h"),
    "Sersic_GenEllipse": ("PA", "ell", "c0", "n", "I_e", "r_e"),
    "Exponential_GenEllipse": ("PA", "ell", "c0", "I_0", "h"),
    "Gaussian": ("PA", "ell", "I_0", "sigma"),
    "Moffat": ("PA", "ell", "I_0", "fwhm", "beta"),
    "EdgeOnDisk": ("PA", "L_0", "h", "n", "z_0"),
    "Core-Sersic": ("PA", "ell", "n", "I_b", "r_e", "r_b", "alpha", "gamma"),
    "BrokenExponential": ("PA", "ell", "I_0", "h1", "h2", "r_break", "alpha"),
    "FerrersBar2D": ("PA", "ell", "c0", "n", "I_0", "a_bar"),
    "GaussianRing": ("PA", "ell", "A", "R_ring", "sigma_r"),
    "ModifiedKing": ("PA", "ell", "I_0", "r_c", "r_t", "alpha"),
    "PointSource": ("I_tot",),
    "FlatSky": ("I_sky",),
    "TiltedSkyPlane": ("I_0", "m_x", "m_y"),
}

#: header keywords (Imfit's optional image-description parameters, plus makeimage's size)
HEADER_KEYWORDS = ("GAIN", "READNOISE", "ORIGINAL_SKY", "EXPTIME", "NCOMBINED", "NCOLS", "NROWS")

_UNITS = {
    "PA": "deg (CCW from +y axis)",
    "I_e": "counts/pixel",
    "I_0": "counts/pixel",
    "I_b": "counts/pixel",
    "A": "counts/pixel",
    "I_sky": "counts/pixel",
    "I_tot": "counts",
    "L_0": "counts/pixel^3",
    "z_0": "pixels",
    "r_e": "pixels",
    "h": "pixels",
    "sigma": "pixels",
    "fwhm": "pixels",
    "r_b": "pixels",
    "h1": "pixels",
    "h2": "pixels",
    "r_break": "pixels",
    "a_bar": "pixels",
    "R_ring": "pixels",
    "sigma_r": "pixels",
    "r_c": "pixels",
    "r_t": "pixels",
}


@dataclass(frozen=True)
class ImfitParam:
    """One Imfit parameter line: value, ``fixed`` flag, optional ``lo,hi`` limits."""

    name: str
    value: float
    fixed: bool = False
    lo: float | None = None
    hi: float | None = None
    error: float | None = None


@dataclass(frozen=True)
class ImfitFunction:
    """One ``FUNCTION`` block: its Imfit name, optional label, parameters in order."""

    name: str
    params: tuple[ImfitParam, ...]
    label: str | None = None

    def param(self, name: str) -> ImfitParam:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True)
class ImfitFunctionSet:
    """A function set: a shared centre (X0, Y0; 1-based pixels) and its functions."""

    x0: ImfitParam
    y0: ImfitParam
    functions: tuple[ImfitFunction, ...]


@dataclass(frozen=True)
class ImfitModel:
    """The content of an Imfit configuration (or best-fit parameter) file.

    Attributes
    ----------
    options : dict
        Header keywords (``GAIN``, ``READNOISE``, ``ORIGINAL_SKY``, ``EXPTIME``,
        ``NCOMBINED``, ``NCOLS``, ``NROWS``) that were given, as floats.
    function_sets : tuple of ImfitFunctionSet
    source : str
        The file name (for messages).
    notes : tuple of str
        Approximations made when converting to a scene (filled by :meth:`to_scene`).

    Examples
    --------
    >>> m = parse_imfit_config("GAIN 4\\nX0 10 5,15\\nY0 12\\nFUNCTION FlatSky\\nI_sky 3 fixed\\n")
    >>> m.options["GAIN"], m.function_sets[0].x0.hi, m.function_sets[0].functions[0].name
    (4.0, 15.0, 'FlatSky')
    """

    options: dict
    function_sets: tuple[ImfitFunctionSet, ...]
    source: str = "<string>"
    notes: tuple[str, ...] = field(default=(), compare=False)

    @property
    def functions(self) -> list[ImfitFunction]:
        """Every function, in file order."""
        return [f for fs in self.function_sets for f in fs.functions]

    # ------------------------------------------------------------------ to scene
    def to_scene(self, image, bn_rule: str = "exact"):
        """The scenefit :class:`~scenefit.Scene` of this model on ``image``.

        Component names are the Imfit labels (made unique, spaces -> ``_``) or the
        default type names. Functions after the first in a function set have their
        centre tied to the first one's. Returns ``(scene, notes)`` where ``notes`` lists
        approximations (flux limits applied at the starting shape). ``bn_rule`` is the
        Sersic b_n rule of the renderer that will draw the scene (``"exact"`` or
        ``"series"``, ``RenderSettings.sersic_bn``): I_e -> flux uses the same rule, so
        that the rendered surface brightness at r_e is I_e.
        """
        from ..scene import Scene

        geo = _Geometry.of(image)
        comps, ties, notes, taken = [], {}, [], set()
        for fs in self.function_sets:
            leader = None
            for fn in fs.functions:
                name = _unique(_label_name(fn.label) or _DEFAULT_NAMES[fn.name], taken)
                comp, note = _to_component(fn, fs, geo, name, bn_rule)
                notes += note
                comps.append(comp)
                if "x" in comp.param_names():
                    if leader is None:
                        leader = name
                    else:
                        ties[f"{name}.x"] = f"{leader}.x"
                        ties[f"{name}.y"] = f"{leader}.y"
        return Scene(comps, ties), tuple(notes)

    # ---------------------------------------------------------------- from scene
    def with_scene(self, scene, image, uncertainties=None, bn_rule: str = "exact") -> ImfitModel:
        """A copy whose values (and errors) are those of ``scene``; limits are kept.

        ``scene`` must have the component structure that :meth:`to_scene` produced
        (same order). ``uncertainties`` is a ``{address: (value, covariance-derived)}``
        provider: a callable ``f(component, names) -> {imfit_param: error}`` or None.
        """
        geo = _Geometry.of(image)
        comps = list(scene.components)
        i = 0
        sets = []
        for fs in self.function_sets:
            fns = []
            x0, y0 = fs.x0, fs.y0
            centre_done = False
            for fn in fs.functions:
                comp = comps[i]
                i += 1
                vals = _from_component(fn.name, comp, geo, fs, bn_rule)
                errs = uncertainties(comp, fn.name) if uncertainties else {}
                params = tuple(
                    replace(p, value=vals[p.name], error=errs.get(p.name)) for p in fn.params
                )
                fns.append(replace(fn, params=params))
                if not centre_done and "X0" in vals:
                    x0 = replace(x0, value=vals["X0"], error=errs.get("X0"))
                    y0 = replace(y0, value=vals["Y0"], error=errs.get("Y0"))
                    centre_done = True
            sets.append(ImfitFunctionSet(x0, y0, tuple(fns)))
        if i != len(comps):
            raise ValueError(
                f"the scene has {len(comps)} components but {self.source} describes {i}"
            )
        return replace(self, function_sets=tuple(sets))

    # ------------------------------------------------------------------- writing
    def to_text(self, header_lines=(), with_options: bool = False) -> str:
        """The model in Imfit's format (``value # +/- error`` where errors are known).

        ``header_lines`` are written first as ``# `` comments (e.g. the fit statistic).
        Limits and ``fixed`` flags are written where there is no error column, as in
        an input configuration; with errors the layout of Imfit's best-fit file is used.
        """
        out = [f"# {h}" if h else "" for h in header_lines]
        if header_lines:
            out.append("")
        if with_options:
            for k, v in self.options.items():
                out.append(f"{k}\t{_num(v)}")
            if self.options:
                out.append("")
        for fs in self.function_sets:
            out.append(_param_line(fs.x0, pos=True))
            out.append(_param_line(fs.y0, pos=True))
            for fn in fs.functions:
                label = f"\t# LABEL {fn.label}" if fn.label else ""
                out.append(f"FUNCTION {fn.name}{label}")
                out.extend(_param_line(p) for p in fn.params)
            out.append("")
        return "\n".join(out)

    def write(self, path, header_lines=(), with_options: bool = False) -> Path:
        """Write :meth:`to_text` to ``path``; returns the path."""
        path = Path(path)
        path.write_text(self.to_text(header_lines, with_options))
        return path


# ---------------------------------------------------------------------- parsing
_LABEL_RE = re.compile(r"#\s*LABEL\s+(.*)$")


def read_imfit_config(path, check_limits: bool = True) -> ImfitModel:
    """Read an Imfit configuration file.

    Raises
    ------
    ValueError
        With the file name, line number and what is wrong (unknown function, malformed
        or inconsistent limits, missing values or parameters, X0 without Y0, ...).
    """
    path = Path(path)
    try:
        text = path.read_text()
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    return parse_imfit_config(text, source=str(path), check_limits=check_limits)


def parse_imfit_config(
    text: str, source: str = "<string>", check_limits: bool = True
) -> ImfitModel:
    """Parse the text of an Imfit configuration file (see :func:`read_imfit_config`).

    ``check_limits=False`` accepts starting values outside their limits (makeimage
    ignores limits).
    """
    options: dict = {}
    sets: list[ImfitFunctionSet] = []
    x0 = y0 = None
    fns: list[ImfitFunction] = []
    cur = None  # (name, label, expected, params, lineno)

    def err(lineno, msg):
        return ValueError(f"{source}, line {lineno}: {msg}")

    def close_function(lineno):
        nonlocal cur
        if cur is None:
            return
        name, label, expected, params, fline = cur
        if len(params) < len(expected):
            missing = ", ".join(expected[len(params) :])
            raise err(fline, f"function {name} is missing parameter(s) {missing}")
        fns.append(ImfitFunction(name, tuple(params), label))
        cur = None

    def close_set(lineno):
        nonlocal x0, y0, fns
        close_function(lineno)
        if x0 is not None:
            if not fns:
                raise err(lineno, "function set (X0, Y0) has no FUNCTION")
            sets.append(ImfitFunctionSet(x0, y0, tuple(fns)))
        x0 = y0 = None
        fns = []

    lines = text.splitlines()
    pending_x0 = None
    for lineno, raw in enumerate(lines, 1):
        label_m = _LABEL_RE.search(raw)
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        tok = line.split()
        key = tok[0]
        if pending_x0 is not None and key != "Y0":
            raise err(pending_x0, "X0 is not followed by Y0 (every function set needs both)")
        if key in HEADER_KEYWORDS:
            if sets or x0 is not None or pending_x0 is not None:
                raise err(lineno, f"{key} must come before the first function set")
            if len(tok) != 2:
                raise err(lineno, f"{key} needs exactly one value, got {len(tok) - 1}")
            options[key] = _float(tok[1], lineno, key, err)
        elif key == "X0":
            close_set(lineno)
            x0 = _parse_param(tok, lineno, err, check_limits)
            pending_x0 = lineno
        elif key == "Y0":
            if pending_x0 is None:
                raise err(lineno, "Y0 without a preceding X0")
            y0 = _parse_param(tok, lineno, err, check_limits)
            pending_x0 = None
        elif key == "FUNCTION":
            if x0 is None:
                raise err(lineno, "FUNCTION before any X0, Y0 (each function set starts with them)")
            close_function(lineno)
            if len(tok) != 2:
                raise err(lineno, "FUNCTION needs exactly one function name")
            name = tok[1]
            if name not in IMFIT_FUNCTIONS:
                raise err(
                    lineno,
                    f"unknown or unsupported function {name!r}; scenefit implements "
                    + ", ".join(IMFIT_FUNCTIONS),
                )
            label = label_m.group(1).strip() if label_m else None
            cur = (name, label or None, IMFIT_FUNCTIONS[name], [], lineno)
        else:
            if key.upper() in HEADER_KEYWORDS and key not in HEADER_KEYWORDS:
                raise err(lineno, f"keyword {key!r} must be upper case ({key.upper()})")
            if cur is None:
                if x0 is None:
                    raise err(
                        lineno,
                        f"unknown keyword {key!r} (expected one of "
                        f"{', '.join(HEADER_KEYWORDS)}, X0 or FUNCTION)",
                    )
                raise err(lineno, f"parameter {key!r} before any FUNCTION line")
            name, label, expected, params, fline = cur
            if len(params) >= len(expected):
                raise err(
                    lineno,
                    f"function {name} has no further parameter, got {key!r} "
                    f"(its parameters are {', '.join(expected)})",
                )
            # Imfit matches parameters by position, not by name (FlatSky's I_sky is
            # sometimes written I_0); the canonical name is stored
            param = _parse_param(tok, lineno, err, check_limits)
            params.append(replace(param, name=expected[len(params)]))
    if pending_x0 is not None:
        raise err(pending_x0, "X0 is not followed by Y0 (every function set needs both)")
    close_set(len(lines))
    if not sets:
        raise ValueError(f"{source}: no function set found (need X0, Y0 and a FUNCTION line)")
    return ImfitModel(options, tuple(sets), source)


def _float(s, lineno, name, err):
    try:
        v = float(s)
    except ValueError:
        raise err(lineno, f"{name}: {s!r} is not a number") from None
    if not math.isfinite(v):
        raise err(lineno, f"{name}: value {s!r} is not finite")
    return v


def _parse_param(tok, lineno, err, check_limits=True) -> ImfitParam:
    name = tok[0]
    if len(tok) < 2:
        raise err(lineno, f"parameter {name} has no value")
    value = _float(tok[1], lineno, name, err)
    if len(tok) == 2:
        return ImfitParam(name, value)
    if len(tok) > 3:
        raise err(
            lineno,
            f"parameter {name}: unexpected text {' '.join(tok[3:])!r} after the "
            "limits (expected 'NAME value [lo,hi | fixed]')",
        )
    lim = tok[2]
    if lim == "fixed":
        return ImfitParam(name, value, fixed=True)
    parts = lim.split(",")
    if len(parts) != 2:
        raise err(
            lineno, f"parameter {name}: malformed limits {lim!r} (expected 'lo,hi' or 'fixed')"
        )
    lo = _float(parts[0], lineno, f"{name} lower limit", err)
    hi = _float(parts[1], lineno, f"{name} upper limit", err)
    if lo == hi:
        raise err(
            lineno,
            f"parameter {name}: lower and upper limits are equal ({lo:g}); use 'fixed' to hold it",
        )
    if lo > hi:
        raise err(lineno, f"parameter {name}: limits are out of order ({lo:g} > {hi:g})")
    if check_limits and not lo <= value <= hi:
        raise err(
            lineno,
            f"parameter {name}: initial value {value:g} is outside its limits [{lo:g}, {hi:g}]",
        )
    return ImfitParam(name, value, lo=lo, hi=hi)


# ------------------------------------------------------------------- conversion
_DEFAULT_NAMES = {
    "Sersic": "sersic",
    "Exponential": "exponential",
    "Sersic_GenEllipse": "sersic_genellipse",
    "Exponential_GenEllipse": "exponential_genellipse",
    "Gaussian": "gaussian",
    "Moffat": "moffat",
    "EdgeOnDisk": "edge_on_disk",
    "Core-Sersic": "core_sersic",
    "BrokenExponential": "broken_exponential",
    "FerrersBar2D": "ferrers_bar",
    "GaussianRing": "gaussian_ring",
    "ModifiedKing": "king",
    "PointSource": "point",
    "FlatSky": "flat_sky",
    "TiltedSkyPlane": "tilted_sky",
}


def _label_name(label):
    if not label:
        return None
    return re.sub(r"[^A-Za-z0-9_\-]+", "_", label.strip()).strip("_") or None


def _unique(name, taken):
    out, k = name, 1
    while out in taken:
        out, k = f"{name}_{k}", k + 1
    taken.add(out)
    return out


@dataclass(frozen=True)
class _Geometry:
    """Pixel <-> tangent-plane map of a conformal cd: cd = scale * R(theta) * (flip)."""

    image: object
    scale: float
    sign: float  # +1 when PA turns the same way as Imfit's (det cd < 0, east left)
    offset: float  # scenefit PA = sign * imfit PA + offset (deg)
    shape: tuple

    @classmethod
    def of(cls, image):
        cd = np.asarray(image.cd, float)
        det = np.linalg.det(cd)
        scale = math.sqrt(abs(det))
        sign = 1.0 if det < 0 else -1.0
        # conformal: cd^T cd = scale^2 I
        if not np.allclose(cd.T @ cd, scale**2 * np.eye(2), rtol=1e-9, atol=1e-12 * scale**2):
            raise ValueError(
                "Imfit parameters convert exactly only for a conformal cd matrix (rotation, "
                f"flip, one pixel scale); this image has cd = {cd.tolist()}"
            )
        offset = _pa_sky(cd, 0.0)
        return cls(image, scale, sign, offset, image.shape)

    def pa_to_sky(self, pa):
        return self.sign * pa + self.offset

    def pa_from_sky(self, pa):
        return (pa - self.offset) * self.sign

    def xy_to_sky(self, x0, y0):
        xi, eta = self.image.pixel_to_sky(x0 - 1.0, y0 - 1.0)
        return float(xi), float(eta)

    def xy_from_sky(self, xi, eta):
        x, y = self.image.sky_to_pixel(xi, eta)
        return float(x) + 1.0, float(y) + 1.0


def _pa_sky(cd, pa_deg):
    t = math.radians(pa_deg)
    v = cd @ np.array([-math.sin(t), math.cos(t)])
    return math.degrees(math.atan2(v[0], v[1]))


def flux_factor(imfit_name: str, vals: dict, bn_rule: str = "exact") -> float:
    """Total flux / central (or r_e) surface brightness, sizes in pixels.

    ``vals`` holds the Imfit parameters (``ell``, ``n``, ``r_e``, ``h``, ``sigma``,
    ``fwhm``, ``beta``, ``c0``). Returns F / I in pixel^2. ``bn_rule``: Sersic b_n,
    ``"exact"`` (half-light) or ``"series"`` (Ciotti & Bertin 1999, Imfit's).
    ``EdgeOnDisk`` (``h``, ``n``, ``z_0``): F / L_0 = 2 pi h^2 V(n, z_0) in pixel^3, L_0
    the central luminosity density (mu(0, 0) = 2 h L_0; V the vertical integral,
    :func:`scenefit.models.edge_on_disk.vertical_integral`). ``Core-Sersic``,
    ``BrokenExponential``, ``FerrersBar2D``, ``GaussianRing`` and ``ModifiedKing``: from
    the law's own total (:func:`scenefit.io._imfit_laws.law_flux_factor`).
    """
    from ..models.sersic import bn_numpy

    if law_spec(imfit_name) is not None:
        return law_flux_factor(imfit_name, vals, bn_rule)
    if imfit_name.endswith("_GenEllipse"):
        c = vals["c0"] + 2.0
        area = math.exp(
            math.log(4.0 / math.pi) + 2.0 * math.lgamma(1.0 + 1.0 / c) - math.lgamma(1.0 + 2.0 / c)
        )
        return area * flux_factor(imfit_name[: -len("_GenEllipse")], vals, bn_rule)
    if imfit_name == "EdgeOnDisk":
        n, z0 = vals["n"], vals["z_0"]
        v = (
            2.0
            * math.sqrt(math.pi)
            * z0
            / n
            * math.exp(math.lgamma(1 / n) - math.lgamma(1 / n + 0.5))
        )
        return 2.0 * math.pi * vals["h"] ** 2 * v
    q = 1.0 - vals["ell"]
    if imfit_name == "Sersic":
        n, re_ = vals["n"], vals["r_e"]
        if bn_rule not in ("exact", "series"):
            raise ValueError(f"unknown b_n rule {bn_rule!r}; expected 'exact' or 'series'")
        b = float(bn_numpy(n, bn_rule))
        return 2 * math.pi * q * n * re_**2 * math.exp(b + math.lgamma(2 * n) - 2 * n * math.log(b))
    if imfit_name == "Exponential":
        return 2 * math.pi * q * vals["h"] ** 2
    if imfit_name == "Gaussian":
        return 2 * math.pi * q * vals["sigma"] ** 2
    if imfit_name == "Moffat":
        beta = vals["beta"]
        alpha = vals["fwhm"] / (2 * math.sqrt(2 ** (1 / beta) - 1))
        return math.pi * q * alpha**2 / (beta - 1)
    raise KeyError(imfit_name)


_SIZE = {
    "Sersic": "r_e",
    "Exponential": "h",
    "Gaussian": "sigma",
    "Moffat": "fwhm",
    "Sersic_GenEllipse": "r_e",
    "Exponential_GenEllipse": "h",
    "EdgeOnDisk": "h",
}
_AMP = {
    "Sersic": "I_e",
    "Exponential": "I_0",
    "Gaussian": "I_0",
    "Moffat": "I_0",
    "Sersic_GenEllipse": "I_e",
    "Exponential_GenEllipse": "I_0",
    "EdgeOnDisk": "L_0",
}
_SCENEFIT_SIZE = {"r_e": "r_e", "h": "h", "sigma": "sigma", "fwhm": "fwhm"}


def _P(p: ImfitParam, f=lambda v: v, decreasing=False):
    """Param from an Imfit parameter through a monotonic map ``f``."""
    from ..parameters import Param

    if p.fixed:
        return Param(f(p.value), fixed=True)
    if p.lo is None:
        return Param(f(p.value))
    a, b = f(p.lo), f(p.hi)
    lo, hi = (b, a) if decreasing or a > b else (a, b)
    return Param(f(p.value), lo=lo, hi=hi)


#: Imfit parameters that must be positive (sizes, indices, sharpness) and that may be 0
_POSITIVE = {"r_e", "h", "sigma", "fwhm", "z_0", "n", "r_b", "h1", "h2", "r_c", "r_t"}
_POSITIVE |= {"a_bar", "sigma_r", "alpha"}
_NON_NEGATIVE = {"R_ring", "r_break", "gamma"}


def _check_values(fn: ImfitFunction) -> None:
    """``ValueError`` for a value no profile can take (e.g. ``ell`` >= 1, ``r_e`` <= 0):
    rendering it would give a meaningless image, not an error."""
    where = f"FUNCTION {fn.name}" + (f" (LABEL {fn.label})" if fn.label else "")
    for p in fn.params:
        v = p.value
        if p.name == "ell" and not 0.0 <= v < 1.0:
            raise ValueError(f"{where}: ell = {v:g} must be in [0, 1)")
        ferrers_n = fn.name == "FerrersBar2D" and p.name == "n"  # n = 0: a flat bar
        if p.name in _POSITIVE and not ferrers_n and not v > 0.0:
            raise ValueError(f"{where}: {p.name} = {v:g} must be positive")
        if (p.name in _NON_NEGATIVE or ferrers_n) and not v >= 0.0:
            raise ValueError(f"{where}: {p.name} = {v:g} must not be negative")
        if fn.name == "Moffat" and p.name == "beta" and not v > 1.0:
            raise ValueError(f"{where}: beta = {v:g} must be above 1 (finite total flux)")
        if p.name == "c0" and not v > -2.0:
            raise ValueError(f"{where}: c0 = {v:g} must be above -2")


def _to_component(fn: ImfitFunction, fs: ImfitFunctionSet, geo: _Geometry, name: str, bn_rule):
    from .. import models
    from ..parameters import Param

    _check_values(fn)
    v = {p.name: p.value for p in fn.params}
    pr = {p.name: p for p in fn.params}
    notes = []
    kw = {"name": name}
    spec = law_spec(fn.name)
    profile = fn.name in _SIZE or spec is not None
    if profile or fn.name == "PointSource":
        xi, eta = geo.xy_to_sky(fs.x0.value, fs.y0.value)
        kw["x"], kw["y"] = _position_params(fs, geo, xi, eta)
    if profile:
        kw["pa"] = _P(pr["PA"], geo.pa_to_sky)
        if "ell" in pr:
            kw["q"] = _P(pr["ell"], lambda e: 1.0 - e)
        if spec is not None:
            kw.update(law_to_kwargs(fn.name, pr, geo.scale, _P))
        else:
            if "z_0" in pr:
                kw["z0"] = _P(pr["z_0"], lambda s: s * geo.scale)
            size = _SIZE[fn.name]
            kw[size] = _P(pr[size], lambda s: s * geo.scale)
            if "n" in pr:
                kw["n"] = _P(pr["n"])
            if "beta" in pr:
                kw["beta"] = _P(pr["beta"])
            if "c0" in pr:
                kw["c0"] = _P(pr["c0"])
        amp = pr[spec.amp if spec is not None else _AMP[fn.name]]
        fac = flux_factor(fn.name, v, bn_rule)
        shape_fixed = all(p.fixed for p in fn.params if p.name != amp.name)
        if amp.fixed:
            kw["flux"] = Param(amp.value * fac, fixed=True)
            if not shape_fixed:
                notes.append(
                    f"{name}: {amp.name} is fixed but the shape is free; scenefit fixes the "
                    "total flux instead"
                )
        elif amp.lo is None:
            kw["flux"] = Param(amp.value * fac)
        else:
            kw["flux"] = Param(amp.value * fac, lo=amp.lo * fac, hi=amp.hi * fac)
            if not shape_fixed:
                notes.append(
                    f"{name}: {amp.name} limits [{amp.lo:g}, {amp.hi:g}] are applied as flux "
                    "limits at the starting shape (the shape parameters are free)"
                )
        if spec is not None:
            return spec.cls()(**kw), notes
        cls = {
            "Sersic": models.Sersic,
            "Exponential": models.Exponential,
            "Gaussian": models.Gaussian,
            "Moffat": models.Moffat,
            "Sersic_GenEllipse": models.SersicGenEllipse,
            "Exponential_GenEllipse": models.ExponentialGenEllipse,
            "EdgeOnDisk": models.EdgeOnDisk,
        }[fn.name]
        return cls(**kw), notes
    if fn.name == "PointSource":
        return models.PointSource(flux=_P(pr["I_tot"]), **kw), notes
    if fn.name == "FlatSky":
        return models.FlatSky(name=name, sky=_P(pr["I_sky"])), notes
    if fn.name == "TiltedSkyPlane":
        return _tilted_to_component(pr, fs, geo, name, notes), notes
    raise KeyError(fn.name)  # pragma: no cover - the parser rejects unknown names


def _position_params(fs, geo, xi, eta):
    """x, y Params (tangent plane) with the X0/Y0 limits mapped through the cd."""
    from ..parameters import Param

    px, py = fs.x0, fs.y0
    cd = np.asarray(geo.image.cd)
    out = []
    for axis, val in ((0, xi), (1, eta)):
        fixed = px.fixed and py.fixed
        # the pixel axes that feed this sky axis
        uses_x, uses_y = abs(cd[axis, 0]) > 0, abs(cd[axis, 1]) > 0
        lim_x = px.lo is not None or not uses_x
        lim_y = py.lo is not None or not uses_y
        if fixed:
            out.append(Param(val, fixed=True))
            continue
        if lim_x and lim_y and (px.lo is not None or py.lo is not None):
            xs = (px.lo, px.hi) if px.lo is not None else (px.value, px.value)
            ys = (py.lo, py.hi) if py.lo is not None else (py.value, py.value)
            corners = [geo.xy_to_sky(a, b)[axis] for a in xs for b in ys]
            lo, hi = min(corners), max(corners)
            if lo < hi:
                out.append(Param(val, lo=lo, hi=hi))
                continue
        out.append(Param(val))
    return out


def _tilted_to_component(pr, fs, geo, name, notes):
    from ..models import TiltedSky
    from ..parameters import Param

    h, w = geo.shape
    # Imfit: I = I_0 + m_x (x - X0) + m_y (y - Y0), 1-based pixels; scenefit's TiltedSky
    # level is at the 0-based image centre ((w - 1) / 2, (h - 1) / 2)
    dx = (w - 1) / 2.0 - (fs.x0.value - 1.0)
    dy = (h - 1) / 2.0 - (fs.y0.value - 1.0)
    i0, mx, my = pr["I_0"], pr["m_x"], pr["m_y"]
    level = i0.value + mx.value * dx + my.value * dy
    if i0.fixed and mx.fixed and my.fixed:
        sky = Param(level, fixed=True)
    else:
        sky = Param(level)
        if i0.lo is not None:
            notes.append(f"{name}: I_0 limits are not applied (the level is re-referenced)")
    return TiltedSky(name=name, sky=sky, dsky_dx=_P(mx), dsky_dy=_P(my))


def _from_component(imfit_name, comp, geo, fs=None, bn_rule="exact") -> dict:
    out = {}
    if "x" in comp.param_names():
        out["X0"], out["Y0"] = geo.xy_from_sky(comp.x.value, comp.y.value)
    spec = law_spec(imfit_name)
    if spec is not None:
        out["PA"] = geo.pa_from_sky(comp.pa.value)
        out["ell"] = 1.0 - comp.q.value
        out.update(law_from_component(imfit_name, comp, geo.scale))
        out[spec.amp] = comp.flux.value / flux_factor(imfit_name, out, bn_rule)
    elif imfit_name in _SIZE:
        out["PA"] = geo.pa_from_sky(comp.pa.value)
        if "q" in comp.param_names():
            out["ell"] = 1.0 - comp.q.value
        size = _SIZE[imfit_name]
        out[size] = getattr(comp, size).value / geo.scale
        if imfit_name in ("Sersic", "Sersic_GenEllipse", "EdgeOnDisk"):
            out["n"] = comp.n.value
        if imfit_name == "EdgeOnDisk":
            out["z_0"] = comp.z0.value / geo.scale
        if imfit_name.endswith("_GenEllipse"):
            out["c0"] = comp.c0.value
        if imfit_name == "Moffat":
            out["beta"] = comp.beta.value
        out[_AMP[imfit_name]] = comp.flux.value / flux_factor(imfit_name, out, bn_rule)
    elif imfit_name == "PointSource":
        out["I_tot"] = comp.flux.value
    elif imfit_name == "FlatSky":
        out["I_sky"] = comp.sky.value
    elif imfit_name == "TiltedSkyPlane":
        h, w = geo.shape
        dx = (w - 1) / 2.0 - (fs.x0.value - 1.0)
        dy = (h - 1) / 2.0 - (fs.y0.value - 1.0)
        mx, my = comp.dsky_dx.value, comp.dsky_dy.value
        out.update(I_0=comp.sky.value - mx * dx - my * dy, m_x=mx, m_y=my)
    return out


def _num(v) -> str:
    return f"{v:.6g}" if isinstance(v, float) else str(v)


def _param_line(p: ImfitParam, pos: bool = False) -> str:
    # Imfit's layout: X0/Y0 with 4 decimals, other values %7g, errors 5 digits
    val = f"{p.value:.4f}" if pos and p.error is not None else f"{p.value:7g}"
    unit = _UNITS.get(p.name)
    if p.error is not None:
        err = f"{p.error:.4f}" if pos else f"{p.error:.5g}"
        line = f"{p.name}\t\t{val} # +/- {err}"
        return line + (f"\t{unit}" if unit else "")
    line = f"{p.name}\t{'' if pos else chr(9)}{p.value:.10g}"
    if p.fixed:
        line += "\t\tfixed"
    elif p.lo is not None:
        line += f"\t\t{p.lo:.10g},{p.hi:.10g}"
    return line + (f"\t\t# {unit}" if unit else "")


def result_to_imfit(result, template: ImfitModel) -> ImfitModel:
    """An :class:`ImfitModel` with the best-fit values and 1-sigma errors of ``result``.

    Errors of derived Imfit parameters (``I_e``, ``I_0`` from the total flux and the
    shape; positions and sizes through the pixel scale) are propagated from the fit's
    covariance to first order (numerical Jacobian of the conversion). Fixed parameters
    get error 0, as in Imfit's output.
    """
    scene, image = result.scene, result.image
    bn_rule = getattr(result.settings, "sersic_bn", None) or "exact"
    geo = _Geometry.of(image)
    free = {a: i for i, a in enumerate(result.free)}
    cov = np.asarray(result.covariance, float)

    def errors(comp, imfit_name):
        names = comp.param_names()
        addrs = [scene.leader_of(f"{comp.name}.{p}") for p in names]
        idx = [free.get(a) for a in addrs]
        c = np.zeros((len(names), len(names)))
        for i, a in enumerate(idx):
            for j, b in enumerate(idx):
                if a is not None and b is not None:
                    c[i, j] = cov[a, b]
        base = np.array([getattr(comp, p).value for p in names], float)
        fs = _set_of(template, comp, scene)
        f0 = _from_component(imfit_name, comp, geo, fs, bn_rule)
        keys = list(f0)
        jac = np.zeros((len(keys), len(names)))
        for k, p in enumerate(names):
            if idx[k] is None:
                continue
            h = 1e-6 * max(abs(base[k]), 1e-3)
            vals = []
            for sgn in (1.0, -1.0):
                cp = comp.replace(**{p: base[k] + sgn * h})
                vals.append(_from_component(imfit_name, cp, geo, fs, bn_rule))
            for m, key in enumerate(keys):
                d = vals[0][key] - vals[1][key]
                if key == "PA":
                    d = (d + 180.0) % 360.0 - 180.0
                jac[m, k] = d / (2 * h)
        with np.errstate(invalid="ignore"):
            var = np.einsum("ik,kl,il->i", jac, np.where(np.isfinite(c), c, 0.0), jac)
        inf = ~np.isfinite(np.diag(c))
        out = {}
        for m, key in enumerate(keys):
            e = math.sqrt(max(var[m], 0.0))
            if np.any(inf & (jac[m] != 0)):
                e = math.inf
            out[key] = e
        return out

    return template.with_scene(scene, image, errors, bn_rule)


def _set_of(template, comp, scene):
    i = scene.names.index(comp.name)
    k = 0
    for fs in template.function_sets:
        for _ in fs.functions:
            if k == i:
                return fs
            k += 1
    return None


def strip_limits(model: ImfitModel) -> ImfitModel:
    """A copy without limits (makeimage ignores them); ``fixed`` flags are kept."""

    def strip(p):
        return replace(p, lo=None, hi=None)

    sets = tuple(
        ImfitFunctionSet(
            strip(fs.x0),
            strip(fs.y0),
            tuple(replace(f, params=tuple(strip(p) for p in f.params)) for f in fs.functions),
        )
        for fs in model.function_sets
    )
    return replace(model, function_sets=sets)
