"""fit_batch: vectorised independent LM fits equal the single fits, failures stay local."""

from __future__ import annotations

import numpy as np
import pytest

import scenefit as sf
from scenefit.fitting import fit, fit_batch
from scenefit.fitting.batch import BatchError

SHAPE = (20, 20)


def _cutout(seed, mask_all_but=None):
    rng = np.random.default_rng(seed)
    truth = sf.Scene(
        [
            sf.Gaussian(
                x=rng.uniform(-1, 1),
                y=rng.uniform(-1, 1),
                flux=rng.uniform(200, 400),
                sigma=rng.uniform(1.5, 3.0),
                q=rng.uniform(0.5, 0.9),
                pa=rng.uniform(0, 180),
            ),
            sf.FlatSky(sky=1.0),
        ]
    )
    blank = sf.Image(np.zeros(SHAPE))
    data = sf.render(truth, blank) + rng.normal(0, 0.5, SHAPE)
    mask = None
    if mask_all_but is not None:
        mask = np.ones(SHAPE, bool)
        mask.flat[:mask_all_but] = False
    return blank.replace(data=data, sigma=0.5, mask=mask), truth


def _start(truth):
    g = truth["gaussian"]
    return truth.replace_component(
        "gaussian",
        g.replace(flux=g.flux.value * 1.3, sigma=g.sigma.value * 0.8, x=g.x.value + 0.3),
    )


@pytest.mark.parametrize("method", ["map", pytest.param("vmap", marks=pytest.mark.slow)])
def test_batch_equals_loop_of_single_fits_and_isolates_failures(method):
    cases = [_cutout(s) for s in range(3)] + [_cutout(9, mask_all_but=3)]
    images = [c[0] for c in cases]
    starts = [_start(c[1]) for c in cases]
    batch = fit_batch(starts, images, method=method, staged=False)
    assert len(batch) == 4
    for k in range(3):
        single = fit(starts[k], images[k], staged=False)
        assert batch[k].converged and single.converged
        assert batch[k].n_iter == single.n_iter  # own damping and convergence history
        for a in single.free:
            assert batch[k].value(a) == pytest.approx(single.value(a), rel=1e-7, abs=1e-9)
            assert batch[k].error(a) == pytest.approx(single.error(a), rel=1e-6)
        assert batch[k].extra["batch_index"] == k
    # 3 valid pixels for 7 free parameters: flagged, not fitted
    assert not batch[3].converged
    assert batch[3].status == 6


def test_staged_batch_reaches_the_staged_single_fits():
    # both converge on the accurate rule through the cheap one; the optimum is the same
    # to a small fraction of sigma and the reported objective is the accurate one
    cases = [_cutout(s) for s in (3, 4)]
    images = [c[0] for c in cases]
    starts = [_start(c[1]) for c in cases]
    batch = fit_batch(starts, images, method="map")
    for k in range(2):
        single = fit(starts[k], images[k])
        unstaged = fit(starts[k], images[k], staged=False)
        assert batch[k].converged
        assert batch[k].objective == pytest.approx(unstaged.objective, abs=1e-4)
        for a in single.free:
            assert abs(batch[k].value(a) - unstaged.value(a)) < 1e-3 * unstaged.error(a), a
            assert batch[k].error(a) == pytest.approx(single.error(a), rel=1e-3)


def test_one_template_scene_for_all_images():
    images = [_cutout(s)[0] for s in (11, 12, 13, 14)]  # batch of 4: reuses the compilation
    template = _start(_cutout(11)[1])
    res = fit_batch(template, images, method="map")
    assert all(r.initial == template for r in res)
    assert res[0].value("gaussian.x") != res[1].value("gaussian.x")


def test_structure_mismatch_is_rejected():
    img, truth = _cutout(0)
    other = sf.Scene([truth["gaussian"]])
    with pytest.raises(BatchError, match="structure"):
        fit_batch([truth, other], [img, img])
    with pytest.raises(BatchError, match="shape"):
        fit_batch(truth, [img, sf.Image(np.zeros((10, 10)))])
    with pytest.raises(BatchError, match="2 scenes for 1 images"):
        fit_batch([truth, truth], [img])
    with pytest.raises(ValueError, match="method"):
        fit_batch(truth, [img], method="pmap")
