package render

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ecsrender/ecsrender/render/ref"
)

func TestLoadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name string, size int64) string {
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			t.Fatal(err)
		}
		// Truncate makes a sparse file: a size is all these tests need.
		if err := f.Truncate(size); err != nil {
			t.Fatal(err)
		}
		f.Close()
		return p
	}
	ok := filepath.Join(dir, "ok.json")
	if err := os.WriteFile(ok, []byte(`{"family":"web"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	atLimit := write("at-limit.json", MaxTemplateSize)
	overByOne := write("over-by-one.json", MaxTemplateSize+1)
	big := write("big.json", 3355443) // 3.2 MiB
	missing := filepath.Join(dir, "missing.json")

	l := LocalLoader{}
	got, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: ok})
	if err != nil || string(got) != `{"family":"web"}` {
		t.Errorf("Load(%s) = %q, %v", ok, got, err)
	}
	got, err = l.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: atLimit})
	if err != nil || len(got) != MaxTemplateSize {
		t.Errorf("Load(at limit) = %d bytes, %v", len(got), err)
	}

	for _, tc := range []struct {
		path, want string
		input      bool
	}{
		{overByOne, overByOne + " is 1048577 bytes; the limit is 1 MiB", true},
		{big, big + " is 3.2 MiB; the limit is 1 MiB", true},
		{missing, "read " + missing + ": no such file or directory", false},
		{dir, "read " + dir + ": a directory, not a regular file; give a file, - for stdin, or s3://BUCKET/KEY", true},
	} {
		_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: tc.path})
		checkErr(t, err, tc.want)
		if IsInputError(err) != tc.input {
			t.Errorf("%s: IsInputError = %v, want %v", tc.want, !tc.input, tc.input)
		}
	}
	if _, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: missing}); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing file should unwrap to os.ErrNotExist: %v", err)
	}
}

func TestLoadFileUnreadable(t *testing.T) {
	t.Parallel()
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	p := filepath.Join(t.TempDir(), "secret.json")
	if err := os.WriteFile(p, []byte("{}"), 0o000); err != nil {
		t.Fatal(err)
	}
	_, err := LocalLoader{}.Load(context.Background(), ref.Source{Kind: ref.SourceFile, Path: p})
	checkErr(t, err, "read "+p+": permission denied")
}

// countingReader is an endless reader that counts what it gives out.
type countingReader struct{ n int64 }

func (r *countingReader) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = ' '
	}
	r.n += int64(len(p))
	return len(p), nil
}

func TestLoadStdin(t *testing.T) {
	t.Parallel()
	l := LocalLoader{Stdin: strings.NewReader(`{"family":"web"}`)}
	got, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceStdin})
	if err != nil || string(got) != `{"family":"web"}` {
		t.Errorf("Load(stdin) = %q, %v", got, err)
	}

	endless := &countingReader{}
	_, err = (LocalLoader{Stdin: endless}).Load(context.Background(), ref.Source{Kind: ref.SourceStdin})
	checkErr(t, err, "stdin is over the limit of 1 MiB")
	if !IsInputError(err) {
		t.Error("an oversized template is an input error")
	}
	if endless.n != MaxTemplateSize+1 {
		t.Errorf("read %d bytes of an endless stdin; want %d", endless.n, MaxTemplateSize+1)
	}

	_, err = LocalLoader{}.Load(context.Background(), ref.Source{Kind: ref.SourceStdin})
	checkErr(t, err, "read stdin: no standard input")

	_, err = (LocalLoader{Stdin: iotestErrReader{}}).Load(context.Background(), ref.Source{Kind: ref.SourceStdin})
	checkErr(t, err, "read stdin: broken pipe")
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLoadS3Offline(t *testing.T) {
	t.Parallel()
	_, err := LocalLoader{}.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b12", Key: "k"})
	checkErr(t, err, "s3://b12/k: --offline reads local files only")
	if !IsInputError(err) {
		t.Error("an s3:// source with --offline is an input error")
	}
}

func TestLoadUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := LocalLoader{}.Load(context.Background(), ref.Source{Kind: 9, Path: "x"})
	checkErr(t, err, "source x: unknown kind 9")
}

// checkErr fails unless err's message is exactly want.
func checkErr(t *testing.T, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error; want %q", want)
	}
	if got := err.Error(); got != want {
		t.Errorf("error:\n got %q\nwant %q", got, want)
	}
}
