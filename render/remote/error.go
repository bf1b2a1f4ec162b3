package remote

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// callError is a failed AWS call in one line, the one error type of every
// S3, ECR and later lookup failure. It keeps the SDK's error for errors.Is
// and errors.As, but not in its message: the SDK's text runs to operation,
// status, request id, host id and nested causes.
type callError struct {
	msg  string
	errs []error
}

func (e *callError) Error() string   { return e.msg }
func (e *callError) Unwrap() []error { return e.errs }

// failure names a failed call of service in one line starting with
// what ("get s3://b/k"): the caller's deadline, attempt timeouts,
// credentials, an API error's code and message, or a connection failure,
// with the number of attempts when the retryer gave up.
func failure(ctx context.Context, what, service string, err error) error {
	attempts := ""
	var mae *retry.MaxAttemptsError
	if errors.As(err, &mae) {
		attempts = fmt.Sprintf(" (%d attempts)", mae.Attempt)
	}
	var (
		te   *attemptTimeoutError
		ce   *credentialsError
		ae   smithy.APIError
		re   *awshttp.ResponseError
		send *smithyhttp.RequestSendError
	)
	var text string
	switch {
	case ctx.Err() != nil:
		// Whatever the SDK made of it, the caller's ctx ended the call.
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			text = "no answer from " + service + " before the deadline"
		} else {
			text = "canceled"
		}
		return &callError{msg: what + ": " + text, errs: []error{ctx.Err(), err}}
	case errors.As(err, &te):
		text = fmt.Sprintf("no answer from %s within %v", service, te.d) + attempts
	case errors.As(err, &ce):
		text = ce.Error()
	case errors.As(err, &ae):
		status := ""
		if errors.As(err, &re) {
			status = fmt.Sprintf(" (HTTP %d)", re.HTTPStatusCode())
		}
		text = fmt.Sprintf("%s error %s%s: %s", service, ae.ErrorCode(), status, oneLine(ae.ErrorMessage())) + attempts
	case errors.As(err, &send):
		var oe *net.OpError
		if errors.As(send.Err, &oe) && oe.Op == "dial" {
			text = "cannot reach " + service + ": " + connectionCause(send.Err) + attempts
		} else {
			text = "connection to " + service + " failed: " + connectionCause(send.Err) + attempts
		}
	case errors.As(err, &re):
		// An answer that is not AWS's, such as a proxy's HTML error page.
		text = fmt.Sprintf("%s answered HTTP %d, not with an AWS response", service, re.HTTPStatusCode()) + attempts
	default:
		text = oneLine(err.Error())
	}
	return &callError{msg: what + ": " + text, errs: []error{err}}
}

// connectionCause drops the *url.Error's method and URL, which repeat the
// bucket and key, and keeps what went wrong on the wire.
func connectionCause(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) {
		return oneLine(oe.Error())
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if errors.Is(ue.Err, io.EOF) || errors.Is(ue.Err, io.ErrUnexpectedEOF) {
			return "connection closed before an answer"
		}
		return oneLine(ue.Err.Error())
	}
	return oneLine(err.Error())
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

var errNoRegion = errors.New("no AWS region for S3: set AWS_REGION or pass --region")
