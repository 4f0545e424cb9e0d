"""Automatic starting values for an isolated object, from the image itself.

Only parameters without a value (``None``) are filled; every value the user gave is
kept. The estimates, in order:

1. **sky**: sigma-clipped median of a border strip of the image (5% of each side,
   at least 2 pixels); the clipped standard deviation gives the noise level;
2. **centre**: the brightest pixel of the sky-subtracted image smoothed by a 1.5 px
   Gaussian (or the position the user gave), refined by the flux-weighted centroid
   of the pixels within 3 px;
3. **segment**: the connected pixels above 2 noise-sigma around that centre (point
   sources of the scene and their surroundings excluded);
4. **PA and q** from the second moments of the segment, mapped to the sky through
   the image's CD matrix;
5. **flux and size** from the curve of growth in elliptical apertures: the total is
   the flux inside the largest aperture that still lies within the segment, the
   half-light radius the major-axis radius enclosing half of it.

When several profiles share one object (bulge + disk), the first takes 1/3 of the flux
with half the half-light radius and the others share the remaining 2/3 with 1.2 times
it; a Sersic index without a value starts at 2 (or 4 for the first of several),
a Moffat beta at 3 (also on another geometry or truncated); an edge-on disk's
scale height z0 = 3 q h / pi (the moment axis ratio of a sech^2 disk) and n = 1. A sky
grid starts from local plane fits around its nodes (:func:`grid_sky_start`) and the
objects are measured on the image minus that sky. Parameters that the
image does not measure come from the class's ``initial_values``: the ellipse for a
geometry (boxiness c0 = 0, Fourier amplitudes and phases 0), and truncation radii and
widths scaled from the half-light radius (r_out = 3 r_half, w_out = 0.3 r_half,
r_in = 0.5 r_half, w_in = 0.1 r_half).
"""

from __future__ import annotations

import numpy as np

from .models import (
    EdgeOnDisk,
    EllipticalProfile,
    Exponential,
    Gaussian,
    Moffat,
    PointLike,
    PSFModel,
    Sersic,
    SersicGM,
    SkyModel,
)
from .scene import Scene

__all__ = ["initialize", "estimate_sky", "grid_sky_start"]

#: half-light radius / h that ``_measure`` finds for an edge-on disk (elliptical
#: apertures of the moments' axis ratio): 1.76-1.83 on noise-free sech^2 disks with
#: h = 4-8 px, z0 / h = 0.13-0.5 (the measured moment ratio gave 3 q h / pi within
#: 0.2-3.5 % of z0)
_EDGE_ON_HALF_LIGHT = 1.8

_HALF_LIGHT_TO_SIZE = {
    Sersic: 1.0,
    SersicGM: 1.0,
    Exponential: 1.0 / 1.678347,
    Gaussian: 1.0 / 1.177410,
    Moffat: 1.0,
    EdgeOnDisk: 1.0 / _EDGE_ON_HALF_LIGHT,
}


def estimate_sky(image) -> tuple[float, float]:
    """Sky level and noise sigma (image units / pixel) from the image border.

    Returns
    -------
    sky, noise : float
        Sigma-clipped (3 sigma, 5 iterations) median and standard deviation.
    """
    h, w = image.shape
    b = max(2, int(0.05 * min(h, w)))
    edge = np.zeros((h, w), bool)
    edge[:b], edge[-b:], edge[:, :b], edge[:, -b:] = True, True, True, True
    vals = image.data[edge & ~image.mask]
    if vals.size < 5:
        vals = image.data[~image.mask]
    return _clipped(vals)


