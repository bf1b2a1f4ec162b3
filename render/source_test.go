package render

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

func TestParseSourceValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Source
	}{
		{"-", Source{Kind: SourceStdin}},
		{"taskdef.json", Source{Kind: SourceFile, Path: "taskdef.json"}},
		{"./dir/taskdef.json", Source{Kind: SourceFile, Path: "./dir/taskdef.json"}},
		{"/abs/taskdef.json", Source{Kind: SourceFile, Path: "/abs/taskdef.json"}},
		{"s3.json", Source{Kind: SourceFile, Path: "s3.json"}},
		{"--", Source{Kind: SourceFile, Path: "--"}},
		{"s3://bucket/key", Source{Kind: SourceS3, Bucket: "bucket", Key: "key"}},
		{"s3://my.bucket-1/a/b/taskdef.json", Source{Kind: SourceS3, Bucket: "my.bucket-1", Key: "a/b/taskdef.json"}},
		{"s3://abc/k", Source{Kind: SourceS3, Bucket: "abc", Key: "k"}},
		{"s3://" + strings.Repeat("a", 63) + "/k", Source{Kind: SourceS3, Bucket: strings.Repeat("a", 63), Key: "k"}},
		{"s3://b12/with space/ümlaut+plus%20.json", Source{Kind: SourceS3, Bucket: "b12", Key: "with space/ümlaut+plus%20.json"}},
		{"s3://bucket//double", Source{Kind: SourceS3, Bucket: "bucket", Key: "/double"}},
		{"s3://bucket/key?versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}},
		{"s3://bucket/key?versionId=a%2Fb", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "a/b"}},
		{"s3://bucket/key?versionId=null", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "null"}},
		{"s3://bucket--usw2-az1--x-s3/key", Source{Kind: SourceS3, Bucket: "bucket--usw2-az1--x-s3", Key: "key"}},
	} {
		got, err := ParseSource(tc.in)
		if err != nil {
			t.Errorf("ParseSource(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseSource(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseSourceInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "empty template source: give a file, - or s3://BUCKET/KEY"},
		{"s3://", `source "s3://": want s3://BUCKET/KEY`},
		{"s3://bucket", `source "s3://bucket": want s3://BUCKET/KEY`},
		{"s3:///key", `source "s3:///key": want s3://BUCKET/KEY`},
		{"s3://bucket/", `source "s3://bucket/": no object key: want s3://BUCKET/KEY`},
		{"s3://bucket/?versionId=v", `source "s3://bucket/?versionId=v": no object key: want s3://BUCKET/KEY`},
		{"s3://bucket/dir/", `source "s3://bucket/dir/": key ends with /, which names a folder, not a template`},
		{"S3://bucket/key", `source "S3://bucket/key": write the scheme as s3://`},
		{"s3://ab/k", `source "s3://ab/k": bucket name "ab": S3 bucket names are 3 to 63 characters`},
		{"s3://" + strings.Repeat("a", 64) + "/k", `source "s3://` + strings.Repeat("a", 64) + `/k": bucket name "` + strings.Repeat("a", 64) + `": S3 bucket names are 3 to 63 characters`},
		{"s3://My-Bucket/k", `source "s3://My-Bucket/k": bucket name "My-Bucket": only lowercase letters, digits, dots and hyphens are allowed`},
		{"s3://my_bucket/k", `source "s3://my_bucket/k": bucket name "my_bucket": only lowercase letters, digits, dots and hyphens are allowed`},
		{"s3://-bucket/k", `source "s3://-bucket/k": bucket name "-bucket" must begin and end with a letter or digit`},
		{"s3://bucket./k", `source "s3://bucket./k": bucket name "bucket." must begin and end with a letter or digit`},
		{"s3://my..bucket/k", `source "s3://my..bucket/k": bucket name "my..bucket" has two adjacent dots`},
		{"s3://192.168.5.4/k", `source "s3://192.168.5.4/k": bucket name "192.168.5.4" is an IP address`},
		{"s3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/k", `source "s3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/k": access point and other ARNs are not supported: give the bucket name`},
		{"s3://bucket/key?version=v", `source "s3://bucket/key?version=v": unknown query parameter "version": only versionId is allowed`},
		{"s3://bucket/key?versionId=v&x=1", `source "s3://bucket/key?versionId=v&x=1": unknown query parameter "x": only versionId is allowed`},
		{"s3://bucket/key?versionId=a&versionId=b", `source "s3://bucket/key?versionId=a&versionId=b": versionId given twice`},
		{"s3://bucket/key?versionId=", `source "s3://bucket/key?versionId=": empty or malformed versionId`},
		{"s3://bucket/key?versionId", `source "s3://bucket/key?versionId": empty or malformed versionId`},
		{"s3://bucket/key?versionId=%zz", `source "s3://bucket/key?versionId=%zz": empty or malformed versionId`},
		{"s3://bucket/key?", `source "s3://bucket/key?": unknown query parameter "": only versionId is allowed`},
		{"s3://bucket/" + strings.Repeat("k", 1025), `source "s3://bucket/` + strings.Repeat("k", 1025) + `": key is 1025 bytes; S3 allows 1024`},
	} {
		_, err := ParseSource(tc.in)
		if err == nil {
			t.Errorf("ParseSource(%q): no error; want %q", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseSource(%q):\n got %q\nwant %q", tc.in, err, tc.want)
		}
		if !IsInputError(err) {
			t.Errorf("ParseSource(%q): %T is not an input error", tc.in, err)
		}
	}
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"-", "dir/taskdef.json", "s3://b12/k/x.json", "s3://b12/k?versionId=v+1/2"} {
		src, err := ParseSource(in)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		if in == "-" {
			want = "stdin"
		}
		if got := src.String(); got != want {
			t.Errorf("ParseSource(%q).String() = %q, want %q", in, got, want)
		}
	}
}

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

	l := &Loader{}
	got, err := l.Load(context.Background(), Source{Kind: SourceFile, Path: ok})
	if err != nil || string(got) != `{"family":"web"}` {
		t.Errorf("Load(%s) = %q, %v", ok, got, err)
	}
	got, err = l.Load(context.Background(), Source{Kind: SourceFile, Path: atLimit})
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
		{dir, "read " + dir + ": is a directory, not a template file", false},
	} {
		_, err := l.Load(context.Background(), Source{Kind: SourceFile, Path: tc.path})
		checkErr(t, err, tc.want)
		if IsInputError(err) != tc.input {
			t.Errorf("%s: IsInputError = %v, want %v", tc.want, !tc.input, tc.input)
		}
	}
	if _, err := l.Load(context.Background(), Source{Kind: SourceFile, Path: missing}); !errors.Is(err, os.ErrNotExist) {
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
	_, err := (&Loader{}).Load(context.Background(), Source{Kind: SourceFile, Path: p})
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
	l := &Loader{Stdin: strings.NewReader(`{"family":"web"}`)}
	got, err := l.Load(context.Background(), Source{Kind: SourceStdin})
	if err != nil || string(got) != `{"family":"web"}` {
		t.Errorf("Load(stdin) = %q, %v", got, err)
	}

	endless := &countingReader{}
	_, err = (&Loader{Stdin: endless}).Load(context.Background(), Source{Kind: SourceStdin})
	checkErr(t, err, "stdin is over the limit of 1 MiB")
	if !IsInputError(err) {
		t.Error("an oversized template is an input error")
	}
	if endless.n != MaxTemplateSize+1 {
		t.Errorf("read %d bytes of an endless stdin; want %d", endless.n, MaxTemplateSize+1)
	}

	_, err = (&Loader{}).Load(context.Background(), Source{Kind: SourceStdin})
	checkErr(t, err, "read stdin: no standard input")

	_, err = (&Loader{Stdin: iotestErrReader{}}).Load(context.Background(), Source{Kind: SourceStdin})
	checkErr(t, err, "read stdin: broken pipe")
}

