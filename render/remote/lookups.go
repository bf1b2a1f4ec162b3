// Package remote makes ecsrender's AWS calls.
package remote

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsarn "github.com/aws/aws-sdk-go-v2/aws/arn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/ecsrender/ecsrender/render"
	imageref "github.com/ecsrender/ecsrender/render/ref"
)

// Lookups answers verify's questions with read-only AWS calls. It never
// reads a parameter's or a secret's value. Clients are made on first use,
// one per service and region, so that a run that verifies no secrets never
// builds a Secrets Manager client. It is safe for concurrent use.
type Lookups struct {
	cfg aws.Config
	// attemptTimeout bounds each attempt of the signed client's calls
	// (awsapi.go); zero means DefaultAttemptTimeout.
	attemptTimeout time.Duration

	retryerOnce sync.Once
	retry       aws.Retryer

	mu      sync.Mutex
	clients map[lookupClientKey]any

	accountOnce sync.Once
	account     string
	accountErr  error
}

type lookupClientKey struct{ service, region string }

var (
	_ render.AccountLookup   = (*Lookups)(nil)
	_ render.RoleLookup      = (*Lookups)(nil)
	_ render.ParameterLookup = (*Lookups)(nil)
	_ render.SecretLookup    = (*Lookups)(nil)
	_ render.LogGroupLookup  = (*Lookups)(nil)
	_ render.PlatformLookup  = (*Lookups)(nil)
	_ render.ServiceLookup   = (*Lookups)(nil)
)

// NewLookups returns lookups that call AWS with cfg: its credentials,
// retryer (throttling and 5xx are retried there, not here), endpoints and
// API options. cfg.Region is the default region; a region passed to a
// lookup, or found in an ARN, overrides it.
func NewLookups(cfg aws.Config) *Lookups {
	return &Lookups{cfg: cfg, clients: map[lookupClientKey]any{}}
}

// VerifyLookups returns l as every kind of lookup that verify uses.
func (l *Lookups) VerifyLookups() render.VerifyLookups {
	return render.VerifyLookups{
		Account: l, Roles: l, Parameters: l, Secrets: l, LogGroups: l, Images: l, Services: l,
	}
}

// lookupClient returns the cached client of service in region, making it
// with mk on first use.
func lookupClient[T any](l *Lookups, service, region string, mk func(aws.Config, string) T) T {
	l.mu.Lock()
	defer l.mu.Unlock()
	k := lookupClientKey{service, region}
	if c, ok := l.clients[k]; ok {
		return c.(T)
	}
	c := mk(l.cfg, region)
	l.clients[k] = c
	return c
}

// region picks the region of a call: the ARN's, else the caller's, else
// the configuration's.
func (l *Lookups) region(arnRegion, region string) string {
	switch {
	case arnRegion != "":
		return arnRegion
	case region != "":
		return region
	}
	return l.cfg.Region
}

// globalRegion is where IAM and STS are asked: both answer for the whole
// partition, so any region of it will do, and without one configured the
// commercial partition's home region is the only sensible guess.
func (l *Lookups) globalRegion() string {
	if l.cfg.Region != "" {
		return l.cfg.Region
	}
	return "us-east-1"
}

func (l *Lookups) sts() *sts.Client {
	return lookupClient(l, "sts", l.globalRegion(), func(cfg aws.Config, r string) *sts.Client {
		return sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = r })
	})
}

func (l *Lookups) ecr(region string) *ecr.Client {
	return lookupClient(l, "ecr", region, func(cfg aws.Config, r string) *ecr.Client {
		return ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.Region = r })
	})
}

// CallerAccount returns the account of the credentials in use, asking STS
// once per Lookups (a failure, after the retryer's attempts, is kept too):
// render compares it with the account of each ARN to tell another
// account's resources, which the build may not see.
func (l *Lookups) CallerAccount(ctx context.Context) (string, error) {
	l.accountOnce.Do(func() {
		out, err := l.sts().GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			l.accountErr = lookupFailure(ctx, "get caller identity", "sts:GetCallerIdentity", err)
			return
		}
		l.account = aws.ToString(out.Account)
	})
	return l.account, l.accountErr
}

