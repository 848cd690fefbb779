"""Kernel latency benchmark: the adjoint kernel against Debian's ipykernel, in one run.

Usage: /usr/bin/python3 scripts/bench_kernel.py [--starts N] [--cells N] [--kernels a,b]
(normally through `adjoint bench kernel`, which installs the adjoint kernelspec into a
temporary JUPYTER_PATH first and passes --adjoint-kernel).

For each kernel it measures the start-up time (kernel process launch to the first
kernel_info_reply; median of several starts), the time to the first execute_reply, and the round trip of execute_request "1+1"
(request sent to execute_reply received; p50 and p99). It prints one JSON line per kernel,
then one line with the ratios adjoint/ipykernel.
"""
import argparse
import json
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--adjoint-kernel", default="adjoint", help="kernelspec name of the adjoint kernel")
    ap.add_argument("--ipykernel", default="python3", help="kernelspec name of ipykernel")
    ap.add_argument("--starts", type=int, default=5)
    ap.add_argument("--cells", type=int, default=1000)
    a = ap.parse_args()
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
