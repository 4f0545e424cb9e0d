"""Model images: pure, jit-compiled rendering of a scene into an image's pixels.

Pipeline for one image (all inside one jitted function):

1. Elliptical profiles, grouped by type (one ``lax.scan`` per type, so compile time does
   not grow with the number of components), are pixel-integrated on a grid
   ``oversampling`` times finer than the image and extended by half the PSF on each
   side (so light from just outside the image is scattered in).
   With ``settings.subpixel_shift`` each is integrated centred on a pixel and moved
   back to its sub-pixel centre by interpolation (:mod:`._subpixel`).
2. Point sources are added in Fourier space as phase ramps (exact sub-pixel position),
   or, with ``settings.point_interp`` set to a kernel, deposited on the grid with
   interpolation weights (the PSF image is then interpolated at their positions).
3. The grid is convolved with the PSF (zero-padded FFT or real-space convolution, no
   wrap-around; ``settings.convolution``, the same in the Jacobian), cropped and
   binned to the image resolution.
4. Sky models are added at image resolution, unconvolved; so are Gaussian-mixture
   profiles (:class:`~scenefit.models.MixtureProfile`), convolved analytically with a
   Gaussian mixture fitted to the PSF (``inputs["psf_mixture"]``, :mod:`._mixture`).

A scene with a PSF model (:class:`~scenefit.models.PSFModel`, a "live" PSF,
``docs/psf_models.md``) has its PSF drawn from the model's parameters first
(:mod:`._psf_model`); it replaces ``inputs["psf"]`` in every step above. The Jacobian
columns of its parameters are forward-mode derivatives of the convolved image (the
model is linear in the PSF image), the other columns stay block-sparse.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache, partial

import jax
import jax.numpy as jnp
import numpy as np

from .._layout import Layout, build_layout
from ..models import EllipticalProfile, MixtureProfile, PointLike, PSFModel, SkyModel
from ._bicubic import bicubic_point_image
from ._conv_cost import choose_convolution
from ._convolve import bin_image, convolve, convolve_with_points, deposit_points, point_spectra
from ._integrate import profile_group_jacobian, render_profile_group
from ._mixture import NO_PSF, mixture_group_jacobian, render_mixture_group
from ._pixmap import pixel_of_sky
from ._psf_mixture import fit_psf_mixture
from ._psf_model import draw_psf_model, live_mixture_rows, live_psf_group, live_psf_spec
from ._subpixel import centred_group_jacobian, render_centred_group
from .settings import RenderSettings

__all__ = [
    "ImageSpec",
    "image_spec",
    "image_inputs",
    "make_renderer",
    "make_model_jacobian",
    "make_model_and_jacobian",
    "render",
]


@dataclass(frozen=True)
class ImageSpec:
    """Static description of an image for compilation: shapes, oversampling and the
    CMOS sensitive square ``(size, dx, dy)`` (None: whole pixels)."""

    shape: tuple[int, int]
    psf_shape: tuple[int, int] | None
    oversampling: int
    cmos: tuple[float, float, float] | None = None


def image_spec(image) -> ImageSpec:
    psf = image.psf
    return ImageSpec(
        shape=tuple(image.shape),
        psf_shape=None if psf is None else tuple(psf.shape),
        oversampling=1 if psf is None else psf.oversampling,
        cmos=None if getattr(image, "cmos", None) is None else image.cmos.key,
    )


def image_inputs(image, layout: Layout | None = None) -> dict:
    """The array inputs of a renderer for ``image`` (geometry and PSF).

    With the ``layout`` of a scene that has Gaussian-mixture profiles and an image with
    a PSF, also ``"psf_mixture"``: the PSF's Gaussian mixture (:func:`fit_psf_mixture`,
    fitted once per PSF image), which their renderer needs.
    """
    out = {
        "cd": jnp.asarray(image.cd),
        "crpix": jnp.asarray(image.crpix),
        "ref": jnp.asarray(image.ref_sky),
        "psf": None if image.psf is None else jnp.asarray(image.psf.image),
    }
    if getattr(image, "sip", None) is not None:
        out["sip"] = {k: jnp.asarray(v) for k, v in image.sip.as_inputs().items()}
    if layout is not None:
        live_psf_group(layout)  # raises for an invalid PSF-model scene
    fitted = layout is not None and _has_mixtures(layout) and live_psf_group(layout) is None
    if image.psf is not None and fitted:  # (a mixture PSF model brings its own)
        out["psf_mixture"] = jnp.asarray(fit_psf_mixture(image.psf).as_array())
    return out


@dataclass(frozen=True)
class _Grid:
    """Static render-grid geometry derived from an ImageSpec."""

    h: int
    w: int
    s: int  # oversampling
    has_psf: bool
    mh: int  # margin rows/cols (fine pixels) on each side
    mw: int
    hf: int  # fine grid shape
    wf: int
    x0: float  # image-pixel coordinates of the first fine-pixel centre
    y0: float
    fft_shape: tuple[int, int]
    method: str = "fft"  # "fft" or "direct" (resolved from settings.convolution)
    point_kernel: str | None = None  # None: Fourier phase ramps (with a PSF)
    row0: object = 0  # a band of rows: its first image row (may be traced)
    h_full: int | None = None  # a band of rows: the whole image's height
    psf_shape: tuple[int, int] | None = None  # the PSF grid (a PSF model is drawn on it)
    cmos: tuple[float, float, float] | None = None  # CMOS sensitive square (size, dx, dy)

    @classmethod
    def of(
        cls, spec: ImageSpec, settings: RenderSettings | None = None, points: bool = False
    ) -> _Grid:
        """Grid for ``spec``; ``points``: whether the scene has point sources."""
        settings = settings or RenderSettings()
        h, w = spec.shape
        s = spec.oversampling
        if spec.psf_shape is not None:
            ph, pw = spec.psf_shape
            mh, mw = ph // 2, pw // 2
        else:
            ph = pw = 1
            mh = mw = 0
        hf, wf = h * s + 2 * mh, w * s + 2 * mw
        fft = (next_fast_len(hf + ph - 1), next_fast_len(wf + pw - 1))
        kernel = None if settings.point_interp == "fourier" else settings.point_interp
        method = settings.convolution
        if method == "auto":
            # Fourier point sources need the transform anyway: then the FFT is cheaper
            if points and kernel is None and spec.psf_shape is not None:
                method = "fft"
            else:
                method = choose_convolution((hf, wf), (ph, pw), fft)
        x0, y0 = -0.5 + 0.5 / s - mw / s, -0.5 + 0.5 / s - mh / s
        if spec.cmos is not None:
            _check_cmos(settings, points, spec)
            # nodes at the sensitive squares' centres (for even s a node is moved onto
            # the pixel centre first)
            even = 0.5 / s if s % 2 == 0 else 0.0
            x0, y0 = x0 + spec.cmos[1] + even, y0 + spec.cmos[2] + even
        return cls(
            h,
            w,
            s,
            spec.psf_shape is not None,
            mh,
            mw,
            hf,
            wf,
            x0,
            y0,
            fft,
            method,
            kernel,
            psf_shape=spec.psf_shape,
            cmos=spec.cmos,
        )

    @property
    def fine(self):
        """The grid tuple of :mod:`._integrate`; on a CMOS image with a fifth entry,
        the side of the sensitive square integrated around each node (image pixels)."""
        if self.cmos is None:
            return (self.x0, self.y0, self.s, (self.hf, self.wf))
        return (self.x0, self.y0, self.s, (self.hf, self.wf), self.cmos[0])

    def bin(self, img):
        """Fine grid (..., H s, W s) -> image pixels: the sum of each s x s block, or on a
        CMOS image the node at each sensitive square's centre (the nodes hold integrals
        over whole squares, :func:`cmos_point_response`)."""
        if self.cmos is None:
            return bin_image(img, self.s)
        k = (self.s - 1) // 2
        return img[..., k :: self.s, k :: self.s]

    def point_spectra(self, pts):
        """Fourier spectra of point sources on the fine grid (phase ramps; on a CMOS
        image times :func:`cmos_point_response`)."""
        spec = point_spectra(pts, self.fft_shape)
        if self.cmos is None:
            return spec
        return spec * cmos_point_response(self.cmos[0], self.s, self.fft_shape)[None]

    def sky_shape(self):
        """The whole image's (H, W), also for a band of its rows."""
        return (self.h if self.h_full is None else self.h_full, self.w)

    def sky_offsets(self):
        h_full = self.h if self.h_full is None else self.h_full
        dx = jnp.arange(self.w)[None, :] - (self.w - 1) / 2.0 + jnp.zeros((self.h, 1))
        dy = jnp.arange(self.h)[:, None] + self.row0 - (h_full - 1) / 2.0 + jnp.zeros((1, self.w))
        return dx, dy

    def band(self, n_rows: int, psf_shape) -> _Grid:
        """The grid of ``n_rows`` image rows (first row set later by :meth:`at_row`)."""
        hf = n_rows * self.s + 2 * self.mh
        ph = 1 if psf_shape is None else psf_shape[0]
        fft = (next_fast_len(hf + ph - 1), self.fft_shape[1])
        return replace(self, h=n_rows, hf=hf, fft_shape=fft, h_full=self.h)

    def at_row(self, row0) -> _Grid:
        """This band grid starting at image row ``row0`` (may be traced)."""
        return replace(self, y0=self.y0 + row0, row0=row0)

    def point_coords(self, prm, inputs):
        """(K, 3) [col, row, flux] of point sources on the fine grid."""
        if "sip" in inputs:
            pc = jax.vmap(lambda sky: pixel_of_sky(_geom(inputs), sky))(prm[:, :2])
        else:
            cdinv = jnp.linalg.inv(inputs["cd"])
            pc = inputs["crpix"][None, :] + (prm[:, :2] - inputs["ref"][None, :]) @ cdinv.T
        col = (pc[:, 0] - self.x0) * self.s
        row = (pc[:, 1] - self.y0) * self.s
        flux = prm[:, 2]
        if self.has_psf and self.point_kernel is None:
            flux = jnp.where(self.psf_reaches(col, row), flux, 0.0)
        return jnp.stack([col, row, flux], axis=1)

    def psf_reaches(self, col, row):
        """Whether the PSF stamp of a point at fine-grid (``col``, ``row``) can overlap
        the image (bool, the shape of ``col``).

        A Fourier phase ramp places its delta modulo the transform size, so a point far
        outside the grid would wrap around into the image; the points for which this is
        False are dropped (their stamp lies wholly outside, so they contribute nothing).
        Those for which it is True sit within the grid and its PSF margin, where the
        zero padding keeps every wrapped sample out of the cropped image. The test
        counts the neighbouring integer pixel of a fractional position, so a point up to
        one fine pixel further out is kept (its stamp's edge then reaches the image).
        """
        ph, pw = self.psf_shape
        cy, cx = ph // 2, pw // 2
        # stamp pixels of a point at integer p cover p - c .. p - c + P - 1
        r_lo, r_hi = self.mh - (ph - cy), self.mh + self.h * self.s + cy
        c_lo, c_hi = self.mw - (pw - cx), self.mw + self.w * self.s + cx
        return (row > r_lo) & (row < r_hi) & (col > c_lo) & (col < c_hi)

    @property
    def bicubic_points(self) -> bool:
        """Point sources are PSF images interpolated at pixel centres, not convolved."""
        return self.has_psf and self.point_kernel == "bicubic"

    def point_image(self, pts, psf):
        """Bicubic point sources at image resolution, (H, W) (:mod:`._bicubic`)."""
        inner = pts - jnp.array([self.mw, self.mh, 0.0])  # the grid without its margin
        return self.bin(bicubic_point_image(inner, psf, (self.h * self.s, self.w * self.s)))

    def finish(self, conv, pts, psf):
        """Convolve (with points), crop and bin: fine grid -> (H, W)."""
        extra = None
        if pts is not None and self.bicubic_points:
            extra, pts = self.point_image(pts, psf), None
        elif pts is not None and (self.point_kernel is not None or not self.has_psf):
            conv = deposit_points(conv, pts, self.point_kernel or "bilinear")
            pts = None
        if self.has_psf:
            response = None
            if self.cmos is not None:
                response = cmos_point_response(self.cmos[0], self.s, self.fft_shape)
            conv = convolve_with_points(conv, psf, pts, self.fft_shape, self.method, response)
            conv = conv[self.mh : self.mh + self.h * self.s, self.mw : self.mw + self.w * self.s]
        out = self.bin(conv)
        return out if extra is None else out + extra


