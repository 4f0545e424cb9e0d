"""Time scenefit's pixel integration (jit warm): one 100x100 Sersic, a 16-galaxy 256x256
scene, and the model Jacobian of each. Prints one JSON line per (settings, case).

    python scripts/bench_integration.py [--settings default fast] [--repeat 5]
"""

from __future__ import annotations

import argparse
import json
import time

import jax
import jax.numpy as jnp
import numpy as np

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.render import image_inputs, image_spec, make_model_jacobian, make_renderer


def _scenes():
    one = sf.Scene([sf.Sersic(x=0.3, y=-0.2, flux=100.0, r_e=5.0, n=3.0, q=0.6, pa=30.0)])
    rng = np.random.default_rng(0)
    comps = [
        sf.Sersic(
            x=float(rng.uniform(-100, 100)),
            y=float(rng.uniform(-100, 100)),
            flux=float(rng.uniform(50, 500)),
            r_e=float(rng.uniform(1.0, 8.0)),
            n=float(rng.uniform(0.8, 5.0)),
            q=float(rng.uniform(0.3, 1.0)),
            pa=float(rng.uniform(0, 180)),
        )
        for _ in range(16)
    ]
    return {"sersic_100x100": (one, (100, 100)), "16_sersic_256x256": (sf.Scene(comps), (256, 256))}


def _time(fn, *args, repeat):
    """Best wall time and best CPU time (all threads; steadier on a loaded machine)."""
    jax.block_until_ready(fn(*args))  # compile + warm
    wall = cpu = np.inf
    for _ in range(repeat):
        t0, c0 = time.perf_counter(), time.process_time()
        jax.block_until_ready(fn(*args))
        wall = min(wall, time.perf_counter() - t0)
        cpu = min(cpu, time.process_time() - c0)
    return round(wall, 4), round(cpu, 4)


PRESETS = {
    "default": lambda: sf.RenderSettings(),
    "fast": lambda: sf.RenderSettings.fast() if hasattr(sf.RenderSettings, "fast") else None,
}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["default", "fast"])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    for name in args.settings:
        st = PRESETS[name]()
        if st is None:
            continue
        for case, (scene, shape) in _scenes().items():
            img = sf.Image(np.zeros(shape))
            layout, vals, _ = build_layout(scene)
            spec, inputs = image_spec(img), image_inputs(img)
            p = jnp.asarray(vals.base)
            render = jax.jit(make_renderer(layout, spec, st))
            jac = jax.jit(make_model_jacobian(layout, spec, st))
            out = {
                "settings": name,
                "case": case,
                "render_wall_cpu_s": _time(render, p, inputs, repeat=args.repeat),
                "jacobian_wall_cpu_s": _time(jac, p, inputs, repeat=args.repeat),
            }
            print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
