"""The model-type name table: names, lookup, description."""

import json

import pytest

from scenefit.io import MODEL_REGISTRY, describe_models, model_class
from scenefit.models import (
    MODEL_TYPES,
    AiryPSF,
    BrokenExponential,
    CoreSersic,
    EdgeOnDisk,
    Exponential,
    ExponentialGenEllipse,
    ExponentialTrunc,
    ExponentialWedges2,
    Ferrers,
    FlatSky,
    Gaussian,
    GaussianPSF,
    GaussianRing,
    King,
    MixturePSF3,
    Moffat,
    MoffatPSF,
    MultiGaussian3,
    Nuker,
    PointSource,
    Sersic,
    SersicFourier1_3_4,
    SersicGenEllipse,
    SersicGM,
    SersicRays2,
    SersicTwist,
    SersicWarp3,
    SkyGrid3x3,
    SkyGrid4x4Bicubic,
    Spline6,
    Spline6Zero,
    TiltedSky,
    ZernikePSF,
    fourier_modes,
    gen_ellipse,
    multi_gaussian,
    sky_grid,
    spline_profile,
    truncated,
)

EXPECTED = {
    "sersic": Sersic,
    "sersic_gm": SersicGM,
    "exponential": Exponential,
    "gaussian": Gaussian,
    "moffat": Moffat,
    "nuker": Nuker,
    "core_sersic": CoreSersic,
    "broken_exponential": BrokenExponential,
    "king": King,
    "ferrers": Ferrers,
    "gaussian_ring": GaussianRing,
    "mge3": MultiGaussian3,
    "spline6": Spline6,
    "spline6_zero": Spline6Zero,
    "sersic_genellipse": SersicGenEllipse,
    "exponential_genellipse": ExponentialGenEllipse,
    "sersic_fourier1_3_4": SersicFourier1_3_4,
    "exponential_trunc": ExponentialTrunc,
    "edge_on_disk": EdgeOnDisk,
    "sersic_twist": SersicTwist,
    "point": PointSource,
    "flat_sky": FlatSky,
    "tilted_sky": TiltedSky,
    "gaussian_psf": GaussianPSF,
    "moffat_psf": MoffatPSF,
    "airy_psf": AiryPSF,
    "zernike_psf": ZernikePSF,
    "mixture_psf3": MixturePSF3,
    "sky_grid3x3": SkyGrid3x3,
    "sky_grid4x4_bicubic": SkyGrid4x4Bicubic,
    "sersic_warp3": SersicWarp3,
    "sersic_rays2": SersicRays2,
    "exponential_wedges2": ExponentialWedges2,
}


def test_registry_maps_every_type_name_to_its_class_in_model_types_order():
    assert MODEL_REGISTRY == EXPECTED
    assert list(MODEL_REGISTRY.values()) == list(MODEL_TYPES)
    for name, cls in MODEL_REGISTRY.items():
        assert cls.TYPE_NAME == name


@pytest.mark.parametrize("name", ["sersic", "SERSIC", "Sersic", " sersic ", "Flat_Sky", "POINT"])
def test_model_class_is_case_insensitive(name):
    assert model_class(name) is EXPECTED[name.strip().lower()]


def test_unknown_name_raises_value_error_naming_it_and_listing_valid_ones():
    with pytest.raises(ValueError) as info:
        model_class("devauc")
    msg = str(info.value)
    assert "'devauc'" in msg
    for name in EXPECTED:
        assert name in msg


@pytest.mark.parametrize("bad", [None, 3, Sersic])
def test_non_string_name_raises_type_error(bad):
    with pytest.raises(TypeError, match="string"):
        model_class(bad)


def test_describe_models_matches_param_specs_and_is_json_ready():
    desc = describe_models()
    assert [d["name"] for d in desc] == list(EXPECTED)
    assert json.loads(json.dumps(desc)) == desc
    for d in desc:
        cls = EXPECTED[d["name"]]
        assert d["class"] == cls.__name__
        assert d["doc"] and "\n" not in d["doc"]
        assert d["doc"] == cls.__doc__.strip().splitlines()[0].strip()
        assert [p["name"] for p in d["params"]] == list(cls.param_names())
        for p, spec in zip(d["params"], cls.PARAMS, strict=True):
            assert (p["unit"], p["lo"], p["hi"], p["doc"]) == (
                spec.unit,
                spec.lo,
                spec.hi,
                spec.doc,
            )


def test_describe_models_reports_known_defaults():
    sersic = {p["name"]: p for p in describe_models()[0]["params"]}
    assert (sersic["n"]["lo"], sersic["n"]["hi"]) == (0.2, 10.0)
    assert (sersic["x"]["lo"], sersic["x"]["hi"]) == (None, None)
    assert sersic["r_e"]["unit"] == "arcsec"


def test_describe_models_returns_fresh_data():
    a = describe_models()
    a[0]["params"].clear()
    assert describe_models()[0]["params"]


@pytest.mark.parametrize(
    "name, expected",
    [
        ("mge5", lambda: multi_gaussian(5)),
        ("MGE3", lambda: MultiGaussian3),
        ("spline9", lambda: spline_profile(9, "loglinear")),
        ("spline4_zero", lambda: spline_profile(4, "zero")),
        ("sky_grid2x5", lambda: sky_grid(2, 5)),
        ("SKY_GRID3x3_bicubic", lambda: sky_grid(3, 3, "bicubic")),
    ],
)
def test_sized_laws_resolve_by_name_to_one_cached_class(name, expected):
    cls = model_class(name)
    assert cls is expected()
    assert cls.TYPE_NAME == name.lower()


@pytest.mark.parametrize(
    "name, expected",
    [
        ("Gaussian_GenEllipse", lambda: gen_ellipse(Gaussian)),
        ("moffat_fourier2_4", lambda: fourier_modes(Moffat, (2, 4))),
        ("sersic_trunc_inout", lambda: truncated(Sersic, inner=True, outer=True)),
        (
            "spline5_zero_trunc_in_genellipse",
            lambda: gen_ellipse(truncated(spline_profile(5, "zero"), True, False)),
        ),
    ],
)
def test_composed_profiles_resolve_by_name_to_one_cached_class(name, expected):
    cls = model_class(name)
    assert cls is expected()
    assert cls.TYPE_NAME == name.lower()


@pytest.mark.parametrize(
    "bad",
    [
        "point_genellipse",
        "sersic_fourier0",
        "sersic_fourier4_3",
        "sersic_fourier3_3",
        "sersic_genellipse_trunc",
        "sersic_genellipse_fourier4",
        "flat_sky_trunc",
        "edge_on_disk_trunc",
        "edge_on_disk_fourier2",
        "sky_grid3x3_genellipse",
    ],
)
def test_bad_compositions_are_value_errors_listing_the_patterns(bad):
    with pytest.raises(ValueError, match="_genellipse, _twist, _warp<K>, _fourier"):
        model_class(bad)


@pytest.mark.parametrize("bad", ["mge0", "spline2", "spline5_cubic", "sky_grid1x3", "sky_grid3x40"])
def test_bad_sizes_are_value_errors(bad):
    with pytest.raises(ValueError, match=r"mge0|spline2|spline5_cubic|1\.\.64|3\.\.64|2\.\.32"):
        model_class(bad)


def test_describe_models_lists_defaults_inside_bounds():
    for d in describe_models():
        for p in d["params"]:
            assert p["default"] is not None, (d["name"], p["name"])
            if p["lo"] is not None:
                assert p["default"] >= p["lo"]
            if p["hi"] is not None:
                assert p["default"] <= p["hi"]
