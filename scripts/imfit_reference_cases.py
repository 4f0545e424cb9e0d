"""Every Imfit reference case in ../shared/validation/imfit, re-measured with scenefit.

Each case runs ``scenefit imfit`` / ``scenefit makeimage`` (the command-line front end,
so the numbers are what a user gets) twice: with ``--imfit-sampling`` (Imfit's sub-pixel
sampling rule and series b_n) and with scenefit's default integration. The reference
values are parsed from Imfit's own console outputs (``tests/imfit_reference``, the
``linux_x86_64`` copy where there is one) and reference images at run time; nothing is
hard-coded here except which file, configuration and options make up a case (taken from
the headers of those outputs).

One JSON line per (case, sampling, quantity)::

    {"case", "imfit_output", "sampling", "quantity", "reference", "scenefit",
     "abs_diff", "rel_diff", "diff_in_sigma" (parameters with a recorded error)}

Image cases report ``max_rel_pixel`` (max |scenefit - Imfit| / Imfit over pixels brighter
than 1e-6 of the peak, outside Imfit's ``--overpsf_region`` boxes) with reference 0, and
``total_flux``. Error cases report ``exit_status`` (Imfit stops with an error; scenefit
should exit 2 with a message). ``--table FILE`` also writes a Markdown table with one row
per case (headline statistic and the parameter farthest from Imfit's, both samplings).

Usage: ``python scripts/imfit_reference_cases.py [--table FILE] [--only SUBSTRING]``
(set ``SCENEFIT_VALIDATION_DIR`` if the data are not at ../shared/validation).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import os
import re
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))
T = VALIDATION / "imfit" / "tests"
R = T / "imfit_reference"
M = T / "makeimage_reference"
SDSS = ["--gain=4.725", "--readnoise=4.3", "--sky=130.1"]

# (case, Imfit output file, config, image, options) -- from the output headers
FITS = [
    (
        "ic3478 LM, data errors",
        "imfit_textout2",
        "imfit_config_ic3478_64x64.dat",
        "ic3478rss_64x64.fits",
        SDSS,
    ),
    (
        "ic3478 LM, noise from config",
        "imfit_textout3",
        "imfit_config_ic3478_64x64b.dat",
        "ic3478rss_64x64.fits",
        [],
    ),
    (
        "ic3478 n fixed, data errors",
        "imfit_textout3d2",
        "imfit_config_ic3478_64x64c.dat",
        "ic3478rss_64x64.fits",
        [],
    ),
    (
        "ic3478 n fixed, sigma map",
        "imfit_textout3e",
        "imfit_config_ic3478_64x64c.dat",
        "ic3478rss_64x64.fits",
        ["--noise", "ic3478rss_64x64_sigma.fits"],
    ),
    (
        "ic3478 n fixed, variance map",
        "imfit_textout3e2",
        "imfit_config_ic3478_64x64c.dat",
        "ic3478rss_64x64.fits",
        ["--noise", "ic3478rss_64x64_variance.fits", "--errors-are-variances"],
    ),
    (
        "ic3478 (Imfit Nelder-Mead)",
        "imfit_textout3b",
        "imfit_config_ic3478_64x64b.dat",
        "ic3478rss_64x64.fits",
        [],
    ),
    (
        "expdisk32 fit, no subsampling",
        "imfit_textout1",
        "config_imfit_expdisk32.dat",
        "testimage_expdisk32.fits",
        ["--noise", "uniform_image32.fits", "--nosubsampling"],
    ),
    (
        "Gaussian 10x10 (HDU 1)",
        "imfit_textout6g",
        "config_imfit_small-gaussian.dat",
        "test_multiextension_hdu0empty.fits[1]",
        [],
    ),
    (
        "Gaussian 8x8 section",
        "imfit_textout6h",
        "config_imfit_small-gaussian.dat",
        "test_multiextension_hdu0empty.fits[1][1:8,1:8]",
        [],
    ),
    (
        "point source + PSF",
        "imfit_textout8a",
        "config_imfit_ptsource.dat",
        "psf_moffat_fwhm2.fits",
        ["--psf", "psf_moffat_fwhm2_35x35.fits"],
    ),
    (
        "Poisson, Cash (Imfit N-M)",
        "imfit_textout5a_tail",
        "config_imfit_poisson.dat",
        "testimage_poisson_lowsn20.fits",
        ["--cashstat"],
    ),
    (
        "Poisson, MLR (Imfit N-M)",
        "imfit_textout5b_tail",
        "config_imfit_poisson.dat",
        "testimage_poisson_lowsn20.fits",
        ["--poisson-mlr"],
    ),
    (
        "Poisson, MLR (LM)",
        "imfit_textout5c_tail",
        "config_imfit_poisson.dat",
        "testimage_poisson_lowsn20.fits",
        ["--poisson-mlr"],
    ),
    (
        "2 Gaussians (Imfit N-M)",
        "imfit_textout7f",
        "config_imfit_2gauss_small.dat",
        "testimage_2gauss_psf.fits",
        [],
    ),
    (
        "3x3 flat sky, NaN pixel",
        "imfit_textout7a",
        "config_3x3_flatsky.dat",
        "testimage_3x3_nan.fits",
        [],
    ),
    (
        "3x3 flat sky, mask with NaN",
        "imfit_textout7b",
        "config_3x3_flatsky.dat",
        "testimage_3x3_ones.fits",
        ["--mask", "testimage_3x3_mask-with-nan.fits"],
    ),
    (
        "3x3 flat sky, noise with NaN",
        "imfit_textout7c",
        "config_3x3_flatsky.dat",
        "testimage_3x3_ones.fits",
        ["--noise", "testimage_3x3_nan.fits"],
    ),
    (
        "3x3 flat sky, mask",
        "imfit_textout7e",
        "config_3x3_flatsky.dat",
        "testimage_3x3_onezero.fits",
        ["--mask", "mask_for_onezero.fits"],
    ),
]
# statistic at fixed parameters (--chisquare-only): case, reference, config text, image, options
AT_TRUTH = [
    (
        "expdisk32 chi^2 at truth",
        0.0,
        "X0 15\nY0 15\nFUNCTION Exponential\nPA 90\nell 0.5\nI_0 100\nh 20\n",
        "testimage_expdisk32.fits",
        ["--noise", "uniform_image32.fits", "--nosubsampling"],
    ),
]
# Imfit stops with an error: case, Imfit output, config, image, options
ERRORS = [
    (
        "all pixels masked",
        "imfit_textout6",
        "imfit_config_ic3478_64x64.dat",
        "ic3478rss_64x64.fits",
        ["--mask", "totalmask_64x64.fits"],
    ),
    (
        "mask of another shape",
        "imfit_textout6b",
        "imfit_config_ic3478_64x64.dat",
        "ic3478rss_64x64.fits",
        ["--mask", "n3073rss_small_mask.fits"],
    ),
    (
        "image without 2-D HDU",
        "imfit_textout6c",
        "imfit_config_ic3478_64x64.dat",
        "test_emptyhdu.fits",
        [],
    ),
    ("table, no image", "imfit_textout6d", "imfit_config_ic3478_64x64.dat", "test_table.fits", []),
    (
        "mask without 2-D HDU",
        "imfit_textout6e",
        "imfit_config_ic3478_64x64.dat",
        "ic3478rss_64x64.fits",
        ["--mask", "test_emptyhdu.fits"],
    ),
    (
        "empty HDU 0 asked for",
        "imfit_textout6f",
        "imfit_config_ic3478_64x64.dat",
        "test_multiextension_hdu0empty.fits[0]",
        [],
    ),
    (
        "negative data, data errors",
        "imfit_textout7d",
        "config_3x3_flatsky.dat",
        "testimage_3x3_onezero.fits",
        [],
    ),
    (
        "bad parameter line",
        "imfit_textout_bad8",
        "config_imfit_badparamline.dat",
        "ic3478rss_64x64.fits",
        [],
    ),
]
for _i, _cfg in enumerate(
    [
        "config_makeimage_sersictest512_bad1.dat",
        "config_makeimage_sersictest512_bad2.dat",
        "config_makeimage_sersictest512_bad3.dat",
        "config_makeimage_sersictest512_bad4.dat",
        "config_imfit_sersictest512_badlimits1.dat",
        "config_imfit_sersictest512_badlimits2.dat",
        "config_imfit_sersictest512_badlimits3.dat",
    ],
    start=1,
):
    ERRORS.append((f"bad config {_i}", f"imfit_textout_bad{_i}", _cfg, "ic3478rss_64x64.fits", []))
# makeimage references: case, reference image, config, PSF, Imfit --overpsf_region boxes
IMAGES = [
    (
        "makeimage biggertest (4 functions)",
        "biggertest_orig.fits",
        "config_biggertest_4c.dat",
        None,
        [],
    ),
    (
        "makeimage Sersic + exponential 512",
        "sersic+exp_orig.fits",
        "config_makeimage_sersic+exp512.dat",
        None,
        [],
    ),
    (
        "makeimage Gaussian * PSF",
        "oversampled_orig.fits",
        "config_makeimage_gauss-oversample.dat",
        "psf_standard.fits",
        [(100, 110, 100, 110)],
    ),
    (
        "makeimage 2 Gaussians * PSF",
        "oversampled2both_orig.fits",
        "config_makeimage_gauss-oversample2.dat",
        "psf_standard.fits",
        [(100, 110, 100, 110), (20, 30, 20, 30)],
    ),
]
# "imfit": Imfit's rule (with --nosubsampling where Imfit's run had it); "default":
# scenefit's own integration, always (so --nosubsampling is dropped there)
SAMPLINGS = {"imfit": ["--imfit-sampling"], "default": []}

_PARAM = re.compile(
    r"^(?P<name>[A-Za-z_][\w]*)\t\t\s*(?P<v>[-+0-9.eEinfa]+)(?: # \+/- (?P<e>[-+0-9.eEinfa]+))?"
)
_STAT = re.compile(
    r"(CHI-SQUARE|CASH STATISTIC|POISSON-MLR STATISTIC) = ([-+0-9.eE]+)(?:\s+\((\d+) DOF\))?"
)


def parse_console(text):
    """Statistic, initial statistic, AIC and parameters of an Imfit(-like) console output."""
    out = {"params": {}}
    if m := _STAT.search(text):
        out["stat"] = float(m[2])
    if m := re.search(r"INITIAL (?:CHI\^2|STATISTIC) = ([-+0-9.eE]+)", text):
        out["initial"] = float(m[1])
    if m := re.search(r"AIC = ([-+0-9.eE]+), BIC", text):
        out["aic"] = float(m[1])
    # the final parameters follow the AIC line (verbose outputs list earlier iterations)
    start = text.rfind("AIC = ")
    tail = text[start:] if start >= 0 else text[text.rfind("\nX0\t") :]
    seen = {}
    for line in tail.splitlines():
        if line.startswith("FUNCTION") or not (m := _PARAM.match(line)):
            continue
        k = seen[m["name"]] = seen.get(m["name"], 0) + 1
        key = m["name"] if k == 1 else f"{m['name']}#{k}"
        out["params"][key] = (float(m["v"]), float(m["e"]) if m["e"] else None)
    return out


def run_cli(argv):
    """(exit status, stdout + stderr) of ``scenefit ARGS`` run in-process."""
    from scenefit.cli import main

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf), contextlib.redirect_stderr(buf):
        rc = main(argv)
    return rc, buf.getvalue()


def line(case, ref_file, sampling, quantity, ref, ours, sigma=None, sigma_from="imfit"):
    """One JSON record; ``sigma`` (the recorded 1-sigma error) gives ``diff_in_sigma``."""
    rec = {"case": case, "imfit_output": ref_file, "sampling": sampling, "quantity": quantity}
    rec["reference"], rec["scenefit"] = ref, ours
    if isinstance(ref, (int, float)) and isinstance(ours, (int, float)):
        d = ours - ref
        rec["abs_diff"] = d
        rec["rel_diff"] = d / abs(ref) if ref else (0.0 if d == 0 else math.inf)
        if sigma:
            rec["diff_in_sigma"] = d / sigma
            rec["sigma_from"] = sigma_from
    return rec


def _path(name):
    """A data path; Imfit's ``file[ext][section]`` suffixes are kept as given."""
    return str(T / name)


