"""ForcedResult: what :func:`~scenefit.fitting.forced_photometry` returns (immutable)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["ForcedResult"]


@dataclass(frozen=True, repr=False)
class ForcedResult:
    """Fluxes of fixed-shape sources in several bands (a linear solve per band).

    Attributes
    ----------
    sources : tuple of str
        Component names whose flux was solved (column order of ``flux``).
    bands : tuple of str
        Band keys, first-seen order (row order of ``flux``).
    labels, keys : tuple of str
        Per image: its label and its band key.
    images : tuple of Image
    flux : ndarray (B, K)
        Total flux of each source in each band, image units of that band (NaN for a
        source no image of the band constrains).
    covariance : ndarray (B, K, K)
        Flux covariance between the sources of one band: the inverse of the band's
        normal matrix over the variables not at a bound (sky profiled out); a source at
        the bound (flux 0) has the variance it would have if free and no covariances.
        Bands are solved independently (no covariance between bands).
    at_bound : ndarray (B, K) of bool
        Fluxes held at 0 by the non-negativity constraint.
    sky, sky_err : dict
        ``{"comp.param[label]": value}`` and its 1-sigma uncertainty, per image.
    model_images : tuple of ndarray (H, W)
        Best-fit model of each image.
    chi2_images : tuple of float
        chi^2 of each image.
    dof : int
        Unmasked pixels minus the variables not at a bound.
    scene : Scene
        The reference scene (shapes and positions used; its fluxes are not the result).
    settings : RenderSettings
    seconds : float
        Wall time, including the renders and their compilation.
    """

    sources: tuple
    bands: tuple
    labels: tuple
    keys: tuple
    images: tuple
    flux: np.ndarray
    covariance: np.ndarray
    at_bound: np.ndarray
    sky: dict
    sky_err: dict
    model_images: tuple
    chi2_images: tuple
    dof: int
    scene: object
    settings: object
    seconds: float = 0.0
    likelihood: str = "chi2"
    converged: bool = True  # a direct solve

    # ------------------------------------------------------------ values
    @property
    def flux_err(self) -> np.ndarray:
        """(B, K) 1-sigma flux uncertainties."""
        return np.sqrt(np.diagonal(self.covariance, axis1=1, axis2=2))

    def _ij(self, source: str, band: str) -> tuple[int, int]:
        if band not in self.bands:
            raise KeyError(f"no band {band!r}; bands are {list(self.bands)}")
        if source not in self.sources:
            raise KeyError(f"no source {source!r}; sources are {list(self.sources)}")
        return self.bands.index(band), self.sources.index(source)

    def value(self, source: str, band: str) -> float:
        """Flux of ``source`` in ``band`` (image units)."""
        b, k = self._ij(source, band)
        return float(self.flux[b, k])

    def error(self, source: str, band: str) -> float:
        """1-sigma uncertainty of :meth:`value`."""
        b, k = self._ij(source, band)
        return float(self.flux_err[b, k])

    def flux_covariance(self, source: str) -> np.ndarray:
        """(B, B) covariance of one source's fluxes between bands (diagonal: the bands
        are solved independently)."""
        k = self._ij(source, self.bands[0])[1]
        return np.diag(self.flux_err[:, k] ** 2)

    @property
    def objective(self) -> float:
        """Total chi^2 over the images."""
        return float(sum(self.chi2_images))

    chi2 = objective

    @property
    def chi2_per_image(self) -> dict[str, float]:
        return dict(zip(self.labels, self.chi2_images, strict=True))

    @property
    def reduced_chi2(self) -> float:
        return self.objective / self.dof if self.dof > 0 else float("nan")

    def zeropoint(self, band: str):
        """Zero point of ``band``'s images (None if they have none)."""
        return self.images[self.keys.index(band)].zeropoint

    def models(self) -> list[np.ndarray]:
        """Best-fit model image of each image."""
        return [np.array(m) for m in self.model_images]

    def residuals(self) -> list[np.ndarray]:
        """data - model of each image (masked pixels 0)."""
        return [
            np.where(img.invvar > 0, img.data - m, 0.0)
            for img, m in zip(self.images, self.model_images, strict=True)
        ]

    # ------------------------------------------------------------ photometry
    def sed(self) -> list[dict]:
        """One row per (source, band): ``source``, ``band``, ``flux``, ``flux_err``,
        ``zeropoint``, ``mag``, ``mag_err`` (as :meth:`JointFitResult.sed`; NaN
        magnitudes for a flux <= 0 or without a zero point) and ``at_bound``."""
        from ..io._magnitudes import flux_to_mag

        rows = []
        err = self.flux_err
        for k, src in enumerate(self.sources):
            for b, band in enumerate(self.bands):
                f, e, zp = float(self.flux[b, k]), float(err[b, k]), self.zeropoint(band)
                mag, mag_err = flux_to_mag(f, e, zp) if zp is not None else (np.nan, np.nan)
                rows.append(
                    {
                        "source": src,
                        "band": band,
                        "flux": f,
                        "flux_err": e,
                        "zeropoint": zp,
                        "mag": float(mag),
                        "mag_err": float(mag_err),
                        "at_bound": bool(self.at_bound[b, k]),
                    }
                )
        return rows

    def write(self, outdir, *, overwrite: bool = False) -> dict:
        """Per-image model and residual FITS files and the SED table
        (:func:`scenefit.io.write_multi_outputs`)."""
        from ..io.multi_outputs import write_multi_outputs

        return write_multi_outputs(self, outdir, overwrite=overwrite)

    def summary(self) -> str:
        lines = [
            f"forced photometry of {len(self.sources)} sources in {len(self.bands)} bands "
            f"({len(self.images)} images); chi2 = {self.objective:.6g}, dof = {self.dof}"
        ]
        err = self.flux_err
        for b, band in enumerate(self.bands):
            for k, src in enumerate(self.sources):
                flag = "  (at 0)" if self.at_bound[b, k] else ""
                lines.append(
                    f"  {src:16s} {band:6s} {self.flux[b, k]:14.6g} +/- {err[b, k]:.3g}{flag}"
                )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return (
            f"ForcedResult(sources={len(self.sources)}, bands={list(self.bands)}, "
            f"chi2={self.objective:.6g}, dof={self.dof})"
        )
