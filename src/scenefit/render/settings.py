"""Accuracy knobs for rendering (a small immutable settings value, like GalSim's GSParams)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._psf_options import check_psf_options

__all__ = ["RenderSettings", "SAMPLING_MODES"]

#: accepted values of :attr:`RenderSettings.sampling`
SAMPLING_MODES = ("adaptive", "imfit", "center")


@dataclass(frozen=True)
class RenderSettings:
    """How finely pixels are integrated.

    With ``sampling="adaptive"`` (the default, the accurate scheme) every (fine) pixel
    is integrated with a ``quad_order`` x ``quad_order`` Gauss-Legendre rule. Around
    each profile centre, a ``refine_size`` x ``refine_size`` block of pixels is instead
    split into ``refine_factor`` x ``refine_factor``
    sub-pixels, each integrated with the same rule, and the cells nearest the centre
    are split again ``refine_levels - 1`` times, to follow steep cores.

    Parameters
    ----------
    quad_order : int
        Gauss-Legendre points per axis per pixel (1 = pixel-centre sampling).
    refine_size : int
        Width in pixels (odd) of the block around each centre integrated exactly (edge
        integrals of the enclosed light; nested refinement for laws without one);
        0 disables it.
    refine_factor : int
        Sub-cells per axis when a cell is refined.
    rel_tol : float or None
        Per-pixel error budget of the adaptive scheme (default 1e-4): relative to the
        pixel for pixels brighter than 1e-3 of the component's brightest pixel, else
        rel_tol x 1e-3 of that peak. Pixels whose estimated error (|GL_k - GL_(k-1)|)
        exceeds it are re-integrated on ``refine_factor`` x ``refine_factor`` sub-cells,
        at most ``refine_pixels`` cells per round, in up to ``refine_rounds`` rounds
        (a round runs only if some cell still exceeds the budget). ``None``: no
        error-driven refinement (:meth:`fast`). The core block (``refine_size``) is
        integrated exactly from the enclosed light for every built-in profile.
    refine_pixels : int
        Static number of cells re-integrated per round (default 512).
    refine_rounds : int
        Rounds of error-driven refinement (default 2).
    refine_ladder : bool
        Run a round in four chunks of ``refine_pixels`` / 4 cells and skip the chunks
        that hold no cell to refine (the same image, for less work: 137-190 of 512
        cells need it on a 64 x 64 Sersic cutout). Under ``jax.vmap`` every chunk
        would run, so the vectorised batch fitter turns it off (default True).
    refine_window : int
        Side (render-grid pixels, odd: the window is centred on the centre's pixel) of
        the window around each profile centre in which the ``quad_order`` rule, the
        error estimates, the exact core and the refinement apply (default 65). Beyond
        it pixels get the ``far_order`` rule: profiles are smooth there on the pixel
        scale, and the image-wide cost drops.
    far_order : int
        Gauss-Legendre points per axis beyond the window (default 2).
    refine_levels : int
        Levels of nested refinement: level 0 is the ``refine_size`` block of pixels;
        each further level splits the 3 x 3 cells of the previous level's size around
        the centre again by ``refine_factor`` (geometric grading towards the cusp,
        down to 1 / refine_factor**refine_levels of a pixel).
    sampling : {"adaptive", "imfit", "center"}
        ``"adaptive"``: the scheme above. ``"imfit"``: Imfit's (and GALFIT's) rule, to
        reproduce Imfit's ``makeimage`` pixel by pixel: each elliptical profile is
        sampled at pixel centres, except pixels whose centre lies at elliptical radius
        r < 10 pixels from the component centre, which are the mean of N x N samples
        at sub-pixel centres, with N = 20 for r <= r_in (4 px for Sersic, 3 px for the
        others), N = min(100, int(20 / r)) beyond, and N = min(100, int(k / scale))
        for r <= 1 px when the component's scale length (Sersic r_e, exponential h,
        Gaussian sigma, Moffat alpha) is <= 1 px (k = 20 for Sersic and exponential,
        40 for Gaussian and Moffat). Distances are in render-grid pixels.
        ``"center"``: pixel-centre sampling only (Imfit's ``--nosubsampling``).
        ``quad_order`` and the ``refine_*`` fields are ignored unless ``"adaptive"``.
    sersic_bn : {"exact", "series"} or None
        The Sersic b_n rule used for both the profile and the flux <-> I_e
        conversion: ``"exact"`` (r_e encloses half the light) or ``"series"`` (Ciotti &
        Bertin 1999 / MacArthur et al. 2003, as Imfit and GALFIT). ``None`` (default)
        means ``"series"`` when ``sampling="imfit"`` and ``"exact"`` otherwise.
    convolution : {"auto", "fft", "direct"}
        PSF convolution by zero-padded FFT or in real space; ``"auto"`` (default) picks
        the faster by a cost model measured on a CPU (direct only for PSFs of about
        5 x 5 render-grid pixels or smaller). Both give the same image to rounding.
    subpixel_shift : {None, "lanczos3", "bilinear"}
        ``None`` (default): profiles are integrated where they are. Otherwise each
        profile is integrated centred on a pixel and moved to its sub-pixel centre by
        this interpolation before convolution (AstroPhot's re-centring). See the PSF
        section of ``docs/conventions.md`` for when it helps.
    point_interp : {"fourier", "lanczos3", "cubic", "bilinear", "bicubic"}
        How a point source's PSF is placed at its sub-pixel position: ``"fourier"``
        (default) an exact band-limited shift (phase ramp); ``"lanczos3"``, ``"cubic"``,
        ``"bilinear"``: the PSF image interpolated with that kernel, flux-normalised
        (photutils ePSF style); ``"bicubic"``: Imfit's ``PointSource`` rule, the PSF
        interpolated by a bicubic spline (GSL's ``interp2d_bicubic``: Hermite patches
        with natural-spline node derivatives) and sampled at pixel centres, zero beyond
        the PSF image (flux not renormalised; :mod:`._bicubic`). ``imfit()`` selects it.
    mixture_pixel_order : {2, 4}
        Pixel integration of Gaussian-mixture profiles (``SersicGM``, the fast path of
        ``docs/mixture.md``): ``2`` (default) adds the pixel's variance, 1/12 px^2 per
        axis, to every Gaussian (error ~2.1e-3 / s^4 of a Gaussian's peak, s its total
        sigma in pixels); ``4`` also corrects for the box's fourth cumulant (error
        ~1.7e-4 / s^6; the Jacobian costs about 2x more). See :mod:`._mixture`.

    Notes
    -----
    Measured accuracy of the default against an independent brute-force integration
    (``docs/accuracy.md``, ``scripts/measure_integration_accuracy.py``): per-pixel
    relative error below 1e-4 for pixels brighter than 1e-3 of the peak, Sersic n up to
    8, r_e down to 0.3 px, q down to 0.2.

    Examples
    --------
    >>> RenderSettings().quad_order
    3
    >>> RenderSettings(sampling="imfit").sersic_bn
    'series'
    >>> RenderSettings.imfit(subsampling=False).sampling
    'center'
    """

    quad_order: int = 3
    refine_size: int = 3
    refine_factor: int = 4
    refine_levels: int = 3
    rel_tol: float | None = 1e-4
    refine_pixels: int = 512
    refine_rounds: int = 2
    refine_ladder: bool = True
    refine_window: int = 65
    far_order: int = 2
    sampling: str = "adaptive"
    sersic_bn: str | None = None
    convolution: str = "auto"
    subpixel_shift: str | None = None
    point_interp: str = "fourier"
    mixture_pixel_order: int = 2

    @classmethod
    def fast(cls) -> RenderSettings:
        """The coarser, faster integration: no error-driven refinement (``rel_tol=None``),
        only the fixed 3 x 3 Gauss-Legendre rule and the exact 3 x 3 core
        (``docs/accuracy.md`` lists its measured errors and speed)."""
        return cls(rel_tol=None)

    def coarse(self) -> RenderSettings | None:
        """The cheaper rule a staged fit iterates on first (:func:`scenefit.fit`): these
        settings without error-driven refinement, with the ``quad_order`` rule and the
        exact core in a window of at most 33 pixels and pixel-centre sampling beyond
        it; ``None`` when there is no cheaper rule (no error-driven refinement to drop,
        or a non-adaptive ``sampling``).

        Examples
        --------
        >>> RenderSettings().coarse().far_order, RenderSettings().coarse().rel_tol
        (1, None)
        >>> RenderSettings.fast().coarse() is None
        True
        """
        refines = self.quad_order >= 2 and self.refine_pixels > 0 and self.refine_rounds > 0
        if self.sampling != "adaptive" or self.rel_tol is None or not refines:
            return None
        return replace(self, rel_tol=None, far_order=1, refine_window=min(self.refine_window, 33))

    @classmethod
    def imfit(cls, subsampling: bool = True) -> RenderSettings:
        """Settings that reproduce Imfit's ``makeimage`` (``subsampling=False``:
        its ``--nosubsampling``), both with Imfit's series b_n and its bicubic
        point-source placement."""
        return cls(
            sampling="imfit" if subsampling else "center",
            sersic_bn="series",
            point_interp="bicubic",
        )

    def __post_init__(self):
        check_psf_options(self)
        if self.sampling not in SAMPLING_MODES:
            raise ValueError(f"sampling must be one of {SAMPLING_MODES}, got {self.sampling!r}")
        if self.sersic_bn is None:
            bn = "series" if self.sampling == "imfit" else "exact"
            object.__setattr__(self, "sersic_bn", bn)
        if self.sersic_bn not in ("exact", "series"):
            raise ValueError(f"sersic_bn must be 'exact', 'series' or None, got {self.sersic_bn!r}")
        if not (isinstance(self.quad_order, int) and 1 <= self.quad_order <= 10):
            raise ValueError(f"quad_order must be an integer in 1..10, got {self.quad_order!r}")
        if not (isinstance(self.refine_size, int) and self.refine_size >= 0):
            raise ValueError(
                f"refine_size must be a non-negative integer, got {self.refine_size!r}"
            )
        if self.refine_size and self.refine_size % 2 == 0:
            raise ValueError(f"refine_size must be odd, got {self.refine_size}")
        if not (isinstance(self.refine_levels, int) and 1 <= self.refine_levels <= 6):
            raise ValueError(
                f"refine_levels must be an integer in 1..6, got {self.refine_levels!r}"
            )
        if not (isinstance(self.refine_factor, int) and self.refine_factor >= 1):
            raise ValueError(
                f"refine_factor must be a positive integer, got {self.refine_factor!r}"
            )
        if self.rel_tol is not None and not (0.0 < float(self.rel_tol) < 1.0):
            raise ValueError(f"rel_tol must be in (0, 1) or None, got {self.rel_tol!r}")
        if not (
            isinstance(self.refine_window, int)
            and self.refine_window >= 1
            and self.refine_window % 2 == 1
        ):
            raise ValueError(
                f"refine_window must be a positive odd integer, got {self.refine_window!r}"
            )
        if not (isinstance(self.far_order, int) and 1 <= self.far_order <= 10):
            raise ValueError(f"far_order must be an integer in 1..10, got {self.far_order!r}")
        if not isinstance(self.refine_ladder, bool):
            raise ValueError(f"refine_ladder must be True or False, got {self.refine_ladder!r}")
        for name in ("refine_pixels", "refine_rounds"):
            val = getattr(self, name)
            if not (isinstance(val, int) and val >= 0):
                raise ValueError(f"{name} must be a non-negative integer, got {val!r}")
