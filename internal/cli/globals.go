package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
)

// globals are the flags every command shares (contract.md, "Common flags").
type globals struct {
	format           string
	output           string
	severity         []string
	failOn           string
	configFile       string
	ignoreFile       string
	quiet            bool
	noColor          bool
	noProgress       bool
	offline          bool
	cacheDir         string
	platform         string
	insecureRegistry bool
	// buildContext is `dockvet dockerfile --context`.
	buildContext string
	// buildContexts are the build contexts the run's Dockerfiles share.
	buildContexts *dockerfile.Contexts

	streams Streams
	now     func() time.Time

	// Filled by validate.
	severities []finding.Severity
	failLevel  finding.Severity // 0: never fail
	cfg        *config.Config
	ignores    []config.Ignore
}

func (g *globals) bind(root *cobra.Command) {
	f := root.PersistentFlags()
	f.StringVarP(&g.format, "format", "f", "", "output format: table, json, sarif, junit (and html, cyclonedx, spdx where they fit); default table")
	f.StringVarP(&g.output, "output", "o", "", "write the report to this file instead of standard output")
	f.StringSliceVar(&g.severity, "severity", nil, "only report these severities (comma-separated: critical,high,medium,low,info)")
	f.StringVar(&g.failOn, "fail-on", "high", "exit 1 when a finding at or above this severity is reported (critical, high, medium, low, info, none)")
	f.StringVar(&g.configFile, "config", "", "configuration file (default .dockvet.yaml in the current directory, when present)")
	f.StringVar(&g.ignoreFile, "ignore-file", "", "ignore file (default .dockvetignore in the current directory, when present)")
	f.BoolVarP(&g.quiet, "quiet", "q", false, "print nothing but the report and errors")
	f.BoolVar(&g.noColor, "no-color", false, "never colour the output (also: NO_COLOR)")
	f.BoolVar(&g.noProgress, "no-progress", false, "never show progress bars")
	f.BoolVar(&g.offline, "offline", false, "never touch the network")
	f.StringVar(&g.cacheDir, "cache-dir", "", "cache directory for the vulnerability database and layers (also: DOCKVET_CACHE_DIR; default: the user cache directory)")
	f.StringVar(&g.platform, "platform", "", "platform to pick from a multi-platform image, OS/ARCH[/VARIANT] (default: the host's)")
	f.BoolVar(&g.insecureRegistry, "insecure-registry", false, "allow plain HTTP or unverified TLS to registries")
}

// validate checks the shared flags and loads the project configuration
// before any command runs, so that a bad flag or config fails fast.
func (g *globals) validate(cmd *cobra.Command) error {
	g.severities = nil
	for _, s := range g.severity {
		for _, part := range strings.Split(s, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			sev, err := finding.ParseSeverity(part)
			if err != nil {
				return fail("--severity: %v", err)
			}
			if !slices.Contains(g.severities, sev) {
				g.severities = append(g.severities, sev)
			}
		}
	}
	if strings.EqualFold(g.failOn, "none") {
		g.failLevel = 0
	} else {
		sev, err := finding.ParseSeverity(g.failOn)
		if err != nil {
			return fail("--fail-on: %v (or none)", err)
		}
		g.failLevel = sev
	}
	if annotation(cmd, "noConfig") {
		return nil
	}
	var err error
	path, required := g.configFile, true
	if path == "" {
		path, required = config.DefaultFile, false
	}
	if g.cfg, err = config.Load(path, required); err != nil {
		return fail("%v", err)
	}
	path, required = g.ignoreFile, true
	if path == "" {
		path, required = config.DefaultIgnoreFile, false
	}
	if g.ignores, err = config.LoadIgnoreFile(path, required); err != nil {
		return fail("%v", err)
	}
	return nil
}

func annotation(cmd *cobra.Command, key string) bool {
	for c := cmd; c != nil; c = c.Parent() {
		if c.Annotations[key] == "true" {
			return true
		}
	}
	return false
}

// color reports whether to colour output written to standard output.
func (g *globals) color() bool {
	if g.noColor || os.Getenv("NO_COLOR") != "" || g.output != "" {
		return false
	}
	return g.streams.OutIsTerminal && os.Getenv("TERM") != "dumb"
}

// progress reports whether progress bars may be drawn (on standard error).
func (g *globals) progress() bool {
	return !g.noProgress && !g.quiet && g.streams.ErrIsTerminal
}

// CacheDir is where the vulnerability database and caches live.
func (g *globals) CacheDir() (string, error) {
	if g.cacheDir != "" {
		return g.cacheDir, nil
	}
	if d := os.Getenv("DOCKVET_CACHE_DIR"); d != "" {
		return d, nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", fail("no cache directory: %v (set --cache-dir or DOCKVET_CACHE_DIR)", err)
	}
	return filepath.Join(d, "dockvet"), nil
}

func isTerminal(f *os.File) bool { return term.IsTerminal(int(f.Fd())) }