def _for_sampling(opts, sampling):
    """Imfit's options, less ``--nosubsampling`` for scenefit's default integration."""
    return [o for o in opts if o != "--nosubsampling"] if sampling == "default" else opts


def fit_cases(only):
    for case, ref_file, cfg, img, opts in FITS:
        if only and only not in case:
            continue
        ref_path = R / "linux_x86_64" / ref_file
        ref_path = ref_path if ref_path.exists() else R / ref_file
        ref = parse_console(ref_path.read_text())
        opts = [_path(o) if o.endswith(".fits") else o for o in opts]
        for sampling, flags in SAMPLINGS.items():
            cfg_path = R / cfg if (R / cfg).exists() else T / cfg
            fl = _for_sampling(opts, sampling)
            rc, text = run_cli(["imfit", str(cfg_path), _path(img), *fl, *flags])
            ours = parse_console(text)
            if "stat" not in ours:
                yield line(case, ref_file, sampling, "exit_status", 0, rc)
                continue
            for q in ("stat", "initial", "aic"):
                if q in ref:
                    yield line(case, ref_file, sampling, q, ref[q], ours.get(q))
            for name, (v, e) in ref["params"].items():
                mine = ours["params"].get(name, (None, None))
                if e is None and mine[1]:
                    # Imfit's Nelder-Mead runs print no errors: use scenefit's
                    yield line(case, ref_file, sampling, name, v, mine[0], mine[1], "scenefit")
                else:
                    yield line(case, ref_file, sampling, name, v, mine[0], e or None)
                if e:
                    yield line(case, ref_file, sampling, f"{name} error", e, mine[1])


