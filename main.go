// Command ecsrender renders an Amazon ECS task definition template into the
// artifacts of a CodePipeline deploy: taskdef.json, appspec.yaml,
// imageDetail.json and imagedefinitions.json. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/urfave/cli/v2"

	"github.com/ecsrender/ecsrender/artifacts"
	"github.com/ecsrender/ecsrender/render"
	"github.com/ecsrender/ecsrender/render/appspec"
	"github.com/ecsrender/ecsrender/render/ref"
	"github.com/ecsrender/ecsrender/render/remote"
)

// version and commit are stamped by .ci/release with
// -ldflags "-X main.version=v1.2.3 -X main.commit=SHA", because a
// reproducible release is built with -buildvcs=false and so carries no VCS
// stamp of its own. Unstamped, the build info fills them in: the module
// version for go install, vcs.revision for a build in a git checkout.
var (
	version = ""
	commit  = ""
)

// Exit statuses.
const (
	exitOK    = 0
	exitOther = 1 // AWS, network, file system
	exitInput = 2 // flags, template, validation
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args, os.Stdin, os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}

// usageError is a command line that could not be parsed.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }

// run is the whole CLI, with its world passed in so tests can drive it.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	app := newApp(stdin, stdout, stderr, lookupEnv)
	err := app.RunContext(ctx, args)
	if err == nil {
		return exitOK
	}
	for _, line := range errorLines(err) {
		printLine(stderr, "error: ", line)
	}
	var ue usageError
	if errors.As(err, &ue) || render.IsInputError(err) {
		return exitInput
	}
	return exitOther
}

func newApp(stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *cli.App {
	onUsageError := func(_ *cli.Context, err error, _ bool) error { return usageError{err} }
	return &cli.App{
		Name:  "ecsrender",
		Usage: "render an ECS task definition template into CodePipeline deploy artifacts",
		Commands: []*cli.Command{
			{
				Name:         "render",
				Usage:        "render the template, resolve images, check, and write the artifacts",
				Flags:        append(renderFlags(), outFlag()),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return doRender(c, stdin, stdout, stderr, lookupEnv, true)
				},
			},
			{
				Name:         "check",
				Usage:        "do everything render does but write nothing",
				Flags:        renderFlags(),
				OnUsageError: onUsageError,
				Action: func(c *cli.Context) error {
					return doRender(c, stdin, stdout, stderr, lookupEnv, false)
				},
			},
			{
				Name:  "version",
				Usage: "print the version, the commit and the Go version",
				Action: func(c *cli.Context) error {
					if c.NArg() > 0 {
						return usageError{fmt.Errorf("unexpected argument %q; version takes none", c.Args().First())}
					}
					fmt.Fprintln(stdout, versionString())
					return nil
				},
			},
		},
		Reader:                    stdin,
		Writer:                    stdout,
		ErrWriter:                 stderr,
		OnUsageError:              onUsageError,
		ExitErrHandler:            func(*cli.Context, error) {},
		DisableSliceFlagSeparator: true, // an image or var value may hold a comma
		Suggest:                   true,
		HideHelpCommand:           true,
		// Without a known command urfave/cli runs the app's own action.
		Action: func(c *cli.Context) error {
			if c.NArg() > 0 {
				return usageError{fmt.Errorf("unknown command %q; want render, check or version", c.Args().First())}
			}
			cli.ShowAppHelp(c)
			return usageError{errors.New("no command given; want render, check or version")}
		},
	}
}

func env(name string) []string { return []string{"ECSRENDER_" + name} }

func outFlag() cli.Flag {
	return &cli.StringFlag{Name: "out", Aliases: []string{"o"}, Value: ".", EnvVars: env("OUT"), Usage: "write the artifacts into `DIR` (created if missing)"}
}

func renderFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "template", Aliases: []string{"t"}, EnvVars: env("TEMPLATE"), Usage: "the task definition template: s3://BUCKET/KEY[?versionId=V], a file, or - for stdin"},
		&cli.StringSliceFlag{Name: "image", Aliases: []string{"i"}, EnvVars: env("IMAGE"), Usage: "set the image of container NAME (repeatable): `NAME=REF`"},
		&cli.StringFlag{Name: "appspec", EnvVars: env("APPSPEC"), Usage: "an AppSpec template `SRC` instead of building one from flags"},
		&cli.BoolFlag{Name: "no-appspec", EnvVars: env("NO_APPSPEC"), Usage: "write no appspec.yaml (rolling deploys)"},
		&cli.StringFlag{Name: "container", EnvVars: env("CONTAINER"), Usage: "the load-balanced container and port, `NAME:PORT` (default: the only container that maps a port)"},
		&cli.StringSliceFlag{Name: "var", EnvVars: env("VAR"), Usage: "a template variable, read with {{ var \"KEY\" }} (repeatable): `KEY=VALUE`"},
		&cli.StringSliceFlag{Name: "placeholder", EnvVars: env("PLACEHOLDER"), Usage: "write \"<TOKEN>\" as container NAME's image for CodeDeployToECS (repeatable): `NAME=TOKEN`"},
		&cli.BoolFlag{Name: "offline", EnvVars: env("OFFLINE"), Usage: "make no network call: local templates, images used exactly as given"},
		&cli.BoolFlag{Name: "pin", Value: true, EnvVars: env("PIN"), Usage: "pin ECR images to their digest (--pin=false keeps tags, still checked to exist)"},
		&cli.DurationFlag{Name: "wait-for-image", EnvVars: env("WAIT_FOR_IMAGE"), Usage: "poll up to `DURATION` for a missing ECR tag to appear"},
		&cli.StringFlag{Name: "region", EnvVars: env("REGION"), Usage: "the AWS `REGION` (default: the SDK's, e.g. AWS_REGION)"},
		&cli.DurationFlag{Name: "timeout", Value: 5 * time.Minute, EnvVars: env("TIMEOUT"), Usage: "give up on the whole run after `DURATION` (plus --wait-for-image)"},
		&cli.StringFlag{Name: "platform-version", EnvVars: env("PLATFORM_VERSION"), Usage: "AppSpec PlatformVersion, e.g. LATEST or 1.4.0"},
		&cli.StringSliceFlag{Name: "subnet", EnvVars: env("SUBNET"), Usage: "AppSpec awsvpc subnet `ID` (repeatable)"},
		&cli.StringSliceFlag{Name: "security-group", EnvVars: env("SECURITY_GROUP"), Usage: "AppSpec awsvpc security group `ID` (repeatable)"},
		&cli.StringFlag{Name: "assign-public-ip", EnvVars: env("ASSIGN_PUBLIC_IP"), Usage: "AppSpec AssignPublicIp: ENABLED or DISABLED"},
		&cli.StringSliceFlag{Name: "capacity-provider", EnvVars: env("CAPACITY_PROVIDER"), Usage: "AppSpec capacity provider strategy item (repeatable): `NAME:WEIGHT[:BASE]`"},
		&cli.StringSliceFlag{Name: "hook", EnvVars: env("HOOK"), Usage: "AppSpec lifecycle hook (repeatable): `HOOK=FUNCTION`, e.g. AfterAllowTestTraffic=smoke-test"},
		&cli.BoolFlag{Name: "verify", Value: true, EnvVars: env("VERIFY"), Usage: "look up the roles, secrets, parameters, log groups and image platforms the task definition points at (--verify=false skips; --offline never looks)"},
		&cli.StringFlag{Name: "cluster", EnvVars: env("CLUSTER"), Usage: "with --service: the ECS cluster `NAME` of the service the deploy goes to, to check the deploy against it and print what it changes"},
		&cli.StringFlag{Name: "service", EnvVars: env("SERVICE"), Usage: "with --cluster: the ECS service `NAME` the deploy goes to"},
		manifestFlag(), onlyFlag(),
	}
}

