"""Edge-on disk (Imfit's EdgeOnDisk): K1 against scipy, the analytic total against
numerical integrals, Imfit's surface-brightness convention, the initialiser.

The shared contracts (rendered flux, gradients, PA + 180, injection-recovery) are in
tests/test_model_contracts.py.
"""

from __future__ import annotations

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import k0 as scipy_k0
from scipy.special import k1 as scipy_k1

import scenefit as sf
from scenefit.io import model_class
from scenefit.io.imfit_config import flux_factor, parse_imfit_config
from scenefit.models import EdgeOnDisk, truncated, with_geometry
from scenefit.models._bessel_k1 import k1, x_k1
from scenefit.models.edge_on_disk import vertical_integral
from scenefit.models.genellipse import GEN_ELLIPSE


def test_k1_matches_scipy_over_the_whole_range():
    x = np.geomspace(1e-6, 700.0, 20000)
    mine = np.asarray(k1(jnp.asarray(x)))
    ref = scipy_k1(x)
    assert np.max(np.abs(mine / ref - 1.0)) < 1e-13
    # either side of the join at x = 2: no step beyond the slope, d(x K1)/dx = -x K0
    lo, hi = np.asarray(x_k1(jnp.array([2.0 - 1e-9, 2.0 + 1e-9])))
    assert abs(hi - lo - (-2.0 * scipy_k0(2.0)) * 2e-9) < 1e-14  # measured 4.8e-15


def test_k1_derivative_and_limits():
    x = jnp.asarray(np.geomspace(1e-4, 300.0, 500))
    d = np.asarray(jax.vmap(jax.grad(k1))(x))
    xn = np.asarray(x)
    ref = -scipy_k0(xn) - scipy_k1(xn) / xn  # K1' = -K0 - K1 / x
    assert np.max(np.abs(d / ref - 1.0)) < 1e-11
    assert float(x_k1(0.0)) == 1.0
    assert float(x_k1(1e300)) == 0.0
    g = np.asarray(jax.vmap(jax.grad(x_k1))(jnp.array([0.0, 1e-300, 1e8])))
    assert np.all(np.isfinite(g))


@pytest.mark.parametrize("n", [0.5, 1.0, 2.0, 10.0, 100.0])
def test_total_is_the_plane_integral(n):
    h, z0 = 2.7, 0.6
    law = jnp.array([h, n, z0])
    radial = 2 * quad(lambda a: (a / h) * scipy_k1(a / h), 0, np.inf, epsrel=1e-12)[0]

    def sech(z):
        y = n * z / (2 * z0)
        return math.exp(-(2 / n) * (y + math.log1p(math.exp(-2 * y)) - math.log(2)))

    vertical = 2 * quad(sech, 0, np.inf, epsrel=1e-12, limit=200)[0]
    assert radial == pytest.approx(math.pi * h, rel=1e-10)
    assert float(vertical_integral(n, z0)) == pytest.approx(vertical, rel=1e-10)
    assert float(EdgeOnDisk.total(law)) == pytest.approx(radial * vertical, rel=1e-10)
    grad = np.asarray(jax.grad(EdgeOnDisk.total)(law))
    assert np.all(np.isfinite(grad)) and grad[0] > 0 and grad[2] > 0


def test_limits_of_the_vertical_law():
    assert float(vertical_integral(1.0, 0.7)) == pytest.approx(4 * 0.7, rel=1e-12)  # sech^2
    assert float(vertical_integral(1e4, 0.7)) == pytest.approx(2 * 0.7, rel=1e-3)  # exp


