"""XLA compiler options the ``scenefit`` command sets for its own process.

On a CPU most of a first fit's time is XLA compiling the fit's two programs. XLA's
newer CPU fusion emitters compile them more slowly than the older ones, for the same
run time. With ``--xla_cpu_use_fusion_emitters=false`` the 100 x 100 single-galaxy
benchmark case compiled in 1.0-1.1 s instead of 1.6-1.7 s (the normal equations) and
1.65 s instead of 1.96-2.18 s (the defect image), and its warm fit ran in the same
40-43 ms (2026-12-08, jaxlib 0.10.2, ``benchmarks/compile_scaling.py``; the whole
command's figures are in docs/performance.md). The command adds the option when

* the user's ``XLA_FLAGS`` does not already set it (theirs wins), and
* JAX has not started its backends yet (XLA reads the flags once, at start), and
* the installed jaxlib is one it was measured with (an option XLA does not know
  aborts the process, so it is never guessed for other versions).

The library itself never changes the flags: Python users who want the same can set
``XLA_FLAGS`` before their first JAX computation.
"""

from __future__ import annotations

import os
from importlib.metadata import PackageNotFoundError, version

__all__ = ["prefer_fast_compilation"]

#: the option and its value
FLAG = "--xla_cpu_use_fusion_emitters=false"
#: jaxlib (major, minor) versions the option was measured with
MEASURED = ((0, 10),)


def _jaxlib_minor() -> tuple[int, int] | None:
    try:
        parts = version("jaxlib").split(".")
        return int(parts[0]), int(parts[1])
    except (PackageNotFoundError, ValueError, IndexError):
        return None


def prefer_fast_compilation(environ=None) -> bool:
    """Add :data:`FLAG` to ``XLA_FLAGS`` in ``environ`` where it is safe (module
    docstring); True if it was added.

    Parameters
    ----------
    environ : mutable mapping, optional
        The environment to change; default ``os.environ`` (this process).

    Examples
    --------
    >>> env = {"XLA_FLAGS": "--xla_cpu_use_fusion_emitters=true"}
    >>> prefer_fast_compilation(env), env["XLA_FLAGS"]
    (False, '--xla_cpu_use_fusion_emitters=true')
    """
    env = os.environ if environ is None else environ
    current = env.get("XLA_FLAGS", "")
    if "xla_cpu_use_fusion_emitters" in current or _jaxlib_minor() not in MEASURED:
        return False
    try:  # JAX's own record of whether its backends have started (not public API)
        from jax._src.xla_bridge import backends_are_initialized

        started = backends_are_initialized()
    except (ImportError, AttributeError):
        return False
    if started:
        return False
    env["XLA_FLAGS"] = f"{current} {FLAG}".strip()
    return True
