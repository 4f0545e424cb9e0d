"""Imfit-compatible rendering against Imfit's own ``makeimage`` reference images.

``RenderSettings(sampling="imfit")`` reproduces Imfit's pixel sub-sampling rule and,
with it, Imfit's series Sersic b_n. The references are the ``makeimage`` outputs shipped
with Imfit's regression tests (float32 FITS, ``../shared/validation/imfit/tests``, or
``$SCENEFIT_VALIDATION_DIR/imfit/tests``); the tests skip when the folder is absent.

Each reference's configuration is parsed here by a deliberately tiny reader (position
sets, ``FUNCTION`` blocks, ``NAME value`` lines), so that these tests depend on nothing
but the renderer. Conventions: Imfit pixel centres are 1-based, so Imfit's (X0, Y0) is
scenefit's 0-based pixel (X0 - 1, Y0 - 1); with the default cd and pixel_scale = 1 the
tangent plane is in pixels and Imfit's PA (CCW from +y) is scenefit's PA.

References not used here: ``gensersictest_orig`` and ``gensersictest612_conv_cutout512``
(Sersic_GenEllipse: Imfit's sub-sampling rule is not implemented for it;
tests/test_geometries.py compares ``gensersictest_orig`` with pixel-centre sampling
beyond 10 px of the centre). ``oversampled_orig`` and
``oversampled2both_orig`` are compared outside their ``--overpsf_region`` boxes, where
Imfit uses the ordinary (non-oversampled) PSF convolution.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

import scenefit as sf
from scenefit.models.sersic import bn_of, sersic_bn_series

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))
TESTS = VALIDATION / "imfit" / "tests"

pytestmark = pytest.mark.skipif(not TESTS.is_dir(), reason=f"no Imfit validation data at {TESTS}")

TOL = 1e-6  # max relative difference, where the reference exceeds FLOOR x its max
FLOOR = 1e-6


# ----------------------------------------------------------------- tiny config reader
def read_config(path):
    """``(header, [(x0, y0, [(name, {param: value})])])`` of a simple Imfit config."""
    header, sets = {}, []
    for raw in Path(path).read_text().splitlines():
        line = raw.split("#", 1)[0].split()
        if not line:
            continue
        key, rest = line[0], line[1:]
        if key == "X0":
            sets.append([float(rest[0]), None, []])
        elif key == "Y0":
            sets[-1][1] = float(rest[0])
        elif key == "FUNCTION":
            sets[-1][2].append((rest[0], {}))
        elif sets and sets[-1][2]:
            sets[-1][2][-1][1][key] = float(rest[0])
        else:
            header[key] = float(rest[0])
    return header, sets


def build_scene(sets, image):
    """scenefit Scene of Imfit function sets (sizes in pixels; I_e/I_0 -> total flux)."""
    comps = []
    for x0, y0, funcs in sets:
        xi, eta = (float(v) for v in image.pixel_to_sky(x0 - 1.0, y0 - 1.0))
        for name, p in funcs:
            if name == "FlatSky":
                comps.append(sf.FlatSky(sky=p["I_sky"]))
                continue
            if name == "PointSource":
                comps.append(sf.PointSource(x=xi, y=eta, flux=p["I_tot"]))
                continue
            q, pa = 1.0 - p["ell"], p["PA"]
            geo = dict(x=xi, y=eta, q=q, pa=pa)
            if name == "Sersic":
                law = np.array([p["r_e"], p["n"]])
                flux = p["I_e"] * q * float(sf.Sersic.total(law, bn_rule="series"))
                comps.append(sf.Sersic(flux=flux, r_e=p["r_e"], n=p["n"], **geo))
            elif name == "Exponential":
                flux = p["I_0"] * q * float(sf.Exponential.total(np.array([p["h"]])))
                comps.append(sf.Exponential(flux=flux, h=p["h"], **geo))
            elif name == "Gaussian":
                flux = p["I_0"] * q * float(sf.Gaussian.total(np.array([p["sigma"]])))
                comps.append(sf.Gaussian(flux=flux, sigma=p["sigma"], **geo))
            elif name == "Moffat":
                law = np.array([p["fwhm"], p["beta"]])
                flux = p["I_0"] * q * float(sf.Moffat.total(law))
                comps.append(sf.Moffat(flux=flux, fwhm=p["fwhm"], beta=p["beta"], **geo))
            else:
                raise KeyError(name)
    return sf.Scene(comps)


def read_fits(path):
    from astropy.io import fits

    return np.asarray(fits.getdata(path), dtype=float)


# (reference image, config, PSF or None, boxes (1-based x0:x1,y0:y1) to leave out)
CASES = {
    "biggertest": ("biggertest_orig.fits", "makeimage_reference/config_biggertest_4c.dat"),
    "sersic+exp": (
        "sersic+exp_orig.fits",
        "makeimage_reference/config_makeimage_sersic+exp512.dat",
    ),
    "oversampled": (
        "oversampled_orig.fits",
        "makeimage_reference/config_makeimage_gauss-oversample.dat",
    ),
    "oversampled2both": (
        "oversampled2both_orig.fits",
        "makeimage_reference/config_makeimage_gauss-oversample2.dat",
    ),
}
PSFS = {"oversampled": "psf_standard.fits", "oversampled2both": "psf_standard.fits"}
# Imfit's --overpsf_region boxes (1-based, inclusive): do_makeimage_tests uses
# 100:110,100:110; the two-region reference also has one around the second Gaussian.
EXCLUDE = {
    "oversampled": [(100, 110, 100, 110)],
    "oversampled2both": [(100, 110, 100, 110), (20, 30, 20, 30)],
}


def case_render(key, settings):
    ref_name, cfg_name = CASES[key]
    ref = read_fits(TESTS / ref_name)
    header, sets = read_config(TESTS / cfg_name)
    psf = read_fits(TESTS / PSFS[key]) if key in PSFS else None
    image = sf.Image(np.zeros(ref.shape), psf=psf)
    model = sf.render(build_scene(sets, image), image, settings)
    keep = np.ones(ref.shape, bool)
    for x0, x1, y0, y1 in EXCLUDE.get(key, []):
        keep[y0 - 1 : y1, x0 - 1 : x1] = False
    return ref, model, keep


def max_rel(ref, model, keep):
    sel = keep & (np.abs(ref) > FLOOR * np.abs(ref).max())
    return float(np.max(np.abs(model[sel] - ref[sel]) / np.abs(ref[sel])))


@pytest.mark.parametrize("key", ["biggertest", "sersic+exp", "oversampled"])
def test_imfit_sampling_matches_makeimage(key):
    if not (TESTS / CASES[key][0]).exists():
        pytest.skip(f"missing {CASES[key][0]}")
    ref, model, keep = case_render(key, sf.RenderSettings(sampling="imfit"))
    assert max_rel(ref, model, keep) <= TOL


def test_series_bn_is_imfit_rule():
    """Imfit's threshold (n > 0.36 -> Ciotti & Bertin) and both polynomials."""
    n = np.array([0.2, 0.36, 0.37, 1.0, 4.0])
    mac = 0.01945 - 0.8902 * n + 10.95 * n**2 - 19.67 * n**3 + 13.43 * n**4
    cb = 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n**2) + 131 / (1148175 * n**3)
    cb -= 2194697 / (30690717750 * n**4)
    expect = np.where(n > 0.36, cb, mac)
    np.testing.assert_allclose(np.asarray(sersic_bn_series(n)), expect, rtol=1e-14)
    np.testing.assert_allclose(np.asarray(bn_of(n, "series")), expect, rtol=1e-14)


