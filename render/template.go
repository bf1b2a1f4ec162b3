package render

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/template"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"github.com/ecsrender/ecsrender/render/internal/suggest"
)

// TemplateData is everything a template's actions can read, and the run
// they are evaluated for.
type TemplateData struct {
	// Vars are the --var KEY=VALUE pairs, read with {{ var "KEY" }}.
	Vars map[string]string
	// LookupEnv reads the environment for {{ env }} and {{ must_env }};
	// os.LookupEnv in the CLI, a map in tests.
	LookupEnv func(string) (string, bool)
	// Context is the run's, carried here because ParseAppSpec evaluates
	// templates too and takes no context of its own: its deadline and
	// signals stop evaluation between strings and inside every function
	// call. nil means no deadline.
	Context context.Context
}

// Limits on template evaluation. text/template itself bounds neither time
// nor memory: range over a huge integer loops for hours, define/template
// recurse, and a variable can hold gigabytes that are never written. So a
// template may use only what a task definition value needs (text, actions,
// functions, variables, if, with, parentheses, constants), every function
// that makes bytes is counted, and the run's context is checked in every
// call. A real value uses a few actions and builds a few hundred bytes; the
// limits are far above that and far below what hurts a build host.
const (
	// maxRenderedString bounds the bytes one string value may write, and
	// separately the bytes its function calls may build (values only bound
	// to variables included). A task definition is at most 64 KiB, so no
	// real value comes near it.
	maxRenderedString = 64 << 10
	// maxEvaluatedDocument bounds the bytes built and written by all the
	// strings of one document (a task definition or an AppSpec) together.
	maxEvaluatedDocument = 4 << 20
	// maxTemplateActions bounds the "{{" in one string, checked before it
	// is parsed so that the parser's recursion (one level per nested if)
	// stays small.
	maxTemplateActions = 256
	// maxTemplateNodes bounds the parse tree of one string. With no loops
	// and no recursion, a template does at most this much work.
	maxTemplateNodes = 1000
	// maxTemplateDepth bounds the nesting of one string's parse tree: if
	// inside with inside parentheses, and so on.
	maxTemplateDepth = 50
)

var (
	errStringBudget   = fmt.Errorf("renders to more than %d KiB; a task definition is at most 64 KiB", maxRenderedString>>10)
	errDocumentBudget = fmt.Errorf("the document's templates build more than %d MiB in all; a task definition is at most 64 KiB", maxEvaluatedDocument>>20)
	// errStopped ends the execution of a string once the run's context is
	// done; the context's own error is kept in evaluator.stop.
	errStopped = errors.New("template evaluation stopped")
)

// isCredentialEnv reports whether name is an environment variable that
// holds the build's AWS credentials, as the regexp
// (?i)^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_ACCESS_KEY|AWS_SECRET_KEY|AWS_SESSION_TOKEN|AWS_SECURITY_TOKEN|AWS_CONTAINER_CREDENTIALS_.*|AWS_CONTAINER_AUTHORIZATION_TOKEN.*|AWS_WEB_IDENTITY_TOKEN_FILE)$
// says. A template may come from S3, written by someone other than the
// person running the build; it must not be able to copy the build's
// credentials into a task definition that anyone with ecs:Describe* can
// read. AWS_ACCESS_KEY and AWS_SECRET_KEY are aliases the SDKs still read.
// The match ignores case: on Windows build hosts aws_secret_access_key
// reads the same variable. A loop rather than the regexp, which a one-shot
// run would compile every time.
func isCredentialEnv(name string) bool {
	for _, n := range []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_ACCESS_KEY", "AWS_SECRET_KEY",
		"AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_WEB_IDENTITY_TOKEN_FILE"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	for _, prefix := range []string{"AWS_CONTAINER_CREDENTIALS_", "AWS_CONTAINER_AUTHORIZATION_TOKEN"} {
		// The regexp's .* stops at a newline: it has no s flag.
		if rest, ok := cutPrefixFold(name, prefix); ok && !strings.Contains(rest, "\n") {
			return true
		}
	}
	return false
}

