"""Where a warm scenefit fit spends its time: one mock case, the LM iteration taken apart.

Not a test. Builds the same pieces as :func:`scenefit.fit` (renderer, block-sparse model
Jacobian, whitened residuals, damped normal equations), jit-compiles each on its own and
times it warm (median of ``--repeats`` calls), then times the whole warm fit. Prints one
JSON line with, in seconds:

* ``render``: one model image (the trial point of every LM iteration);
* ``jacobian``: d model / d params for all free parameters (``make_model_jacobian``);
* ``linearize``: render + Jacobian + whitening, as after every accepted step;
* ``normal_solve``: J^T J, J^T r and the damped solve;
* ``fit``: the whole warm fit, with its iterations and evaluations, and
  ``per_iteration`` = fit / iterations;
* the same render/jacobian timings with cheaper integration settings (what integration
  accuracy costs), and the fraction of the image each galaxy's light covers (what
  per-source windows could save);
* compile times of the fit (tracing, lowering, XLA), peak memory, the size of J.

    python benchmarks/profile_fit.py CASE_DIR [--repeats 5]

CASE_DIR is a case written by ../shared/bench/mockcases.py (see bench_peers.py).
"""

from __future__ import annotations

import argparse
import json
import pathlib
import resource
import sys
import time

import numpy as np


def _timed(fn, *args, repeats=5):
    """(first-call seconds incl. compile, median warm seconds)."""
    import jax

    t0 = time.perf_counter()
    jax.block_until_ready(fn(*args))
    first = time.perf_counter() - t0
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        jax.block_until_ready(fn(*args))
        times.append(time.perf_counter() - t0)
    return first, float(np.median(times))


class _Progress(dict):
    """A dict of timings that also prints each entry to stderr as it is measured."""

    def __setitem__(self, key, value):
        super().__setitem__(key, value)
        print(f"{key}: {value}", file=sys.stderr, flush=True)


