"""The model-type name table: names, lookup, description."""

import json

import pytest

from scenefit.io import MODEL_REGISTRY, describe_models, model_class
from scenefit.models import (
    MODEL_TYPES,
    Exponential,
    FlatSky,
    Gaussian,
    Moffat,
    PointSource,
    Sersic,
    TiltedSky,
)

EXPECTED = {
    "sersic": Sersic,
    "exponential": Exponential,
    "gaussian": Gaussian,
    "moffat": Moffat,
    "point": PointSource,
    "flat_sky": FlatSky,
    "tilted_sky": TiltedSky,
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