// doRender is the render and check commands: flags into options, one
// render, then the artifacts (written only by render).
func doRender(c *cli.Context, stdin io.Reader, stdout, stderr io.Writer, lookupEnv func(string) (string, bool), write bool) error {
	if c.NArg() > 0 {
		return usageError{fmt.Errorf("unexpected argument %q; every input is a flag", c.Args().First())}
	}
	// Checked here rather than with Required, which makes urfave/cli print
	// the whole help text instead of one line.
	if c.String("template") == "" && c.String("manifest") == "" && !flagGiven(c, "only") {
		return usageError{errors.New("--template is required: s3://BUCKET/KEY, a file, or - for stdin")}
	}
	if c.Duration("timeout") <= 0 {
		return usageError{fmt.Errorf("--timeout %v: want a positive duration such as 5m", c.Duration("timeout"))}
	}
	if c.Duration("wait-for-image") < 0 {
		return usageError{fmt.Errorf("--wait-for-image %v: want a duration of 0 or more, such as 10m", c.Duration("wait-for-image"))}
	}
	// The two add up to the run's deadline; a sum past what a Duration
	// holds would wrap negative and end the run before it starts.
	if c.Duration("timeout") > math.MaxInt64-c.Duration("wait-for-image") {
		return usageError{fmt.Errorf("--timeout %v plus --wait-for-image %v: too long; together at most %v", c.Duration("timeout"), c.Duration("wait-for-image"), time.Duration(math.MaxInt64))}
	}
	if write && c.String("out") == "" {
		return usageError{errors.New("--out is empty: want a directory such as . or deploy")}
	}
	if c.String("manifest") != "" || flagGiven(c, "only") {
		return doManifest(c, stdin, stdout, stderr, lookupEnv, write)
	}
	opts, err := renderOptions(c, lookupEnv)
	if err != nil {
		return err
	}
	note, err := verifyOptions(c, &opts)
	if err != nil {
		return err
	}
	if note != "" {
		printLine(stderr, "note: ", note)
	}
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout")+c.Duration("wait-for-image"))
	defer cancel()

	deps, err := runDeps(ctx, c, stdin, stderr, opts.Verify)
	if err != nil {
		return err
	}
	res, err := render.Render(ctx, opts, deps)
	if err != nil {
		return renderFailed(c, sourceFlagError(flagError(err), opts))
	}
	for _, n := range res.Notices {
		printLine(stderr, "note: ", n)
	}
	printChanges(stderr, opts.Target, res.Changes)
	for _, w := range res.Warnings {
		printLine(stderr, "warning: ", w.String())
	}
	files, err := artifacts.Encode(res)
	if err != nil {
		return err
	}
	if !write {
		fmt.Fprintln(stdout, "ok: the template renders and passes every check")
		return nil
	}
	return renderFailed(c, writeArtifacts(ctx, c.String("out"), files, stdout))
}

// runDeps builds the outside world of a run. Offline, no AWS configuration
// or client is built at all, so nothing can reach the network by accident.
func runDeps(ctx context.Context, c *cli.Context, stdin io.Reader, stderr io.Writer, verify bool) (render.Deps, error) {
	if c.Bool("offline") {
		return render.Deps{Loader: render.LocalLoader{Stdin: stdin}}, nil
	}
	return remote.New(ctx, remote.Options{
		Region:       c.String("region"),
		WaitForImage: c.Duration("wait-for-image"),
		Stdin:        stdin,
		Progress:     func(msg string) { printLine(stderr, "note: ", msg) },
		Verify:       verify,
	})
}

// renderFailed says when a failed render was stopped by a signal, which
// the error itself shows only as a cancelled context.
func renderFailed(c *cli.Context, err error) error {
	if err != nil && c.Context.Err() != nil {
		return fmt.Errorf("%w (stopped by a signal; nothing written)", err)
	}
	return err
}

