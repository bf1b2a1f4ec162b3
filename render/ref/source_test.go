package ref

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestParseSourceValid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in   string
		want Source
	}{
		{"-", Source{Kind: SourceStdin}},
		{"taskdef.json", Source{Kind: SourceFile, Path: "taskdef.json"}},
		{"./dir/taskdef.json", Source{Kind: SourceFile, Path: "./dir/taskdef.json"}},
		{"/abs/taskdef.json", Source{Kind: SourceFile, Path: "/abs/taskdef.json"}},
		{"s3.json", Source{Kind: SourceFile, Path: "s3.json"}},
		{"--", Source{Kind: SourceFile, Path: "--"}},
		{"s3://bucket/key", Source{Kind: SourceS3, Bucket: "bucket", Key: "key"}},
		{"s3://my.bucket-1/a/b/taskdef.json", Source{Kind: SourceS3, Bucket: "my.bucket-1", Key: "a/b/taskdef.json"}},
		{"s3://abc/k", Source{Kind: SourceS3, Bucket: "abc", Key: "k"}},
		{"s3://" + strings.Repeat("a", 63) + "/k", Source{Kind: SourceS3, Bucket: strings.Repeat("a", 63), Key: "k"}},
		{"s3://b12/with space/ümlaut+plus%20.json", Source{Kind: SourceS3, Bucket: "b12", Key: "with space/ümlaut+plus%20.json"}},
		{"s3://bucket//double", Source{Kind: SourceS3, Bucket: "bucket", Key: "/double"}},
		{"s3://bucket/key?versionId=3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "3HL4kqtJlcpXroDTDmJ+rmSpXd3dIbrHY"}},
		{"s3://bucket/key?versionId=a%2Fb", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "a/b"}},
		{"s3://bucket/key?versionId=null", Source{Kind: SourceS3, Bucket: "bucket", Key: "key", VersionID: "null"}},
		{"s3://bucket--usw2-az1--x-s3/key", Source{Kind: SourceS3, Bucket: "bucket--usw2-az1--x-s3", Key: "key"}},
	} {
		got, err := ParseSource(tc.in)
		if err != nil {
			t.Errorf("ParseSource(%q): %v", tc.in, err)
			continue
		}
		if diff := cmp.Diff(tc.want, got); diff != "" {
			t.Errorf("ParseSource(%q) (-want +got):\n%s", tc.in, diff)
		}
	}
}

func TestParseSourceInvalid(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"", "empty template source: give a file, - or s3://BUCKET/KEY"},
		{"s3://", `source "s3://": want s3://BUCKET/KEY`},
		{"s3://bucket", `source "s3://bucket": want s3://BUCKET/KEY`},
		{"s3:///key", `source "s3:///key": want s3://BUCKET/KEY`},
		{"s3://bucket/", `source "s3://bucket/": no object key: want s3://BUCKET/KEY`},
		{"s3://bucket/?versionId=v", `source "s3://bucket/?versionId=v": no object key: want s3://BUCKET/KEY`},
		{"s3://bucket/dir/", `source "s3://bucket/dir/": key ends with /, which names a folder, not a template`},
		{"S3://bucket/key", `source "S3://bucket/key": write the scheme as s3://`},
		{"s3://ab/k", `source "s3://ab/k": bucket name "ab": S3 bucket names are 3 to 63 characters`},
		{"s3://" + strings.Repeat("a", 64) + "/k", `source "s3://` + strings.Repeat("a", 64) + `/k": bucket name "` + strings.Repeat("a", 64) + `": S3 bucket names are 3 to 63 characters`},
		{"s3://My-Bucket/k", `source "s3://My-Bucket/k": bucket name "My-Bucket": only lowercase letters, digits, dots and hyphens are allowed`},
		{"s3://my_bucket/k", `source "s3://my_bucket/k": bucket name "my_bucket": only lowercase letters, digits, dots and hyphens are allowed`},
		{"s3://-bucket/k", `source "s3://-bucket/k": bucket name "-bucket" must begin and end with a letter or digit`},
		{"s3://bucket./k", `source "s3://bucket./k": bucket name "bucket." must begin and end with a letter or digit`},
		{"s3://my..bucket/k", `source "s3://my..bucket/k": bucket name "my..bucket" has two adjacent dots`},
		{"s3://192.168.5.4/k", `source "s3://192.168.5.4/k": bucket name "192.168.5.4" is an IP address`},
		{"s3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/k", `source "s3://arn:aws:s3:us-east-1:123456789012:accesspoint/ap/k": access point and other ARNs are not supported: give the bucket name`},
		{"s3://bucket/key?version=v", `source "s3://bucket/key?version=v": unknown query parameter "version": only versionId is allowed`},
		{"s3://bucket/key?versionId=v&x=1", `source "s3://bucket/key?versionId=v&x=1": unknown query parameter "x": only versionId is allowed`},
		{"s3://bucket/key?versionId=a&versionId=b", `source "s3://bucket/key?versionId=a&versionId=b": versionId given twice`},
		{"s3://bucket/key?versionId=", `source "s3://bucket/key?versionId=": empty versionId: the bucket is probably not versioned (Terraform's aws_s3_object.version_id is empty then); enable it with aws_s3_bucket_versioning (and depends_on it in the aws_s3_object), or drop ?versionId=`},
		{"s3://bucket/key?versionId", `source "s3://bucket/key?versionId": empty versionId: the bucket is probably not versioned (Terraform's aws_s3_object.version_id is empty then); enable it with aws_s3_bucket_versioning (and depends_on it in the aws_s3_object), or drop ?versionId=`},
		{"s3://bucket/key?versionId=%zz", `source "s3://bucket/key?versionId=%zz": malformed versionId`},
		{"s3://bucket/key?", `source "s3://bucket/key?": unknown query parameter "": only versionId is allowed`},
		{"s3://bucket/" + strings.Repeat("k", 1025), `source "s3://bucket/` + strings.Repeat("k", 1025) + `": key is 1025 bytes; S3 allows 1024`},
	} {
		_, err := ParseSource(tc.in)
		if err == nil {
			t.Errorf("ParseSource(%q): no error; want %q", tc.in, tc.want)
			continue
		}
		if err.Error() != tc.want {
			t.Errorf("ParseSource(%q):\n got %q\nwant %q", tc.in, err, tc.want)
		}
	}
}

func TestSourceString(t *testing.T) {
	t.Parallel()
	for _, in := range []string{"-", "dir/taskdef.json", "s3://b12/k/x.json", "s3://b12/k?versionId=v+1/2"} {
		src, err := ParseSource(in)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		if in == "-" {
			want = "stdin"
		}
		if got := src.String(); got != want {
			t.Errorf("ParseSource(%q).String() = %q, want %q", in, got, want)
		}
	}
}

func ExampleParseSource() {
	for _, s := range []string{"s3://infra-templates/web/taskdef.json?versionId=3HL4kqtJ", "-", "taskdef.json"} {
		src, err := ParseSource(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Printf("%d %s | %s | %s | %s\n", src.Kind, src.Bucket, src.Key, src.VersionID, src)
	}
	_, err := ParseSource("s3://Infra/taskdef.json")
	fmt.Println(err)
	// Output:
	// 2 infra-templates | web/taskdef.json | 3HL4kqtJ | s3://infra-templates/web/taskdef.json?versionId=3HL4kqtJ
	// 1  |  |  | stdin
	// 0  |  |  | taskdef.json
	// source "s3://Infra/taskdef.json": bucket name "Infra": only lowercase letters, digits, dots and hyphens are allowed
}
