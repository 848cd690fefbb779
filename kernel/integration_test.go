package kernel

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"adjoint/internal/testutil"
)

// These tests build the adjoint binary, install its kernelspec into a temporary Jupyter path
// and drive it with Debian's jupyter_client, nbclient and jupyter_kernel_test
// (/usr/bin/python3). Without those packages they skip, except under CI=true, where they fail.

const testKernelName = "adjoint-test"

var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
	buildOut  []byte
)

// requirePython skips (fails under CI) when /usr/bin/python3 lacks the given modules.
func requirePython(t *testing.T, modules ...string) {
	t.Helper()
	code := "import " + strings.Join(modules, ", ")
	out, err := exec.Command("/usr/bin/python3", "-c", code).CombinedOutput()
	if err == nil {
		return
	}
	msg := "/usr/bin/python3 cannot `" + code + "` (install them with scripts/setup.sh): " + strings.TrimSpace(string(out))
	if os.Getenv("CI") != "" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// installedKernel builds bin/adjoint into a temporary directory once and installs the
// kernelspec there; it returns the binary and the environment for python.
func installedKernel(t *testing.T) (string, []string) {
	t.Helper()
	root := testutil.RepoRoot(t)
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "adjoint-kernel-test")
		if buildErr != nil {
			return
		}
		exe := filepath.Join(buildDir, "adjoint")
		cmd := exec.Command("go", "build", "-o", exe, "./cmd/adjoint")
		cmd.Dir = root
		if buildOut, buildErr = cmd.CombinedOutput(); buildErr != nil {
			return
		}
		cmd = exec.Command(exe, "install", "--prefix", buildDir, "--name", testKernelName)
		buildOut, buildErr = cmd.CombinedOutput()
	})
	if buildErr != nil {
		t.Fatalf("build and install the kernel: %v\n%s", buildErr, buildOut)
	}
	env := append(os.Environ(),
		"JUPYTER_PATH="+filepath.Join(buildDir, "share", "jupyter"),
		"JUPYTER_RUNTIME_DIR="+filepath.Join(buildDir, "runtime"),
		"PYTHONDONTWRITEBYTECODE=1",
		"ADJOINT_HISTORY_FILE="+historyPath())
	return filepath.Join(buildDir, "adjoint"), env
}

// historyPath is the kernels' history file during the tests.
func historyPath() string { return filepath.Join(buildDir, "history.jsonl") }

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// runPython runs a driver script from testdata and decodes the JSON it prints last.
func runPython(t *testing.T, env []string, timeout time.Duration, args ...string) map[string]any {
	t.Helper()
	stdout, stderr := runDriver(t, filepath.Join(testutil.RepoRoot(t), "kernel", "testdata"), env, timeout, args...)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	var v map[string]any
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &v); err != nil {
		t.Fatalf("%v: output is not JSON: %v\n%s\nstderr:\n%s", args, err, stdout, stderr)
	}
	if testing.Verbose() {
		t.Logf("kernel stderr:\n%s", stderr)
	}
	return v
}

// runDriver runs /usr/bin/python3 with args in dir and returns what it printed; it fails the
// test when the driver fails or has not finished within timeout (the driver is then killed).
func runDriver(t *testing.T, dir string, env []string, timeout time.Duration, args ...string) (stdout, stderr string) {
	t.Helper()
	cmd := exec.Command("/usr/bin/python3", args...)
	cmd.Dir = dir
	cmd.Env = env
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("%v: %v\nstdout:\n%s\nstderr:\n%s", args, err, out.String(), errOut.String())
		}
	case <-time.After(timeout):
		cmd.Process.Kill()
		<-done
		t.Fatalf("%v: did not finish within %v\nstdout:\n%s\nstderr:\n%s", args, timeout, out.String(), errOut.String())
	}
	return out.String(), errOut.String()
}

