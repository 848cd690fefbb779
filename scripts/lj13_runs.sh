#!/bin/bash
# LJ-13 runs as a user runs them: each MIN minutes on all cores, one at a time, 2000 samples on
# the default's grid (sampling seed 7), eval seeds 1-3 against the test split. A run whose
# checkpoint keeps a parameter average is also sampled with --last-params (the paired comparison
# of docs/validation.md, "LJ-13: an average of the parameters").
# usage: ADJOINT=bin/adjoint OUT=dir [NAMES="default noema"] [SEEDS="1 2"] [N=2000] scripts/lj13_runs.sh MIN
# configs: default (adjoint train lj13), noema (--ema 0), lrf (--lr-final 5e-5), s100 (--steps 100:
# training on a coarser grid, sampling on the default 800), buf2560 (--buffer 2560: the oldest
# buffered sample 20 epochs old, as in the paper's batch-512 setting, instead of 78), paper (--paper)
# writes NAME-sSEED.{ckpt,log,npy,w.npy,sample.txt,eval.json} (and .last.* for the paired draw),
# then one table line per draw on stdout
B=$(realpath "${ADJOINT:-bin/adjoint}") || exit 1
mkdir -p "${OUT:-.}" && cd "${OUT:-.}" || exit 1
MIN=${1:?usage: scripts/lj13_runs.sh MINUTES}
N=${N:-2000}
declare -A CFG
CFG[default]=""
CFG[noema]="--ema 0"
CFG[lrf]="--lr-final 5e-5"
CFG[s100]="--steps 100"
CFG[buf2560]="--buffer 2560"
CFG[paper]="--paper"
draw() { # tag ckpt extra-flags
  local tag=$1 ck=$2; shift 2
  "$B" sample "$ck" -n "$N" --seed 7 "$@" -o "$tag.npy" --weights "$tag.w.npy" > "$tag.sample.txt" 2>&1 || return 1
  for es in 1 2 3; do "$B" eval lj13 "$tag.npy" --seed $es 2>/dev/null; done > "$tag.eval.json"
}
for n in ${NAMES:-default noema}; do
  [ -n "${CFG[$n]+x}" ] || { echo "lj13_runs: unknown config $n (${!CFG[*]})" >&2; exit 2; }
  for s in ${SEEDS:-1 2}; do
    tag=$n-s$s
    "$B" train lj13 --minutes "$MIN" ${CFG[$n]} --seed "$s" -o "$tag.ckpt" 2>&1 | tr '\r' '\n' > "$tag.log" || exit 1
    draw "$tag" "$tag.ckpt" || { echo "lj13_runs: sampling $tag failed (see $tag.sample.txt)" >&2; exit 1; }
    if grep -q "samples use the average" "$tag.log"; then
      draw "$tag.last" "$tag.ckpt" --last-params || exit 1
    fi
  done
done
/usr/bin/python3 - <<'PY'
import glob, json, re, statistics
print("| draw | epochs | W2 | E-W2 (eval seeds 1-3) | mean energy | ESS / N |")
print("|---|---|---|---|---|---|")
for f in sorted(glob.glob("*.eval.json")):
    tag = f[:-len(".eval.json")]
    rows = [json.loads(l) for l in open(f) if l.startswith("{")]
    if not rows:
        continue
    log = open(tag.replace(".last", "") + ".log").read()
    ep = re.findall(r"epochs \(this call / total\)\s+\d+ / (\d+)", log)
    ess = re.findall(r"ESS [\d.]+ of \d+ \(([\d.]+)", open(tag + ".sample.txt").read())
    w2 = statistics.mean(r["geometric_w2"] for r in rows)
    ew = " / ".join("%.2f" % r["energy_w2"] for r in rows)
    print("| %s | %s | %.2f | %s | %.2f | %s |" % (tag, ep[-1] if ep else "?", w2, ew,
          rows[0]["mean_energy"], ess[0] if ess else "?"))
PY
