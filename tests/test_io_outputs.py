"""Imgblock FITS, fit figure and write_outputs: layout, contents, where files go."""

import dataclasses
import math
import sys

import numpy as np
import pytest
from astropy.io import fits
from astropy.table import Table
from astropy.wcs import WCS

from scenefit import FlatSky, Gaussian, Image, Param, PointSource, Scene, fit, render
from scenefit.io import load_scene, plot_fit, write_imgblock, write_outputs

ZP = 25.0
SCALE = 0.2
N = 32
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _wcs():
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 2.0]
    w.wcs.crpix = [(N - 1) / 2 + 1, (N - 1) / 2 + 1]
    w.wcs.cdelt = [-SCALE / 3600, SCALE / 3600]
    return w


def _scene(gal, halo, star, sky):
    return Scene(
        [
            Gaussian(name="gal", **gal),
            Gaussian(name="halo", q=Param(0.8, fixed=True), **halo),
            PointSource(name="star", **star),
            FlatSky(sky=sky),
        ],
        ties={"halo.x": "gal.x", "halo.y": "gal.y"},
    )


@pytest.fixture(scope="module")
def result():
    """One fit shared by the tests: ties, a fixed parameter, a mask, a zero point, a WCS."""
    rng = np.random.default_rng(11)
    yy, xx = np.mgrid[-3:4, -3:4]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.2**2)
    truth = _scene(
        dict(x=0.1, y=-0.2, flux=500.0, sigma=0.6, q=0.6, pa=40.0),
        dict(x=0.1, y=-0.2, flux=200.0, sigma=1.5, pa=10.0),
        dict(x=-1.5, y=1.8, flux=150.0),
        0.5,
    )
    model = render(truth, Image(np.zeros((N, N)), pixel_scale=SCALE, psf=psf))
    mask = np.zeros(model.shape, bool)
    mask[2:5, 25:29] = True
    sigma = np.full(model.shape, 0.05)
    img = Image(
        model + rng.normal(0.0, 1.0, model.shape) * sigma,
        sigma=sigma, mask=mask, psf=psf, pixel_scale=SCALE, zeropoint=ZP, wcs=_wcs(),
    )  # fmt: skip
    start = _scene(
        dict(x=0.0, y=0.0, flux=400.0, sigma=0.8, q=0.7, pa=30.0),
        dict(x=0.0, y=0.0, flux=150.0, sigma=1.2, pa=20.0),
        dict(x=-1.4, y=1.7, flux=100.0),
        0.4,
    )
    res = fit(start, img)
    assert res.converged
    return res


@pytest.fixture(scope="module")
def block(result, tmp_path_factory):
    path = write_imgblock(result, tmp_path_factory.mktemp("ib") / "imgblock.fits")
    with fits.open(path) as hdul:
        return [
            (h.name, None if h.data is None else np.array(h.data), h.header.copy()) for h in hdul
        ]


def _split(text):
    """GALFIT-style 'value +/- error' (with [], {}, ** markers) -> (value, error)."""
    parts = text.replace("+/-", " ").split()
    strip = "[]{}*"
    value = float(parts[0].strip(strip))
    error = float(parts[1].strip(strip)) if len(parts) > 1 else math.nan
    return value, error


# ----------------------------------------------------------------------------- imgblock
def test_imgblock_has_galfit_layout(block, result):
    assert [name for name, _, _ in block] == ["PRIMARY", "INPUT", "MODEL", "RESIDUAL"]
    assert block[0][1] is None
    for _, data, _ in block[1:]:
        assert data.shape == result.image.shape
        assert data.dtype.kind == "f" and data.dtype.itemsize == 8


def test_imgblock_arrays(block, result):
    mask = result.image.mask
    data, model, resid = (b[1] for b in block[1:])
    np.testing.assert_array_equal(model, result.model())
    np.testing.assert_array_equal(data[~mask], result.image.data[~mask])
    np.testing.assert_array_equal(resid[~mask], data[~mask] - model[~mask])
    np.testing.assert_array_equal(resid[~mask], result.residual()[~mask])
    assert mask.sum() == 12
    assert np.isnan(resid[mask]).all() and np.isnan(data[mask]).all()
    assert np.isfinite(model).all()
    # the residual is noise: chi2 from the file equals the fit's objective
    chi2 = np.nansum(resid**2 * result.image.invvar)
    assert chi2 == pytest.approx(result.objective, rel=1e-9)