// cutPrefixFold is strings.CutPrefix under Unicode simple case folding, the
// folding of (?i) and strings.EqualFold: "\u212a" (the Kelvin sign) is a
// K. It walks s by runes, because a folded rune may be longer in UTF-8
// than the ASCII letter of prefix.
func cutPrefixFold(s, prefix string) (string, bool) {
	for _, want := range prefix {
		r, size := utf8.DecodeRuneInString(s)
		if size == 0 || !strings.EqualFold(string(r), string(want)) {
			return "", false
		}
		s = s[size:]
	}
	return s, true
}

// evaluator renders the template actions of one document, string by string,
// and collects every problem rather than stopping at the first, so that a
// user sees all missing variables in one run.
type evaluator struct {
	data     TemplateData
	ctx      context.Context
	funcs    template.FuncMap
	problems []Problem
	// missing collects what the string being rendered asked for and did not
	// get; the template functions record here instead of failing, so that
	// one string with two missing variables reports both.
	missing []string
	// stop is the context's error once the run was stopped; nothing more
	// is evaluated, and the caller returns it (see stopped).
	stop error
	// exhausted is set once the document's budget is spent: every later
	// string would fail the same way, so none is evaluated.
	exhausted bool
	// built counts the bytes that function calls of the string being
	// evaluated made; total counts what every string of the document made
	// and wrote.
	built, total int
	// calls and nodes count work: function calls made and parse-tree nodes
	// admitted. With no loops, calls can never exceed nodes.
	calls, nodes int
}

func newEvaluator(data TemplateData) *evaluator {
	if data.LookupEnv == nil {
		data.LookupEnv = func(string) (string, bool) { return "", false }
	}
	ctx := data.Context
	if ctx == nil {
		ctx = context.Background()
	}
	e := &evaluator{data: data, ctx: ctx}
	e.funcs = e.funcMap()
	return e
}

// stopped returns why evaluation ended early, or nil. The caller returns
// it instead of the problems: a timeout or a signal is not the input's
// fault, and the problems are incomplete.
func (e *evaluator) stopped() error {
	if e.stop == nil {
		return nil
	}
	return fmt.Errorf("template evaluation stopped: %w", e.stop)
}

// begin starts every function call: it ends evaluation once the run's
// context is done, and counts the call.
func (e *evaluator) begin() error {
	e.calls++
	if err := e.ctx.Err(); err != nil {
		e.stop = err
		return errStopped
	}
	return nil
}

// reserve refuses a call that could build n bytes more than the budgets
// have left, before the call allocates them.
func (e *evaluator) reserve(n int) error {
	if e.built+n > maxRenderedString {
		return errStringBudget
	}
	if e.total+n > maxEvaluatedDocument {
		return errDocumentBudget
	}
	return nil
}

// charge counts a function's result against the budgets; a result that
// does not fit is refused and not counted, so the counts never pass them.
func (e *evaluator) charge(s string) (string, error) {
	if err := e.reserve(len(s)); err != nil {
		return "", err
	}
	e.built += len(s)
	e.total += len(s)
	return s, nil
}

