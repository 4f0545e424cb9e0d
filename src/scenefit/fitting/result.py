"""FitResult: what a fitter returns (an immutable value)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["FitResult"]


@dataclass(frozen=True, repr=False)
class FitResult:
    """Outcome of a fit.

    Attributes
    ----------
    scene : Scene
        Best-fit scene (a new value; the input scene is untouched).
    initial : Scene
        The starting scene.
    image : Image
        The fitted image.
    objective : float
        chi^2 (``likelihood="chi2"``) or Poisson deviance of the pixels at the
        optimum (priors and constraints excluded; see ``penalty``).
    dof : int
        Unmasked pixels minus free parameters.
    n_iter, n_eval : int
        LM iterations and model evaluations.
    status : int
        See :data:`scenefit.fitting.lm.LM_MESSAGES`.
    message : str
    converged : bool
    free : tuple of str
        Addresses of the fitted parameters, covariance order.
    covariance : ndarray (F, F)
        Covariance of the free parameters in physical units (inf where unconstrained).
    at_bound : tuple of str
        Free parameters that ended within 1e-6 (relative to the range) of a bound.
    ill_conditioned : bool
        True if the Fisher matrix was singular or its condition number exceeded 1e12.
    likelihood : str
    settings : RenderSettings
    seconds : float
        Wall time of the fit (compilation included when it happened).
    penalty : float
        Sum of the squared prior and constraint residuals at the optimum (0 without
        priors); the LM minimised ``objective + penalty``.
    penalties : dict
        ``{label: residual}`` of each prior (``"prior:comp.param"``: (x - mean) / sigma)
        and constraint ((g - target) / width).
    initial_objective : float
        The objective at the starting point, as ``objective`` (penalties excluded).
    """

    scene: object
    initial: object
    image: object
    objective: float
    dof: int
    n_iter: int
    n_eval: int
    status: int
    message: str
    converged: bool
    free: tuple
    covariance: np.ndarray
    at_bound: tuple
    ill_conditioned: bool
    likelihood: str
    settings: object
    seconds: float = 0.0
    extra: dict = field(default_factory=dict)
    penalty: float = 0.0
    penalties: dict = field(default_factory=dict)
    initial_objective: float = float("nan")

    @property
    def chi2(self) -> float:
        """Alias of ``objective``."""
        return self.objective

    @property
    def reduced_chi2(self) -> float:
        """objective / dof (NaN if dof <= 0)."""
        return self.objective / self.dof if self.dof > 0 else float("nan")

    @property
    def uncertainties(self) -> dict[str, float]:
        """1-sigma uncertainty of every parameter address.

        Tied parameters take their leader's; fixed ones are 0.
        """
        sig = dict(zip(self.free, np.sqrt(np.diag(self.covariance)), strict=True))
        out = {}
        for a in self.scene.addresses():
            lead = self.scene.leader_of(a)
            out[a] = float(sig.get(lead, 0.0))
        return out

    def value(self, address: str) -> float:
        """Best-fit value at ``"component.param"``."""
        return self.scene.param(address).value

    def error(self, address: str) -> float:
        """1-sigma uncertainty at ``"component.param"``."""
        return self.uncertainties[address]

    def model(self):
        """Best-fit model image (H, W)."""
        from ..render import render

        return render(self.scene, self.image, self.settings)

    def residual(self):
        """data - model (H, W); masked pixels are 0."""
        return np.where(self.image.mask, 0.0, self.image.data - self.model())

    def summary(self) -> str:
        """A readable multi-line summary with values and uncertainties."""
        lines = [
            f"{self.message} after {self.n_iter} iterations",
            f"{self.likelihood} = {self.objective:.6g}, dof = {self.dof}, "
            f"reduced = {self.reduced_chi2:.5g}",
        ]
        unc = self.uncertainties
        free = set(self.free)
        for a in self.scene.addresses():
            lead = self.scene.leader_of(a)
            v = self.scene.param(a).value
            tag = "" if lead in free else " (fixed)"
            if lead != a:
                tag = f" (tied to {lead})"
            lines.append(f"  {a:24s} {v:14.6g} +/- {unc[a]:.3g}{tag}")
        for label, r in self.penalties.items():
            lines.append(f"  {label:24s} residual {r:+.3g} sigma")
        return "\n".join(lines + flag_lines(self.at_bound, self.ill_conditioned))

    def __repr__(self) -> str:
        return (
            f"FitResult({self.message!r}, {self.likelihood}={self.objective:.6g}, "
            f"dof={self.dof}, n_iter={self.n_iter}, free={len(self.free)})"
        )


def flag_lines(at_bound, ill_conditioned) -> list[str]:
    """The summary lines of a fit's flags: parameters at a bound, a bad covariance."""
    lines = []
    if at_bound:
        lines.append("  at a bound: " + ", ".join(at_bound))
    if ill_conditioned:
        lines.append("  warning: ill-conditioned covariance; some errors are infinite")
    return lines
