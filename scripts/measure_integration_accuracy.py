"""Measure the pixel-integration accuracy of scenefit's renderer against an independent
reference (``scripts/integration_reference.py``: numpy, graded tensor Gauss-Legendre
mesh, converged to ~1e-9; no scenefit code).

One JSON line per (settings, case): the largest relative error over pixels brighter than
1e-3 of the peak (``max_rel_bright``), the largest absolute error over the peak pixel,
the summed absolute error over the flux, and the render time (jit warm, seconds).

    python scripts/measure_integration_accuracy.py [--settings default fast]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

import scenefit as sf

sys.path.insert(0, str(Path(__file__).resolve().parent))
from integration_reference import reference_image  # noqa: E402

CLASSES = {"sersic": sf.Sersic, "exponential": sf.Exponential}
CLASSES.update(gaussian=sf.Gaussian, moffat=sf.Moffat)
SETTINGS = {"default": sf.RenderSettings, "fast": sf.RenderSettings.fast}


def cases():
    """(kind, x0, y0, q, pa, law): 41 x 41 px, pixel scale 1."""
    out = []
    for n in (0.5, 1.0, 2.0, 4.0, 6.0, 8.0):
        for r_e in (0.3, 0.5, 2.0, 5.0):
            out.append(("sersic", 0.37, -0.21, 0.6, 30.0, dict(r_e=r_e, n=n)))
    for n in (1.0, 4.0, 8.0):
        for r_e in (0.5, 2.0, 10.0):
            out.append(("sersic", 0.5, 0.5, 0.2, 70.0, dict(r_e=r_e, n=n)))
    out += [
        ("exponential", 0.2, 0.1, 0.2, 10.0, dict(h=1.0)),
        ("gaussian", 0.2, 0.1, 0.2, 10.0, dict(sigma=0.5)),
        ("moffat", 0.2, 0.1, 0.5, 10.0, dict(fwhm=1.0, beta=2.5)),
    ]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--settings", nargs="+", default=["default", "fast"], choices=SETTINGS)
    args = ap.parse_args(argv)
    shape = (41, 41)
    img = sf.Image(np.zeros(shape), pixel_scale=1.0)
    for kind, x0, y0, q, pa, law in cases():
        ref = reference_image(shape, kind, x0, y0, q, pa, **law)
        bright = ref > 1e-3 * ref.max()
        scene = sf.Scene([CLASSES[kind](x=x0, y=y0, flux=1.0, q=q, pa=pa, **law)])
        for name in args.settings:
            st = SETTINGS[name]()
            sf.render(scene, img, st)  # compile
            t0 = time.perf_counter()
            m = sf.render(scene, img, st)
            dt = time.perf_counter() - t0
            err = np.abs(m - ref)
            row = dict(settings=name, kind=kind, **law, q=q, pa=pa, x0=x0, y0=y0)
            row.update(
                max_rel_bright=float((err[bright] / ref[bright]).max()),
                max_err_over_peak=float(err.max() / ref.max()),
                total_abs_err_over_flux=float(err.sum() / ref.sum()),
                render_s=round(dt, 4),
            )
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
