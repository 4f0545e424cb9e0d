"""The AstroPhot paper's Figure 7 experiment: LM then NUTS with a live, shared Moffat PSF.

One Sersic galaxy, one star and a flat sky, all convolved with a circular Moffat PSF
whose FWHM and beta are free and shared; 13 free parameters (Sersic 7, star 3, sky 1,
PSF 2). The PSF is the library's live PSF model (``scenefit.MoffatPSF`` in the scene,
``docs/psf_models.md``): drawn from its two parameters on the image's 21 x 21 PSF grid
inside the compiled model (pixel-integrated, normalised), with exact Jacobian columns;
the LM fit uses the library's objective and block-sparse Jacobian
(``scenefit.fitting.fit.make_objective``), NUTS the same objective's residuals.

S/N: the noise sigma is set so that the galaxy's brightest pixel is ``--snr`` sigma
above the sky (our reading of "S/N about 8"); the integrated S/N of the galaxy in the
pixels where it exceeds 1 sigma is reported as well.

Steps: Levenberg-Marquardt from a far start (compiled, then a timed warm run), then
NUTS (numpyro, dense mass matrix initialised with the LM covariance, parameters
sampled in the fitter's unconstrained space with the log-Jacobian, flat priors inside
the bounds), ``--chains`` chains of ``--samples`` draws after ``--warmup`` steps.
Prints one JSON line; the paper's number for 250 NUTS draws on an A100 is 738.5 s.

    python scripts/fig7_nuts.py [--warmup 500] [--samples 500] [--chains 2] [--corner f.png]
"""

from __future__ import annotations

import argparse
import json
import os
import time

import numpy as np

SIZE = 64
PSF_SIZE = 21
PAPER_SECONDS = 738.5
TRUTH = {
    "gal.x": -4.0,
    "gal.y": 3.0,
    "gal.flux": 3000.0,
    "gal.r_e": 6.0,
    "gal.n": 2.0,
    "gal.q": 0.6,
    "gal.pa": 40.0,
    "star.x": 14.0,
    "star.y": -12.0,
    "star.flux": 1500.0,
    "sky.sky": 5.0,
    "psf.fwhm": 3.0,
    "psf.beta": 3.0,
}
START = {
    "gal.x": -2.0,
    "gal.y": 5.0,
    "gal.flux": 6000.0,
    "gal.r_e": 10.0,
    "gal.n": 4.0,
    "gal.q": 0.9,
    "gal.pa": 10.0,
    "star.x": 13.0,
    "star.y": -11.0,
    "star.flux": 700.0,
    "sky.sky": 0.0,
    "psf.fwhm": 5.0,
    "psf.beta": 6.0,
}
PSF_BOUNDS = {"psf.fwhm": (0.5, 12.0), "psf.beta": (1.05, 30.0)}


def build_problem(snr: float, seed: int):
    """Data, parameter names, bounds and the jittable residual functions."""
    import jax.numpy as jnp

    import scenefit as sf
    from scenefit._layout import build_layout
    from scenefit.fitting.fit import make_objective, problem_args
    from scenefit.fitting.priors import build_priors
    from scenefit.parameters import Param, from_unconstrained
    from scenefit.render import RenderSettings, image_spec

    def scene_of(v):
        fwhm_lo, fwhm_hi = PSF_BOUNDS["psf.fwhm"]
        beta_lo, beta_hi = PSF_BOUNDS["psf.beta"]
        return sf.Scene(
            [
                sf.Sersic(name="gal", **{k[4:]: v[k] for k in v if k.startswith("gal.")}),
                sf.PointSource(name="star", x=v["star.x"], y=v["star.y"], flux=v["star.flux"]),
                sf.FlatSky(name="sky", sky=v["sky.sky"]),
                sf.MoffatPSF(
                    name="psf",
                    fwhm=Param(v["psf.fwhm"], lo=fwhm_lo, hi=fwhm_hi),
                    beta=Param(v["psf.beta"], lo=beta_lo, hi=beta_hi),
                ),
            ]
        )

    settings = RenderSettings()
    grid = np.ones((PSF_SIZE, PSF_SIZE))  # the PSF grid; its values are not used
    blank = sf.Image(np.zeros((SIZE, SIZE)), psf=grid, pixel_scale=1.0)

    # data
    rng = np.random.default_rng(seed)
    truth_model = sf.render(scene_of(TRUTH), blank, settings)
    gal_only = dict(TRUTH, **{"star.flux": 0.0, "sky.sky": 0.0})
    gal_model = sf.render(scene_of(gal_only), blank, settings)
    sigma = gal_model.max() / snr
    data = truth_model + rng.normal(0, sigma, truth_model.shape)
    region = gal_model > sigma
    snr_integrated = gal_model[region].sum() / (sigma * np.sqrt(region.sum()))
    image = blank.replace(data=data, sigma=sigma)

    # the library's objective: a live Moffat PSF drawn inside the compiled model
    layout, vals, _ = build_layout(scene_of(START))
    names = layout.free_addresses
    pset = build_priors(layout, vals.base)
    spec = image_spec(image)
    fun, linearize, log_jacobian = make_objective(layout, spec, settings, "chi2", pset.static)
    args = problem_args(vals, image, pset, layout=layout)
    kinds = np.asarray(layout.kinds)
    kinds_j, lo_j, hi_j = jnp.asarray(kinds), jnp.asarray(vals.lo), jnp.asarray(vals.hi)

    def to_physical(u):
        return from_unconstrained(u, kinds_j, lo_j, hi_j)

    return dict(
        image=image,
        start_scene=scene_of(START),
        names=names,
        kinds=kinds,
        lo=vals.lo,
        hi=vals.hi,
        residuals=lambda u: fun(u, *args),
        linearize=lambda u: linearize(u, *args),
        log_jacobian=lambda u: log_jacobian(u, lo_j, hi_j),
        to_physical=to_physical,
        x_true=np.array([TRUTH[k] for k in names]),
        sigma=sigma,
        snr_integrated=float(snr_integrated),
        n_pix=SIZE * SIZE,
    )


