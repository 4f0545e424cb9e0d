"""Multi-Gaussian expansion (Emsellem et al. 1994; Cappellari 2002): K concentric
Gaussians sharing one centre, axis ratio and position angle."""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp

from ._base import FLUX, POSITION, SHAPE, ParamSpec
from ._factory import make_profile_class

__all__ = ["multi_gaussian", "MultiGaussian3"]

_DOC = """Multi-Gaussian expansion with {k} Gaussians (one elliptical geometry).

    Parameters
    ----------
    x, y : float or Param
        Centre on the tangent plane (arcsec).
    flux : float or Param
        Total flux of all {k} Gaussians (image units).
    sigma_1 .. sigma_{k} : float or Param
        Standard deviations along the major axis (arcsec).
    w_2 .. w_{k} : float or Param
        Flux of Gaussian i relative to Gaussian 1 (>= 0); Gaussian 1 has weight 1, so
        the overall scale is carried by ``flux`` alone (no degeneracy).
    q, pa : axis ratio and position angle (deg east of north).

    Notes
    -----
    I(r) = flux / q * sum_i f_i exp(-r^2 / (2 sigma_i^2)) / (2 pi sigma_i^2), with
    f_i = w_i / sum_j w_j and w_1 = 1, so the total is exactly ``flux``. Other sizes:
    :func:`scenefit.models.mge.multi_gaussian` (type name ``mge<K>``).

    Reference: Emsellem E., Monnet G., Bacon R. 1994, A&A 285, 723;
    Cappellari M. 2002, MNRAS 333, 400.

    Examples
    --------
    >>> from scenefit.models.mge import multi_gaussian
    >>> MGE2 = multi_gaussian(2)
    >>> g = MGE2(x=0, y=0, flux=1, sigma_1=1, sigma_2=3, w_2=0.5, q=1, pa=0)
    >>> g.param_names()[3:6]
    ('sigma_1', 'sigma_2', 'w_2')
    """


def _radial(k):
    def radial(r, law):
        sig = law[..., :k]
        w = jnp.concatenate([jnp.ones_like(sig[..., :1]), law[..., k:]], axis=-1)
        g = jnp.exp(-0.5 * (r[..., None] / sig) ** 2) / (2.0 * jnp.pi * sig**2)
        return jnp.sum(w * g, axis=-1)

    return radial


def _total(k):
    def total(law):
        return 1.0 + jnp.sum(law[..., k:], axis=-1)

    return total


@cache
def multi_gaussian(k: int) -> type:
    """The multi-Gaussian profile class with ``k`` Gaussians (cached: one class per k).

    Parameters
    ----------
    k : int
        Number of Gaussians (1..64).

    Returns
    -------
    type
        A concrete :class:`~scenefit.models.EllipticalProfile` named ``MultiGaussian<k>``
        with type name ``mge<k>``.

    Examples
    --------
    >>> multi_gaussian(4).TYPE_NAME
    'mge4'
    >>> multi_gaussian(4) is multi_gaussian(4)
    True
    """
    if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= 64:
        raise ValueError(
            f"a multi-Gaussian needs an integer number of Gaussians in 1..64, got {k!r}"
        )
    sigmas = tuple(
        ParamSpec(f"sigma_{i}", "arcsec", 0.0, None, f"sigma of Gaussian {i}", 0.7 * 2.5 ** (i - 1))
        for i in range(1, k + 1)
    )
    weights = tuple(
        ParamSpec(f"w_{i}", "", 0.0, None, f"flux of Gaussian {i} / flux of Gaussian 1", 0.6)
        for i in range(2, k + 1)
    )
    return make_profile_class(
        f"MultiGaussian{k}",
        __name__,
        (*POSITION, FLUX, *sigmas, *weights, *SHAPE),
        f"mge{k}",
        _DOC.format(k=k),
        {
            "radial": staticmethod(_radial(k)),
            "total": staticmethod(_total(k)),
            "size_index": staticmethod(lambda: k - 1),
        },
    )


#: the three-Gaussian expansion registered as ``mge3``
MultiGaussian3 = multi_gaussian(3)