def test_imgblock_wcs_in_every_image_hdu(block, result):
    ref = result.image.wcs
    for _, _, header in block[1:]:
        w = WCS(header)
        assert list(w.wcs.ctype) == list(ref.wcs.ctype)
        np.testing.assert_allclose(w.wcs.crval, ref.wcs.crval, rtol=0, atol=1e-12)
        np.testing.assert_allclose(w.wcs.crpix, ref.wcs.crpix, rtol=0, atol=1e-12)
        np.testing.assert_allclose(w.pixel_scale_matrix, ref.pixel_scale_matrix, rtol=1e-12)
    assert "CTYPE1" not in block[0][2]


def test_imgblock_without_wcs(result, tmp_path):
    res = dataclasses.replace(result, image=result.image.replace(wcs=None))
    with fits.open(write_imgblock(res, tmp_path / "nowcs.fits")) as hdul:
        assert len(hdul) == 4
        assert all("CTYPE1" not in h.header for h in hdul)


def test_imgblock_fit_statistics(block, result):
    h = block[2][2]
    assert h["CHISQ"] == result.objective
    assert h["NDOF"] == result.dof
    assert h["NFREE"] == len(result.free) == 13  # 6 + 3 (halo) + 3 + 1
    assert h["NFIX"] == 1
    assert h["CHI2NU"] == result.reduced_chi2
    assert h["MAGZPT"] == ZP
    assert h["FITSECT"] == f"[1:{N},1:{N}]"
    assert h["CONVERGD"] is True
    assert h["LOGFILE"] == "none"


def test_imgblock_components_in_galfit_conventions(block, result):
    h = block[2][2]
    assert [h[f"COMP_{k}"] for k in range(1, 5)] == ["gaussian", "gaussian", "psf", "sky"]
    assert "COMP_5" not in h
    img, scene, unc = result.image, result.scene, result.uncertainties

    # positions: 1-based pixels
    px, py = img.sky_to_pixel(scene["star"].x.value, scene["star"].y.value)
    x, ex = _split(h["3_XC"])
    y, ey = _split(h["3_YC"])
    assert x == pytest.approx(px + 1, abs=1e-4) and y == pytest.approx(py + 1, abs=1e-4)
    assert ex == pytest.approx(unc["star.x"] / SCALE, rel=1e-5)  # north up, east left
    assert ey == pytest.approx(unc["star.y"] / SCALE, rel=1e-5)
    # the star was injected at (-1.5, 1.8) arcsec: pixel (24, 25.5), 1-based
    assert abs(x - 24.0) < 5 * ex and abs(y - 25.5) < 5 * ey

    # magnitudes and sizes
    f = scene["star"].flux.value
    m, em = _split(h["3_MAG"])
    assert m == pytest.approx(ZP - 2.5 * math.log10(f), abs=1e-4)
    assert em == pytest.approx(1.0857362 * unc["star.flux"] / f, rel=1e-5)
    assert _split(h["3_FLUX"])[0] == pytest.approx(f, rel=1e-5)
    fwhm, _ = _split(h["1_FWHM"])
    assert fwhm == pytest.approx(2.3548200 * scene["gal"].sigma.value / SCALE, rel=1e-5)
    assert _split(h["1_AR"])[0] == pytest.approx(scene["gal"].q.value, rel=1e-5)
    assert _split(h["1_PA"])[0] == pytest.approx(scene["gal"].pa.value, abs=1e-3)
    assert _split(h["4_SKY"])[0] == pytest.approx(scene["flat_sky"].sky.value, rel=1e-5)

    # markers: fixed [v], tied {v} +/- e, free "v +/- e"
    assert h["2_AR"] == "[0.8]"
    assert h["2_XC"].startswith("{") and h["2_XC"].split("}")[0][1:] == h["1_XC"].split()[0]
    assert "[" not in h["1_XC"] and "{" not in h["1_XC"] and "*" not in h["1_XC"]


def test_imgblock_marks_parameters_at_a_bound(result, tmp_path):
    res = dataclasses.replace(result, at_bound=("gal.q",))
    with fits.open(write_imgblock(res, tmp_path / "b.fits")) as hdul:
        h = hdul["MODEL"].header
    assert h["1_AR"].startswith("*") and h["1_AR"].count("*") == 4
    assert _split(h["1_AR"])[0] == pytest.approx(result.scene["gal"].q.value, rel=1e-5)
    assert not h["1_PA"].startswith("*")


def _major_axis_pa(model):
    """Image PA (deg from +y towards -x, in [-90, 90)) of a model's second moments."""
    yy, xx = np.mgrid[: model.shape[0], : model.shape[1]]
    w = model / model.sum()
    cx, cy = (w * xx).sum(), (w * yy).sum()
    mxx, myy = (w * (xx - cx) ** 2).sum(), (w * (yy - cy) ** 2).sum()
    mxy = (w * (xx - cx) * (yy - cy)).sum()
    from_x = 0.5 * math.degrees(math.atan2(2 * mxy, mxx - myy))
    return (from_x - 90.0 + 90.0) % 180.0 - 90.0


