package remote

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

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
		src, err := ref.ParseSource(tc.src)
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
		src, err := ref.ParseSource(tc.src)
		if err != nil {
			t.Fatal(err)
		}
		_, err = l.Load(ctx, src)
		checkErr(t, err, tc.want)
		if render.IsInputError(err) {
			t.Errorf("%s: an S3 failure is not an input error", tc.src)
		}
	}
}

// A large object is refused on its Content-Length: the size in the message
// can only come from there, since at most render.MaxTemplateSize+1 bytes are read.
func TestLoadS3TooLarge(t *testing.T) {
	f := newFakeS3(t)
	f.put(t, "big.json", bytes.Repeat([]byte(" "), 3355443))
	f.put(t, "at-limit.json", bytes.Repeat([]byte(" "), render.MaxTemplateSize))
	l := testLoader(t, f.URL, AWSOptions{})

	_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "tmpl", Key: "big.json"})
	checkErr(t, err, "s3://tmpl/big.json is 3.2 MiB; the limit is 1 MiB")
	if !render.IsInputError(err) {
		t.Error("an oversized template is an input error")
	}
	got, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "tmpl", Key: "at-limit.json"})
	if err != nil || len(got) != render.MaxTemplateSize {
		t.Errorf("Load(at limit) = %d bytes, %v", len(got), err)
	}
}

// Without a Content-Length, the read stops after render.MaxTemplateSize+1 bytes
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

	_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "tmpl", Key: "endless.json"})
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
			src, err := ref.ParseSource(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			_, err = l.Load(context.Background(), src)
			checkErr(t, err, tc.want)
			if render.IsInputError(err) {
				t.Error("an S3 failure is not an input error")
			}
		})
	}
}
