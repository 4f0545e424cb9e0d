"""PSF models with free parameters ("live" PSFs, docs/psf_models.md).

* J1 (for the Airy pattern) against SciPy;
* each PSF model drawn on its grid sums to 1 and equals an independent pixel
  integration of its analytic law (NumPy/SciPy, a 24-point rule), and has the analytic
  FWHM (Gaussian, Moffat) or first dark ring at 1.2197 lambda/D (Airy);
* rendering a scene with a MoffatPSF component equals rendering it with the same
  Moffat as a fixed PixelPSF (image PSF grid, the default grid, an oversampled grid);
* the Jacobian columns of the PSF parameters match central finite differences, and
  the whole Jacobian matches jax.jacfwd of the renderer;
* injection and recovery: a field of stars and a galaxy sharing a free Moffat PSF;
* the documented errors.
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
from scenefit.models import AiryPSF, GaussianPSF, MoffatPSF, SersicGM, ZernikePSF
from scenefit.models._bessel import JOIN, j1_over_x
from scenefit.models.psf_models import AIRY_FWHM
from scenefit.render import (
    DEFAULT_PSF_SHAPE,
    RenderSettings,
    draw_psf_model,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
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
    mine = np.asarray(j1_over_x(jnp.asarray(x))) * x
    np.testing.assert_allclose(mine, special.j1(x), rtol=0, atol=5e-12)
    assert float(j1_over_x(0.0)) == 0.5
    grad = jax.vmap(jax.grad(j1_over_x))(jnp.asarray(x[1:]))
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


def draw(model, shape, s=1, cd=None):
    p = jnp.asarray([v.value for v in model.params().values()])
    return np.asarray(draw_psf_model(type(model), p, shape, s, np.eye(2) if cd is None else cd))


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


# ---------------------------------------------------------- live vs fixed PSF
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


@pytest.mark.parametrize(
    ("psf_shape", "s"),
    [
        ((25, 25), 1),
        (None, 1),
        pytest.param((31, 31), 2, marks=pytest.mark.slow),  # oversampled: ~6 s, opt-in
    ],
    ids=["image-grid", "default-grid", "oversampled"],
)
def test_moffat_psf_component_renders_like_the_same_fixed_pixel_psf(psf_shape, s):
    fwhm, beta, scale = 2.4, 3.2, 0.7
    grid = DEFAULT_PSF_SHAPE if psf_shape is None else psf_shape
    fixed = reference_psf(MoffatPSF, (fwhm, beta), grid, s, scale)
    placeholder = None if psf_shape is None else np.ones(psf_shape)  # values ignored
    live_img = sf.Image(np.zeros((40, 44)), pixel_scale=scale, psf=placeholder, psf_oversampling=s)
    fixed_img = sf.Image(np.zeros((40, 44)), pixel_scale=scale, psf=fixed, psf_oversampling=s)
    live = sf.render(field(MoffatPSF(name="psf", fwhm=fwhm, beta=beta)), live_img, FAST)
    ref = sf.render(field(), fixed_img, FAST)
    np.testing.assert_allclose(live, ref, rtol=0, atol=1e-9 * ref.max())
    other = sf.render(field(MoffatPSF(name="psf", fwhm=1.2 * fwhm, beta=beta)), live_img, FAST)
    assert np.abs(other - ref).max() > 1e-2 * ref.max()  # the parameters do act


def test_psf_image_equals_the_drawn_psf():
    img = sf.Image(np.zeros((10, 10)), pixel_scale=0.5, psf=np.ones((15, 15)))
    psf = psf_image(MoffatPSF(fwhm=2.0, beta=3.0), img)
    np.testing.assert_allclose(
        psf.image, reference_psf(MoffatPSF, (2.0, 3.0), (15, 15), 1, 0.5), atol=1e-10
    )


# ------------------------------------------------------------------- Jacobian
ZERNIKE = dict(zernike(1.6, z4=0.05, z5=-0.03, z8=0.04, z11=0.02).params())
ZERNIKE["obscuration"] = sf.Param(0.2, fixed=True)  # piecewise-linear edge: kept fixed
JAC_CASES = [
    *(kind(name="psf", **dict(zip(kind.param_names(), p, strict=True))) for kind, p in CASES),
    ZernikePSF(name="psf", **ZERNIKE),
]


# the Gaussian and Airy laws take the Moffat's code path: opt-in (-m slow), ~10 s each
_SLOW_JAC = {"gaussian_psf", "airy_psf"}


@pytest.mark.parametrize(
    "psf",
    [
        pytest.param(c, marks=[pytest.mark.slow] if c.TYPE_NAME in _SLOW_JAC else [])
        for c in JAC_CASES
    ],
    ids=[*IDS, "zernike_psf"],
)
def test_psf_jacobian_columns_match_finite_differences(psf):
    moffat = isinstance(psf, MoffatPSF)  # the whole Jacobian once (jacfwd compiles slowly)
    scene = field(psf)
    if not moffat:  # the sources' columns are checked with the Moffat
        scene = sf.Scene([c if c.name == "psf" else _fixed(c) for c in scene.components])
    image = sf.Image(np.zeros((30, 30)), pixel_scale=0.8, psf=np.ones((17, 17)))
    layout, vals, x0 = build_layout(scene)
    spec, inputs = image_spec(image), image_inputs(image, layout)
    render = jax.jit(make_renderer(layout, spec, FAST))
    both = jax.jit(make_model_and_jacobian(layout, spec, FAST))
    base = jnp.asarray(vals.base)
    model, jac = both(base, inputs)
    np.testing.assert_allclose(model, render(base, inputs), rtol=0, atol=1e-12 * model.max())

    def at(x):
        return render(layout.expand(x, base), inputs)

    if moffat:
        full = np.moveaxis(np.asarray(jax.jacfwd(at)(jnp.asarray(x0))), -1, 0)
        np.testing.assert_allclose(jac, full, rtol=0, atol=1e-9 * np.abs(full).max())
    for j, a in enumerate(layout.free_addresses):
        if not a.startswith("psf."):
            continue
        h = 1e-4 * max(abs(x0[j]), 0.05)  # Zernike terms start at 0

        def central(step, j=j):
            up, dn = x0.copy(), x0.copy()
            up[j] += step
            dn[j] -= step
            return (np.asarray(at(jnp.asarray(up))) - np.asarray(at(jnp.asarray(dn)))) / (2 * step)

        fd = (4 * central(h / 2) - central(h)) / 3
        col = np.asarray(jac[j])
        assert np.abs(col).max() > 0, a
        np.testing.assert_allclose(col, fd, rtol=0, atol=1e-7 * np.abs(col).max(), err_msg=a)


def _fixed(comp):
    return comp.replace(**{k: sf.Param(p.value, fixed=True) for k, p in comp.params().items()})


# --------------------------------------------------------- injection-recovery
def test_stars_and_a_galaxy_sharing_a_free_moffat_psf_are_recovered():
    rng = np.random.default_rng(7)
    truth_psf = {"fwhm": 3.2, "beta": 2.8}
    stars = [
        sf.PointSource(name=f"star{i}", x=float(x), y=float(y), flux=float(f))
        for i, (x, y, f) in enumerate(
            zip(
                rng.uniform(-24, 24, 6),
                rng.uniform(-24, 24, 6),
                rng.uniform(300, 900, 6),
                strict=True,
            )
        )
    ]
    gal = sf.Sersic(name="gal", x=0.6, y=-1.1, flux=3000.0, r_e=4.0, n=1.2, q=0.65, pa=35.0)
    sky = sf.FlatSky(name="sky", sky=1.0)
    truth = sf.Scene([gal, *stars, sky, MoffatPSF(name="psf", **truth_psf)])
    blank = sf.Image(np.zeros((64, 64)))  # no PSF of its own: the default 31 x 31 grid
    noise = 0.5
    data = sf.render(truth, blank, FAST) + rng.normal(0, noise, (64, 64))
    image = sf.Image(data, sigma=noise)

    start = truth.replace_component("psf", MoffatPSF(fwhm=4.2, beta=4.5))
    start = start.replace_component("gal", gal.replace(r_e=5.0, n=2.0, flux=2500.0))
    res = sf.fit(start, image, settings=FAST)
    assert res.converged, res.message
    assert res.reduced_chi2 == pytest.approx(1.0, abs=0.1)
    for p, v in truth_psf.items():
        err = res.error(f"psf.{p}")
        assert np.isfinite(err) and err > 0
        assert abs(res.value(f"psf.{p}") - v) < 3.5 * err, (p, res.value(f"psf.{p}"), err)
    for a in ("gal.r_e", "gal.n", "gal.flux"):
        assert abs(res.value(a) - truth.param(a).value) < 3.5 * res.error(a), a


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
