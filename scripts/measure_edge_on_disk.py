"""Accuracy of the edge-on disk: the JAX K1 against scipy, and rendered pixels against
an independent brute-force pixel integration (numpy + scipy.special.k1).

    PYTHONPATH=src python scripts/measure_edge_on_disk.py

Prints one JSON line: the largest relative error of K1 (and of its derivative against
-K0 - K1 / x) on 20 000 log-spaced x in [1e-6, 700]; for each case, the largest
relative error per pixel of the default renderer (``RenderSettings()``) over the
pixels brighter than 1e-3 of the peak (the renderer's relative budget; fainter pixels
have an absolute one), in the 9 x 9 pixels around the centre and elsewhere, and the
largest error of any pixel over the peak,
the reference being 16 x 16 sub-cells per pixel with an 8 x 8 Gauss-Legendre rule each
(the centre pixel's cells split 4 x 4 once more); and the render time (warm).
"""

from __future__ import annotations

import json
import time

import jax
import jax.numpy as jnp
import numpy as np
from scipy.special import k0, k1

import scenefit as sf
from scenefit.models import EdgeOnDisk
from scenefit.models._bessel_k1 import k1 as jax_k1
from scenefit.models.edge_on_disk import vertical_integral

SHAPE = (32, 32)
CENTRE = (0.37, -0.21)
CASES = (
    dict(h=3.0, n=1.0, z0=0.6, pa=30.0),
    dict(h=1.5, n=1.0, z0=0.3, pa=75.0),
    dict(h=4.0, n=2.0, z0=1.0, pa=0.0),
    dict(h=3.0, n=20.0, z0=0.5, pa=30.0),
)


def k1_errors():
    x = np.geomspace(1e-6, 700.0, 20000)
    val = np.asarray(jax_k1(jnp.asarray(x)))
    xd = np.geomspace(1e-4, 300.0, 2000)
    d = np.asarray(jax.vmap(jax.grad(jax_k1))(jnp.asarray(xd)))
    ref_d = -k0(xd) - k1(xd) / xd
    return float(np.max(np.abs(val / k1(x) - 1))), float(np.max(np.abs(d / ref_d - 1)))


def surface(dxi, deta, h, n, z0, pa):
    t = np.deg2rad(pa)
    a = dxi * np.sin(t) + deta * np.cos(t)
    b = dxi * np.cos(t) - deta * np.sin(t)
    x = np.maximum(np.abs(a), 1e-300) / h
    y = np.abs(n * b / (2 * z0))
    return x * k1(x) * np.exp(-(2 / n) * (y + np.log1p(np.exp(-2 * y)) - np.log(2)))


def reference(case, image):
    """Pixel fluxes (flux = 1) by brute force; the pixel -> sky map of ``image``."""
    h, w = image.shape
    g, wg = np.polynomial.legendre.leggauss(8)
    total = np.pi * case["h"] * float(vertical_integral(case["n"], case["z0"]))
    cx, cy = (float(v) for v in image.sky_to_pixel(*CENTRE))
    out = np.zeros((h, w))
    for row in range(h):
        for col in range(w):
            sub = 64 if (abs(row - cy) < 1 and abs(col - cx) < 1) else 16
            edges = np.arange(sub) / sub - 0.5
            px = (col + edges[:, None] + (g[None, :] + 1) / (2 * sub)).ravel()
            py = (row + edges[:, None] + (g[None, :] + 1) / (2 * sub)).ravel()
            ww = np.tile(wg / (2 * sub), sub)
            X, Y = np.meshgrid(px, py)
            xi, eta = image.pixel_to_sky(X, Y)
            sb = surface(np.asarray(xi) - CENTRE[0], np.asarray(eta) - CENTRE[1], **case)
            out[row, col] = (ww[None, :] * ww[:, None] * sb).sum()
    return out / total * abs(np.linalg.det(image.cd))


def main():
    k1_err, dk1_err = k1_errors()
    image = sf.Image(np.zeros(SHAPE))
    rows = []
    for case in CASES:
        comp = EdgeOnDisk(x=CENTRE[0], y=CENTRE[1], flux=1.0, **case)
        scene = sf.Scene([comp])
        model = sf.render(scene, image)
        t0 = time.perf_counter()
        for _ in range(5):
            sf.render(scene, image)
        warm = (time.perf_counter() - t0) / 5
        ref = reference(case, image)
        rel = np.abs(model / ref - 1)
        cx, cy = (int(round(float(v))) for v in image.sky_to_pixel(*CENTRE))
        core = np.zeros(SHAPE, bool)
        core[cy - 4 : cy + 5, cx - 4 : cx + 5] = True
        bright = ref > 1e-3 * ref.max()
        rows.append(
            {
                **case,
                "core_9x9_max_rel": float(rel[core & bright].max()),
                "other_bright_max_rel": float(rel[bright & ~core].max()),
                "max_abs_over_peak": float(np.abs(model - ref).max() / ref.max()),
                "flux_on_image_rel": float(model.sum() / ref.sum() - 1),
                "warm_render_ms": round(1e3 * warm, 2),
            }
        )
    print(json.dumps({"k1_max_rel": k1_err, "dk1_max_rel": dk1_err, "cases": rows}))


if __name__ == "__main__":
    main()
