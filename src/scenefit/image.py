"""Image: one observation (pixels, uncertainties, mask, pixel <-> sky map, PSF).

Conventions
-----------
* Pixel coordinates are 0-based: the centre of the first pixel is (0, 0); x is the
  column, y the row.
* The tangent plane is in arcsec, xi increasing east and eta north. A pixel (x, y) maps to

      [xi, eta] = ref_sky + cd @ ([x, y] - crpix)

  with ``cd`` the 2x2 matrix in arcsec/pixel (FITS CD matrix times 3600) and ``crpix``
  0-based (FITS CRPIX minus 1).
* Images built from plain arrays default to ``cd = [[-s, 0], [0, s]]`` with ``s`` the
  pixel scale: north up, east left (the usual display of a FITS image), so a position
  angle east of north is counter-clockwise from +y, as in Imfit and GALFIT. The
  reference pixel defaults to the image centre and maps to (0, 0).
* With a SIP distortion (:class:`~scenefit.sip.SIP`, read from FITS ``-SIP`` headers)
  the affine map acts on the undistorted pixel: ``[xi, eta] = ref_sky + cd @
  (sip.distort(x, y) - crpix)``; pixel areas then vary (:meth:`Image.pixel_areas`).
* ``mask`` is True where a pixel is excluded. NaN data pixels are masked automatically.
"""

from __future__ import annotations

import warnings

import numpy as np

from .cmos import CMOS
from .psf import PixelPSF
from .sip import SIP

__all__ = ["Image"]


