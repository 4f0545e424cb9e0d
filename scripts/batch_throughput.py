"""Batch LM throughput: fit_batch vs a loop of single fit() calls on Sersic cutouts.

Draws ``--n`` seeded 64 x 64 mocks of one PSF-convolved Sersic (7 free parameters: x, y,
flux, r_e, n, q, pa; the sky is known and subtracted), starts each fit from a perturbed
guess, and times (both warm, i.e. after a first call that compiles):

* ``fit_batch`` on all cutouts in one vectorised call;
* a loop of ``fit`` over the first ``--loop-n`` cutouts (fits/s extrapolates);
* pyimfit (Imfit's LM, default sub-pixel sampling, the same PSF, start and noise) on
  all cutouts, in its own environment (``--pyimfit PYTHON``, default
  ``/work/peer-venvs/pyimfit/bin/python`` or ``../peer-venvs/...`` from
  ``../shared/bench/setup_peers.sh``; skipped when absent), through
  ``benchmarks/_pyimfit_cutouts.py``; its time excludes the import.

Prints one JSON line.

    python scripts/batch_throughput.py [--n 200] [--loop-n 50] [--seed 0] [--pyimfit PY]
"""

from __future__ import annotations

import argparse
import json
import platform
import time

import numpy as np

SIZE = 64
NOISE = 1.0


