"""Scene YAML files: exact round trips and clear errors for malformed files."""

import math

import pytest
import yaml

from scenefit import (
    Exponential,
    FlatSky,
    Gaussian,
    Moffat,
    Param,
    PointSource,
    Scene,
    Sersic,
    TiltedSky,
)
from scenefit.io import MODEL_REGISTRY, load_scene, save_scene, scene_from_dict, scene_to_dict


def _bits(v):
    return None if v is None else float(v).hex()


def _assert_identical(a: Scene, b: Scene):
    """Equal, and every float bit-identical (== alone treats 0.0 and -0.0 as equal)."""
    assert a == b
    assert a.names == b.names
    assert a.ties == b.ties
    for ca, cb in zip(a.components, b.components, strict=True):
        assert type(ca) is type(cb)
        for name in ca.param_names():
            pa, pb = getattr(ca, name), getattr(cb, name)
            assert (pa.fixed, _bits(pa.value), _bits(pa.lo), _bits(pa.hi)) == (
                pb.fixed,
                _bits(pb.value),
                _bits(pb.lo),
                _bits(pb.hi),
            )


def _every_type_scene():
    return Scene(
        [
            Sersic(name="bulge", x=0.1 + 0.2, y=-0.0, flux=1e-300, r_e=2.5, n=4.0, q=0.7, pa=33.3),
            Exponential(
                name="disk",
                x=0.0,
                y=0.0,
                flux=5e-324,
                h=Param(3.0, lo=1.0, hi=9.0),
                q=0.4,
                pa=-12.0,
            ),
            Gaussian(name="knot", x=1.7976931348623157e308, y=None, flux=2.0, sigma=1.0, q=1, pa=0),
            Moffat(
                name="m", x=-1.5, y=2.25, flux=3.0, fwhm=0.8, beta=Param(2.5, fixed=True), q=1, pa=0
            ),
            PointSource(name="star", x=1 / 3, y=-2 / 3, flux=Param(1e5, fixed=True, lo=None)),
            FlatSky(name="sky", sky=Param(-0.0, lo=-math.inf, hi=math.inf)),
            TiltedSky(name="tilt", sky=0.5, dsky_dx=1e-17, dsky_dy=Param(None, fixed=True)),
        ],
        ties={"disk.x": "bulge.x", "disk.y": "bulge.y", "knot.flux": "m.flux"},
    )


def _with_every_registered_type(scene):
    """The scene plus one component, at its ParamSpec defaults (a few values made
    awkward for YAML), of every registered type the hand-written scene lacks."""
    have = {type(c) for c in scene}
    extra = []
    for cls in MODEL_REGISTRY.values():
        if cls in have:
            continue
        kw = {s.name: s.default for s in cls.PARAMS}
        kw[cls.PARAMS[0].name] = 0.1 + 0.2
        extra.append(cls(name=f"auto_{cls.TYPE_NAME}", **kw))
    return Scene(list(scene.components) + extra, ties=scene.ties)


def test_every_model_type_round_trips_bit_exactly(tmp_path):
    scene = _with_every_registered_type(_every_type_scene())
    assert {type(c) for c in scene} == set(MODEL_REGISTRY.values())
    path = save_scene(scene, tmp_path / "scene.yaml")
    assert path == tmp_path / "scene.yaml"
    _assert_identical(load_scene(path), scene)


@pytest.mark.parametrize(
    "value",
    [0.1 + 0.2, 1e-300, -0.0, 0.0, None, 5e-324, 2.0**-1074, 1.7976931348623157e308, 1e16, 1e22]
    + [1 / 3, -123456.789e-7, math.pi, 12345678901234567890.0],
)
def test_float_values_round_trip_bit_exactly(tmp_path, value):
    scene = Scene(
        [
            FlatSky(name="a", sky=value),
            FlatSky(name="b", sky=Param(value, fixed=True, lo=None, hi=None)),
            PointSource(name="p", x=value, y=Param(value, lo=-1e308, hi=math.inf), flux=1.0),
        ]
    )
    _assert_identical(load_scene(save_scene(scene, tmp_path / "s.yaml")), scene)