@pytest.mark.parametrize("rotation", [0.0, 30.0, -75.0, 120.0])
def test_imgblock_position_angle_is_measured_on_the_image(result, tmp_path, rotation):
    """PA and centre follow the CD matrix: checked against the moments of a rendering."""
    t = math.radians(rotation)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    image = result.image.replace(cd=rot @ np.array([[-SCALE, 0.0], [0.0, SCALE]]), wcs=None)
    res = dataclasses.replace(result, image=image)
    with fits.open(write_imgblock(res, tmp_path / "rot.fits")) as hdul:
        h = hdul["MODEL"].header
    pa, _ = _split(h["1_PA"])
    assert -90.0 <= pa < 90.0
    gal = dataclasses.replace(result.scene["gal"], x=Param(0.0), y=Param(0.0))
    measured = _major_axis_pa(render(Scene([gal]), image))
    assert (pa - measured + 90.0) % 180.0 - 90.0 == pytest.approx(0.0, abs=0.05)
    px, py = image.sky_to_pixel(result.scene["star"].x.value, result.scene["star"].y.value)
    assert _split(h["3_XC"])[0] == pytest.approx(px + 1, abs=1e-4)
    assert _split(h["3_YC"])[0] == pytest.approx(py + 1, abs=1e-4)


# ------------------------------------------------------------------------------- figure
def test_plot_is_a_readable_png(result, tmp_path):
    from matplotlib.image import imread

    had_pyplot = "matplotlib.pyplot" in sys.modules
    path = plot_fit(result, tmp_path / "fit.png")
    assert path == tmp_path / "fit.png"
    assert path.read_bytes()[:8] == PNG_SIGNATURE
    pixels = imread(path)
    assert pixels.ndim == 3 and pixels.shape[0] > 200 and pixels.shape[1] > 600
    assert pixels.std() > 0.05  # not a blank canvas
    if not had_pyplot:
        assert "matplotlib.pyplot" not in sys.modules  # no global pyplot state


# ------------------------------------------------------------------------ write_outputs
def _tree(root):
    return sorted(str(p.relative_to(root)) for p in root.rglob("*"))


def test_write_outputs_writes_only_the_five_files_in_outdir(result, tmp_path, monkeypatch):
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    outdir = tmp_path / "out" / "deep"
    paths = write_outputs(result, outdir, prefix="ngc1")
    assert paths == {
        "params_ecsv": outdir / "ngc1_params.ecsv",
        "params_fits": outdir / "ngc1_params.fits",
        "imgblock": outdir / "ngc1_imgblock.fits",
        "scene": outdir / "ngc1_scene.yaml",
        "plot": outdir / "ngc1.png",
    }
    assert _tree(tmp_path) == sorted(
        ["cwd", "out", "out/deep"] + [f"out/deep/{p.name}" for p in paths.values()]
    )

    # the files hold what they say
    assert load_scene(paths["scene"]) == result.scene
    t = Table.read(paths["params_ecsv"])
    np.testing.assert_array_equal(t["value"], result.scene.values())
    t = Table.read(paths["params_fits"], mask_invalid=False)
    np.testing.assert_array_equal(t["value"], result.scene.values())
    with fits.open(paths["imgblock"]) as hdul:
        assert [h.name for h in hdul] == ["PRIMARY", "INPUT", "MODEL", "RESIDUAL"]
        assert hdul["MODEL"].header["LOGFILE"] == "ngc1_params.ecsv"
    assert paths["plot"].read_bytes()[:8] == PNG_SIGNATURE

    # writing again overwrites in place
    assert write_outputs(result, outdir, prefix="ngc1") == paths
    assert len(list(outdir.iterdir())) == 5


def test_write_outputs_default_prefix(result, tmp_path):
    paths = write_outputs(result, tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        ["fit_params.ecsv", "fit_params.fits", "fit_imgblock.fits", "fit_scene.yaml", "fit.png"]
    )
    assert all(p.parent == tmp_path for p in paths.values())


@pytest.mark.parametrize("prefix", ["", "a/b", "../up", "..", ".", "a\\b"])
def test_write_outputs_rejects_prefixes_that_leave_outdir(result, tmp_path, prefix):
    with pytest.raises(ValueError, match="prefix"):
        write_outputs(result, tmp_path / "out", prefix=prefix)
    assert list(tmp_path.iterdir()) == []
