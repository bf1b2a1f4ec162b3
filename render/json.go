package render

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Kind is the JSON type of a Node.
type Kind uint8

// The JSON types a Node can hold.
const (
	Null Kind = iota
	String
	Number
	Bool
	Object
	Array
)

// String names the kind as messages do: "string", "array", ...
func (k Kind) String() string {
	switch k {
	case Null:
		return "null"
	case String:
		return "string"
	case Number:
		return "number"
	case Bool:
		return "boolean"
	case Object:
		return "object"
	case Array:
		return "array"
	}
	return "unknown"
}

// Node is one JSON value. Objects keep their members in document order, so
// that a rendered task definition reads like the template it came from and
// diffs cleanly against it; encoding/json's maps would sort or shuffle them.
type Node struct {
	Kind Kind
	// Str is the text of a String, or the literal of a Number as written.
	Str string
	// Bool is the value of a Bool.
	Bool bool
	// Members are the key/value pairs of an Object, in document order.
	Members []Member
	// Items are the elements of an Array.
	Items []*Node
}

// Member is one key/value pair of a JSON object.
type Member struct {
	Key   string
	Value *Node
}

// NewString returns a String node.
func NewString(s string) *Node { return &Node{Kind: String, Str: s} }

// NewObject returns an Object node with the given members.
func NewObject(members ...Member) *Node { return &Node{Kind: Object, Members: members} }

// Get returns the value of key in an Object, or nil when the key is absent,
// its value is null, or n is not an Object.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != Object {
		return nil
	}
	for _, m := range n.Members {
		if m.Key == key {
			if m.Value.Kind == Null {
				return nil
			}
			return m.Value
		}
	}
	return nil
}

// GetString returns the value of key when it is a String, and "" otherwise.
func (n *Node) GetString(key string) string {
	if v := n.Get(key); v != nil && v.Kind == String {
		return v.Str
	}
	return ""
}

// Set replaces the value of key in an Object, or appends the key when it is
// absent.
func (n *Node) Set(key string, v *Node) {
	for i, m := range n.Members {
		if m.Key == key {
			n.Members[i].Value = v
			return
		}
	}
	n.Members = append(n.Members, Member{Key: key, Value: v})
}

// Delete removes key from an Object and reports whether it was there.
func (n *Node) Delete(key string) bool {
	for i, m := range n.Members {
		if m.Key == key {
			n.Members = append(n.Members[:i:i], n.Members[i+1:]...)
			return true
		}
	}
	return false
}

// SyntaxError is a template that is not valid JSON, located by line and
// column so that a user can find the mistake in an editor.
type SyntaxError struct {
	Line, Column int
	Msg          string
}

// Error gives the position and what is wrong.
func (e *SyntaxError) Error() string {
	return fmt.Sprintf("line %d, column %d: %s", e.Line, e.Column, e.Msg)
}