// funcMap gives the template functions. Functions of a FuncMap shadow
// text/template's built-ins, which is how the built-ins that make bytes
// (printf, print, println, html, js, urlquery) are counted. The built-ins
// left alone make none: index gives a byte, slice a substring that shares
// its memory, and the rest give booleans or lengths.
func (e *evaluator) funcMap() template.FuncMap {
	return template.FuncMap{
		"env": func(name string, def ...string) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			if len(def) > 1 {
				return "", fmt.Errorf("env takes a name and at most one default, got %d defaults", len(def))
			}
			if err := allowedEnv(name); err != nil {
				return "", err
			}
			if v, ok := e.data.LookupEnv(name); ok {
				return e.charge(v)
			}
			if len(def) == 1 {
				return e.charge(def[0])
			}
			return "", nil
		},
		"must_env": func(name string) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			if err := allowedEnv(name); err != nil {
				return "", err
			}
			v, ok := e.data.LookupEnv(name)
			if !ok {
				e.missing = append(e.missing, fmt.Sprintf("environment variable %s is not set", quoteIfNeeded(name)))
			}
			return e.charge(v)
		},
		"var": func(key string) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			v, ok := e.data.Vars[key]
			if !ok {
				e.missing = append(e.missing, fmt.Sprintf("variable %q is not set (pass --var %s)", key, quoteIfNeeded(key+"=VALUE")))
			}
			return e.charge(v)
		},
		"printf": func(format string, args ...any) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			if err := e.reserve(printfSize(format, args)); err != nil {
				return "", err
			}
			return e.charge(fmt.Sprintf(format, args...))
		},
		"print": func(args ...any) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			if err := e.reserve(printSize(args)); err != nil {
				return "", err
			}
			return e.charge(fmt.Sprint(args...))
		},
		"println": func(args ...any) (string, error) {
			if err := e.begin(); err != nil {
				return "", err
			}
			if err := e.reserve(printSize(args)); err != nil {
				return "", err
			}
			return e.charge(fmt.Sprintln(args...))
		},
		"html":     e.escaper(template.HTMLEscaper),
		"js":       e.escaper(template.JSEscaper),
		"urlquery": e.escaper(template.URLQueryEscaper),
	}
}

// escaper counts one of text/template's escaping built-ins. Each writes
// at most six bytes for one of its input (js: "<" becomes \u003C).
func (e *evaluator) escaper(escape func(...any) string) func(...any) (string, error) {
	return func(args ...any) (string, error) {
		if err := e.begin(); err != nil {
			return "", err
		}
		if err := e.reserve(6 * printSize(args)); err != nil {
			return "", err
		}
		return e.charge(escape(args...))
	}
}

// scalarSize bounds what fmt writes for one argument that is not a
// string. Template arguments are scalars (there is no data, so no maps or
// slices): the longest is a float or complex with %f, about 330 digits
// each before any precision, which printfSize adds.
const scalarSize = 1024

// printSize bounds the length of fmt.Sprint or Sprintln of args.
func printSize(args []any) int {
	n := 1
	for _, a := range args {
		n++ // a space between operands, or the final newline
		if s, ok := a.(string); ok {
			n += len(s)
		} else {
			n += scalarSize
		}
	}
	return n
}

// printfSize bounds the length of fmt.Sprintf(format, args...) without
// calling it: fmt builds the whole result before returning it, so
// "%0999999d" would allocate a megabyte per verb before any count could
// refuse it. The bound follows fmt's grammar: every verb writes at most
// its width, its precision and its operand escaped (six bytes for one with
// %# x or %+q), and operands no verb used are written once more after
// %!(EXTRA; a complex operand is padded twice, once per part. A width or
// precision taken from an operand (*) counts as fmt's own maximum.
func printfSize(format string, args []any) int {
	// fmt stops reading a width once it is 1e6 or more before the next
	// digit, so the widest it takes has seven digits.
	const fmtMaxWidth = 1e7
	used := make([]bool, len(args))
	size := len(format)
	argNum := 0
	i := 0
	number := func() int {
		n := 0
		for i < len(format) && '0' <= format[i] && format[i] <= '9' {
			n = min(n*10+int(format[i]-'0'), fmtMaxWidth)
			i++
		}
		return n
	}
	index := func() {
		if i < len(format) && format[i] == '[' {
			i++
			n := number()
			if i < len(format) && format[i] == ']' {
				i++
				argNum = n - 1
			}
		}
	}
	widthOrPrecision := func() int {
		index()
		if i < len(format) && format[i] == '*' {
			i++
			if argNum >= 0 && argNum < len(args) {
				used[argNum] = true
			}
			argNum++
			return fmtMaxWidth
		}
		return number()
	}
	for i < len(format) {
		if format[i] != '%' {
			i++
			continue
		}
		i++
		for i < len(format) && strings.IndexByte("+-# 0", format[i]) >= 0 {
			i++
		}
		size += 32 // %!v(BADINDEX), %!(NOVERB), %!d(string=...) and the like
		pad := widthOrPrecision()
		if i < len(format) && format[i] == '.' {
			i++
			pad += widthOrPrecision()
		}
		index()
		if i >= len(format) {
			size += pad
			break
		}
		verb := format[i]
		i++
		if verb == '%' {
			size += pad
			continue
		}
		if argNum >= 0 && argNum < len(args) {
			size += argSize(args[argNum])
			used[argNum] = true
			switch args[argNum].(type) {
			case complex64, complex128:
				pad *= 2 // fmt pads the real and the imaginary part each
			}
		}
		size += pad
		argNum++
	}
	for k, u := range used {
		if !u {
			size += 32 + argSize(args[k])
		}
	}
	return size
}

