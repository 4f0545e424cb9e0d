"""The block-sparse model Jacobian used by LM equals dense forward-mode autodiff."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scenefit import (
    Exponential,
    Gaussian,
    Image,
    Param,
    PointSource,
    Scene,
    Sersic,
    TiltedSky,
)
from scenefit._layout import build_layout
from scenefit.render import (
    RenderSettings,
    image_inputs,
    image_spec,
    make_model_and_jacobian,
    make_renderer,
)


def _scene():
    sc = Scene(
        [
            Sersic(
                name="b", x=0.3, y=-0.2, flux=100, r_e=1.0, n=Param(3.0, fixed=True), q=0.8, pa=30
            ),
            Exponential(name="d", x=0.3, y=-0.2, flux=300, h=2, q=0.5, pa=35),
            Gaussian(x=2, y=1, flux=50, sigma=0.7, q=0.6, pa=1),
            PointSource(x=-2.1, y=1.33, flux=30),
            PointSource(x=2.1, y=-1.73, flux=20),
            TiltedSky(sky=1.0, dsky_dx=0.01, dsky_dy=0.02),
        ],
        ties={"d.x": "b.x", "d.y": "b.y"},
    )
    return sc


@pytest.mark.parametrize(
    "oversampling,with_psf,adaptive",
    [
        (1, True, True),
        pytest.param(2, True, False, marks=pytest.mark.slow),
        (1, False, False),
    ],
)
def test_sparse_jacobian_equals_dense(oversampling, with_psf, adaptive):
    s = oversampling
    yy, xx = np.mgrid[-4 * s : 4 * s + 1, -4 * s : 4 * s + 1]
    psf = np.exp(-0.5 * (xx**2 + yy**2) / (1.5 * s) ** 2)
    img = Image(
        np.zeros((24, 30)),
        psf=psf if with_psf else None,
        psf_oversampling=s,
        cd=[[-0.3, 0.05], [0.02, 0.28]],  # rotated, skewed, non-square pixels
    )
    layout, vals, x0 = build_layout(_scene())
    st = RenderSettings() if adaptive else RenderSettings.fast()  # the rest: compile time
    spec, inputs = image_spec(img), image_inputs(img)
    render = make_renderer(layout, spec, st)
    both = make_model_and_jacobian(layout, spec, st)
    dense = jax.jit(jax.jacfwd(lambda x: render(layout.expand(x, vals.base), inputs)))(
        jnp.asarray(x0)
    )
    p0 = layout.expand(jnp.asarray(x0), vals.base)
    model, sparse = jax.jit(both)(p0, inputs)
    dense = np.moveaxis(np.asarray(dense), -1, 0)
    # the model assembled from the Jacobian pass's primal images is the rendered model
    np.testing.assert_allclose(np.asarray(model), np.asarray(render(p0, inputs)), rtol=1e-13)
    assert sparse.shape == dense.shape == (layout.n_free, 24, 30)
    np.testing.assert_allclose(np.asarray(sparse), dense, rtol=0, atol=1e-12 * np.abs(dense).max())
