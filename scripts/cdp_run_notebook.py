#!/usr/bin/python3
"""Drive a notebook page in headless Chromium over the DevTools protocol.

Used by scripts/browser-check.sh: opens URL in the browser listening on --cdp-port, waits for
the classic Jupyter Notebook front end and its kernel, clears the outputs, runs all cells
(Jupyter.notebook.execute_all_cells, what "Cell > Run All" does), waits until no cell is
running, saves the notebook, checks that no cell shows an error and that figures (PNG or SVG
outputs, whichever the front end prefers) are rendered, scrolls the first figure into view and writes a screenshot.
Needs python3-websocket (Debian).
"""
import argparse
import base64
import json
import sys
import time
import urllib.request

import websocket


class Page:
    def __init__(self, ws_url):
        self.ws = websocket.create_connection(ws_url, timeout=60, suppress_origin=True)
        self.next_id = 0

    def call(self, method, **params):
        self.next_id += 1
        mid = self.next_id
        self.ws.send(json.dumps({"id": mid, "method": method, "params": params}))
        while True:
            msg = json.loads(self.ws.recv())
            if msg.get("id") == mid:
                if "error" in msg:
                    raise RuntimeError(f"{method}: {msg['error']}")
                return msg.get("result", {})

    def eval(self, expr):
        res = self.call("Runtime.evaluate", expression=expr, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in res:
            return None
        return res.get("result", {}).get("value")

    def wait(self, expr, timeout, what):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.eval(expr):
                return
            time.sleep(0.5)
        raise TimeoutError(f"timed out after {timeout}s waiting for {what}")


def page_target(port, url, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as r:
                targets = json.load(r)
            for t in targets:
                if t.get("type") == "page":
                    return t["webSocketDebuggerUrl"]
        except OSError:
            pass
        time.sleep(0.5)
    raise TimeoutError("no page target in the browser")


RUNNING = """(() => {
  const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code');
  return cells.some(c => c.element.hasClass('running')) ? 'running' : 'idle';
})()"""

SUMMARY = """(() => {
  const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code');
  return JSON.stringify({
    code_cells: cells.length,
    executed: cells.filter(c => typeof c.input_prompt_number === 'number').length,
    errors: document.querySelectorAll('.output_error').length,
    figures: document.querySelectorAll('.output_png img, .output_svg').length,
    kernel: Jupyter.notebook.kernel ? Jupyter.notebook.kernel.name : null,
  });
})()"""


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cdp-port", type=int, required=True)
    ap.add_argument("--url", required=True)
    ap.add_argument("--screenshot", required=True)
    ap.add_argument("--width", type=int, default=1280)
    ap.add_argument("--height", type=int, default=2000)
    ap.add_argument("--timeout", type=int, default=600)
    args = ap.parse_args()

    page = Page(page_target(args.cdp_port, args.url))
    page.call("Page.enable")
    page.call("Runtime.enable")
    page.call("Emulation.setDeviceMetricsOverride", width=args.width, height=args.height,
              deviceScaleFactor=1, mobile=False)
    page.call("Page.navigate", url=args.url)
    page.wait("typeof Jupyter !== 'undefined' && Jupyter.notebook && Jupyter.notebook._fully_loaded",
              120, "the notebook to load")
    page.wait("Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected() && "
              "Jupyter.notebook.kernel._msg_callbacks !== undefined", 120, "the kernel to connect")
    page.wait("Jupyter.notebook.kernel.info_reply && Jupyter.notebook.kernel.info_reply.status === 'ok'",
              120, "kernel_info_reply")
    print("kernel:", page.eval("JSON.stringify(Jupyter.notebook.kernel.info_reply.language_info)"), flush=True)
    page.eval("Jupyter.notebook.clear_all_output()")
    page.eval("Jupyter.notebook.execute_all_cells()")
    time.sleep(1)
    start = time.time()
    page.wait(RUNNING + " === 'idle'", args.timeout, "all cells to finish")
    print(f"ran all cells in {time.time() - start:.1f}s", flush=True)
    time.sleep(1)  # let the last outputs render
    page.eval("Jupyter.notebook.save_notebook()")
    summary = json.loads(page.eval(SUMMARY))
    print("summary:", summary, flush=True)
    # Bring the contour figure (the first PNG or SVG output) into view: the notebook scrolls inside #site.
    page.eval("""(() => {
      const img = document.querySelector('.output_png img, .output_svg');
      if (img) { img.scrollIntoView({block: 'center'}); }
    })()""")
    time.sleep(1)
    fmt = "jpeg" if args.screenshot.lower().endswith((".jpg", ".jpeg")) else "png"
    extra = {"quality": 85} if fmt == "jpeg" else {}
    shot = page.call("Page.captureScreenshot", format=fmt, **extra)
    with open(args.screenshot, "wb") as f:
        f.write(base64.b64decode(shot["data"]))
    print("screenshot:", args.screenshot, flush=True)
    ok = (summary["errors"] == 0 and summary["figures"] > 0
          and summary["executed"] == summary["code_cells"] and summary["kernel"] == "adjoint")
    if not ok:
        print("FAIL: expected every code cell executed, no errors and at least one figure", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