def _readonly(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


class Image:
    """One observed image.

    Parameters
    ----------
    data : array_like (H, W)
        Pixel values (image units). NaN pixels are masked.
    sigma, variance, invvar : array_like (H, W) or float, optional
        The per-pixel uncertainty; give at most one. Masked pixels may hold anything;
        unmasked ones must be positive and finite (``invvar`` may be 0, which masks
        the pixel). With none, every pixel has unit weight.
    mask : array_like (H, W) of bool, optional
        True (non-zero) where a pixel is bad.
    pixel_scale : float
        Arcsec per pixel, used when ``cd`` is not given.
    cd : array_like (2, 2), optional
        Pixel -> tangent-plane Jacobian in arcsec/pixel (any rotation, flip, skew).
    crpix : (float, float), optional
        0-based (x, y) of the reference pixel; default the image centre.
    ref_sky : (float, float)
        Tangent-plane (xi, eta) of the reference pixel in arcsec; default (0, 0).
    psf : array_like or PixelPSF, optional
        The PSF; arrays are normalised (see :mod:`scenefit.psf`).
    psf_oversampling : int
        Oversampling of an array ``psf`` (ignored for a PixelPSF).
    zeropoint : float, optional
        Magnitude zero point: m = zeropoint - 2.5 log10(flux).
    band : str, optional
        Band label.
    gain : float
        Detected counts per image unit (used by the Poisson likelihood).
    wcs : astropy.wcs.WCS, optional
        Celestial WCS, kept for reporting sky coordinates.
    cmos : CMOS, optional
        Only a sub-square of each pixel is sensitive (:class:`~scenefit.cmos.CMOS`);
        the renderer integrates over it instead of the whole pixel.
    sip : SIP, optional
        SIP distortion applied before the affine map (:mod:`scenefit.sip`);
        :meth:`from_fits` and :meth:`from_nddata` read it from the WCS.

    Examples
    --------
    >>> import numpy as np
    >>> img = Image(np.zeros((4, 5)), sigma=1.0, pixel_scale=0.2)
    >>> img.shape
    (4, 5)
    >>> [float(v) for v in img.pixel_to_sky(2.0, 1.5)]
    [0.0, 0.0]
    """

    __slots__ = (
        "data",
        "invvar",
        "mask",
        "cd",
        "crpix",
        "ref_sky",
        "psf",
        "zeropoint",
        "band",
        "gain",
        "wcs",
        "cmos",
        "sip",
    )

    def __init__(
        self,
        data,
        *,
        sigma=None,
        variance=None,
        invvar=None,
        mask=None,
        pixel_scale: float = 1.0,
        cd=None,
        crpix=None,
        ref_sky=(0.0, 0.0),
        psf=None,
        psf_oversampling: int = 1,
        zeropoint: float | None = None,
        band: str | None = None,
        gain: float = 1.0,
        wcs=None,
        cmos: CMOS | None = None,
        sip: SIP | None = None,
    ):
        d = _as_float_array(data, "data")
        if d.ndim != 2 or d.size == 0:
            raise ValueError(f"image data must be a non-empty 2-D array, got shape {d.shape}")
        shape = d.shape
        m = np.zeros(shape, bool) if mask is None else np.array(mask, copy=True)
        if m.shape != shape:
            raise ValueError(f"mask shape {m.shape} does not match data shape {shape}")
        m = m.astype(bool) | ~np.isfinite(d)
        w = _weights(shape, m, sigma, variance, invvar)
        m = m | (w == 0)
        if m.all():
            raise ValueError(
                "every pixel of the image is masked (mask, NaN data or zero weight); "
                "nothing is left to fit"
            )
        d[m] = 0.0
        w[m] = 0.0

        if cd is None:
            if not (np.isfinite(pixel_scale) and pixel_scale > 0):
                raise ValueError(f"pixel_scale must be positive and finite, got {pixel_scale!r}")
            cd = [[-pixel_scale, 0.0], [0.0, pixel_scale]]
        try:
            cdm = np.array(cd, dtype=float)
        except (TypeError, ValueError):
            raise ValueError(f"cd must be a 2x2 matrix of numbers, got {cd!r}") from None
        if cdm.shape != (2, 2) or not np.all(np.isfinite(cdm)) or abs(np.linalg.det(cdm)) == 0:
            raise ValueError(f"cd must be a finite, invertible 2x2 matrix, got {cd!r}")
        if crpix is None:
            crpix = ((shape[1] - 1) / 2.0, (shape[0] - 1) / 2.0)
        cp = np.array(crpix, dtype=float)
        rs = np.array(ref_sky, dtype=float)
        if cp.shape != (2,) or rs.shape != (2,) or not np.all(np.isfinite(np.r_[cp, rs])):
            raise ValueError("crpix and ref_sky must be two finite numbers each")

        if psf is not None and not isinstance(psf, PixelPSF):
            psf = PixelPSF(psf, psf_oversampling)
        if not (np.isfinite(gain) and gain > 0):
            raise ValueError(f"gain must be positive and finite, got {gain!r}")
        if cmos is not None and not isinstance(cmos, CMOS):
            raise TypeError(
                f"cmos must be a scenefit.cmos.CMOS (e.g. CMOS(size=0.6, offset=(0, 0))), "
                f"got {type(cmos).__name__}"
            )

        s = object.__setattr__
        s(self, "data", _readonly(d))
        s(self, "invvar", _readonly(w))
        s(self, "mask", _readonly(m))
        s(self, "cd", _readonly(cdm))
        s(self, "crpix", _readonly(cp))
        s(self, "ref_sky", _readonly(rs))
        s(self, "psf", psf)
        s(self, "zeropoint", None if zeropoint is None else float(zeropoint))
        s(self, "band", band)
        s(self, "gain", float(gain))
        s(self, "wcs", wcs)
        s(self, "cmos", cmos)
        if sip is not None and not isinstance(sip, SIP):
            raise TypeError(f"sip must be a scenefit.sip.SIP, got {type(sip).__name__}")
        s(self, "sip", sip)

    def __setattr__(self, name, value):
        raise AttributeError("Image is immutable; use Image.replace(...) for a modified copy")

    # ----------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, int]:
        """(rows, columns)."""
        return self.data.shape

    @property
    def sigma(self) -> np.ndarray:
        """Per-pixel 1-sigma uncertainty (inf where masked)."""
        with np.errstate(divide="ignore"):
            return np.where(self.invvar > 0, 1.0 / np.sqrt(self.invvar), np.inf)

    def pixel_areas(self) -> np.ndarray:
        """Tangent-plane area of every pixel, arcsec^2 (H, W): |det cd| times the
        integral of the SIP Jacobian determinant over the pixel (exact for the
        polynomial); |det cd| everywhere without SIP."""
        if self.sip is None:
            return np.full(self.shape, self.pixel_area)
        return self.pixel_area * self.sip.pixel_areas(self.shape)

    @property
    def pixel_area(self) -> float:
        """Pixel area in arcsec^2 (|det cd|; at the SIP origin with a distortion)."""
        return float(abs(np.linalg.det(self.cd)))

    @property
    def pixel_scale(self) -> float:
        """Geometric-mean pixel scale, arcsec/pixel."""
        return float(np.sqrt(self.pixel_area))

    @property
    def n_valid(self) -> int:
        """Number of unmasked pixels."""
        return int((~self.mask).sum())

    # ------------------------------------------------------------- coordinates
    def pixel_to_sky(self, x, y):
        """Tangent-plane (xi, eta) in arcsec of 0-based pixel coordinates (x, y)."""
        x, y = np.asarray(x, float), np.asarray(y, float)
        if self.sip is not None:
            x, y = self.sip.distort(x, y)
        dx, dy = x - self.crpix[0], y - self.crpix[1]
        xi = self.ref_sky[0] + self.cd[0, 0] * dx + self.cd[0, 1] * dy
        eta = self.ref_sky[1] + self.cd[1, 0] * dx + self.cd[1, 1] * dy
        return xi, eta

    def sky_to_pixel(self, xi, eta):
        """0-based pixel (x, y) of tangent-plane coordinates (xi, eta) in arcsec."""
        inv = np.linalg.inv(self.cd)
        a = np.asarray(xi, float) - self.ref_sky[0]
        b = np.asarray(eta, float) - self.ref_sky[1]
        x = self.crpix[0] + inv[0, 0] * a + inv[0, 1] * b
        y = self.crpix[1] + inv[1, 0] * a + inv[1, 1] * b
        if self.sip is not None:
            x, y = self.sip.undistort(x, y, newton=6)
        return x, y

    # ------------------------------------------------------------------ copies
    def replace(self, **changes) -> Image:
        """A copy with some constructor arguments replaced (e.g. ``data=...``)."""
        kw = dict(
            data=self.data,
            invvar=self.invvar,
            mask=self.mask,
            cd=self.cd,
            crpix=self.crpix,
            ref_sky=self.ref_sky,
            psf=self.psf,
            zeropoint=self.zeropoint,
            band=self.band,
            gain=self.gain,
            wcs=self.wcs,
            cmos=self.cmos,
            sip=self.sip,
        )
        if {"sigma", "variance"} & changes.keys():
            kw.pop("invvar")
        kw.update(changes)
        return Image(**kw)

    def cutout(self, rows, cols) -> Image:
        """The sub-image ``data[rows, cols]`` with the same sky geometry, PSF and
        calibration (``rows``, ``cols``: ``slice`` objects with unit step, 0-based).

        Raises
        ------
        ValueError
            If the slices are empty, strided or fall outside the image, or every pixel
            of the cutout is masked.
        """
        (h, w) = self.shape
        r0, r1, rs = rows.indices(h)
        c0, c1, cs = cols.indices(w)
        if rs != 1 or cs != 1 or r1 <= r0 or c1 <= c0:
            raise ValueError(f"cutout rows {rows} and cols {cols} must be non-empty, unit step")
        sl = (slice(r0, r1), slice(c0, c1))
        wcs = None
        if self.wcs is not None:
            try:
                wcs = self.wcs[sl]
            except Exception:  # noqa: BLE001 - a WCS astropy cannot slice: drop it
                wcs = None
        return self.replace(
            data=self.data[sl],
            invvar=self.invvar[sl],
            mask=self.mask[sl],
            crpix=self.crpix - np.array([c0, r0], dtype=float),
            wcs=wcs,
            sip=None if self.sip is None else self.sip.shifted(-c0, -r0),
        )

    def __repr__(self) -> str:
        psf = "none" if self.psf is None else f"{self.psf.shape}x{self.psf.oversampling}"
        return (
            f'Image(shape={self.shape}, scale={self.pixel_scale:.4g}"/px, '
            f"masked={int(self.mask.sum())}, psf={psf}, band={self.band!r}, "
            f"zeropoint={self.zeropoint}"
            + ("" if self.cmos is None else f", cmos={self.cmos!r}")
            + ("" if self.sip is None else f", sip={self.sip!r}")
            + ")"
        )

    # ------------------------------------------------------------ constructors
    @classmethod
    def from_nddata(cls, nd, **kwargs) -> Image:
        """Build from an astropy ``NDData`` / ``CCDData``.

        Uses its ``uncertainty`` (StdDev, Variance or InverseVariance), ``mask``,
        ``psf`` and celestial ``wcs``. Keyword arguments override or complete these.
        """
        from astropy.nddata import (
            InverseVariance,
            StdDevUncertainty,
            VarianceUncertainty,
        )

        kw = {}
        unc = nd.uncertainty
        if unc is not None:
            arr = np.asarray(unc.array, float)
            if isinstance(unc, StdDevUncertainty):
                kw["sigma"] = arr
            elif isinstance(unc, VarianceUncertainty):
                kw["variance"] = arr
            elif isinstance(unc, InverseVariance):
                kw["invvar"] = arr
            else:
                raise TypeError(
                    f"unsupported uncertainty type {type(unc).__name__}; use StdDev, "
                    "Variance or InverseVariance"
                )
        if nd.mask is not None:
            kw["mask"] = np.asarray(nd.mask)
        if getattr(nd, "psf", None) is not None:
            kw["psf"] = np.asarray(nd.psf)
        if nd.wcs is not None:
            kw.update(_wcs_kwargs(nd.wcs, np.shape(nd.data)))
        kw.update(kwargs)
        return cls(np.asarray(nd.data, float), **kw)

    @classmethod
    def from_fits(cls, path, hdu=0, **kwargs) -> Image:
        """Build from a FITS file; the WCS (if celestial) is read with astropy.

        Parameters
        ----------
        path : str or Path
        hdu : int or str
            The HDU holding the image.
        **kwargs
            Passed to :class:`Image` (``sigma=``, ``psf=``, ...); arrays only.
        """
        from astropy.io import fits

        with fits.open(path) as hdul:
            try:
                h = hdul[hdu]
            except (IndexError, KeyError):
                raise ValueError(f"{path}: no HDU {hdu!r} (file has {len(hdul)})") from None
            if h.data is None or np.ndim(h.data) != 2:
                raise ValueError(
                    f"{path}[{hdu}]: expected a 2-D image, got "
                    f"{None if h.data is None else np.shape(h.data)}"
                )
            data = np.array(h.data, dtype=float)
            header = h.header.copy()
        kw = {}
        wcs = _header_wcs(header, path)
        if wcs is not None:
            kw.update(_wcs_kwargs(wcs, data.shape))
        if "zeropoint" not in kwargs:
            for key in ("MAGZERO", "MAGZP", "ZEROPT", "ZP"):
                if key in header:
                    kw["zeropoint"] = float(header[key])
                    break
        kw.update(kwargs)
        return cls(data, **kw)


def _as_float_array(value, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=float, copy=True)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name} must be an array of numbers, got {type(value).__name__}"
        ) from None


