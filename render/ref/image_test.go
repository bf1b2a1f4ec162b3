package ref

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

const (
	testDigest    = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testDigest2   = "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"
	testSHA512    = "sha512:" + testHex64 + testHex64
	testHex64     = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	testECRHost   = "123456789012.dkr.ecr.us-east-1.amazonaws.com"
	testECRHostW2 = "123456789012.dkr.ecr.us-west-2.amazonaws.com"
)

func TestParseImageRefValid(t *testing.T) {
	t.Parallel()
	useast1 := &ECRRegistry{Account: "123456789012", Region: "us-east-1"}
	tests := []struct {
		in   string
		want ImageRef
	}{
		// Docker Hub, short forms kept as written.
		{"nginx", ImageRef{Repository: "nginx"}},
		{"nginx:1.25", ImageRef{Repository: "nginx", Tag: "1.25"}},
		{"nginx:1.25-alpine", ImageRef{Repository: "nginx", Tag: "1.25-alpine"}},
		{"library/nginx:latest", ImageRef{Repository: "library/nginx", Tag: "latest"}},
		{"docker.io/library/nginx:latest", ImageRef{Registry: "docker.io", Repository: "library/nginx", Tag: "latest"}},
		{"grafana/grafana", ImageRef{Repository: "grafana/grafana"}},
		{"amazon/aws-xray-daemon:3.x", ImageRef{Repository: "amazon/aws-xray-daemon", Tag: "3.x"}},
		{"nginx@" + testDigest, ImageRef{Repository: "nginx", Digest: testDigest}},
		{"nginx:1.25@" + testDigest, ImageRef{Repository: "nginx", Tag: "1.25", Digest: testDigest}},
		{"nginx@" + testSHA512, ImageRef{Repository: "nginx", Digest: testSHA512}},
		// Tags.
		{"app:_x", ImageRef{Repository: "app", Tag: "_x"}},
		{"app:V1.2.3", ImageRef{Repository: "app", Tag: "V1.2.3"}},
		{"app:a" + strings.Repeat("b", 127), ImageRef{Repository: "app", Tag: "a" + strings.Repeat("b", 127)}},
		{"app:0", ImageRef{Repository: "app", Tag: "0"}},
		{"app:git-4f2a9c1", ImageRef{Repository: "app", Tag: "git-4f2a9c1"}},
		// Separators inside path components.
		{"x/a.b/c_d/e__f/g-h/i---j", ImageRef{Repository: "x/a.b/c_d/e__f/g-h/i---j"}},
		{"a/b/c/d/e", ImageRef{Repository: "a/b/c/d/e"}},
		{"0/1", ImageRef{Repository: "0/1"}},
		// Registries.
		{"localhost/app", ImageRef{Registry: "localhost", Repository: "app"}},
		{"localhost:5000/app:dev", ImageRef{Registry: "localhost:5000", Repository: "app", Tag: "dev"}},
		{"127.0.0.1:5000/team/app", ImageRef{Registry: "127.0.0.1:5000", Repository: "team/app"}},
		{"[::1]:5000/app", ImageRef{Registry: "[::1]:5000", Repository: "app"}},
		{"[2001:db8::1]/app:1", ImageRef{Registry: "[2001:db8::1]", Repository: "app", Tag: "1"}},
		{"ghcr.io/org/app:1", ImageRef{Registry: "ghcr.io", Repository: "org/app", Tag: "1"}},
		{"quay.io/prometheus/node-exporter:v1.8.0", ImageRef{Registry: "quay.io", Repository: "prometheus/node-exporter", Tag: "v1.8.0"}},
		{"public.ecr.aws/nginx/nginx:stable", ImageRef{Registry: "public.ecr.aws", Repository: "nginx/nginx", Tag: "stable"}},
		{"registry.example.com:8443/a/b@" + testDigest, ImageRef{Registry: "registry.example.com:8443", Repository: "a/b", Digest: testDigest}},
		{"Registry.Example.com/app", ImageRef{Registry: "Registry.Example.com", Repository: "app"}},
		// Capitals make the first component a registry, as in Docker.
		{"Reg/app", ImageRef{Registry: "Reg", Repository: "app"}},
		// A repository that looks like a host further down the path is a repository.
		{"ghcr.io/a.b/c", ImageRef{Registry: "ghcr.io", Repository: "a.b/c"}},
		// Private ECR.
		{testECRHost + "/app:v1", ImageRef{Registry: testECRHost, Repository: "app", Tag: "v1", ECR: useast1}},
		{testECRHost + "/team/app", ImageRef{Registry: testECRHost, Repository: "team/app", ECR: useast1}},
		{testECRHost + "/app@" + testDigest, ImageRef{Registry: testECRHost, Repository: "app", Digest: testDigest, ECR: useast1}},
		{testECRHost + "/app:v1@" + testDigest, ImageRef{Registry: testECRHost, Repository: "app", Tag: "v1", Digest: testDigest, ECR: useast1}},
		{testECRHost + ":443/app", ImageRef{Registry: testECRHost + ":443", Repository: "app", ECR: useast1}},
		{"123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM/app", ImageRef{Registry: "123456789012.DKR.ECR.US-EAST-1.AMAZONAWS.COM", Repository: "app", ECR: useast1}},
		{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/app:1", ImageRef{Registry: "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", Repository: "app", Tag: "1",
			ECR: &ECRRegistry{Account: "123456789012", Region: "cn-north-1"}}},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com/app:1", ImageRef{Registry: "123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", Repository: "app", Tag: "1",
			ECR: &ECRRegistry{Account: "123456789012", Region: "us-gov-west-1"}}},
		{"123456789012.dkr.ecr.eusc-de-east-1.amazonaws.com/app", ImageRef{Registry: "123456789012.dkr.ecr.eusc-de-east-1.amazonaws.com", Repository: "app",
			ECR: &ECRRegistry{Account: "123456789012", Region: "eusc-de-east-1"}}},
		{"123456789012.dkr-ecr.eu-west-1.on.aws/app:1", ImageRef{Registry: "123456789012.dkr-ecr.eu-west-1.on.aws", Repository: "app", Tag: "1",
			ECR: &ECRRegistry{Account: "123456789012", Region: "eu-west-1"}}},
		{"123456789012.dkr-ecr-fips.us-east-2.on.aws/app", ImageRef{Registry: "123456789012.dkr-ecr-fips.us-east-2.on.aws", Repository: "app",
			ECR: &ECRRegistry{Account: "123456789012", Region: "us-east-2"}}},
		// Not private ECR: wrong account length, other port, pull-through
		// looking paths on other hosts.
		{"12345678901.dkr.ecr.us-east-1.amazonaws.com/app", ImageRef{Registry: "12345678901.dkr.ecr.us-east-1.amazonaws.com", Repository: "app"}},
		{testECRHost + ":5000/app", ImageRef{Registry: testECRHost + ":5000", Repository: "app"}},
		{"dkr.ecr.us-east-1.amazonaws.com/app", ImageRef{Registry: "dkr.ecr.us-east-1.amazonaws.com", Repository: "app"}},
		{"123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com/app", ImageRef{Registry: "123456789012.dkr.ecr.us-east-1.amazonaws.com.evil.com", Repository: "app"}},
		// 255 characters of name exactly.
		{"a/" + strings.Repeat("b", 253), ImageRef{Repository: "a/" + strings.Repeat("b", 253)}},
	}
	for _, tt := range tests {
		got, err := ParseImageRef(tt.in)
		if err != nil {
			t.Errorf("ParseImageRef(%q): %v", tt.in, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseImageRef(%q) (-want +got):\n%s", tt.in, diff)
		}
		if s := got.String(); s != tt.in {
			t.Errorf("ParseImageRef(%q).String() = %q, want the input back", tt.in, s)
		}
	}
}

