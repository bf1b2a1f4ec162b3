package ref

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

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
// "-" for stdin, or a file path. It touches no file and no network.
func ParseSource(s string) (Source, error) {
	switch {
	case s == "":
		return Source{}, fmt.Errorf("empty template source: give a file, - or s3://BUCKET/KEY")
	case s == "-":
		return Source{Kind: SourceStdin}, nil
	case strings.HasPrefix(s, "s3://"):
		return parseS3(s)
	case len(s) >= 5 && strings.EqualFold(s[:5], "s3://"):
		// Otherwise "S3://b/k" would be read as a file path and fail with
		// a misleading "no such file".
		return Source{}, fmt.Errorf("source %q: write the scheme as s3://", s)
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
		return Source{}, fmt.Errorf("source %q: want s3://BUCKET/KEY", s)
	}
	if err := checkBucketName(bucket); err != nil {
		return Source{}, fmt.Errorf("source %q: %w", s, err)
	}
	key, query, hasQuery := strings.Cut(key, "?")
	if key == "" {
		return Source{}, fmt.Errorf("source %q: no object key: want s3://BUCKET/KEY", s)
	}
	if strings.HasSuffix(key, "/") {
		return Source{}, fmt.Errorf("source %q: key ends with /, which names a folder, not a template", s)
	}
	if len(key) > 1024 {
		return Source{}, fmt.Errorf("source %q: key is %d bytes; S3 allows 1024", s, len(key))
	}
	src := Source{Kind: SourceS3, Bucket: bucket, Key: key}
	if !hasQuery {
		return src, nil
	}
	for _, param := range strings.Split(query, "&") {
		name, value, _ := strings.Cut(param, "=")
		if name != "versionId" {
			return Source{}, fmt.Errorf("source %q: unknown query parameter %q: only versionId is allowed", s, name)
		}
		if src.VersionID != "" {
			return Source{}, fmt.Errorf("source %q: versionId given twice", s)
		}
		// PathUnescape, not QueryUnescape: version ids hold "+" and "/",
		// and a "+" must not become a space.
		v, err := url.PathUnescape(value)
		if err != nil {
			return Source{}, fmt.Errorf("source %q: malformed versionId", s)
		}
		if v == "" {
			// What Terraform writes for an unversioned bucket, whose
			// aws_s3_object has an empty version_id.
			return Source{}, fmt.Errorf("source %q: empty versionId: the bucket is probably not versioned (Terraform's aws_s3_object.version_id is empty then); enable it with aws_s3_bucket_versioning (and depends_on it in the aws_s3_object), or drop ?versionId=", s)
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

// String names the source the way errors and notices show it: as
// written, or quoted (QuoteIfNeeded) when a path or key holds a control
// character that must not reach a log raw.
func (s Source) String() string {
	switch s.Kind {
	case SourceStdin:
		return "stdin"
	case SourceS3:
		u := "s3://" + s.Bucket + "/" + s.Key
		if s.VersionID != "" {
			u += "?versionId=" + s.VersionID
		}
		return QuoteIfNeeded(u)
	}
	return QuoteIfNeeded(s.Path)
}
