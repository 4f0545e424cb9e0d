"""Peak finding and point/extended classification (scenefit.detect)."""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from scenefit.detect import (
    classify_peaks,
    concentration,
    default_box,
    find_peaks,
    psf_concentration,
    psf_fwhm_px,
)
from scenefit.simulate import demo_psf, demo_truth, simulate_demo


def _gauss_psf(size=21, sigma=1.7):
    yy, xx = np.mgrid[:size, :size] - size // 2
    p = np.exp(-0.5 * (xx**2 + yy**2) / sigma**2)
    return p / p.sum()


@pytest.fixture(scope="module")
def demo():
    return simulate_demo(seed=0)


def test_finds_isolated_stars_at_subpixel_positions():
    rng = np.random.default_rng(4)
    psf = _gauss_psf()
    img0 = sf.Image(np.zeros((80, 90)), psf=psf, pixel_scale=0.3)
    pos = [(20.3, 15.7, 2000.0), (70.6, 60.2, 800.0), (45.0, 40.4, 400.0)]
    stars = [
        sf.PointSource(
            x=float(img0.pixel_to_sky(x, y)[0]), y=float(img0.pixel_to_sky(x, y)[1]), flux=f
        )
        for x, y, f in pos
    ]
    model = sf.render(sf.Scene([*stars, sf.FlatSky(sky=10.0)]), img0)
    img = img0.replace(data=model + rng.normal(0, 1.0, model.shape), sigma=1.0)
    peaks = find_peaks(img)
    assert len(peaks) == 3
    # brightest first, positions within 0.2 px
    for p, (x, y, _) in zip(peaks, pos, strict=True):
        assert abs(p.x - x) < 0.2 and abs(p.y - y) < 0.2
    assert peaks[0].peak > peaks[1].peak > peaks[2].peak
    assert all(classify_peaks(img, peaks))


def test_pure_noise_has_no_peaks_and_threshold_scales():
    rng = np.random.default_rng(1)
    img = sf.Image(rng.normal(5.0, 2.0, (100, 100)), sigma=2.0)
    assert find_peaks(img, nsigma=5.0) == []
    # a low threshold finds noise peaks, separated by at least min_separation_px
    many = find_peaks(img, nsigma=1.0, min_separation_px=3)
    assert len(many) > 10
    xy = np.array([(p.x, p.y) for p in many])
    d = np.abs(xy[:, None, :] - xy[None, :, :]).max(axis=2) + np.eye(len(xy)) * 99
    assert d.min() >= 3 - 1.0  # sub-pixel refinement moves peaks by < 0.5 px each


def test_masked_pixels_are_ignored():
    d = np.zeros((40, 40))
    d[10, 10] = 1000.0
    mask = np.zeros_like(d, bool)
    mask[8:13, 8:13] = True
    rng = np.random.default_rng(0)
    img = sf.Image(d + rng.normal(0, 1, d.shape), sigma=1.0, mask=mask)
    assert find_peaks(img) == []


def test_demo_image_peaks_and_classes(demo):
    img, truth = demo
    peaks = find_peaks(img)
    cls = classify_peaks(img, peaks)
    assert len(peaks) == 4 and sum(cls) == 3
    gal = peaks[cls.index(False)]
    gx, gy = img.sky_to_pixel(truth["bulge"].x.value, truth["bulge"].y.value)
    assert np.hypot(gal.x - gx, gal.y - gy) < 0.5
    stars = [p for p, c in zip(peaks, cls, strict=True) if c]
    for name in ("star_1", "star_2", "star_3"):
        sx, sy = img.sky_to_pixel(truth[name].x.value, truth[name].y.value)
        assert min(np.hypot(p.x - sx, p.y - sy) for p in stars) < 0.3


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_demo_classification_is_stable_across_noise(seed):
    img, _ = simulate_demo(seed=seed)
    peaks = find_peaks(img)
    assert classify_peaks(img, peaks) == [True, False, True, True]


def test_psf_concentration_and_fwhm():
    psf = sf.PixelPSF(demo_psf())
    # FWHM 1.1 arcsec at 0.262 arcsec/px
    assert psf_fwhm_px(psf) == pytest.approx(1.1 / 0.262, rel=0.08)
    assert default_box(psf) == 9
    assert psf_concentration(None) == 1.0
    # a star's own concentration equals the PSF's, independent of flux
    img = np.pad(psf.image * 500.0, 10)
    c = concentration(img, img.shape[1] // 2, img.shape[0] // 2, 9)
    assert c == pytest.approx(psf_concentration(psf), rel=1e-12)
    # an oversampled PSF is binned to image pixels first
    over = sf.PixelPSF(_gauss_psf(size=31, sigma=3.4), oversampling=2)
    assert psf_fwhm_px(over) == pytest.approx(2.3548 * 1.7, rel=0.15)


def test_extended_galaxy_is_not_point_like():
    psf = sf.PixelPSF(demo_psf())
    img0 = sf.Image(np.zeros((64, 64)), psf=psf, pixel_scale=0.262)
    gal = sf.Sersic(x=0.0, y=0.0, flux=5e4, r_e=1.5, n=1.0, q=0.7, pa=20.0)
    m = sf.render(sf.Scene([gal]), img0)
    img = img0.replace(data=m, sigma=1.0)
    peaks = find_peaks(img)
    assert len(peaks) == 1
    assert classify_peaks(img, peaks) == [False]


def test_bad_arguments():
    img = sf.Image(np.zeros((10, 10)))
    with pytest.raises(ValueError, match="nsigma"):
        find_peaks(img, nsigma=0)
    with pytest.raises(ValueError, match="min_separation_px"):
        find_peaks(img, min_separation_px=0)
    with pytest.raises(ValueError, match="box"):
        classify_peaks(img, [], box=4)


def test_truth_names_are_stable():
    assert demo_truth().names == ("bulge", "disk", "star_1", "star_2", "star_3", "sky")
