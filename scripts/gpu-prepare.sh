#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs into bin/ (statically linked, no CUDA needed here):
# the adjoint binary, the cuda and dsl test binaries, and a copy of the reference data
# (bin/data; the check points ADJOINT_DATA at it). Then carry bin/ to the GPU machine and run
#   scripts/gpu-check.sh OUTDIR
set -eu
cd "$(dirname "$0")/.."
export CGO_ENABLED=0 GOOS=linux GOARCH=amd64
go build -trimpath -ldflags='-s -w' -o bin/adjoint ./cmd/adjoint
go test -c -trimpath -ldflags='-s -w' -o bin/cuda.test ./lib/tensor/cuda
go test -c -trimpath -ldflags='-s -w' -o bin/dsl.test ./dsl
mkdir -p bin/data
if ls ../shared/data/*.npy >/dev/null 2>&1; then
  cp ../shared/data/*.npy bin/data/
else
  echo "gpu-prepare: ../shared/data not found: parity tests that read reference data will fail" >&2
fi
du -sh bin