// Role asks IAM about a role by name or ARN. IAM finds roles by name
// alone, so for an ARN the name is its last path segment; ARN in the
// answer is IAM's, which differs from ref when ref's path is wrong.
// A role ARN of another account is refused, not looked up: its name would
// be found, or not, in the caller's account. Callers compare the ARN's
// account with CallerAccount first.
func (l *Lookups) Role(ctx context.Context, ref string) (render.RoleFacts, error) {
	what := fmt.Sprintf("get role %q", ref)
	name := ref
	if awsarn.IsARN(ref) {
		a, err := awsarn.Parse(ref)
		if err != nil || a.Service != "iam" || !strings.HasPrefix(a.Resource, "role/") {
			return render.RoleFacts{}, &lookupError{msg: what + ": not an IAM role ARN"}
		}
		account, err := l.CallerAccount(ctx)
		if err != nil {
			return render.RoleFacts{}, err
		}
		if a.AccountID != account {
			return render.RoleFacts{}, &lookupError{msg: fmt.Sprintf("%s: the role is in account %q, not the caller's %q", what, a.AccountID, account)}
		}
		name = a.Resource[strings.LastIndex(a.Resource, "/")+1:]
	}
	var out struct {
		ARN    string `xml:"GetRoleResult>Role>Arn"`
		Policy string `xml:"GetRoleResult>Role>AssumeRolePolicyDocument"`
	}
	err := l.queryCall(ctx, iamAPI, l.globalRegion(), "GetRole", url.Values{"RoleName": {name}}, &out)
	if err != nil {
		if lookupCode(err) == "NoSuchEntity" {
			return render.RoleFacts{}, nil
		}
		return render.RoleFacts{}, lookupFailure(ctx, what, "iam:GetRole", err)
	}
	facts := render.RoleFacts{Found: true, ARN: out.ARN}
	doc := out.Policy
	// IAM returns the document URL-encoded (RFC 3986, so PathUnescape:
	// QueryUnescape would turn a literal "+" into a space). A document that
	// does not decode is kept as given; render reports what it cannot read.
	if dec, err := url.PathUnescape(doc); err == nil {
		doc = dec
	}
	facts.TrustPolicy = doc
	return facts, nil
}

// ssmMaxFilterValues is the most values one ParameterStringFilter takes,
// and ssmMaxResults the largest page of DescribeParameters
// (ParameterStringFilterValueList and MaxResults in the SSM API model).
const (
	ssmMaxFilterValues = 50
	ssmMaxResults      = 50
)

// Parameters reports which SSM parameters exist, by name, /path/name or
// ARN, in one DescribeParameters call per region and 50 names (more only
// when SSM pages its answer). The result is keyed by names as given.
// Parameters are looked up in the caller's account: another account's
// parameter ARN is reported missing, so callers skip those (CallerAccount).
func (l *Lookups) Parameters(ctx context.Context, region string, names []string) (map[string]bool, error) {
	found := make(map[string]bool, len(names))
	// candidates[region][stored name] lists the names as given that it answers.
	candidates := map[string]map[string][]string{}
	for _, n := range names {
		if _, dup := found[n]; dup {
			continue
		}
		found[n] = false
		r, stored := ssmStoredNames(n)
		r = l.region(r, region)
		if candidates[r] == nil {
			candidates[r] = map[string][]string{}
		}
		for _, s := range stored {
			candidates[r][s] = append(candidates[r][s], n)
		}
	}
	for _, r := range slices.Sorted(maps.Keys(candidates)) {
		stored := slices.Sorted(maps.Keys(candidates[r]))
		for batch := range slices.Chunk(stored, ssmMaxFilterValues) {
			what := fmt.Sprintf("describe ssm parameter %q", batch[0])
			if len(batch) > 1 {
				what = fmt.Sprintf("describe ssm parameters %q and %d more", batch[0], len(batch)-1)
			}
			if r == "" {
				return nil, &lookupError{msg: what + ": no region (pass --region)"}
			}
			in := ssmDescribeParameters{
				MaxResults:       ssmMaxResults,
				ParameterFilters: []ssmFilter{{Key: "Name", Option: "Equals", Values: batch}},
			}
			// SSM answers "best effort": a page may hold fewer than the
			// matches, even none, and still carry a NextToken.
			err := pages(func(token string) (string, error) {
				in.NextToken = token
				var out struct {
					Parameters []struct{ Name string }
					NextToken  string
				}
				if _, err := l.jsonCall(ctx, ssmAPI, r, "DescribeParameters", in, &out); err != nil {
					return "", err
				}
				for _, m := range out.Parameters {
					for _, n := range candidates[r][m.Name] {
						found[n] = true
					}
				}
				return out.NextToken, nil
			})
			if err != nil {
				return nil, lookupFailure(ctx, what, "ssm:DescribeParameters", err)
			}
		}
	}
	return found, nil
}

