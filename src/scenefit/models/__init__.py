"""Model components: galaxy profiles, point sources, skies, PSF models."""

from ._base import (
    Component,
    EllipticalProfile,
    MixtureProfile,
    ParamSpec,
    PointLike,
    PSFModel,
    SkyModel,
)
from ._compose import with_geometry
from .broken_exponential import BrokenExponential
from .core_sersic import CoreSersic
from .edge_on_disk import EdgeOnDisk
from .exponential import Exponential
from .ferrers import Ferrers
from .fourier import FourierModes, SersicFourier1_3_4, fourier_modes
from .gaussian import Gaussian
from .gaussian_ring import GaussianRing
from .genellipse import (
    GEN_ELLIPSE,
    ExponentialGenEllipse,
    GenEllipse,
    SersicGenEllipse,
    gen_ellipse,
)
from .geometry import Geometry
from .king import King
from .mge import MultiGaussian3, multi_gaussian
from .moffat import Moffat
from .nuker import Nuker
from .point import PointSource
from .psf_mixture_model import MixturePSF3, mixture_psf
from .psf_models import AiryPSF, GaussianPSF, MoffatPSF
from .psf_zernike import ZernikePSF
from .rays import ExponentialWedges2, SersicRays2, rays, wedges
from .sersic import Sersic
from .sersic_gm import SersicGM
from .sky import FlatSky, TiltedSky
from .sky_grid import SkyGrid3x3, SkyGrid4x4Bicubic, sky_grid
from .spline import Spline6, Spline6Zero, spline_profile
from .truncation import ExponentialTrunc, truncated
from .twist import TWIST, SersicTwist, Twist, twisted
from .warp import SersicWarp3, Warp, warped

#: every concrete component type, in the order `scenefit models` lists them
#: (other sizes of the multi-Gaussian and spline laws: :func:`multi_gaussian`,
#: :func:`spline_profile`; other geometries and truncations: :func:`gen_ellipse`,
#: :func:`fourier_modes`, :func:`twisted`, :func:`warped`, :func:`with_geometry`,
#: :func:`truncated`; rays and wedges: :func:`rays`, :func:`wedges`;
#: other sky grids: :func:`sky_grid`; other mixture PSFs: :func:`mixture_psf`)
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
    SersicGenEllipse,
    ExponentialGenEllipse,
    SersicFourier1_3_4,
    ExponentialTrunc,
    EdgeOnDisk,
    SersicTwist,
    PointSource,
    FlatSky,
    TiltedSky,
    GaussianPSF,
    MoffatPSF,
    AiryPSF,
    ZernikePSF,
    MixturePSF3,
    SkyGrid3x3,
    SkyGrid4x4Bicubic,
    SersicWarp3,
    SersicRays2,
    ExponentialWedges2,
)

__all__ = [
    "Component",
    "EllipticalProfile",
    "MixtureProfile",
    "PointLike",
    "SkyModel",
    "PSFModel",
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
    "EdgeOnDisk",
    "MultiGaussian3",
    "multi_gaussian",
    "Spline6",
    "Spline6Zero",
    "spline_profile",
    "Geometry",
    "GenEllipse",
    "GEN_ELLIPSE",
    "FourierModes",
    "with_geometry",
    "gen_ellipse",
    "fourier_modes",
    "truncated",
    "twisted",
    "Twist",
    "TWIST",
    "SersicTwist",
    "Warp",
    "warped",
    "SersicWarp3",
    "rays",
    "wedges",
    "SersicRays2",
    "ExponentialWedges2",
    "SersicGenEllipse",
    "ExponentialGenEllipse",
    "SersicFourier1_3_4",
    "ExponentialTrunc",
    "PointSource",
    "FlatSky",
    "TiltedSky",
    "GaussianPSF",
    "MoffatPSF",
    "MixturePSF3",
    "mixture_psf",
    "AiryPSF",
    "ZernikePSF",
    "SkyGrid3x3",
    "SkyGrid4x4Bicubic",
    "sky_grid",
    "MODEL_TYPES",
]
