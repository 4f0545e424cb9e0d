"""Per-parameter summary of a fit, shared by the table and imgblock writers.

Tied parameters report their leader's value, uncertainty, bounds and flags (those are
what the fit used); ``tied_to`` names the leader.
"""

from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

__all__ = ["ParamRow", "parameter_rows", "address_covariance"]


class ParamRow(NamedTuple):
    """One parameter address of a fitted scene."""

    component: str  # component name
    type: str  # component TYPE_NAME
    parameter: str  # parameter name
    value: float  # best-fit value (NaN if None)
    uncertainty: float  # 1-sigma; 0 if held, inf if unconstrained
    unit: str
    free: bool  # one of the fitted parameters (result.free)
    fixed: bool  # value held constant (its own or its leader's ``fixed``)
    tied_to: str  # leader address, '' if untied
    lo: float  # effective lower bound, NaN if none
    hi: float  # effective upper bound, NaN if none
    at_bound: bool  # the (leader) ended at a bound

    @property
    def address(self) -> str:
        return f"{self.component}.{self.parameter}"


def parameter_rows(result) -> list[ParamRow]:
    """One :class:`ParamRow` per parameter address of ``result.scene``, flattening order."""
    scene = result.scene
    unc = result.uncertainties
    free = set(result.free)
    at_bound = set(result.at_bound)
    rows = []
    for c in scene.components:
        for spec in c.PARAMS:
            a = f"{c.name}.{spec.name}"
            lead = scene.leader_of(a)
            p = scene.param(lead)
            rows.append(
                ParamRow(
                    component=c.name,
                    type=c.TYPE_NAME,
                    parameter=spec.name,
                    value=_num(p.value),
                    uncertainty=float(unc[a]),
                    unit=spec.unit,
                    free=a in free,
                    fixed=bool(p.fixed),
                    tied_to="" if lead == a else lead,
                    lo=_num(p.lo),
                    hi=_num(p.hi),
                    at_bound=lead in at_bound,
                )
            )
    return rows


def address_covariance(result, addresses) -> np.ndarray:
    """Covariance (K, K) of the values at ``addresses`` (physical units).

    Tied addresses share their leader's row; held parameters have zero rows.
    """
    index = {a: i for i, a in enumerate(result.free)}
    cov = np.asarray(result.covariance, dtype=float)
    idx = [index.get(result.scene.leader_of(a)) for a in addresses]
    k = len(addresses)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(k):
            if idx[i] is not None and idx[j] is not None:
                out[i, j] = cov[idx[i], idx[j]]
    return out


def _num(v) -> float:
    return math.nan if v is None else float(v)