type ssmDescribeParameters struct {
	MaxResults       int
	NextToken        string `json:",omitempty"`
	ParameterFilters []ssmFilter
}

type ssmFilter struct {
	Key, Option string
	Values      []string
}

// maxPages bounds how many pages one lookup reads: a service that keeps
// sending tokens must not hold the run until its deadline.
const maxPages = 100

// pages calls page with each next token, from none, until it returns no
// token, the same token again (as the SDK's paginators stop) or maxPages
// pages have been read.
func pages(page func(token string) (string, error)) error {
	token := ""
	for range maxPages {
		next, err := page(token)
		if err != nil || next == "" || next == token {
			return err
		}
		token = next
	}
	return nil
}

// ssmStoredNames returns the region of an SSM parameter reference (empty
// unless it is an ARN) and the names SSM may store it under. A parameter
// created as "/a/b" has the ARN ...:parameter/a/b and one created as "x"
// has ...:parameter/x, so an ARN with a one-level name may stand for "x"
// or "/x"; both are asked for.
func ssmStoredNames(ref string) (string, []string) {
	if !awsarn.IsARN(ref) {
		return "", []string{ref}
	}
	a, err := awsarn.Parse(ref)
	if err != nil || !strings.HasPrefix(a.Resource, "parameter/") {
		// Not a parameter ARN: asked for as written, SSM finds nothing.
		return "", []string{ref}
	}
	name := strings.TrimPrefix(a.Resource, "parameter")
	if strings.Count(name, "/") > 1 {
		return a.Region, []string{name}
	}
	return a.Region, []string{name[1:], name}
}

// Secret reports whether Secrets Manager holds the secret id (a name, a
// full ARN or an ARN without its random suffix, never with the
// :json-key:stage:id suffix of a task definition's valueFrom). It asks
// DescribeSecret, which returns no value.
func (l *Lookups) Secret(ctx context.Context, region, id string) (bool, error) {
	what := fmt.Sprintf("describe secret %q", id)
	arnRegion := ""
	if a, err := awsarn.Parse(id); err == nil {
		arnRegion = a.Region
	}
	r := l.region(arnRegion, region)
	if r == "" {
		return false, &lookupError{msg: what + ": no region (pass --region)"}
	}
	_, err := l.jsonCall(ctx, secretsAPI, r, "DescribeSecret", struct{ SecretId string }{id}, nil)
	if err != nil {
		if lookupCode(err) == "ResourceNotFoundException" {
			return false, nil
		}
		return false, lookupFailure(ctx, what, "secretsmanager:DescribeSecret", err)
	}
	return true, nil
}

// LogGroup reports whether the CloudWatch Logs group exists. Names are
// matched by prefix in DescribeLogGroups, so the exact name is looked for
// in the answer, paging on only while it has not been seen.
func (l *Lookups) LogGroup(ctx context.Context, region, name string) (bool, error) {
	what := fmt.Sprintf("describe log group %q", name)
	r := l.region("", region)
	if r == "" {
		return false, &lookupError{msg: what + ": no region (pass --region)"}
	}
	seen := false
	err := pages(func(token string) (string, error) {
		in := struct {
			LogGroupNamePrefix string `json:"logGroupNamePrefix"`
			NextToken          string `json:"nextToken,omitempty"`
		}{name, token}
		var out struct {
			LogGroups []struct {
				LogGroupName string `json:"logGroupName"`
			} `json:"logGroups"`
			NextToken string `json:"nextToken"`
		}
		if _, err := l.jsonCall(ctx, logsAPI, r, "DescribeLogGroups", in, &out); err != nil {
			return "", err
		}
		for _, g := range out.LogGroups {
			if g.LogGroupName == name {
				seen = true
				return "", nil
			}
		}
		return out.NextToken, nil
	})
	if err != nil {
		if lookupCode(err) == "ResourceNotFoundException" {
			return false, nil
		}
		return false, lookupFailure(ctx, what, "logs:DescribeLogGroups", err)
	}
	return seen, nil
}

