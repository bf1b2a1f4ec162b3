package render

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
)

// MaxTemplateSize is the largest template or AppSpec accepted, in bytes.
// A task definition may be at most 64 KiB once registered, so anything near
// this size is a mistake (a wrong object, a binary); refusing it before it
// is read whole keeps a bad source from costing memory or minutes.
const MaxTemplateSize = 1 << 20

// SourceKind says where a Source's bytes come from.
type SourceKind uint8

// The kinds of Source.
const (
	SourceFile  SourceKind = iota // a file path
	SourceStdin                   // "-"
	SourceS3                      // s3://BUCKET/KEY[?versionId=V]
)

// Source is where a template or AppSpec is read from: the SRC of the
// command line, parsed.
type Source struct {
	Kind SourceKind
	// Path is the file's path (SourceFile only).
	Path string
	// Bucket, Key and VersionID name the object (SourceS3 only);
	// VersionID is empty for the current version.
	Bucket, Key, VersionID string
}

// ParseSource parses a SRC: "s3://BUCKET/KEY", "s3://BUCKET/KEY?versionId=V",
// "-" for stdin, or a file path. It touches no file and no network; every
// error is an InputError.
func ParseSource(s string) (Source, error) {
	switch {
	case s == "":
		return Source{}, inputErrorf("empty template source: give a file, - or s3://BUCKET/KEY")
	case s == "-":
		return Source{Kind: SourceStdin}, nil
	case strings.HasPrefix(s, "s3://"):
		return parseS3(s)
	case len(s) >= 5 && strings.EqualFold(s[:5], "s3://"):
		// Otherwise "S3://b/k" would be read as a file path and fail with
		// a misleading "no such file".
		return Source{}, inputErrorf("source %q: write the scheme as s3://", s)
	}
	return Source{Kind: SourceFile, Path: s}, nil
}

// parseS3 splits "s3://BUCKET/KEY?versionId=V". The key runs to the first
// "?", as in a URL, and is taken literally (no percent-decoding) so that it
// reads the same as in the S3 console and the AWS CLI.
func parseS3(s string) (Source, error) {
	rest := strings.TrimPrefix(s, "s3://")
	bucket, key, ok := strings.Cut(rest, "/")
	if !ok || bucket == "" {
		return Source{}, inputErrorf("source %q: want s3://BUCKET/KEY", s)
	}
	if err := checkBucketName(bucket); err != nil {
		return Source{}, inputErrorf("source %q: %w", s, err)
	}
	key, query, hasQuery := strings.Cut(key, "?")
	if key == "" {
		return Source{}, inputErrorf("source %q: no object key: want s3://BUCKET/KEY", s)
	}
	if strings.HasSuffix(key, "/") {
		return Source{}, inputErrorf("source %q: key ends with /, which names a folder, not a template", s)
	}
	if len(key) > 1024 {
		return Source{}, inputErrorf("source %q: key is %d bytes; S3 allows 1024", s, len(key))
	}
	src := Source{Kind: SourceS3, Bucket: bucket, Key: key}
	if !hasQuery {
		return src, nil
	}
	for _, param := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(param, "=")
		if name != "versionId" {
			return Source{}, inputErrorf("source %q: unknown query parameter %q: only versionId is allowed", s, name)
		}
		if src.VersionID != "" {
			return Source{}, inputErrorf("source %q: versionId given twice", s)
		}
		// PathUnescape, not QueryUnescape: version ids hold "+" and "/",
		// and a "+" must not become a space.
		v, err := url.PathUnescape(value)
		if err != nil || v == "" {
			return Source{}, inputErrorf("source %q: empty or malformed versionId", s)
		}
		src.VersionID = v
	}
	return src, nil
}

// checkBucketName applies S3's rules for bucket names, so that a typo is
// reported here rather than as a confusing S3 or DNS error.
func checkBucketName(b string) error {
	if strings.HasPrefix(b, "arn:") {
		return errors.New("access point and other ARNs are not supported: give the bucket name")
	}
	if len(b) < 3 || len(b) > 63 {
		return fmt.Errorf("bucket name %q: S3 bucket names are 3 to 63 characters", b)
	}
	for _, c := range b {
		if !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '.' || c == '-') {
			return fmt.Errorf("bucket name %q: only lowercase letters, digits, dots and hyphens are allowed", b)
		}
	}
	if !isAlnum(b[0]) || !isAlnum(b[len(b)-1]) {
		return fmt.Errorf("bucket name %q must begin and end with a letter or digit", b)
	}
	if strings.Contains(b, "..") {
		return fmt.Errorf("bucket name %q has two adjacent dots", b)
	}
	if net.ParseIP(b) != nil {
		return fmt.Errorf("bucket name %q is an IP address", b)
	}
	return nil
}

