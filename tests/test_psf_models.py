"""PSF models with free parameters ("live" PSFs, docs/psf_models.md): the laws.

* J1 (for the Airy pattern) against SciPy;
* each PSF model drawn on its grid sums to 1 and equals an independent pixel
  integration of its analytic law (NumPy/SciPy, a 24-point rule), and has the analytic
  FWHM (Gaussian, Moffat, Airy) and first dark ring at 1.2197 lambda/D (Airy);
* the Zernike PSF: the Airy pattern without aberrations, the Strehl ratio of a pure
  defocus, the half-turn symmetry W -> -W;
* derivatives of each drawn PSF with respect to its parameters against finite
  differences;
* the documented errors (two PSF models, mixtures, banded and iterative fits, config).

Scenes rendered and fitted with a live PSF: tests/test_live_psf.py.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import special

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.fitting import fit_iterative
from scenefit.models import AiryPSF, GaussianPSF, MoffatPSF, SersicGM, ZernikePSF, mixture_psf
from scenefit.models._bessel import JOIN, j1_over_x
from scenefit.models.psf_models import AIRY_FWHM
from scenefit.render import (
    RenderSettings,
    draw_psf_model,
    image_spec,
    psf_image,
)
from scenefit.render.renderer import band_rows_supported

FAST = RenderSettings.fast()


# --------------------------------------------------------------- independent laws
def law(kind, params, r):
    """The analytic PSF laws, written out independently of the library (NumPy/SciPy)."""
    if kind is GaussianPSF:
        sigma = params[0] / (2 * np.sqrt(2 * np.log(2)))
        return np.exp(-0.5 * (r / sigma) ** 2)
    if kind is MoffatPSF:
        fwhm, beta = params
        alpha = fwhm / (2 * np.sqrt(2 ** (1 / beta) - 1))
        return (1 + (r / alpha) ** 2) ** -beta
    v = np.pi * r / params[0]
    return (2 * special.j1(v) / v) ** 2


def reference_psf(kind, params, shape, s, scale, order=24):
    """Mean of the law over each PSF pixel (order x order Gauss-Legendre), unit sum."""
    t, w = np.polynomial.legendre.leggauss(order)
    t, w = t / 2, w / 2
    ph, pw = shape
    cx = (np.arange(pw) - pw // 2)[None, :, None, None] + t[None, None, None, :]
    cy = (np.arange(ph) - ph // 2)[:, None, None, None] + t[None, None, :, None]
    r = np.hypot(cx, cy) * scale / s
    img = (law(kind, params, r) * w[None, None, :, None] * w[None, None, None, :]).sum((2, 3))
    return img / img.sum()


CASES = [(GaussianPSF, (2.2,)), (MoffatPSF, (2.5, 2.7)), (AiryPSF, (1.3,))]
IDS = [c.TYPE_NAME for c, _ in CASES]


def test_j1_matches_scipy():
    x = np.concatenate([np.linspace(0, 400, 8001), JOIN + np.linspace(-1e-6, 1e-6, 11)])
    mine = np.asarray(jax.jit(j1_over_x)(jnp.asarray(x))) * x
    np.testing.assert_allclose(mine, special.j1(x), rtol=0, atol=5e-12)
    assert float(j1_over_x(0.0)) == 0.5
    grad = jax.jit(jax.vmap(jax.grad(j1_over_x)))(jnp.asarray(x[1:]))
    assert np.all(np.isfinite(np.asarray(grad)))
    # derivative: (J1/x)' = -J2(x)/x
    np.testing.assert_allclose(np.asarray(grad), -special.jv(2, x[1:]) / x[1:], atol=1e-10)


@pytest.mark.parametrize(("kind", "params"), CASES, ids=IDS)
@pytest.mark.parametrize("s", [1, 3])
def test_psf_model_sums_to_one_and_matches_its_law(kind, params, s):
    scale = 0.8  # arcsec per pixel: the widths are on the sky
    shape = (23, 25)  # not square: rows and columns kept apart
    cd = np.array([[-scale, 0.0], [0.0, scale]])
    img = np.asarray(draw_psf_model(kind, jnp.asarray(params), shape, s, cd))
    assert img.shape == shape
    assert img.sum() == pytest.approx(1.0, abs=1e-14)
    ref = reference_psf(kind, params, shape, s, scale)
    np.testing.assert_allclose(img, ref, rtol=0, atol=1e-9 * ref.max())


@pytest.mark.parametrize(("kind", "params"), CASES, ids=IDS)
def test_psf_models_have_their_analytic_fwhm(kind, params):
    fwhm = AIRY_FWHM * params[0] if kind is AiryPSF else params[0]
    s = 15  # PSF pixels of 1/15 arcsec: pixel integration broadens by < 0.1 %
    n = 15 * 9 + 1
    img = np.asarray(draw_psf_model(kind, jnp.asarray(params), (n, n), s, np.diag([-1.0, 1.0])))
    row = img[n // 2]
    x = (np.arange(n) - n // 2) / s
    core = (x >= 0) & (x < fwhm)  # inside the first dark ring of the Airy pattern
    half = row.max() / 2
    xr = np.interp(half, row[core][::-1], x[core][::-1])  # the descending side
    assert 2 * xr == pytest.approx(fwhm, rel=2e-3)


def test_airy_first_dark_ring_is_at_1_22_lambda_over_d():
    lod = 2.0
    s = 15
    n = 2 * 60 + 1  # out to 4 arcsec: past the first dark ring at 2.44
    img = np.asarray(draw_psf_model(AiryPSF, jnp.asarray([lod]), (n, n), s, np.eye(2)))
    row = img[n // 2, n // 2 :]
    x = np.arange(row.size) / s
    first_min = x[np.argmin(np.where(x < 1.6 * lod, row, np.inf))]
    assert abs(first_min - 1.21967 * lod) <= 1.0 / s
    assert row[np.argmin(np.abs(x - 1.21967 * lod))] < 5e-4 * row[0]


# ------------------------------------------------------------------ Zernike PSF
def zernike(lod, obscuration=0.0, **z):
    kw = {f"z{j}": z.get(f"z{j}", 0.0) for j in range(4, 12)}
    return ZernikePSF(lambda_over_d=lod, obscuration=obscuration, **kw)


def draw(model, shape, s=1):
    p = jnp.asarray([v.value for v in model.params().values()])
    fn = jax.jit(lambda p: draw_psf_model(type(model), p, shape, s, np.eye(2)))
    return np.asarray(fn(p))


def test_zernike_psf_without_aberrations_is_the_airy_pattern():
    lod = 1.7
    a = draw(zernike(lod), (31, 31))
    b = draw(AiryPSF(lambda_over_d=lod), (31, 31))
    assert np.abs(a - b).max() < 5e-4 * b.max()  # measured 3.2e-4 (128 pupil samples)


def test_zernike_defocus_lowers_the_peak_by_the_strehl_ratio():
    # W = a sqrt(3) (2 rho^2 - 1): <exp(2 pi i W)> over the disk is sin(x) / x,
    # x = 2 pi a sqrt(3); the on-axis intensity falls by its square
    a, lod, s = 0.06, 1.5, 9
    n = 9 * 17 + 1  # 17 arcsec = 11 lambda / D across, in pixels of 1/9 arcsec
    ref = draw(zernike(lod), (n, n), s)
    dfc = draw(zernike(lod, z4=a), (n, n), s)
    x = 2 * np.pi * a * np.sqrt(3)
    strehl = dfc[n // 2, n // 2] / ref[n // 2, n // 2]
    assert strehl == pytest.approx((np.sin(x) / x) ** 2, rel=5e-3)


def test_zernike_sign_flip_is_a_half_turn():
    # a real, centro-symmetric aperture: W -> -W turns the PSF by 180 degrees
    rng = np.random.default_rng(3)
    z = {f"z{j}": float(v) for j, v in zip(range(4, 12), rng.normal(0, 0.08, 8), strict=True)}
    a = draw(zernike(1.4, 0.3, **z), (25, 25))
    b = draw(zernike(1.4, 0.3, **{k: -v for k, v in z.items()}), (25, 25))
    np.testing.assert_allclose(b, a[::-1, ::-1], rtol=0, atol=1e-12 * a.max())
    assert np.abs(a - a[::-1, ::-1]).max() > 1e-3 * a.max()  # coma, trefoil: asymmetric


def test_psf_image_equals_the_drawn_psf():
    img = sf.Image(np.zeros((10, 10)), pixel_scale=0.5, psf=np.ones((15, 15)))
    psf = psf_image(MoffatPSF(fwhm=2.0, beta=3.0), img)
    np.testing.assert_allclose(
        psf.image, reference_psf(MoffatPSF, (2.0, 3.0), (15, 15), 1, 0.5), atol=1e-10
    )


# ------------------------------------------------------- derivatives of the PSF
ZERNIKE = dict(zernike(1.6, z4=0.05, z5=-0.03, z8=0.04, z11=0.02).params())
ZERNIKE["obscuration"] = sf.Param(0.2, fixed=True)  # piecewise-linear edge: kept fixed
MIXTURE = dict(sigma_1=0.5, q_1=0.7, pa_1=25.0, sigma_2=1.3, q_2=0.85, pa_2=-40.0, w_2=0.35)
JAC_CASES = [
    *(kind(name="psf", **dict(zip(kind.param_names(), p, strict=True))) for kind, p in CASES),
    ZernikePSF(name="psf", **ZERNIKE),
]


@pytest.mark.parametrize(
    "psf",
    [*JAC_CASES, mixture_psf(2)(name="psf", **MIXTURE)],
    ids=[*IDS, "zernike_psf", "mixture_psf2"],
)
def test_drawn_psf_derivatives_match_finite_differences(psf):
    kind = type(psf)
    names = [n for n, p in psf.params().items() if not p.fixed]
    p0 = np.array([p.value for p in psf.params().values()])
    cd = np.array([[-0.8, 0.0], [0.0, 0.8]])

    draw_at = jax.jit(lambda p: draw_psf_model(kind, p, (17, 17), 1, cd))
    jac = np.asarray(jax.jit(jax.jacfwd(draw_at))(jnp.asarray(p0)))  # (17, 17, P)
    for name in names:
        j = kind.param_names().index(name)
        h = 1e-4 * max(abs(p0[j]), 0.05)

        def central(step, j=j):
            up, dn = p0.copy(), p0.copy()
            up[j] += step
            dn[j] -= step
            return (np.asarray(draw_at(up)) - np.asarray(draw_at(dn))) / (2 * step)

        fd = (4 * central(h / 2) - central(h)) / 3
        col = jac[..., j]
        assert np.abs(col).max() > 0, name
        np.testing.assert_allclose(col, fd, rtol=0, atol=1e-7 * np.abs(col).max(), err_msg=name)


# ------------------------------------------------------------------- scenes
def field(psf=None, extra=()):
    comps = [
        sf.Sersic(name="gal", x=1.3, y=-0.7, flux=800.0, r_e=3.0, n=1.5, q=0.6, pa=30.0),
        sf.PointSource(name="s1", x=-9.2, y=6.4, flux=400.0),
        sf.PointSource(name="s2", x=8.6, y=9.1, flux=250.0),
        sf.FlatSky(name="sky", sky=2.0),
    ]
    if psf is not None:
        comps.append(psf)
    return sf.Scene(comps + list(extra))


# ---------------------------------------------------------------------- errors
def test_two_psf_models_are_refused():
    scene = field(MoffatPSF(name="a", fwhm=2, beta=3), extra=[GaussianPSF(name="b", fwhm=2)])
    with pytest.raises(ValueError, match="at most one PSF model.*a, b"):
        sf.render(scene, sf.Image(np.zeros((20, 20))))


def test_mixture_profiles_with_a_psf_model_are_refused():
    gm = SersicGM(name="g", x=0, y=0, flux=1, r_e=2, n=1, q=1, pa=0)
    scene = sf.Scene([gm, MoffatPSF(name="psf", fwhm=2, beta=3)])
    with pytest.raises(ValueError, match="Gaussian-mixture"):
        sf.render(scene, sf.Image(np.zeros((20, 20)), psf=np.ones((5, 5))))


def test_live_psf_disables_banded_jacobians_and_iterative_fits():
    scene = sf.Scene([sf.FlatSky(sky=0.0), GaussianPSF(name="psf", fwhm=2.0)])
    image = sf.Image(np.zeros((16, 16)), sigma=1.0)
    layout, _, _ = build_layout(scene)
    assert not band_rows_supported(layout, image_spec(image), FAST)
    with pytest.raises(ValueError, match="PSF model"):
        fit_iterative(scene, image)


def test_config_reads_a_psf_model(tmp_path):
    from scenefit.io.config import load_config

    np.save(tmp_path / "img.npy", np.ones((20, 20)))
    (tmp_path / "c.yaml").write_text(
        "images: [{data: img.npy, sigma: 0.1}]\n"
        "sources:\n"
        "  - {type: point, x: 0, y: 0, flux: 10}\n"
        "  - {type: moffat_psf, name: psf, fwhm: {value: 3, lo: 1, hi: 8}, beta: 3}\n"
    )
    psf = load_config(tmp_path / "c.yaml").scene["psf"]
    assert isinstance(psf, MoffatPSF)
    assert (psf.fwhm.value, psf.fwhm.lo, psf.fwhm.hi, psf.beta.value) == (3.0, 1.0, 8.0, 3.0)


def test_config_refuses_two_psf_models(tmp_path):
    from scenefit.io.config import load_config

    np.save(tmp_path / "img.npy", np.ones((20, 20)))
    (tmp_path / "c.yaml").write_text(
        "images: [{data: img.npy, sigma: 0.1}]\n"
        "sources: [{type: gaussian_psf, fwhm: 2}, {type: airy_psf, lambda_over_d: 1}]\n"
    )
    with pytest.raises(ValueError, match="at most one PSF model"):
        load_config(tmp_path / "c.yaml")
