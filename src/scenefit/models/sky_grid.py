"""A smooth sky: free node values on a regular grid over the image, interpolated.

``sky_grid(ny, nx)`` is the class with ``ny`` x ``nx`` nodes (parameters
``s_<row>_<col>``, image units per pixel); the first and last nodes of each axis lie on
the centres of the image's first and last pixels, the others evenly between, so the
node spacing is (W - 1) / (nx - 1) columns and (H - 1) / (ny - 1) rows. Between the
nodes the sky is

* ``kind="bilinear"``: the tensor product of linear interpolation (exact for a tilted
  plane; continuous, with kinks on the node lines);
* ``kind="bicubic"``: the tensor product of natural cubic splines (second derivative 0
  at the end nodes; exact for a plane, C2).

Either way the sky is linear in its parameters, sky = B_y S B_x^T with static basis
matrices B (H, ny) and B (W, nx), and is added after the PSF convolution like every
sky. The grid follows the image, so one class serves any image size; the node values
mean "the sky at that node", so a grid fitted on one image is not transferable to
another of a different shape.
"""

from __future__ import annotations

from functools import cache

import jax.numpy as jnp
import numpy as np

from ._base import ParamSpec, SkyModel
from ._factory import make_profile_class

__all__ = ["sky_grid", "SKY_GRID_KINDS", "node_pixels", "SkyGrid3x3", "SkyGrid4x4Bicubic"]

#: interpolation kinds of :func:`sky_grid`
SKY_GRID_KINDS = ("bilinear", "bicubic")

_DOC = """Sky on a {ny} x {nx} grid of nodes over the image, {kind} interpolation.

    Parameters
    ----------
    s_<i>_<j> : float or Param
        Sky (image units / pixel) at the node of row i (0..{ny1}, in image-row order)
        and column j (0..{nx1}); node (0, 0) is the centre of the first
        pixel, node ({ny1}, {nx1}) that of the last.

    Notes
    -----
    {note} Linear in the node values; not PSF-convolved. See
    :mod:`scenefit.models.sky_grid` and ``docs/models.md``.

    Examples
    --------
    >>> import jax.numpy as jnp
    >>> from scenefit.models import sky_grid
    >>> cls = sky_grid({ny}, {nx}{kind_arg})
    >>> dx, dy = jnp.meshgrid(jnp.arange(9.0) - 4.0, jnp.arange(7.0) - 3.0)
    >>> plane = 2.0 + 0.1 * dx  # a tilted plane, sampled at the nodes
    >>> cols = jnp.linspace(-4.0, 4.0, {nx})
    >>> p = jnp.tile(2.0 + 0.1 * cols, {ny})[None]
    >>> bool(jnp.allclose(cls.evaluate(p, dx, dy), plane))
    True
    """

_NOTES = {
    "bilinear": "Bilinear: exact for a tilted plane, kinks on the node lines.",
    "bicubic": "Natural bicubic spline (tensor product): exact for a tilted plane, C2.",
}


def _spline_matrix(n: int) -> np.ndarray:
    """(n, n) map from node values to the natural cubic spline's second derivatives
    (unit node spacing): M_0 = M_(n-1) = 0, M_(k-1) + 4 M_k + M_(k+1) =
    6 (s_(k-1) - 2 s_k + s_(k+1))."""
    c = np.zeros((n, n))
    if n > 2:
        m = n - 2
        a = 4.0 * np.eye(m) + np.eye(m, k=1) + np.eye(m, k=-1)
        r = np.zeros((m, n))
        for k in range(m):
            r[k, k : k + 3] = 6.0 * np.array([1.0, -2.0, 1.0])
        c[1:-1] = np.linalg.solve(a, r)
    return c


def _basis(t, n: int, kind: str):
    """Interpolation weights (..., n) at node coordinates ``t`` (0 .. n - 1)."""
    j = jnp.arange(n)
    if kind == "bilinear":
        return jnp.maximum(0.0, 1.0 - jnp.abs(t[..., None] - j))
    i = jnp.clip(jnp.floor(t), 0, n - 2)
    f = (t - i)[..., None]
    left = (j == i[..., None]).astype(float)
    right = (j == i[..., None] + 1).astype(float)
    lin = left * (1.0 - f) + right * f
    curv = left * ((1.0 - f) ** 3 - (1.0 - f)) / 6.0 + right * (f**3 - f) / 6.0
    return lin + curv @ jnp.asarray(_spline_matrix(n))


