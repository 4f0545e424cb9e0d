"""Every Imfit function scenefit reads, drawn by Imfit itself (pyimfit) and by scenefit.

For each function one configuration (an off-centre position, an inclined and turned
shape, a boxy or disky ``c0`` where there is one) is written in Imfit's format and drawn
on a 72 x 64 pixel image:

* by Imfit, through pyimfit in its own virtual environment (``../shared/bench/setup_peers.sh``),
  once at pixel centres (``subsampling=False``) and once with Imfit's sub-sampling;
* by scenefit, reading the same file (``scenefit.io.read_imfit_config`` then
  ``scenefit.render``), at pixel centres (``RenderSettings(sampling="center")``) and with
  its default error-controlled integration.

Pixel-centre images test the conventions (every parameter's meaning and unit, the
amplitude's normalisation, PA, ellipticity, c0): they must agree to rounding. The
integrated images test the total flux: scenefit's image sum against the analytic total
times the fraction on the image. One JSON line per function::

    {"function", "center_max_rel_peak", "center_max_rel_pixel", "imfit_sub_max_rel_peak",
     "flux_sum_scenefit", "flux_sum_imfit_sub", "flux_model", "fraction_on_image"}

``center_max_rel_peak``: max |scenefit - Imfit| over the image / Imfit's peak;
``center_max_rel_pixel``: max |scenefit - Imfit| / Imfit over the pixels brighter than
1e-6 of the peak; ``imfit_sub_max_rel_peak``: scenefit's integrated image against Imfit's
sub-sampled one, over the peak. ``flux_model`` is the component's total flux, so
``flux_sum_scenefit / flux_model`` is the fraction on the image (``fraction_on_image``,
computed independently by scipy quadrature where cheap, else null).

    python scripts/imfit_function_reference.py [--peer-python PATH] [--only NAME]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (64, 72)  # rows, columns
#: the truth: Imfit's pixel-centre image on a grid this much finer, block-averaged (16x
#: leaves 1e-4 of the peak at the kinked midplane of an n = 5 edge-on disk, 48x 1e-5)
OVERSAMPLE = int(os.environ.get("SCENEFIT_REF_OVERSAMPLE", "48"))
CENTRE = "X0   37.3\nY0   30.6\n"

#: function -> its parameter lines (Imfit's order), chosen away from symmetric values
CASES = {
    "Sersic": "PA 30\nell 0.35\nn 2.3\nI_e 5\nr_e 7",
    "Exponential": "PA 30\nell 0.4\nI_0 40\nh 5",
    "Sersic_GenEllipse": "PA 70\nell 0.45\nc0 0.7\nn 1.6\nI_e 6\nr_e 8",
    "Exponential_GenEllipse": "PA 120\nell 0.3\nc0 -0.6\nI_0 30\nh 6",
    "Gaussian": "PA 20\nell 0.25\nI_0 50\nsigma 4",
    "Moffat": "PA 40\nell 0.2\nI_0 80\nfwhm 5\nbeta 2.7",
    "EdgeOnDisk": "PA 25\nL_0 2\nh 6\nn 5\nz_0 1.5",
    "Core-Sersic": "PA 35\nell 0.3\nn 3.5\nI_b 20\nr_e 9\nr_b 2.5\nalpha 3\ngamma 0.4",
    "BrokenExponential": "PA 55\nell 0.35\nI_0 60\nh1 8\nh2 3\nr_break 12\nalpha 0.8",
    "FerrersBar2D": "PA 65\nell 0.6\nc0 0.5\nn 2\nI_0 30\na_bar 20",
    "GaussianRing": "PA 110\nell 0.4\nA 25\nR_ring 14\nsigma_r 2.5",
    "ModifiedKing": "PA 15\nell 0.2\nI_0 90\nr_c 3\nr_t 25\nalpha 2.5",
    "PointSource": "I_tot 1000",
    "FlatSky": "I_sky 3.5",
    "TiltedSkyPlane": "I_0 3\nm_x 0.02\nm_y -0.015",
}

_PEER = """
import sys, numpy as np, pyimfit
cfg, out, ny, nx, subs = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5]
psf = np.load(sys.argv[6]) if len(sys.argv) > 6 else None
model = pyimfit.ModelDescription.load(cfg)
imgs = []
for sub in [s == "1" for s in subs.split(",")]:
    f = pyimfit.Imfit(model, psf=psf, subsampling=sub)
    imgs.append(f.getModelImage(shape=(ny, nx)))
