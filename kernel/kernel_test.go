package kernel

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"adjoint/lib/display"

	"github.com/go-zeromq/zmq4"
)

// fakeExec is a tiny Executor whose cells are commands: "print TEXT", "flood N", "fail",
// "block" (until interrupted), "display", "value", "panic".
type fakeExec struct{}

func (fakeExec) Execute(ctx context.Context, code string, out Output) Result {
	cmd, arg, _ := strings.Cut(code, " ")
	switch cmd {
	case "print":
		out.Stream("stdout", arg)
	case "flood":
		var n int
		fmt.Sscan(arg, &n)
		for i := range n {
			out.Stream("stdout", fmt.Sprintf("line %d\n", i))
		}
	case "slowfail":
		time.Sleep(500 * time.Millisecond)
		return Result{Err: &Error{Name: "panic", Value: "slow"}}
	case "fail":
		out.Stream("stderr", "about to fail\n")
		return Result{Err: &Error{Name: "panic", Value: "boom", Traceback: []string{"panic: boom"}}}
	case "block":
		out.Stream("stdout", "started\n")
		<-ctx.Done()
		return Result{Err: &Error{Name: "Interrupted", Value: "interrupted"}}
	case "display":
		out.Display(display.HTMLBundle("<b>1</b>", "1"), "d1", false)
		out.Display(display.HTMLBundle("<b>2</b>", "2"), "d1", true)
	case "value":
		b := display.Text(arg)
		return Result{Value: &b}
	case "panic":
		panic("executor bug")
	}
	return Result{}
}

func (fakeExec) Complete(code string, cursor int) ([]string, int, int) {
	return []string{"Println", "Printf"}, cursor - 2, cursor
}

func (fakeExec) Inspect(code string, cursor, detail int) (display.Bundle, bool) {
	if strings.Contains(code, "Println") {
		return display.Text("func Println(a ...any)"), true
	}
	return display.Bundle{}, false
}

func (fakeExec) IsComplete(code string) (string, string) {
	if strings.HasSuffix(code, "{") {
		return "incomplete", "\t"
	}
	return "complete", ""
}

func (fakeExec) Close() error { return nil }

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// client is a minimal Jupyter client over zmq4 for the tests.
type client struct {
	t              *testing.T
	s              *signer
	shell, control zmq4.Socket
	iopub          zmq4.Socket
	msgs           chan *Message
	runErr         chan error
	logs           *syncBuffer
	ci             ConnectionInfo
}

type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

