"""Figure of a fit: data, model and normalised residual side by side."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_fit"]


def plot_fit(result, path, *, dpi: int = 110) -> Path:
    """Save a PNG with three panels: data, model and (data - model) / sigma.

    Data and model share one asinh stretch (linear within about one noise sigma of
    zero, logarithmic beyond) and one colour bar range; the residual panel uses a
    symmetric diverging scale in units of sigma. Masked pixels are left blank (grey
    background). Pixel (0, 0) is at the lower left; x is the column.

    Parameters
    ----------
    result : FitResult
    path : str or Path
        Output file; the format follows the suffix (``.png`` recommended). Overwritten.
    dpi : int
        Resolution.

    Returns
    -------
    Path
        The file written.

    Notes
    -----
    matplotlib is imported here and used through :class:`matplotlib.figure.Figure`
    (no pyplot, no global state).
    """
    from matplotlib.colors import AsinhNorm, Normalize
    from matplotlib.figure import Figure

    path = Path(path)
    image = result.image
    mask = np.asarray(image.mask)
    good = ~mask
    model = np.asarray(result.model(), dtype=float)
    data = np.where(mask, np.nan, image.data)
    with np.errstate(divide="ignore", invalid="ignore"):
        chi = np.where(mask, np.nan, (image.data - model) * np.sqrt(image.invvar))

    noise = float(np.median(image.sigma[good]))
    lo = float(min(np.percentile(image.data[good], 0.5), np.percentile(model[good], 0.5)))
    hi = float(max(np.percentile(image.data[good], 99.8), np.max(model[good])))
    if not hi > lo:
        hi = lo + 1.0
    width = noise if np.isfinite(noise) and noise > 0 else (hi - lo) / 100.0
    stretch = AsinhNorm(linear_width=width, vmin=lo, vmax=hi)
    finite = chi[np.isfinite(chi)]
    lim = float(np.percentile(np.abs(finite), 99.5)) if finite.size else 1.0
    lim = max(lim, 3.0)
    diverging = Normalize(vmin=-lim, vmax=lim)

    from matplotlib import colormaps

    light = colormaps["magma"].with_extremes(bad=(0, 0, 0, 0))
    rdbu = colormaps["RdBu_r"].with_extremes(bad=(0, 0, 0, 0))

    h, w = image.shape
    fig = Figure(figsize=(12.0, 4.3 * max(h / w, 0.4)), layout="constrained")
    axes = fig.subplots(1, 3, sharex=True, sharey=True)
    panels = [
        (data, stretch, light, "data", "image units"),
        (model, stretch, light, "model", "image units"),
        (chi, diverging, rdbu, "(data - model) / sigma", "sigma"),
    ]
    for ax, (arr, norm, cmap, title, label) in zip(axes, panels, strict=True):
        ax.set_facecolor("0.65")
        im = ax.imshow(arr, origin="lower", norm=norm, cmap=cmap, interpolation="nearest")
        ax.set_title(title)
        ax.set_xlabel("x [pixel]")
        fig.colorbar(im, ax=ax, shrink=0.9, label=label)
    axes[0].set_ylabel("y [pixel]")
    fig.suptitle(
        f"{result.likelihood} = {result.objective:.6g}, dof = {result.dof}, "
        f"{result.likelihood}/dof = {result.reduced_chi2:.4g}"
        + ("" if result.converged else f"  [not converged: {result.message}]")
    )
    fig.savefig(path, dpi=dpi)
    return path
