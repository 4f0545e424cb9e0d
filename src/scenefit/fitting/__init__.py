"""Fitters: Levenberg-Marquardt with covariance, priors, batches of cutouts, NUTS."""

from .batch import fit_batch
from .fit import fit
from .lm import LM_MESSAGES
from .posterior import PosteriorSamples
from .priors import GaussianPrior, PriorError, SoftConstraint
from .result import FitResult
from .sample import sample_nuts

__all__ = [
    "fit",
    "fit_batch",
    "FitResult",
    "LM_MESSAGES",
    "GaussianPrior",
    "SoftConstraint",
    "PriorError",
    "sample_nuts",
    "PosteriorSamples",
]