np.save(out, np.stack(imgs))
"""


def _peer_python(arg):
    cands = [arg] if arg else []
    cands += [
        os.environ.get("SCENEFIT_PYIMFIT_PYTHON", ""),
        "/work/peer-venvs/pyimfit/bin/python",
        str(ROOT.parent / "peer-venvs" / "pyimfit" / "bin" / "python"),
    ]
    for c in cands:
        if c and Path(c).is_file():
            return c
    raise SystemExit(
        "pyimfit's Python not found: run ../shared/bench/setup_peers.sh and pass --peer-python"
    )


def imfit_images(python, cfg: Path, tmp: Path, psf=None, shape=SHAPE, subsampled=True):
    """(pixel-centre, sub-sampled) images drawn by Imfit (only the first without
    ``subsampled``)."""
    out = tmp / "imfit.npy"
    code = tmp / "peer.py"
    code.write_text(_PEER)
    cmd = [python, str(code), str(cfg), str(out), *map(str, shape), "0,1" if subsampled else "0"]
    if psf is not None:
        np.save(tmp / "psf.npy", psf)
        cmd.append(str(tmp / "psf.npy"))
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return tuple(np.load(out))


def scenefit_images(cfg: Path, psf=None):
    """(pixel-centre, integrated) images and the component's total flux; Imfit's
    series b_n and bicubic point sources, as Imfit draws them."""
    import scenefit as sf
    from scenefit.io.imfit_config import read_imfit_config

    image = sf.Image(np.zeros(SHAPE), pixel_scale=1.0, psf=psf)
    scene, _ = read_imfit_config(cfg).to_scene(image, "series")
    comp = scene.components[0]
    flux = float(comp.flux.value) if "flux" in comp.param_names() else None
    centre = sf.render(scene, image, sf.RenderSettings.imfit(subsampling=False))
    integrated = sf.render(scene, image, sf.RenderSettings(sersic_bn="series"))
    return np.asarray(centre), np.asarray(integrated), flux


#: Imfit parameters that are lengths (pixels); ``alpha`` of BrokenExponential is 1/length
LENGTHS = {"r_e", "h", "sigma", "fwhm", "z_0", "r_b", "h1", "h2", "r_break", "a_bar"}
LENGTHS |= {"R_ring", "sigma_r", "r_c", "r_t"}


def oversampled_config(name: str, body: str, k: int) -> str:
    """The same function on a grid k times finer (X0, Y0 and lengths times k), so that
    the mean of each k x k block of Imfit's pixel-centre image is the pixel integral."""
    lines = []
    for line in body.splitlines():
        key, value = line.split()
        v = float(value)
        if key in LENGTHS:
            v *= k
        elif key == "alpha" and name == "BrokenExponential":
            v /= k
        elif key == "L_0":  # luminosity density: mu(0, 0) = 2 h L_0 stays the same
            v /= k
        lines.append(f"{key} {v!r}")
    x0, y0 = (float(t.split()[1]) for t in CENTRE.splitlines())
    head = f"X0 {(x0 - 0.5) * k + 0.5!r}\nY0 {(y0 - 0.5) * k + 0.5!r}\n"
    return head + f"FUNCTION {name}\n" + "\n".join(lines) + "\n"


def compare(name, centre_i, sub_i, centre_s, int_s, flux, truth=None):
    peak = float(np.max(np.abs(centre_i)))
    bright = np.abs(centre_i) > 1e-6 * peak
    rel = np.abs(centre_s - centre_i)[bright] / np.abs(centre_i)[bright]
    row = {
        "function": name,
        "center_max_rel_peak": float(np.max(np.abs(centre_s - centre_i)) / peak),
        "center_max_rel_pixel": float(np.max(rel)),
        "imfit_sub_max_rel_peak": float(np.max(np.abs(int_s - sub_i)) / peak),
        "flux_sum_scenefit": float(int_s.sum()),
        "flux_sum_imfit_sub": float(sub_i.sum()),
        "flux_model": flux,
    }
    if truth is not None:
        # the block-averaged truth is a midpoint rule: poor in the pixels next to a cusp
        x0, y0 = (float(t.split()[1]) - 1.0 for t in CENTRE.splitlines())
        yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]]
        outer = np.hypot(xx - x0, yy - y0) >= 2.0
        row["truth_k"] = OVERSAMPLE
        for key, img in (("scenefit", int_s), ("imfit_sub", sub_i)):
            err = np.abs(img - truth) / peak
            row[f"{key}_vs_truth_max_rel_peak"] = float(np.max(err))
            row[f"{key}_vs_truth_beyond_2px"] = float(np.max(err[outer]))
    return row


def _psf():
    """A normalised, slightly elliptical Gaussian PSF of 15 x 15 pixels."""
    y, x = np.mgrid[-7:8, -7:8].astype(float)
    p = np.exp(-0.5 * ((x / 1.6) ** 2 + (y / 1.3) ** 2))
    return p / p.sum()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--peer-python", default=None, help="pyimfit's virtual-environment python")
    ap.add_argument("--only", default=None, help="one function name")
    ap.add_argument("--no-truth", action="store_true", help="skip the oversampled truth")
    args = ap.parse_args(argv)
    python = _peer_python(args.peer_python)
    rows = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for name, body in CASES.items():
            if args.only and name != args.only:
                continue
            cfg = tmp / f"{name}.dat"
            cfg.write_text(f"{CENTRE}FUNCTION {name}\n{body}\n")
            psf = _psf() if name == "PointSource" else None
            centre_i, sub_i = imfit_images(python, cfg, tmp, psf)
            truth = None
            if not args.no_truth and any(k.split()[0] in LENGTHS for k in body.splitlines()):
                fine = tmp / f"{name}_fine.dat"
                fine.write_text(oversampled_config(name, body, OVERSAMPLE))
                fine_shape = tuple(OVERSAMPLE * n for n in SHAPE)
                big = imfit_images(python, fine, tmp, shape=fine_shape, subsampled=False)[0]
                truth = big.reshape(SHAPE[0], OVERSAMPLE, SHAPE[1], OVERSAMPLE).mean(axis=(1, 3))
            row = compare(name, centre_i, sub_i, *scenefit_images(cfg, psf), truth)
            print(json.dumps(row), flush=True)
            rows.append(row)
    return rows


if __name__ == "__main__":
    sys.exit(0 if main() else 1)
