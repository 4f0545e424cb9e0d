"""Build the Gaussian-mixture table of the Sersic profile used by ``SersicGM``.

Writes ``src/scenefit/models/data/sersic_mixture.npz`` and prints one JSON line with the
table's radial accuracy (re-measured from the written file, between the table rows).

Method
------
For n >= 1/2 the Sersic profile exp(-b (r / r_e)^(1/n)) is a function of t = r^2 of the
form exp(-c t^alpha), alpha = 1 / (2n) <= 1, which is completely monotone in t
(Bernstein): it is exactly a continuous, non-negative mixture of Gaussians,
exp(-c t^alpha) = E[exp(-c^(1/alpha) X t)] with X positive alpha-stable
(E exp(-s X) = exp(-s^alpha)). With the stable density from Kanter's integral
representation (Kanter 1975, Ann. Prob. 3, 697; Zolotarev 1986), the *flux-weighted*
distribution of the Gaussian widths sigma = (2 lambda)^(-1/2) of a unit-flux profile is
computed on a fine grid of u = ln(sigma / r_e).

1. The distribution's light below ``FLOOR`` r_e and above ``TOP`` r_e is merged into one
   Gaussian each, with the same flux and the same mean sigma^2 (second moment kept:
   after smoothing by a PSF of width >> FLOOR r_e the merge is invisible).
2. For n >= ``N_SPLIT``: the K-point Gauss quadrature rule of that distribution, tempered
   by (sigma^2 + C^2)^(-GAMMA) (which moves nodes from the far wings to the core, where
   the image error relative to the peak is made), gives the widths; the amplitudes are
   the quadrature weights untempered and normalised to sum 1. No fit: positive
   amplitudes, smooth in n.
3. For 1/2 <= n < ``N_SPLIT`` (where the distribution tends to a single width and the
   Gauss rule changes faster than any table can follow) the widths are those of n =
   ``N_SPLIT``, moved with the width (2 b_n)^(-1/2) of exp(-b_n r^2) and slid so that
   one lands exactly on it at n = 1/2 (a single Gaussian there), and the amplitudes a
   non-negative least-squares fit (flux constrained to 1) of the accuracy metric below
   and of the enclosed light, the Gauss weights of ``N_SPLIT`` as a prior (weak at
   n = 1/2, stronger towards ``N_SPLIT``, so that the amplitudes join them smoothly).

The rows (``n_grid``: dense near n = 1/2, where the rule changes fastest) are stored
with the coefficients of a cubic spline in ln(n - ``N_SHIFT``) (scipy's not-a-knot
``CubicSpline``) of ln(sigma_j / r_e) and a_j, which scenefit evaluates in JAX.

Accuracy metric (also used by the fit in 3.): the circular profile convolved with a
circular Gaussian of width eps r_e (eps = the PSF-plus-pixel width over r_e, in
``EPS``), mixture minus Sersic, divided by the convolved Sersic's peak, maximised over
radius (121 radii from 0 to max(30 eps, 8) r_e). The convolved Sersic is an independent
numerical Hankel-type convolution (8-point Gauss-Legendre panels, the exponentially
scaled Bessel I0).

    python scripts/make_sersic_mixture_table.py [--check-only]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
from scipy.interpolate import CubicSpline
from scipy.optimize import nnls
from scipy.special import gammainc, gammaincinv, gammaln, i0e

OUT = Path(__file__).resolve().parents[1] / "src" / "scenefit" / "models" / "data"
OUT_FILE = OUT / "sersic_mixture.npz"

K = 16  # Gaussians per profile
FLOOR = 0.005  # r_e: narrower light is merged (moment-matched) into one Gaussian
TOP = 100.0  # r_e: wider light is merged into one Gaussian
GAMMA, C = 1.5, 0.1  # tempering (sigma^2 + C^2)^-GAMMA of the node-placing distribution
N_SPLIT = 0.55
N_MIN, N_MAX, N_ROWS = 0.5, 10.0, 80  # rows from N_SPLIT to N_MAX
N_SHIFT = 0.45  # the table is a spline in ln(n - N_SHIFT): rows dense near n = 1/2
EPS = np.geomspace(0.02, 10.0, 10)  # smoothing widths / r_e of the accuracy metric


# ----------------------------------------------------------------------- the profile
def b_n(n):
    """Exact Sersic b_n: P(2n, b_n) = 1/2."""
    return gammaincinv(2.0 * n, 0.5)


def sersic_unit(r, n):
    """Unit-flux circular Sersic surface brightness at r (units of r_e)."""
    b = b_n(n)
    total = 2.0 * np.pi * n * np.exp(b + gammaln(2.0 * n) - 2.0 * n * np.log(b))
    return np.exp(-b * (np.power(r, 1.0 / n) - 1.0)) / total


def sersic_enclosed(R, n):
    """Fraction of the light within radius R (units of r_e)."""
    return gammainc(2.0 * n, b_n(n) * np.power(R, 1.0 / n))


_GL_X, _GL_W = np.polynomial.legendre.leggauss(8)


def smoothed_sersic(R, eps, n):
    """The unit-flux Sersic convolved with a circular Gaussian of sigma ``eps``, at radii
    ``R`` (all in r_e): int I(r) (r / eps^2) exp(-(R - r)^2 / 2 eps^2) i0e(R r / eps^2) dr
    on 8-point Gauss-Legendre panels (uniform across the kernel, geometric at the cusp)."""
    out = np.empty(len(R))
    for i, Ri in enumerate(R):
        lo, hi = max(0.0, Ri - 12.0 * eps), Ri + 12.0 * eps
        edges = [np.linspace(lo, hi, 97)]
        if lo < 10.0 * eps:
            edges += [np.geomspace(1e-12, hi, 80), [0.0]]
        e = np.unique(np.concatenate(edges))
        e = e[(e >= lo) & (e <= hi)]
        a, b = e[:-1, None], e[1:, None]
        r = (0.5 * (a + b) + 0.5 * (b - a) * _GL_X).ravel()
        w = (0.5 * (b - a) * _GL_W).ravel()
        k = r / eps**2 * np.exp(-((Ri - r) ** 2) / (2 * eps**2)) * i0e(Ri * r / eps**2)
        out[i] = np.sum(w * k * sersic_unit(r, n))
    return out


def _mixture_smoothed(R, sigma, eps):
    v = sigma[None, :] ** 2 + eps**2
    return np.exp(-(R[:, None] ** 2) / (2 * v)) / (2 * np.pi * v)


def metric_rows(n, sigma):
    """Design matrix and target of the accuracy metric (rows scaled by 1 / peak)."""
    rows, rhs = [], []
    for eps in EPS:
        R = np.concatenate([[0.0], np.geomspace(eps / 30.0, max(30.0 * eps, 8.0), 120)])
        ser = smoothed_sersic(R, eps, n)
        rows.append(_mixture_smoothed(R, sigma, eps) / ser[0])
        rhs.append(ser / ser[0])
    return np.vstack(rows), np.concatenate(rhs)


def enclosed_rows(n, sigma):
    R = np.geomspace(1e-3, 200.0, 200)
    return 1.0 - np.exp(-(R[:, None] ** 2) / (2 * sigma[None, :] ** 2)), sersic_enclosed(R, n)


# ------------------------------------------------------- the width distribution
def _phi_rule(n1=200, n2=1500, tmax=60.0):
    """Nodes phi, pi - phi and weights on (0, pi): Gauss-Legendre on (0, pi/2), and on
    (pi/2, pi) in t with pi - phi = (pi/2) e^-t (the stable tail lives next to pi)."""
    x, w = np.polynomial.legendre.leggauss(n1)
    p1, w1 = 0.25 * np.pi * (x + 1), 0.25 * np.pi * w
    x, w = np.polynomial.legendre.leggauss(n2)
    t, wt = 0.5 * tmax * (x + 1), 0.5 * tmax * w
    d2 = 0.5 * np.pi * np.exp(-t)
    return (
        np.concatenate([p1, np.pi - d2]),
        np.concatenate([np.pi - p1, d2]),
        np.concatenate([w1, wt * d2]),
    )


_PHI = _phi_rule()


def log_stable_density(lx, a):
    """ln f(x) at ln x = ``lx`` of the positive a-stable law, E exp(-sX) = exp(-s^a),
    0 < a < 1 (Kanter's representation)."""
    phi, delta, pw = _PHI
    c = 1.0 / (1.0 - a)
    log_a = (
        c * (np.log(np.sin(a * phi)) - np.log(np.sin(delta)))
        + np.log(np.sin((1.0 - a) * phi))
        - np.log(np.sin(a * phi))
    )
    lx = np.asarray(lx, float)
    out = np.empty(lx.shape)
    for i in range(0, lx.size, 1024):  # chunks: (1024, nodes) temporaries
        x = lx[i : i + 1024, None]
        e = log_a - np.exp(np.minimum(-a * c * x + log_a, 700.0))
        m = e.max(axis=-1, keepdims=True)
        m = np.where(np.isfinite(m), m, 0.0)
        with np.errstate(divide="ignore"):
            s = np.log(np.sum(pw * np.exp(np.minimum(e - m, 0.0)), axis=-1)) + m[:, 0]
        out[i : i + 1024] = np.log(a * c / np.pi) - c * x[:, 0] + s
    return out


def width_distribution(n):
    """(u, w): ln(sigma / r_e) on a grid and the flux fraction of each grid cell."""
    a, b = 1.0 / (2.0 * n), b_n(n)
    near = min(2000.0 * (1.0 - a), 30.0)  # the peak of width ~(1 - a) as n -> 1/2
    wide = 30.0 + 12.0 / a  # ln X spreads over ~1 / a
    lx = np.unique(
        np.concatenate([np.linspace(-wide, wide, 24001), np.linspace(-near, near, 8001)])
    )
    log_lam = np.log(b) / a + lx  # precision lambda = b^(1/a) X of exp(-lambda r^2)
    # exp(-lambda r^2) = (pi / lambda) N(r; sigma): flux weight f(x) x d(ln x) / lambda
    lw = log_stable_density(lx, a) + lx - log_lam
    w = np.exp(lw - lw.max()) * np.gradient(lx)
    u = -0.5 * (np.log(2.0) + log_lam)
    return u[::-1], (w / w.sum())[::-1]


def merge_tails(u, w):
    """Merge the light below FLOOR and above TOP (r_e) into one Gaussian each (flux and
    mean sigma^2 kept)."""
    s2 = np.exp(2 * u)
    keep = np.ones(len(u), bool)
    extra_u, extra_w = [], []
    for sel in (u < np.log(FLOOR), u > np.log(TOP)):
        if sel.any() and w[sel].sum() > 0:
            m = w[sel].sum()
            extra_u.append(0.5 * np.log((w[sel] * s2[sel]).sum() / m))
            extra_w.append(m)
        keep &= ~sel
    return np.concatenate([u[keep], extra_u]), np.concatenate([w[keep], extra_w])


def gauss_rule(u, w, k):
    """k-point Gauss quadrature nodes and weights of the discrete measure sum w_i
    delta(u_i) (Lanczos with full re-orthogonalisation; Golub & Welsch 1969)."""
    keep = w > 0
    u, w = u[keep], w[keep]
    q = np.sqrt(w) / np.linalg.norm(np.sqrt(w))
    basis, alpha, beta = [q], [], []
    prev, b_prev = np.zeros_like(q), 0.0
    for _ in range(k):
        v = u * basis[-1] - b_prev * prev
        alpha.append(basis[-1] @ v)
        for qq in basis:
            v -= (qq @ v) * qq
        beta.append(np.linalg.norm(v))
        prev, b_prev = basis[-1], beta[-1]
        basis.append(v / beta[-1])
    jac = np.diag(alpha) + np.diag(beta[:-1], 1) + np.diag(beta[:-1], -1)
    nodes, vec = np.linalg.eigh(jac)
    return nodes, vec[0] ** 2 * w.sum()


def tempered_rule(n):
    """(ln sigma_j, a_j) of step 2."""
    u, w = merge_tails(*width_distribution(n))
    t = w * (np.exp(2 * u) + C**2) ** (-GAMMA)
    nodes, wt = gauss_rule(u, t / t.sum(), K)
    amp = wt * (np.exp(2 * nodes) + C**2) ** GAMMA
    return nodes, amp / amp.sum()


def fitted_rule(n, nodes_split, amp_split):
    """(ln sigma_j, a_j) of step 3."""
    u0 = -0.5 * np.log(2.0 * b_n(np.array([n, N_SPLIT, N_MIN])))  # ln sigma of exp(-b r^2)
    # move the widths with u0, and the one nearest u0 at N_SPLIT onto u0 at n = 1/2 (then
    # n = 1/2 is represented exactly, by one Gaussian)
    j = np.argmin(np.abs(nodes_split - u0[1]))
    frac = (N_SPLIT - n) / (N_SPLIT - N_MIN)
    nodes = nodes_split + u0[0] - u0[1] + frac * (u0[1] - nodes_split[j])
    sigma = np.exp(nodes)
    A, y = metric_rows(n, sigma)
    Ae, ye = enclosed_rows(n, sigma)
    # the prior grows towards N_SPLIT, so that the amplitudes join the Gauss weights
    # there without a jump (a jump makes the spline overshoot)
    big, prior = 1e4, 1e-3 + 0.03 * (1.0 - frac) ** 2
    M = np.vstack([A, 0.1 * Ae, big * np.ones((1, K)), prior * np.eye(K)])
    r = np.concatenate([y, 0.1 * ye, [big], prior * amp_split])
    amp = nnls(M, r, maxiter=100 * K)[0]
    return nodes, amp / amp.sum()


def build_rows(n_grid):
    nodes_split, amp_split = tempered_rule(N_SPLIT)
    rows = []
    for n in n_grid:
        if n >= N_SPLIT:
            rows.append(tempered_rule(n))
        else:
            rows.append(fitted_rule(n, nodes_split, amp_split))
    return np.array([r[0] for r in rows]), np.array([r[1] for r in rows])


# ---------------------------------------------------------------- table and check
def n_grid():
    """Table rows: every 0.00625 in [N_MIN, N_SPLIT), then N_ROWS uniform in
    ln(n - N_SHIFT) from N_SPLIT to N_MAX (the Gauss rule changes fastest near 1/2)."""
    low = np.arange(N_MIN, N_SPLIT - 1e-9, 0.00625)
    t = np.linspace(np.log(N_SPLIT - N_SHIFT), np.log(N_MAX - N_SHIFT), N_ROWS)
    return np.concatenate([low, N_SHIFT + np.exp(t)])


def interpolate(table, n):
    """The table's (ln sigma (K,), a (K,)) at n: the stored cubic spline in ln n (the
    same arithmetic as scenefit.models.sersic_gm)."""
    knots, coef = table["knots"], table["coef"]
    t = np.clip(np.log(n - table["shift"]), knots[0], knots[-1])
    i = int(np.clip(np.searchsorted(knots, t) - 1, 0, len(knots) - 2))
    d = t - knots[i]
    c = coef[:, i]
    v = ((c[0] * d + c[1]) * d + c[2]) * d + c[3]
    return v[:K], v[K:]


def radial_error(n, log_sigma, amp):
    A, y = metric_rows(n, np.exp(log_sigma))
    return float(np.abs(A @ amp - y).max())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check-only", action="store_true", help="re-measure the stored table")
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    if not args.check_only:
        n = n_grid()
        log_sigma, amp = build_rows(n)
        t = np.log(n - N_SHIFT)
        spline = CubicSpline(t, np.concatenate([log_sigma, amp], axis=1), axis=0)
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(
            OUT_FILE,
            n=n,
            log_sigma=log_sigma,
            amp=amp,
            knots=spline.x,
            shift=N_SHIFT,
            coef=spline.c,  # (4, rows - 1, 2K): cubic in ln(n - shift) per interval
            k=K,
            floor=FLOOR,
            top=TOP,
            gamma=GAMMA,
            c=C,
            n_split=N_SPLIT,
            eps=EPS,
            source="scripts/make_sersic_mixture_table.py",
        )
    table = dict(np.load(OUT_FILE))
    # accuracy at the rows and between them (midpoints in ln(n - shift)), n in [0.5, 10]
    rows = table["n"]
    mids = N_SHIFT + np.sqrt((rows[:-1] - N_SHIFT) * (rows[1:] - N_SHIFT))
    check = {}
    worst = {"0.5-6": 0.0, "6-10": 0.0}
    for n in np.concatenate([rows, mids]):
        err = radial_error(n, *interpolate(table, n))
        key = "0.5-6" if n <= 6.0 else "6-10"
        worst[key] = max(worst[key], err)
        check[f"{n:.4f}"] = err
    amp_all = np.array([interpolate(table, n)[1] for n in mids])
    print(
        json.dumps(
            {
                "script": "make_sersic_mixture_table",
                "file": str(OUT_FILE.relative_to(OUT.parents[2])),
                "components": int(table["k"]),
                "rows": int(len(rows)),
                "eps_range": [float(EPS[0]), float(EPS[-1])],
                "max_radial_error_over_peak": {k: float(f"{v:.3g}") for k, v in worst.items()},
                "min_amplitude_between_rows": float(f"{amp_all.min():.3g}"),
                "seconds": round(time.perf_counter() - t0, 1),
            }
        )
    )


if __name__ == "__main__":
    main()
