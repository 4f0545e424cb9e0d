"""CMOS images: each pixel records only a sensitive sub-square (scenefit.cmos.CMOS).

Checks
------
* A Gaussian (with and without a Gaussian PSF) against the exact erf integral of the
  (convolved) Gaussian over every sensitive square; a Sersic cusp against a brute-force
  integral over the squares next to its centre.
* Flux bookkeeping: a smooth source records size^2 of its flux; a star's centroid is at
  its position minus the offset (the pixels sample around centre + offset).
* size = 1, offset 0 is a plain image: identical at 1x, equal to the integration
  tolerance with a 3x PSF; Gaussian-mixture profiles included.
* Derivatives of the rendered image match finite differences; a fit through sf.fit and
  sf.fit_joint recovers an injected scene.
* Bad inputs raise ValueError / TypeError that say what was expected.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.special import erf, gamma, gammaincinv

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.cmos import CMOS
from scenefit.render.renderer import image_inputs, image_spec, make_renderer


def gaussian_psf(size, sigma, oversampling=1):
    """Sampled round Gaussian, ``size`` square, ``sigma`` in image pixels."""
    yy, xx = np.mgrid[:size, :size] - size // 2
    return np.exp(-0.5 * (xx**2 + yy**2) / (sigma * oversampling) ** 2)


def _square_integrals(shape, centre, sigma, size, offset, flux):
    """Exact integral of a round Gaussian (pixel coordinates) over each sensitive square."""
    h, w = shape
    x = np.arange(w) + offset[0]
    y = np.arange(h) + offset[1]
    s2 = sigma * np.sqrt(2.0)

    def axis(c, v):
        return 0.5 * (erf((v + size / 2 - c) / s2) - erf((v - size / 2 - c) / s2))

    return flux * axis(centre[1], y)[:, None] * axis(centre[0], x)[None, :]


@pytest.mark.parametrize(
    "size,offset,psf_sigma",
    [((0.5, (0.2, -0.1), None)), (0.3, (-0.3, 0.35), None), (0.5, (0.2, -0.1), 1.3)],
)
def test_gaussian_matches_the_exact_square_integrals(size, offset, psf_sigma):
    shape, flux, sig, (x, y) = (28, 28), 100.0, 1.1, (0.37, -0.21)
    psf = None if psf_sigma is None else gaussian_psf(21, psf_sigma)
    img = sf.Image(np.zeros(shape), psf=psf, cmos=CMOS(size, offset))
    m = sf.render(sf.Scene([sf.Gaussian(x=x, y=y, flux=flux, sigma=sig, q=1, pa=0)]), img)
    # default geometry: pixel (13.5, 13.5) is the origin, east (xi) to the left
    c = (13.5 - x, 13.5 + y)
    total = sig if psf_sigma is None else np.hypot(sig, psf_sigma)
    ref = _square_integrals(shape, c, total, size, offset, flux)
    # with the PSF: the sampled-PSF (Riemann sum) error of the renderer, 1.4e-6 of the
    # peak for plain pixels too (size 1 here)
    tol = 1e-6 if psf_sigma is None else 4e-6
    assert np.abs(m - ref).max() < tol * ref.max()
    assert m.sum() == pytest.approx(size**2 * flux, rel=1e-6)


def test_sersic_cusp_matches_a_brute_force_integral():
    n, re, q, pa, flux = 2.0, 2.5, 0.7, 30.0, 100.0
    size, off = 0.5, (0.2, -0.1)
    comp = sf.Sersic(x=0.3, y=-0.4, flux=flux, r_e=re, n=n, q=q, pa=pa)
    m = sf.render(sf.Scene([comp]), sf.Image(np.zeros((32, 32)), cmos=CMOS(size, off)))
    b = gammaincinv(2 * n, 0.5)
    ie = flux / (2 * np.pi * n * re**2 * q * np.exp(b) * b ** (-2 * n) * gamma(2 * n))

    def intensity(x, y):
        xi, eta = -(x - 15.5) - 0.3, (y - 15.5) + 0.4
        t = np.deg2rad(pa)
        a = xi * np.sin(t) + eta * np.cos(t)
        bb = (xi * np.cos(t) - eta * np.sin(t)) / q
        return ie * np.exp(-b * ((np.hypot(a, bb) / re) ** (1 / n) - 1))

    u = (np.arange(600) + 0.5) / 600 - 0.5
    # (15, 15) holds the centre (15.2, 15.1) inside its sensitive square
    for j, i in [(15, 15), (15, 16), (14, 15), (16, 14)]:
        ref = intensity(i + off[0] + size * u[None, :], j + off[1] + size * u[:, None]).mean()
        assert m[j, i] == pytest.approx(ref * size**2, rel=2e-6)


def test_star_flux_and_centroid():
    psf = gaussian_psf(31, 2.0)
    size, off = 0.5, (0.2, -0.1)
    star = sf.Scene([sf.PointSource(x=1.3, y=-0.6, flux=50.0)])
    m = sf.render(star, sf.Image(np.zeros((40, 40)), psf=psf, cmos=CMOS(size, off)))
    assert m.sum() == pytest.approx(size**2 * 50.0, rel=1e-6)
    yy, xx = np.mgrid[:40, :40]
    cx, cy = (xx * m).sum() / m.sum(), (yy * m).sum() / m.sum()
    assert cx == pytest.approx(19.5 - 1.3 - off[0], abs=1e-6)
    assert cy == pytest.approx(19.5 - 0.6 - off[1], abs=1e-6)


def _scene():
    return sf.Scene(
        [
            sf.Sersic(x=0.3, y=-0.4, flux=100.0, r_e=2.5, n=2.0, q=0.7, pa=30.0),
            sf.SersicGM(x=-2.0, y=1.0, flux=40.0, r_e=1.5, n=1.0, q=0.8, pa=60.0),
            sf.PointSource(x=3.1, y=2.2, flux=50.0),
            sf.FlatSky(sky=0.1),
        ]
    )


@pytest.mark.parametrize("oversampling", [1, 3])
def test_full_square_at_the_centre_is_a_plain_image(oversampling):
    psf = gaussian_psf(7 * oversampling + 1 - oversampling % 2, 1.3, oversampling)
    kw = dict(psf=psf, psf_oversampling=oversampling)
    # 1x: the cheap rule (the same code path); 3x: cells of another size, so compare
    # two accurate integrations
    fast = sf.RenderSettings.fast() if oversampling == 1 else sf.RenderSettings()
    plain = sf.render(_scene(), sf.Image(np.zeros((24, 24)), **kw), fast)
    cmos = sf.render(_scene(), sf.Image(np.zeros((24, 24)), cmos=CMOS(1.0, (0, 0)), **kw), fast)
    if oversampling == 1:
        np.testing.assert_array_equal(cmos, plain)
    else:  # nodes integrate whole pixels instead of summing s x s fine pixels
        assert np.abs(cmos - plain).max() < 1e-6 * plain.max()


def test_derivatives_match_finite_differences():
    scene = sf.Scene(
        [
            sf.Sersic(x=0.3, y=-0.4, flux=100.0, r_e=2.5, n=1.5, q=0.7, pa=30.0),
            sf.PointSource(x=3.1, y=2.2, flux=50.0),
        ]
    )
    img = sf.Image(np.zeros((20, 20)), psf=gaussian_psf(11, 1.2), cmos=CMOS(0.6, (0.1, -0.15)))
    layout, vals, _ = build_layout(scene)
    settings = sf.RenderSettings.fast()
    f = jax.jit(make_renderer(layout, image_spec(img), settings))
    inputs = image_inputs(img, layout)
    p = jnp.asarray(vals.base)
    jac = jax.jit(jax.jacfwd(f))(p, inputs)  # (H, W, P)
    assert np.all(np.isfinite(jac))
    for k in range(p.shape[0]):
        h = 1e-5 * max(1.0, abs(float(p[k])))
        fd = (f(p.at[k].add(h), inputs) - f(p.at[k].add(-h), inputs)) / (2 * h)
        scale = np.abs(jac[..., k]).max() + 1e-12
        assert np.abs(jac[..., k] - fd).max() < 2e-4 * scale, k


def test_fit_and_fit_joint_recover_an_injected_scene():
    truth = sf.Scene(
        [
            sf.Gaussian(name="gal", x=0.4, y=-0.3, flux=300.0, sigma=2.0, q=0.7, pa=40.0),
            sf.PointSource(name="star", x=-4.2, y=3.1, flux=100.0),
        ]
    )
    psf = gaussian_psf(15, 1.3)
    cmos = CMOS(0.5, (0.2, -0.1))
    clean = sf.render(truth, sf.Image(np.zeros((24, 24)), psf=psf, cmos=cmos))
    rng = np.random.default_rng(4)
    data = clean + rng.normal(0.0, 0.05, clean.shape)
    img = sf.Image(data, sigma=0.05, psf=psf, cmos=cmos)
    start = truth.replace_component("gal", truth["gal"].replace(x=0.7, flux=200.0))
    start = start.replace_component("star", truth["star"].replace(flux=60.0))
    settings = sf.RenderSettings.fast()
    single = sf.fit(start, img, settings=settings)
    joint = sf.fit_joint(start, [img], settings=settings)
    for res, band in ((single, ""), (joint, "[0]")):  # joint fluxes are per band
        assert res.converged
        for k in ("gal.x", "gal.y", "gal.flux", "gal.sigma", "star.x", "star.flux"):
            name, par = k.split(".")
            true = truth[name].params()[par].value
            key = k + band if par == "flux" else k
            assert abs(res.value(key) - true) < 4 * res.error(key), key


@pytest.mark.parametrize(
    "kwargs,match",
    [
        (dict(size=0.0), "size must be in"),
        (dict(size=1.2), "size must be in"),
        (dict(size=float("nan")), "size must be in"),
        (dict(size=0.6, offset=(0.25, 0.0)), "sticks out"),
        (dict(size=0.6, offset=(0.0, -0.21)), "sticks out"),
        (dict(size=0.6, offset=(0.0,)), "offset"),
        (dict(size="big"), "offset"),
    ],
)
def test_bad_cmos_raises(kwargs, match):
    with pytest.raises(ValueError, match=match):
        CMOS(**kwargs)


def test_bad_uses_raise():
    with pytest.raises(TypeError, match="CMOS"):
        sf.Image(np.zeros((8, 8)), cmos=(0.5, 0.0, 0.0))
    star = sf.Scene([sf.PointSource(x=0, y=0, flux=1)])
    with pytest.raises(ValueError, match="need a PSF"):
        sf.render(star, sf.Image(np.zeros((8, 8)), cmos=CMOS(0.5)))
    gal = sf.Scene([sf.Gaussian(x=0, y=0, flux=1, sigma=1, q=1, pa=0)])
    with pytest.raises(ValueError, match="subpixel_shift"):
        sf.render(
            gal,
            sf.Image(np.zeros((8, 8)), cmos=CMOS(0.5)),
            sf.RenderSettings(subpixel_shift="lanczos3"),
        )
    img = sf.Image(np.zeros((8, 8)), cmos=CMOS(0.5, (0.1, 0.1)))
    assert img.replace(data=np.ones((8, 8))).cmos == img.cmos
    assert img.cutout(slice(1, 5), slice(2, 6)).cmos == img.cmos
