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
	"strconv"
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
// (lookupFailure) serves both. What it leaves out: the retryer's retry
// quota (a run makes a handful of these calls) and clock-skew correction
// (CodeBuild's clock is AWS's).

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
	// The exceptions to the partition's endpoint pattern in the service's
	// endpoint rules: GovCloud endpoints that are already FIPS, and
	// standard endpoints that already serve IPv6.
	govFIPSIsStandard, dualStackIsStandard bool
}

var (
	iamAPI     = apiService{sdkID: "IAM", name: "iam", version: "2010-05-08", global: true}
	ssmAPI     = apiService{sdkID: "SSM", name: "ssm", target: "AmazonSSM", govFIPSIsStandard: true}
	secretsAPI = apiService{sdkID: "Secrets Manager", name: "secretsmanager", target: "secretsmanager", dualStackIsStandard: true}
	logsAPI    = apiService{sdkID: "CloudWatch Logs", name: "logs", target: "Logs_20140328", govFIPSIsStandard: true}
	ecsAPI     = apiService{sdkID: "ECS", name: "ecs", target: "AmazonEC2ContainerServiceV20141113"}
)

// maxAPIResponse bounds an answer kept in memory. The largest is a
// DescribeTaskDefinition (a task definition is at most 64 KiB), far below.
const maxAPIResponse = 4 << 20

// partition is what an endpoint is made from in one AWS partition, as the
// SDK's partition table and the services' endpoint rules have it
// (TestEndpointMatchesSDK holds the two together).
type partition struct {
	name                       string
	dnsSuffix, dualStackSuffix string
	// iamRegion signs every call to IAM, whose endpoints are the
	// partition's, not a region's: iamHosts[fips][dual-stack].
	iamRegion string
	iamHosts  [2][2]string
}

// partitions by region prefix, most specific first; a region that matches
// none is in the commercial partition, the last.
var partitions = []struct {
	prefix string
	p      partition
}{
	{"cn-", partition{"aws-cn", "amazonaws.com.cn", "api.amazonwebservices.com.cn", "cn-north-1", [2][2]string{
		{"iam.cn-north-1.amazonaws.com.cn", "iam.global.api.amazonwebservices.com.cn"},
		{"iam-fips.amazonaws.com.cn", "iam-fips.api.amazonwebservices.com.cn"}}}},
	{"us-gov-", partition{"aws-us-gov", "amazonaws.com", "api.aws", "us-gov-west-1", [2][2]string{
		{"iam.us-gov.amazonaws.com", "iam.us-gov.api.aws"},
		{"iam.us-gov.amazonaws.com", "iam.us-gov.api.aws"}}}},
	{"us-isob-", partition{"aws-iso-b", "sc2s.sgov.gov", "api.aws.scloud", "us-isob-east-1", [2][2]string{
		{"iam.us-isob-east-1.sc2s.sgov.gov", "iam.api.aws.scloud"},
		{"iam-fips.us-isob-east-1.sc2s.sgov.gov", "iam-fips.api.aws.scloud"}}}},
	{"us-isof-", partition{"aws-iso-f", "csp.hci.ic.gov", "api.aws.hci.ic.gov", "us-isof-south-1", [2][2]string{
		{"iam.us-isof-south-1.csp.hci.ic.gov", "iam.api.aws.hci.ic.gov"},
		{"iam-fips.csp.hci.ic.gov", "iam-fips.api.aws.hci.ic.gov"}}}},
	{"us-iso-", partition{"aws-iso", "c2s.ic.gov", "api.aws.ic.gov", "us-iso-east-1", [2][2]string{
		{"iam.us-iso-east-1.c2s.ic.gov", "iam.api.aws.ic.gov"},
		{"iam-fips.us-iso-east-1.c2s.ic.gov", "iam-fips.api.aws.ic.gov"}}}},
	{"eu-isoe-", partition{"aws-iso-e", "cloud.adc-e.uk", "api.cloud-aws.adc-e.uk", "eu-isoe-west-1", [2][2]string{
		{"iam.eu-isoe-west-1.cloud.adc-e.uk", "iam.api.cloud-aws.adc-e.uk"},
		{"iam-fips.cloud.adc-e.uk", "iam-fips.api.cloud-aws.adc-e.uk"}}}},
	{"eusc-", partition{"aws-eusc", "amazonaws.eu", "api.amazonwebservices.eu", "eusc-de-east-1", [2][2]string{
		{"iam.eusc-de-east-1.amazonaws.eu", "iam.global.api.amazonwebservices.eu"},
		{"iam-fips.amazonaws.eu", "iam-fips.api.amazonwebservices.eu"}}}},
	{"", partition{"aws", "amazonaws.com", "api.aws", "us-east-1", [2][2]string{
		{"iam.amazonaws.com", "iam.global.api.aws"},
		{"iam-fips.amazonaws.com", "iam-fips.global.api.aws"}}}},
}

