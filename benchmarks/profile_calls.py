"""Where a warm staged fit spends its time, call by call.

Not a test. Fits a case written by ../shared/bench/mockcases.py with ``scenefit.fit``
(first once, to compile), then ``--repeats`` more times with each call of the two
compiled programs timed (the cheap normal equations and the defect image, waited for
with ``jax.block_until_ready``); prints per fit the wall time, the number of calls, the
median and sum of each program's calls and the rest (Python and host-side algebra).

    python benchmarks/profile_calls.py CASE_DIR [--repeats 3]
"""

from __future__ import annotations

import argparse
import importlib
import json
import pathlib
import time

import numpy as np


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=pathlib.Path)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args(argv)

    import jax
    from profile_compile import load_case

    import scenefit as sf

    fit_module = importlib.import_module("scenefit.fitting.fit")
    case = args.case
    image, scene = load_case(case)
    log = []
    staged = fit_module.lm_staged

    def timed(name, fn):
        def call(*a):
            t0 = time.perf_counter()
            out = jax.block_until_ready(fn(*a))
            log.append((name, time.perf_counter() - t0))
            return out

        return call

    def wrapped(normal, defect, *a, **k):
        return staged(timed("normal", normal), timed("defect", defect), *a, **k)

    fit_module.lm_staged = wrapped
    sf.fit(scene, image)  # compiles
    for _ in range(args.repeats):
        log.clear()
        t0 = time.perf_counter()
        res = sf.fit(scene, image)
        total = time.perf_counter() - t0
        row = {"case": case.name, "fit_ms": round(total * 1e3, 2), "iterations": res.n_iter}
        for name in ("normal", "defect"):
            t = [dt for n, dt in log if n == name]
            row[name] = {
                "calls": len(t),
                "median_ms": round(float(np.median(t)) * 1e3, 3),
                "sum_ms": round(sum(t) * 1e3, 2),
            }
        row["rest_ms"] = round((total - sum(dt for _, dt in log)) * 1e3, 2)
        print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
