"""Turn JSON lines of measure_integration_accuracy.py (or compare_galsim.py) into the
markdown tables of docs/accuracy.md:
``python scripts/measure_integration_accuracy.py | python scripts/accuracy_table.py``."""

import json
import sys

LAW = ("n", "r_e", "h", "sigma", "fwhm", "beta")
rows = [json.loads(line) for line in sys.stdin if line.strip().startswith("{")]
names = list(dict.fromkeys(r["settings"] for r in rows))


def case_of(r):
    law = ", ".join(f"{k}={r[k]}" for k in LAW if k in r)
    return (r["kind"], law, r["q"], r["pa"])


galsim = "flux_rel" in rows[0]
by = {case_of(r) + (r["settings"],): r for r in rows}
head = "| profile | law (px) | q | PA |"
for s in names:
    head += (
        f" {s}: max rel err (bright) | {s}: flux err | {s}: time (s) |"
        if galsim
        else f" {s}: max rel err (bright) | {s}: total err / flux | {s}: time (s) |"
    )
print(head)
print("|---" * (4 + 3 * len(names)) + "|")
for case in dict.fromkeys(case_of(r) for r in rows):
    line = f"| {case[0]} | {case[1]} | {case[2]} | {case[3]} |"
    for s in names:
        r = by.get(case + (s,))
        if r is None:
            line += " | | |"
        elif galsim:
            line += f" {r['max_rel']:.1e} | {r['flux_rel']:.1e} | {r['scenefit_s']} |"
        else:
            line += (
                f" {r['max_rel_bright']:.1e} | {r['total_abs_err_over_flux']:.1e} "
                f"| {r['render_s']} |"
            )
    print(line)
