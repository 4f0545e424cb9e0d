"""A realistic simulated image with known truth (the data of ``scenefit demo``).

The image imitates a ground-based survey cut-out (DECam/Legacy-Survey-like pixels):

* 128 x 128 pixels at 0.262 arcsec/pixel, north up and east left, with a celestial TAN
  WCS centred on (RA, Dec) = (150.1, 2.2) deg; the tangent-plane origin is the image
  centre, pixel (63.5, 63.5) (0-based);
* a circular Moffat PSF (FWHM 1.1 arcsec, beta = 3), drawn with scenefit's own
  :class:`~scenefit.models.Moffat` profile on a 25 x 25 pixel image and normalised;
* a bulge (Sersic n = 4, r_e = 1.0 arcsec, r = 18.0 mag) plus an exponential disk
  (h = 2.5 arcsec, q = 0.45, r = 17.8 mag) sharing one centre near the image centre;
* three stars (r = 18.2, 19.6 and 21.0 mag) at least 12 arcsec from the galaxy centre;
* a flat sky of 120 ADU/pixel.

Image units are ADU ("counts"), with a magnitude zero point of 30 (AB):
m = 30 - 2.5 log10(flux). The noise is that of a CCD with gain ``GAIN`` electrons/ADU
and read noise ``READ_NOISE`` electrons: the electrons in each pixel are Poisson
distributed around gain * (model + sky), the read noise is Gaussian, and the sum is
converted back to ADU.

The sigma map is the expected noise, in ADU,

    sigma = sqrt(m / gain + read_noise^2 / gain^2),

computed from the *true* model m (sky included), not from the noisy data: a data-based
sigma map gives low pixels smaller errors, which biases fitted fluxes low (the usual
chi^2 bias of Poisson data). Real pipelines estimate it from a smoothed image or from
the model; the true model is the noise-free limit of that.

The same :class:`~numpy.random.Generator` seed gives the same image.
"""

from __future__ import annotations

import numpy as np

from .image import Image
from .models import Exponential, FlatSky, Moffat, PointSource, Sersic
from .render import RenderSettings, render
from .scene import Scene

__all__ = [
    "SHAPE",
    "PIXEL_SCALE",
    "ZEROPOINT",
    "GAIN",
    "READ_NOISE",
    "PSF_FWHM",
    "PSF_BETA",
    "demo_psf",
    "demo_truth",
    "demo_geometry",
    "simulate_demo",
]

#: image shape (rows, columns)
SHAPE = (128, 128)
#: arcsec per pixel
PIXEL_SCALE = 0.262
#: AB magnitude zero point of one ADU
ZEROPOINT = 30.0
#: electrons per ADU
GAIN = 4.0
#: read noise, electrons
READ_NOISE = 6.0
#: PSF full width at half maximum, arcsec
PSF_FWHM = 1.1
#: Moffat PSF power-law index
PSF_BETA = 3.0
#: PSF image size, pixels (odd)
PSF_SIZE = 25
#: (RA, Dec) of the image centre, degrees
SKY_CENTRE = (150.1, 2.2)


def _mag_to_flux(mag: float) -> float:
    return float(10.0 ** (-0.4 * (mag - ZEROPOINT)))


def demo_psf() -> np.ndarray:
    """The demo PSF image: a circular Moffat drawn on 25 x 25 pixels, unit sum.

    Returns
    -------
    ndarray (25, 25)
        Centred on pixel (12, 12); pixel-integrated with scenefit's renderer.

    Examples
    --------
    >>> p = demo_psf()
    >>> p.shape, round(float(p.sum()), 12), np.unravel_index(p.argmax(), p.shape)
    ((25, 25), 1.0, (np.int64(12), np.int64(12)))
    """
    grid = Image(np.zeros((PSF_SIZE, PSF_SIZE)), pixel_scale=PIXEL_SCALE)
    moffat = Moffat(x=0.0, y=0.0, flux=1.0, fwhm=PSF_FWHM, beta=PSF_BETA, q=1.0, pa=0.0)
    img = render(Scene([moffat]), grid, RenderSettings(quad_order=5, refine_size=5))
    return img / img.sum()


