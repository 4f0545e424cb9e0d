"""write_multi_outputs / JointFitResult.write / ForcedResult.write: per-image model and
residual FITS files and the SED table.

Checks: the files hold the result's models and data - model (NaN where masked), the
image's WCS round-trips through the header, the SED table reads back with the fluxes,
magnitudes and the between-band flux covariance of the joint covariance, nothing is
written outside the folder, and existing files are not overwritten unless asked.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf

FAST = sf.RenderSettings.fast()


def _wcs(scale_arcsec):
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = [150.0, 2.0]
    w.wcs.crpix = [9.0, 9.0]
    w.wcs.cd = (scale_arcsec / 3600.0) * np.diag([-1.0, 1.0])
    return w


@pytest.fixture(scope="module")
def images():
    pytest.importorskip("astropy")
    rng = np.random.default_rng(4)
    truth = sf.Scene([sf.Gaussian(name="gal", x=0.2, y=-0.1, flux=50.0, sigma=1.5, q=0.7, pa=20)])
    out = []
    for band, scale, zp in (("g", 0.5, 22.5), ("r", 0.7, 23.0)):
        blank = sf.Image(
            np.zeros((18, 18)),
            sigma=0.05,
            cd=scale * np.diag([-1.0, 1.0]),
            crpix=(8.0, 8.0),
            band=band,
            zeropoint=zp,
            wcs=_wcs(scale),
        )
        model = sf.render(truth, blank, FAST) + 0.3
        mask = np.zeros(model.shape, bool)
        mask[0, :3] = True
        out.append(blank.replace(data=model + rng.normal(0, 0.05, model.shape), mask=mask))
    return out


@pytest.fixture(scope="module")
def joint(images):
    start = sf.Scene(
        [
            sf.Gaussian(name="gal", x=0.0, y=0.0, flux=40.0, sigma=1.2, q=0.8, pa=10),
            sf.FlatSky(name="sky", sky=0.0),
        ]
    )
    return sf.fit_joint(start, images, settings=FAST)


def test_joint_outputs_hold_models_residuals_and_the_sed(joint, images, tmp_path):
    from astropy.io import fits
    from astropy.table import Table
    from astropy.wcs import WCS

    out = tmp_path / "out"
    paths = joint.write(out)
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["g_model.fits", "g_residual.fits", "r_model.fits", "r_residual.fits", "sed.ecsv"]
    )
    assert all(p.parent == out for p in paths.values())
    for img, model, res in zip(images, joint.models(), joint.results, strict=True):
        band = img.band
        m = fits.getdata(paths[f"{band}_model"])
        np.testing.assert_allclose(m, model, rtol=1e-12)
        r = fits.getdata(paths[f"{band}_residual"])
        assert np.all(np.isnan(r[img.mask]))
        np.testing.assert_allclose(r[~img.mask], (img.data - model)[~img.mask], rtol=1e-12)
        h = fits.getheader(paths[f"{band}_model"])
        assert h["BAND"] == band and h["MAGZPT"] == img.zeropoint
        assert h["CHISQ"] == pytest.approx(res.objective, rel=1e-12)
        w = WCS(h)
        pix = ([0.0, 17.0, 5.5], [0.0, 3.0, 12.0])
        np.testing.assert_allclose(
            w.pixel_to_world_values(*pix), img.wcs.pixel_to_world_values(*pix), rtol=1e-12
        )
    t = Table.read(paths["sed"])
    assert t.meta["bands"] == ["g", "r"]
    for row in t:
        name = f"gal.flux[{row['band']}]"
        assert row["flux"] == pytest.approx(joint.value(name), rel=1e-12)
        assert row["mag"] == pytest.approx(row["zeropoint"] - 2.5 * np.log10(row["flux"]))
        cov = joint.flux_covariance("gal")[t.meta["bands"].index(row["band"])]
        np.testing.assert_allclose(row["flux_cov"], cov, rtol=1e-12)
        assert row["flux_cov"][t.meta["bands"].index(row["band"])] == pytest.approx(
            row["flux_err"] ** 2
        )
    # shared shape: the g and r fluxes are correlated through it
    i, j = joint.names.index("gal.flux[g]"), joint.names.index("gal.flux[r]")
    assert t["flux_cov"][0][1] == pytest.approx(joint.covariance[i, j], rel=1e-12)
    assert joint.covariance[i, j] != 0.0


def test_existing_files_are_not_overwritten_unless_asked(joint, tmp_path):
    joint.write(tmp_path)
    sed = tmp_path / "sed.ecsv"
    sed.write_text("keep me")
    with pytest.raises(FileExistsError, match="overwrite=True"):
        joint.write(tmp_path)
    assert sed.read_text() == "keep me"
    joint.write(tmp_path, overwrite=True)
    assert sed.read_text() != "keep me"


def test_labels_that_are_not_file_names_are_refused(images, joint, tmp_path):
    from dataclasses import replace

    for bad in ("../g", "a/b", ".."):
        with pytest.raises(ValueError, match="cannot name a file"):
            replace(joint, labels=(bad, "r")).write(tmp_path / "x")
    assert not (tmp_path / "x").exists() and list(tmp_path.parent.glob("g_model.fits")) == []


def test_forced_outputs(joint, images, tmp_path):
    from astropy.io import fits
    from astropy.table import Table

    res = sf.forced_photometry(joint, images, settings=FAST)
    paths = res.write(tmp_path)
    np.testing.assert_allclose(fits.getdata(paths["r_model"]), res.models()[1], rtol=1e-12)
    t = Table.read(paths["sed"])
    np.testing.assert_allclose(t["flux"], res.flux[:, 0], rtol=1e-12)
    # bands are solved independently: no covariance between them
    assert t["flux_cov"][0][1] == 0.0
    assert t["flux_cov"][0][0] == pytest.approx(t["flux_err"][0] ** 2)
    # the joint fit's fluxes are the forced ones at its shapes (within the LM tolerance)
    for b in ("g", "r"):
        assert res.value("gal", b) == pytest.approx(joint.value(f"gal.flux[{b}]"), rel=1e-5)
