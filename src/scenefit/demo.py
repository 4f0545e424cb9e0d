"""``scenefit demo``: simulate an image with known truth, fit it from an automatic start.

The steps, each a plain call into the library:

1. :func:`scenefit.simulate.simulate_demo` draws a 128 x 128 image of a bulge + disk
   galaxy, three stars and sky, with a Moffat PSF and CCD noise (known truth);
2. :func:`scenefit.detect.find_peaks` and :func:`~scenefit.detect.classify_peaks` find
   the sources and tell the stars from the galaxy;
3. a scene is built from what was found -- a Sersic bulge and an exponential disk
   sharing one centre (the galaxy peak), a point source at each star peak, a flat sky --
   with every other value left empty, and :func:`scenefit.initialize` fills them from
   the image;
4. :func:`scenefit.fit` fits all parameters at once;
5. the fitted values are compared with the truth: for each free parameter the pull
   (fit - truth) / sigma, which should lie within +-3 for (almost) all of them;
6. :func:`scenefit.io.write_outputs` writes the tables, imgblock, scene and figure, and
   the simulated data are written too, with a configuration file that refits them with
   ``scenefit fit``.

This module prints (through ``progress``) and writes files: it belongs to the edge of
the package, next to the command line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = ["PullRow", "compare_to_truth", "build_start", "run_demo", "write_demo_data"]

#: |pull| limit of the demo's check
PULL_LIMIT = 3.0


@dataclass(frozen=True)
class PullRow:
    """One fitted parameter compared with the truth.

    Attributes
    ----------
    address : str
        Parameter address in the fitted scene (``"bulge.r_e"``).
    truth_address : str
        Address of the matching true parameter.
    unit : str
    truth, fit, sigma : float
        True value, fitted value and its 1-sigma uncertainty (parameter units).
    pull : float
        (fit - truth) / sigma; position-angle differences are folded into [-90, 90) deg.
    """

    address: str
    truth_address: str
    unit: str
    truth: float
    fit: float
    sigma: float
    pull: float


def build_start(image, peaks, is_point):
    """The demo's starting scene, before :func:`scenefit.initialize`.

    Parameters
    ----------
    image : Image
    peaks : list of Peak
        From :func:`scenefit.detect.find_peaks` (brightest first).
    is_point : list of bool
        From :func:`scenefit.detect.classify_peaks`.

    Returns
    -------
    Scene
        ``bulge`` (Sersic) and ``disk`` (Exponential) with the centre of the brightest
        extended peak (the brightest peak if none is extended) as a starting value,
        ``disk.x``/``disk.y`` tied to the bulge; ``star_1``, ``star_2``, ... (PointSource)
        at the other peaks classified as point-like; ``sky`` (FlatSky). Every other value
        is None.
    """
    from .models import Exponential, FlatSky, PointSource, Sersic
    from .scene import Scene

    if not peaks:
        raise ValueError("no source found in the image; nothing to fit")
    extended = [i for i, p in enumerate(is_point) if not p]
    gal = extended[0] if extended else 0
    gx, gy = (float(v) for v in image.pixel_to_sky(peaks[gal].x, peaks[gal].y))
    comps = [Sersic(name="bulge", x=gx, y=gy), Exponential(name="disk")]
    k = 0
    for i, (p, point) in enumerate(zip(peaks, is_point, strict=True)):
        if i == gal or not point:
            continue
        k += 1
        sx, sy = (float(v) for v in image.pixel_to_sky(p.x, p.y))
        comps.append(PointSource(name=f"star_{k}", x=sx, y=sy))
    comps.append(FlatSky(name="sky"))
    return Scene(comps, ties={"disk.x": "bulge.x", "disk.y": "bulge.y"})


def _match_components(fitted, truth, max_dist=1.0) -> dict[str, str]:
    """Fitted component name -> true component name.

    Components of the same name and type match; point sources match the nearest true
    point source within ``max_dist`` arcsec (each true one at most once).
    """
    from .models import PointLike

    out = {}
    for c in fitted.components:
        if isinstance(c, PointLike):
            continue
        if c.name in truth.names and type(truth[c.name]) is type(c):
            out[c.name] = c.name
    free = [t for t in truth.components if isinstance(t, PointLike)]
    stars = [c for c in fitted.components if isinstance(c, PointLike)]
    pairs = []
    for c in stars:
        for t in free:
            d = np.hypot(c.x.value - t.x.value, c.y.value - t.y.value)
            pairs.append((d, c.name, t.name))
    used_f, used_t = set(), set()
    for d, cn, tn in sorted(pairs):
        if d <= max_dist and cn not in used_f and tn not in used_t:
            out[cn] = tn
            used_f.add(cn)
            used_t.add(tn)
    return out


def compare_to_truth(result, truth) -> tuple[list[PullRow], list[str]]:
    """Pulls of every free parameter of a fit against the true scene.

    Parameters
    ----------
    result : FitResult
    truth : Scene

    Returns
    -------
    rows : list of PullRow
        One per free parameter that has a true counterpart, in fit order.
    unmatched : list of str
        Fitted components with no true counterpart (spurious detections).
    """
    match = _match_components(result.scene, truth)
    unc = result.uncertainties
    rows = []
    for a in result.free:
        comp, _, p = a.partition(".")
        if comp not in match:
            continue
        ta = f"{match[comp]}.{p}"
        tv = truth.param(ta).value
        fv = result.value(a)
        diff = fv - tv
        if p == "pa":
            diff = (diff + 90.0) % 180.0 - 90.0
        s = unc[a]
        pull = diff / s if s > 0 else float("inf")
        spec = {sp.name: sp for sp in type(result.scene[comp]).PARAMS}[p]
        rows.append(PullRow(a, ta, spec.unit, tv, fv, s, float(pull)))
    unmatched = [c.name for c in result.scene.components if c.name not in match]
    return rows, unmatched


def format_pull_table(rows: list[PullRow]) -> str:
    """The pull table as text (one line per parameter, ``*`` marks |pull| > 3)."""
    lines = [
        f"  {'parameter':16s} {'unit':>12s} {'truth':>12s} {'fit':>12s} {'+/- sigma':>11s}"
        f" {'pull':>7s}"
    ]
    for r in rows:
        name = r.address if r.address == r.truth_address else f"{r.address}~{r.truth_address}"
        flag = "" if abs(r.pull) <= PULL_LIMIT else "  *"
        unit = r.unit.replace("image units", "ADU")
        lines.append(
            f"  {name:16s} {unit:>12s} {r.truth:12.6g} {r.fit:12.6g} {r.sigma:11.3g}"
            f" {r.pull:7.2f}{flag}"
        )
    return "\n".join(lines)


def write_demo_data(image, peaks, is_point, out_dir) -> dict[str, Path]:
    """Write the simulated data and a configuration that fits them with ``scenefit fit``.

    Files: ``demo_image.fits`` (data, with the WCS, ``MAGZERO`` and ``GAIN`` in the
    header), ``demo_sigma.fits``, ``demo_psf.fits`` and ``demo_config.yaml`` (sources at
    the detected pixel positions, outputs in ``<out_dir>/refit``).

    Returns
    -------
    dict of str -> Path
    """
    import yaml
    from astropy.io import fits

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    hdr = image.wcs.to_header() if image.wcs is not None else fits.Header()
    hdr["MAGZERO"] = (image.zeropoint, "AB magnitude of 1 ADU")
    hdr["GAIN"] = (image.gain, "electrons per ADU")
    hdr["BUNIT"] = "adu"
    paths = {
        "image": out / "demo_image.fits",
        "sigma": out / "demo_sigma.fits",
        "psf": out / "demo_psf.fits",
        "config": out / "demo_config.yaml",
    }
    fits.PrimaryHDU(np.asarray(image.data), header=hdr).writeto(paths["image"], overwrite=True)
    fits.PrimaryHDU(np.asarray(image.sigma)).writeto(paths["sigma"], overwrite=True)
    fits.PrimaryHDU(np.asarray(image.psf.image)).writeto(paths["psf"], overwrite=True)

    extended = [i for i, p in enumerate(is_point) if not p]
    gal = extended[0] if extended else 0
    g = peaks[gal]
    sources = [
        {"type": "sersic", "name": "bulge", "position": {"pixel": [round(g.x, 2), round(g.y, 2)]}},
        {"type": "exponential", "name": "disk", "x": {"tie": "bulge.x"}, "y": {"tie": "bulge.y"}},
    ]
    k = 0
    for i, (p, point) in enumerate(zip(peaks, is_point, strict=True)):
        if i != gal and point:
            k += 1
            sources.append(
                {
                    "type": "point",
                    "name": f"star_{k}",
                    "position": {"pixel": [round(p.x, 2), round(p.y, 2)]},
                }
            )
    sources.append({"type": "flat_sky", "name": "sky"})
    cfg = {
        "images": [
            {
                "data": paths["image"].name,
                "sigma": paths["sigma"].name,
                "psf": paths["psf"].name,
                "gain": float(image.gain),
                "band": image.band,
            }
        ],
        "sources": sources,
        "likelihood": "chi2",
        "fit": {"max_iter": 200, "ftol": 1.0e-9},
        "output": {"dir": "refit", "prefix": "fit"},
    }
    text = (
        "# scenefit fit configuration for the demo data (see docs/config.md)\n"
        "# run: scenefit fit " + str(paths["config"]) + "\n"
    )
    text += yaml.safe_dump(cfg, sort_keys=False, default_flow_style=None, width=100)
    paths["config"].write_text(text, encoding="utf-8")
    return paths


def run_demo(out_dir="scenefit-demo", seed: int = 0, progress=print):
    """Simulate, detect, initialise, fit, compare with the truth, write the outputs.

    Parameters
    ----------
    out_dir : str or Path
        Folder for the outputs (created if missing).
    seed : int
        Seed of the simulated noise.
    progress : callable
        Called with each line of the report (``print`` by default; ``lambda s: None``
        for silence).

    Returns
    -------
    result : FitResult
    truth : Scene
    pulls : dict of str -> float
        ``(fit - truth) / sigma`` for every free parameter with a true counterpart,
        keyed by its address in the fitted scene.
    """
    from . import fit, initialize
    from .detect import classify_peaks, find_peaks
    from .io import save_scene, write_outputs
    from .simulate import demo_truth, simulate_demo

    t0 = time.perf_counter()
    out = Path(out_dir)
    progress(f"scenefit demo: seed {seed}, outputs in {out}/")
    image, truth = simulate_demo(seed)
    progress(
        f'simulated {image.shape[1]}x{image.shape[0]} px at {image.pixel_scale:.3f}"/px: '
        f"bulge + disk galaxy, {len(truth) - 3} stars, sky, Moffat PSF, CCD noise "
        f"({time.perf_counter() - t0:.1f} s)"
    )

    peaks = find_peaks(image)
    is_point = classify_peaks(image, peaks)
    n_pt = sum(is_point)
    progress(f"detected {len(peaks)} peaks: {n_pt} point-like, {len(peaks) - n_pt} extended")
    for p, pt in zip(peaks, is_point, strict=True):
        progress(
            f"  x = {p.x:6.1f} px, y = {p.y:6.1f} px, peak {p.peak:9.1f} ADU  "
            f"{'star' if pt else 'extended'}"
        )

    start = initialize(build_start(image, peaks, is_point), image)
    progress("automatic start (scenefit.initialize):")
    for c in start.components:
        progress(f"  {c!r}")

    progress("fitting (the first fit includes JAX compilation) ...")
    result = fit(start, image)
    progress(
        f"{result.message}: {result.n_iter} iterations, {result.seconds:.1f} s, "
        f"chi2/dof = {result.objective:.1f}/{result.dof} = {result.reduced_chi2:.3f}"
    )

    rows, unmatched = compare_to_truth(result, truth)
    progress("")
    progress("fitted values against the truth (pull = (fit - truth) / sigma):")
    progress(format_pull_table(rows))
    if unmatched:
        progress(f"  no true counterpart: {', '.join(unmatched)}")
    n_ok = sum(abs(r.pull) <= PULL_LIMIT for r in rows)
    n_true_free = sum(
        1 for a in truth.addresses() if a not in truth.ties and not truth.param(a).fixed
    )
    verdict = "PASS" if n_ok == len(rows) == n_true_free else "CHECK FAILED"
    progress(
        f"{verdict}: {n_ok} of {len(rows)} fitted parameters within {PULL_LIMIT:g} sigma "
        f"of the truth ({n_true_free} true free parameters)"
    )
    progress("")

    paths = write_outputs(result, out, prefix="fit")
    paths["truth"] = save_scene(demo_truth(), out / "truth.yaml")
    paths.update(write_demo_data(image, peaks, is_point, out))
    progress("wrote:")
    for p in paths.values():
        progress(f"  {p}")
    progress(f"total wall time {time.perf_counter() - t0:.1f} s")
    return result, truth, {r.address: r.pull for r in rows}