func TestParseImageRefInvalid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in, want string
	}{
		{"", `image "": empty reference`},
		{" nginx", `image " nginx": reference contains whitespace`},
		{"nginx ", `image "nginx ": reference contains whitespace`},
		{"nginx:1 .2", `image "nginx:1 .2": reference contains whitespace`},
		{"ngi\tnx", `image "ngi\tnx": reference contains whitespace`},
		{"Foo:1", `image "Foo:1": repository must be lowercase`},
		{"NGINX", `image "NGINX": repository must be lowercase`},
		{"ghcr.io/Org/app", `image "ghcr.io/Org/app": repository must be lowercase`},
		{testECRHost + "/App:v1", `image "` + testECRHost + `/App:v1": repository must be lowercase`},
		{"repo:", `image "repo:": empty tag after ":"`},
		{":tag", `image ":tag": empty repository`},
		{"@" + testDigest, `image "@` + testDigest + `": empty repository`},
		{"ghcr.io/", `image "ghcr.io/": empty repository`},
		{"ghcr.io/:1", `image "ghcr.io/:1": empty repository`},
		{"repo@", `image "repo@": empty digest after "@"`},
		{"repo@sha256:short", `image "repo@sha256:short": invalid digest "sha256:short": want sha256: and 64 lowercase hex digits`},
		{"repo@sha256:" + strings.ToUpper(testHex64), `image "repo@sha256:` + strings.ToUpper(testHex64) + `": invalid digest "sha256:` + strings.ToUpper(testHex64) + `": want sha256: and 64 lowercase hex digits`},
		{"repo@sha256:" + testHex64 + "0", `image "repo@sha256:` + testHex64 + `0": invalid digest "sha256:` + testHex64 + `0": want sha256: and 64 lowercase hex digits`},
		{"repo@sha256:" + testHex64[:63] + "g", `image "repo@sha256:` + testHex64[:63] + `g": invalid digest "sha256:` + testHex64[:63] + `g": want sha256: and 64 lowercase hex digits`},
		{"repo@md5:" + testHex64[:32], `image "repo@md5:` + testHex64[:32] + `": invalid digest "md5:` + testHex64[:32] + `": unsupported algorithm "md5" (want sha256)`},
		{"repo@" + testHex64, `image "repo@` + testHex64 + `": invalid digest "` + testHex64 + `": want sha256:<64 hex digits>`},
		{"repo@sha512:" + testHex64, `image "repo@sha512:` + testHex64 + `": invalid digest "sha512:` + testHex64 + `": want sha512: and 128 lowercase hex digits`},
		{"repo@" + testDigest + "@" + testDigest, `image "repo@` + testDigest + "@" + testDigest + `": invalid digest "` + testDigest + "@" + testDigest + `": want sha256: and 64 lowercase hex digits`},
		{"http://ghcr.io/app", `image "http://ghcr.io/app": a reference has no scheme: drop "http://"`},
		{"https://" + testECRHost + "/app", `image "https://` + testECRHost + `/app": a reference has no scheme: drop "https://"`},
		{"docker://nginx", `image "docker://nginx": a reference has no scheme: drop "docker://"`},
		{"${IMAGE}", `image "${IMAGE}": unrendered placeholder ${IMAGE}`},
		{testECRHost + "/app:${TAG}", `image "` + testECRHost + `/app:${TAG}": unrendered placeholder ${TAG}`},
		{"<IMAGE1_NAME>", `image "<IMAGE1_NAME>": unrendered placeholder <IMAGE1_NAME>`},
		{"{{ .Image }}", `image "{{ .Image }}": reference contains whitespace`},
		{"{{.Image}}", `image "{{.Image}}": unrendered placeholder {{.Image}}`},
		{"app:{{.Tag}}", `image "app:{{.Tag}}": unrendered placeholder {{.Tag}}`},
		{"$$$IMAGE$$$", `image "$$$IMAGE$$$": unrendered placeholder $$$IMAGE$$$`},
		{"app:$TAG", `image "app:$TAG": invalid character '$'`},
		{"app:v1!", `image "app:v1!": invalid character '!'`},
		{"app:v1,app:v2", `image "app:v1,app:v2": invalid character ','`},
		{"café", `image "café": invalid character 'é'`},
		{"app:-x", `image "app:-x": invalid tag "-x": want a letter, digit or _ then up to 127 letters, digits, _ . or -`},
		{"app:.x", `image "app:.x": invalid tag ".x": want a letter, digit or _ then up to 127 letters, digits, _ . or -`},
		{"app:a" + strings.Repeat("b", 128), `image "app:a` + strings.Repeat("b", 128) + `": invalid tag "a` + strings.Repeat("b", 128) + `": want a letter, digit or _ then up to 127 letters, digits, _ . or -`},
		{"app:a:b", `image "app:a:b": invalid repository "app:a": component "app:a" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"a//b", `image "a//b": invalid repository "a//b": empty path component`},
		{"a/b/", `image "a/b/": invalid repository "a/b/": empty path component`},
		{"ghcr.io/-app", `image "ghcr.io/-app": invalid repository "-app": component "-app" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"app-", `image "app-": invalid repository "app-": component "app-" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"a..b", `image "a..b": invalid repository "a..b": component "a..b" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"a___b", `image "a___b": invalid repository "a___b": component "a___b" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"a._b", `image "a._b": invalid repository "a._b": component "a._b" must be lowercase letters and digits, separated by one . or _, two _, or dashes`},
		{"/app", `image "/app": invalid repository "/app": empty path component`},
		{"-reg.io/app", `image "-reg.io/app": invalid registry "-reg.io"`},
		{"reg..io/app", `image "reg..io/app": invalid registry "reg..io"`},
		{"reg_x.io/app", `image "reg_x.io/app": invalid registry "reg_x.io"`},
		{"reg.io:/app", `image "reg.io:/app": invalid registry "reg.io:": empty port`},
		{"reg.io:http/app", `image "reg.io:http/app": invalid registry "reg.io:http": port "http" is not a number`},
		{"reg.io:1:2/app", `image "reg.io:1:2/app": invalid registry "reg.io:1:2": port "1:2" is not a number`},
		{"[::1/app", `image "[::1/app": invalid registry "[::1": unclosed [`},
		{"[zz::1]/app", `image "[zz::1]/app": invalid registry "[zz::1]": bad IPv6 address`},
		{"[127.0.0.1]/app", `image "[127.0.0.1]/app": invalid registry "[127.0.0.1]": bad IPv6 address`},
		{"[::1]x/app", `image "[::1]x/app": invalid registry "[::1]x"`},
		{testECRHost, `image "` + testECRHost + `": registry ` + testECRHost + ` has no repository`},
		{testECRHost + ":v1", `image "` + testECRHost + `:v1": registry ` + testECRHost + ` has no repository`},
		{"a/" + strings.Repeat("b", 254), `image "a/` + strings.Repeat("b", 254) + `": name is 256 characters, longer than 255`},
	}
	for _, tt := range tests {
		got, err := ParseImageRef(tt.in)
		if err == nil {
			t.Errorf("ParseImageRef(%q) = %+v, want error %q", tt.in, got, tt.want)
			continue
		}
		if err.Error() != tt.want {
			t.Errorf("ParseImageRef(%q) error:\n got %s\nwant %s", tt.in, err, tt.want)
		}
	}
}

func TestImageRefWithDigest(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{testECRHost + "/app:v1", testECRHost + "/app@" + testDigest2},
		{testECRHost + "/app", testECRHost + "/app@" + testDigest2},
		{testECRHost + "/app:v1@" + testDigest, testECRHost + "/app@" + testDigest2},
		{"nginx:1.25", "nginx@" + testDigest2},
		{"localhost:5000/a/b:c", "localhost:5000/a/b@" + testDigest2},
	}
	for _, tt := range tests {
		r, err := ParseImageRef(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		got := r.WithDigest(testDigest2)
		if got.String() != tt.want {
			t.Errorf("%s.WithDigest() = %s, want %s", tt.in, got, tt.want)
		}
		back, err := ParseImageRef(got.String())
		if err != nil {
			t.Errorf("pinned %s does not parse: %v", got, err)
		}
		if diff := cmp.Diff(got, back); diff != "" {
			t.Errorf("pinned %s does not round-trip (-want +got):\n%s", got, diff)
		}
		if r.Tag != "" && r.String() != tt.in {
			t.Errorf("WithDigest changed its receiver: %s", r)
		}
	}
}

func ExampleParseImageRef() {
	r, err := ParseImageRef("123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app:v1.4.2")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(r.ECR.Account, r.ECR.Region, r.Repository, r.Tag)
	fmt.Println(r.WithDigest("sha256:" + strings.Repeat("ab", 32)))

	_, err = ParseImageRef("Foo:1")
	fmt.Println(err)
	// Output:
	// 123456789012 eu-west-1 team/app v1.4.2
	// 123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app@sha256:abababababababababababababababababababababababababababababababab
	// image "Foo:1": repository must be lowercase
}
