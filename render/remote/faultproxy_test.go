package remote

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecr"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/awstest"
	"github.com/ecsrender/ecsrender/render/ref"
)

// proxiedLoader serves tmpl/k.json from gofakes3 through a fault proxy.
func proxiedLoader(t *testing.T, o AWSOptions, choose func(awstest.Call) awstest.Fault) (*Loader, *awstest.Proxy) {
	t.Helper()
	f := newFakeS3(t)
	f.put(t, "k.json", []byte(`{"family":"web"}`))
	p := awstest.NewProxy(t, f.URL)
	p.SetFaults(choose)
	return testLoader(t, p.URL, o), p
}

var proxiedSource = ref.Source{Kind: ref.SourceS3, Bucket: "tmpl", Key: "k.json"}

func TestFaultRecovered(t *testing.T) {
	for _, tc := range []struct {
		name string
		f    awstest.Fault
	}{
		{"throttle", awstest.Throttle},
		{"server error", awstest.ServerError},
		{"reset", awstest.Reset},
		{"hang", awstest.Hang},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: 200 * time.Millisecond}, awstest.First(tc.f))
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
		f    awstest.Fault
		want string
	}{
		{"throttle", awstest.Throttle,
			"get s3://tmpl/k.json: S3 error SlowDown (HTTP 503): Please reduce your request rate. (3 attempts)"},
		{"server error", awstest.ServerError,
			"get s3://tmpl/k.json: S3 error InternalError (HTTP 500): We encountered an internal error. Please try again. (3 attempts)"},
		{"hang", awstest.Hang,
			"get s3://tmpl/k.json: no answer from S3 within 100ms (3 attempts)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: 100 * time.Millisecond, MaxAttempts: 3}, awstest.Always(tc.f))
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
	l, p := proxiedLoader(t, AWSOptions{MaxAttempts: 2}, awstest.Always(awstest.Reset))
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
	l, p := proxiedLoader(t, AWSOptions{AttemptTimeout: time.Hour}, awstest.Always(awstest.Hang))
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
	l, _ := proxiedLoader(t, AWSOptions{AttemptTimeout: time.Hour}, func(awstest.Call) awstest.Fault {
		cancel()
		return awstest.Hang
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
	hangThenThrottle := func(c awstest.Call) awstest.Fault {
		switch c.Total {
		case 1:
			return awstest.Hang
		case 2:
			return awstest.Throttle
		}
		return awstest.None
	}

	t.Run("recovered", func(t *testing.T) {
		p := awstest.NewProxy(t, ecrFake.URL)
		p.SetFaults(hangThenThrottle)
		awstest.SetEnv(t, p.URL)
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
		p := awstest.NewProxy(t, ecrFake.URL)
		p.SetFaults(func(c awstest.Call) awstest.Fault {
			if c.Total == 1 {
				return awstest.Hang
			}
			return awstest.Throttle
		})
		awstest.SetEnv(t, p.URL)
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
	p := awstest.NewProxy(t, ecrFake.URL)
	p.SetFaults(awstest.Always(awstest.ProxyPage))
	awstest.SetEnv(t, p.URL)
	cfg := testConfig(t, AWSOptions{MaxAttempts: 3})
	ctx := context.Background()
	_, err := NewECRClient(cfg, "eu-west-1").DescribeRepositories(ctx, &ecr.DescribeRepositoriesInput{})
	checkErr(t, failure(ctx, "describe repositories", "ECR", err),
		"describe repositories: ECR answered HTTP 502, not with an AWS response (3 attempts)")
}
