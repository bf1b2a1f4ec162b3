package ref

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzParseImageRef checks properties of the image reference parser, not
// only that it does not panic: an accepted reference prints back exactly
// as written (ecsrender changes an image only where it means to), the
// printed form parses to the same reference, pinning it gives a reference
// that parses too, and a refused one gets a one-line error that quotes it.
// The seeds in testdata/fuzz/FuzzParseImageRef run as ordinary tests.
func FuzzParseImageRef(f *testing.F) {
	for _, s := range []string{
		"nginx", "nginx:1.25", "library/nginx:latest", "docker.io/library/nginx:latest",
		"nginx@" + testDigest, "nginx:1.25@" + testDigest, "nginx@" + testSHA512,
		"localhost:5000/app:dev", "[::1]:5000/app", "[2001:db8::1]/app:1",
		testECRHost + "/prd-rails:v1.4.2", testECRHost + ":443/app@" + testDigest,
		"123456789012.dkr-ecr.eu-west-1.on.aws/app:1", "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/a",
		"x/a.b/c_d/e__f/g-h/i---j", "Reg/app", "app:a" + strings.Repeat("b", 127),
		"", "Nginx", "nginx:", "nginx@", "a//b", "${IMAGE}", "<IMAGE1_NAME>", "https://ghcr.io/a",
		"app\n:1", "app:1\x1b[31m", "[::1/app", "host:/app", "host:port/app", testECRHost,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseImageRef(s)
		if err != nil {
			msg := err.Error()
			if prefix := "image " + quoteRef(s) + ": "; !strings.HasPrefix(msg, prefix) {
				t.Fatalf("error %q does not start with %q", msg, prefix)
			}
			if strings.ContainsAny(msg, "\n\r\x1b") {
				t.Fatalf("error %q holds a raw control character", msg)
			}
			// The message may quote the reference and up to two parts of
			// it, each byte as at most 4 (\xff), plus its own words.
			if limit := 12*min(len(s), maxRefLen) + 300; len(msg) > limit {
				t.Fatalf("error of %d bytes for a reference of %d; want at most %d", len(msg), len(s), limit)
			}
			return
		}
		if got := r.String(); got != s {
			t.Fatalf("ParseImageRef(%q).String() = %q; want the input back", s, got)
		}
		again, err := ParseImageRef(r.String())
		if err != nil {
			t.Fatalf("ParseImageRef(%q) ok, but its String %q: %v", s, r.String(), err)
		}
		if diff := cmp.Diff(r, again); diff != "" {
			t.Fatalf("parse-print-parse of %q changed the reference (-first +second):\n%s", s, diff)
		}
		if r.Repository == "" || strings.ToLower(r.Repository) != r.Repository {
			t.Fatalf("ParseImageRef(%q) accepted repository %q", s, r.Repository)
		}
		if (r.ECR != nil) != (parseECRHost(r.Registry) != nil) {
			t.Fatalf("ParseImageRef(%q): ECR %v disagrees with the registry %q", s, r.ECR, r.Registry)
		}
		pinned := r.WithDigest(testDigest2)
		p, err := ParseImageRef(pinned.String())
		if err != nil {
			t.Fatalf("%q pinned as %q: %v", s, pinned.String(), err)
		}
		if p.Tag != "" || p.Digest != testDigest2 || p.Repository != r.Repository || p.Registry != r.Registry {
			t.Fatalf("%q pinned as %q parses as %+v", s, pinned.String(), p)
		}
	})
}
