"""Accuracy of PSF placement options against analytic or high-resolution references.

Prints one JSON line per case:

* ``"test": "subpixel_shift"``: a circular Gaussian galaxy (sigma_g) off a pixel centre,
  convolved with a sampled Gaussian PSF (sigma_p), rendered with
  ``RenderSettings(subpixel_shift=None | "lanczos3" | "bilinear")`` at 1x, against the
  analytic pixel integral of the Gaussian of sigma sqrt(sigma_g^2 + sigma_p^2); and a
  Sersic n = 4 (r_e = 1 px), PSF at 1x or 3x, against the same render with a 9x
  oversampled PSF.
  ``max_err`` is max |model - reference| / max(reference); ``centroid_err`` in pixels.
* ``"test": "point_interp"``: a point source with a sampled Gaussian PSF (sigma_p) at a
  sub-pixel offset, ``point_interp = "fourier" | "lanczos3" | "cubic" | "bilinear"``,
  against the Gaussian sampled analytically at the shifted position.

Usage: python scripts/measure_psf_shift_accuracy.py
"""

from __future__ import annotations

import json

import numpy as np
from scipy.special import erf

import scenefit as sf

SHAPE = (33, 33)
OFFSETS = [(0.0, 0.0), (0.25, 0.0), (0.5, 0.5), (0.3, -0.4), (0.73, 0.12)]


def pixel_gaussian(shape, cx, cy, sigma, oversampling=1):
    """Unit-flux circular Gaussian integrated over pixels of size 1 / oversampling;
    (cx, cy) in those pixels."""
    ny, nx = shape

    def axis(n, c):
        e = (np.arange(n + 1) - 0.5 - c) / (sigma * oversampling * np.sqrt(2.0))
        return 0.5 * np.diff(erf(e))

    return np.outer(axis(ny, cy), axis(nx, cx))


def sampled_gaussian(shape, cx, cy, sigma):
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.exp(-0.5 * ((xx - cx) ** 2 + (yy - cy) ** 2) / sigma**2)


def centroid(img):
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    return np.array([(xx * img).sum(), (yy * img).sum()]) / img.sum()


def psf_image(sigma_p, s=1):
    """Gaussian PSF sampled at (PSF-)pixel centres: the PSF acts on pixel-integrated
    fluxes, so sampled values (not pixel integrals) give the pixel integral of the
    continuous convolution."""
    size = 2 * int(7 * sigma_p * s) + 1
    c = size // 2
    return sampled_gaussian((size, size), c, c, sigma_p * s)


def subpixel_cases():
    for sigma_g in (0.3, 0.5, 1.0):
        for sigma_p in (0.7, 1.0, 1.5):
            img = sf.Image(np.zeros(SHAPE), psf=psf_image(sigma_p))
            st = np.hypot(sigma_g, sigma_p)
            for shift in (None, "lanczos3", "bilinear"):
                errs, cerrs = [], []
                for dx, dy in OFFSETS:
                    px, py = 16.0 + dx, 16.0 + dy
                    x, y = (float(v) for v in img.pixel_to_sky(px, py))
                    gal = sf.Gaussian(x=x, y=y, flux=1.0, sigma=sigma_g, q=1.0, pa=0.0)
                    m = sf.render(sf.Scene([gal]), img, sf.RenderSettings(subpixel_shift=shift))
                    ref = pixel_gaussian(SHAPE, px, py, st)
                    errs.append(np.abs(m - ref).max() / ref.max())
                    cerrs.append(np.abs(centroid(m) - (px, py)).max())
                yield dict(
                    test="subpixel_shift",
                    profile="gaussian",
                    sigma_g=sigma_g,
                    sigma_p=sigma_p,
                    shift=shift,
                    max_err=float(max(errs)),
                    max_err_on_pixel_centre=float(errs[0]),
                    centroid_err=float(max(cerrs)),
                )
    for sigma_p, s in ((0.7, 1), (1.0, 1), (1.5, 1), (1.0, 3)):
        img = sf.Image(np.zeros(SHAPE), psf=psf_image(sigma_p, s), psf_oversampling=s)
        hi = sf.Image(np.zeros(SHAPE), psf=psf_image(sigma_p, 9), psf_oversampling=9)
        for shift in (None, "lanczos3", "bilinear"):
            errs = []
            for dx, dy in OFFSETS:
                x, y = (float(v) for v in img.pixel_to_sky(16.0 + dx, 16.0 + dy))
                sc = sf.Scene([sf.Sersic(x=x, y=y, flux=1.0, r_e=1.0, n=4.0, q=1.0, pa=0.0)])
                m = sf.render(sc, img, sf.RenderSettings(subpixel_shift=shift))
                ref = sf.render(sc, hi)
                errs.append(np.abs(m - ref).max() / ref.max())
            yield dict(
                test="subpixel_shift",
                profile="sersic n=4 r_e=1px (ref: 9x PSF)",
                sigma_p=sigma_p,
                psf_oversampling=s,
                shift=shift,
                max_err=float(max(errs)),
                max_err_on_pixel_centre=float(errs[0]),
            )


def point_cases():
    for sigma_p in (1.0, 2.0):
        size = 2 * int(7 * sigma_p) + 1
        c = size // 2
        psf = sampled_gaussian((size, size), c, c, sigma_p)
        img = sf.Image(np.zeros(SHAPE), psf=psf)
        for interp in ("fourier", "lanczos3", "cubic", "bilinear"):
            errs, cerrs, ferrs = [], [], []
            for dx, dy in OFFSETS:
                px, py = 16.0 + dx, 16.0 + dy
                x, y = (float(v) for v in img.pixel_to_sky(px, py))
                sc = sf.Scene([sf.PointSource(x=x, y=y, flux=1.0)])
                m = sf.render(sc, img, sf.RenderSettings(point_interp=interp))
                ref = sampled_gaussian(SHAPE, px, py, sigma_p)
                ref /= ref.sum()
                errs.append(np.abs(m - ref).max() / ref.max())
                cerrs.append(np.abs(centroid(m) - (px, py)).max())
                ferrs.append(abs(m.sum() - 1.0))
            yield dict(
                test="point_interp",
                sigma_p=sigma_p,
                interp=interp,
                max_err=float(max(errs)),
                centroid_err=float(max(cerrs)),
                flux_err=float(max(ferrs)),
            )


if __name__ == "__main__":
    for row in list(subpixel_cases()) + list(point_cases()):
        print(json.dumps(row), flush=True)
