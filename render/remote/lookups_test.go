package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/google/go-cmp/cmp"

	"github.com/ecsrender/ecsrender/render"
)

// fakeCall is one request the fake AWS endpoint received.
type fakeCall struct {
	Op     string // "GetRole", "DescribeParameters", ...
	Region string // from the signature's credential scope
	Body   string
}

// fakeAnswer is the fake's reply to one call.
type fakeAnswer struct {
	status int
	body   string
}

// fakeAWS is an httptest server on 127.0.0.1 that speaks just enough of
// the AWS JSON and query protocols: answer picks the reply to the nth call
// (from 1) of an operation. Any call answer does not expect fails the test.
type fakeAWS struct {
	*httptest.Server
	mu    sync.Mutex
	calls []fakeCall
}

var credentialScopeRE = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/`)

func newFakeAWS(t *testing.T, answer func(t *testing.T, c fakeCall, n int) fakeAnswer) *fakeAWS {
	t.Helper()
	f := &fakeAWS{}
	counts := map[string]int{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		c := fakeCall{Body: string(body)}
		if m := credentialScopeRE.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
			c.Region = m[1]
		}
		if target := r.Header.Get("X-Amz-Target"); target != "" {
			c.Op = target[strings.LastIndex(target, ".")+1:]
		} else if form, err := url.ParseQuery(string(body)); err == nil && form.Get("Action") != "" {
			c.Op = form.Get("Action")
		} else {
			c.Op = r.Method + " " + r.URL.Path
		}
		f.mu.Lock()
		f.calls = append(f.calls, c)
		counts[c.Op]++
		n := counts[c.Op]
		f.mu.Unlock()
		a := answer(t, c, n)
		if a.status == 0 {
			t.Errorf("unexpected call %s #%d: %s", c.Op, n, c.Body)
			a = fakeAnswer{500, `{"__type":"UnexpectedCall"}`}
		}
		if strings.HasPrefix(a.body, "<") {
			w.Header().Set("Content-Type", "text/xml")
		} else {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		}
		w.WriteHeader(a.status)
		io.WriteString(w, a.body)
	}))
	t.Cleanup(f.Close)
	return f
}

func (f *fakeAWS) Calls() []fakeCall {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeCall(nil), f.calls...)
}

// testConfig builds an aws.Config the way the CLI does (the default
// chain), with fake credentials, the given endpoint and a retryer that
// does not wait between attempts.
func lookupsConfig(t *testing.T, endpoint string) aws.Config {
	t.Helper()
	t.Setenv("AWS_EC2_METADATA_DISABLED", "true")
	t.Setenv("AWS_ACCESS_KEY_ID", "test")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "test")
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_REGION", "us-east-1")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", t.TempDir()+"/none")
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", t.TempDir()+"/none")
	cfg, err := config.LoadDefaultConfig(context.Background(),
		config.WithBaseEndpoint(endpoint),
		config.WithRetryer(func() aws.Retryer {
			return retry.NewStandard(func(o *retry.StandardOptions) {
				o.MaxAttempts = 3
				o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			})
		}))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

func jsonError(status int, code, msg string) fakeAnswer {
	return fakeAnswer{status, fmt.Sprintf(`{"__type":%q,"message":%q}`, code, msg)}
}

func queryError(status int, code, msg string) fakeAnswer {
	return fakeAnswer{status, fmt.Sprintf(`<ErrorResponse><Error><Type>Sender</Type><Code>%s</Code><Message>%s</Message></Error><RequestId>r1</RequestId></ErrorResponse>`, code, msg)}
}

const (
	callerXML = `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>` +
		`<Arn>arn:aws:iam::123456789012:user/build</Arn><UserId>AIDA</UserId><Account>123456789012</Account>` +
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
	trustECS = `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`
)

func getRoleXML(arn, doc string) string {
	return `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>` +
		`<Path>/</Path><RoleName>r</RoleName><RoleId>AROA</RoleId><Arn>` + arn + `</Arn><CreateDate>2026-01-01T00:00:00Z</CreateDate>` +
		`<AssumeRolePolicyDocument>` + url.PathEscape(doc) + `</AssumeRolePolicyDocument>` +
		`</Role></GetRoleResult><ResponseMetadata><RequestId>r1</RequestId></ResponseMetadata></GetRoleResponse>`
}

// opCase drives one lookup against the fake: call runs it and returns
// its outcome as text, so that every kind of lookup fits one table.
type opCase struct {
	name     string
	op       string
	json     bool // the JSON protocol (else query)
	notFound fakeAnswer
	ok       fakeAnswer
	call     func(ctx context.Context, l *Lookups) (string, error)
	// wantOK and wantMissing are call's outcome on ok and notFound.
	wantOK, wantMissing string
	// wantDenied is the whole message when AWS denies the call.
	wantDenied string
}

var indexManifest = `{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[` +
	`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:aa","size":1,"platform":{"architecture":"amd64","os":"linux"}},` +
	`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:bb","size":1,"platform":{"architecture":"arm64","os":"linux","variant":"v8"}},` +
	`{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:cc","size":1,"platform":{"architecture":"unknown","os":"unknown"}}]}`

const testImage = "123456789012.dkr.ecr.us-east-1.amazonaws.com/app:v1"

func opCases() []opCase {
	taskDef := `{"taskDefinition":{"family":"web","taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3","containerDefinitions":[{"name":"web","image":"x","dockerLabels":{"Some.Key":"v"}}]}}`
	return []opCase{
		{
			name: "role", op: "GetRole",
			notFound: queryError(404, "NoSuchEntity", "The role with name r cannot be found."),
			ok:       fakeAnswer{200, getRoleXML("arn:aws:iam::123456789012:role/r", trustECS)},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				f, err := l.Role(ctx, "r")
				return fmt.Sprintf("%v %s %s", f.Found, f.ARN, f.TrustPolicy), err
			},
			wantOK:      "true arn:aws:iam::123456789012:role/r " + trustECS,
			wantMissing: "false  ",
			wantDenied:  `get role "r": access denied (grant iam:GetRole)`,
		},
		{
			name: "parameters", op: "DescribeParameters", json: true,
			notFound: fakeAnswer{200, `{"Parameters":[]}`},
			ok:       fakeAnswer{200, `{"Parameters":[{"Name":"/app/db"}]}`},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				m, err := l.Parameters(ctx, "", []string{"/app/db"})
				return fmt.Sprint(m), err
			},
			wantOK:      "map[/app/db:true]",
			wantMissing: "map[/app/db:false]",
			wantDenied:  `describe ssm parameter "/app/db": access denied (grant ssm:DescribeParameters)`,
		},
		{
			name: "secret", op: "DescribeSecret", json: true,
			notFound: jsonError(400, "ResourceNotFoundException", "Secrets Manager can't find the specified secret."),
			ok:       fakeAnswer{200, `{"ARN":"arn:aws:secretsmanager:us-east-1:123456789012:secret:db-AbCdEf","Name":"db"}`},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				ok, err := l.Secret(ctx, "", "db")
				return fmt.Sprint(ok), err
			},
			wantOK: "true", wantMissing: "false",
			wantDenied: `describe secret "db": access denied (grant secretsmanager:DescribeSecret)`,
		},
		{
			name: "log group", op: "DescribeLogGroups", json: true,
			notFound: fakeAnswer{200, `{"logGroups":[{"logGroupName":"/ecs/web-old"}]}`},
			ok:       fakeAnswer{200, `{"logGroups":[{"logGroupName":"/ecs/web"},{"logGroupName":"/ecs/web-old"}]}`},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				ok, err := l.LogGroup(ctx, "", "/ecs/web")
				return fmt.Sprint(ok), err
			},
			wantOK: "true", wantMissing: "false",
			wantDenied: `describe log group "/ecs/web": access denied (grant logs:DescribeLogGroups)`,
		},
		{
			name: "image platforms", op: "BatchGetImage", json: true,
			notFound: fakeAnswer{200, `{"images":[],"failures":[{"imageId":{"imageTag":"v1"},"failureCode":"ImageNotFound","failureReason":"Requested image not found"}]}`},
			ok: fakeAnswer{200, fmt.Sprintf(`{"images":[{"registryId":"123456789012","repositoryName":"app","imageId":{"imageTag":"v1"},"imageManifest":%q,"imageManifestMediaType":"application/vnd.oci.image.index.v1+json"}]}`,
				indexManifest)},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				ps, err := l.ImagePlatforms(ctx, testImage)
				return fmt.Sprint(ps), err
			},
			wantOK:      "[linux/amd64 linux/arm64/v8]",
			wantMissing: "[]",
			wantDenied:  `get image manifest "` + testImage + `": access denied (grant ecr:BatchGetImage)`,
		},
		{
			name: "service", op: "DescribeServices", json: true,
			notFound: fakeAnswer{200, `{"services":[],"failures":[{"arn":"arn:aws:ecs:us-east-1:123456789012:service/prd/web","reason":"MISSING"}]}`},
			ok:       fakeAnswer{200, `{"services":[{"serviceName":"web","status":"ACTIVE","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3","loadBalancers":[{"targetGroupArn":"arn:tg","containerName":"nginx","containerPort":80}]}],"failures":[]}`},
			call: func(ctx context.Context, l *Lookups) (string, error) {
				f, err := l.Service(ctx, "", "prd", "web")
				return fmt.Sprintf("%v %s %s %v %s", f.Found, f.Status, f.DeploymentController, f.LoadBalancers, f.TaskDefinition), err
			},
			wantOK:      "true ACTIVE ECS [{nginx 80 arn:tg}] " + taskDef,
			wantMissing: "false   [] ",
			wantDenied:  `describe service "web" in cluster "prd": access denied (grant ecs:DescribeServices)`,
		},
	}
}

