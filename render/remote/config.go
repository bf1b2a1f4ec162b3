package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go/logging"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// Defaults for AWSOptions' zero values.
const (
	// DefaultAttemptTimeout is long for S3 or ECR, which answer in well
	// under a second, and short next to a pipeline's minutes.
	DefaultAttemptTimeout = 10 * time.Second
	// DefaultMaxAttempts is the SDK's own default.
	DefaultMaxAttempts = retry.DefaultMaxAttempts
)

// maxBackoff caps the wait between attempts. The SDK's 20s cap is meant
// for long-running services; a pipeline step that is throttled for longer
// than a few seconds should fail and say so within the run's --timeout.
const maxBackoff = 5 * time.Second

// AWSOptions are the command line's say in how AWS is called.
type AWSOptions struct {
	// Region is --region; empty leaves it to the SDK's default chain
	// (AWS_REGION, AWS_DEFAULT_REGION, the shared config).
	Region string
	// AttemptTimeout bounds each attempt of each call, so that a hung
	// connection is retried instead of eating the whole run's deadline.
	// Zero means DefaultAttemptTimeout.
	AttemptTimeout time.Duration
	// MaxAttempts counts the first attempt. Zero means AWS_MAX_ATTEMPTS
	// when set, else DefaultMaxAttempts.
	MaxAttempts int
	// Log receives the SDK's own log lines (such as a fallback to IMDSv1)
	// so that they reach the build log as notes like every other line,
	// not raw; nil drops them.
	Log func(msg string)
}

// LoadAWSConfig loads credentials, region and endpoints the way the SDK
// does by default (so AWS_ENDPOINT_URL, AWS_ENDPOINT_URL_S3 and
// AWS_ENDPOINT_URL_ECR point clients elsewhere), applies o, and installs
// the retry policy and per-attempt timeout that every client built from
// the result shares. The whole run's deadline is the ctx of each call.
func LoadAWSConfig(ctx context.Context, o AWSOptions) (aws.Config, error) {
	var opts []func(*config.LoadOptions) error
	if o.Region != "" {
		opts = append(opts, config.WithRegion(o.Region))
	}
	var logger logging.Logger = logging.Nop{}
	if o.Log != nil {
		logger = logging.LoggerFunc(func(c logging.Classification, format string, v ...any) {
			o.Log(fmt.Sprintf("aws sdk %s: ", strings.ToLower(string(c))) + fmt.Sprintf(format, v...))
		})
	}
	opts = append(opts, config.WithLogger(logger))
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("aws config: %w", err)
	}
	// No region is no error yet: ECR references carry their own region,
	// so only an S3 source needs one (see NewDeps).

	attempts := o.MaxAttempts
	if attempts <= 0 {
		attempts = cfg.RetryMaxAttempts
	}
	if attempts <= 0 {
		attempts = DefaultMaxAttempts
	}
	// The standard retryer already retries throttling, 5xx and failed
	// connections with jittered exponential backoff; only the limits are
	// ours. RetryMaxAttempts is set too, or clients would wrap the retryer
	// again with a value from the environment.
	cfg.RetryMaxAttempts = attempts
	cfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(so *retry.StandardOptions) {
			so.MaxAttempts = attempts
			so.MaxBackoff = maxBackoff
		})
	}

	timeout := o.AttemptTimeout
	if timeout <= 0 {
		timeout = DefaultAttemptTimeout
	}
	cfg.APIOptions = append(cfg.APIOptions, func(stack *middleware.Stack) error {
		return addAttemptTimeout(stack, timeout)
	})

	if cfg.Credentials != nil {
		cfg.Credentials = credentialsProvider{cfg.Credentials}
	}
	return cfg, nil
}

// NewS3Client returns an S3 client for cfg. With an endpoint override in
// effect (moto, gofakes3, a proxy on 127.0.0.1) it addresses buckets by
// path: a virtual-host name such as BUCKET.127.0.0.1 does not resolve.
func NewS3Client(cfg aws.Config) *s3.Client {
	return s3.NewFromConfig(cfg, func(o *s3.Options) {
		// Otherwise every GetObject of an object stored without a checksum
		// prints an "SDK ... DEBUG" line on stderr, where a pipeline's log
		// should hold only ecsrender's own lines.
		o.DisableLogOutputChecksumValidationSkipped = true
		// NewFromConfig has resolved AWS_ENDPOINT_URL and
		// AWS_ENDPOINT_URL_S3 into BaseEndpoint before options run.
		if o.BaseEndpoint != nil {
			o.UsePathStyle = true
		}
	})
}

// NewECRClient returns an ECR client for region, which may differ from
// cfg's: an image can live in another region's registry. An empty region
// means cfg's.
func NewECRClient(cfg aws.Config, region string) *ecr.Client {
	return ecr.NewFromConfig(cfg, func(o *ecr.Options) {
		if region != "" {
			o.Region = region
		}
	})
}

