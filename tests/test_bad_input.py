"""Bad input is rejected early with an error that names the problem.

Errors subclass the builtin they resemble (ValueError for bad values, TypeError for
wrong types) and say what was given; the tests match on the informative parts of the
messages. Harmless oddities (NaN data pixels) are handled, not rejected, and the user's
arrays are never modified.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from scenefit import Param

SHAPE = (24, 24)
ZEROS = np.zeros(SHAPE)


def gal(**changes):
    kw = dict(x=0.0, y=0.0, flux=100.0, r_e=2.0, n=1.5, q=0.7, pa=20.0)
    kw.update(changes)
    return sf.Sersic(**kw)


# ------------------------------------------------------------------------ shapes
@pytest.mark.parametrize("name", ["sigma", "variance", "invvar"])
def test_uncertainty_map_shape_mismatch(name):
    with pytest.raises(ValueError, match=rf"{name} shape \(24, 23\) does not match data shape"):
        sf.Image(ZEROS, **{name: np.ones((24, 23))})


def test_uncertainty_map_must_not_be_broadcast():
    with pytest.raises(ValueError, match=r"sigma shape \(24,\) does not match"):
        sf.Image(ZEROS, sigma=np.ones(24))


def test_mask_shape_mismatch():
    with pytest.raises(ValueError, match=r"mask shape \(23, 24\) does not match data shape"):
        sf.Image(ZEROS, mask=np.zeros((23, 24), bool))


@pytest.mark.parametrize("data", [np.zeros(5), np.zeros((2, 3, 4)), np.zeros((0, 3))])
def test_data_must_be_a_non_empty_2d_array(data):
    with pytest.raises(ValueError, match="non-empty 2-D array"):
        sf.Image(data)


def test_only_one_uncertainty_map():
    with pytest.raises(ValueError, match="at most one of sigma, variance, invvar"):
        sf.Image(ZEROS, sigma=1.0, variance=1.0)


# ------------------------------------------------------------------- all masked
@pytest.mark.parametrize(
    "kwargs",
    [
        dict(mask=np.ones(SHAPE, bool)),
        dict(invvar=np.zeros(SHAPE)),
        dict(data=np.full(SHAPE, np.nan)),
    ],
    ids=["mask", "zero-invvar", "nan-data"],
)
def test_all_masked_image(kwargs):
    kwargs = {"data": ZEROS, **kwargs}
    with pytest.raises(ValueError, match="every pixel of the image is masked"):
        sf.Image(**kwargs)


# ------------------------------------------------------------- bad uncertainties
@pytest.mark.parametrize("name", ["sigma", "variance"])
@pytest.mark.parametrize(
    "bad, what", [(0.0, "1 zero or negative"), (-2.0, "1 zero or negative"), (np.nan, "1 NaN")]
)
def test_bad_sigma_or_variance_at_unmasked_pixel(name, bad, what):
    arr = np.ones(SHAPE)
    arr[3, 4] = bad
    with pytest.raises(ValueError, match=rf"{name} map has .*unmasked pixels") as err:
        sf.Image(ZEROS, **{name: arr})
    assert what in str(err.value)


@pytest.mark.parametrize("bad, what", [(-1.0, "1 negative"), (np.nan, "1 NaN"), (np.inf, "1 NaN")])
def test_bad_invvar_at_unmasked_pixel(bad, what):
    arr = np.ones(SHAPE)
    arr[3, 4] = bad
    with pytest.raises(ValueError, match="invvar map has") as err:
        sf.Image(ZEROS, invvar=arr)
    assert what in str(err.value)


@pytest.mark.parametrize("scalar", [0.0, -1.0, np.nan])
def test_bad_scalar_sigma(scalar):
    with pytest.raises(ValueError, match="sigma map has"):
        sf.Image(ZEROS, sigma=scalar)


def test_bad_sigma_at_masked_pixels_is_fine():
    """Masked (or NaN-data) pixels may hold any uncertainty."""
    sigma = np.ones(SHAPE)
    sigma[0, :3] = [0.0, np.nan, -1.0]
    mask = np.zeros(SHAPE, bool)
    mask[0, :2] = True
    data = ZEROS.copy()
    data[0, 2] = np.nan
    img = sf.Image(data, sigma=sigma, mask=mask)
    assert img.mask[0, :3].all() and img.n_valid == 24 * 24 - 3
    assert np.all(img.invvar[0, :3] == 0.0)


def test_zero_invvar_masks_the_pixel():
    invvar = np.ones(SHAPE)
    invvar[5, 5] = 0.0
    img = sf.Image(ZEROS, invvar=invvar)
    assert img.mask[5, 5] and img.n_valid == 24 * 24 - 1


# ------------------------------------------------------------------------- PSFs
@pytest.mark.parametrize(
    "psf, match",
    [
        (np.zeros((5, 5)), "positive sum"),
        (-np.ones((5, 5)), "positive sum"),
        (np.pad([[1.0]], 2) - np.pad([[2.0]], 2), "positive sum"),
        (np.where(np.eye(5) > 0, np.nan, 1.0), "NaN or infinite"),
        (np.where(np.eye(5) > 0, np.inf, 1.0), "NaN or infinite"),
        (np.ones(5), "2-D"),
    ],
    ids=["zero", "negative", "negative-sum", "nan", "inf", "1-d"],
)
def test_bad_psf(psf, match):
    with pytest.raises(ValueError, match=match):
        sf.PixelPSF(psf)
    with pytest.raises(ValueError, match=match):  # also through Image
        sf.Image(ZEROS, psf=psf)


@pytest.mark.parametrize("oversampling", [0, -1, 1.5])
def test_bad_psf_oversampling(oversampling):
    with pytest.raises(ValueError, match="oversampling must be a positive integer"):
        sf.PixelPSF(np.ones((3, 3)), oversampling)


def test_psf_is_normalised_without_touching_the_input():
    arr = np.ones((3, 3))
    psf = sf.PixelPSF(arr)
    assert psf.image.sum() == pytest.approx(1.0, abs=1e-15)
    assert np.all(arr == 1.0)
    assert not psf.image.flags.writeable


# ------------------------------------------------------------------- geometry
@pytest.mark.parametrize(
    "cd",
    [[[1.0, 2.0], [2.0, 4.0]], [[0.0, 0.0], [0.0, 0.0]], [[1.0, np.nan], [0.0, 1.0]], np.eye(3)],
    ids=["singular", "zero", "nan", "3x3"],
)
def test_bad_cd_matrix(cd):
    with pytest.raises(ValueError, match="cd must be a finite, invertible 2x2 matrix"):
        sf.Image(ZEROS, cd=cd)


@pytest.mark.parametrize("cd", ["north-up", [[1.0, 0.0], [0.0]]], ids=["string", "ragged"])
def test_non_numeric_cd_names_the_argument(cd):
    with pytest.raises(ValueError, match="cd"):
        sf.Image(ZEROS, cd=cd)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        (dict(pixel_scale=0.0), "pixel_scale must be positive"),
        (dict(pixel_scale=-0.2), "pixel_scale must be positive"),
        (dict(gain=0.0), "gain must be positive"),
        (dict(gain=np.nan), "gain must be positive"),
        (dict(crpix=(1.0, 2.0, 3.0)), "crpix and ref_sky"),
        (dict(ref_sky=(np.nan, 0.0)), "crpix and ref_sky"),
    ],
)
def test_bad_image_geometry(kwargs, match):
    with pytest.raises(ValueError, match=match):
        sf.Image(ZEROS, **kwargs)


# ----------------------------------------------------------------- parameters
def test_bounds_must_be_ordered():
    with pytest.raises(ValueError, match="lo < hi.*lo=0.8, hi=0.3"):
        Param(0.5, lo=0.8, hi=0.3)
    with pytest.raises(ValueError, match="lo < hi"):
        Param(0.5, lo=0.5, hi=0.5)
    with pytest.raises(ValueError, match="lo < hi"):  # q bounds, through a component
        gal(q=Param(0.5, lo=0.9, hi=0.2))


@pytest.mark.parametrize("field", ["value", "lo", "hi"])
def test_nan_parameter_fields(field):
    with pytest.raises(ValueError, match=f"Param.{field} is NaN"):
        Param(**{"value": 1.0, field: np.nan})


def test_non_numeric_parameter():
    with pytest.raises(TypeError, match="Param.value must be a number or None, got 'big'"):
        gal(r_e="big")


def test_infinite_parameter_value():
    with pytest.raises(ValueError, match="Param.value"):
        Param(np.inf)


def test_infinite_bound_means_no_bound():
    rng = np.random.default_rng(0)
    img = sf.Image(rng.normal(-1.0, 0.1, SHAPE), sigma=0.1)
    res = sf.fit(sf.Scene([sf.FlatSky(sky=Param(-0.5, lo=-np.inf))]), img)
    assert res.converged
    assert res.value("flat_sky.sky") == pytest.approx(-1.0, abs=0.02)


def test_starting_value_outside_its_bounds():
    img = sf.Image(ZEROS)
    with pytest.raises(ValueError, match=r"sersic.q = 1.5 is above its upper bound 1.0"):
        sf.fit(sf.Scene([gal(q=1.5)]), img)
    with pytest.raises(ValueError, match=r"sersic.n = 0.1 is below its lower bound 0.2"):
        sf.render(sf.Scene([gal(n=0.1)]), img)
    with pytest.raises(ValueError, match=r"sersic.r_e = -1.0 is below its lower bound 0.0"):
        sf.fit(sf.Scene([gal(r_e=-1.0)]), img)


def test_missing_value():
    img = sf.Image(ZEROS)
    with pytest.raises(ValueError, match=r"sersic.r_e has no value.*initialize"):
        sf.fit(sf.Scene([gal(r_e=None)]), img)
    with pytest.raises(ValueError, match=r"sersic.flux has no value"):
        sf.render(sf.Scene([sf.Sersic(x=0, y=0, r_e=1, n=1, q=1, pa=0)]), img)


def test_unknown_likelihood():
    img = sf.Image(ZEROS)
    with pytest.raises(ValueError, match=r"unknown likelihood 'gauss'.*chi2.*poisson"):
        sf.fit(sf.Scene([gal()]), img, likelihood="gauss")


def test_no_free_parameters():
    img = sf.Image(ZEROS)
    with pytest.raises(ValueError, match="no free parameters"):
        sf.fit(sf.Scene([sf.FlatSky(sky=Param(1.0, fixed=True))]), img)


# ----------------------------------------------------------------------- scenes
def test_tie_to_an_unknown_parameter():
    with pytest.raises(ValueError, match=r"unknown parameter 'disk.z'"):
        sf.Scene([gal(name="disk"), gal(name="bulge")], ties={"bulge.x": "disk.z"})
    with pytest.raises(ValueError, match=r"unknown parameter 'halo.x'"):
        sf.Scene([gal(name="disk"), gal(name="bulge")], ties={"bulge.x": "halo.x"})
    with pytest.raises(ValueError, match=r"unknown parameter 'bulge.h'"):
        sf.Scene([gal(name="disk"), gal(name="bulge")], ties={"bulge.h": "disk.r_e"})


def test_tie_chains_are_rejected():
    comps = [sf.FlatSky(name=n, sky=1.0) for n in "abc"]
    with pytest.raises(ValueError, match=r"b.sky is itself tied to c.sky; tie a.sky to c.sky"):
        sf.Scene(comps, ties={"a.sky": "b.sky", "b.sky": "c.sky"})


def test_self_tie_message():
    with pytest.raises(ValueError, match="cannot be tied to itself"):
        sf.Scene([sf.FlatSky(name="a", sky=1.0)], ties={"a.sky": "a.sky"})


def test_duplicate_component_names():
    with pytest.raises(ValueError, match=r"two components are named 'a'"):
        sf.Scene([gal(name="a"), gal(name="b"), sf.FlatSky(name="a", sky=1.0)])


def test_component_names_without_dots():
    with pytest.raises(ValueError, match=r"'a.b' must not contain '.'"):
        sf.Scene([gal(name="a.b")])


def test_scene_needs_components():
    with pytest.raises(ValueError, match="at least one component"):
        sf.Scene([])
    with pytest.raises(TypeError, match="must be model components, got 1"):
        sf.Scene([gal(), 1])


@pytest.mark.parametrize("call", ["fit-component", "fit-array", "render-array"])
def test_wrong_argument_types(call):
    scene, img = sf.Scene([sf.FlatSky(sky=1.0)]), sf.Image(ZEROS)
    with pytest.raises(TypeError, match="Scene|Image"):
        if call == "fit-component":
            sf.fit(sf.FlatSky(sky=1.0), img)
        elif call == "fit-array":
            sf.fit(scene, ZEROS)
        else:
            sf.render(scene, ZEROS)


def test_bad_render_settings():
    with pytest.raises(ValueError, match="quad_order must be an integer in 1..10"):
        sf.RenderSettings(quad_order=0)
    with pytest.raises(ValueError, match="refine_size must be odd"):
        sf.RenderSettings(refine_size=4)
    with pytest.raises(ValueError, match="refine_factor must be a positive integer"):
        sf.RenderSettings(refine_factor=0)


# ------------------------------------------------ NaN data: masked, inputs untouched
def test_nan_data_is_masked_and_user_arrays_are_untouched():
    rng = np.random.default_rng(1)
    data = rng.normal(2.0, 0.1, SHAPE)
    data[3, 4] = np.nan
    data[10, :] = np.nan
    sigma = np.full(SHAPE, 0.1)
    mask = np.zeros(SHAPE, bool)
    mask[0, 0] = True
    psf = np.ones((3, 3))
    copies = [a.copy() for a in (data, sigma, mask, psf)]

    img = sf.Image(data, sigma=sigma, mask=mask, psf=psf)
    assert img.mask[3, 4] and img.mask[10].all() and img.mask[0, 0]
    assert img.n_valid == 24 * 24 - 1 - 24 - 1
    assert np.all(np.isfinite(img.data)) and np.all(img.invvar[img.mask] == 0.0)
    res = sf.fit(sf.Scene([sf.FlatSky(sky=0.0)]), img)
    assert np.isfinite(res.objective) and res.dof == img.n_valid - 1
    assert res.value("flat_sky.sky") == pytest.approx(2.0, abs=5 * res.error("flat_sky.sky"))

    for before, after in zip(copies, (data, sigma, mask, psf), strict=True):
        np.testing.assert_array_equal(before, after)  # NaNs compare equal here
    assert data.flags.writeable and sigma.flags.writeable  # not frozen either


def test_image_arrays_are_read_only_copies():
    data = np.ones(SHAPE)
    img = sf.Image(data, sigma=0.5)
    assert img.data is not data
    for arr in (img.data, img.invvar, img.mask, img.cd, img.crpix):
        assert not arr.flags.writeable
    with pytest.raises(AttributeError, match="immutable"):
        img.gain = 2.0
