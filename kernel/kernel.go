// Package kernel speaks the Jupyter messaging protocol (version 5.3) over ZeroMQ and hands
// cells to an Executor. It is the protocol alone: it knows nothing of how cells run (the Go
// interpreter in kernel/interp, or a worker process running it, are wired in by cmd/adjoint).
//
// The kernel binds the five channels named in a connection file: shell, control and stdin
// (ROUTER), iopub (PUB) and heartbeat (REP). Shell requests are handled one at a time; control
// requests (interrupt, shutdown, kernel_info) have their own goroutine and are answered even
// while a cell runs. Every request is wrapped in busy/idle status messages on iopub, and all
// of a cell's output is flushed before idle. Stream output is coalesced (by default every
// 50 ms or 64 KiB) so that a flood of prints cannot overwhelm iopub.
package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log"
	"os"
	"runtime"
	"strings"
	"sync"
	"time"

	"adjoint/lib/display"

	"github.com/go-zeromq/zmq4"
)

// Version is the kernel's implementation version, reported in kernel_info_reply.
var Version = "0.1.0"

// Options configure a Kernel; the zero value is usable.
type Options struct {
	// Banner is shown by front ends (e.g. the compute device, "cpu (8 threads)").
	Banner string
	// Logger receives protocol problems (dropped messages, unknown types); default stderr.
	Logger *log.Logger
	// MaxMessageBytes drops larger incoming messages; default 64 MiB.
	MaxMessageBytes int
	// StreamFlushInterval and StreamFlushBytes bound how long and how much stream output is
	// held before it is published; defaults 50 ms and 64 KiB.
	StreamFlushInterval time.Duration
	StreamFlushBytes    int
	// IOPubHWM caps the iopub send queue (messages past it are dropped); default 100000.
	IOPubHWM int
	// DigestHistory is how many message signatures are remembered to reject replays;
	// default 65536.
	DigestHistory int
	// HistoryFile, when set, receives every stored cell's input as a JSON line
	// {"session", "line", "input", "time"}; history_request answers from memory.
	HistoryFile string
	// HistoryLength is how many of the latest cells history_request can return (default
	// DefaultHistoryLength); HistoryOutputs how many of the latest keep their text result
	// (default DefaultHistoryOutputs, as IPython's output cache); HistoryOutputBytes cuts
	// longer results (default DefaultHistoryOutputBytes). A negative value means no limit.
	HistoryLength, HistoryOutputs, HistoryOutputBytes int
}

// Kernel is one running Jupyter kernel.
type Kernel struct {
	exec    Executor
	opts    Options
	ci      ConnectionInfo
	sign    *signer
	digests *digestHistory // signatures seen (replay protection); nil without signing
	session string
	log     *log.Logger

	ctx  context.Context
	stop context.CancelFunc

	shell, control, stdin *channel
	iopub, hb             zmq4.Socket
	iopubMu               sync.Mutex

	// epoch is the context cells run under; an interrupt cancels it and starts a new one,
	// which also stops goroutines that earlier cells left running.
	epochMu     sync.Mutex
	epoch       context.Context
	epochCancel context.CancelFunc

	shellQ    chan *Message
	input     inputState
	execCount int
	hist      history
	exitOnce  sync.Once
}

// channel is a ROUTER socket with serialised sends.
type channel struct {
	name string
	sock zmq4.Socket
	mu   sync.Mutex
}

