"""Plane integrals ``total(law)`` of every radial law against scipy.integrate.quad.

Closed forms (Nuker, Ferrers, Gaussian ring, multi-Gaussian) and the fixed-order
quadratures (core-Sersic, broken exponential, modified King, spline) must both agree
with adaptive quadrature of 2 pi r radial(r) to 1e-6 relative, over parameter sets that
span the default bounds (sharp and soft breaks, steep cusps, extreme truncations).
The derivatives of the totals are checked against finite differences of the same.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad

from scenefit.models import (
    BrokenExponential,
    CoreSersic,
    Ferrers,
    GaussianRing,
    King,
    Nuker,
    multi_gaussian,
    spline_profile,
)
from scenefit.models.spline import spline_knots

CASES = [
    (Nuker, [2.0, 2.0, 3.5, 0.3]),
    (Nuker, [1.0, 0.5, 2.5, 1.5]),
    (Nuker, [3.0, 8.0, 6.0, 0.0]),
    (King, [1.5, 12.0, 2.0]),
    (King, [1.0, 100.0, 0.5]),
    (King, [2.0, 5.0, 6.0]),
    (King, [1.0, 3.0, 0.15]),
    (Ferrers, [10.0, 2.0, 0.5]),
    (Ferrers, [5.0, 0.3, -1.5]),
    (Ferrers, [5.0, 7.0, 1.8]),
    (GaussianRing, [6.0, 1.5]),
    (GaussianRing, [0.5, 2.0]),
    (BrokenExponential, [3.0, 1.5, 6.0, 1.0]),
    (BrokenExponential, [2.0, 5.0, 10.0, 50.0]),
    (BrokenExponential, [5.0, 1.0, 3.0, 0.05]),
    (BrokenExponential, [0.5, 4.0, 30.0, 3.0]),
    (CoreSersic, [3.0, 5.0, 1.5, 3.0, 0.2]),
    (CoreSersic, [8.0, 20.0, 0.5, 15.0, 1.2]),
    (CoreSersic, [0.5, 3.0, 1.0, 1.0, 0.0]),
    (CoreSersic, [1.0, 2.0, 3.0, 0.3, 0.5]),
    (CoreSersic, [10.0, 5.0, 0.1, 20.0, 1.7]),
    (multi_gaussian(3), [1.0, 2.0, 4.0, 0.5, 0.2]),
    (spline_profile(6), [0.5, 10.0, -0.3, -0.6, -1.3, -2.2, -5.0]),
    (spline_profile(6, "zero"), [0.5, 10.0, -0.3, -0.6, -1.3, -2.2, -5.0]),
    (spline_profile(8), [0.2, 30.0, 0.4, 0.1, -0.8, -2.0, -1.5, -4.0, -9.0]),
]
IDS = [f"{c.TYPE_NAME}-{i}" for i, (c, _) in enumerate(CASES)]


def breakpoints(cls, law):
    """Radii where the law changes character: its arcsec parameters and spline nodes."""
    pts = [float(v) for s, v in zip(cls.PARAMS[3:-2], law, strict=True) if s.unit == "arcsec"]
    if hasattr(cls, "N_NODES"):
        pts += [float(v) for v in np.asarray(spline_knots(jnp.asarray(law), cls.N_NODES))]
    return sorted({p for p in pts if p > 0})


def reference_total(cls, law):
    radial = jax.jit(cls.radial)
    law = jnp.asarray(law)

    def f(r):
        return 2 * np.pi * r * float(radial(jnp.asarray(r), law))

    edges = [0.0, *breakpoints(cls, law)]
    tot = sum(
        quad(f, a, b, epsabs=0, epsrel=1e-12, limit=500)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    )
    return tot + quad(f, edges[-1], np.inf, epsabs=0, epsrel=1e-12, limit=500)[0]


@pytest.mark.parametrize("cls, law", CASES, ids=IDS)
def test_total_matches_adaptive_quadrature(cls, law):
    got = float(jax.jit(cls.total)(jnp.asarray(law)))
    assert got == pytest.approx(reference_total(cls, law), rel=1e-6)


@pytest.mark.parametrize("cls, law", CASES, ids=IDS)
def test_total_derivatives_match_finite_differences(cls, law):
    law = jnp.asarray(law)
    total = jax.jit(cls.total)
    ad = np.asarray(jax.jit(jax.grad(cls.total))(law))
    for i in range(law.size):
        h = 1e-6 * max(abs(float(law[i])), 1.0)
        fd = (float(total(law.at[i].add(h))) - float(total(law.at[i].add(-h)))) / (2 * h)
        assert ad[i] == pytest.approx(fd, rel=1e-5, abs=1e-9 * np.abs(ad).max()), i


def test_king_with_alpha_2_is_the_king_1962_closed_form():
    """King (1962) eq. 18: total for alpha = 2 with x = (r_t / r_c)^2."""
    r_c, r_t = 1.3, 17.0
    x = (r_t / r_c) ** 2
    c = 1.0 / np.sqrt(1.0 + x)
    # int_0^r_t 2 pi r [(1 + r^2/r_c^2)^-1/2 - c]^2 dr (u = 1 + r^2 / r_c^2), divided by
    # (1 - c)^2 because the law here is normalised to I(0) = 1
    closed = np.pi * r_c**2 * (np.log(1 + x) - 4 * (1 - c) + x * c**2) / (1 - c) ** 2
    assert float(King.total(jnp.array([r_c, r_t, 2.0]))) == pytest.approx(closed, rel=1e-10)
