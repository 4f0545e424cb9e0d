"""Compile time of a fit against the number of sources: it must stay flat.

Not a test. For each number of galaxies N writes a mock case (../shared/bench/mockcases.py,
SIZE x N) and, in a fresh Python process each (no in-process or persistent cache),
traces, lowers and XLA-compiles the two programs of a default (staged) fit: the cheap
normal equations (objective, J^T J, J^T r) and the defect image (accurate minus cheap
model). Same-type components are batched, so the programs differ only in
the length of a leading axis and their compile times should not grow with N. Prints
one JSON line per N with seconds per stage and program, then one summary line with
the ratio of the largest to the smallest total.

    python benchmarks/compile_scaling.py [--size 128] [--counts 1,2,4,8,16,32,64]
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent


def measure(case: pathlib.Path) -> dict:
    """Compile the programs of a staged fit of ``case``; seconds per stage."""
    import jax
    import jax.numpy as jnp
    import numpy as np
    from profile_compile import _stages, load_case  # the same trace / lower / XLA timer

    from scenefit.fitting.fit import make_defect, make_normal_equations, prepare, problem_args
    from scenefit.fitting.priors import build_priors
    from scenefit.parameters import to_unconstrained
    from scenefit.render import image_spec

    image, scene = load_case(case)
    settings, layout, vals, x0 = prepare(scene, image, "chi2", None)
    coarse = settings.coarse()
    spec = image_spec(image)
    u0 = jnp.asarray(to_unconstrained(x0, np.asarray(layout.kinds), vals.lo, vals.hi))
    pset = build_priors(layout, vals.base, None, ())
    args = problem_args(vals, image, pset, offset=True, layout=layout)
    normal, _ = make_normal_equations(layout, spec, coarse, "chi2", pset.static)
    defect = make_defect(layout, spec, coarse, settings)
    out = {"n_galaxies": len(scene), "n_free": layout.n_free, "pixels": image.data.size}
    for name, fn in (("normal", normal), ("defect", defect)):
        out[name] = {k: round(v, 3) for k, v in _stages(jax.jit(fn), u0, *args)[0].items()}
    out["total"] = round(sum(sum(out[n].values()) for n in ("normal", "defect")), 3)
    out["jax"] = jax.__version__
    return out


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=128)
    ap.add_argument("--counts", default="1,2,4,8,16,32,64")
    ap.add_argument(
        "--shared-bench", type=pathlib.Path, default=HERE.parent.parent / "shared" / "bench"
    )
    ap.add_argument("--one", type=pathlib.Path, help=argparse.SUPPRESS)  # child process
    args = ap.parse_args(argv)
    if args.one is not None:
        print(json.dumps(measure(args.one)), flush=True)
        return
    env = {**os.environ, "JAX_ENABLE_COMPILATION_CACHE": "false"}
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(c) for c in args.counts.split(",") if c):
            made = subprocess.run(
                [sys.executable, str(args.shared_bench / "mockcases.py"), tmp, f"{args.size}x{n}"],
                check=True,
                capture_output=True,
                text=True,
            )
            case = pathlib.Path(made.stdout.strip().splitlines()[-1])
            child = subprocess.run(
                [sys.executable, __file__, "--one", str(case)],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            row = json.loads(child.stdout.strip().splitlines()[-1])
            row["load_avg_1min"] = os.getloadavg()[0]
            rows.append(row)
            print(json.dumps(row), flush=True)
    totals = [r["total"] for r in rows]
    print(
        json.dumps(
            {
                "summary": "compile seconds (trace + lower + XLA, two programs) vs galaxies",
                "counts": [r["n_galaxies"] for r in rows],
                "total_s": totals,
                "max_over_min": round(max(totals) / min(totals), 3),
            }
        )
    )


if __name__ == "__main__":
    main()
