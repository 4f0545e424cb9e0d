"""Fit configuration files (scenefit.io.config): parsing, paths, ties, bounds, WCS."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
from astropy.io import fits
from astropy.wcs import WCS

import scenefit as sf
from scenefit.io import save_scene
from scenefit.io.config import FitConfig, load_config

SCALE = 0.2  # arcsec / pixel


def _wcs(shape=(40, 50), rot_deg=30.0, crpix=(20.5, 15.5)):
    """A TAN WCS with a rotated, east-left CD matrix; crpix 1-based (FITS)."""
    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [30.0, -10.0]
    w.wcs.crpix = list(crpix)
    t = np.radians(rot_deg)
    rot = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]])
    w.wcs.cd = rot @ np.array([[-SCALE, 0.0], [0.0, SCALE]]) / 3600.0
    return w


def _write(tmp_path, name, arr, header=None):
    p = tmp_path / name
    fits.PrimaryHDU(np.asarray(arr, float), header=header).writeto(p)
    return p


@pytest.fixture
def files(tmp_path):
    """image.fits (with WCS and MAGZERO), sigma.fits, mask.fits, psf.fits, img.npy."""
    rng = np.random.default_rng(0)
    shape = (40, 50)
    data = rng.normal(10.0, 1.0, shape)
    hdr = _wcs(shape).to_header()
    hdr["MAGZERO"] = 27.5
    _write(tmp_path, "image.fits", data, hdr)
    _write(tmp_path, "sigma.fits", np.ones(shape))
    mask = np.zeros(shape)
    mask[0, :3] = 1
    _write(tmp_path, "mask.fits", mask)
    yy, xx = np.mgrid[:9, :9] - 4
    _write(tmp_path, "psf.fits", np.exp(-0.5 * (xx**2 + yy**2) / 1.5**2))
    np.save(tmp_path / "img.npy", data)
    return tmp_path


def _cfg(path, text):
    path.write_text(textwrap.dedent(text))
    return path


BASE = """\
images:
  - data: image.fits
    sigma: sigma.fits
    mask: mask.fits
    psf: psf.fits
"""


def test_full_config(files):
    p = _cfg(
        files / "c.yaml",
        BASE
        + """\
    gain: 2.5
    band: r
sources:
  - type: Sersic
    name: bulge
    position: {pixel: [24.0, 18.0]}
    n: {value: 4, fixed: true}
    r_e: {value: 2.0, lo: 0.1, hi: 20}
    flux: 1000
  - type: exponential
    name: disk
    x: {tie: bulge.x}
    y: {tie: bulge}
    q: {lo: 0.1}
  - type: flat_sky
likelihood: poisson
fit: {max_iter: 50, ftol: 1.0e-8, xtol: 1e-9}
render: {quad_order: 4, refine_size: 7, refine_factor: 4}
output: {dir: out/run1, prefix: galaxy}
""",
    )
    cfg = load_config(p)
    assert isinstance(cfg, FitConfig)
    img = cfg.image
    assert img.shape == (40, 50) and img.zeropoint == 27.5 and img.gain == 2.5
    assert img.band == "r" and img.psf.shape == (9, 9) and img.wcs is not None
    assert img.mask[0, :3].all() and img.mask.sum() == 3
    s = cfg.scene
    assert s.names == ("bulge", "disk", "flat_sky")
    assert isinstance(s["bulge"], sf.Sersic) and isinstance(s["disk"], sf.Exponential)
    n = s["bulge"].n
    assert (n.value, n.fixed, n.lo, n.hi) == (4.0, True, 0.2, 10.0)  # default bounds kept
    r = s["bulge"].r_e
    assert (r.value, r.fixed, r.lo, r.hi) == (2.0, False, 0.1, 20.0)
    assert s["bulge"].flux.value == 1000.0 and s["bulge"].q.value is None
    assert s["disk"].q.lo == 0.1 and s["disk"].q.hi == 1.0
    assert s.ties == {"disk.x": "bulge.x", "disk.y": "bulge.y"}
    assert set(s.missing()) >= {"bulge.q", "bulge.pa", "disk.flux", "flat_sky.sky"}
    assert cfg.likelihood == "poisson" and cfg.max_iter == 50
    assert (cfg.ftol, cfg.xtol) == (1e-8, 1e-9)
    assert cfg.settings == sf.RenderSettings(quad_order=4, refine_size=7, refine_factor=4)
    assert cfg.output_dir == files / "out" / "run1" and cfg.prefix == "galaxy"


def test_defaults_and_relative_paths(files, tmp_path_factory, monkeypatch):
    sub = files / "configs"
    sub.mkdir()
    p = _cfg(sub / "c.yaml", "images: [{data: ../image.fits}]\nsources: [{type: flat_sky}]\n")
    monkeypatch.chdir(tmp_path_factory.mktemp("elsewhere"))
    cfg = load_config(p)
    assert cfg.image.shape == (40, 50)
    assert np.all(cfg.image.invvar == 1.0)  # no sigma: unit weights
    assert cfg.likelihood == "chi2" and cfg.max_iter == 200 and cfg.ftol == 1e-9
    assert cfg.settings == sf.RenderSettings()
    assert cfg.output_dir == sub / "scenefit-out" and cfg.prefix == "fit"


def test_pixel_position_through_rotated_wcs(files):
    p = _cfg(
        files / "c.yaml",
        BASE
        + """\
