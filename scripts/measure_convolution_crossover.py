"""Time FFT vs direct (real-space) PSF convolution on this CPU; fit the cost model.

Prints one JSON line per (image side, PSF side) case with the warm, jitted median
times of both methods, then one JSON line with the fitted cost-model constants

    t_direct ~ a * H * W * Ph * Pw,   t_fft ~ b * Ny * Nx * log2(Ny * Nx)

(Ny, Nx the padded transform size scenefit uses) and how often the rule picks the
faster method. The constants are those in ``scenefit/render/_conv_cost.py``.

Usage: python scripts/measure_convolution_crossover.py [--quick]
"""

from __future__ import annotations

import json
import sys
import time

import jax
import numpy as np
from scipy.fft import next_fast_len

jax.config.update("jax_enable_x64", True)

from scenefit.render._convolve import convolve_direct, convolve_fft  # noqa: E402


def median_time(fn, *args, repeat=7):
    fn(*args).block_until_ready()  # compile and warm
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(*args).block_until_ready()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(quick=False):
    sides = [32, 64, 128, 256] if quick else [32, 64, 128, 256, 512]
    psfs = [3, 5, 7, 9, 13, 17, 25, 33, 49] + ([] if quick else [65])
    rng = np.random.default_rng(0)
    rows = []
    for n in sides:
        for p in psfs:
            hm = n + 2 * (p // 2)  # the render grid has PSF-half margins
            img = rng.random((1, hm, hm))
            psf = rng.random((p, p))
            fft_shape = (next_fast_len(hm + p - 1, real=True),) * 2
            t_fft = median_time(jax.jit(lambda b, k, s=fft_shape: convolve_fft(b, k, s)), img, psf)
            t_dir = median_time(jax.jit(convolve_direct), img, psf)
            row = dict(
                grid=hm, psf=p, fft_shape=fft_shape[0], fft_ms=1e3 * t_fft, direct_ms=1e3 * t_dir
            )
            row["faster"] = "direct" if t_dir < t_fft else "fft"
            rows.append(row)
            print(json.dumps(row), flush=True)
    # least-squares fit through the origin of each method's time against its work measure
    w_dir = np.array([r["grid"] ** 2 * r["psf"] ** 2 for r in rows], float)
    nn = np.array([r["fft_shape"] ** 2 for r in rows], float)
    w_fft = nn * np.log2(nn)
    t_dir = np.array([r["direct_ms"] for r in rows])
    t_fft = np.array([r["fft_ms"] for r in rows])
    # fit relative errors (weights 1 / t) so small and large cases count alike
    a = float(np.sum(w_dir / t_dir) / np.sum((w_dir / t_dir) ** 2))
    b = float(np.sum(w_fft / t_fft) / np.sum((w_fft / t_fft) ** 2))
    pick = np.where(a * w_dir < b * w_fft, "direct", "fft")
    best = np.array([r["faster"] for r in rows])
    chosen = np.where(pick == "direct", t_dir, t_fft)
    print(
        json.dumps(
            dict(
                fit="t_direct_ms = a*H*W*Ph*Pw; t_fft_ms = b*Ny*Nx*log2(Ny*Nx)",
                a=a,
                b=b,
                ratio_b_over_a=b / a,
                rule_agrees=int((pick == best).sum()),
                cases=len(rows),
                worst_slowdown=float(np.max(chosen / np.minimum(t_dir, t_fft))),
            )
        )
    )


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
