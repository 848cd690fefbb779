#!/usr/bin/env bash
# GPU check of the CUDA backend (lib/tensor/cuda): device discovery, kernel, sgemm and EGNN
# parity (TestEGNNDeviceParity: the device EGNN's Forward and TrainSteps against lib/nn's CPU
# EGNN), sgemm timings, the EGNN training step on the GPU beside the PyTorch CUDA peer, and a
# short LJ-55 training on the GPU with 2000 samples drawn after it. Builds nothing.
#
# Prepare on any machine (no CUDA needed), from the repository root:
#   bash scripts/gpu-prepare.sh        # bin/adjoint, bin/cuda.test, bin/dsl.test
# and carry bin/ (with the working tree: the test binaries run in lib/tensor/cuda and dsl) to
# the GPU machine. Run there, from the repository root:
#   scripts/gpu-check.sh OUTDIR [LJ55_REF.npy]
# Every step has its own timeout (the whole script stays under 8 minutes). OUTDIR receives
# one file per step (NAME.out, NAME.err), steps.jsonl (one JSON line per step: name, exit
# status, seconds) and summary.json. Environment passed through: ADJOINT_CUDA_LIB_DIR,
# ADJOINT_LIBCUDA/LIBNVRTC/LIBCUBLAS (library locations), ADJOINT_TF32.
set -u
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${1:?usage: scripts/gpu-check.sh OUTDIR [LJ55_REFERENCE.npy]}
LJ55_REF=${2:-${LJ55_REF:-}}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
: >"$OUT/steps.jsonl"
T0=$(date +%s)
# Seconds the whole script may take (the trainings get what the earlier steps leave), and the
# phases to run: info (nvidia-smi, libraries, device), parity, bench (sgemm, EGNN beside
# PyTorch), dsl, train.
BUDGET=${GPU_CHECK_BUDGET:-470}
PHASES=" ${GPU_CHECK_PHASES:-info parity bench dsl train} "
want() { case "$PHASES" in *" $1 "*) return 0 ;; esac; return 1; }

# step NAME SECONDS DIR CMD...: runs CMD in DIR under a timeout, records status and time.
step() {
  local name=$1 limit=$2 dir=$3
  shift 3
  local s e rc
  s=$(date +%s.%N)
  (cd "$dir" && timeout --kill-after=10 "$limit" "$@") >"$OUT/$name.out" 2>"$OUT/$name.err"
  rc=$?
  e=$(date +%s.%N)
  printf '{"step":"%s","rc":%d,"seconds":%.1f,"timed_out":%s}\n' "$name" "$rc" \
    "$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.1f", e - s }')" "$([ "$rc" = 124 ] || [ "$rc" = 137 ] && echo true || echo false)" >>"$OUT/steps.jsonl"
  echo "== $name: rc=$rc" >&2
  return $rc
}

for f in bin/adjoint bin/cuda.test; do
  [ -x "$f" ] || { echo "missing $f: build it first (see the top of this script)" >&2; exit 2; }
done

# 1. What the machine has.
if want info; then
step nvidia-smi 20 "$ROOT" nvidia-smi --query-gpu=name,driver_version,memory.total,compute_cap --format=csv
step libs 20 "$ROOT" bash -c 'ldconfig -p | grep -E "libcuda\.so|libnvrtc|libcublas" ; ls -d /usr/local/cuda*/lib64 2>/dev/null; python3 -c "import nvidia, os; print(os.path.dirname(nvidia.__path__[0]))" 2>/dev/null'

# 2. Device discovery: one JSON line (device, libs, reason).
step device 45 "$ROOT" bin/adjoint device
cp "$OUT/device.out" "$OUT/device.json" 2>/dev/null
fi

# 3. Parity of every kernel and of sgemm against CPU references; each launch synchronised so
#    that a failing kernel is named.
# The emulator tests (g++) already run in CI; only the tests that need the GPU run here.
if want parity; then
ADJOINT_CUDA_SYNC=1 step parity 150 "$ROOT/lib/tensor/cuda" "$ROOT/bin/cuda.test" -test.v -test.count=1 -test.timeout=140s \
  -test.run 'TestDeviceInfoAndCopies|TestElementwise|TestActivations|TestBiasActConcatRepeat|TestReductionsLossAdam|TestPairOps|TestEdgeOps|TestSgemmParity|TestLinear|TestEGNNDeviceParity|TestModuleDevice|TestModuleCompileError|TestNilDevice'