// writeArtifacts writes files into dir all or nothing, unless the run was
// stopped meanwhile, and names each file written.
func writeArtifacts(ctx context.Context, dir string, files []artifacts.File, stdout io.Writer) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before writing: %w", err)
	}
	if err := artifacts.Write(ctx, dir, files); err != nil {
		return err
	}
	for _, f := range files {
		printLine(stdout, "wrote ", filepath.Join(dir, filepath.FromSlash(f.Name)))
	}
	return nil
}

// renderOptions reads the render options from the flags. Each NAME=VALUE
// flag is parsed by parsePairs, and the flags that only make sense
// together are checked here: a manifest has its own way of saying them.
func renderOptions(c *cli.Context, lookupEnv func(string) (string, bool)) (render.Options, error) {
	vars, err := parsePairs("--var", "KEY=VALUE", c.StringSlice("var"), true)
	if err != nil {
		return render.Options{}, err
	}
	imagePairs, err := parsePairs("--image", "NAME=REF", c.StringSlice("image"), false)
	if err != nil {
		return render.Options{}, err
	}
	images := make([]render.Image, len(imagePairs))
	for i, p := range imagePairs {
		images[i].Container = p.name
	}
	// In name order, so that of two bad references the same one is
	// reported every time.
	for _, i := range byName(imagePairs) {
		r, err := ref.ParseImageRef(imagePairs[i].value)
		if err != nil {
			return render.Options{}, usageError{fmt.Errorf("--image %s: %w", ref.QuoteIfNeeded(imagePairs[i].name), err)}
		}
		images[i].Ref = r
	}
	placeholderPairs, err := parsePairs("--placeholder", "NAME=TOKEN", c.StringSlice("placeholder"), false)
	if err != nil {
		return render.Options{}, err
	}
	var placeholders []render.Placeholder
	for _, p := range placeholderPairs {
		placeholders = append(placeholders, render.Placeholder{Container: p.name, Token: p.value})
	}

	o := render.Options{
		NoAppSpec: c.Bool("no-appspec"),
		AppSpec: appspec.Options{
			Container:         c.String("container"),
			PlatformVersion:   c.String("platform-version"),
			Subnets:           c.StringSlice("subnet"),
			SecurityGroups:    c.StringSlice("security-group"),
			AssignPublicIP:    c.String("assign-public-ip"),
			CapacityProviders: c.StringSlice("capacity-provider"),
			Hooks:             c.StringSlice("hook"),
		},
		Images:       images,
		Placeholders: placeholders,
		Variables:    make(map[string]string, len(vars)),
		LookupEnv:    lookupEnv,
		Pin:          c.Bool("pin"),
	}
	for _, p := range vars {
		o.Variables[p.name] = p.value
	}
	if c.String("appspec") != "" && o.NoAppSpec {
		return render.Options{}, usageError{errors.New("--appspec and --no-appspec: give one or the other")}
	}
	if o.Template, err = parseSource(c.String("template")); err != nil {
		return render.Options{}, err
	}
	if c.String("appspec") != "" {
		src, err := parseSource(c.String("appspec"))
		if err != nil {
			return render.Options{}, err
		}
		if src.Kind == ref.SourceStdin && o.Template.Kind == ref.SourceStdin {
			return render.Options{}, usageError{errors.New("--template and --appspec cannot both read stdin")}
		}
		o.AppSpecTemplate = &src
	}
	// AppSpec flags that would be ignored are refused: a --subnet given
	// next to --appspec would otherwise silently not be deployed.
	given := appSpecFlags(o.AppSpec)
	switch {
	case o.AppSpecTemplate != nil && len(given) > 0:
		return render.Options{}, usageError{fmt.Errorf("%s: the AppSpec comes from --appspec; set it there", given[0])}
	case o.NoAppSpec && (len(given) > 0 && given[0] != "--container" || len(given) > 1):
		// --container still names the primary container.
		return render.Options{}, usageError{fmt.Errorf("%s: no AppSpec is written with --no-appspec", given[len(given)-1])}
	}
	return o, nil
}

