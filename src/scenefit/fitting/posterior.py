"""PosteriorSamples: MCMC draws of named parameters with their diagnostics (a value)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["PosteriorSamples"]


@dataclass(frozen=True, repr=False)
class PosteriorSamples:
    """Posterior draws in physical units, per chain, with convergence diagnostics.

    Attributes
    ----------
    names : tuple of str
        Parameter addresses (the free parameters of the scene), column order.
    samples : ndarray (C, D, F)
        C chains of D draws of the F parameters, physical units.
    rhat : ndarray (F,)
        Split Gelman-Rubin R-hat (numpyro.diagnostics.split_gelman_rubin).
    ess : ndarray (F,)
        Effective sample size over all chains (numpyro.diagnostics.effective_sample_size).
    num_divergent : int
        Divergent transitions after warm-up.
    seconds_warmup : float
        Wall time of the warm-up (compilation included).
    seconds_sampling : float
        Wall time of the post-warm-up draws.
    extra : dict
        Sampler details (step size, mean acceptance probability, tree depth, ...).

    Examples
    --------
    >>> import numpy as np
    >>> s = np.random.default_rng(0).normal(size=(2, 500, 1))
    >>> post = PosteriorSamples(("a.x",), s, np.ones(1), np.full(1, 1000.0), 0, 1.0, 2.0)
    >>> round(post.std("a.x"), 1), post.ess_per_second("a.x")
    (1.0, 500.0)
    """

    names: tuple
    samples: np.ndarray
    rhat: np.ndarray
    ess: np.ndarray
    num_divergent: int
    seconds_warmup: float
    seconds_sampling: float
    extra: dict = field(default_factory=dict)

    def _col(self, name: str) -> int:
        try:
            return self.names.index(name)
        except ValueError:
            raise KeyError(f"no samples of {name!r}; sampled parameters are {self.names}") from None

    @property
    def flat(self) -> np.ndarray:
        """All draws, chains concatenated, (C * D, F)."""
        return self.samples.reshape(-1, self.samples.shape[-1])

    def draws(self, name: str) -> np.ndarray:
        """Draws of one parameter, chains concatenated, (C * D,)."""
        return self.flat[:, self._col(name)]

    def mean(self, name: str) -> float:
        return float(np.mean(self.draws(name)))

    def std(self, name: str) -> float:
        return float(np.std(self.draws(name), ddof=1))

    def interval(self, name: str, level: float = 0.68) -> tuple[float, float]:
        """Central credible interval containing ``level`` of the draws."""
        q = 50.0 * (1.0 - level)
        lo, hi = np.percentile(self.draws(name), [q, 100.0 - q])
        return float(lo), float(hi)

    def covariance(self) -> np.ndarray:
        """Sample covariance of the parameters (F, F)."""
        return np.cov(self.flat, rowvar=False).reshape(len(self.names), len(self.names))

    def ess_per_second(self, name: str | None = None) -> float:
        """Effective samples per second of sampling (the smallest over parameters if no name)."""
        ess = self.ess[self._col(name)] if name else np.min(self.ess)
        return float(ess / self.seconds_sampling)

    def as_dict(self) -> dict[str, np.ndarray]:
        """``{name: (C, D) draws}``."""
        return {n: self.samples[..., i] for i, n in enumerate(self.names)}

    def to_inference_data(self):
        """An ``arviz.InferenceData`` (posterior group; requires arviz).

        Raises
        ------
        ImportError
            If arviz is not installed (``pip install scenefit[sampling]``).
        """
        try:
            import arviz as az
        except ImportError as err:  # pragma: no cover - depends on the environment
            raise ImportError(
                "to_inference_data needs arviz; install it with pip install 'scenefit[sampling]'"
            ) from err
        return az.from_dict(posterior=self.as_dict())

    def summary(self) -> str:
        lines = [
            f"{self.samples.shape[0]} chains x {self.samples.shape[1]} draws, "
            f"{self.num_divergent} divergent, warm-up {self.seconds_warmup:.1f} s, "
            f"sampling {self.seconds_sampling:.1f} s",
            f"  {'parameter':24s} {'mean':>12s} {'std':>10s} {'r_hat':>7s} {'ess':>8s}",
        ]
        for i, n in enumerate(self.names):
            col = self.flat[:, i]
            lines.append(
                f"  {n:24s} {np.mean(col):12.6g} {np.std(col, ddof=1):10.3g} "
                f"{self.rhat[i]:7.3f} {self.ess[i]:8.0f}"
            )
        return "\n".join(lines)

    def __repr__(self) -> str:
        c, d, f = self.samples.shape
        return f"PosteriorSamples({c} chains x {d} draws of {f} parameters)"
