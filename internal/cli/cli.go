// Package cli is dockvet's command line. Each command has one file: an
// options struct (XOptions) carrying its flags and its dependencies, a
// constructor NewCmdX(f, runF) that binds the flags, and runX, which does
// the work. The flags every command takes live in Shared, which every
// options struct embeds; the end of every audit (configuration, filters,
// rendering, the atomic write, the exit code) is in audit.go, and
// everything about the terminal (colour, progress bars, Ctrl-C) in
// terminal.go. Tests give a Factory with buffers, a fixed clock or a fake
// Engine, or a runF that captures the options.
package cli

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"

	"github.com/dockvet/dockvet/internal/secrets"

	"github.com/spf13/cobra"
)

// Version is dockvet's version; release builds set it with -ldflags.
var Version = "0.1.0"

// Exit codes of the contract.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
	// ExitInterrupted ends a run stopped by Ctrl-C (SIGINT): 128 + the
	// signal's number, as shells report it, so that a script can tell an
	// interrupted run from a failed one. No report is written.
	ExitInterrupted = 130
)

// exitError carries an exit code out of a command. A message, when set, is
// printed as one line on standard error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// fail is an error that stops a run with exit code 2: bad input, bad
// arguments, unreachable daemon or registry.
//
// Its message is built from outside input more often than not (a parser's
// complaint about a line): secrets.MaskError masks what could be a secret.
func fail(format string, args ...any) error {
	return &exitError{code: ExitError, msg: secrets.MaskError(oneLine(fmt.Sprintf(format, args...)))}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Execute runs dockvet with args (without the program name) and returns the
// exit code. It never panics on bad input and prints errors as one line.
func Execute(args []string, s Streams) int {
	return ExecuteAs("dockvet", args, s)
}

// ExecuteAs is Execute for a program invoked as progName. As a Docker CLI
// plugin (docker-vet, or run by the Docker CLI) the Docker CLI passes its
// global flags and the plugin's name first; they are honoured as the
// Docker CLI would honour them.
func ExecuteAs(progName string, args []string, s Streams) int {
	return executeAs(context.Background(), progName, args, s)
}

func executeAs(ctx context.Context, progName string, args []string, s Streams) int {
	f := NewFactory(s)
	g, rest, plugin, err := pluginInvocation(progName, args)
	if err != nil {
		fmt.Fprintf(s.Err, "docker: %s (see 'docker --help')\n", oneLine(err.Error()))
		return ExitError
	}
	if !plugin {
		return execute(ctx, f, args)
	}
	if err := g.apply(f.Shared); err != nil {
		fmt.Fprintf(s.Err, "docker: %s\n", err)
		return ExitError
	}
	f.Shared.plugin = true
	return execute(ctx, f, rest)
}

// Main is the program's entry point.
func Main() int {
	s := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutIsTerminal: isTerminal(os.Stdout), ErrIsTerminal: isTerminal(os.Stderr), Width: terminalWidth(os.Stdout)}
	// Ctrl-C cancels every command's context: the image walk, the
	// analyzers and the extractors check it between entries and chunks,
	// so a scan stops within a second and exits 130 with no report
	// written. After the first Ctrl-C the signal is let go, so a second
	// one ends the process at once, as a terminal user expects.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	go func() { <-ctx.Done(); stop() }()
	return executeAs(ctx, os.Args[0], os.Args[1:], s)
}

// execute runs the command line args with f's dependencies until it ends
// or ctx is done, and turns the result into an exit code.
func execute(ctx context.Context, f *Factory, args []string) int {
	root := NewCmdRoot(f)
	name := "dockvet"
	if f.Shared.plugin {
		var cancel context.CancelFunc
		ctx, cancel = asPlugin(ctx, root)
		defer cancel()
		name = "docker " + pluginName
	}
	root.SetArgs(args)
	f.Shared.interrupt = ctx
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	if ctx.Err() != nil {
		// Whatever the command made of its cancelled context (a
		// "context canceled" from a reader, a partial result refused by
		// write), the run was interrupted.
		fmt.Fprintln(f.Shared.IO.Err, "dockvet: interrupted; no report written")
		return ExitInterrupted
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(f.Shared.IO.Err, "dockvet: %s\n", secrets.MaskError(ee.msg))
		}
		return ee.code
	}
	// Cobra's own errors: unknown commands and flags, wrong argument counts.
	fmt.Fprintf(f.Shared.IO.Err, "dockvet: %s (see '%s --help')\n", secrets.MaskError(oneLine(err.Error())), name)
	return ExitError
}

// NewCmdRoot is the dockvet command with every subcommand. The shared
// flags are bound to f.Shared and checked, and the project configuration
// loaded, before any subcommand runs.
func NewCmdRoot(f *Factory) *cobra.Command {
	s := f.Shared
	root := &cobra.Command{
		Use:   "dockvet",
		Short: "Audit the whole life of a Docker container for security",
		Long: "dockvet audits Dockerfiles, images, registries, Compose files, `docker run` lines, the Docker host and its events,\n" +
			"and reports every finding against the security practice it breaks, in one report.",
		SilenceUsage:  true,
		SilenceErrors: true,
		// No default completion command: it would be one more thing to
		// document as part of the contract.
		CompletionOptions: cobra.CompletionOptions{DisableDefaultCmd: true},
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return s.validate(!annotation(cmd, noConfig)) },
	}
	root.SetIn(s.IO.In)
	root.SetOut(s.IO.Out)
	root.SetErr(s.IO.Err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return fail("%v (see '%s --help')", err, c.Root().DisplayName())
	})
	s.bind(root.PersistentFlags())
	root.AddCommand(
		NewCmdDockerfile(f, nil),
		NewCmdImage(f, nil),
		NewCmdCompose(f, nil),
		NewCmdRun(f, nil),
		NewCmdScan(f, nil),
		NewCmdContainer(f, nil),
		NewCmdHost(f, nil),
		NewCmdWatch(f, nil),
		NewCmdAuthz(f, nil),
		NewCmdServer(f, nil),
		NewCmdWorker(f, nil),
		NewCmdSBOM(f, nil),
		NewCmdVerify(f, nil),
		NewCmdDB(f),
		NewCmdCache(f, nil),
		NewCmdRules(f, nil),
		NewCmdVersion(f, nil),
		NewCmdPluginMetadata(f, nil),
	)
	return root
}

// noConfig is the annotation of commands that read no project
// configuration (.dockvet.yaml, .dockvetignore): they audit nothing.
const noConfig = "noConfig"

func annotation(cmd *cobra.Command, key string) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[key] == "true" {
			return true
		}
	}
	return false
}
