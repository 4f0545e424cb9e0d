"""Turn the JSON lines of measure_integration_accuracy.py into the markdown table of
docs/accuracy.md: ``python scripts/measure_integration_accuracy.py --coarse |
python scripts/accuracy_table.py``."""

import json
import sys

rows = [json.loads(line) for line in sys.stdin if line.strip()]
by = {(r["n"], r["r_e_px"], tuple(r["offset_px"]), r["settings"]): r for r in rows}
keys = list(dict.fromkeys((r["n"], r["r_e_px"], tuple(r["offset_px"])) for r in rows))
print(
    "| n | r_e (px) | q | centre offset (px) | default: max pixel err / peak "
    "| default: total err / flux | gl2: max / peak | gl2: total / flux |"
)
print("|---|---|---|---|---|---|---|---|")
for k in keys:
    a, g = by[k + ("default",)], by[k + ("gl2",)]
    print(
        f"| {k[0]} | {k[1]} | {a['q']} | {k[2][0]}, {k[2][1]} "
        f"| {a['max_pixel_err_over_peak']:.1e} | {a['total_abs_err_over_flux']:.1e} "
        f"| {g['max_pixel_err_over_peak']:.1e} | {g['total_abs_err_over_flux']:.1e} |"
    )
