"""``scenefit imfit --model-errors``: chi^2 with the variance estimated from the model.

Imfit's definition (its ``--model-errors`` option): the data-based variance formula with
the model in place of the data, sigma^2 = (m + original_sky) / G + N_comb RN^2 / G^2,
G = gain exptime N_comb, recomputed for every model. scenefit's ``chi2_model``
likelihood minimises exactly this chi^2 (Jacobian including d sigma / d m).
"""

from __future__ import annotations

import re

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from scenefit.cli import main
from scenefit.likelihood import residual_jacobian, residuals_and_objective

TRUTH = {"X0": 24.3, "Y0": 23.6, "PA": 35.0, "ell": 0.3, "I_0": 200.0, "h": 6.0}
GAIN, RN, SKY, NCOMB = 4.0, 5.0, 100.0, 2.0


def _config(path, v, fixed=()):
    lines = [f"X0 {v['X0']}", f"Y0 {v['Y0']}", "FUNCTION Exponential"]
    lines += [f"{k} {v[k]}{' fixed' if k in fixed else ''}" for k in ("PA", "ell", "I_0", "h")]
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def _values(text):
    return {
        m[1]: (float(m[2]), float(m[3]))
        for m in re.finditer(r"^(\w+)\t\t\s*([-0-9.e+]+) # \+/- ([-0-9.e+inf]+)", text, re.M)
    }


def _chi2(text):
    return float(re.search(r"CHI-SQUARE = ([-0-9.e+]+)", text)[1])


@pytest.fixture(scope="module")
def mock(tmp_path_factory):
    """An exponential disk with noise drawn from Imfit's model-based variance."""
    from astropy.io import fits

    d = tmp_path_factory.mktemp("me")
    truth_cfg = _config(d / "truth.dat", TRUTH)
    model_path = d / "model.fits"
    assert main(["makeimage", truth_cfg, "--shape", "48", "48", "--output", str(model_path)]) == 0
    m = fits.getdata(model_path).astype(float)
    g = GAIN * NCOMB
    var = (m + SKY) / g + NCOMB * RN**2 / g**2
    data = m + np.random.default_rng(42).normal(size=m.shape) * np.sqrt(var)
    img = d / "mock.fits"
    fits.PrimaryHDU(data).writeto(img)
    return d, str(img), truth_cfg, m, data, var


def _noise_args():
    return [f"--gain={GAIN}", f"--readnoise={RN}", f"--sky={SKY}", f"--ncombined={NCOMB}"]


def test_chisquare_only_is_imfit_model_error_formula(mock, capsys):
    d, img, truth_cfg, m, data, var = mock
    assert (
        main(["imfit", truth_cfg, img, "--model-errors", "--chisquare-only", *_noise_args()]) == 0
    )
    got = _chi2(capsys.readouterr().out)
    # independent: sum (d - m)^2 / sigma^2(m), Imfit's formula with the model in place of
    # the data (m here is makeimage's float32 output: measured 3e-9 relative difference)
    assert got == pytest.approx(np.sum((data - m) ** 2 / var), rel=1e-7)
    # and not the data-based chi^2
    data_based = np.sum(
        (data - m) ** 2 / ((data + SKY) / (GAIN * NCOMB) + var - (m + SKY) / (GAIN * NCOMB))
    )
    assert abs(got - data_based) > 1e-4 * got


def test_model_errors_fit_recovers_truth(mock, capsys):
    d, img, truth_cfg, m, data, var = mock
    start = _config(d / "start.dat", {**TRUTH, "X0": 25, "Y0": 23, "PA": 20, "I_0": 150, "h": 8})
    assert main(["imfit", start, img, "--model-errors", *_noise_args()]) == 0
    out = capsys.readouterr().out
    assert "chi^2 (model-based errors)" in out
    vals = _values(out)
    for name, v in TRUTH.items():
        val, err = vals[name]
        assert 0 < err < 0.2 * max(abs(v), 1), name
        assert abs(val - v) < 4 * err, (name, val, err)
    chi2, dof = _chi2(out), 48 * 48 - 6
    assert abs(chi2 - dof) < 5 * np.sqrt(2 * dof)


def test_model_errors_minimum_is_the_model_error_chi2_minimum(mock, capsys, tmp_path):
    """Moving any printed best-fit value by 0.5 sigma raises the model-error chi^2.

    This fails if the fit minimised a different statistic (e.g. data-based chi^2, or the
    fixed-per-iteration variance rule, whose solution differs from the minimum).
    """
    d, img, truth_cfg, m, data, var = mock
    start = _config(d / "start2.dat", {**TRUTH, "I_0": 180, "h": 7})
    assert main(["imfit", start, img, "--model-errors", *_noise_args()]) == 0
    out = capsys.readouterr().out
    vals = _values(out)
    best = {k: v for k, (v, _) in vals.items()}
    args = ["--model-errors", "--chisquare-only", *_noise_args()]
    assert main(["imfit", _config(tmp_path / "b.dat", best), img, *args]) == 0
    at_best = _chi2(capsys.readouterr().out)
    assert at_best == pytest.approx(_chi2(out), abs=2e-3)
    for name in TRUTH:
        for sign in (-1, 1):
            moved = {**best, name: best[name] + sign * 0.5 * vals[name][1]}
            assert main(["imfit", _config(tmp_path / "p.dat", moved), img, *args]) == 0
            assert _chi2(capsys.readouterr().out) > at_best + 0.1, (name, sign)


def test_chi2_model_jacobian_matches_autodiff():
    jax.config.update("jax_enable_x64", True)
    rng = np.random.default_rng(1)
    d, m = rng.uniform(1, 10, (3, 4)), rng.uniform(1, 10, (3, 4))
    iv = rng.uniform(0.1, 2, (3, 4))
    iv[0, 0] = 0.0  # masked

    def r(mm):
        return residuals_and_objective("chi2_model", mm, d, iv, 2.5)[0]

    auto = jax.jacfwd(r)(jnp.asarray(m)).reshape(12, 12)
    ours = residual_jacobian("chi2_model", np.eye(12).reshape(12, 3, 4), m, d, iv, 2.5)
    np.testing.assert_allclose(ours, auto, atol=1e-14)
    assert np.all(np.asarray(ours)[0] == 0)


def test_model_errors_with_noise_is_a_clear_error(mock, capsys):
    d, img, truth_cfg, *_ = mock
    assert main(["imfit", truth_cfg, img, "--model-errors", "--noise", img]) == 2
    err = capsys.readouterr().err
    assert "--model-errors" in err and "--noise" in err and "Traceback" not in err
