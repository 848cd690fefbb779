// Package apidigest fingerprints the exported API of a Go package directory: its exported
// declarations (without function bodies) and their doc comments. The symbol tables and the
// documentation index depend on exactly that, so a changed digest means they are stale.
package apidigest

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"go/ast"
	"go/build"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"sort"
	"strings"
)

// Dir returns the digest of the package in dir (files selected by the default build context).
func Dir(dir string) (string, error) {
	bp, err := build.Default.ImportDir(dir, 0)
	if err != nil {
		return "", fmt.Errorf("apidigest: %w", err)
	}
	fset := token.NewFileSet()
	var parts []string
	add := func(doc *ast.CommentGroup, n any) {
		var b strings.Builder
		if doc != nil {
			b.WriteString(doc.Text())
		}
		if err := printer.Fprint(&b, fset, n); err != nil {
			return
		}
		parts = append(parts, b.String())
	}
	for _, name := range bp.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(dir, name), nil, parser.ParseComments|parser.SkipObjectResolution)
		if err != nil {
			return "", fmt.Errorf("apidigest: %w", err)
		}
		for _, d := range f.Decls {
			switch d := d.(type) {
			case *ast.FuncDecl:
				if !d.Name.IsExported() || (d.Recv != nil && !exportedRecv(d.Recv)) {
					continue
				}
				c := *d
				c.Body, c.Doc = nil, nil
				add(d.Doc, &c)
			case *ast.GenDecl:
				for _, sp := range d.Specs {
					switch sp := sp.(type) {
					case *ast.TypeSpec:
						if sp.Name.IsExported() {
							add(firstDoc(sp.Doc, d.Doc), sp)
						}
					case *ast.ValueSpec:
						for _, n := range sp.Names {
							if n.IsExported() {
								add(firstDoc(sp.Doc, d.Doc), d.Tok.String())
								add(nil, sp)
								break
							}
						}
					}
				}
			}
		}
	}
	sort.Strings(parts)
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:8]), nil
}

func firstDoc(a, b *ast.CommentGroup) *ast.CommentGroup {
	if a != nil {
		return a
	}
	return b
}

func exportedRecv(fl *ast.FieldList) bool {
	if len(fl.List) != 1 {
		return false
	}
	t := fl.List[0].Type
	for {
		switch x := t.(type) {
		case *ast.StarExpr:
			t = x.X
		case *ast.IndexExpr:
			t = x.X
		case *ast.IndexListExpr:
			t = x.X
		case *ast.Ident:
			return x.IsExported()
		default:
			return false
		}
	}
}
