package remote

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
)

// envConfig loads a configuration from the environment alone, as the CLI
// does, after setting env.
func envConfig(t *testing.T, env map[string]string) aws.Config {
	t.Helper()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_SSM", "AWS_ENDPOINT_URL_SECRETS_MANAGER",
		"AWS_ENDPOINT_URL_IAM", "AWS_USE_FIPS_ENDPOINT", "AWS_USE_DUALSTACK_ENDPOINT", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS"} {
		t.Setenv(k, "")
	}
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	// A profile "fips" that turns FIPS on, for the cases that ask for it.
	conf := filepath.Join(t.TempDir(), "config")
	if err := os.WriteFile(conf, []byte("[profile fips]\nuse_fips_endpoint = true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CONFIG_FILE", conf)
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	for k, v := range env {
		t.Setenv(k, v)
	}
	cfg, err := config.LoadDefaultConfig(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

// The signed client finds the endpoint the SDK's own clients would.
func TestEndpoint(t *testing.T) {
	for _, tc := range []struct {
		name       string
		env        map[string]string
		svc        apiService
		region     string
		want, sign string
	}{
		{"regional", nil, ssmAPI, "eu-west-1", "https://ssm.eu-west-1.amazonaws.com", "eu-west-1"},
		{"global iam", nil, iamAPI, "eu-west-1", "https://iam.amazonaws.com", "us-east-1"},
		{"china", nil, logsAPI, "cn-northwest-1", "https://logs.cn-northwest-1.amazonaws.com.cn", "cn-northwest-1"},
		{"china iam", nil, iamAPI, "cn-northwest-1", "https://iam.cn-north-1.amazonaws.com.cn", "cn-north-1"},
		{"govcloud iam", nil, iamAPI, "us-gov-east-1", "https://iam.us-gov.amazonaws.com", "us-gov-west-1"},
		{"fips", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, ecsAPI, "us-east-2", "https://ecs-fips.us-east-2.amazonaws.com", "us-east-2"},
		{"fips iam", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"}, iamAPI, "us-east-2", "https://iam-fips.amazonaws.com", "us-east-1"},
		{"dual-stack", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, ssmAPI, "eu-west-1", "https://ssm.eu-west-1.api.aws", "eu-west-1"},
		{"dual-stack where the standard endpoint has IPv6", map[string]string{"AWS_USE_DUALSTACK_ENDPOINT": "true"}, secretsAPI, "eu-west-1", "https://secretsmanager.eu-west-1.amazonaws.com", "eu-west-1"},
		{"fips from the profile", map[string]string{"AWS_PROFILE": "fips"}, ecsAPI, "us-east-2", "https://ecs-fips.us-east-2.amazonaws.com", "us-east-2"},
		{"fips off in the environment wins over a profile", map[string]string{"AWS_USE_FIPS_ENDPOINT": "false", "AWS_PROFILE": "fips"}, ecsAPI, "us-east-2", "https://ecs.us-east-2.amazonaws.com", "us-east-2"},
		{"AWS_ENDPOINT_URL", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, ssmAPI, "eu-west-1", "http://127.0.0.1:1", "eu-west-1"},
		{"AWS_ENDPOINT_URL signs iam for the partition", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1"}, iamAPI, "eu-west-1", "http://127.0.0.1:1", "us-east-1"},
		{"a service's own endpoint wins", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:2"},
			secretsAPI, "eu-west-1", "http://127.0.0.1:2", "eu-west-1"},
		{"only that service's", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SECRETS_MANAGER": "http://127.0.0.1:2"},
			ssmAPI, "eu-west-1", "http://127.0.0.1:1", "eu-west-1"},
		{"ignored", map[string]string{"AWS_ENDPOINT_URL": "http://127.0.0.1:1", "AWS_ENDPOINT_URL_SSM": "http://127.0.0.1:2", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS": "true"},
			ssmAPI, "eu-west-1", "https://ssm.eu-west-1.amazonaws.com", "eu-west-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := envConfig(t, tc.env)
			got, sign := endpoint(context.Background(), cfg, tc.svc, tc.region)
			if got != tc.want || sign != tc.sign {
				t.Errorf("endpoint = %s signed for %s, want %s signed for %s", got, sign, tc.want, tc.sign)
			}
		})
	}
}

// Error answers of both protocols, and answers that are not AWS's, give
// the code and message lookupFailure words.
func TestAPIErrorAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header map[string]string
		body   string
		want   string
	}{
		{"json with namespace", 400, nil, `{"__type":"com.amazonaws.secretsmanager#InvalidParameterException","Message":"bad"}`,
			`describe secret "db": InvalidParameterException (HTTP 400): bad`},
		{"json code with url", 400, nil, `{"__type":"ValidationException:http://internal.amazon.com/","message":"bad id"}`,
			`describe secret "db": ValidationException (HTTP 400): bad id`},
		{"header only", 400, map[string]string{"X-Amzn-Errortype": "InvalidRequestException:http://x/"}, `{}`,
			`describe secret "db": InvalidRequestException (HTTP 400): `},
		{"header wins over the body", 400, map[string]string{"X-Amzn-Errortype": "ThrottlingException"}, `{"__type":"Other","message":"slow down"}`,
			`describe secret "db": ThrottlingException (HTTP 400): slow down (3 attempts)`},
		{"url holding a #", 400, nil, `{"__type":"aws#BadThing:http://x/#frag","message":"m"}`,
			`describe secret "db": BadThing (HTTP 400): m`},
		{"query xml", 400, nil, `<ErrorResponse><Error><Code>ValidationError</Code><Message>bad</Message></Error></ErrorResponse>`,
			`describe secret "db": ValidationError (HTTP 400): bad`},
		{"not aws", 502, nil, `<html>bad gateway</html>`,
			`describe secret "db": HTTP 502, not an AWS response (3 attempts)`},
		{"message with a newline", 400, nil, `{"__type":"X","message":"one\ntwo"}`,
			`describe secret "db": X (HTTP 400): one two`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			_, err := NewLookups(lookupsConfig(t, srv.URL)).Secret(context.Background(), "", "db")
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

// A service that never stops paging is read for maxPages pages and then
// the lookup fails, since its answer is unknown; one that repeats its
// token stops at the repeat, with the answer so far.
func TestPagesAreBounded(t *testing.T) {
	for _, tc := range []struct {
		name    string
		token   func(n int64) string
		calls   int64
		wantErr string
	}{
		{"new token every page", func(n int64) string { return fmt.Sprint("t", n) }, maxPages,
			`describe log group "g": still paging after 1000 pages`},
		{"same token again", func(int64) string { return "same" }, 2, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				n := calls.Add(1)
				fmt.Fprintf(w, `{"logGroups":[{"logGroupName":"other"}],"nextToken":%q}`, tc.token(n))
			}))
			t.Cleanup(srv.Close)
			found, err := NewLookups(lookupsConfig(t, srv.URL)).LogGroup(context.Background(), "", "g")
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("LogGroup = %v, %v; want error %s", found, err, tc.wantErr)
				}
			} else if err != nil || found {
				t.Fatalf("LogGroup = %v, %v; want false, nil", found, err)
			}
			if got := calls.Load(); got != tc.calls {
				t.Errorf("%d calls, want %d", got, tc.calls)
			}
		})
	}
}

