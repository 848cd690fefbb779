#!/usr/bin/env bash
# Builds what scripts/gpu-check.sh needs into bin/ (statically linked, no CUDA needed here):
# the adjoint binary and the cuda and dsl test binaries. The reference data travel with the
# working tree (lib/refdata). Then carry bin/ to the GPU machine and run
#   scripts/gpu-check.sh OUTDIR
set -eu
cd "$(dirname "$0")/.."
export CGO_ENABLED=0 GOOS=linux GOARCH=amd64
go build -trimpath -ldflags='-s -w' -o bin/adjoint ./cmd/adjoint
go test -c -trimpath -ldflags='-s -w' -o bin/cuda.test ./lib/tensor/cuda
go test -c -trimpath -ldflags='-s -w' -o bin/dsl.test ./dsl
du -sh bin