// ParseJSON parses one JSON document into an ordered tree. Unlike
// encoding/json it rejects an object that holds the same key twice: the
// standard decoder silently keeps the last one, which would let two "image"
// keys quietly become one.
func ParseJSON(data []byte) (*Node, error) {
	// Windows editors save a byte-order mark that JSON does not allow;
	// json.Decoder would call it an "invalid character 'ï'".
	if bytes.HasPrefix(data, []byte("\xef\xbb\xbf")) {
		return nil, &SyntaxError{Line: 1, Column: 1, Msg: "invalid JSON: the file starts with a UTF-8 byte-order mark; save it as UTF-8 without BOM"}
	}
	if !utf8.Valid(data) {
		// json.Decoder would quietly turn bad bytes into U+FFFD.
		i := 0
		for i < len(data) {
			r, n := utf8.DecodeRune(data[i:])
			if r == utf8.RuneError && n == 1 {
				break
			}
			i += n
		}
		return nil, (&parser{data: data}).syntaxError(int64(i), "invalid JSON: not UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	p := parser{dec: dec, data: data}
	n, err := p.value()
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, p.syntaxError(dec.InputOffset(), "invalid JSON: unexpected data after the end of the document")
	}
	return n, nil
}

type parser struct {
	dec   *json.Decoder
	data  []byte
	depth int
	// at is where the parser is, as keys and indexes; a path is built from
	// it only for the message that needs one.
	at []pathStep
}

// pathStep is an object key, or an array index.
type pathStep struct {
	key     string
	index   int
	isIndex bool
}

func (p *parser) path() string {
	path := ""
	for _, s := range p.at {
		if s.isIndex {
			path = indexPath(path, s.index)
		} else {
			path = joinPath(path, s.key)
		}
	}
	return path
}

// maxDepth bounds nesting. A task definition is under ten levels deep; a
// hostile document of a million brackets must not cost gigabytes.
const maxDepth = 64

func (p *parser) token() (json.Token, error) {
	tok, err := p.dec.Token()
	if err == nil {
		return tok, nil
	}
	var se *json.SyntaxError
	switch {
	case errors.As(err, &se):
		return nil, p.syntaxError(se.Offset, "invalid JSON: "+se.Error())
	case err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF):
		return nil, p.syntaxError(int64(len(p.data)), "invalid JSON: unexpected end of the document")
	}
	return nil, p.syntaxError(p.dec.InputOffset(), "invalid JSON: "+err.Error())
}

func (p *parser) syntaxError(offset int64, msg string) *SyntaxError {
	if offset > int64(len(p.data)) {
		offset = int64(len(p.data))
	}
	line, col := 1, 1
	for _, b := range p.data[:offset] {
		if b == '\n' {
			line++
			col = 1
		} else {
			col++
		}
	}
	return &SyntaxError{Line: line, Column: col, Msg: msg}
}

func (p *parser) value() (*Node, error) {
	tok, err := p.token()
	if err != nil {
		return nil, err
	}
	switch t := tok.(type) {
	case nil:
		return &Node{Kind: Null}, nil
	case string:
		return &Node{Kind: String, Str: t}, nil
	case json.Number:
		return &Node{Kind: Number, Str: string(t)}, nil
	case bool:
		return &Node{Kind: Bool, Bool: t}, nil
	case json.Delim:
		switch t {
		case '{', '[':
			if p.depth++; p.depth > maxDepth {
				return nil, p.syntaxError(p.dec.InputOffset(), fmt.Sprintf("nested more than %d levels deep", maxDepth))
			}
			defer func() { p.depth-- }()
			if t == '{' {
				return p.object()
			}
			return p.array()
		}
	}
	return nil, p.syntaxError(p.dec.InputOffset(), fmt.Sprintf("invalid JSON: unexpected %v", tok))
}

func (p *parser) object() (*Node, error) {
	n := &Node{Kind: Object}
	seen := map[string]bool{}
	for p.dec.More() {
		tok, err := p.token()
		if err != nil {
			return nil, err
		}
		key, ok := tok.(string)
		if !ok {
			return nil, p.syntaxError(p.dec.InputOffset(), "invalid JSON: object key is not a string")
		}
		p.at = append(p.at, pathStep{key: key})
		if seen[key] {
			return nil, p.syntaxError(p.dec.InputOffset(), fmt.Sprintf("duplicate key %s; a JSON reader would silently keep only one of the two", p.path()))
		}
		seen[key] = true
		v, err := p.value()
		p.at = p.at[:len(p.at)-1]
		if err != nil {
			return nil, err
		}
		n.Members = append(n.Members, Member{Key: key, Value: v})
	}
	if _, err := p.token(); err != nil { // the closing '}'
		return nil, err
	}
	return n, nil
}