// argSize bounds what one printf verb writes for operand a.
func argSize(a any) int {
	if s, ok := a.(string); ok {
		return 6*len(s) + 2
	}
	return scalarSize
}

func allowedEnv(name string) error {
	if isCredentialEnv(name) {
		return fmt.Errorf("env %s refused: templates may not read AWS credentials", quoteIfNeeded(name))
	}
	return nil
}

// quoteIfNeeded gives s as written when it is a plain name, letters, digits
// and _.=- (the regexp ^[A-Za-z0-9_.=-]+$), which cannot hold a newline, an
// escape or a space, and quoted otherwise, so that input echoed in a
// message cannot forge a log line. Non-ASCII is escaped too: a Kelvin sign
// must not read as a K.
func quoteIfNeeded(s string) string {
	if isNameOf(s, "_.=-") {
		return s
	}
	return strconv.QuoteToASCII(s)
}

// builtinFuncs are text/template's built-in functions that templates may
// call. call is not among them: with no data there is no function to call.
var builtinFuncs = []string{"and", "or", "not", "len", "index", "slice", "eq", "ne", "lt", "le", "gt", "ge",
	"print", "printf", "println", "html", "js", "urlquery"}

// functionAdvice says what to write instead of a function that other
// template tools (Helm, Sprig, envsubst habits) have and ecsrender has not,
// keyed by the lower-case name.
var functionAdvice = map[string]string{
	"default":  `use env NAME DEFAULT, as in {{ env "TAG" "latest" }}`,
	"getenv":   `use env NAME, or must_env NAME to fail when it is not set`,
	"required": `use must_env NAME or var KEY, which fail when the value is not set`,
	"call":     `templates have no data, so there is no function to call`,
	"include":  `each value is evaluated on its own; there are no named templates`,
	"tpl":      `each value is evaluated on its own; there are no named templates`,
}

// treeCheck admits a parsed string only if it uses what a task definition
// value needs. Whatever else text/template offers either repeats work as
// often as the input says (range, template) or reads data that ecsrender
// does not have (., $, fields).
type treeCheck struct {
	nodes int
	// dotSet is whether dot holds a value where the walk is: inside the
	// body of a with. Elsewhere dot is the data ecsrender has none of.
	dotSet bool
}

const (
	msgRange    = `{{range}} is not allowed: a value needs no loop (use if, with, var and env)`
	msgDefine   = `{{define}}, {{template}} and {{block}} are not allowed: each value is evaluated on its own`
	msgBreak    = `{{break}} and {{continue}} are not allowed`
	msgDot      = `{{.}} reads template data, which ecsrender has none of (use var or env); to keep it for another tool, write {{"{{"}}.}}`
	msgDollar   = `{{$}} reads template data, which ecsrender has none of (use var or env)`
	msgField    = `a field of a value ((x).Name or $x.Name) is not available: template values are plain strings`
	msgTooLarge = "template has more than %d parts; a task definition value needs a handful"
	msgTooDeep  = "template nests more than %d deep"
)

