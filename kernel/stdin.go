package kernel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"
)

// ErrNoStdin is returned by Input when the running cell's request does not allow input
// (allow_stdin false) or no cell is running.
var ErrNoStdin = errors.New("the front end does not accept input requests for this cell")

// inputState is the request whose cell may ask for input, and the replies coming back.
type inputState struct {
	mu      sync.Mutex
	req     *Message // the running execute_request, when it allows stdin
	ctx     context.Context
	replies chan *Message
}

func (s *inputState) set(req *Message, ctx context.Context) {
	s.mu.Lock()
	s.req, s.ctx = req, ctx
	s.mu.Unlock()
}

// deliver hands an input_reply to a waiting Input; others are logged by the caller.
func (s *inputState) deliver(m *Message) bool {
	if m.Header.MsgType != "input_reply" {
		return false
	}
	select {
	case s.replies <- m:
	default: // nobody is waiting: drop it
	}
	return true
}

// Input asks the front end for one line of input on behalf of the running cell (an
// input_request on the stdin channel) and returns the reply without its newline. It fails
// with ErrNoStdin when the cell's request did not allow stdin, and returns early when the
// cell is interrupted.
func (k *Kernel) Input(prompt string, password bool) (string, error) {
	k.input.mu.Lock()
	req, ctx := k.input.req, k.input.ctx
	k.input.mu.Unlock()
	if req == nil {
		return "", ErrNoStdin
	}
	// Drop a stale reply.
	select {
	case <-k.input.replies:
	default:
	}
	k.send(k.stdin, req, "input_request", map[string]any{"prompt": prompt, "password": password})
	for {
		select {
		case m := <-k.input.replies:
			var c struct {
				Value string `json:"value"`
			}
			if err := json.Unmarshal(m.Content, &c); err != nil {
				return "", fmt.Errorf("input_reply: %w", err)
			}
			return c.Value, nil
		case <-ctx.Done():
			return "", fmt.Errorf("input: %w", ctx.Err())
		case <-k.ctx.Done():
			return "", io.EOF
		}
	}
}

// Stdin returns a reader for the interpreter's standard input: each time its buffer is empty,
// a read asks the front end for a line (Input). Without a front end that accepts input it
// reads as end of file.
func (k *Kernel) Stdin() io.Reader { return &stdinReader{k: k} }

type stdinReader struct {
	k   *Kernel
	mu  sync.Mutex
	buf []byte
}

func (r *stdinReader) Read(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		line, err := r.k.Input("", false)
		if err != nil {
			return 0, io.EOF
		}
		r.buf = append(r.buf, line...)
		r.buf = append(r.buf, '\n')
	}
	n := copy(p, r.buf)
	r.buf = r.buf[n:]
	return n, nil
}
