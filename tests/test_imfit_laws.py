"""Imfit's Core-Sersic, BrokenExponential, FerrersBar2D, GaussianRing and ModifiedKing
read from Imfit configurations: values at pixel centres against Imfit's formulas
(independent numpy), amplitude -> total flux against scipy quadrature, round trips,
and (``-m peers``) against Imfit's own images through pyimfit."""

from __future__ import annotations

import json
import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy.integrate import quad
from scipy.special import gammaincinv

import scenefit as sf
from scenefit.io.imfit_config import flux_factor, parse_imfit_config

ROOT = Path(__file__).resolve().parents[1]
SHAPE = (40, 44)
X0, Y0 = 21.4, 19.7  # 1-based, Imfit's convention


def _b(n):  # exact b_n (the default rule)
    return gammaincinv(2 * n, 0.5)


# Imfit's definitions, I(a) with a the major-axis (generalised-ellipse) radius in pixels
def core_sersic(a, n, I_b, r_e, r_b, alpha, gamma):
    b = _b(n)
    ip = I_b * 2 ** (-gamma / alpha) * np.exp(b * (2 ** (1 / alpha) * r_b / r_e) ** (1 / n))
    a = np.maximum(a, 1e-12)
    env = ((a**alpha + r_b**alpha) / r_e**alpha) ** (1 / (alpha * n))
    return ip * (1 + (r_b / a) ** alpha) ** (gamma / alpha) * np.exp(-b * env)


def broken_exponential(a, I_0, h1, h2, r_break, alpha):
    e = (1 / alpha) * (1 / h1 - 1 / h2)
    s = (1 + np.exp(-alpha * r_break)) ** (-e)
    return s * I_0 * np.exp(-a / h1 + e * np.logaddexp(0.0, alpha * (a - r_break)))


def ferrers_bar(a, n, I_0, a_bar):
    m2 = (a / a_bar) ** 2
    return np.where(m2 < 1, I_0 * np.clip(1 - m2, 0, None) ** n, 0.0)


def gaussian_ring(a, A, R_ring, sigma_r):
    return A * np.exp(-((a - R_ring) ** 2) / (2 * sigma_r**2))


def modified_king(a, I_0, r_c, r_t, alpha):
    t = (1 + (a / r_c) ** 2) ** (-1 / alpha)
    tt = (1 + (r_t / r_c) ** 2) ** (-1 / alpha)
    d = np.clip((t - tt) / (1 - tt), 0, None)
    return np.where(a < r_t, I_0 * d**alpha, 0.0)


CASES = [
    ("Core-Sersic", "PA 35\nell 0.3", dict(n=3.5, I_b=20, r_e=9, r_b=2.5, alpha=3, gamma=0.4)),
    ("BrokenExponential", "PA 55\nell 0.35", dict(I_0=60, h1=8, h2=3, r_break=12, alpha=0.8)),
    ("FerrersBar2D", "PA 65\nell 0.6\nc0 0.5", dict(n=2, I_0=30, a_bar=15)),
    ("GaussianRing", "PA 110\nell 0.4", dict(A=25, R_ring=11, sigma_r=2.5)),
    ("ModifiedKing", "PA 15\nell 0.2", dict(I_0=90, r_c=3, r_t=18, alpha=2.5)),
]
FORMULA = {
    "Core-Sersic": core_sersic,
    "BrokenExponential": broken_exponential,
    "FerrersBar2D": ferrers_bar,
    "GaussianRing": gaussian_ring,
    "ModifiedKing": modified_king,
}
ORDER = {  # Imfit's parameter order after PA, ell (and c0)
    "Core-Sersic": ("n", "I_b", "r_e", "r_b", "alpha", "gamma"),
    "BrokenExponential": ("I_0", "h1", "h2", "r_break", "alpha"),
    "FerrersBar2D": ("n", "I_0", "a_bar"),
    "GaussianRing": ("A", "R_ring", "sigma_r"),
    "ModifiedKing": ("I_0", "r_c", "r_t", "alpha"),
}


def _config(name, geom, law, limits=False):
    lines = [f"X0 {X0}{' 15,25' if limits else ''}", f"Y0 {Y0}", f"FUNCTION {name}", geom]
    for k in ORDER[name]:
        v = law[k]
        lines.append(f"{k} {v}" + (f" {v * 0.5},{v * 2}" if limits else ""))
    return "\n".join(lines) + "\n"


