"""Input and output at the edge: model-type names, scene files, tables, images, plots.

This is the only package that reads or writes files, turns model-type strings into
classes, or imports matplotlib (lazily, inside :func:`plot_fit`).
"""

from .catalogue import scene_from_catalogue
from .config import FitConfig, load_config
from .imgblock import write_imgblock
from .multi_outputs import write_multi_outputs
from .names import MODEL_REGISTRY, describe_models, model_class
from .outputs import write_outputs
from .plots import plot_fit
from .scene_yaml import load_scene, save_scene, scene_from_dict, scene_to_dict
from .sed import sed_table
from .tables import parameter_table, write_table

__all__ = [
    "MODEL_REGISTRY",
    "model_class",
    "describe_models",
    "scene_to_dict",
    "scene_from_dict",
    "save_scene",
    "load_scene",
    "parameter_table",
    "write_table",
    "sed_table",
    "write_imgblock",
    "plot_fit",
    "write_outputs",
    "write_multi_outputs",
    "scene_from_catalogue",
    "load_config",
    "FitConfig",
]
