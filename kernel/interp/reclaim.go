package interp

import (
	"go/ast"
	"go/parser"
	"go/token"
	"reflect"
	"sync"
	"unsafe"

	yaegi "github.com/traefik/yaegi/interp"
)

// yaegi (v0.16.1, pinned in go.mod) keeps more of every evaluated cell than later cells need,
// so that a long session grows by kilobytes per cell and keeps every value a cell ever computed:
//
//   - Interpreter.roots holds the syntax tree of every compiled source (only its debugger reads
//     it), and each scope holds its child scopes (again only for the debugger), which in turn
//     hold symbols and their nodes;
//   - every compile adds three files to the interpreter's FileSet (two of them only to read the
//     first token and the build constraints);
//   - the statements of a cell run in the global frame: each temporary value (a call's result,
//     a conversion, a loop variable) gets a slot there that is never reused, and keeps the value
//     it last held, so `x = make([]float64, n)` keeps every earlier slice alive;
//   - `x := …` in a later cell adds a new slot for x and leaves the old value in the old one.
//
// reclaimer undoes this after each evaluation, through the interpreter's fields (as stop.go
// does; the fields are checked when the interpreter is created, and without them nothing is
// reclaimed). What it releases is what no compiled code can reach any more:
//
//   - the debugger's lists (roots, the children of the package scope);
//   - the FileSet files of the evaluation, except the one of a source that declares functions
//     (their positions are needed when they panic later);
//   - the global-frame slots the evaluation added that belong to no package-level symbol,
//     unless the source has a function literal (a closure may refer to a block variable of
//     the cell through its slot); those past the last symbol's are removed from the frame,
//     so that the next evaluation reuses them;
//   - the old slot of a package-level variable declared again, unless the name occurs in the
//     body of a function or function literal of any earlier evaluation (that code reads the
//     old slot).
//
// A released slot gets a fresh zero value rather than being zeroed in place: a pointer taken
// to the old value (p := &x, or &T{…}) keeps pointing to it.
type reclaimer struct {
	fset     *token.FileSet
	roots    *[]unsafe.Pointer // Interpreter.roots ([]*node)
	data     *[]reflect.Value  // Interpreter.frame.data, the global frame
	frameMu  *sync.RWMutex     // Interpreter.frame.mutex
	types    *[]reflect.Type   // Interpreter.universe.types, the global frame's layout
	mainT    *[]reflect.Type   // Interpreter.scopes["main"].types, the same layout
	scopes   reflect.Value     // Interpreter.scopes (map[string]*scope), read only
	generic  reflect.Value     // Interpreter.generic (map[string]*node), read only
	child    *[]unsafe.Pointer // Interpreter.scopes["main"].child ([]*scope)
	captured map[string]bool   // names used inside function bodies evaluated so far
}

// reclaimMark is the interpreter's state before an evaluation.
type reclaimMark struct {
	base   int            // FileSet base
	nTypes int            // slots of the global frame
	nChild int            // child scopes of the main package scope
	nScope int            // package scopes
	nGen   int            // instantiated generic functions
	syms   map[string]int // package-level symbols of main and their slots
}

