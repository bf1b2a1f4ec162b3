package remote

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/awstest"
	"github.com/ecsrender/ecsrender/render/ref"
)

// testConfig is LoadAWSConfig with the waits between attempts cut to a
// millisecond: the retry policy is the real one, only quicker.
func testConfig(t *testing.T, o AWSOptions) aws.Config {
	t.Helper()
	cfg, err := LoadAWSConfig(context.Background(), o)
	if err != nil {
		t.Fatalf("LoadAWSConfig: %v", err)
	}
	base := cfg.Retryer
	cfg.Retryer = func() aws.Retryer { return retry.AddWithMaxBackoffDelay(base(), time.Millisecond) }
	return cfg
}

// testLoader is a Loader whose S3 client talks to endpoint.
func testLoader(t *testing.T, endpoint string, o AWSOptions) *Loader {
	t.Helper()
	awstest.SetEnv(t, endpoint)
	return &Loader{S3: NewS3Client(testConfig(t, o)), Local: render.LocalLoader{}}
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

func TestLoadAWSConfigRegion(t *testing.T) {
	awstest.SetEnv(t, "")
	cfg, err := LoadAWSConfig(context.Background(), AWSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "us-east-1" {
		t.Errorf("region from AWS_REGION: got %q", cfg.Region)
	}
	cfg, err = LoadAWSConfig(context.Background(), AWSOptions{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Region != "eu-west-1" {
		t.Errorf("--region should override AWS_REGION: got %q", cfg.Region)
	}
}

// Without a region only S3 sources fail: ECR references name their region.
func TestNoRegion(t *testing.T) {
	awstest.SetEnv(t, "")
	os.Unsetenv("AWS_REGION")
	d, err := New(context.Background(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	src, err := ref.ParseSource("s3://templates/taskdef.json")
	if err != nil {
		t.Fatal(err)
	}
	_, err = d.Loader.Load(context.Background(), src)
	checkErr(t, err, "get s3://templates/taskdef.json: no AWS region for S3: set AWS_REGION or pass --region")
	if !render.IsInputError(err) {
		t.Error("a missing region should be an input error")
	}
}

func TestLoadAWSConfigMissingProfile(t *testing.T) {
	awstest.SetEnv(t, "")
	t.Setenv("AWS_PROFILE", "nope")
	_, err := LoadAWSConfig(context.Background(), AWSOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "aws config: ") || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("got %v; want an aws config error naming the profile", err)
	}
	t.Log(err)
}

func TestLoadAWSConfigMaxAttempts(t *testing.T) {
	awstest.SetEnv(t, "")
	for _, tc := range []struct {
		env  string
		opt  int
		want int
	}{
		{"", 0, DefaultMaxAttempts},
		{"7", 0, 7},
		{"7", 2, 2},
	} {
		t.Setenv("AWS_MAX_ATTEMPTS", tc.env)
		cfg, err := LoadAWSConfig(context.Background(), AWSOptions{MaxAttempts: tc.opt})
		if err != nil {
			t.Fatal(err)
		}
		c := s3.NewFromConfig(cfg)
		if got := c.Options().Retryer.MaxAttempts(); got != tc.want {
			t.Errorf("AWS_MAX_ATTEMPTS=%q MaxAttempts=%d: got %d attempts, want %d", tc.env, tc.opt, got, tc.want)
		}
	}
}

// The SDK itself must honour the endpoint variables; these tests would
// catch an SDK upgrade that stopped doing so.
func TestNewS3ClientEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name, env, value string
		wantPathStyle    bool
	}{
		{"none", "", "", false},
		{"global", "AWS_ENDPOINT_URL", "http://127.0.0.1:9000", true},
		{"s3 only", "AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9001", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			awstest.SetEnv(t, "")
			if tc.env != "" {
				t.Setenv(tc.env, tc.value)
			}
			o := NewS3Client(testConfig(t, AWSOptions{})).Options()
			if !o.DisableLogOutputChecksumValidationSkipped {
				t.Error("the SDK would log a DEBUG line on stderr for each object without a checksum")
			}
			if o.UsePathStyle != tc.wantPathStyle {
				t.Errorf("UsePathStyle = %v, want %v", o.UsePathStyle, tc.wantPathStyle)
			}
			if got := aws.ToString(o.BaseEndpoint); got != tc.value {
				t.Errorf("BaseEndpoint = %q, want %q", got, tc.value)
			}
		})
	}
}

func TestNewECRClient(t *testing.T) {
	awstest.SetEnv(t, "")
	t.Setenv("AWS_ENDPOINT_URL_ECR", "http://127.0.0.1:9002")
	cfg := testConfig(t, AWSOptions{})
	for region, want := range map[string]string{"": "us-east-1", "eu-west-1": "eu-west-1"} {
		o := NewECRClient(cfg, region).Options()
		if o.Region != want {
			t.Errorf("NewECRClient(%q): region %q, want %q", region, o.Region, want)
		}
		if got := aws.ToString(o.BaseEndpoint); got != "http://127.0.0.1:9002" {
			t.Errorf("NewECRClient(%q): endpoint %q, want AWS_ENDPOINT_URL_ECR", region, got)
		}
	}
	if o := NewS3Client(cfg).Options(); o.BaseEndpoint != nil {
		t.Errorf("AWS_ENDPOINT_URL_ECR leaked into S3: %q", aws.ToString(o.BaseEndpoint))
	}
}

func TestNoCredentials(t *testing.T) {
	var requests atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
	}))
	defer srv.Close()
	awstest.SetEnv(t, srv.URL)
	os.Unsetenv("AWS_ACCESS_KEY_ID")
	os.Unsetenv("AWS_SECRET_ACCESS_KEY")
	l := &Loader{S3: NewS3Client(testConfig(t, AWSOptions{}))}

	_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b", Key: "k"})
	if err == nil {
		t.Fatal("no error")
	}
	msg := err.Error()
	t.Log(msg)
	if !strings.HasPrefix(msg, "get s3://b/k: no AWS credentials: ") || strings.Contains(msg, "\n") {
		t.Errorf("got %q; want one line starting \"get s3://b/k: no AWS credentials: \"", msg)
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("%d requests reached S3 without credentials", n)
	}
}

func TestConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	l := testLoader(t, "http://"+addr, AWSOptions{MaxAttempts: 2})

	_, err = l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b", Key: "k"})
	checkErr(t, err, "get s3://b/k: cannot reach S3: dial tcp "+addr+": connect: connection refused (2 attempts)")
	if render.IsInputError(err) {
		t.Error("a network failure is not an input error")
	}
}

// A body that stalls after its headers is cut by the attempt timeout too;
// it is not retried (the SDK has returned by then) but named.
func TestAttemptTimeoutCoversBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, `{"family":`)
		w.(http.Flusher).Flush()
		<-r.Context().Done()
	}))
	defer srv.Close()
	l := testLoader(t, srv.URL, AWSOptions{AttemptTimeout: 200 * time.Millisecond})

	_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b", Key: "k"})
	checkErr(t, err, "get s3://b/k: reading the object: no answer from S3 within 200ms")
	var te *attemptTimeoutError
	if !errors.As(err, &te) {
		t.Errorf("%T does not unwrap to the attempt timeout", err)
	}
}

// The attempt timeout's middlewares sit where they must: right after the
// retry middleware, and innermost in the deserialize step.
func TestAttemptTimeoutPlacement(t *testing.T) {
	awstest.SetEnv(t, "http://127.0.0.1:1")
	c := NewS3Client(testConfig(t, AWSOptions{}))
	var finalize, deserialize []string
	_, err := c.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("b"), Key: aws.String("k")},
		func(o *s3.Options) {
			o.APIOptions = append(o.APIOptions, func(stack *middleware.Stack) error {
				finalize = stack.Finalize.List()
				deserialize = stack.Deserialize.List()
				return errStop
			})
		})
	if !errors.Is(err, errStop) {
		t.Fatalf("got %v", err)
	}
	i := indexOf(finalize, "Retry")
	if i < 0 || i+1 >= len(finalize) || finalize[i+1] != attemptTimeoutID {
		t.Errorf("finalize step: %v; want %s right after Retry", finalize, attemptTimeoutID)
	}
	if len(deserialize) == 0 || deserialize[len(deserialize)-1] != attemptBodyID {
		t.Errorf("deserialize step: %v; want %s last", deserialize, attemptBodyID)
	}
}

var errStop = errors.New("stop")

func indexOf(s []string, v string) int {
	for i, x := range s {
		if x == v {
			return i
		}
	}
	return -1
}

// A body cut short is named as such, not as a bare "unexpected EOF".
func TestTruncatedBody(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, `{"family":`)
	}))
	defer srv.Close()
	l := testLoader(t, srv.URL, AWSOptions{})

	_, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b", Key: "k"})
	checkErr(t, err, "get s3://b/k: reading the object: unexpected EOF")
}

// Objects stored with a checksum are validated by the SDK as they are
// read; the attempt's body wrapper must not get in the way.
func TestChecksumValidated(t *testing.T) {
	const body = `{"family":"web"}`
	sum := make([]byte, 4)
	binary.BigEndian.PutUint32(sum, crc32.ChecksumIEEE([]byte(body)))
	good := base64.StdEncoding.EncodeToString(sum)
	for _, tc := range []struct{ checksum, want string }{
		{good, ""},
		{"AAAAAA==", "get s3://b/k: reading the object: checksum did not match: algorithm CRC32, expect AAAAAA==, actual " + good},
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("x-amz-checksum-crc32", tc.checksum)
			w.Header().Set("Content-Length", strconv.Itoa(len(body)))
			io.WriteString(w, body)
		}))
		l := testLoader(t, srv.URL, AWSOptions{})
		got, err := l.Load(context.Background(), ref.Source{Kind: ref.SourceS3, Bucket: "b", Key: "k"})
		srv.Close()
		if tc.want == "" {
			if err != nil || string(got) != body {
				t.Errorf("Load = %q, %v", got, err)
			}
			continue
		}
		checkErr(t, err, tc.want)
	}
}

// The SDK's own log lines reach the run's notes, worded as ours; without
// a Log they are dropped rather than printed raw.
func TestLoadAWSConfigLog(t *testing.T) {
	awstest.SetEnv(t, "")
	var got []string
	cfg, err := LoadAWSConfig(context.Background(), AWSOptions{Log: func(msg string) { got = append(got, msg) }})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Logger.Logf(logging.Warn, "falling back to %s", "IMDSv1")
	if want := []string{"aws sdk warn: falling back to IMDSv1"}; !slices.Equal(got, want) {
		t.Errorf("logged %q, want %q", got, want)
	}
	cfg, err = LoadAWSConfig(context.Background(), AWSOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := cfg.Logger.(logging.Nop); !ok {
		t.Errorf("logger %T without Log, want logging.Nop", cfg.Logger)
	}
}