// walk returns why n is refused, or "".
func (c *treeCheck) walk(n parse.Node, depth int) string {
	c.nodes++
	if c.nodes > maxTemplateNodes {
		return fmt.Sprintf(msgTooLarge, maxTemplateNodes)
	}
	if depth > maxTemplateDepth {
		return fmt.Sprintf(msgTooDeep, maxTemplateDepth)
	}
	depth++
	switch n := n.(type) {
	case *parse.ListNode:
		for _, m := range n.Nodes {
			if msg := c.walk(m, depth); msg != "" {
				return msg
			}
		}
	case *parse.TextNode, *parse.CommentNode, *parse.StringNode, *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
	case *parse.ActionNode:
		return c.walk(n.Pipe, depth)
	case *parse.PipeNode:
		for _, v := range n.Decl {
			if msg := c.walk(v, depth); msg != "" {
				return msg
			}
		}
		for _, cmd := range n.Cmds {
			if msg := c.walk(cmd, depth); msg != "" {
				return msg
			}
		}
	case *parse.CommandNode:
		for _, a := range n.Args {
			if msg := c.walk(a, depth); msg != "" {
				return msg
			}
		}
	case *parse.IdentifierNode:
		return unknownFunction(n.Ident)
	case *parse.VariableNode:
		switch {
		case n.Ident[0] == "$" && len(n.Ident) == 1:
			return msgDollar
		case n.Ident[0] == "$":
			return fmt.Sprintf(`{{$.%s}} reads template data, which ecsrender has none of (use var or env)`, strings.Join(n.Ident[1:], "."))
		case len(n.Ident) > 1:
			return msgField
		}
	case *parse.IfNode:
		return c.branch(&n.BranchNode, depth, false)
	case *parse.WithNode:
		return c.branch(&n.BranchNode, depth, true)
	case *parse.DotNode:
		if !c.dotSet {
			return msgDot
		}
	case *parse.FieldNode:
		// {{.Name}} belongs to another tool (a Docker log tag, say); say
		// how to keep it literal. Field names are letters and digits.
		key := strings.Join(n.Ident, ".")
		return fmt.Sprintf(`{{.%s}} reads template data, which ecsrender has none of (use var or env); to keep it for another tool, write {{"{{"}}.%s}}`, key, key)
	case *parse.ChainNode:
		return msgField
	case *parse.RangeNode:
		return msgRange
	case *parse.TemplateNode:
		return msgDefine
	case *parse.BreakNode, *parse.ContinueNode:
		return msgBreak
	default:
		return fmt.Sprintf("template construct %T is not allowed", n)
	}
	return ""
}

// branch walks an if or a with; setsDot is true for a with, whose body
// (and not its else) sees the pipeline's value as dot.
func (c *treeCheck) branch(b *parse.BranchNode, depth int, setsDot bool) string {
	if msg := c.walk(b.Pipe, depth); msg != "" {
		return msg
	}
	outer := c.dotSet
	c.dotSet = outer || setsDot
	msg := c.walk(b.List, depth)
	c.dotSet = outer
	if msg != "" {
		return msg
	}
	if b.ElseList != nil {
		return c.walk(b.ElseList, depth)
	}
	return ""
}

// unknownFunction returns "" for a function templates may call, and
// otherwise says what to use instead.
func unknownFunction(name string) string {
	known := append([]string{"env", "must_env", "var"}, builtinFuncs...)
	if slices.Contains(known, name) {
		return ""
	}
	msg := fmt.Sprintf("function %q not defined", name)
	if advice, ok := functionAdvice[strings.ToLower(name)]; ok {
		return msg + "; " + advice
	}
	if s := suggest.Closest(name, known); s != "" {
		return fmt.Sprintf("%s; did you mean %q?", msg, s)
	}
	return msg + "; templates have env NAME [DEFAULT], must_env NAME, var KEY and text/template's built-ins such as printf and eq"
}

