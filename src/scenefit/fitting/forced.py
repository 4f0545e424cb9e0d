"""forced_photometry(): fluxes of fixed-shape sources in other images, as a linear solve.

Shapes, positions (tangent-plane arcsec) and the PSFs are held fixed; the model of
image i is then linear in the source fluxes and the sky parameters,
``model_i = offset_i + A_i^T theta`` (:mod:`._forced_design`: one render of every
source at unit flux per image through the existing renderer). Images of one band
share the fluxes (as in :func:`~scenefit.fitting.fit_joint`); each image has its own
sky. Per band the weighted normal equations are summed over its images,

    M = sum_i P_i^T (A_i W_i A_i^T) P_i,    b = sum_i P_i^T (A_i W_i (d_i - offset_i)),

and the fluxes (>= 0 with ``nonnegative``) and skies (either sign) minimise chi^2 =
theta^T M theta - 2 b^T theta + const (:func:`._bounded_lsq.solve_bounded`). The
uncertainties are the inverse of M over the variables not at a bound. The answer is
the chi^2 minimum a Levenberg-Marquardt fit with the shapes fixed converges to, in
one step and without iterations.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence

import numpy as np

from ..render import RenderSettings
from ._bounded_lsq import solve_bounded
from ._forced_design import design, linear_scene, source_names
from ._joint_plan import _on_image, check_images, image_labels
from .forced_result import ForcedResult

__all__ = ["forced_photometry"]


def forced_photometry(
    reference,
    images,
    *,
    labels=None,
    fit_sky: bool = True,
    nonnegative: bool = True,
    align_wcs: bool = False,
    center=None,
    settings: RenderSettings | None = None,
) -> ForcedResult:
    """Fluxes of sources with fixed shapes and positions in each band (linear, NNLS).

    Parameters
    ----------
    reference : Scene, FitResult, JointFitResult, astropy Table or list of dict
        The sources, with every shape and position parameter given: a Scene; the
        best-fit scene of a (reference-band) fit; the shared shapes of a joint fit; or
        a catalogue table, one row per source (:func:`scenefit.io.scene_from_catalogue`;
        rows with ``ra``/``dec`` instead of ``x``/``y`` need ``align_wcs``: they are
        projected about its tangent point).
        Their fluxes are ignored (solved for); sky components are kept (solved per
        image with ``fit_sky``, else held at their values). Not modified.
    images : list of Image
        Any sizes, scales, orientations and PSFs, on the reference's tangent plane
        (or put there with ``align_wcs``). Images with the same ``band`` share the
        fluxes; an image without a band is its own band (keyed by its label).
    labels : sequence of str, optional
        Image labels (names of the per-image sky parameters, ``"sky.sky[label]"``);
        default as in :func:`~scenefit.fitting.fit_joint`.
    fit_sky : bool
        Solve the sky components of the scene per image as free linear terms of either
        sign; a scene without one gets a :class:`~scenefit.models.FlatSky` named
        ``"sky"``. False: the scene's sky components (if any) are held fixed.
    nonnegative : bool
        Constrain every flux to >= 0 (bounded least squares); False: ordinary linear
        least squares.
    align_wcs, center
        As in :func:`~scenefit.fitting.fit_joint`.
    settings : RenderSettings, optional
        Integration and convolution rules of the unit-flux renders.

    Returns
    -------
    ForcedResult
        Fluxes, uncertainties and flux covariances between sources per band, skies per
        image, chi^2, models and residuals, and the SED (:meth:`ForcedResult.sed`).

    Raises
    ------
    TypeError
        For a ``reference`` of another type, or ``images`` not a list of Image.
    ValueError
        For an empty image list or catalogue, a scene without sources that have a
        ``flux``, an image that contains none of the sources, a band in which no
        source is constrained, or labels of the wrong number.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Gaussian, Image, Scene, render
    >>> scene = Scene([Gaussian(name="a", x=0, y=0, flux=1, sigma=1.5, q=1, pa=0)])
    >>> blank = Image(np.zeros((21, 21)), sigma=0.01, band="i")
    >>> img = blank.replace(data=render(scene, blank) * 40.0 + 2.0)
    >>> res = forced_photometry(scene, [img])
    >>> round(res.value("a", "i"), 6), round(res.sky["sky.sky[i]"], 6)
    (40.0, 2.0)
    """
    t0 = time.perf_counter()
    images = check_images(images)
    point = None
    if align_wcs:
        from ..tangent import common_tangent_plane, tangent_point

        point = tangent_point(images, center)
        images = common_tangent_plane(images, center=point)
    scene = _reference_scene(reference, point)
    labels, keys = image_labels(images, labels)
    settings = settings or RenderSettings()
    sources = source_names(scene)
    if not sources:
        raise ValueError(
            "the reference has no sources with a flux (only "
            f"{[type(c).__name__ for c in scene.components]}); forced photometry solves "
            "source fluxes"
        )
    if fit_sky and not any(_is_sky(c) for c in scene.components):
        from ..models import FlatSky

        scene = type(scene)([*scene.components, FlatSky(name="sky", sky=0.0)], scene.ties)
    lin = linear_scene(scene, fit_sky)
    _check_overlap(lin, images, labels, sources)
    designs = [design(lin, img, settings) for img in images]
    flux_addr = [f"{s}.flux" for s in sources]
    bands = tuple(dict.fromkeys(keys))
    n_src = len(sources)
    flux = np.full((len(bands), n_src), np.nan)
    cov = np.full((len(bands), n_src, n_src), np.nan)
    at_bound = np.zeros((len(bands), n_src), bool)
    sky, sky_err, models = {}, {}, [None] * len(images)
    dof = 0
    for b, key in enumerate(bands):
        members = [i for i, k in enumerate(keys) if k == key]
        names = list(flux_addr)
        for i in members:
            names += [f"{a}[{labels[i]}]" for a in designs[i].names if a not in flux_addr]
        where = {n: j for j, n in enumerate(names)}
        M, rhs = np.zeros((len(names),) * 2), np.zeros(len(names))
        for i in members:
            idx = np.array(
                [where[a if a in flux_addr else f"{a}[{labels[i]}]"] for a in designs[i].names]
            )
            Mi, bi = _normal(designs[i], images[i])
            M[np.ix_(idx, idx)] += Mi
            rhs[idx] += bi
        ok = np.diag(M) > 0  # unconstrained: a source off every image of the band
        if not ok[:n_src].any():
            raise ValueError(
                f"no source is constrained in band {key!r}: none falls on an unmasked pixel "
                "of its images"
            )
        nonneg = np.arange(len(names)) < n_src if nonnegative else np.zeros(len(names), bool)
        th, bound, c = solve_bounded(M[np.ix_(ok, ok)], rhs[ok], nonneg[ok])
        theta = np.full(len(names), np.nan)
        theta[ok] = th
        full_cov = np.full((len(names),) * 2, np.nan)
        full_cov[np.ix_(ok, ok)] = c
        flux[b] = theta[:n_src]
        cov[b] = full_cov[:n_src, :n_src]
        ab = np.zeros(len(names), bool)
        ab[ok] = bound
        at_bound[b] = ab[:n_src]
        for j in range(n_src, len(names)):
            sky[names[j]] = float(theta[j])
            sky_err[names[j]] = float(np.sqrt(full_cov[j, j]))
        dof -= int(ok.sum() - bound.sum())
        for i in members:
            idx = [where[a if a in flux_addr else f"{a}[{labels[i]}]"] for a in designs[i].names]
            t = np.nan_to_num(theta[idx])
            models[i] = designs[i].offset + np.tensordot(t, designs[i].columns, axes=1)
    dof += int(sum(img.n_valid for img in images))
    chi2 = [
        float(np.sum(img.invvar * np.where(img.invvar > 0, img.data - m, 0.0) ** 2))
        for img, m in zip(images, models, strict=True)
    ]
    return ForcedResult(
        sources=sources,
        bands=bands,
        labels=labels,
        keys=keys,
        images=tuple(images),
        flux=flux,
        covariance=cov,
        at_bound=at_bound,
        sky=sky,
        sky_err=sky_err,
        model_images=tuple(models),
        chi2_images=tuple(chi2),
        dof=dof,
        scene=scene,
        settings=settings,
        seconds=time.perf_counter() - t0,
    )


def _is_sky(c) -> bool:
    from ..models import SkyModel

    return isinstance(c, SkyModel)


def _normal(d, image):
    """``(A W A^T, A W (data - offset))`` of one image's design (masked pixels weight 0)."""
    w = image.invvar.ravel()
    A = d.columns.reshape(d.columns.shape[0], -1)
    r = np.where(w > 0, image.data.ravel() - d.offset.ravel(), 0.0)
    Aw = A * w
    return Aw @ A.T, Aw @ r