// Media types of image manifests (OCI image spec, Docker distribution).
const (
	mediaOCIIndex        = "application/vnd.oci.image.index.v1+json"
	mediaDockerList      = "application/vnd.docker.distribution.manifest.list.v2+json"
	mediaOCIManifest     = "application/vnd.oci.image.manifest.v1+json"
	mediaDockerManifest  = "application/vnd.docker.distribution.manifest.v2+json"
	maxImageConfigLength = 1 << 20
)

// ImagePlatforms lists the platforms an ECR image offers, from its
// manifest (ecr:BatchGetImage): those of an image index's entries, or for
// a single image the one its config blob names, read through
// ecr:GetDownloadUrlForLayer. It returns nil, meaning unknown, for an
// image outside private ECR, an image ECR does not hold (resolving images
// reports that) and a config blob that cannot be fetched (moto serves no
// layer downloads, so there every single image is unknown).
func (l *Lookups) ImagePlatforms(ctx context.Context, image string) ([]render.Platform, error) {
	ref, err := imageref.ParseImageRef(image)
	if err != nil {
		return nil, fmt.Errorf("image platforms: %w", err)
	}
	if ref.ECR == nil {
		return nil, nil
	}
	what := fmt.Sprintf("get image manifest %q", image)
	id := ecrtypes.ImageIdentifier{}
	switch {
	case ref.Digest != "":
		id.ImageDigest = aws.String(ref.Digest)
	case ref.Tag != "":
		id.ImageTag = aws.String(ref.Tag)
	default:
		id.ImageTag = aws.String("latest")
	}
	client := l.ecr(ref.ECR.Region)
	out, err := client.BatchGetImage(ctx, &ecr.BatchGetImageInput{
		RegistryId:         aws.String(ref.ECR.Account),
		RepositoryName:     aws.String(ref.Repository),
		ImageIds:           []ecrtypes.ImageIdentifier{id},
		AcceptedMediaTypes: []string{mediaOCIIndex, mediaDockerList, mediaOCIManifest, mediaDockerManifest},
	})
	if err != nil {
		if lookupCode(err) == "RepositoryNotFoundException" {
			return nil, nil
		}
		return nil, lookupFailure(ctx, what, "ecr:BatchGetImage", err)
	}
	if len(out.Images) == 0 {
		return nil, nil
	}
	var m struct {
		MediaType string `json:"mediaType"`
		Manifests []struct {
			Platform *struct {
				OS           string `json:"os"`
				Architecture string `json:"architecture"`
				Variant      string `json:"variant"`
			} `json:"platform"`
		} `json:"manifests"`
		Config struct {
			Digest string `json:"digest"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(out.Images[0].ImageManifest)), &m); err != nil {
		return nil, &lookupError{msg: fmt.Sprintf("%s: manifest is not JSON: %v", what, err), errs: []error{err}}
	}
	mediaType := cmp.Or(aws.ToString(out.Images[0].ImageManifestMediaType), m.MediaType)
	if mediaType == mediaOCIIndex || mediaType == mediaDockerList || (mediaType == "" && m.Manifests != nil) {
		var ps []render.Platform
		for _, e := range m.Manifests {
			// buildx adds attestation manifests as "unknown/unknown":
			// nothing a task can run.
			if e.Platform == nil || e.Platform.OS == "unknown" || e.Platform.Architecture == "unknown" {
				continue
			}
			ps = append(ps, render.Platform{OS: e.Platform.OS, Architecture: e.Platform.Architecture, Variant: e.Platform.Variant})
		}
		return ps, nil
	}
	if m.Config.Digest == "" {
		return nil, nil
	}
	return l.configPlatform(ctx, client, ref, m.Config.Digest)
}

// configPlatform reads a single image's platform from its config blob. Any
// failure to fetch it leaves the platform unknown, except a denied
// permission, which the build role can be given.
func (l *Lookups) configPlatform(ctx context.Context, client *ecr.Client, ref imageref.ImageRef, digest string) ([]render.Platform, error) {
	out, err := client.GetDownloadUrlForLayer(ctx, &ecr.GetDownloadUrlForLayerInput{
		RegistryId:     aws.String(ref.ECR.Account),
		RepositoryName: aws.String(ref.Repository),
		LayerDigest:    aws.String(digest),
	}, func(o *ecr.Options) {
		// One attempt: the platform is only a best effort, and retrying
		// an endpoint that does not serve layers (moto answers HTTP 500)
		// would spend the retryer's backoff on every single image.
		o.RetryMaxAttempts = 1
	})
	if err != nil {
		if isAccessDenied(err) {
			return nil, lookupFailure(ctx, fmt.Sprintf("get image config %q", ref.Registry+"/"+ref.Repository+"@"+digest), "ecr:GetDownloadUrlForLayer", err)
		}
		return nil, nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, aws.ToString(out.DownloadUrl), nil)
	if err != nil {
		return nil, nil
	}
	hc := l.cfg.HTTPClient
	if hc == nil {
		hc = awshttp.NewBuildableClient()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxImageConfigLength+1))
	if err != nil || resp.StatusCode != http.StatusOK || len(body) > maxImageConfigLength {
		return nil, nil
	}
	// A presigned URL is a third party's answer: only bytes with the
	// digest the manifest names are the image's config.
	sum := sha256.Sum256(body)
	if digest != "sha256:"+hex.EncodeToString(sum[:]) {
		return nil, nil
	}
	var c struct {
		OS           string `json:"os"`
		Architecture string `json:"architecture"`
		Variant      string `json:"variant"`
	}
	if json.Unmarshal(body, &c) != nil || c.OS == "" || c.Architecture == "" {
		return nil, nil
	}
	return []render.Platform{{OS: c.OS, Architecture: c.Architecture, Variant: c.Variant}}, nil
}

// Service describes an ECS service and the task definition it runs. A
// service ECS reports MISSING, or a cluster it does not know, is not
// Found. TaskDefinition is DescribeTaskDefinition's body as ECS sent it,
// not the SDK's structs encoded again, so that its keys and values are
// exactly ECS's.
func (l *Lookups) Service(ctx context.Context, region, cluster, service string) (render.ServiceFacts, error) {
	what := fmt.Sprintf("describe service %q in cluster %q", service, cluster)
	r := l.region("", region)
	if r == "" {
		return render.ServiceFacts{}, &lookupError{msg: what + ": no region (pass --region)"}
	}
	var out struct {
		Services []struct {
			Status               string `json:"status"`
			TaskDefinition       string `json:"taskDefinition"`
			DeploymentController *struct {
				Type string `json:"type"`
			} `json:"deploymentController"`
			LoadBalancers []struct {
				ContainerName  string `json:"containerName"`
				ContainerPort  int    `json:"containerPort"`
				TargetGroupARN string `json:"targetGroupArn"`
			} `json:"loadBalancers"`
		} `json:"services"`
		Failures []struct {
			Reason string `json:"reason"`
		} `json:"failures"`
	}
	in := struct {
		Cluster  string   `json:"cluster"`
		Services []string `json:"services"`
	}{cluster, []string{service}}
	if _, err := l.jsonCall(ctx, ecsAPI, r, "DescribeServices", in, &out); err != nil {
		if lookupCode(err) == "ClusterNotFoundException" {
			return render.ServiceFacts{}, nil
		}
		return render.ServiceFacts{}, lookupFailure(ctx, what, "ecs:DescribeServices", err)
	}
	// One service was asked about, so there is at most one failure.
	if len(out.Failures) > 0 {
		if reason := out.Failures[0].Reason; reason != "MISSING" {
			return render.ServiceFacts{}, &lookupError{msg: fmt.Sprintf("%s: ecs failure %q", what, reason)}
		}
		return render.ServiceFacts{}, nil
	}
	if len(out.Services) == 0 {
		return render.ServiceFacts{}, nil
	}
	s := out.Services[0]
	facts := render.ServiceFacts{
		Found:                true,
		Status:               s.Status,
		DeploymentController: "ECS",
		TaskDefinitionARN:    s.TaskDefinition,
	}
	if s.DeploymentController != nil && s.DeploymentController.Type != "" {
		facts.DeploymentController = s.DeploymentController.Type
	}
	for _, lb := range s.LoadBalancers {
		facts.LoadBalancers = append(facts.LoadBalancers, render.ServiceLoadBalancer{
			ContainerName:  lb.ContainerName,
			ContainerPort:  lb.ContainerPort,
			TargetGroupARN: lb.TargetGroupARN,
		})
	}
	if facts.TaskDefinitionARN == "" {
		return facts, nil
	}
	// The answer is kept as ECS sent it: render reads the running task
	// definition's keys and values from it, exactly as ECS has them.
	body, err := l.jsonCall(ctx, ecsAPI, r, "DescribeTaskDefinition", struct {
		TaskDefinition string `json:"taskDefinition"`
	}{facts.TaskDefinitionARN}, nil)
	if err != nil {
		return render.ServiceFacts{}, lookupFailure(ctx, fmt.Sprintf("describe task definition %q", facts.TaskDefinitionARN), "ecs:DescribeTaskDefinition", err)
	}
	facts.TaskDefinition = body
	return facts, nil
}

// accessDeniedCodes are the error codes AWS services use for a missing
// permission (IAM, STS and most JSON services; EC2; SNS-style query APIs).
var accessDeniedCodes = []string{"AccessDenied", "AccessDeniedException", "UnauthorizedOperation", "AuthorizationError"}

func isAccessDenied(err error) bool { return slices.Contains(accessDeniedCodes, lookupCode(err)) }

// lookupCode is the AWS error code of err, or "".
func lookupCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// lookupError is a failed lookup in one line. It keeps the SDK's error
// (and render.ErrAccessDenied when AWS refused) for errors.Is and
// errors.As, but not in its message: the SDK's text runs to operation,
// status, request id and nested causes.
type lookupError struct {
	msg  string
	errs []error
}

func (e *lookupError) Error() string   { return e.msg }
func (e *lookupError) Unwrap() []error { return e.errs }

// lookupFailure words a failed call in one line that starts with what
// (`describe secret "arn:..."`): a denied permission as "access denied
// (grant PERM)", matching render.ErrAccessDenied; the caller's deadline;
// an API error's code and message; a connection failure; and the number of
// attempts when the retryer gave up.
func lookupFailure(ctx context.Context, what, permission string, err error) error {
	if isAccessDenied(err) {
		return &lookupError{
			msg:  fmt.Sprintf("%s: %v (grant %s)", what, render.ErrAccessDenied, permission),
			errs: []error{render.ErrAccessDenied, err},
		}
	}
	if ctx.Err() != nil {
		text := "canceled"
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			text = "no answer before the deadline"
		}
		return &lookupError{msg: what + ": " + text, errs: []error{ctx.Err(), err}}
	}
	attempts := ""
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		attempts = fmt.Sprintf(" (%d attempts)", mae.Attempt)
	}
	var (
		te   *attemptTimeoutError
		ae   smithy.APIError
		re   *awshttp.ResponseError
		send *smithyhttp.RequestSendError
	)
	var text string
	switch {
	case errors.As(err, &te):
		text = fmt.Sprintf("no answer within %v", te.d)
	case errors.As(err, &ae):
		status := ""
		if errors.As(err, &re) {
			status = fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
		}
		text = fmt.Sprintf("%s%s: %s", ae.ErrorCode(), status, lookupOneLine(ae.ErrorMessage()))
	case errors.As(err, &send):
		text = "connection failed: " + lookupOneLine(send.Err.Error())
	case errors.As(err, &re):
		text = fmt.Sprintf("HTTP %d, not an AWS response", re.HTTPStatusCode())
	default:
		text = lookupOneLine(err.Error())
	}
	return &lookupError{msg: what + ": " + text + attempts, errs: []error{err}}
}

// lookupOneLine folds a message that AWS or the network wrote onto one
// line and quotes what is left of control characters, so that it cannot
// forge a log line.
func lookupOneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}
