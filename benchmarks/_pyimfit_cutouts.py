"""Fit a stack of cutouts one after another with pyimfit (run in pyimfit's environment).

Reads an ``.npz`` written by ``scripts/batch_throughput.py``: ``data`` (N, H, W),
``sigma`` (scalar noise), ``psf`` (h, w) and ``starts`` (N, 7) of Imfit's Sersic
parameters X0, Y0 (1-based pixels), PA (deg CCW from +y), ell, n, I_e, r_e (pixels).
Each fit builds its model description and fitter (as a user's loop would) and runs
Imfit's LM with its default sub-pixel sampling; the timing excludes the import.
Prints one JSON line.

    python _pyimfit_cutouts.py cutouts.npz
"""

import json
import sys
import time

import numpy as np
import pyimfit


def description(p, shape):
    x0, y0, pa, ell, n, ie, re = (float(v) for v in p)
    h, w = shape
    m = pyimfit.SimpleModelDescription()
    m.x0.setValue(x0, [max(1.0, x0 - 5), min(w, x0 + 5)])
    m.y0.setValue(y0, [max(1.0, y0 - 5), min(h, y0 + 5)])
    f = pyimfit.make_imfit_function("Sersic")
    f.PA.setValue(pa, [pa - 180.0, pa + 180.0])
    f.ell.setValue(min(max(ell, 0.0), 0.95), [0.0, 0.95])
    f.n.setValue(min(max(n, 0.5), 6.0), [0.5, 6.0])
    f.I_e.setValue(ie, [ie * 1e-3, ie * 1e3])
    f.r_e.setValue(re, [0.3, 4.0 * re])
    m.addFunction(f)
    return m


def main():
    z = np.load(sys.argv[1])
    data, psf, starts = z["data"], z["psf"], z["starts"]
    err = np.full(data.shape[1:], float(z["sigma"]))
    t0 = time.perf_counter()
    conv, params = [], []
    for img, p in zip(data, starts, strict=True):
        fitter = pyimfit.Imfit(description(p, img.shape), psf=psf, subsampling=True)
        fitter.fit(img, error=err, solver="LM")
        conv.append(bool(fitter.fitConverged))
        params.append([float(v) for v in fitter.getRawParameters()])
    seconds = time.perf_counter() - t0
    print(
        json.dumps(
            {
                "tool": f"pyimfit-{pyimfit.__version__}",
                "n": len(data),
                "seconds": seconds,
                "fits_per_s": len(data) / seconds,
                "converged": int(sum(conv)),
                "params": params,
            }
        )
    )


if __name__ == "__main__":
    main()