def _axis_basis(offsets, size: int, n: int, kind: str):
    """Weights (len, n) of the nodes along one image axis at pixel offsets from the
    image centre (``size`` pixels along the axis)."""
    spacing = max(size - 1, 1) / (n - 1)
    t = jnp.clip((offsets + (size - 1) / 2.0) / spacing, 0.0, n - 1.0)
    return _basis(t, n, kind)


def node_pixels(shape, ny: int, nx: int):
    """Pixel coordinates (0-based columns, rows) of the nodes: two arrays (nx,), (ny,).

    Examples
    --------
    >>> [c.tolist() for c in node_pixels((5, 9), 2, 3)]
    [[0.0, 4.0, 8.0], [0.0, 4.0]]
    """
    h, w = shape
    return np.linspace(0.0, w - 1.0, nx), np.linspace(0.0, h - 1.0, ny)


def sky_grid(ny: int, nx: int, kind: str = "bilinear") -> type:
    """The sky-grid class with ``ny`` x ``nx`` nodes (cached: one class per size/kind).

    Parameters
    ----------
    ny, nx : int
        Nodes along rows and columns (2..32 each).
    kind : {"bilinear", "bicubic"}

    Returns
    -------
    type
        A concrete :class:`~scenefit.models.SkyModel` named ``SkyGrid<ny>x<nx>``
        (``...Bicubic``) with type name ``sky_grid<ny>x<nx>`` (``..._bicubic``).

    Examples
    --------
    >>> sky_grid(3, 4).param_names()[:3]
    ('s_0_0', 's_0_1', 's_0_2')
    >>> sky_grid(3, 4, "bicubic").TYPE_NAME
    'sky_grid3x4_bicubic'
    >>> sky_grid(3, 4) is sky_grid(3, 4, kind="bilinear")
    True
    """
    for v, what in ((ny, "ny"), (nx, "nx")):
        if isinstance(v, bool) or not isinstance(v, int) or not 2 <= v <= 32:
            raise ValueError(f"a sky grid needs an integer {what} in 2..32, got {v!r}")
    if kind not in SKY_GRID_KINDS:
        raise ValueError(f"unknown sky-grid kind {kind!r}; expected one of {SKY_GRID_KINDS}")
    return _sky_grid(ny, nx, kind)


@cache
def _sky_grid(ny, nx, kind):
    """:func:`sky_grid` after its checks (positional: one cache entry per grid)."""
    params = tuple(
        ParamSpec(f"s_{i}_{j}", "image units / pixel", None, None, f"sky at node ({i}, {j})", 0.0)
        for i in range(ny)
        for j in range(nx)
    )

    def evaluate_on(cls, prm, dx, dy, shape):
        h, w = shape
        nodes = jnp.sum(prm, axis=0).reshape(ny, nx)
        by = _axis_basis(dy[:, 0], h, ny, kind)
        bx = _axis_basis(dx[0, :], w, nx, kind)
        return by @ nodes @ bx.T

    def evaluate(prm, dx, dy):
        return evaluate_on(None, prm, dx, dy, dx.shape)

    suffix = "" if kind == "bilinear" else "_bicubic"
    doc = _DOC.format(
        ny=ny,
        nx=nx,
        ny1=ny - 1,
        nx1=nx - 1,
        kind=kind,
        kind_arg="" if kind == "bilinear" else ', "bicubic"',
        note=_NOTES[kind],
    )
    return make_profile_class(
        f"SkyGrid{ny}x{nx}" + ("" if kind == "bilinear" else "Bicubic"),
        __name__,
        params,
        f"sky_grid{ny}x{nx}{suffix}",
        doc,
        {
            "GRID": (ny, nx),
            "KIND": kind,
            "evaluate": staticmethod(evaluate),
            "evaluate_on": classmethod(evaluate_on),
        },
        base=SkyModel,
    )


#: registered sizes (any other by name: ``sky_grid<ny>x<nx>[_bicubic]``)
SkyGrid3x3 = sky_grid(3, 3)
SkyGrid4x4Bicubic = sky_grid(4, 4, "bicubic")
