"""Log-log plots from bench_peers.py results: time against pixels x sources, and
scenefit's compile time against the number of sources.

    python benchmarks/plot_scaling.py /tmp/scenefit-bench/results.jsonl --out scaling.png \
        [--compile compile_scaling.jsonl]

Left: each code's whole-process wall time and scenefit's warm fit time against
(image pixels) x (number of galaxies). Right: compile time against the number of
galaxies; it should stay flat. With ``--compile`` (the output of
``benchmarks/compile_scaling.py``) the right panel shows the measured trace + lower +
XLA seconds of each program of a fit; without it, scenefit's first-fit time minus its
warm fit time from the benchmark results.
"""

from __future__ import annotations

import argparse
import json
import pathlib


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results", type=pathlib.Path)
    ap.add_argument("--out", type=pathlib.Path, default=pathlib.Path("scaling.png"))
    ap.add_argument("--compile", type=pathlib.Path, help="compile_scaling.py JSON lines")
    args = ap.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    recs = [json.loads(line) for line in args.results.read_text().splitlines() if line.strip()]
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
    series = {}
    for r in recs:
        size, n_gal = (int(v) for v in r["case"].split("x"))
        work = size * size * n_gal
        key, t = r["code"], r.get("wall_s")
        if r["code"] == "scenefit-warm":
            key, t = "scenefit-warm (fit only)", r.get("fit_s")
            if args.compile is None and r.get("first_fit_s") and r.get("fit_s"):
                ax2.plot(n_gal, r["first_fit_s"] - r["fit_s"], "o", color="C0")
        if t and r.get("status") in ("ok", "timeout"):
            series.setdefault(key, []).append((work, t, r.get("status") == "timeout"))
    for i, (key, pts) in enumerate(sorted(series.items())):
        pts.sort()
        ax1.plot([p[0] for p in pts], [p[1] for p in pts], "o-", color=f"C{i}", label=key)
        for w, t, to in pts:
            if to:  # a timed-out run: its time is a lower bound
                ax1.annotate("", (w, t * 1.6), (w, t), arrowprops={"arrowstyle": "->"})
    ax1.set(xscale="log", yscale="log", xlabel="pixels x galaxies", ylabel="seconds")
    ax1.legend(fontsize=7)
    if args.compile is None:
        ax2.set_title("scenefit: first fit - warm fit", fontsize=9)
    else:
        rows = [json.loads(line) for line in args.compile.read_text().splitlines() if line.strip()]
        rows = [r for r in rows if "n_galaxies" in r]
        n = [r["n_galaxies"] for r in rows]
        for name in ("value", "normal", "defect"):  # "value": rows measured before 2026-12-07
            if all(name in r for r in rows):
                ax2.plot(n, [sum(r[name].values()) for r in rows], "o-", label=name)
        ax2.plot(n, [r["total"] for r in rows], "ko-", label="total")
        ax2.legend(fontsize=7)
        ax2.set_title("scenefit: compile time of a fit's programs", fontsize=9)
        ax2.set_ylim(0.5, 50)
    ax2.set(xscale="log", yscale="log", xlabel="galaxies", ylabel="trace + lower + XLA s")
    fig.tight_layout()
    fig.savefig(args.out, dpi=120)
    print(args.out)


if __name__ == "__main__":
    main()
