package render

import (
	"errors"
	"strings"
)

// Problem is one thing wrong with (or worth a warning about) a document, at
// a JSON path such as containerDefinitions[1].environments.
type Problem struct {
	Path string
	Msg  string
}

func (p Problem) String() string {
	if p.Path == "" {
		return p.Msg
	}
	return p.Path + ": " + p.Msg
}

// ProblemsError is a document that failed its checks. It carries every
// problem found, so a user fixes them all in one go instead of one per run.
type ProblemsError struct {
	// Object names the document, e.g. "template s3://b/taskdef.json".
	Object   string
	Problems []Problem
}

// Error returns one line per problem, each naming the object.
func (e *ProblemsError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = e.Object + ": " + p.String()
	}
	return strings.Join(lines, "\n")
}

// InputError marks an error in what the user gave — flags, a template, an
// AppSpec — as opposed to AWS, the network or the file system. The CLI
// exits 2 for it and 1 for anything else.
type InputError struct{ Err error }

func (e *InputError) Error() string { return e.Err.Error() }
func (e *InputError) Unwrap() error { return e.Err }

// IsInputError reports whether err is the user's input being wrong.
func IsInputError(err error) bool {
	var ie *InputError
	var pe *ProblemsError
	var se *SyntaxError
	return errors.As(err, &ie) || errors.As(err, &pe) || errors.As(err, &se)
}