// answerExtra answers the calls a lookup makes besides its own operation
// (the service's task definition).
func answerExtra(c fakeCall) fakeAnswer {
	switch c.Op {
	case "DescribeTaskDefinition":
		return fakeAnswer{200, `{"taskDefinition":{"family":"web","taskDefinitionArn":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3","containerDefinitions":[{"name":"web","image":"x","dockerLabels":{"Some.Key":"v"}}]}}`}
	}
	return fakeAnswer{}
}

func TestLookupOutcomes(t *testing.T) {
	for _, tc := range opCases() {
		denied := queryError(403, "AccessDenied", "User: arn:aws:iam::123456789012:user/build is not authorized")
		throttled := queryError(400, "Throttling", "Rate exceeded")
		if tc.json {
			denied = jsonError(400, "AccessDeniedException", "User: arn:aws:iam::123456789012:user/build is not authorized")
			throttled = jsonError(400, "ThrottlingException", "Rate exceeded")
		}
		for _, sc := range []struct {
			name    string
			answers []fakeAnswer
			want    string
			wantErr string
			calls   int
		}{
			{"found", []fakeAnswer{tc.ok}, tc.wantOK, "", 1},
			{"missing", []fakeAnswer{tc.notFound}, tc.wantMissing, "", 1},
			{"denied", []fakeAnswer{denied}, "", tc.wantDenied, 1},
			{"throttled then found", []fakeAnswer{throttled, throttled, tc.ok}, tc.wantOK, "", 3},
		} {
			t.Run(tc.name+"/"+sc.name, func(t *testing.T) {
				f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
					if c.Op != tc.op {
						return answerExtra(c)
					}
					if n > len(sc.answers) {
						return fakeAnswer{}
					}
					return sc.answers[n-1]
				})
				l := NewLookups(lookupsConfig(t, f.URL))
				got, err := tc.call(context.Background(), l)
				if sc.wantErr != "" {
					if err == nil || err.Error() != sc.wantErr {
						t.Fatalf("error = %v, want %s", err, sc.wantErr)
					}
					if !errors.Is(err, render.ErrAccessDenied) {
						t.Errorf("errors.Is(%v, ErrAccessDenied) = false", err)
					}
				} else {
					if err != nil {
						t.Fatal(err)
					}
					if got != sc.want {
						t.Errorf("got  %s\nwant %s", got, sc.want)
					}
				}
				n := 0
				for _, c := range f.Calls() {
					if c.Op == tc.op {
						n++
					}
				}
				if n != sc.calls {
					t.Errorf("%d %s calls, want %d", n, tc.op, sc.calls)
				}
			})
		}
	}
}

