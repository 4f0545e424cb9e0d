"""Core benchmark: time a single-galaxy and a 16-galaxy Levenberg-Marquardt fit.

Not a test. Prints one JSON line per case with compile+first-fit time, the median warm
fit time over repeats, iterations and reduced chi^2. Peer comparisons come with the
speed issue's benchmark.

    python benchmarks/bench_core.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np


def _mock(n_gal: int, size: int, seed: int):
    import scenefit as sf

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[-12:13, -12:13]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2)
    blank = sf.Image(np.zeros((size, size)), psf=psf, pixel_scale=1.0)
    half = 0.4 * size
    truth, start = [], []
    for _ in range(n_gal):
        x, y = rng.uniform(-half, half, 2)
        flux = rng.uniform(2e3, 2e4)
        r_e = rng.uniform(2.0, 6.0)
        n = rng.uniform(0.8, 3.5)
        q = rng.uniform(0.4, 0.9)
        pa = rng.uniform(0, 180)
        truth.append(sf.Sersic(x=x, y=y, flux=flux, r_e=r_e, n=n, q=q, pa=pa))
        start.append(
            sf.Sersic(
                x=x + rng.normal(0, 0.5),
                y=y + rng.normal(0, 0.5),
                flux=flux * rng.uniform(0.7, 1.3),
                r_e=r_e * rng.uniform(0.7, 1.3),
                n=float(np.clip(n + rng.normal(0, 0.3), 0.5, 6)),
                q=float(np.clip(q + rng.normal(0, 0.05), 0.1, 0.99)),
                pa=pa + rng.normal(0, 5),
            )
        )
    truth.append(sf.FlatSky(sky=10.0))
    start.append(sf.FlatSky(sky=9.0))
    model = sf.render(sf.Scene(truth), blank)
    sigma = np.sqrt(1.0 + model / 10.0)
    data = model + rng.normal(size=model.shape) * sigma
    return blank.replace(data=data, sigma=sigma), sf.Scene(start)


def run_case(name, n_gal, size, repeats, seed=0):
    import scenefit as sf

    image, start = _mock(n_gal, size, seed)
    t0 = time.perf_counter()
    res = sf.fit(start, image)
    first = time.perf_counter() - t0
    warm = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        sf.fit(start, image)
        warm.append(time.perf_counter() - t0)
    return {
        "case": name,
        "size": size,
        "n_galaxies": n_gal,
        "n_free": len(res.free),
        "first_fit_s": round(first, 3),
        "warm_fit_median_s": round(float(np.median(warm)), 4),
        "n_iter": res.n_iter,
        "reduced_chi2": round(res.reduced_chi2, 4),
        "status": res.message,
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    import scenefit  # noqa: F401

    import_s = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "import_s": round(import_s, 3),
                "machine": platform.machine(),
                "python": platform.python_version(),
            }
        )
    )
    for name, n_gal, size in (("single", 1, 100), ("sixteen", 16, 256)):
        print(json.dumps(run_case(name, n_gal, size, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
