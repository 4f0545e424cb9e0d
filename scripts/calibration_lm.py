"""LM calibration: coverage of the 68% intervals over seeded mocks of a Sersic + sky.

Each mock draws its own truth (a PSF-convolved Sersic with 7 parameters plus a flat
sky), adds Gaussian noise, starts the fit from a perturbed guess and fits all 8
parameters (in batches with :func:`scenefit.fitting.fit_batch`). Coverage of a
parameter is the fraction of mocks whose truth lies within the LM 1-sigma interval
x_hat +/- sigma. A calibrated method gives 0.683; with N = 300 mocks the binomial
standard deviation is 0.027, so [0.60, 0.76] is a +/-3 sigma band. Position angles are
compared modulo 180 deg. Non-converged fits count as misses (reported).

Prints one JSON line.

    python scripts/calibration_lm.py [--n 300] [--batch 50] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

SHAPE = (48, 48)
NOISE = 1.0
KEYS = ("x", "y", "flux", "r_e", "n", "q", "pa", "sky")


def addr(k: str) -> str:
    return "flat_sky.sky" if k == "sky" else f"sersic.{k}"


def make_mock(rng, blank, settings=None):
    import scenefit as sf

    t = dict(
        x=rng.uniform(-1, 1),
        y=rng.uniform(-1, 1),
        flux=rng.uniform(1500, 5000),
        r_e=rng.uniform(2, 5),
        n=rng.uniform(0.8, 3.5),
        q=rng.uniform(0.4, 0.9),
        pa=rng.uniform(0, 180),
        sky=rng.uniform(0.5, 1.5),
    )

    def scene(v):
        sersic = sf.Sersic(**{k: v[k] for k in KEYS if k != "sky"})
        return sf.Scene([sersic, sf.FlatSky(sky=v["sky"])])

    data = sf.render(scene(t), blank, settings) + rng.normal(0, NOISE, SHAPE)
    s = dict(t)
    s["x"] += rng.normal(0, 0.3)
    s["y"] += rng.normal(0, 0.3)
    s["flux"] *= rng.uniform(0.8, 1.2)
    s["r_e"] *= rng.uniform(0.8, 1.2)
    s["n"] = float(np.clip(t["n"] + rng.normal(0, 0.3), 0.5, 6))
    s["q"] = float(np.clip(t["q"] + rng.normal(0, 0.05), 0.1, 0.99))
    s["pa"] += rng.normal(0, 5)
    s["sky"] += rng.normal(0, 0.05)
    return blank.replace(data=data, sigma=NOISE), scene(s), t


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=300)
    ap.add_argument("--batch", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    import scenefit as sf
    from scenefit.fitting import fit_batch

    yy, xx = np.mgrid[-7:8, -7:8]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2)
    blank = sf.Image(np.zeros(SHAPE), psf=psf)
    rng = np.random.default_rng(args.seed)
    mocks = [make_mock(rng, blank) for _ in range(args.n)]

    t0 = time.perf_counter()
    results = []
    for i in range(0, args.n, args.batch):
        chunk = mocks[i : i + args.batch]
        results += fit_batch([m[1] for m in chunk], [m[0] for m in chunk])
    seconds = time.perf_counter() - t0

    inside = {k: [] for k in KEYS}
    for res, (_, _, t) in zip(results, mocks, strict=True):
        for k in KEYS:
            d = res.value(addr(k)) - t[k]
            if k == "pa":
                d = (d + 90.0) % 180.0 - 90.0
            e = res.error(addr(k))
            inside[k].append(bool(res.converged and np.isfinite(e) and abs(d) <= e))
    cover = {k: float(np.mean(v)) for k, v in inside.items()}
    out = {
        "script": "calibration_lm",
        "n_mocks": args.n,
        "shape": list(SHAPE),
        "coverage_68": cover,
        "band": [0.60, 0.76],
        "all_in_band": all(0.60 <= c <= 0.76 for c in cover.values()),
        "converged": int(sum(r.converged for r in results)),
        "seconds": seconds,
        "seed": args.seed,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
