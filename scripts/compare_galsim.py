"""scenefit's pixel integration against GalSim's real-space drawing.

For Sersic, exponential, Gaussian and Moffat profiles over a grid of sizes (pixels),
axis ratio q and a random position
angle and sub-pixel centre, draw the same profile with both codes (no PSF, pixel scale 1,
GalSim ``method="real_space"``: the profile convolved with the pixel by direct 2-D
integration, with tightened ``realspace_relerr=1e-6``/``realspace_abserr=1e-9``: GalSim's
default 1e-4 is no better than the budget being tested; and ``xvalue_accuracy=1e-10``,
below which GalSim truncates a Moffat) and print one JSON
line per case:

* ``max_rel``: max |scenefit - GalSim| / GalSim over pixels brighter than 1e-3 of the peak;
* ``max_abs_over_peak``: max |scenefit - GalSim| / peak over the whole stamp;
* ``flux_rel``: sum(scenefit) / sum(GalSim) - 1 over the stamp.

GalSim is not a scenefit dependency: ``pip install galsim`` to run this. GalSim's Sersic
supports 0.3 <= n <= 6.2; for n up to 8 see the independent reference of
``scripts/integration_reference.py`` (``scripts/measure_integration_accuracy.py``).

Usage: ``python scripts/compare_galsim.py [--quick] [--seed 1] [--settings default|fast]``
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def galsim_image(kind, law, q, pa, flux, dx, dy, size, relerr, abserr):
    import galsim

    # xvalue_accuracy: GalSim cuts a Moffat off where the light beyond is below it
    # (default 1e-5, which shows as a 1e-5 flux deficit at beta = 4.5)
    gsp = galsim.GSParams(realspace_relerr=relerr, realspace_abserr=abserr, xvalue_accuracy=1e-10)
    # GalSim's sizes are those of the circular profile; a shear keeps the area, and
    # scenefit's sizes are along the major axis: r_circ = r_major * sqrt(q).
    c = np.sqrt(q)
    if kind == "sersic":
        prof = galsim.Sersic(law["n"], half_light_radius=law["r_e"] * c, gsparams=gsp)
    elif kind == "exponential":
        prof = galsim.Exponential(scale_radius=law["h"] * c, gsparams=gsp)
    elif kind == "gaussian":
        prof = galsim.Gaussian(sigma=law["sigma"] * c, gsparams=gsp)
    else:
        prof = galsim.Moffat(law["beta"], fwhm=law["fwhm"] * c, gsparams=gsp)
    prof = prof.withFlux(flux)
    # scenefit PA is CCW from +y (default cd, east left); GalSim beta is CCW from +x
    prof = prof.shear(q=q, beta=(pa + 90.0) * galsim.degrees)
    img = galsim.ImageD(size, size, scale=1.0)
    prof.drawImage(img, method="real_space", offset=(dx, dy))
    return img.array.copy()


def scenefit_image(kind, law, q, pa, flux, dx, dy, size, settings):
    import scenefit as sf

    cls = {"sersic": sf.Sersic, "exponential": sf.Exponential}.get(kind)
    cls = cls or {"gaussian": sf.Gaussian, "moffat": sf.Moffat}[kind]
    image = sf.Image(np.zeros((size, size)))
    # GalSim offset (dx, dy) pixels from the stamp's true centre; scenefit's default
    # crpix is that centre, and xi = -(x - crpix_x) on the default cd.
    comp = cls(x=-dx, y=dy, flux=flux, q=q, pa=pa, **law)
    return sf.render(sf.Scene([comp]), image, settings)


def cases(quick):
    """(kind, law, size scale in px) for the comparison grid."""
    out = []
    ns = (0.5, 1.0, 2.0, 4.0, 6.2) if not quick else (1.0, 4.0, 6.2)
    res = (0.5, 2.0, 10.0, 50.0) if not quick else (0.5, 3.0)
    out += [("sersic", dict(n=n, r_e=r), r) for n in ns for r in res]
    out += [("exponential", dict(h=h), h) for h in ((0.5, 3.0) if quick else (0.5, 2.0, 10.0))]
    out += [("gaussian", dict(sigma=s), s) for s in ((0.5, 3.0) if quick else (0.5, 2.0, 10.0))]
    out += [("moffat", dict(fwhm=f, beta=b), f) for f in (1.0, 4.0) for b in (2.5, 4.5)]
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a smaller grid")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--relerr", type=float, default=1e-6, help="GalSim realspace_relerr")
    ap.add_argument("--abserr", type=float, default=1e-9, help="GalSim realspace_abserr")
    ap.add_argument("--settings", choices=("default", "fast"), default="default")
    args = ap.parse_args(argv)
    import scenefit as sf

    st = sf.RenderSettings() if args.settings == "default" else sf.RenderSettings.fast()
    rng = np.random.default_rng(args.seed)
    qs = (0.2, 0.6, 1.0) if not args.quick else (0.2, 0.7)
    for kind, law, scale in cases(args.quick):
        for q in qs:
            pa = float(rng.uniform(0.0, 180.0))
            dx, dy = (float(v) for v in rng.uniform(-0.5, 0.5, 2))
            size = int(np.clip(2 * int(6 * scale) + 1, 31, 151))
            case = dict(settings=args.settings, kind=kind, **law, q=q, pa=round(pa, 3))
            case.update(dx=round(dx, 4), dy=round(dy, 4), size=size)
            t0 = time.time()
            gs = galsim_image(kind, law, q, pa, 1000.0, dx, dy, size, args.relerr, args.abserr)
            t1 = time.time()
            sfm = scenefit_image(kind, law, q, pa, 1000.0, dx, dy, size, st)
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
