"""Compiled fit programs kept across processes, beside JAX's persistent compilation cache.

JAX's persistent cache saves only the XLA compilation: every new process still traces
the Python model and lowers it to StableHLO to build the cache key (about a second for a
fit). When the compilation cache is on (:func:`scenefit.enable_compile_cache`), the
fit's compiled programs are also written whole (the XLA executable and its argument
and result structure, :mod:`jax.experimental.serialize_executable`) into
``<cache>/scenefit-programs/``; a later process with the same problem structure loads
them and neither traces, lowers nor looks up JAX's cache. Measured on the 100 x 100
single-Sersic fit of the benchmark: loading a program takes 0.1-0.26 s, against 0.16 s
of lowering each plus the same loading through JAX's cache before.

The key covers everything a program depends on: the scene's structure (component types
and their parameter layout, which parameters are free or tied, bound kinds), the image
structure, the render settings, the likelihood, the argument shapes and dtypes, the
JAX and jaxlib versions, the backend and its devices, the ``XLA_FLAGS`` and JAX's
``jax_disable_most_optimizations`` option, the host CPU
(an executable compiled for one CPU's instruction set must not run on another: a cache
on a shared disk may be read by several machines), and a hash of scenefit's own source
files (an edited installation never loads a stale program). Programs that call user
functions (soft constraints) are not stored. A file that cannot be read is ignored and
rewritten. Files are pickles: treat the directory as trusted, as JAX's cache.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import platform
from functools import lru_cache
from pathlib import Path

import jax

__all__ = ["program_dir", "source_hash", "load_or_compile"]


def program_dir() -> Path | None:
    """``<compilation cache>/scenefit-programs`` when JAX's persistent cache is on."""
    base = jax.config.jax_compilation_cache_dir
    return None if base is None else Path(base) / "scenefit-programs"


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 of scenefit's Python sources (names and contents), computed once."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


@lru_cache(maxsize=1)
def _host() -> str:
    """The host's CPU and the compiler settings executables depend on."""
    cpu = [platform.machine(), platform.processor()]
    try:  # Linux: the CPU model and its instruction-set flags
        with open("/proc/cpuinfo") as f:
            lines = f.read().splitlines()
        for field in ("model name", "flags", "Features"):
            cpu += [line for line in lines if line.startswith(field)][:1]
    except OSError:
        pass
    import jaxlib

    devices = tuple(d.device_kind for d in jax.devices())
    client = jax.devices()[0].client
    return repr(
        (cpu, jax.__version__, jaxlib.__version__, client.platform, client.platform_version)
        + (devices, os.environ.get("XLA_FLAGS", ""))
    )


def _key(parts, args) -> str:
    leaves, tree = jax.tree_util.tree_flatten(args)
    shapes = [(tuple(jax.numpy.shape(v)), str(jax.numpy.result_type(v))) for v in leaves]
    options = (jax.config.values.get("jax_disable_most_optimizations"),)  # what XLA emits
    text = repr((parts, str(tree), shapes, options, _host()))
    return hashlib.sha256((text + source_hash()).encode()).hexdigest()[:40]


@lru_cache(maxsize=1)
def _prepare_backend() -> None:
    """Fill in what a loaded executable calls into but only lowering sets up: on a CPU,
    the LAPACK routines behind linear algebra (``jnp.linalg.det``, ``inv``) are bound
    when JAX first lowers such an operation, and an executable loaded before that
    crashes the process."""
    try:
        from jax._src.lax.linalg import initialize_lapack
    except ImportError:  # a JAX without it: lower one operation (no compilation)
        import numpy as np

        jax.jit(jax.numpy.linalg.det).lower(np.eye(2))
    else:
        initialize_lapack()


def _compile(fn, args):
    """``jax.jit(fn)`` compiled for ``args`` (the one place a cache miss compiles)."""
    return jax.jit(fn).lower(*args).compile()


def load_or_compile(fn, parts, args):
    """``jax.jit(fn)`` compiled for ``args``: loaded from the program directory if stored
    there, else compiled (and stored when the persistent cache is on).

    Parameters
    ----------
    fn : callable
        The pure function to compile.
    parts : hashable or None
        Everything the program depends on besides the argument shapes (a ``repr``-stable
        value: strings, numbers, tuples); ``None``: never stored (a program that calls
        user functions).
    args : tuple
        Example arguments (a pytree of arrays and numbers).

    Returns
    -------
    jax.stages.Compiled
    """
    from jax.experimental.serialize_executable import deserialize_and_load, serialize

    where = program_dir()
    if where is None or parts is None:
        return _compile(fn, args)
    path = where / f"{_key(parts, args)}.bin"
    if path.is_file():
        _prepare_backend()
        try:
            return deserialize_and_load(*pickle.loads(path.read_bytes()))
        except Exception:  # noqa: BLE001 - a damaged or foreign file: rebuild it
            pass
    compiled = _compile(fn, args)
    try:
        blob = pickle.dumps(serialize(compiled))
        where.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(blob)
        tmp.replace(path)
    except (OSError, ValueError, NotImplementedError, pickle.PicklingError):
        pass  # a read-only cache, or a program JAX cannot serialise, only costs speed
    return compiled