def test_imfit_settings_select_series_bn():
    assert sf.RenderSettings(sampling="imfit").sersic_bn == "series"
    assert sf.RenderSettings().sersic_bn == "exact"
    assert sf.RenderSettings.imfit(subsampling=False) == sf.RenderSettings(
        sampling="center", sersic_bn="series", point_interp="bicubic"
    )
    with pytest.raises(ValueError, match="sampling"):
        sf.RenderSettings(sampling="galfit")
    with pytest.raises(ValueError, match="sersic_bn"):
        sf.RenderSettings(sersic_bn="approx")


def test_fft_convolution_matches_imfit_psfconvolve():
    """scenefit's PSF convolution against Imfit's ``psfconvolve`` output (HST image with
    a 75 x 75 PSF): PSF normalised to sum 1, centre pixel (ny // 2, nx // 2), zero
    padding."""
    import jax.numpy as jnp
    from scipy.fft import next_fast_len

    from scenefit.render._convolve import convolve_with_points

    names = ("n5419f555w_pc_derot_cutout.fits", "n5419_sin100_psf_pc2scale.fits")
    if not all((TESTS / n).exists() for n in names + ("convolve_out_n5419.fits",)):
        pytest.skip("psfconvolve fixture missing")
    img, psf = (read_fits(TESTS / n) for n in names)
    ref = read_fits(TESTS / "convolve_out_n5419.fits")
    pairs = zip(img.shape, psf.shape, strict=True)
    shape = tuple(next_fast_len(a + b - 1, real=True) for a, b in pairs)
    out = np.asarray(
        convolve_with_points(jnp.asarray(img), jnp.asarray(psf / psf.sum()), None, shape)
    )
    assert max_rel(ref, out, np.ones(ref.shape, bool)) < 1e-6


