"""Reading YAML files with errors that name the file, line and column."""

from __future__ import annotations

from pathlib import Path

import yaml

__all__ = ["read_yaml"]


def read_yaml(path) -> object:
    """Parse a UTF-8 YAML file with ``yaml.safe_load``.

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it is a folder, not UTF-8 text, or not valid YAML (with line and column).
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"file {str(path)!r} not found")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder; give a .yaml file")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: not a UTF-8 text file ({exc.reason})") from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML{_yaml_problem(exc)}") from None


def _yaml_problem(exc) -> str:
    """' at line L, column C: problem (context)' from a PyYAML error (1-based)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None)
    if mark is None or problem is None:
        return f": {exc}"
    context = getattr(exc, "context", None)
    extra = f" ({context})" if context else ""
    return f" at line {mark.line + 1}, column {mark.column + 1}: {problem}{extra}"
