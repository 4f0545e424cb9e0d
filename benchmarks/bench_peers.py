"""Side-by-side benchmark: scenefit vs pyimfit (Imfit) and AstroPhot on identical mock cases.

Opt-in, not a test. For each case (image size x number of Sersic galaxies, written by
``../shared/bench/mockcases.py``) it runs, each in a fresh process:

* ``pyimfit``, ``astrophot-torch``, ``astrophot-jax`` -- the peers through
  ``../shared/bench/run_*.py`` in their own virtual environments
  (``../shared/bench/setup_peers.sh``);
* ``scenefit-cli-cold`` -- ``scenefit imfit imfit_init.dat image.fits --noise sigma.fits``
  with an empty persistent compilation cache (import + tracing + compilation + fit);
* ``scenefit-cli-cached`` -- the same command again, now loading the compiled solver
  from the cache;
* ``scenefit-warm`` -- the Python API: one fit to compile, then ``--repeats`` timed fits
  (``benchmarks/_bench_warm.py``).

Wall times are from process start to exit; ``fit_s`` is each code's own fit time
(pyimfit/AstroPhot: model building + fit, without the import; scenefit-warm: the median
warm fit). Peak memory is the child's maximum resident set size. Each (case, code) is
one JSON line in ``OUT/results.jsonl``; ``OUT/results.md`` holds the tables, including
the speed-up of scenefit over each peer. Parameter recovery is measured against
``truth.json`` in its native convention (see ``_bench_recovery.py``).

The machine must be quiet for timings to mean anything: the load average is recorded
with every line.

    python benchmarks/bench_peers.py --out /tmp/scenefit-bench --cases 100x1,250x4,500x16
    python benchmarks/bench_peers.py --out /tmp/sb --cases 1000x64 --skip-peer astrophot-torch
    python benchmarks/bench_peers.py --out /tmp/sb --noiseless --cases 100x1   # conventions check
"""

from __future__ import annotations

import argparse
import json
import os
import pathlib
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, str(pathlib.Path(__file__).parent))
from _bench_recovery import RECOVERY_KEYS, imfit_model_to_native, recovery  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[1]
ALL_CASES = ("100x1", "250x4", "500x16", "1000x16", "1000x64")
PEERS = ("pyimfit", "astrophot-torch", "astrophot-jax")
SCENEFIT = ("scenefit-cli-cold", "scenefit-cli-cached", "scenefit-warm")


# ------------------------------------------------------------------ processes
def run_timed(cmd, *, cwd=None, env=None, timeout=None) -> dict:
    """Run ``cmd``; wall time from start to exit, the child's peak RSS, its output.

    A run past ``timeout`` seconds is killed (with its process group) and reported with
    ``timed_out``.
    """
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, cwd=cwd, env=env, stdout=out, stderr=err, start_new_session=True)
        killed = threading.Event()

        def kill():
            killed.set()
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

        timer = threading.Timer(timeout, kill) if timeout else None
        if timer:
            timer.start()
        _, status, usage = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t0
        if timer:
            timer.cancel()
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        return {
            "rc": p.returncode,
            "wall_s": wall,
            "peak_mb": usage.ru_maxrss / 1024.0,
            "cpu_s": usage.ru_utime + usage.ru_stime,
            "timed_out": killed.is_set(),
            "stdout": out.read().decode(errors="replace"),
            "stderr": err.read().decode(errors="replace"),
        }


def _last_json(text: str) -> dict:
    for line in reversed(text.strip().splitlines()):
        if line.startswith("{"):
            return json.loads(line)
    raise ValueError("no JSON line in the output")