def initialize(scene: Scene, image) -> Scene:
    """Fill the missing starting values of ``scene`` from ``image``.

    Parameters
    ----------
    scene : Scene
        Components with some values ``None``; tied parameters follow their leader.
    image : Image

    Returns
    -------
    Scene
        A new scene; every untied parameter has a value.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, Sersic, FlatSky, render
    >>> img = Image(np.zeros((48, 48)), pixel_scale=0.5)
    >>> truth = Scene([Sersic(x=1.0, y=-0.5, flux=500, r_e=2.0, n=1.5, q=0.6, pa=40),
    ...                FlatSky(sky=3.0)])
    >>> img = img.replace(data=render(truth, img))
    >>> s = initialize(Scene([Sersic(n=1.5), FlatSky()]), img)
    >>> round(s["flat_sky"].sky.value, 2), round(s["sersic"].x.value, 1)
    (3.0, 1.0)
    """
    sky, noise = estimate_sky(image)
    values = {a: scene.param(a).value for a in scene.addresses()}
    missing = set(scene.missing())

    def need(comp, p):
        return f"{comp.name}.{p}" in missing

    # ---- sky components: the first takes the border level (a sky grid: the median
    # grid), the rest zero
    sky_left, first, sky_image = sky, True, sky
    for c in scene.components:
        if isinstance(c, SkyModel) and hasattr(c, "GRID"):
            grid = grid_sky_start(image, *c.GRID) if first else None
            if grid is not None:
                sky_image = _bilinear_image(grid, image.shape)
            first = False
            for k, p in enumerate(c.param_names()):
                if need(c, p):
                    values[f"{c.name}.{p}"] = 0.0 if grid is None else float(grid.flat[k])
            sky_left = 0.0
        elif isinstance(c, SkyModel):
            for p in c.param_names():
                if need(c, p):
                    values[f"{c.name}.{p}"] = sky_left if p == "sky" else 0.0
            if need(c, "sky") or c.params()["sky"].value is not None:
                sky_left, first = 0.0, False
    sub = np.where(image.mask, 0.0, image.data - sky_image)

    # ---- point sources with a position: flux from the peak
    psf_peak = _psf_peak(image, scene, values)
    points = [c for c in scene.components if isinstance(c, PointLike)]
    star_pix = []
    for c in points:
        x, y = _value(scene, values, c, "x"), _value(scene, values, c, "y")
        if x is not None and y is not None:
            star_pix.append(image.sky_to_pixel(x, y))

    # ---- profiles: one object per distinct (given) centre, else the brightest one
    profiles = [c for c in scene.components if isinstance(c, EllipticalProfile)]
    groups: dict[tuple, list] = {}
    for c in profiles:
        key = _centre_key(scene, values, c)
        groups.setdefault(key, []).append(c)
    for key, comps in groups.items():
        given = None if key[0] is None else (key[0], key[1])
        obj = _measure(image, sub, noise, given, star_pix)
        _fill_profiles(scene, values, comps, obj, need)

    for c in points:
        x, y = _value(scene, values, c, "x"), _value(scene, values, c, "y")
        if x is None or y is None:
            obj = _measure(image, sub, noise, None, [])
            values[f"{c.name}.x"], values[f"{c.name}.y"] = obj["xy_sky"]
            x, y = obj["xy_sky"]
        if need(c, "flux"):
            px, py = image.sky_to_pixel(x, y)
            i, j = int(round(float(py))), int(round(float(px)))
            i = min(max(i, 0), image.shape[0] - 1)
            j = min(max(j, 0), image.shape[1] - 1)
            lo_i, lo_j = max(i - 1, 0), max(j - 1, 0)
            peak = sub[lo_i : i + 2, lo_j : j + 2].max()
            values[f"{c.name}.flux"] = max(float(peak) / psf_peak, noise)

    out = np.array([values[scene.leader_of(a)] for a in scene.addresses()], dtype=float)
    new = scene.with_values(out)
    return _clip_into_bounds(new, missing)


# ----------------------------------------------------------------------- helpers
def _clipped(vals, nsig=3.0, iters=5):
    vals = np.asarray(vals, float)
    med, std = np.median(vals), np.std(vals)
    for _ in range(iters):
        keep = np.abs(vals - med) <= nsig * max(std, 1e-300)
        if keep.sum() < 3:
            break
        med, std = np.median(vals[keep]), np.std(vals[keep])
    return float(med), float(std if std > 0 else 1.0)


def _value(scene, values, comp, p):
    return values[scene.leader_of(f"{comp.name}.{p}")]