// A lookup whose retries run out says so in one line, with the code and
// the number of attempts, and is no access-denied.
func TestLookupServerErrorExhaustsRetries(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		return jsonError(500, "InternalServerError", "We encountered an\ninternal error.")
	})
	l := NewLookups(lookupsConfig(t, f.URL))
	_, err := l.Secret(context.Background(), "", "db")
	want := `describe secret "db": InternalServerError (HTTP 500): We encountered an internal error. (3 attempts)`
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v, want %s", err, want)
	}
	if errors.Is(err, render.ErrAccessDenied) {
		t.Error("a server error matches ErrAccessDenied")
	}
	if n := len(f.Calls()); n != 3 {
		t.Errorf("%d calls, want 3", n)
	}
}

func TestLookupErrorMessages(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		switch c.Op {
		case "GetCallerIdentity":
			return fakeAnswer{200, callerXML}
		case "DescribeServices":
			return fakeAnswer{200, `{"services":[],"failures":[{"arn":"arn:x","reason":"strange\nreason"}]}`}
		case "DescribeTaskDefinition":
			return jsonError(400, "ClientException", "Unable to describe task definition.")
		}
		return fakeAnswer{}
	})
	cfg := lookupsConfig(t, f.URL)
	noRegion := cfg.Copy()
	noRegion.Region = ""
	for _, tc := range []struct {
		name string
		cfg  aws.Config
		call func(context.Context, *Lookups) error
		want string
	}{
		{"role of another account", cfg, func(ctx context.Context, l *Lookups) error {
			_, err := l.Role(ctx, "arn:aws:iam::999999999999:role/r")
			return err
		}, `get role "arn:aws:iam::999999999999:role/r": the role is in account "999999999999", not the caller's "123456789012"`},
		{"not a role arn", cfg, func(ctx context.Context, l *Lookups) error {
			_, err := l.Role(ctx, "arn:aws:iam::123456789012:user/r")
			return err
		}, `get role "arn:aws:iam::123456789012:user/r": not an IAM role ARN`},
		{"ecs failure", cfg, func(ctx context.Context, l *Lookups) error {
			_, err := l.Service(ctx, "", "prd", "web")
			return err
		}, `describe service "web" in cluster "prd": ecs failure "strange\nreason"`},
		{"no region for a secret", noRegion, func(ctx context.Context, l *Lookups) error {
			_, err := l.Secret(ctx, "", "db")
			return err
		}, `describe secret "db": no region (pass --region)`},
		{"no region for parameters", noRegion, func(ctx context.Context, l *Lookups) error {
			_, err := l.Parameters(ctx, "", []string{"a", "b"})
			return err
		}, `describe ssm parameters "a" and 1 more: no region (pass --region)`},
		{"no region for a log group", noRegion, func(ctx context.Context, l *Lookups) error {
			_, err := l.LogGroup(ctx, "", "g")
			return err
		}, `describe log group "g": no region (pass --region)`},
		{"no region for a service", noRegion, func(ctx context.Context, l *Lookups) error {
			_, err := l.Service(ctx, "", "prd", "web")
			return err
		}, `describe service "web" in cluster "prd": no region (pass --region)`},
		{"bad image reference", cfg, func(ctx context.Context, l *Lookups) error {
			_, err := l.ImagePlatforms(ctx, "app:${TAG}")
			return err
		}, `image platforms: image "app:${TAG}": unrendered placeholder ${TAG}`},
		{"deadline", cfg, func(ctx context.Context, l *Lookups) error {
			ctx, cancel := context.WithCancel(ctx)
			cancel()
			_, err := l.LogGroup(ctx, "", "g")
			return err
		}, `describe log group "g": canceled`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.call(context.Background(), NewLookups(tc.cfg))
			if err == nil || err.Error() != tc.want {
				t.Errorf("error = %v\nwant    %s", err, tc.want)
			}
			if err != nil && strings.Contains(err.Error(), "\n") {
				t.Errorf("error spans lines: %q", err)
			}
		})
	}
}

