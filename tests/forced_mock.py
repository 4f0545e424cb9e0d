"""Three overlapping sources seen in two images (g, r) for the forced-photometry tests
and scripts/forced_photometry_demo.py: a Sersic and an exponential galaxy 1.6 arcsec
apart and a star between them, at 0.262 and 0.5 arcsec/pixel, the r image rotated
by 25 degrees, Gaussian and Moffat PSFs; rendered with scenefit plus seeded noise."""

from __future__ import annotations

import numpy as np

import scenefit as sf

ZEROPOINT = 22.5
FLUX = {"g": {"a": 300.0, "b": 150.0, "star": 60.0}, "r": {"a": 500.0, "b": 260.0, "star": 90.0}}
SKY = {"g": 0.2, "r": 1.0}
SIGMA = {"g": 0.05, "r": 0.3}


def _psf(size, fwhm_px, beta=None):
    yy, xx = np.mgrid[:size, :size] - size // 2
    r2 = xx**2 + yy**2
    if beta is None:
        p = np.exp(-0.5 * r2 / (fwhm_px / 2.3548) ** 2)
    else:
        alpha = fwhm_px / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
        p = (1.0 + r2 / alpha**2) ** -beta
    return p / p.sum()


def blank_images():
    t = np.radians(25.0)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    g = sf.Image(
        np.zeros((40, 40)), sigma=SIGMA["g"], cd=0.262 * np.diag([-1.0, 1.0]),
        psf=_psf(11, 1.1 / 0.262), band="g", zeropoint=ZEROPOINT,
    )  # fmt: skip
    r = sf.Image(
        np.zeros((24, 24)), sigma=SIGMA["r"], cd=0.5 * rot @ np.diag([-1.0, 1.0]),
        crpix=(11.2, 12.4), psf=_psf(9, 1.4 / 0.5, beta=3.0), band="r", zeropoint=ZEROPOINT,
    )  # fmt: skip
    return [g, r]


def scene(fluxes=None, sky=True):
    """The true scene; ``fluxes`` {name: flux} (default 1 each), plus a flat sky."""
    f = fluxes or {"a": 1.0, "b": 1.0, "star": 1.0}
    comps = [
        sf.Sersic(name="a", x=-0.8, y=0.3, flux=f["a"], r_e=1.2, n=2.0, q=0.6, pa=30.0),
        sf.Exponential(name="b", x=0.8, y=-0.2, flux=f["b"], h=0.7, q=0.8, pa=110.0),
        sf.PointSource(name="star", x=0.1, y=0.9, flux=f["star"]),
    ]
    return sf.Scene(comps + ([sf.FlatSky(name="sky", sky=0.0)] if sky else []))


def make_images(seed, settings, flux=None):
    """Noisy g and r images of the true scene (``flux``: {band: {source: flux}})."""
    rng = np.random.default_rng(seed)
    flux = flux or FLUX
    out = []
    for img in blank_images():
        sc = scene(flux[img.band], sky=False)
        model = sf.render(sc, img, settings) + SKY[img.band]
        out.append(img.replace(data=model + rng.normal(0.0, SIGMA[img.band], model.shape)))
    return out