sources:
  - {type: point, name: a, position: {pixel: [19.5, 14.5]}}
  - {type: point, name: b, position: {pixel: [29.5, 14.5]}}
  - {type: point, name: c, position: {pixel: [19.5, 20.5]}}
""",
    )
    s = load_config(p).scene
    # the 0-based pixel (19.5, 14.5) is FITS CRPIX (20.5, 15.5): the tangent-plane origin
    assert s["a"].x.value == pytest.approx(0.0, abs=1e-9)
    assert s["a"].y.value == pytest.approx(0.0, abs=1e-9)
    # +10 columns: cd @ (10, 0), with the header's CD in arcsec written out by hand
    t = np.radians(30.0)
    cd = np.array([[np.cos(t), -np.sin(t)], [np.sin(t), np.cos(t)]]) @ np.diag([-SCALE, SCALE])
    for name, off in (("b", (10.0, 0.0)), ("c", (0.0, 6.0))):
        expect = cd @ np.array(off)
        assert s[name].x.value == pytest.approx(expect[0], abs=1e-9)
        assert s[name].y.value == pytest.approx(expect[1], abs=1e-9)


def test_radec_position_matches_pixel(files):
    w = _wcs()
    ra, dec = w.pixel_to_world_values(31.2, 8.7)
    p = _cfg(
        files / "c.yaml",
        BASE
        + f"""\
sources:
  - {{type: point, name: a, position: {{radec: [{float(ra)!r}, {float(dec)!r}]}}}}
  - {{type: point, name: b, position: {{pixel: [31.2, 8.7]}}}}
""",
    )
    s = load_config(p).scene
    assert s["a"].x.value == pytest.approx(s["b"].x.value, abs=1e-6)
    assert s["a"].y.value == pytest.approx(s["b"].y.value, abs=1e-6)


def test_npy_data_with_pixel_scale_and_numbers(files):
    p = _cfg(
        files / "c.yaml",
        """\
images:
  - data: img.npy
    variance: 4.0
    pixel_scale: 0.5
sources:
  - {type: gaussian, position: {pixel: [24.5, 19.5]}, sigma: 1.0}
  - {type: flat_sky, sky: "1e1"}
