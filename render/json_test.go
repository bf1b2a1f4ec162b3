package render

import "testing"

func TestParseJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, doc, want string
	}{
		{"byte-order mark", "\xef\xbb\xbf{\"family\":\"f\"}", "line 1, column 1: invalid JSON: the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"},
		{"not utf-8", "{\"family\":\"caf\xe9\"}", "line 1, column 15: invalid JSON: not UTF-8"},
		{"duplicate key", `{"a":1,"a":2}`, "line 1, column 11: duplicate key a; a JSON reader would silently keep only one of the two"},
		{"duplicate odd key", `{"a\nb":1,"a\nb":2}`, `line 1, column 17: duplicate key ["a\nb"]; a JSON reader would silently keep only one of the two`},
		{"trailing data", `{} {}`, "line 1, column 5: invalid JSON: unexpected data after the end of the document"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ParseJSON([]byte(tt.doc))
			if err == nil || err.Error() != tt.want {
				t.Errorf("ParseJSON(%q) = %v, want %q", tt.doc, err, tt.want)
			}
		})
	}
}

func TestJoinPath(t *testing.T) {
	t.Parallel()
	tests := []struct{ path, key, want string }{
		{"", "family", "family"},
		{"containerDefinitions[0]", "environment", "containerDefinitions[0].environment"},
		{"logConfiguration.options", "awslogs-group", "logConfiguration.options.awslogs-group"},
		{"dockerLabels", "com.example.team", "dockerLabels.com.example.team"},
		{"dockerLabels", "team name", `dockerLabels["team name"]`},
		{"dockerLabels", `a"b`, `dockerLabels["a\"b"]`},
		{"", "a b", `["a b"]`},
		{"x", "", `x[""]`},
		{"x", "k\nerror: forged", `x["k\nerror: forged"]`},
		{"x", "k\x1b[31m", `x["k\x1b[31m"]`},
	}
	for _, tt := range tests {
		if got := joinPath(tt.path, tt.key); got != tt.want {
			t.Errorf("joinPath(%q, %q) = %q, want %q", tt.path, tt.key, got, tt.want)
		}
	}
}
