"""CMOS pixels: fitting CMOS data with and without the sensitive-square model.

The mock: a PSF-convolved Sersic (r_e = 3 px) and a star on a 32 x 32 image whose
pixels are sensitive only in a square of side 0.5 centred (0.2, -0.1) px from the pixel
centre. The truth is made independently of the CMOS code: scenefit's plain renderer
draws the scene on a grid 20 times finer than the image (Gaussian PSF of sigma 1.2
image pixels sampled at that resolution), and each image pixel is the sum of the
10 x 10 fine pixels inside its sensitive square. Seeded Gaussian noise is added.

Each seed is fitted twice, starting from the perturbed truth: with the right
``CMOS(size=0.5, offset=(0.2, -0.1))`` image (the PSF given 3x oversampled) and as a
plain image (the PSF at 1x, as one would for ordinary pixels). Prints one JSON line:
per fit type the pulls (fit - truth) / sigma of each parameter for every seed, and
their mean.

    python scripts/cmos_bias.py [--seeds 3]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import scenefit as sf
from scenefit.cmos import CMOS

SHAPE = (32, 32)
SIZE, OFFSET = 0.5, (0.2, -0.1)
PSF_SIGMA = 1.2  # image pixels
FINE = 20  # truth grid: fine pixels per image pixel (puts the square's edges on fine edges)
NOISE = 0.05  # per pixel, image units
GAL = dict(x=0.6, y=-0.4, flux=400.0, r_e=3.0, n=1.5, q=0.7, pa=35.0)
STAR = dict(x=-6.3, y=5.2, flux=150.0)
KEYS = ("gal.x", "gal.y", "gal.flux", "gal.r_e", "gal.n", "gal.q", "star.x", "star.y", "star.flux")


def gaussian_psf(half, sigma):
    """A Gaussian sampled at pixel centres, (2 half + 1)^2, sigma in those pixels."""
    yy, xx = np.mgrid[-half : half + 1, -half : half + 1]
    return np.exp(-0.5 * (xx**2 + yy**2) / sigma**2)


def truth_scene():
    return sf.Scene(
        [
            sf.Sersic(name="gal", **GAL),
            sf.PointSource(name="star", **STAR),
        ]
    )


def cmos_truth() -> np.ndarray:
    """Noise-free CMOS image from a plain render FINE times finer (independent of the
    CMOS renderer)."""
    h, w = SHAPE
    fine = sf.Image(
        np.zeros((h * FINE, w * FINE)),
        pixel_scale=1.0 / FINE,
        psf=gaussian_psf(int(5 * PSF_SIGMA * FINE), PSF_SIGMA * FINE),
    )
    m = sf.render(truth_scene(), fine, sf.RenderSettings.fast())
    # fine-pixel edges E = FINE (x + 1/2): the square of pixel i spans
    # FINE (i + 1/2 + offset -+ size / 2)
    lo_x = int(round(FINE * (0.5 + OFFSET[0] - SIZE / 2)))
    lo_y = int(round(FINE * (0.5 + OFFSET[1] - SIZE / 2)))
    n = int(round(FINE * SIZE))
    blocks = m.reshape(h, FINE, w, FINE)
    return blocks[:, lo_y : lo_y + n, :, lo_x : lo_x + n].sum(axis=(1, 3))


def start_scene(rng):
    g = dict(GAL)
    g.update(x=GAL["x"] + 0.3, y=GAL["y"] - 0.2, flux=GAL["flux"] * 0.5, r_e=2.5, n=2.0, q=0.8)
    s = dict(STAR)
    s.update(x=STAR["x"] + 0.3, y=STAR["y"] - 0.3, flux=STAR["flux"] * 0.5)
    return sf.Scene([sf.Sersic(name="gal", **g), sf.PointSource(name="star", **s)])


def pulls(res) -> dict:
    truth = {f"gal.{k}": v for k, v in GAL.items()} | {f"star.{k}": v for k, v in STAR.items()}
    return {k: (res.value(k) - truth[k]) / res.error(k) for k in KEYS}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=3)
    args = ap.parse_args()
    t0 = time.time()
    clean = cmos_truth()
    psf3 = gaussian_psf(int(5 * PSF_SIGMA * 3), PSF_SIGMA * 3)
    psf1 = gaussian_psf(int(5 * PSF_SIGMA), PSF_SIGMA)
    out = {"cmos": {"size": SIZE, "offset": OFFSET}, "noise": NOISE, "truth_sum": clean.sum()}
    runs = {"cmos_model": [], "plain_model": []}
    for seed in range(args.seeds):
        rng = np.random.default_rng(seed)
        data = clean + rng.normal(0.0, NOISE, SHAPE)
        cm = sf.Image(data, sigma=NOISE, psf=psf3, psf_oversampling=3, cmos=CMOS(SIZE, OFFSET))
        plain = sf.Image(data, sigma=NOISE, psf=psf1)
        for name, img in (("cmos_model", cm), ("plain_model", plain)):
            res = sf.fit(start_scene(rng), img)
            p = pulls(res)
            p["gal_flux_ratio"] = res.value("gal.flux") / GAL["flux"]
            p["converged"] = bool(res.converged)
            p["reduced_chi2"] = res.reduced_chi2
            runs[name].append(p)
    for name, rows in runs.items():
        out[name] = {
            "pulls": rows,
            "mean_pull": {k: float(np.mean([r[k] for r in rows])) for k in KEYS},
            "max_abs_pull": float(max(abs(r[k]) for r in rows for k in KEYS)),
        }
    out["seconds"] = round(time.time() - t0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
