"""Measure the pixel-integration accuracy of scenefit's renderer.

Reference: an independent numpy brute-force integration of the Sersic law (b_n from
scipy's inverse incomplete gamma), each pixel split into S x S midpoint sub-pixels
(S = 64, and S = 512 for the 5 x 5 central pixels where the cusp is). Prints one JSON
line per case with the largest pixel error relative to the peak pixel and the total
absolute image error relative to the flux.

    python scripts/measure_integration_accuracy.py [--coarse]
"""

from __future__ import annotations

import argparse
import json

import numpy as np
from scipy.special import gamma, gammaincinv

import scenefit as sf


def sersic_reference(shape, r_e, n, q, pa_deg, flux, off=(0.0, 0.0), sub=64, core_sub=2048, core=3):
    """Brute-force pixel integrals (numpy), cd = [[-1,0],[0,1]], centre ``off`` pixels
    from the image centre."""
    h, w = shape
    b = gammaincinv(2 * n, 0.5)
    ie = flux / (2 * np.pi * q * n * r_e**2 * np.exp(b) * b ** (-2 * n) * gamma(2 * n))
    t = np.deg2rad(pa_deg)

    def pix_mean(xc, yc, s):
        o = (np.arange(s) + 0.5) / s - 0.5
        X = xc[..., None, None] + o[None, None, :]
        Y = yc[..., None, None] + o[None, :, None]
        xi, eta = -(X - (w - 1) / 2 - off[0]), Y - (h - 1) / 2 - off[1]
        a = xi * np.sin(t) + eta * np.cos(t)
        bb = xi * np.cos(t) - eta * np.sin(t)
        r = np.sqrt(a * a + (bb / q) ** 2)
        return (ie * np.exp(-b * ((r / r_e) ** (1 / n) - 1))).mean(axis=(-1, -2))

    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    out = np.empty(shape)
    for i in range(h):  # row by row keeps memory small
        out[i] = pix_mean(xx[i], yy[i], sub)
    ci, cj = (h - 1) // 2, (w - 1) // 2
    sl = np.s_[ci - core // 2 : ci + core // 2 + 1, cj - core // 2 : cj + core // 2 + 1]
    for i in range(sl[0].start, sl[0].stop):
        out[i, sl[1]] = pix_mean(xx[i, sl[1]], yy[i, sl[1]], core_sub)
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument(
        "--coarse", action="store_true", help="also measure quad_order=1 (no refinement)"
    )
    args = ap.parse_args(argv)
    settings = {"default": sf.RenderSettings()}
    if args.coarse:
        settings["centre-sampled"] = sf.RenderSettings(quad_order=1, refine_size=0)
        settings["gl2"] = sf.RenderSettings(quad_order=2, refine_size=5, refine_factor=4)
    shape = (41, 41)
    img = sf.Image(np.zeros(shape), pixel_scale=1.0)
    cases = [
        (n, r_e, (0.0, 0.0), 0.7) for n in (0.5, 1.0, 2.0, 4.0, 6.0) for r_e in (1.0, 2.0, 5.0)
    ]
    cases += [(n, r_e, (0.37, -0.21), 0.6) for n in (4.0, 6.0, 8.0) for r_e in (0.5, 2.0, 5.0)]
    for n, r_e, off, q in cases:
        ref = sersic_reference(shape, r_e, n, q, 30.0, 1.0, off)
        for name, st in settings.items():
            # x = -offset (east is -x on this image), y = +offset
            comp = sf.Sersic(x=-off[0], y=off[1], flux=1.0, r_e=r_e, n=n, q=q, pa=30.0)
            sc = sf.Scene([comp])
            m = sf.render(sc, img, st)
            err = m - ref
            print(
                json.dumps(
                    {
                        "settings": name,
                        "q": q,
                        "offset_px": off,
                        "n": n,
                        "r_e_px": r_e,
                        "max_pixel_err_over_peak": float(np.abs(err).max() / ref.max()),
                        "total_abs_err_over_flux": float(np.abs(err).sum() / ref.sum()),
                    }
                ),
                flush=True,
            )


if __name__ == "__main__":
    main()
