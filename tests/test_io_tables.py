"""Parameter tables: contents match the fit; ECSV and FITS files round-trip."""

import dataclasses
import math
import warnings

import numpy as np
import pytest
from astropy.table import Table

import scenefit
from scenefit import FlatSky, Gaussian, Image, Param, PointSource, Scene, fit, render
from scenefit.io import parameter_table, write_table
from scenefit.io.tables import FITS_META_KEYS, META_KEYS

ZP = 25.0
COLUMNS = [
    "component", "type", "parameter", "value", "uncertainty", "unit",
    "free", "fixed", "tied_to", "lo", "hi", "at_bound",
]  # fmt: skip
TIES = {"halo.x": "gal.x", "halo.y": "gal.y"}


def _scene(gal, halo, star, sky):
    return Scene(
        [
            Gaussian(name="gal", **gal),
            Gaussian(name="halo", q=Param(0.8, fixed=True), **halo),
            PointSource(name="star", **star),
            FlatSky(sky=sky),
        ],
        ties=TIES,
    )


@pytest.fixture(scope="module")
def result():
    """One fit shared by the tests: ties, a fixed parameter, a mask, a zero point."""
    rng = np.random.default_rng(7)
    yy, xx = np.mgrid[-3:4, -3:4]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.2**2)
    truth = _scene(
        dict(x=0.1, y=-0.2, flux=500.0, sigma=0.6, q=0.6, pa=40.0),
        dict(x=0.1, y=-0.2, flux=200.0, sigma=1.5, pa=10.0),
        dict(x=-1.5, y=1.8, flux=150.0),
        0.5,
    )
    model = render(truth, Image(np.zeros((32, 32)), pixel_scale=0.2, psf=psf))
    mask = np.zeros(model.shape, bool)
    mask[2:5, 25:29] = True
    sigma = np.full(model.shape, 0.05)
    img = Image(
        model + rng.normal(0.0, 1.0, model.shape) * sigma,
        sigma=sigma, mask=mask, psf=psf, pixel_scale=0.2, zeropoint=ZP,
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
def table(result):
    return parameter_table(result)


def _addresses(t):
    return [f"{c}.{p}" for c, p in zip(t["component"], t["parameter"], strict=True)]


def _by_address(t):
    return dict(zip(_addresses(t), t, strict=True))


def test_one_row_per_address_in_flattening_order(result, table):
    assert table.colnames == COLUMNS + ["mag", "mag_err"]
    assert _addresses(table) == result.scene.addresses()
    types = {c.name: c.TYPE_NAME for c in result.scene}
    assert list(table["type"]) == [types[c] for c in table["component"]]


def test_values_and_uncertainties_are_those_of_the_result(result, table):
    np.testing.assert_array_equal(table["value"], result.scene.values())
    unc = result.uncertainties
    np.testing.assert_array_equal(table["uncertainty"], [unc[a] for a in result.scene.addresses()])
    sig = np.sqrt(np.diag(result.covariance))
    row = {a: i for i, a in enumerate(_addresses(table))}
    for a, s in zip(result.free, sig, strict=True):
        assert table["uncertainty"][row[a]] == s > 0


def test_units_come_from_the_parameter_specs(result, table):
    specs = {(c.name, s.name): s for c in result.scene for s in c.PARAMS}
    for c, p, u in zip(table["component"], table["parameter"], table["unit"], strict=True):
        assert u == specs[(c, p)].unit
    assert table["unit"][list(table["parameter"]).index("pa")] == "deg"


def test_free_fixed_and_tied_flags(result, table):
    by = _by_address(table)
    assert {a for a, r in by.items() if r["free"]} == set(result.free)
    assert {a for a, r in by.items() if r["fixed"]} == {"halo.q"}
    assert {a: r["tied_to"] for a, r in by.items() if r["tied_to"]} == TIES
    assert by["halo.q"]["uncertainty"] == 0.0
    # every parameter is exactly one of: fitted, held, following a leader
    for r in table:
        assert int(r["free"]) + int(r["fixed"]) + int(bool(r["tied_to"])) == 1
    # a tied parameter reports its leader's value and uncertainty
    assert by["halo.x"]["value"] == by["gal.x"]["value"]
    assert by["halo.x"]["uncertainty"] == by["gal.x"]["uncertainty"] > 0


def test_bounds_nan_when_absent(table):
    by = _by_address(table)
    assert (by["gal.q"]["lo"], by["gal.q"]["hi"]) == (0.02, 1.0)
    assert by["gal.sigma"]["lo"] == 0.0 and math.isnan(by["gal.sigma"]["hi"])
    assert math.isnan(by["gal.x"]["lo"]) and math.isnan(by["gal.x"]["hi"])
    assert math.isnan(by["halo.q"]["lo"])  # Param(0.8, fixed=True) has no bounds


def test_at_bound_follows_result_and_ties(result):
    t = parameter_table(dataclasses.replace(result, at_bound=("gal.x", "gal.q")))
    flagged = {a for a, r in _by_address(t).items() if r["at_bound"]}
    assert flagged == {"gal.x", "gal.q", "halo.x"}
    assert not parameter_table(dataclasses.replace(result, at_bound=()))["at_bound"].any()


def test_magnitudes_on_flux_rows(result, table):
    flux = table["parameter"] == "flux"
    assert flux.sum() == 3
    f, s = table["value"][flux], table["uncertainty"][flux]
    np.testing.assert_allclose(table["mag"][flux], ZP - 2.5 * np.log10(f), rtol=0, atol=1e-12)
    np.testing.assert_allclose(table["mag_err"][flux], 1.0857362047581294 * s / f, rtol=1e-12)
    assert np.isnan(table["mag"][~flux]).all() and np.isnan(table["mag_err"][~flux]).all()
    # the star was injected with flux 150: its magnitude is recovered within 3 sigma
    star = flux & (table["component"] == "star")
    true_mag = ZP - 2.5 * math.log10(150.0)
    assert abs(table["mag"][star][0] - true_mag) < 3 * table["mag_err"][star][0]


def test_no_magnitude_columns_without_zero_point(result):
    res = dataclasses.replace(result, image=result.image.replace(zeropoint=None))
    t = parameter_table(res)
    assert t.colnames == COLUMNS
    assert "zeropoint" not in t.meta


def test_non_positive_flux_has_nan_magnitude(result):
    neg = result.scene.replace_component("star", result.scene["star"].replace(flux=-5.0))
    t = parameter_table(dataclasses.replace(result, scene=neg))
    star = (t["component"] == "star") & (t["parameter"] == "flux")
    assert np.isnan(t["mag"][star][0]) and np.isnan(t["mag_err"][star][0])


def test_meta_holds_the_fit_statistics(result, table):
    m = table.meta
    assert list(m) == list(META_KEYS)
    assert m["likelihood"] == "chi2"
    assert m["objective"] == result.objective
    assert m["dof"] == result.dof == result.image.n_valid - len(result.free)
    assert m["reduced_chi2"] == result.objective / result.dof
    assert m["n_free"] == len(result.free)
    assert (m["n_iter"], m["n_eval"], m["status"]) == (
        result.n_iter,
        result.n_eval,
        result.status,
    )
    assert m["message"] == result.message and m["converged"] is True
    assert m["ill_conditioned"] is False
    assert m["zeropoint"] == ZP
    assert m["scenefit_version"] == scenefit.__version__


def _same_columns(a, b):
    for name in a.colnames:
        x, y = a[name], b[name]
        if x.dtype.kind in "US":
            y = y.filled("") if hasattr(y, "filled") else y
            assert [str(v) for v in x] == [str(v) for v in y], name
        else:
            x = np.asarray(x)
            y = np.asarray(y.filled(np.nan) if hasattr(y, "filled") else y, dtype=x.dtype)
            np.testing.assert_array_equal(x, y, err_msg=name)  # exact, NaN == NaN


def test_ecsv_round_trip_is_exact(result, table, tmp_path):
    path = write_table(result, tmp_path / "p.ecsv")
    assert path == tmp_path / "p.ecsv"
    back = Table.read(path, format="ascii.ecsv")
    assert back.colnames == table.colnames
    _same_columns(table, back)
    assert dict(back.meta) == dict(table.meta)


def test_fits_round_trip_is_exact(result, table, tmp_path):
    path = write_table(result, tmp_path / "p.fits")
    back = Table.read(path, format="fits", mask_invalid=False)
    assert back.colnames == table.colnames
    _same_columns(table, back)
    for key, card in FITS_META_KEYS.items():
        assert back.meta[card] == table.meta[key], key


def test_overwrite_and_suffix_case(result, tmp_path):
    path = tmp_path / "P.FITS"
    write_table(result, path)
    write_table(result, path)
    assert len(Table.read(path)) == len(result.scene.addresses())


def test_non_finite_statistics_survive_in_fits_headers(result, tmp_path):
    res = dataclasses.replace(result, dof=0)  # reduced chi2 undefined
    assert math.isnan(parameter_table(res).meta["reduced_chi2"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        path = write_table(res, tmp_path / "nan.fits")
    assert Table.read(path).meta["CHI2NU"] == "nan"
    back = Table.read(write_table(res, tmp_path / "nan.ecsv"))
    assert math.isnan(back.meta["reduced_chi2"])


def test_infinite_uncertainties_are_written(result, tmp_path):
    cov = np.array(result.covariance, dtype=float)
    cov[0, :] = cov[:, 0] = np.inf
    res = dataclasses.replace(result, covariance=cov)
    t = parameter_table(res)
    assert t["uncertainty"][0] == np.inf
    for suffix in (".ecsv", ".fits"):
        back = Table.read(write_table(res, tmp_path / f"inf{suffix}"))
        assert back["uncertainty"][0] == np.inf


@pytest.mark.parametrize("name", ["p.csv", "p.txt", "p"])
def test_unknown_suffix_raises(result, tmp_path, name):
    with pytest.raises(ValueError, match=r"\.ecsv or \.fits"):
        write_table(result, tmp_path / name)
    assert list(tmp_path.iterdir()) == []