def cmos_point_response(size: float, s: int, fft_shape) -> np.ndarray:
    """Fourier multiplier (Ny, Nx // 2 + 1) of a point source on a CMOS image.

    A render-grid node of a CMOS image holds the integral over a sensitive square of
    side ``size * s`` grid pixels around it. Plain point sources are PSF images (the PSF
    acting as what a whole grid pixel records of a star); here that pixel box response,
    sinc(nu), is swapped for the square's, (size s)^2 sinc(size s nu), per axis (nu in
    cycles per grid pixel, |nu| <= 1/2, where sinc(nu) >= 2 / pi). With size s = 1 it
    is 1.

    Examples
    --------
    >>> float(cmos_point_response(0.5, 1, (8, 8))[0, 0])
    0.25
    >>> bool(np.allclose(cmos_point_response(1.0, 1, (8, 8)), 1.0))
    True
    """
    ny, nx = fft_shape
    w = size * s
    fy, fx = np.fft.fftfreq(ny), np.fft.rfftfreq(nx)
    ry = w * np.sinc(w * fy) / np.sinc(fy)
    rx = w * np.sinc(w * fx) / np.sinc(fx)
    return ry[:, None] * rx[None, :]


def _check_cmos(settings: RenderSettings, points: bool, spec: ImageSpec) -> None:
    """Raise ``ValueError`` for render options that CMOS images do not support."""
    if settings.subpixel_shift is not None or settings.sampling == "imfit":
        raise ValueError(
            "CMOS images need settings.subpixel_shift=None and sampling 'adaptive' or "
            f"'center' (got subpixel_shift={settings.subpixel_shift!r}, "
            f"sampling={settings.sampling!r})"
        )
    if points and (spec.psf_shape is None or settings.point_interp != "fourier"):
        raise ValueError(
            "point sources on a CMOS image need a PSF and point_interp='fourier' (got "
            f"psf={'none' if spec.psf_shape is None else spec.psf_shape}, "
            f"point_interp={settings.point_interp!r})"
        )


