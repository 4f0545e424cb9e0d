"""SIP distortion: a polynomial pixel -> pixel map before an image's affine map.

Conventions (Shupe et al. 2005, the FITS ``-SIP`` convention)
-------------------------------------------------------------
With ``(u, v) = (x, y) - origin`` (0-based pixels; ``origin`` is FITS CRPIX minus 1),

    u' = u + sum_{p,q} A_pq u^p v^q,     v' = v + sum_{p,q} B_pq u^p v^q,

for 2 <= p + q <= order, and the image's affine map acts on the *undistorted* pixel
``(x', y') = origin + (u', v')``: ``[xi, eta] = ref_sky + cd @ ([x', y'] - crpix)``.
``AP``/``BP`` are the inverse polynomials, ``u = U + sum AP_pq U^p V^q`` with
``U = u'``; when a header has none they are fitted (least squares over the image,
order + 1). The inverse is then polished by Newton steps on the forward map, so
:meth:`SIP.undistort` inverts :meth:`SIP.distort` to rounding.

Every function takes NumPy or JAX arrays (``xp``), so the renderer uses the same code.
A pixel's tangent-plane area is ``|det cd| * int_pixel |det J| dx dy`` with J the
Jacobian of (x, y) -> (x', y'); :meth:`SIP.pixel_areas` integrates it exactly (Gauss-
Legendre of enough order for the polynomial).
"""

from __future__ import annotations

import numpy as np

__all__ = ["SIP", "to_wcs"]


def _poly(c, u, v, xp):
    """sum_pq c[p, q] u^p v^q (c square, (n, n))."""
    n = c.shape[0]
    out = xp.zeros_like(u + v)
    vq = [xp.ones_like(v)]
    for _ in range(1, n):
        vq.append(vq[-1] * v)
    up = xp.ones_like(u)
    for p in range(n):
        for q in range(n - p):
            out = out + c[p, q] * up * vq[q]
        up = up * u
    return out


def _poly_grad(c, u, v, xp):
    """(d/du, d/dv) of :func:`_poly`."""
    n = c.shape[0]
    du = xp.zeros_like(u + v)
    dv = xp.zeros_like(u + v)
    for p in range(n):
        for q in range(n - p):
            if p:
                du = du + p * c[p, q] * u ** (p - 1) * v**q
            if q:
                dv = dv + q * c[p, q] * u**p * v ** (q - 1)
    return du, dv


