"""The joint parameterisation of one scene observed in several images.

Every image gets its own copy of the scene (same components, ties, bounds and fixed
flags), which differs from the others only in

* the parameters listed in ``per_band`` (by default each source's ``flux``): one value
  per *band key* (the image's ``band``; an image without a band is its own band, keyed
  by its label), shared by the images of that band;
* every parameter of a sky component (:class:`~scenefit.models.SkyModel`) or of a PSF
  model (:class:`~scenefit.models.PSFModel`, a live PSF): one value per image, keyed by
  the image's label (each image has its own sky and its own PSF).

All other free parameters (positions in tangent-plane arcsec, radii, indices, axis
ratios, angles) are shared. The joint free vector holds each shared parameter once and
each per-band / per-image one once per key, named ``"comp.param"`` and
``"comp.param[key]"``. Image i's free vector (its copy's
:class:`~scenefit._layout.Layout` order) is ``u_joint[index[i]]``: the bound transforms
act element by element, so the unconstrained vectors select the same way and
per-image normal equations add into the joint ones by index.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from .._layout import Layout, LayoutValues, build_layout
from ..models import PSFModel, SkyModel

__all__ = ["JointPlan", "build_plan", "image_labels", "check_images"]


@dataclass(frozen=True)
class JointPlan:
    """How a joint parameter vector maps onto each image's copy of the scene."""

    scenes: tuple  # each image's starting scene
    layout: Layout  # shared by every copy
    values: tuple[LayoutValues, ...]  # per image
    names: tuple[str, ...]  # joint free parameters, vector order
    index: tuple[np.ndarray, ...]  # per image: positions in the joint vector (F_i,)
    kinds: np.ndarray  # (N,) bound kinds
    lo: np.ndarray  # (N,)
    hi: np.ndarray  # (N,)
    x0: np.ndarray  # (N,) starting values, physical units
    labels: tuple[str, ...]  # per image
    keys: tuple[str, ...]  # per image: band key of the per-band parameters
    per_band: tuple[str, ...]  # addresses free per band
    per_image: tuple[str, ...]  # addresses free per image (sky components)


def check_images(images) -> list:
    """``images`` as a list of :class:`~scenefit.Image`, or a clear error."""
    from ..image import Image

    if isinstance(images, Image):
        return [images]
    if isinstance(images, (str, bytes)) or not isinstance(images, Sequence):
        raise TypeError(
            f"images must be a list of Image, got {type(images).__name__}; "
            "for one image use scenefit.fit(scene, image)"
        )
    images = list(images)
    if not images:
        raise ValueError("images is empty: give at least one Image")
    for i, img in enumerate(images):
        if not isinstance(img, Image):
            raise TypeError(
                f"images[{i}] is a {type(img).__name__}, expected an Image "
                "(build one with Image(data, ...) or Image.from_fits)"
            )
    return images