def next_fast_len(n: int) -> int:
    """The smallest 2^a 3^b 5^c >= n: a fast size for a real FFT (scipy.fft's rule,
    without importing scipy.fft, 0.5 s of start-up).

    Examples
    --------
    >>> [next_fast_len(n) for n in (1, 7, 97, 1000, 1001)]
    [1, 8, 100, 1000, 1024]
    """
    best = 1
    while best < n:
        best *= 2
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = p35
            while q < n:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


def _has_points(layout: Layout) -> bool:
    return any(issubclass(typ, PointLike) for typ, _ in layout.groups)


def _has_mixtures(layout: Layout) -> bool:
    return any(issubclass(typ, MixtureProfile) for typ, _ in layout.groups)


def _geom(inputs):
    """The pixel -> sky map of :mod:`._integrate` (with SIP coefficients: 4 entries)."""
    if "sip" in inputs:
        return (inputs["cd"], inputs["crpix"], inputs["ref"], inputs["sip"])
    return (inputs["cd"], inputs["crpix"], inputs["ref"])


def _check_sip(settings: RenderSettings, inputs) -> None:
    if "sip" in inputs and (settings.subpixel_shift is not None or settings.sampling == "imfit"):
        raise ValueError(
            "SIP images need settings.subpixel_shift=None and sampling 'adaptive' or "
            f"'center' (got {settings.subpixel_shift!r}, {settings.sampling!r})"
        )