def _major_radius(pa, ell, c0=0.0):
    """Imfit's radius at 0-based pixel centres (PA CCW from +y, generalised ellipse)."""
    yy, xx = np.mgrid[: SHAPE[0], : SHAPE[1]].astype(float)
    dx, dy = xx - (X0 - 1), yy - (Y0 - 1)
    t = math.radians(pa)
    u = -dx * math.sin(t) + dy * math.cos(t)  # along the major axis
    v = dx * math.cos(t) + dy * math.sin(t)
    c = c0 + 2.0
    return (np.abs(u) ** c + np.abs(v / (1 - ell)) ** c) ** (1 / c)


@pytest.mark.parametrize("name, geom, law", CASES, ids=[c[0] for c in CASES])
def test_pixel_centres_follow_imfits_formula(name, geom, law):
    model = parse_imfit_config(_config(name, geom, law))
    image = sf.Image(np.zeros(SHAPE))
    scene, notes = model.to_scene(image)
    got = np.asarray(sf.render(scene, image, sf.RenderSettings(sampling="center")))
    g = dict(line.split() for line in geom.splitlines())
    a = _major_radius(float(g["PA"]), float(g["ell"]), float(g.get("c0", 0.0)))
    want = FORMULA[name](a, **law)
    assert np.max(np.abs(got - want)) <= 1e-10 * np.max(want)


@pytest.mark.parametrize("name, geom, law", CASES, ids=[c[0] for c in CASES])
def test_amplitude_to_total_flux_is_the_plane_integral(name, geom, law):
    g = {k: float(v) for k, v in (line.split() for line in geom.splitlines())}
    amp = {k: v for k, v in law.items() if k in ("I_b", "I_0", "A")}
    ((amp_name, amp_value),) = amp.items()
    shape = {k: v for k, v in law.items() if k != amp_name}
    fac = flux_factor(name, {**g, **law})
    f = FORMULA[name]
    edges = [0.0, *sorted(v for k, v in shape.items() if k in ("r_b", "r_break", "R_ring")), np.inf]
    radial = sum(
        quad(lambda r: r * f(r, **law), a, b, limit=400)[0]
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    )
    c = g.get("c0", 0.0) + 2.0
    area = 4 * math.gamma(1 + 1 / c) ** 2 / (math.pi * math.gamma(1 + 2 / c))
    assert fac * amp_value == pytest.approx(2 * math.pi * (1 - g["ell"]) * area * radial, rel=1e-7)


@pytest.mark.parametrize("name, geom, law", CASES, ids=[c[0] for c in CASES])
def test_round_trip_keeps_values_and_maps_limits(name, geom, law):
    model = parse_imfit_config(_config(name, geom, law, limits=True))
    image = sf.Image(np.zeros(SHAPE), pixel_scale=0.4)
    scene, _ = model.to_scene(image)
    comp = scene.components[0]
    back = model.with_scene(scene, image)
    for p in model.functions[0].params:
        assert back.functions[0].param(p.name).value == pytest.approx(p.value, rel=1e-9), p.name
    # lengths in arcsec; BrokenExponential's alpha in 1/arcsec
    if name == "BrokenExponential":
        assert comp.alpha.value == pytest.approx(law["alpha"] / 0.4)
        assert (comp.alpha.lo, comp.alpha.hi) == pytest.approx(
            (law["alpha"] / 0.8, law["alpha"] * 5)
        )
        assert comp.h1.value == pytest.approx(law["h1"] * 0.4)
    if name == "FerrersBar2D":
        assert comp.beta.fixed and comp.beta.value == 0.0
        assert comp.alpha.value == law["n"] and comp.r_out.value == pytest.approx(
            law["a_bar"] * 0.4
        )


def test_core_sersic_series_bn_for_imfit_sampling():
    name, geom, law = CASES[0]
    model = parse_imfit_config(_config(name, geom, law))
    image = sf.Image(np.zeros(SHAPE))
    exact = np.asarray(
        sf.render(model.to_scene(image)[0], image, sf.RenderSettings(sampling="center"))
    )
    series = sf.RenderSettings(sampling="center", sersic_bn="series")
    got = np.asarray(sf.render(model.to_scene(image, "series")[0], image, series))
    # the reference radius r_b holds I_b under both rules; elsewhere they differ slightly
    assert 1e-9 < np.max(np.abs(got - exact)) / np.max(exact) < 1e-5


@pytest.mark.peers
def test_every_imfit_function_matches_imfits_own_image():
    script = ROOT / "scripts" / "imfit_function_reference.py"
    try:
        out = subprocess.run(
            [sys.executable, str(script), "--no-truth"], capture_output=True, text=True, check=True
        ).stdout
    except subprocess.CalledProcessError as exc:
        if "pyimfit's Python not found" in exc.stderr:
            pytest.skip("pyimfit is not installed (../shared/bench/setup_peers.sh)")
        raise
    rows = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert len(rows) == 15
    for row in rows:
        assert row["center_max_rel_pixel"] < 1e-10, row