// The per-attempt timeout is a finalize middleware placed right after the
// SDK's retry middleware, so it runs once per attempt and the retryer sees
// its timeout as a retryable error. The alternative, http.Transport's
// ResponseHeaderTimeout and a dial timeout, was not chosen: it leaves a
// response body that stalls after its headers unbounded (ECR answers are
// read inside the attempt), and its error is not one this package can name.
//
// An attempt lasts until its response body is closed: the SDK hands
// GetObject's body to the caller still unread, so cancelling the attempt's
// context when the middleware returns would break the read. A deserialize
// middleware wraps the body so that closing it ends the attempt.

const (
	attemptTimeoutID = "ecsrender:AttemptTimeout"
	attemptBodyID    = "ecsrender:AttemptBody"
)

func addAttemptTimeout(stack *middleware.Stack, d time.Duration) error {
	if err := stack.Finalize.Insert(attemptTimeoutMiddleware{d}, "Retry", middleware.After); err != nil {
		return fmt.Errorf("add attempt timeout: %w", err)
	}
	// Added last in the deserialize step, it is the innermost: it sees the
	// raw response before the operation's deserializer takes its body.
	if err := stack.Deserialize.Add(attemptBodyMiddleware{}, middleware.After); err != nil {
		return fmt.Errorf("add attempt timeout: %w", err)
	}
	return nil
}

// attemptTimeoutError is an attempt that got no (complete) answer in time.
// It does not unwrap to context.Canceled: the retryer would take that for
// the caller giving up and stop retrying.
type attemptTimeoutError struct{ d time.Duration }

func (e *attemptTimeoutError) Error() string { return fmt.Sprintf("no answer within %v", e.d) }

// RetryableError tells the SDK's retryer to try again.
func (e *attemptTimeoutError) RetryableError() bool { return true }

// Timeout marks it as a timeout for anyone classifying net-style errors.
func (e *attemptTimeoutError) Timeout() bool { return true }

type attemptKey struct{}

// attempt is the state one attempt's two middlewares and its body share.
type attempt struct {
	ctx      context.Context
	end      func()
	endOnce  sync.Once
	bodyHeld atomic.Bool
}

func (a *attempt) finish() { a.endOnce.Do(a.end) }

type attemptTimeoutMiddleware struct{ d time.Duration }

func (attemptTimeoutMiddleware) ID() string { return attemptTimeoutID }

func (m attemptTimeoutMiddleware) HandleFinalize(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (
	middleware.FinalizeOutput, middleware.Metadata, error,
) {
	actx, cancel := context.WithCancelCause(ctx)
	timeout := &attemptTimeoutError{d: m.d}
	timer := time.AfterFunc(m.d, func() { cancel(timeout) })
	a := &attempt{ctx: actx, end: func() { timer.Stop(); cancel(nil) }}

	out, md, err := next.HandleFinalize(context.WithValue(actx, attemptKey{}, a), in)
	if err != nil {
		timedOut := ctx.Err() == nil && errors.Is(context.Cause(actx), timeout) && errors.Is(err, context.Canceled)
		a.finish()
		if timedOut {
			return out, md, timeout
		}
		return out, md, err
	}
	if !a.bodyHeld.Load() {
		a.finish()
	}
	return out, md, nil
}

type attemptBodyMiddleware struct{}

func (attemptBodyMiddleware) ID() string { return attemptBodyID }

func (attemptBodyMiddleware) HandleDeserialize(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (
	middleware.DeserializeOutput, middleware.Metadata, error,
) {
	out, md, err := next.HandleDeserialize(ctx, in)
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	resp, ok := out.RawResponse.(*smithyhttp.Response)
	if a == nil || !ok || resp == nil || resp.Body == nil {
		return out, md, err
	}
	resp.Body = &attemptBody{ReadCloser: resp.Body, a: a}
	a.bodyHeld.Store(true)
	return out, md, err
}

// attemptBody ends its attempt when closed, and reports a read cut short
// by the attempt's timeout as that timeout rather than "context canceled".
type attemptBody struct {
	io.ReadCloser
	a *attempt
}

func (b *attemptBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF {
		var te *attemptTimeoutError
		if errors.As(context.Cause(b.a.ctx), &te) {
			err = te
		}
	}
	return n, err
}

func (b *attemptBody) Close() error {
	err := b.ReadCloser.Close()
	b.a.finish()
	return err
}

// credentialsProvider marks failures to find credentials, which the SDK
// reports only as text deep inside its error, so that they can be named in
// one line and are not retried (the chain has already tried every source).
type credentialsProvider struct{ aws.CredentialsProvider }

func (p credentialsProvider) Retrieve(ctx context.Context) (aws.Credentials, error) {
	c, err := p.CredentialsProvider.Retrieve(ctx)
	if err != nil {
		return c, &credentialsError{err: err}
	}
	return c, nil
}

type credentialsError struct{ err error }

func (e *credentialsError) Error() string {
	cause := strings.TrimPrefix(oneLine(e.err.Error()), "failed to refresh cached credentials, ")
	return "no AWS credentials: " + cause
}

func (e *credentialsError) Unwrap() error { return e.err }

// RetryableError stops the SDK from retrying a connection error met while
// looking for credentials (instance metadata): the chain has its own.
func (e *credentialsError) RetryableError() bool { return false }
