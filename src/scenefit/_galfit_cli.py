"""The ``scenefit galfit FEEDME`` command: fit a GALFIT feedme file."""

from __future__ import annotations

import sys

__all__ = ["run_galfit"]


def _print(line: str = "") -> None:
    print(line, flush=True)


def run_galfit(args) -> int:
    """Fit the image and components of a feedme file; print and write the result.

    Writes the imgblock named on line ``B`` (if any) and, with ``--output-feedme``, the
    best-fit components in feedme layout.
    """
    from . import fit
    from .io.galfit_feedme import feedme_image, read_feedme, scene_to_feedme_text
    from .io.imgblock import write_imgblock

    fm = read_feedme(args.feedme)
    image, origin, exptime = feedme_image(fm)
    scene = fm.to_scene(image, origin, exptime)
    mode = fm.options.get("P", "0").split()[:1] or ["0"]
    _print(f"scenefit galfit: {fm.source}")
    _print(f"  image: {image!r}")
    if mode[0] not in ("0",):
        raise NotImplementedError(
            f"P) {mode[0]} (model/imgblock-only modes) is not implemented; use P) 0 to fit, "
            "or 'scenefit makeimage' to render a model"
        )
    result = fit(scene, image)
    _print("")
    _print(result.summary())
    _print("")
    text = scene_to_feedme_text(result.scene, image, fm.zeropoint, origin, exptime)
    _print(text)
    out = fm.path("B")
    if out is not None:
        write_imgblock(result, out)
        _print(f"wrote {out}")
    if args.output_feedme:
        header = "\n".join(f"{k}) {v}" for k, v in fm.options.items())
        with open(args.output_feedme, "w") as f:
            f.write(
                f"# best fit by scenefit; chi^2 = {result.objective:.6f}, dof = "
                f"{result.dof}\n{header}\n\n{text}\n"
            )
        _print(f"wrote {args.output_feedme}")
    if not result.converged:
        print(f"scenefit: warning: the fit did not converge ({result.message})", file=sys.stderr)
        return 1
    return 0
