"""Fault injection for the adjoint kernel: each fault runs in a live kernel through jupyter_client.

Usage: /usr/bin/python3 scripts/kernel_faults.py KERNEL_NAME [FAULT ...]
(normally through `adjoint bench kernel --faults`, or the kernel package's tests, which install
the kernelspec into a temporary JUPYTER_PATH first).

For each fault it sets x := 40, runs the faulty cell, then runs `x` and `1 + 1` and checks the
heartbeat. It prints one JSON line per fault: what the notebook saw (status, ename, evalue, the
number of error outputs), the seconds from sending the cell to its execute_reply, whether the
next cell worked through the same connection and whether the session's variables survived.
The last line is a summary. A fault that takes longer than the timeout is reported as such.
"""
import json
import os
import signal
import sys
import time

from jupyter_client.manager import KernelManager

TIMEOUT = 20

FAULTS = {
    "stack_overflow": "func f(n int) int { return f(n+1) + 1 }\nf(0)",
    "concurrent_map_writes": (
        "m := map[int]int{}\n"
        "for g := 0; g < 4; g++ {\n"
        "\tgo func(g int) {\n\t\tfor k := 0; ; k++ {\n\t\t\tm[k%64] = g\n\t\t}\n\t}(g)\n"
        "}\n"
        "for k := 0; ; k++ {\n\tm[k%64] = k\n}"),
    "out_of_memory": "b := make([]byte, 1<<40)\nb[len(b)-1] = 1",
    "memory_limit": "var keep [][]byte\nfor {\n\tkeep = append(keep, make([]byte, 64<<20))\n}",
    "deadlock_mutex": "import \"sync\"\nvar mu sync.Mutex\nmu.Lock()\nmu.Lock()",
    "deadlock_channel": "ch := make(chan int)\n<-ch",
    "close_stdout": "os.Stdout.Close()\nos.Stderr.Close()",
    "goroutine_panic_compiled": "import \"strings\"\ngo strings.Repeat(\"x\", -1)\ntime.Sleep(100 * time.Millisecond)",
}

# What the next cell must print after the fault (close_stdout: output still arrives).
AFTER = {"close_stdout": 'fmt.Println("still here")'}


def run_cell(kc, code, timeout=TIMEOUT):
    t0 = time.monotonic()
    msg_id = kc.execute(code)
    reply, reply_t, idle = None, None, False
    msgs = []
    deadline = t0 + timeout
    while time.monotonic() < deadline and not (idle and reply is not None):
        if reply is None:
            try:
                r = kc.get_shell_msg(timeout=0.01)
                if r["parent_header"].get("msg_id") == msg_id:
                    reply, reply_t = r["content"], time.monotonic() - t0
            except Exception:
                pass
        try:
            m = kc.get_iopub_msg(timeout=0.01)
        except Exception:
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        msgs.append(m)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            idle = True
    out = {"status": (reply or {}).get("status", "timeout"), "reply_s": reply_t,
           "ename": (reply or {}).get("ename"), "evalue": (reply or {}).get("evalue")}
    out["errors"] = sum(1 for m in msgs if m["msg_type"] == "error")
    out["stdout"] = "".join(m["content"]["text"] for m in msgs
                            if m["msg_type"] == "stream" and m["content"]["name"] == "stdout")
    res = [m["content"]["data"].get("text/plain") for m in msgs if m["msg_type"] == "execute_result"]
    out["result"] = res[0] if res else None
    return out


def main():
    name = sys.argv[1]
    wanted = sys.argv[2:] or list(FAULTS)
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    ok = 0
    for fault in wanted:
        setup = run_cell(kc, "x := 40")
        t0 = time.monotonic()
        cell = run_cell(kc, FAULTS[fault])
        after = run_cell(kc, AFTER.get(fault, "1 + 1"))
        x = run_cell(kc, "x")
        line = {"fault": fault, "status": cell["status"], "ename": cell["ename"],
                "evalue": cell["evalue"], "errors": cell["errors"], "time_to_error_s": cell["reply_s"],
                "next_cell_ok": after["status"] == "ok" and (after["result"] == "2" or after["stdout"] == "still here\n"),
                "state_kept": x["result"] == "40", "heartbeat": kc.is_alive(), "kernel_alive": km.is_alive(),
                "setup_ok": setup["status"] == "ok", "elapsed_s": time.monotonic() - t0}
        ok += line["next_cell_ok"]
        print(json.dumps(line), flush=True)
    kc.stop_channels()
    km.shutdown_kernel(now=True)
    print(json.dumps({"faults": len(wanted), "next_cell_ok": ok}), flush=True)


if __name__ == "__main__":
    main()