// renderString evaluates the actions in one string value. It reports
// whether the string was exactly one action, which is when a result may
// become a number or a boolean. ok is false when a problem was recorded or
// evaluation was stopped.
func (e *evaluator) renderString(path, s string) (out string, single, ok bool) {
	if !strings.Contains(s, "{{") {
		return s, false, true
	}
	if e.stop != nil || e.exhausted {
		return s, false, false
	}
	if err := e.ctx.Err(); err != nil {
		e.stop = err
		return s, false, false
	}
	fail := func(msg string) (string, bool, bool) {
		e.problems = append(e.problems, Problem{Path: path, Msg: msg})
		return s, false, false
	}
	if n := strings.Count(s, "{{"); n > maxTemplateActions {
		return fail(fmt.Sprintf("template has %d actions; the limit is %d", n, maxTemplateActions))
	}
	// The tree is parsed on its own, not by Template.Parse, so that a
	// {{define}} is seen even when it names this very template and would
	// silently become its body.
	tree := parse.New(path)
	tree.Mode = parse.SkipFuncCheck // unknownFunction says what to use instead
	set := map[string]*parse.Tree{}
	if _, err := tree.Parse(s, "", "", set); err != nil {
		return fail(cleanTemplateError(path, err))
	}
	if len(set) != 1 || set[path] != tree {
		return fail(msgDefine)
	}
	c := treeCheck{}
	if msg := c.walk(tree.Root, 0); msg != "" {
		return fail(msg)
	}
	e.nodes += c.nodes
	t, err := template.New(path).Option("missingkey=error").Funcs(e.funcs).AddParseTree(path, tree)
	if err != nil {
		return fail(cleanTemplateError(path, err))
	}
	w := outputWriter{e: e}
	e.missing = e.missing[:0]
	e.built = 0
	err = t.Execute(&w, nil)
	switch {
	case e.stop != nil:
		return s, false, false
	case errors.Is(err, errDocumentBudget):
		e.exhausted = true
		return fail(errDocumentBudget.Error())
	case errors.Is(err, errStringBudget):
		return fail(errStringBudget.Error())
	}
	for _, m := range e.missing {
		e.problems = append(e.problems, Problem{Path: path, Msg: m})
	}
	if err != nil {
		return fail(cleanTemplateError(path, err))
	}
	if len(e.missing) > 0 {
		return s, false, false
	}
	out = w.String()
	// text/template writes "<no value>" for an action that gives nothing
	// ({{ or nil }}); that text must never reach a task definition.
	if strings.Contains(out, "<no value>") && !strings.Contains(s, "<no value>") {
		return fail(`an action gives no value, which text/template would write as "<no value>"`)
	}
	root := tree.Root.Nodes
	single = len(root) == 1 && root[0].Type() == parse.NodeAction
	return out, single, true
}

// outputWriter takes what one string renders to: at most
// maxRenderedString bytes, counted against the document's budget too, and
// nothing more once the run's context is done.
type outputWriter struct {
	strings.Builder
	e *evaluator
}

func (w *outputWriter) Write(p []byte) (int, error) {
	if err := w.e.ctx.Err(); err != nil {
		w.e.stop = err
		return 0, errStopped
	}
	if w.Len()+len(p) > maxRenderedString {
		return 0, errStringBudget
	}
	if w.e.total+len(p) > maxEvaluatedDocument {
		return 0, errDocumentBudget
	}
	w.e.total += len(p)
	return w.Builder.Write(p)
}

