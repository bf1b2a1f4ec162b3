package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/ecsrender/ecsrender/render/ref"
)

// MaxTemplateSize is the largest template or AppSpec accepted, in bytes.
// A task definition may be at most 64 KiB once registered, so anything near
// this size is a mistake (a wrong object, a binary); refusing it before it
// is read whole keeps a bad source from costing memory or minutes.
const MaxTemplateSize = 1 << 20

// A Loader reads the bytes of a source, at most MaxTemplateSize of them,
// with errors of one line that name the source.
type Loader interface {
	Load(ctx context.Context, src ref.Source) ([]byte, error)
}

// LocalLoader reads files and stdin, the sources that need no network.
// It refuses s3:// sources: a run offline reads local files only.
type LocalLoader struct {
	// Stdin is read for the source "-"; nil means there is none.
	Stdin io.Reader
}

// Load reads a file or stdin.
func (l LocalLoader) Load(_ context.Context, src ref.Source) ([]byte, error) {
	switch src.Kind {
	case ref.SourceStdin:
		if l.Stdin == nil {
			return nil, errors.New("read stdin: no standard input")
		}
		return ReadSource(l.Stdin, src, -1)
	case ref.SourceS3:
		return nil, inputErrorf("%v: --offline reads local files only", src)
	case ref.SourceFile:
		return loadFile(src)
	}
	return nil, fmt.Errorf("source %v: unknown kind %d", src, src.Kind)
}

func loadFile(src ref.Source) ([]byte, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.Path, pathErrorCause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.Path, pathErrorCause(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory, not a template file", src.Path)
	}
	// Only regular files have a meaningful size; a FIFO or /dev/stdin says 0
	// and is caught by the limited read instead.
	size := int64(-1)
	if fi.Mode().IsRegular() {
		size = fi.Size()
	}
	return ReadSource(f, src, size)
}

// pathErrorCause drops the *os.PathError's operation and path: the caller
// names the file once, its own way, so the line does not say it twice.
func pathErrorCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// ReadSource reads src's bytes from r, refusing a source over
// MaxTemplateSize: at once when its size is known (size >= 0), else after
// MaxTemplateSize+1 bytes instead of reading it whole. Every Loader uses
// it, so the limit and its wording are the same for files, stdin and S3.
// A read error is returned as it is, for the caller to word.
func ReadSource(r io.Reader, src ref.Source, size int64) ([]byte, error) {
	if size > MaxTemplateSize {
		return nil, inputErrorf("%v is %s; the limit is 1 MiB", src, formatSize(size))
	}
	// The limited read applies even with a known size: a proxy or a fake
	// may send a wrong one.
	b, err := io.ReadAll(io.LimitReader(r, MaxTemplateSize+1))
	if err != nil {
		return nil, &readError{src: src, err: err}
	}
	if len(b) > MaxTemplateSize {
		return nil, inputErrorf("%v is over the limit of 1 MiB", src)
	}
	return b, nil
}

// readError is a source that failed while being read.
type readError struct {
	src ref.Source
	err error
}

func (e *readError) Error() string { return fmt.Sprintf("read %v: %v", e.src, pathErrorCause(e.err)) }
func (e *readError) Unwrap() error { return e.err }

// formatSize writes sizes just over the limit in bytes, where "1.0 MiB"
// would read as if it were within it.
func formatSize(n int64) string {
	s := fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	if s == "1.0 MiB" {
		return fmt.Sprintf("%d bytes", n)
	}
	return s
}

// inputErrorf is fmt.Errorf marked as the user's input being wrong.
func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}
