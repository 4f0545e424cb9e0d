"""``scenefit forced``: forced photometry from the command line (in-process, ``main``).

Mock (tests/forced_mock.py): two overlapping galaxies and a star in g and r images of
different scales, rotations and PSFs, written as FITS files with a TAN WCS about one
tangent point (so the scene's arcsec positions are the same on both), PSFs and a sigma
map as FITS files. Checks:

* a scene YAML reference: the SED table's fluxes are within 4 sigma of the truth, its
  magnitudes follow the zero point, and the files are written in --out and nowhere else;
* an x/y catalogue (ECSV) gives the same fluxes as the scene file (the same linear
  problem); an ra/dec catalogue (FITS table; images re-projected onto one tangent plane)
  recovers the truth within 4 sigma;
* bad input ends with status 2 and one line on stderr, before anything is written:
  missing files, count mismatches, no --noise, ra/dec or --center with an image
  without a WCS, an image that holds none of the sources, existing outputs without
  --overwrite.
"""

from __future__ import annotations

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

import forced_mock as mock
import scenefit as sf
from scenefit.cli import main
from scenefit.io import save_scene

CHEAP = sf.RenderSettings().coarse()  # what --coarse selects
SOURCES = ("a", "b", "star")
CRVAL = (150.0, 2.0)


def _wcs(img):
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(CRVAL)
    w.wcs.crpix = list(np.asarray(img.crpix) + 1.0)  # FITS is 1-based
    w.wcs.cd = np.asarray(img.cd) / 3600.0
    return w


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """FITS images (g, r), sigma map (g), PSFs, the scene file and catalogues."""
    d = tmp_path_factory.mktemp("forced_cli")
    images = mock.make_images(seed=11, settings=CHEAP)
    paths = {}
    for img in images:
        b = img.band
        hdr = _wcs(img).to_header()
        fits.PrimaryHDU(img.data, header=hdr).writeto(d / f"{b}.fits")
        fits.PrimaryHDU(np.asarray(img.psf.image)).writeto(d / f"{b}_psf.fits")
        paths[b] = d / f"{b}.fits"
        paths[f"{b}_psf"] = d / f"{b}_psf.fits"
    fits.PrimaryHDU(np.full(images[0].shape, mock.SIGMA["g"])).writeto(d / "g_sigma.fits")
    paths["g_sigma"] = d / "g_sigma.fits"
    npy = d / "plain.npy"
    np.save(npy, images[0].data)
    paths["npy"] = npy
    scene = mock.scene()
    paths["scene"] = save_scene(scene, d / "ref_scene.yaml")
    rows = _catalogue_rows(scene)
    Table(rows=[[r[k] for k in _COLS] for r in rows], names=_COLS).write(d / "cat.ecsv")
    paths["ecsv"] = d / "cat.ecsv"
    # ra/dec from the g image's own WCS (pixel of the tangent-plane position)
    g = images[0]
    w = _wcs(g)
    sky = []
    for r in rows:
        px, py = g.sky_to_pixel(r["x"], r["y"])
        ra, dec = w.pixel_to_world_values(float(px), float(py))
        sky.append({**r, "ra": float(ra), "dec": float(dec)})
    cols = [c for c in _COLS if c not in ("x", "y")] + ["ra", "dec"]
    Table(rows=[[r[k] for k in cols] for r in sky], names=cols).write(d / "cat_sky.fits")
    paths["sky_fits"] = d / "cat_sky.fits"
    far = [{**r, "x": r["x"] + 3000.0} for r in rows]
    Table(rows=[[r[k] for k in _COLS] for r in far], names=_COLS).write(d / "far.ecsv")
    paths["far"] = d / "far.ecsv"
    return paths


_COLS = ["name", "type", "x", "y", "r_e", "n", "h", "q", "pa"]


def _catalogue_rows(scene):
    rows = []
    for c in scene.components:
        if c.name == "sky":
            continue
        r = {k: np.nan for k in _COLS}
        r.update(name=c.name, type=c.TYPE_NAME)
        for p in c.param_names():
            if p in r:
                r[p] = float(getattr(c, p).value)
        rows.append(r)
    return rows


def _run(capsys, *argv):
    rc = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return rc, out, err


def _args(files, out, *extra):
    return (
        files["g"],
        files["r"],
        "--noise",
        files["g_sigma"],
        mock.SIGMA["r"],
        "--psf",
        files["g_psf"],
        files["r_psf"],
        "--band",
        "g",
        "r",
        "--zeropoint",
        mock.ZEROPOINT,
        "--coarse",
        "--out",
        out,
        *extra,
    )


def _fluxes(out):
    t = Table.read(out / "sed.ecsv")
    return {(r["source"], r["band"]): (r["flux"], r["flux_err"], r["mag"]) for r in t}


@pytest.fixture(scope="module")
def scene_run(files, tmp_path_factory):
    """The scene-file run: (status, stdout, stderr, out dir, folder listing before)."""
    root = tmp_path_factory.mktemp("run")
    before = sorted(p.name for p in files["g"].parent.iterdir())
    rc = main([str(a) for a in ("forced", files["scene"], *_args(files, root / "out"))])
    return rc, root / "out", before


