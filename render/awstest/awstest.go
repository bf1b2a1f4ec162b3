// Package awstest is the one AWS test harness of ecsrender's packages: an
// environment that points the SDK at a local endpoint and at nothing of
// the machine's own AWS setup, a reverse proxy that counts the calls that
// pass and injects the faults local fakes do not (throttling, 5xx, resets,
// hangs, refusals), and the gate of the moto suite. It is for tests only,
// as net/http/httptest is, and sits outside render/internal so that the
// CLI's tests in package main can use it too.
package awstest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// SetEnv gives the process the environment of a CodeBuild job that talks
// to endpoint (none when empty): test credentials, us-east-1, no instance
// metadata, and nothing from the developer's own AWS setup (every AWS_ and
// ECSRENDER_ variable but ECSRENDER_MOTO_ENDPOINT is cleared). Tests that
// call it cannot run in parallel (t.Setenv).
func SetEnv(t testing.TB, endpoint string) {
	t.Helper()
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if strings.HasPrefix(name, "AWS_") || strings.HasPrefix(name, "ECSRENDER_") && name != "ECSRENDER_MOTO_ENDPOINT" {
			t.Setenv(name, "")
			os.Unsetenv(name)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", empty)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", empty)
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	if endpoint != "" {
		t.Setenv("AWS_ENDPOINT_URL", endpoint)
	}
}

// MotoEndpoint is the gate of every moto test: the endpoint of a running
// moto_server from ECSRENDER_MOTO_ENDPOINT, or a skip (a fatal error under
// CI=true, where the suite is required).
func MotoEndpoint(t testing.TB) string {
	t.Helper()
	ep := os.Getenv("ECSRENDER_MOTO_ENDPOINT")
	if ep == "" {
		if os.Getenv("CI") == "true" {
			t.Fatal("the moto suite is required in CI: ECSRENDER_MOTO_ENDPOINT is not set (.ci/run starts moto_server and sets it)")
		}
		t.Skip("moto suite skipped: start `moto_server -H 127.0.0.1 -p 5000` and run `ECSRENDER_MOTO_ENDPOINT=http://127.0.0.1:5000 go test ./...`")
	}
	u, err := url.Parse(ep)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" {
		t.Fatalf("ECSRENDER_MOTO_ENDPOINT=%q: want http://127.0.0.1:PORT (not localhost: S3 would try virtual-host names)", ep)
	}
	resp, err := http.Get(ep + "/moto-api/")
	if err != nil {
		t.Fatalf("moto_server at %s does not answer: %v", ep, err)
	}
	resp.Body.Close()
	return ep
}

// Fault is what the proxy does with one request.
type Fault int

const (
	// None forwards the request to the backend.
	None Fault = iota
	// Throttle answers as a throttled service does: S3's 503 SlowDown, or
	// a JSON protocol service's (ECR's) 400 ThrottlingException.
	Throttle
	// ServerError answers 500: S3's InternalError, or ECR's ServerException.
	ServerError
	// Reset closes the connection with a TCP RST, as a load balancer may.
	Reset
	// ProxyPage answers 502 with an HTML page, as a corporate proxy or a
	// load balancer in front of an endpoint does.
	ProxyPage
	// Hang answers nothing until the client gives up.
	Hang
	// Denied answers 400 AccessDeniedException (JSON protocol services).
	Denied
)

