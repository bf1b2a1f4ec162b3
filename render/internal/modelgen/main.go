// Command modelgen writes render/model_gen.go: the ECS API model of a
// RegisterTaskDefinition request as Go literals, derived from the
// aws-sdk-go-v2 service/ecs types by reflection.
//
// Reflecting at every start cost ecsrender a few milliseconds and linked the
// whole ECS client (its schemas and endpoints) into the binary only to read
// type information; done here, at go generate time, the binary carries a
// plain table. render's tests fail when model_gen.go no longer matches what
// this command writes, so an SDK upgrade cannot leave the model behind.
//
//	go generate ./render
package main

import (
	"bytes"
	"flag"
	"fmt"
	"go/format"
	"maps"
	"os"
	"reflect"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"
)

const ecsModule = "github.com/aws/aws-sdk-go-v2/service/ecs"

func main() {
	out := flag.String("o", "model_gen.go", "write the Go source to this `file` (- for stdout)")
	flag.Parse()
	src, err := generate(sdkVersion())
	if err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
	if *out == "-" {
		_, err = os.Stdout.Write(src)
	} else {
		err = os.WriteFile(*out, src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "modelgen:", err)
		os.Exit(1)
	}
}

// sdkVersion names the service/ecs module the model came from, so that the
// header changes, and the staleness test fails, whenever go.mod moves it.
func sdkVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == ecsModule {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}

// unionMembers lists the implementations of the SDK's union interfaces
// ("specify exactly one member"), which reflection cannot enumerate. A newly
// reachable union makes generate fail instead of being silently skipped.
var unionMembers = map[reflect.Type][]reflect.Type{
	reflect.TypeFor[types.SharingStrategy](): {reflect.TypeFor[types.SharingStrategyMemberNvidiaMps]()},
}

// shape mirrors render.Shape; kind holds the name of a render.ShapeKind
// constant.
type shape struct {
	kind   string
	name   string
	fields map[string]*shape
	elem   *shape
	union  bool
	enum   []string
}

// walker builds the model the way render did at run time before this
// command existed: one *Shape per structure or union type, shared by every
// place that uses it, and a fresh one for everything else.
type walker struct {
	seen  map[reflect.Type]*shape
	order []*shape // structures, each after the structures it uses
}

func (w *walker) shapeOf(t reflect.Type) (*shape, error) {
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if s, ok := w.seen[t]; ok {
		return s, nil
	}
	switch t.Kind() {
	case reflect.Struct:
		s := &shape{kind: "ShapeStruct", name: t.Name(), fields: map[string]*shape{}}
		w.seen[t] = s
		for f := range t.Fields() {
			if !f.IsExported() {
				continue
			}
			fs, err := w.shapeOf(f.Type)
			if err != nil {
				return nil, err
			}
			s.fields[lowerFirst(f.Name)] = fs
		}
		w.order = append(w.order, s)
		return s, nil
	case reflect.Slice, reflect.Map:
		elem, err := w.shapeOf(t.Elem())
		if err != nil {
			return nil, err
		}
		kind := "ShapeList"
		if t.Kind() == reflect.Map {
			kind = "ShapeMap"
		}
		return &shape{kind: kind, elem: elem}, nil
	case reflect.Interface:
		members, ok := unionMembers[t]
		if !ok {
			break
		}
		s := &shape{kind: "ShapeStruct", name: t.Name(), union: true, fields: map[string]*shape{}}
		w.seen[t] = s
		for _, m := range members {
			f, ok := m.FieldByName("Value")
			if !ok {
				return nil, fmt.Errorf("union member %s has no Value field", m)
			}
			fs, err := w.shapeOf(f.Type)
			if err != nil {
				return nil, err
			}
			s.fields[lowerFirst(strings.TrimPrefix(m.Name(), t.Name()+"Member"))] = fs
		}
		w.order = append(w.order, s)
		return s, nil
	case reflect.Bool:
		return &shape{kind: "ShapeBoolean"}, nil
	case reflect.Int, reflect.Int32, reflect.Int64:
		return &shape{kind: "ShapeInteger"}, nil
	case reflect.String:
		s := &shape{kind: "ShapeString"}
		// The SDK's enum types have a Values method listing the known values.
		if m := reflect.Zero(t).MethodByName("Values"); m.IsValid() {
			s.name = t.Name()
			vals := m.Call(nil)[0]
			for i := range vals.Len() {
				s.enum = append(s.enum, vals.Index(i).String())
			}
		}
		return s, nil
	}
	return nil, fmt.Errorf("no shape for ECS type %s: name its members in unionMembers or map its kind", t)
}