def test_imfit_flux_factor_and_central_surface_brightness():
    """Imfit's L_0: mu(0, 0) = 2 h L_0; the plane integral of
    2 h L_0 (|r| / h) K1(|r| / h) sech^(2/n)(n |z| / (2 z_0)) is the flux."""
    vals = {"h": 6.0, "n": 2.0, "z_0": 1.5}
    radial = 2 * quad(lambda a: (a / 6.0) * scipy_k1(a / 6.0), 0, np.inf, epsrel=1e-12)[0]
    vertical = (
        2
        * quad(
            lambda z: 2 * np.exp(-z / 1.5) / (1 + np.exp(-2 * z / 1.5)), 0, np.inf, epsrel=1e-12
        )[0]
    )
    assert flux_factor("EdgeOnDisk", vals) == pytest.approx(2 * 6.0 * radial * vertical, 1e-10)

    text = "X0 16\nY0 17\nFUNCTION EdgeOnDisk\nPA 20 0,90\nL_0 0.5\nh 6 fixed\nn 2\nz_0 1.5\n"
    m = parse_imfit_config(text)
    img = sf.Image(np.zeros((32, 32)), pixel_scale=0.5)
    scene, _ = m.to_scene(img)
    c = scene["edge_on_disk"]
    assert (c.h.value, c.z0.value, c.n.value) == (3.0, 0.75, 2.0) and c.h.fixed
    assert (c.pa.lo, c.pa.hi) == (0.0, 90.0)
    # pixel-centre sampling: the centre pixel (row Y0 - 1, column X0 - 1) holds
    # mu(0, 0) = 2 h L_0 = 6 (h in pixels), image units per pixel
    model = sf.render(scene, img, sf.RenderSettings(quad_order=1, refine_size=0))
    assert model[16, 15] == pytest.approx(2 * 6.0 * 0.5, rel=1e-12)
    # the next column: pixel offset (1, 0); Imfit's major axis points along
    # (-sin PA, cos PA) in pixels, so |r| = sin 20 deg, |z| = cos 20 deg (pixels)
    t = math.radians(20.0)
    r, z = math.sin(t), math.cos(t)
    expect = 6.0 * (r / 6.0) * scipy_k1(r / 6.0) / math.cosh(z / 1.5)
    assert model[16, 16] == pytest.approx(expect, rel=1e-10)
    back = m.with_scene(scene, img)
    again = [p.value for p in back.functions[0].params]
    assert again == pytest.approx([20.0, 0.5, 6.0, 2.0, 1.5], rel=1e-12)


def test_not_a_radial_law():
    with pytest.raises(TypeError, match="two-dimensional law"):
        truncated(EdgeOnDisk)
    with pytest.raises(TypeError, match="two-dimensional law"):
        with_geometry(EdgeOnDisk, GEN_ELLIPSE)
    with pytest.raises(ValueError, match="unknown model type"):
        model_class("edge_on_disk_genellipse")
    assert model_class("Edge_On_Disk") is EdgeOnDisk
    assert EdgeOnDisk.param_names() == ("x", "y", "flux", "h", "n", "z0", "pa")


def test_initialiser_then_fit_recovers_a_disk():
    truth = dict(x=1.0, y=-0.5, flux=400.0, h=5.0, n=1.0, z0=1.2, pa=35.0)
    img0 = sf.Image(np.zeros((64, 64)))
    fast = sf.RenderSettings.fast()
    rng = np.random.default_rng(3)
    data = sf.render(sf.Scene([EdgeOnDisk(**truth)]), img0, fast) + rng.normal(0, 0.02, (64, 64))
    img = sf.Image(data, sigma=0.02)
    start = sf.initialize(sf.Scene([EdgeOnDisk(n=sf.Param(1.0, fixed=True))]), img)
    s = start["edge_on_disk"]
    assert s.h.value == pytest.approx(5.0, rel=0.3)
    assert s.z0.value == pytest.approx(1.2, rel=0.3)
    assert s.pa.value == pytest.approx(35.0, abs=3.0)
    assert s.flux.value == pytest.approx(400.0, rel=0.3)
    res = sf.fit(start, img, settings=fast)
    assert res.converged, res.message
    for p in ("x", "y", "flux", "h", "z0", "pa"):
        assert abs(res.value(f"edge_on_disk.{p}") - truth[p]) < 4 * res.error(f"edge_on_disk.{p}")
