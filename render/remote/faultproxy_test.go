package remote

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

// fault is what the fault proxy does with one request.
type fault int

const (
	// faultNone forwards the request to the backend.
	faultNone fault = iota
	// faultThrottle answers as a throttled service does: S3's 503 SlowDown,
	// or a JSON protocol service's (ECR's) 400 ThrottlingException.
	faultThrottle
	// faultServerError answers 500: S3's InternalError, or ECR's
	// ServerException.
	faultServerError
	// faultReset drops the connection with a TCP reset and no answer.
	faultReset
	// faultHang answers nothing until the client gives up.
	faultHang
	// faultProxyPage answers 502 with an HTML page, as a corporate proxy
	// or a load balancer in front of an endpoint does.
	faultProxyPage
)

// faultProxy is a reverse proxy in front of an AWS service fake (gofakes3,
// moto) that injects faults, which fakes do not. It proxies any path, so
// it serves S3 and ECR alike; choose picks the fault for the nth request
// (counting from 1).
type faultProxy struct {
	*httptest.Server
	requests atomic.Int64
}

func newFaultProxy(t *testing.T, backend string, choose func(n int, r *http.Request) fault) *faultProxy {
	t.Helper()
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rp := httputil.NewSingleHostReverseProxy(u)
	rp.Transport = tr

	p := &faultProxy{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := int(p.requests.Add(1))
		switch choose(n, r) {
		case faultNone:
			rp.ServeHTTP(w, r)
		case faultThrottle:
			if isJSONProtocol(r) {
				writeFaultJSON(w, 400, "ThrottlingException", "Rate exceeded")
			} else {
				writeFaultXML(w, 503, xmlSlowDown)
			}
		case faultServerError:
			if isJSONProtocol(r) {
				writeFaultJSON(w, 500, "ServerException", "Internal server error")
			} else {
				writeFaultXML(w, 500, xmlInternalError)
			}
		case faultReset:
			conn, _, err := w.(http.Hijacker).Hijack()
			if err != nil {
				t.Errorf("fault proxy: hijack: %v", err)
				return
			}
			// Linger 0 makes Close send RST, not FIN: the client sees
			// "connection reset by peer", as from a load balancer.
			if tc, ok := conn.(*net.TCPConn); ok {
				tc.SetLinger(0)
			}
			conn.Close()
		case faultProxyPage:
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
		case faultHang:
			// The server notices the client hanging up (and ends the
			// request's context) only once the body has been read.
			io.Copy(io.Discard, r.Body)
			<-r.Context().Done()
		}
	}))
	t.Cleanup(p.Close)
	return p
}

// Requests is how many requests reached the proxy: the attempts made.
func (p *faultProxy) Requests() int { return int(p.requests.Load()) }

// isJSONProtocol tells ECR-style (awsJson) requests from S3's REST-XML.
func isJSONProtocol(r *http.Request) bool { return r.Header.Get("X-Amz-Target") != "" }

func writeFaultXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeFaultJSON(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	io.WriteString(w, `{"__type":"`+code+`","message":"`+msg+`"}`)
}

// faultFirst applies f to the first request and passes the rest.
func faultFirst(f fault) func(int, *http.Request) fault {
	return func(n int, _ *http.Request) fault {
		if n == 1 {
			return f
		}
		return faultNone
	}
}

// faultAlways applies f to every request.
func faultAlways(f fault) func(int, *http.Request) fault {
	return func(int, *http.Request) fault { return f }
}

// proxiedLoader serves tmpl/k.json from gofakes3 through a fault proxy.
func proxiedLoader(t *testing.T, o AWSOptions, choose func(int, *http.Request) fault) (*Loader, *faultProxy) {
	t.Helper()
	f := newFakeS3(t)
	f.put(t, "k.json", []byte(`{"family":"web"}`))
	p := newFaultProxy(t, f.URL, choose)
	return testLoader(t, p.URL, o), p
}

var proxiedSource = ref.Source{Kind: ref.SourceS3, Bucket: "tmpl", Key: "k.json"}

func TestFaultRecovered(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fault
	}{
		{"throttle", faultThrottle},
		{"server error", faultServerError},
		{"reset", faultReset},
		{"hang", faultHang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: 200 * time.Millisecond}, faultFirst(tc.f))
			got, err := l.Load(context.Background(), proxiedSource)
			if err != nil {
				t.Fatalf("Load: %v", err)
			}
			if string(got) != `{"family":"web"}` {
				t.Errorf("Load = %s", got)
			}
			if n := p.Requests(); n != 2 {
				t.Errorf("%d requests; want 2 (the fault, then the retry)", n)
			}
		})
	}
}

