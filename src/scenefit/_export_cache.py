"""Traced-and-lowered programs kept across processes (``jax.export``), beside JAX's own
persistent compilation cache.

JAX's persistent cache saves only the XLA compilation: every new process still traces
the Python model and lowers it to StableHLO to build the cache key (about a second for a
fit). When the compilation cache is on (:func:`scenefit.enable_compile_cache`), the fit's
compiled functions are also exported once (``jax.export``: the lowered program, serialised) into
``<cache>/scenefit-exports/``; a later process with the same problem structure
deserialises it instead of tracing, and its compilation then comes from JAX's cache.

The key covers everything the program depends on: the scene's structure (component
types and their parameter layout, which parameters are free or tied, bound kinds), the
image structure, the render settings, the likelihood, the argument shapes and dtypes, the
JAX version and backend, and a hash of scenefit's own source files (so an edited
installation never loads a stale program). Programs that call user functions (soft
constraints) are not exported. A file that cannot be read is ignored and rewritten.
"""

from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path

import jax

__all__ = ["export_dir", "source_hash", "load_or_export"]


def export_dir() -> Path | None:
    """``<compilation cache>/scenefit-exports`` when JAX's persistent cache is on."""
    base = jax.config.jax_compilation_cache_dir
    return None if base is None else Path(base) / "scenefit-exports"


@lru_cache(maxsize=1)
def source_hash() -> str:
    """SHA-256 of scenefit's Python sources (names and contents), computed once."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(str(path.relative_to(root)).encode())
        h.update(path.read_bytes())
    return h.hexdigest()


def _register_types() -> None:
    from .fitting.lm import LMState

    try:
        jax.export.register_namedtuple_serialization(LMState, serialized_name="scenefit.LMState")
    except ValueError:  # already registered
        pass


def _key(parts, args) -> str:
    leaves, tree = jax.tree_util.tree_flatten(args)
    shapes = [(tuple(jax.numpy.shape(v)), str(jax.numpy.result_type(v))) for v in leaves]
    text = repr((parts, str(tree), shapes, jax.__version__, jax.default_backend()))
    return hashlib.sha256((text + source_hash()).encode()).hexdigest()[:40]


def load_or_export(build, parts, args):
    """The exported program of ``jax.jit(build())`` for ``args``: read from the cache
    directory if stored there, else exported (traced and lowered) and stored. ``None``
    when the persistent cache is off.

    Parameters
    ----------
    build : callable
        ``() -> function`` to export (called only when no stored program exists).
    parts : hashable
        Everything the program depends on besides the argument shapes (a ``repr``-stable
        value: strings, numbers, tuples).
    args : tuple
        Example arguments (a pytree of arrays and numbers).

    Returns
    -------
    jax.export.Exported or None
        Call it through ``jax.jit(exported.call)``.
    """
    where = export_dir()
    if where is None:
        return None
    _register_types()
    path = where / f"{_key(parts, args)}.bin"
    if path.is_file():
        try:
            return jax.export.deserialize(bytearray(path.read_bytes()))
        except Exception:  # noqa: BLE001 - a damaged or foreign file: rebuild it
            pass
    exported = jax.export.export(jax.jit(build()))(*args)
    try:
        where.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_bytes(exported.serialize())
        tmp.replace(path)
    except OSError:  # a read-only cache only costs speed
        pass
    return exported