func TestServiceTaskDefinitionError(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		switch c.Op {
		case "DescribeServices":
			return fakeAnswer{200, `{"services":[{"serviceName":"web","status":"ACTIVE","taskDefinition":"arn:aws:ecs:us-east-1:123456789012:task-definition/web:3"}]}`}
		case "DescribeTaskDefinition":
			return jsonError(400, "AccessDeniedException", "no")
		}
		return fakeAnswer{}
	})
	_, err := NewLookups(lookupsConfig(t, f.URL)).Service(context.Background(), "", "prd", "web")
	want := `describe task definition "arn:aws:ecs:us-east-1:123456789012:task-definition/web:3": access denied (grant ecs:DescribeTaskDefinition)`
	if err == nil || err.Error() != want || !errors.Is(err, render.ErrAccessDenied) {
		t.Errorf("error = %v, want %s", err, want)
	}
}

func TestServiceFacts(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer string
		want   string
	}{
		{"code deploy", `{"services":[{"status":"ACTIVE","deploymentController":{"type":"CODE_DEPLOY"},"taskDefinition":"arn:td"}]}`, "true ACTIVE CODE_DEPLOY arn:td"},
		{"inactive", `{"services":[{"status":"INACTIVE","taskDefinition":"arn:td"}]}`, "true INACTIVE ECS arn:td"},
		{"cluster not found", "", "false   "},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
				switch {
				case c.Op == "DescribeServices" && tc.answer == "":
					return jsonError(400, "ClusterNotFoundException", "Cluster not found.")
				case c.Op == "DescribeServices":
					return fakeAnswer{200, tc.answer}
				case c.Op == "DescribeTaskDefinition":
					if !strings.Contains(c.Body, `"taskDefinition":"arn:td"`) {
						t.Errorf("DescribeTaskDefinition body %s", c.Body)
					}
					return fakeAnswer{200, `{"taskDefinition":{"family":"web"}}`}
				}
				return fakeAnswer{}
			})
			s, err := NewLookups(lookupsConfig(t, f.URL)).Service(context.Background(), "", "prd", "web")
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprintf("%v %s %s %s", s.Found, s.Status, s.DeploymentController, s.TaskDefinitionARN); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestRoleByARN(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		switch c.Op {
		case "GetCallerIdentity":
			return fakeAnswer{200, callerXML}
		case "GetRole":
			if !strings.Contains(c.Body, "RoleName=exec&") && !strings.HasSuffix(c.Body, "RoleName=exec") {
				t.Errorf("GetRole body %s, want RoleName=exec", c.Body)
			}
			// "+" and "%" show that the document is path-decoded once.
			return fakeAnswer{200, getRoleXML("arn:aws:iam::123456789012:role/team/svc/exec", `{"Sid":"a+b 100%"}`)}
		}
		return fakeAnswer{}
	})
	l := NewLookups(lookupsConfig(t, f.URL))
	for range 2 {
		got, err := l.Role(context.Background(), "arn:aws:iam::123456789012:role/team/svc/exec")
		if err != nil {
			t.Fatal(err)
		}
		want := render.RoleFacts{Found: true, ARN: "arn:aws:iam::123456789012:role/team/svc/exec", TrustPolicy: `{"Sid":"a+b 100%"}`}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("(-want +got)\n%s", diff)
		}
	}
	n := 0
	for _, c := range f.Calls() {
		if c.Op == "GetCallerIdentity" {
			n++
		}
	}
	if n != 1 {
		t.Errorf("%d GetCallerIdentity calls, want 1", n)
	}
}

