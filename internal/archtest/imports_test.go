package archtest

import (
	"go/build"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const module = "adjoint"

// graph maps each package of the module to the packages its non-test files import.
type graph map[string][]string

// loadGraph parses the imports of every non-test Go file below root, honouring the default
// build constraints, so a file behind a tag (purego, openblas) counts only where it builds.
func loadGraph(t *testing.T, root string) graph {
	t.Helper()
	g := graph{}
	ctx := build.Default
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			name := d.Name()
			if path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "bin" || name == "third_party") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		dir, file := filepath.Split(path)
		if ok, err := ctx.MatchFile(dir, file); err != nil || !ok {
			return err
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		pkg := module
		if rel != "." {
			pkg = module + "/" + filepath.ToSlash(rel)
		}
		if _, ok := g[pkg]; !ok {
			g[pkg] = nil
		}
		for _, imp := range f.Imports {
			p, err := strconv.Unquote(imp.Path.Value)
			if err != nil {
				return err
			}
			g[pkg] = append(g[pkg], p)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("reading the module's imports: %v", err)
	}
	return g
}

// deps returns every import reachable from pkg (module packages followed transitively,
// outside packages listed where a module package imports them), each with the chain that
// reaches it.
func (g graph) deps(pkg string) map[string]string {
	out := map[string]string{}
	var walk func(p, chain string)
	walk = func(p, chain string) {
		for _, q := range g[p] {
			if _, seen := out[q]; seen {
				continue
			}
			c := chain + " → " + q
			out[q] = c
			if _, inModule := g[q]; inModule {
				walk(q, c)
			}
		}
	}
	walk(pkg, pkg)
	return out
}

func under(pkg, prefix string) bool { return pkg == prefix || strings.HasPrefix(pkg, prefix+"/") }

// rule forbids the packages under from to reach any package under one of the forbidden
// prefixes, directly or through other packages of the module. except lists packages under
// from that the rule leaves out.
type rule struct {
	from      string
	forbidden []string
	except    []string
	why       string
}

var rules = []rule{
	{from: "adjoint/lib", forbidden: []string{"adjoint/kernel", "adjoint/dsl", "adjoint/cmd",
		"github.com/traefik/yaegi", "github.com/go-zeromq/zmq4"},
		why: "the library knows nothing of kernels, notebooks or the DSL"},
	{from: "adjoint/lib/display", forbidden: []string{"adjoint/lib/adjoint", "adjoint/lib/tensor",
		"adjoint/lib/nn", "adjoint/lib/viz", "gonum.org/v1/plot"},
		why: "display is the meeting point of lib and front ends and depends on neither"},
	{from: "adjoint/dsl", forbidden: []string{"adjoint/kernel", "adjoint/cmd",
		"github.com/traefik/yaegi", "github.com/go-zeromq/zmq4"},
		why: "the DSL compiles to library values and knows nothing of the kernel"},
	{from: "adjoint/kernel", except: []string{"adjoint/kernel/interp", "adjoint/kernel/symbols"},
		forbidden: []string{"github.com/traefik/yaegi", "adjoint/dsl", "adjoint/kernel/interp",
			"adjoint/kernel/symbols", "adjoint/lib/tensor", "adjoint/lib/adjoint",
			"gonum.org/v1/plot"},
		why: "the kernel is the Jupyter protocol; the executor behind it is wired in by cmd"},
	{from: "adjoint/internal", except: []string{"adjoint/internal/archtest"},
		forbidden: []string{"adjoint/kernel", "adjoint/dsl", "adjoint/cmd"},
		why:       "internal helpers sit below every layer"},
}

func TestLayering(t *testing.T) {
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	g := loadGraph(t, root)
	if len(g) < 10 {
		t.Fatalf("found only %d packages under %s; the walk is broken", len(g), root)
	}
	pkgs := make([]string, 0, len(g))
	for p := range g {
		pkgs = append(pkgs, p)
	}
	sort.Strings(pkgs)
	for _, r := range rules {
		matched := 0
		for _, p := range pkgs {
			if !under(p, r.from) || excluded(p, r.except) {
				continue
			}
			matched++
			d := g.deps(p)
			for _, f := range r.forbidden {
				if chain := firstUnder(d, f); chain != "" {
					t.Errorf("%s must not import %s (%s): %s", p, f, r.why, chain)
				}
			}
		}
		if matched == 0 {
			t.Errorf("rule for %s matches no package", r.from)
		}
	}
}

// firstUnder returns the shortest chain (ties broken by name) to a dependency under prefix,
// or "" when there is none, so each broken rule is reported once.
func firstUnder(d map[string]string, prefix string) string {
	best := ""
	for dep, chain := range d {
		if under(dep, prefix) && (best == "" || len(chain) < len(best) || len(chain) == len(best) && chain < best) {
			best = chain
		}
	}
	return best
}

func excluded(p string, except []string) bool {
	for _, e := range except {
		if under(p, e) {
			return true
		}
	}
	return false
}

// TestRulesCatchViolations checks the checker on a made-up graph: a rule that cannot fail
// guards nothing.
func TestRulesCatchViolations(t *testing.T) {
	g := graph{
		"adjoint/kernel":        {"adjoint/lib/display", "adjoint/kernel/interp"},
		"adjoint/kernel/interp": {"github.com/traefik/yaegi/interp"},
		"adjoint/lib/display":   nil,
	}
	d := g.deps("adjoint/kernel")
	chain, ok := d["github.com/traefik/yaegi/interp"]
	if !ok {
		t.Fatalf("transitive import not found: %v", d)
	}
	want := "adjoint/kernel → adjoint/kernel/interp → github.com/traefik/yaegi/interp"
	if chain != want {
		t.Errorf("chain = %q, want %q", chain, want)
	}
}