// verifyOptions reads --verify, --cluster and --service into o, and
// returns a note when the service is not verified. --cluster and --service
// are ignored with a note, not refused, offline or with --verify=false:
// ECSRENDER_CLUSTER and ECSRENDER_SERVICE set for a pipeline must not break
// a dry run of the same template.
func verifyOptions(c *cli.Context, o *render.Options) (string, error) {
	cluster, service := c.String("cluster"), c.String("service")
	switch {
	case cluster != "" && service == "":
		return "", usageError{fmt.Errorf("--cluster %q: give --service NAME too (both or neither)", cluster)}
	case service != "" && cluster == "":
		return "", usageError{fmt.Errorf("--service %q: give --cluster NAME too (both or neither)", service)}
	}
	for _, f := range []struct{ flag, value string }{{"cluster", cluster}, {"service", service}} {
		if f.value != "" && !render.IsECSName(f.value) && !strings.HasPrefix(f.value, "arn:") {
			return "", usageError{fmt.Errorf("--%s %q: want an ECS %s name (letters, digits, - and _, at most 255) or ARN", f.flag, f.value, f.flag)}
		}
	}
	o.Verify = c.Bool("verify") && !c.Bool("offline")
	if cluster == "" {
		return "", nil
	}
	if !o.Verify {
		why := "--offline makes no AWS call"
		if !c.Bool("offline") {
			why = "--verify=false"
		}
		return fmt.Sprintf("--cluster %q --service %q ignored: %s, so the deploy is not checked against the service", cluster, service, why), nil
	}
	o.Target = &render.VerifyTarget{Cluster: cluster, Service: service}
	return "", nil
}

// printChanges prints what the deploy changes in the service's running
// task definition, under a line that names the service, one "change: "
// line each, so that a CodeBuild log reads as a short list.
func printChanges(w io.Writer, t *render.VerifyTarget, changes []string) {
	if t == nil || len(changes) == 0 {
		return
	}
	printLine(w, "changes: ", fmt.Sprintf("what this deploy changes in the task definition that service %q in cluster %q runs now:", t.Service, t.Cluster))
	for _, ch := range changes {
		printLine(w, "change: ", ch)
	}
}

func parseSource(s string) (ref.Source, error) {
	src, err := ref.ParseSource(s)
	if err != nil {
		return ref.Source{}, usageError{err}
	}
	return src, nil
}

// appSpecFlags names the AppSpec flags that were given.
func appSpecFlags(a appspec.Options) []string {
	var given []string
	for _, f := range []struct {
		name string
		set  bool
	}{
		{"--container", a.Container != ""},
		{"--platform-version", a.PlatformVersion != ""},
		{"--subnet", len(a.Subnets) > 0},
		{"--security-group", len(a.SecurityGroups) > 0},
		{"--assign-public-ip", a.AssignPublicIP != ""},
		{"--capacity-provider", len(a.CapacityProviders) > 0},
		{"--hook", len(a.Hooks) > 0},
	} {
		if f.set {
			given = append(given, f.name)
		}
	}
	return given
}

// pair is one NAME=VALUE flag value.
type pair struct{ name, value string }

// parsePairs parses repeated NAME=VALUE flags such as --image web=REF, in
// the order given. A name given twice is an error rather than a silent
// override: two values for one name in a pipeline definition are almost
// always a mistake. emptyValue allows NAME= (a variable may be empty).
func parsePairs(flag, form string, values []string, emptyValue bool) ([]pair, error) {
	out := make([]pair, 0, len(values))
	seen := make(map[string]bool, len(values))
	for _, v := range values {
		name, val, ok := strings.Cut(v, "=")
		if !ok || name == "" || val == "" && !emptyValue {
			return nil, usageError{fmt.Errorf("%s %q: want %s", flag, v, form)}
		}
		if seen[name] {
			return nil, usageError{fmt.Errorf("%s %s: given twice", flag, ref.QuoteIfNeeded(name))}
		}
		seen[name] = true
		out = append(out, pair{name, val})
	}
	return out, nil
}