def at_truth_cases(only, tmp):
    for case, ref, text, img, opts in AT_TRUTH:
        if only and only not in case:
            continue
        cfg = Path(tmp) / "truth.dat"
        cfg.write_text(text)
        opts = [_path(o) if o.endswith(".fits") else o for o in opts]
        for sampling, flags in SAMPLINGS.items():
            fl = _for_sampling(opts, sampling)
            rc, out = run_cli(["imfit", str(cfg), _path(img), *fl, *flags, "--chisquare-only"])
            stat = parse_console(out).get("stat")
            yield line(case, "imfit_textout1", sampling, "stat", ref, stat)


def error_cases(only):
    for case, ref_file, cfg, img, opts in ERRORS:
        if only and only not in case:
            continue
        cfg_path = R / cfg if (R / cfg).exists() else M / cfg
        opts = [_path(o) if o.endswith(".fits") else o for o in opts]
        rc, text = run_cli(["imfit", str(cfg_path), _path(img), *opts])
        rec = line(case, ref_file, "-", "exit_status", "error", rc)
        rec["message"] = text.strip().splitlines()[-1] if text.strip() else ""
        rec["traceback"] = "Traceback" in text
        yield rec


def image_cases(only, tmp):
    from astropy.io import fits

    for case, ref_name, cfg, psf, boxes in IMAGES:
        if only and only not in case:
            continue
        ref = fits.getdata(T / ref_name).astype(float)
        keep = np.ones(ref.shape, bool)
        for x0, x1, y0, y1 in boxes:
            keep[y0 - 1 : y1, x0 - 1 : x1] = False
        sel = keep & (np.abs(ref) > 1e-6 * np.abs(ref).max())
        for sampling, flags in SAMPLINGS.items():
            out = Path(tmp) / "m.fits"
            argv = ["makeimage", str(M / cfg), "--refimage", str(T / ref_name), *flags]
            if psf:
                argv += ["--psf", str(T / psf)]
            rc, _ = run_cli([*argv, "--output", str(out)])
            ours = fits.getdata(out).astype(float)
            rel = float(np.max(np.abs(ours[sel] - ref[sel]) / np.abs(ref[sel])))
            yield line(case, ref_name, sampling, "max_rel_pixel", 0.0, rel)
            yield line(
                case,
                ref_name,
                sampling,
                "total_flux",
                float(ref[keep].sum()),
                float(ours[keep].sum()),
            )


