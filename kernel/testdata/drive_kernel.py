"""Drives the adjoint kernel through jupyter_client and prints one JSON object of observations.

Usage: JUPYTER_PATH=DIR /usr/bin/python3 drive_kernel.py KERNEL_NAME

Each scenario records what a client sees (reply content, iopub messages, timings); the Go test
(TestJupyterClient in kernel/integration_test.go) asserts on them.
"""
import json
import os
import signal
import sys
import time
import traceback

from jupyter_client.manager import KernelManager

TIMEOUT = 10


def run_cell(kc, code, on_msg=None, timeout=TIMEOUT, **kw):
    """Executes code; returns (reply content, iopub messages with arrival times, reply time)."""
    t0 = time.monotonic()
    msg_id = kc.execute(code, **kw)
    msgs = []
    reply = None
    deadline = t0 + timeout
    idle = False
    while time.monotonic() < deadline and not (idle and reply is not None):
        if reply is None:
            try:
                r = kc.get_shell_msg(timeout=0.01)
                if r["parent_header"].get("msg_id") == msg_id:
                    reply = r["content"]
                    reply_t = time.monotonic() - t0
            except Exception:
                pass
        try:
            m = kc.get_iopub_msg(timeout=0.01)
        except Exception:
            continue
        if m["parent_header"].get("msg_id") != msg_id:
            continue
        rec = {"type": m["msg_type"], "content": m["content"], "t": time.monotonic() - t0}
        msgs.append(rec)
        if on_msg:
            on_msg(rec)
        if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
            idle = True
    if reply is None:
        return {"status": "timeout"}, msgs, None
    return reply, msgs, reply_t


def summary(reply, msgs, reply_t=None):
    out = {"status": reply.get("status"), "ename": reply.get("ename"), "evalue": reply.get("evalue"),
           "execution_count": reply.get("execution_count"), "types": [m["type"] for m in msgs],
           "reply_t": reply_t}
    out["stdout"] = "".join(m["content"]["text"] for m in msgs if m["type"] == "stream" and m["content"]["name"] == "stdout")
    out["stderr"] = "".join(m["content"]["text"] for m in msgs if m["type"] == "stream" and m["content"]["name"] == "stderr")
    res = [m["content"] for m in msgs if m["type"] == "execute_result"]
    out["result"] = res[0]["data"].get("text/plain") if res else None
    out["result_count"] = res[0]["execution_count"] if res else None
    errs = [m["content"] for m in msgs if m["type"] == "error"]
    out["errors"] = len(errs)
    out["traceback"] = errs[0]["traceback"] if errs else None
    return out


def shell_request(kc, method, *args, **kw):
    msg_id = getattr(kc, method)(*args, **kw)
    while True:
        r = kc.get_shell_msg(timeout=10)
        if r["parent_header"].get("msg_id") == msg_id:
            return r["content"]


def guarded(results, name, fn):
    t0 = time.monotonic()
    try:
        results[name] = fn()
    except Exception:
        results[name] = {"exception": traceback.format_exc()}
    print("scenario %s: %.2fs" % (name, time.monotonic() - t0), file=sys.stderr, flush=True)


