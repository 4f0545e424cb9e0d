"""scenefit: forward-model astronomical images with JAX.

Importing scenefit enables JAX's 64-bit mode (``jax_enable_x64``); this is its only
import-time side effect. Importing writes no files; :func:`enable_compile_cache` opts in to
JAX's persistent compilation cache (the ``scenefit`` command turns it on by default).
"""

import jax as _jax

_jax.config.update("jax_enable_x64", True)

from ._compile_cache import enable_compile_cache  # noqa: E402
from .fitting import (  # noqa: E402
    FitResult,
    ForcedResult,
    JointFitResult,
    fit,
    fit_joint,
    forced_photometry,
)
from .image import Image  # noqa: E402
from .initialize import initialize  # noqa: E402
from .models import (  # noqa: E402
    MODEL_TYPES,
    AiryPSF,
    Exponential,
    FlatSky,
    Gaussian,
    GaussianPSF,
    Moffat,
    MoffatPSF,
    PointSource,
    Sersic,
    SersicGM,
    TiltedSky,
    ZernikePSF,
)
from .parameters import Param  # noqa: E402
from .psf import PixelPSF  # noqa: E402
from .render import RenderSettings, render  # noqa: E402
from .scene import Scene  # noqa: E402
from .tangent import common_tangent_plane  # noqa: E402

__version__ = "0.1.0"

__all__ = [
    "Image",
    "PixelPSF",
    "Param",
    "Scene",
    "Sersic",
    "SersicGM",
    "Exponential",
    "Gaussian",
    "Moffat",
    "PointSource",
    "FlatSky",
    "TiltedSky",
    "GaussianPSF",
    "MoffatPSF",
    "AiryPSF",
    "ZernikePSF",
    "MODEL_TYPES",
    "RenderSettings",
    "render",
    "fit",
    "fit_joint",
    "JointFitResult",
    "forced_photometry",
    "ForcedResult",
    "common_tangent_plane",
    "initialize",
    "FitResult",
    "enable_compile_cache",
    "__version__",
]