def test_infinite_values_are_rejected_and_infinite_bounds_mean_none():
    with pytest.raises(ValueError, match="not allowed"):
        Param(math.inf)
    assert Param(1.0, lo=-math.inf, hi=math.inf) == Param(1.0)


def test_bounds_round_trip_including_signed_zero_bounds(tmp_path):
    scene = Scene([Sersic(x=0, y=0, flux=1, r_e=Param(1.0, lo=-0.0), n=Param(1, hi=4), q=1, pa=0)])
    back = load_scene(save_scene(scene, tmp_path / "s.yaml"))
    _assert_identical(back, scene)
    assert math.copysign(1.0, back["sersic"].r_e.lo) == -1.0


def test_dict_round_trip_without_files():
    scene = _every_type_scene()
    d = scene_to_dict(scene)
    assert d["version"] == 1
    assert d["ties"] == scene.ties
    _assert_identical(scene_from_dict(d), scene)


def test_bare_numbers_only_for_free_parameters_with_default_bounds(tmp_path):
    scene = Scene(
        [Sersic(name="g", x=1.0, y=2.0, flux=3.0, r_e=Param(4.0, lo=0.0), n=Param(2.0, lo=0.5),
                q=Param(0.5, fixed=True), pa=Param(10.0, lo=None))]
    )  # fmt: skip
    comp = scene_to_dict(scene)["components"][0]
    assert comp["type"] == "sersic" and comp["name"] == "g"
    assert comp["x"] == 1.0 and comp["r_e"] == 4.0  # r_e's default lower bound is 0.0
    assert comp["n"] == {"value": 2.0, "fixed": False, "lo": 0.5, "hi": None}
    # a Param given explicitly keeps exactly its own bounds (here none)
    assert comp["q"] == {"value": 0.5, "fixed": True, "lo": None, "hi": None}
    assert comp["pa"] == 10.0
    text = save_scene(scene, tmp_path / "s.yaml").read_text()
    data = yaml.safe_load(text)
    assert data == scene_to_dict(scene)


def test_scene_to_dict_does_not_modify_the_scene(tmp_path):
    scene = _every_type_scene()
    before = repr(scene), scene.ties
    d = scene_to_dict(scene)
    d["components"][0]["x"] = 99.0
    d["ties"]["bulge.pa"] = "disk.pa"
    save_scene(scene, tmp_path / "s.yaml")
    assert (repr(scene), scene.ties) == before


def test_save_overwrites(tmp_path):
    path = tmp_path / "s.yaml"
    save_scene(Scene([FlatSky(sky=1.0)]), path)
    save_scene(Scene([FlatSky(sky=2.0)]), path)
    assert load_scene(path)["flat_sky"].sky.value == 2.0


def test_hand_written_file_with_defaults_and_yaml11_exponents(tmp_path):
    path = tmp_path / "hand.yaml"
    path.write_text(
        "components:\n"
        "  - type: Sersic\n"  # case-insensitive type
        "    name: gal\n"
        "    x: 0\n"
        "    flux: 1e5\n"  # PyYAML reads this as a string
        "    n: {value: 2.0e3, fixed: true}\n"  # missing lo/hi: default bounds
        "    q: {value: 0.5, lo: null}\n"  # explicit null: no bound
        "  - type: flat_sky\n"
        "ties: {}\n"
    )
    scene = load_scene(path)
    gal = scene["gal"]
    assert gal.x == Param(0.0)
    assert gal.flux == Param(1e5)
    assert gal.n == Param(2000.0, fixed=True, lo=0.2, hi=10.0)
    assert gal.q == Param(0.5, lo=None, hi=1.0)
    assert gal.y == Param(None) and gal.r_e == Param(None, lo=0.0)  # missing: constructor default
    assert scene["flat_sky"].sky.value is None


def test_missing_file_raises_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        load_scene(tmp_path / "nope.yaml")


GOOD_COMPONENT = "  - {type: flat_sky, name: s, sky: 1.0}\n"

