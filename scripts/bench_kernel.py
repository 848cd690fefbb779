"""Kernel latency benchmark: the adjoint kernel against Debian's ipykernel, in one run.

Usage: /usr/bin/python3 scripts/bench_kernel.py [--starts N] [--cells N] [--soak N]
(normally through `adjoint bench kernel`, which installs the adjoint kernelspec into a
temporary JUPYTER_PATH first and passes --adjoint-kernel).

For each kernel it measures the start-up time (kernel process launch to the first
kernel_info_reply; median of several starts), the time to the first execute_reply, and the
round trip of execute_request "1+1" (request sent to execute_reply received; p50 and p99). It
prints one JSON line per kernel, then one line with the ratios adjoint/ipykernel.

With --soak N it runs the soak instead: N cells that assign the same two variables (a new
1000-element slice or list, and a string shown as the cell's result), in one kernel of each
kind, one after the other. It reports the resident memory of the kernel's processes (VmRSS
from /proc, the kernel and its children) after a warm-up and at the end, and the round-trip
p50/p99 over the first and the last tenth of the cells (and over every tenth); then one line
with the growth ratio and the targets: growth at most twice ipykernel's plus 2 MB, and the
p99 at the end within 1.5 times the p99 at the start.
"""
import argparse
import json
import os
import statistics
import sys
import time

from jupyter_client.manager import KernelManager


def percentile(xs, q):
    xs = sorted(xs)
    k = min(len(xs) - 1, max(0, int(round(q / 100.0 * (len(xs) - 1)))))
    return xs[k]


def startup(name):
    """Seconds from launching the kernel to its first kernel_info_reply."""
    km = KernelManager(kernel_name=name)
    t0 = time.perf_counter()
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        while True:
            msg_id = kc.kernel_info()
            try:
                while True:
                    r = kc.get_shell_msg(timeout=0.05)
                    if r["parent_header"].get("msg_id") == msg_id:
                        t_info = time.perf_counter() - t0
                        # Also time the first cell: the interpreter may still be starting.
                        msg_id = kc.execute("1+1")
                        while kc.get_shell_msg(timeout=60)["parent_header"].get("msg_id") != msg_id:
                            pass
                        return t_info, time.perf_counter() - t0, km, kc
            except Exception:
                if time.perf_counter() - t0 > 60:
                    raise RuntimeError(f"{name}: no kernel_info_reply in 60 s")
    except Exception:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        raise


def round_trips(kc, code, n):
    kc.wait_for_ready(timeout=60)
    # Warm up (first cells compile and import).
    for _ in range(5):
        kc.execute_interactive(code, timeout=60, output_hook=lambda m: None)
    times = []
    for _ in range(n):
        t0 = time.perf_counter()
        msg_id = kc.execute(code)
        while True:
            r = kc.get_shell_msg(timeout=60)
            if r["parent_header"].get("msg_id") == msg_id:
                break
        times.append(time.perf_counter() - t0)
        # Drain iopub so that it does not pile up (not timed).
        while True:
            try:
                kc.get_iopub_msg(timeout=0)
            except Exception:
                break
    return times


def bench(name, label, starts, cells, code):
    ts, firsts = [], []
    for i in range(starts):
        t, first, km, kc = startup(name)
        ts.append(t)
        firsts.append(first)
        if i < starts - 1:
            kc.stop_channels()
            km.shutdown_kernel(now=False)
    rt = round_trips(kc, code, cells)
    kc.stop_channels()
    km.shutdown_kernel(now=False)
    return {"bench": "kernel", "kernel": label, "kernelspec": name,
            "startup_median_s": statistics.median(ts), "startup_min_s": min(ts), "starts": starts,
            "first_execute_median_s": statistics.median(firsts),
            "execute_p50_ms": 1000 * percentile(rt, 50), "execute_p99_ms": 1000 * percentile(rt, 99),
            "execute_mean_ms": 1000 * statistics.mean(rt), "cells": cells, "code": code}


# The soak's cells: the same work in Go and in Python.
SOAK = {
    "adjoint": ("var x []float64\nvar s string",
                "x = make([]float64, 1000)\nx[0] = float64(%d)\ns = fmt.Sprint(x[0])\ns"),
    "ipykernel": ("x = None\ns = None",
                  "x = [0.0] * 1000\nx[0] = float(%d)\ns = str(x[0])\ns"),
}