// Parameters are asked for 50 names a call, grouped by region, ARNs by
// the names SSM stores them under, and pages are followed.
func TestParametersBatches(t *testing.T) {
	var names []string
	for i := range 120 {
		names = append(names, fmt.Sprintf("/app/p%03d", i))
	}
	names = append(names,
		"plain",
		"/app/p000", // asked twice, counted once
		"arn:aws:ssm:us-east-1:123456789012:parameter/app/p001",
		"arn:aws:ssm:us-east-1:123456789012:parameter/top",
		"arn:aws:ssm:eu-west-1:123456789012:parameter/app/far",
	)
	type req struct {
		ParameterFilters []struct {
			Key, Option string
			Values      []string
		}
		MaxResults int
		NextToken  string
	}
	var mu sync.Mutex
	asked := map[string][]string{}
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		if c.Op != "DescribeParameters" {
			return fakeAnswer{}
		}
		var r req
		if err := json.Unmarshal([]byte(c.Body), &r); err != nil {
			t.Fatal(err)
		}
		if len(r.ParameterFilters) != 1 || r.ParameterFilters[0].Key != "Name" || r.ParameterFilters[0].Option != "Equals" || r.MaxResults != 50 {
			t.Errorf("request %s", c.Body)
		}
		vals := r.ParameterFilters[0].Values
		if len(vals) > 50 {
			t.Errorf("%d values in one filter", len(vals))
		}
		mu.Lock()
		asked[c.Region] = append(asked[c.Region], vals...)
		mu.Unlock()
		// The first call's answer comes in two pages, the first empty, as
		// SSM's "best effort" allows.
		if n == 1 {
			return fakeAnswer{200, `{"Parameters":[],"NextToken":"t1"}`}
		}
		var found []string
		for _, v := range vals {
			if v == "/app/p000" || v == "/app/p001" || v == "/app/p119" || v == "plain" || v == "/top" || v == "/app/far" {
				found = append(found, fmt.Sprintf(`{"Name":%q}`, v))
			}
		}
		return fakeAnswer{200, `{"Parameters":[` + strings.Join(found, ",") + `]}`}
	})
	l := NewLookups(lookupsConfig(t, f.URL))
	got, err := l.Parameters(context.Background(), "", names)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		want := n == "/app/p000" || n == "/app/p001" || n == "/app/p119" || n == "plain" || strings.HasPrefix(n, "arn:")
		if got[n] != want {
			t.Errorf("%s: %v, want %v", n, got[n], want)
		}
	}
	if len(got) != len(names)-1 {
		t.Errorf("%d results for %d distinct names", len(got), len(names)-1)
	}
	var ops []string
	for _, c := range f.Calls() {
		ops = append(ops, c.Region)
	}
	// Regions in order: eu-west-1's one name in one call, paged once;
	// us-east-1's 120 + plain + top + /top = 123 names in 3 calls.
	if diff := cmp.Diff([]string{"eu-west-1", "eu-west-1", "us-east-1", "us-east-1", "us-east-1"}, ops); diff != "" {
		t.Errorf("calls by region (-want +got)\n%s", diff)
	}
	if diff := cmp.Diff([]string{"/app/far", "/app/far"}, asked["eu-west-1"]); diff != "" {
		t.Errorf("eu-west-1 asked (-want +got)\n%s", diff)
	}
}