def _reference_scene(reference, tangent_point=None):
    """The Scene of a ``reference`` (see :func:`forced_photometry`); a catalogue's
    ra/dec rows are projected about ``tangent_point``."""
    from ..scene import Scene
    from .joint_result import JointFitResult
    from .result import FitResult

    if isinstance(reference, Scene):
        return reference
    if isinstance(reference, FitResult):
        return reference.scene
    if isinstance(reference, JointFitResult):
        return reference.results[0].scene  # shapes are shared; fluxes are re-solved
    if _is_table(reference):
        from ..io.catalogue import scene_from_catalogue

        return scene_from_catalogue(reference, tangent_point=tangent_point)
    raise TypeError(
        f"reference must be a Scene, a FitResult, a JointFitResult or a catalogue table, got "
        f"{type(reference).__name__}"
    )


def _is_table(obj) -> bool:
    if type(obj).__name__ in ("Table", "QTable"):
        return True
    return (
        isinstance(obj, Sequence)
        and not isinstance(obj, (str, bytes))
        and all(isinstance(r, Mapping) for r in obj)
    )


def _check_overlap(scene, images, labels, sources) -> None:
    """Every image must contain at least one source centre (within half its PSF)."""
    cen = {}
    for s in sources:
        c = scene[s]
        if {"x", "y"} <= set(c.param_names()):
            cen[s] = (
                scene.param(scene.leader_of(f"{s}.x")).value,
                scene.param(scene.leader_of(f"{s}.y")).value,
            )
    for i, img in enumerate(images):
        if cen and not any(_on_image(img, xi, eta) for xi, eta in cen.values()):
            where = ", ".join(f"{n} at ({x:.4g}, {y:.4g})" for n, (x, y) in cen.items())
            raise ValueError(
                f"images[{i}] (label {labels[i]!r}) contains none of the sources ({where}, "
                "tangent-plane arcsec): check its crpix / ref_sky or use align_wcs=True"
            )
