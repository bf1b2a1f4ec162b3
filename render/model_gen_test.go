package render

import (
	"bytes"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
	"github.com/google/go-cmp/cmp"
)

// TestModelGenerated fails when model_gen.go is not what go generate would
// write now: after an SDK upgrade, or after an edit to internal/modelgen.
func TestModelGenerated(t *testing.T) {
	t.Parallel()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("no go command to run the generator: %v", err)
	}
	cmd := exec.Command(goBin, "run", "./internal/modelgen", "-o", "-")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	want, err := cmd.Output()
	if err != nil {
		t.Fatalf("go run ./internal/modelgen: %v\n%s", err, stderr.Bytes())
	}
	got, err := os.ReadFile("model_gen.go")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("model_gen.go is stale; run go generate ./render (-generator +file):\n%s", diff)
	}
}

// TestModelMatchesReflection compares the generated model with the one
// render built by reflection over the SDK types before the table was
// generated: the same tree, and the same sharing (one *Shape per ECS
// structure), so that nothing that walks the model can tell them apart.
func TestModelMatchesReflection(t *testing.T) {
	t.Parallel()
	want := reflectShape(reflect.TypeFor[ecs.RegisterTaskDefinitionInput](), map[reflect.Type]*Shape{})
	got := taskDefinitionShape()
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("generated model (-reflection +generated):\n%s", diff)
	}
	// cmp compares values; the pointers must also pair up one to one.
	fwd, back := map[*Shape]*Shape{}, map[*Shape]*Shape{}
	var pair func(path string, w, g *Shape)
	pair = func(path string, w, g *Shape) {
		if (w == nil) != (g == nil) {
			t.Errorf("%s: reflection %v, generated %v", path, w, g)
			return
		}
		if w == nil {
			return
		}
		if p, ok := fwd[w]; ok {
			if p != g {
				t.Errorf("%s: reflection shares its %s shape here, the generated model does not", path, w.Name)
			}
			return
		}
		if _, ok := back[g]; ok {
			t.Errorf("%s: the generated model shares its %s shape here, reflection does not", path, g.Name)
			return
		}
		fwd[w], back[g] = g, w
		pair(path+"[]", w.Elem, g.Elem)
		for k, f := range w.Fields {
			pair(path+"."+k, f, g.Fields[k])
		}
	}
	pair("RegisterTaskDefinitionInput", want, got)
	if len(fwd) < 100 {
		t.Errorf("walked %d shapes, want the whole model", len(fwd))
	}
}

var reflectUnionMembers = map[reflect.Type][]reflect.Type{
	reflect.TypeFor[types.SharingStrategy](): {reflect.TypeFor[types.SharingStrategyMemberNvidiaMps]()},
}

// reflectShape is the run-time derivation that model_gen.go replaced, kept
// verbatim as the reference the generated table must equal.
func reflectShape(t reflect.Type, seen map[reflect.Type]*Shape) *Shape {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := seen[t]; ok {
		return s
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &Shape{Kind: ShapeStruct, Name: t.Name(), Fields: map[string]*Shape{}}
		seen[t] = s
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			s.Fields[lowerFirst(f.Name)] = reflectShape(f.Type, seen)
		}
		return s
	case reflect.Slice:
		return &Shape{Kind: ShapeList, Elem: reflectShape(t.Elem(), seen)}
	case reflect.Map:
		return &Shape{Kind: ShapeMap, Elem: reflectShape(t.Elem(), seen)}
	case reflect.Interface:
		members, ok := reflectUnionMembers[t]
		if !ok {
			break
		}
		s := &Shape{Kind: ShapeStruct, Name: t.Name(), Union: true, Fields: map[string]*Shape{}}
		seen[t] = s
		for _, m := range members {
			name := strings.TrimPrefix(m.Name(), t.Name()+"Member")
			f, _ := m.FieldByName("Value")
			s.Fields[lowerFirst(name)] = reflectShape(f.Type, seen)
		}
		return s
	case reflect.Bool:
		return &Shape{Kind: ShapeBoolean}
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &Shape{Kind: ShapeInteger}
	case reflect.String:
		s := &Shape{Kind: ShapeString}
		if m := reflect.Zero(t).MethodByName("Values"); m.IsValid() {
			s.Name = t.Name()
			vals := m.Call(nil)[0]
			for i := range vals.Len() {
				s.Enum = append(s.Enum, vals.Index(i).String())
			}
		}
		return s
	}
	panic("render: no shape for ECS type " + t.String())
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}