def image_labels(images, labels=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(labels, keys)``: each image's label (names its sky parameters) and band key
    (names its per-band parameters).

    Default labels are the bands when every image has a distinct band, else the
    positions ``"0"``, ``"1"``, ...; the key is the band, or the label for an image
    without one.
    """
    bands = [img.band for img in images]
    if labels is None:
        if all(b is not None for b in bands) and len(set(bands)) == len(bands):
            labels = [str(b) for b in bands]
        else:
            labels = [str(i) for i in range(len(images))]
    else:
        labels = [str(v) for v in labels]
        if len(labels) != len(images):
            raise ValueError(f"got {len(labels)} labels for {len(images)} images")
    if len(set(labels)) != len(labels):
        raise ValueError(f"image labels must be unique, got {labels}")
    for lab in labels:
        if not lab or any(ch in lab for ch in "[]"):
            raise ValueError(f"image label {lab!r} must be non-empty and hold no '[' or ']'")
    keys = [str(b) if b is not None else lab for b, lab in zip(bands, labels, strict=True)]
    named = {str(b) for b in bands if b is not None}
    for i, (b, lab) in enumerate(zip(bands, labels, strict=True)):
        if b is None and lab in named:
            raise ValueError(
                f"images[{i}] has no band and its label {lab!r} is also a band name of "
                "another image: they would share per-band parameters; give it a band"
            )
    zps: dict[str, float] = {}
    for i, (k, img) in enumerate(zip(keys, images, strict=True)):
        if img.zeropoint is None:
            continue
        if k in zps and zps[k] != img.zeropoint:
            raise ValueError(
                f"images of band {k!r} have zero points {zps[k]} and {img.zeropoint} "
                f"(images[{i}]): a shared flux needs one flux unit; rescale the data to "
                "one zero point or give the images different bands"
            )
        zps.setdefault(k, img.zeropoint)
    return tuple(labels), tuple(keys)


def default_per_band(scene) -> tuple[str, ...]:
    """Each non-sky component's ``flux`` (when it is not tied to another parameter)."""
    out = []
    for c in scene.components:
        if isinstance(c, SkyModel) or "flux" not in c.param_names():
            continue
        a = f"{c.name}.flux"
        if scene.leader_of(a) == a:
            out.append(a)
    return tuple(out)


def _sky_addresses(scene) -> tuple[str, ...]:
    """The per-image parameters: those of skies and of a PSF model."""
    return tuple(
        f"{c.name}.{p}"
        for c in scene.components
        if isinstance(c, (SkyModel, PSFModel))
        for p in c.param_names()
    )


def _check_per_band(scene, per_band, sky) -> tuple[str, ...]:
    if per_band is None:
        return default_per_band(scene)
    if isinstance(per_band, str):
        per_band = (per_band,)
    known = scene.addresses()
    out = []
    for a in per_band:
        if a not in known:
            raise ValueError(
                f"per_band names {a!r}, which is not a parameter of the scene; "
                f"parameters are {known}"
            )
        lead = scene.leader_of(a)
        if lead != a:
            raise ValueError(
                f"per_band names {a!r}, which is tied to {lead!r}; list {lead!r} instead"
            )
        if a not in sky and a not in out:  # sky parameters are per image anyway
            out.append(a)
    return tuple(out)


def build_plan(scene, images, per_band=None, start=None, labels=None) -> JointPlan:
    """The joint parameterisation (module docstring).

    Parameters
    ----------
    scene : Scene
        The starting scene (shared values; its per-band and sky values start every
        copy unless ``start`` says otherwise).
    images : list of Image
    per_band : sequence of str, optional
        Addresses free per band; default :func:`default_per_band`.
    start : mapping, optional
        Starting values of per-band / per-image parameters by joint name, e.g.
        ``{"gal.flux[g]": 120.0, "sky.sky[0]": 0.3}``.
    labels : sequence of str, optional
        Image labels (see :func:`image_labels`).

    Raises
    ------
    ValueError
        For unknown or tied ``per_band`` names, unknown ``start`` names, images that
        contain none of the sources, or per-band parameters that no image constrains.
    """
    from ..scene import Scene

    if not isinstance(scene, Scene):
        raise TypeError(
            f"expected a Scene, got {type(scene).__name__} (wrap components in Scene([...]))"
        )
    images = check_images(images)
    labels, keys = image_labels(images, labels)
    sky = _sky_addresses(scene)
    per_band = _check_per_band(scene, per_band, sky)
    if start is not None and not isinstance(start, Mapping):
        raise TypeError(f"start must be a mapping {{joint name: value}}, got {start!r}")
    start = dict(start or {})
    valid = {f"{a}[{k}]" for a in per_band for k in keys}
    valid |= {f"{a}[{lab}]" for a in sky for lab in labels}
    unknown = sorted(set(start) - valid)
    if unknown:
        raise ValueError(
            f"start names {unknown}, which are not per-band or per-image parameters; "
            f"valid names are {sorted(valid)}"
        )

    addresses = scene.addresses()
    pos = {a: i for i, a in enumerate(addresses)}
    base = scene.values()
    scenes, values, index = [], [], []
    names: list[str] = []
    where: dict[str, int] = {}
    x0, kinds, lo, hi = [], [], [], []
    layout = None
    for lab, key in zip(labels, keys, strict=True):
        p = base.copy()
        for a in per_band:
            p[pos[a]] = float(start.get(f"{a}[{key}]", p[pos[a]]))
        for a in sky:
            p[pos[a]] = float(start.get(f"{a}[{lab}]", p[pos[a]]))
        sc = scene.with_values(p)
        lay, vals, xi = build_layout(sc)
        layout = layout or lay
        idx = []
        for j, a in enumerate(lay.free_addresses):
            name = f"{a}[{key}]" if a in per_band else f"{a}[{lab}]" if a in sky else a
            if name not in where:
                where[name] = len(names)
                names.append(name)
                x0.append(xi[j])
                kinds.append(lay.kinds[j])
                lo.append(vals.lo[j])
                hi.append(vals.hi[j])
            idx.append(where[name])
        scenes.append(sc)
        values.append(vals)
        index.append(np.asarray(idx, dtype=int))
    plan = JointPlan(
        scenes=tuple(scenes),
        layout=layout,
        values=tuple(values),
        names=tuple(names),
        index=tuple(index),
        kinds=np.asarray(kinds, dtype=int),
        lo=np.asarray(lo, float),
        hi=np.asarray(hi, float),
        x0=np.asarray(x0, float),
        labels=labels,
        keys=keys,
        per_band=per_band,
        per_image=sky,
    )
    _check_overlap(plan, images)
    return plan


def _centres(scene) -> dict[str, tuple[float, float]]:
    """Tangent-plane centres (arcsec) of the components that have one."""
    out = {}
    for c in scene.components:
        if isinstance(c, SkyModel) or not {"x", "y"} <= set(c.param_names()):
            continue
        out[c.name] = (
            scene.param(scene.leader_of(f"{c.name}.x")).value,
            scene.param(scene.leader_of(f"{c.name}.y")).value,
        )
    return out


def _on_image(img, xi, eta) -> bool:
    """Whether (xi, eta) lies on the image, within half its PSF of an edge."""
    h, w = img.shape
    m = 0 if img.psf is None else max(img.psf.shape) / (2 * img.psf.oversampling)
    x, y = img.sky_to_pixel(xi, eta)
    return bool(-0.5 - m <= x <= w - 0.5 + m and -0.5 - m <= y <= h - 0.5 + m)


def _footprint(img) -> str:
    h, w = img.shape
    xi, eta = img.pixel_to_sky([-0.5, w - 0.5, -0.5, w - 0.5], [-0.5, -0.5, h - 0.5, h - 0.5])
    return (
        f"xi {np.min(xi):.4g} .. {np.max(xi):.4g}, eta {np.min(eta):.4g} .. {np.max(eta):.4g} "
        "arcsec"
    )


def _check_overlap(plan: JointPlan, images) -> None:
    covered: dict[str, set] = {}
    for i, (sc, img) in enumerate(zip(plan.scenes, images, strict=True)):
        cen = _centres(sc)
        if not cen:
            continue  # a scene of skies only: nothing to place
        on = {n for n, (xi, eta) in cen.items() if _on_image(img, xi, eta)}
        if not on:
            where = ", ".join(f"{n} at ({xi:.4g}, {eta:.4g})" for n, (xi, eta) in cen.items())
            raise ValueError(
                f"images[{i}] (label {plan.labels[i]!r}) contains none of the sources: it "
                f"covers {_footprint(img)}, the sources are {where} (tangent-plane "
                "arcsec). Check its crpix / ref_sky, or put WCS images on one tangent "
                "plane with scenefit.common_tangent_plane (fit_joint(align_wcs=True))"
            )
        covered.setdefault(plan.keys[i], set()).update(on)
    for name in plan.names:
        addr, _, key = name.partition("[")
        comp = addr.split(".")[0]
        key = key.rstrip("]")
        if addr in plan.per_band and comp in _centres(plan.scenes[0]):
            if comp not in covered.get(key, set()):
                raise ValueError(
                    f"{name} is not constrained: no image of band {key!r} covers the "
                    f"centre of {comp!r}; fix it or drop that band"
                )
