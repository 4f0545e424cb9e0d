"""Sky grids (scenefit.models.sky_grid): interpolation, linearity, bands, initialiser,
YAML, and a fit of a smooth sky under a galaxy."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.initialize import grid_sky_start
from scenefit.io import model_class
from scenefit.io.config import load_config
from scenefit.models import SkyGrid3x3, SkyGrid4x4Bicubic, sky_grid
from scenefit.render import RenderSettings, image_inputs, image_spec
from scenefit.render.renderer import make_band_model_and_jacobian, make_model_and_jacobian

SHAPE = (30, 41)


def offsets(shape=SHAPE):
    h, w = shape
    dx, dy = np.meshgrid(np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2)
    return jnp.asarray(dx), jnp.asarray(dy)


@pytest.mark.parametrize("kind", ["bilinear", "bicubic"])
def test_nodes_planes_and_linearity(kind):
    cls = sky_grid(4, 5, kind)
    dx, dy = offsets()
    rng = np.random.default_rng(0)
    p1, p2 = rng.normal(size=(1, 20)), rng.normal(size=(1, 20))
    e1, e2 = cls.evaluate(p1, dx, dy), cls.evaluate(p2, dx, dy)
    np.testing.assert_allclose(cls.evaluate(2 * p1 - 3 * p2, dx, dy), 2 * e1 - 3 * e2, atol=1e-12)
    # K components add
    np.testing.assert_allclose(cls.evaluate(np.concatenate([p1, p2]), dx, dy), e1 + e2, atol=1e-12)
    # the node values are taken at the nodes (here on pixel centres: 41 = 4 * 10 + 1)
    cols = np.linspace(0, SHAPE[1] - 1, 5).astype(int)
    nodes = np.asarray(e1)[np.ix_([0, SHAPE[0] - 1], cols)]
    np.testing.assert_allclose(nodes, p1.reshape(4, 5)[[0, 3]], atol=1e-12)
    # a tilted plane sampled at the nodes is reproduced everywhere
    ncol, nrow = np.meshgrid(np.linspace(-20, 20, 5), np.linspace(-14.5, 14.5, 4))
    plane = (3.0 + 0.02 * ncol - 0.05 * nrow).reshape(1, -1)
    np.testing.assert_allclose(cls.evaluate(plane, dx, dy), 3.0 + 0.02 * dx - 0.05 * dy, atol=1e-12)


def test_bicubic_interpolates_smooth_skies_better():
    dx, dy = offsets()
    true = np.cos(np.pi * dx / 40.0) * (1 + 0.01 * dy)
    errs = {}
    for kind in ("bilinear", "bicubic"):
        ncol, nrow = np.meshgrid(np.linspace(-20, 20, 6), np.linspace(-14.5, 14.5, 3))
        nodes = (np.cos(np.pi * ncol / 40.0) * (1 + 0.01 * nrow)).reshape(1, -1)
        model = np.asarray(sky_grid(3, 6, kind).evaluate(nodes, dx, dy))
        errs[kind] = np.abs(model - true).max()
    assert errs["bicubic"] < errs["bilinear"] / 3, errs


def test_names_and_bad_sizes():
    assert model_class("sky_grid3x3") is SkyGrid3x3
    assert model_class("SKY_GRID4x4_bicubic") is SkyGrid4x4Bicubic
    assert model_class("sky_grid2x7").param_names()[-1] == "s_1_6"
    with pytest.raises(ValueError, match="integer nx in 2..32"):
        sky_grid(3, 1)
    with pytest.raises(ValueError, match="unknown sky-grid kind"):
        sky_grid(3, 3, "cubic")


@pytest.mark.parametrize("kind", ["bilinear", "bicubic"])
def test_bands_of_rows_equal_the_whole_image(kind):
    comps = [
        sf.Gaussian(name="g", x=1.0, y=2.0, flux=50.0, sigma=2.0, q=0.7, pa=20.0),
        sky_grid(3, 4, kind)(
            name="sky",
            **{
                f"s_{i}_{j}": 1.0 + 0.1 * i - 0.2 * j + 0.05 * i * j
                for i in range(3)
                for j in range(4)
            },
        ),
    ]
    scene = sf.Scene(comps)
    img = sf.Image(np.zeros((23, 17)))
    layout, vals, _ = build_layout(scene)
    settings = RenderSettings.fast()
    inputs = image_inputs(img)
    p = jnp.asarray(vals.base)
    model, jac = jax.jit(make_model_and_jacobian(layout, image_spec(img), settings))(p, inputs)
    band = jax.jit(make_band_model_and_jacobian(layout, image_spec(img), settings, 7))
    for row0 in (0, 7, 14):
        m, j = band(p, inputs, row0)
        rows = slice(row0, min(row0 + 7, 23))
        n = rows.stop - rows.start
        np.testing.assert_allclose(m[:n], model[rows], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(j[:, :n], jac[:, rows], rtol=1e-12, atol=1e-12)
    # the sky's derivative images are the interpolation basis: render with unit nodes
    sky_cols = [i for i, a in enumerate(layout.free_addresses) if a.startswith("sky.")]
    unit = {f"s_{i}_{j}": float(i == 1 and j == 2) for i in range(3) for j in range(4)}
    basis = sf.render(sf.Scene([sky_grid(3, 4, kind)(**unit)]), img)
    np.testing.assert_allclose(jac[sky_cols[6]], basis, atol=1e-12)


def test_initial_grid_follows_a_gradient_under_a_galaxy():
    h, w = 48, 64
    yy, xx = np.mgrid[0:h, 0:w]
    sky = 2.0 + 0.01 * xx - 0.02 * yy
    gal = sf.render(
        sf.Scene([sf.Exponential(x=0, y=0, flux=300.0, h=4.0, q=0.6, pa=30)]),
        sf.Image(np.zeros((h, w))),
    )
    rng = np.random.default_rng(5)
    img = sf.Image(sky + gal + rng.normal(0, 0.02, (h, w)), sigma=0.02)
    grid = grid_sky_start(img, 3, 3)
    cols, rows = np.linspace(0, w - 1, 3), np.linspace(0, h - 1, 3)
    truth = 2.0 + 0.01 * cols[None, :] - 0.02 * rows[:, None]
    assert np.abs(grid - truth).max() < 0.03  # 1.5 noise sigma; the galaxy is masked


def smooth_sky(shape, curved):
    """A gradient sky with a twist term (bilinear: a 3 x 3 bilinear grid holds it
    exactly) and, if ``curved``, a dy^2 term that no grid holds exactly."""
    h, w = shape
    dx, dy = np.meshgrid(np.arange(w) - (w - 1) / 2, np.arange(h) - (h - 1) / 2)
    return 1.5 + 0.012 * dx - 0.008 * dy + 4e-4 * dx * dy + (2e-4 * dy**2 if curved else 0.0)


@pytest.mark.parametrize(
    "cls, curved",
    [(SkyGrid3x3, False), (SkyGrid4x4Bicubic, True)],
    ids=["sky_grid3x3-bilinear_sky", "sky_grid4x4_bicubic-curved_sky"],
)
def test_fit_recovers_a_galaxy_over_a_smooth_gradient_sky(cls, curved):
    """The bicubic 4 x 4 grid follows the curved sky closely enough for unbiased galaxy
    parameters. (A 3 x 3 bilinear grid does not: on the curved sky, whose dy^2 term
    reaches 0.11 = 5.5 noise sigma at the edges, it biased the flux by 5.4 sigma.)"""
    shape = (48, 48)
    truth = dict(x=0.8, y=-0.4, flux=250.0, h=3.0, q=0.6, pa=40.0)
    blank = sf.Image(np.zeros(shape))
    fast = RenderSettings.fast()
    gal = sf.render(sf.Scene([sf.Exponential(**truth)]), blank, fast)
    noise = 0.02
    sky = smooth_sky(shape, curved)
    rng = np.random.default_rng(21)
    img = sf.Image(gal + sky + rng.normal(0, noise, shape), sigma=noise)
    start = sf.initialize(sf.Scene([sf.Exponential(name="gal"), cls(name="sky")]), img)
    res = sf.fit(start, img, settings=fast)
    assert res.converged, res.message
    pulls = {p: (res.value(f"gal.{p}") - v) / res.error(f"gal.{p}") for p, v in truth.items()}
    assert max(abs(v) for v in pulls.values()) < 3.5, pulls
    fitted_sky = sf.render(sf.Scene([res.scene["sky"]]), blank)
    # within 2 noise sigma everywhere, and the chi^2 of the fit is that of pure noise
    assert np.abs(fitted_sky - sky).max() < 2 * noise
    assert abs(res.objective / res.dof - 1.0) < 5 * np.sqrt(2.0 / res.dof)


def test_yaml_config_with_a_sky_grid(tmp_path):
    shape = (40, 40)
    yy, xx = np.mgrid[0 : shape[0], 0 : shape[1]]
    rng = np.random.default_rng(2)
    np.save(tmp_path / "img.npy", 3.0 + 0.01 * xx + rng.normal(0, 0.05, shape))
    (tmp_path / "c.yaml").write_text(
        "images: [{data: img.npy, sigma: 0.05}]\n"
        "sources:\n"
        "  - {type: sky_grid2x3_bicubic, name: bg, s_0_0: 3.0, s_1_2: {value: 3.4, lo: 0, hi: 9}}\n"
    )
    cfg = load_config(tmp_path / "c.yaml")
    bg = cfg.scene["bg"]
    assert type(bg) is sky_grid(2, 3, "bicubic")
    assert bg.s_0_0.value == 3.0 and (bg.s_1_2.lo, bg.s_1_2.hi) == (0.0, 9.0)
    filled = sf.initialize(cfg.scene, cfg.image)["bg"]
    assert filled.s_0_0.value == 3.0  # given: kept
    assert filled.s_0_2.value == pytest.approx(3.39, abs=0.03)  # 3 + 0.01 * 39
