"""Measurements quoted in docs/geometries.md (run from the repository root):

    PYTHONPATH=src python scripts/measure_geometries.py [--skip-imfit] [--skip-timing]

1. Sersic_GenEllipse against Imfit's makeimage output of its own test config
   (shared/validation/imfit/tests/gensersictest_orig.fits): Imfit's sampling rule
   everywhere, and pixel-centre sampling beyond 10.5 px from the centre (where Imfit
   samples pixel centres), both with Imfit's b_n;
2. the default adaptive integration of SersicGenEllipse against brute-force pixel
   integrals (tests/geometry_reference.py) in the 9 x 9 pixels around the centre,
   split into the 3 x 3 core block and the rest, for several c0 and n;
3. warm render time and first-call (trace + compile) time of one component on a
   64 x 64 image for Sersic and the composed classes (noisy on a shared machine);
4. a hash of the jaxpr of the plain Sersic + exponential renderer and Jacobian, to
   compare between commits (equal hashes: the default path traces to the same program);
   ``--hash-only`` prints just that, and runs on trees without the geometries:
   ``git archive <commit> src | tar -x -C /tmp/base`` then
   ``PYTHONPATH=/tmp/base/src python scripts/measure_geometries.py --hash-only``.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.render import (
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))


def _stats(rel):
    return f"max rel {rel.max():.2e}, median {np.median(rel):.2e}"


def imfit_reference():
    from astropy.io import fits

    from scenefit.io.imfit_config import read_imfit_config

    t = VALIDATION / "imfit" / "tests"
    ref = fits.getdata(t / "gensersictest_orig.fits").astype(float)
    image = sf.Image(np.zeros(ref.shape))
    scene, _ = read_imfit_config(
        t / "makeimage_reference" / "config_makeimage_gensersic512.dat"
    ).to_scene(image, bn_rule="series")
    model = sf.render(scene, image, RenderSettings.imfit(subsampling=False))
    yy, xx = np.mgrid[1 : ref.shape[0] + 1, 1 : ref.shape[1] + 1]
    far = np.hypot(xx - 256, yy - 256) > 10.5
    rel = np.abs(model - ref)[far] / ref[far]
    print("imfit gensersic512, pixel centres, r > 10.5 px:", _stats(rel))
    rel = np.abs(sf.render(scene, image, RenderSettings.imfit()) - ref) / ref
    print("imfit gensersic512, Imfit's rule, every pixel:", _stats(rel))


def brute_force():
    from geometry_reference import genellipse_radius, pixel_integral, sersic_sb
    from scenefit.models import SersicGenEllipse
    from scenefit.models.genellipse import superellipse_area

    image = sf.Image(np.zeros((33, 33)))
    print("c0     n    core 3x3 max  outside max   (relative, 9 x 9 pixels around the centre)")
    for c0, n in [
        (-1.5, 2.5),
        (-1.0, 1.0),
        (-1.0, 2.5),
        (-1.0, 4.0),
        (-0.5, 2.5),
        (-0.2, 4.0),
        (0.0, 2.5),
        (0.5, 4.0),
        (1.0, 2.5),
        (4.0, 2.5),
    ]:
        kw = dict(x=0.23, y=-0.31, flux=1000.0, r_e=3.0, n=n, q=0.6, pa=30.0)
        area = float(superellipse_area(c0 + 2.0))
        sb = sersic_sb(kw["flux"], kw["r_e"], n, kw["q"], kw["pa"], genellipse_radius(c0), area)
        model = sf.render(sf.Scene([SersicGenEllipse(c0=c0, **kw)]), image)
        err = np.zeros((9, 9))
        for i in range(9):
            for j in range(9):
                ref = pixel_integral(sb, image, 12 + j, 12 + i, kw["x"], kw["y"])
                err[i, j] = model[12 + i, 12 + j] / ref - 1.0
        core = np.abs(err[3:6, 3:6]).max()
        err[3:6, 3:6] = 0.0
        print(f"{c0:5.1f} {n:4.1f}   {core:.2e}      {np.abs(err).max():.2e}", flush=True)


def timing():
    from scenefit.models import SersicFourier1_3_4, SersicGenEllipse, truncated

    image = sf.Image(np.zeros((64, 64)))
    kw = dict(x=0.37, y=-0.21, flux=100.0, r_e=3.0, n=2.0, q=0.7, pa=30.0)
    cases = {
        "sersic": sf.Sersic(**kw),
        "sersic_genellipse": SersicGenEllipse(c0=0.5, **kw),
        "sersic_fourier1_3_4": SersicFourier1_3_4(
            a_1=0.05, phi_1=20, a_3=0.03, phi_3=15, a_4=0.04, phi_4=5, **kw
        ),
        "sersic_trunc": truncated(sf.Sersic)(r_out=8.0, w_out=0.5, **kw),
    }
    print("type                  first call (s)  warm render (ms)  warm model+jacobian (ms)")
    for name, comp in cases.items():
        layout, vals, _ = build_layout(sf.Scene([comp]))
        spec, inputs = image_spec(image), image_inputs(image)
        p = jnp.asarray(vals.base)
        render = jax.jit(make_renderer(layout, spec, RenderSettings()))
        both = jax.jit(make_model_and_jacobian(layout, spec, RenderSettings()))
        t0 = time.perf_counter()
        render(p, inputs).block_until_ready()
        first = time.perf_counter() - t0
        warm = []
        for f in (render, both):
            jax.block_until_ready(f(p, inputs))
            t0 = time.perf_counter()
            for _ in range(5):
                jax.block_until_ready(f(p, inputs))
            warm.append((time.perf_counter() - t0) / 5 * 1e3)
        print(f"{name:22s}{first:10.2f}{warm[0]:16.1f}{warm[1]:20.1f}", flush=True)


def jaxpr_hash():
    image = sf.Image(np.zeros((40, 40)))
    scene = sf.Scene(
        [
            sf.Sersic(x=0.3, y=0.1, flux=10, r_e=2, n=2, q=0.7, pa=20),
            sf.Exponential(x=0.3, y=0.1, flux=10, h=2, q=0.7, pa=20),
        ]
    )
    layout, vals, _ = build_layout(scene)
    out = []
    settings = (
        RenderSettings(),
        RenderSettings.fast(),
        RenderSettings.imfit(),
        RenderSettings.imfit(subsampling=False),
    )
    for st in settings:
        for make in (make_renderer, make_model_and_jacobian):
            f = make(layout, image_spec(image), st)
            txt = str(jax.make_jaxpr(f)(jnp.asarray(vals.base), image_inputs(image)))
            out.append(hashlib.sha256(txt.encode()).hexdigest()[:16])
    print(
        "jaxpr hashes (sersic + exponential; default, fast, imfit, imfit without sub-sampling"
        " x render, model+jacobian):",
        " ".join(out),
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--skip-imfit", action="store_true")
    ap.add_argument("--skip-brute", action="store_true")
    ap.add_argument("--skip-timing", action="store_true")
    ap.add_argument("--hash-only", action="store_true")
    args = ap.parse_args()
    jaxpr_hash()
    if args.hash_only:
        sys.exit(0)
    if not args.skip_imfit:
        imfit_reference()
    if not args.skip_brute:
        brute_force()
    if not args.skip_timing:
        timing()
