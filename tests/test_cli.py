"""The command line, run in-process through ``scenefit.cli.main``."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

import scenefit as sf
from scenefit.cli import main
from scenefit.io import MODEL_REGISTRY, load_scene

OUTPUTS = ("fit_params.ecsv", "fit_params.fits", "fit_imgblock.fits", "fit_scene.yaml", "fit.png")


def _run(capsys, *argv):
    rc = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


# ------------------------------------------------------------------------------ demo
def test_demo_recovers_truth_and_writes_outputs(tmp_path, capsys):
    out_dir = tmp_path / "demo"
    rc, out, err = _run(capsys, "demo", "--out", str(out_dir))
    assert rc == 0, err
    for name in (*OUTPUTS, "truth.yaml", "demo_image.fits", "demo_config.yaml"):
        assert (out_dir / name).is_file(), name
    # the pull table: every fitted parameter of the truth, all within 3 sigma
    rows = re.findall(r"^  (\S+)\s+.*\s(-?\d+\.\d\d)(  \*)?$", out, flags=re.M)
    pulls = {name: float(p) for name, p, _ in rows}
    assert len(pulls) == 21
    assert all(abs(p) <= 3.0 for p in pulls.values()), pulls
    assert "PASS: 21 of 21 fitted parameters within 3 sigma" in out
    # outputs agree with what was printed
    truth = load_scene(out_dir / "truth.yaml")
    assert truth.names == ("bulge", "disk", "star_1", "star_2", "star_3", "sky")
    t = Table.read(out_dir / "fit_params.ecsv")
    assert len(t) == len(load_scene(out_dir / "fit_scene.yaml").addresses())
    with fits.open(out_dir / "fit_imgblock.fits") as hdul:
        assert len(hdul) == 4 and hdul[1].data.shape == (128, 128)


# ------------------------------------------------------------------------------- fit
def _mock_data(tmp_path):
    """A 64 x 64 image (rotated TAN WCS) of a Sersic galaxy, a star and sky."""
    scale = 0.3
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [210.0, 54.0]
    w.wcs.crpix = [32.5, 32.5]
    t = np.radians(20.0)
    w.wcs.cd = (
        np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
        @ np.diag([-scale, scale])
        / 3600.0
    )
    yy, xx = np.mgrid[:11, :11] - 5
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.3**2)
    psf /= psf.sum()
    fits.PrimaryHDU(np.zeros((64, 64)), header=w.to_header()).writeto(tmp_path / "geom.fits")
    geom = sf.Image.from_fits(tmp_path / "geom.fits", psf=psf)
    gx, gy = (float(v) for v in geom.pixel_to_sky(30.4, 33.1))
    sx, sy = (float(v) for v in geom.pixel_to_sky(50.2, 12.7))
    truth = sf.Scene(
        [
            sf.Sersic(name="gal", x=gx, y=gy, flux=4000.0, r_e=1.5, n=1.5, q=0.6, pa=60.0),
            sf.PointSource(name="star", x=sx, y=sy, flux=1500.0),
            sf.FlatSky(name="sky", sky=20.0),
        ]
    )
    model = sf.render(truth, geom)
    sigma = np.sqrt(model / 5.0 + 1.0)
    data = model + np.random.default_rng(11).normal(size=model.shape) * sigma
    fits.PrimaryHDU(data, header=w.to_header()).writeto(tmp_path / "image.fits")
    fits.PrimaryHDU(sigma).writeto(tmp_path / "sigma.fits")
    fits.PrimaryHDU(psf).writeto(tmp_path / "psf.fits")
    return truth


CONFIG = """\
images:
  - data: image.fits
    sigma: sigma.fits
    psf: psf.fits
sources:
  - type: sersic
    name: gal
    position: {pixel: [30.0, 33.5]}
    n: {value: 2.0, lo: 0.3, hi: 8}
  - type: point
    name: star
    position: {pixel: [50.0, 13.0]}
  - type: flat_sky
    name: sky
