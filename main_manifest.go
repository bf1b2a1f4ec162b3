package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/urfave/cli/v2"

	"github.com/ecsrender/ecsrender/artifacts"
	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/ref"
)

func manifestFlag() cli.Flag {
	return &cli.StringFlag{Name: "manifest", Aliases: []string{"m"}, EnvVars: env("MANIFEST"), Usage: "render the services of a manifest `FILE` (see README \"Many services\") instead of one --template"}
}

func onlyFlag() cli.Flag {
	// KeepSpace: urfave/cli would trim --only ' ' to an empty value, which
	// reads as no --only at all and renders every service.
	return &cli.StringSliceFlag{Name: "only", EnvVars: env("ONLY"), KeepSpace: true, Usage: "with --manifest, render only these services: `NAME[,NAME...]` (repeatable)"}
}

// perServiceFlags are the flags a manifest says per service; given beside
// --manifest they would be ambiguous (which service?), so they are refused.
var perServiceFlags = []string{"template", "appspec", "no-appspec", "container", "placeholder",
	"platform-version", "subnet", "security-group", "assign-public-ip", "capacity-provider", "hook",
	"cluster", "service"}

// doManifest is render and check with --manifest: the manifest's services
// rendered in one run, then every service's artifacts written in one
// all-or-nothing write, OUT/NAME/ each (by render only).
func doManifest(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), write bool) error {
	file := c.String("manifest")
	if file == "" {
		return usageError{fmt.Errorf("--only needs --manifest FILE")}
	}
	for _, name := range perServiceFlags {
		if flagGiven(c, name) {
			return usageError{fmt.Errorf("--manifest and --%s: each service's %s goes in the manifest", name, name)}
		}
	}
	o, err := manifestOptions(c, lookupEnv)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout")+c.Duration("wait-for-image"))
	defer cancel()

	local := render.LocalLoader{Stdin: stdin}
	raw, err := local.Load(ctx, ref.Source{Kind: ref.SourceFile, Path: file})
	if err != nil {
		// Load's own hint offers stdin and S3, which a manifest cannot be.
		var nr *render.NotRegularFileError
		if errors.As(err, &nr) {
			return &render.InputError{Err: fmt.Errorf("--manifest %v: %s, not a regular file; give the manifest as a file path (not - or s3://)", nr.Src, nr.What)}
		}
		return err
	}
	m, err := render.ParseManifest(file, raw)
	if err != nil {
		return err
	}
	deps, err := runDeps(ctx, c, stdin, stderr, o.Verify)
	if err != nil {
		return err
	}
	// Each service's artifacts are encoded as soon as it renders, and only
	// the bytes are kept until the all-or-nothing write: a document tree
	// costs several times its encoding.
	var mu sync.Mutex
	encoded := map[string][]artifacts.File{}
	o.Finish = func(service string, r *render.Result) error {
		fs, err := artifacts.Encode(r)
		if err != nil || !write {
			return err
		}
		for i := range fs {
			fs[i].Name = path.Join(service, fs[i].Name)
		}
		mu.Lock()
		encoded[service] = fs
		mu.Unlock()
		return nil
	}
	results, err := render.RenderManifest(ctx, m, o, deps)
	if err != nil {
		return renderFailed(c, flagError(err))
	}
	var files []artifacts.File
	for _, s := range results {
		for _, n := range s.Result.Notices {
			printLine(stderr, "note: ", fmt.Sprintf("service %q: %s", s.Name, n))
		}
		if len(s.Result.Changes) > 0 {
			printLine(stderr, "changes: ", fmt.Sprintf("service %q: what this deploy changes in the task definition its ECS service runs now:", s.Name))
			for _, ch := range s.Result.Changes {
				printLine(stderr, "change: ", fmt.Sprintf("service %q: %s", s.Name, ch))
			}
		}
		for _, w := range s.Result.Warnings {
			printLine(stderr, "warning: ", fmt.Sprintf("service %q: %s", s.Name, w.String()))
		}
		files = append(files, encoded[s.Name]...)
	}
	if !write {
		if len(results) == 1 {
			fmt.Fprintf(stdout, "ok: service %q renders and passes every check\n", results[0].Name)
		} else {
			fmt.Fprintf(stdout, "ok: %d services render and pass every check\n", len(results))
		}
		return nil
	}
	return renderFailed(c, writeArtifacts(ctx, c.String("out"), files, stdout))
}

// flagGiven reports whether flag name has a value: a variable set empty
// (CodeBuild defines them so) is as good as not set.
func flagGiven(c *cli.Context, name string) bool {
	if !c.IsSet(name) {
		return false
	}
	switch v := c.Value(name).(type) {
	case string:
		return v != ""
	case bool:
		return v
	case []string:
		return slices.ContainsFunc(v, func(s string) bool { return s != "" })
	case *cli.StringSlice:
		return slices.ContainsFunc(v.Value(), func(s string) bool { return s != "" })
	case cli.StringSlice: // what urfave/cli gives for a slice set from a variable
		return slices.ContainsFunc(v.Value(), func(s string) bool { return s != "" })
	}
	return true
}

// manifestOptions reads what the command line adds to every service of a
// manifest: --image, --var, --pin and --only.
func manifestOptions(c *cli.Context, lookupEnv func(string) (string, bool)) (render.ManifestOptions, error) {
	vars, err := parsePairs("--var", "KEY=VALUE", c.StringSlice("var"), true)
	if err != nil {
		return render.ManifestOptions{}, err
	}
	imagePairs, err := parsePairs("--image", "NAME=REF", c.StringSlice("image"), false)
	if err != nil {
		return render.ManifestOptions{}, err
	}
	o := render.ManifestOptions{
		Variables: make(map[string]string, len(vars)),
		LookupEnv: lookupEnv,
		Pin:       c.Bool("pin"),
		Verify:    c.Bool("verify") && !c.Bool("offline"),
	}
	for _, p := range vars {
		o.Variables[p.name] = p.value
	}
	images := make([]render.Image, len(imagePairs))
	for _, i := range byName(imagePairs) {
		r, err := ref.ParseImageRef(imagePairs[i].value)
		if err != nil {
			return render.ManifestOptions{}, usageError{fmt.Errorf("--image %s: %w", imagePairs[i].name, err)}
		}
		images[i] = render.Image{Container: imagePairs[i].name, Ref: r}
	}
	o.Images = images
	// Slice flags split on no comma here (an image may hold one), so the
	// list form NAME,NAME is split by hand: a service name holds none.
	// CodeBuild defines a project's variables even when empty, so an empty
	// ECSRENDER_ONLY means no --only; urfave/cli reads it from the process
	// environment, as here. An empty or blank name given any other way is
	// a mistake that would otherwise render every service.
	v, ok := os.LookupEnv("ECSRENDER_ONLY")
	emptyEnv := ok && v == ""
	for _, v := range c.StringSlice("only") {
		if v == "" && emptyEnv {
			continue
		}
		for _, name := range strings.Split(v, ",") {
			if name = strings.TrimSpace(name); name == "" {
				return render.ManifestOptions{}, usageError{fmt.Errorf("--only %q: an empty service name; want NAME[,NAME...]", v)}
			}
			o.Only = append(o.Only, name)
		}
	}
	return o, nil
}