def demo_geometry(psf=None, **kwargs) -> Image:
    """An empty demo image (zeros): shape, WCS, PSF, zero point and gain, no noise.

    Parameters
    ----------
    psf : array_like, optional
        Defaults to :func:`demo_psf`.
    **kwargs
        Passed on to :class:`~scenefit.image.Image` (e.g. ``data=``, ``sigma=``).

    Returns
    -------
    Image
    """
    from astropy.wcs import WCS

    h, w = SHAPE
    wcs = WCS(naxis=2)
    wcs.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    wcs.wcs.crval = list(SKY_CENTRE)
    wcs.wcs.crpix = [(w + 1) / 2.0, (h + 1) / 2.0]  # 1-based FITS = 0-based centre
    wcs.wcs.cd = np.array([[-PIXEL_SCALE, 0.0], [0.0, PIXEL_SCALE]]) / 3600.0
    kw = dict(
        data=np.zeros(SHAPE),
        cd=[[-PIXEL_SCALE, 0.0], [0.0, PIXEL_SCALE]],
        crpix=((w - 1) / 2.0, (h - 1) / 2.0),
        psf=demo_psf() if psf is None else psf,
        zeropoint=ZEROPOINT,
        gain=GAIN,
        band="r",
        wcs=wcs,
    )
    kw.update(kwargs)
    return Image(**kw)


def demo_truth() -> Scene:
    """The true scene of the demo image (tangent-plane arcsec, fluxes in ADU).

    Components: ``bulge`` (Sersic), ``disk`` (Exponential, centre tied to the bulge),
    ``star_1`` .. ``star_3`` (PointSource, brightest first) and ``sky`` (FlatSky).

    Examples
    --------
    >>> t = demo_truth()
    >>> t.names
    ('bulge', 'disk', 'star_1', 'star_2', 'star_3', 'sky')
    >>> round(t["bulge"].r_e.value, 2)
    1.0
    """
    xc, yc = 0.37, -0.29
    return Scene(
        [
            Sersic(
                name="bulge",
                x=xc,
                y=yc,
                flux=_mag_to_flux(18.0),
                r_e=1.0,
                n=4.0,
                q=0.8,
                pa=42.0,
            ),
            Exponential(
                name="disk",
                x=xc,
                y=yc,
                flux=_mag_to_flux(17.8),
                h=2.5,
                q=0.45,
                pa=35.0,
            ),
            PointSource(name="star_1", x=-9.1, y=8.7, flux=_mag_to_flux(18.2)),
            PointSource(name="star_2", x=10.4, y=9.6, flux=_mag_to_flux(19.6)),
            PointSource(name="star_3", x=-6.3, y=-11.2, flux=_mag_to_flux(21.0)),
            FlatSky(name="sky", sky=120.0),
        ],
        ties={"disk.x": "bulge.x", "disk.y": "bulge.y"},
    )


def simulate_demo(seed: int = 0) -> tuple[Image, Scene]:
    """Simulate the demo image.

    Parameters
    ----------
    seed : int
        Seed of the :func:`numpy.random.default_rng` generator that draws the noise.

    Returns
    -------
    image : Image
        Noisy data (ADU) with its sigma map (ADU, from the true model, see the module
        docstring), PSF, WCS, zero point 30 and gain.
    truth : Scene
        The scene the data were drawn from (:func:`demo_truth`).

    Examples
    --------
    >>> img, truth = simulate_demo(seed=1)
    >>> img.shape, img.zeropoint, img.gain
    ((128, 128), 30.0, 4.0)
    """
    rng = np.random.default_rng(seed)
    truth = demo_truth()
    geom = demo_geometry()
    model = render(truth, geom)  # ADU per pixel, sky included
    electrons = rng.poisson(np.clip(model, 0.0, None) * GAIN).astype(float)
    electrons += rng.normal(0.0, READ_NOISE, model.shape)
    data = electrons / GAIN
    sigma = np.sqrt(np.clip(model, 0.0, None) / GAIN + (READ_NOISE / GAIN) ** 2)
    return geom.replace(data=data, sigma=sigma), truth
