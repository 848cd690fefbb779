package main

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"

	"adjoint/internal/atomicfile"
)

// kernelSpecTemplate is the kernelspec written by `adjoint install`; it must stay identical to
// kernel.json at the repository root (a test checks this). argv[0] is replaced by the absolute
// path of the running binary.
//
//go:embed kernel.json.tmpl
var kernelSpecTemplate []byte

func init() {
	register("install", "install the Jupyter kernelspec (like python -m ipykernel install)", runInstall)
}

var kernelNameRE = regexp.MustCompile(`^[a-z0-9._-]+$`)

// installOptions are the flags of `adjoint install`.
type installOptions struct {
	user, sysPrefix bool
	prefix          string
	name            string
	displayName     string
}

func runInstall(args []string) error {
	fs := newFlagSet("install", "[--user | --sys-prefix | --prefix DIR] [--name NAME] [--display-name TEXT]")
	var o installOptions
	fs.BoolVar(&o.user, "user", false, "install for the current user ($JUPYTER_DATA_DIR, $XDG_DATA_HOME/jupyter or ~/.local/share/jupyter)")
	fs.BoolVar(&o.sysPrefix, "sys-prefix", false, "install into the prefix of /usr/bin/python3 (sys.prefix/share/jupyter)")
	fs.StringVar(&o.prefix, "prefix", "", "install into `DIR`/share/jupyter")
	fs.StringVar(&o.name, "name", "adjoint", "kernelspec name")
	fs.StringVar(&o.displayName, "display-name", "Go (adjoint)", "name shown by front ends")
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return fmt.Errorf("%w: unexpected arguments %q", errUsage, pos)
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("locate the adjoint binary: %w", err)
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return fmt.Errorf("locate the adjoint binary: %w", err)
	}
	dir, err := installKernelSpec(o, exe)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "Installed kernelspec %s in %s\n", strings.ToLower(o.name), dir)
	return nil
}

// kernelSpecDir returns the directory a kernelspec goes to, the way ipykernel chooses it.
func kernelSpecDir(o installOptions) (string, error) {
	n := 0
	for _, b := range []bool{o.user, o.sysPrefix, o.prefix != ""} {
		if b {
			n++
		}
	}
	if n > 1 {
		return "", fmt.Errorf("%w: --user, --sys-prefix and --prefix exclude each other", errUsage)
	}
	name := strings.ToLower(o.name)
	if !kernelNameRE.MatchString(name) {
		return "", fmt.Errorf("%w: invalid kernel name %q (letters, digits, '.', '_', '-')", errUsage, o.name)
	}
	var data string
	switch {
	case o.user:
		data = userJupyterDataDir()
		if data == "" {
			return "", fmt.Errorf("cannot find the user's Jupyter data directory (no $HOME)")
		}
	case o.sysPrefix:
		data = filepath.Join(pythonPrefix(), "share", "jupyter")
	case o.prefix != "":
		p, err := filepath.Abs(o.prefix)
		if err != nil {
			return "", fmt.Errorf("prefix %q: %w", o.prefix, err)
		}
		data = filepath.Join(p, "share", "jupyter")
	default:
		data = "/usr/local/share/jupyter"
	}
	return filepath.Join(data, "kernels", name), nil
}

// userJupyterDataDir follows jupyter_core: $JUPYTER_DATA_DIR, else $XDG_DATA_HOME/jupyter,
// else ~/.local/share/jupyter.
func userJupyterDataDir() string {
	if d := os.Getenv("JUPYTER_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "jupyter")
	}
	home, err := os.UserHomeDir()
	if err != nil || home == "" {
		return ""
	}
	return filepath.Join(home, ".local", "share", "jupyter")
}

// pythonPrefix asks /usr/bin/python3 for sys.prefix, falling back to /usr/local.
func pythonPrefix() string {
	out, err := exec.Command("/usr/bin/python3", "-c", "import sys; print(sys.prefix)").Output()
	if p := strings.TrimSpace(string(out)); err == nil && p != "" {
		return p
	}
	return "/usr/local"
}

// kernelSpec returns the kernel.json contents for the binary exe.
func kernelSpec(exe, displayName string) ([]byte, error) {
	var spec map[string]any
	if err := json.Unmarshal(kernelSpecTemplate, &spec); err != nil {
		return nil, fmt.Errorf("kernelspec template: %w", err)
	}
	argv, ok := spec["argv"].([]any)
	if !ok || len(argv) == 0 {
		return nil, fmt.Errorf("kernelspec template: no argv")
	}
	argv[0] = exe
	if displayName != "" {
		spec["display_name"] = displayName
	}
	b, err := json.MarshalIndent(spec, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("kernelspec: %w", err)
	}
	return append(b, '\n'), nil
}

// installKernelSpec writes kernel.json for exe and returns the directory.
func installKernelSpec(o installOptions, exe string) (string, error) {
	dir, err := kernelSpecDir(o)
	if err != nil {
		return "", err
	}
	b, err := kernelSpec(exe, o.displayName)
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("install kernelspec: %w", err)
	}
	if err := atomicfile.WriteFile(filepath.Join(dir, "kernel.json"), b, 0o644); err != nil {
		return "", fmt.Errorf("install kernelspec: %w", err)
	}
	return dir, nil
}
