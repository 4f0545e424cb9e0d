"""JAX's persistent compilation cache for scenefit: where it lives and how to turn it on.

A fit compiles one XLA executable per scene structure and image shape (seconds on a CPU).
With the persistent cache on, that executable is written to disk and a later process
with the same structure loads it instead of compiling. Tracing and lowering to XLA still
run in every process (they produce the cache key); only the XLA compilation is saved.

The library never enables the cache by itself (importing scenefit writes no files): the
``scenefit`` command enables it, and Python users opt in with
:func:`enable_compile_cache`. Environment variables:

* ``SCENEFIT_CACHE_DIR`` -- the cache directory (default: the user cache directory,
  :func:`default_cache_dir`);
* ``SCENEFIT_NO_CACHE=1`` -- the command line does not enable the cache.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

__all__ = ["enable_compile_cache", "default_cache_dir", "cache_disabled_by_env"]

#: environment variable naming the cache directory
ENV_DIR = "SCENEFIT_CACHE_DIR"
#: environment variable that, set to a true value, keeps the command line from caching
ENV_OFF = "SCENEFIT_NO_CACHE"


def default_cache_dir() -> Path:
    """The directory the compilation cache uses unless told otherwise.

    ``$SCENEFIT_CACHE_DIR`` if set, else the platform's user cache directory:
    ``$XDG_CACHE_HOME/scenefit/jax`` (default ``~/.cache/scenefit/jax``) on Linux,
    ``~/Library/Caches/scenefit/jax`` on macOS, ``%LOCALAPPDATA%\\scenefit\\cache\\jax``
    on Windows. Nothing is created.

    Examples
    --------
    >>> default_cache_dir().name
    'jax'
    """
    env = os.environ.get(ENV_DIR)
    if env:
        return Path(env).expanduser()
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "scenefit" / "jax"
    if os.name == "nt":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "scenefit" / "cache" / "jax"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "scenefit" / "jax"


def cache_disabled_by_env() -> bool:
    """True if ``SCENEFIT_NO_CACHE`` is set to anything but ``""``, ``0``, ``false``, ``no``.

    Examples
    --------
    >>> isinstance(cache_disabled_by_env(), bool)
    True
    """
    return os.environ.get(ENV_OFF, "").strip().lower() not in ("", "0", "false", "no")


def enable_compile_cache(path=None, *, min_compile_time_s: float = 0.0) -> Path:
    """Turn on JAX's persistent compilation cache, so later processes skip compilation.

    Parameters
    ----------
    path : str or Path, optional
        Cache directory, created if missing. Default :func:`default_cache_dir`
        (``$SCENEFIT_CACHE_DIR`` or ``~/.cache/scenefit/jax``).
    min_compile_time_s : float
        Executables that compiled faster than this (seconds) are not written. The
        default 0 also caches the many small executables of eager array operations
        (10-50 ms each to compile, a few ms to load).

    Returns
    -------
    Path
        The cache directory in use.

    Raises
    ------
    ValueError
        If ``min_compile_time_s`` is negative, or ``path`` exists and is not a directory.

    Notes
    -----
    This sets process-wide JAX options (``jax_compilation_cache_dir``,
    ``jax_persistent_cache_min_compile_time_secs``,
    ``jax_persistent_cache_min_entry_size_bytes``); calling it again with another
    path moves the cache there. The cache is keyed by the lowered program, the JAX and
    XLA versions and the device, so it never returns a stale executable; it may grow
    over time (delete the directory to clear it). Treat it as trusted: do not point it
    at a directory other users can write to.

    Examples
    --------
    >>> import tempfile, scenefit
    >>> d = scenefit.enable_compile_cache(tempfile.mkdtemp())
    >>> d.is_dir()
    True
    """
    if not min_compile_time_s >= 0:
        raise ValueError(f"min_compile_time_s must be >= 0, got {min_compile_time_s!r}")
    target = Path(path).expanduser() if path is not None else default_cache_dir()
    if target.exists() and not target.is_dir():
        raise ValueError(f"compile cache path {str(target)!r} exists and is not a directory")
    target.mkdir(parents=True, exist_ok=True)
    target = target.resolve()

    import jax
    from jax.experimental.compilation_cache import compilation_cache as cc

    current = jax.config.jax_compilation_cache_dir
    if current is not None and Path(current).expanduser().resolve() != target:
        cc.reset_cache()  # JAX opens its cache once; point it at the new directory
    jax.config.update("jax_compilation_cache_dir", str(target))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", float(min_compile_time_s))
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
    return target