def _with_live_psf(layout, g: _Grid, p, inputs):
    """``inputs`` with ``"psf"`` drawn from the scene's PSF model (unchanged without
    one)."""
    live = live_psf_group(layout)
    if live is None:
        return inputs
    typ, rows = live
    prm = p[np.asarray(rows[0], dtype=int)]
    return {**inputs, "psf": draw_psf_model(typ, prm, g.psf_shape, g.s, inputs["cd"])}


def _psf_mixture(g: _Grid, inputs, layout=None, p=None):
    """The PSF's Gaussian mixture (K, 6) for mixture profiles (:data:`NO_PSF` without a
    PSF); from the parameters of a ``mixture_psf<K>`` model when the scene has one."""
    live = None if layout is None else live_psf_group(layout)
    if live is not None:
        typ, rows = live
        return live_mixture_rows(typ, p[np.asarray(rows[0], dtype=int)], inputs["cd"])
    if not g.has_psf:
        return jnp.asarray(NO_PSF)
    if "psf_mixture" not in inputs:
        raise ValueError(
            "the scene has Gaussian-mixture profiles and the image a PSF, but the inputs "
            "have no 'psf_mixture': build them with image_inputs(image, layout)"
        )
    return inputs["psf_mixture"]


def make_renderer(layout: Layout, spec: ImageSpec, settings: RenderSettings):
    """Build ``render(p, inputs) -> (H, W)`` for a scene structure and an image structure.

    ``p`` is the full parameter vector (see :mod:`scenefit._layout`); ``inputs`` is
    :func:`image_inputs`. The function is pure and traceable (jit/grad/vmap). With a
    PSF model in the scene, the PSF is drawn from its parameters and ``inputs["psf"]``
    is not used.

    Raises
    ------
    ValueError
        If the scene has more than one PSF model, or one and Gaussian-mixture profiles.
    """
    spec = live_psf_spec(layout, spec)
    g = _Grid.of(spec, settings, _has_points(layout))
    render_group = render_centred_group if settings.subpixel_shift else render_profile_group

    def render(p, inputs):
        _check_sip(settings, inputs)
        inputs = _with_live_psf(layout, g, p, inputs)
        conv = jnp.zeros((g.hf, g.wf))
        points = []
        post = jnp.zeros((g.h, g.w))  # added after the convolution: skies, mixtures
        for typ, prm in layout.group_params(p):
            if issubclass(typ, MixtureProfile):
                mix = _psf_mixture(g, inputs, layout, p)
                order = settings.mixture_pixel_order
                post = post + render_mixture_group(
                    typ, prm, (g.h, g.w), _geom(inputs), mix, order, g.cmos
                )
            elif issubclass(typ, EllipticalProfile):
                conv = conv + render_group(typ, prm, g.fine, _geom(inputs), settings)
            elif issubclass(typ, PointLike):
                points.append(g.point_coords(prm, inputs))
            elif issubclass(typ, SkyModel):
                post = post + typ.evaluate_on(prm, *g.sky_offsets(), g.sky_shape())
            elif issubclass(typ, PSFModel):
                continue  # drawn above, by _with_live_psf
            else:  # pragma: no cover - guarded by the model registry
                raise TypeError(f"cannot render component type {typ.__name__}")
        pts = jnp.concatenate(points) if points else None
        return g.finish(conv, pts, inputs["psf"]) + post

    return render


