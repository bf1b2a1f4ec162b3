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

// Load reads a file or stdin. Neither may outlast ctx: a file must be a
// regular file (a FIFO or a device could block or never end), and stdin
// is given up when ctx is done, since a pipe that never closes or a
// terminal has no size and no end of its own.
func (l LocalLoader) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	switch src.Kind {
	case ref.SourceStdin:
		if l.Stdin == nil {
			return nil, errors.New("read stdin: no standard input")
		}
		return readStdin(ctx, l.Stdin, src)
	case ref.SourceS3:
		return nil, inputErrorf("%v: --offline reads local files only", src)
	case ref.SourceFile:
		return loadFile(src)
	}
	return nil, fmt.Errorf("source %v: unknown kind %d", src, src.Kind)
}

// readStdin reads stdin in a goroutine so that the read can be abandoned:
// a blocked read(2) on a pipe or a terminal cannot be interrupted, and
// *os.File deadlines do not work on a descriptor the runtime did not open
// non-blocking. The abandoned goroutine ends with the process, which exits
// right after an error from here.
func readStdin(ctx context.Context, r io.Reader, src ref.Source) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, stdinStopped(err)
	}
	type result struct {
		b   []byte
		err error
	}
	done := make(chan result, 1)
	go func() {
		b, err := ReadSource(r, src, -1)
		done <- result{b, err}
	}()
	select {
	case res := <-done:
		return res.b, res.err
	case <-ctx.Done():
		return nil, stdinStopped(ctx.Err())
	}
}

// stdinStopped says why stdin was given up, and what to check.
func stdinStopped(cause error) error {
	if errors.Is(cause, context.DeadlineExceeded) {
		return fmt.Errorf("read stdin: not closed before the deadline (--timeout); stopped: %w", cause)
	}
	return fmt.Errorf("read stdin: stopped: %w", cause)
}

// loadFile reads a regular file, and refuses anything else before reading
// a byte: a FIFO may never end, a device such as /dev/zero never does, and
// neither has a size to check. It opens with O_NONBLOCK so that a FIFO
// with no writer (put in place after the stat) does not block the open.
func loadFile(src ref.Source) ([]byte, error) {
	// Stat before opening too: opening a device can have effects of its
	// own (a tape rewinds, a watchdog starts), so one is never opened.
	if fi, err := os.Stat(src.Path); err == nil && !fi.Mode().IsRegular() {
		return nil, &InputError{Err: &NotRegularFileError{Src: src, What: fileKind(fi.Mode())}}
	}
	// The open and fstat below still decide: the path may have changed
	// since the stat.
	f, err := openNonBlocking(src.Path)
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", src, pathErrorCause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", src, pathErrorCause(err))
	}
	if !fi.Mode().IsRegular() {
		// An input error: only the user can fix the path they gave.
		return nil, &InputError{Err: &NotRegularFileError{Src: src, What: fileKind(fi.Mode())}}
	}
	return ReadSource(f, src, fi.Size())
}

// NotRegularFileError is a local source that is not a regular file: a
// FIFO, a device or a socket, which could block or never end. Its Src lets
// the CLI name the flag that gave the path.
type NotRegularFileError struct {
	Src ref.Source
	// What is the kind of file, e.g. "a character device".
	What string
}

// Error returns "read PATH: a character device, not a regular file; ...".
func (e *NotRegularFileError) Error() string {
	return fmt.Sprintf("read %v: %s", e.Src, e.Reason())
}

// Reason is the message without the path, for a caller that names the
// source its own way.
func (e *NotRegularFileError) Reason() string {
	return e.What + ", not a regular file; give a file, - for stdin, or s3://BUCKET/KEY"
}

// fileKind names a file mode that is not a regular file or a directory.
func fileKind(m os.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&os.ModeNamedPipe != 0:
		return "a named pipe (FIFO)"
	case m&os.ModeCharDevice != 0:
		return "a character device"
	case m&os.ModeDevice != 0:
		return "a block device"
	case m&os.ModeSocket != 0:
		return "a socket"
	}
	return "a special file"
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