def _profiles(prob, which, names, sig_lm, p16, p84) -> dict:
    """Profile-likelihood intervals (delta chi^2 = 1) of ``which``, from a fit of the
    same scene with ``scenefit.fit``, next to the LM error and NUTS's central 68 %."""
    import scenefit as sf
    from scenefit.fitting import profile_interval

    which = [w for w in which.split(",") if w]
    if not which:
        return {}
    t0 = time.perf_counter()
    res = sf.fit(prob["start_scene"], prob["image"], max_iter=500)
    out = {"fit_converged": bool(res.converged), "fit_chi2": float(res.objective)}
    for address in which:
        iv = profile_interval(res, address, step=0.5, max_sigma=12.0)
        i = list(names).index(address)
        lo, hi = iv.errors
        out[address] = {
            "best": iv.best,
            "minus": lo,
            "plus": hi,
            "half_width_over_lm": 0.5 * (lo + hi) / sig_lm[i],
            "nuts_central68_half_over_profile_half": 0.5 * (p84[i] - p16[i]) / (0.5 * (lo + hi)),
            "nuts_minus": float(iv.best - p16[i]),
            "nuts_plus": float(p84[i] - iv.best),
            "steps": len(iv.values) - 1,
        }
    out["seconds"] = time.perf_counter() - t0
    return out