// cleanTemplateError drops text/template's "template: NAME:" prefix, which
// repeats the JSON path the caller already prints, and its executor
// detail. What is left may quote the template's own text, so anything that
// is not printable is escaped: a newline there must not start a new line
// in the build log.
func cleanTemplateError(path string, err error) string {
	return escapeControl(templateErrorText(path, err))
}

func templateErrorText(path string, err error) string {
	msg := err.Error()
	msg = strings.TrimPrefix(msg, "template: "+path+":")
	// Execution errors read `1:3: executing "path" at <var "x">: error calling var: ...`.
	if i := strings.Index(msg, "error calling "); i >= 0 {
		rest := msg[i+len("error calling "):]
		if j := strings.Index(rest, ": "); j >= 0 {
			return rest[j+2:]
		}
	}
	if i := strings.Index(msg, `executing "`+path+`" at `); i >= 0 {
		return strings.TrimSpace(msg[:i]) + " " + msg[i+len(`executing "`+path+`" at `):]
	}
	return "template " + strings.TrimSpace(msg)
}

// escapeControl escapes every rune of s that is not printable, as Go
// would in a quoted string.
func escapeControl(s string) string {
	if !strings.ContainsFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if unicode.IsPrint(r) {
			b.WriteRune(r)
			continue
		}
		q := strconv.QuoteRune(r)
		b.WriteString(q[1 : len(q)-1])
	}
	return b.String()
}

// evaluate renders every string value of the tree in place, in document
// order. shape is the ECS model at n (nil where the model knows no such
// key; the checks report that later). Where the model wants a number or a
// boolean and the string is exactly one action, the result is converted:
// "{{ var \"mem\" }}" in memory becomes 2048.
func (e *evaluator) evaluate(n *Node, shape *Shape, path string) {
	switch n.Kind {
	case String:
		if e.stop != nil {
			return
		}
		out, single, ok := e.renderString(path, n.Str)
		if !ok {
			return
		}
		n.Str = out
		if !single || shape == nil {
			return
		}
		switch shape.Kind {
		case ShapeInteger:
			v, err := strconv.ParseInt(out, 10, 32)
			if err != nil {
				e.problems = append(e.problems, Problem{Path: path, Msg: fmt.Sprintf("want a whole number, the template gave %q", out)})
				return
			}
			// ParseInt accepts "+512" and "007", which are not JSON.
			n.Kind, n.Str = Number, strconv.FormatInt(v, 10)
		case ShapeBoolean:
			b, err := strconv.ParseBool(out)
			if err != nil || (out != "true" && out != "false") {
				e.problems = append(e.problems, Problem{Path: path, Msg: fmt.Sprintf("want true or false, the template gave %q", out)})
				return
			}
			n.Kind, n.Bool, n.Str = Bool, b, ""
		}
	case Object:
		for _, m := range n.Members {
			var child *Shape
			if shape != nil && shape.Kind == ShapeMap {
				child = shape.Elem
			} else {
				child = shape.Field(m.Key)
			}
			e.evaluate(m.Value, child, joinPath(path, m.Key))
		}
	case Array:
		var elem *Shape
		if shape != nil && shape.Kind == ShapeList {
			elem = shape.Elem
		}
		for i, v := range n.Items {
			e.evaluate(v, elem, indexPath(path, i))
		}
	}
}

// ParseVars parses --var KEY=VALUE pairs. A later pair with the same key is
// an error rather than a silent override: two values for one key in a
// pipeline definition are almost always a mistake.
func ParseVars(pairs []string) (map[string]string, error) {
	vars := make(map[string]string, len(pairs))
	for _, p := range pairs {
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, &InputError{fmt.Errorf("--var %q: want KEY=VALUE", p)}
		}
		if _, dup := vars[k]; dup {
			return nil, &InputError{fmt.Errorf("--var %s: given twice", quoteIfNeeded(k))}
		}
		vars[k] = v
	}
	return vars, nil
}

// sortedKeys returns the keys of m in order, for deterministic messages.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