def _centre_key(scene, values, c):
    x, y = _value(scene, values, c, "x"), _value(scene, values, c, "y")
    if x is None or y is None:
        # components tied to the same leader form one object
        return (None, None, scene.leader_of(f"{c.name}.x"))
    return (x, y)


def _psf_peak(image, scene, values) -> float:
    """Brightest image pixel of a unit-flux point source: from the scene's PSF model
    when it has one with values for all its parameters, else from the image's PSF."""
    psf = image.psf
    for c in scene.components:
        if isinstance(c, PSFModel):
            vals = {p: values[scene.leader_of(f"{c.name}.{p}")] for p in c.param_names()}
            if any(v is None for v in vals.values()):
                return 1.0 if psf is None else _binned_peak(psf)
            from .render import psf_image

            psf = psf_image(c.replace(**vals), image)
    return 1.0 if psf is None else _binned_peak(psf)


def _binned_peak(psf) -> float:
    s = psf.oversampling
    p = psf.image
    h, w = (p.shape[0] // s) * s, (p.shape[1] // s) * s
    binned = p[:h, :w].reshape(h // s, s, w // s, s).sum(axis=(1, 3))
    return float(binned.max())


def _measure(image, sub, noise, given_sky, star_pix):
    """Centre, moments and curve of growth of the object at/near ``given_sky``."""
    from scipy import ndimage

    h, w = image.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    excl = np.zeros((h, w), bool)
    for sx, sy in star_pix:
        excl |= (xx - sx) ** 2 + (yy - sy) ** 2 <= 9.0
    work = np.where(excl | image.mask, 0.0, sub)
    if given_sky is not None:
        cx, cy = (float(v) for v in image.sky_to_pixel(*given_sky))
    else:
        smooth = ndimage.gaussian_filter(work, 1.5)
        i, j = np.unravel_index(np.argmax(smooth), smooth.shape)
        cx, cy = float(j), float(i)
        for _ in range(3):  # centroid refinement
            near = ((xx - cx) ** 2 + (yy - cy) ** 2 <= 9.0) & (work > 0)
            if work[near].sum() <= 0:
                break
            wts = work[near]
            cx, cy = (
                float((xx[near] * wts).sum() / wts.sum()),
                float((yy[near] * wts).sum() / wts.sum()),
            )
    # segment: connected pixels above 2 sigma containing the centre
    above = ndimage.gaussian_filter(work, 1.0) > 2.0 * noise / 1.5
    labels, _ = ndimage.label(above)
    ic = min(max(int(round(cy)), 0), h - 1)
    jc = min(max(int(round(cx)), 0), w - 1)
    lab = labels[ic, jc]
    seg = labels == lab if lab > 0 else (xx - cx) ** 2 + (yy - cy) ** 2 <= 16.0
    seg &= ~excl & ~image.mask
    wts = np.clip(work, 0.0, None) * seg
    tot = wts.sum()
    if tot <= 0:
        wts = seg.astype(float)
        tot = wts.sum()
    dx, dy = xx - cx, yy - cy
    mxx = (wts * dx * dx).sum() / tot
    myy = (wts * dy * dy).sum() / tot
    mxy = (wts * dx * dy).sum() / tot
    M = np.array([[mxx, mxy], [mxy, myy]]) + np.eye(2) / 12.0
    S = image.cd @ M @ image.cd.T  # sky-plane second moments, arcsec^2
    lam, vec = np.linalg.eigh(S)
    major = vec[:, 1]
    q = float(np.sqrt(max(lam[0], 1e-12) / max(lam[1], 1e-12)))
    pa = float(np.degrees(np.arctan2(major[0], major[1])) % 180.0)

    # curve of growth in elliptical apertures (major-axis radius, pixels)
    inv = np.linalg.inv(M)
    rell = np.sqrt(
        np.maximum(inv[0, 0] * dx * dx + 2 * inv[0, 1] * dx * dy + inv[1, 1] * dy * dy, 0.0)
    )
    scale_pix = np.sqrt(max(np.linalg.eigvalsh(M)[1], 1e-12))
    valid = ~image.mask & ~excl
    rmax_seg = rell[seg].max() if seg.any() else 3.0
    radii = np.linspace(0.25, max(rmax_seg, 1.0), 60)
    vals_ok = np.where(valid, sub, 0.0)
    cog = np.array([vals_ok[rell <= r].sum() for r in radii])
    total = float(max(cog.max(), noise))
    rh = float(np.interp(0.5 * total, np.maximum.accumulate(cog), radii))
    r_half_arcsec = rh * scale_pix * image.pixel_scale
    return {
        "xy_sky": tuple(float(v) for v in image.pixel_to_sky(cx, cy)),
        "q": min(max(q, 0.05), 1.0),
        "pa": pa,
        "flux": total,
        "r_half": max(r_half_arcsec, 0.3 * image.pixel_scale),
    }


def _fill_profiles(scene, values, comps, obj, need):
    k = len(comps)
    for i, c in enumerate(comps):
        if k == 1:
            frac, rscale = 1.0, 1.0
        elif i == 0:
            frac, rscale = 1.0 / 3.0, 0.5
        else:
            frac, rscale = 2.0 / 3.0 / (k - 1), 1.2
        cls = type(c)
        # rays and wedges: every ray starts as the plain law would (names <name>_<k>)
        law_names = [s.name for s in (cls.LAW if cls.ANGULAR else cls).law_specs()]
        root = type(c).root_law()
        size = obj["r_half"] * rscale * _HALF_LIGHT_TO_SIZE.get(root, 1.0)
        fill = {
            "x": obj["xy_sky"][0],
            "y": obj["xy_sky"][1],
            "flux": obj["flux"] * frac,
            "q": obj["q"],
            "pa": obj["pa"],
            law_names[0]: size,
        }
        if root is Sersic or isinstance(c, SersicGM):
            fill["n"] = 4.0 if (k > 1 and i == 0) else 2.0
        if root is Moffat:
            fill["beta"] = 3.0
        if root is EdgeOnDisk:  # moment ratio of a sech^2 disk: q = pi z0 / (3 h)
            fill["z0"] = 3.0 * obj["q"] * size / np.pi
        if cls.ANGULAR:
            fill.update(cls.LAW.initial_values(obj["r_half"] * rscale))
            law = set(law_names)
            fill = {
                **{k: v for k, v in fill.items() if k not in law},
                **{f"{k}_{j}": v for k, v in fill.items() if k in law for j in range(cls.N_RAYS)},
            }
        fill.update(cls.initial_values(obj["r_half"] * rscale))
        for p, v in fill.items():
            if need(c, p):
                values[f"{c.name}.{p}"] = v
        for p in c.param_names():  # any remaining law parameter: its midpoint/1
            if values[f"{c.name}.{p}"] is None and scene.leader_of(f"{c.name}.{p}") == (
                f"{c.name}.{p}"
            ):
                values[f"{c.name}.{p}"] = 1.0


def grid_sky_start(image, ny: int, nx: int) -> np.ndarray:
    """Starting node values (ny, nx) of a sky grid, from the image.

    At each node, a plane is fitted to the unmasked pixels within half a node spacing
    (at least 4 px), clipping 3-sigma outliers three times, and evaluated at the node
    (a plane, not a median: boxes at the image edge are one-sided, where a median is
    biased by a gradient). Two passes: the second masks sources found against the
    first pass's sky (the bilinear grid), pixels smoothed by a 1 px Gaussian above 2
    noise-sigma, grown by 3 px; the noise is that of pixel-to-pixel differences. A node
    whose box holds fewer than 10 pixels takes the border estimate. (photutils'
    ``Background2D`` is the richer tool; scenefit does not depend on photutils.)

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image
    >>> yy, xx = np.mgrid[0:40, 0:60]
    >>> img = Image(1.0 + 0.01 * xx + np.random.default_rng(1).normal(0, 0.01, (40, 60)))
    >>> g = grid_sky_start(img, 2, 3)
    >>> bool(np.allclose(g, [[1.0, 1.295, 1.59]] * 2, atol=0.01))
    True
    """
    from scipy import ndimage

    data = np.asarray(image.data, float)
    bad = np.asarray(image.mask, bool)
    h, w = image.shape
    diff = np.diff(data, axis=1)[~(bad[:, 1:] | bad[:, :-1])]
    noise = 1.4826 * np.median(np.abs(diff - np.median(diff))) / np.sqrt(2.0)
    sky0 = estimate_sky(image)[0]
    cols, rows = np.linspace(0.0, w - 1.0, nx), np.linspace(0.0, h - 1.0, ny)
    half_x = max(0.5 * (w - 1) / (nx - 1), 4.0)
    half_y = max(0.5 * (h - 1) / (ny - 1), 4.0)
    yy, xx = np.mgrid[0:h, 0:w].astype(float)
    use = ~bad
    out = np.full((ny, nx), sky0)
    for _ in range(2):
        for i, r in enumerate(rows):
            rs = slice(max(int(np.floor(r - half_y)), 0), int(np.ceil(r + half_y)) + 1)
            for j, c in enumerate(cols):
                cs = slice(max(int(np.floor(c - half_x)), 0), int(np.ceil(c + half_x)) + 1)
                ok = use[rs, cs]
                if ok.sum() >= 10:
                    out[i, j] = _plane_at(data[rs, cs][ok], xx[rs, cs][ok] - c, yy[rs, cs][ok] - r)
        resid = np.where(bad, 0.0, data - _bilinear_image(out, (h, w)))
        src = ndimage.gaussian_filter(resid, 1.0) > 2.0 * max(noise, 1e-300) / 1.5
        use = ~bad & ~ndimage.binary_dilation(src, iterations=3)
    return out


def _bilinear_image(nodes, shape) -> np.ndarray:
    """The bilinear interpolation (H, W) of grid node values (ny, nx) over an image."""
    (ny, nx), (h, w) = nodes.shape, shape
    cols, rows = np.linspace(0.0, w - 1.0, nx), np.linspace(0.0, h - 1.0, ny)
    bx = np.stack([np.interp(np.arange(w), cols, e) for e in np.eye(nx)], axis=1)
    by = np.stack([np.interp(np.arange(h), rows, e) for e in np.eye(ny)], axis=1)
    return by @ nodes @ bx.T


def _plane_at(v, dx, dy, nsig=3.0, iters=3) -> float:
    """Value at (0, 0) of a plane fitted to samples ``v`` at offsets (dx, dy), with
    ``iters`` rounds of ``nsig``-sigma clipping."""
    keep = np.ones(v.size, bool)
    a = np.stack([np.ones_like(dx), dx, dy], axis=1)
    coef = np.array([np.median(v), 0.0, 0.0])
    for _ in range(iters + 1):
        if keep.sum() < 10:
            break
        coef = np.linalg.lstsq(a[keep], v[keep], rcond=None)[0]
        res = v - a @ coef
        std = np.std(res[keep])
        keep = np.abs(res) <= nsig * max(std, 1e-300)
    return float(coef[0])


def _clip_into_bounds(scene: Scene, estimated: set) -> Scene:
    """Move estimated (not user-given) values strictly inside their bounds."""
    comps = []
    for c in scene.components:
        ch = {}
        for p, par in c.params().items():
            v = par.value
            lo, hi = par.lo, par.hi
            if lo is not None and hi is not None:
                eps = 1e-3 * (hi - lo)
                v2 = min(max(v, lo + eps), hi - eps)
            elif lo is not None:
                v2 = max(v, lo + 1e-3 * max(abs(lo), 1.0)) if v <= lo else v
            elif hi is not None:
                v2 = min(v, hi - 1e-3 * max(abs(hi), 1.0)) if v >= hi else v
            else:
                v2 = v
            if v2 != v and f"{c.name}.{p}" in estimated:
                ch[p] = v2
        comps.append(c.replace(**ch) if ch else c)
    return Scene(comps, scene.ties)