func lowerFirst(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToLower(r)) + s[n:]
}

// generate returns model_gen.go's source.
func generate(version string) ([]byte, error) {
	w := &walker{seen: map[reflect.Type]*shape{}}
	root, err := w.shapeOf(reflect.TypeFor[ecs.RegisterTaskDefinitionInput]())
	if err != nil {
		return nil, err
	}
	if w.order[len(w.order)-1] != root {
		return nil, fmt.Errorf("%s is not the last structure built", root.name)
	}
	// Each structure becomes a local variable, declared after the ones it
	// uses; a recursive type would need a second pass and is refused.
	vars := map[*shape]string{}
	used := map[string]bool{}
	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by modelgen from %s %s; DO NOT EDIT.\n\n", ecsModule, version)
	b.WriteString("package render\n\n")
	b.WriteString("// newTaskDefinitionShape returns the model of a RegisterTaskDefinition\n")
	b.WriteString("// request: one *Shape per ECS structure, shared wherever it is used.\n")
	b.WriteString("func newtaskDefinitionShape() *Shape {\n")
	for _, s := range w.order {
		v := varName(s.name, used)
		fmt.Fprintf(&b, "\t%s := ", v)
		if err := writeShape(&b, s, vars, true); err != nil {
			return nil, err
		}
		b.WriteString("\n")
		vars[s] = v
	}
	fmt.Fprintf(&b, "\treturn %s\n}\n", vars[root])
	return format.Source(b.Bytes())
}

// varName is "ecs" and the SDK's type name, which can neither be a Go
// keyword nor shadow a builtin.
func varName(name string, used map[string]bool) string {
	v := "ecs" + name
	for i := 2; used[v]; i++ {
		v = "ecs" + name + strconv.Itoa(i)
	}
	used[v] = true
	return v
}

// writeShape writes s as a composite literal. A structure other than the one
// being declared is written as its variable.
func writeShape(b *bytes.Buffer, s *shape, vars map[*shape]string, decl bool) error {
	if s.kind == "ShapeStruct" && !decl {
		v, ok := vars[s]
		if !ok {
			return fmt.Errorf("structure %s is used before it is complete (a recursive type)", s.name)
		}
		b.WriteString(v)
		return nil
	}
	fmt.Fprintf(b, "&Shape{Kind: %s", s.kind)
	if s.name != "" {
		fmt.Fprintf(b, ", Name: %q", s.name)
	}
	if s.union {
		b.WriteString(", Union: true")
	}
	if s.elem != nil {
		b.WriteString(", Elem: ")
		if err := writeShape(b, s.elem, vars, false); err != nil {
			return err
		}
	}
	if len(s.enum) > 0 {
		b.WriteString(", Enum: []string{")
		for i, e := range s.enum {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(strconv.Quote(e))
		}
		b.WriteString("}")
	}
	if s.fields != nil {
		b.WriteString(", Fields: map[string]*Shape{")
		for _, k := range slices.Sorted(maps.Keys(s.fields)) {
			fmt.Fprintf(b, "\n%q: ", k)
			if err := writeShape(b, s.fields[k], vars, false); err != nil {
				return err
			}
			b.WriteString(",")
		}
		if len(s.fields) > 0 {
			b.WriteString("\n")
		}
		b.WriteString("}")
	}
	b.WriteString("}")
	return nil
}
