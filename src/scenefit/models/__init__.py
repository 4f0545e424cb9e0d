"""Model components: galaxy profiles, point sources, skies."""

from ._base import Component, EllipticalProfile, ParamSpec, PointLike, SkyModel
from .exponential import Exponential
from .gaussian import Gaussian
from .moffat import Moffat
from .point import PointSource
from .sersic import Sersic
from .sky import FlatSky, TiltedSky

#: every concrete component type, in the order `scenefit models` lists them
MODEL_TYPES = (Sersic, Exponential, Gaussian, Moffat, PointSource, FlatSky, TiltedSky)

__all__ = [
    "Component",
    "EllipticalProfile",
    "PointLike",
    "SkyModel",
    "ParamSpec",
    "Sersic",
    "Exponential",
    "Gaussian",
    "Moffat",
    "PointSource",
    "FlatSky",
    "TiltedSky",
    "MODEL_TYPES",
]
