"""Fitters: Levenberg-Marquardt with covariance, priors, joint fits of several images,
batches of cutouts, block-by-block fits of large scenes, gradient optimisers, NUTS."""

from .batch import fit_batch
from .fit import fit
from .forced import forced_photometry
from .forced_result import ForcedResult
from .gradient import fit_gradient
from .iterative import fit_iterative
from .joint import fit_joint
from .joint_result import JointFitResult
from .lm import LM_MESSAGES
from .posterior import PosteriorSamples
from .priors import GaussianPrior, PriorError, SoftConstraint
from .profile import ProfileInterval, profile_interval
from .psf_model_fit import PSFModelFit, psf_model_from_image
from .result import FitResult
from .sample import sample_nuts

__all__ = [
    "ProfileInterval",
    "profile_interval",
    "PSFModelFit",
    "psf_model_from_image",
    "fit",
    "fit_batch",
    "fit_iterative",
    "fit_joint",
    "JointFitResult",
    "forced_photometry",
    "ForcedResult",
    "fit_gradient",
    "FitResult",
    "LM_MESSAGES",
    "GaussianPrior",
    "SoftConstraint",
    "PriorError",
    "sample_nuts",
    "PosteriorSamples",
]
