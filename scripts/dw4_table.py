#!/usr/bin/env python3
"""Summarise dw4_remedies.sh runs: one markdown row per NAME-sSEED (W2 mean over eval seeds, E-W2 median)."""
import glob, json, os, statistics, sys
d = sys.argv[1] if len(sys.argv) > 1 else "."
print("| run (seed) | epochs | W2 vs exact | E-W2 vs exact | vs test split W2 / E-W2 | two short pairs (exact 0.518) | mean energy raw / weighted (exact −22.55) | ESS | gap to exact: shares / within |")
print("|---|---|---|---|---|---|---|---|---|")
for f in sorted(glob.glob(os.path.join(d, "*.eval.json"))):
    tag = os.path.basename(f)[:-len(".eval.json")]
    if "." in tag or not os.path.exists(os.path.join(d, tag + ".ckpt")):
        continue  # other draws of a run (NAME-sS.big.eval.json), or a run still going
    rows = [json.loads(l) for l in open(f) if l.strip().startswith("{")]
    dp = os.path.join(d, tag + ".diag.json")
    try:
        diag = json.load(open(dp))
    except (OSError, ValueError):  # NODIAG=1, or diagnose stopped: epochs from the log, no weighted figures
        import re
        ep = re.findall(r"epoch (\d+)/", open(os.path.join(d, tag + ".log"), errors="replace").read())
        diag = {"epoch": int(ep[-1]) if ep else "?", "model_weighted_energy": float("nan"), "model_ess_fraction": float("nan")}
    w2 = statistics.mean(r["exact_geometric_w2"] for r in rows)
    ew2 = statistics.median(r["exact_energy_w2"] for r in rows)
    sw2 = statistics.mean(r["geometric_w2"] for r in rows)
    sew2 = statistics.median(r["energy_w2"] for r in rows)
    sp2 = statistics.mean(r["short_pairs_2"] for r in rows)
    gs = [r["exact_energy_gap_shares"] for r in rows if "exact_energy_gap_shares" in r]
    gw = [r["exact_energy_gap_within"] for r in rows if "exact_energy_gap_within" in r]
    split = f"{statistics.mean(gs):.2f} / {statistics.mean(gw):.2f}" if gs and gw else "–"
    name, seed = tag.rsplit("-s", 1)
    print(f"| {name} ({seed}) | {diag['epoch']} | {w2:.2f} | {ew2:.2f} | {sw2:.2f} / {sew2:.2f} | {sp2:.2f} | {rows[0]['mean_energy']:.2f} / {diag['model_weighted_energy']:.2f} | {diag['model_ess_fraction']:.2f} | {split} |")
