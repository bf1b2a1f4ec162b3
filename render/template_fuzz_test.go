package render

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// FuzzEvaluate evaluates a hostile value in every kind of slot of a task
// definition (a string, a task-level string, a number, a boolean, a list
// item, a map value) and, when it parses, a whole hostile document. It
// checks properties, not only the absence of a panic:
//   - work is bounded by the template's size: no more function calls than
//     parse-tree nodes admitted (there are no loops), and the bytes built and
//     written never pass the document's budget;
//   - no template gives a value longer than a value may be;
//   - the evaluated document is valid JSON with the structure of the input:
//     the same keys in the same order, the same list lengths, and a string
//     only ever replaced by a string, or by a number or boolean where the
//     model wants one;
//   - no message holds a raw control character that could forge a log line,
//     and "<no value>" never appears unless the input wrote it;
//   - printf's size bound, which refuses a call before fmt allocates, holds
//     for the value used as a format.
//
// The seed corpus in testdata/fuzz/FuzzEvaluate runs as an ordinary test.
func FuzzEvaluate(f *testing.F) {
	f.Add(`{"family": "{{ var \"a\" }}"}`, `{{ printf "%05d" 1 }}`)
	f.Add(`[]`, `{{ range 1000000000 }}{{ end }}`)
	f.Add(`{}`, `{{ $x := printf "%09999d" 1 }}{{ $x = printf "%s%s" $x $x }}{{ $x = printf "%s%s" $x $x }}`)
	data := TemplateData{
		Vars: map[string]string{"a": "x", "n": "512", "t": "true", "big": strings.Repeat("b", 30<<10)},
		LookupEnv: func(k string) (string, bool) {
			v, ok := map[string]string{"E": "e\n\"{{", "BIG": strings.Repeat("e", 40<<10)}[k]
			return v, ok
		},
	}
	f.Fuzz(func(t *testing.T, doc, value string) {
		var slots bytes.Buffer
		for _, s := range []string{`{"family": `, `, "cpu": `, `, "containerDefinitions": [{"name": "web", "image": `,
			`, "memory": `, `, "essential": `, `, "environment": [{"name": "A", "value": `, `}], "dockerLabels": {"k": `, `}}]}`} {
			if slots.Len() > 0 {
				writeJSONString(&slots, value)
			}
			slots.WriteString(s)
		}
		checkEvaluate(t, data, slots.Bytes(), true)
		checkEvaluate(t, data, []byte(doc), false)
		// printf is refused on printfSize's bound before fmt allocates,
		// so the bound must hold whenever it admits a call.
		for _, args := range printfArgs {
			if bound := printfSize(value, args); bound <= 1<<20 {
				if got := len(fmt.Sprintf(value, args...)); got > bound {
					t.Errorf("printf %q %v: %d bytes, more than the bound %d", value, args, got, bound)
				}
			}
		}
	})
}

// printfArgs are operands of each type a template can pass to printf.
var printfArgs = [][]any{nil, {1, "é\x01\xff<\"", 1.5e300}, {complex(-1e300, 1e-300), true, nil, uint8(200), int64(-1 << 63)}}

func checkEvaluate(t *testing.T, data TemplateData, raw []byte, mustParse bool) {
	t.Helper()
	before, err := ParseJSON(raw)
	if err != nil {
		if mustParse {
			t.Fatalf("the slots document does not parse: %v", err)
		}
		return
	}
	td, _ := ParseJSON(raw)
	e := newEvaluator(data)
	e.evaluate(td, taskDefinitionShape(), "")
	if err := e.stopped(); err != nil {
		t.Fatalf("stopped without a cancelled context: %v", err)
	}
	if e.calls > e.nodes {
		t.Errorf("%d function calls for %d parse-tree nodes: work is not bounded by the template", e.calls, e.nodes)
	}
	if e.total > maxEvaluatedDocument {
		t.Errorf("%d bytes built and written, more than the budget of %d", e.total, maxEvaluatedDocument)
	}
	for _, p := range e.problems {
		if strings.ContainsFunc(p.Msg, func(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }) {
			t.Errorf("%s: message holds a raw control character: %q", p.Path, p.Msg)
		}
	}
	out := td.MarshalIndent()
	again, err := ParseJSON(out)
	if err != nil {
		t.Fatalf("evaluated document is not valid JSON: %v\n%s", err, out)
	}
	if msg := sameStructure(before, again, ""); msg != "" {
		t.Errorf("evaluated document changed structure: %s", msg)
	}
	inputNoValue := bytes.Contains(raw, []byte("<no value>"))
	walkStrings(td, func(s string) {
		if !inputNoValue && strings.Contains(s, "<no value>") {
			t.Errorf("<no value> written into %q", s)
		}
	})
}

// sameStructure describes the first difference between the structure of
// the input a and of the evaluated document b, or returns "". Members that
// are null are left out of the output, so they are skipped in a.
func sameStructure(a, b *Node, path string) string {
	switch {
	case a.Kind == String && b.Kind == String && a.Str != b.Str && len(b.Str) > maxRenderedString:
		return fmt.Sprintf("%s: a template gave %d bytes, more than %d", path, len(b.Str), maxRenderedString)
	case a.Kind == String && (b.Kind == String || b.Kind == Number || b.Kind == Bool):
		return ""
	case a.Kind != b.Kind:
		return fmt.Sprintf("%s: %v became %v", path, a.Kind, b.Kind)
	case a.Kind == Object:
		var keys []Member
		for _, m := range a.Members {
			if m.Value.Kind != Null {
				keys = append(keys, m)
			}
		}
		if len(keys) != len(b.Members) {
			return fmt.Sprintf("%s: %d members became %d", path, len(keys), len(b.Members))
		}
		for i, m := range keys {
			if m.Key != b.Members[i].Key {
				return fmt.Sprintf("%s: key %q became %q", path, m.Key, b.Members[i].Key)
			}
			if msg := sameStructure(m.Value, b.Members[i].Value, joinPath(path, m.Key)); msg != "" {
				return msg
			}
		}
	case a.Kind == Array:
		if len(a.Items) != len(b.Items) {
			return fmt.Sprintf("%s: %d items became %d", path, len(a.Items), len(b.Items))
		}
		for i := range a.Items {
			if msg := sameStructure(a.Items[i], b.Items[i], indexPath(path, i)); msg != "" {
				return msg
			}
		}
	case a.Kind == Number || a.Kind == Bool:
		if a.Str != b.Str || a.Bool != b.Bool {
			return fmt.Sprintf("%s: %v changed", path, a.Kind)
		}
	}
	return ""
}

func walkStrings(n *Node, fn func(string)) {
	switch n.Kind {
	case String:
		fn(n.Str)
	case Object:
		for _, m := range n.Members {
			walkStrings(m.Value, fn)
		}
	case Array:
		for _, v := range n.Items {
			walkStrings(v, fn)
		}
	}
}
