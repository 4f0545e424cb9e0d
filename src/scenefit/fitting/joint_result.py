"""JointFitResult: what :func:`~scenefit.fitting.fit_joint` returns (immutable)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .result import flag_lines

__all__ = ["JointFitResult"]


@dataclass(frozen=True, repr=False)
class JointFitResult:
    """Outcome of a joint fit over several images.

    Names: a shared parameter is ``"comp.param"``; a per-band one ``"comp.param[key]"``
    (key: the band, or the image label for an image without one); a sky parameter
    ``"comp.param[label]"``.

    Attributes
    ----------
    results : tuple of FitResult
        One per image, in input order: the image's best-fit scene (shared values plus
        its band's and its own), its chi^2 (``objective``), its model and residuals,
        and the joint covariance restricted to its parameters.
    names : tuple of str
        The joint free parameters, covariance order.
    x : ndarray (N,)
        Their best-fit values, physical units.
    covariance : ndarray (N, N)
        Inverse of the joint Fisher matrix sum_i J_i^T J_i (physical units; inf where
        unconstrained).
    labels, keys : tuple of str
        Per image: its label and its band key.
    per_band, per_image : tuple of str
        Addresses free per band and per image (sky).
    objective : float
        Total chi^2 (or Poisson deviance): the sum over images.
    dof : int
        Unmasked pixels of all images minus the joint free parameters.
    n_iter, n_eval, status, message, converged, at_bound, ill_conditioned,
    likelihood, settings, seconds, initial_objective
        As in :class:`FitResult`, for the joint problem (``at_bound`` by joint name).
    """

    results: tuple
    names: tuple
    x: np.ndarray
    covariance: np.ndarray
    labels: tuple
    keys: tuple
    per_band: tuple
    per_image: tuple
    objective: float
    dof: int
    n_iter: int
    n_eval: int
    status: int
    message: str
    converged: bool
    at_bound: tuple
    ill_conditioned: bool
    likelihood: str
    settings: object
    seconds: float = 0.0
    initial_objective: float = float("nan")

    # ------------------------------------------------------------ statistics
    @property
    def chi2(self) -> float:
        """Total objective (alias of ``objective``)."""
        return self.objective

    @property
    def chi2_per_image(self) -> dict[str, float]:
        """``{label: objective of that image}``."""
        return {lab: r.objective for lab, r in zip(self.labels, self.results, strict=True)}

    @property
    def reduced_chi2(self) -> float:
        return self.objective / self.dof if self.dof > 0 else float("nan")

    @property
    def scenes(self) -> tuple:
        """Each image's best-fit scene."""
        return tuple(r.scene for r in self.results)

    @property
    def bands(self) -> tuple[str, ...]:
        """The distinct band keys, first-seen order."""
        return tuple(dict.fromkeys(self.keys))

    @property
    def errors(self) -> dict[str, float]:
        """``{joint name: 1-sigma uncertainty}`` of the free parameters."""
        sig = np.sqrt(np.diag(self.covariance))
        return {n: float(s) for n, s in zip(self.names, sig, strict=True)}

    @property
    def values(self) -> dict[str, float]:
        """``{joint name: best-fit value}`` of the free parameters."""
        return {n: float(v) for n, v in zip(self.names, self.x, strict=True)}

    # ------------------------------------------------------------ lookup
    def _resolve(self, name: str):
        """``(image result, address)`` that holds the joint name ``name``."""
        addr, bra, key = name.partition("[")
        if bra:
            if not key.endswith("]"):
                raise KeyError(f"malformed name {name!r}; expected 'comp.param[key]'")
            key = key[:-1]
            if addr in self.per_band:
                pool, what = self.keys, "band"
            elif addr in self.per_image:
                pool, what = self.labels, "image"
            else:
                raise KeyError(f"{addr!r} is shared by all images: ask for {addr!r}")
            if key not in pool:
                raise KeyError(f"no {what} {key!r}; {what}s are {sorted(set(pool))}")
            return self.results[pool.index(key)], addr
        if addr in self.per_band or addr in self.per_image:
            kind = "band" if addr in self.per_band else "image"
            pool = self.bands if kind == "band" else self.labels
            raise KeyError(
                f"{addr!r} is free per {kind}: ask for '{addr}[key]', key in {list(pool)}"
            )
        self.results[0].scene.param(addr)  # raises KeyError for an unknown address
        return self.results[0], addr

    def value(self, name: str) -> float:
        """Best-fit value of ``"comp.param"`` (shared) or ``"comp.param[key]"``."""
        res, addr = self._resolve(name)
        return res.value(addr)

    def error(self, name: str) -> float:
        """1-sigma uncertainty of ``name`` (0 for a fixed parameter)."""
        res, addr = self._resolve(name)
        return res.error(addr)

    def models(self) -> list[np.ndarray]:
        """Best-fit model image of each image (renders; compiles once per image)."""
        return [r.model() for r in self.results]

    def residuals(self) -> list[np.ndarray]:
        """data - model of each image (masked pixels 0)."""
        return [r.residual() for r in self.results]

    # ------------------------------------------------------------ photometry
    def sed(self) -> list[dict]:
        """Per-band photometry of every source with a per-band ``flux``.

        Returns
        -------
        list of dict
            One row per (source, band): ``source``, ``band``, ``flux`` and
            ``flux_err`` (image units of that band), ``zeropoint`` (None if the band's
            images have none), ``mag`` = zeropoint - 2.5 log10(flux) and
            ``mag_err`` = 2.5 / ln 10 * flux_err / flux (NaN without a zero point or
            for flux <= 0).
        """
        from ..io._magnitudes import flux_to_mag

        rows = []
        for addr in self.per_band:
            comp, _, param = addr.partition(".")
            if param != "flux":
                continue
            for key in self.bands:
                res = self.results[self.keys.index(key)]
                f, e = res.value(addr), res.error(addr)
                zp = res.image.zeropoint
                mag, mag_err = flux_to_mag(f, e, zp) if zp is not None else (np.nan, np.nan)
                rows.append(
                    {
                        "source": comp,
                        "band": key,
                        "flux": f,
                        "flux_err": e,
                        "zeropoint": zp,
                        "mag": float(mag),
                        "mag_err": float(mag_err),
                    }
                )
        return rows

    def flux_covariance(self, source: str) -> np.ndarray:
        """(B, B) covariance of ``source``'s per-band fluxes (``self.bands`` order),
        from the joint covariance (image units of each band)."""
        names = [f"{source}.flux[{b}]" for b in self.bands]
        missing = [n for n in names if n not in self.names]
        if missing:
            raise KeyError(f"{missing} are not free joint parameters; per_band={self.per_band}")
        idx = [self.names.index(n) for n in names]
        return np.array(self.covariance[np.ix_(idx, idx)])

    def write(self, outdir, *, overwrite: bool = False) -> dict:
        """Per-image ``<label>_model.fits`` / ``<label>_residual.fits`` and ``sed.ecsv``
        in ``outdir`` (:func:`scenefit.io.write_multi_outputs`)."""
        from ..io.multi_outputs import write_multi_outputs

        return write_multi_outputs(self, outdir, overwrite=overwrite)

    # ------------------------------------------------------------ text
    def summary(self) -> str:
        """A readable multi-line summary: statistics, then every free parameter."""
        lines = [
            f"{self.message} after {self.n_iter} iterations; {len(self.results)} images",
            f"{self.likelihood} = {self.objective:.6g}, dof = {self.dof}, "
            f"reduced = {self.reduced_chi2:.5g}",
        ]
        for lab, r in zip(self.labels, self.results, strict=True):
            lines.append(f"  image {lab}: {self.likelihood} = {r.objective:.6g} ({r.image!r})")
        err = self.errors
        for n, v in zip(self.names, self.x, strict=True):
            lines.append(f"  {n:28s} {v:14.6g} +/- {err[n]:.3g}")
        return "\n".join(lines + flag_lines(self.at_bound, self.ill_conditioned))

    def __repr__(self) -> str:
        return (
            f"JointFitResult({self.message!r}, images={len(self.results)}, "
            f"{self.likelihood}={self.objective:.6g}, dof={self.dof}, free={len(self.names)})"
        )