# ------------------------------------------------------------------ the codes
def run_peer(code, case, args) -> dict:
    venv = "pyimfit" if code == "pyimfit" else "astrophot"
    python = pathlib.Path(args.peer_venvs) / venv / "bin" / "python"
    script = pathlib.Path(args.shared_bench) / (
        "run_pyimfit.py" if code == "pyimfit" else "run_astrophot.py"
    )
    env = dict(os.environ)
    if code == "astrophot-jax":
        env["CASKADE_BACKEND"] = "jax"
    work = case / f"work-{code}"  # AstroPhot writes AstroPhot.log into its directory
    work.mkdir(exist_ok=True)
    r = run_timed([str(python), str(script), str(case)], cwd=work, env=env, timeout=args.timeout)
    rec = _base(r)
    if r["rc"] == 0 and not r["timed_out"]:
        j = _last_json(r["stdout"])
        rec.update(
            version=j["tool"],
            fit_s=float(j["fit_s"][0]),
            import_s=j["import_s"],
            iterations=j.get("iterations"),
            chi2_dof=j.get("chi2_dof"),
            message=str(j.get("message", f"converged={j.get('converged')}")),
            params=j["params"],
        )
    return rec


def _scenefit_cmd(args):
    exe = shutil.which("scenefit")
    return [exe] if exe and not args.scenefit_src else [sys.executable, "-m", "scenefit"]


def _scenefit_env(args, **extra) -> dict:
    """The environment of scenefit runs: ``--scenefit-src`` goes first on PYTHONPATH."""
    env = dict(os.environ, **extra)
    if args.scenefit_src:
        env["PYTHONPATH"] = os.pathsep.join(
            [str(pathlib.Path(args.scenefit_src).resolve())]
            + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])
        )
    return env


def run_scenefit_cli(case, cache_dir, args) -> dict:
    from scenefit.io.imfit_config import read_imfit_config

    best = case / "scenefit_best.dat"
    best.unlink(missing_ok=True)
    cmd = _scenefit_cmd(args) + [
        "imfit",
        str(case / "imfit_init.dat"),
        str(case / "image.fits"),
        "--noise",
        str(case / "sigma.fits"),
        "--save-params",
        str(best),
    ]
    env = _scenefit_env(args, SCENEFIT_CACHE_DIR=str(cache_dir))
    env.pop("SCENEFIT_NO_CACHE", None)
    r = run_timed(cmd, env=env, timeout=args.timeout)
    rec = _base(r)
    if r["rc"] in (0, 1) and best.exists():
        stats = _imfit_console_values(r["stdout"])
        rec.update(
            fit_s=stats.get("fit_s"),
            iterations=stats.get("NITER"),
            chi2_dof=stats.get("Reduced Chi^2"),
            message="converged" if r["rc"] == 0 else "not converged",
            params=imfit_model_to_native(read_imfit_config(best, check_limits=False)),
        )
    return rec


def _imfit_console_values(text: str) -> dict:
    out = {}
    for line in text.splitlines():
        s = line.strip()
        if s.startswith("NITER ="):
            out["NITER"] = int(s.split("=")[1])
        elif s.startswith("Reduced Chi^2 ="):
            out["Reduced Chi^2"] = float(s.split("=")[1])
        elif s.startswith("(Elapsed time:"):
            out["fit_s"] = float(s.split()[2])
    return out


def run_scenefit_warm(case, args) -> dict:
    cmd = [sys.executable, str(pathlib.Path(__file__).with_name("_bench_warm.py")), str(case)]
    env = _scenefit_env(args)
    r = run_timed(cmd + ["--repeats", str(args.repeats)], env=env, timeout=args.timeout)
    rec = _base(r)
    if r["rc"] == 0:
        j = _last_json(r["stdout"])
        rec.update({k: j[k] for k in ("fit_s", "first_fit_s", "import_s", "iterations")})
        rec.update(chi2_dof=j["chi2_dof"], message=j["status"], params=j["params"])
        rec["warm_fit_s"] = j["warm_fit_s"]
    return rec


def _base(r) -> dict:
    status = "timeout" if r["timed_out"] else ("ok" if r["rc"] in (0, 1) else f"rc={r['rc']}")
    keys = ("wall_s", "cpu_s", "peak_mb", "rc")
    rec = {**{k: r[k] for k in keys}, "status": status}
    if status not in ("ok",):
        rec["stderr_tail"] = r["stderr"][-2000:]
    return rec


