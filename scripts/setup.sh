#!/usr/bin/env bash
# Installs what the project needs on a fresh Debian machine and builds bin/adjoint.
# Safe to run again: it installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

pkgs=(python3-jupyter-client python3-nbclient python3-nbformat python3-ipykernel
      python3-jupyter-kernel-test python3-numpy g++)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

go mod download
mkdir -p bin
CGO_ENABLED=0 go build -o bin/adjoint ./cmd/adjoint
echo "setup: built bin/adjoint"
