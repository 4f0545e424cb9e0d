"""`scenefit imfit --imfit-sampling` prints what Imfit prints.

The fit of Imfit's regression case imfit_textout3e (IC 3478, external sigma map, n fixed)
reproduces Imfit's console lines for the statistic and every best-fit parameter with its
error, character for character. Skips without the shared validation data or without
Imfit's sampling rule (``RenderSettings.imfit``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from scenefit.cli import main
from scenefit.render import RenderSettings

ROOT = Path(__file__).resolve().parents[1]
VALIDATION = Path(os.environ.get("SCENEFIT_VALIDATION_DIR", ROOT.parent / "shared" / "validation"))
T = VALIDATION / "imfit" / "tests"
pytestmark = [
    pytest.mark.skipif(not T.is_dir(), reason="shared validation data absent"),
    pytest.mark.skipif(not hasattr(RenderSettings, "imfit"), reason="no Imfit sampling rule"),
]

_KEEP = re.compile(r"^(  CHI-SQUARE|X0|Y0|FUNCTION|PA|ell|n|I_e|r_e)\s")


def _lines(text):
    return [ln for ln in text.splitlines() if _KEEP.match(ln)]


def test_console_summary_equals_imfit_textout3e(capsys):
    rc = main(
        [
            "imfit",
            str(T / "imfit_reference" / "imfit_config_ic3478_64x64c.dat"),
            str(T / "ic3478rss_64x64.fits"),
            "--noise",
            str(T / "ic3478rss_64x64_sigma.fits"),
            "--imfit-sampling",
        ]
    )
    assert rc == 0
    ours = _lines(capsys.readouterr().out)
    ref = _lines((T / "imfit_reference" / "linux_x86_64" / "imfit_textout3e").read_text())
    assert ours == ref[-len(ours) :]
    assert len(ours) == 9