def table(records):
    """Markdown: one row per case (statistic and worst parameter), both samplings."""
    cases, order = {}, []
    for r in records:
        if r["case"] not in cases:
            cases[r["case"]] = {}
            order.append(r["case"])
        cases[r["case"]].setdefault(r["sampling"], []).append(r)
    out = [
        "| case (Imfit output) | quantity | Imfit | `--imfit-sampling` | diff | worst parameter "
        "| default integration | diff | worst parameter |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for case in order:
        by = cases[case]
        first = next(iter(by.values()))
        head = _headline(first)
        cells = [
            f"{case} (`{first[0]['imfit_output']}`)",
            head["quantity"],
            _fmt(head["reference"]),
        ]
        for s in ("imfit", "default", "-"):
            if s not in by:
                continue
            h = _headline(by[s])
            cells += [_fmt(h["scenefit"]), _fmt_diff(h), _worst(by[s])]
        cells += [""] * (9 - len(cells))
        out.append("| " + " | ".join(cells) + " |")
    return "\n".join(out)


def _headline(recs):
    for q in ("stat", "aic", "max_rel_pixel", "exit_status"):
        for r in recs:
            if r["quantity"] == q:
                return r
    return recs[0]


def _worst(recs):
    """The parameter farthest from Imfit's: in recorded sigmas, else relative."""
    pars = [
        r
        for r in recs
        if r["quantity"]
        not in ("stat", "initial", "aic", "exit_status", "max_rel_pixel", "total_flux")
        and not r["quantity"].endswith(" error")
    ]
    sig = [r for r in pars if "diff_in_sigma" in r]
    if sig:
        w = max(sig, key=lambda r: abs(r["diff_in_sigma"]))
        star = "*" if w["sigma_from"] == "scenefit" else ""
        return f"{w['quantity']} {w['diff_in_sigma']:+.3f} sigma{star}"
    rel = [r for r in pars if "rel_diff" in r and r["reference"]]
    if rel:
        w = max(rel, key=lambda r: abs(r["rel_diff"]))
        return f"{w['quantity']} {w['rel_diff']:+.2g} rel"
    flux = [r for r in recs if r["quantity"] == "total_flux"]
    if flux:
        return f"total flux {flux[0]['rel_diff']:+.2g} rel"
    return ""


def _fmt(v):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.10g}"
    return str(v)


def _fmt_diff(r):
    if "abs_diff" not in r:
        return "traceback!" if r.get("traceback") else ""
    if r["quantity"] == "max_rel_pixel":
        return ""
    s = f"{r['abs_diff']:.3g}"
    if r["reference"]:
        s += f" ({r['rel_diff']:.2g} rel)"
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--table", metavar="FILE", help="also write a Markdown summary table to FILE")
    ap.add_argument("--only", default="", help="run the cases whose name contains this")
    args = ap.parse_args(argv)
    if not T.is_dir():
        print(json.dumps({"skipped": f"no Imfit validation data at {T}"}))
        return 0
    records = []
    with tempfile.TemporaryDirectory() as tmp:
        for gen in (
            image_cases(args.only, tmp),
            fit_cases(args.only),
            at_truth_cases(args.only, tmp),
            error_cases(args.only),
        ):
            for rec in gen:
                records.append(rec)
                print(json.dumps(rec), flush=True)
    if args.table:
        Path(args.table).write_text(table(records) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
