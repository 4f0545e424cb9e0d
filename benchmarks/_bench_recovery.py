"""Parameter conventions and recovery statistics for the peer benchmark.

Every code's best fit is brought to the "native" convention of ``truth.json`` (written by
``../shared/bench/mockcases.py``): 0-based pixel centres with x = column and y = row,
``pa_rad`` counter-clockwise from +x in [0, pi), ``q = b/a``, ``re`` along the major
axis in pixels, ``ie`` the surface brightness at ``re`` in image units per pixel.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["imfit_model_to_native", "recovery", "RECOVERY_KEYS"]

#: recovery statistics written per (case, code): median and max over the galaxies
RECOVERY_KEYS = ("dn", "dre_rel", "die_rel", "dcen_px")


def imfit_model_to_native(model) -> list[dict]:
    """Sersic parameters of an Imfit model (``scenefit.io.imfit_config.ImfitModel``).

    Imfit's conventions are 1-based pixel centres, PA in degrees counter-clockwise from
    +y and ell = 1 - q; one dict per Sersic function, in file order.
    """
    out = []
    for fs in model.function_sets:
        for fn in fs.functions:
            if fn.name != "Sersic":
                continue
            v = {p.name: p.value for p in fn.params}
            out.append(
                {
                    "x": fs.x0.value - 1.0,
                    "y": fs.y0.value - 1.0,
                    "q": 1.0 - v["ell"],
                    "pa_rad": math.radians(v["PA"] - 90.0) % math.pi,
                    "n": v["n"],
                    "re": v["r_e"],
                    "ie": v["I_e"],
                }
            )
    return out


def recovery(fitted: list[dict], truth: list[dict]) -> dict:
    """Median and max over galaxies of |dn|, |dr_e|/r_e, |dI_e|/I_e and the centre offset.

    Galaxies are matched by order (every code keeps the order of the configuration).

    Examples
    --------
    >>> t = [{"x": 1, "y": 2, "n": 1, "re": 4, "ie": 2}]
    >>> f = [{"x": 4, "y": 6, "n": 1.5, "re": 5, "ie": 1}]
    >>> recovery(f, t)["dcen_px_max"], recovery(f, t)["dre_rel_med"]
    (5.0, 0.25)
    """
    if len(fitted) != len(truth):
        raise ValueError(f"{len(fitted)} fitted galaxies for {len(truth)} true ones")
    f = {k: np.array([g[k] for g in fitted], float) for k in ("x", "y", "n", "re", "ie")}
    t = {k: np.array([g[k] for g in truth], float) for k in ("x", "y", "n", "re", "ie")}
    errs = {
        "dn": np.abs(f["n"] - t["n"]),
        "dre_rel": np.abs(f["re"] - t["re"]) / t["re"],
        "die_rel": np.abs(f["ie"] - t["ie"]) / t["ie"],
        "dcen_px": np.hypot(f["x"] - t["x"], f["y"] - t["y"]),
    }
    out = {}
    for k, v in errs.items():
        out[f"{k}_med"] = float(np.median(v))
        out[f"{k}_max"] = float(np.max(v))
    return out
