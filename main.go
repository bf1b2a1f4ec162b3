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
	"strings"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"github.com/ecsrender/ecsrender/artifacts"
	"github.com/ecsrender/ecsrender/render"
)

// version is set at release time with -ldflags "-X main.version=v1.2.3";
// otherwise the module version from the build info is used.
var version = ""

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
	for _, line := range strings.Split(err.Error(), "\n") {
		fmt.Fprintln(stderr, "error: "+line)
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
	if c.String("template") == "" {
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
	ctx, cancel := context.WithTimeout(c.Context, c.Duration("timeout")+c.Duration("wait-for-image"))
	defer cancel()

	deps, err := render.NewDeps(ctx, render.DepsOptions{
		Offline:      c.Bool("offline"),
		Region:       c.String("region"),
		WaitForImage: c.Duration("wait-for-image"),
		Stdin:        stdin,
		Progress:     func(msg string) { fmt.Fprintln(stderr, "note: "+msg) },
	})
	if err != nil {
		return err
	}
	res, err := render.Render(ctx, render.Options{
		Template:  c.String("template"),
		AppSpec:   c.String("appspec"),
		NoAppSpec: c.Bool("no-appspec"),
		AppSpecOptions: render.AppSpecOptions{
			Container:         c.String("container"),
			PlatformVersion:   c.String("platform-version"),
			Subnets:           c.StringSlice("subnet"),
			SecurityGroups:    c.StringSlice("security-group"),
			AssignPublicIP:    c.String("assign-public-ip"),
			CapacityProviders: c.StringSlice("capacity-provider"),
			Hooks:             c.StringSlice("hook"),
		},
		Images:       c.StringSlice("image"),
		Placeholders: c.StringSlice("placeholder"),
		Vars:         c.StringSlice("var"),
		LookupEnv:    lookupEnv,
		Pin:          c.Bool("pin"),
	}, deps)
	if err != nil {
		if c.Context.Err() != nil {
			return fmt.Errorf("%w (stopped by a signal; nothing written)", err)
		}
		return err
	}
	for _, n := range res.Notices {
		fmt.Fprintln(stderr, "note: "+n)
	}
	for _, w := range res.Warnings {
		fmt.Fprintln(stderr, "warning: "+w.String())
	}
	files, err := artifacts.Encode(res)
	if err != nil {
		return err
	}
	if !write {
		fmt.Fprintln(stdout, "ok: the template renders and passes every check")
		return nil
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("stopped before writing: %w", err)
	}
	dir := c.String("out")
	if err := artifacts.Write(ctx, dir, files); err != nil {
		return err
	}
	for _, f := range files {
		fmt.Fprintln(stdout, "wrote "+filepath.Join(dir, f.Name))
	}
	return nil
}

func versionString() string {
	v, commit, goVersion := version, "unknown", "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok {
		goVersion = bi.GoVersion
		if v == "" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" {
				commit = s.Value
			}
		}
	}
	if v == "" {
		v = "(devel)"
	}
	return fmt.Sprintf("ecsrender %s (commit %s, %s)", v, commit, goVersion)
}
