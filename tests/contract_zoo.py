"""What the model contract tests share: the profiles, their typical values, an
independent cumulative light profile, and each profile with its compiled renderer, loss
and gradient (built once per process; see tests/test_model_contracts.py).
"""

from __future__ import annotations

from functools import cache

import jax
import jax.numpy as jnp
import numpy as np
from scipy.interpolate import PchipInterpolator

import scenefit as sf
from conftest import blank
from scenefit._layout import build_layout
from scenefit.models import MODEL_TYPES, EllipticalProfile
from scenefit.render import RenderSettings, image_inputs, image_spec, make_renderer

PROFILES = [c for c in MODEL_TYPES if issubclass(c, EllipticalProfile)]
IDS = [c.TYPE_NAME for c in PROFILES]
SHAPE = (64, 64)
CENTRE = dict(x=0.37, y=-0.21)


def defaults(cls, **over):
    kw = {s.name: s.default for s in cls.PARAMS}
    kw.update(CENTRE, flux=100.0)
    kw.update(over)
    return kw


def law_of(cls, kw):
    return np.array([kw[s.name] for s in cls.law_specs()], dtype=float)


def numeric_cdf(cls, law, r_far=80.0, normalise=True):
    """Enclosed-light fraction CDF(R) = int_0^R 2 pi r I dr / total, independently:
    8-point Gauss-Legendre on 4000 log-spaced panels (plus the law's own radii as
    panel edges), interpolated monotonically. ``normalise=False``: over the numerical
    integral to ``r_far`` instead of the class's total (then in ``.total``)."""
    radii = [v for s, v in zip(cls.PARAMS[3:-2], law, strict=True) if s.unit == "arcsec"]
    edges = np.unique(np.concatenate([[0.0], np.geomspace(1e-9, r_far, 4000), radii]))
    edges = edges[edges <= r_far]
    x, w = np.polynomial.legendre.leggauss(8)
    a, b = edges[:-1, None], edges[1:, None]
    r = 0.5 * (a + b) + 0.5 * (b - a) * x
    f = 2 * np.pi * r * np.asarray(cls.radial(jnp.asarray(r), jnp.asarray(law)))
    cum = np.concatenate([[0.0], np.cumsum((f * w).sum(axis=1) * 0.5 * (b - a)[:, 0])])
    total = float(cls.total(jnp.asarray(law))) if normalise else cum[-1]
    interp = PchipInterpolator(edges, cum / total)

    def cdf(rr):
        return float(interp(min(rr, r_far)))

    cdf.total = total
    return cdf


def ray_values(cls, kw, k):
    """The law's parameter values of ray k of a ray / wedge class."""
    return {s.name: kw[f"{s.name}_{k}"] for s in cls.LAW.law_specs()}


# ------------------------------------------------------------- one renderer per profile
@cache
def zoo(cls):
    """One profile of class ``cls`` at its typical values + its compiled renderer, loss
    and (loss, directional derivative), built once per process.

    One program per profile rather than one scene of every profile: the compile time
    is about the same, but each evaluation runs one profile, not all of them."""
    scene = sf.Scene([cls(name=cls.TYPE_NAME, **defaults(cls))])
    layout, values, _ = build_layout(scene)
    image = blank(SHAPE)
    render = make_renderer(layout, image_spec(image), RenderSettings())
    # derivatives are checked on the fixed rule: the default's error-driven refinement
    # blends cells in where they cross the budget, continuously but too steeply at sharp
    # edges (Ferrers, truncated splines) for finite differences of this step to follow
    smooth = make_renderer(layout, image_spec(image), RenderSettings.fast())
    inputs = image_inputs(image)
    w = jnp.asarray(np.random.default_rng(0).normal(size=SHAPE))

    def loss(p):
        return jnp.sum(w * smooth(p, inputs))

    def directional(p, t):  # forward mode, as the LM Jacobian uses
        return jax.jvp(loss, (p,), (t,))  # (loss, derivative): one program serves both

    return (
        image,
        list(layout.addresses),
        np.asarray(values.base, dtype=float),
        jax.jit(lambda p: render(p, inputs)),
        jax.jit(loss),
        jax.jit(directional),
    )


def only(cls, **changes):
    """The parameter vector of ``zoo(cls)`` with some of the profile's values set."""
    _, addr, p0, *_ = zoo(cls)
    p = p0.copy()
    for i, a in enumerate(addr):
        if a.split(".")[1] in changes:
            p[i] = changes[a.split(".")[1]]
    return jnp.asarray(p)
