"""Same-type components are vectorised: the traced program does not grow with their number.

Compile time follows the size of the traced program, so a program whose size is
independent of the number of components compiles in flat time. Counting equations
is deterministic, unlike timing.
"""

import jax
import jax.numpy as jnp
import numpy as np
from jax.extend.core import jaxprs_in_params

from scenefit import FlatSky, Image, PointSource, Scene, Sersic
from scenefit._layout import build_layout
from scenefit.render import (
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_jacobian,
    make_renderer,
)


def _count_eqns(jaxpr) -> int:
    n = 0
    for eqn in jaxpr.eqns:
        n += 1
        for sub in jaxprs_in_params(eqn.params):
            n += _count_eqns(sub)
    return n


def _program_sizes(k: int):
    img = Image(np.zeros((32, 32)), psf=np.ones((5, 5)))
    comps = [Sersic(x=i * 0.5, y=0, flux=1, r_e=2, n=2, q=0.7, pa=10) for i in range(k)]
    comps += [PointSource(x=0, y=i * 0.5, flux=1) for i in range(k)]
    layout, vals, _ = build_layout(Scene([*comps, FlatSky(sky=0.0)]))
    spec, inputs, st = image_spec(img), image_inputs(img), RenderSettings()
    p = jnp.asarray(vals.base)
    r = jax.make_jaxpr(make_renderer(layout, spec, st))(p, inputs)
    j = jax.make_jaxpr(make_model_jacobian(layout, spec, st))(p, inputs)
    return _count_eqns(r.jaxpr), _count_eqns(j.jaxpr)


def test_program_size_independent_of_component_count():
    assert _program_sizes(1) == _program_sizes(12)