output: {dir: results, prefix: fit}
"""


def test_fit_from_config_recovers_truth(tmp_path, capsys):
    truth = _mock_data(tmp_path)
    cfg = tmp_path / "config.yaml"
    cfg.write_text(CONFIG)
    rc, out, err = _run(capsys, "fit", str(cfg))
    assert rc == 0, err
    assert "converged" in out and "gal.r_e" in out
    for name in OUTPUTS:
        assert (tmp_path / "results" / name).is_file()
        assert str(tmp_path / "results" / name) in out
    t = Table.read(tmp_path / "results" / "fit_params.ecsv")
    for row in t:
        a = f"{row['component']}.{row['parameter']}"
        tv = truth.param(a).value
        d = row["value"] - tv
        if row["parameter"] == "pa":
            d = (d + 90.0) % 180.0 - 90.0
        assert abs(d) < 4.0 * row["uncertainty"], (a, tv, row["value"], row["uncertainty"])


def test_fit_out_overrides_output_dir(tmp_path, capsys):
    # only the sky: quick, and checks --out
    data = np.random.default_rng(2).normal(3.0, 0.5, (20, 20))
    np.save(tmp_path / "img.npy", data)
    (tmp_path / "c.yaml").write_text(
        "images: [{data: img.npy, sigma: 0.5}]\nsources: [{type: flat_sky}]\n"
    )
    rc, out, err = _run(capsys, "fit", str(tmp_path / "c.yaml"), "--out", str(tmp_path / "o"))
    assert rc == 0, err
    for name in OUTPUTS:
        assert (tmp_path / "o" / name).is_file()
    assert not (tmp_path / "scenefit-out").exists()
    sky = load_scene(tmp_path / "o" / "fit_scene.yaml")["flat_sky"].sky.value
    # the least-squares sky is the mean; the fit stops once the predicted chi^2 decrease
    # is below 1e-6 (staged.DCHI2), i.e. within 1e-3 of the mean's standard error
    assert sky == pytest.approx(data.mean(), abs=1e-3 * 0.5 / np.sqrt(data.size))


# ----------------------------------------------------------------------------- models
def test_models_json(capsys):
    rc, out, _ = _run(capsys, "models", "--json")
    assert rc == 0
    models = json.loads(out)
    names = [m["name"] for m in models]
    assert names == list(MODEL_REGISTRY)
    sersic = models[names.index("sersic")]
    n = {p["name"]: p for p in sersic["params"]}["n"]
    assert (n["lo"], n["hi"]) == (0.2, 10.0)
    assert {p["name"]: p["unit"] for p in sersic["params"]}["r_e"] == "arcsec"


def test_models_text(capsys):
    rc, out, _ = _run(capsys, "models")
    assert rc == 0
    for name in MODEL_REGISTRY:
        assert re.search(rf"^{name} \(", out, flags=re.M)
    assert re.search(r"^\s+n\s+-\s+2\s+\[0\.2, 10\]\s+Sersic index", out, flags=re.M)


# ------------------------------------------------------------------------------ errors
@pytest.fixture
def img_dir(tmp_path):
    np.save(tmp_path / "img.npy", np.random.default_rng(0).normal(1.0, 0.1, (16, 16)))
    return tmp_path


def _error(capsys, cfg_path):
    rc, out, err = _run(capsys, "fit", str(cfg_path))
    assert rc == 2
    assert err.startswith("scenefit: error: ")
    assert err.count("\n") == 1  # one line, no traceback
    return err


def test_unknown_model_lists_valid_names(img_dir, capsys):
    p = img_dir / "c.yaml"
    p.write_text("images: [{data: img.npy}]\nsources: [{type: devaucouleurs}]\n")
    err = _error(capsys, p)
    assert "unknown model type 'devaucouleurs'" in err
    assert "valid types are " + ", ".join(MODEL_REGISTRY) in err
    assert str(p) in err and "sources[0].type" in err


def test_missing_files(img_dir, capsys):
    err = _error(capsys, img_dir / "nope.yaml")
    assert "nope.yaml" in err and "not found" in err
    p = img_dir / "c.yaml"
    p.write_text("images: [{data: missing.fits}]\nsources: [{type: flat_sky}]\n")
    err = _error(capsys, p)
    assert "images[0].data" in err and "missing.fits" in err and "not found" in err


def test_malformed_yaml(img_dir, capsys):
    p = img_dir / "c.yaml"
    p.write_text("images: [{data: img.npy}\nsources:\n  - type: [sersic\n")
    err = _error(capsys, p)
    assert "not valid YAML at line" in err


def test_starting_value_outside_bounds(img_dir, capsys):
    p = img_dir / "c.yaml"
    p.write_text(
        textwrap.dedent(
            """\
            images: [{data: img.npy}]
            sources:
              - type: sersic
                r_e: {value: 30, lo: 0.1, hi: 20}
            """
        )
    )
    err = _error(capsys, p)
    assert "sources[0].r_e: starting value 30 is above its upper bound 20" in err


def test_usage(capsys):
    rc, out, _ = _run(capsys)
    assert rc == 0 and "usage: scenefit" in out and "examples:" in out
    rc, out, _ = _run(capsys, "--help")
    assert rc == 0 and "scenefit demo" in out
    rc, out, _ = _run(capsys, "fit", "--help")
    assert rc == 0 and "docs/config.md" in out
    rc, _, err = _run(capsys, "frobnicate")
    assert rc == 2 and "invalid choice" in err
    rc, _, err = _run(capsys, "fit")
    assert rc == 2 and "CONFIG.yaml" in err


def test_python_dash_m_entry_point():
    r = subprocess.run(
        [sys.executable, "-m", "scenefit", "models", "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    assert "sersic" in [m["name"] for m in json.loads(r.stdout)]
