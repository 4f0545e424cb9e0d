"""Model components: galaxy profiles, point sources, skies."""

from ._base import Component, EllipticalProfile, MixtureProfile, ParamSpec, PointLike, SkyModel
from .broken_exponential import BrokenExponential
from .core_sersic import CoreSersic
from .exponential import Exponential
from .ferrers import Ferrers
from .gaussian import Gaussian
from .gaussian_ring import GaussianRing
from .king import King
from .mge import MultiGaussian3, multi_gaussian
from .moffat import Moffat
from .nuker import Nuker
from .point import PointSource
from .sersic import Sersic
from .sersic_gm import SersicGM
from .sky import FlatSky, TiltedSky
from .spline import Spline6, Spline6Zero, spline_profile

#: every concrete component type, in the order `scenefit models` lists them
#: (other sizes of the multi-Gaussian and spline laws: :func:`multi_gaussian`,
#: :func:`spline_profile`)
MODEL_TYPES = (
    Sersic,
    SersicGM,
    Exponential,
    Gaussian,
    Moffat,
    Nuker,
    CoreSersic,
    BrokenExponential,
    King,
    Ferrers,
    GaussianRing,
    MultiGaussian3,
    Spline6,
    Spline6Zero,
    PointSource,
    FlatSky,
    TiltedSky,
)

__all__ = [
    "Component",
    "EllipticalProfile",
    "MixtureProfile",
    "PointLike",
    "SkyModel",
    "ParamSpec",
    "Sersic",
    "SersicGM",
    "Exponential",
    "Gaussian",
    "Moffat",
    "Nuker",
    "CoreSersic",
    "BrokenExponential",
    "King",
    "Ferrers",
    "GaussianRing",
    "MultiGaussian3",
    "multi_gaussian",
    "Spline6",
    "Spline6Zero",
    "spline_profile",
    "PointSource",
    "FlatSky",
    "TiltedSky",
    "MODEL_TYPES",
]
