"""How close a staged fit (cheap rule first, defect correction) lands to the unstaged
fit on the accurate rule, and how much faster it is.

For a grid of PSF-convolved Sersic mocks (n, r_e, q), fits the same start both ways
(warm: each structure compiled once beforehand) and prints one JSON line: per case the
largest |staged - unstaged| over the free parameters in units of the unstaged
uncertainty, the objective difference, the warm times; and the maxima over the cases.

    python scripts/measure_staged.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import itertools
import json
import time

import numpy as np

import scenefit as sf
from scenefit.fitting import fit


def _case(n, r_e, q, seed):
    rng = np.random.default_rng(seed)
    psf_scene = sf.Scene([sf.Moffat(x=0, y=0, flux=1, fwhm=2.5, beta=3, q=1, pa=0)])
    psf = sf.PixelPSF(sf.render(psf_scene, sf.Image(np.zeros((15, 15)))))
    truth = sf.Scene(
        [
            sf.Sersic(x=0.3, y=-0.2, flux=5000.0, r_e=r_e, n=n, q=q, pa=30.0),
            sf.FlatSky(sky=2.0),
        ]
    )
    blank = sf.Image(np.zeros((64, 64)), psf=psf)
    data = sf.render(truth, blank) + rng.normal(0.0, 1.0, blank.shape)
    start = truth.replace_component(
        "sersic",
        truth["sersic"].replace(
            flux=4000.0, r_e=r_e * 1.2, n=min(n * 1.3, 8.0), q=min(q + 0.1, 1.0)
        ),
    )
    return start, blank.replace(data=data, sigma=1.0)


def _timed(start, image, staged, repeats):
    fit(start, image, staged=staged)  # compile
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        res = fit(start, image, staged=staged)
        times.append(time.perf_counter() - t0)
    return res, float(np.median(times))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)
    rows = []
    for k, (n, r_e, q) in enumerate(
        itertools.product((1.0, 4.0, 6.0), (1.0, 3.0, 8.0), (0.3, 0.8))
    ):
        start, image = _case(n, r_e, q, seed=k)
        a, ta = _timed(start, image, True, args.repeats)
        b, tb = _timed(start, image, False, args.repeats)
        shift = max(abs(a.value(p) - b.value(p)) / b.error(p) for p in b.free)
        rows.append(
            {
                "n": n,
                "r_e_px": r_e,
                "q": q,
                "max_shift_sigma": shift,
                "dchi2": a.objective - b.objective,
                "staged_s": ta,
                "unstaged_s": tb,
                "speedup": tb / ta,
                "converged": bool(a.converged and b.converged),
            }
        )
    print(
        json.dumps(
            {
                "cases": rows,
                "max_shift_sigma": max(r["max_shift_sigma"] for r in rows),
                "max_abs_dchi2": max(abs(r["dchi2"]) for r in rows),
                "median_speedup": float(np.median([r["speedup"] for r in rows])),
                "all_converged": all(r["converged"] for r in rows),
            }
        )
    )


if __name__ == "__main__":
    main()
