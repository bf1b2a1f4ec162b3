// Command online is the sequential floor that .ci/bench compares an online
// ecsrender render with: the least a Go program using the same SDK must do
// to perform the same calls one after another. It loads the default AWS
// configuration, reads the template with one S3 GetObject, looks up each
// image's tag with one ECR DescribeImages per repository, pins the images
// by plain text substitution, round-trips the JSON as the offline floor
// does, and writes taskdef.json and imagedefinitions.json. It checks
// nothing and overlaps nothing, so ecsrender's target is to be at or below
// it.
//
//	go build -C .ci/bench-floor -o /tmp/online ./online
//	/tmp/online s3://BUCKET/KEY OUTDIR 'FROM=REPO:TAG' ...
//
// FROM is the image text in the template to replace and REPO:TAG the ECR
// image that replaces it, pinned as REGISTRY/REPO@DIGEST. AWS_ENDPOINT_URL
// points it at moto, as it does ecsrender.
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	ecrtypes "github.com/aws/aws-sdk-go-v2/service/ecr/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: online s3://BUCKET/KEY OUTDIR [FROM=REPO:TAG ...]")
		os.Exit(2)
	}
	if err := run(context.Background(), os.Args[1], os.Args[2], os.Args[3:]); err != nil {
		fmt.Fprintln(os.Stderr, "online floor:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, src, outDir string, images []string) error {
	u, err := url.Parse(src)
	if err != nil || u.Scheme != "s3" {
		return fmt.Errorf("template %q: want s3://BUCKET/KEY", src)
	}
	cfg, err := config.LoadDefaultConfig(ctx)
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.UsePathStyle = true })
	obj, err := s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(u.Host), Key: aws.String(strings.TrimPrefix(u.Path, "/"))})
	if err != nil {
		return err
	}
	body, err := io.ReadAll(obj.Body)
	obj.Body.Close()
	if err != nil {
		return err
	}

	ecrc := ecr.NewFromConfig(cfg)
	var defs []map[string]string
	for _, im := range images {
		from, repoTag, ok := strings.Cut(im, "=")
		repo, tag, ok2 := strings.Cut(repoTag, ":")
		if !ok || !ok2 {
			return fmt.Errorf("image %q: want FROM=REPO:TAG", im)
		}
		out, err := ecrc.DescribeImages(ctx, &ecr.DescribeImagesInput{
			RepositoryName: aws.String(repo),
			ImageIds:       []ecrtypes.ImageIdentifier{{ImageTag: aws.String(tag)}},
		})
		if err != nil {
			return err
		}
		if len(out.ImageDetails) == 0 {
			return fmt.Errorf("image %s: not found", repoTag)
		}
		registry, _, _ := strings.Cut(from, "/")
		pinned := registry + "/" + repo + "@" + aws.ToString(out.ImageDetails[0].ImageDigest)
		body = bytes.ReplaceAll(body, []byte(`"`+from+`"`), []byte(`"`+pinned+`"`))
		defs = append(defs, map[string]string{"imageUri": pinned})
	}
	if len(images) == 0 {
		return errors.New("no images")
	}

	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		return err
	}
	if err := write(filepath.Join(outDir, "taskdef.json"), v); err != nil {
		return err
	}
	return write(filepath.Join(outDir, "imagedefinitions.json"), defs)
}

func write(path string, v any) error {
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		return err
	}
	return os.WriteFile(path, out.Bytes(), 0o644)
}
