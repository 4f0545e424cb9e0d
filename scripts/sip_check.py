"""SIP images: positions, pixel areas and flux against astropy's WCS.

A synthetic ``RA---TAN-SIP`` header with order-3 A/B polynomials of HST/ACS-WFC-like
amplitudes (A_2_0 = 8.6e-6 /px, ...), 0.05 arcsec pixels, a rotated CD matrix, and the
image a 160 x 128 cutout whose SIP origin (CRPIX) lies 1500 px away, where the
distortion moves pixels by ~20 px and changes their area by a few per cent. AP/BP are
left out, so scenefit fits the inverse. Measured (one JSON line):

* ``pix2sky_max_arcsec``: |Image.pixel_to_sky - gnomonic(all_pix2world)| over a grid
  of pixel positions (corners and centres), arcsec;
* ``sky2pix_max_arcsec``: |Image.sky_to_pixel - all_world2pix| (tolerance 1e-12), in
  arcsec (pixels times the scale);
* ``area_rel``: max relative |Image.pixel_areas() - polygon area| for every pixel, the
  polygon being the pixel outline mapped through astropy's WCS with each edge split
  into k segments (shoelace on the tangent plane), for k = 1, 2, 4, 8, 16: a
  straight-edged quadrilateral (k = 1) misses the curvature of the edges; the
  difference falls as 1/k^2 towards the curved-edge area scenefit integrates;
* ``flux``: sum of the rendered pixels / total flux for a Sersic and a star inside the
  image, with the SIP and, for comparison, with the affine map alone.

    python scripts/sip_check.py
"""

from __future__ import annotations

import json
import time
import warnings

import numpy as np

import scenefit as sf
from scenefit.tangent import gnomonic

SHAPE = (128, 160)
SCALE = 0.05  # arcsec / px
CRVAL = (150.1, 2.2)
CRPIX = (1600.5, -1350.25)  # 1-based, far outside the cutout: large distortion
A = {(2, 0): 8.6e-6, (1, 1): -5.2e-6, (0, 2): 2.2e-6, (3, 0): -4.6e-10, (2, 1): -4.0e-11,
     (1, 2): -5.1e-10, (0, 3): 1.0e-10}  # fmt: skip
B = {(2, 0): -2.9e-6, (1, 1): 6.2e-6, (0, 2): -6.9e-6, (3, 0): 1.2e-10, (2, 1): -5.0e-10,
     (1, 2): 3.0e-11, (0, 3): -2.8e-10}  # fmt: skip


def header():
    """The synthetic TAN-SIP header (no AP/BP)."""
    from astropy.io import fits

    t = np.radians(12.0)
    cd = SCALE / 3600.0 * np.array([[-np.cos(t), np.sin(t)], [np.sin(t), np.cos(t)]])
    h = fits.Header()
    h["NAXIS"] = 2
    h["NAXIS1"], h["NAXIS2"] = SHAPE[1], SHAPE[0]
    h["CTYPE1"], h["CTYPE2"] = "RA---TAN-SIP", "DEC--TAN-SIP"
    h["CRVAL1"], h["CRVAL2"] = CRVAL
    h["CRPIX1"], h["CRPIX2"] = CRPIX
    for i in range(2):
        for j in range(2):
            h[f"CD{i + 1}_{j + 1}"] = cd[i, j]
    h["A_ORDER"] = h["B_ORDER"] = 3
    for (p, q), v in A.items():
        h[f"A_{p}_{q}"] = v
    for (p, q), v in B.items():
        h[f"B_{p}_{q}"] = v
    return h


def image_from_header(h, data=None):
    """Image.from_fits on a temporary file holding ``h``."""
    import tempfile
    from pathlib import Path

    from astropy.io import fits

    data = np.zeros(SHAPE) if data is None else data
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "sip.fits"
        fits.PrimaryHDU(data, header=h).writeto(path)
        return sf.Image.from_fits(path)


def astropy_wcs(h):
    from astropy.wcs import WCS

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return WCS(h)


def positions(img, w):
    x, y = np.meshgrid(np.arange(-0.5, SHAPE[1], 0.5), np.arange(-0.5, SHAPE[0], 0.5))
    x, y = x.ravel(), y.ravel()
    ra, dec = w.all_pix2world(x, y, 0)
    xi_a, eta_a = gnomonic(ra, dec, *CRVAL)
    xi, eta = img.pixel_to_sky(x, y)
    p2s = float(np.hypot(xi - xi_a, eta - eta_a).max())
    xb, yb = img.sky_to_pixel(xi_a, eta_a)
    xa, ya = w.all_world2pix(ra, dec, 0, tolerance=1e-12, maxiter=100)
    s2p = float(np.hypot(xb - xa, yb - ya).max() * SCALE)
    return p2s, s2p


