// Package worker runs an executor in a separate process, so that nothing a cell does can
// wedge the kernel: a Go fatal error (stack overflow, out of memory, concurrent map writes)
// ends the worker process, and the supervisor — the process that owns the Jupyter sockets —
// reports it for the running cell and starts a fresh worker.
//
// The supervisor side is Client, a kernel.Executor; the worker side is Serve. They speak a
// framed protocol over two pipes: each frame is a 4-byte big-endian length and a JSON message.
// The supervisor sends execute, complete, inspect, is_complete, interrupt, input_reply and
// close; the worker answers with ready, stream, display, clear, result, the replies to the
// queries, and input_request when a cell reads its standard input.
package worker

import (
	"bufio"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sync"

	"adjoint/kernel"
	"adjoint/lib/display"
)

// maxFrame bounds one message (a large image display); longer frames are a protocol error.
const maxFrame = 256 << 20

// msg is one message of the protocol, in either direction; Op says which fields matter.
type msg struct {
	Op string `json:"op"`
	ID int64  `json:"id,omitempty"` // the request a reply or an output belongs to

	Code   string `json:"code,omitempty"`
	Cursor int    `json:"cursor,omitempty"`
	Detail int    `json:"detail,omitempty"`

	Name      string          `json:"name,omitempty"` // stream name
	Text      string          `json:"text,omitempty"`
	Bundle    *display.Bundle `json:"bundle,omitempty"`
	DisplayID string          `json:"display_id,omitempty"`
	Update    bool            `json:"update,omitempty"`
	Wait      bool            `json:"wait,omitempty"`

	Value *display.Bundle `json:"value,omitempty"` // result value
	Err   *kernel.Error   `json:"err,omitempty"`   // result error
	// Exiting marks a result after which the worker exits on purpose (a cell whose goroutines
	// cannot be stopped): the client waits for the exit before it answers, so the next cell
	// goes to a fresh worker instead of meeting the dying one.
	Exiting bool `json:"exiting,omitempty"`

	Matches []string `json:"matches,omitempty"`
	Start   int      `json:"start,omitempty"`
	End     int      `json:"end,omitempty"`
	Found   bool     `json:"found,omitempty"`
	Status  string   `json:"status,omitempty"`
	Indent  string   `json:"indent,omitempty"`

	Prompt   string `json:"prompt,omitempty"`
	Password bool   `json:"password,omitempty"`
	Input    string `json:"input,omitempty"`
	InputErr string `json:"input_err,omitempty"`
}

// conn reads and writes frames; writes are serialised.
type conn struct {
	r  *bufio.Reader
	mu sync.Mutex
	w  io.Writer
}

func newConn(r io.Reader, w io.Writer) *conn {
	return &conn{r: bufio.NewReaderSize(r, 64<<10), w: w}
}

func (c *conn) send(m *msg) error {
	b, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("worker protocol: encode %s: %w", m.Op, err)
	}
	frame := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(frame, uint32(len(b)))
	copy(frame[4:], b)
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, err := c.w.Write(frame); err != nil {
		return fmt.Errorf("worker protocol: send %s: %w", m.Op, err)
	}
	return nil
}

// errFrame reports a malformed frame.
var errFrame = errors.New("worker protocol: malformed frame")

func (c *conn) recv() (*msg, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(c.r, hdr[:]); err != nil {
		return nil, err
	}
	n := binary.BigEndian.Uint32(hdr[:])
	if n > maxFrame {
		return nil, fmt.Errorf("%w: %d bytes", errFrame, n)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(c.r, b); err != nil {
		return nil, fmt.Errorf("worker protocol: short frame: %w", err)
	}
	var m msg
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("%w: %v", errFrame, err)
	}
	return &m, nil
}