def main():
    name = sys.argv[1]
    results = {}
    t0 = time.monotonic()
    km = KernelManager(kernel_name=name)
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=TIMEOUT)
    results["startup_s"] = time.monotonic() - t0
    info = shell_request(kc, "kernel_info")
    results["kernel_info"] = info

    def execute():
        a = summary(*run_cell(kc, "x := 40\nfmt.Println(\"x is\", x)"))
        b = summary(*run_cell(kc, "x + 2"))
        s = summary(*run_cell(kc, "x + 1", silent=True))
        return {"assign": a, "value": b, "silent": s}
    guarded(results, "execute", execute)

    def streams():
        code = 'for i := 0; i < 3; i++ {\n\tfmt.Println("tick", i)\n\ttime.Sleep(400 * time.Millisecond)\n}'
        reply, msgs, reply_t = run_cell(kc, code)
        first = [m["t"] for m in msgs if m["type"] == "stream"]
        s = summary(reply, msgs, reply_t)
        s["first_stream_t"] = first[0] if first else None
        return s
    guarded(results, "streams", streams)

    def late():
        # A goroutine of a cell prints after the cell ended: the text is published with the
        # parent header of the cell that started it.
        code = 'go func() {\n\ttime.Sleep(300 * time.Millisecond)\n\tfmt.Println("late")\n}()'
        msg_id = kc.execute(code)
        deadline = time.monotonic() + 1.5
        idle_t, late_t = None, None
        while time.monotonic() < deadline and late_t is None:
            try:
                m = kc.get_iopub_msg(timeout=0.05)
            except Exception:
                continue
            if m["parent_header"].get("msg_id") != msg_id:
                continue
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle":
                idle_t = time.monotonic()
            if m["msg_type"] == "stream" and "late" in m["content"]["text"]:
                late_t = time.monotonic()
        while True:
            r = kc.get_shell_msg(timeout=10)
            if r["parent_header"].get("msg_id") == msg_id:
                break
        return {"idle_seen": idle_t is not None, "late_seen": late_t is not None,
                "late_after_idle": idle_t is not None and late_t is not None and late_t > idle_t}
    guarded(results, "late", late)

    def errors():
        return {
            "compile": summary(*run_cell(kc, 'var bad int = "s"')),
            "panic": summary(*run_cell(kc, 'panic("boom")')),
            "after": summary(*run_cell(kc, "x")),
        }
    guarded(results, "errors", errors)

    def interrupt():
        sent = {}

        def on_msg(m):
            if m["type"] == "execute_input" and not sent:
                time.sleep(0.5)
                sent["t"] = time.monotonic()
                km.interrupt_kernel()
        reply, msgs, reply_t = run_cell(kc, "for {\n}", on_msg=on_msg)
        out = summary(reply, msgs, reply_t)
        out["stop_latency_s"] = (time.monotonic() - sent["t"]) if sent else None
        out["alive"] = km.is_alive()
        out["after"] = summary(*run_cell(kc, "x"))
        # SIGINT (a terminal's Ctrl-C, or a front end with interrupt_mode "signal") interrupts
        # the cell instead of killing the kernel.
        sig = {}

        def on_msg_signal(m):
            if m["type"] == "execute_input" and not sig:
                time.sleep(0.5)
                sig["t"] = time.monotonic()
                os.kill(km.provisioner.process.pid, signal.SIGINT)
        reply, msgs, reply_t = run_cell(kc, "for {\n}", on_msg=on_msg_signal)
        out["sigint"] = summary(reply, msgs, reply_t)
        out["sigint"]["stop_latency_s"] = (time.monotonic() - sig["t"]) if sig else None
        out["sigint"]["alive"] = km.is_alive()
        return out
    guarded(results, "interrupt", interrupt)

    def displays():
        code = ('u := display.NewUpdatable()\nu.UpdateHTML("<b>10%</b>")\n'
                'u.UpdateHTML("<b>100%</b>")\ndisplay.Markdown("**md**")')
        reply, msgs, _ = run_cell(kc, code)
        out = summary(reply, msgs)
        out["displays"] = [{"type": m["type"], "data": m["content"].get("data"),
                            "display_id": m["content"].get("transient", {}).get("display_id")}
                           for m in msgs if m["type"] in ("display_data", "update_display_data")]
        return out
    guarded(results, "display", displays)

    def stdin():
        code = 'var name string\nfmt.Scanln(&name)\nfmt.Println("hi", name)'
        msg_id = kc.execute(code, allow_stdin=True)
        req = kc.get_stdin_msg(timeout=TIMEOUT)
        kc.input("bob")
        reply = None
        while reply is None:
            r = kc.get_shell_msg(timeout=TIMEOUT)
            if r["parent_header"].get("msg_id") == msg_id:
                reply = r["content"]
        no_stdin = summary(*run_cell(kc, 'var n2 string\n_, err := fmt.Scanln(&n2)\nerr != nil', allow_stdin=False))
        out = summary(*run_cell(kc, 'name'))
        return {"request_type": req["msg_type"], "parent_matches": req["parent_header"].get("msg_id") == msg_id,
                "status": reply.get("status"), "name": out["result"], "no_stdin": no_stdin}
    guarded(results, "stdin", stdin)

    def queries():
        return {
            "complete": shell_request(kc, "complete", "fmt.Prin", 8),
            "complete_unicode": shell_request(kc, "complete", 's := "héllo"; fmt.Prin', len('s := "héllo"; fmt.Prin')),
            "inspect": shell_request(kc, "inspect", "fmt.Println", 5, 0),
            "is_complete": {code: shell_request(kc, "is_complete", code)
                            for code in ["x := 1", "for {", "func f() {\n\tif true {", ")"]},
            "history_tail": shell_request(kc, "history", hist_access_type="tail", n=3, raw=True, output=False),
            "history_search": shell_request(kc, "history", hist_access_type="search", pattern="x*", raw=True, output=False),
            "comm_info": shell_request(kc, "comm_info"),
        }
    guarded(results, "queries", queries)

    def survival():
        cases = {
            "panic_goroutine": 'go func() { panic("in goroutine") }()\ntime.Sleep(200 * time.Millisecond)',
            "range_int": "for k := range 5 {\n\t_ = k\n}",
            "os_exit": "os.Exit(3)",
            "log_fatal": 'log.Fatal("fatal")',
        }
        out = {}
        for n, code in cases.items():
            print("  survival case", n, file=sys.stderr, flush=True)
            s = summary(*run_cell(kc, code))
            after = summary(*run_cell(kc, "x"))
            s["alive"] = km.is_alive()
            s["after_result"] = after["result"]
            out[n] = s
        return out
    guarded(results, "survival", survival)

    def shutdown():
        t = time.monotonic()
        msg_id = kc.shutdown()
        reply = None
        while reply is None:
            r = kc.get_control_msg(timeout=TIMEOUT)
            if r["parent_header"].get("msg_id") == msg_id:
                reply = r
        deadline = time.monotonic() + 5
        while km.is_alive() and time.monotonic() < deadline:
            time.sleep(0.02)
        proc = km.provisioner.process if km.provisioner else None
        return {"reply_type": reply["msg_type"], "status": reply["content"].get("status"),
                "alive": km.is_alive(), "exit_s": time.monotonic() - t,
                "returncode": proc.returncode if proc is not None else None}
    guarded(results, "shutdown", shutdown)

    kc.stop_channels()
    try:
        km.shutdown_kernel(now=True)
    except Exception:
        pass
    print(json.dumps(results))


if __name__ == "__main__":
    main()