// SSM parameters are never reported missing when SSM was still paging.
func TestParametersTooManyPages(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, `{"Parameters":[],"NextToken":"t%d"}`, calls.Add(1))
	}))
	t.Cleanup(srv.Close)
	found, err := NewLookups(lookupsConfig(t, srv.URL)).Parameters(context.Background(), "", []string{"/a"})
	want := `describe ssm parameter "/a": still paging after 1000 pages`
	if err == nil || err.Error() != want {
		t.Fatalf("Parameters = %v, %v; want error %s", found, err, want)
	}
}

// Each attempt has its own timeout: a hung attempt is retried, and when
// every attempt hangs the error says so.
func TestAttemptTimeout(t *testing.T) {
	var calls atomic.Int64
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	var hangAll atomic.Bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body) // so that the server notices the client going away
		n := calls.Add(1)
		if n == 1 || hangAll.Load() {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		fmt.Fprint(w, `{"Name":"db"}`)
	}))
	t.Cleanup(srv.Close)

	l := NewLookups(lookupsConfig(t, srv.URL))
	l.attemptTimeout = 50 * time.Millisecond
	ok, err := l.Secret(context.Background(), "", "db")
	if err != nil || !ok {
		t.Fatalf("Secret = %v, %v; want true after a retry", ok, err)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}

	hangAll.Store(true)
	calls.Store(0)
	l = NewLookups(lookupsConfig(t, srv.URL))
	l.attemptTimeout = 50 * time.Millisecond
	_, err = l.Secret(context.Background(), "", "db")
	want := `describe secret "db": no answer within 50ms (3 attempts)`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// An answer larger than any lookup needs is refused, not kept in memory.
func TestAnswerTooLarge(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Name":"`+strings.Repeat("x", maxAPIResponse)+`"}`)
	}))
	t.Cleanup(srv.Close)
	_, err := NewLookups(lookupsConfig(t, srv.URL)).Secret(context.Background(), "", "db")
	want := fmt.Sprintf(`describe secret "db": Secrets Manager answer larger than %d bytes`, maxAPIResponse)
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// Without a credentials provider no request is sent, and the error says why.
func TestLookupWithoutCredentials(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	t.Cleanup(srv.Close)
	cfg := lookupsConfig(t, srv.URL)
	cfg.Credentials = nil
	_, err := NewLookups(cfg).LogGroup(context.Background(), "", "g")
	want := `describe log group "g": no AWS credentials: no credentials provider configured`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	if calls.Load() != 0 {
		t.Errorf("%d requests sent without credentials", calls.Load())
	}
}