class SIP:
    """SIP distortion polynomials of an image.

    Parameters
    ----------
    a, b : array_like (n, n)
        ``A_pq`` and ``B_pq`` (``a[p, q]`` multiplies u^p v^q), pixels.
    origin : (float, float)
        0-based pixel (x, y) where u = v = 0 (FITS CRPIX - 1).
    ap, bp : array_like (m, m), optional
        Inverse polynomials; fitted over ``shape`` when not given.
    shape : (int, int), optional
        (rows, columns) of the image, needed to fit a missing inverse.

    Examples
    --------
    >>> a = np.zeros((3, 3)); a[2, 0] = 1e-5
    >>> sip = SIP(a, np.zeros((3, 3)), (50.0, 50.0), shape=(100, 100))
    >>> x, y = sip.distort(np.array([90.0]), np.array([50.0]))
    >>> round(float(x[0]), 6)
    90.016
    >>> [round(float(v[0]), 9) for v in sip.undistort(x, y)]
    [90.0, 50.0]
    """

    __slots__ = ("a", "b", "ap", "bp", "origin")

    def __init__(self, a, b, origin, ap=None, bp=None, shape=None):
        a, b = (np.array(c, dtype=float) for c in (a, b))
        if a.ndim != 2 or a.shape[0] != a.shape[1] or a.shape != b.shape:
            raise ValueError(
                f"SIP A and B must be square and of one shape, got {a.shape}, {b.shape}"
            )
        if not (np.all(np.isfinite(a)) and np.all(np.isfinite(b))):
            raise ValueError("SIP A/B coefficients must be finite")
        org = np.array(origin, dtype=float)
        if org.shape != (2,) or not np.all(np.isfinite(org)):
            raise ValueError(f"SIP origin must be two finite numbers, got {origin!r}")
        s = object.__setattr__
        s(self, "a", a)
        s(self, "b", b)
        s(self, "origin", org)
        if ap is None or bp is None:
            if shape is None:
                raise ValueError("a SIP without AP/BP needs the image shape to fit its inverse")
            ap, bp = self._fit_inverse(shape)
        ap, bp = (np.array(c, dtype=float) for c in (ap, bp))
        if ap.ndim != 2 or ap.shape[0] != ap.shape[1] or ap.shape != bp.shape:
            raise ValueError(f"SIP AP and BP must be square and of one shape, got {ap.shape}")
        s(self, "ap", ap)
        s(self, "bp", bp)
        for c in (self.a, self.b, self.ap, self.bp, self.origin):
            c.setflags(write=False)

    def __setattr__(self, name, value):
        raise AttributeError("SIP is immutable")

    @property
    def order(self) -> int:
        return self.a.shape[0] - 1

    # ----------------------------------------------------------------- maps
    def distort(self, x, y, xp=np):
        """Undistorted pixel (x', y') of 0-based pixel (x, y)."""
        u, v = x - self.origin[0], y - self.origin[1]
        return x + _poly(self.a, u, v, xp), y + _poly(self.b, u, v, xp)

    def jacobian_det(self, x, y, xp=np):
        """det d(x', y') / d(x, y) (dimensionless; the local pixel-area factor)."""
        u, v = x - self.origin[0], y - self.origin[1]
        au, av = _poly_grad(self.a, u, v, xp)
        bu, bv = _poly_grad(self.b, u, v, xp)
        return (1.0 + au) * (1.0 + bv) - av * bu

    def undistort(self, xd, yd, xp=np, newton: int = 3):
        """Pixel (x, y) of undistorted pixel (x', y'): AP/BP, then ``newton`` Newton
        steps on :meth:`distort`."""
        uu, vv = xd - self.origin[0], yd - self.origin[1]
        x = xd + _poly(self.ap, uu, vv, xp)
        y = yd + _poly(self.bp, uu, vv, xp)
        for _ in range(newton):
            fx, fy = SIP.distort(self, x, y, xp)
            u, v = x - self.origin[0], y - self.origin[1]
            au, av = _poly_grad(self.a, u, v, xp)
            bu, bv = _poly_grad(self.b, u, v, xp)
            j11, j12, j21, j22 = 1.0 + au, av, bu, 1.0 + bv
            det = j11 * j22 - j12 * j21
            rx, ry = xd - fx, yd - fy
            x = x + (j22 * rx - j12 * ry) / det
            y = y + (j11 * ry - j21 * rx) / det
        return x, y

    def pixel_areas(self, shape) -> np.ndarray:
        """Integral of |det J| over every pixel, (H, W) (multiply by |det cd| for
        arcsec^2); exact for the polynomial (Gauss-Legendre, order + 1 nodes)."""
        h, w = shape
        t, wt = np.polynomial.legendre.leggauss(self.order + 1)
        t, wt = 0.5 * t, 0.5 * wt
        x = np.arange(w)[None, :, None, None] + t[None, None, None, :]
        y = np.arange(h)[:, None, None, None] + t[None, None, :, None]
        det = np.abs(self.jacobian_det(x, y))
        return np.einsum("hwij,i,j->hw", det, wt, wt)

    def _fit_inverse(self, shape):
        """AP/BP of order + 1 fitted on a 40 x 40 grid over the image (and 5% beyond)."""
        h, w = shape
        n = self.order + 2
        xs = np.linspace(-0.05 * w, 1.05 * w, 40)
        ys = np.linspace(-0.05 * h, 1.05 * h, 40)
        x, y = (g.ravel() for g in np.meshgrid(xs, ys))
        xd, yd = self.distort(x, y)
        uu, vv = xd - self.origin[0], yd - self.origin[1]
        terms = [(p, q) for p in range(n) for q in range(n - p)]
        design = np.stack([uu**p * vv**q for p, q in terms], axis=1)
        cx, *_ = np.linalg.lstsq(design, x - xd, rcond=None)
        cy, *_ = np.linalg.lstsq(design, y - yd, rcond=None)
        ap, bp = np.zeros((n, n)), np.zeros((n, n))
        for (p, q), ca, cb in zip(terms, cx, cy, strict=True):
            ap[p, q], bp[p, q] = ca, cb
        return ap, bp

    def shifted(self, dx: float, dy: float) -> SIP:
        """The same distortion on pixel coordinates moved by (dx, dy) (a cutout)."""
        return SIP(self.a, self.b, self.origin + np.array([dx, dy]), self.ap, self.bp)

    # ------------------------------------------------------------------ I/O
    @classmethod
    def from_wcs(cls, wcs, shape=None) -> SIP | None:
        """The SIP of an astropy WCS (None without one)."""
        sip = getattr(wcs, "sip", None)
        if sip is None:
            return None
        origin = np.asarray(sip.crpix, float) - 1.0
        return cls(sip.a, sip.b, origin, sip.ap, sip.bp, shape=shape)

    def header_cards(self) -> dict:
        """``A_ORDER``, ``A_p_q``, ``B_...``, ``AP_...``, ``BP_...`` FITS keywords."""
        cards = {}
        for name, c in (("A", self.a), ("B", self.b), ("AP", self.ap), ("BP", self.bp)):
            n = c.shape[0]
            cards[f"{name}_ORDER"] = n - 1
            for p in range(n):
                for q in range(n - p):
                    if c[p, q] != 0.0:
                        cards[f"{name}_{p}_{q}"] = float(c[p, q])
        return cards

    def as_inputs(self) -> dict:
        """The coefficient arrays the renderer takes (``image_inputs(image)["sip"]``)."""
        return {"a": self.a, "b": self.b, "ap": self.ap, "bp": self.bp, "origin": self.origin}

    def __repr__(self) -> str:
        return f"SIP(order={self.order}, origin={tuple(float(v) for v in self.origin)})"


