package remote

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Verify's read-only lookups in IAM, SSM, Secrets Manager, CloudWatch Logs
// and ECS go through this small signed client instead of the SDK's service
// packages. Those packages build their operation schemas in package init:
// about 9 ms of every start, paid by --offline and `version` too, for five
// calls that a run with verify makes at most a few of. The client keeps the
// SDK's behaviour where it matters: the same credentials chain and SigV4
// signer, the configuration's retryer (throttling, 5xx and broken
// connections retried with its backoff), endpoints from AWS_ENDPOINT_URL,
// AWS_ENDPOINT_URL_<SERVICE> and the shared config, FIPS and dual-stack
// settings, and errors that errors.As finds as the SDK's (smithy.APIError,
// awshttp.ResponseError, retry.MaxAttemptsError) so that one set of words
// (lookupFailure) serves both.

// apiService is what a call needs to know about one AWS service.
type apiService struct {
	// sdkID names the service in AWS_ENDPOINT_URL_<ID> (upper case, spaces
	// as underscores) and in a shared config's services section.
	sdkID string
	// name is the SigV4 signing name and the endpoint's host prefix.
	name string
	// target prefixes X-Amz-Target for the JSON protocol; empty means the
	// query protocol (IAM).
	target string
	// version is the query protocol's API version.
	version string
	// global services answer for a whole partition from one endpoint.
	global bool
}

var (
	iamAPI     = apiService{sdkID: "IAM", name: "iam", version: "2010-05-08", global: true}
	ssmAPI     = apiService{sdkID: "SSM", name: "ssm", target: "AmazonSSM"}
	secretsAPI = apiService{sdkID: "Secrets Manager", name: "secretsmanager", target: "secretsmanager"}
	logsAPI    = apiService{sdkID: "CloudWatch Logs", name: "logs", target: "Logs_20140328"}
	ecsAPI     = apiService{sdkID: "ECS", name: "ecs", target: "AmazonEC2ContainerServiceV20141113"}
)

// maxAPIResponse bounds an answer kept in memory. The largest is a
// DescribeTaskDefinition (a task definition is at most 64 KiB), far below.
const maxAPIResponse = 4 << 20

// partition is the part of an AWS partition an endpoint is made from.
type partition struct {
	dnsSuffix, dualStackSuffix string
	// iamRegion signs calls to the partition's global IAM endpoint, and
	// iamHost is that endpoint (empty: IAM is regional there).
	iamRegion, iamHost, iamFIPSHost string
}

// partitionOf returns the partition of region, by its prefix as AWS's
// partition table matches it; anything else is the commercial partition.
func partitionOf(region string) partition {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return partition{dnsSuffix: "amazonaws.com.cn", dualStackSuffix: "api.amazonwebservices.com.cn",
			iamRegion: "cn-north-1", iamHost: "iam.cn-north-1.amazonaws.com.cn"}
	case strings.HasPrefix(region, "us-gov-"):
		return partition{dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
			iamRegion: "us-gov-west-1", iamHost: "iam.us-gov.amazonaws.com", iamFIPSHost: "iam.us-gov.amazonaws.com"}
	case strings.HasPrefix(region, "us-isob-"):
		return partition{dnsSuffix: "sc2s.sgov.gov", dualStackSuffix: "sc2s.sgov.gov"}
	case strings.HasPrefix(region, "us-isof-"):
		return partition{dnsSuffix: "csp.hci.ic.gov", dualStackSuffix: "csp.hci.ic.gov"}
	case strings.HasPrefix(region, "eu-isoe-"):
		return partition{dnsSuffix: "cloud.adc-e.uk", dualStackSuffix: "cloud.adc-e.uk"}
	case strings.HasPrefix(region, "us-iso-"):
		return partition{dnsSuffix: "c2s.ic.gov", dualStackSuffix: "c2s.ic.gov"}
	}
	return partition{dnsSuffix: "amazonaws.com", dualStackSuffix: "api.aws",
		iamRegion: "us-east-1", iamHost: "iam.amazonaws.com", iamFIPSHost: "iam-fips.amazonaws.com"}
}

// The interfaces of the configuration sources (environment, shared config,
// load options) that hold endpoint settings, as the SDK's clients ask them.
type (
	serviceEndpointSource interface {
		GetServiceBaseEndpoint(ctx context.Context, sdkID string) (string, bool, error)
	}
	ignoreEndpointsSource interface {
		GetIgnoreConfiguredEndpoints(ctx context.Context) (bool, bool, error)
	}
	fipsSource interface {
		GetUseFIPSEndpoint(ctx context.Context) (aws.FIPSEndpointState, bool, error)
	}
	dualStackSource interface {
		GetUseDualStackEndpoint(ctx context.Context) (aws.DualStackEndpointState, bool, error)
	}
)