def make_model_jacobian(layout: Layout, spec: ImageSpec, settings: RenderSettings):
    """Build ``jac(p, inputs) -> (F, H, W)``: d model / d x for the free parameters x.

    Block-sparse: each component is differentiated only with respect to its own
    parameters, the derivative images of profiles and point sources go through the
    same (linear) PSF convolution as the model, and ties are summed into their
    leader's column. Equal to ``jax.jacfwd`` of the renderer composed with
    ``layout.expand``, at a fraction of the cost when there are many components.
    """
    both = make_model_and_jacobian(layout, spec, settings)
    return lambda p, inputs: both(p, inputs)[1]


def make_model_and_jacobian(layout: Layout, spec: ImageSpec, settings: RenderSettings):
    """Build ``f(p, inputs) -> (model (H, W), jac (F, H, W))`` in one forward pass: the
    model is assembled from the primal images that the Jacobian's forward-mode pass
    computes anyway (one copy of each profile in the compiled program, not two)."""
    spec = live_psf_spec(layout, spec)
    g = _Grid.of(spec, settings, _has_points(layout))
    return partial(_model_and_jacobian, layout, g, settings, None)


def band_rows_supported(layout: Layout, spec: ImageSpec, settings: RenderSettings) -> bool:
    """Whether :func:`make_band_model_and_jacobian` handles this problem: not with
    sub-pixel re-centring, nor point sources drawn through a PSF (Fourier phase ramps
    or bicubic interpolation of the PSF image), nor Gaussian-mixture profiles, nor a
    PSF model (its Jacobian columns need the whole convolved image)."""
    points_with_psf = _has_points(layout) and spec.psf_shape is not None
    mixtures = any(issubclass(typ, MixtureProfile) for typ, _ in layout.groups)
    live = any(issubclass(typ, PSFModel) for typ, _ in layout.groups)
    plain = spec.cmos is None
    return (
        plain and not settings.subpixel_shift and not points_with_psf and not mixtures and not live
    )