def _brute_imfit(law, amp, shape, xc, yc, q, pa, k, r_in, scale):
    """Independent per-pixel loop over Imfit's rule (0-based pixel coordinates)."""
    t = np.deg2rad(pa + 90.0)
    c, s = np.cos(t), np.sin(t)

    def radius(x, y):
        dx, dy = x - xc, y - yc
        return np.hypot(dx * c + dy * s, (-dx * s + dy * c) / q)

    out = np.zeros(shape)
    for j in range(shape[0]):
        for i in range(shape[1]):
            r = radius(i, j)
            n = 1
            if r < 10:
                if scale <= 1 and r <= 1:
                    n = min(100, int(k / scale))
                elif r <= r_in:
                    n = 20
                else:
                    n = min(100, int(20 / r))
            u = i - 0.5 + (np.arange(n) + 0.5) / n
            v = j - 0.5 + (np.arange(n) + 0.5) / n
            out[j, i] = amp * law(radius(u[None, :], v[:, None])).mean()
    return out


@pytest.mark.parametrize("r_e", [0.7, 2.5])
def test_imfit_rule_against_brute_force(r_e):
    """The small-scale (N = int(20 / r_e) up to 100) and ordinary branches, Sersic."""
    shape, n, q, pa, i_e = (27, 25), 3.0, 0.7, 35.0, 10.0
    x, y = 11.3, 12.6  # 0-based pixel of the centre
    image = sf.Image(np.zeros(shape))
    xi, eta = (float(v) for v in image.pixel_to_sky(x, y))
    law = np.array([r_e, n])
    flux = i_e * q * float(sf.Sersic.total(law, bn_rule="series"))
    comp = sf.Sersic(x=xi, y=eta, flux=flux, r_e=r_e, n=n, q=q, pa=pa)
    model = sf.render(sf.Scene([comp]), image, sf.RenderSettings(sampling="imfit"))
    b = float(sersic_bn_series(n))
    ref = _brute_imfit(
        lambda r: np.exp(-b * ((r / r_e) ** (1 / n) - 1)), i_e, shape, x, y, q, pa, 20, 4, r_e
    )
    np.testing.assert_allclose(model, ref, rtol=1e-12, atol=0)


def test_center_sampling_is_pixel_centre_values():
    shape, sigma, q, pa, i0 = (15, 16), 1.3, 0.6, 20.0, 5.0
    image = sf.Image(np.zeros(shape))
    flux = i0 * q * 2 * np.pi * sigma**2
    comp = sf.Gaussian(x=0.7, y=-0.4, flux=flux, sigma=sigma, q=q, pa=pa)
    model = sf.render(sf.Scene([comp]), image, sf.RenderSettings(sampling="center"))
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    xi, eta = image.pixel_to_sky(xx, yy)
    t = np.deg2rad(pa)
    a = (xi - 0.7) * np.sin(t) + (eta + 0.4) * np.cos(t)
    bb = (xi - 0.7) * np.cos(t) - (eta + 0.4) * np.sin(t)
    ref = i0 * np.exp(-0.5 * (a**2 + (bb / q) ** 2) / sigma**2)
    np.testing.assert_allclose(model, ref, rtol=1e-12)


def test_imfit_sampling_jacobian_is_finite():
    """The fitter's block Jacobian works in Imfit mode (N is piecewise constant)."""
    import jax.numpy as jnp

    from scenefit._layout import build_layout
    from scenefit.render import image_inputs, image_spec, make_model_jacobian

    image = sf.Image(np.zeros((24, 24)))
    comp = sf.Sersic(x=0.3, y=-0.2, flux=100.0, r_e=3.0, n=2.0, q=0.8, pa=10.0)
    layout, vals, x0 = build_layout(sf.Scene([comp]))
    jac = make_model_jacobian(layout, image_spec(image), sf.RenderSettings(sampling="imfit"))
    d = np.asarray(jac(jnp.asarray(vals.base), image_inputs(image)))
    assert d.shape == (7, 24, 24) and np.all(np.isfinite(d))
    # d model / d flux = model / flux
    model = sf.render(sf.Scene([comp]), image, sf.RenderSettings(sampling="imfit"))
    np.testing.assert_allclose(d[2], model / 100.0, rtol=1e-10, atol=1e-14)


def test_center_sampling_matches_imfit_nosubsampling_image():
    """``testimage_expdisk32.fits`` was made without sub-sampling; Imfit's regression fit
    (``config_imfit_expdisk32.dat``, ``--nosubsampling``) recovers it with chi^2 = 0 at
    X0 = Y0 = 15, PA = 90, ell = 0.5, I_0 = 100, h = 20."""
    path = TESTS / "testimage_expdisk32.fits"
    if not path.exists():
        pytest.skip("missing testimage_expdisk32.fits")
    ref = read_fits(path)
    sets = [(15.0, 15.0, [("Exponential", {"PA": 90.0, "ell": 0.5, "I_0": 100.0, "h": 20.0})])]
    image = sf.Image(np.zeros(ref.shape))
    model = sf.render(build_scene(sets, image), image, sf.RenderSettings.imfit(subsampling=False))
    assert max_rel(ref, model, np.ones(ref.shape, bool)) <= TOL