# ------------------------------------------------------------------ cases
def write_cases(specs, out: pathlib.Path, args) -> list[pathlib.Path]:
    script = pathlib.Path(args.shared_bench) / "mockcases.py"
    cmd = [sys.executable, str(script), str(out / "cases"), ",".join(specs)]
    r = subprocess.run(
        cmd + ["--seed", str(args.seed)],
        capture_output=True,
        text=True,
        check=True,
    )
    dirs = [pathlib.Path(line.strip()) for line in r.stdout.splitlines() if line.strip()]
    if args.noiseless:
        dirs = [_noiseless_copy(d) for d in dirs]
    return dirs


def _noiseless_copy(d: pathlib.Path) -> pathlib.Path:
    """A case whose image is the noiseless model (a check of the conventions)."""
    nd = d.with_name(d.name + "_noiseless")
    nd.mkdir(exist_ok=True)
    shutil.copyfile(d / "model.fits", nd / "image.fits")
    for f in ("sigma.fits", "model.fits", "truth.json", "imfit_init.dat"):
        shutil.copyfile(d / f, nd / f)
    return nd


# ------------------------------------------------------------------ main
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        epilog="\n".join(__doc__.splitlines()[-3:]),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ap.add_argument("--out", default=os.path.join(tempfile.gettempdir(), "scenefit-bench"))
    ap.add_argument("--cases", default=",".join(ALL_CASES), help="comma-separated SIZExN")
    ap.add_argument("--codes", default=",".join(PEERS + SCENEFIT), help="which codes to run")
    ap.add_argument("--skip-peer", action="append", default=[], choices=PEERS)
    ap.add_argument("--peer-venvs", default=None, help="default /work/peer-venvs or ../peer-venvs")
    ap.add_argument("--shared-bench", default=str(ROOT.parent / "shared" / "bench"))
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per run (then killed)")
    ap.add_argument(
        "--astrophot-max-pixels",
        type=float,
        default=1e6 * 16,
        help="skip AstroPhot where size^2 x N_galaxies exceeds this (default: 1000x16)",
    )
    ap.add_argument("--repeats", type=int, default=5, help="timed warm fits (scenefit-warm)")
    ap.add_argument(
        "--scenefit-src",
        default=None,
        help="run scenefit from this src/ folder (e.g. of a clean `git archive` export, so "
        "that edits in the working tree during the run do not change what is measured)",
    )
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--noiseless", action="store_true", help="fit the noiseless model images")
    args = ap.parse_args(argv)

    out = pathlib.Path(args.out).resolve()
    if ROOT in out.parents or out == ROOT:
        ap.error(f"--out {out} is inside the repository; choose a folder outside it")
    out.mkdir(parents=True, exist_ok=True)
    args.peer_venvs = args.peer_venvs or next(
        (p for p in ("/work/peer-venvs", str(ROOT.parent / "peer-venvs")) if os.path.isdir(p)),
        "/work/peer-venvs",
    )
    specs = [s.strip().lower() for s in args.cases.split(",") if s.strip()]
    codes = [c for c in args.codes.split(",") if c and c not in args.skip_peer]
    unknown = set(codes) - set(PEERS + SCENEFIT)
    if unknown:
        ap.error(f"unknown codes {sorted(unknown)}; choose from {PEERS + SCENEFIT}")

    jsonl = out / ("results_noiseless.jsonl" if args.noiseless else "results.jsonl")
    machine = {
        "machine": platform.machine(),
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "scenefit_git": _git_version(),
        "scenefit_src": args.scenefit_src or "installed",
    }
    records = []
    for case in write_cases(specs, out, args):
        truth = json.loads((case / "truth.json").read_text())
        size, n_gal = truth["size"], truth["n_galaxies"]
        cache_dir = out / "jax-cache" / case.name
        shutil.rmtree(cache_dir, ignore_errors=True)  # "cold" means an empty cache
        for code in codes:
            if code.startswith("astrophot") and size * size * n_gal > args.astrophot_max_pixels:
                rec = {"status": "skipped (--astrophot-max-pixels)"}
            elif code in PEERS:
                rec = run_peer(code, case, args)
            elif code == "scenefit-warm":
                rec = run_scenefit_warm(case, args)
            else:
                rec = run_scenefit_cli(case, cache_dir, args)
            if rec.get("params"):
                rec.update(recovery(rec["params"], truth["truth"]))
            rec = {
                "case": f"{size}x{n_gal}",
                "case_dir": str(case),
                "code": code,
                "load_avg_1min": os.getloadavg()[0],
                **machine,
                **rec,
            }
            records.append(rec)
            with jsonl.open("a") as f:
                f.write(json.dumps(rec) + "\n")
            print(json.dumps({k: v for k, v in rec.items() if k != "params"}), flush=True)
    md = jsonl.with_suffix(".md")
    md.write_text(markdown(records))
    print(f"wrote {jsonl} and {md}", file=sys.stderr)
    return 0


