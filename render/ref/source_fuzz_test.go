package ref

import (
	"strings"
	"testing"
	"unicode"
)

// FuzzParseSource checks the SRC parser: a refused source gets a one-line
// error that quotes it, an S3 source names a valid bucket and a key S3
// would take, a file source is the input itself, and an S3 source without
// a version id prints back as written.
func FuzzParseSource(f *testing.F) {
	for _, s := range []string{
		"-", "taskdef.json", "s3://infra/prd/taskdef.json", "s3://infra/k?versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY",
		"s3://infra/k?versionId=", "s3://infra/k?versionId=a%2Fb", "S3://infra/k", "s3://Infra/k", "s3://infra/",
		"s3://infra/k?versionId=a&versionId=b", "s3://in\nfra/k", "s3://infra/k\x1b[31m", "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		src, err := ParseSource(s)
		if err != nil {
			msg := err.Error()
			if strings.ContainsFunc(msg, unicode.IsControl) {
				t.Fatalf("error %q holds a raw control character", msg)
			}
			return
		}
		if strings.ContainsFunc(src.String(), unicode.IsControl) {
			t.Fatalf("Source(%q).String() = %q holds a raw control character", s, src.String())
		}
		switch src.Kind {
		case SourceStdin:
			if s != "-" {
				t.Fatalf("ParseSource(%q) is stdin", s)
			}
		case SourceFile:
			if src.Path != s {
				t.Fatalf("ParseSource(%q).Path = %q", s, src.Path)
			}
		case SourceS3:
			if err := checkBucketName(src.Bucket); err != nil {
				t.Fatalf("ParseSource(%q) accepted bucket %q: %v", s, src.Bucket, err)
			}
			if src.Key == "" || len(src.Key) > 1024 || strings.HasSuffix(src.Key, "/") {
				t.Fatalf("ParseSource(%q) accepted key %q", s, src.Key)
			}
			if !strings.Contains(s, "?") && src.String() != QuoteIfNeeded(s) {
				t.Fatalf("ParseSource(%q).String() = %q; want the input back", s, src.String())
			}
		default:
			t.Fatalf("ParseSource(%q): kind %d", s, src.Kind)
		}
	})
}
