"""Warm scenefit fits of one mock case through the Python API; prints one JSON line.

Run in its own process by ``bench_peers.py`` so that its peak memory is its own. The
first fit includes tracing and compilation (no persistent cache: the library default);
the following ``--repeats`` fits reuse the compiled solver and are the "warm" times.

    python benchmarks/_bench_warm.py CASE_DIR [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import sys
import time


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=pathlib.Path)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)

    t0 = time.perf_counter()
    import numpy as np

    import scenefit as sf
    from scenefit._imfit_cli import read_fits_image
    from scenefit.io.imfit_config import read_imfit_config

    import_s = time.perf_counter() - t0
    sys.path.insert(0, str(pathlib.Path(__file__).parent))
    from _bench_recovery import imfit_model_to_native

    d = args.case
    t0 = time.perf_counter()
    data = read_fits_image(d / "image.fits")
    sigma = read_fits_image(d / "sigma.fits", "noise image")
    image = sf.Image(data, sigma=sigma, pixel_scale=1.0)
    config = read_imfit_config(d / "imfit_init.dat")
    scene, _ = config.to_scene(image, "exact")
    setup_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    res = sf.fit(scene, image)
    first_s = time.perf_counter() - t0
    warm = []
    for _ in range(args.repeats):
        t0 = time.perf_counter()
        res = sf.fit(scene, image)
        warm.append(time.perf_counter() - t0)
    best = config.with_scene(res.scene, image, bn_rule="exact")
    print(
        json.dumps(
            {
                "import_s": import_s,
                "setup_s": setup_s,
                "first_fit_s": first_s,
                "warm_fit_s": warm,
                "fit_s": float(np.median(warm)) if warm else first_s,
                "iterations": int(res.n_iter),
                "n_eval": int(res.n_eval),
                "chi2_dof": float(res.reduced_chi2),
                "status": res.message,
                "converged": bool(res.converged),
                "params": imfit_model_to_native(best),
                "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0,
            }
        )
    )


if __name__ == "__main__":
    main()
