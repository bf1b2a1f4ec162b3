package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"
)

// initWork names the calls that must not run in a package-level var's
// initializer: they run at the start of every process, `ecsrender version`
// and --offline included, whether the run needs them or not. A regexp
// compiles on first use through render/internal/lazyre, or is a loop.
var initWork = map[string]bool{
	"regexp.MustCompile": true, "regexp.Compile": true, "regexp.MustCompilePOSIX": true,
	"template.Must": true, "json.Unmarshal": true, "yaml.Unmarshal": true,
}

// TestNoWorkAtInit keeps start-up to what every run needs: no
// package-level var of the shipped code (tests and generators aside) is
// initialized by one of the calls above.
func TestNoWorkAtInit(t *testing.T) {
	t.Parallel()
	fset := token.NewFileSet()
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "modelgen" || d.Name() == "awstest") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		for _, decl := range f.Decls {
			gd, ok := decl.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			ast.Inspect(gd, func(n ast.Node) bool {
				// A func literal's body runs when called, not at init.
				if _, ok := n.(*ast.FuncLit); ok {
					return false
				}
				call, ok := n.(*ast.CallExpr)
				if !ok {
					return true
				}
				if sel, ok := call.Fun.(*ast.SelectorExpr); ok {
					if x, ok := sel.X.(*ast.Ident); ok && initWork[x.Name+"."+sel.Sel.Name] {
						t.Errorf("%s: package-level %s.%s runs at every start; compile on first use (render/internal/lazyre)",
							fset.Position(call.Pos()), x.Name, sel.Sel.Name)
					}
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