def to_wcs(image, crval=None):
    """An astropy WCS (``RA---TAN-SIP`` with A/B/AP/BP, or plain TAN) of ``image``.

    Parameters
    ----------
    image : Image
        Its ``cd``, ``crpix``, ``ref_sky`` and ``sip``.
    crval : (float, float), optional
        (RA, Dec) in degrees of the tangent point; default ``image.wcs``'s CRVAL.

    Returns
    -------
    astropy.wcs.WCS
        ``.to_header(relax=True)`` gives the FITS keywords.

    Raises
    ------
    ValueError
        Without a ``crval``, or when the image's tangent point is not at the SIP origin
        (``ref_sky + cd @ (origin - crpix) != 0``, e.g. after
        :func:`scenefit.common_tangent_plane` about another point): FITS SIP cannot
        express that map exactly.
    """
    from astropy.wcs import WCS, Sip

    if crval is None:
        if image.wcs is None:
            raise ValueError("to_wcs needs crval=(ra, dec) for an image without a WCS")
        crval = image.wcs.wcs.crval
    sip = image.sip
    origin = image.crpix if sip is None else sip.origin
    off = image.ref_sky + image.cd @ (origin - image.crpix)
    if np.max(np.abs(off)) > 1e-9:
        raise ValueError(
            f"the image's tangent point lies {off.tolist()} arcsec from its SIP origin; "
            "FITS TAN-SIP needs them at one point (write the image before re-projecting it)"
        )
    w = WCS(naxis=2)
    w.wcs.crpix = np.asarray(origin, float) + 1.0
    w.wcs.cd = image.cd / 3600.0
    w.wcs.crval = [float(v) for v in crval]
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"] if sip is None else ["RA---TAN-SIP", "DEC--TAN-SIP"]
    if sip is not None:
        w.sip = Sip(sip.a, sip.b, sip.ap, sip.bp, w.wcs.crpix)
    w.wcs.set()
    return w
