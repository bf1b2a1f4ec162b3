package main

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
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

// heavyAtInit are SDK packages that build their operation schemas in
// package init (1 to 5 ms each, GODEBUG=inittrace=1), a price every
// process would pay, `version` and --offline included. Verify's calls to
// these services go through render/remote's small signed client instead.
var heavyAtInit = []string{
	"github.com/aws/aws-sdk-go-v2/service/ecs",
	"github.com/aws/aws-sdk-go-v2/service/ssm",
	"github.com/aws/aws-sdk-go-v2/service/iam",
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager",
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs",
	"github.com/aws/aws-sdk-go-v2/service/elasticloadbalancingv2",
	"github.com/russross/blackfriday/v2",
}

// TestNotLinked fails when the shipped binary (built with the release's
// tags) links a package of heavyAtInit.
func TestNotLinked(t *testing.T) {
	t.Parallel()
	out, err := exec.Command("go", "list", "-tags", releaseTags, "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	deps := strings.Fields(string(out))
	for _, heavy := range heavyAtInit {
		for _, d := range deps {
			if d == heavy || strings.HasPrefix(d, heavy+"/") {
				t.Errorf("the binary links %s (go list -deps): its init runs at every start", d)
				break
			}
		}
	}
}

// releaseTags are the build tags every shipped build uses: without docs,
// urfave/cli links a Markdown renderer whose init costs about 0.4 ms.
const releaseTags = "urfave_cli_no_docs"

// TestReleaseTags keeps the builds that ship or are measured on the same
// tags as TestNotLinked checks.
func TestReleaseTags(t *testing.T) {
	t.Parallel()
	for _, f := range []string{".ci/release", ".ci/bench", "Dockerfile"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(string(b), "-tags "+releaseTags) {
			t.Errorf("%s does not build with -tags %s", f, releaseTags)
		}
	}
}
