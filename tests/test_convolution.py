"""PSF convolution: flux conservation, moments, identities, and sky handling.

Moments of a convolution: for an image f convolved with a kernel k (both normalised),
centroid(f * k) = centroid(f) + centroid(k) - c_k and cov(f * k) = cov(f) + cov(k),
where c_k is the kernel's declared centre, pixel (ny // 2, nx // 2). These hold for any
kernel as long as no light leaves the image, which the compact sources here guarantee.

Every test renders the same scene structure (Gaussian + TiltedSky; sky zero unless it
is the point) into 48 x 48 images, so each PSF shape compiles once.
"""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from conftest import blank, centroid

SHAPE = (48, 48)
CX = CY = (48 - 1) / 2.0  # pixel of the tangent-plane origin


def scene(sigma=2.0, q=0.6, pa=30.0, x=0.0, y=0.0, flux=100.0, sky=(0.0, 0.0, 0.0)):
    return sf.Scene(
        [
            sf.Gaussian(x=x, y=y, flux=flux, sigma=sigma, q=q, pa=pa),
            sf.TiltedSky(sky=sky[0], dsky_dx=sky[1], dsky_dy=sky[2]),
        ]
    )


def psf_image(size, oversampling=1, sigma=1.5, q=1.0, theta=0.0, offset=(0.0, 0.0), extra=None):
    """Elliptical Gaussian PSF array, sigma in image pixels; ``offset`` (dy, dx) in PSF
    pixels from the declared centre; ``extra`` adds a second, displaced blob (asymmetric)."""
    ny, nx = (size, size) if np.isscalar(size) else size
    yy, xx = np.mgrid[:ny, :nx].astype(float)
    dy, dx = yy - ny // 2 - offset[0], xx - nx // 2 - offset[1]
    c, s = np.cos(theta), np.sin(theta)
    a, b = c * dx + s * dy, (-s * dx + c * dy) / q
    p = np.exp(-0.5 * (a**2 + b**2) / (sigma * oversampling) ** 2)
    if extra is not None:
        (ey, ex), amp = extra
        p += amp * np.exp(-0.5 * ((dy - ey) ** 2 + (dx - ex) ** 2) / (sigma * oversampling) ** 2)
    # an even-sized array has one more row/column before the centre than after it; zero
    # it so that a symmetric PSF is exactly point-symmetric about (ny // 2, nx // 2)
    p[: 1 - ny % 2, :] = 0.0
    p[:, : 1 - nx % 2] = 0.0
    return p / p.sum()


def moments(img):
    """Centroid (x, y) and covariance [[xx, xy], [xy, yy]] in pixels."""
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    t = img.sum()
    mx, my = (xx * img).sum() / t, (yy * img).sum() / t
    cxx = ((xx - mx) ** 2 * img).sum() / t
    cyy = ((yy - my) ** 2 * img).sum() / t
    cxy = ((xx - mx) * (yy - my) * img).sum() / t
    return np.array([mx, my]), np.array([[cxx, cxy], [cxy, cyy]])


