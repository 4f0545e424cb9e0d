"""Joint g/r/z fit of a real Legacy Surveys DR9 cutout (slow; skips without the data).

Data and model as in scripts/joint_legacy_grz.py (two Sersic galaxies with shared
shapes and per-band fluxes, a sky per band, other sources masked). Checks: the fit
converges with chi^2 per valid pixel near 1 in every band (the inverse variances are
the survey's), the joint errors of every shape parameter are below the r-only fit's
(the g and z images add information), and the joint r flux agrees with the r-only one
within 3 % (the shape constraint from g and z moves it only slightly).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import scenefit as sf

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))
import joint_legacy_grz as legacy  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not (legacy.data_dir() / "cutout_59.1067_-30.4848.fits").exists(),
        reason="validation data (pysersic Legacy cutout) not found",
    ),
]


def test_legacy_grz_joint_fit():
    raw = legacy.load_images()
    mask = legacy.source_mask(raw)
    images = sf.common_tangent_plane([img.replace(mask=img.mask | mask) for img in raw])
    scene = legacy.start_scene(images[1])
    start = {f"{c}.flux[{b}]": scene[c].flux.value for c in legacy.CENTRES for b in legacy.BANDS}
    res = sf.fit_joint(scene, images, start=start)
    single = sf.fit(scene, images[1])
    assert res.converged and single.converged
    for r in res.results:
        assert 0.7 < r.chi2 / r.image.n_valid < 1.3, r.image.band
    for c in legacy.CENTRES:
        for k in ("x", "y", "r_e", "n", "q", "pa"):
            assert res.error(f"{c}.{k}") < single.error(f"{c}.{k}"), (c, k)
        f_joint, f_single = res.value(f"{c}.flux[r]"), single.value(f"{c}.flux")
        assert abs(f_joint / f_single - 1) < 0.03, (c, f_joint, f_single)
    mags = {(row["source"], row["band"]): row["mag"] for row in res.sed()}
    assert all(np.isfinite(m) for m in mags.values()) and len(mags) == 6
