"""A PSF model that is a sum of K elliptical Gaussians with free parameters.

The live counterpart of :func:`scenefit.render.fit_psf_mixture`: a PSF image turned into
Gaussians (:func:`scenefit.fitting.psf_model_from_image`) can be refined with the
sources, as any PSF model (``docs/psf_models.md``). Each Gaussian has its own width,
axis ratio and position angle (concentric, on the sky); the weights are flux ratios to
the first Gaussian, since the drawn PSF is normalised to unit sum anyway.

Gaussian-mixture profiles (``SersicGM``) are convolved with it analytically, with the
PSF's own Gaussians (:func:`scenefit.render._psf_model.live_mixture_rows`), so a fast-path
fit can refine the PSF too.
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp

from ._base import ParamSpec, PSFModel
from ._ellipse import elliptical_radius
from ._factory import make_profile_class

__all__ = ["mixture_psf", "MixturePSF3"]

_DOC = """PSF as a sum of {k} concentric elliptical Gaussians (type ``mixture_psf{k}``).

    P(xi, eta) = sum_i w_i exp(-r_i^2 / (2 sigma_i^2 / q_i)) / (2 pi sigma_i^2),
    r_i the elliptical radius of Gaussian i (axis ratio q_i, position angle pa_i, deg
    east of north) along its major axis, w_1 = 1: each Gaussian holds the flux
    fraction w_i / sum_j w_j. sigma_i is the geometric mean of the major and minor
    standard deviations (major sigma_i / sqrt(q_i), minor sigma_i sqrt(q_i); arcsec).

    Parameters
    ----------
    sigma_<i>, q_<i>, pa_<i> : width (arcsec), axis ratio and PA (deg) of Gaussian i.
    w_<i> : flux of Gaussian i / flux of Gaussian 1 (i >= 2).
    """


def _evaluate(k):
    def evaluate(dxi, deta, params):
        out = 0.0
        for i in range(k):
            sigma, q, pa = params[3 * i], params[3 * i + 1], params[3 * i + 2]
            w = 1.0 if i == 0 else params[3 * k + i - 1]
            r = elliptical_radius(dxi, deta, q, pa)
            out = out + w * jnp.exp(-0.5 * q * (r / sigma) ** 2) / (2.0 * jnp.pi * sigma**2)
        return out

    return evaluate


@cache
def mixture_psf(k: int) -> type:
    """The Gaussian-mixture PSF model class with ``k`` Gaussians (one class per k).

    Parameters
    ----------
    k : int
        Number of Gaussians (1..8).

    Returns
    -------
    type
        A :class:`~scenefit.models.PSFModel` named ``MixturePSF<k>``, type name
        ``mixture_psf<k>``.

    Examples
    --------
    >>> mixture_psf(2).param_names()
    ('sigma_1', 'q_1', 'pa_1', 'sigma_2', 'q_2', 'pa_2', 'w_2')
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 8:
        raise ValueError(f"a mixture PSF needs an integer number of Gaussians in 1..8, got {k!r}")
    shape = []
    for i in range(1, k + 1):
        shape += [
            ParamSpec(f"sigma_{i}", "arcsec", 0.0, None, f"width of Gaussian {i}", 0.5 * 2.0**i),
            ParamSpec(f"q_{i}", "", 0.05, 1.0, f"axis ratio of Gaussian {i}", 1.0),
            ParamSpec(f"pa_{i}", "deg", None, None, f"position angle of Gaussian {i}", 0.0),
        ]
    weights = [
        ParamSpec(f"w_{i}", "", 0.0, None, f"flux of Gaussian {i} / flux of Gaussian 1", 0.2)
        for i in range(2, k + 1)
    ]
    return make_profile_class(
        f"MixturePSF{k}",
        __name__,
        (*shape, *weights),
        f"mixture_psf{k}",
        _DOC.format(k=k),
        {"evaluate": staticmethod(_evaluate(k)), "GAUSSIANS": k},
        base=PSFModel,
    )


#: three Gaussians, registered as ``mixture_psf3``
MixturePSF3 = mixture_psf(3)
