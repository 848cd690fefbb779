#!/usr/bin/env bash
# browser-check.sh — run a notebook in a real browser against the adjoint kernel and screenshot it.
#
# What it does:
#   1. builds bin/adjoint (unless ADJOINT_BIN points to a binary) and installs the kernelspec
#      into a temporary prefix (adjoint install --prefix), found through JUPYTER_PATH;
#   2. copies the notebook (default notebooks/quickstart.ipynb) into a temporary directory,
#      with its outputs cleared;
#   3. serves it with Debian's classic Jupyter Notebook on 127.0.0.1 and a free port, with a
#      token-less, password-less config in a temporary JUPYTER_CONFIG_DIR;
#   4. starts headless Chromium with a fresh profile and a DevTools port, and drives the page
#      with scripts/cdp_run_notebook.py: waits for the kernel, runs all cells (what
#      "Cell > Run All" does), waits until no cell is running, saves the notebook, checks that
#      every code cell ran, that none shows an error and that figures were rendered, scrolls
#      the first figure into view and saves a screenshot (1280×2000 by default);
#   5. stops the server and the browser.
#
# Usage: scripts/browser-check.sh [NOTEBOOK] [SCREENSHOT.png|SCREENSHOT.jpg]
#   env: ADJOINT_NB_SIZE (default small), ADJOINT_BIN, WINDOW (default 1280,2000), KEEP=1 keeps
#   the temporary directory (executed notebook, server and browser logs).
# Needs: apt-get install -y jupyter-notebook chromium python3-websocket (not part of CI).
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
nb=${1:-$root/notebooks/quickstart.ipynb}
shot=${2:-$root/docs/quickstart-browser.png}
window=${WINDOW:-1280,2000}
export ADJOINT_NB_SIZE=${ADJOINT_NB_SIZE:-small}

for tool in chromium jupyter-notebook /usr/bin/python3; do
	command -v "$tool" >/dev/null || { echo "browser-check: $tool not found (apt-get install -y jupyter-notebook chromium python3-websocket)" >&2; exit 2; }
done
/usr/bin/python3 -c 'import websocket' 2>/dev/null || { echo "browser-check: python3-websocket missing" >&2; exit 2; }

tmp=$(mktemp -d /tmp/adjoint-browser.XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [[ "${KEEP:-}" == 1 ]]; then echo "browser-check: kept $tmp"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

bin=${ADJOINT_BIN:-}
if [[ -z "$bin" ]]; then
	bin=$tmp/adjoint
	(cd "$root" && go build -o "$bin" ./cmd/adjoint)
fi
"$bin" install --prefix "$tmp/prefix" >/dev/null
export JUPYTER_PATH=$tmp/prefix/share/jupyter
export JUPYTER_CONFIG_DIR=$tmp/config JUPYTER_DATA_DIR=$tmp/data JUPYTER_RUNTIME_DIR=$tmp/runtime
export IPYTHONDIR=$tmp/ipython
mkdir -p "$JUPYTER_CONFIG_DIR" "$tmp/work"
cat >"$JUPYTER_CONFIG_DIR/jupyter_notebook_config.py" <<'EOF'
c.NotebookApp.token = ''
c.NotebookApp.password = ''
c.NotebookApp.open_browser = False
c.NotebookApp.ip = '127.0.0.1'
c.NotebookApp.disable_check_xsrf = True
EOF

# The copy starts without outputs, so that what the screenshot shows was produced in the browser.
name=$(basename "$nb")
/usr/bin/python3 - "$nb" "$tmp/work/$name" <<'EOF'
import sys, nbformat
nb = nbformat.read(sys.argv[1], as_version=4)
for c in nb.cells:
    if c.cell_type == "code":
        c.outputs, c.execution_count = [], None
nbformat.write(nb, sys.argv[2])
EOF
freeport() { /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
port=$(freeport)
cdp=$(freeport)

rootflag=()
[[ $(id -u) == 0 ]] && rootflag=(--allow-root)
jupyter-notebook --no-browser --port="$port" --port-retries=0 --notebook-dir="$tmp/work" "${rootflag[@]}" >"$tmp/server.log" 2>&1 &
pids+=($!)
up=
for _ in $(seq 1 120); do
	if curl -fsS "http://127.0.0.1:$port/api" >/dev/null 2>&1; then up=1; break; fi
	sleep 0.5
done
[[ -n "$up" ]] || { echo "browser-check: the notebook server did not start:" >&2; tail -5 "$tmp/server.log" >&2; exit 1; }
curl -fsS "http://127.0.0.1:$port/api/kernelspecs" | /usr/bin/python3 -c 'import json,sys; ks=json.load(sys.stdin)["kernelspecs"]; assert "adjoint" in ks, ks; print("kernelspecs:", sorted(ks))'

chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-quic \
	--no-first-run --disable-component-update --disable-sync --disable-dev-shm-usage \
	--user-data-dir="$tmp/profile" --window-size="$window" \
	--remote-debugging-address=127.0.0.1 --remote-debugging-port="$cdp" about:blank >"$tmp/chromium.log" 2>&1 &
pids+=($!)

mkdir -p "$(dirname "$shot")"
/usr/bin/python3 "$root/scripts/cdp_run_notebook.py" --cdp-port "$cdp" \
	--url "http://127.0.0.1:$port/notebooks/$name" --screenshot "$shot" \
	--width "${window%,*}" --height "${window#*,}"
echo "browser-check: ok, screenshot $shot ($(du -k "$shot" | cut -f1) KB)"
