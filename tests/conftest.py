"""Shared helpers for the core tests: small PSFs, blank images, image moments.

Everything here is deterministic; tests that need noise build their own seeded
``numpy.random.default_rng``.
"""

from __future__ import annotations

import jax
import numpy as np
import pytest

import scenefit as sf

# The tests compile with most of XLA's optimisations off: they check what the programs
# compute, not how fast (benchmarks/ measures speed with the default compilation, and
# tests/test_program_cache.py fits in subprocesses that compile as users do). It takes
# ~22 % of the suite's CPU time away: most of it is compilation (2026-12-08, the model
# contract and gradient files: 317 -> 247 CPU seconds).
jax.config.update("jax_disable_most_optimizations", True)


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


# Cases that run with ``-m slow`` only. Each one's check is also made, on a cheaper
# problem or by a sibling case, in the default run (named after the case); they cost
# 30-180 s each on a loaded 2-core machine (pytest --durations, 2026-12-03).
_HEAVY_DUPLICATES = {
    "tests/test_lm_robustness.py::test_fit_starting_exactly_on_a_bound[pa-at-user-bound]",
    "tests/test_convolution_methods.py::"
    "test_jacobian_with_direct_convolution_equals_dense[fft-bicubic]",
    "tests/test_profile_totals.py::test_total_derivatives_match_finite_differences[spline6-22]",
    "tests/test_integration_budget.py::"
    "test_budget_holds_beyond_the_refinement_window[sersic n=4 r_e=15]",
    # PSF Jacobians: test_convolution_methods, test_mixture
    "tests/test_jacobian.py::test_sparse_jacobian_equals_dense[1-True-True]",
    # Sersic gradients and flux: test_gradients, test_profiles_flux, test_profile_totals
    "tests/test_model_contract_gradients.py::test_gradients_match_finite_differences[sersic]",
    "tests/test_model_contracts.py::test_rendered_flux_matches_the_integral_of_the_law[sersic]",
    # banded equations: the poisson+PSF and imfit-sampling cases; points: not banded
    "tests/test_banded_normal.py::"
    "test_banded_normal_equations_equal_the_whole[False-True-chi2-settings0]",
    "tests/test_banded_normal.py::"
    "test_banded_normal_equations_equal_the_whole[True-False-chi2-settings1]",
    "tests/test_banded_normal.py::test_a_banded_fit_equals_the_whole_fit",
    "tests/test_banded_normal.py::test_bands_place_the_accurate_window_of_an_edge_source[-0.4]",
    "tests/test_banded_normal.py::test_bands_place_the_accurate_window_of_an_edge_source[60.0]",
    # direct-convolution Jacobian: the fourier case; Lanczos points: test_subpixel_shift
    "tests/test_convolution_methods.py::"
    "test_jacobian_with_direct_convolution_equals_dense[direct-lanczos3]",
    # composed-profile Jacobian: test_jacobian and the contract gradients per geometry
    "tests/test_geometries_io.py::test_block_sparse_jacobian_equals_dense_with_composed_profiles",
    # ties: test_lm_recovery::test_injection_recovery, test_joint
    "tests/test_lm_recovery.py::test_bulge_disk_with_tied_centres",
    # the same objective: the adam case
    "tests/test_gradient_fit.py::test_gradient_optimisers_reach_the_lm_optimum[lbfgsb]",
    "tests/test_mixture.py::test_sparse_jacobian_equals_dense_with_mixture_profiles[moffat]",
    # injection-recovery of the heaviest laws: their gradients and fluxes stay default
    "tests/test_model_contract_recovery.py::test_injection_recovery[core_sersic]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[sersic_twist]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[edge_on_disk]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[spline6]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[spline6_zero]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[sersic_warp3]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[sersic_rays2]",
    "tests/test_model_contract_recovery.py::test_injection_recovery[exponential_wedges2]",
    # chunked refinement: 138 (two chunks run, two skipped) and more cells than
    # refine_pixels stay default
    "tests/test_refine_ladder.py::"
    "test_the_ladder_changes_neither_the_model_nor_its_jacobian[smooth n=0.8 r_e=12]",
    "tests/test_refine_ladder.py::"
    "test_the_ladder_changes_neither_the_model_nor_its_jacobian[smooth n=0.5 r_e=20]",
    # every parameter's gradient without a PSF: the contract gradients (every profile)
    # and test_jacobian's sparse = dense without a PSF; the PSF case stays default
    "tests/test_gradients.py::test_gradient_of_every_parameter_matches_finite_differences[no-psf]",
    # the warp's flux: test_warp_rays::test_warp_node_values_and_total (its total), and
    # flux conservation of the renderer in every other geometry's contract case
    "tests/test_model_contracts.py::test_rendered_flux_matches_the_integral_of_the_law[sersic_warp3]",
    # an edge source below the image: the one above it ([-9.0]) is the wrap-around case
    "tests/test_banded_normal.py::test_bands_place_the_accurate_window_of_an_edge_source[120.3]",
    "tests/test_refine_ladder.py::"
    "test_the_ladder_changes_neither_the_model_nor_its_jacobian[n=4 r_e=2 q=0.3]",
}


# The test workers take whole files (``--dist loadfile``) in collection order
# (``--no-loadscope-reorder``): the heaviest files go first, so that the last file a
# worker takes is a short one and both finish together. Ordered by worker seconds per
# file in the default run (pytest --durations=0, 2026-12-08); the others follow by name.
_HEAVY_FILES = (
    "test_model_contract_gradients.py",
    "test_banded_normal.py",
    "test_iterative.py",
    "test_model_contracts.py",
    "test_model_contract_recovery.py",
    "test_lm_robustness.py",
    "test_mixture.py",
    "test_refine_ladder.py",
    "test_bounds_recheck.py",
    "test_psf_mixture_model.py",
    "test_gradients.py",
    "test_convolution_methods.py",
    "test_batch.py",
    "test_cmos.py",
    "test_cli.py",
    "test_lm_recovery.py",
)


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.nodeid in _HEAVY_DUPLICATES:
            item.add_marker(pytest.mark.slow)
    rank = {name: i for i, name in enumerate(_HEAVY_FILES)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable
