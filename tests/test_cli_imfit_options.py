"""Imfit options of ``scenefit imfit`` / ``makeimage`` not covered elsewhere.

--mask, NaN handling, --errors-are-variances, --errors-are-weights, --exptime,
--ncombined, --psf, Imfit's ``file[N][x1:x2,y1:y2]`` image syntax and makeimage's
--refimage/--psf, against Imfit's regression outputs (``tests/imfit_reference``) or
independent formulas. Skips without ../shared/validation (or $SCENEFIT_VALIDATION_DIR).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pytest

from scenefit.cli import main

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))
T = VALIDATION / "imfit" / "tests"
R = T / "imfit_reference"
pytestmark = pytest.mark.skipif(not T.is_dir(), reason="shared validation data absent")


def _has_imfit_rule():
    from scenefit.render import RenderSettings

    return hasattr(RenderSettings, "imfit")


def _chi2(text):
    return float(re.search(r"CHI-SQUARE = ([-0-9.e+]+)", text)[1])


def _param(text, name):
    m = re.search(rf"^{name}\t\t\s*([-0-9.e+]+) # \+/- ([-0-9.e+]+)", text, re.M)
    return float(m[1]), float(m[2])


# Imfit (imfit_textout7a/7b/7c/7e): FlatSky on 3x3 images, 8 valid pixels each
@pytest.mark.parametrize(
    "image, extra, sky, err",
    [
        ("testimage_3x3_nan.fits", [], 1.5, 0.43301),  # 7a: NaN data pixel masked
        ("testimage_3x3_ones.fits", ["--mask", "testimage_3x3_mask-with-nan.fits"], 1, 0.35355),
        ("testimage_3x3_ones.fits", ["--noise", "testimage_3x3_nan.fits"], 1, 0.53033),
        ("testimage_3x3_onezero.fits", ["--mask", "mask_for_onezero.fits"], 1, 0.35355),
    ],
)
def test_masks_and_nan_pixels_as_imfit(image, extra, sky, err, capsys):
    extra = [str(T / e) if e.endswith(".fits") else e for e in extra]
    assert main(["imfit", str(R / "config_3x3_flatsky.dat"), str(T / image), *extra]) == 0
    out = capsys.readouterr().out
    assert "(8 valid pixels remain)" in out
    v, e = _param(out, "I_sky")
    assert v == pytest.approx(sky, abs=1e-6)
    assert e == pytest.approx(err, abs=1e-5)
    assert _chi2(out) < 1e-9


def test_nonpositive_data_variance_is_an_error_as_in_imfit(capsys):
    # imfit_textout7d: a zero pixel with data-based errors and no read noise stops Imfit
    img = str(T / "testimage_3x3_onezero.fits")
    assert main(["imfit", str(R / "config_3x3_flatsky.dat"), img]) == 2
    err = capsys.readouterr().err
    assert "variance <= 0" in err and "--sky" in err and "Traceback" not in err


@pytest.mark.skipif(not _has_imfit_rule(), reason="no Imfit sampling rule")
def test_variance_and_weight_maps(tmp_path, capsys):
    """--errors-are-variances gives Imfit's 4555.947598 (imfit_textout3e2) at Imfit's fit;
    a weight map 1/sigma^2 gives the sigma-map statistic (to rounding)."""
    from astropy.io import fits

    best = tmp_path / "best.dat"
    best.write_text(
        "X0 32.9439\nY0 34.0933\nFUNCTION Sersic\nPA 18.2613\nell 0.235985\nn 2.4 fixed\n"
        "I_e 20.0156\nr_e 60.7483\n"
    )
    img = str(T / "ic3478rss_64x64.fits")
    common = ["imfit", str(best), img, "--imfit-sampling", "--chisquare-only"]
    var = str(T / "ic3478rss_64x64_variance.fits")
    assert main([*common, "--noise", var, "--errors-are-variances"]) == 0
    assert _chi2(capsys.readouterr().out) == pytest.approx(4555.947598, abs=2e-3)
    sigma = fits.getdata(T / "ic3478rss_64x64_sigma.fits").astype(float)
    wfile = tmp_path / "w.fits"
    fits.PrimaryHDU(1.0 / sigma**2).writeto(wfile)
    assert main([*common, "--noise", str(wfile), "--errors-are-weights"]) == 0
    chi_w = _chi2(capsys.readouterr().out)
    assert main([*common, "--noise", str(T / "ic3478rss_64x64_sigma.fits")]) == 0
    assert chi_w == pytest.approx(_chi2(capsys.readouterr().out), rel=1e-9)


def test_exptime_and_ncombined_enter_the_data_based_variance(tmp_path, capsys):
    """sigma^2 = (d + sky)/G + N RN^2/G^2 with G = gain exptime N (Imfit's definition)."""
    from astropy.io import fits

    cfg = tmp_path / "sky.dat"
    cfg.write_text("X0 1\nY0 1\nFUNCTION FlatSky\nI_sky 3.5\n")
    img = T / "ic3478rss_64x64.fits"
    gain, t, n, rn, sky = 1.5, 2.0, 3.0, 4.0, 130.1
    opts = [f"--gain={gain}", f"--exptime={t}", f"--ncombined={n}", f"--readnoise={rn}"]
    assert main(["imfit", str(cfg), str(img), *opts, f"--sky={sky}", "--chisquare-only"]) == 0
    got = _chi2(capsys.readouterr().out)
    d = fits.getdata(img).astype(float)
    g = gain * t * n
    expected = np.sum((d - 3.5) ** 2 / ((d + sky) / g + n * rn**2 / g**2))
    assert got == pytest.approx(expected, rel=1e-9)


@pytest.mark.skipif(not _has_imfit_rule(), reason="no Imfit sampling rule")
def test_image_section_and_extension_syntax(capsys):
    # imfit_textout6h: file[1][1:8,1:8], chi^2 = 69.053948, I_0 = 505.169 +/- 7.7852
    img = str(T / "test_multiextension_hdu0empty.fits") + "[1][1:8,1:8]"
    cfg = str(R / "config_imfit_small-gaussian.dat")
    assert main(["imfit", cfg, img, "--imfit-sampling"]) == 0
    out = capsys.readouterr().out
    assert _chi2(out) == pytest.approx(69.053948, abs=2e-6)
    assert _param(out, "I_0") == pytest.approx((505.169, 7.7852), abs=1e-3)


def test_psf_point_source_initial_statistic(capsys):
    """--psf with a PointSource at the start position (19, 19) of imfit_textout8a: a
    whole-pixel offset from the PSF centre, where any interpolation is exact: Imfit's
    INITIAL CHI^2 = 1846834.686862."""
    cfg = str(R / "config_imfit_ptsource.dat")
    img, psf = str(T / "psf_moffat_fwhm2.fits"), str(T / "psf_moffat_fwhm2_35x35.fits")
    assert main(["imfit", cfg, img, "--psf", psf, "--chisquare-only"]) == 0
    assert _chi2(capsys.readouterr().out) == pytest.approx(1846834.686862, rel=1e-9)


def test_psf_point_source_best_fit_statistic(tmp_path, capsys):
    cfg = tmp_path / "ps.dat"
    cfg.write_text(
        "X0 20.4006\nY0 20.3985\nFUNCTION PointSource\nI_tot 263918\n"
        "FUNCTION FlatSky\nI_sky 100 fixed\n"
    )
    img, psf = str(T / "psf_moffat_fwhm2.fits"), str(T / "psf_moffat_fwhm2_35x35.fits")
    args = ["imfit", str(cfg), img, "--psf", psf, "--chisquare-only", "--imfit-sampling"]
    assert main(args) == 0
    # imfit_textout8a: 1991.946235 at the (rounded, 6-digit) best fit; Imfit places the
    # point by bicubic-spline interpolation of the PSF (RenderSettings.imfit())
    assert _chi2(capsys.readouterr().out) == pytest.approx(1991.946235, rel=1e-3)


@pytest.mark.skipif(not _has_imfit_rule(), reason="no Imfit sampling rule")
def test_makeimage_refimage_and_psf(tmp_path, capsys):
    """makeimage --refimage --psf --imfit-sampling reproduces Imfit's oversampled_orig.fits
    outside its --overpsf_region box (100:110,100:110), where Imfit convolves with the
    ordinary PSF."""
    from astropy.io import fits

    ref_path = T / "oversampled_orig.fits"
    out = tmp_path / "m.fits"
    cfg = T / "makeimage_reference" / "config_makeimage_gauss-oversample.dat"
    argv = ["makeimage", str(cfg), "--refimage", str(ref_path), "--psf"]
    argv += [str(T / "psf_standard.fits"), "--imfit-sampling", "--output", str(out)]
    assert main(argv) == 0
    capsys.readouterr()
    ref = fits.getdata(ref_path).astype(float)
    ours = fits.getdata(out).astype(float)
    assert ours.shape == ref.shape
    keep = np.ones(ref.shape, bool)
    keep[99:110, 99:110] = False
    sel = keep & (ref > 1e-6 * ref.max())
    assert np.max(np.abs(ours[sel] - ref[sel]) / ref[sel]) < 1e-6