func TestSecretARNRegion(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		if c.Op == "DescribeSecret" {
			if c.Region != "ap-northeast-1" {
				t.Errorf("asked in %q", c.Region)
			}
			return fakeAnswer{200, `{"Name":"db"}`}
		}
		return fakeAnswer{}
	})
	ok, err := NewLookups(lookupsConfig(t, f.URL)).Secret(context.Background(), "eu-west-1", "arn:aws:secretsmanager:ap-northeast-1:123456789012:secret:db")
	if err != nil || !ok {
		t.Fatalf("Secret = %v, %v", ok, err)
	}
}

func TestLogGroupPagesOnlyAsNeeded(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		if c.Op != "DescribeLogGroups" || !strings.Contains(c.Body, `"logGroupNamePrefix":"/ecs/web"`) {
			return fakeAnswer{}
		}
		switch n {
		case 1:
			return fakeAnswer{200, `{"logGroups":[{"logGroupName":"/ecs/web-a"}],"nextToken":"t1"}`}
		case 2:
			return fakeAnswer{200, `{"logGroups":[{"logGroupName":"/ecs/web"}],"nextToken":"t2"}`}
		}
		return fakeAnswer{}
	})
	ok, err := NewLookups(lookupsConfig(t, f.URL)).LogGroup(context.Background(), "", "/ecs/web")
	if err != nil || !ok {
		t.Fatalf("LogGroup = %v, %v", ok, err)
	}
	if n := len(f.Calls()); n != 2 {
		t.Errorf("%d calls, want 2", n)
	}
}

