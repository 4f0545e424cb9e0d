"""Isophote twist (scenefit.models.twist): orientation of the isophotes, area
preservation, names. The shared contracts (rendered flux against direct polar
integration, gradients, symmetries, injection-recovery) run on ``SersicTwist`` in
tests/test_model_contracts.py."""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

from scenefit.io import model_class
from scenefit.models import TWIST, Exponential, SersicTwist, truncated, twisted


@pytest.mark.parametrize("s", [0.5, 3.0, 30.0])
def test_isophotes_turn_by_the_stated_angle(s):
    """On a circle of radius s the law radius is smallest along the major axis: its PA
    is pa + twist s^2 / (s^2 + r_twist^2)."""
    pa, twist, r_t, q = 25.0, 60.0, 3.0, 0.5
    theta = np.linspace(0.0, 180.0, 360001)  # PA of the direction, east of north
    t = np.deg2rad(theta)
    r = np.asarray(TWIST.radius(s * np.sin(t), s * np.cos(t), q, pa, jnp.array([twist, r_t])))
    assert theta[np.argmin(r)] == pytest.approx(pa + twist * s**2 / (s**2 + r_t**2), abs=1e-3)
    assert r.min() == pytest.approx(s, rel=1e-9)  # along the major axis r = s (grid: 5e-4 deg)
    assert r.max() == pytest.approx(s / q, rel=1e-8)


def test_area_is_preserved():
    """The light inside a radius does not depend on the twist (the map is a rotation on
    every circle): a Monte-Carlo-free check on a polar grid."""
    s = np.linspace(0.05, 20.0, 400)[:, None]
    phi = np.linspace(0.0, 2 * np.pi, 720, endpoint=False)[None, :]
    dxi, deta = s * np.cos(phi), s * np.sin(phi)
    law = jnp.array([3.0])

    def light(g):
        r = TWIST.radius(dxi, deta, 0.6, 10.0, jnp.asarray(g))
        return float(jnp.sum(Exponential.radial(r, law) * s))

    assert light([70.0, 2.0]) == pytest.approx(light([0.0, 2.0]), rel=1e-12)
    assert float(SersicTwist.total(jnp.array([2.0, 1.5, 70.0, 2.0]))) == pytest.approx(
        float(SersicTwist.LAW.total(jnp.array([2.0, 1.5]))), rel=1e-15
    )


def test_names_and_composition():
    assert model_class("sersic_twist") is SersicTwist
    assert model_class("Exponential_Twist") is twisted(Exponential)
    assert model_class("exponential_trunc_twist") is twisted(truncated(Exponential))
    assert SersicTwist.param_names()[3:] == ("r_e", "n", "twist", "r_twist", "q", "pa")
    assert TWIST.homogeneous is False
    with pytest.raises(ValueError, match="unknown model type"):
        model_class("sersic_genellipse_twist")