// endpoint returns the URL of svc in region and the region to sign for,
// resolved as the SDK's clients resolve it: a service's own configured
// endpoint, else AWS_ENDPOINT_URL (cfg.BaseEndpoint), else the partition's
// endpoint.
func endpoint(ctx context.Context, cfg aws.Config, svc apiService, region string) (string, string) {
	if u, ok := configuredEndpoint(ctx, cfg, svc); ok {
		if svc.global {
			if p := partitionOf(region); p.iamRegion != "" {
				region = p.iamRegion
			}
		}
		return u, region
	}
	var fips, dual bool
	for _, s := range cfg.ConfigSources {
		if f, ok := s.(fipsSource); ok && !fips {
			if v, found, err := f.GetUseFIPSEndpoint(ctx); err == nil && found {
				fips = v == aws.FIPSEndpointStateEnabled
			}
		}
		if d, ok := s.(dualStackSource); ok && !dual {
			if v, found, err := d.GetUseDualStackEndpoint(ctx); err == nil && found {
				dual = v == aws.DualStackEndpointStateEnabled
			}
		}
	}
	p := partitionOf(region)
	if svc.global && p.iamHost != "" && !dual {
		host := p.iamHost
		if fips && p.iamFIPSHost != "" {
			host = p.iamFIPSHost
		}
		return "https://" + host, p.iamRegion
	}
	name, suffix := svc.name, p.dnsSuffix
	if fips {
		name += "-fips"
	}
	if dual {
		suffix = p.dualStackSuffix
	}
	return "https://" + name + "." + region + "." + suffix, region
}

// configuredEndpoint is the endpoint a user configured for svc, if any:
// AWS_ENDPOINT_URL_<ID> or the shared config's services section, which win
// over AWS_ENDPOINT_URL unless only the latter is set in the environment;
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS turns them all off (the config
// loader then leaves cfg.BaseEndpoint unset too).
func configuredEndpoint(ctx context.Context, cfg aws.Config, svc apiService) (string, bool) {
	base := aws.ToString(cfg.BaseEndpoint)
	for _, s := range cfg.ConfigSources {
		if ig, ok := s.(ignoreEndpointsSource); ok {
			if v, found, err := ig.GetIgnoreConfiguredEndpoints(ctx); err == nil && found {
				if v {
					return base, base != ""
				}
				break
			}
		}
	}
	// As the SDK's clients do: AWS_ENDPOINT_URL alone in the environment
	// wins over a services section in the shared config.
	_, global := os.LookupEnv("AWS_ENDPOINT_URL")
	_, own := os.LookupEnv("AWS_ENDPOINT_URL_" + strings.ReplaceAll(strings.ToUpper(svc.sdkID), " ", "_"))
	if global && !own {
		return base, base != ""
	}
	for _, s := range cfg.ConfigSources {
		if es, ok := s.(serviceEndpointSource); ok {
			if u, found, err := es.GetServiceBaseEndpoint(ctx, svc.sdkID); err == nil && found && u != "" {
				return u, true
			}
		}
	}
	return base, base != ""
}

// jsonCall makes a JSON-protocol call of svc: in is encoded as the body and
// the answer decoded into out. It returns the answer's bytes as well.
func (l *Lookups) jsonCall(ctx context.Context, svc apiService, region, op string, in, out any) ([]byte, error) {
	body, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("encode %s request: %w", op, err)
	}
	header := http.Header{
		"Content-Type": {"application/x-amz-json-1.1"},
		"X-Amz-Target": {svc.target + "." + op},
	}
	data, err := l.call(ctx, svc, region, header, body)
	if err != nil {
		return nil, err
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return nil, fmt.Errorf("%s answer: not the JSON expected: %w", op, err)
		}
	}
	return data, nil
}

// queryCall makes a query-protocol call of svc with params and decodes the
// XML answer into out.
func (l *Lookups) queryCall(ctx context.Context, svc apiService, region, op string, params url.Values, out any) error {
	q := url.Values{"Action": {op}, "Version": {svc.version}}
	for k, v := range params {
		q[k] = v
	}
	header := http.Header{"Content-Type": {"application/x-www-form-urlencoded; charset=utf-8"}}
	data, err := l.call(ctx, svc, region, header, []byte(q.Encode()))
	if err != nil {
		return err
	}
	if err := xml.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s answer: not the XML expected: %w", op, err)
	}
	return nil
}