// partitionOf returns the partition of region.
func partitionOf(region string) partition {
	for _, p := range partitions {
		if strings.HasPrefix(region, p.prefix) {
			return p.p
		}
	}
	panic("unreachable: the last partition matches every region")
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
// endpoint for the FIPS and dual-stack settings.
func endpoint(ctx context.Context, cfg aws.Config, svc apiService, region string) (string, string) {
	if u, ok := configuredEndpoint(ctx, cfg, svc); ok {
		if svc.global {
			region = partitionOf(region).iamRegion
		}
		return u, region
	}
	fips, dual := endpointVariants(ctx, cfg)
	return defaultEndpoint(svc, region, fips, dual)
}

// endpointVariants reads the FIPS and dual-stack settings; as in the SDK,
// the first configuration source that holds a setting decides it.
func endpointVariants(ctx context.Context, cfg aws.Config) (fips, dual bool) {
	var fipsFound, dualFound bool
	for _, s := range cfg.ConfigSources {
		if f, ok := s.(fipsSource); ok && !fipsFound {
			if v, found, err := f.GetUseFIPSEndpoint(ctx); err == nil && found {
				fips, fipsFound = v == aws.FIPSEndpointStateEnabled, true
			}
		}
		if d, ok := s.(dualStackSource); ok && !dualFound {
			if v, found, err := d.GetUseDualStackEndpoint(ctx); err == nil && found {
				dual, dualFound = v == aws.DualStackEndpointStateEnabled, true
			}
		}
	}
	return fips, dual
}

// defaultEndpoint is the partition's endpoint of svc in region.
func defaultEndpoint(svc apiService, region string, fips, dual bool) (string, string) {
	p := partitionOf(region)
	if svc.global {
		return "https://" + p.iamHosts[b2i(fips)][b2i(dual)], p.iamRegion
	}
	if svc.govFIPSIsStandard && p.name == "aws-us-gov" && !dual {
		fips = false
	}
	if svc.dualStackIsStandard && (p.name == "aws" || p.name == "aws-us-gov" || p.name == "aws-cn" && !fips) {
		dual = false
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
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
			return nil, unexpectedAnswer(op, err)
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
		return unexpectedAnswer(op, err)
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

// httpClient is the configuration's HTTP client (its proxy, CA bundle and
// dialer) with redirects turned off. AWS's query and JSON APIs never
// redirect, and a presigned URL is fetched as given; the SDK's client would
// follow a 307 or 308 again and again, each time with the signed body.
func (l *Lookups) httpClient() aws.HTTPClient {
	l.httpOnce.Do(func() {
		noRedirect := func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
		switch c := l.cfg.HTTPClient.(type) {
		case nil:
			l.http = &http.Client{Transport: awshttp.NewBuildableClient().GetTransport(), CheckRedirect: noRedirect}
		case *awshttp.BuildableClient:
			l.http = &http.Client{Transport: c.GetTransport(), CheckRedirect: noRedirect}
		case *http.Client:
			cc := *c
			cc.CheckRedirect = noRedirect
			l.http = &cc
		default:
			// A client of the caller's own making: its redirect policy is
			// the caller's choice.
			l.http = c
		}
	})
	return l.http
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
	resp, err := l.httpClient().Do(req)
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

// unexpectedAnswer is a 2xx answer that is not what op answers, in one
// line: where the JSON or XML broke, or which field had the wrong type,
// never the decoder's Go type names. Such an answer proves nothing, so the
// lookup fails (a captive proxy's page must not pass for "it exists").
func unexpectedAnswer(op string, err error) error {
	var (
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		xsyn *xml.SyntaxError
	)
	detail := ""
	switch {
	case errors.As(err, &syn):
		detail = fmt.Sprintf(": not JSON at byte %d", syn.Offset)
	case errors.As(err, &typ) && typ.Field != "":
		detail = fmt.Sprintf(": %s is a JSON %s", strconv.Quote(typ.Field), typ.Value)
	case errors.As(err, &typ):
		detail = fmt.Sprintf(": a JSON %s", typ.Value)
	case errors.As(err, &xsyn):
		detail = fmt.Sprintf(": not XML at line %d", xsyn.Line)
	case errors.Is(err, errIncomplete):
		detail = ": " + err.Error()
	}
	return &callError{msg: op + " answer: not the answer expected" + detail, errs: []error{err}}
}

// errIncomplete is an answer that decodes but lacks what the operation
// always sends.
var errIncomplete = errors.New("part of it is missing")
