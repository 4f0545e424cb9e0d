"""Shared helpers for the core tests: small PSFs, blank images, image moments.

Everything here is deterministic; tests that need noise build their own seeded
``numpy.random.default_rng``.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scenefit as sf


def gaussian_psf(size, sigma, oversampling=1, center=None):
    """Sampled circular Gaussian PSF, normalised to unit sum.

    ``size`` is the array side (int) or ``(rows, cols)``; ``sigma`` is in *image* pixels
    (multiplied by ``oversampling`` for the array). ``center`` is (row, col) in array
    pixels, default the scenefit PSF centre ``(ny // 2, nx // 2)``.
    """
    ny, nx = (size, size) if np.isscalar(size) else size
    cy, cx = (ny // 2, nx // 2) if center is None else center
    s = sigma * oversampling
    yy, xx = np.mgrid[:ny, :nx]
    p = np.exp(-0.5 * ((xx - cx) ** 2 + (yy - cy) ** 2) / s**2)
    return p / p.sum()


def blank(shape=(48, 48), **kwargs):
    """An all-zero Image (rendering only looks at its geometry and PSF)."""
    return sf.Image(np.zeros(shape), **kwargs)


def centroid(img):
    """First moments (x, y) of an image, 0-based pixel coordinates (x = column)."""
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    tot = img.sum()
    return float((xx * img).sum() / tot), float((yy * img).sum() / tot)


@pytest.fixture(autouse=True, scope="module")
def _release_compiled_code():
    """Drop JAX's compiled executables after each test module.

    Each XLA CPU executable holds ~17 memory mappings; the whole suite compiles
    thousands, and a process that passes ``vm.max_map_count`` (65530 by default) is
    killed inside the compiler (SIGSEGV or SIGABRT). Modules share almost no compiled
    code, so clearing between them costs little.
    """
    yield
    jax.clear_caches()


# Parametrised cases whose check is already made by a sibling case in the default run;
# they cost ~15 s each on a 2-core machine, so they run with ``-m slow``.
_HEAVY_DUPLICATES = {
    "tests/test_lm_robustness.py::test_fit_starting_exactly_on_a_bound[pa-at-user-bound]",
    "tests/test_convolution_methods.py::"
    "test_jacobian_with_direct_convolution_equals_dense[fft-bicubic]",
    "tests/test_profile_totals.py::test_total_derivatives_match_finite_differences[spline6-22]",
    "tests/test_integration_budget.py::"
    "test_budget_holds_beyond_the_refinement_window[sersic n=4 r_e=15]",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in _HEAVY_DUPLICATES:
            item.add_marker(pytest.mark.slow)
