"""Contract tests shared by every elliptical profile in ``scenefit.models.MODEL_TYPES``.

Parametrised over the registry, so a new profile type is covered as soon as it is
listed. Each type is checked at the typical values of its ``ParamSpec.default`` (placed
off-centre, so no symmetry hides an error):

* the law is finite and non-negative from r = 0 to r = 1e300, and so are its
  derivatives with respect to the law parameters;
* the rendered flux on the image equals flux x the fraction of the law's light inside
  the image footprint, computed independently (a numerical cumulative integral of
  ``radial`` and the polygon formula of tests/test_profiles_flux.py; for a
  non-elliptical geometry the polar form of tests/geometry_reference.py, which also
  integrates the geometry's area numerically; for the edge-on disk, a two-dimensional
  law without an axis ratio, scipy's K1 and adaptive quadrature across the footprint,
  :func:`edge_on_fraction_in_image`, which also checks its analytic total);
* autodiff (forward-mode) derivatives of a weighted image sum match Richardson-extrapolated
  central finite differences;
* with q = 1 the image does not depend on the position angle (for an isophote twist
  also with the twist on: it turns circles into themselves; for a non-elliptical
  geometry: at its ellipse values, c0 = 0 or zero Fourier amplitudes; with c0 != 0 or
  a mode switched on it does depend on it, and the test checks that too; a law without
  an axis ratio is never round, and the test checks that it does depend on PA), and
  PA -> PA + 180 leaves any image unchanged (with Fourier modes: the image with the odd
  modes' amplitudes negated, theta -> theta + 180 deg);
* Levenberg-Marquardt injection and recovery (moderate S/N, seeded noise, perturbed
  start) gives every free parameter within 3.5 sigma of the truth.

The derivative contract is in tests/test_model_contract_gradients.py and the
injection-recovery one in tests/test_model_contract_recovery.py, so that the three
files (each paying its own compilation) spread over the test workers. Cost: each
profile compiles its own renderer once per process (tests/contract_zoo.py); one scene
of every profile compiled in about the same time but ran every profile at each call.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import k1 as scipy_k1

from contract_zoo import IDS, PROFILES, defaults, law_of, numeric_cdf, only, ray_values, zoo
from geometry_reference import fraction_in_image as geometry_fraction_in_image
from geometry_reference import (
    g_of,
    polar_fraction_in_image,
    polar_plane_integral,
    rays_fraction_in_image,
    twist_fraction_in_image,
    warp_radius,
)
from test_profiles_flux import fraction_in_image


def test_every_profile_has_defaults_and_a_docstring_example():
    for cls in PROFILES:
        assert all(s.default is not None for s in cls.PARAMS), cls.__name__
        assert ">>>" in (cls.__doc__ or ""), cls.__name__
        for s in cls.PARAMS:
            if s.lo is not None:
                assert s.default >= s.lo, (cls.__name__, s.name)
            if s.hi is not None:
                assert s.default <= s.hi, (cls.__name__, s.name)


# ------------------------------------------------------------------------------ law
@pytest.mark.parametrize(
    "cls",
    PROFILES,
    ids=IDS,
)
def test_law_is_finite_everywhere(cls):
    law = jnp.asarray(law_of(cls, defaults(cls)))
    r = jnp.array([0.0, 1e-300, 1e-12, 1e-3, 0.5, 1.0, 3.0, 10.0, 1e3, 1e8, 1e300])
    # jitted: op-by-op (eager) differentiation of the longer laws took 8-16 s each
    val = np.asarray(jax.jit(cls.radial)(r, law))
    assert np.all(np.isfinite(val)) and np.all(val >= 0), val
    assert val[0] > 0
    jac = np.asarray(jax.jit(jax.jacfwd(cls.radial, argnums=1))(r[:-1], law))  # r <= 1e8
    assert np.all(np.isfinite(jac)), jac
    tot = float(jax.jit(cls.total)(law))
    assert np.isfinite(tot) and tot > 0
    assert np.all(np.isfinite(np.asarray(jax.jit(jax.grad(cls.total))(law))))


@pytest.mark.parametrize("cls", PROFILES, ids=IDS)
def test_rendered_flux_matches_the_integral_of_the_law(cls):
    image, _, _, render, *_ = zoo(cls)
    kw = defaults(cls)
    model = np.asarray(render(only(cls)))
    assert np.all(np.isfinite(model))
    if not cls.HAS_Q:
        frac = edge_on_fraction_in_image(cls, kw, image)
    elif cls.ANGULAR:  # rays and wedges: each ray's CDF, blended in angle numerically
        n = cls.N_RAYS
        laws = [law_of(cls.LAW, ray_values(cls, kw, k)) for k in range(n)]
        amps = [1.0] + [kw[f"amp_{k}"] for k in range(1, n)]
        cdfs = [numeric_cdf(cls.LAW, law, normalise=False) for law in laws]
        totals = [a * c.total for a, c in zip(amps, cdfs, strict=True)]
        args = (image, kw["x"], kw["y"], kw["q"], kw["pa"])
        frac = rays_fraction_in_image(cdfs, totals, n, cls.EDGE, *args)
    elif type(cls.GEOMETRY).__name__ == "Warp":  # the isophote equation solved in numpy
        law = jnp.asarray(law_of(cls.LAW, kw))
        k = cls.GEOMETRY.n_nodes
        dpa = [0.0] + [kw[f"dpa_{i}"] for i in range(1, k)]
        lnq = [0.0] + [kw[f"lnq_{i}"] for i in range(1, k)]
        warp = (kw["q"], kw["pa"], kw["r_w0"], kw["r_w1"], dpa, lnq)

        def surface(dxi, deta):
            r = warp_radius(dxi, deta, *warp)
            return np.asarray(cls.LAW.radial(jnp.asarray(r), law))

        total = polar_plane_integral(surface, 400.0)
        assert total == pytest.approx(kw["q"] * float(cls.total(law_of(cls, kw))), rel=1e-6)
        frac = polar_fraction_in_image(surface, total, image, kw["x"], kw["y"])
    elif cls.GEOMETRY is not None and not cls.GEOMETRY.homogeneous:  # the twist
        law = jnp.asarray(law_of(cls.LAW, kw))

        def f(r):
            return np.asarray(cls.LAW.radial(jnp.asarray(r), law))

        total = kw["q"] * float(cls.LAW.total(law))
        args = (kw["q"], kw["pa"], kw["twist"], kw["r_twist"], image, kw["x"], kw["y"])
        frac = twist_fraction_in_image(f, total, *args)
    elif cls.GEOMETRY is None:
        cdf = numeric_cdf(cls, law_of(cls, kw))
        frac = fraction_in_image(cdf, image, kw["x"], kw["y"], kw["q"], kw["pa"])
    else:  # the law's own CDF on the geometry's (numerically integrated) unit radius
        cdf = numeric_cdf(cls.LAW, law_of(cls.LAW, kw))
        g = g_of(cls, kw)
        frac = geometry_fraction_in_image(cdf, g, image, kw["x"], kw["y"], kw["q"], kw["pa"])
    assert frac > 0.95
    assert model.sum() == pytest.approx(kw["flux"] * frac, rel=2e-4)


def edge_on_fraction_in_image(cls, kw, image):
    """Fraction of an edge-on disk's light on ``image``, independently of scenefit's
    K1 and total: in the disk frame (a along the plane, b across it) the footprint is a
    convex polygon; int f(a) [G(b_hi(a)) - G(b_lo(a))] da with f = |a| K1(|a| / h)
    (scipy) and G the vertical law's cumulative integral, both by adaptive quadrature,
    over their own numerical totals; those totals must equal the class's analytic one
    (times mu(0, 0) = 1)."""
    h, n, z0 = kw["h"], kw["n"], kw["z0"]
    rows, cols = image.shape
    px = np.array([[-0.5, -0.5], [cols - 0.5, -0.5], [cols - 0.5, rows - 0.5], [-0.5, rows - 0.5]])
    xi, eta = image.pixel_to_sky(px[:, 0], px[:, 1])
    t = np.deg2rad(kw["pa"])
    dxi, deta = xi - kw["x"], eta - kw["y"]
    poly = np.stack([dxi * np.sin(t) + deta * np.cos(t), dxi * np.cos(t) - deta * np.sin(t)], 1)

    def f(a):
        x = max(abs(a), 1e-300) / h
        return x * scipy_k1(x)

    def g(b):
        y = abs(n * b / (2 * z0))
        return np.exp(-(2 / n) * (y + np.log1p(np.exp(-2 * y)) - np.log(2)))

    g_total = 2 * quad(g, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    f_total = 2 * quad(f, 0, np.inf, epsabs=0, epsrel=1e-12, limit=200)[0]
    total = float(cls.total(jnp.asarray(law_of(cls, kw))))
    assert total == pytest.approx(f_total * g_total, rel=1e-10)

    def cum(b):  # int_-inf^b g
        part = quad(g, 0, abs(b), epsabs=0, epsrel=1e-11, limit=200)[0]
        return 0.5 * g_total + np.sign(b) * part

    def across(a):  # the polygon's b-interval at this a
        bs = []
        for i in range(4):
            (a0, b0), (a1, b1) = poly[i], poly[(i + 1) % 4]
            if min(a0, a1) <= a <= max(a0, a1) and a1 != a0:
                bs.append(b0 + (b1 - b0) * (a - a0) / (a1 - a0))
        return min(bs), max(bs)

    def inside(a):
        lo, hi = across(a)
        return f(a) * (cum(hi) - cum(lo))

    cuts = np.unique(np.concatenate([poly[:, 0], [0.0]]))
    part = sum(
        quad(inside, lo, hi, epsabs=0, epsrel=1e-9, limit=200)[0]
        for lo, hi in zip(cuts[:-1], cuts[1:], strict=True)
    )
    return part / (f_total * g_total)


def ellipse_values(cls):
    """The geometry's parameters at the plain ellipse (none for an elliptical class);
    for rays and wedges: every ray the copy of ray 0, at equal brightness."""
    if cls.ANGULAR:
        kw = defaults(cls)
        same = {
            f"{s.name}_{k}": kw[f"{s.name}_0"]
            for s in cls.LAW.law_specs()
            for k in range(1, cls.N_RAYS)
        }
        return {**same, **{f"amp_{k}": 1.0 for k in range(1, cls.N_RAYS)}}
    return {} if cls.GEOMETRY is None else cls.GEOMETRY.initial_values()


def still_round(cls):
    """Changes from the typical values that keep a q = 1 profile round: a twist, and
    the PA part of a warp, turn circles into themselves (the warp's q part does not)."""
    return {p.name: 0.0 for p in cls.GEOMETRY.params if p.name.startswith("lnq_")}


@pytest.mark.parametrize("cls", PROFILES, ids=IDS)
def test_round_profile_is_rotation_invariant(cls):
    render = zoo(cls)[3]
    if not cls.HAS_Q:  # never round: a turn of the disk's plane changes the image
        a = np.asarray(render(only(cls, pa=0.0)))
        b = np.asarray(render(only(cls, pa=37.0)))
        assert np.abs(b - a).max() > 1e-3 * a.max()
        return
    ell = ellipse_values(cls)
    a = np.asarray(render(only(cls, q=1.0, pa=0.0, **ell)))
    for pa in (37.0, 90.0, 211.0):
        b = np.asarray(render(only(cls, q=1.0, pa=pa, **ell)))
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * a.max())
    if ell and cls.GEOMETRY is not None and not cls.GEOMETRY.homogeneous:
        keep = still_round(cls)  # a twist (a warp's PA part) turns a circle into itself
        a = np.asarray(render(only(cls, q=1.0, pa=0.0, **keep)))
        b = np.asarray(render(only(cls, q=1.0, pa=37.0, **keep)))
        np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * a.max())
        if keep:  # a q warp breaks the symmetry even with q = 1 at the centre
            b = np.asarray(render(only(cls, q=1.0, pa=37.0)))
            assert np.abs(b - np.asarray(render(only(cls, q=1.0, pa=0.0)))).max() > 1e-3 * a.max()
    elif ell:  # boxiness, a Fourier mode or unequal rays break the symmetry with q = 1
        a = np.asarray(render(only(cls, q=1.0, pa=0.0)))
        b = np.asarray(render(only(cls, q=1.0, pa=37.0)))
        assert np.abs(b - a).max() > 1e-3 * a.max()


def half_turn_equivalent(cls, kw):
    """Parameter changes equivalent to PA + 180 deg: none, except that Fourier modes
    of odd m change sign (theta -> theta + 180 deg)."""
    modes = getattr(cls.GEOMETRY, "modes", ())
    return {f"a_{m}": -kw[f"a_{m}"] for m in modes if m % 2}


@pytest.mark.parametrize("cls", PROFILES, ids=IDS)
def test_pa_plus_180_is_the_same_image(cls):
    render = zoo(cls)[3]
    kw = defaults(cls)
    a = np.asarray(render(only(cls, pa=kw["pa"], **half_turn_equivalent(cls, kw))))
    b = np.asarray(render(only(cls, pa=kw["pa"] + 180.0)))
    c = np.asarray(render(only(cls, pa=kw["pa"] + 90.0)))
    np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * a.max())
    assert np.abs(c - a).max() > 1e-3 * a.max()  # q < 1: a quarter turn does change it
    if half_turn_equivalent(cls, kw):  # odd modes: the half turn alone does change it
        assert np.abs(b - np.asarray(render(only(cls, pa=kw["pa"])))).max() > 1e-3 * a.max()