// New prepares a kernel for the given connection; Run binds the sockets and serves.
func New(ci ConnectionInfo, exec Executor, opts Options) (*Kernel, error) {
	if exec == nil {
		return nil, errors.New("kernel: no executor")
	}
	s, err := newSigner(ci.SignatureScheme, []byte(ci.Key))
	if err != nil {
		return nil, fmt.Errorf("kernel: %w", err)
	}
	if opts.Logger == nil {
		opts.Logger = log.New(os.Stderr, "adjoint kernel: ", log.LstdFlags)
	}
	if opts.MaxMessageBytes <= 0 {
		opts.MaxMessageBytes = 64 << 20
	}
	if opts.StreamFlushInterval <= 0 {
		opts.StreamFlushInterval = 50 * time.Millisecond
	}
	if opts.StreamFlushBytes <= 0 {
		opts.StreamFlushBytes = 64 << 10
	}
	if opts.IOPubHWM <= 0 {
		opts.IOPubHWM = 100000
	}
	if opts.DigestHistory <= 0 {
		opts.DigestHistory = 1 << 16
	}
	k := &Kernel{exec: exec, opts: opts, ci: ci, sign: s, session: newID(), log: opts.Logger,
		shellQ: make(chan *Message, 1024)}
	if s != nil {
		k.digests = newDigestHistory(opts.DigestHistory)
	}
	k.input.replies = make(chan *Message, 1)
	k.hist.session, k.hist.file, k.hist.id = 1, opts.HistoryFile, k.session
	k.hist.maxEntries = historyBound(opts.HistoryLength, DefaultHistoryLength)
	k.hist.maxOutputs = historyBound(opts.HistoryOutputs, DefaultHistoryOutputs)
	k.hist.maxOutputBytes = historyBound(opts.HistoryOutputBytes, DefaultHistoryOutputBytes)
	k.epoch, k.epochCancel = context.WithCancel(context.Background())
	return k, nil
}

// Interrupt cancels the running cell (and goroutines of earlier cells that watch their
// context). It is what interrupt_request and SIGINT do.
func (k *Kernel) Interrupt() {
	k.epochMu.Lock()
	k.epochCancel()
	k.epoch, k.epochCancel = context.WithCancel(context.Background())
	k.epochMu.Unlock()
	if in, ok := k.exec.(Interrupter); ok {
		in.Interrupt()
	}
}

func (k *Kernel) cellContext() context.Context {
	k.epochMu.Lock()
	defer k.epochMu.Unlock()
	return k.epoch
}

