"""Accuracy and speed of the Gaussian-mixture Sersic (``SersicGM``) against the exact
renderer (``Sersic``). Prints ONE JSON line.

Accuracy (``"accuracy"``): a Sersic profile (x = 0.37", y = -0.21", q = 0.6,
pa = 30 deg unless stated) on a 64 x 64 image, pixel scale 1", convolved with a sampled
circular Gaussian PSF (25 x 25 px at 1x). The truth is
``scripts/mixture_reference.py`` (the continuous scale mixture of the Sersic profile,
each Gaussian convolved with the continuous PSF and integrated over pixels exactly; no
renderer code). For each case: max |model - truth| / max(truth) over the pixels for

* ``gm``: ``SersicGM`` (PSF as its fitted Gaussian mixture, second-order pixel rule);
* ``gm_order4``: the same with ``RenderSettings(mixture_pixel_order=4)``;
* ``exact_1x``: ``Sersic``, default ``RenderSettings``, the PSF at 1x;
* ``exact_3x``: the same with the PSF sampled 3x finer (``psf_oversampling=3``).

Grids: ``"psf_1.5"``: PSF sigma 1.5 px, n in {0.5, 0.75, 1, 1.5, 2, 3, 4, 5, 6} x r_e in
{0.5, 1, 2, 4, 8, 16, 32} px; ``"psf_1.0"``, ``"psf_2.5"``: n in {1, 4, 6} x r_e in {0.5, 2, 8};
``"q_0.2"``: PSF 1.5 px, q = 0.2, n in {1, 4} x r_e in {2, 8}. ``"moffat"``: a Moffat
PSF (beta 3, FWHM 3.5 px): ``gm`` against ``exact_3x`` (no independent truth; only
cases where ``exact_3x`` is within 5e-5 of the truth with a Gaussian PSF), with the
PSF mixture's residual. ``"no_psf"``: no PSF, ``gm`` against ``Sersic`` (whose pixel
integrals are accurate to 1e-4 without a PSF). ``"reference_check"``: the truth's own
error (the scale mixture against the Sersic profile, over its central value).

Speed (``"timing"``): warm wall seconds (best of ``--repeat``) and the first call
(compile + run) of the jitted renderer and of ``make_model_and_jacobian``, for one
source on 100 x 100 px and 16 sources on 256 x 256 px (the scenes of
``scripts/bench_integration.py``), PSF a 25 x 25 Gaussian of sigma 1.5 px (one
Gaussian in the mixture) and a Moffat (beta 3, FWHM 3.5 px; three), ``SersicGM``
against ``Sersic`` with default and ``RenderSettings.fast()`` settings.

    python scripts/measure_mixture_accuracy.py [--quick] [--repeat 5]

``--quick``: the 1.5 px grid at r_e in {0.5, 2, 8} only, no other grids.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.render import (
    fit_psf_mixture,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
)

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mixture_reference import profile_check, reference_image  # noqa: E402

SHAPE = (64, 64)
CENTRE = (0.37, -0.21)
PSF_HALF = 12


def gaussian_psf(sigma, s=1):
    yy, xx = np.mgrid[-PSF_HALF * s : PSF_HALF * s + 1, -PSF_HALF * s : PSF_HALF * s + 1]
    return np.exp(-0.5 * (xx**2 + yy**2) / (sigma * s) ** 2)


def moffat_psf(fwhm, beta, s=1):
    yy, xx = np.mgrid[-PSF_HALF * s : PSF_HALF * s + 1, -PSF_HALF * s : PSF_HALF * s + 1]
    alpha = fwhm * s / (2 * np.sqrt(2 ** (1 / beta) - 1))
    return (1 + (xx**2 + yy**2) / alpha**2) ** -beta


def _err(model, truth):
    return float(f"{np.abs(model - truth).max() / truth.max():.3g}")


def _render(cls, kw, image, settings=None):
    return sf.render(sf.Scene([cls(**kw)]), image, settings)


ORDER4 = sf.RenderSettings(mixture_pixel_order=4)


def accuracy_case(n, r_e, q, psf_sigma):
    kw = dict(x=CENTRE[0], y=CENTRE[1], flux=100.0, r_e=r_e, n=n, q=q, pa=30.0)
    img1 = sf.Image(np.zeros(SHAPE), psf=gaussian_psf(psf_sigma), pixel_scale=1.0)
    img3 = sf.Image(
        np.zeros(SHAPE), psf=gaussian_psf(psf_sigma, 3), psf_oversampling=3, pixel_scale=1.0
    )
    px, py = img1.sky_to_pixel(*CENTRE)
    truth = reference_image(SHAPE, px, py, 100.0, r_e, n, q, 30.0, psf_sigma)
    return {
        "gm": _err(_render(sf.SersicGM, kw, img1), truth),
        "gm_order4": _err(_render(sf.SersicGM, kw, img1, ORDER4), truth),
        "exact_1x": _err(_render(sf.Sersic, kw, img1), truth),
        "exact_3x": _err(_render(sf.Sersic, kw, img3), truth),
    }


def grid(ns, res, q, psf_sigma):
    out = {}
    for n in ns:
        for r_e in res:
            out[f"n={n:g},r_e={r_e:g}"] = accuracy_case(n, r_e, q, psf_sigma)
    return out


def moffat_cases():
    out = {}
    mix = fit_psf_mixture(sf.PixelPSF(moffat_psf(3.5, 3.0)))
    img1 = sf.Image(np.zeros(SHAPE), psf=moffat_psf(3.5, 3.0), pixel_scale=1.0)
    img3 = sf.Image(
        np.zeros(SHAPE), psf=moffat_psf(3.5, 3.0, 3), psf_oversampling=3, pixel_scale=1.0
    )
    # where the exact renderer at 3x is within 5e-5 of the truth with a Gaussian PSF
    for n, r_e in ((0.5, 2.0), (0.5, 8.0), (1.0, 2.0), (1.0, 8.0), (2.0, 8.0)):
        kw = dict(x=CENTRE[0], y=CENTRE[1], flux=100.0, r_e=r_e, n=n, q=0.6, pa=30.0)
        ref = _render(sf.Sersic, kw, img3)
        gm = _render(sf.SersicGM, kw, img1)
        out[f"n={n:g},r_e={r_e:g}"] = {"gm_vs_exact_3x": _err(gm, ref)}
    out["psf_mixture"] = {  # its max |mixture - PSF| / PSF peak
        "components": len(mix.weights),
        "max_residual": float(f"{mix.max_residual:.3g}"),
    }
    return out


def no_psf_cases():
    """No PSF: ``SersicGM`` against ``Sersic`` (default settings: pixel integrals to
    1e-4, ``docs/accuracy.md``)."""
    out = {}
    img = sf.Image(np.zeros(SHAPE), pixel_scale=1.0)
    for n in (1.0, 4.0):
        for r_e in (2.0, 8.0):
            kw = dict(x=CENTRE[0], y=CENTRE[1], flux=100.0, r_e=r_e, n=n, q=0.6, pa=30.0)
            ref = _render(sf.Sersic, kw, img)
            out[f"n={n:g},r_e={r_e:g}"] = {
                "gm_vs_exact": _err(_render(sf.SersicGM, kw, img), ref),
                "gm_order4_vs_exact": _err(_render(sf.SersicGM, kw, img, ORDER4), ref),
            }
    return out


def worst(table):
    keys = ("gm", "gm_order4", "exact_1x", "exact_3x")
    return {k: max(v[k] for v in table.values() if k in v) for k in keys}


# -------------------------------------------------------------------------- speed
def _scenes(cls):
    one = sf.Scene([cls(x=0.3, y=-0.2, flux=100.0, r_e=5.0, n=3.0, q=0.6, pa=30.0)])
    rng = np.random.default_rng(0)
    comps = [
        cls(
            x=float(rng.uniform(-100, 100)),
            y=float(rng.uniform(-100, 100)),
            flux=float(rng.uniform(50, 500)),
            r_e=float(rng.uniform(1.0, 8.0)),
            n=float(rng.uniform(0.8, 5.0)),
            q=float(rng.uniform(0.3, 1.0)),
            pa=float(rng.uniform(0, 180)),
        )
        for _ in range(16)
    ]
    return {
        "1_source_100x100": (one, (100, 100)),
        "16_sources_256x256": (sf.Scene(comps), (256, 256)),
    }


def _time(fn, args, repeat):
    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    best = np.inf
    for _ in range(repeat):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        best = min(best, time.perf_counter() - t0)
    return {"warm_s": round(best, 4), "first_s": round(first, 2)}


def timing(repeat):
    out = {}
    psfs = {"gaussian_1.5": gaussian_psf(1.5), "moffat_3.5": moffat_psf(3.5, 3.0)}
    variants = {
        "sersic_gm": (sf.SersicGM, sf.RenderSettings()),
        "sersic_default": (sf.Sersic, sf.RenderSettings()),
        "sersic_fast": (sf.Sersic, sf.RenderSettings.fast()),
    }
    for pname, psf in psfs.items():
        for name, (cls, st) in variants.items():
            for case, (scene, shape) in _scenes(cls).items():
                img = sf.Image(np.zeros(shape), psf=psf, pixel_scale=1.0)
                layout, vals, _ = build_layout(scene)
                spec, inputs = image_spec(img), image_inputs(img, layout)
                p = jnp.asarray(vals.base)
                render = jax.jit(make_renderer(layout, spec, st))
                both = jax.jit(make_model_and_jacobian(layout, spec, st))
                out[f"{pname}/{case}/{name}"] = {
                    "render": _time(render, (p, inputs), repeat),
                    "model_and_jacobian": _time(both, (p, inputs), repeat),
                }
                jax.clear_caches()
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--no-timing", action="store_true")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    ns = (0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 4.0, 5.0, 6.0)
    res = (0.5, 2.0, 8.0) if args.quick else (0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 32.0)
    acc = {"psf_1.5": grid(ns, res, 0.6, 1.5)}
    if not args.quick:
        acc["psf_1.0"] = grid((1.0, 4.0, 6.0), (0.5, 2.0, 8.0), 0.6, 1.0)
        acc["psf_2.5"] = grid((1.0, 4.0, 6.0), (0.5, 2.0, 8.0), 0.6, 2.5)
        acc["q_0.2"] = grid((1.0, 4.0), (2.0, 8.0), 0.2, 1.5)
        acc["moffat"] = moffat_cases()
        acc["no_psf"] = no_psf_cases()
    out = {
        "script": "measure_mixture_accuracy",
        "metric": "max |model - truth| / max(truth) per pixel",
        "worst": {k: worst(v) for k, v in acc.items() if k not in ("moffat", "no_psf")},
        "accuracy": acc,
        "reference_check": {f"n={n:g}": float(f"{profile_check(n):.2g}") for n in ns[1:]},
    }
    if not args.no_timing:
        out["timing"] = timing(args.repeat)
    out["seconds"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
