"""The cross-process program cache (compiled executables) beside JAX's compilation cache:
off unless the compilation cache is on; a second process loads the compiled programs
instead of tracing and compiling them, and gets identical results (the LAPACK calls of
a loaded program work in a process that never lowered one); damaged files are rebuilt;
edits to the problem's structure or settings make a new program. Each check runs in
fresh interpreters."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import scenefit as sf

_FIT = """
    import json, sys, numpy as np, jax, scenefit as sf
    sf.enable_compile_cache(sys.argv[1])
    if sys.argv[2] == "forbid-compiling":
        import scenefit._program_cache as pc
        def refuse(*a, **k):
            raise RuntimeError("compiled again")
        pc._compile = refuse
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[:24, :24]
    data = 50 * np.exp(-0.5 * ((xx - 11.7) ** 2 + (yy - 12.2) ** 2) / 2.5**2) + 1.0
    img = sf.Image(data + rng.normal(0, 0.1, data.shape), sigma=0.1)
    q = float(sys.argv[3])
    start = sf.Scene([sf.Gaussian(x=0.0, y=0.0, flux=900.0, sigma=2.0, q=q, pa=10.0),
                      sf.FlatSky(sky=0.8)])
    res = sf.fit(start, img, settings=sf.RenderSettings(rel_tol=float(sys.argv[4])))
    print(json.dumps({"obj": res.objective, "x": res.value("gaussian.x"),
                      "start": res.initial_objective}))
"""


def _run(cache, mode="", q="0.9", tol="1e-4"):
    code = textwrap.dedent(_FIT)
    env = {k: v for k, v in os.environ.items() if not k.startswith("SCENEFIT_")}
    r = subprocess.run(
        [sys.executable, "-c", code, str(cache), mode, q, tol],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


def _programs(cache):
    d = cache / "scenefit-programs"
    return sorted(p.name for p in d.glob("*.bin")) if d.is_dir() else []


def test_second_process_loads_the_compiled_programs(tmp_path):
    cache = tmp_path / "c"
    first = _run(cache)
    files = _programs(cache)
    assert len(files) == 2  # the normal equations, the defect image
    second = _run(cache, "forbid-compiling")  # would raise if it compiled again
    assert second == first
    assert _programs(cache) == files


@pytest.mark.slow
def test_a_new_structure_or_setting_makes_a_new_program(tmp_path):
    cache = tmp_path / "c"
    _run(cache)
    _run(cache, q="0.5")  # new values, same structure: the same programs
    assert len(_programs(cache)) == 2
    _run(cache, tol="1e-3")  # new settings: new programs
    assert len(_programs(cache)) == 4


@pytest.mark.slow
def test_a_damaged_file_is_rebuilt(tmp_path):
    cache = tmp_path / "c"
    first = _run(cache)
    path = sorted((cache / "scenefit-programs").glob("*.bin"))[0]
    path.write_bytes(b"not a program")
    assert _run(cache) == first
    assert path.stat().st_size > 1000


def test_without_the_compilation_cache_nothing_is_stored():
    import jax

    import scenefit._program_cache as pc

    if jax.config.jax_compilation_cache_dir is not None:
        pytest.skip("this process has the compilation cache on")
    assert pc.program_dir() is None
    compiled = pc.load_or_compile(lambda v: 2.0 * v, ("x",), (np.ones(2),))
    np.testing.assert_array_equal(np.asarray(compiled(np.ones(2))), [2.0, 2.0])


def test_initial_objective_is_the_objective_at_the_start():
    rng = np.random.default_rng(3)
    img = sf.Image(rng.normal(2.0, 0.5, (16, 16)), sigma=0.5)
    start = sf.Scene([sf.FlatSky(sky=1.5)])
    res = sf.fit(start, img)
    expect = float(np.sum(((img.data - 1.5) / 0.5) ** 2))
    assert res.initial_objective == pytest.approx(expect, rel=1e-12)
    assert res.objective < res.initial_objective