def test_scene_reference_recovers_the_truth(files, scene_run):
    rc, out, before = scene_run
    assert rc == 0
    assert sorted(p.name for p in out.iterdir()) == [
        "g_model.fits",
        "g_residual.fits",
        "r_model.fits",
        "r_residual.fits",
        "sed.ecsv",
    ]
    assert sorted(p.name for p in files["g"].parent.iterdir()) == before  # inputs untouched
    got = _fluxes(out)
    assert set(got) == {(s, b) for s in SOURCES for b in ("g", "r")}
    for (s, b), (f, e, mag) in got.items():
        assert abs(f - mock.FLUX[b][s]) < 4 * e, (s, b, f, e)
        assert mag == pytest.approx(mock.ZEROPOINT - 2.5 * np.log10(f), rel=1e-12)
    # the residual is data - model
    data = fits.getdata(files["r"])
    model, resid = fits.getdata(out / "r_model.fits"), fits.getdata(out / "r_residual.fits")
    np.testing.assert_allclose(resid, data - model, atol=1e-12)


def test_catalogues_give_the_same_answer(files, scene_run, tmp_path, capsys):
    _, out, _ = scene_run
    ref = _fluxes(out)
    rc, so, err = _run(capsys, "forced", files["ecsv"], *_args(files, tmp_path / "xy"))
    assert rc == 0, err
    for key, (f, e, _) in _fluxes(tmp_path / "xy").items():
        assert f == pytest.approx(ref[key][0], rel=1e-9, abs=1e-9 * ref[key][1]), key
        assert e == pytest.approx(ref[key][1], rel=1e-9), key
    assert "forced photometry of 3 sources in 2 bands" in so
    # ra/dec catalogue: images re-projected about the first image's centre
    rc, so, err = _run(capsys, "forced", files["sky_fits"], *_args(files, tmp_path / "sky"))
    assert rc == 0, err
    for (s, b), (f, e, _) in _fluxes(tmp_path / "sky").items():
        assert abs(f - mock.FLUX[b][s]) < 4 * e, (s, b, f, e)
        assert abs(f - ref[(s, b)][0]) < 0.05 * e, (s, b)  # the same plane, re-fitted


def test_existing_outputs_need_overwrite(files, scene_run, capsys):
    _, out, _ = scene_run
    sed = out / "sed.ecsv"
    text = sed.read_text()
    rc, _, err = _run(capsys, "forced", files["scene"], *_args(files, out))
    assert rc == 2 and "refusing to overwrite" in err and "--overwrite" in err
    assert err.count("\n") == 1 and sed.read_text() == text


def _error(capsys, *argv):
    rc, out, err = _run(capsys, "forced", *argv)
    assert rc == 2, (out, err)
    assert err.startswith("scenefit: error:") and err.count("\n") == 1, err
    return err


def test_bad_input_is_one_clear_line(files, tmp_path, capsys):
    out = tmp_path / "never"
    g, r, scene = files["g"], files["r"], files["scene"]
    err = _error(capsys, tmp_path / "nope.yaml", g, "--noise", 0.1, "--out", out)
    assert "nope.yaml" in err and "not found" in err
    err = _error(capsys, scene, g, tmp_path / "gone.fits", "--noise", 0.1, "--out", out)
    assert "image 2" in err and "gone.fits" in err and "not found" in err
    err = _error(capsys, scene, g, r, "--noise", 0.1, 0.2, 0.3, "--out", out)
    assert "--noise: got 3 values for 2 images" in err
    err = _error(capsys, scene, g, r, "--noise", 0.1, "--psf", *[files["g_psf"]] * 3)
    assert "--psf: got 3 values for 2 images" in err
    err = _error(capsys, scene, g, r, "--out", out)
    assert "give --noise" in err
    err = _error(capsys, scene, g, "--noise", tmp_path / "sig.fits", "--out", out)
    assert "--noise" in err and "sig.fits" in err
    err = _error(capsys, scene, g, "--noise", -1, "--out", out)
    assert "--noise" in err and "positive" in err
    err = _error(capsys, files["g_psf"].with_suffix(".txt"), g, "--noise", 0.1, "--out", out)
    assert "not found" in err
    bad = tmp_path / "ref.txt"
    bad.write_text("x")
    err = _error(capsys, bad, g, "--noise", 0.1, "--out", out)
    assert "unknown file type" in err
    err = _error(capsys, files["sky_fits"], g, files["npy"], "--noise", 0.1, "--out", out)
    assert "image 2" in err and "no celestial WCS" in err and "ra/dec" in err
    err = _error(capsys, scene, files["npy"], "--noise", 0.1, "--center", *CRVAL, "--out", out)
    assert "no celestial WCS" in err and "--center" in err
    err = _error(capsys, scene, g, g, "--noise", 0.1, "--out", out)
    assert "same label 'g'" in err and "--label" in err
    err = _error(capsys, files["far"], g, "--noise", 0.1, "--coarse", "--out", out)
    assert "contains none of the sources" in err
    assert not out.exists()


def test_help_names_the_inputs(capsys):
    rc = main(["forced", "--help"])
    text = capsys.readouterr().out
    assert rc == 0
    for word in ("REFERENCE", "IMAGE", "--noise", "--psf", "--zeropoint", "--overwrite", "ra, dec"):
        assert word in text, word
