"""The persistent compilation cache: off on import, on for the command line, reused by a
second process. Each check runs in a fresh interpreter (JAX's cache is process-wide)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import pytest

from scenefit._compile_cache import cache_disabled_by_env, default_cache_dir


def _python(code, env_extra, tmp_path):
    env = dict(os.environ)
    for k in ("SCENEFIT_CACHE_DIR", "SCENEFIT_NO_CACHE", "JAX_COMPILATION_CACHE_DIR"):
        env.pop(k, None)
    env.update(HOME=str(tmp_path / "home"), XDG_CACHE_HOME=str(tmp_path / "xdg"), **env_extra)
    r = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout.strip().splitlines()[-1])


def _files(path):
    return sorted(p.name for p in path.rglob("*") if p.is_file()) if path.exists() else []


def test_import_and_fit_write_nothing(tmp_path):
    out = _python(
        """
        import json, numpy as np, jax, scenefit as sf
        img = sf.Image(np.random.default_rng(0).normal(1.0, 0.1, (12, 12)), sigma=0.1)
        sf.fit(sf.Scene([sf.FlatSky(sky=0.0)]), img)
        print(json.dumps({"dir": jax.config.jax_compilation_cache_dir}))
        """,
        {},
        tmp_path,
    )
    assert out["dir"] is None
    assert _files(tmp_path / "xdg") == [] and _files(tmp_path / "home") == []


_COMPILE_TWICE = """
    import json, time, jax, jax.numpy as jnp, jax.monitoring as mon
    import scenefit as sf
    saved = []
    mon.register_event_duration_secs_listener(
        lambda name, dur, **kw: saved.append(dur)
        if name == "/jax/compilation_cache/compile_time_saved_sec" else None)
    path = sf.enable_compile_cache()
    f = jax.jit(lambda x: jnp.sin(x) * 3.25 + jnp.cumsum(x))
    f(jnp.arange(7.0)).block_until_ready()
    print(json.dumps({"path": str(path), "hits": len(saved)}))
"""


def test_second_process_loads_from_the_cache(tmp_path):
    cache = tmp_path / "cache"
    env = {"SCENEFIT_CACHE_DIR": str(cache)}
    first = _python(_COMPILE_TWICE, env, tmp_path)
    assert first["path"] == str(cache.resolve())
    assert first["hits"] == 0
    written = _files(cache)
    assert written, "the first process wrote no executable"
    second = _python(_COMPILE_TWICE, env, tmp_path)
    assert second["hits"] >= 1
    assert _files(cache) == written  # nothing new compiled


@pytest.mark.parametrize("no_cache", ["", "1"])
def test_command_line_uses_the_cache_unless_disabled(tmp_path, no_cache):
    cfg = tmp_path / "g.dat"
    cfg.write_text("X0 8\nY0 8\nFUNCTION Gaussian\nPA 0\nell 0.2\nI_0 5\nsigma 2\n")
    cache = tmp_path / "cache"
    env = dict(os.environ, SCENEFIT_CACHE_DIR=str(cache), SCENEFIT_NO_CACHE=no_cache)
    exe = [sys.executable, "-m", "scenefit"]
    args = ["makeimage", str(cfg), "--shape", "16", "16", "--output", str(tmp_path / "m.fits")]
    r = subprocess.run(exe + args, env=env, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "m.fits").is_file()
    assert bool(_files(cache)) == (no_cache == "")


def test_in_process_main_leaves_the_cache_off(tmp_path, capsys):
    import jax

    from scenefit.cli import main

    before = jax.config.jax_compilation_cache_dir
    assert main(["models"]) == 0
    assert jax.config.jax_compilation_cache_dir == before


def test_default_dir_and_switches(monkeypatch, tmp_path):
    monkeypatch.delenv("SCENEFIT_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    if sys.platform.startswith("linux"):
        assert default_cache_dir() == tmp_path / "scenefit" / "jax"
    monkeypatch.setenv("SCENEFIT_CACHE_DIR", str(tmp_path / "elsewhere"))
    assert default_cache_dir() == tmp_path / "elsewhere"
    for value, off in (("", False), ("0", False), ("no", False), ("1", True), ("yes", True)):
        monkeypatch.setenv("SCENEFIT_NO_CACHE", value)
        assert cache_disabled_by_env() is off


def test_bad_arguments(tmp_path):
    import scenefit as sf

    f = tmp_path / "a_file"
    f.write_text("x")
    with pytest.raises(ValueError, match="not a directory"):
        sf.enable_compile_cache(f)
    with pytest.raises(ValueError, match="min_compile_time_s"):
        sf.enable_compile_cache(tmp_path, min_compile_time_s=-1.0)


def test_the_command_adds_the_faster_compile_option_only_where_safe(monkeypatch):
    import jax.numpy as jnp

    import scenefit._xla_flags as xf

    jnp.ones(1).block_until_ready()  # this process's backend is running: never changed
    env = {"XLA_FLAGS": "--xla_dump_to=/x"}
    assert not xf.prefer_fast_compilation(env) and env == {"XLA_FLAGS": "--xla_dump_to=/x"}
    monkeypatch.setattr("jax._src.xla_bridge.backends_are_initialized", lambda: False)
    assert xf.prefer_fast_compilation(env)  # appended to the user's own flags
    assert env["XLA_FLAGS"] == f"--xla_dump_to=/x {xf.FLAG}"
    mine = {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    assert not xf.prefer_fast_compilation(mine)  # the user's setting wins
    assert mine == {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    monkeypatch.setattr(xf, "_jaxlib_minor", lambda: (0, 4))  # a version never measured
    other = {}
    assert not xf.prefer_fast_compilation(other) and other == {}