def tree_rss_kb(pid):
    """VmRSS in kB of pid and all its descendants."""
    children = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                st = f.read()
        except OSError:
            continue
        ppid = int(st[st.rindex(")") + 2:].split()[1])
        children.setdefault(ppid, []).append(int(d))
    total, todo = 0, [pid]
    while todo:
        p = todo.pop()
        todo.extend(children.get(p, []))
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def execute(kc, code):
    """Round trip of one execute_request in seconds; fails on an error reply."""
    t0 = time.perf_counter()
    msg_id = kc.execute(code)
    while True:
        r = kc.get_shell_msg(timeout=60)
        if r["parent_header"].get("msg_id") == msg_id:
            break
    dt = time.perf_counter() - t0
    if r["content"].get("status") != "ok":
        raise RuntimeError(f"cell failed: {code!r}: {r['content']}")
    while True:  # drain iopub (not timed)
        try:
            kc.get_iopub_msg(timeout=0)
        except Exception:
            break
    return dt


def soak(name, label, n):
    setup, cell = SOAK[label]
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        kc.wait_for_ready(timeout=60)
        pid = km.provisioner.pid
        execute(kc, setup)
        for k in range(50):  # warm up
            execute(kc, cell % k)
        time.sleep(0.5)
        rss0 = tree_rss_kb(pid)
        samples, times = [rss0], []
        t0 = time.perf_counter()
        for k in range(n):
            times.append(execute(kc, cell % k))
            if (k + 1) % max(1, n // 10) == 0:
                samples.append(tree_rss_kb(pid))
        wall = time.perf_counter() - t0
        time.sleep(0.5)
        rss1 = tree_rss_kb(pid)
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=False)
    w = max(1, n // 10)
    first, last = times[:w], times[-w:]
    tenths = [times[k * w:(k + 1) * w] for k in range(n // w)]
    return {"bench": "kernel-soak", "kernel": label, "kernelspec": name, "cells": n, "window": w,
            "cell": cell, "wall_s": wall,
            "rss_start_mb": rss0 / 1024, "rss_end_mb": rss1 / 1024, "rss_growth_mb": (rss1 - rss0) / 1024,
            "rss_samples_mb": [round(x / 1024, 1) for x in samples],
            "p50_start_ms": 1000 * percentile(first, 50), "p99_start_ms": 1000 * percentile(first, 99),
            "p50_end_ms": 1000 * percentile(last, 50), "p99_end_ms": 1000 * percentile(last, 99),
            "p50_by_tenth_ms": [round(1000 * percentile(t, 50), 2) for t in tenths],
            "p99_by_tenth_ms": [round(1000 * percentile(t, 99), 2) for t in tenths]}


def main_soak(a):
    results = {}
    for label, name in (("adjoint", a.adjoint_kernel), ("ipykernel", a.ipykernel)):
        r = soak(name, label, a.soak)
        results[label] = r
        print(json.dumps(r), flush=True)
    ad, ip = results["adjoint"], results["ipykernel"]
    bound = 2 * max(ip["rss_growth_mb"], 0) + 2
    p99 = ad["p99_end_ms"] / ad["p99_start_ms"]
    print(json.dumps({
        "bench": "kernel-soak", "kernel": "ratio adjoint/ipykernel", "cells": a.soak,
        "rss_growth": ad["rss_growth_mb"] / ip["rss_growth_mb"] if ip["rss_growth_mb"] > 0 else None,
        "adjoint_rss_growth_mb": ad["rss_growth_mb"], "rss_growth_bound_mb": bound,
        "adjoint_p99_end_over_start": p99,
        "ipykernel_p99_end_over_start": ip["p99_end_ms"] / ip["p99_start_ms"],
        "target": "adjoint_rss_growth_mb <= 2*ipykernel growth + 2 MB, adjoint_p99_end_over_start <= 1.5",
        "target_met": ad["rss_growth_mb"] <= bound and p99 <= 1.5,
    }), flush=True)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adjoint-kernel", default="adjoint", help="kernelspec name of the adjoint kernel")
    ap.add_argument("--ipykernel", default="python3", help="kernelspec name of ipykernel")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--cells", type=int, default=1000)
    ap.add_argument("--soak", type=int, default=0, help="run the memory soak with this many cells instead")
    a = ap.parse_args()
    if a.soak > 0:
        return main_soak(a)
    results = {}
    for label, name in (("adjoint", a.adjoint_kernel), ("ipykernel", a.ipykernel)):
        r = bench(name, label, a.starts, a.cells, "1+1")
        results[label] = r
        print(json.dumps(r), flush=True)
    ad, ip = results["adjoint"], results["ipykernel"]
    print(json.dumps({
        "bench": "kernel", "kernel": "ratio adjoint/ipykernel",
        "startup_median": ad["startup_median_s"] / ip["startup_median_s"],
        "first_execute_median": ad["first_execute_median_s"] / ip["first_execute_median_s"],
        "execute_p50": ad["execute_p50_ms"] / ip["execute_p50_ms"],
        "execute_p99": ad["execute_p99_ms"] / ip["execute_p99_ms"],
        "target": "execute_p50 <= 0.5, adjoint startup_median_s <= 0.3",
    }), flush=True)


if __name__ == "__main__":
    sys.exit(main())
