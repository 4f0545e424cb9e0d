"""Put images with celestial WCSs on one common tangent plane.

An :class:`~scenefit.Image` built from a FITS WCS maps its pixels to *its own* tangent
plane (``ref_sky = (0, 0)`` at the WCS reference point CRVAL). Images taken with
different pointings have different tangent points; a joint fit needs them on one.
:func:`common_tangent_plane` re-projects each image's WCS onto the gnomonic (TAN) plane
about one point,

    xi  = cos d sin(a - a0) / cos c,
    eta = (cos d0 sin d - sin d0 cos d cos(a - a0)) / cos c,
    cos c = sin d0 sin d + cos d0 cos d cos(a - a0)

(radians -> arcsec; xi east, eta north, as everywhere in scenefit), and fits the affine
map ``[xi, eta] = ref_sky + cd @ ([x, y] - crpix)`` to a grid of the image's pixels.
An image with a SIP distortion keeps it: the affine map is fitted to its undistorted
pixels (:mod:`scenefit.sip`). The re-projected map is not exactly affine (TAN about
another point); the largest deviation on the grid is checked against a tolerance in
pixels.
"""

from __future__ import annotations

import numpy as np

__all__ = ["common_tangent_plane", "gnomonic", "tangent_point"]

_ARCSEC_PER_RAD = 180.0 / np.pi * 3600.0


def gnomonic(ra, dec, ra0, dec0):
    """Tangent-plane (xi, eta) in arcsec of (ra, dec) about (ra0, dec0), all in degrees.

    Examples
    --------
    >>> [round(float(v), 6) for v in gnomonic(10.0, 0.0, 10.0, 0.0)]
    [0.0, 0.0]
    """
    a, d = np.radians(np.asarray(ra, float)), np.radians(np.asarray(dec, float))
    a0, d0 = np.radians(float(ra0)), np.radians(float(dec0))
    cosc = np.sin(d0) * np.sin(d) + np.cos(d0) * np.cos(d) * np.cos(a - a0)
    xi = np.cos(d) * np.sin(a - a0) / cosc
    eta = (np.cos(d0) * np.sin(d) - np.sin(d0) * np.cos(d) * np.cos(a - a0)) / cosc
    return xi * _ARCSEC_PER_RAD, eta * _ARCSEC_PER_RAD


def common_tangent_plane(images, center=None, *, tol_pixels: float = 0.01, n_grid: int = 9):
    """Copies of ``images`` whose ``cd``, ``crpix`` and ``ref_sky`` map to one plane.

    Parameters
    ----------
    images : list of Image
        Each with a celestial ``wcs`` (e.g. from :meth:`Image.from_fits`).
    center : (float, float), optional
        (RA, Dec) of the tangent point in degrees; default the world position of the
        first image's centre pixel. Scene positions are arcsec on this plane.
    tol_pixels : float
        Largest allowed deviation (image pixels) of the affine map from the WCS on an
        ``n_grid`` x ``n_grid`` grid over each image.
    n_grid : int

    Returns
    -------
    list of Image
        New images (``crpix`` the image centre, ``ref_sky`` its tangent-plane
        position, ``cd`` the fitted Jacobian); data, noise, PSF, band and WCS are kept.

    Raises
    ------
    ValueError
        If an image has no WCS, or its map deviates from affine by more than
        ``tol_pixels`` (a field too large for one affine map after the image's SIP
        distortion).

    Examples
    --------
    >>> import numpy as np
    >>> from astropy.wcs import WCS
    >>> from scenefit import Image
    >>> w = WCS(naxis=2); w.wcs.ctype = ["RA---TAN", "DEC--TAN"]
    >>> w.wcs.crval = [150.0, 2.0]; w.wcs.crpix = [8.5, 8.5]
    >>> w.wcs.cd = [[-1e-4, 0], [0, 1e-4]]
    >>> img = Image(np.zeros((16, 16)), cd=np.array(w.wcs.cd) * 3600, wcs=w)
    >>> out = common_tangent_plane([img])[0]
    >>> [round(float(v), 6) + 0.0 for v in out.pixel_to_sky(7.5, 7.5)]
    [0.0, 0.0]
    """
    from .fitting._joint_plan import check_images

    images = check_images(images)
    for i, img in enumerate(images):
        if img.wcs is None:
            raise ValueError(
                f"images[{i}] has no celestial WCS, so it cannot be put on a common "
                "tangent plane: build it with Image.from_fits / from_nddata (or wcs=...), "
                "or give it cd, crpix and ref_sky on the common plane yourself"
            )
    ra0, dec0 = tangent_point(images, center)
    return [_reprojected(img, i, ra0, dec0, tol_pixels, n_grid) for i, img in enumerate(images)]


def tangent_point(images, center=None) -> tuple[float, float]:
    """(RA, Dec) in degrees of the tangent point :func:`common_tangent_plane` uses:
    ``center`` if given, else the world position of the first image's centre pixel
    (that image needs a celestial ``wcs``).

    Examples
    --------
    >>> tangent_point([], center=(150, 2.5))
    (150.0, 2.5)
    """
    if center is None:
        if not images or images[0].wcs is None:
            raise ValueError(
                "the default tangent point is the first image's centre, which needs a "
                "celestial WCS: give center=(RA, Dec) in degrees"
            )
        h, w = images[0].shape
        wcs = images[0].wcs
        return tuple(float(v) for v in wcs.pixel_to_world_values((w - 1) / 2, (h - 1) / 2))
    try:
        ra0, dec0 = (float(v) for v in center)
    except (TypeError, ValueError):
        raise ValueError(f"center must be (RA, Dec) in degrees, got {center!r}") from None
    if not (np.isfinite(ra0) and np.isfinite(dec0) and -90.0 <= dec0 <= 90.0):
        raise ValueError(f"center must be a finite (RA, Dec) with |Dec| <= 90, got {center!r}")
    return ra0, dec0


def _reprojected(img, i, ra0, dec0, tol_pixels, n_grid):
    h, w = img.shape
    cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
    x, y = np.meshgrid(np.linspace(-0.5, w - 0.5, n_grid), np.linspace(-0.5, h - 0.5, n_grid))
    x, y = x.ravel(), y.ravel()
    ra, dec = img.wcs.pixel_to_world_values(x, y)  # 0-based pixels, SIP included
    xi, eta = gnomonic(ra, dec, ra0, dec0)
    if img.sip is not None:  # the affine map acts on the undistorted pixels
        x, y = img.sip.distort(x, y)
        cx, cy = img.sip.distort(np.float64(cx), np.float64(cy))
    design = np.stack([np.ones_like(x), x - cx, y - cy], axis=1)
    coef, *_ = np.linalg.lstsq(design, np.stack([xi, eta], axis=1), rcond=None)
    ref = coef[0]
    cd = coef[1:].T  # rows: xi, eta; columns: d/dx, d/dy
    dev = np.hypot(*(design @ coef - np.stack([xi, eta], axis=1)).T).max()
    scale = float(np.sqrt(abs(np.linalg.det(cd))))
    if not np.isfinite(dev) or dev / scale > tol_pixels:
        raise ValueError(
            f"images[{i}]: its WCS deviates from an affine map on the common tangent "
            f"plane by {dev / scale:.3g} px (tolerance {tol_pixels} px); the field is too "
            "large for one tangent plane: use smaller cutouts"
        )
    return img.replace(cd=cd, crpix=(cx, cy), ref_sky=(float(ref[0]), float(ref[1])))