def _weights(shape, mask, sigma, variance, invvar) -> np.ndarray:
    given = [(n, v) for n, v in (("sigma", sigma), ("variance", variance), ("invvar", invvar))]
    given = [(n, v) for n, v in given if v is not None]
    if len(given) > 1:
        raise ValueError(
            f"give at most one of sigma, variance, invvar (got {', '.join(n for n, _ in given)})"
        )
    if not given:
        return np.ones(shape)
    name, val = given[0]
    arr = _as_float_array(val, name)
    if arr.ndim == 0:
        arr = np.broadcast_to(arr, shape)
    else:
        if arr.shape != shape:
            raise ValueError(f"{name} shape {arr.shape} does not match data shape {shape}")
    good = ~mask
    bad_nan = good & ~np.isfinite(arr)
    if name == "invvar":
        bad_val = good & np.isfinite(arr) & (arr < 0)
        what = "negative"
    else:
        bad_val = good & np.isfinite(arr) & (arr <= 0)
        what = "zero or negative"
    if bad_nan.any() or bad_val.any():
        raise ValueError(
            f"{name} map has {int(bad_nan.sum())} NaN/inf and {int(bad_val.sum())} {what} "
            "values at unmasked pixels; mask those pixels or fix the map"
        )
    with np.errstate(divide="ignore", invalid="ignore"):
        if name == "sigma":
            w = 1.0 / arr**2
        elif name == "variance":
            w = 1.0 / arr
        else:
            w = arr.copy()
    w = np.where(good & np.isfinite(w), w, 0.0)
    return np.array(w, dtype=float)


def _header_wcs(header, path):
    from astropy.wcs import WCS, FITSFixedWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FITSFixedWarning)
        try:
            wcs = WCS(header, naxis=2)
        except Exception as exc:  # astropy raises many types for malformed headers
            raise ValueError(f"{path}: cannot read its WCS ({exc})") from None
    return wcs if wcs.has_celestial else None


def _wcs_kwargs(wcs, shape=None) -> dict:
    """Tangent-plane map (cd, crpix, ref_sky and SIP) of a celestial astropy WCS."""
    cel = wcs.celestial
    sip = SIP.from_wcs(wcs, shape)
    cd = np.asarray(cel.pixel_scale_matrix, float) * 3600.0  # deg -> arcsec
    if not np.all(np.isfinite(cd)) or np.linalg.det(cd) == 0:
        raise ValueError("the WCS has a singular or non-finite CD/PC matrix")
    return {
        "cd": cd,
        "crpix": np.asarray(cel.wcs.crpix, float) - 1.0,
        "ref_sky": (0.0, 0.0),
        "wcs": wcs if sip is not None else cel,
        "sip": sip,
    }