// Run binds the sockets and serves until a shutdown_request arrives or ctx is cancelled.
func (k *Kernel) Run(ctx context.Context) error {
	k.ctx, k.stop = context.WithCancel(ctx)
	defer k.stop()
	// zmq4 logs connection trouble; send it to the kernel's log, not to descriptor 2 (which
	// carries the cells' output).
	zl := zmq4.WithLogger(k.log)
	k.shell = &channel{name: "shell", sock: zmq4.NewRouter(k.ctx, zl)}
	k.control = &channel{name: "control", sock: zmq4.NewRouter(k.ctx, zl)}
	k.stdin = &channel{name: "stdin", sock: zmq4.NewRouter(k.ctx, zl)}
	k.iopub = zmq4.NewPub(k.ctx, zl)
	k.hb = zmq4.NewRep(k.ctx, zl)
	socks := []struct {
		name string
		s    zmq4.Socket
		port int
	}{{"shell", k.shell.sock, k.ci.ShellPort}, {"control", k.control.sock, k.ci.ControlPort},
		{"stdin", k.stdin.sock, k.ci.StdinPort}, {"iopub", k.iopub, k.ci.IOPubPort}, {"heartbeat", k.hb, k.ci.HBPort}}
	defer func() {
		for _, s := range socks {
			s.s.Close()
		}
	}()
	for _, s := range socks {
		if err := s.s.Listen(k.ci.endpoint(s.port)); err != nil {
			return fmt.Errorf("kernel: bind %s on %s: %w", s.name, k.ci.endpoint(s.port), err)
		}
	}
	if err := k.iopub.SetOption(zmq4.OptionHWM, k.opts.IOPubHWM); err != nil {
		k.log.Printf("set iopub HWM: %v", err)
	}
	// Tell clients we are starting (lost if none is subscribed yet, which is fine).
	k.publish(nil, "status", map[string]any{"execution_state": "starting"})

	var wg sync.WaitGroup
	wg.Add(4)
	go func() { defer wg.Done(); k.heartbeat() }()
	go func() { defer wg.Done(); k.receive(k.shell, func(m *Message) { k.shellQ <- m }) }()
	go func() { defer wg.Done(); k.receive(k.control, func(m *Message) { k.handle(k.control, m) }) }()
	go func() {
		defer wg.Done()
		k.receive(k.stdin, func(m *Message) {
			if !k.input.deliver(m) {
				k.log.Printf("stdin: ignoring %s", m.Header.MsgType)
			}
		})
	}()
	go k.serveShell()
	<-k.ctx.Done()
	// Give the PUB queue a moment to deliver the last status messages.
	time.Sleep(50 * time.Millisecond)
	for _, s := range socks {
		s.s.Close()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	return nil
}

func (k *Kernel) heartbeat() {
	for {
		msg, err := k.hb.Recv()
		if err != nil {
			if k.ctx.Err() != nil {
				return
			}
			k.log.Printf("heartbeat: %v", err)
			continue
		}
		if err := k.hb.Send(msg); err != nil && k.ctx.Err() == nil {
			k.log.Printf("heartbeat echo: %v", err)
		}
	}
}

// receive reads a ROUTER socket until the kernel stops, decoding and verifying each message;
// bad messages are logged and dropped.
func (k *Kernel) receive(ch *channel, deliver func(*Message)) {
	for {
		msg, err := ch.sock.Recv()
		if err != nil {
			if k.ctx.Err() != nil {
				return
			}
			k.log.Printf("%s: receive: %v", ch.name, err)
			// A broken connection makes Recv fail at once; do not spin.
			time.Sleep(10 * time.Millisecond)
			continue
		}
		m, err := decode(msg.Frames, k.sign, k.opts.MaxMessageBytes)
		if err != nil {
			k.log.Printf("%s: dropping message: %v", ch.name, err)
			continue
		}
		if k.digests != nil && !k.digests.add(m.signature) {
			k.log.Printf("%s: dropping %s: %v", ch.name, m.Header.MsgType, ErrDuplicate)
			continue
		}
		deliver(m)
	}
}

func (k *Kernel) serveShell() {
	for {
		select {
		case <-k.ctx.Done():
			return
		case m := <-k.shellQ:
			k.handle(k.shell, m)
		}
	}
}

// send replies on a ROUTER channel with the request's identities.
func (k *Kernel) send(ch *channel, req *Message, msgType string, content any) {
	frames, err := encode(req.Identities, k.session, msgType, req.HeaderRaw, content, k.sign)
	if err != nil {
		k.log.Printf("%s: %v", ch.name, err)
		return
	}
	if len(frames) == 0 || len(req.Identities) == 0 {
		k.log.Printf("%s: %s without identity; not sent", ch.name, msgType)
		return
	}
	ch.mu.Lock()
	defer ch.mu.Unlock()
	if err := ch.sock.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil && k.ctx.Err() == nil {
		k.log.Printf("%s: send %s: %v", ch.name, msgType, err)
	}
}

// publish sends a message on iopub with the given parent header.
func (k *Kernel) publish(parent json.RawMessage, msgType string, content any) {
	topic := []byte("kernel." + k.session + "." + msgType)
	frames, err := encode([][]byte{topic}, k.session, msgType, parent, content, k.sign)
	if err != nil {
		k.log.Printf("iopub: %v", err)
		return
	}
	k.iopubMu.Lock()
	defer k.iopubMu.Unlock()
	if err := k.iopub.SendMulti(zmq4.NewMsgFrom(frames...)); err != nil && k.ctx.Err() == nil {
		k.log.Printf("iopub: send %s: %v", msgType, err)
	}
}

func (k *Kernel) status(parent json.RawMessage, state string) {
	k.publish(parent, "status", map[string]any{"execution_state": state})
}

// handle runs one request between busy and idle; a panic in a handler is logged and answered.
func (k *Kernel) handle(ch *channel, m *Message) {
	k.status(m.HeaderRaw, "busy")
	defer k.status(m.HeaderRaw, "idle")
	defer func() {
		if r := recover(); r != nil {
			k.log.Printf("%s: panic handling %s: %v", ch.name, m.Header.MsgType, r)
			if strings.HasSuffix(m.Header.MsgType, "_request") {
				k.send(ch, m, strings.TrimSuffix(m.Header.MsgType, "_request")+"_reply",
					errorContent("InternalError", fmt.Sprint(r), nil))
			}
		}
	}()
	switch t := m.Header.MsgType; t {
	case "kernel_info_request":
		k.send(ch, m, "kernel_info_reply", k.kernelInfo())
	case "execute_request":
		k.execute(ch, m)
	case "complete_request":
		k.complete(ch, m)
	case "inspect_request":
		k.inspect(ch, m)
	case "is_complete_request":
		k.isComplete(ch, m)
	case "history_request":
		k.history(ch, m)
	case "comm_info_request":
		k.send(ch, m, "comm_info_reply", map[string]any{"status": "ok", "comms": map[string]any{}})
	case "comm_open":
		// No comm targets exist: close the comm, as the protocol asks.
		var c struct {
			CommID string `json:"comm_id"`
		}
		_ = json.Unmarshal(m.Content, &c)
		k.publish(m.HeaderRaw, "comm_close", map[string]any{"comm_id": c.CommID, "data": map[string]any{}})
	case "comm_msg", "comm_close":
		// Nothing to do: no comms are open.
	case "interrupt_request":
		k.Interrupt()
		k.send(ch, m, "interrupt_reply", map[string]any{"status": "ok"})
	case "shutdown_request":
		var c struct {
			Restart bool `json:"restart"`
		}
		_ = json.Unmarshal(m.Content, &c)
		reply := map[string]any{"status": "ok", "restart": c.Restart}
		k.send(ch, m, "shutdown_reply", reply)
		k.publish(m.HeaderRaw, "shutdown_reply", reply)
		k.Interrupt()
		k.exitOnce.Do(k.stop) // Run waits briefly, so the deferred idle still goes out
	default:
		k.log.Printf("%s: unknown message type %q", ch.name, t)
		if strings.HasSuffix(t, "_request") {
			k.send(ch, m, strings.TrimSuffix(t, "_request")+"_reply",
				errorContent("UnknownMessageType", "unsupported message type "+t, nil))
		}
	}
}

func errorContent(ename, evalue string, tb []string) map[string]any {
	if tb == nil {
		tb = []string{ename + ": " + evalue}
	}
	return map[string]any{"status": "error", "ename": ename, "evalue": evalue, "traceback": tb}
}

func (k *Kernel) kernelInfo() map[string]any {
	banner := "adjoint: Go with adjoint sampling"
	if k.opts.Banner != "" {
		banner += " — " + k.opts.Banner
	}
	return map[string]any{
		"status":                 "ok",
		"protocol_version":       ProtocolVersion,
		"implementation":         "adjoint",
		"implementation_version": Version,
		"language_info": map[string]any{
			"name":            "go",
			"version":         strings.TrimPrefix(runtime.Version(), "go"),
			"mimetype":        "text/x-go",
			"file_extension":  ".go",
			"pygments_lexer":  "go",
			"codemirror_mode": "go",
		},
		"banner": banner,
		"help_links": []map[string]string{
			{"text": "Go documentation", "url": "https://go.dev/doc/"},
			{"text": "Go standard library", "url": "https://pkg.go.dev/std"},
		},
	}
}

// badRequest answers a request whose content does not decode.
func (k *Kernel) badRequest(ch *channel, m *Message, err error) {
	k.log.Printf("%s: bad %s: %v", ch.name, m.Header.MsgType, err)
	k.send(ch, m, strings.TrimSuffix(m.Header.MsgType, "_request")+"_reply",
		errorContent("BadRequest", err.Error(), nil))
}

func (k *Kernel) execute(ch *channel, m *Message) {
	var req struct {
		Code         string `json:"code"`
		Silent       bool   `json:"silent"`
		StoreHistory *bool  `json:"store_history"`
		StopOnError  *bool  `json:"stop_on_error"`
		AllowStdin   bool   `json:"allow_stdin"`
	}
	if err := json.Unmarshal(m.Content, &req); err != nil {
		k.badRequest(ch, m, err)
		return
	}
	store := !req.Silent && (req.StoreHistory == nil || *req.StoreHistory)
	if store {
		k.execCount++
	}
	count := k.execCount
	if !req.Silent {
		k.publish(m.HeaderRaw, "execute_input", map[string]any{"code": req.Code, "execution_count": count})
	}
	out := newCellOutput(k, m.HeaderRaw)
	ctx := k.cellContext()
	if req.AllowStdin {
		k.input.set(m, ctx)
	}
	res := k.exec.Execute(ctx, req.Code, out)
	k.input.set(nil, nil)
	out.Flush()
	var text any
	if res.Err == nil && res.Value != nil {
		text = res.Value.Data[display.MIMEText]
	}
	if store {
		if err := k.hist.add(req.Code, text); err != nil {
			k.log.Printf("%v (history is kept in memory only from now on)", err)
		}
	}
	if res.Err != nil {
		ec := errorContent(res.Err.Name, res.Err.Value, res.Err.Traceback)
		k.publish(m.HeaderRaw, "error", map[string]any{"ename": ec["ename"], "evalue": ec["evalue"], "traceback": ec["traceback"]})
		ec["execution_count"] = count
		ec["user_expressions"] = map[string]any{}
		// Count what is queued before the reply goes out: a client that sees the error and
		// sends its next cell at once must not have that cell aborted.
		queued := len(k.shellQ)
		k.send(ch, m, "execute_reply", ec)
		if req.StopOnError == nil || *req.StopOnError {
			k.abortQueued(queued)
		}
		return
	}
	if res.Value != nil && !req.Silent {
		b := *res.Value
		md := b.Metadata
		if md == nil {
			md = map[string]any{}
		}
		k.publish(m.HeaderRaw, "execute_result", map[string]any{"execution_count": count, "data": b.Data, "metadata": md})
	}
	k.send(ch, m, "execute_reply", map[string]any{"status": "ok", "execution_count": count,
		"user_expressions": map[string]any{}, "payload": []any{}})
}

// abortQueued answers the first n requests waiting on shell, those that were queued before the
// failed cell's reply was sent: execute requests get status "aborted" (as stop_on_error asks),
// others are handled normally. Requests sent after the client saw the error run normally.
func (k *Kernel) abortQueued(n int) {
	for range n {
		m := <-k.shellQ
		if m.Header.MsgType != "execute_request" {
			k.handle(k.shell, m)
			continue
		}
		k.status(m.HeaderRaw, "busy")
		k.send(k.shell, m, "execute_reply", map[string]any{"status": "aborted", "execution_count": k.execCount})
		k.status(m.HeaderRaw, "idle")
	}
}

func (k *Kernel) complete(ch *channel, m *Message) {
	var req struct {
		Code      string `json:"code"`
		CursorPos *int   `json:"cursor_pos"`
	}
	if err := json.Unmarshal(m.Content, &req); err != nil {
		k.badRequest(ch, m, err)
		return
	}
	cursor := clampCursor(req.Code, req.CursorPos)
	matches, start, end := k.exec.Complete(req.Code, cursor)
	if matches == nil {
		matches = []string{}
		start, end = cursor, cursor
	}
	k.send(ch, m, "complete_reply", map[string]any{"status": "ok", "matches": matches,
		"cursor_start": start, "cursor_end": end, "metadata": map[string]any{}})
}

// clampCursor returns the cursor in code points, defaulting to the end of the code.
func clampCursor(code string, pos *int) int {
	n := len([]rune(code))
	if pos == nil || *pos > n {
		return n
	}
	return max(*pos, 0)
}

func (k *Kernel) inspect(ch *channel, m *Message) {
	var req struct {
		Code        string `json:"code"`
		CursorPos   *int   `json:"cursor_pos"`
		DetailLevel int    `json:"detail_level"`
	}
	if err := json.Unmarshal(m.Content, &req); err != nil {
		k.badRequest(ch, m, err)
		return
	}
	b, found := k.exec.Inspect(req.Code, clampCursor(req.Code, req.CursorPos), req.DetailLevel)
	data, md := b.Data, b.Metadata
	if !found || data == nil {
		data = map[string]any{}
	}
	if md == nil {
		md = map[string]any{}
	}
	k.send(ch, m, "inspect_reply", map[string]any{"status": "ok", "found": found, "data": data, "metadata": md})
}

func (k *Kernel) isComplete(ch *channel, m *Message) {
	var req struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(m.Content, &req); err != nil {
		k.badRequest(ch, m, err)
		return
	}
	status, indent := k.exec.IsComplete(req.Code)
	reply := map[string]any{"status": status}
	if status == "incomplete" {
		reply["indent"] = indent
	}
	k.send(ch, m, "is_complete_reply", reply)
}

func (k *Kernel) history(ch *channel, m *Message) {
	var req HistoryRequest
	if err := json.Unmarshal(m.Content, &req); err != nil {
		k.badRequest(ch, m, err)
		return
	}
	k.send(ch, m, "history_reply", map[string]any{"status": "ok", "history": k.hist.query(req)})
}