""",
    )
    cfg = load_config(p)
    assert cfg.image.pixel_scale == pytest.approx(0.5)
    assert np.allclose(cfg.image.invvar, 0.25)
    g = cfg.scene["gaussian"]
    assert (g.x.value, g.y.value) == (0.0, 0.0)  # the array image centre maps to (0, 0)
    assert cfg.scene["flat_sky"].sky.value == 10.0


def test_fits_hdu_selection(files):
    hdus = fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.ImageHDU(np.full((6, 7), 3.0), name="SCI"),
            fits.ImageHDU(np.full((6, 7), 5.0), name="OTHER"),
        ]
    )
    hdus.writeto(files / "multi.fits")
    src = "sources: [{type: flat_sky}]\n"
    cfg = load_config(_cfg(files / "a.yaml", "images: [{data: multi.fits}]\n" + src))
    assert np.all(cfg.image.data == 3.0)  # first HDU holding an image
    cfg = load_config(_cfg(files / "b.yaml", "images: [{data: multi.fits, hdu: OTHER}]\n" + src))
    assert np.all(cfg.image.data == 5.0)
    cfg = load_config(
        _cfg(files / "c.yaml", "images: [{data: {file: multi.fits, hdu: 2}}]\n" + src)
    )
    assert np.all(cfg.image.data == 5.0)


def test_scene_file_instead_of_sources(files):
    scene = sf.Scene(
        [sf.Sersic(name="g", x=0.1, y=0.2, flux=10, r_e=1, n=2, q=0.5, pa=10), sf.FlatSky()],
    )
    save_scene(scene, files / "start.yaml")
    cfg = load_config(_cfg(files / "c.yaml", BASE + "scene: start.yaml\n"))
    assert cfg.scene == scene


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "body, match",
    [
        (
            "sources: [{type: sersik}]",
            r"sources\[0\]\.type: unknown model type 'sersik'; "
            r"valid types are sersic, .*exponential, gaussian, moffat, nuker, .*, point, flat_sky, "
            r"tilted_sky",
        ),
        ("sources: [{type: sersic, radius: 2}]", r"unknown key\(s\) 'radius' for a sersic"),
        ("sources: [{type: sersic, r_e: big}]", r"sources\[0\]\.r_e: expected a number"),
        (
            "sources: [{type: sersic, r_e: {value: 50, hi: 20}}]",
            r"r_e: starting value 50 is above its upper bound 20",
        ),
        ("sources: [{type: sersic, n: 0.1}]", r"n: starting value 0.1 is below its lower bound"),
        ("sources: [{type: sersic, r_e: {lo: 5, hi: 2}}]", r"r_e: bounds must satisfy lo < hi"),
        ("sources: [{type: sersic, r_e: {fixed: true}}]", r"fixed: true needs a value"),
        ("sources: [{type: sersic, r_e: {value: 1, fixed: yes please}}]", r"expected true or"),
        ("sources: [{type: sersic, r_e: {val: 1}}]", r"r_e: unknown key\(s\) 'val'"),
        (
            "sources: [{type: sersic, name: a}, {type: sersic, x: {tie: b.x}}]",
            r"sources\[1\]\.x\.tie: no component named 'b'; components are a, sersic",
        ),
        (
            "sources: [{type: sersic, name: a}, {type: sersic, x: {tie: a.h}}]",
            r"'a' \(sersic\) has no parameter 'h'",
        ),
        ("sources: [{type: sersic, name: a, x: {tie: a.x}}]", r"cannot be tied to itself"),
        (
            "sources: [{type: sersic, name: a}, {type: sersic, x: {tie: a.x, value: 1}}]",
            r"a tied parameter takes its leader's value",
        ),
        (
            "sources: [{type: sersic, name: a, y: {tie: b.y}}, {type: sersic, name: b, "
            "y: {tie: c.y}}, {type: sersic, name: c}]",
            r"itself tied to c\.y",
        ),
        ("sources: [{type: sersic, name: a}, {type: sersic, name: a}]", r"two components"),
        ("sources: [{type: sersic, position: {pixel: [1, 2]}, x: 3}]", r"position or x/y"),
        ("sources: [{type: flat_sky, position: {pixel: [1, 2]}}]", r"unknown key\(s\) 'position'"),
        ("sources: [{type: point, position: {pixel: [1]}}]", r"expected two numbers"),
        ("sources: [{type: point, position: [1, 2]}]", r"expected \{pixel: \[x, y\]\}"),
        ("sources: []", r"sources: expected a non-empty list"),
        ("sources: [{name: x}]", r"sources\[0\]: missing 'type'; valid types are sersic"),
        ("sources: [{type: flat_sky}]\nfoo: 1", r"top level: unknown key\(s\) 'foo'"),
        ("sources: [{type: flat_sky}]\nlikelihood: cash", r"unknown likelihood 'cash'"),
        ("sources: [{type: flat_sky}]\nfit: {max_iter: 0}", r"fit\.max_iter: must be at least 1"),
        ("sources: [{type: flat_sky}]\nfit: {ftol: -1}", r"fit\.ftol: must be positive"),
        ("sources: [{type: flat_sky}]\nfit: {maxiter: 5}", r"fit: unknown key\(s\) 'maxiter'"),
        ("sources: [{type: flat_sky}]\nrender: {refine_size: 4}", r"render: refine_size must"),
        ("sources: [{type: flat_sky}]\noutput: {prefix: a/b}", r"output\.prefix: expected a pl"),
        ("", r"missing 'sources'"),
    ],
)
def test_errors_name_the_file_and_key(files, body, match):
    p = _cfg(files / "bad.yaml", BASE + body + "\n")
    with pytest.raises(ValueError, match=match) as info:
        load_config(p)
    assert str(info.value).startswith(str(p))


@pytest.mark.parametrize(
    "images, exc, match",
    [
        ("images: [{data: nothere.fits}]", FileNotFoundError, r"images\[0\]\.data: file .*nothere"),
        (
            "images: [{data: image.fits, sigma: nosig.fits}]",
            FileNotFoundError,
            r"images\[0\]\.sigma: file",
        ),
        ("images: [{sigma: sigma.fits}]", ValueError, r"images\[0\]: missing 'data'"),
        ("images: [{data: image.fits, psf_file: x}]", ValueError, r"unknown key\(s\) 'psf_file'"),
        ("images: [{data: image.fits, sigma: 1.0, invvar: 1.0}]", ValueError, r"at most one"),
        ("images: [{data: image.fits, gain: -1}]", ValueError, r"gain: must be positive"),
        ("images: [{data: image.fits, hdu: 5}]", ValueError, r"has no HDU 5"),
        ("images: [{data: c.yaml}]", ValueError, r"unsupported file type 'c.yaml'"),
        (
            "images: [{data: image.fits}, {data: image.fits}]",
            ValueError,
            r"lists 2 images; .*multi-image fitting comes later",
        ),
        ("images: []", ValueError, r"'images' must be a non-empty list"),
        (
            "images: [{data: image.fits, sigma: small.fits}]",
            ValueError,
            r"images\[0\]: sigma shape \(3, 3\) does not match data shape \(40, 50\)",
        ),
        (
            "images: [{data: image.fits, psf: psf.fits, psf_oversampling: 1.5}]",
            ValueError,
            r"psf_oversampling: expected an integer",
        ),
        (
            "images: [{data: image.fits, sigma: zero.fits}]",
            ValueError,
            r"images\[0\]: sigma map has 0 NaN/inf and 2000 zero or negative",
        ),
    ],
)
def test_image_errors(files, images, exc, match):
    _write(files, "small.fits", np.ones((3, 3)))
    _write(files, "zero.fits", np.zeros((40, 50)))
    p = _cfg(files / "c.yaml", images + "\nsources: [{type: flat_sky}]\n")
    with pytest.raises(exc, match=match) as info:
        load_config(p)
    assert str(info.value).startswith(str(p))


def test_file_level_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="configuration file .* not found"):
        load_config(tmp_path / "missing.yaml")
    p = _cfg(tmp_path / "bad.yaml", "images: [data: x\nsources: {")
    with pytest.raises(
        ValueError, match=r"bad\.yaml: not valid YAML at line 2, column 8: expected .,. or .\]."
    ):
        load_config(p)
    p = _cfg(tmp_path / "list.yaml", "- a\n- b\n")
    with pytest.raises(ValueError, match="expected a mapping"):
        load_config(p)
    p = _cfg(tmp_path / "empty.yaml", "")
    with pytest.raises(ValueError, match="the file is empty"):
        load_config(p)
    with pytest.raises(ValueError, match="is a folder"):
        load_config(tmp_path)


def test_radec_needs_a_wcs(files):
    p = _cfg(
        files / "c.yaml",
        "images: [{data: img.npy}]\nsources: [{type: point, position: {radec: [30, -10]}}]\n",
    )
    with pytest.raises(ValueError, match="no celestial WCS"):
        load_config(p)


def test_example_config_is_valid(tmp_path):
    """examples/fit_galaxy/config.yaml parses against data made by its make_data.py."""
    import runpy
    import shutil
    from pathlib import Path

    ex = Path(__file__).resolve().parents[1] / "examples" / "fit_galaxy"
    shutil.copy(ex / "config.yaml", tmp_path / "config.yaml")
    runpy.run_path(str(ex / "make_data.py"))["main"](tmp_path / "data")
    cfg = load_config(tmp_path / "config.yaml")
    assert cfg.image.mask.sum() == 128 and cfg.image.band == "r"
    s = cfg.scene
    assert s.names == ("bulge", "disk", "star_1", "star_2", "star_3", "sky")
    # the RA/Dec and pixel positions land on the simulated stars (within 0.2 px)
    from scenefit.simulate import demo_truth

    truth = demo_truth()
    for name in ("star_1", "star_2"):
        assert abs(s[name].x.value - truth[name].x.value) < 0.05
        assert abs(s[name].y.value - truth[name].y.value) < 0.05
    assert cfg.output_dir == tmp_path / "scenefit-out" and cfg.prefix == "galaxy"
