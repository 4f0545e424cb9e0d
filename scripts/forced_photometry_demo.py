"""Forced photometry vs a full joint LM fit on the three-source, two-band mock.

Mock: tests/forced_mock.py (two overlapping galaxies and a star, g and r images of
different scales, orientations and PSFs; scenefit-rendered, seeded noise). Runs

1. ``fit_joint`` from a perturbed start (shapes, positions, per-band fluxes, skies);
2. ``forced_photometry`` at the joint fit's shapes (first call: compiles; second: warm);
3. ``forced_photometry`` at the true shapes, for the flux pulls.

Prints one JSON line: timings, the flux pulls (fit - truth) / sigma of both, and the
largest difference between the joint LM fluxes and the forced ones at its shapes.

    python scripts/forced_photometry_demo.py [--seed 1]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
import time
from pathlib import Path

import numpy as np

import scenefit as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
import forced_mock as mock  # noqa: E402

SETTINGS = sf.RenderSettings().coarse()


def perturbed_start():
    comps = []
    for c in mock.scene().components:
        ch = {}
        for p in c.param_names():
            v = getattr(c, p).value
            if p == "flux":
                v = 200.0
            elif p in ("x", "y"):
                v = v + 0.1
            elif p in ("r_e", "h"):
                v = v * 1.15
            elif p == "pa":
                v = v + 8.0
            ch[p] = dataclasses.replace(getattr(c, p), value=v)
        comps.append(dataclasses.replace(c, **ch))
    return sf.Scene(comps)


def pulls(get):
    return {
        f"{s}[{b}]": round(float((get(s, b)[0] - mock.FLUX[b][s]) / get(s, b)[1]), 3)
        for b in mock.FLUX
        for s in mock.FLUX[b]
    }


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)
    images = mock.make_images(args.seed, SETTINGS)

    t = time.perf_counter()
    joint = sf.fit_joint(perturbed_start(), images, settings=SETTINGS, staged=False)
    t_joint = time.perf_counter() - t
    t = time.perf_counter()
    forced = sf.forced_photometry(joint, images, settings=SETTINGS)
    t_forced_cold = time.perf_counter() - t
    t = time.perf_counter()
    forced = sf.forced_photometry(joint, images, settings=SETTINGS)
    t_forced_warm = time.perf_counter() - t
    true = sf.forced_photometry(mock.scene(), images, settings=SETTINGS)

    diff = max(
        abs(forced.value(s, b) - joint.value(f"{s}.flux[{b}]")) / forced.error(s, b)
        for b in forced.bands
        for s in forced.sources
    )
    out = {
        "seed": args.seed,
        "joint_lm": {
            "converged": bool(joint.converged),
            "n_iter": int(joint.n_iter),
            "seconds": round(t_joint, 2),
            "free": len(joint.names),
            "flux_pulls": pulls(
                lambda s, b: (joint.value(f"{s}.flux[{b}]"), joint.error(f"{s}.flux[{b}]"))
            ),
        },
        "forced_at_joint_shapes": {
            "seconds_first_call": round(t_forced_cold, 2),
            "seconds_warm": round(t_forced_warm, 4),
            "max_abs_diff_vs_joint_in_sigma": float(f"{diff:.3g}"),
            "flux_err_ratio_forced_over_joint": round(
                float(
                    np.median(
                        [
                            forced.error(s, b) / joint.error(f"{s}.flux[{b}]")
                            for b in forced.bands
                            for s in forced.sources
                        ]
                    )
                ),
                3,
            ),
        },
        "forced_at_true_shapes": {
            "flux_pulls": pulls(lambda s, b: (true.value(s, b), true.error(s, b))),
            "reduced_chi2": round(true.reduced_chi2, 4),
        },
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