// A single image's platform comes from its config blob, fetched from the
// URL ECR hands out and checked against the manifest's digest.
func TestImagePlatformsSingleImage(t *testing.T) {
	config := []byte(`{"architecture":"arm64","os":"linux","variant":"v8","rootfs":{}}`)
	sum := sha256.Sum256(config)
	digest := "sha256:" + hex.EncodeToString(sum[:])
	manifest := fmt.Sprintf(`{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","digest":%q,"size":%d},"layers":[]}`, digest, len(config))
	for _, tc := range []struct {
		name     string
		blob     []byte
		download fakeAnswer
		want     string
		wantErr  string
	}{
		{"config read", config, fakeAnswer{}, "[linux/arm64/v8]", ""},
		{"wrong digest", []byte(`{"architecture":"amd64","os":"linux"}`), fakeAnswer{}, "[]", ""},
		{"no layer download", nil, jsonError(400, "UnsupportedOperation", "not here"), "[]", ""},
		{"download denied", nil, jsonError(400, "AccessDeniedException", "no"), "", `get image config "123456789012.dkr.ecr.us-east-1.amazonaws.com/app@` + digest + `": access denied (grant ecr:GetDownloadUrlForLayer)`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var f *fakeAWS
			f = newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
				switch c.Op {
				case "BatchGetImage":
					if !strings.Contains(c.Body, mediaOCIIndex) || !strings.Contains(c.Body, mediaDockerList) {
						t.Errorf("BatchGetImage accepts no index types: %s", c.Body)
					}
					return fakeAnswer{200, fmt.Sprintf(`{"images":[{"imageManifest":%q,"imageManifestMediaType":%q}]}`, manifest, mediaDockerManifest)}
				case "GetDownloadUrlForLayer":
					if tc.download.status != 0 {
						return tc.download
					}
					return fakeAnswer{200, fmt.Sprintf(`{"downloadUrl":%q,"layerDigest":%q}`, f.URL+"/blob", digest)}
				case "GET /blob":
					return fakeAnswer{200, string(tc.blob)}
				}
				return fakeAnswer{}
			})
			ps, err := NewLookups(lookupsConfig(t, f.URL)).ImagePlatforms(context.Background(), testImage)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr || !errors.Is(err, render.ErrAccessDenied) {
					t.Fatalf("error = %v, want %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := fmt.Sprint(ps); got != tc.want {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
}

func TestImagePlatformsOutsideECR(t *testing.T) {
	l := NewLookups(aws.Config{})
	ps, err := l.ImagePlatforms(context.Background(), "public.ecr.aws/nginx/nginx:1.27")
	if ps != nil || err != nil {
		t.Errorf("ImagePlatforms = %v, %v; want nil, nil", ps, err)
	}
}

// Lookups are safe for concurrent use (run with -race): each call is signed
// for its own region, and STS is asked once.
func TestLookupsConcurrent(t *testing.T) {
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
		switch c.Op {
		case "GetCallerIdentity":
			return fakeAnswer{200, callerXML}
		case "DescribeSecret":
			return fakeAnswer{200, `{"Name":"db"}`}
		case "DescribeLogGroups":
			return fakeAnswer{200, `{"logGroups":[{"logGroupName":"g"}]}`}
		}
		return fakeAnswer{}
	})
	l := NewLookups(lookupsConfig(t, f.URL))
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			ctx := context.Background()
			region := []string{"", "eu-west-1"}[i%2]
			if _, err := l.Secret(ctx, region, "db"); err != nil {
				t.Error(err)
			}
			if _, err := l.LogGroup(ctx, region, "g"); err != nil {
				t.Error(err)
			}
			if a, err := l.CallerAccount(ctx); err != nil || a != testAccount {
				t.Errorf("CallerAccount = %q, %v", a, err)
			}
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, c := range f.Calls() {
		got[c.Op+" "+c.Region]++
	}
	want := map[string]int{
		"GetCallerIdentity us-east-1": 1,
		"DescribeSecret us-east-1":    10, "DescribeSecret eu-west-1": 10,
		"DescribeLogGroups us-east-1": 10, "DescribeLogGroups eu-west-1": 10,
	}
	if !maps.Equal(got, want) {
		t.Errorf("calls by operation and signed region = %v, want %v", got, want)
	}
}