// get walks a decoded JSON value by keys.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func TestKernelCommandConnectionFileErrors(t *testing.T) {
	exe, _ := installedKernel(t)
	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"ip": `), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ file, want string }{
		{filepath.Join(t.TempDir(), "missing.json"), "no such file"},
		{bad, "parse connection file"},
	} {
		out, err := exec.Command(exe, "kernel", "-f", c.file).CombinedOutput()
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), c.want) {
			t.Errorf("adjoint kernel -f %s: %v, output %q; want exit 1 mentioning %q", c.file, err, out, c.want)
		}
	}
}

func TestJupyterClient(t *testing.T) {
	requirePython(t, "jupyter_client")
	_, env := installedKernel(t)
	r := runPython(t, env, 80*time.Second, "drive_kernel.py", testKernelName)
	for name, v := range r {
		if e := get(v, "exception"); e != nil {
			t.Errorf("scenario %s raised in the driver:\n%s", name, e)
		}
	}
	ki := r["kernel_info"]
	if get(ki, "protocol_version") != "5.3" || get(ki, "implementation") != "adjoint" ||
		get(ki, "language_info", "name") != "go" || !strings.Contains(get(ki, "banner").(string), "cpu") {
		t.Errorf("kernel_info: %v", ki)
	}
	t.Logf("start-up to ready: %.3fs", r["startup_s"])

	t.Run("execute", func(t *testing.T) {
		e := r["execute"]
		if get(e, "assign", "stdout") != "x is 40\n" || get(e, "assign", "status") != "ok" {
			t.Errorf("assign: %v", get(e, "assign"))
		}
		if get(e, "value", "result") != "42" || get(e, "value", "result_count") != get(e, "value", "execution_count") ||
			get(e, "value", "execution_count") != 2.0 {
			t.Errorf("value: %v", get(e, "value"))
		}
		if get(e, "silent", "result") != nil || get(e, "silent", "execution_count") != 2.0 {
			t.Errorf("silent: %v", get(e, "silent"))
		}
		types, _ := get(e, "value", "types").([]any)
		if len(types) == 0 || types[0] != "status" || types[len(types)-1] != "status" {
			t.Errorf("busy/idle around execute: %v", types)
		}
	})
	t.Run("live streams", func(t *testing.T) {
		s := r["streams"]
		first, _ := get(s, "first_stream_t").(float64)
		reply, _ := get(s, "reply_t").(float64)
		if get(s, "stdout") != "tick 0\ntick 1\ntick 2\n" {
			t.Errorf("stdout %q", get(s, "stdout"))
		}
		if first == 0 || reply-first < 0.5 {
			t.Errorf("first stream at %.2fs, reply at %.2fs: output not live", first, reply)
		}
	})
	t.Run("late goroutine output", func(t *testing.T) {
		l := r["late"]
		if get(l, "late_seen") != true || get(l, "late_after_idle") != true {
			t.Errorf("output of a goroutine after its cell ended: %v", l)
		}
	})
	t.Run("errors", func(t *testing.T) {
		for _, k := range []string{"compile", "panic"} {
			e := get(r["errors"], k)
			if get(e, "status") != "error" || get(e, "errors") != 1.0 || get(e, "ename") == "" {
				t.Errorf("%s: %v", k, e)
			}
		}
		if get(r["errors"], "after", "result") != "40" {
			t.Errorf("after errors: %v", get(r["errors"], "after"))
		}
	})
	t.Run("interrupt", func(t *testing.T) {
		i := r["interrupt"]
		// The interpreter stops a cell within about a second of the interrupt; the bound here
		// is loose because test machines are shared.
		lat, _ := get(i, "stop_latency_s").(float64)
		t.Logf("interrupt_request stopped the loop after %.2fs", lat)
		if get(i, "status") != "error" || lat == 0 || lat > 3 || get(i, "alive") != true {
			t.Errorf("interrupt: status %v, latency %.2fs, alive %v", get(i, "status"), lat, get(i, "alive"))
		}
		if get(i, "after", "result") != "40" {
			t.Errorf("variables after interrupt: %v", get(i, "after"))
		}
		s := get(i, "sigint")
		lat, _ = get(s, "stop_latency_s").(float64)
		if get(s, "status") != "error" || lat == 0 || lat > 3 || get(s, "alive") != true {
			t.Errorf("SIGINT: status %v, latency %.2fs, alive %v", get(s, "status"), lat, get(s, "alive"))
		}
	})
	t.Run("display", func(t *testing.T) {
		d, _ := get(r["display"], "displays").([]any)
		if len(d) != 3 || get(d[0], "type") != "display_data" || get(d[1], "type") != "update_display_data" ||
			get(d[0], "display_id") == nil || get(d[0], "display_id") != get(d[1], "display_id") ||
			get(d[1], "data", "text/html") != "<b>100%</b>" || get(d[2], "data", "text/markdown") != "**md**" {
			t.Errorf("displays: %v (cell %v)", d, r["display"])
		}
	})
	t.Run("stdin", func(t *testing.T) {
		s := r["stdin"]
		if get(s, "request_type") != "input_request" || get(s, "parent_matches") != true || get(s, "status") != "ok" ||
			get(s, "name") != "bob" {
			t.Errorf("input_request round trip: %v", s)
		}
		if get(s, "no_stdin", "status") != "ok" || get(s, "no_stdin", "result") != "true" {
			t.Errorf("Scanln with allow_stdin false: %v", get(s, "no_stdin"))
		}
	})
	t.Run("queries", func(t *testing.T) {
		q := r["queries"]
		for _, k := range []string{"complete", "complete_unicode"} {
			c := get(q, k)
			m, _ := get(c, "matches").([]any)
			found := false
			for _, x := range m {
				found = found || strings.HasSuffix(x.(string), "Println")
			}
			end, start := get(c, "cursor_end").(float64), get(c, "cursor_start").(float64)
			want := 8.0
			if k == "complete_unicode" {
				want = 22
			}
			if !found || end != want || start > end {
				t.Errorf("%s: %v", k, c)
			}
		}
		if get(q, "inspect", "found") != true {
			t.Errorf("inspect: %v", get(q, "inspect"))
		}
		ic := get(q, "is_complete")
		for code, want := range map[string]string{"x := 1": "complete", "for {": "incomplete",
			"func f() {\n\tif true {": "incomplete", ")": "invalid"} {
			if get(ic, code, "status") != want {
				t.Errorf("is_complete(%q) = %v, want %s", code, get(ic, code), want)
			}
		}
		tail, _ := get(q, "history_tail", "history").([]any)
		if len(tail) != 3 {
			t.Errorf("history tail: %v", get(q, "history_tail"))
		}
		search, _ := get(q, "history_search", "history").([]any)
		if len(search) < 2 {
			t.Errorf("history search x*: %v", get(q, "history_search"))
		}
		if get(q, "comm_info", "status") != "ok" {
			t.Errorf("comm_info: %v", get(q, "comm_info"))
		}
	})
	t.Run("survival", func(t *testing.T) {
		for name, s := range r["survival"].(map[string]any) {
			if get(s, "alive") != true || get(s, "after_result") != "40" {
				t.Errorf("%s: kernel did not survive: %v", name, s)
			}
			// A panic in a goroutine is reported on stderr (the cell itself succeeded).
			want := "error"
			if name == "panic_goroutine" {
				want = "ok"
			}
			if get(s, "status") != want {
				t.Errorf("%s: status %v, want %s: %v", name, get(s, "status"), want, s)
			}
		}
	})
	t.Run("history file", func(t *testing.T) {
		b, err := os.ReadFile(historyPath())
		if err != nil || !strings.Contains(string(b), `"input":"x := 40\nfmt.Println(\"x is\", x)"`) {
			t.Errorf("history file: %v\n%s", err, b)
		}
	})
	t.Run("shutdown", func(t *testing.T) {
		s := r["shutdown"]
		if get(s, "reply_type") != "shutdown_reply" || get(s, "alive") != false || get(s, "returncode") != 0.0 {
			t.Errorf("shutdown: %v", s)
		}
	})
}

func TestNbclientNotebook(t *testing.T) {
	requirePython(t, "jupyter_client", "nbclient", "nbformat")
	_, env := installedKernel(t)
	r := runPython(t, env, 60*time.Second, "run_notebook.py", testKernelName)
	cells, _ := r["cells"].([]any)
	if len(cells) != 4 {
		t.Fatalf("cells: %v", r)
	}
	out := func(i int) []any { o, _ := get(cells[i], "outputs").([]any); return o }
	var stdout, stderr string
	for _, o := range out(1) {
		switch get(o, "name") {
		case "stdout":
			stdout += get(o, "text").(string)
		case "stderr":
			stderr += get(o, "text").(string)
		}
	}
	if stdout != "n = 6\n" {
		t.Errorf("cell 1 outputs %v", out(1))
	}
	t.Run("no spurious stderr", func(t *testing.T) {
		if stderr != "" {
			t.Errorf("cell 1 wrote to stderr: %q", stderr)
		}
	})
	if o := out(2); len(o) != 1 || get(o[0], "output_type") != "execute_result" || get(o[0], "data", "text/plain") != "42" ||
		get(cells[2], "execution_count") != 2.0 {
		t.Errorf("cell 2 outputs %v", o)
	}
	if o := out(3); len(o) != 1 || get(o[0], "data", "text/html") != "<i>html</i>" {
		t.Errorf("cell 3 outputs %v", o)
	}
}

func TestJupyterKernelTestConformance(t *testing.T) {
	requirePython(t, "jupyter_client", "jupyter_kernel_test")
	_, env := installedKernel(t)
	cmd := exec.Command("/usr/bin/python3", "-m", "unittest", "-v", "conformance")
	cmd.Dir = filepath.Join(testutil.RepoRoot(t), "kernel", "testdata")
	cmd.Env = append(env, "ADJOINT_KERNEL_NAME="+testKernelName)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("jupyter_kernel_test: %v\n%s", err, out)
	}
	if !bytes.Contains(out, []byte("OK")) {
		t.Fatalf("jupyter_kernel_test:\n%s", out)
	}
}

func TestRunCommand(t *testing.T) {
	exe, _ := installedKernel(t)
	dir := t.TempDir()
	nb := `{"cells": [
  {"cell_type": "markdown", "metadata": {}, "source": ["# Run\n"]},
  {"cell_type": "code", "execution_count": null, "metadata": {"tags": ["parameters"]}, "outputs": [], "source": "n := 2\n"},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "fmt.Println(\"n is\", n)\nn * 21"},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "u := display.NewUpdatable()\nu.UpdateText(\"0%\")\nu.UpdateText(\"100%\")"},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "panic(\"stop here\")"},
  {"cell_type": "code", "execution_count": null, "metadata": {}, "outputs": [], "source": "fmt.Println(\"never\")"}
 ], "metadata": {"custom": {"keep": true}}, "nbformat": 4, "nbformat_minor": 5}`
	in := filepath.Join(dir, "in.ipynb")
	out := filepath.Join(dir, "out.ipynb")
	if err := os.WriteFile(in, []byte(nb), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "run", in, "-o", out, "--param", "n=3")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() == 0 {
		t.Fatalf("run of a failing notebook: %v, want a non-zero exit", err)
	}
	if stdout.String() != "n is 3\n" || !strings.Contains(stderr.String(), "stop here") {
		t.Errorf("terminal: stdout %q, stderr %q", stdout.String(), stderr.String())
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(b, &got); err != nil {
		t.Fatal(err)
	}
	cells := got["cells"].([]any)
	outs := func(i int) []any { o, _ := get(cells[i], "outputs").([]any); return o }
	if o := outs(2); len(o) != 2 || get(o[0], "text") != "n is 3\n" || get(o[1], "data", "text/plain") != "63" {
		t.Errorf("cell 2 outputs %v", o)
	}
	if o := outs(3); len(o) != 1 || get(o[0], "data", "text/plain") != "100%" {
		t.Errorf("cell 3 outputs (updated display) %v", o)
	}
	if o := outs(4); len(o) != 1 || get(o[0], "output_type") != "error" {
		t.Errorf("cell 4 outputs %v", o)
	}
	if get(cells[5], "execution_count") != nil || get(got, "metadata", "custom", "keep") != true {
		t.Errorf("cell after the failure or metadata changed: %v %v", cells[5], got["metadata"])
	}
	if exec.Command("/usr/bin/python3", "-c", "import nbformat").Run() == nil {
		v := exec.Command("/usr/bin/python3", "-c", "import nbformat,sys; nbformat.validate(nbformat.read(sys.argv[1], as_version=4))", out)
		if o, err := v.CombinedOutput(); err != nil {
			t.Errorf("nbformat rejects the written notebook: %v\n%s", err, o)
		}
	}

	script := filepath.Join(dir, "hello.go")
	src := "package main\n\nimport \"fmt\"\n\nfunc main() {\n\tfmt.Println(\"hello from main\")\n}\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	o, err := exec.Command(exe, "run", script).CombinedOutput()
	if err != nil || string(o) != "hello from main\n" {
		t.Errorf("run hello.go: %v, output %q", err, o)
	}
}

// TestRunScriptErrorsReachStderr runs failing scripts with `adjoint run`: the interpreter
// redirects descriptors 1 and 2, yet the command's error must still reach the terminal's stderr
// together with a non-zero exit status.
func TestRunScriptErrorsReachStderr(t *testing.T) {
	exe, _ := installedKernel(t)
	dir := t.TempDir()
	cases := []struct{ name, src, want string }{
		{"panic.go", "package main\n\nfunc main() {\n\tpanic(\"boom\")\n}\n", "panic: boom"},
		{"compile.go", "x := 1\ny := undefinedName\n", "run: "},
	}
	for _, c := range cases {
		p := filepath.Join(dir, c.name)
		if err := os.WriteFile(p, []byte(c.src), 0o644); err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd := exec.Command(exe, "run", p)
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 1 {
			t.Errorf("%s: exit %v, want status 1", c.name, err)
		}
		if !strings.Contains(stderr.String(), c.want) || !strings.Contains(stderr.String(), c.name) {
			t.Errorf("%s: stderr %q lacks %q and the file name", c.name, stderr.String(), c.want)
		}
	}
}

// TestRunFatalErrorEnds: a Go script that overflows its stack ends `adjoint run` with the
// runtime's report on the terminal, instead of hanging on a full capture pipe.
func TestRunFatalErrorEnds(t *testing.T) {
	exe, _ := installedKernel(t)
	p := filepath.Join(t.TempDir(), "overflow.go")
	src := "package main\n\nfunc f(n int) int { return f(n+1) + 1 }\n\nfunc main() {\n\tf(0)\n}\n"
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd := exec.Command(exe, "run", p)
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err == nil || !strings.Contains(stderr.String(), "stack overflow") {
			t.Errorf("adjoint run of an overflowing script: %v, stderr %.300q", err, stderr.String())
		}
	case <-time.After(2 * time.Minute):
		cmd.Process.Kill()
		<-done
		t.Fatal("adjoint run hung on a stack overflow")
	}
}
