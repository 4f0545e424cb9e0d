"""NUTS calibration: coverage of the 68% credible intervals over seeded mocks.

The mocks are those of ``calibration_lm.py`` (a PSF-convolved Sersic with 7 parameters
plus a flat sky on 48 x 48 pixels, Gaussian noise, a perturbed start; same seed, same
draws; by default both the mocks and the model are rendered with
``RenderSettings.fast()``, which makes a NUTS gradient ~6x cheaper on these cutouts and
keeps mock and model consistent). Each mock is fitted by LM, then sampled by NUTS
(:func:`scenefit.fitting.sample_nuts`: dense mass matrix from the LM covariance, flat
priors inside the bounds,
bounded parameters sampled through the fitter's transforms with the log-Jacobian). The
68% credible interval of a parameter is the central one of its marginal (16th to 84th
percentile of the draws). Coverage is the fraction of mocks whose truth lies inside;
with N = 100 mocks the binomial standard deviation is 0.047, so [0.56, 0.80] is a
+/-2.5 sigma band about 0.683. Position angles are compared modulo 180 deg. A mock whose
chains do not mix (R-hat > 1.1 on some parameter) counts as a miss on every parameter
(reported).

Prints one JSON line.

    python scripts/calibration_nuts.py [--n 100] [--warmup 200] [--samples 400] [--seed 0] \
        [--settings fast]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np
from calibration_lm import KEYS, SHAPE, addr, make_mock


def _inside(draws: np.ndarray, truth: float, periodic: bool) -> bool:
    if periodic:
        centre = float(np.median(draws))
        draws = (draws - centre + 90.0) % 180.0 - 90.0
        truth = (truth - centre + 90.0) % 180.0 - 90.0
    lo, hi = np.percentile(draws, [15.865, 84.135])
    return bool(lo <= truth <= hi)


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--warmup", type=int, default=200)
    ap.add_argument("--samples", type=int, default=400)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--settings",
        default="fast",
        choices=("default", "fast"),
        help="render settings of both the mocks and the model (fast: RenderSettings.fast())",
    )
    args = ap.parse_args(argv)

    import scenefit as sf
    from scenefit.fitting import sample_nuts

    yy, xx = np.mgrid[-7:8, -7:8]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2)
    blank = sf.Image(np.zeros(SHAPE), psf=psf)
    settings = sf.RenderSettings.fast() if args.settings == "fast" else sf.RenderSettings()
    rng = np.random.default_rng(args.seed)
    mocks = [make_mock(rng, blank, settings) for _ in range(args.n)]

    t0 = time.perf_counter()
    inside = {k: [] for k in KEYS}
    unmixed = failed = 0
    ess_min, sampling = [], []
    for i, (image, start, truth) in enumerate(mocks):
        if i and i % 10 == 0:  # progress, on stderr: stdout holds the one JSON line
            print(f"{i}/{len(mocks)} mocks, {time.perf_counter() - t0:.0f} s", file=sys.stderr)
        try:
            post = sample_nuts(
                start,
                image,
                num_warmup=args.warmup,
                num_samples=args.samples,
                num_chains=args.chains,
                seed=args.seed + i,
                settings=settings,
            )
        except Exception as err:  # one failed mock is a miss; the run goes on
            failed += 1
            print(json.dumps({"mock": i, "error": repr(err)[:200]}), flush=True)
            for k in KEYS:
                inside[k].append(False)
            continue
        mixed = bool(np.all(post.rhat < 1.1))
        unmixed += not mixed
        ess_min.append(float(np.min(post.ess)))
        sampling.append(post.seconds_warmup + post.seconds_sampling)
        for k in KEYS:
            j = post.names.index(addr(k))
            draws = post.samples[..., j].ravel()
            inside[k].append(mixed and _inside(draws, truth[k], k == "pa"))
    cover = {k: float(np.mean(v)) for k, v in inside.items()}
    out = {
        "script": "calibration_nuts",
        "n_mocks": args.n,
        "shape": list(SHAPE),
        "warmup": args.warmup,
        "samples_per_chain": args.samples,
        "chains": args.chains,
        "coverage_68": cover,
        "band": [0.56, 0.80],
        "all_in_band": all(0.56 <= c <= 0.80 for c in cover.values()),
        "unmixed": unmixed,
        "failed": failed,
        "median_min_ess": float(np.median(ess_min)) if ess_min else None,
        "median_seconds_sampling": float(np.median(sampling)) if sampling else None,
        "seconds": time.perf_counter() - t0,
        "seed": args.seed,
        "settings": args.settings,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
