"""Corner plot of posterior draws, optionally with the LM Gaussian and the truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np

__all__ = ["plot_corner"]


def plot_corner(posterior, path, *, names=None, lm=None, truths=None, bins: int = 30, dpi=100):
    """Save a corner plot: 1-D histograms on the diagonal, 2-D histograms below it.

    Parameters
    ----------
    posterior : PosteriorSamples
    path : str or Path
        Output file (format from the suffix). Overwritten.
    names : sequence of str, optional
        Parameters to show (default: all sampled).
    lm : FitResult, optional
        Overlays the LM Gaussian: the density on the diagonal and its 1- and 2-sigma
        ellipses below.
    truths : mapping str -> float, optional
        Marks true values with lines.
    bins : int
    dpi : int

    Returns
    -------
    Path

    Notes
    -----
    matplotlib is imported here and used through :class:`matplotlib.figure.Figure`.
    """
    from matplotlib.figure import Figure

    path = Path(path)
    names = list(names or posterior.names)
    k = len(names)
    draws = np.stack([posterior.draws(n) for n in names], axis=1)
    mean_lm = cov_lm = None
    if lm is not None:
        idx = [lm.free.index(n) for n in names]
        mean_lm = np.array([lm.value(n) for n in names])
        cov_lm = np.asarray(lm.covariance)[np.ix_(idx, idx)]
    truths = truths or {}

    fig = Figure(figsize=(1.8 * k + 1, 1.8 * k + 1))
    axes = fig.subplots(k, k, squeeze=False)
    for i in range(k):
        for j in range(k):
            ax = axes[i, j]
            if j > i:
                ax.set_visible(False)
                continue
            if i == j:
                ax.hist(draws[:, i], bins=bins, density=True, histtype="step", color="k")
                if cov_lm is not None and np.isfinite(cov_lm[i, i]) and cov_lm[i, i] > 0:
                    s = np.sqrt(cov_lm[i, i])
                    t = np.linspace(*ax.get_xlim(), 200)
                    ax.plot(
                        t, np.exp(-0.5 * ((t - mean_lm[i]) / s) ** 2) / (s * np.sqrt(2 * np.pi))
                    )
                ax.set_yticks([])
            else:
                ax.hist2d(draws[:, j], draws[:, i], bins=bins, cmap="Greys")
                if cov_lm is not None:
                    _ellipses(ax, mean_lm[[j, i]], cov_lm[np.ix_([j, i], [j, i])])
                if names[i] in truths:
                    ax.axhline(truths[names[i]], color="C3", lw=0.8)
            if names[j] in truths:
                ax.axvline(truths[names[j]], color="C3", lw=0.8)
            if i == k - 1:
                ax.set_xlabel(names[j], fontsize=7)
            else:
                ax.set_xticklabels([])
            if j == 0 and i > 0:
                ax.set_ylabel(names[i], fontsize=7)
            elif j > 0:
                ax.set_yticklabels([])
            ax.tick_params(labelsize=6)
    fig.savefig(path, dpi=dpi)
    return path


def _ellipses(ax, mean, cov):
    if not np.all(np.isfinite(cov)):
        return
    vals, vecs = np.linalg.eigh(cov)
    if np.any(vals <= 0):
        return
    t = np.linspace(0, 2 * np.pi, 100)
    circle = np.stack([np.cos(t), np.sin(t)])
    for level in (1.0, 2.0):
        pts = mean[:, None] + vecs @ (level * np.sqrt(vals)[:, None] * circle)
        ax.plot(pts[0], pts[1], color="C0", lw=0.8)
