"""Joint g/r/z fit of the Legacy Surveys DR9 cutout in the shared validation data.

Data: ``pysersic/examp_gals/cutout_59.1067_-30.4848.fits`` (256 x 256, 0.262
arcsec/pixel, g/r/z images and inverse variances in nanomaggies, AB zero point 22.5) and
``copsf_59.1067_-30.4848.fits`` (a 63 x 63 PSF per band), from the folder named by
``SCENEFIT_VALIDATION_DIR`` (default ``../shared/validation`` next to the project).

Model: the two bright galaxies (the one at the centre, A, and the one below it, B) as
Sersic profiles with one shape each (position, r_e, n, q, pa shared by the bands) and
one flux per band, plus a flat sky per band. Every other source is masked: pixels of
the segments (3-sigma, after a 1.5 px smoothing of the summed g/r/z signal-to-noise
image) that do not belong to A or B, grown by 3 pixels. Starting shapes come from
``scenefit.initialize`` on r-band cutouts around each galaxy.

Prints one JSON line (magnitudes with errors, shapes, chi^2 per band, single-band
r fit for comparison, timings); ``--figure PATH`` writes data / model / residual
panels per band.

    python scripts/joint_legacy_grz.py [--figure docs/legacy_grz_residuals.png]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

import scenefit as sf

HERE = Path(__file__).resolve().parents[1]
BANDS = ("g", "r", "z")
ZEROPOINT = 22.5
#: 0-based (x, y) pixel of the two galaxies (by eye from the r image)
CENTRES = {"A": (128.0, 130.0), "B": (122.0, 58.0)}


def data_dir() -> Path:
    root = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", HERE.parent / "shared" / "validation"))
    return root / "pysersic" / "examp_gals"


def load_images():
    """The g, r, z Images (WCS, inverse variance, PSF, band, zero point)."""
    from astropy.io import fits

    d = data_dir()
    cut, psf = d / "cutout_59.1067_-30.4848.fits", d / "copsf_59.1067_-30.4848.fits"
    with fits.open(psf) as h:
        psfs = {str(x.header["BAND"]).strip(): np.asarray(x.data, float) for x in h}
    out = []
    with fits.open(cut) as h:
        for k in range(1, len(h), 2):
            band = str(h[k].header["BAND"]).strip()
            ivar = np.asarray(h[k + 1].data, float)
            out.append(
                sf.Image.from_fits(
                    cut, hdu=k, invvar=ivar, psf=psfs[band], band=band, zeropoint=ZEROPOINT
                )
            )
    return out


def source_mask(images):
    """True on the segments of every source except galaxies A and B (grown 3 px)."""
    from scipy import ndimage

    snr = sum(np.where(img.mask, 0.0, img.data * np.sqrt(img.invvar)) for img in images)
    snr = ndimage.gaussian_filter(snr / np.sqrt(len(images)), 1.5)
    noise = 1.4826 * np.median(np.abs(snr - np.median(snr)))
    seg, _ = ndimage.label(snr > np.median(snr) + 3.0 * noise)
    keep = {seg[int(round(y)), int(round(x))] for x, y in CENTRES.values()} - {0}
    other = (seg > 0) & ~np.isin(seg, list(keep))
    return ndimage.binary_dilation(other, iterations=3)


def start_scene(r_image):
    """Sersic A and B from scenefit.initialize on 64 x 64 r cutouts, plus a flat sky."""
    comps = []
    for name, (x, y) in CENTRES.items():
        x0, y0 = int(x) - 32, int(y) - 32
        cut = r_image.cutout(slice(max(y0, 0), y0 + 64), slice(max(x0, 0), x0 + 64))
        xi, eta = r_image.pixel_to_sky(x, y)
        sc = sf.initialize(sf.Scene([sf.Sersic(name=name, x=xi, y=eta), sf.FlatSky()]), cut)
        comps.append(sc[name])
    comps.append(sf.FlatSky(name="sky", sky=0.0))
    return sf.Scene(comps)


def figure(res, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(3, 3, figsize=(7, 7.6))
    crop = (slice(20, 170), slice(60, 190))  # rows, columns around galaxies A and B
    for i, (band, r) in enumerate(zip(res.keys, res.results, strict=True)):
        img, model = r.image, r.model()
        resid = np.where(img.mask, np.nan, (img.data - model) * np.sqrt(img.invvar))
        img_data, model, resid = img.data[crop], model[crop], resid[crop]
        lim = np.nanpercentile(img_data, 99.5)
        for j, (arr, title) in enumerate(
            ((img_data, "data"), (model, "model"), (resid, "(data - model) / sigma"))
        ):
            kw = (
                dict(vmin=-5, vmax=5, cmap="RdBu_r")
                if j == 2
                else dict(vmin=-0.05 * lim, vmax=lim, cmap="gray_r")
            )
            ax[i, j].imshow(arr, origin="lower", **kw)
            ax[i, j].set_title(f"{band}: {title}", fontsize=9)
            ax[i, j].set_xticks([])
            ax[i, j].set_yticks([])
    fig.suptitle("Legacy Surveys DR9 g/r/z: joint fit, shared shapes, per-band fluxes", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=60)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--figure", help="write data/model/residual panels here (PNG)")
    a = ap.parse_args()
    raw = load_images()
    mask = source_mask(raw)
    images = sf.common_tangent_plane([img.replace(mask=img.mask | mask) for img in raw])
    scene = start_scene(images[1])
    start = {f"{c}.flux[{b}]": scene[c].flux.value for c in CENTRES for b in BANDS}
    t0 = time.perf_counter()
    res = sf.fit_joint(scene, images, start=start)
    t_joint = time.perf_counter() - t0
    t0 = time.perf_counter()
    single = sf.fit(scene, images[1])
    t_single = time.perf_counter() - t0
    shape_keys = ("x", "y", "r_e", "n", "q", "pa")
    out = dict(
        data=str(data_dir() / "cutout_59.1067_-30.4848.fits"),
        masked_fraction=float(mask.mean()),
        converged=res.converged,
        message=res.message,
        n_iter=res.n_iter,
        seconds=round(t_joint, 2),
        chi2=res.chi2,
        dof=res.dof,
        reduced_chi2_per_band={
            b: r.chi2 / r.image.n_valid for b, r in zip(res.keys, res.results, strict=True)
        },
        sed=res.sed(),
        shape={
            c: {k: [res.value(f"{c}.{k}"), res.error(f"{c}.{k}")] for k in shape_keys}
            for c in CENTRES
        },
        single_r=dict(
            converged=single.converged,
            seconds=round(t_single, 2),
            shape={
                c: {k: [single.value(f"{c}.{k}"), single.error(f"{c}.{k}")] for k in shape_keys}
                for c in CENTRES
            },
            mag={c: ZEROPOINT - 2.5 * np.log10(single.value(f"{c}.flux")) for c in CENTRES},
        ),
    )
    if a.figure:
        figure(res, a.figure)
        out["figure"] = a.figure
    print(json.dumps(out))


if __name__ == "__main__":
    main()