def main(argv=None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--snr", type=float, default=8.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--warmup", type=int, default=500)
    ap.add_argument("--samples", type=int, default=500)
    ap.add_argument("--chains", type=int, default=2)
    ap.add_argument("--gradient", default="auto", choices=("auto", "reverse", "forward"))
    ap.add_argument("--corner", default=None, help="write a corner plot to this file")
    ap.add_argument(
        "--profile",
        default="gal.flux,gal.r_e,gal.n,sky.sky,psf.beta",
        help="parameters whose profile-likelihood interval is compared too ('' for none)",
    )
    args = ap.parse_args(argv)

    import jax
    import jax.numpy as jnp

    from scenefit.fitting.covariance import covariance_from_fisher
    from scenefit.fitting.lm import CONVERGED, lm_solve
    from scenefit.fitting.posterior import PosteriorSamples  # noqa: F401 (documented type)
    from scenefit.fitting.sample import run_nuts
    from scenefit.parameters import to_unconstrained

    t_start = time.perf_counter()
    prob = build_problem(args.snr, args.seed)
    names = prob["names"]
    x0 = np.array([START[k] for k in names])
    u0 = jnp.asarray(to_unconstrained(x0, prob["kinds"], prob["lo"], prob["hi"]))
    cap = jnp.where(jnp.asarray(prob["kinds"]) == 0, jnp.inf, 3.0)
    solve = jax.jit(
        lambda u: lm_solve(
            prob["residuals"], u, 500, 1e-10, 1e-10, linearize=prob["linearize"], step_cap=cap
        )
    )
    t0 = time.perf_counter()
    state = jax.block_until_ready(solve(u0))
    t_lm_first = time.perf_counter() - t0
    t0 = time.perf_counter()
    state = jax.block_until_ready(solve(u0))
    t_lm = time.perf_counter() - t0

    u_hat = np.asarray(state.u)
    x_hat = np.asarray(prob["to_physical"](state.u))
    _, dxdu = jax.jvp(prob["to_physical"], (state.u,), (jnp.ones_like(state.u),))
    dxdu = np.asarray(dxdu)
    J = np.asarray(state.jac)
    cov_u, ill, cond = covariance_from_fisher(J.T @ J)
    cov_x = cov_u * np.outer(dxdu, dxdu)
    sig_lm = np.sqrt(np.diag(cov_x))

    def potential(u):
        return 0.5 * prob["residuals"](u)[1] - prob["log_jacobian"](u)

    post = run_nuts(
        potential,
        u_hat,
        cov_u,
        prob["to_physical"],
        names,
        num_warmup=args.warmup,
        num_samples=args.samples,
        num_chains=args.chains,
        seed=args.seed,
        gradient=args.gradient,
    )
    sig_nuts = post.flat.std(axis=0, ddof=1)
    ratio = sig_nuts / sig_lm
    # half the central 68 % interval: the width that a long tail does not dominate
    p16, p50, p84 = np.percentile(post.flat, [15.865, 50.0, 84.135], axis=0)
    ratio68 = 0.5 * (p84 - p16) / sig_lm
    profiles = _profiles(prob, args.profile, names, sig_lm, p16, p84)
    diff = x_hat - prob["x_true"]
    ipa = list(names).index("gal.pa")
    diff[ipa] = (diff[ipa] + 90.0) % 180.0 - 90.0
    pulls_lm = diff / sig_lm
    n_draws = post.samples.shape[0] * post.samples.shape[1]
    out = {
        "script": "fig7_nuts",
        "free_params": len(names),
        "snr_peak": args.snr,
        "snr_integrated": prob["snr_integrated"],
        "lm_status": int(state.status),
        "lm_converged": int(state.status) in CONVERGED,
        "lm_iterations": int(state.n_iter),
        "lm_chi2": float(state.obj),
        "dof": prob["n_pix"] - len(names),
        "lm_seconds_first_call": t_lm_first,
        "lm_seconds_warm": t_lm,
        "lm_pulls_vs_truth": dict(zip(names, np.round(pulls_lm, 2).tolist(), strict=True)),
        "lm_ill_conditioned": bool(ill),
        "nuts_chains": post.samples.shape[0],
        "nuts_warmup_per_chain": post.extra["num_warmup"],
        "nuts_samples_per_chain": post.samples.shape[1],
        "nuts_seconds_compile": post.extra["seconds_compile"],
        "nuts_seconds_warmup": post.seconds_warmup,
        "nuts_seconds_sampling": post.seconds_sampling,
        "seconds_per_250_draws": post.seconds_sampling * 250.0 / n_draws,
        "paper_seconds_250_draws_a100": PAPER_SECONDS,
        "ess_min": float(np.min(post.ess)),
        "ess_median": float(np.median(post.ess)),
        "ess_per_second_min": post.ess_per_second(),
        "ess_per_second_min_incl_warmup": float(
            np.min(post.ess) / (post.seconds_sampling + post.seconds_warmup)
        ),
        "rhat_max": float(np.max(post.rhat)),
        "divergent": post.num_divergent,
        "mean_accept_prob": post.extra["mean_accept_prob"],
        "mean_leapfrog_steps": post.extra["mean_num_steps"],
        "nuts_gradient": post.extra["gradient"],
        "width_ratio_nuts_over_lm": dict(zip(names, np.round(ratio, 3).tolist(), strict=True)),
        "max_abs_width_ratio_minus_1": float(np.max(np.abs(ratio - 1))),
        "central68_ratio_nuts_over_lm": dict(
            zip(names, np.round(ratio68, 3).tolist(), strict=True)
        ),
        "max_abs_central68_ratio_minus_1": float(np.max(np.abs(ratio68 - 1))),
        "nuts_median_minus_lm_in_lm_sigma": dict(
            zip(names, np.round((p50 - x_hat) / sig_lm, 2).tolist(), strict=True)
        ),
        "profile_intervals": profiles,
        "total_seconds": time.perf_counter() - t_start,
        "device": jax.devices()[0].device_kind,
        "cpu_count": os.cpu_count(),
        "jax": jax.__version__,
        "seed": args.seed,
    }
    if args.corner:
        from scenefit.io.corner import plot_corner

        truths = dict(zip(names, prob["x_true"], strict=True))
        plot_corner(post, args.corner, truths=truths)
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
