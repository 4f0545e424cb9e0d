"""Compile-time profile: tracing, lowering and XLA compilation of scenefit's jitted pieces
for one mock case, under several integration settings.

Not a test. For each settings variant prints one JSON line with the seconds spent
tracing (Python), lowering (to StableHLO) and compiling (XLA) the renderer, the model
Jacobian and (with ``--fit``) the normal-equations program of a fit (objective, J^T r
and J^T J at every trial point), plus the warm time of one render. JAX's persistent
compilation cache saves only the XLA part; scenefit's program cache
(``scenefit._program_cache``) saves all three.

    python benchmarks/profile_compile.py CASE_DIR [--fit] [--variants default,no_adaptive]
"""

from __future__ import annotations

import argparse
import json
import pathlib
import time

VARIANTS = {
    "one_round": {"refine_rounds": 1},
    "default": {},
    "no_adaptive": {"rel_tol": None},
    "no_adaptive_no_core": {"rel_tol": None, "refine_size": 0},
    "center": {"quad_order": 1, "refine_size": 0, "rel_tol": None},
}


def _stages(fn, *args) -> dict:
    t0 = time.perf_counter()
    traced = fn.trace(*args)
    t1 = time.perf_counter()
    lowered = traced.lower()
    t2 = time.perf_counter()
    compiled = lowered.compile()
    t3 = time.perf_counter()
    return {"trace": t1 - t0, "lower": t2 - t1, "xla": t3 - t2}, compiled


def load_case(case: pathlib.Path):
    """``(image, scene)`` of a mock case: its image with the noise image as sigma
    (1 arcsec pixels) and the scene of its Imfit starting configuration (exact Sersic)."""
    import scenefit as sf
    from scenefit._imfit_cli import read_fits_image
    from scenefit.io.imfit_config import read_imfit_config

    sigma = read_fits_image(case / "sigma.fits")
    image = sf.Image(read_fits_image(case / "image.fits"), sigma=sigma, pixel_scale=1.0)
    scene, _ = read_imfit_config(case / "imfit_init.dat").to_scene(image, "exact")
    return image, scene


def run(case: pathlib.Path, variants, with_fit: bool) -> None:
    import jax
    import jax.numpy as jnp
    import numpy as np

    from scenefit._layout import build_layout
    from scenefit.fitting.fit import make_normal_equations
    from scenefit.parameters import to_unconstrained
    from scenefit.render import (
        RenderSettings,
        image_inputs,
        image_spec,
        make_model_jacobian,
        make_renderer,
    )

    image, scene = load_case(case)
    layout, vals, x0 = build_layout(scene)
    spec, inputs = image_spec(image), image_inputs(image)
    base = jnp.asarray(vals.base)
    p0 = layout.expand(jnp.asarray(x0), base)
    for name in variants:
        settings = RenderSettings(**VARIANTS[name])
        render = make_renderer(layout, spec, settings)
        mjac = make_model_jacobian(layout, spec, settings)
        out = {"case": case.name, "variant": name, "settings": VARIANTS[name]}
        out["render"], f = _stages(jax.jit(render), p0, inputs)
        jax.block_until_ready(f(p0, inputs))
        t0 = time.perf_counter()
        jax.block_until_ready(f(p0, inputs))
        out["render"]["warm"] = time.perf_counter() - t0
        out["jacobian"], _ = _stages(jax.jit(mjac), p0, inputs)
        if with_fit:
            kinds = np.asarray(layout.kinds)
            u0 = jnp.asarray(to_unconstrained(x0, kinds, vals.lo, vals.hi))
            empty = jnp.zeros(0)
            args = (base, jnp.asarray(vals.lo), jnp.asarray(vals.hi), jnp.asarray(image.data))
            args += (jnp.asarray(image.invvar), image.gain, inputs, (empty,) * 4)
            normal, _ = make_normal_equations(layout, spec, settings, "chi2", ((), ()))
            # the normal equations of a fit (compiled beside the defect by scenefit.fit)
            out["fit_normal"], _ = _stages(jax.jit(normal), u0, *args)
        for k in ("render", "jacobian", "fit_normal"):
            if k in out:
                out[k] = {s: round(t, 4) for s, t in out[k].items()}
        print(json.dumps(out), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=pathlib.Path)
    ap.add_argument("--variants", default=",".join(VARIANTS))
    ap.add_argument("--fit", action="store_true", help="also compile the two programs of a fit")
    args = ap.parse_args(argv)
    run(args.case, [v for v in args.variants.split(",") if v], args.fit)


if __name__ == "__main__":
    main()
