// Command bridge mirrors QQ group chat into Minecraft servers and game events
// back into the groups. It is configured by environment variables only; see
// README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/lmittmann/tint"

	"github.com/mcqq/bridge/internal/redact"
	_ "time/tzdata" // TZ=Asia/Shanghai works in a static image without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Environ(), os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// Exit codes.
const (
	exitOK     = 0
	exitFail   = 1
	exitConfig = 2
)

// usage is printed under a command line the flags do not explain.
const usage = "usage: bridge [-env-file PATH] [-check | -demo | -healthcheck | -version] (-h lists the flags)"

// run is main without the process: flags, configuration, then one mode.
func run(ctx context.Context, args, environ []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bridge", flag.ContinueOnError)
	fs.SetOutput(stderr)
	envFile := fs.String("env-file", "", "load variables from this dotenv file first (default: .env when it exists); real environment variables win")
	check := fs.Bool("check", false, "validate the configuration, try every connection once, print a table and exit (non-zero if any fails)")
	demo := fs.Bool("demo", false, "run against built-in stand-ins for a QQ bot (speaking QQ_PROTOCOL: onebot, milky or satori), a QueQiao server and RCON, show a scripted conversation, exit")
	healthcheck := fs.Bool("healthcheck", false, "request /healthz on HTTP_LISTEN and exit 0 if healthy (for Docker HEALTHCHECK)")
	showVersion := fs.Bool("version", false, "print the version and exit")
	// A health check fails with 1 whatever goes wrong: Docker reserves 2.
	badUsage := exitConfig
	if slices.ContainsFunc(args, isHealthcheckFlag) {
		badUsage = exitFail
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK // -h asked for the flags, which were printed
		}
		return badUsage
	}
	if fs.NArg() > 0 {
		// "bridge check" would otherwise start the service.
		word := fs.Arg(0)
		msg := fmt.Sprintf("bridge: unexpected argument %q", word)
		if !strings.HasPrefix(word, "-") && fs.Lookup(word) != nil {
			msg += ": did you mean -" + strings.TrimLeft(word, "-") + "?"
		}
		fmt.Fprintln(stderr, msg)
		fmt.Fprintln(stderr, usage)
		return badUsage
	}
	if *showVersion {
		fmt.Fprintln(stdout, "bridge", versionString())
		return exitOK
	}
	if *healthcheck {
		return runHealthcheck(environ, *envFile, stderr)
	}
	if *demo {
		// The demo needs no configuration; it only honours QQ_PROTOCOL.
		env, _, err := environment(environ, *envFile)
		if err != nil {
			fmt.Fprintln(stderr, err)
			return exitConfig
		}
		var protocol Protocol // the default unless QQ_PROTOCOL names one
		if name := strings.TrimSpace(env["QQ_PROTOCOL"]); name != "" {
			if err := protocol.UnmarshalText([]byte(name)); err != nil {
				printConfigError(stderr, &varError{Name: "QQ_PROTOCOL", Msg: err.Error()}, quotedValues(map[string]string{"QQ_PROTOCOL": name}), envSource{found: true})
				return exitConfig
			}
		}
		if err := runDemo(ctx, stdout, protocol); err != nil {
			fmt.Fprintln(stderr, "demo failed:", err)
			return exitFail
		}
		return exitOK
	}

	env, source, err := environment(environ, *envFile)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitConfig
	}
	cfg, warnings, err := loadConfig(env, source)
	if err != nil {
		printConfigError(stderr, err, warnings, source)
		return exitConfig
	}
	if w := weakSecretsWarning(cfg); w != "" {
		warnings = append(warnings, w)
	}
	log := newLogger(cfg.LogFormat, cfg.LogLevel, stderr, env, cfg.Redactor())
	for _, w := range warnings {
		log.Warn(w)
	}
	if *check {
		return runCheck(ctx, cfg, stdout) // which says it under its table
	}
	if warning, _ := oneBotPathProblem(cfg); warning != "" {
		log.Warn(warning)
	}
	if err := serve(ctx, cfg, log); err != nil {
		log.Error("bridge stopped", "err", err)
		return exitFail
	}
	return exitOK
}

// printConfigError shows every bad variable, then the warnings (a typo
// often explains an error), then where the dotenv file was looked for when
// none was found and something required is missing.
func printConfigError(w io.Writer, err error, warnings []string, source envSource) {
	fmt.Fprintln(w, "configuration error:")
	missing := false
	for _, e := range joinedErrors(err) {
		fmt.Fprintln(w, "  "+e.Error())
		if ve, ok := errors.AsType[*varError](e); ok && ve.Missing {
			missing = true
		}
	}
	if len(warnings) > 0 {
		fmt.Fprintln(w, "also check:")
		for _, l := range warnings {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if missing && !source.found {
		fmt.Fprintf(w, "hint: no %s was found (looked in %s); copy .env.example to %s and fill it in, pass -env-file PATH, or set the variables in the environment\n",
			source.name, source.dir, source.name)
	}
}

// joinedErrors lists the errors joined in err.
func joinedErrors(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// newLogger builds the slog logger: tint on a terminal, JSON otherwise
// (LOG_FORMAT=auto), or as forced. Every record passes secrets through
// redactor first, whichever connection logs it.
func newLogger(format LogFormat, level LogLevel, w io.Writer, env map[string]string, redactor *redact.Redactor) *slog.Logger {
	lv := slog.Level(level)
	tty := false
	if f, ok := w.(*os.File); ok {
		if fi, err := f.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
			tty = true
		}
	}
	if format == LogAuto {
		format = LogJSON
		if tty {
			format = LogText
		}
	}
	var h slog.Handler
	if format == LogJSON {
		h = slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lv, ReplaceAttr: durationsAsText})
	} else {
		_, noColor := env["NO_COLOR"]
		h = tint.NewTextHandler(w, &tint.Options{Level: lv, TimeFormat: time.DateTime, NoColor: noColor || !tty})
	}
	return slog.New(redact.Handler(h, redactor))
}

// durationsAsText logs "4s" rather than 4000000000 in JSON.
func durationsAsText(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		return slog.String(a.Key, a.Value.Duration().String())
	}
	return a
}

// isHealthcheckFlag reports whether arg is -healthcheck, however spelt.
func isHealthcheckFlag(arg string) bool {
	name, _, _ := strings.Cut(strings.TrimLeft(arg, "-"), "=")
	return strings.HasPrefix(arg, "-") && name == "healthcheck"
}
