package render

import (
	"errors"
	"fmt"
	"strings"

	"github.com/ecsrender/ecsrender/render/appspec"
)

// Problem is one thing wrong with (or worth a warning about) a document, at
// a JSON path such as containerDefinitions[1].environments.
type Problem struct {
	Path string
	Msg  string
}

// String gives the problem as "path: message".
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

// maxProblemLines bounds the lines of one error. A real document has a
// handful of problems; a hostile or generated one could have a hundred
// thousand, and a log that long helps no one.
const maxProblemLines = 50

// Error returns one line per problem, each naming the object, and at most
// maxProblemLines of them. Each line is escaped (EscapeControl), so the
// line breaks between problems are the only ones: a key or a value that
// holds a newline cannot add a line of its own to a build log.
func (e *ProblemsError) Error() string {
	ps := e.Problems
	var more int
	if len(ps) > maxProblemLines {
		ps, more = ps[:maxProblemLines], len(ps)-maxProblemLines
	}
	lines := make([]string, 0, len(ps)+1)
	for _, p := range ps {
		lines = append(lines, EscapeControl(e.Object+": "+p.String()))
	}
	if more > 0 {
		lines = append(lines, EscapeControl(fmt.Sprintf("%s: and %d more problems", e.Object, more)))
	}
	return strings.Join(lines, "\n")
}

// InputError marks an error in what the user gave — flags, a template, an
// AppSpec — as opposed to AWS, the network or the file system. The CLI
// exits 2 for it and 1 for anything else.
type InputError struct{ Err error }

// Error returns the wrapped error's message.
func (e *InputError) Error() string { return e.Err.Error() }

// Unwrap returns the wrapped error.
func (e *InputError) Unwrap() error { return e.Err }

// OptionError is an option that is wrong or does not fit the template,
// such as the image of a container the template does not have. It names
// the option in the domain's words, so that each caller can say where the
// option came from: the CLI prints "--image web: ...". It is appspec's type,
// so that an AppSpec option error passes through Render unchanged and the
// CLI names every bad option the same way.
type OptionError = appspec.OptionError

// IsInputError reports whether err is the user's input being wrong.
func IsInputError(err error) bool {
	var ie *InputError
	var pe *ProblemsError
	var oe *OptionError
	return errors.As(err, &ie) || errors.As(err, &pe) || errors.As(err, &oe)
}
