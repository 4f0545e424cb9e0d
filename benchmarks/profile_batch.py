"""Where a batch of cutout fits spends its time; prints one JSON line.

Not a test. On the cutouts of ``scripts/batch_throughput.py`` (same seed, same starts):

* ``render_ms``: one warm objective evaluation of the first cutout's start with the
  accurate rule, with the refinement ladder on and off (``RenderSettings.refine_ladder``)
  and with the cheap rule (``RenderSettings().coarse()``), median of ``--repeats``;
* ``batch_s`` / ``loop_s``: ``fit_batch(method="map")`` on ``--n`` cutouts and a loop of
  single ``fit`` calls on the same cutouts, both warm, with their iterations and
  evaluations.

Run it under ``taskset -c 0`` for one core.

    python benchmarks/profile_batch.py [--n 20] [--repeats 50]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

import numpy as np


def _median_ms(f, repeats):
    import jax

    jax.block_until_ready(f())
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(f())
        times.append(time.perf_counter() - t0)
    return 1e3 * float(np.median(times))


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=20)
    ap.add_argument("--repeats", type=int, default=50)
    args = ap.parse_args(argv)

    sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / "scripts"))
    import jax
    from batch_throughput import make_cutouts

    import scenefit as sf
    from scenefit._layout import build_layout
    from scenefit.fitting import fit, fit_batch
    from scenefit.fitting.fit import make_objective, problem_args
    from scenefit.fitting.priors import build_priors
    from scenefit.parameters import to_unconstrained
    from scenefit.render import image_spec

    images, starts, _ = make_cutouts(args.n, 0)
    lay, vals, x0 = build_layout(starts[0])
    pset = build_priors(lay, vals.base, None, ())
    pargs = problem_args(vals, images[0], pset, offset=False, layout=lay)
    u = jax.numpy.asarray(to_unconstrained(x0, np.asarray(lay.kinds), vals.lo, vals.hi))
    rules = {
        "accurate": sf.RenderSettings(),
        "accurate_no_ladder": sf.RenderSettings(refine_ladder=False),
        "cheap": sf.RenderSettings().coarse(),
    }
    render_ms = {}
    for name, settings in rules.items():
        fun = jax.jit(make_objective(lay, image_spec(images[0]), settings, "chi2", pset.static)[0])
        render_ms[name] = _median_ms(lambda fun=fun: fun(u, *pargs), args.repeats)

    fit_batch(starts, images, method="map")  # compile
    t0 = time.perf_counter()
    batch = fit_batch(starts, images, method="map")
    batch_s = time.perf_counter() - t0
    fit(starts[0], images[0])  # compile
    t0 = time.perf_counter()
    loop = [fit(s, i) for s, i in zip(starts, images, strict=True)]
    loop_s = time.perf_counter() - t0
    out = {
        "script": "profile_batch",
        "n_cutouts": args.n,
        "render_ms": render_ms,
        "batch_s": batch_s,
        "loop_s": loop_s,
        "batch_iterations": int(sum(r.n_iter for r in batch)),
        "loop_iterations": int(sum(r.n_iter for r in loop)),
        "batch_evaluations": int(sum(r.n_eval for r in batch)),
        "loop_evaluations": int(sum(r.n_eval for r in loop)),
        "jax": jax.__version__,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