type iotestErrReader struct{}

func (iotestErrReader) Read([]byte) (int, error) { return 0, errors.New("broken pipe") }

func TestLoadS3Offline(t *testing.T) {
	t.Parallel()
	_, err := (&Loader{}).Load(context.Background(), Source{Kind: SourceS3, Bucket: "b12", Key: "k"})
	checkErr(t, err, "s3://b12/k: --offline reads local files only")
	if !IsInputError(err) {
		t.Error("an s3:// source with --offline is an input error")
	}
}

// fakeS3 is an in-process S3 holding bucket "tmpl" (versioned) and the
// objects given.
type fakeS3 struct {
	*httptest.Server
	backend *s3mem.Backend
}

func newFakeS3(t *testing.T) *fakeS3 {
	t.Helper()
	f := &fakeS3{backend: s3mem.New()}
	f.Server = httptest.NewServer(gofakes3.New(f.backend).Server())
	t.Cleanup(f.Close)
	if err := f.backend.CreateBucket("tmpl"); err != nil {
		t.Fatal(err)
	}
	if err := f.backend.SetVersioningConfiguration("tmpl", gofakes3.VersioningConfiguration{Status: gofakes3.VersioningEnabled}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fakeS3) put(t *testing.T, key string, body []byte) string {
	t.Helper()
	res, err := f.backend.PutObject("tmpl", key, map[string]string{}, bytes.NewReader(body), int64(len(body)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return string(res.VersionID)
}

func TestLoadS3(t *testing.T) {
	f := newFakeS3(t)
	v1 := f.put(t, "web/taskdef.json", []byte(`{"family":"v1"}`))
	v2 := f.put(t, "web/taskdef.json", []byte(`{"family":"v2"}`))
	if v1 == "" || v1 == v2 {
		t.Fatalf("versioning is off in the fake: versions %q, %q", v1, v2)
	}
	l := testLoader(t, f.URL, AWSOptions{})
	ctx := context.Background()

	for _, tc := range []struct{ src, want string }{
		{"s3://tmpl/web/taskdef.json", `{"family":"v2"}`},
		{"s3://tmpl/web/taskdef.json?versionId=" + v1, `{"family":"v1"}`},
		{"s3://tmpl/web/taskdef.json?versionId=" + v2, `{"family":"v2"}`},
	} {
		src, err := ParseSource(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		got, err := l.Load(ctx, src)
		if err != nil {
			t.Errorf("Load(%s): %v", tc.src, err)
			continue
		}
		if string(got) != tc.want {
			t.Errorf("Load(%s) = %s, want %s", tc.src, got, tc.want)
		}
	}

	for _, tc := range []struct{ src, want string }{
		{"s3://tmpl/nope.json", "get s3://tmpl/nope.json: no such key"},
		{"s3://nobucket/k.json", "get s3://nobucket/k.json: no such bucket"},
		{"s3://tmpl/web/taskdef.json?versionId=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY", "get s3://tmpl/web/taskdef.json?versionId=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY: no such version"},
	} {
		src, err := ParseSource(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Load(ctx, src)
		checkErr(t, err, tc.want)
		if IsInputError(err) {
			t.Errorf("%s: an S3 failure is not an input error", tc.src)
		}
	}
}

// A large object is refused on its Content-Length: the size in the message
// can only come from there, since at most MaxTemplateSize+1 bytes are read.
func TestLoadS3TooLarge(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "big.json", bytes.Repeat([]byte(" "), 3355443))
	f.put(t, "at-limit.json", bytes.Repeat([]byte(" "), MaxTemplateSize))
	l := testLoader(t, f.URL, AWSOptions{})

	_, err := l.Load(context.Background(), Source{Kind: SourceS3, Bucket: "tmpl", Key: "big.json"})
	checkErr(t, err, "s3://tmpl/big.json is 3.2 MiB; the limit is 1 MiB")
	if !IsInputError(err) {
		t.Error("an oversized template is an input error")
	}
	got, err := l.Load(context.Background(), Source{Kind: SourceS3, Bucket: "tmpl", Key: "at-limit.json"})
	if err != nil || len(got) != MaxTemplateSize {
		t.Errorf("Load(at limit) = %d bytes, %v", len(got), err)
	}
}

// Without a Content-Length, the read stops after MaxTemplateSize+1 bytes
// and the connection is dropped: the server gets to send far less than
// the object.
func TestLoadS3TooLargeNoLength(t *testing.T) {
	const total = 64 << 20
	var sent atomic.Int64
	done := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer close(done)
		w.WriteHeader(200) // chunked: no Content-Length
		chunk := bytes.Repeat([]byte(" "), 32<<10)
		for sent.Load() < total {
			n, err := w.Write(chunk)
			sent.Add(int64(n))
			if err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	l := testLoader(t, srv.URL, AWSOptions{})

	_, err := l.Load(context.Background(), Source{Kind: SourceS3, Bucket: "tmpl", Key: "endless.json"})
	checkErr(t, err, "s3://tmpl/endless.json is over the limit of 1 MiB")
	<-done
	t.Logf("server sent %d bytes", sent.Load())
	if n := sent.Load(); n >= total {
		t.Errorf("the server sent all %d bytes; the client should have hung up after 1 MiB", n)
	}
}

// s3ErrorServer answers every request with status, headers and an S3 XML
// error body, as S3 itself does.
func s3ErrorServer(t *testing.T, status int, header map[string]string, body string) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		for k, v := range header {
			w.Header().Set(k, v)
		}
		if body != "" {
			w.Header().Set("Content-Type", "application/xml")
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// Bodies as S3 sends them (request and host ids shortened).
const (
	xmlAccessDenied = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>n5nG7dBxQ8vV</HostId></Error>`
	xmlPermanentRedirect = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>PermanentRedirect</Code><Message>The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.</Message><Endpoint>tmpl.s3.eu-west-1.amazonaws.com</Endpoint><Bucket>tmpl</Bucket><RequestId>X2Q1Y7Z8</RequestId><HostId>abc=</HostId></Error>`
	xmlAuthHeaderMalformed = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>AuthorizationHeaderMalformed</Code><Message>The authorization header is malformed; the region 'us-east-1' is wrong; expecting 'ap-southeast-2'</Message><Region>ap-southeast-2</Region><RequestId>7C1A9E4B</RequestId><HostId>def=</HostId></Error>`
	xmlInvalidVersion = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidArgument</Code><Message>Invalid version id specified</Message><ArgumentName>versionId</ArgumentName><ArgumentValue>nope</ArgumentValue><RequestId>1F2E3D4C</RequestId><HostId>ghi=</HostId></Error>`
	xmlNoSuchVersion = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>NoSuchVersion</Code><Message>The specified version does not exist.</Message><Key>k.json</Key><VersionId>3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY</VersionId><RequestId>5A6B7C8D</RequestId><HostId>jkl=</HostId></Error>`
	xmlInvalidObjectState = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InvalidObjectState</Code><Message>The operation is not valid for the object's storage class</Message><StorageClass>GLACIER</StorageClass><RequestId>9E8D7C6B</RequestId><HostId>mno=</HostId></Error>`
	xmlInternalError = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message><RequestId>0A1B2C3D</RequestId><HostId>pqr=</HostId></Error>`
	xmlSlowDown = `<?xml version="1.0" encoding="UTF-8"?>
<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message><RequestId>4E5F6A7B</RequestId><HostId>stu=</HostId></Error>`
)

func TestLoadS3Errors(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		src    string
		want   string
	}{
		{"access denied", 403, nil, xmlAccessDenied, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: access denied (S3 also says this for a missing key when the caller may not list the bucket)"},
		{"403 without body", 403, nil, "", "s3://tmpl/k.json",
			"get s3://tmpl/k.json: access denied (S3 also says this for a missing key when the caller may not list the bucket)"},
		{"redirect with region header", 301, map[string]string{"x-amz-bucket-region": "eu-west-1"}, xmlPermanentRedirect, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: bucket tmpl is in region eu-west-1; pass --region eu-west-1"},
		{"redirect without region", 301, nil, xmlPermanentRedirect, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: bucket tmpl is in another region; pass its region with --region"},
		{"301 without body", 301, map[string]string{"x-amz-bucket-region": "us-west-2"}, "", "s3://tmpl/k.json",
			"get s3://tmpl/k.json: bucket tmpl is in region us-west-2; pass --region us-west-2"},
		{"wrong signing region", 400, nil, xmlAuthHeaderMalformed, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: bucket tmpl is in region ap-southeast-2; pass --region ap-southeast-2"},
		{"malformed version id", 400, nil, xmlInvalidVersion, "s3://tmpl/k.json?versionId=nope",
			"get s3://tmpl/k.json?versionId=nope: no such version (S3: Invalid version id specified)"},
		{"no such version", 404, nil, xmlNoSuchVersion, "s3://tmpl/k.json?versionId=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY",
			"get s3://tmpl/k.json?versionId=3sL4kqtJlcpXroDTDmJ.rmSpXd3dIbrHY: no such version"},
		{"404 without body", 404, nil, "", "s3://tmpl/k.json",
			"get s3://tmpl/k.json: not found"},
		{"archived", 403, nil, xmlInvalidObjectState, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: object is archived (InvalidObjectState); restore it first"},
		{"other client error", 400, nil, `<Error><Code>InvalidRequest</Code><Message>Something odd.</Message></Error>`, "s3://tmpl/k.json",
			"get s3://tmpl/k.json: S3 error InvalidRequest (HTTP 400): Something odd."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := s3ErrorServer(t, tc.status, tc.header, tc.body)
			l := testLoader(t, srv.URL, AWSOptions{})
			src, err := ParseSource(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Load(context.Background(), src)
			checkErr(t, err, tc.want)
			if IsInputError(err) {
				t.Error("an S3 failure is not an input error")
			}
		})
	}
}

func TestLoadUnknownKind(t *testing.T) {
	t.Parallel()
	_, err := (&Loader{}).Load(context.Background(), Source{Kind: 9, Path: "x"})
	checkErr(t, err, "source x: unknown kind 9")
}

func ExampleParseSource() {
	for _, s := range []string{"s3://infra-templates/web/taskdef.json?versionId=3HL4kqtJ", "-", "taskdef.json"} {
		src, err := ParseSource(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%d %s | %s | %s | %s\n", src.Kind, src.Bucket, src.Key, src.VersionID, src)
	}
	_, err := ParseSource("s3://Infra/taskdef.json")
	fmt.Println(err)
	// Output:
	// 2 infra-templates | web/taskdef.json | 3HL4kqtJ | s3://infra-templates/web/taskdef.json?versionId=3HL4kqtJ
	// 1  |  |  | stdin
	// 0  |  |  | taskdef.json
	// source "s3://Infra/taskdef.json": bucket name "Infra": only lowercase letters, digits, dots and hyphens are allowed
}