def _git_version() -> str:
    try:
        r = subprocess.run(
            ["git", "describe", "--always", "--dirty"], cwd=ROOT, capture_output=True, text=True
        )
        return r.stdout.strip() or "unknown"
    except OSError:
        return "unknown"


# ------------------------------------------------------------------ tables
def _f(v, fmt="{:.3g}"):
    return "-" if v is None else fmt.format(v)


def markdown(records) -> str:
    """Two markdown tables: one row per (case, code), and scenefit's speed-ups."""
    head = (
        "| case | code | wall s | cpu s | fit s | iter | chi2/dof | |dn| med/max | "
        "|dr_e|/r_e med/max | |dI_e|/I_e med/max | centre px med/max | peak MB | status |"
    )
    lines = [head, "|" + "---|" * 13]
    for r in records:
        rec = [
            f"{_f(r.get(f'{k}_med'))}/{_f(r.get(f'{k}_max'))}" if f"{k}_med" in r else "-"
            for k in RECOVERY_KEYS
        ]
        lines.append(
            f"| {r['case']} | {r['code']} | {_f(r.get('wall_s'), '{:.2f}')} | "
            f"{_f(r.get('cpu_s'), '{:.2f}')} | "
            f"{_f(r.get('fit_s'), '{:.3f}')} | {_f(r.get('iterations'), '{}')} | "
            f"{_f(r.get('chi2_dof'), '{:.4f}')} | " + " | ".join(rec) + f" | "
            f"{_f(r.get('peak_mb'), '{:.0f}')} | {r.get('status', '')}: "
            f"{r.get('message', '')[:40]} |"
        )
    lines += ["", speedups(records)]
    return "\n".join(lines) + "\n"


def speedups(records) -> str:
    """Peer time / scenefit time: whole process (cold and cached cache) and warm fit."""
    by = {(r["case"], r["code"]): r for r in records}
    cases = list(dict.fromkeys(r["case"] for r in records))
    head = "| case | peer | process, cold cache | process, cached | warm fit vs peer fit |"
    lines = [head, "|---|---|---|---|---|"]
    for c in cases:
        for peer in PEERS:
            p = by.get((c, peer))
            if not p or p.get("status") not in ("ok", "timeout"):
                continue
            timeout = p["status"] == "timeout"  # the peer took longer: a lower bound
            cells = []
            for code, key in (
                ("scenefit-cli-cold", "wall_s"),
                ("scenefit-cli-cached", "wall_s"),
                ("scenefit-warm", "fit_s"),
            ):
                s = by.get((c, code)) or {}
                num = p.get("wall_s") if timeout and key == "wall_s" else p.get(key)
                if num and s.get(key):
                    cells.append(f"{'>' if timeout else ''}{num / s[key]:.1f}x")
                else:
                    cells.append("-")
            lines.append(f"| {c} | {peer} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    raise SystemExit(main())