func TestFaultPersistent(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    fault
		want string
	}{
		{"throttle", faultThrottle,
			"get s3://tmpl/k.json: S3 error SlowDown (HTTP 503): Please reduce your request rate. (3 attempts)"},
		{"server error", faultServerError,
			"get s3://tmpl/k.json: S3 error InternalError (HTTP 500): We encountered an internal error. Please try again. (3 attempts)"},
		{"hang", faultHang,
			"get s3://tmpl/k.json: no answer from S3 within 100ms (3 attempts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: 100 * time.Millisecond, MaxAttempts: 3}, faultAlways(tc.f))
			_, err := l.Load(context.Background(), proxiedSource)
			checkErr(t, err, tc.want)
			if n := p.Requests(); n != 3 {
				t.Errorf("%d requests; want MaxAttempts, 3", n)
			}
			if render.IsInputError(err) {
				t.Error("an S3 failure is not an input error")
			}
		})
	}
}

// The reset's message holds the connection's ports, so only its shape is
// checked.
func TestFaultPersistentReset(t *testing.T) {
	l, p := proxiedLoader(t, AWSOptions{MaxAttempts: 2}, faultAlways(faultReset))
	_, err := l.Load(context.Background(), proxiedSource)
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Log(msg)
	if !strings.HasPrefix(msg, "get s3://tmpl/k.json: connection to S3 failed: ") ||
		!strings.HasSuffix(msg, "connection reset by peer (2 attempts)") || strings.Contains(msg, "\n") {
		t.Errorf("got %q; want one line: connection to S3 failed: ... connection reset by peer (2 attempts)", msg)
	}
	if n := p.Requests(); n != 2 {
		t.Errorf("%d requests; want 2", n)
	}
}

// The caller's deadline ends the call even while an attempt has time
// left, and is not retried.
func TestFaultHangCallerDeadline(t *testing.T) {
	l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: time.Hour}, faultAlways(faultHang))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := l.Load(ctx, proxiedSource)
	checkErr(t, err, "get s3://tmpl/k.json: no answer from S3 before the deadline")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("%v does not unwrap to context.DeadlineExceeded", err)
	}
	if n := p.Requests(); n != 1 {
		t.Errorf("%d requests; want 1: the caller's deadline is not retried", n)
	}
}

func TestFaultCallerCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	l, _ := proxiedLoader(t, AWSOptions{AttemptTimeout: time.Hour}, func(int, *http.Request) fault {
		cancel()
		return faultHang
	})
	_, err := l.Load(ctx, proxiedSource)
	checkErr(t, err, "get s3://tmpl/k.json: canceled")
	if !errors.Is(err, context.Canceled) {
		t.Errorf("%v does not unwrap to context.Canceled", err)
	}
}

// The retry policy and attempt timeout come with the config, so ECR
// clients get them too; the proxy speaks ECR's JSON errors.
func TestFaultECR(t *testing.T) {
	ecrFake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		io.WriteString(w, `{"repositories":[{"repositoryName":"web"}]}`)
	}))
	defer ecrFake.Close()
	hangThenThrottle := func(n int, r *http.Request) fault {
		switch n {
		case 1:
			return faultHang
		case 2:
			return faultThrottle
		}
		return faultNone
	}

	t.Run("recovered", func(t *testing.T) {
		p := newFaultProxy(t, ecrFake.URL, hangThenThrottle)
		setAWSEnv(t, p.URL)
		cfg := testConfig(t, AWSOptions{AttemptTimeout: 200 * time.Millisecond, MaxAttempts: 3})
		out, err := NewECRClient(cfg, "eu-west-1").DescribeRepositories(context.Background(), &ecr.DescribeRepositoriesInput{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Repositories) != 1 || aws.ToString(out.Repositories[0].RepositoryName) != "web" {
			t.Errorf("DescribeRepositories = %+v", out.Repositories)
		}
		if n := p.Requests(); n != 3 {
			t.Errorf("%d requests; want 3", n)
		}
	})

	t.Run("persistent", func(t *testing.T) {
		p := newFaultProxy(t, ecrFake.URL, func(n int, r *http.Request) fault {
			if n == 1 {
				return faultHang
			}
			return faultThrottle
		})
		setAWSEnv(t, p.URL)
		cfg := testConfig(t, AWSOptions{AttemptTimeout: 200 * time.Millisecond, MaxAttempts: 3})
		ctx := context.Background()
		_, err := NewECRClient(cfg, "eu-west-1").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
		checkErr(t, failure(ctx, "describe repositories", "ECR", err),
			"describe repositories: ECR error ThrottlingException (HTTP 400): Rate exceeded (3 attempts)")
		if n := p.Requests(); n != 3 {
			t.Errorf("%d requests; want 3", n)
		}
	})
}

// TestAWSFailureNotAWS shows the one line for an answer that did not come
// from AWS at all, where the SDK's own text would run on about failing to
// decode the body.
func TestAWSFailureNotAWS(t *testing.T) {
	ecrFake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Error("the proxy page should have answered")
	}))
	defer ecrFake.Close()
	p := newFaultProxy(t, ecrFake.URL, faultAlways(faultProxyPage))
	setAWSEnv(t, p.URL)
	cfg := testConfig(t, AWSOptions{MaxAttempts: 3})
	ctx := context.Background()
	_, err := NewECRClient(cfg, "eu-west-1").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	checkErr(t, failure(ctx, "describe repositories", "ECR", err),
		"describe repositories: ECR answered HTTP 502, not with an AWS response (3 attempts)")
}
