"""Draw one panel per model family into docs/gallery.png (in the spirit of Figure 1 of
the AstroPhot paper, Stone et al. 2023: a log stretch, one labelled panel each).

Run from the repository root::

    PYTHONPATH=src python docs/gallery.py [--out docs/gallery.png]

Each panel is one component on a 64 x 64 image of 0.25 arcsec pixels, at its type's
typical values (``ParamSpec.default``) with a few set for show (listed in ``PANELS``),
rendered with ``RenderSettings.fast()``; the point source is drawn through a Moffat
PSF, and PSF models are drawn on a 63 x 63 PSF grid (``scenefit.render.psf_image``).
Galaxies are shown from 10^-3.5 of the brightest pixel to it (log10), skies on a
linear stretch between their extremes. Prints one JSON line: the panels drawn and the
seconds taken.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

#: (label, type name, parameter values that differ from the type's defaults)
PANELS = (
    ("Sersic n = 4", "sersic", {"n": 4.0}),
    ("exponential", "exponential", {}),
    ("Gaussian", "gaussian", {}),
    ("Moffat", "moffat", {}),
    ("Nuker", "nuker", {}),
    ("King", "king", {}),
    ("Ferrers", "ferrers", {}),
    ("core-Sersic", "core_sersic", {}),
    ("broken exponential", "broken_exponential", {}),
    ("Gaussian ring", "gaussian_ring", {}),
    ("edge-on disk", "edge_on_disk", {"h": 2.5, "z0": 0.4}),
    ("multi-Gaussian (3)", "mge3", {}),
    ("spline (6 nodes)", "spline6", {}),
    ("gen. ellipse, boxy c0 = 1.5", "sersic_genellipse", {"c0": 1.5, "n": 1.0}),
    ("gen. ellipse, disky c0 = -0.8", "sersic_genellipse", {"c0": -0.8, "n": 1.0}),
    ("Fourier modes 1, 3, 4", "sersic_fourier1_3_4", {"n": 1.0}),
    ("isophote twist 90 deg", "sersic_twist", {"n": 1.0, "q": 0.35, "twist": 90.0}),
    ("truncated exponential", "exponential_trunc", {"r_out": 4.0, "w_out": 0.3}),
    ("point source * PSF", "point", {}),
    ("tilted sky", "tilted_sky", {"sky": 1.0, "dsky_dx": 0.01, "dsky_dy": -0.006}),
    ("sky grid 4 x 4 bicubic", "sky_grid4x4_bicubic", "random"),
    ("Gaussian-mixture Sersic", "sersic_gm", {"n": 4.0}),
    (
        "warp: PA +80, q 0.8 -> 0.3",
        "sersic_warp3",
        {
            "n": 1.0,
            "q": 0.8,
            "dpa_1": 40.0,
            "dpa_2": 80.0,
            "lnq_1": -0.5,
            "lnq_2": -1.0,
            "r_w0": 1.0,
            "r_w1": 6.0,
        },
    ),
    (
        "rays: major / minor axis",
        "sersic_rays2",
        {"q": 1.0, "r_e_0": 4.0, "n_0": 1.0, "r_e_1": 1.5, "n_1": 1.0},
    ),
    (
        "3 wedges",
        "exponential_wedges3",
        {"q": 1.0, "h_0": 3.0, "h_1": 1.0, "h_2": 2.0, "amp_1": 2.0, "amp_2": 0.7},
    ),
    ("Airy PSF", "airy_psf", {"lambda_over_d": 0.8}),
    (
        "Zernike PSF: coma + astigmatism",
        "zernike_psf",
        {"lambda_over_d": 0.8, "z5": 0.1, "z7": 0.15},
    ),
    (
        "mixture PSF (3 Gaussians)",
        "mixture_psf3",
        {"sigma_1": 0.35, "q_1": 0.8, "pa_1": 30.0, "sigma_2": 0.9, "q_2": 0.6, "pa_2": 120.0},
    ),
)

SHAPE = (64, 64)
SCALE = 0.25  # arcsec per pixel
DEPTH = 3.5  # decades shown below the brightest pixel


def _component(type_name, over):
    from scenefit.io import model_class

    cls = model_class(type_name)
    kw = {s.name: s.default for s in cls.PARAMS}
    if "flux" in kw:
        kw["flux"] = 100.0
    if over == "random":
        rng = np.random.default_rng(4)
        kw = {k: 1.0 + 0.3 * rng.standard_normal() for k in kw}
    else:
        kw.update(over)
    return cls(**kw)


def _psf():
    import scenefit as sf

    star = sf.Moffat(x=0, y=0, flux=1.0, fwhm=4 * SCALE, beta=2.5, q=1.0, pa=0.0)
    return sf.PixelPSF(sf.render(sf.Scene([star]), sf.Image(np.zeros((25, 25)), pixel_scale=SCALE)))


def draw(out: Path) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    import scenefit as sf
    from scenefit.models import PSFModel, SkyModel
    from scenefit.render import psf_image

    t0 = time.perf_counter()
    fast = sf.RenderSettings.fast()
    ncol = 6
    nrow = -(-len(PANELS) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(2.0 * ncol, 2.15 * nrow))
    psf = _psf()
    for ax, (label, type_name, over) in zip(axes.ravel(), PANELS, strict=False):
        comp = _component(type_name, over)
        image = sf.Image(
            np.zeros(SHAPE), pixel_scale=SCALE, psf=psf if type_name == "point" else None
        )
        if isinstance(comp, PSFModel):
            grid = sf.Image(np.zeros(SHAPE), pixel_scale=SCALE, psf=np.ones((63, 63)))
            model = psf_image(comp, grid).image
        else:
            model = sf.render(sf.Scene([comp]), image, fast)
        if isinstance(comp, SkyModel):
            shown, note = model, "linear"
        else:
            peak = model.max()
            shown, note = np.log10(np.clip(model, peak * 10**-DEPTH, None) / peak), "log"
        ax.imshow(shown, origin="lower", cmap="inferno", interpolation="nearest")
        ax.set_title(label, fontsize=8.5)
        ax.text(0.03, 0.03, f"{type_name} ({note})", color="w", fontsize=6, transform=ax.transAxes)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes.ravel()[len(PANELS) :]:
        ax.axis("off")
    fig.suptitle(
        f"scenefit model families: {SHAPE[0]} x {SHAPE[1]} px of {SCALE} arcsec, "
        f"log10 stretch over {DEPTH} decades (skies linear)",
        fontsize=10,
    )
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return {
        "panels": len(PANELS),
        "seconds": round(time.perf_counter() - t0, 1),
        "output": str(out),
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).with_name("gallery.png"))
    args = ap.parse_args(argv)
    print(json.dumps(draw(args.out)))


if __name__ == "__main__":
    main()
