package ref

import (
	"strings"
	"testing"
)

func TestQuoteIfNeeded(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"${IMAGE}", "${IMAGE}"},
		{"taskdef.json", "taskdef.json"},
		{"my dir/é.json", "my dir/é.json"},
		{"a\nerror: x", `"a\nerror: x"`},
		{"\x1b[31m", `"\x1b[31m"`},
		{`back\slash`, `"back\\slash"`},
		{`say "hi"`, `"say \"hi\""`},
	} {
		if got := QuoteIfNeeded(tc.in); got != tc.want {
			t.Errorf("QuoteIfNeeded(%q) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

func TestSourceStringQuotesControl(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		src  Source
		want string
	}{
		{Source{Kind: SourceFile, Path: "deploy/taskdef.json"}, "deploy/taskdef.json"},
		{Source{Kind: SourceFile, Path: "a\nerror: forged"}, `"a\nerror: forged"`},
		{Source{Kind: SourceS3, Bucket: "infra", Key: "k\r\x1b[2J", VersionID: "v"}, `"s3://infra/k\r\x1b[2J?versionId=v"`},
		{Source{Kind: SourceStdin}, "stdin"},
	} {
		if got := tc.src.String(); got != tc.want {
			t.Errorf("%#v.String() = %s, want %s", tc.src, got, tc.want)
		}
	}
}

func TestParseImageRefTooLong(t *testing.T) {
	t.Parallel()
	long := "app:" + strings.Repeat("v", 1<<20)
	_, err := ParseImageRef(long)
	want := `image "app:` + strings.Repeat("v", 60) + `"...: reference is 1048580 bytes, longer than any valid one (520)`
	if err == nil || err.Error() != want {
		t.Errorf("ParseImageRef(1 MiB) = %v, want %s", err, want)
	}
	// The longest valid form is still accepted.
	valid := strings.Repeat("a", maxNameLen) + ":" + strings.Repeat("t", 128) + "@" + testSHA512
	if len(valid) != maxRefLen {
		t.Fatalf("longest valid reference is %d bytes, maxRefLen %d", len(valid), maxRefLen)
	}
	if _, err := ParseImageRef(valid); err != nil {
		t.Errorf("longest valid reference: %v", err)
	}
}