// call sends one request with the configuration's retryer: each attempt
// bounded by the attempt timeout, a retryable failure retried after the
// retryer's delay while attempts are left, and a run of failures that used
// them all reported as retry.MaxAttemptsError, as the SDK does.
func (l *Lookups) call(ctx context.Context, svc apiService, region string, header http.Header, body []byte) ([]byte, error) {
	u, signingRegion := endpoint(ctx, l.cfg, svc, region)
	retryer := l.retryer()
	maxAttempts := max(retryer.MaxAttempts(), 1)
	for attempt := 1; ; attempt++ {
		data, err := l.attempt(ctx, svc, u, signingRegion, header, body)
		if err == nil {
			return data, nil
		}
		if ctx.Err() != nil || !retryer.IsErrorRetryable(err) {
			return nil, err
		}
		if attempt >= maxAttempts {
			return nil, &retry.MaxAttemptsError{Attempt: attempt, Err: err}
		}
		delay, derr := retryer.RetryDelay(attempt, err)
		if derr != nil {
			return nil, err
		}
		t := time.NewTimer(delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

func (l *Lookups) retryer() aws.Retryer {
	l.retryerOnce.Do(func() {
		if l.cfg.Retryer != nil {
			l.retry = l.cfg.Retryer()
		}
		if l.retry == nil {
			l.retry = retry.NewStandard()
		}
	})
	return l.retry
}

// attempt is one signed request and its whole answer, read within the
// attempt's timeout. Errors are shaped as the SDK's: a request that got no
// answer is a smithyhttp.RequestSendError (a connection error the retryer
// retries), and an error answer an awshttp.ResponseError around a
// smithy.GenericAPIError holding AWS's code and message.
func (l *Lookups) attempt(ctx context.Context, svc apiService, endpoint, region string, header http.Header, body []byte) ([]byte, error) {
	timeout := l.attemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	timedOut := &attemptTimeoutError{d: timeout}
	actx, cancel := context.WithTimeoutCause(ctx, timeout, timedOut)
	defer cancel()
	// A timed-out attempt is reported as such, not as a canceled context,
	// which the retryer would take for the caller giving up.
	cause := func(err error) error {
		if ctx.Err() == nil && errors.Is(context.Cause(actx), timedOut) {
			return timedOut
		}
		return err
	}

	req, err := http.NewRequestWithContext(actx, http.MethodPost, endpoint, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%s endpoint %q: %w", svc.sdkID, endpoint, err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	req.Header.Set("User-Agent", "ecsrender")
	if l.cfg.Credentials == nil {
		return nil, &credentialsError{err: errors.New("no credentials provider configured")}
	}
	creds, err := l.cfg.Credentials.Retrieve(actx)
	if err != nil {
		return nil, cause(err)
	}
	sum := sha256.Sum256(body)
	if err := v4.NewSigner().SignHTTP(actx, creds, req, hex.EncodeToString(sum[:]), svc.name, region, time.Now()); err != nil {
		return nil, fmt.Errorf("sign %s request: %w", svc.sdkID, err)
	}
	hc := l.cfg.HTTPClient
	if hc == nil {
		hc = awshttp.NewBuildableClient()
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: cause(err)}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxAPIResponse+1))
	if err != nil {
		return nil, &smithyhttp.RequestSendError{Err: cause(err)}
	}
	if len(data) > maxAPIResponse {
		return nil, fmt.Errorf("%s answer larger than %d bytes", svc.sdkID, maxAPIResponse)
	}
	if resp.StatusCode >= 200 && resp.StatusCode < 300 {
		return data, nil
	}
	var answer error = fmt.Errorf("HTTP %d", resp.StatusCode)
	if ae := apiError(resp, data); ae != nil {
		answer = ae
	}
	return nil, &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp}, Err: answer},
		RequestID:     cmp.Or(resp.Header.Get("X-Amzn-Requestid"), resp.Header.Get("X-Amz-Request-Id")),
	}
}

// apiError reads AWS's error code and message from an error answer, as the
// SDK's deserializers do: the X-Amzn-Errortype header first, else the JSON
// body's __type or code, else the query protocol's <Error><Code>; a code
// loses a URL after ':' and then a namespace before '#'. An answer that
// holds none of them is not AWS's (a proxy's error page): nil.
func apiError(resp *http.Response, data []byte) *smithy.GenericAPIError {
	var j struct {
		Type     string `json:"__type"`
		Code     string `json:"code"`
		Message  string `json:"message"`
		MessageU string `json:"Message"`
	}
	var x struct {
		Code    string `xml:"Error>Code"`
		Message string `xml:"Error>Message"`
	}
	var bodyCode, msg string
	trimmed := bytes.TrimSpace(data)
	switch {
	case len(trimmed) > 0 && trimmed[0] == '{' && json.Unmarshal(trimmed, &j) == nil:
		bodyCode = cmp.Or(j.Type, j.Code)
		msg = cmp.Or(j.Message, j.MessageU)
	case len(trimmed) > 0 && trimmed[0] == '<' && xml.Unmarshal(trimmed, &x) == nil:
		bodyCode, msg = x.Code, x.Message
	}
	code := cmp.Or(resp.Header.Get("X-Amzn-Errortype"), bodyCode)
	if i := strings.IndexByte(code, ':'); i >= 0 {
		code = code[:i]
	}
	if i := strings.LastIndexByte(code, '#'); i >= 0 {
		code = code[i+1:]
	}
	if code == "" {
		return nil
	}
	fault := smithy.FaultClient
	if resp.StatusCode >= 500 {
		fault = smithy.FaultServer
	}
	return &smithy.GenericAPIError{Code: code, Message: msg, Fault: fault}
}
