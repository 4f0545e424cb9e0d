"""``scenefit models``: every registered type, with units, defaults and bounds."""

from __future__ import annotations

import json
import re

from scenefit.cli import main
from scenefit.models import MODEL_TYPES


def _run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr().out
    return rc, out


def test_json_lists_every_model_type_with_full_parameter_specs(capsys):
    rc, out = _run(capsys, "models", "--json")
    assert rc == 0
    models = {m["name"]: m for m in json.loads(out)}
    assert list(models) == [c.TYPE_NAME for c in MODEL_TYPES]
    for cls in MODEL_TYPES:
        m = models[cls.TYPE_NAME]
        assert m["class"] == cls.__name__
        got = [(p["name"], p["unit"], p["default"], p["lo"], p["hi"]) for p in m["params"]]
        want = [(s.name, s.unit, s.default, s.lo, s.hi) for s in cls.PARAMS]
        assert got == want, cls.__name__


def test_text_lists_every_parameter_with_its_default_and_bounds(capsys):
    rc, out = _run(capsys, "models")
    assert rc == 0
    blocks = re.split(r"\n(?=\S)", out)
    by_name = {b.split(" ", 1)[0]: b for b in blocks}
    for cls in MODEL_TYPES:
        block = by_name[cls.TYPE_NAME]
        for s in cls.PARAMS:
            lo = "none" if s.lo is None else f"{s.lo:g}"
            hi = "none" if s.hi is None else f"{s.hi:g}"
            line = rf"^\s+{s.name}\s+.*\s{s.default:g}\s+\[{re.escape(lo)}, {re.escape(hi)}\]"
            assert re.search(line, block, flags=re.M), (cls.TYPE_NAME, s.name)
    # one row: the Nuker outer slope, bounded above 2 for a finite total
    assert re.search(r"^\s+beta\s+-\s+3\.5\s+\[2\.01, 20\]\s+outer", by_name["nuker"], re.M)