// newReclaimer returns nil when the interpreter's fields are not those of yaegi v0.16.1.
// The main package scope must exist (call it after the first evaluation).
func newReclaimer(yi *yaegi.Interpreter) *reclaimer {
	v := reflect.ValueOf(yi).Elem()
	roots := v.FieldByName("roots")
	frame := v.FieldByName("frame")
	universe := v.FieldByName("universe")
	scopes := v.FieldByName("scopes")
	if !roots.IsValid() || roots.Kind() != reflect.Slice || roots.Type().Elem().Kind() != reflect.Pointer ||
		!frame.IsValid() || frame.Kind() != reflect.Pointer || frame.IsNil() ||
		!universe.IsValid() || universe.Kind() != reflect.Pointer || universe.IsNil() ||
		!scopes.IsValid() || scopes.Kind() != reflect.Map || scopes.Type().Key().Kind() != reflect.String {
		return nil
	}
	data := frame.Elem().FieldByName("data")
	mu := frame.Elem().FieldByName("mutex")
	types := universe.Elem().FieldByName("types")
	if !data.IsValid() || data.Type() != reflect.TypeOf([]reflect.Value(nil)) ||
		!mu.IsValid() || mu.Type() != reflect.TypeOf(sync.RWMutex{}) ||
		!types.IsValid() || types.Type() != reflect.TypeOf([]reflect.Type(nil)) {
		return nil
	}
	main := scopes.MapIndex(reflect.ValueOf("main"))
	if !main.IsValid() || main.Kind() != reflect.Pointer || main.IsNil() {
		return nil
	}
	child := main.Elem().FieldByName("child")
	if !child.IsValid() || child.Kind() != reflect.Slice || child.Type().Elem() != main.Type() {
		return nil
	}
	sym := main.Elem().FieldByName("sym")
	if !sym.IsValid() || sym.Kind() != reflect.Map || sym.Type().Elem().Kind() != reflect.Pointer {
		return nil
	}
	if idx, ok := sym.Type().Elem().Elem().FieldByName("index"); !ok || idx.Type.Kind() != reflect.Int {
		return nil
	}
	generic := v.FieldByName("generic")
	mainTypes := main.Elem().FieldByName("types")
	if !generic.IsValid() || generic.Kind() != reflect.Map || !mainTypes.IsValid() || mainTypes.Type() != types.Type() {
		return nil
	}
	// An addressable view of the main scope: Interpreter.scopes holds pointers, so the scope
	// itself is addressable through them.
	mainAddr := reflect.NewAt(main.Type().Elem(), main.UnsafePointer()).Elem()
	childAddr := mainAddr.FieldByName("child")
	return &reclaimer{
		fset:     yi.FileSet(),
		roots:    (*[]unsafe.Pointer)(unsafe.Pointer(roots.UnsafeAddr())),
		data:     (*[]reflect.Value)(unsafe.Pointer(data.UnsafeAddr())),
		frameMu:  (*sync.RWMutex)(unsafe.Pointer(mu.UnsafeAddr())),
		types:    (*[]reflect.Type)(unsafe.Pointer(types.UnsafeAddr())),
		mainT:    (*[]reflect.Type)(unsafe.Pointer(mainAddr.FieldByName("types").UnsafeAddr())),
		scopes:   scopes,
		generic:  generic,
		child:    (*[]unsafe.Pointer)(unsafe.Pointer(childAddr.UnsafeAddr())),
		captured: map[string]bool{},
	}
}

// mark records the state before an evaluation. The caller holds the evaluation slot.
func (r *reclaimer) mark() reclaimMark {
	if r == nil {
		return reclaimMark{}
	}
	return reclaimMark{base: r.fset.Base(), nTypes: len(*r.types), nChild: len(*r.child),
		nScope: r.scopes.Len(), nGen: r.generic.Len(), syms: r.mainSyms()}
}

// mainSyms returns the slots of the package-level symbols of main.
func (r *reclaimer) mainSyms() map[string]int {
	m := map[string]int{}
	main := r.scopes.MapIndex(reflect.ValueOf("main"))
	if !main.IsValid() || main.IsNil() {
		return m
	}
	it := main.Elem().FieldByName("sym").MapRange()
	for it.Next() {
		if s := it.Value(); !s.IsNil() {
			m[it.Key().String()] = int(s.Elem().FieldByName("index").Int())
		}
	}
	return m
}

// usedSlots returns the slots of every symbol of every package scope (main, and packages
// imported from source, which share the global frame).
func (r *reclaimer) usedSlots() map[int]bool {
	used := map[int]bool{}
	it := r.scopes.MapRange()
	for it.Next() {
		sc := it.Value()
		if sc.IsNil() {
			continue
		}
		st := sc.Elem().FieldByName("sym").MapRange()
		for st.Next() {
			if s := st.Value(); !s.IsNil() {
				if k := int(s.Elem().FieldByName("index").Int()); k >= 0 {
					used[k] = true
				}
			}
		}
	}
	return used
}

