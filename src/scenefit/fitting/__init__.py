"""Fitters: Levenberg-Marquardt with covariance."""

from .fit import fit
from .lm import LM_MESSAGES
from .result import FitResult

__all__ = ["fit", "FitResult", "LM_MESSAGES"]
