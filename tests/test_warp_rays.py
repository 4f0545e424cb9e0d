"""Warp (scenefit.models.warp), rays and wedges (scenefit.models.rays): isophote
shapes, weights, totals, names. The shared contracts (rendered flux against
independent numpy integrations, gradients, symmetries, injection-recovery) run on
``SersicWarp3``, ``SersicRays2`` and ``ExponentialWedges2`` in
tests/test_model_contracts.py."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from geometry_reference import ray_weight
from scenefit.io import model_class
from scenefit.models import (
    Exponential,
    Moffat,
    Sersic,
    SersicRays2,
    SersicWarp3,
    Warp,
    gen_ellipse,
    rays,
    truncated,
    warped,
    wedges,
)
from scenefit.models.rays import WEDGE_EDGE, angular_weights

G = jnp.array([1.0, 5.0, 30.0, 50.0, -0.3, -0.6])  # r_w0, r_w1, dpa_1, dpa_2, lnq_1, lnq_2


@pytest.mark.parametrize("r", [0.5, 2.2, 4.0, 12.0])
def test_warp_isophote_is_the_stated_ellipse(r):
    """Points on the ellipse of semi-major axis r, PA(r), q(r) get law radius r."""
    w = Warp(3)
    q, pa = 0.7, 20.0
    dpa, lnq = (float(v) for v in w.warp(jnp.array(r), G))
    t = np.linspace(0, 2 * np.pi, 37)
    th = np.deg2rad(pa + dpa)
    a, b = r * np.cos(t), q * np.exp(lnq) * r * np.sin(t)  # along the axes of PA(r)
    dxi, deta = a * np.sin(th) + b * np.cos(th), a * np.cos(th) - b * np.sin(th)
    got = np.asarray(w.radius(jnp.asarray(dxi), jnp.asarray(deta), q, pa, G))
    np.testing.assert_allclose(got, r, rtol=1e-12)


def test_warp_node_values_and_total():
    w = Warp(3)
    for k, rk in enumerate([1.0, np.sqrt(5.0), 5.0]):
        dpa, lnq = (float(v) for v in w.warp(jnp.array(rk), G))
        assert dpa == pytest.approx([0.0, 30.0, 50.0][k], abs=1e-9)
        assert lnq == pytest.approx([0.0, -0.3, -0.6][k], abs=1e-9)
    # total = pi int I d(r^2 q(r)) / q, by scipy on the spline's own values
    law = jnp.array([2.0, 1.5])

    def integrand(r):
        eps = 1e-6 * r
        m = [float(np.exp(w.warp(jnp.array(x), G)[1])) for x in (r - eps, r + eps)]
        d = ((r + eps) ** 2 * m[1] - (r - eps) ** 2 * m[0]) / (2 * eps)
        return np.pi * float(Sersic.radial(jnp.array(r), law)) * d

    pts = [1e-8, 1.0, np.sqrt(5.0), 5.0, 20.0, 200.0]
    ref = sum(
        quad(integrand, a, b, epsabs=0, epsrel=1e-10, limit=200)[0]
        for a, b in zip(pts[:-1], pts[1:], strict=True)
    )
    assert float(SersicWarp3.total(jnp.concatenate([law, G]))) == pytest.approx(ref, rel=1e-7)
    # no q warp: the law's own total, whatever the PA warp
    g0 = G.at[4:].set(0.0)
    assert float(SersicWarp3.total(jnp.concatenate([law, g0]))) == pytest.approx(
        float(Sersic.total(law)), rel=1e-10
    )


@pytest.mark.parametrize("n, edge", [(2, 1.0), (3, 1.0), (5, WEDGE_EDGE), (2, WEDGE_EDGE)])
def test_weights_partition_unity_and_match_the_formula(n, edge):
    theta = np.linspace(0, 2 * np.pi, 1001)
    w = np.asarray(angular_weights(jnp.cos(2 * theta), jnp.sin(2 * theta), n, edge))
    np.testing.assert_allclose(w.sum(-1), 1.0, atol=1e-13)
    ref = np.stack([ray_weight(theta, k, n, edge) for k in range(n)], -1)
    np.testing.assert_allclose(w, ref, atol=1e-12)
    if n == 2 and edge == 1.0:  # cos^2 / sin^2 blending
        np.testing.assert_allclose(w[:, 0], np.cos(theta) ** 2, atol=1e-12)


def test_ray_total_is_the_mean_of_the_rays():
    law = jnp.array([2.0, 1.5, 3.0, 3.0, 0.6])  # r_e_0, n_0, r_e_1, n_1, amp_1
    want = 0.5 * (Sersic.total(law[:2]) + 0.6 * Sersic.total(law[2:4]))
    assert float(SersicRays2.total(law)) == pytest.approx(float(want), rel=1e-14)


def test_names_and_composition():
    assert model_class("sersic_warp3") is SersicWarp3
    assert model_class("exponential_trunc_warp2") is warped(truncated(Exponential), 2)
    assert model_class("sersic_rays2") is SersicRays2
    assert model_class("Moffat_Rays3") is rays(Moffat, 3)
    assert model_class("exponential_wedges4") is wedges(Exponential, 4)
    assert rays(Sersic, 3).param_names()[3:9] == ("r_e_0", "n_0", "r_e_1", "n_1", "r_e_2", "n_2")
    with pytest.raises(TypeError, match="blends several laws"):
        gen_ellipse(SersicRays2)
    with pytest.raises(ValueError, match="2..16"):
        rays(Sersic, 1)
    with pytest.raises(ValueError, match="2..12"):
        Warp(1)
    with pytest.raises(ValueError, match="unknown model type"):
        model_class("sersic_genellipse_rays2")


def test_initialiser_starts_every_ray_as_the_plain_law():
    import scenefit as sf
    from scenefit.initialize import initialize

    yy, xx = np.mgrid[:40, :40]
    noise = np.random.default_rng(0).normal(0, 0.01, (40, 40))
    img = sf.Image(np.exp(-np.hypot(xx - 20, yy - 19) / 3) + noise, sigma=0.01)
    plain = initialize(sf.Scene([Sersic(name="g")]), img).components[0]
    ray = initialize(sf.Scene([SersicRays2(name="g")]), img).components[0]
    for k in (0, 1):
        assert getattr(ray, f"r_e_{k}").value == pytest.approx(plain.r_e.value)
        assert getattr(ray, f"n_{k}").value == pytest.approx(plain.n.value)
    assert ray.amp_1.value == 1.0
    warp = initialize(sf.Scene([SersicWarp3(name="g")]), img).components[0]
    assert warp.r_w1.value == pytest.approx(6 * warp.r_w0.value)
    assert warp.dpa_2.value == 0.0 and warp.lnq_2.value == 0.0