def make_band_model_and_jacobian(
    layout: Layout, spec: ImageSpec, settings: RenderSettings, n_rows: int
):
    """Build ``f(p, inputs, row0) -> (model (n_rows, W), jac (F, n_rows, W))``: the
    rows ``row0 .. row0 + n_rows - 1`` of :func:`make_model_and_jacobian`'s outputs
    (rows past the image bottom hold finite values of no meaning), so that J^T J can be
    accumulated band by band in bounded memory. Each band is rendered with the PSF's
    half-height of margin, so the rows equal the full-image ones.

    Raises
    ------
    ValueError
        If :func:`band_rows_supported` is false for the problem.
    """
    if not band_rows_supported(layout, spec, settings):
        raise ValueError(
            "banded Jacobians need settings.subpixel_shift=None, no point sources "
            "drawn through a PSF, no Gaussian-mixture profiles and no PSF model"
        )
    g = _Grid.of(spec, settings, _has_points(layout))
    band = g.band(int(n_rows), spec.psf_shape)

    def f(p, inputs, row0):
        return _model_and_jacobian(layout, band.at_row(row0), settings, g.fine, p, inputs)

    return f


def _model_and_jacobian(layout, g, settings, frame, p, inputs):
    """Model and block-sparse Jacobian on the grid ``g`` (``frame``: the full grid when
    ``g`` is a band of it)."""
    group_jacobian = centred_group_jacobian if settings.subpixel_shift else profile_group_jacobian
    _check_sip(settings, inputs)
    free_pos = {i: j for j, i in enumerate(layout.free_index)}
    n_free = layout.n_free
    inputs = _with_live_psf(layout, g, p, inputs)

    def column_of(i):
        return free_pos.get(layout.leader[i], -1)

    conv = jnp.zeros((g.hf, g.wf))
    points = []
    post = jnp.zeros((g.h, g.w))  # added after the convolution: skies, mixtures
    conv_imgs, conv_cols = [], []
    spectra, spec_cols = [], []
    direct, direct_cols = [], []
    live, mixture_groups = None, []
    for (typ, rows), (_, prm) in zip(layout.groups, layout.group_params(p), strict=True):
        cols = np.array([[column_of(i) for i in r] for r in rows]).ravel()
        keep = np.flatnonzero(cols >= 0)
        k, npar = prm.shape
        if issubclass(typ, PSFModel):
            live = (typ, prm, cols, keep)  # drawn above; its columns once conv is done
        elif issubclass(typ, MixtureProfile):
            mix, order = _psf_mixture(g, inputs, layout, p), settings.mixture_pixel_order
            args = (typ, prm, (g.h, g.w), _geom(inputs), mix, order, g.cmos)
            mixture_groups.append((typ, prm))
            if keep.size == 0:
                post = post + render_mixture_group(*args)
                continue
            total, d = mixture_group_jacobian(*args)
            post = post + total
            direct.append(d.reshape(k * npar, g.h, g.w)[keep])
            direct_cols.append(cols[keep])
        elif issubclass(typ, EllipticalProfile):
            if keep.size == 0:
                if settings.subpixel_shift:
                    img = render_centred_group(typ, prm, g.fine, _geom(inputs), settings)
                else:
                    img = render_profile_group(typ, prm, g.fine, _geom(inputs), settings, frame)
                conv = conv + img
                continue
            if settings.subpixel_shift:
                total, d = group_jacobian(typ, prm, g.fine, _geom(inputs), settings)
            else:
                total, d = group_jacobian(typ, prm, g.fine, _geom(inputs), settings, frame)
            conv = conv + total
            conv_imgs.append(d.reshape(k * npar, g.hf, g.wf)[keep])
            conv_cols.append(cols[keep])
        elif issubclass(typ, PointLike):
            points.append(g.point_coords(prm, inputs))
            if keep.size == 0:
                continue
            if g.bicubic_points:
                d = jax.lax.map(partial(_bicubic_point_derivative, g, inputs), prm)
                direct.append(d.reshape(k * npar, g.h, g.w)[keep])
                direct_cols.append(cols[keep])
                continue
            d = jax.lax.map(lambda q: _point_derivative(g, q, inputs), prm)
            if g.has_psf and g.point_kernel is None:
                spectra.append(d.reshape((k * npar,) + d.shape[2:])[keep])
                spec_cols.append(cols[keep])
            else:
                conv_imgs.append(d.reshape(k * npar, g.hf, g.wf)[keep])
                conv_cols.append(cols[keep])
        elif issubclass(typ, SkyModel):
            post = post + typ.evaluate_on(prm, *g.sky_offsets(), g.sky_shape())
            if keep.size == 0:
                continue
            d = jax.lax.map(partial(_sky_derivative, typ, g.sky_offsets(), g.sky_shape()), prm)
            # a flat sky's derivative is a constant image: without the barrier XLA
            # constant-folds its scatter into J, seconds of compilation for big images
            d = jax.lax.optimization_barrier(d)
            direct.append(d.reshape(k * npar, g.h, g.w)[keep])
            direct_cols.append(cols[keep])
    pts = jnp.concatenate(points) if points else None
    model = g.finish(conv, pts, inputs["psf"]) + post
    if live is not None and live[3].size:
        mixtures = (mixture_groups, settings.mixture_pixel_order)
        direct.append(_psf_model_derivative(g, conv, pts, inputs, mixtures, *live))
        direct_cols.append(live[2][live[3]])
    blocks, block_cols = [], []
    if conv_imgs or spectra:
        blocks.append(_finish_batch(g, conv_imgs, spectra, inputs["psf"]))
        block_cols += conv_cols + spec_cols
    if direct:
        blocks += direct
        block_cols += direct_cols
    d_all = jnp.concatenate(blocks)
    ids = np.concatenate(block_cols)
    return model, _columns(d_all, ids, n_free)


