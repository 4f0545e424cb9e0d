"""All standard outputs of a fit, written into one folder."""

from __future__ import annotations

from pathlib import Path

from .imgblock import write_imgblock
from .plots import plot_fit
from .scene_yaml import save_scene
from .tables import write_table

__all__ = ["OUTPUT_KINDS", "write_outputs"]

#: kind -> file name pattern of :func:`write_outputs`
OUTPUT_KINDS = {
    "params_ecsv": "{prefix}_params.ecsv",
    "params_fits": "{prefix}_params.fits",
    "imgblock": "{prefix}_imgblock.fits",
    "scene": "{prefix}_scene.yaml",
    "plot": "{prefix}.png",
}


def write_outputs(result, outdir, prefix: str = "fit") -> dict[str, Path]:
    """Write the parameter tables, imgblock, best-fit scene and figure of a fit.

    Files (overwritten if present), all inside ``outdir``:

    * ``<prefix>_params.ecsv`` and ``<prefix>_params.fits``: :func:`parameter_table`;
    * ``<prefix>_imgblock.fits``: :func:`write_imgblock`;
    * ``<prefix>_scene.yaml``: the best-fit scene (:func:`save_scene`), usable as the
      starting point of another fit;
    * ``<prefix>.png``: :func:`plot_fit`.

    Parameters
    ----------
    result : FitResult
    outdir : str or Path
        Folder; created (with its parents) if missing. Nothing is written elsewhere.
    prefix : str
        File name prefix; a plain name (no path separators, not ``.`` or ``..``).

    Returns
    -------
    dict of str -> Path
        The files written, keyed by kind (see :data:`OUTPUT_KINDS`).

    Raises
    ------
    ValueError
        If ``prefix`` is empty or contains a path separator.
    """
    if (
        not isinstance(prefix, str)
        or not prefix
        or prefix in (".", "..")
        or any(sep in prefix for sep in ("/", "\\", "\0"))
    ):
        raise ValueError(
            f"prefix must be a plain file-name prefix without path separators, got {prefix!r}; "
            "choose the folder with outdir"
        )
    outdir = Path(outdir)
    outdir.mkdir(parents=True, exist_ok=True)
    paths = {kind: outdir / pattern.format(prefix=prefix) for kind, pattern in OUTPUT_KINDS.items()}
    write_table(result, paths["params_ecsv"])
    write_table(result, paths["params_fits"])
    write_imgblock(result, paths["imgblock"], logfile=paths["params_ecsv"].name)
    save_scene(result.scene, paths["scene"])
    plot_fit(result, paths["plot"])
    return paths
