"""scenefit's default (adaptive) pixel integration against GalSim's real-space drawing.

For Sersic profiles over a grid of n, r_e (pixels), axis ratio q and a random position
angle and sub-pixel centre, draw the same profile with both codes (no PSF, pixel scale 1,
GalSim ``method="real_space"``: the profile convolved with the pixel by direct 2-D
integration, with tightened ``realspace_relerr``/``realspace_abserr``) and print one JSON
line per case:

* ``max_rel``: max |scenefit - GalSim| / GalSim over pixels brighter than 1e-3 of the peak;
* ``max_abs_over_peak``: max |scenefit - GalSim| / peak over the whole stamp;
* ``flux_rel``: sum(scenefit) / sum(GalSim) - 1 over the stamp.

GalSim is not a scenefit dependency: ``pip install galsim`` to run this. GalSim's Sersic
supports 0.3 <= n <= 6.2; other n are reported as skipped.

Usage: ``python scripts/compare_galsim.py [--quick] [--seed 1]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def galsim_image(n, r_e, q, pa, flux, dx, dy, size, relerr):
    import galsim

    gsp = galsim.GSParams(realspace_relerr=relerr, realspace_abserr=relerr * 1e-3)
    # GalSim's half_light_radius is the circularised one; scenefit's r_e is along the
    # major axis, and a shear keeps the area: r_circ = r_e sqrt(q).
    prof = galsim.Sersic(n, half_light_radius=r_e * np.sqrt(q), flux=flux, gsparams=gsp)
    # scenefit PA is CCW from +y (default cd, east left); GalSim beta is CCW from +x
    prof = prof.shear(q=q, beta=(pa + 90.0) * galsim.degrees)
    img = galsim.ImageD(size, size, scale=1.0)
    prof.drawImage(img, method="real_space", offset=(dx, dy))
    return img.array.copy()


def scenefit_image(n, r_e, q, pa, flux, dx, dy, size):
    import scenefit as sf

    image = sf.Image(np.zeros((size, size)))
    # GalSim offset (dx, dy) pixels from the stamp's true centre; scenefit's default
    # crpix is that centre, and xi = -(x - crpix_x) on the default cd.
    comp = sf.Sersic(x=-dx, y=dy, flux=flux, r_e=r_e, n=n, q=q, pa=pa)
    return sf.render(sf.Scene([comp]), image)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a few cases only")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--relerr", type=float, default=1e-8, help="GalSim realspace_relerr")
    args = ap.parse_args(argv)

    rng = np.random.default_rng(args.seed)
    ns = (0.5, 1.0, 2.0, 4.0, 6.0, 8.0)
    res = (0.5, 2.0, 10.0, 50.0)
    qs = (0.2, 0.6, 1.0)
    if args.quick:
        ns, res, qs = (1.0, 4.0), (2.0,), (0.6,)
    for n in ns:
        for r_e in res:
            for q in qs:
                pa = float(rng.uniform(0.0, 180.0))
                dx, dy = (float(v) for v in rng.uniform(-0.5, 0.5, 2))
                size = int(np.clip(2 * int(6 * r_e) + 1, 41, 201))
                case = dict(n=n, r_e=r_e, q=q, pa=round(pa, 3), dx=round(dx, 4))
                case.update(dy=round(dy, 4), size=size)
                if not 0.3 <= n <= 6.2:
                    print(json.dumps({**case, "skipped": "GalSim Sersic needs 0.3 <= n <= 6.2"}))
                    continue
                t0 = time.time()
                gs = galsim_image(n, r_e, q, pa, 1000.0, dx, dy, size, args.relerr)
                t1 = time.time()
                sfm = scenefit_image(n, r_e, q, pa, 1000.0, dx, dy, size)
                t2 = time.time()
                peak = gs.max()
                bright = gs > 1e-3 * peak
                diff = np.abs(sfm - gs)
                out = {
                    **case,
                    "max_rel": float((diff[bright] / gs[bright]).max()),
                    "max_abs_over_peak": float(diff.max() / peak),
                    "flux_rel": float(sfm.sum() / gs.sum() - 1.0),
                    "galsim_s": round(t1 - t0, 2),
                    "scenefit_s": round(t2 - t1, 2),
                }
                print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