grep -E -- '--- (FAIL|SKIP)|no CUDA|device ' "$OUT/parity.out" | head -40 >"$OUT/parity-summary.txt"
fi

# 4. Sgemm throughput at the EGNN's largest shape (LJ-55, batch 256), FP32 and TF32.
if want bench; then
step sgemm-fp32 60 "$ROOT/lib/tensor/cuda" "$ROOT/bin/cuda.test" -test.run '^$' -test.bench SgemmEGNN -test.benchtime 20x
ADJOINT_TF32=1 step sgemm-tf32 60 "$ROOT/lib/tensor/cuda" "$ROOT/bin/cuda.test" -test.run '^$' -test.bench SgemmEGNN -test.benchtime 20x

# 5. EGNN training step (forward, loss, backward, Adam), the whole network on the GPU, beside
#    the PyTorch CUDA peer at the same sizes (5 layers × 128, attention; median of 5 steps).
step egnn-lj13-adjoint 90 "$ROOT" bin/adjoint bench egnn --system lj13 --batch 512 --steps 5 --warmup 2 --device cuda
step egnn-lj55-adjoint 120 "$ROOT" bin/adjoint bench egnn --system lj55 --batch 200 --steps 5 --warmup 2 --device cuda
# Forward alone (what sampling calls at every step) and the training step, from Go.
step egnn-device-bench 90 "$ROOT/lib/tensor/cuda" "$ROOT/bin/cuda.test" -test.run '^$' -test.bench EGNNDevice -test.benchtime 5x
if python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then
  step egnn-lj13-torch 60 "$ROOT" python3 scripts/torch_egnn_cuda.py --system lj13 --batch 512 --steps 5 --warmup 2 --layout dense
  step egnn-lj55-torch 90 "$ROOT" python3 scripts/torch_egnn_cuda.py --system lj55 --batch 200 --steps 5 --warmup 2 --layout dense
else
  echo '{"step":"egnn-torch","skipped":"python3 has no torch with CUDA"}' >>"$OUT/steps.jsonl"
fi
fi

# ---- DSL energies on the GPU (dsl/cuda*.go) ----------------------------------------------
# Needs bin/dsl.test, built beside the others:  CGO_ENABLED=0 go test -c -o bin/dsl.test ./dsl
# Parity of the CUDA kernels generated from DSL energies (every test energy: energies and
# gradients within 1e-10 of the CPU; the test binary runs in dsl/), then LJ-13 and DW-4 timed
# on the GPU (batch 1024, copies included) and `adjoint bench dsl -device cuda` (GPU beside
# CPU). Results: dsl-cuda-*.out and dsl-cuda.json (verdict, ns per configuration).
if want dsl; then
if [ -x bin/dsl.test ]; then
  ADJOINT_CUDA_SYNC=1 step dsl-cuda-parity 90 "$ROOT/dsl" "$ROOT/bin/dsl.test" -test.v -test.count=1 \
    -test.run 'TestCUDADeviceParity|TestCUDAOnDevice' -test.timeout=80s
  step dsl-cuda-bench 45 "$ROOT/dsl" "$ROOT/bin/dsl.test" -test.run '^$' -test.bench 'CUDADevice' -test.benchtime 200x
  step dsl-cuda-adjoint 45 "$ROOT" bin/adjoint bench dsl -device cuda -batch 1024 -rounds 5
  {
    v=fail
    if grep -q -- '--- FAIL' "$OUT/dsl-cuda-parity.out"; then v=fail
    elif grep -q 'no CUDA device' "$OUT/dsl-cuda-parity.out"; then v="not run: no CUDA device"
    elif grep -qE '^(ok|PASS)' "$OUT/dsl-cuda-parity.out"; then v=pass
    fi
    printf '{"step":"dsl-cuda","parity":"%s"' "$v"
    printf ',"lj13_ns_per_config":%s' "$(grep -E '^BenchmarkCUDADeviceLJ13' "$OUT/dsl-cuda-bench.out" | grep -o '[0-9.]* ns/config' | grep -o '^[0-9.]*' | grep . || echo null)"
    printf ',"dw4_ns_per_config":%s}\n' "$(grep -E '^BenchmarkCUDADeviceDW4' "$OUT/dsl-cuda-bench.out" | grep -o '[0-9.]* ns/config' | grep -o '^[0-9.]*' | grep . || echo null)"
  } >"$OUT/dsl-cuda.json"
  cat "$OUT/dsl-cuda.json" >>"$OUT/steps.jsonl"