// Requests are signed for the service and region, with the JSON target.
func TestSignedRequest(t *testing.T) {
	var got *http.Request
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Clone(context.Background())
		fmt.Fprint(w, `{"logGroups":[{"logGroupName":"g"}]}`)
	}))
	t.Cleanup(srv.Close)
	ok, err := NewLookups(lookupsConfig(t, srv.URL)).LogGroup(context.Background(), "eu-central-1", "g")
	if err != nil || !ok {
		t.Fatalf("LogGroup = %v, %v", ok, err)
	}
	auth := got.Header.Get("Authorization")
	if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential=test/") || !strings.Contains(auth, "/eu-central-1/logs/aws4_request") {
		t.Errorf("Authorization = %q, want SigV4 for logs in eu-central-1", auth)
	}
	if tgt := got.Header.Get("X-Amz-Target"); tgt != "Logs_20140328.DescribeLogGroups" {
		t.Errorf("X-Amz-Target = %q", tgt)
	}
	if got.Header.Get("X-Amz-Content-Sha256") == "" && !strings.Contains(auth, "SignedHeaders=") {
		t.Errorf("request not signed: %v", got.Header)
	}
}

// A redirect is not followed: AWS's APIs never send one, and following it
// would send the signed request again and again.
func TestRedirectNotFollowed(t *testing.T) {
	for _, code := range []int{http.StatusTemporaryRedirect, http.StatusPermanentRedirect} {
		t.Run(fmt.Sprint(code), func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls.Add(1)
				http.Redirect(w, r, "/again", code)
			}))
			t.Cleanup(srv.Close)
			_, err := NewLookups(lookupsConfig(t, srv.URL)).Secret(context.Background(), "", "db")
			want := fmt.Sprintf(`describe secret "db": HTTP %d, not an AWS response`, code)
			if err == nil || err.Error() != want {
				t.Errorf("error = %v\nwant    %s", err, want)
			}
			if n := calls.Load(); n != 1 {
				t.Errorf("%d requests, want 1", n)
			}
		})
	}
}

// An answer of 200 that is not what the operation sends proves nothing: the
// lookup fails in one line, never "found" and never "missing".
func TestUnexpectedAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		call       func(context.Context, *Lookups) error
		want       string
	}{
		{"secret: empty object", `{}`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Secret(ctx, "", "db")
			return err
		}, `describe secret "db": DescribeSecret answer: not the answer expected: part of it is missing`},
		{"secret: a captive portal", `<html>sign in</html>`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Secret(ctx, "", "db")
			return err
		}, `describe secret "db": DescribeSecret answer: not the answer expected: not JSON at byte 1`},
		{"secret: a string", `""`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Secret(ctx, "", "db")
			return err
		}, `describe secret "db": DescribeSecret answer: not the answer expected: a JSON string`},
		{"role: html", `<html>hello</html>`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Role(ctx, "exec")
			return err
		}, `get role "exec": GetRole answer: not the answer expected: part of it is missing`},
		{"parameters: null", `null`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Parameters(ctx, "", []string{"/a"})
			return err
		}, `describe ssm parameter "/a": DescribeParameters answer: not the answer expected: part of it is missing`},
		{"parameters: wrong type", `{"Parameters":"none"}`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Parameters(ctx, "", []string{"/a"})
			return err
		}, `describe ssm parameter "/a": DescribeParameters answer: not the answer expected: "Parameters" is a JSON string`},
		{"log groups: empty object", `{}`, func(ctx context.Context, l *Lookups) error {
			_, err := l.LogGroup(ctx, "", "g")
			return err
		}, `describe log group "g": DescribeLogGroups answer: not the answer expected: part of it is missing`},
		{"service: empty object", `{}`, func(ctx context.Context, l *Lookups) error {
			_, err := l.Service(ctx, "", "prd", "web")
			return err
		}, `describe service "web" in cluster "prd": DescribeServices answer: not the answer expected: part of it is missing`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if form, _ := io.ReadAll(r.Body); strings.Contains(string(form), "GetCallerIdentity") {
					fmt.Fprint(w, callerXML)
					return
				}
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(srv.Close)
			err := tc.call(context.Background(), NewLookups(lookupsConfig(t, srv.URL)))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
		})
	}
}

// The task definition a service runs must be in ECS's answer.
func TestTaskDefinitionAnswerIncomplete(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".DescribeServices") {
			fmt.Fprint(w, `{"services":[{"status":"ACTIVE","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"}],"failures":[]}`)
			return
		}
		fmt.Fprint(w, `{}`)
	}))
	t.Cleanup(srv.Close)
	_, err := NewLookups(lookupsConfig(t, srv.URL)).Service(context.Background(), "", "prd", "web")
	want := `describe task definition "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3": DescribeTaskDefinition answer: not the answer expected: part of it is missing`
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
}

// Tokens that come round again end the paging, as a repeat of the last does.
func TestPagesStopOnACycle(t *testing.T) {
	var calls atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n := calls.Add(1)
		fmt.Fprintf(w, `{"logGroups":[],"nextToken":%q}`, []string{"A", "B"}[n%2])
	}))
	t.Cleanup(srv.Close)
	found, err := NewLookups(lookupsConfig(t, srv.URL)).LogGroup(context.Background(), "", "g")
	if err != nil || found {
		t.Fatalf("LogGroup = %v, %v; want false, nil", found, err)
	}
	if n := calls.Load(); n != 3 {
		t.Errorf("%d calls, want 3 (B, A, then B again)", n)
	}
}