def psf_moments(p, s):
    """Centroid offset from the declared centre and covariance, in image pixels."""
    (mx, my), cov = moments(p)
    ny, nx = p.shape
    return np.array([mx - nx // 2, my - ny // 2]) / s, cov / s**2


PSFS = {  # (array, oversampling): odd and even, at 1x and 3x
    "odd-1x": (psf_image(21), 1),
    "even-1x": (psf_image(20), 1),
    "odd-3x": (psf_image(63, 3), 3),
    "even-3x": (psf_image(62, 3), 3),
}


@pytest.mark.parametrize("name", list(PSFS))
def test_convolution_conserves_flux(name):
    """The convolved image holds exactly the light of the unconvolved one (same render
    grid); both hold the analytic total to the pixel-integration accuracy (1.3e-7 for
    this sigma_minor = 1.2 px Gaussian, measured)."""
    psf, s = PSFS[name]
    sc = scene(x=1.3, y=-0.6)
    conv = sf.render(sc, blank(SHAPE, psf=psf, psf_oversampling=s))
    delta = np.pad(np.ones((1, 1)), 1)  # same oversampled render grid, no blurring
    plain = sf.render(sc, blank(SHAPE, psf=delta, psf_oversampling=s))
    assert conv.sum() == pytest.approx(plain.sum(), rel=1e-12)
    assert conv.sum() == pytest.approx(100.0, rel=1e-6)


@pytest.mark.parametrize("name", list(PSFS))
def test_symmetric_psf_keeps_a_centred_source_centred(name):
    """A point-symmetric PSF keeps a point-symmetric source centred and symmetric.

    The source sits on the centre of pixel (23, 23) (and of a fine pixel at 3x), so the
    core-refinement block is symmetric too and the result is exact to rounding.
    """
    psf, s = PSFS[name]
    img = sf.render(scene(x=0.5, y=-0.5), blank(SHAPE, psf=psf, psf_oversampling=s))
    assert centroid(img) == pytest.approx((23.0, 23.0), abs=1e-10)
    sub = img[3:44, 3:44]  # 41 x 41 block centred on pixel (23, 23)
    np.testing.assert_allclose(sub, sub[::-1, ::-1], rtol=0, atol=1e-12 * img.max())


@pytest.mark.parametrize("size", [21, 20])
def test_moments_of_a_convolution_add(size):
    """An asymmetric, elliptical PSF shifts the centroid by its own first moment and adds
    its covariance (1x sampling, where pixel moments are exact)."""
    psf = psf_image(size, sigma=1.2, q=0.6, theta=0.4, extra=((2.0, -1.5), 0.3))
    sc = scene(x=1.3, y=-0.6)
    plain = sf.render(sc, blank(SHAPE))
    conv = sf.render(sc, blank(SHAPE, psf=psf))
    m0, c0 = moments(plain)
    m1, c1 = moments(conv)
    dm, cp = psf_moments(psf, 1)
    assert np.abs(dm).max() > 0.3  # the PSF is genuinely off-centre
    np.testing.assert_allclose(m1, m0 + dm, rtol=0, atol=1e-8)
    np.testing.assert_allclose(c1, c0 + cp, rtol=0, atol=1e-7)


@pytest.mark.parametrize("size", [63, 62])
def test_oversampled_psf_shift(size):
    """At 3x, the centroid moves by the PSF's first moment divided by the oversampling."""
    psf = psf_image(size, 3, sigma=1.2, q=0.6, theta=0.4, extra=((6.0, -4.5), 0.3))
    sc = scene(x=1.3, y=-0.6)
    m0, _ = moments(sf.render(sc, blank(SHAPE)))
    m1, _ = moments(sf.render(sc, blank(SHAPE, psf=psf, psf_oversampling=3)))
    dm, _ = psf_moments(psf, 3)
    np.testing.assert_allclose(m1, m0 + dm, rtol=0, atol=1e-6)


@pytest.mark.parametrize(
    "delta",
    [np.ones((1, 1)), np.pad(np.ones((1, 1)), 2), np.pad(np.ones((1, 1)), ((2, 1), (2, 1)))],
    ids=["1x1", "5x5", "4x4-even"],
)
def test_delta_psf_is_the_identity(delta):
    sc = sf.Scene(
        [
            sf.Gaussian(x=1.3, y=-0.6, flux=100.0, sigma=2.0, q=0.6, pa=30.0),
            sf.TiltedSky(sky=0.3, dsky_dx=0.01, dsky_dy=0.02),
        ]
    )
    plain = sf.render(sc, blank(SHAPE))
    conv = sf.render(sc, blank(SHAPE, psf=delta))
    np.testing.assert_allclose(conv, plain, rtol=0, atol=1e-12 * plain.max())


@pytest.mark.parametrize("s", [1, 3])
def test_gaussian_convolved_with_gaussian_is_gaussian(s):
    """An elliptical Gaussian (sigma, q, pa) convolved with a circular Gaussian PSF
    (sigma_p) is the Gaussian whose covariance is the sum: major axis
    sqrt(sigma^2 + sigma_p^2), minor axis sqrt((q sigma)^2 + sigma_p^2), same pa."""
    sigma, q, pa, sp = 2.0, 0.6, 30.0, 1.5
    psf = PSFS["odd-1x" if s == 1 else "odd-3x"][0]
    conv = sf.render(scene(sigma, q, pa, x=1.3, y=-0.6), blank(SHAPE, psf=psf, psf_oversampling=s))
    major = np.hypot(sigma, sp)
    minor = np.hypot(q * sigma, sp)
    expected = sf.render(scene(major, minor / major, pa, x=1.3, y=-0.6), blank(SHAPE))
    err = np.abs(conv - expected).max() / expected.max()
    assert err < 1e-4, f"max difference {err:.2e} of the peak"


@pytest.mark.parametrize("name", ["odd-1x", "even-3x"])
def test_sky_is_not_convolved(name):
    """Sky is added after convolution: the model minus the sky-free model is exactly the
    sky plane everywhere, edges included (a convolved sky would sag at the edges)."""
    psf, s = PSFS[name]
    img = blank(SHAPE, psf=psf, psf_oversampling=s)
    with_sky = sf.render(scene(sky=(2.0, 0.01, -0.02)), img)
    without = sf.render(scene(), img)
    dy, dx = np.mgrid[:48, :48] - CX
    np.testing.assert_allclose(with_sky - without, 2.0 + 0.01 * dx - 0.02 * dy, rtol=0, atol=1e-12)
    flat = sf.render(scene(flux=0.0, sky=(2.0, 0.0, 0.0)), img)
    assert np.all(flat == 2.0)