else
  echo '{"step":"dsl-cuda","skipped":"bin/dsl.test not built (go test -c -o bin/dsl.test ./dsl)"}' >>"$OUT/steps.jsonl"
fi
fi
# ---- end of DSL energies on the GPU -----------------------------------------------------

# 6. Short trainings with the EGNN on the GPU, one per system in $GPU_CHECK_TRAIN (default
#    lj55; "lj13 lj55" trains both at once on the one GPU), each for what is left of the
#    budget, then 2000 samples drawn with the trained network on the GPU, scored by
#    `adjoint eval` against a reference (LJ-13: the built-in test split; LJ-55: the second
#    argument). LJ-55 samples with 400 Euler–Maruyama steps so that sampling fits; extra
#    trainer flags come from $GPU_CHECK_TRAIN_ARGS.
train_one() {
  local sys=$1 minutes=$2 limit=$3 ref=""
  local extra=()
  [ "$sys" = lj55 ] && extra=(--steps 400)
  [ "$sys" = lj13 ] && ref=$ROOT/lib/refdata/test_split_LJ13-1000.npy
  [ "$sys" = lj55 ] && ref=$LJ55_REF
  # A checkpoint from an earlier call ($GPU_CHECK_RESUME/SYSTEM.ckpt) is trained further; its
  # configuration wins over the flags.
  if [ -n "${GPU_CHECK_RESUME:-}" ] && [ -s "$GPU_CHECK_RESUME/$sys.ckpt" ]; then
    cp "$GPU_CHECK_RESUME/$sys.ckpt" "$OUT/$sys.ckpt" && extra+=(--resume)
  elif [ "$sys" = lj13 ]; then
    # lj13's defaults are a CPU recipe (EGNN 3×32, batch 128); the GPU trains the paper's
    # configuration with the parameter average, as lj55's defaults do
    extra+=(--paper --ema 0.999)
  fi
  # shellcheck disable=SC2086
  step "train-$sys" "$limit" "$ROOT" bin/adjoint train "$sys" --device cuda --minutes "$minutes" "${extra[@]}" \
    ${GPU_CHECK_TRAIN_ARGS:-} --checkpoint-every 5 -o "$OUT/$sys.ckpt" --sample 2000 --samples-out "$OUT/$sys-samples.npy"
  {
    printf '{"step":"train-%s","minutes":%s' "$sys" "$minutes"
    printf ',"device":"%s"' "$(grep -m1 '^device: ' "$OUT/train-$sys.err" | sed 's/^device: //; s/"/'"'"'/g')"
    printf ',"epochs":%s' "$(grep -o 'checkpoint: .* (epoch [0-9]*)' "$OUT/train-$sys.err" | grep -o '[0-9]*)$' | tr -d ')' | tail -1 | grep . || echo null)"
    printf ',"ess":"%s"' "$(grep -m1 '^ESS ' "$OUT/train-$sys.out")"
    printf ',"samples":%s}\n' "$([ -s "$OUT/$sys-samples.npy" ] && echo true || echo false)"
  } >"$OUT/train-$sys.json"
  if [ -n "$ref" ] && [ -s "$ref" ] && [ -s "$OUT/$sys-samples.npy" ]; then
    step "eval-$sys" 60 "$ROOT" bin/adjoint eval "$sys" "$OUT/$sys-samples.npy" --ref "$ref" -n 2000 --seed 1
    cp "$OUT/eval-$sys.out" "$OUT/eval-$sys.json" 2>/dev/null
  else
    echo "{\"step\":\"eval-$sys\",\"skipped\":\"no reference or no samples\"}" >>"$OUT/steps.jsonl"
  fi
  # GPU_CHECK_PAIRED=1: the paired draw of docs/validation.md ("an average of the parameters"),
  # 2000 samples with the run's last parameters, on the GPU, scored the same way (keep about a
  # minute of the budget for it through GPU_CHECK_TAIL).
  if [ "${GPU_CHECK_PAIRED:-0}" = 1 ] && [ -n "$ref" ] && [ -s "$ref" ] && [ -s "$OUT/$sys.ckpt" ]; then
    local sx=()
    [ "$sys" = lj55 ] && sx=(--steps 400)
    step "last-$sys" 120 "$ROOT" bin/adjoint sample "$OUT/$sys.ckpt" --device cuda --last-params -n 2000 "${sx[@]}" \
      -o "$OUT/$sys-last.npy" --weights "$OUT/$sys-last.w.npy"
    [ -s "$OUT/$sys-last.npy" ] && step "eval-$sys-last" 60 "$ROOT" bin/adjoint eval "$sys" "$OUT/$sys-last.npy" --ref "$ref" -n 2000 --seed 1
  fi
}
left=$((BUDGET - ($(date +%s) - T0)))
if ! want train || [ "${GPU_CHECK_TRAIN:-lj55}" = none ]; then
  echo '{"step":"train","skipped":"not asked for"}' >>"$OUT/steps.jsonl"
