// Package cli is dockvet's command line: one file per command, each an
// options struct, a constructor that binds flags, and a run function. The
// shared steps of every audit (configuration, filtering, rendering, exit
// codes) live in audit.go.
package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// Version is dockvet's version; release builds set it with -ldflags.
var Version = "0.1.0"

// Exit codes of the contract.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// Streams are the standard streams; tests pass buffers.
type Streams struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// OutIsTerminal enables colour and progress when writing to Out.
	OutIsTerminal bool
	// ErrIsTerminal enables progress bars on Err.
	ErrIsTerminal bool
}

// exitError carries an exit code out of a command. A message, when set, is
// printed as one line on standard error.
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

// fail is an error that stops a run with exit code 2: bad input, bad
// arguments, unreachable daemon or registry.
func fail(format string, args ...any) error {
	return &exitError{code: ExitError, msg: oneLine(fmt.Sprintf(format, args...))}
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Execute runs dockvet with args (without the program name) and returns the
// exit code. It never panics on bad input and prints errors as one line.
func Execute(args []string, s Streams) int {
	return ExecuteAs("dockvet", args, s)
}

// ExecuteAs is Execute for a program invoked as progName; as a Docker CLI
// plugin (docker-vet) the Docker CLI passes the plugin name first.
func ExecuteAs(progName string, args []string, s Streams) int {
	if filepath.Base(progName) == pluginBinary && len(args) > 0 && args[0] == pluginName {
		args = args[1:]
	}
	root := newRoot(s)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.msg != "" {
			fmt.Fprintf(s.Err, "dockvet: %s\n", ee.msg)
		}
		return ee.code
	}
	// Cobra's own errors: unknown commands and flags, wrong argument counts.
	fmt.Fprintf(s.Err, "dockvet: %s (see 'dockvet --help')\n", oneLine(err.Error()))
	return ExitError
}

// Main is the program's entry point.
func Main() int {
	s := Streams{In: os.Stdin, Out: os.Stdout, Err: os.Stderr,
		OutIsTerminal: isTerminal(os.Stdout), ErrIsTerminal: isTerminal(os.Stderr)}
	return ExecuteAs(os.Args[0], os.Args[1:], s)
}

func newRoot(s Streams) *cobra.Command {
	g := &globals{streams: s, now: time.Now}
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
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error { return g.validate(cmd) },
	}
	root.SetIn(s.In)
	root.SetOut(s.Out)
	root.SetErr(s.Err)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return fail("%v (see 'dockvet --help')", err) })
	g.bind(root)
	for _, c := range commands {
		root.AddCommand(c(g))
	}
	return root
}

// commands are the subcommands; each command file adds itself.
var commands []func(*globals) *cobra.Command

func register(c func(*globals) *cobra.Command) bool {
	commands = append(commands, c)
	return true
}
