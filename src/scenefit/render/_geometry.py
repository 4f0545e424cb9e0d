"""Elliptical geometry: tangent-plane offsets -> major-axis radius (defined in
:mod:`scenefit.models._ellipse`, the default geometry of every profile; re-exported
here for the renderers)."""

from __future__ import annotations

from ..models._ellipse import R_SOFT, elliptical_radius

__all__ = ["elliptical_radius", "R_SOFT"]
