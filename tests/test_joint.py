"""Joint fits of one scene to several images (fit_joint).

The mock (scripts/joint_three_images.py): one Sersic galaxy plus a sky, seen in g, r
and z images at 0.262, 1.5 and 2.75 arcsec/pixel with Gaussian, Moffat and
undersampled Gaussian PSFs, rotated and flipped CD matrices and offset reference
pixels. Rendered with scenefit (the fitter is under test here, not the renderer).

Checks
------
* Recovery: every joint parameter within 4 sigma of the truth (seeded; 12 parameters,
  a 4-sigma excursion has probability ~8e-4 for the set).
* Information: the joint error of every shared shape parameter is below each
  single-image fit's error (the joint Fisher matrix is the sum of the per-image ones
  after profiling out the per-image brightness and sky, so it can only grow).
* Consistency: with one image the joint fit is the single-image fit (same numbers);
  the total chi^2 is the sum of the per-image ones, each equal to the chi^2 of that
  image's residuals.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import scenefit as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import joint_three_images as mock  # noqa: E402

SHARED = tuple(f"gal.{k}" for k in mock.SHAPE_KEYS)
#: the cheap integration rule (compiles fast); mocks and fits use the same one
CHEAP = sf.RenderSettings().coarse()


@pytest.fixture(scope="module")
def images():
    return mock.make_images(seed=3, settings=CHEAP)


@pytest.fixture(scope="module")
def joint(images):
    return sf.fit_joint(mock.start_scene(), images, settings=CHEAP)


@pytest.fixture(scope="module")
def singles(images, joint):  # after the joint fit: the compiled programs are shared
    return {img.band: sf.fit(mock.start_scene(), img, settings=CHEAP) for img in images}


def _dev(name, fitted, true):
    d = fitted - true
    return (d + 90.0) % 180.0 - 90.0 if name.endswith(".pa") else d


def test_joint_fit_recovers_the_truth_within_its_errors(joint):
    truth = mock.truth_names()
    assert joint.converged, joint.message
    assert set(joint.names) == set(truth)
    for name in joint.names:
        pull = _dev(name, joint.value(name), truth[name]) / joint.error(name)
        assert abs(pull) < 4.0, (name, joint.value(name), truth[name], joint.error(name))
    # chi^2 per degree of freedom of pure Gaussian noise
    assert abs(joint.reduced_chi2 - 1.0) < 5 * np.sqrt(2.0 / joint.dof)


def test_joint_errors_are_smaller_than_every_single_image_error(joint, singles):
    for band, res in singles.items():
        assert res.converged, (band, res.message)
        for name in SHARED:
            assert joint.error(name) < res.error(name), (band, name)


def test_per_image_results_and_chi2_are_consistent(joint, images):
    assert joint.labels == ("g", "r", "z") and joint.keys == ("g", "r", "z")
    per = joint.chi2_per_image
    assert joint.chi2 == pytest.approx(sum(per.values()), rel=1e-12)
    for img, res in zip(images, joint.results, strict=True):
        r = res.residual()
        assert per[img.band] == pytest.approx(float(np.sum(img.invvar * r * r)), rel=1e-9)
        # the image's scene carries the shared shape and its own band's flux and sky
        assert res.value("gal.r_e") == joint.value("gal.r_e")
        assert res.value("gal.flux") == joint.value(f"gal.flux[{img.band}]")
        assert res.value("sky.sky") == joint.value(f"sky.sky[{img.band}]")
        assert res.error("gal.flux") == pytest.approx(joint.error(f"gal.flux[{img.band}]"))
    rows = {(r["source"], r["band"]): r for r in joint.sed()}
    for band in mock.BANDS:
        row = rows[("gal", band)]
        assert row["flux"] == joint.value(f"gal.flux[{band}]")
        assert row["mag"] == pytest.approx(mock.ZEROPOINT - 2.5 * np.log10(row["flux"]))
        assert row["mag_err"] == pytest.approx(2.5 / np.log(10) * row["flux_err"] / row["flux"])
    from scenefit.io import sed_table

    t = sed_table(joint)
    assert list(t["band"]) == list(mock.BANDS)
    assert np.allclose(t["mag"], [rows[("gal", b)]["mag"] for b in mock.BANDS], rtol=0, atol=0)
    # AB: the flux density of magnitude m is 3631 Jy 10^(-0.4 m)
    np.testing.assert_allclose(t["flux_jy"], 3631.0 * 10 ** (-0.4 * t["mag"]), rtol=1e-12)
    np.testing.assert_allclose(t["flux_jy_err"] / t["flux_jy"], t["flux_err"] / t["flux"])
    with pytest.raises(KeyError, match="free per band"):
        joint.value("gal.flux")
    with pytest.raises(KeyError, match="shared"):
        joint.value("gal.r_e[g]")


@pytest.mark.parametrize("band, settings", [("g", CHEAP), ("z", None)])  # None: staged
def test_joint_fit_of_one_image_is_the_single_image_fit(images, joint, band, settings):
    img = next(i for i in images if i.band == band)
    one = sf.fit_joint(mock.start_scene(), [img], settings=settings)
    ref = sf.fit(mock.start_scene(), img, settings=settings)
    assert one.n_iter == ref.n_iter
    assert one.chi2 == pytest.approx(ref.chi2, rel=1e-10)
    for a in ref.free:
        name = a if a.startswith("gal.") and a != "gal.flux" else f"{a}[{band}]"
        assert one.value(name) == pytest.approx(ref.value(a), rel=1e-9, abs=1e-12)
        assert one.error(name) == pytest.approx(ref.error(a), rel=1e-8)


def test_images_of_one_band_share_their_flux(images):
    g = images[0]
    twin = g.replace(ref_sky=(g.ref_sky[0] + 1.0, g.ref_sky[1]))
    from scenefit.fitting._joint_plan import build_plan

    plan = build_plan(mock.start_scene(), [g, twin, images[1]])
    assert plan.labels == ("0", "1", "2") and plan.keys == ("g", "g", "r")
    assert [n for n in plan.names if n.startswith("gal.flux")] == ["gal.flux[g]", "gal.flux[r]"]
    assert [n for n in plan.names if n.startswith("sky.")] == [
        "sky.sky[0]",
        "sky.sky[1]",
        "sky.sky[2]",
    ]
    # the twin reads the same flux entry, its own sky entry
    f = plan.names.index("gal.flux[g]")
    assert f in plan.index[0] and f in plan.index[1] and f not in plan.index[2]
    plan = build_plan(mock.start_scene(), [g, images[1]], per_band=("gal.flux", "gal.r_e"))
    assert {"gal.r_e[g]", "gal.r_e[r]"} <= set(plan.names) and "gal.r_e" not in plan.names


def test_bad_inputs_raise_clear_errors(images):
    scene = mock.start_scene()
    g, r, _ = images
    with pytest.raises(ValueError, match="empty"):
        sf.fit_joint(scene, [])
    with pytest.raises(TypeError, match=r"images\[1\] is a str"):
        sf.fit_joint(scene, [g, "r.fits"])
    with pytest.raises(TypeError, match="expected a Scene"):
        sf.fit_joint([scene], [g])
    with pytest.raises(TypeError, match="fit_joint"):
        sf.fit(scene, [g, r])
    with pytest.raises(ValueError, match="not a parameter of the scene"):
        sf.fit_joint(scene, [g, r], per_band=("gal.I_e",))
    with pytest.raises(ValueError, match="start names"):
        sf.fit_joint(scene, [g, r], start={"gal.flux[i]": 3.0})
    with pytest.raises(ValueError, match=r"images\[1\].*contains none of the sources"):
        sf.fit_joint(scene, [g, r.replace(ref_sky=(300.0, 0.0))])
    with pytest.raises(ValueError, match="no celestial WCS"):
        sf.fit_joint(scene, [g, r], align_wcs=True)
    with pytest.raises(ValueError, match="zero points"):
        sf.fit_joint(scene, [g, g.replace(zeropoint=25.0)])
    with pytest.raises(ValueError, match="unknown likelihood"):
        sf.fit_joint(scene, [g, r], likelihood="cauchy")
    tied = sf.Scene(
        [
            sf.Sersic(name="a", x=0, y=0, flux=1, r_e=2, n=1, q=0.5, pa=0),
            sf.Sersic(name="b", x=0, y=0, flux=1, r_e=4, n=1, q=0.5, pa=0),
        ],
        ties={"b.flux": "a.flux"},
    )
    with pytest.raises(ValueError, match="tied to 'a.flux'"):
        sf.fit_joint(tied, [g, r], per_band=("b.flux",))


def _tan_wcs(crval, rot_deg, scale_arcsec, crpix):
    from astropy.wcs import WCS

    w = WCS(naxis=2)
    w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    w.wcs.crval = list(crval)
    w.wcs.crpix = list(crpix)
    w.wcs.cd = (scale_arcsec / 3600.0) * mock.rotation(rot_deg) @ np.diag([-1.0, 1.0])
    return w


def test_common_tangent_plane_maps_one_sky_position_to_one_point():
    pytest.importorskip("astropy")
    w1 = _tan_wcs((150.0, 2.0), 0.0, 0.262, (33.0, 30.0))
    w2 = _tan_wcs((150.03, 2.02), 25.0, 1.5, (-40.0, 12.0))  # another pointing
    imgs = [
        sf.Image(np.zeros((64, 64)), cd=np.asarray(w.wcs.cd) * 3600.0, wcs=w, band=b)
        for w, b in ((w1, "g"), (w2, "r"))
    ]
    out = sf.common_tangent_plane(imgs)
    assert [float(v) for v in out[0].pixel_to_sky(31.5, 31.5)] == pytest.approx([0, 0], abs=1e-9)
    ra0, dec0 = w1.pixel_to_world_values(31.5, 31.5)
    # sky positions on both images: each image's affine map gives the same (xi, eta)
    for ra, dec in ((ra0, dec0), (ra0 + 2e-3, dec0 - 1e-3)):
        want = sf.tangent.gnomonic(ra, dec, ra0, dec0)
        for img in out:
            x, y = img.wcs.world_to_pixel_values(ra, dec)
            got = [float(v) for v in img.pixel_to_sky(x, y)]
            assert got == pytest.approx([float(v) for v in want], abs=2e-3)  # arcsec
    assert out[1].pixel_scale == pytest.approx(1.5, rel=1e-4)
    assert out[1].data is not None and out[1].band == "r"
    with pytest.raises(ValueError, match="deviates from an affine map"):
        sf.common_tangent_plane(imgs, tol_pixels=1e-9)


def test_a_live_psf_is_fitted_per_image():
    # two images of the same stars through different Moffat PSFs: a PSF model in the
    # scene has one set of parameters per image (like a sky), each recovered
    from scenefit.models import MoffatPSF

    rng = np.random.default_rng(7)
    stars = [
        sf.PointSource(name=f"s{i}", x=x, y=y, flux=f)
        for i, (x, y, f) in enumerate([(-5.0, 4.0, 900.0), (6.0, -3.0, 700.0), (1.0, 7.0, 500.0)])
    ]
    truth = {"a": 2.0, "b": 3.2}
    images = []
    for label, fwhm in truth.items():
        blank = sf.Image(np.zeros((28, 28)), sigma=1.0, psf=np.ones((15, 15)), band=label)
        scene = sf.Scene([*stars, MoffatPSF(name="psf", fwhm=fwhm, beta=3.0)])
        model = sf.render(scene, blank, sf.RenderSettings.fast())
        images.append(blank.replace(data=model + rng.normal(0, 1.0, model.shape)))
    start = sf.Scene([*stars, MoffatPSF(name="psf", fwhm=2.5, beta=sf.Param(3.0, fixed=True))])
    res = sf.fit_joint(start, images, labels=["a", "b"], settings=sf.RenderSettings.fast())
    for label, fwhm in truth.items():
        a = f"psf.fwhm[{label}]"
        assert abs(res.value(a) - fwhm) < 4 * res.error(a)
    assert abs(res.value("psf.fwhm[a]") - res.value("psf.fwhm[b]")) > 10 * res.error("psf.fwhm[b]")
