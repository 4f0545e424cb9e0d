"""Fit a PSF model to a PSF image: the Gaussian-mixture PSF (or any PSF model) with free
parameters, started from the image.

The image is fitted as a point source drawn through the model, with the model drawn
exactly as the renderer draws it on an image's PSF grid (pixel-integrated, normalised
to unit sum), so the fitted model reproduces the PSF image in the renderer's own terms.
The result is an ordinary PSF model component: put it in a scene to fit it further with
the sources (``docs/psf_models.md``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["PSFModelFit", "psf_model_from_image"]


@dataclass(frozen=True)
class PSFModelFit:
    """A PSF model fitted to a PSF image.

    Attributes
    ----------
    model : PSFModel
        The fitted component (parameters on the sky: arcsec, deg).
    max_residual : float
        max |drawn model - PSF image| over the PSF pixels / the image's peak.
    result : FitResult
        The underlying fit (a point source through the model on the PSF grid).
    """

    model: object
    max_residual: float
    result: object


def psf_model_from_image(psf, image, model=None, n_gaussians: int = 3, name: str = "psf"):
    """Fit a PSF model to ``psf`` (by default a sum of Gaussians started from
    :func:`scenefit.render.fit_psf_mixture`).

    Parameters
    ----------
    psf : PixelPSF or array (Ph, Pw)
        The PSF image (an array is read as a PixelPSF at the image's resolution).
    image : Image
        Gives the pixel -> sky map (``cd``), so the model's widths come out in arcsec.
    model : PSFModel, optional
        The model to fit, with starting values (e.g. ``MoffatPSF(fwhm=1, beta=3)``);
        default: ``mixture_psf(k)`` with k <= ``n_gaussians`` Gaussians (fewer when the
        image is fitted exactly by fewer), started from the host-side mixture fit.
    n_gaussians : int
        Most Gaussians of the default model (1..8).
    name : str
        The component's name.

    Returns
    -------
    PSFModelFit

    Raises
    ------
    ValueError
        If the PSF image is not finite with a positive sum, or the model is not a
        :class:`~scenefit.models.PSFModel`.

    Examples
    --------
    >>> import numpy as np, scenefit as sf
    >>> yy, xx = np.mgrid[-8:9, -8:9]
    >>> star = np.exp(-0.5 * (xx**2 + yy**2) / 1.6**2)
    >>> fit = psf_model_from_image(star, sf.Image(np.zeros((30, 30)), pixel_scale=0.5))
    >>> type(fit.model).__name__, bool(fit.max_residual < 1e-3)
    ('MixturePSF1', True)
    """
    from .. import Image, PixelPSF, Scene
    from ..models import PointSource, PSFModel
    from .fit import fit

    pix = psf if isinstance(psf, PixelPSF) else PixelPSF(np.asarray(psf, dtype=float))
    data = np.asarray(pix.image, dtype=float)
    if not np.all(np.isfinite(data)) or data.sum() <= 0:
        raise ValueError("the PSF image must be finite with a positive sum")
    if model is None:
        model = _mixture_start(pix, image, n_gaussians, name)
    elif not isinstance(model, PSFModel):
        raise ValueError(f"model must be a PSFModel, got {type(model).__name__}")
    else:
        model = model.replace(name=name) if model.name != name else model
    s = float(pix.oversampling)
    grid = Image(
        data / data.sum(),
        sigma=1e-3 * data.max() / data.sum(),
        cd=np.asarray(image.cd, dtype=float) / s,
        psf=np.ones(data.shape),
    )
    ph, pw = data.shape
    x0, y0 = (float(v) for v in grid.pixel_to_sky(pw // 2, ph // 2))
    star = PointSource(name="star", x=x0, y=y0, flux=1.0)
    res = fit(Scene([star, model]), grid)
    fitted = res.scene[name]
    from ..render import render

    drawn = np.asarray(render(res.scene, grid))
    resid = float(np.max(np.abs(drawn - grid.data)) / grid.data.max())
    return PSFModelFit(model=fitted, max_residual=resid, result=res)


def _mixture_start(pix, image, k, name):
    """A ``mixture_psf`` component from the host-side fit of concentric Gaussians."""
    from ..models import mixture_psf
    from ..render import fit_psf_mixture

    mix = fit_psf_mixture(pix, int(k))
    cd = np.asarray(image.cd, dtype=float)
    box = np.eye(2) / (12.0 * float(pix.oversampling) ** 2)  # one PSF pixel's variance
    values = {}
    w = np.asarray(mix.weights, dtype=float)
    for i, cov in enumerate(np.asarray(mix.cov, dtype=float), start=1):
        c = cov - box if np.all(np.linalg.eigvalsh(cov - box) > 0) else cov
        lam, vec = np.linalg.eigh(cd @ c @ cd.T)  # sky covariance, ascending
        lam = np.maximum(lam, 1e-12)
        major = vec[:, 1]
        values[f"sigma_{i}"] = float((lam[0] * lam[1]) ** 0.25)
        values[f"q_{i}"] = float(min(np.sqrt(lam[0] / lam[1]), 1.0))
        values[f"pa_{i}"] = float(np.degrees(np.arctan2(major[0], major[1])) % 180.0)
        if i > 1:
            values[f"w_{i}"] = float(w[i - 1] / w[0])
    return mixture_psf(len(w))(name=name, **values)