func TestSSMStoredNames(t *testing.T) {
	for _, tc := range []struct {
		ref    string
		region string
		names  []string
	}{
		{"plain", "", []string{"plain"}},
		{"/a/b", "", []string{"/a/b"}},
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/a/b", "eu-west-1", []string{"/a/b"}},
		// Created as "x" or as "/x", the ARN is the same.
		{"arn:aws:ssm:eu-west-1:123456789012:parameter/x", "eu-west-1", []string{"x", "/x"}},
		{"arn:aws-cn:ssm:cn-north-1:123456789012:parameter/a/b/c", "cn-north-1", []string{"/a/b/c"}},
		// Not a parameter ARN: asked for as written, so SSM finds nothing.
		{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x", "", []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:x"}},
	} {
		region, names := ssmStoredNames(tc.ref)
		if region != tc.region || !cmp.Equal(names, tc.names) {
			t.Errorf("ssmStoredNames(%q) = %q, %q; want %q, %q", tc.ref, region, names, tc.region, tc.names)
		}
	}
}

// Lookups do not wait for one another: every call is in flight at once
// before any is answered. The fake holds each answer until all have
// arrived; the deadline only keeps a broken build from hanging.
func TestLookupsRunInParallel(t *testing.T) {
	const n = 8
	arrived := make(chan struct{}, n)
	release := make(chan struct{})
	f := newFakeAWS(t, func(t *testing.T, c fakeCall, _ int) fakeAnswer {
		arrived <- struct{}{}
		<-release
		return fakeAnswer{200, `{"Name":"db"}`}
	})
	l := NewLookups(lookupsConfig(t, f.URL))
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if _, err := l.Secret(context.Background(), "", fmt.Sprintf("db%d", i)); err != nil {
				t.Error(err)
			}
		})
	}
	deadline := time.After(30 * time.Second)
	for range n {
		select {
		case <-arrived:
		case <-deadline:
			close(release)
			t.Fatal("the lookups did not all reach AWS at once")
		}
	}
	close(release)
	wg.Wait()
}

// Every code AWS services use for a missing permission is access denied.
func TestAccessDeniedCodes(t *testing.T) {
	for _, code := range []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"} {
		t.Run(code, func(t *testing.T) {
			f := newFakeAWS(t, func(t *testing.T, c fakeCall, n int) fakeAnswer {
				return jsonError(400, code, "not authorized")
			})
			_, err := NewLookups(lookupsConfig(t, f.URL)).LogGroup(context.Background(), "", "g")
			want := `describe log group "g": access denied (grant logs:DescribeLogGroups)`
			if err == nil || err.Error() != want || !errors.Is(err, render.ErrAccessDenied) {
				t.Errorf("error = %v, want %s matching ErrAccessDenied", err, want)
			}
		})
	}
}