MALFORMED = {
    "unknown_type": (
        "components:\n  - {type: devauc, x: 1}\n",
        ["components[0]", "'devauc'", "sersic", "tilted_sky"],
    ),
    "unknown_param": (
        "components:\n  - {type: sersic, name: g, r_eff: 1.0}\n",
        ["'r_eff'", "r_e", "components[0]"],
    ),
    "non_numeric": ("components:\n  - {type: flat_sky, sky: abc}\n", ["sky", "'abc'", "number"]),
    "non_numeric_mapping": (
        "components:\n  - {type: flat_sky, sky: {value: [1, 2]}}\n",
        ["sky.value", "number"],
    ),
    "bool_value": ("components:\n  - {type: flat_sky, sky: true}\n", ["sky", "number"]),
    "nan_value": ("components:\n  - {type: flat_sky, sky: .nan}\n", ["sky", "NaN"]),
    "bad_fixed": (
        "components:\n  - {type: flat_sky, sky: {value: 1, fixed: maybe}}\n",
        ["fixed", "'maybe'"],
    ),
    "unknown_param_key": (
        "components:\n  - {type: flat_sky, sky: {value: 1, min: 0}}\n",
        ["'min'", "value, fixed, lo, hi"],
    ),
    "bad_bounds": (
        "components:\n  - {type: flat_sky, sky: {value: 1, lo: 2, hi: 1}}\n",
        ["sky", "lo < hi"],
    ),
    "missing_components": ("ties: {}\n", ["components"]),
    "empty_components": ("components: []\n", ["components", "non-empty"]),
    "components_not_list": ("components: {type: sersic}\n", ["components", "list"]),
    "component_not_mapping": ("components:\n  - sersic\n", ["components[0]", "'sersic'"]),
    "missing_type": ("components:\n  - {name: a, sky: 1}\n", ["components[0]", "'type'"]),
    "bad_name": ("components:\n  - {type: flat_sky, name: 3}\n", ["name", "string"]),
    "duplicate_names": ("components:\n" + GOOD_COMPONENT + GOOD_COMPONENT, ["'s'", "unique"]),
    "bad_syntax": ("components:\n  - {type: sersic, x: [1, 2}\n", ["not valid YAML"]),
    "bad_indent": ("components:\n  - type: sersic\n   x: 1\n", ["not valid YAML"]),
    "empty_file": ("", ["empty"]),
    "top_level_list": ("- type: sersic\n", ["mapping", "list"]),
    "unknown_top_key": (
        "components:\n" + GOOD_COMPONENT + "tie: {a: b}\n",
        ["'tie'", "version, components, ties"],
    ),
    "newer_version": ("version: 99\ncomponents:\n" + GOOD_COMPONENT, ["version 99", "upgrade"]),
    "bad_version": ("version: one\ncomponents:\n" + GOOD_COMPONENT, ["version", "'one'"]),
    "ties_not_mapping": ("components:\n" + GOOD_COMPONENT + "ties: [a]\n", ["ties", "mapping"]),
    "tie_not_string": ("components:\n" + GOOD_COMPONENT + "ties: {s.sky: 1}\n", ["tie", "1"]),
    "tie_unknown_address": (
        "components:\n" + GOOD_COMPONENT + "ties: {s.sky: t.sky}\n",
        ["unknown parameter", "'t.sky'"],
    ),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_raise_value_error_with_file_name_and_reason(tmp_path, case):
    text, fragments = MALFORMED[case]
    path = tmp_path / f"{case}.yaml"
    path.write_text(text)
    with pytest.raises(ValueError) as info:
        load_scene(path)
    msg = str(info.value)
    assert str(path) in msg
    for fragment in fragments:
        assert fragment in msg, (fragment, msg)
    # no raw yaml or KeyError traceback chained to the error
    assert not isinstance(info.value.__cause__, yaml.YAMLError | KeyError)
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_binary_file_raises_value_error(tmp_path):
    path = tmp_path / "scene.yaml"
    path.write_bytes(b"\xff\xfe\x00\x81")
    with pytest.raises(ValueError, match="scene.yaml"):
        load_scene(path)


def test_scene_from_dict_without_source_has_plain_message():
    with pytest.raises(ValueError, match=r"^missing the 'components' list"):
        scene_from_dict({})


def test_scene_to_dict_rejects_non_scene():
    with pytest.raises(TypeError, match="Scene"):
        scene_to_dict([FlatSky(sky=1.0)])
