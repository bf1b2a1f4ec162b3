package remote

import (
	"context"
	"errors"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"

	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

// S3API is the part of the S3 client that Loader uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Loader reads s3:// sources from S3 and hands the others to Local.
type Loader struct {
	S3    S3API
	Local render.Loader
}

var _ render.Loader = (*Loader)(nil)

// Load reads an s3:// source with GetObject, and any other through Local.
func (l *Loader) Load(ctx context.Context, src ref.Source) ([]byte, error) {
	if src.Kind != ref.SourceS3 {
		return l.Local.Load(ctx, src)
	}
	in := &s3.GetObjectInput{Bucket: &src.Bucket, Key: &src.Key}
	if src.VersionID != "" {
		in.VersionId = &src.VersionID
	}
	out, err := l.S3.GetObject(ctx, in)
	if err != nil {
		return nil, s3Failure(ctx, src, err)
	}
	defer out.Body.Close()
	b, err := render.ReadSource(out.Body, src, aws.ToInt64(out.ContentLength))
	if err != nil && !render.IsInputError(err) {
		return nil, failure(ctx, "get "+src.String()+": reading the object", "S3", errors.Unwrap(err))
	}
	return b, err
}

// s3Failure turns a GetObject error into one line naming the object. The
// codes S3 answers for a GetObject that cannot succeed get plain words;
// the rest (throttling, 5xx, timeouts, credentials) are common to all AWS
// calls and left to awsFailure.
func s3Failure(ctx context.Context, src ref.Source, err error) error {
	what := "get " + src.String()
	var status int
	var header func(string) string
	var re *awshttp.ResponseError
	if errors.As(err, &re) && re.Response != nil {
		status = re.HTTPStatusCode()
		header = re.Response.Header.Get
	}
	// Without an XML body (HEAD, some proxies) the SDK derives the code
	// from the status text: "Forbidden", "NotFound", "MovedPermanently".
	var code, msg string
	var ae smithy.APIError
	if errors.As(err, &ae) {
		code, msg = ae.ErrorCode(), ae.ErrorMessage()
	}
	var nsk *types.NoSuchKey
	short := ""
	switch {
	case errors.As(err, &nsk) || code == "NoSuchKey":
		short = "no such key"
	case code == "NoSuchBucket":
		short = "no such bucket"
	case code == "NoSuchVersion":
		short = "no such version"
	case code == "InvalidArgument" && src.VersionID != "" && strings.Contains(strings.ToLower(msg), "version"):
		// S3 answers 400 InvalidArgument, not NoSuchVersion, for a version
		// id that is not even well-formed.
		short = "no such version (S3: " + oneLine(msg) + ")"
	case code == "AccessDenied" || status == 403 && (code == "" || code == "Forbidden"):
		// S3 hides a missing key behind 403 from a caller that may not
		// list the bucket; say so, or users chase the wrong permission.
		short = "access denied (S3 also says this for a missing key when the caller may not list the bucket)"
	case code == "PermanentRedirect" || code == "AuthorizationHeaderMalformed" && strings.Contains(msg, "region") || status == 301:
		region := bucketRegion(header, msg)
		if region == "" {
			short = "bucket " + src.Bucket + " is in another region; pass its region with --region"
		} else {
			short = "bucket " + src.Bucket + " is in region " + region + "; pass --region " + region
		}
	case status == 404 && (code == "" || code == "NotFound"):
		short = "not found"
	case code == "InvalidObjectState":
		short = "object is archived (InvalidObjectState); restore it first"
	}
	if short == "" {
		return failure(ctx, what, "S3", err)
	}
	return &callError{msg: what + ": " + short, errs: []error{err}}
}

// bucketRegion finds the bucket's region in an S3 redirect: the
// x-amz-bucket-region header when present, else the region S3 expected in
// an AuthorizationHeaderMalformed message ("... expecting 'eu-west-1'").
func bucketRegion(header func(string) string, msg string) string {
	if header != nil {
		if r := header("X-Amz-Bucket-Region"); r != "" {
			return r
		}
	}
	if _, after, ok := strings.Cut(msg, "expecting '"); ok {
		if r, _, ok := strings.Cut(after, "'"); ok {
			return r
		}
	}
	return ""
}