func startKernel(t *testing.T, key string) *client {
	t.Helper()
	ci := ConnectionInfo{Transport: "tcp", IP: "127.0.0.1", ShellPort: freePort(t), ControlPort: freePort(t),
		StdinPort: freePort(t), IOPubPort: freePort(t), HBPort: freePort(t), SignatureScheme: "hmac-sha256", Key: key}
	logs := &syncBuffer{}
	k, err := New(ci, fakeExec{}, Options{Logger: log.New(io.MultiWriter(logs), "", 0), MaxMessageBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	c := &client{t: t, s: k.sign, ci: ci, msgs: make(chan *Message, 100000), runErr: make(chan error, 1), logs: logs}
	go func() { c.runErr <- k.Run(ctx) }()
	id := zmq4.WithID(zmq4.SocketIdentity("test-client"))
	c.shell = zmq4.NewDealer(ctx, id)
	c.control = zmq4.NewDealer(ctx, id)
	c.iopub = zmq4.NewSub(ctx)
	t.Cleanup(func() {
		cancel()
		c.shell.Close()
		c.control.Close()
		c.iopub.Close()
	})
	deadline := time.Now().Add(5 * time.Second)
	for _, d := range []struct {
		s    zmq4.Socket
		port int
	}{{c.shell, ci.ShellPort}, {c.control, ci.ControlPort}, {c.iopub, ci.IOPubPort}} {
		for {
			err := d.s.Dial(ci.endpoint(d.port))
			if err == nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("dial: %v", err)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if err := c.iopub.SetOption(zmq4.OptionSubscribe, ""); err != nil {
		t.Fatal(err)
	}
	go func() {
		for {
			m, err := c.iopub.Recv()
			if err != nil {
				return
			}
			dm, err := decode(m.Frames, c.s, 0)
			if err != nil {
				t.Errorf("iopub message does not decode: %v", err)
				return
			}
			c.msgs <- dm
		}
	}()
	// Wait until iopub delivers (a subscription is not effective at once).
	for {
		c.request(c.shell, "kernel_info_request", map[string]any{})
		c.reply(c.shell, 5*time.Second)
		select {
		case <-c.msgs:
			c.drain()
			return c
		case <-time.After(200 * time.Millisecond):
			if time.Now().After(deadline) {
				t.Fatal("no iopub traffic")
			}
		}
	}
}

func (c *client) drain() {
	time.Sleep(100 * time.Millisecond)
	for {
		select {
		case <-c.msgs:
		default:
			return
		}
	}
}

func (c *client) sendFrames(sock zmq4.Socket, frames [][]byte) {
	if err := sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

func (c *client) request(sock zmq4.Socket, msgType string, content any) string {
	id := newID()
	h, _ := json.Marshal(Header{MsgID: id, Session: "client", MsgType: msgType, Version: ProtocolVersion})
	cb, _ := json.Marshal(content)
	p, md := []byte("{}"), []byte("{}")
	sig := c.s.sign(h, p, md, cb)
	c.sendFrames(sock, [][]byte{delimiter, sig, h, p, md, cb})
	return id
}

func (c *client) reply(sock zmq4.Socket, timeout time.Duration) *Message {
	c.t.Helper()
	type res struct {
		m   zmq4.Msg
		err error
	}
	ch := make(chan res, 1)
	go func() { m, err := sock.Recv(); ch <- res{m, err} }()
	select {
	case r := <-ch:
		if r.err != nil {
			c.t.Fatalf("recv: %v", r.err)
		}
		m, err := decode(r.m.Frames, c.s, 0)
		if err != nil {
			c.t.Fatalf("reply does not decode: %v", err)
		}
		return m
	case <-time.After(timeout):
		c.t.Fatalf("no reply within %v", timeout)
	}
	return nil
}

// iopubUntilIdle collects the iopub messages of one request up to its idle status.
func (c *client) iopubUntilIdle(parentID string) []*Message {
	c.t.Helper()
	var got []*Message
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m := <-c.msgs:
			var p Header
			_ = json.Unmarshal(m.Parent, &p)
			if p.MsgID != parentID {
				continue
			}
			got = append(got, m)
			if m.Header.MsgType == "status" && strings.Contains(string(m.Content), `"idle"`) {
				return got
			}
		case <-timeout:
			c.t.Fatalf("no idle for %s; got %d messages", parentID, len(got))
		}
	}
}

func content(t *testing.T, m *Message) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(m.Content, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func types(ms []*Message) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Header.MsgType)
	}
	return strings.Join(s, ",")
}

func TestKernelInfoAndExecute(t *testing.T) {
	c := startKernel(t, "secret")
	id := c.request(c.shell, "kernel_info_request", map[string]any{})
	r := c.reply(c.shell, 5*time.Second)
	ki := content(t, r)
	if r.Header.MsgType != "kernel_info_reply" || ki["protocol_version"] != "5.3" || ki["status"] != "ok" ||
		ki["language_info"].(map[string]any)["name"] != "go" {
		t.Fatalf("kernel_info_reply %s", r.Content)
	}
	if got := types(c.iopubUntilIdle(id)); got != "status,status" {
		t.Fatalf("kernel_info iopub: %s", got)
	}

	id = c.request(c.shell, "execute_request", map[string]any{"code": "print hi\n", "silent": false})
	r = c.reply(c.shell, 5*time.Second)
	if rc := content(t, r); rc["status"] != "ok" || rc["execution_count"] != 1.0 {
		t.Fatalf("execute_reply %s", r.Content)
	}
	if got := types(c.iopubUntilIdle(id)); got != "status,execute_input,stream,status" {
		t.Fatalf("execute iopub: %s", got)
	}

	id = c.request(c.shell, "execute_request", map[string]any{"code": "value 42"})
	c.reply(c.shell, 5*time.Second)
	ms := c.iopubUntilIdle(id)
	if got := types(ms); got != "status,execute_input,execute_result,status" {
		t.Fatalf("value iopub: %s", got)
	}
	if er := content(t, ms[2]); er["execution_count"] != 2.0 || er["data"].(map[string]any)["text/plain"] != "42" {
		t.Fatalf("execute_result %s", ms[2].Content)
	}

	// silent: no execute_input, no result, count unchanged.
	id = c.request(c.shell, "execute_request", map[string]any{"code": "value 1", "silent": true})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["execution_count"] != 2.0 {
		t.Fatalf("silent execute_reply %v", rc)
	}
	if got := types(c.iopubUntilIdle(id)); got != "status,status" {
		t.Fatalf("silent iopub: %s", got)
	}

	id = c.request(c.shell, "execute_request", map[string]any{"code": "display"})
	c.reply(c.shell, 5*time.Second)
	ms = c.iopubUntilIdle(id)
	if got := types(ms); got != "status,execute_input,display_data,update_display_data,status" {
		t.Fatalf("display iopub: %s", got)
	}
	if tr := content(t, ms[3])["transient"].(map[string]any); tr["display_id"] != "d1" {
		t.Fatalf("update_display_data %s", ms[3].Content)
	}
}

func TestExecuteError(t *testing.T) {
	c := startKernel(t, "")
	id := c.request(c.shell, "execute_request", map[string]any{"code": "fail"})
	rc := content(t, c.reply(c.shell, 5*time.Second))
	if rc["status"] != "error" || rc["ename"] != "panic" || rc["evalue"] != "boom" {
		t.Fatalf("execute_reply %v", rc)
	}
	if got := types(c.iopubUntilIdle(id)); got != "status,execute_input,stream,error,status" {
		t.Fatalf("error iopub: %s", got)
	}
	// A panicking executor is answered and the kernel lives on.
	c.request(c.shell, "execute_request", map[string]any{"code": "panic"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "error" {
		t.Fatalf("panic execute_reply %v", rc)
	}
	c.request(c.shell, "execute_request", map[string]any{"code": "print ok"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" {
		t.Fatalf("after panic %v", rc)
	}
}

func TestStreamCoalescing(t *testing.T) {
	c := startKernel(t, "k")
	const n = 20000
	id := c.request(c.shell, "execute_request", map[string]any{"code": fmt.Sprintf("flood %d", n)})
	c.reply(c.shell, 10*time.Second)
	var text strings.Builder
	streams := 0
	for _, m := range c.iopubUntilIdle(id) {
		if m.Header.MsgType == "stream" {
			streams++
			text.WriteString(content(t, m)["text"].(string))
		}
	}
	lines := strings.Split(strings.TrimSuffix(text.String(), "\n"), "\n")
	if len(lines) != n || lines[n-1] != fmt.Sprintf("line %d", n-1) {
		t.Fatalf("got %d lines, last %q", len(lines), lines[len(lines)-1])
	}
	if streams > n/20 {
		t.Fatalf("%d stream messages for %d writes: output is not coalesced", streams, n)
	}
}

func TestInterruptWhileRunning(t *testing.T) {
	c := startKernel(t, "k")
	c.request(c.shell, "execute_request", map[string]any{"code": "block"})
	time.Sleep(100 * time.Millisecond)
	c.request(c.control, "interrupt_request", map[string]any{})
	if r := c.reply(c.control, 2*time.Second); r.Header.MsgType != "interrupt_reply" {
		t.Fatalf("got %s on control", r.Header.MsgType)
	}
	if rc := content(t, c.reply(c.shell, 2*time.Second)); rc["status"] != "error" || rc["ename"] != "Interrupted" {
		t.Fatalf("interrupted execute_reply %v", rc)
	}
	c.request(c.shell, "execute_request", map[string]any{"code": "print again"})
	if rc := content(t, c.reply(c.shell, 2*time.Second)); rc["status"] != "ok" {
		t.Fatalf("after interrupt %v", rc)
	}
}

func TestRejectsBadMessages(t *testing.T) {
	c := startKernel(t, "secret")
	h, _ := json.Marshal(Header{MsgID: "x", MsgType: "execute_request", Version: ProtocolVersion})
	body := []byte(`{"code":"print evil"}`)
	bad := [][]byte{
		{0xde, 0xad},        // garbage, no delimiter
		nil,                 // empty frame only
		[]byte("<IDS|MSG>"), // delimiter alone
	}
	for _, f := range bad {
		c.sendFrames(c.shell, [][]byte{f})
	}
	// Wrong and missing signatures: must not execute.
	c.sendFrames(c.shell, [][]byte{delimiter, []byte("00ff"), h, []byte("{}"), []byte("{}"), body})
	c.sendFrames(c.shell, [][]byte{delimiter, []byte(""), h, []byte("{}"), []byte("{}"), body})
	// Properly signed but malformed JSON.
	mal := []byte(`{"code":`)
	c.sendFrames(c.shell, [][]byte{delimiter, c.s.sign(h, []byte("{}"), []byte("{}"), mal), h, []byte("{}"), []byte("{}"), mal})
	// Signed, valid JSON of the wrong shape: answered with an error.
	wrong := []byte(`{"code":42}`)
	c.sendFrames(c.shell, [][]byte{delimiter, c.s.sign(h, []byte("{}"), []byte("{}"), wrong), h, []byte("{}"), []byte("{}"), wrong})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "error" || rc["ename"] != "BadRequest" {
		t.Fatalf("wrong-shape execute_reply %v", rc)
	}
	// Oversized (limit is 1 MiB in this test).
	big := []byte(`{"code":"print ` + strings.Repeat("x", 2<<20) + `"}`)
	c.sendFrames(c.shell, [][]byte{delimiter, c.s.sign(h, []byte("{}"), []byte("{}"), big), h, []byte("{}"), []byte("{}"), big})
	// Raw garbage on the TCP ports (no ZMTP handshake) is dropped by the transport.
	for _, port := range []int{c.ci.ShellPort, c.ci.ControlPort, c.ci.HBPort} {
		conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			t.Fatal(err)
		}
		conn.Write([]byte("\xff\x00\x00\x00\x00\x00\x00\x00\x01\x7fGARBAGE" + strings.Repeat("\x00", 100)))
		conn.Close()
	}
	// Unknown request types get an error reply.
	c.request(c.shell, "frobnicate_request", map[string]any{})
	if r := c.reply(c.shell, 5*time.Second); r.Header.MsgType != "frobnicate_reply" || content(t, r)["status"] != "error" {
		t.Fatalf("unknown request answered with %s %s", r.Header.MsgType, r.Content)
	}
	// The kernel is alive, and nothing else was executed (execution count is 1).
	c.request(c.shell, "execute_request", map[string]any{"code": "print fine"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" || rc["execution_count"] != 1.0 {
		t.Fatalf("execute_reply after bad messages %v", rc)
	}
	logs := c.logs.String()
	for _, want := range []string{"bad or missing signature", "no <IDS|MSG>", "malformed JSON", "too large", "unknown message type"} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
}

func TestQueriesAndShutdown(t *testing.T) {
	c := startKernel(t, "k")
	c.request(c.shell, "complete_request", map[string]any{"code": "fmt.Pr", "cursor_pos": 6})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["cursor_start"] != 4.0 || rc["cursor_end"] != 6.0 || len(rc["matches"].([]any)) != 2 {
		t.Fatalf("complete_reply %v", rc)
	}
	c.request(c.shell, "inspect_request", map[string]any{"code": "fmt.Println", "cursor_pos": 5, "detail_level": 0})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["found"] != true {
		t.Fatalf("inspect_reply %v", rc)
	}
	c.request(c.shell, "inspect_request", map[string]any{"code": "zzz", "cursor_pos": 1})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["found"] != false || rc["data"] == nil {
		t.Fatalf("inspect_reply not found %v", rc)
	}
	c.request(c.shell, "is_complete_request", map[string]any{"code": "for {"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "incomplete" || rc["indent"] != "\t" {
		t.Fatalf("is_complete_reply %v", rc)
	}
	c.request(c.shell, "comm_info_request", map[string]any{})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" {
		t.Fatalf("comm_info_reply %v", rc)
	}
	c.request(c.shell, "execute_request", map[string]any{"code": "value 3"})
	c.reply(c.shell, 5*time.Second)
	c.request(c.shell, "history_request", map[string]any{"hist_access_type": "tail", "n": 10, "output": true})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); fmt.Sprint(rc["history"]) != "[[1 1 [value 3 3]]]" {
		t.Fatalf("history_reply %v", rc)
	}
	c.request(c.control, "shutdown_request", map[string]any{"restart": true})
	if rc := content(t, c.reply(c.control, 5*time.Second)); rc["restart"] != true || rc["status"] != "ok" {
		t.Fatalf("shutdown_reply %v", rc)
	}
	select {
	case err := <-c.runErr:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("kernel did not stop after shutdown_request")
	}
}

func TestStopOnErrorAbortsQueued(t *testing.T) {
	c := startKernel(t, "k")
	c.request(c.shell, "execute_request", map[string]any{"code": "slowfail"})
	c.request(c.shell, "execute_request", map[string]any{"code": "print queued"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "error" {
		t.Fatalf("first reply %v", rc)
	}
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "aborted" {
		t.Fatalf("queued execute after an error: %v, want aborted", rc)
	}
	// With stop_on_error false the queued cell runs.
	c.request(c.shell, "execute_request", map[string]any{"code": "slowfail", "stop_on_error": false})
	c.request(c.shell, "execute_request", map[string]any{"code": "print queued"})
	c.reply(c.shell, 5*time.Second)
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" {
		t.Fatalf("queued execute with stop_on_error false: %v", rc)
	}
}

func TestHeartbeatEchoes(t *testing.T) {
	c := startKernel(t, "k")
	req := zmq4.NewReq(context.Background())
	defer req.Close()
	if err := req.Dial(c.ci.endpoint(c.ci.HBPort)); err != nil {
		t.Fatal(err)
	}
	for _, ping := range []string{"ping", "\x00binary\xff"} {
		if err := req.Send(zmq4.NewMsgString(ping)); err != nil {
			t.Fatal(err)
		}
		m, err := req.Recv()
		if err != nil || string(m.Bytes()) != ping {
			t.Fatalf("heartbeat echoed %q, %v; want %q", m.Bytes(), err, ping)
		}
	}
}

func TestCommOpenIsClosed(t *testing.T) {
	c := startKernel(t, "k")
	id := c.request(c.shell, "comm_open", map[string]any{"comm_id": "c1", "target_name": "jupyter.widget", "data": map[string]any{}})
	ms := c.iopubUntilIdle(id)
	if got := types(ms); got != "status,comm_close,status" || content(t, ms[1])["comm_id"] != "c1" {
		t.Fatalf("comm_open: iopub %s", got)
	}
	c.request(c.shell, "comm_msg", map[string]any{"comm_id": "c1", "data": map[string]any{}})
	c.request(c.shell, "execute_request", map[string]any{"code": "print alive"})
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" {
		t.Fatalf("after comm messages: %v", rc)
	}
}

func TestRejectsReplayedMessage(t *testing.T) {
	c := startKernel(t, "secret")
	h, _ := json.Marshal(Header{MsgID: newID(), Session: "client", MsgType: "execute_request", Version: ProtocolVersion})
	body := []byte(`{"code":"print once"}`)
	frames := [][]byte{delimiter, c.s.sign(h, []byte("{}"), []byte("{}"), body), h, []byte("{}"), []byte("{}"), body}
	c.sendFrames(c.shell, frames)
	if rc := content(t, c.reply(c.shell, 5*time.Second)); rc["status"] != "ok" || rc["execution_count"] != 1.0 {
		t.Fatalf("first execute_reply %v", rc)
	}
	c.sendFrames(c.shell, frames) // the same message again: dropped
	id := c.request(c.shell, "execute_request", map[string]any{"code": "print fresh"})
	r := c.reply(c.shell, 5*time.Second)
	var parent Header
	json.Unmarshal(r.Parent, &parent)
	if rc := content(t, r); parent.MsgID != id || rc["status"] != "ok" || rc["execution_count"] != 2.0 {
		t.Fatalf("execute_reply after a replay: %v to %s (the replay ran?)", rc, parent.MsgID)
	}
	if logs := c.logs.String(); !strings.Contains(logs, "duplicate signature") {
		t.Errorf("log lacks the rejected replay:\n%s", logs)
	}
}

func TestDigestHistoryIsBounded(t *testing.T) {
	h := newDigestHistory(3)
	for _, s := range []string{"a", "b", "c"} {
		if !h.add([]byte(s)) {
			t.Fatalf("%s rejected the first time", s)
		}
	}
	if h.add([]byte("b")) {
		t.Fatal("duplicate b accepted")
	}
	h.add([]byte("d")) // forgets a
	if !h.add([]byte("a")) {
		t.Fatal("a still remembered past the history's size")
	}
	if len(h.seen) != 3 {
		t.Fatalf("history holds %d signatures, want 3", len(h.seen))
	}
}
