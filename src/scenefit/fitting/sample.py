"""NUTS / HMC sampling of a scene's posterior with numpyro, started from the LM fit.

The log-density is the one the LM fit maximises, written in the fitter's unconstrained
coordinates u (bounded parameters x = T(u), see :mod:`scenefit.parameters`):

    ln p(u | data) = -objective(u) / 2 - sum_k r_k(u)^2 / 2 + sum_i ln |dx_i / du_i| + const,

with ``objective`` = chi^2 (or the Poisson deviance) of the pixels and r_k the prior
and constraint residuals (:mod:`scenefit.fitting.priors`). Parameters without a prior
have a flat prior in their physical unit, inside their bounds: the log-Jacobian term
makes the density in u the image of that density in x.

Hamiltonian Monte Carlo needs a mass matrix matched to the posterior; the LM
covariance moved to u (Cov_u = D^-1 Cov_x D^-1, D = diag dx/du at the optimum) is the
Laplace approximation of the posterior covariance there, so it is the inverse mass
matrix the sampler starts with (dense). Chains start at independent draws from that
Gaussian around the LM optimum. Requires numpyro (``pip install scenefit[sampling]``).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from .._layout import build_layout
from ..parameters import from_unconstrained, to_unconstrained
from ..render import RenderSettings, image_spec
from .fit import _signature, fit, make_objective, problem_args
from .posterior import PosteriorSamples
from .priors import SoftConstraint, build_priors
from .result import FitResult

__all__ = ["sample_nuts", "run_nuts", "unconstrained_covariance"]


def sample_nuts(
    scene,
    image,
    *,
    start: FitResult | None = None,
    priors: Mapping | None = None,
    constraints: Sequence[SoftConstraint] = (),
    likelihood: str = "chi2",
    settings: RenderSettings | None = None,
    num_warmup: int = 300,
    num_samples: int = 500,
    num_chains: int = 2,
    seed: int = 0,
    adapt_mass_matrix: bool = True,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    algo: str = "NUTS",
    gradient: str = "auto",
) -> PosteriorSamples:
    """Draw posterior samples of the free parameters of ``scene`` by NUTS.

    Parameters
    ----------
    scene : Scene
        Model (structure, bounds, fixed flags, ties). Its values are the LM starting
        point when ``start`` is not given.
    image : Image
    start : FitResult, optional
        An LM fit of the same scene structure, image, likelihood and priors; its
        optimum and covariance initialise the sampler. Fitted here when omitted.
    priors, constraints, likelihood, settings
        As in :func:`scenefit.fitting.fit`.
    num_warmup, num_samples : int
        Warm-up (adaptation) steps and kept draws per chain.
    num_chains : int
        Independent chains, run one after another (``R-hat`` needs more than one).
    seed : int
        Seed of the sampler's random key.
    adapt_mass_matrix : bool
        Re-estimate the dense mass matrix during warm-up (starting from the LM one).
    target_accept, max_tree_depth
        NUTS settings.
    algo : {"NUTS", "HMC"}
        No-U-turn sampler, or HMC with a fixed trajectory length.
    gradient : {"auto", "reverse", "forward"}
        Differentiation mode of the log-density (see :func:`run_nuts`).

    Returns
    -------
    PosteriorSamples
        Draws of the free parameters (physical units), R-hat, ESS and timings;
        ``extra["lm"]`` holds the LM result used for initialisation.

    Examples
    --------
    >>> import numpy as np
    >>> from scenefit import Image, Scene, FlatSky
    >>> img = Image(np.random.default_rng(0).normal(1.0, 0.5, (10, 10)), sigma=0.5)
    >>> post = sample_nuts(Scene([FlatSky(sky=0.0)]), img, num_warmup=100, num_samples=200)
    >>> abs(post.std("flat_sky.sky") / 0.05 - 1) < 0.2
    True
    """
    settings = settings or RenderSettings()
    if start is None:
        start = fit(
            scene,
            image,
            likelihood=likelihood,
            settings=settings,
            priors=priors,
            constraints=constraints,
        )
    layout, vals, x_hat = build_layout(start.scene)
    if layout.free_addresses != tuple(start.free):
        raise ValueError(
            "start was fitted with another scene structure: its free parameters are "
            f"{tuple(start.free)}, the scene's are {layout.free_addresses}"
        )
    pset = build_priors(layout, vals.base, priors, constraints)
    potential = _potential(layout, image_spec(image), settings, likelihood, pset.static)
    args = problem_args(vals, image, pset, layout=layout)
    lo, hi = args[1], args[2]
    kinds = jnp.asarray(layout.kinds, dtype=int)
    u_hat = to_unconstrained(x_hat, np.asarray(layout.kinds), vals.lo, vals.hi)
    cov_u = unconstrained_covariance(start.covariance, u_hat, layout.kinds, vals.lo, vals.hi)
    post = run_nuts(
        potential,
        u_hat,
        cov_u,
        lambda u: from_unconstrained(u, kinds, lo, hi),
        layout.free_addresses,
        num_warmup=num_warmup,
        num_samples=num_samples,
        num_chains=num_chains,
        seed=seed,
        adapt_mass_matrix=adapt_mass_matrix,
        target_accept=target_accept,
        max_tree_depth=max_tree_depth,
        algo=algo,
        gradient=gradient,
        potential_args=tuple(args),
    )
    post.extra["lm"] = start
    return post


@lru_cache(maxsize=16)
def _potential(layout, spec, settings, likelihood, prior_static) -> Callable:
    """``U(u, *args)`` = objective / 2 - ln |dx/du| of a problem structure (one function
    object per structure, so that :func:`run_nuts` reuses its compiled sampler across
    images of that structure; ``args`` from :func:`~.fit.problem_args`)."""
    fun, _, log_jacobian = make_objective(layout, spec, settings, likelihood, prior_static)

    def potential(u, *args):
        return 0.5 * fun(u, *args)[1] - log_jacobian(u, args[1], args[2])

    return potential


def unconstrained_covariance(cov_x, u_hat, kinds, lo, hi) -> np.ndarray:
    """The physical covariance moved to the unconstrained space, Cov_u = D^-1 Cov_x D^-1.

    Non-finite entries (unconstrained directions) fall back to the identity there.
    """
    _, dxdu = jax.jvp(
        lambda v: from_unconstrained(v, jnp.asarray(kinds), jnp.asarray(lo), jnp.asarray(hi)),
        (jnp.asarray(u_hat),),
        (jnp.ones(len(u_hat)),),
    )
    d = np.asarray(dxdu)
    cov = np.asarray(cov_x, float) / np.outer(d, d)
    bad = ~np.all(np.isfinite(cov), axis=1)
    cov[bad, :] = 0.0
    cov[:, bad] = 0.0
    cov[bad, bad] = 1.0
    return 0.5 * (cov + cov.T)


def run_nuts(
    potential: Callable,
    u_hat,
    cov_u,
    to_physical: Callable,
    names: Sequence[str],
    *,
    num_warmup: int = 300,
    num_samples: int = 500,
    num_chains: int = 2,
    seed: int = 0,
    adapt_mass_matrix: bool = True,
    target_accept: float = 0.8,
    max_tree_depth: int = 10,
    algo: str = "NUTS",
    block: int = 50,
    gradient: str = "auto",
    potential_args: tuple = (),
) -> PosteriorSamples:
    """NUTS (or HMC) on any potential ``U(u) = -ln p(u)`` of a flat vector u (F,).

    ``potential(u, *potential_args)``: data passed as ``potential_args`` (arrays) are
    arguments of the compiled sampler, not constants in it, so a second call with the
    same ``potential`` object, settings and argument shapes reuses the compilation.

    ``cov_u`` (F, F) is the initial inverse mass matrix (dense) and the covariance of
    the chains' starting points around ``u_hat``; ``to_physical(u) -> x`` maps draws to
    the reported units. The transitions run in compiled blocks of ``block`` steps
    (compiled once, before timing; ``num_warmup`` is rounded up to a multiple of it);
    ``seconds_warmup`` and ``seconds_sampling`` exclude compilation
    (``extra["seconds_compile"]``). ``gradient`` chooses reverse- or forward-mode
    differentiation of the potential (``"reverse"``, ``"forward"``: F passes); ``"auto"``
    uses reverse mode unless it gives a non-finite gradient at ``u_hat`` where forward
    mode does not (``extra["gradient"]`` says which was used).
    """
    try:
        from numpyro.diagnostics import effective_sample_size, split_gelman_rubin
    except ImportError as err:  # pragma: no cover - depends on the environment
        raise ImportError(
            "NUTS sampling needs numpyro; install it with pip install 'scenefit[sampling]'"
        ) from err
    if algo not in ("NUTS", "HMC"):
        raise ValueError(f"algo must be 'NUTS' or 'HMC', got {algo!r}")

    u_hat = np.asarray(u_hat, float)
    cov_u = np.asarray(cov_u, float)
    nf = len(u_hat)
    checks = _checks(potential)
    pa = tuple(potential_args)
    if gradient == "auto":
        rev = np.asarray(checks["reverse"](jnp.asarray(u_hat), *pa))
        gradient = "reverse"
        if not np.all(np.isfinite(rev)):
            fwd = np.asarray(checks["forward"](jnp.asarray(u_hat), *pa))
            gradient = "forward" if np.all(np.isfinite(fwd)) else "reverse"
    if gradient not in ("reverse", "forward"):
        raise ValueError(f"gradient must be 'auto', 'reverse' or 'forward', got {gradient!r}")
    rng = np.random.default_rng(seed)
    chol = np.linalg.cholesky(cov_u + 1e-12 * np.eye(nf) * np.max(np.diag(cov_u)))
    init = u_hat[None, :] + rng.standard_normal((num_chains, nf)) @ chol.T
    ok = np.isfinite(np.asarray(checks["many"](jnp.asarray(init), *pa)))
    init = np.where(ok[:, None], init, u_hat[None, :])
    n_warm_blocks = -(-num_warmup // block)
    n_keep_blocks = -(-num_samples // block)
    num_warmup = n_warm_blocks * block

    config = (algo, block, num_warmup, adapt_mass_matrix, target_accept, max_tree_depth)
    init_kernel, run_block, executables = _sampler(potential, *config, gradient == "forward")

    t0 = time.perf_counter()
    keys = jax.random.split(jax.random.PRNGKey(seed), num_chains)
    states = [
        init_kernel(jnp.asarray(init[c]), jnp.asarray(cov_u), keys[c], pa)
        for c in range(num_chains)
    ]
    signature = _signature((states[0], pa))
    compiled = executables.get(signature)
    if compiled is None:
        compiled = executables[signature] = run_block.lower(states[0], pa).compile()
    t_compile = time.perf_counter() - t0

    t_warm = t_run = 0.0
    draws, div, acc, steps, step_size = [], [], [], [], []
    for state in states:
        t0 = time.perf_counter()
        for _ in range(n_warm_blocks):
            state, _ = compiled(state, pa)
        jax.block_until_ready(state)
        t_warm += time.perf_counter() - t0
        t0 = time.perf_counter()
        out = []
        for _ in range(n_keep_blocks):
            state, o = compiled(state, pa)
            out.append(jax.tree_util.tree_map(np.asarray, o))
        jax.block_until_ready(state)
        t_run += time.perf_counter() - t0
        z, d, a, n = (np.concatenate(v)[:num_samples] for v in zip(*out, strict=True))
        draws.append(z)
        div.append(d)
        acc.append(a)
        steps.append(n)
        step_size.append(float(state.adapt_state.step_size))
    u = np.stack(draws)

    x = np.asarray(jax.jit(jax.vmap(jax.vmap(to_physical)))(jnp.asarray(u)))
    return PosteriorSamples(
        names=tuple(names),
        samples=x,
        rhat=np.asarray(split_gelman_rubin(x)),
        ess=np.asarray(effective_sample_size(x)),
        num_divergent=int(np.sum(div)),
        seconds_warmup=t_warm,
        seconds_sampling=t_run,
        extra={
            "algo": algo,
            "gradient": gradient,
            "seconds_compile": t_compile,
            "num_warmup": num_warmup,
            "mean_accept_prob": float(np.mean(acc)),
            "mean_num_steps": float(np.mean(steps)),
            "step_size": step_size,
            "u_samples": u,
        },
    )


@lru_cache(maxsize=16)
def _checks(potential) -> dict:
    """Jitted reverse and forward gradients and the vectorised value of ``potential``."""
    return {
        "reverse": jax.jit(jax.grad(potential)),
        "forward": jax.jit(jax.jacfwd(potential)),
        "many": jax.jit(lambda us, *a: jax.vmap(lambda u: potential(u, *a))(us)),
    }


@lru_cache(maxsize=16)
def _sampler(potential, algo, block, num_warmup, adapt, target_accept, max_depth, forward):
    """``(init_kernel, run_block, executables)`` of numpyro's HMC/NUTS on
    ``potential(u, *args)``.

    ``run_block(state, args)`` (jitted) runs ``block`` transitions; ``executables`` keeps
    its compilations by argument signature. numpyro's kernel
    reads the settings that ``init_kernel`` stores (warm-up length, tree depth, the
    adaptation) when ``run_block`` is traced, so one pair serves one combination of
    settings: they are all part of the cache key.
    """
    from numpyro.infer.hmc import hmc

    def generate(*args):
        return lambda u: potential(u, *args)

    init_hmc, sample_kernel = hmc(potential_fn_gen=generate, algo=algo)

    def init_kernel(z, inverse_mass_matrix, rng_key, args):
        return init_hmc(
            z,
            num_warmup,
            inverse_mass_matrix=inverse_mass_matrix,
            adapt_mass_matrix=adapt,
            dense_mass=True,
            target_accept_prob=target_accept,
            max_tree_depth=max_depth,
            forward_mode_differentiation=forward,
            rng_key=rng_key,
            model_args=args,
        )

    def run_block(state, args):
        def step(s, _):
            s = sample_kernel(s, model_args=args)
            return s, (s.z, s.diverging, s.accept_prob, s.num_steps)

        return jax.lax.scan(step, state, None, length=block)

    # jitted: numpyro's own initialisation (step-size search, adaptation set-up) would
    # otherwise compile anew for every call (one program per chain and per problem),
    # and the compiled code accumulates until the JIT runs out of code memory
    return jax.jit(init_kernel), jax.jit(run_block), {}
