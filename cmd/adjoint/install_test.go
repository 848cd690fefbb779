package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"adjoint/internal/testutil"
)

func TestKernelSpecTemplateMatchesRepo(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testutil.RepoRoot(t), "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(b, kernelSpecTemplate) {
		t.Fatal("cmd/adjoint/kernel.json.tmpl differs from kernel.json at the repository root; copy one onto the other")
	}
}

func TestKernelSpecDir(t *testing.T) {
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("JUPYTER_DATA_DIR", "")
	t.Setenv("XDG_DATA_HOME", "")
	prefix := t.TempDir()
	cases := []struct {
		name string
		o    installOptions
		env  map[string]string
		want string // "" means an error
	}{
		{"default", installOptions{name: "adjoint"}, nil, "/usr/local/share/jupyter/kernels/adjoint"},
		{"user", installOptions{user: true, name: "adjoint"}, nil, filepath.Join(home, ".local/share/jupyter/kernels/adjoint")},
		{"user xdg", installOptions{user: true, name: "Adj"}, map[string]string{"XDG_DATA_HOME": "/x"}, "/x/jupyter/kernels/adj"},
		{"user jupyter data dir", installOptions{user: true, name: "adjoint"}, map[string]string{"JUPYTER_DATA_DIR": "/j"}, "/j/kernels/adjoint"},
		{"prefix", installOptions{prefix: prefix, name: "go2"}, nil, filepath.Join(prefix, "share/jupyter/kernels/go2")},
		{"two places", installOptions{user: true, prefix: prefix, name: "adjoint"}, nil, ""},
		{"bad name", installOptions{user: true, name: "a b/c"}, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			got, err := kernelSpecDir(c.o)
			if c.want == "" {
				if err == nil {
					t.Fatalf("accepted, dir %s", got)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("got %q, %v; want %q", got, err, c.want)
			}
		})
	}
	// sys-prefix asks Debian's python for sys.prefix.
	out, err := exec.Command("/usr/bin/python3", "-c", "import sys; print(sys.prefix)").Output()
	if err == nil {
		got, err := kernelSpecDir(installOptions{sysPrefix: true, name: "adjoint"})
		want := filepath.Join(strings.TrimSpace(string(out)), "share/jupyter/kernels/adjoint")
		if err != nil || got != want {
			t.Fatalf("sys-prefix: got %q, %v; want %q", got, err, want)
		}
	}
}

func TestInstallFoundByJupyter(t *testing.T) {
	prefix := t.TempDir()
	exe := "/opt/some where/adjoint"
	dir, err := installKernelSpec(installOptions{prefix: prefix, name: "adjoint-test", displayName: "Go (test)"}, exe)
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(dir, "kernel.json"))
	if err != nil {
		t.Fatal(err)
	}
	var spec struct {
		Argv          []string `json:"argv"`
		DisplayName   string   `json:"display_name"`
		Language      string   `json:"language"`
		InterruptMode string   `json:"interrupt_mode"`
	}
	if err := json.Unmarshal(b, &spec); err != nil {
		t.Fatal(err)
	}
	if strings.Join(spec.Argv, "|") != exe+"|kernel|-f|{connection_file}" || spec.DisplayName != "Go (test)" ||
		spec.Language != "go" || spec.InterruptMode != "message" {
		t.Fatalf("kernel.json: %s", b)
	}
	// Jupyter itself must find it.
	py := `import json, sys
from jupyter_client.kernelspec import KernelSpecManager
m = KernelSpecManager()
s = m.get_kernel_spec("adjoint-test")
print(json.dumps({"dir": s.resource_dir, "argv": s.argv, "display_name": s.display_name}))`
	cmd := exec.Command("/usr/bin/python3", "-c", py)
	cmd.Env = append(os.Environ(), "JUPYTER_PATH="+filepath.Join(prefix, "share", "jupyter"))
	out, err := cmd.CombinedOutput()
	if err != nil {
		requireJupyter(t, string(out))
		t.Fatalf("KernelSpecManager: %v\n%s", err, out)
	}
	var got struct {
		Dir         string   `json:"dir"`
		Argv        []string `json:"argv"`
		DisplayName string   `json:"display_name"`
	}
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if got.Dir != dir || got.Argv[0] != exe || got.DisplayName != "Go (test)" {
		t.Fatalf("jupyter found %+v, want dir %s", got, dir)
	}
}

// requireJupyter skips when Debian's jupyter_client is absent, except in CI, where it fails.
func requireJupyter(t *testing.T, detail string) {
	t.Helper()
	if exec.Command("/usr/bin/python3", "-c", "import jupyter_client").Run() == nil {
		return
	}
	msg := "/usr/bin/python3 cannot import jupyter_client (run scripts/setup.sh): " + detail
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}
