package kernel

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
)

// ConnectionInfo is the content of a Jupyter connection file.
type ConnectionInfo struct {
	Transport       string `json:"transport"`
	IP              string `json:"ip"`
	ShellPort       int    `json:"shell_port"`
	ControlPort     int    `json:"control_port"`
	StdinPort       int    `json:"stdin_port"`
	IOPubPort       int    `json:"iopub_port"`
	HBPort          int    `json:"hb_port"`
	SignatureScheme string `json:"signature_scheme"`
	Key             string `json:"key"`
	KernelName      string `json:"kernel_name,omitempty"`
}

// ReadConnectionFile reads and validates a connection file.
func ReadConnectionFile(path string) (ConnectionInfo, error) {
	var ci ConnectionInfo
	if path == "" {
		return ci, errors.New("no connection file given (-f FILE)")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return ci, fmt.Errorf("read connection file: %w", err)
	}
	return ParseConnectionInfo(b)
}

// ParseConnectionInfo decodes and validates the JSON of a connection file. The file must
// name a key: an empty one ("key": "") turns message signing off, a missing one is an error
// rather than a silent downgrade to unsigned messages.
func ParseConnectionInfo(b []byte) (ConnectionInfo, error) {
	var ci ConnectionInfo
	if err := json.Unmarshal(b, &ci); err != nil {
		return ci, fmt.Errorf("parse connection file: %w", err)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(b, &fields); err != nil {
		return ci, fmt.Errorf("parse connection file: %w", err)
	}
	if _, ok := fields["key"]; !ok {
		return ci, errors.New(`connection file: no key (write "key": "" to run without message signing)`)
	}
	if ci.Transport == "" {
		ci.Transport = "tcp"
	}
	if ci.Transport != "tcp" && ci.Transport != "ipc" {
		return ci, fmt.Errorf("connection file: unsupported transport %q", ci.Transport)
	}
	if ci.IP == "" {
		return ci, errors.New("connection file: no ip")
	}
	if ci.SignatureScheme != "" && ci.SignatureScheme != "hmac-sha256" {
		return ci, fmt.Errorf("connection file: unsupported signature_scheme %q (want hmac-sha256)", ci.SignatureScheme)
	}
	for _, p := range []struct {
		name string
		port int
	}{{"shell_port", ci.ShellPort}, {"control_port", ci.ControlPort}, {"stdin_port", ci.StdinPort},
		{"iopub_port", ci.IOPubPort}, {"hb_port", ci.HBPort}} {
		if ci.Transport == "tcp" && (p.port <= 0 || p.port > 65535) {
			return ci, fmt.Errorf("connection file: %s missing or out of range (%d)", p.name, p.port)
		}
	}
	return ci, nil
}

// endpoint returns the ZeroMQ address of one channel.
func (ci ConnectionInfo) endpoint(port int) string {
	if ci.Transport == "ipc" {
		return fmt.Sprintf("ipc://%s-%d", ci.IP, port)
	}
	// JoinHostPort brackets an IPv6 address, which the transport needs to bind it.
	return "tcp://" + net.JoinHostPort(ci.IP, strconv.Itoa(port))
}