func (p *parser) array() (*Node, error) {
	n := &Node{Kind: Array, Items: []*Node{}}
	for p.dec.More() {
		p.at = append(p.at, pathStep{index: len(n.Items), isIndex: true})
		v, err := p.value()
		p.at = p.at[:len(p.at)-1]
		if err != nil {
			return nil, err
		}
		n.Items = append(n.Items, v)
	}
	if _, err := p.token(); err != nil { // the closing ']'
		return nil, err
	}
	return n, nil
}

// joinPath appends an object key to a JSON path such as
// containerDefinitions[1].environment. A key that is not a plain name (a
// docker label with a space, an unknown key from a hostile template) is
// written quoted, dockerLabels["team name"], so that a newline or an escape
// sequence in a key cannot reach a message raw.
func joinPath(path, key string) string {
	if !plainKey(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// plainKey reports whether key can stand unquoted in a path: every ECS
// model member, awslogs option and reverse-DNS docker label is such a key.
func plainKey(key string) bool {
	if key == "" {
		return false
	}
	for i := 0; i < len(key); i++ {
		c := key[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("_-./:@", c) >= 0) {
			return false
		}
	}
	return true
}

// indexPath appends an array index to a JSON path.
func indexPath(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

// MarshalIndent encodes n as JSON with a two-space indent and a final
// newline. Members whose value is null are left out: ECS treats null as
// absent, and leaving them out keeps the artifact free of noise. Strings are
// not HTML-escaped, so "<IMAGE1_NAME>" stays literal for CodeDeployToECS.
func (n *Node) MarshalIndent() []byte {
	var b bytes.Buffer
	n.encode(&b, 0)
	b.WriteByte('\n')
	return b.Bytes()
}

// writeCompact writes n as compact JSON, null members left out as in
// MarshalIndent: the size ECS counts is that of what will be registered.
func (n *Node) writeCompact(b *bytes.Buffer) { n.encode(b, compact) }

// compact is the depth that tells encode to write no white space.
const compact = -1

func (n *Node) encode(b *bytes.Buffer, depth int) {
	next := depth + 1
	if depth == compact {
		next = compact
	}
	switch n.Kind {
	case Null:
		b.WriteString("null")
	case String:
		writeJSONString(b, n.Str)
	case Number:
		b.WriteString(n.Str)
	case Bool:
		b.WriteString(strconv.FormatBool(n.Bool))
	case Object:
		first := true
		for _, m := range n.Members {
			if m.Value.Kind == Null {
				continue
			}
			if first {
				b.WriteByte('{')
				first = false
			} else {
				b.WriteByte(',')
			}
			newline(b, next)
			writeJSONString(b, m.Key)
			if depth == compact {
				b.WriteByte(':')
			} else {
				b.WriteString(": ")
			}
			m.Value.encode(b, next)
		}
		if first {
			b.WriteString("{}")
			return
		}
		newline(b, depth)
		b.WriteByte('}')
	case Array:
		if len(n.Items) == 0 {
			b.WriteString("[]")
			return
		}
		b.WriteByte('[')
		for i, v := range n.Items {
			if i > 0 {
				b.WriteByte(',')
			}
			newline(b, next)
			v.encode(b, next)
		}
		newline(b, depth)
		b.WriteByte(']')
	}
}

func newline(b *bytes.Buffer, depth int) {
	if depth == compact {
		return
	}
	b.WriteByte('\n')
	for range depth {
		b.WriteString("  ")
	}
}

const hexDigits = "0123456789abcdef"

// writeJSONString writes s as a JSON string literal, escaping what JSON
// requires plus U+2028 and U+2029 (as encoding/json does), and nothing else.
func writeJSONString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x20 || r == 0x2028 || r == 0x2029:
			b.WriteString(`\u`)
			b.WriteByte(hexDigits[r>>12&0xf])
			b.WriteByte(hexDigits[r>>8&0xf])
			b.WriteByte(hexDigits[r>>4&0xf])
			b.WriteByte(hexDigits[r&0xf])
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
}
