"""One galaxy seen in three images at 0.262, 1.5 and 2.75 arcsec/pixel: joint vs single fits.

The three images differ in everything an image can differ in: pixel scale and size,
orientation (rotated CD matrices, one of them flipped so that east is to the right),
reference pixel and tangent-plane offset, PSF (Gaussian, Moffat, undersampled Gaussian),
noise, band (g, r, z: one flux each) and sky level. The truth is rendered with
scenefit into each image and seeded Gaussian noise is added; the fits start from a
perturbed shape, one flux guess for every band and zero skies.

Prints one JSON line: the truth, the joint values and errors, each single-image fit's
values and errors, and single / joint error ratios for the shared shape parameters.

    python scripts/joint_three_images.py [--seed 1] [--unstaged]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

import scenefit as sf

SHAPE_KEYS = ("x", "y", "r_e", "n", "q", "pa")
TRUTH = dict(x=0.4, y=-0.3, r_e=4.0, n=1.5, q=0.6, pa=35.0)
BANDS = ("g", "r", "z")
FLUX = dict(g=800.0, r=1200.0, z=1500.0)
SKY = dict(g=0.5, r=2.0, z=5.0)
ZEROPOINT = 22.5


def gaussian_psf(size, sigma):
    yy, xx = np.mgrid[:size, :size] - size // 2
    p = np.exp(-0.5 * (xx**2 + yy**2) / sigma**2)
    return p / p.sum()


def moffat_psf(size, fwhm, beta):
    alpha = fwhm / (2.0 * np.sqrt(2.0 ** (1.0 / beta) - 1.0))
    yy, xx = np.mgrid[:size, :size] - size // 2
    p = (1.0 + (xx**2 + yy**2) / alpha**2) ** -beta
    return p / p.sum()


def rotation(deg):
    t = np.radians(deg)
    return np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])


def geometries():
    """The three images' geometry, PSF and noise (image units: each band its own)."""
    east_left = np.diag([-1.0, 1.0])
    return {
        "g": dict(
            shape=(96, 96),
            cd=0.262 * east_left,
            crpix=(50.0, 44.0),
            ref_sky=(0.5, -0.8),
            psf=gaussian_psf(13, 0.45 / 0.262),
            sigma=0.1,
        ),
        "r": dict(
            shape=(24, 24),
            cd=1.5 * rotation(30.0) @ east_left,
            crpix=(11.0, 12.5),
            ref_sky=(-1.0, 2.0),
            psf=moffat_psf(9, 2.4 / 1.5, 3.0),
            sigma=1.0,
        ),
        "z": dict(
            shape=(14, 14),
            cd=2.75 * rotation(-50.0),  # no east-left flip: east is to the right
            crpix=(6.0, 7.3),
            ref_sky=(2.0, 1.0),
            psf=gaussian_psf(5, 1.3 / 2.75),
            sigma=2.0,
        ),
    }


def truth_scene(band="r"):
    return sf.Scene(
        [sf.Sersic(name="gal", flux=FLUX[band], **TRUTH), sf.FlatSky(name="sky", sky=SKY[band])]
    )


def start_scene():
    """Shape off by 0.3 arcsec, 20 % in r_e, 0.7 in n, 0.1 in q, 10 deg; flux 1000; sky 0."""
    return sf.Scene(
        [
            sf.Sersic(name="gal", x=0.7, y=-0.5, flux=1000.0, r_e=4.8, n=2.2, q=0.7, pa=45.0),
            sf.FlatSky(name="sky", sky=0.0),
        ]
    )


def make_images(seed=1, settings=None):
    """The three noisy images (g, r, z), seeded; rendered with ``settings``."""
    rng = np.random.default_rng(seed)
    out = []
    for band, g in geometries().items():
        blank = sf.Image(
            np.zeros(g["shape"]),
            cd=g["cd"],
            crpix=g["crpix"],
            ref_sky=g["ref_sky"],
            psf=g["psf"],
            band=band,
            zeropoint=ZEROPOINT,
        )
        model = sf.render(truth_scene(band), blank, settings)
        data = model + rng.normal(0.0, g["sigma"], g["shape"])
        out.append(blank.replace(data=data, sigma=g["sigma"]))
    return out


def truth_names():
    out = {f"gal.{k}": v for k, v in TRUTH.items()}
    out.update({f"gal.flux[{b}]": FLUX[b] for b in BANDS})
    out.update({f"sky.sky[{b}]": SKY[b] for b in BANDS})
    return out


def run(seed=1, staged=True):
    images = make_images(seed)
    t0 = time.perf_counter()
    joint = sf.fit_joint(start_scene(), images, staged=staged)
    t_joint = time.perf_counter() - t0
    singles = {}
    for img in images:
        t0 = time.perf_counter()
        res = sf.fit(start_scene(), img, staged=staged)
        singles[img.band] = dict(
            converged=res.converged,
            chi2=res.chi2,
            dof=res.dof,
            seconds=round(time.perf_counter() - t0, 3),
            values={f"gal.{k}": res.value(f"gal.{k}") for k in (*SHAPE_KEYS, "flux")},
            errors={f"gal.{k}": res.error(f"gal.{k}") for k in (*SHAPE_KEYS, "flux")},
        )
    truth = truth_names()
    pulls = {n: (joint.value(n) - truth[n]) / joint.error(n) for n in joint.names}
    pulls["gal.pa"] = ((joint.value("gal.pa") - TRUTH["pa"] + 90) % 180 - 90) / joint.error(
        "gal.pa"
    )
    ratios = {
        b: {f"gal.{k}": s["errors"][f"gal.{k}"] / joint.error(f"gal.{k}") for k in SHAPE_KEYS}
        for b, s in singles.items()
    }
    return dict(
        seed=seed,
        staged=staged,
        truth=truth,
        joint=dict(
            converged=joint.converged,
            chi2=joint.chi2,
            dof=joint.dof,
            chi2_per_image=joint.chi2_per_image,
            seconds=round(t_joint, 3),
            values=joint.values,
            errors=joint.errors,
            pulls=pulls,
            sed=joint.sed(),
        ),
        single=singles,
        error_ratio_single_over_joint=ratios,
    )


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--unstaged", action="store_true", help="unstaged LM (default: staged)")
    a = ap.parse_args()
    print(json.dumps(run(a.seed, not a.unstaged)))


if __name__ == "__main__":
    main()