elif [ "$left" -gt 120 ]; then
  # Training gets what is left less $GPU_CHECK_TAIL seconds (default 100) for start-up,
  # sampling and evaluation.
  minutes=$(awk -v l="$left" -v t="${GPU_CHECK_TAIL:-100}" 'BEGIN { printf "%.1f", (l - t) / 60 }')
  for sys in ${GPU_CHECK_TRAIN:-lj55}; do
    train_one "$sys" "$minutes" $((left - 15)) &
  done
  wait
else
  echo '{"step":"train","skipped":"too little of the budget left"}' >>"$OUT/steps.jsonl"
fi

# Summary: the device line, every step, the parity verdict.
{
  printf '{"device":'
  if [ -s "$OUT/device.json" ]; then head -c 4000 "$OUT/device.json" | tr -d '\n'; else printf 'null'; fi
  verdict=fail
  if [ ! -e "$OUT/parity.out" ]; then verdict="not run"
  elif grep -q -- '--- FAIL' "$OUT/parity.out"; then verdict=fail
  elif grep -q 'no CUDA device' "$OUT/parity.out"; then verdict="not run: no CUDA device"
  elif grep -qE '^(ok|PASS)' "$OUT/parity.out"; then verdict=pass
  fi
  printf ',"parity":"%s"' "$verdict"
  printf ',"skipped_tests":%d' "$(grep -c -- '--- SKIP' "$OUT/parity.out" 2>/dev/null)"
  printf ',"sgemm_fp32":"%s"' "$(grep -o '[0-9.]* GFLOP/s' "$OUT/sgemm-fp32.out" | head -1)"
  printf ',"sgemm_tf32":"%s"' "$(grep -o '[0-9.]* GFLOP/s' "$OUT/sgemm-tf32.out" | head -1)"
  printf ',"hostgemm":"%s"' "$(grep -o '[0-9.]* GFLOP/s' "$OUT/hostgemm.out" | head -1)"
  printf ',"egnn_parity":"%s"' "$(grep -E -- '--- (PASS|FAIL|SKIP): TestEGNNDeviceParity ' "$OUT/parity.out" | awk '{print $2}' | tr -d ':' | head -1)"
  for k in lj13-adjoint lj55-adjoint lj13-torch lj55-torch; do
    printf ',"egnn_%s_ms":%s' "${k/-/_}" "$(grep -o '"ms_per_step": *[0-9.]*' "$OUT/egnn-$k.out" 2>/dev/null | head -1 | grep -o '[0-9.]*$' | grep . || echo null)"
  done
  printf ',"egnn_impl":"%s"' "$(grep -o '"impl": *"[^"]*"' "$OUT/egnn-lj55-adjoint.out" 2>/dev/null | head -1 | sed 's/.*"\([^"]*\)"$/\1/')"
  for sys in lj13 lj55; do
    printf ',"train_%s":' "$sys"
    if [ -s "$OUT/train-$sys.json" ]; then tr -d '\n' <"$OUT/train-$sys.json"; else printf 'null'; fi
    printf ',"eval_%s":' "$sys"
    if [ -s "$OUT/eval-$sys.json" ]; then tr -d '\n' <"$OUT/eval-$sys.json"; else printf 'null'; fi
  done
  printf ',"seconds":%d,"steps":[' "$(($(date +%s) - T0))"
  paste -sd, "$OUT/steps.jsonl" | tr -d '\n'
  printf ']}\n'
} >"$OUT/summary.json"
cat "$OUT/summary.json"
