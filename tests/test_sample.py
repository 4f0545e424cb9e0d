"""NUTS sampling against closed-form posteriors (needs numpyro; skipped without it)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import scenefit as sf

pytest.importorskip("numpyro")

from scenefit.fitting.sample import sample_nuts  # noqa: E402

SIGMA = 0.5


def _img(level, seed, shape=(10, 10)):
    rng = np.random.default_rng(seed)
    return sf.Image(rng.normal(level, SIGMA, shape), sigma=SIGMA)


def test_gaussian_posterior_with_prior():
    """Linear model + Gaussian prior: posterior N(mean, s) in closed form."""
    img = _img(1.0, 0)
    post = sample_nuts(
        sf.Scene([sf.FlatSky(sky=0.0)]),
        img,
        priors={"flat_sky.sky": (2.0, 0.1)},
        num_warmup=200,
        num_samples=1000,
        num_chains=2,
        seed=1,
    )
    precision = img.n_valid / SIGMA**2 + 1 / 0.1**2
    mean = (img.data.sum() / SIGMA**2 + 2.0 / 0.1**2) / precision
    s = precision**-0.5
    ess = post.ess[0]
    assert ess > 200
    assert np.all(post.rhat < 1.05)
    # Monte Carlo errors of the mean and the standard deviation: s / sqrt(ess), s / sqrt(2 ess)
    assert abs(post.mean("flat_sky.sky") - mean) < 5 * s / np.sqrt(ess)
    assert abs(post.std("flat_sky.sky") / s - 1) < 5 / np.sqrt(2 * ess)
    assert post.extra["lm"].converged
    assert post.samples.shape == (2, 1000, 1)


def test_bounded_parameter_posterior_is_truncated_gaussian():
    """A flat prior on x >= 0 with the likelihood peaking near 0: the draws must follow
    the truncated Gaussian in x, which needs the log-Jacobian of x = exp(u)."""
    img = _img(0.02, 5)
    post = sample_nuts(
        sf.Scene([sf.FlatSky(sky=sf.Param(0.1, lo=0.0))]),
        img,
        num_warmup=300,
        num_samples=2000,
        num_chains=2,
        seed=2,
    )
    mu = img.data.mean()
    s = SIGMA / np.sqrt(img.n_valid)
    truth = stats.truncnorm(-mu / s, np.inf, loc=mu, scale=s)
    x = post.draws("flat_sky.sky")
    assert x.min() >= 0
    ess = float(post.ess[0])
    assert ess > 300
    assert abs(x.mean() - truth.mean()) < 5 * truth.std() / np.sqrt(ess)
    # the whole distribution: KS distance well below what a log-uniform prior would give
    d = stats.kstest(x, truth.cdf).statistic
    assert d < 3.0 / np.sqrt(ess)


def test_inference_data_and_corner_plot(tmp_path):
    pytest.importorskip("arviz")
    pytest.importorskip("matplotlib")
    from scenefit.io.corner import plot_corner

    img = _img(1.0, 3)
    scene = sf.Scene([sf.FlatSky(name="a", sky=0.0), sf.FlatSky(name="b", sky=0.0)])
    post = sample_nuts(
        scene,
        img,
        priors={"a.sky": (0.3, 0.2), "b.sky": (0.6, 0.2)},
        num_warmup=100,
        num_samples=200,
        seed=3,
    )
    idata = post.to_inference_data()
    assert set(idata.posterior.data_vars) == {"a.sky", "b.sky"}
    assert idata.posterior["a.sky"].shape == (2, 200)
    # a + b is pinned by the data, a - b only by the priors: strong anti-correlation
    c = np.corrcoef(post.flat, rowvar=False)[0, 1]
    assert c < -0.8
    path = plot_corner(post, tmp_path / "corner.png", lm=post.extra["lm"])
    assert path.stat().st_size > 1000


def test_second_image_reuses_the_sampler_and_its_own_data():
    """The compiled sampler is cached per problem structure: a second image of the same
    shape must reuse it, yet sample its own posterior (the data are arguments of the
    compiled function, not constants baked into it)."""
    from scenefit.fitting import sample

    scene = sf.Scene([sf.FlatSky(sky=0.0)])
    kw = dict(num_warmup=150, num_samples=600, num_chains=1, seed=4)
    sample_nuts(scene, _img(1.0, 6), **kw)
    hits = sample._sampler.cache_info().hits
    img = _img(3.0, 7)
    post = sample_nuts(scene, img, **kw)
    assert sample._sampler.cache_info().hits == hits + 1
    s = SIGMA / np.sqrt(img.n_valid)
    ess = float(post.ess[0])
    assert abs(post.mean("flat_sky.sky") - img.data.mean()) < 5 * s / np.sqrt(ess)
