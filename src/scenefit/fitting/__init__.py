"""Fitters: Levenberg-Marquardt with covariance, priors, batches of cutouts, NUTS."""

from .batch import fit_batch
from .fit import fit
from .lm import LM_MESSAGES
from .priors import GaussianPrior, PriorError, SoftConstraint
from .result import FitResult

__all__ = [
    "fit",
    "fit_batch",
    "FitResult",
    "LM_MESSAGES",
    "GaussianPrior",
    "SoftConstraint",
    "PriorError",
]
