#!/usr/bin/env bash
# The project's test command: formatting, vet, the whole test suite (unit and integration
# tests, the latter driving the kernel through Debian's jupyter_client), and bounded fuzzing.
set -euo pipefail
cd "$(dirname "$0")/.."

unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...
go test -timeout 25m ./... 2>&1 | tee /tmp/adjoint-test.log
# The pure-Go build of the tensor kernels (no assembly) has its own scalar paths.
go test -tags purego ./lib/tensor
# Fuzzing of the DSL's parser and checker, bounded by a count of inputs (a wall-clock bound
# flakes on a loaded machine; the corpus is committed under testdata/fuzz).
if [ -d dsl ] && grep -q "func Fuzz" dsl/*_test.go 2>/dev/null; then
  for f in $(grep -ho "func Fuzz[A-Za-z0-9_]*" dsl/*_test.go | sed 's/func //'); do
    go test -run '^$' -fuzz "^${f}\$" -fuzztime "${FUZZTIME:-5000x}" ./dsl
  done
fi
