"""Imfit configuration files: parsing, conversions to a Scene and back, error messages.

The shared Imfit fixtures are read from ../shared/validation (or $SCENEFIT_VALIDATION_DIR);
tests that need them skip when they are absent.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaincinv

import scenefit as sf
from scenefit.io.imfit_config import (
    flux_factor,
    parse_imfit_config,
    read_imfit_config,
)

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))
IMFIT = VALIDATION / "imfit"
needs_data = pytest.mark.skipif(not IMFIT.is_dir(), reason="shared validation data absent")

#: shared configs that use Imfit functions scenefit does not implement (or are not
#: configuration files at all); they must fail with a clear message, not parse
UNSUPPORTED = {
    "config_imfit_gauss-extra-params.dat": "GaussianExtraParams",
    "config_imfit_sersictest512_badlimits4.dat": "malformed limits (a bad file)",
    "config_makeimage-optional_params0.dat": "OPTIONAL_PARAMS",
    "config_makeimage-optional_params1.dat": "OPTIONAL_PARAMS",
    "config_makeimage-optional_params2.dat": "OPTIONAL_PARAMS",
    "config_makeimage-optional_params3.dat": "OPTIONAL_PARAMS",
    "config_makeimage-optional_params_bad1.dat": "OPTIONAL_PARAMS",
    "config_imfit_sersictest512_badlimits2.dat": "PA outside its limits (a bad file)",
    "config_imfit_sersictest512_badlimits3.dat": "equal limits (a bad file)",
    "config_makeimage_sersictest512_bad4.dat": "X0 without Y0 (a bad file)",
    "config_makeimage_sersictest512_bad5.dat": "a parameter without a value (a bad file)",
    "config_imfit_pointsource-extra.dat": "OPTIONAL_PARAMS",
    "config_profilefit_sersic.dat": "1-D profile fit (X0 only)",
    "config_profilefit_core-sersic.dat": "1-D profile fit (X0 only)",
    "config_biggertest_4c.dat": "Sersic-1D; X0 outside its limits",
    "bootstrap_output_seed10.dat": "not a configuration file",
    "bootstrap_output_seed10_tail.dat": "not a configuration file",
    "bootstrap_output_seed10_2_tail.dat": "not a configuration file",
    "savefluxes_out.dat": "not a configuration file",
}


def _configs():
    if not IMFIT.is_dir():
        return []
    out = []
    for p in sorted(IMFIT.rglob("*.dat")):
        if "bad" in p.name or p.name in UNSUPPORTED:
            continue
        out.append(p)
    return out


# ------------------------------------------------------------------------- parsing
@needs_data
@pytest.mark.parametrize("path", _configs(), ids=lambda p: p.name)
def test_every_supported_shared_config_parses_and_round_trips(path):
    m = read_imfit_config(path)
    assert m.function_sets and all(fs.functions for fs in m.function_sets)
    # imfit file -> scene -> imfit file gives the same numbers (values and limits)
    n = int(m.options.get("NROWS", 300)), int(m.options.get("NCOLS", 300))
    img = sf.Image(np.zeros(n))
    scene, _ = m.to_scene(img)
    back = parse_imfit_config(m.with_scene(scene, img).to_text(with_options=True), "rt")
    assert back.options == m.options
    for fs0, fs1 in zip(m.function_sets, back.function_sets, strict=True):
        _same(fs0.x0, fs1.x0)
        _same(fs0.y0, fs1.y0)
        for f0, f1 in zip(fs0.functions, fs1.functions, strict=True):
            assert (f0.name, f0.label) == (f1.name, f1.label)
            for p0, p1 in zip(f0.params, f1.params, strict=True):
                _same(p0, p1)


def _same(p0, p1):
    assert p0.name == p1.name and p0.fixed == p1.fixed
    assert p1.value == pytest.approx(p0.value, rel=1e-9, abs=1e-9), p0.name
    if p0.lo is None:
        assert p1.lo is None
    else:
        assert (p1.lo, p1.hi) == pytest.approx((p0.lo, p0.hi), rel=1e-9, abs=1e-9)


@needs_data
@pytest.mark.parametrize("name", sorted(UNSUPPORTED))
def test_unsupported_shared_files_fail_with_a_line_number(name):
    paths = list(IMFIT.rglob(name))
    assert paths, name
    with pytest.raises(ValueError, match=r"line \d+: "):
        read_imfit_config(paths[0])


BAD = {
    "config_imfit_badparamline.dat": r"line 12: parameter PA has no value",
    "config_imfit_sersictest512_badlimits1.dat": r"line 7: parameter Y0: limits are out of order",
    "config_imfit_sersictest512_badlimits2.dat": r"line 9: parameter PA: initial value 30 is "
    r"outside its limits \[45, 100\]",
    "config_makeimage_sersictest512_bad1.dat": r"line 8: FUNCTION before any X0",
    "config_makeimage_sersictest512_bad2.dat": r"line 11: parameter 'PA' before any FUNCTION",
    "config_makeimage_sersictest512_bad3.dat": r"line 8: X0 is not followed by Y0",
    "config_makeimage_sersictest512_bad7.dat": r"line 8: parameter X0 has no value",
}


@needs_data
@pytest.mark.parametrize("name", sorted(BAD))
def test_bad_shared_configs_name_file_line_and_problem(name):
    path = next(IMFIT.rglob(name))
    with pytest.raises(ValueError, match=BAD[name]) as exc:
        read_imfit_config(path)
    assert str(path) in str(exc.value)


@pytest.mark.parametrize(
    "text, match",
    [
        ("X0 1 0,2\nY0 1\nFUNCTION Gaussian\nPA 0 30\n", r"line 4: .*malformed limits '30'"),
        ("X0 1\nY0 1\nFUNCTION Gaussian\nPA 30 30,30\n", r"line 4: .*limits are equal"),
        ("X0 1\nY0 1\nFUNCTION Gaussian\nPA 30 45,100\n", r"line 4: .*outside its limits"),
        ("X0 1\nY0 1\nFUNCTION Gaussian\nPA 30\nell 0\n", r"line 3: .*missing .*I_0, sigma"),
        ("X0 1\nY0 1\nFUNCTION Bogus\n", r"line 3: unknown or unsupported function 'Bogus'"),
        ("X0 1\nY0 1\nFUNCTION FlatSky\nI_sky abc\n", r"line 4: I_sky: 'abc' is not a number"),
        ("X0 1\nY0 1\nFUNCTION FlatSky\nI_sky 1\nfoo 2\n", r"line 5: .*no further parameter"),
        ("GAIN\nX0 1\nY0 1\nFUNCTION FlatSky\nI_sky 1\n", r"line 1: GAIN needs exactly one"),
        ("X0 1\nY0 1\n", r"no FUNCTION"),
        ("# only a comment\n", r"no function set found"),
    ],
)
def test_malformed_configs_raise_value_errors(text, match):
    with pytest.raises(ValueError, match=match) as exc:
        parse_imfit_config(text, source="my.dat")
    assert str(exc.value).startswith("my.dat")


def test_labels_header_and_positional_parameter_names():
    text = (
        "GAIN 4.725\nREADNOISE 4.3\nORIGINAL_SKY 130.1\nEXPTIME 2\nNCOMBINED 3\n"
        "X0 10 5,15\nY0 12 fixed\n"
        "FUNCTION Sersic  # LABEL main bulge\n"
        "PA 30 0,90\nell 0.2\nn 4 fixed\nI_e 5\nr_e 3\n"
        "FUNCTION Exponential # LABEL disk\nPA 40\nell 0.5\nI_0 2\nh 6\n"
        "FUNCTION FlatSky\nI_0 7 fixed   # Imfit matches parameters by position\n"
    )
    m = parse_imfit_config(text)
    assert m.options == {
        "GAIN": 4.725,
        "READNOISE": 4.3,
        "ORIGINAL_SKY": 130.1,
        "EXPTIME": 2.0,
        "NCOMBINED": 3.0,
    }
    labels = [f.label for f in m.functions]
    assert labels == ["main bulge", "disk", None]
    assert m.functions[2].params[0].name == "I_sky"
    scene, notes = m.to_scene(sf.Image(np.zeros((20, 20))))
    assert scene.names == ("main_bulge", "disk", "flat_sky")
    assert scene.ties == {"disk.x": "main_bulge.x", "disk.y": "main_bulge.y"}
    assert scene["main_bulge"].n.fixed and scene["flat_sky"].sky.value == 7.0
    assert scene["main_bulge"].x.fixed is False and scene["main_bulge"].y.fixed is False
    assert notes == ()


# --------------------------------------------------------------------- conversions
def _numeric_flux(profile, q, **kw):
    """Total flux of an Imfit profile by direct radial integration (sizes in pixels)."""
    if profile == "Sersic":
        n, re_, ie = kw["n"], kw["r_e"], kw["I_e"]
        b = gammaincinv(2 * n, 0.5)
        f = lambda r: ie * np.exp(-b * ((r / re_) ** (1 / n) - 1))  # noqa: E731
    elif profile == "Exponential":
        f = lambda r: kw["I_0"] * np.exp(-r / kw["h"])  # noqa: E731
    elif profile == "Gaussian":
        f = lambda r: kw["I_0"] * np.exp(-0.5 * (r / kw["sigma"]) ** 2)  # noqa: E731
    else:
        a = kw["fwhm"] / (2 * math.sqrt(2 ** (1 / kw["beta"]) - 1))
        f = lambda r: kw["I_0"] * (1 + (r / a) ** 2) ** -kw["beta"]  # noqa: E731
    return 2 * math.pi * q * quad(lambda r: r * f(r), 0, np.inf, limit=400)[0]


@pytest.mark.parametrize(
    "profile, params",
    [
        ("Sersic", dict(n=2.4, r_e=6.0, I_e=20.0)),
        ("Sersic", dict(n=0.8, r_e=3.0, I_e=1.5)),
        ("Exponential", dict(h=4.0, I_0=10.0)),
        ("Gaussian", dict(sigma=2.5, I_0=3.0)),
        ("Moffat", dict(fwhm=3.0, beta=2.5, I_0=7.0)),
    ],
)
def test_surface_brightness_to_total_flux_matches_the_integral(profile, params):
    amp = params.get("I_e", params.get("I_0"))
    fac = flux_factor(profile, {"ell": 0.3, **params})
    assert fac * amp == pytest.approx(_numeric_flux(profile, 0.7, **params), rel=1e-7)


def test_pixel_scale_rotation_and_one_based_positions():
    text = "X0 11 5,15\nY0 21 16,26\nFUNCTION Exponential\nPA 30 10,50\nell 0.4 0.1,0.6\n"
    text += "I_0 10 fixed\nh 4 1,8\n"
    m = parse_imfit_config(text)
    # default cd, pixel scale 0.5
    img = sf.Image(np.zeros((40, 30)), pixel_scale=0.5)
    c = m.to_scene(img)[0]["exponential"]
    px, py = img.sky_to_pixel(c.x.value, c.y.value)
    assert (float(px), float(py)) == pytest.approx((10.0, 20.0))  # 1-based -> 0-based
    assert c.pa.value == pytest.approx(30.0) and (c.pa.lo, c.pa.hi) == (10.0, 50.0)
    assert c.q.value == pytest.approx(0.6) and (c.q.lo, c.q.hi) == pytest.approx((0.4, 0.9))
    assert c.h.value == 2.0 and (c.h.lo, c.h.hi) == (0.5, 4.0)
    # the x limits flip with the east-left cd: xi = -0.5 (x - crpix)
    xs = sorted(float(img.pixel_to_sky(v - 1, 0)[0]) for v in (5, 15))
    assert (c.x.lo, c.x.hi) == pytest.approx(xs)
    assert c.flux.fixed  # I_0 fixed and the shape is free: a documented approximation
    # a cd rotated by 25 deg (north 25 deg from +y): PA turns by the same angle
    t = math.radians(25.0)
    rot = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    img2 = sf.Image(np.zeros((40, 30)), cd=rot @ np.array([[-0.5, 0], [0, 0.5]]))
    scene2 = m.to_scene(img2)[0]
    c2 = scene2["exponential"]
    pa_expected = math.degrees(
        math.atan2(*(img2.cd @ np.array([-math.sin(math.radians(30)), math.cos(math.radians(30))])))
    )
    assert c2.pa.value == pytest.approx(pa_expected)
    back = m.with_scene(scene2, img2)
    assert back.functions[0].param("PA").value == pytest.approx(30.0)
    assert back.function_sets[0].x0.value == pytest.approx(11.0)


def test_rendered_imfit_model_has_imfit_surface_brightness():
    # I_0 of an Exponential at the centre pixel, pixel-centre sampling, scale 1
    text = "X0 16 \nY0 17\nFUNCTION Exponential\nPA 20\nell 0.3\nI_0 50\nh 5\n"
    m = parse_imfit_config(text)
    img = sf.Image(np.zeros((32, 32)))
    model = sf.render(m.to_scene(img)[0], img, sf.RenderSettings(quad_order=1, refine_size=0))
    assert model[16, 15] == pytest.approx(50.0, rel=1e-8)  # row Y0-1, column X0-1
    # one pixel further along +y (row + 1) at PA 20, ell 0.3: elliptical radius by hand
    t = math.radians(20.0)
    a = -0.0 * math.sin(t) + 1.0 * math.cos(t)  # along the major axis (CCW from +y)
    b = 0.0 * math.cos(t) + 1.0 * math.sin(t)
    r = math.hypot(a, b / 0.7)
    assert model[17, 15] == pytest.approx(50.0 * math.exp(-r / 5.0), rel=1e-8)


def test_tilted_sky_plane_round_trip_and_values():
    text = "X0 5\nY0 8\nFUNCTION TiltedSkyPlane\nI_0 10\nm_x 0.5\nm_y -0.25\n"
    m = parse_imfit_config(text)
    img = sf.Image(np.zeros((12, 10)))
    scene, _ = m.to_scene(img)
    model = sf.render(scene, img)
    yy, xx = np.mgrid[1:13, 1:11]  # 1-based pixel centres
    np.testing.assert_allclose(model, 10 + 0.5 * (xx - 5) - 0.25 * (yy - 8), atol=1e-12)
    back = m.with_scene(scene, img).functions[0]
    assert [p.value for p in back.params] == pytest.approx([10.0, 0.5, -0.25])


def test_skewed_cd_is_rejected():
    m = parse_imfit_config("X0 1\nY0 1\nFUNCTION FlatSky\nI_sky 1\n")
    with pytest.raises(ValueError, match="conformal"):
        m.to_scene(sf.Image(np.zeros((4, 4)), cd=[[-1.0, 0.3], [0.0, 1.0]]))


@pytest.mark.parametrize(
    "body, match",
    [
        (
            "Sersic\nPA 10\nell 1.2\nn 2\nI_e 5\nr_e 5",
            r"FUNCTION Sersic: ell = 1.2 must be in \[0, 1\)",
        ),
        ("Sersic\nPA 10\nell 0.2\nn 2\nI_e 5\nr_e -5", r"r_e = -5 must be positive"),
        ("Moffat\nPA 0\nell 0\nI_0 5\nfwhm 3\nbeta 0.8", r"beta = 0.8 must be above 1"),
        ("FerrersBar2D\nPA 0\nell 0\nc0 0\nn 2\nI_0 5\na_bar -3", r"a_bar = -3 must be positive"),
        ("GaussianRing\nPA 0\nell 0\nA 5\nR_ring -1\nsigma_r 2", r"R_ring = -1 must not be"),
        ("Exponential_GenEllipse\nPA 0\nell 0\nc0 -2.5\nI_0 5\nh 3", r"c0 = -2.5 must be above -2"),
    ],
)
def test_values_no_profile_can_take_are_refused_before_drawing(body, match):
    model = parse_imfit_config(f"X0 10\nY0 10\nFUNCTION {body}\n", check_limits=False)
    with pytest.raises(ValueError, match=match):
        model.to_scene(sf.Image(np.zeros((20, 20))))
    flat = parse_imfit_config(
        "X0 10\nY0 10\nFUNCTION FerrersBar2D\nPA 0\nell 0\nc0 0\nn 0\nI_0 5\na_bar 3\n"
    )
    assert flat.to_scene(sf.Image(np.zeros((20, 20))))[0].components[0].alpha.value == 0.0