func isAlnum(c byte) bool { return 'a' <= c && c <= 'z' || '0' <= c && c <= '9' }

// String names the source the way errors and notices show it.
func (s Source) String() string {
	switch s.Kind {
	case SourceStdin:
		return "stdin"
	case SourceS3:
		u := "s3://" + s.Bucket + "/" + s.Key
		if s.VersionID != "" {
			u += "?versionId=" + s.VersionID
		}
		return u
	}
	return s.Path
}

// S3API is the part of the S3 client that Loader uses.
type S3API interface {
	GetObject(ctx context.Context, in *s3.GetObjectInput, optFns ...func(*s3.Options)) (*s3.GetObjectOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// Loader reads sources. The zero Loader reads files only.
type Loader struct {
	// S3 is nil when offline; an s3:// source is then an input error.
	S3 S3API
	// Stdin is read for the source "-".
	Stdin io.Reader
}

// Load returns the bytes of src, at most MaxTemplateSize of them. Errors
// are one line naming the source.
func (l *Loader) Load(ctx context.Context, src Source) ([]byte, error) {
	switch src.Kind {
	case SourceStdin:
		if l.Stdin == nil {
			return nil, errors.New("read stdin: no standard input")
		}
		return readLimited(l.Stdin, src)
	case SourceS3:
		return l.loadS3(ctx, src)
	case SourceFile:
		return loadFile(src)
	}
	return nil, fmt.Errorf("source %v: unknown kind %d", src, src.Kind)
}

func loadFile(src Source) ([]byte, error) {
	f, err := os.Open(src.Path)
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.Path, pathErrorCause(err))
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", src.Path, pathErrorCause(err))
	}
	if fi.IsDir() {
		return nil, fmt.Errorf("read %s: is a directory, not a template file", src.Path)
	}
	// Only regular files have a meaningful size; a FIFO or /dev/stdin says 0
	// and is caught by the limited read instead.
	if fi.Mode().IsRegular() && fi.Size() > MaxTemplateSize {
		return nil, tooLarge(src, fi.Size())
	}
	return readLimited(f, src)
}

// pathErrorCause drops the *os.PathError's operation and path: the caller
// names the file once, its own way, so the line does not say it twice.
func pathErrorCause(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// readLimited reads at most MaxTemplateSize+1 bytes, so that a source over
// the limit is refused after that many bytes instead of read whole.
func readLimited(r io.Reader, src Source) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxTemplateSize+1))
	if err != nil {
		return nil, fmt.Errorf("read %v: %w", src, pathErrorCause(err))
	}
	if len(b) > MaxTemplateSize {
		return nil, inputErrorf("%v is over the limit of 1 MiB", src)
	}
	return b, nil
}

func tooLarge(src Source, size int64) error {
	return inputErrorf("%v is %s; the limit is 1 MiB", src, formatSize(size))
}

// formatSize writes sizes just over the limit in bytes, where "1.0 MiB"
// would read as if it were within it.
func formatSize(n int64) string {
	s := fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	if s == "1.0 MiB" {
		return fmt.Sprintf("%d bytes", n)
	}
	return s
}

func (l *Loader) loadS3(ctx context.Context, src Source) ([]byte, error) {
	if l.S3 == nil {
		return nil, inputErrorf("%v: --offline reads local files only", src)
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
	if out.ContentLength != nil && *out.ContentLength > MaxTemplateSize {
		return nil, tooLarge(src, *out.ContentLength)
	}
	// The limited read applies even with a Content-Length: a proxy or a
	// fake may send none, or a wrong one.
	b, err := io.ReadAll(io.LimitReader(out.Body, MaxTemplateSize+1))
	if err != nil {
		return nil, awsFailure(ctx, "get "+src.String()+": reading the object", "S3", err)
	}
	if len(b) > MaxTemplateSize {
		return nil, inputErrorf("%v is over the limit of 1 MiB", src)
	}
	return b, nil
}

// s3Failure turns a GetObject error into one line naming the object. The
// codes S3 answers for a GetObject that cannot succeed get plain words;
// the rest (throttling, 5xx, timeouts, credentials) are common to all AWS
// calls and left to awsFailure.
func s3Failure(ctx context.Context, src Source, err error) error {
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
		return awsFailure(ctx, what, "S3", err)
	}
	return &awsError{msg: what + ": " + short, errs: []error{err}}
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

// inputErrorf is fmt.Errorf marked as the user's input being wrong.
func inputErrorf(format string, args ...any) error {
	return &InputError{Err: fmt.Errorf(format, args...)}
}
