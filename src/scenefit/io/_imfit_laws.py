"""Imfit functions that scenefit draws with one of its radial laws, converted generically.

Each entry names the scenefit class, Imfit's amplitude parameter (a surface brightness
at a reference radius) and how every other Imfit parameter maps onto the class's
parameters. Lengths are pixels in Imfit and arcsec in scenefit (times the pixel scale);
Imfit's ``alpha`` of ``BrokenExponential`` is an inverse length (1/pixel). The total flux
follows from the law itself: F = I_ref q A(c0) total(law) / radial(r_ref, law), with
``total`` the class's plane integral of the unnormalised law (it includes the
generalised ellipse's area factor A(c0) when the class has a ``c0``).

Imfit's definitions (Imfit's reference manual, checked pixel by pixel against Imfit's
own images by ``scripts/imfit_function_reference.py``):

* ``Core-Sersic`` (Graham et al. 2003): I_b is the surface brightness at r_b.
* ``BrokenExponential`` (Erwin et al. 2008): I_0 central; ``alpha`` in 1/pixel.
* ``FerrersBar2D``: I_0 (1 - m^2)^n inside m < 1, m the generalised-ellipse radius
  over a_bar: scenefit's Ferrers with beta = 0 on the generalised ellipse.
* ``GaussianRing``: A at the ring radius R_ring, Gaussian width sigma_r.
* ``ModifiedKing`` (Elson 1999; Peng et al. 2010): I_0 central.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

__all__ = ["LAW_FUNCTIONS", "law_spec", "law_flux_factor", "law_to_kwargs", "law_from_component"]


@dataclass(frozen=True)
class LawSpec:
    """How one Imfit function maps onto a scenefit law class.

    ``params`` maps each Imfit shape parameter to ``(scenefit name, kind)`` with kind
    ``"length"`` (times the pixel scale), ``"inverse"`` (divided by it) or ``"plain"``.
    ``ref`` is the Imfit parameter at whose radius ``amp`` is the surface brightness
    (``None``: the centre). ``fixed`` holds scenefit parameters Imfit does not have.
    """

    class_path: str
    amp: str
    params: dict
    ref: str | None = None
    fixed: dict = field(default_factory=dict)

    def cls(self):
        from .. import models

        name, _, geometry = self.class_path.partition("@")
        law = getattr(models, name)
        return models.gen_ellipse(law) if geometry == "genellipse" else law


#: Imfit name -> :class:`LawSpec`
LAW_FUNCTIONS = {
    "Core-Sersic": LawSpec(
        "CoreSersic",
        "I_b",
        {
            "n": ("n", "plain"),
            "r_e": ("r_e", "length"),
            "r_b": ("r_b", "length"),
            "alpha": ("alpha", "plain"),
            "gamma": ("gamma", "plain"),
        },
        ref="r_b",
    ),
    "BrokenExponential": LawSpec(
        "BrokenExponential",
        "I_0",
        {
            "h1": ("h1", "length"),
            "h2": ("h2", "length"),
            "r_break": ("r_break", "length"),
            "alpha": ("alpha", "inverse"),
        },
    ),
    "FerrersBar2D": LawSpec(
        "Ferrers@genellipse",
        "I_0",
        {"c0": ("c0", "plain"), "n": ("alpha", "plain"), "a_bar": ("r_out", "length")},
        fixed={"beta": 0.0},
    ),
    "GaussianRing": LawSpec(
        "GaussianRing",
        "A",
        {"R_ring": ("r_ring", "length"), "sigma_r": ("sigma", "length")},
        ref="R_ring",
    ),
    "ModifiedKing": LawSpec(
        "King",
        "I_0",
        {"r_c": ("r_c", "length"), "r_t": ("r_t", "length"), "alpha": ("alpha", "plain")},
    ),
}


def law_spec(imfit_name: str) -> LawSpec | None:
    """The :class:`LawSpec` of ``imfit_name``, or ``None`` for the other functions."""
    return LAW_FUNCTIONS.get(imfit_name)


def _to_scenefit(kind: str, scale: float):
    """The map of one Imfit value to scenefit's unit (monotonic)."""
    if kind == "length":
        return lambda v: v * scale
    if kind == "inverse":
        return lambda v: v / scale
    return lambda v: v


def law_flux_factor(imfit_name: str, vals: dict, bn_rule: str = "exact") -> float:
    """Total flux / Imfit amplitude (pixel^2) for the Imfit values ``vals`` (pixels).

    Parameters
    ----------
    imfit_name : str
        A key of :data:`LAW_FUNCTIONS`.
    vals : dict
        Imfit parameter values: ``ell`` and the shape parameters, lengths in pixels.
    bn_rule : {"exact", "series"}
        The Sersic b_n rule of ``Core-Sersic`` (the renderer's ``sersic_bn``).

    Returns
    -------
    float
        F / I_ref in pixel^2.
    """
    import jax.numpy as jnp

    spec = LAW_FUNCTIONS[imfit_name]
    cls = spec.cls()
    by_name = {name: vals[key] for key, (name, _) in spec.params.items()}
    by_name.update(spec.fixed)
    law = jnp.asarray([float(by_name[p]) for p in cls.param_names()[3:-2]])
    r_ref = 0.0 if spec.ref is None else float(vals[spec.ref])
    opts = {"bn_rule": bn_rule} if cls.root_law().__name__ == "CoreSersic" else {}
    total = float(cls.total(law, **opts))
    at_ref = float(cls.radial(jnp.asarray(r_ref), law, **opts))
    if not (math.isfinite(total) and at_ref > 0.0):
        raise ValueError(
            f"{imfit_name}: the profile's total flux is not finite or it is zero at the "
            f"reference radius for {vals}"
        )
    return (1.0 - float(vals["ell"])) * total / at_ref


def law_to_kwargs(imfit_name: str, pr: dict, scale: float, to_param) -> dict:
    """scenefit keyword Params for the shape parameters of an Imfit function.

    ``pr``: Imfit name -> :class:`~scenefit.io.imfit_config.ImfitParam`; ``to_param(p,
    f)``: the Param of ``p`` mapped through ``f`` (limits mapped too)."""
    from ..parameters import Param

    spec = LAW_FUNCTIONS[imfit_name]
    kw = {
        name: to_param(pr[key], _to_scenefit(kind, scale))
        for key, (name, kind) in spec.params.items()
    }
    kw.update({name: Param(v, fixed=True) for name, v in spec.fixed.items()})
    return kw


def law_from_component(imfit_name: str, comp, scale: float) -> dict:
    """Imfit shape values (pixels) of a scenefit component; the amplitude is left out."""
    spec = LAW_FUNCTIONS[imfit_name]
    out = {}
    for key, (name, kind) in spec.params.items():
        v = float(getattr(comp, name).value)
        out[key] = v / scale if kind == "length" else v * scale if kind == "inverse" else v
    for name, v in spec.fixed.items():
        got = float(getattr(comp, name).value)
        if not np.isclose(got, v):
            raise ValueError(
                f"{comp.name}: Imfit's {imfit_name} has {name} = {v:g}; the component has {got:g}"
            )
    return out
