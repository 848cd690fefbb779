package kernel

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestReadConnectionFile(t *testing.T) {
	dir := t.TempDir()
	good := `{"transport":"tcp","ip":"127.0.0.1","shell_port":1,"control_port":2,"stdin_port":3,
		"iopub_port":4,"hb_port":5,"signature_scheme":"hmac-sha256","key":"abc"}`
	for _, c := range []struct {
		name, content, wantErr string
	}{
		{"good", good, ""},
		{"malformed", `{"ip":`, "parse connection file"},
		{"no ip", strings.Replace(good, `"127.0.0.1"`, `""`, 1), "no ip"},
		{"missing port", strings.Replace(good, `"hb_port":5`, `"hb_port":0`, 1), "hb_port"},
		{"bad scheme", strings.Replace(good, "hmac-sha256", "hmac-md5", 1), "signature_scheme"},
		{"bad transport", strings.Replace(good, `"tcp"`, `"udp"`, 1), "transport"},
		{"no key", strings.Replace(good, `,"key":"abc"`, ``, 1), "no key"},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := filepath.Join(dir, c.name+".json")
			if err := os.WriteFile(p, []byte(c.content), 0o600); err != nil {
				t.Fatal(err)
			}
			ci, err := ReadConnectionFile(p)
			if c.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				if ci.endpoint(ci.ShellPort) != "tcp://127.0.0.1:1" || ci.Key != "abc" {
					t.Fatalf("got %+v", ci)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), c.wantErr) {
				t.Fatalf("error %v, want one mentioning %q", err, c.wantErr)
			}
		})
	}
	if _, err := ReadConnectionFile(filepath.Join(dir, "absent.json")); err == nil {
		t.Fatal("missing file accepted")
	}
	if _, err := ReadConnectionFile(""); err == nil {
		t.Fatal("empty path accepted")
	}
}

func TestEmptyKeyMeansNoSigning(t *testing.T) {
	ci, err := ParseConnectionInfo([]byte(`{"ip":"127.0.0.1","shell_port":1,"control_port":2,"stdin_port":3,
		"iopub_port":4,"hb_port":5,"key":""}`))
	if err != nil || ci.Key != "" {
		t.Fatalf("empty key: %+v, %v", ci, err)
	}
}

func TestEndpoints(t *testing.T) {
	for _, c := range []struct {
		ci   ConnectionInfo
		want string
	}{
		{ConnectionInfo{Transport: "tcp", IP: "127.0.0.1"}, "tcp://127.0.0.1:5555"},
		{ConnectionInfo{Transport: "tcp", IP: "::1"}, "tcp://[::1]:5555"},
		{ConnectionInfo{Transport: "ipc", IP: "/tmp/k"}, "ipc:///tmp/k-5555"},
	} {
		if got := c.ci.endpoint(5555); got != c.want {
			t.Errorf("endpoint(%+v) = %q, want %q", c.ci, got, c.want)
		}
	}
}