def _columns(d_all, ids, n_free):
    """The derivative images ``d_all`` (M, H, W) summed into the ``n_free`` Jacobian
    columns ``ids`` (M,) name (tied parameters share a column). Without ties every
    column appears once: then a reordering (none when ``ids`` is in order) instead of
    a scatter-add into zeros, which costs two passes over the whole Jacobian."""
    if ids.size == n_free and np.array_equal(np.sort(ids), np.arange(n_free)):
        order = np.argsort(ids)
        return d_all if np.array_equal(order, np.arange(n_free)) else d_all[order]
    return jax.ops.segment_sum(d_all, jnp.asarray(ids), num_segments=n_free)


def _psf_model_derivative(g: _Grid, conv, pts, inputs, mixtures, typ, prm, cols, keep):
    """d model / d(PSF model parameters) at image resolution, (len(keep), H, W).

    The model is linear in the PSF image, so this is the unconvolved grid (profiles and
    point sources) finished with d PSF / d param instead of the PSF: forward mode over
    the parameters of the PSF only, one convolution per parameter. Gaussian-mixture
    profiles (``mixtures``: their groups and pixel order) depend on a mixture PSF's
    parameters through their analytic convolution, so they are redrawn in the same
    forward pass."""
    groups, order = mixtures

    def image(q):
        psf = draw_psf_model(typ, q, g.psf_shape, g.s, inputs["cd"])
        out = g.finish(conv, pts, psf)
        if groups:
            mix = live_mixture_rows(typ, q, inputs["cd"])
            for mtyp, mprm in groups:
                out = out + render_mixture_group(
                    mtyp, mprm, (g.h, g.w), _geom(inputs), mix, order, g.cmos
                )
        return out

    d = jax.jacfwd(image)(prm[0])  # (H, W, P)
    return jnp.moveaxis(d, -1, 0)[keep]


def _sky_derivative(typ, offsets, shape, prm):
    """d/d(params) of one sky component, (P, H, W)."""
    dx, dy = offsets
    return jnp.moveaxis(jax.jacfwd(lambda v: typ.evaluate_on(v[None], dx, dy, shape))(prm), -1, 0)