// Bodies of the faults, as the services send them.
const (
	S3SlowDown      = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>`
	S3InternalError = `<?xml version="1.0" encoding="UTF-8"?><Error><Code>InternalError</Code><Message>We encountered an internal error. Please try again.</Message></Error>`
	// DeniedMessage is the message of Denied.
	DeniedMessage = "User: arn:aws:sts::123456789012:assumed-role/codebuild/x is not authorized to perform this action"
)

// Call is one request as the proxy sees it.
type Call struct {
	// Key names the call: "s3 GET /bucket/key[?versionId=V]" or, for JSON
	// protocol services, "ecr DescribeImages REGION REPOSITORY".
	Key string
	// N counts the calls with this Key, from 1; Total all calls, from 1.
	N, Total int
	Req      *http.Request
}

// Proxy is a reverse proxy in front of an AWS service fake (moto,
// gofakes3) that counts the calls that pass and injects faults.
type Proxy struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
	total  int
	fault  func(Call) Fault
}

// NewProxy starts a proxy in front of backend, closed when t ends.
func NewProxy(t testing.TB, backend string) *Proxy {
	t.Helper()
	u, err := url.Parse(backend)
	if err != nil {
		t.Fatal(err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	t.Cleanup(tr.CloseIdleConnections)
	rp := &httputil.ReverseProxy{Rewrite: func(pr *httputil.ProxyRequest) { pr.SetURL(u) }, Transport: tr}
	p := &Proxy{counts: map[string]int{}}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := Call{Key: CallKey(r), Req: r}
		p.mu.Lock()
		p.counts[c.Key]++
		p.total++
		c.N, c.Total = p.counts[c.Key], p.total
		fault := p.fault
		p.mu.Unlock()
		f := None
		if fault != nil {
			f = fault(c)
		}
		serve(t, w, r, f, rp)
	}))
	t.Cleanup(p.Close)
	return p
}

// SetFaults makes f choose the fault of each call; nil forwards every call.
func (p *Proxy) SetFaults(f func(Call) Fault) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.fault = f
}

// Requests is how many requests reached the proxy: the attempts made.
func (p *Proxy) Requests() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.total
}

// Take returns the calls counted by key since the last Take, and starts
// again from zero.
func (p *Proxy) Take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := maps.Clone(p.counts)
	clear(p.counts)
	return n
}

// On applies fault f to the calls with key, while n (their count) is at
// most times (0: always), and forwards every other call.
func On(key string, times int, f Fault) func(Call) Fault {
	return func(c Call) Fault {
		if c.Key == key && (times == 0 || c.N <= times) {
			return f
		}
		return None
	}
}

// First applies f to the first request and forwards the rest.
func First(f Fault) func(Call) Fault {
	return func(c Call) Fault {
		if c.Total == 1 {
			return f
		}
		return None
	}
}

// Always applies f to every request.
func Always(f Fault) func(Call) Fault { return func(Call) Fault { return f } }

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([a-z0-9-]+)/`)

// CallKey names a request as Call.Key does.
func CallKey(r *http.Request) string {
	target := r.Header.Get("X-Amz-Target")
	if target == "" {
		key := "s3 " + r.Method + " " + r.URL.Path
		if v := r.URL.Query().Get("versionId"); v != "" {
			key += "?versionId=" + v
		}
		return key
	}
	body, _ := io.ReadAll(r.Body)
	r.Body = io.NopCloser(bytes.NewReader(body))
	var in struct{ RepositoryName string }
	json.Unmarshal(body, &in)
	region := "?"
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	service, op, _ := strings.Cut(target, ".")
	if strings.HasPrefix(service, "AmazonEC2ContainerRegistry") {
		service = "ecr"
	}
	return fmt.Sprintf("%s %s %s %s", service, op, region, in.RepositoryName)
}

func serve(t testing.TB, w http.ResponseWriter, r *http.Request, f Fault, next http.Handler) {
	jsonProtocol := r.Header.Get("X-Amz-Target") != ""
	switch f {
	case None:
		next.ServeHTTP(w, r)
	case Throttle:
		if jsonProtocol {
			writeJSON(w, 400, "ThrottlingException", "Rate exceeded")
		} else {
			writeXML(w, 503, S3SlowDown)
		}
	case ServerError:
		if jsonProtocol {
			writeJSON(w, 500, "ServerException", "internal failure")
		} else {
			writeXML(w, 500, S3InternalError)
		}
	case Denied:
		writeJSON(w, 400, "AccessDeniedException", DeniedMessage)
	case Reset:
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
	case ProxyPage:
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusBadGateway)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	case Hang:
		// The server notices the client hanging up (and ends the
		// request's context) only once the body has been read.
		io.Copy(io.Discard, r.Body)
		<-r.Context().Done()
	}
}

func writeXML(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func writeJSON(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", code)
	w.WriteHeader(status)
	io.WriteString(w, `{"__type":"`+code+`","message":"`+msg+`"}`)
}

// DefaultSubnets returns the default VPC and its subnets, which an ALB
// needs (moto makes one at start). It is one signed EC2 query rather than
// the EC2 SDK module, whose size would dwarf everything else the tests build.
func DefaultSubnets(t *testing.T, cfg aws.Config, endpoint string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	body := "Action=DescribeSubnets&Version=2016-11-15&Filter.1.Name=default-for-az&Filter.1.Value.1=true"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	creds, err := cfg.Credentials.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(body))
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), "ec2", cfg.Region, time.Now()); err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct {
		Subnets []struct {
			ID  string `xml:"subnetId"`
			VPC string `xml:"vpcId"`
		} `xml:"subnetSet>item"`
	}
	if err := xml.NewDecoder(resp.Body).Decode(&out); err != nil || len(out.Subnets) < 2 {
		t.Fatalf("describe default subnets: %v (%d subnets, HTTP %d)", err, len(out.Subnets), resp.StatusCode)
	}
	var ids []string
	for _, s := range out.Subnets {
		ids = append(ids, s.ID)
	}
	return out.Subnets[0].VPC, ids
}
