// Command bench-manifest-gen is the helper of .ci/bench-manifest: it seeds a
// moto_server with the benchmark's world (10 task definition templates in
// S3, 20 ECR repositories), writes manifests of N services, and runs a
// reverse proxy in front of moto that counts the S3 and ECR calls the
// benchmarked run makes. It is a benchmark tool, not part of ecsrender.
//
//	bench-manifest-gen seed -endpoint URL -dir DIR -sizes 10,100,1000 [-env N]
//	bench-manifest-gen proxy -endpoint URL -listen 127.0.0.1:PORT
//
// -env N gives each template's app container N more environment entries:
// 480 make a template of about 60 KiB, near ECS's 64 KiB limit, for the
// peak-memory measurement. seed also creates the execution role the
// templates name, so that the run's verify finds it.
//
// The proxy answers GET /__counts with the calls since the last such GET,
// one "KIND OPERATION=N" line each, and resets them.
package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"maps"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/ecr"
	"github.com/aws/aws-sdk-go-v2/service/s3"
)

const (
	templates    = 10
	repositories = 20
	containers   = 5
	tags         = 5 // per repository
	bucket       = "bench-manifest"
	registry     = "123456789012.dkr.ecr.us-east-1.amazonaws.com/"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		log.Fatal("usage: bench-manifest-gen seed|proxy FLAGS")
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	endpoint := fs.String("endpoint", "", "moto's URL")
	dir := fs.String("dir", ".", "where manifests are written")
	sizes := fs.String("sizes", "10,100,1000", "the manifests' numbers of services")
	listen := fs.String("listen", "127.0.0.1:0", "the proxy's address")
	env := fs.Int("env", 0, "environment entries added to each template's app container")
	delay := fs.Duration("delay", 0, "how long the proxy holds each call before passing it on: a network's round trip")
	fs.Parse(os.Args[2:])
	switch os.Args[1] {
	case "seed":
		if err := seed(context.Background(), *endpoint, *dir, *sizes, *env); err != nil {
			log.Fatal(err)
		}
	case "proxy":
		if err := proxy(*endpoint, *listen, *delay); err != nil {
			log.Fatal(err)
		}
	default:
		log.Fatalf("unknown command %q", os.Args[1])
	}
}

func repo(i int) string { return fmt.Sprintf("bench-repo-%02d", i%repositories) }

// manifestOf is a moto-acceptable image manifest, unique to its repository
// and tag, with its digest.
func manifestOf(repo, tag string) (string, string) {
	cfg := sha256.Sum256([]byte(repo + ":" + tag))
	m := `{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":1,"digest":"sha256:` + hex.EncodeToString(cfg[:]) + `"},"layers":[]}`
	d := sha256.Sum256([]byte(m))
	return m, "sha256:" + hex.EncodeToString(d[:])
}

// template t has five containers: app (its image set by the manifest,
// port 80, with env more environment entries, every tenth a template
// action) and four sidecars whose ECR images the template names.
func template(t, env int) string {
	var b strings.Builder
	b.WriteString(`{"family": "{{ var \"FAMILY\" }}", "requiresCompatibilities": ["FARGATE"], "networkMode": "awsvpc",
  "executionRoleArn": "ecsTaskExecutionRole", "cpu": "1024", "memory": "2048",
  "containerDefinitions": [
    {"name": "app", "image": "placeholder", "essential": true, "portMappings": [{"containerPort": 80}],
     "environment": [{"name": "SERVICE", "value": "{{ var \"FAMILY\" }}"}`)
	for e := range env {
		value := fmt.Sprintf("value-%03d-%s", e, strings.Repeat("x", 80))
		if e%10 == 0 {
			value = fmt.Sprintf(`{{ var \"FAMILY\" }}-%03d-%s`, e, strings.Repeat("y", 70))
		}
		fmt.Fprintf(&b, ",\n       {\"name\": \"SETTING_%03d\", \"value\": \"%s\"}", e, value)
	}
	b.WriteString("]}")
	for k := 1; k < containers; k++ {
		fmt.Fprintf(&b, ",\n    {\"name\": \"side%d\", \"image\": \"%s%s:v%d\", \"essential\": false}", k, registry, repo(t*2+k), k%tags)
	}
	b.WriteString("\n  ]\n}\n")
	return b.String()
}