def profile(case: pathlib.Path, repeats: int = 5) -> dict:
    import jax
    import jax.numpy as jnp

    import scenefit as sf
    from scenefit._imfit_cli import read_fits_image
    from scenefit._layout import build_layout
    from scenefit.fitting.fit import make_normal_equations
    from scenefit.io.imfit_config import read_imfit_config
    from scenefit.likelihood import residual_jacobian, residuals_and_objective
    from scenefit.parameters import to_unconstrained
    from scenefit.render import (
        RenderSettings,
        image_inputs,
        image_spec,
        make_model_jacobian,
        make_renderer,
    )

    data = read_fits_image(case / "image.fits")
    sigma = read_fits_image(case / "sigma.fits")
    image = sf.Image(data, sigma=sigma, pixel_scale=1.0)
    scene, _ = read_imfit_config(case / "imfit_init.dat").to_scene(image, "exact")
    layout, vals, x0 = build_layout(scene)
    spec, inputs = image_spec(image), image_inputs(image)
    p0 = jnp.asarray(layout.expand(jnp.asarray(x0), jnp.asarray(vals.base)))
    d, w = jnp.asarray(image.data), jnp.asarray(image.invvar)
    out = {"case": case.name, "pixels": int(data.size), "n_free": layout.n_free}

    def pieces(settings):
        render = make_renderer(layout, spec, settings)
        mjac = make_model_jacobian(layout, spec, settings)
        f_render = jax.jit(lambda p: render(p, inputs))
        f_jac = jax.jit(lambda p: mjac(p, inputs))

        @jax.jit
        def f_lin(p):
            m = render(p, inputs)
            r, obj = residuals_and_objective("chi2", m, d, w)
            return r, obj, residual_jacobian("chi2", mjac(p, inputs), m, d, w)

        return f_render, f_jac, f_lin

    settings = RenderSettings()
    f_render, f_jac, f_lin = pieces(settings)
    t = _Progress()
    t["render_compile"], t["render"] = _timed(f_render, p0, repeats=repeats)
    t["jacobian_compile"], t["jacobian"] = _timed(f_jac, p0, repeats=repeats)
    t["linearize_compile"], t["linearize"] = _timed(f_lin, p0, repeats=repeats)
    r, _, J = f_lin(p0)

    @jax.jit
    def f_solve(J, r):
        A = J.T @ J
        g = J.T @ r
        D = jnp.diag(A)
        return jnp.linalg.solve(A + 1e-3 * jnp.diag(D), -g)

    t["normal_solve_compile"], t["normal_solve"] = _timed(f_solve, J, r, repeats=repeats)
    out["jacobian_mb"] = J.size * J.dtype.itemsize / 2**20
    del J, r

    # cheaper integration: what the accuracy settings cost
    for name, s in (
        ("quad1_norefine", RenderSettings(quad_order=1, refine_size=0)),
        ("quad3_norefine", RenderSettings(quad_order=3, refine_size=0)),
    ):
        fr, fj, _ = pieces(s)
        t[f"render_{name}"] = _timed(fr, p0, repeats=repeats)[1]
        t[f"jacobian_{name}"] = _timed(fj, p0, repeats=repeats)[1]

    # the whole fit: compile stages, then warm
    kinds = np.asarray(layout.kinds)
    u0 = jnp.asarray(to_unconstrained(x0, kinds, vals.lo, vals.hi))
    args = (
        jnp.asarray(vals.base),
        jnp.asarray(vals.lo),
        jnp.asarray(vals.hi),
        d,
        w,
        image.gain,
        inputs,
        (jnp.zeros(0),) * 4,  # no priors
    )
    normal, _ = make_normal_equations(layout, spec, settings, "chi2", ((), ()))
    for name, fn in (("normal", normal),):
        t0 = time.perf_counter()
        traced = jax.jit(fn).trace(u0, *args)
        t[f"fit_{name}_trace"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        lowered = traced.lower()
        t[f"fit_{name}_lower"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        lowered.compile()
        t[f"fit_{name}_xla_compile"] = time.perf_counter() - t0
    sf.fit(scene, image)  # warm jit's own dispatch cache
    fits = []
    for _ in range(max(1, repeats // 2)):
        t0 = time.perf_counter()
        res = sf.fit(scene, image)
        fits.append(time.perf_counter() - t0)
    t["fit"] = float(np.median(fits))
    out.update(
        iterations=int(res.n_iter),
        n_eval=int(res.n_eval),
        per_iteration=t["fit"] / max(res.n_iter, 1),
        status=res.message,
    )
    out["seconds"] = {k: round(v, 5) for k, v in dict(t).items()}
    out["window_fraction"] = _window_fraction(case, image)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    return out


def _window_fraction(case, image, level=0.01):
    """Mean fraction of the image inside each galaxy's box where its (true) model
    exceeds ``level`` x the median noise sigma (at the starting values): the share of
    pixels a per-source
    window would still have to render."""
    import scenefit as sf
    from scenefit.io.imfit_config import read_imfit_config

    truth = json.loads((case / "truth.json").read_text())
    scene, _ = read_imfit_config(case / "imfit_init.dat").to_scene(image, "exact")
    thresh = level * float(np.median(1 / np.sqrt(image.invvar)))
    fracs = []
    for comp in scene.components[: truth["n_galaxies"]]:
        m = sf.render(sf.Scene([comp]), image)
        rows, cols = np.nonzero(m > thresh)
        if rows.size == 0:
            fracs.append(0.0)
            continue
        area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        fracs.append(area / m.size)
    return {"level_sigma": level, "mean": float(np.mean(fracs)), "max": float(np.max(fracs))}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("case", type=pathlib.Path)
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args(argv)
    print(json.dumps(profile(args.case, args.repeats)), flush=True)


if __name__ == "__main__":
    main()
