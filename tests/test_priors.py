"""Priors and soft constraints as extra LM residuals.

In a linear model with Gaussian noise and a Gaussian prior the posterior is the product
of Gaussians, known in closed form; the LM optimum and covariance must equal it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import pytest

import scenefit as sf
from conftest import gaussian_psf
from scenefit.fitting import GaussianPrior, PriorError, SoftConstraint, fit

SIGMA = 0.5


def _sky_image(seed=0, shape=(10, 10), level=1.0):
    rng = np.random.default_rng(seed)
    return sf.Image(rng.normal(level, SIGMA, shape), sigma=SIGMA)


@pytest.mark.parametrize("prior_sigma", [0.02, 0.1, 1.0])
def test_gaussian_prior_is_product_of_gaussians(prior_sigma):
    img = _sky_image()
    mu0 = 2.0
    res = fit(sf.Scene([sf.FlatSky(sky=0.0)]), img, priors={"flat_sky.sky": (mu0, prior_sigma)})
    n = img.n_valid
    precision = n / SIGMA**2 + 1.0 / prior_sigma**2
    mean = (img.data.sum() / SIGMA**2 + mu0 / prior_sigma**2) / precision
    assert res.value("flat_sky.sky") == pytest.approx(mean, rel=1e-9)
    assert res.error("flat_sky.sky") == pytest.approx(precision**-0.5, rel=1e-9)
    pull = (mean - mu0) / prior_sigma
    assert res.penalties["prior:flat_sky.sky"] == pytest.approx(pull, rel=1e-6)
    assert res.penalty == pytest.approx(pull**2, rel=1e-6)
    # objective excludes the prior: it is the chi^2 of the pixels alone
    assert res.objective == pytest.approx(np.sum((img.data - mean) ** 2) / SIGMA**2, rel=1e-9)


def test_soft_constraint_constrains_a_degenerate_pair():
    """Two flat skies: the data fix only their sum; a constraint on a - b fixes the rest."""
    img = _sky_image(1)
    w = 0.1
    scene = sf.Scene([sf.FlatSky(name="a", sky=0.3), sf.FlatSky(name="b", sky=-0.2)])
    con = SoftConstraint(lambda a, b: a - b, ("a.sky", "b.sky"), width=w, target=0.4)
    res = fit(scene, img, constraints=[con])
    n = img.n_valid
    fisher = n / SIGMA**2 * np.ones((2, 2)) + np.array([[1, -1], [-1, 1]]) / w**2
    np.testing.assert_allclose(res.covariance, np.linalg.inv(fisher), rtol=1e-9)
    a, b = res.value("a.sky"), res.value("b.sky")
    assert a + b == pytest.approx(img.data.mean(), rel=1e-9)
    assert a - b == pytest.approx(0.4, abs=1e-9)
    # without the constraint the pair is degenerate
    assert fit(scene, img).ill_conditioned


def test_prior_on_bounded_parameter_acts_in_physical_units():
    """Bounds change the fitter's coordinates, not the prior: still a product of Gaussians."""
    img = _sky_image(4)
    scene = sf.Scene([sf.FlatSky(sky=sf.Param(0.0, lo=-3.0, hi=5.0))])
    res = fit(scene, img, priors={"flat_sky.sky": (1.5, 0.05)})
    precision = img.n_valid / SIGMA**2 + 1 / 0.05**2
    mean = (img.data.sum() / SIGMA**2 + 1.5 / 0.05**2) / precision
    assert res.value("flat_sky.sky") == pytest.approx(mean, rel=1e-8)
    assert res.error("flat_sky.sky") == pytest.approx(precision**-0.5, rel=1e-6)


@pytest.mark.slow
def test_prior_pulls_poorly_constrained_sersic_index():
    """A tight prior on the Sersic index of a faint galaxy sets n and its error."""
    psf = gaussian_psf(11, 1.2)
    truth = sf.Scene([sf.Sersic(x=0, y=0, flux=150.0, r_e=3.0, n=1.5, q=0.7, pa=30)])
    blank = sf.Image(np.zeros((32, 32)), psf=psf)
    rng = np.random.default_rng(3)
    data = sf.render(truth, blank) + rng.normal(0, 1.0, (32, 32))
    img = blank.replace(data=data, sigma=1.0)
    free = fit(truth, img)
    tight = fit(truth, img, priors={"sersic.n": GaussianPrior(3.0, 0.01)})
    assert free.error("sersic.n") > 0.1  # poorly constrained by the data
    assert tight.value("sersic.n") == pytest.approx(3.0, abs=0.05)
    assert tight.error("sersic.n") == pytest.approx(0.01, rel=0.05)
    assert abs(tight.value("sersic.n") - 3.0) < abs(free.value("sersic.n") - 3.0)


def test_constraint_on_fixed_parameter_and_vector_output():
    """A vector-valued constraint that reads a fixed parameter: two residuals."""
    img = _sky_image(2)
    scene = sf.Scene(
        [sf.FlatSky(name="a", sky=0.0), sf.FlatSky(name="c", sky=sf.Param(0.5, fixed=True))]
    )
    con = SoftConstraint(
        lambda a, c: a + c * jnp.array([1.0, 2.0]), ("a.sky", "c.sky"), width=0.2, target=1.0
    )
    res = fit(scene, img, constraints=[con])
    a = res.value("a.sky")
    assert res.penalties["constraint_0[0]"] == pytest.approx((a + 0.5 - 1.0) / 0.2, rel=1e-9)
    assert res.penalties["constraint_0[1]"] == pytest.approx((a + 1.0 - 1.0) / 0.2, rel=1e-9)
    # linear (the fixed sky c adds 0.5 to the model): precision = n / sigma^2 + 2 / w^2
    n = img.n_valid
    precision = n / SIGMA**2 + 2 / 0.2**2
    mean = ((img.data - 0.5).sum() / SIGMA**2 + (0.5 + 0.0) / 0.2**2) / precision
    assert a == pytest.approx(mean, rel=1e-9)
    assert res.error("a.sky") == pytest.approx(precision**-0.5, rel=1e-9)


def test_prior_errors():
    img = _sky_image()
    scene = sf.Scene([sf.FlatSky(sky=sf.Param(1.0, fixed=True)), sf.FlatSky(name="b", sky=0.0)])
    with pytest.raises(PriorError, match="fixed"):
        fit(scene, img, priors={"flat_sky.sky": (1.0, 1.0)})
    with pytest.raises(PriorError, match="unknown parameter"):
        fit(scene, img, priors={"sky.level": (1.0, 1.0)})
    with pytest.raises(PriorError, match="sigma"):
        fit(scene, img, priors={"b.sky": (1.0, 0.0)})
    with pytest.raises(PriorError, match="finite"):
        fit(scene, img, constraints=[SoftConstraint(lambda b: b / 0.0 * 0.0, "b.sky", 1.0)])
    assert issubclass(PriorError, ValueError)
