"""The Gaussian-mixture PSF model (``mixture_psf<K>``) and PSF models fitted to PSF
images (``psf_model_from_image``): the drawn PSF against an independent NumPy
integration, its PA convention, and recovery of known parameters (its derivatives:
tests/test_psf_models.py, with the other PSF models)."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from scenefit.fitting import psf_model_from_image
from scenefit.io import model_class
from scenefit.models import MixturePSF3, mixture_psf
from scenefit.render import draw_psf_model, psf_image

TWO = dict(sigma_1=0.5, q_1=0.7, pa_1=25.0, sigma_2=1.3, q_2=0.85, pa_2=-40.0, w_2=0.35)


def reference(params, shape, s, cd, order=24):
    """Mean over each PSF pixel of sum_i w_i N(0, C_i), with C_i built from (sigma, q,
    pa) on the sky: major axis along (sin pa, cos pa) in (east, north)."""
    t, w = np.polynomial.legendre.leggauss(order)
    t, w = t / 2, w / 2
    ph, pw = shape
    px = (np.arange(pw) - pw // 2)[None, :, None, None] + t[None, None, None, :]
    py = (np.arange(ph) - ph // 2)[:, None, None, None] + t[None, None, :, None]
    xi = (cd[0, 0] * px + cd[0, 1] * py) / s
    eta = (cd[1, 0] * px + cd[1, 1] * py) / s
    k = (len(params) + 1) // 4
    out = 0.0
    for i in range(k):
        sigma, q, pa = params[3 * i : 3 * i + 3]
        wt = 1.0 if i == 0 else params[3 * k + i - 1]
        major = np.array([np.sin(np.radians(pa)), np.cos(np.radians(pa))])
        minor = np.array([major[1], -major[0]])
        cov = (sigma**2 / q) * np.outer(major, major) + (sigma**2 * q) * np.outer(minor, minor)
        inv = np.linalg.inv(cov)
        quad = inv[0, 0] * xi**2 + 2 * inv[0, 1] * xi * eta + inv[1, 1] * eta**2
        out = out + wt * np.exp(-0.5 * quad) / (2 * np.pi * np.sqrt(np.linalg.det(cov)))
    img = (out * w[None, None, :, None] * w[None, None, None, :]).sum((2, 3))
    return img / img.sum()


@pytest.mark.parametrize("s", [1, 3])
def test_drawn_mixture_psf_matches_an_independent_integration(s):
    cls = mixture_psf(2)
    params = np.array([TWO[n] for n in cls.param_names()])
    cd = np.array([[-0.4, 0.05], [0.03, 0.4]])  # a little shear: sky, not pixel, axes
    shape = (21, 23)
    img = np.asarray(draw_psf_model(cls, jnp.asarray(params), shape, s, cd))
    ref = reference(params, shape, s, cd)
    np.testing.assert_allclose(img, ref, rtol=0, atol=1e-9 * ref.max())


def test_pa_is_east_of_north_and_names_resolve():
    assert model_class("mixture_psf3") is MixturePSF3 and model_class(
        "Mixture_PSF2"
    ) is mixture_psf(2)
    one = mixture_psf(1)(sigma_1=0.6, q_1=0.3, pa_1=0.0)
    img = sf.Image(np.zeros((30, 30)), pixel_scale=0.25, psf=np.ones((21, 21)))
    p = psf_image(one, img).image
    # default cd: north = +rows, east = -columns; PA 0 is elongated along the rows
    assert p[10 + 4, 10] > 20 * p[10, 10 + 4]
    turned = psf_image(one.replace(pa_1=90.0), img).image
    np.testing.assert_allclose(turned, p.T, atol=1e-12)
    with pytest.raises(ValueError, match="1..8"):
        mixture_psf(9)


def test_psf_model_from_image_recovers_a_drawn_mixture():
    image = sf.Image(np.zeros((40, 40)), pixel_scale=0.4, psf=np.ones((25, 25)))
    truth = mixture_psf(2)(name="psf", **TWO)
    data = psf_image(truth, image).image
    fit = psf_model_from_image(data, image, n_gaussians=2)
    assert type(fit.model) is mixture_psf(2) and fit.result.converged
    assert fit.max_residual < 1e-7
    got, want = fit.model.params(), truth.params()
    for name in ("sigma_1", "q_1", "sigma_2", "q_2", "w_2"):
        assert got[name].value == pytest.approx(want[name].value, rel=1e-5), name
    for name in ("pa_1", "pa_2"):  # modulo 180 deg
        d = (got[name].value - want[name].value + 90.0) % 180.0 - 90.0
        assert abs(d) < 1e-3, name


def test_psf_model_from_image_fits_any_psf_model_and_rejects_bad_input():
    image = sf.Image(np.zeros((40, 40)), pixel_scale=0.5, psf=np.ones((21, 21)))
    data = psf_image(sf.MoffatPSF(fwhm=1.6, beta=2.8), image).image
    fit = psf_model_from_image(data, image, model=sf.MoffatPSF(fwhm=1.2, beta=4.0))
    assert fit.model.fwhm.value == pytest.approx(1.6, rel=1e-6)
    assert fit.model.beta.value == pytest.approx(2.8, rel=1e-5)
    # three Gaussians describe the Moffat to a few 1e-3 of its peak (not its far wings)
    assert psf_model_from_image(data, image).max_residual < 5e-3
    with pytest.raises(ValueError, match="finite"):
        psf_model_from_image(np.full((5, 5), np.nan), image)
    with pytest.raises(ValueError, match="PSFModel"):
        psf_model_from_image(data, image, model=sf.Gaussian(sigma=1.0))


def test_psf_model_from_an_oversampled_psf_image_has_sky_widths():
    grid = sf.Image(np.zeros((40, 40)), pixel_scale=0.5, psf=sf.PixelPSF(np.ones((45, 45)), 3))
    pix = psf_image(sf.MoffatPSF(fwhm=1.3, beta=2.9), grid)  # 3 PSF pixels per image pixel
    assert pix.oversampling == 3
    image = sf.Image(np.zeros((40, 40)), pixel_scale=0.5)
    fit = psf_model_from_image(pix, image, model=sf.MoffatPSF(fwhm=1.0, beta=3.5))
    assert fit.model.fwhm.value == pytest.approx(1.3, rel=1e-6)  # arcsec, not PSF pixels


def test_gaussian_mixture_profiles_are_convolved_analytically_with_a_mixture_psf():
    from scenefit._layout import build_layout
    from scenefit.render import image_inputs, image_spec, make_model_jacobian, make_renderer
    from scenefit.render._psf_model import live_mixture_rows

    psf = mixture_psf(2)(name="psf", **TWO)
    cd = np.array([[-0.3, 0.02], [0.01, 0.3]])
    # the rows: each Gaussian's sky covariance through the inverse CD, weights normalised
    rows = np.asarray(
        live_mixture_rows(type(psf), jnp.asarray([TWO[n] for n in type(psf).param_names()]), cd)
    )
    inv = np.linalg.inv(cd)
    for i, (s, q, pa, w) in enumerate([(0.5, 0.7, 25.0, 1.0), (1.3, 0.85, -40.0, 0.35)]):
        t = np.radians(pa)
        m, n = np.array([np.sin(t), np.cos(t)]), np.array([np.cos(t), -np.sin(t)])
        pix = inv @ (s**2 / q * np.outer(m, m) + s**2 * q * np.outer(n, n)) @ inv.T
        np.testing.assert_allclose(rows[i, 3:], [pix[0, 0], pix[0, 1], pix[1, 1]], rtol=1e-12)
        assert rows[i, 0] == pytest.approx(w / 1.35)
    gal = dict(x=0.3, y=-0.4, flux=1e3, r_e=1.5, n=1.5, q=0.6, pa=40)
    img = sf.Image(np.zeros((30, 32)), pixel_scale=0.3, psf=np.ones((31, 31)))
    fast = sf.render(sf.Scene([sf.SersicGM(**gal), psf]), img)
    # the exact renderer with the same live PSF on a 3x finer PSF grid agrees to its own
    # accuracy there (docs/mixture.md: ~1e-3 of the peak for such a small source); the
    # grid must hold the wide Gaussian (a 21 x 21 grid truncates it: 7e-3 of the peak)
    img3 = sf.Image(np.zeros((30, 32)), pixel_scale=0.3, psf=sf.PixelPSF(np.ones((93, 93)), 3))
    exact = sf.render(sf.Scene([sf.Sersic(**gal), psf]), img3)
    assert np.abs(fast - exact).max() < 3e-3 * exact.max()
    # the block-sparse Jacobian, PSF columns included, equals forward-mode autodiff
    layout, vals, x0 = build_layout(sf.Scene([sf.SersicGM(name="g", **gal), psf]))
    small = sf.Image(np.zeros((16, 18)), pixel_scale=0.3, psf=np.ones((9, 9)))
    spec, inputs = image_spec(small), image_inputs(small, layout)
    render = make_renderer(layout, spec, sf.RenderSettings())
    base = jnp.asarray(vals.base)
    sparse = np.asarray(
        make_model_jacobian(layout, spec, sf.RenderSettings())(
            layout.expand(jnp.asarray(x0), base), inputs
        )
    )
    dense = np.moveaxis(
        np.asarray(
            jax.jit(jax.jacfwd(lambda x: render(layout.expand(x, base), inputs)))(jnp.asarray(x0))
        ),
        -1,
        0,
    )
    np.testing.assert_allclose(sparse, dense, rtol=0, atol=1e-12 * np.abs(dense).max())
    assert all(np.abs(col).max() > 0 for col in sparse)


def test_a_fast_path_fit_refines_a_mixture_psf():
    truth_psf = mixture_psf(1)(name="psf", sigma_1=0.45, q_1=0.85, pa_1=20.0)
    comps = [
        sf.SersicGM(name="g", x=0.2, y=-0.3, flux=800.0, r_e=1.2, n=1.5, q=0.7, pa=35.0),
        sf.PointSource(name="s", x=-3.1, y=2.4, flux=500.0),
    ]
    img = sf.Image(np.zeros((36, 36)), pixel_scale=0.3, psf=np.ones((21, 21)))
    model = sf.render(sf.Scene([*comps, truth_psf]), img)
    data = model + np.random.default_rng(2).normal(0.0, 0.5, model.shape)
    start = truth_psf.replace(sigma_1=0.6, q_1=0.95, pa_1=40.0)
    res = sf.fit(sf.Scene([*comps, start]), img.replace(data=data, sigma=0.5))
    assert res.converged
    for name, want in (("sigma_1", 0.45), ("q_1", 0.85)):
        assert abs(res.value(f"psf.{name}") - want) < 3.5 * res.error(f"psf.{name}"), name