def polygon_areas(w, k):
    """Shoelace areas (arcsec^2, H x W) of the pixel outlines mapped through ``w``, each
    edge split into ``k`` segments."""
    h, wd = SHAPE
    t = np.arange(k) / k
    # outline of a unit pixel, counter-clockwise, 4 k vertices (offsets from its centre)
    ox = np.concatenate([t - 0.5, np.full(k, 0.5), 0.5 - t, np.full(k, -0.5)])
    oy = np.concatenate([np.full(k, -0.5), t - 0.5, np.full(k, 0.5), 0.5 - t])
    yy, xx = np.mgrid[:h, :wd]
    X = xx[..., None] + ox
    Y = yy[..., None] + oy
    ra, dec = w.all_pix2world(X.ravel(), Y.ravel(), 0)
    xi, eta = (v.reshape(X.shape) for v in gnomonic(ra, dec, *CRVAL))
    return 0.5 * np.abs(np.sum(xi * np.roll(eta, -1, -1) - np.roll(xi, -1, -1) * eta, -1))


def flux_check(img):
    """Pixel sums / total flux of a Sersic (r_e 0.4 arcsec = 8 px) and a star near the
    image centre (the tangent point, CRVAL, is far outside the cutout)."""
    xc, yc = (float(v) for v in img.pixel_to_sky((SHAPE[1] - 1) / 2, (SHAPE[0] - 1) / 2))
    scene = sf.Scene(
        [
            sf.Sersic(x=xc + 0.4, y=yc - 0.3, flux=100.0, r_e=0.2, n=1.0, q=0.6, pa=30.0),
            sf.PointSource(x=xc - 1.5, y=yc + 1.2, flux=40.0),
        ]
    )
    yy, xx = np.mgrid[-12:13, -12:13]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 2.0**2)
    gal, star = (sf.render(sf.Scene([c]), img.replace(psf=psf)) for c in scene)
    return float(gal.sum() / 100.0), float(star.sum() / 40.0)


def brute_force_check(img, w, n_sub=20, half=5):
    """Max |pixel - brute force| / peak for a round Gaussian (sigma 0.2 arcsec, no PSF):
    the brute force maps n_sub x n_sub sub-cells of each pixel through astropy's WCS and
    sums I(centre) x (sub-cell polygon area)."""
    xc, yc = (float(v) for v in img.pixel_to_sky(80.3, 60.7))
    sig, flux = 0.2, 100.0
    m = sf.render(sf.Scene([sf.Gaussian(x=xc, y=yc, flux=flux, sigma=sig, q=1, pa=0)]), img)
    j0, i0 = 60, 80
    t = (np.arange(n_sub + 1) / n_sub) - 0.5
    worst = 0.0
    for j in range(j0 - half, j0 + half + 1):
        for i in range(i0 - half, i0 + half + 1):
            X, Y = np.meshgrid(i + t, j + t)
            ra, dec = w.all_pix2world(X.ravel(), Y.ravel(), 0)
            xi, eta = (v.reshape(X.shape) for v in gnomonic(ra, dec, *CRVAL))
            # sub-cell polygon areas (corners ccw) and centre intensities
            a = 0.5 * np.abs(
                (xi[:-1, :-1] - xi[1:, 1:]) * (eta[:-1, 1:] - eta[1:, :-1])
                - (xi[:-1, 1:] - xi[1:, :-1]) * (eta[:-1, :-1] - eta[1:, 1:])
            )
            cx = 0.25 * (xi[:-1, :-1] + xi[1:, 1:] + xi[:-1, 1:] + xi[1:, :-1])
            cy = 0.25 * (eta[:-1, :-1] + eta[1:, 1:] + eta[:-1, 1:] + eta[1:, :-1])
            r2 = (cx - xc) ** 2 + (cy - yc) ** 2
            ref = np.sum(a * flux / (2 * np.pi * sig**2) * np.exp(-0.5 * r2 / sig**2))
            worst = max(worst, abs(m[j, i] - ref))
    return worst / m.max()


def main() -> None:
    t0 = time.time()
    h = header()
    img = image_from_header(h)
    w = astropy_wcs(h)
    p2s, s2p = positions(img, w)
    ours = img.pixel_areas()
    area = {}
    for k in (1, 2, 4, 8, 16):
        area[str(k)] = float(np.abs(ours / polygon_areas(w, k) - 1).max())
    nominal = img.pixel_area
    f_gal, f_star = flux_check(img)
    brute = brute_force_check(img, w)
    out = {
        "shape": SHAPE,
        "scale_arcsec": SCALE,
        "sip_order": img.sip.order,
        "inverse": "fitted (no AP/BP in the header)",
        "max_displacement_px": float(
            np.hypot(
                *(
                    np.array(img.sip.distort(np.arange(160.0), np.zeros(160)))
                    - [np.arange(160.0), np.zeros(160)]
                )
            ).max()  # fmt: skip
        ),
        "area_over_nominal": [float(ours.min() / nominal), float(ours.max() / nominal)],
        "pix2sky_max_arcsec": p2s,
        "sky2pix_max_arcsec": s2p,
        "area_rel": area,
        "flux_sum_over_total": {"sersic": f_gal, "star": f_star},
        "gaussian_vs_brute_force_over_peak": brute,
        "seconds": round(time.time() - t0, 1),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