// release frees what the evaluation of src since m left behind and no code can reach. The
// caller holds the evaluation slot, and the evaluated code has returned.
func (r *reclaimer) release(m reclaimMark, src string) {
	if r == nil {
		return
	}
	info := analyse(src)

	// The debugger's lists.
	*r.roots = nil
	if c := *r.child; len(c) > m.nChild {
		clear(c[m.nChild:])
		*r.child = c[:m.nChild]
	}

	// FileSet files: keep the last one (the source itself) only when it declares functions.
	var files []*token.File
	r.fset.Iterate(func(f *token.File) bool {
		if f.Base() >= m.base {
			files = append(files, f)
		}
		return true
	})
	if info.funcs && len(files) > 0 {
		files = files[:len(files)-1]
	}
	for _, f := range files {
		r.fset.RemoveFile(f)
	}

	// Global-frame slots.
	for name := range info.captured {
		r.captured[name] = true
	}
	var free []int
	used := r.usedSlots()
	now := r.mainSyms()
	for name, old := range m.syms {
		if k, ok := now[name]; ok && k != old && old >= 0 && !used[old] && !r.captured[name] {
			free = append(free, old)
		}
	}
	cut := -1 // the global frame's new length, when its tail can be reused
	if !info.closures {
		cut = m.nTypes
		for k := m.nTypes; k < len(*r.types); k++ {
			if used[k] {
				cut = k + 1
			} else {
				free = append(free, k)
			}
		}
		// Slots past cut are reused by the next evaluation, unless some code compiled now
		// may outlive it with its own view of the layout: a generic function instantiated
		// (kept for later calls) or a package imported from source.
		if r.generic.Len() != m.nGen || r.scopes.Len() != m.nScope || len(*r.mainT) != len(*r.types) {
			cut = -1
		}
	}
	if len(free) == 0 {
		return
	}
	r.frameMu.Lock()
	defer r.frameMu.Unlock()
	data, types := *r.data, *r.types
	for _, k := range free {
		if k < len(data) && k < len(types) && types[k] != nil && (cut < 0 || k < cut) {
			data[k] = reflect.New(types[k]).Elem()
		}
	}
	if cut >= 0 && cut < len(types) {
		if cut < len(data) {
			clear(data[cut:])
			*r.data = data[:cut]
		}
		clear(types[cut:])
		*r.types = types[:cut]
		*r.mainT = types[:cut]
	}
}

// srcInfo is what release needs to know about an evaluated source.
type srcInfo struct {
	funcs    bool            // declares a function or method, or has a function literal
	closures bool            // has a function literal
	captured map[string]bool // identifiers in the bodies of its functions and literals
}

// analyse parses src as declarations or, failing that, as statements. A source that parses as
// neither is taken to have functions and closures (nothing of it is released).
func analyse(src string) srcInfo {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "", "package p;"+src, parser.SkipObjectResolution)
	if err != nil {
		f, err = parser.ParseFile(fset, "", "package p; func _() {"+src+"\n}", parser.SkipObjectResolution)
		if err != nil {
			return srcInfo{funcs: true, closures: true}
		}
		info := srcInfo{captured: map[string]bool{}}
		literals(f.Decls[0].(*ast.FuncDecl).Body, &info) // the wrapper is not a function of src
		return info
	}
	info := srcInfo{captured: map[string]bool{}}
	for _, d := range f.Decls {
		if fd, ok := d.(*ast.FuncDecl); ok {
			// Function literals inside a function live in its frame, not the global one.
			info.funcs = true
			if fd.Body != nil {
				collectIdents(fd.Body, info.captured)
			}
			continue
		}
		literals(d, &info)
	}
	return info
}

// literals records the function literals under n, outside of function declarations.
func literals(n ast.Node, info *srcInfo) {
	ast.Inspect(n, func(n ast.Node) bool {
		if fl, ok := n.(*ast.FuncLit); ok {
			info.funcs, info.closures = true, true
			collectIdents(fl.Body, info.captured)
			return false
		}
		return true
	})
}

func collectIdents(n ast.Node, into map[string]bool) {
	ast.Inspect(n, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok {
			into[id.Name] = true
		}
		return true
	})
}
