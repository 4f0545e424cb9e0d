"""Real PSF images as Gaussian-mixture PSF models: how well K Gaussians fit them.

For each PSF of the shared validation data (the three HSC PSFs of the pysersic
examples, the Legacy Surveys g, r, z PSFs, Imfit's Moffat example) and K = 1..4,
``scenefit.fitting.psf_model_from_image`` fits a ``mixture_psf<K>`` (started from the
host-side concentric fit of ``scenefit.render.fit_psf_mixture``) and this prints one
JSON line::

    {"psf", "shape", "k", "k_fitted", "max_residual", "rms_residual", "seconds",
     "converged"}

``max_residual`` and ``rms_residual`` are over the PSF pixels, as fractions of the
PSF's peak; ``seconds`` includes compilation (one program per K).

    python scripts/measure_psf_mixture_model.py [--k 1,2,3,4]
"""

from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))


def psfs():
    """(name, image) of every PSF in the shared validation data."""
    from astropy.io import fits

    gals = DATA / "pysersic" / "examp_gals"
    for i in (1, 2, 3):
        yield f"hsc_gal{i}", np.load(gals / f"gal{i}_psf.npy").astype(float)
    with fits.open(gals / "copsf_59.1067_-30.4848.fits") as hdul:
        cube = [h.data for h in hdul if h.data is not None]
    planes = cube[0] if cube[0].ndim == 3 else np.stack(cube)
    for band, plane in zip("grz", planes, strict=False):
        yield f"legacy_{band}", np.asarray(plane, dtype=float)
    with fits.open(DATA / "imfit" / "examples" / "psf_moffat_51.fits") as hdul:
        yield "imfit_moffat51", np.asarray(hdul[0].data, dtype=float)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--k", default="1,2,3,4", help="numbers of Gaussians")
    args = ap.parse_args(argv)
    import scenefit as sf
    from scenefit.fitting import psf_model_from_image
    from scenefit.render import psf_image

    for name, img in psfs():
        img = img / img.sum()
        image = sf.Image(np.zeros((64, 64)), pixel_scale=1.0, psf=np.ones(img.shape))
        for k in (int(v) for v in args.k.split(",")):
            t0 = time.perf_counter()
            fit = psf_model_from_image(img, image, n_gaussians=k)
            secs = time.perf_counter() - t0
            drawn = psf_image(fit.model, image).image
            peak = img.max()
            print(
                json.dumps(
                    {
                        "psf": name,
                        "shape": list(img.shape),
                        "k": k,
                        "k_fitted": (len(fit.model.param_names()) + 1) // 4,
                        "max_residual": fit.max_residual,
                        "rms_residual": float(np.sqrt(np.mean((drawn - img) ** 2)) / peak),
                        "seconds": secs,
                        "converged": bool(fit.result.converged),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
