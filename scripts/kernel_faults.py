"""Fault injection for the adjoint kernel: each fault runs in a live kernel through jupyter_client.

Usage: /usr/bin/python3 scripts/kernel_faults.py KERNEL_NAME [FAULT ...]
(normally through `adjoint bench kernel --faults`, or the kernel package's tests, which install
the kernelspec into a temporary JUPYTER_PATH first).

For each fault it sets x := 40, runs the faulty cell, then runs `x` and `1 + 1` and checks the
heartbeat. It prints one JSON line per fault: what the notebook saw (status, ename, evalue, the
number of error outputs), the seconds from sending the cell to its execute_reply, whether the
next cell worked through the same connection and whether the session's variables survived.
The last line is a summary. A fault that takes longer than the timeout is reported as such.

Two lifecycle checks start kernels of their own: sigterm_busy and shutdown_busy end a kernel
(SIGTERM; shutdown_request) while a cell spins, and report how long the kernel and its worker
process took to exit.
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
    "out_of_memory": "b := make([]byte, 1<<44)\nb[len(b)-1] = 1",
    "memory_limit": "var keep [][]byte\nfor {\n\tkeep = append(keep, make([]byte, 64<<20))\n}",
    "deadlock_mutex": "import \"sync\"\nvar mu sync.Mutex\nmu.Lock()\nmu.Lock()",
    "deadlock_channel": "ch := make(chan int)\n<-ch",
    "close_stdout": "os.Stdout.Close()\nos.Stderr.Close()",
    # not a fault: a cell that waits for the clock longer than the deadlock watchdog's delay
    "timer_wait": "<-time.After(5 * time.Second)",
    "goroutine_panic_compiled": "import \"strings\"\ngo strings.Repeat(\"x\", -1)\ntime.Sleep(100 * time.Millisecond)",
}

LIFECYCLE = ["sigterm_busy", "shutdown_busy"]

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


def children(pid):
    """Process ids of the children of pid (Linux)."""
    out = []
    try:
        for task in os.listdir("/proc/%d/task" % pid):
            with open("/proc/%d/task/%s/children" % (pid, task)) as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def running(pid):
    """Whether pid is a live process (not gone, not a zombie)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def lifecycle(name, how):
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    run_cell(kc, "1 + 1")  # the worker is up
    pid = km.provisioner.process.pid
    workers = children(pid)
    kc.execute("for {\n}")
    time.sleep(0.5)
    t0 = time.monotonic()
    if how == "sigterm_busy":
        os.kill(pid, signal.SIGTERM)
    else:
        kc.shutdown()
    deadline = t0 + TIMEOUT
    while km.is_alive() and time.monotonic() < deadline:
        time.sleep(0.01)
    exit_s = time.monotonic() - t0 if not km.is_alive() else None
    while any(running(w) for w in workers) and time.monotonic() < deadline:
        time.sleep(0.01)
    line = {"fault": how, "kernel_exit_s": exit_s, "workers": len(workers),
            "workers_left": sum(running(w) for w in workers),
            "returncode": km.provisioner.process.returncode if km.provisioner else None}
    kc.stop_channels()
    try:
        km.shutdown_kernel(now=True)
    except Exception:
        pass
    return line


def main():
    name = sys.argv[1]
    wanted = sys.argv[2:] or list(FAULTS) + LIFECYCLE
    lc = [w for w in wanted if w in LIFECYCLE]
    wanted = [w for w in wanted if w not in LIFECYCLE]
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
    ended = 0
    for how in lc:
        line = lifecycle(name, how)
        ended += line["kernel_exit_s"] is not None and line["workers_left"] == 0
        print(json.dumps(line), flush=True)
    print(json.dumps({"faults": len(wanted), "next_cell_ok": ok, "lifecycle": len(lc), "ended": ended}), flush=True)


if __name__ == "__main__":
    main()
