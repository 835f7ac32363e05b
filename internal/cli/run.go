package cli

import (
	"bytes"
	"errors"

	"github.com/dockvet/dockvet/internal/safefile"

	"path/filepath"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/container"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/runline"
)

// RunOptions are those of `dockvet run`.
type RunOptions struct {
	*Shared
	// Args are the command line to audit: docker run [OPTIONS] IMAGE ….
	Args []string
}

// NewCmdRun audits a `docker run` command line without running it.
func NewCmdRun(f *Factory, runF func(*RunOptions) error) *cobra.Command {
	opts := &RunOptions{Shared: f.Shared}
	return &cobra.Command{
		Use:   "run -- docker run [OPTIONS] IMAGE [COMMAND...]",
		Short: "Audit a `docker run` command line without running it",
		Long: "Audit the container a command would start, without starting it: `docker run`, `docker create`,\n" +
			"`docker container run|create`, and the same with `podman`. Options are read as the Docker CLI reads them\n" +
			"(an unknown option is an error); --env-file files are read relative to the current directory.\n" +
			"Put dockvet's own flags before `--`:  dockvet run --format json -- docker run --privileged nginx",
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts.Args = args
			if runF != nil {
				return runF(opts)
			}
			return runRun(opts)
		},
	}
}

func runRun(opts *RunOptions) error {
	args := opts.Args
	spec, err := runline.Parse(runline.Command{Args: args}, runline.Options{ReadFile: readSource, Strict: true})
	if err != nil {
		return fail("%s: %v", commandName(args), err)
	}
	if spec == nil {
		return fail("%s: the command only asks for help; nothing to audit", commandName(args))
	}
	t := finding.Target{Kind: finding.SurfaceContainer, Name: commandName(args) + " " + spec.Image.Value}
	r := newReport()
	r.Targets = append(r.Targets, t)
	r.Findings = append(r.Findings, container.Check(spec, container.Options{Target: t, Policy: opts.cfg.Policy(), Enabled: opts.cfg.Enabled})...)
	return opts.finish(r, findingFormats)
}

// commandName is "docker run", "podman create", … for messages.
func commandName(args []string) string {
	if _, i, ok := runline.Match(args); ok {
		return filepath.Base(args[0]) + " " + args[i-1]
	}
	return strings.Join(args[:min(len(args), 2)], " ")
}

// runLineFinder finds container start commands in one kind of file.
type runLineFinder func(path string, src []byte) ([]runline.Command, error)

// runLineAuditor audits the `docker run` lines of the files find reads.
func runLineAuditor(find runLineFinder) func(s *Shared, path string, r *finding.Report) {
	return func(s *Shared, path string, r *finding.Report) {
		src, err := safefile.ReadFile(path, safefile.MaxSource)
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceContainer, Message: safefile.Message(err)})
			return
		}
		cmds, err := find(path, src)
		if err != nil {
			// A budget's limit comes with the commands found before it:
			// those are audited, and the error says the rest was not.
			r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceContainer, Message: runLineMessage(path, err)})
		}
		auditRunLines(s, finding.Target{Kind: finding.SurfaceContainer, Name: path}, path, cmds, r)
	}
}

// auditRunLines checks each command of the file path as part of target t;
// one that cannot be parsed is an input error and the others are still
// audited.
func auditRunLines(s *Shared, t finding.Target, path string, cmds []runline.Command, r *finding.Report) {
	if len(cmds) == 0 {
		return
	}
	if t.Kind == finding.SurfaceContainer {
		r.Targets = append(r.Targets, t)
	}
	for _, c := range cmds {
		spec, err := runline.Parse(c, runline.Options{Dir: filepath.Dir(path), ReadFile: s.readProjectFile})
		if err != nil {
			r.Errors = append(r.Errors, finding.InputError{Target: path, Kind: finding.SurfaceContainer, Message: runLineMessage(path, err)})
			continue
		}
		if spec != nil {
			r.Findings = append(r.Findings, container.Check(spec, container.Options{Target: t, Policy: s.cfg.Policy(), Enabled: s.cfg.Enabled})...)
		}
	}
}

func runLineMessage(path string, err error) string {
	var re *runline.Error
	if errors.As(err, &re) && re.Path == path {
		if re.Line > 0 {
			return "line " + strconv.Itoa(re.Line) + ": " + re.Msg
		}
		return oneLine(re.Msg)
	}
	return oneLine(err.Error())
}

// auditDockerfileRunLines audits `docker run` lines in a Dockerfile's RUN
// instructions. Their findings belong to the Dockerfile's own target, so a
// Dockerfile is one entry of the report. A Dockerfile that does not parse
// is left to the Dockerfile auditor, which reports it.
func auditDockerfileRunLines(s *Shared, path string, r *finding.Report) {
	src, err := safefile.ReadFile(path, safefile.MaxSource)
	if err != nil || !bytes.Contains(src, []byte(" run")) {
		return
	}
	f, err := dockerfile.Parse(path, src)
	if err != nil {
		return
	}
	auditRunLines(s, finding.Target{Kind: finding.SurfaceDockerfile, Name: path}, path, runline.FromDockerfile(f), r)
}

// isShellScript recognises a shell script by its extension or its #! line.
func isShellScript(path string) bool {
	switch filepath.Ext(path) {
	case ".sh", ".bash", ".ksh":
		return true
	case "":
	default:
		return false
	}
	f, err := safefile.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	head := make([]byte, 128)
	n, _ := f.Read(head)
	line, _, _ := strings.Cut(string(head[:n]), "\n")
	if !strings.HasPrefix(line, "#!") {
		return false
	}
	fields := strings.Fields(strings.TrimPrefix(line, "#!"))
	if len(fields) == 0 {
		return false
	}
	prog := filepath.Base(fields[0])
	if prog == "env" && len(fields) > 1 {
		prog = fields[len(fields)-1]
	}
	return prog == "sh" || prog == "bash" || prog == "dash" || prog == "ash" || prog == "ksh"
}

func isMakefile(path string) bool {
	name := filepath.Base(path)
	return name == "Makefile" || name == "makefile" || name == "GNUmakefile" || strings.HasSuffix(name, ".mk") || strings.HasSuffix(name, ".mak")
}

func isGitHubWorkflow(path string) bool {
	p := filepath.ToSlash(path)
	name := filepath.Base(p)
	yml := strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml")
	return yml && (strings.Contains(p, ".github/workflows/") || name == "action.yml" || name == "action.yaml")
}

func isGitLabCI(path string) bool {
	p := filepath.ToSlash(path)
	name := filepath.Base(p)
	return name == ".gitlab-ci.yml" || name == ".gitlab-ci.yaml" || strings.HasSuffix(name, ".gitlab-ci.yml") ||
		strings.Contains(p, ".gitlab/ci/") && (strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".yaml"))
}

// readSource reads a file a command line names (--env-file): a regular
// file under the source cap, never a FIFO or a device.
func readSource(path string) ([]byte, error) { return safefile.ReadFile(path, safefile.MaxSource) }

// readProjectFile reads a file a file of the audited tree names (a
// script's --env-file): under `scan`, only inside the scanned directory —
// a repository's `--env-file /etc/shadow` is not read.
func (s *Shared) readProjectFile(path string) ([]byte, error) {
	if s.projectRoot == "" {
		return readSource(path)
	}
	return safefile.ReadFileWithin(s.projectRoot, path, safefile.MaxSource)
}