// byName returns the indexes of pairs in the order of their names.
func byName(pairs []pair) []int {
	idx := make([]int, len(pairs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(pairs[a].name, pairs[b].name) })
	return idx
}

// flagError says an option render found wrong in the terms of its flag:
// render's "image web: ..." is "--image web: ..." on the command line.
func flagError(err error) error {
	var oe *render.OptionError
	if errors.As(err, &oe) && error(oe) == err {
		return fmt.Errorf("--%w", oe)
	}
	return err
}

// printLine is how every line of output is written: prefix, then msg with
// its control characters escaped (render.EscapeControl), so that no input
// quoted in a message can start a line of its own in a build log (a forged
// "error:") or reach a terminal as an escape sequence.
// A line longer than maxLineBytes is cut: a message quoting a megabyte
// key or value helps no one and can choke a log viewer.
func printLine(w io.Writer, prefix, msg string) {
	msg = render.EscapeControl(msg)
	if len(msg) > maxLineBytes {
		cut := maxLineBytes
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = fmt.Sprintf("%s... (%d more bytes)", msg[:cut], len(msg)-cut)
	}
	fmt.Fprintln(w, prefix+msg)
}

// maxLineBytes bounds one printed line; real messages are a few hundred
// bytes.
const maxLineBytes = 4096

// errorLines splits an error into the lines it means: one per problem of a
// *render.ProblemsError (whose lines are escaped, so its line breaks are
// its own), one per error of an errors.Join, and one for anything else, in
// which a line break can only have come from input and is escaped.
func errorLines(err error) []string {
	msg := err.Error()
	// Only a join whose message is its errors' messages, one a line, as
	// errors.Join writes it: other errors unwrap to several causes while
	// saying one thing.
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		var msgs []string
		for _, e := range j.Unwrap() {
			msgs = append(msgs, e.Error())
		}
		if msg == strings.Join(msgs, "\n") {
			var lines []string
			for _, e := range j.Unwrap() {
				lines = append(lines, errorLines(e)...)
			}
			return lines
		}
	}
	// Errors made of lines, kept as their lines; a wrapper may add text
	// before or after them, which goes on the first and the last.
	var se *render.ServicesError
	var me *render.ManifestError
	var pe *render.ProblemsError
	var inner string
	var lines []string
	switch {
	case errors.As(err, &se):
		// A manifest run's failures: each service's own lines, named.
		inner = se.Error()
		for _, f := range se.Failures {
			for _, line := range errorLines(f.Err) {
				lines = append(lines, fmt.Sprintf("service %q: %s", f.Name, line))
			}
		}
	case errors.As(err, &me):
		inner, lines = me.Error(), me.Lines()
	case errors.As(err, &pe):
		inner = pe.Error()
		lines = strings.Split(inner, "\n")
	}
	if i := strings.Index(msg, inner); len(lines) > 0 && i >= 0 {
		lines[0] = render.EscapeControl(msg[:i]) + lines[0]
		lines[len(lines)-1] += render.EscapeControl(msg[i+len(inner):])
		return lines
	}
	return []string{msg}
}

// sourceFlagError names the flag of a local source that is not a regular
// file: "--template /dev/zero: a character device, not a regular file".
func sourceFlagError(err error, o render.Options) error {
	var nr *render.NotRegularFileError
	if !errors.As(err, &nr) {
		return err
	}
	flag := "--template"
	if o.AppSpecTemplate != nil && nr.Src == *o.AppSpecTemplate && nr.Src != o.Template {
		flag = "--appspec"
	}
	return &render.InputError{Err: fmt.Errorf("%s %v: %s", flag, nr.Src, nr.Reason())}
}

func versionString() string {
	v, c, goVersion := version, commit, "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && c == "" {
				c = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	if c == "" {
		c = "unknown"
	}
	return fmt.Sprintf("ecsrender %s (commit %s, %s)", v, c, goVersion)
}