def _bicubic_point_derivative(g: _Grid, inputs, prm):
    """d/d(x, y, flux) of one bicubic point source at image resolution, (3, H, W)."""

    def image(q):
        return g.point_image(g.point_coords(q[None], inputs), inputs["psf"])

    return jnp.moveaxis(jax.jacfwd(image)(prm), -1, 0)


def _point_derivative(g: _Grid, prm, inputs):
    """d/d(x, y, flux) of one point source before convolution.

    With a PSF and Fourier placement: its Fourier spectrum (3, Ny, Nx // 2 + 1);
    otherwise the interpolation-kernel deposit on the fine grid (3, Hf, Wf).
    """

    def spectrum(q):
        return g.point_spectra(g.point_coords(q[None], inputs))[0]

    def deposit(q):
        pts = g.point_coords(q[None], inputs)
        return deposit_points(jnp.zeros((g.hf, g.wf)), pts, g.point_kernel or "bilinear")

    if g.has_psf and g.point_kernel is None:
        re = jax.jacfwd(lambda q: jnp.real(spectrum(q)))(prm)
        im = jax.jacfwd(lambda q: jnp.imag(spectrum(q)))(prm)
        return jnp.moveaxis(re + 1j * im, -1, 0)
    return jnp.moveaxis(jax.jacfwd(deposit)(prm), -1, 0)


def _finish_batch(g: _Grid, imgs, spectra, psf):
    """Convolve (the same method as the renderer), crop and bin a stack of fine-grid
    images and point spectra."""
    if not g.has_psf:
        return g.bin(jnp.concatenate(imgs))
    ny, nx = g.fft_shape
    parts = []
    if imgs and g.method == "fft":
        spectra = [jnp.fft.rfft2(jnp.concatenate(imgs), s=(ny, nx))] + list(spectra)
    elif imgs:
        parts.append(convolve(jnp.concatenate(imgs), psf, g.method, g.fft_shape))
    if spectra:
        spec = jnp.concatenate(spectra)
        out = jnp.fft.irfft2(spec * jnp.fft.rfft2(psf, s=(ny, nx))[None], s=(ny, nx))
        ph, pw = psf.shape
        parts.append(out[:, ph // 2 : ph // 2 + g.hf, pw // 2 : pw // 2 + g.wf])
    out = jnp.concatenate(parts)
    out = out[:, g.mh : g.mh + g.h * g.s, g.mw : g.mw + g.w * g.s]
    return g.bin(out)


@lru_cache(maxsize=64)
def _compiled(layout: Layout, spec: ImageSpec, settings: RenderSettings):
    return jax.jit(make_renderer(layout, spec, settings))


def render(scene, image, settings: RenderSettings | None = None) -> np.ndarray:
    """Model image of ``scene`` on ``image``'s pixels (image units per pixel).

    Parameters
    ----------
    scene : Scene
    image : Image
        Supplies the pixel grid, the pixel -> sky map and the PSF; its data are unused.
    settings : RenderSettings, optional

    Returns
    -------
    ndarray (H, W)

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, Gaussian
    >>> img = Image(np.zeros((32, 32)))
    >>> m = render(Scene([Gaussian(x=0, y=0, flux=10, sigma=2, q=1, pa=0)]), img)
    >>> round(float(m.sum()), 4)
    10.0
    """
    check_scene_and_image(scene, image)
    settings = settings or RenderSettings()
    layout, vals, _ = build_layout(scene)
    fn = _compiled(layout, image_spec(image), settings)
    return np.asarray(fn(jnp.asarray(vals.base), image_inputs(image, layout)))


def check_scene_and_image(scene, image) -> None:
    """Raise ``TypeError`` unless ``scene`` is a Scene and ``image`` an Image."""
    from ..image import Image
    from ..scene import Scene

    if not isinstance(scene, Scene):
        raise TypeError(
            f"expected a Scene, got {type(scene).__name__} (wrap components in Scene([...]))"
        )
    if isinstance(image, (list, tuple)):
        raise TypeError(
            f"expected an Image, got a {type(image).__name__} of {len(image)}; fit several "
            "images jointly with scenefit.fit_joint(scene, images)"
        )
    if not isinstance(image, Image):
        raise TypeError(
            f"expected an Image, got {type(image).__name__} (build one with Image(data, ...))"
        )
