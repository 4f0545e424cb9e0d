"""Chunked refinement (``RenderSettings.refine_ladder``) is an optimisation only: a
round run in chunks of ``refine_pixels / 4`` cells, skipping chunks without a cell to
refine, gives the same image and the same Jacobian as one run on all ``refine_pixels``
cells, whatever the number of cells that need refinement (none, a few, several chunks,
more than ``refine_pixels``)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from scenefit._layout import build_layout
from scenefit.fitting.fit import make_objective, problem_args
from scenefit.fitting.priors import build_priors
from scenefit.parameters import to_unconstrained
from scenefit.render import image_spec

# (shape, Sersic parameters, refine_pixels) with the cells over the budget in the first
# round (measured): 0 (no round), 7 (one chunk of 128), 138 (two), 331 (three of the
# four), 331 of refine_pixels = 128 (more than fit: the first 128 are refined)
CASES = {
    "smooth n=0.5 r_e=20": ((48, 48), dict(r_e=20.0, n=0.5, q=0.9, pa=0.0), 512),
    "smooth n=0.8 r_e=12": ((48, 48), dict(r_e=12.0, n=0.8, q=0.8, pa=10.0), 512),
    "n=2.5 r_e=6": ((64, 64), dict(r_e=6.0, n=2.5, q=0.6, pa=40.0), 512),
    "n=4 r_e=2 q=0.3": ((64, 64), dict(r_e=2.0, n=4.0, q=0.3, pa=75.0), 512),
    "n=4 r_e=2 q=0.3, 128 cells": ((64, 64), dict(r_e=2.0, n=4.0, q=0.3, pa=75.0), 128),
}


def _objective(scene, image, ladder, cells):
    lay, vals, x0 = build_layout(scene)
    pset = build_priors(lay, vals.base, None, ())
    args = problem_args(vals, image, pset, offset=False, layout=lay)
    u = jnp.asarray(to_unconstrained(x0, np.asarray(lay.kinds), vals.lo, vals.hi))
    settings = sf.RenderSettings(refine_ladder=ladder, refine_pixels=cells)
    fun, linearize, _ = make_objective(lay, image_spec(image), settings, "chi2", pset.static)
    return jax.jit(linearize)(u, *args)


@pytest.mark.parametrize("case", sorted(CASES))
def test_the_ladder_changes_neither_the_model_nor_its_jacobian(case):
    shape, prm, cells = CASES[case]
    yy, xx = np.mgrid[-4:5, -4:5]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / 1.2**2)
    scene = sf.Scene([sf.Sersic(x=0.3, y=-0.2, flux=5e3, **prm)])
    blank = sf.Image(np.zeros(shape), psf=psf, sigma=1.0)
    data = np.asarray(sf.render(scene, blank, settings=sf.RenderSettings(refine_ladder=False)))
    image = blank.replace(data=data + np.random.default_rng(3).normal(0.0, 1.0, shape))
    r1, obj1, j1 = _objective(scene, image, True, cells)
    r0, obj0, j0 = _objective(scene, image, False, cells)
    # identical arithmetic on the live cells; dead cells add exact zeros
    np.testing.assert_allclose(np.asarray(r1), np.asarray(r0), rtol=0, atol=1e-12)
    np.testing.assert_allclose(np.asarray(j1), np.asarray(j0), rtol=0, atol=1e-10)
    assert abs(float(obj1) - float(obj0)) <= 1e-10 * float(obj0)


def test_refine_ladder_must_be_a_bool():
    with pytest.raises(ValueError, match="refine_ladder"):
        sf.RenderSettings(refine_ladder="yes")