def make_cutouts(n: int, seed: int, profile: str = "sersic", truth_k: int = 1):
    """(images, starts, truths): seeded Sersic mocks with S/N of a few hundred; the
    starts use ``profile`` (``"sersic_gm"``: the Gaussian-mixture fast path fitted to
    the exact Sersic mocks), named ``sersic`` either way."""
    import scenefit as sf

    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[-5:6, -5:6]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.3**2)
    blank = sf.Image(np.zeros((SIZE, SIZE)), psf=psf, pixel_scale=1.0)
    # the mocks: the same Gaussian PSF sampled truth_k times finer (truth_k = 1: the
    # fitted images' own PSF, whose sampling error the exact renderer then shares)
    k = int(truth_k)
    fy, fx = (
        np.mgrid[-5 * k - k // 2 : 5 * k + k // 2 + 1, -5 * k - k // 2 : 5 * k + k // 2 + 1] / k
    )
    fine = sf.PixelPSF(np.exp(-0.5 * (fx**2 + fy**2) / 1.3**2), k)
    mock_grid = blank.replace(psf=fine) if k > 1 else blank
    images, starts, truths = [], [], []
    for _ in range(n):
        t = dict(
            x=rng.uniform(-2, 2),
            y=rng.uniform(-2, 2),
            flux=rng.uniform(2e3, 2e4),
            r_e=rng.uniform(2.0, 8.0),
            n=rng.uniform(0.7, 4.0),
            q=rng.uniform(0.3, 0.95),
            pa=rng.uniform(0, 180),
        )
        truth = sf.Scene([sf.Sersic(**t)])
        model = sf.render(truth, mock_grid)
        data = model + rng.normal(0, NOISE, model.shape)
        s = dict(
            x=t["x"] + rng.normal(0, 0.5),
            y=t["y"] + rng.normal(0, 0.5),
            flux=t["flux"] * rng.uniform(0.7, 1.3),
            r_e=t["r_e"] * rng.uniform(0.7, 1.3),
            n=float(np.clip(t["n"] + rng.normal(0, 0.3), 0.5, 6.0)),
            q=float(np.clip(t["q"] + rng.normal(0, 0.05), 0.1, 0.99)),
            pa=t["pa"] + rng.normal(0, 5),
        )
        images.append(blank.replace(data=data, sigma=NOISE))
        start_cls = sf.SersicGM if profile == "sersic_gm" else sf.Sersic
        starts.append(sf.Scene([start_cls(name="sersic", **s)]))
        truths.append(truth)
    return images, starts, truths


def imfit_starts(starts, shape) -> np.ndarray:
    """(N, 7) Imfit Sersic parameters (X0, Y0, PA, ell, n, I_e, r_e) of scenefit starts
    on images of ``shape`` with the default pixel map (x east = left, 1 arcsec = 1 px)."""
    from scenefit.io.imfit_config import flux_factor

    h, w = shape
    rows = []
    for sc in starts:
        v = {k: sc.param(f"sersic.{k}").value for k in ("x", "y", "flux", "r_e", "n", "q", "pa")}
        ell = 1.0 - v["q"]
        ie = v["flux"] / flux_factor("Sersic", {"ell": ell, "n": v["n"], "r_e": v["r_e"]})
        x0 = (w - 1) / 2.0 - v["x"] + 1.0
        y0 = (h - 1) / 2.0 + v["y"] + 1.0
        rows.append([x0, y0, v["pa"], ell, v["n"], ie, v["r_e"]])
    return np.asarray(rows)


def run_pyimfit(python, images, starts) -> dict:
    """pyimfit on the same cutouts in its own environment; {} when it is absent."""
    import os
    import pathlib
    import subprocess
    import tempfile

    root = pathlib.Path(__file__).resolve().parents[1]
    candidates = (
        [python]
        if python
        else [
            "/work/peer-venvs/pyimfit/bin/python",
            str(root.parent / "peer-venvs" / "pyimfit" / "bin" / "python"),
        ]
    )
    python = next((c for c in candidates if c and os.path.exists(c)), None)
    if python is None:
        return {}
    psf = np.asarray(images[0].psf.image)
    with tempfile.TemporaryDirectory() as tmp:
        path = pathlib.Path(tmp) / "cutouts.npz"
        np.savez(
            path,
            data=np.stack([im.data for im in images]),
            sigma=NOISE,
            psf=psf / psf.sum(),
            starts=imfit_starts(starts, images[0].shape),
        )
        run = subprocess.run(
            [python, str(root / "benchmarks" / "_pyimfit_cutouts.py"), str(path)],
            capture_output=True,
            text=True,
            check=False,
        )
    if run.returncode != 0:
        return {"error": run.stderr[-500:]}
    return json.loads(run.stdout.strip().splitlines()[-1])


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=200)
    ap.add_argument("--loop-n", type=int, default=50)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--methods", default="map,vmap", help="fit_batch methods to time")
    ap.add_argument("--pyimfit", default=None, help="python of a pyimfit environment")
    ap.add_argument(
        "--truth-oversampling",
        type=int,
        default=1,
        help="draw the mocks with the PSF sampled this much finer (odd; 1: the same PSF)",
    )
    ap.add_argument(
        "--profile",
        default="sersic",
        choices=("sersic", "sersic_gm"),
        help="the fitted model (the mocks are exact Sersics either way)",
    )
    args = ap.parse_args(argv)

    import jax

    from scenefit.fitting import fit, fit_batch

    images, starts, truths = make_cutouts(args.n, args.seed, args.profile, args.truth_oversampling)

    timings = {}
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        fit_batch(starts, images, method=method)  # compile (and a first run)
        first = time.perf_counter() - t0
        t0 = time.perf_counter()
        batch = fit_batch(starts, images, method=method)
        timings[method] = (first, time.perf_counter() - t0, batch)
    best = min(timings, key=lambda m: timings[m][1])
    t_batch_first, t_batch, batch = timings[best]

    m = min(args.loop_n, args.n)
    t0 = time.perf_counter()
    fit(starts[0], images[0])  # compile
    t_single_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    loop = [fit(s, i) for s, i in zip(starts[:m], images[:m], strict=True)]
    t_loop = time.perf_counter() - t0

    # agreement of batch and single fits, and pulls against the truth
    diffs, pulls, by_param = [], [], {}
    for k in range(m):
        for a in loop[k].free:
            e = loop[k].error(a)
            if np.isfinite(e) and e > 0:
                diffs.append(abs(batch[k].value(a) - loop[k].value(a)) / e)
    for r, t in zip(batch, truths, strict=True):
        for a in r.free:
            e = r.error(a)
            if np.isfinite(e) and e > 0 and a != "sersic.pa":
                pulls.append((r.value(a) - t.param(a).value) / e)
                by_param.setdefault(a.split(".")[1], []).append(pulls[-1])
    pulls = np.asarray(pulls)
    peer = run_pyimfit(args.pyimfit, images, starts)
    out = {
        "script": "batch_throughput",
        "profile": args.profile,
        "truth_oversampling": args.truth_oversampling,
        "n_cutouts": args.n,
        "shape": [SIZE, SIZE],
        "free_params": len(batch[0].free),
        "batch_method_best": best,
        "batch_fits_per_s": args.n / t_batch,
        "batch_fits_per_s_by_method": {m: args.n / v[1] for m, v in timings.items()},
        "batch_converged_by_method": {
            m: int(sum(r.converged for r in v[2])) for m, v in timings.items()
        },
        "batch_seconds_warm": t_batch,
        "batch_seconds_first_call": t_batch_first,
        "loop_n": m,
        "loop_fits_per_s": m / t_loop,
        "loop_seconds_warm": t_loop,
        "single_seconds_first_call": t_single_first,
        "speedup_batch_vs_loop": (args.n / t_batch) / (m / t_loop),
        "batch_converged": int(sum(r.converged for r in batch)),
        "loop_converged": int(sum(r.converged for r in loop)),
        "max_batch_minus_loop_in_sigma": float(max(diffs)) if diffs else None,
        "frac_abs_pull_lt_3": float(np.mean(np.abs(pulls) < 3)),
        "pull_by_param": {
            k: {
                "median": float(np.median(v)),
                "frac_abs_lt_3": float(np.mean(np.abs(np.asarray(v)) < 3)),
            }
            for k, v in by_param.items()
        },
        "pyimfit_fits_per_s": peer.get("fits_per_s"),
        "pyimfit_converged": peer.get("converged"),
        "pyimfit_tool": peer.get("tool"),
        "speedup_batch_vs_pyimfit": (
            (args.n / t_batch) / peer["fits_per_s"] if "fits_per_s" in peer else None
        ),
        "device": jax.devices()[0].device_kind,
        "platform": jax.default_backend(),
        "cpu_count": __import__("os").cpu_count(),
        "machine": platform.machine(),
        "jax": jax.__version__,
        "seed": args.seed,
    }
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