func seed(ctx context.Context, endpoint, dir, sizes string, env int) error {
	cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion("us-east-1"))
	if err != nil {
		return err
	}
	s3c := s3.NewFromConfig(cfg, func(o *s3.Options) { o.BaseEndpoint = aws.String(endpoint); o.UsePathStyle = true })
	ecrc := ecr.NewFromConfig(cfg, func(o *ecr.Options) { o.BaseEndpoint = aws.String(endpoint) })
	if _, err := s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(bucket)}); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	for t := range templates {
		key := fmt.Sprintf("t%d/taskdef.json", t)
		if _, err := s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String(bucket), Key: &key, Body: strings.NewReader(template(t, env))}); err != nil {
			return fmt.Errorf("put %s: %w", key, err)
		}
	}
	if err := createRole(ctx, endpoint, "ecsTaskExecutionRole"); err != nil {
		return err
	}
	for r := range repositories {
		name := repo(r)
		if _, err := ecrc.CreateRepository(ctx, &ecr.CreateRepositoryInput{RepositoryName: &name}); err != nil &&
			// A retried create whose first attempt went through.
			!strings.Contains(err.Error(), "RepositoryAlreadyExistsException") {
			return fmt.Errorf("create repository %s: %w", name, err)
		}
		for tag := range tags {
			tg := fmt.Sprintf("v%d", tag)
			m, d := manifestOf(name, tg)
			if _, err := ecrc.PutImage(ctx, &ecr.PutImageInput{RepositoryName: &name, ImageTag: &tg, ImageManifest: &m,
				ImageManifestMediaType: aws.String("application/vnd.docker.distribution.manifest.v2+json"), ImageDigest: &d}); err != nil &&
				// A retried push whose first attempt went through.
				!strings.Contains(err.Error(), "ImageAlreadyExistsException") {
				return fmt.Errorf("push %s:%s: %w", name, tg, err)
			}
		}
	}
	for _, f := range strings.Split(sizes, ",") {
		n, err := strconv.Atoi(f)
		if err != nil {
			return fmt.Errorf("size %q: %w", f, err)
		}
		var b strings.Builder
		b.WriteString("services:\n")
		for s := range n {
			// 5 containers each: app from the manifest, 4 sidecars from
			// the template; services spread over every repository.
			fmt.Fprintf(&b, "  - {name: svc%04d, template: s3://%s/t%d/taskdef.json, vars: {FAMILY: svc%04d}, images: {app: %s%s:v%d}}\n",
				s, bucket, s%templates, s, registry, repo(s), (s/repositories)%tags)
		}
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("manifest-%d.yaml", n)), []byte(b.String()), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// createRole creates an IAM role that ECS tasks may assume. It is a plain
// form POST, which moto takes unsigned, so that the helper needs no IAM
// client: moto tells the service from the credential scope.
func createRole(ctx context.Context, endpoint, name string) error {
	form := url.Values{
		"Action":                   {"CreateRole"},
		"Version":                  {"2010-05-08"},
		"RoleName":                 {name},
		"AssumeRolePolicyDocument": {`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ecs-tasks.amazonaws.com"},"Action":"sts:AssumeRole"}]}`},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, endpoint+"/", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/iam/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("create role %s: %w", name, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("create role %s: %s", name, resp.Status)
	}
	return nil
}

// service is the AWS service a signed request is for, from its
// Authorization header's credential scope (.../REGION/SERVICE/aws4_request).
func service(r *http.Request) string {
	_, cred, ok := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	if !ok {
		return "unsigned"
	}
	cred, _, _ = strings.Cut(cred, ",")
	parts := strings.Split(cred, "/")
	if len(parts) < 2 {
		return "unsigned"
	}
	return parts[len(parts)-2]
}

// proxy counts calls by kind: "s3 GET", "ecr OPERATION", and for other
// services (verify's) "SERVICE METHOD". With delay it holds each call that
// long first, as a network between a build and AWS would: calls that
// overlap then wait together, where a local moto answers one at a time.
func proxy(endpoint, listen string, delay time.Duration) error {
	u, err := url.Parse(endpoint)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(u)
	var mu sync.Mutex
	counts := map[string]int{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/__counts" {
			mu.Lock()
			for _, k := range slices.Sorted(maps.Keys(counts)) {
				fmt.Fprintf(w, "%s=%d\n", k, counts[k])
			}
			clear(counts)
			mu.Unlock()
			return
		}
		key := service(r) + " " + r.Method
		if t := r.Header.Get("X-Amz-Target"); t != "" {
			_, op, _ := strings.Cut(t, ".")
			key = service(r) + " " + op
		}
		mu.Lock()
		counts[key]++
		mu.Unlock()
		if delay > 0 {
			time.Sleep(delay)
		}
		rp.ServeHTTP(w, r)
	})
	srv := &http.Server{Addr: listen, Handler: h}
	return srv.ListenAndServe()
}
