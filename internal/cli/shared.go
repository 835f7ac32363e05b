package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/spf13/pflag"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/config"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/engine"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/image"
	"github.com/dockvet/dockvet/internal/imageaudit"
	"github.com/dockvet/dockvet/internal/report"
)

// Shared is what every command shares: the common flags of the contract
// ("Common flags"), what checking them loads (the project configuration
// and ignore file), and the run's streams and clock. Every options struct
// embeds it.
type Shared struct {
	Format           string
	Output           string
	Severity         []string
	FailOn           string
	ConfigFile       string
	IgnoreFile       string
	Quiet            bool
	NoColor          bool
	NoProgress       bool
	Offline          bool
	CacheDir         string
	Platform         string
	InsecureRegistry bool
	// RegistryTimeout bounds each wait on a registry (--registry-timeout).
	RegistryTimeout time.Duration
	// Template is the --template file of --format template.
	Template string
	// Ignore are rule or vulnerability IDs hidden on this run (--ignore).
	Ignore []string

	// EngineFlags are the Docker CLI's connection flags: --host/-H and
	// --context on the commands that talk to the Engine, and every global
	// flag the Docker CLI passes before `vet` to its plugin.
	EngineFlags engine.Options
	// Debug is the Docker CLI's -D: say how the Engine was resolved.
	Debug bool
	// AcceptPartial makes a run that could not read all of its input
	// exit by its findings instead of 2; the report still lists what was
	// not read (errors).
	AcceptPartial bool
	// FailOnMissingData makes a run whose vulnerability data was missing
	// or partial exit 2 after writing its report.
	FailOnMissingData bool
	// Source and AnyPlatform are how images are read (image, sbom).
	Source      string
	AnyPlatform bool

	IO  Streams
	Now func() time.Time

	// Filled by validate.
	severities []finding.Severity
	failLevel  finding.Severity // 0: never fail
	cfg        *config.Config
	ignores    []config.Ignore
	template   *report.Template
	// configUsed names the files loadConfig read, for the report.
	configUsed *finding.ConfigUsed
	// plugin is set when the Docker CLI runs dockvet as its plugin, and
	// dockerGlobals are the Docker global flags it passed before `vet`.
	plugin        bool
	dockerGlobals *engine.Options
	// interrupt is the run's context, done after Ctrl-C: write refuses
	// to write a report then (see Main).
	interrupt context.Context
	// The Engine, resolved once per run.
	ep         *engine.Endpoint
	epErr      error
	engineSaid bool

	// projectRoot is the directory `scan` audits: files its files name
	// are read only inside it.
	projectRoot string

	// buildContexts are shared by the run's Dockerfiles (contexts).
	buildContexts     *dockerfile.Contexts
	buildContextsOnce sync.Once
}

func (s *Shared) bind(f *pflag.FlagSet) {
	f.StringVarP(&s.Format, "format", "f", "", "output format: table, json, sarif, junit, html, markdown, checkstyle, gitlab, template (and cyclonedx, spdx where they fit); default table")
	f.StringVar(&s.Template, "template", "", "Go template file for --format template, executed over the JSON report")
	f.StringVarP(&s.Output, "output", "o", "", "write the report to this file instead of standard output")
	f.StringSliceVar(&s.Severity, "severity", nil, "only report these severities (comma-separated: critical,high,medium,low,info)")
	f.StringVar(&s.FailOn, "fail-on", "high", "exit 1 when a finding at or above this severity is reported (critical, high, medium, low, info, none)")
	// hadolint's name for the same threshold, for pipelines that move over.
	f.Var(failureThreshold{&s.FailOn}, "failure-threshold", "the same as --fail-on; also takes hadolint's levels (error, warning, style, ignore)")
	f.StringArrayVar(&s.Ignore, "ignore", nil, "hide findings of this rule or vulnerability ID on this run (repeatable; hadolint's DL codes name their dockvet rules)")
	f.StringVar(&s.ConfigFile, "config", "", "configuration file (default .dockvet.yaml in the current directory, when present)")
	f.StringVar(&s.IgnoreFile, "ignore-file", "", "ignore file (default .dockvetignore in the current directory, when present)")
	f.BoolVarP(&s.Quiet, "quiet", "q", false, "print nothing but the report and errors")
	f.BoolVar(&s.NoColor, "no-color", false, "never colour the output (also: NO_COLOR)")
	f.BoolVar(&s.NoProgress, "no-progress", false, "never show progress bars")
	f.BoolVar(&s.Offline, "offline", false, "never touch the network")
	f.StringVar(&s.CacheDir, "cache-dir", "", "cache directory for the vulnerability database and layers (also: DOCKVET_CACHE_DIR; default: the user cache directory)")
	f.StringVar(&s.Platform, "platform", "", "platform to pick from a multi-platform image, OS/ARCH[/VARIANT] (default: the host's)")
	f.BoolVar(&s.InsecureRegistry, "insecure-registry", false, "allow plain HTTP or unverified TLS to registries")
	f.BoolVar(&s.AcceptPartial, "accept-partial", false, "when some input could not be read (listed as errors in the report), exit by the findings instead of 2")
	f.DurationVar(&s.RegistryTimeout, "registry-timeout", image.DefaultRegistryTimeout,
		"how long a registry may keep dockvet waiting to connect, for a TLS handshake, for response headers or for more data (at most 10 redirects are followed)")
}

// validate checks the shared flags and, when loadConfig is set, loads the
// project configuration before the command runs, so that a bad flag or
// configuration fails fast.
func (s *Shared) validate(loadConfig bool) error {
	s.severities = nil
	for _, v := range s.Severity {
		for _, part := range strings.Split(v, ",") {
			if strings.TrimSpace(part) == "" {
				continue
			}
			sev, err := finding.ParseSeverity(part)
			if err != nil {
				return fail("--severity: %v", err)
			}
			if !slices.Contains(s.severities, sev) {
				s.severities = append(s.severities, sev)
			}
		}
	}
	if strings.EqualFold(s.FailOn, "none") {
		s.failLevel = 0
	} else {
		sev, err := finding.ParseSeverity(s.FailOn)
		if err != nil {
			return fail("--fail-on: %v (or none)", err)
		}
		s.failLevel = sev
	}
	s.template = nil
	if s.Template != "" {
		text, err := safefile.ReadFile(s.Template, safefile.MaxConfig)
		if err != nil {
			return fail("--template %s: %s", s.Template, safefile.Message(err))
		}
		if s.template, err = report.ParseTemplate(s.Template, string(text)); err != nil {
			return fail("--template %s: %v", s.Template, err)
		}
	}
	if !loadConfig {
		return nil
	}
	return s.loadConfig(".")
}

// loadConfig reads the project configuration and ignore file: the files
// --config and --ignore-file name, else .dockvet.yaml and .dockvetignore in
// the working directory, else in dir (the directory `scan` audits, whose
// own configuration applies when the working directory has none). Rule IDs
// of other tools are resolved to dockvet's; an ID that names no rule is a
// warning naming its line.
func (s *Shared) loadConfig(dir string) error {
	s.configUsed = &finding.ConfigUsed{}
	var escaped error
	pick := func(flag, name string) (string, bool) {
		if flag != "" {
			return flag, true
		}
		if _, err := os.Stat(name); err != nil && dir != "." {
			if p := filepath.Join(dir, name); fileExists(p) {
				// The audited directory's own file must be its own: a
				// link out of it (to /etc/shadow) is not read.
				if _, err := safefile.Within(dir, p); err != nil && escaped == nil {
					escaped = fail("%s: %s", p, safefile.Message(err))
				}
				return p, false
			}
		}
		return name, false
	}
	var err error
	path, required := pick(s.ConfigFile, config.DefaultFile)
	ipath, irequired := pick(s.IgnoreFile, config.DefaultIgnoreFile)
	if escaped != nil {
		return escaped
	}
	if s.cfg, err = config.Load(path, required); err != nil {
		return fail("%v", err)
	}
	if fileExists(path) {
		s.configUsed.File = path
	}
	if s.ignores, err = config.LoadIgnoreFile(ipath, irequired); err != nil {
		return fail("%v", err)
	}
	if fileExists(ipath) {
		s.configUsed.IgnoreFile = ipath
	}
	// A file found in the audited directory names paths relative to it.
	if d := filepath.Dir(path); s.ConfigFile == "" && d != "." {
		s.cfg.RebasePaths(d)
	}
	if d := filepath.Dir(ipath); s.IgnoreFile == "" && d != "." {
		s.ignores = config.RebaseIgnores(s.ignores, d)
	}
	ids := config.IDs{Resolve: catalog.Resolve, RuleLike: catalog.RuleLike}
	for _, w := range s.cfg.ResolveIDs(ids) {
		s.warn("%s", w)
	}
	var warnings []string
	s.ignores, warnings = config.ResolveIgnores(append(s.ignores, config.FlagIgnores(s.Ignore)...), ids)
	for _, w := range warnings {
		s.warn("%s", w)
	}
	return nil
}

func fileExists(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir()
}

// bindEngine adds the Docker CLI's connection flags to a command that
// talks to the Docker Engine.
func (s *Shared) bindEngine(f *pflag.FlagSet) {
	f.StringVarP(&s.EngineFlags.Host, "host", "H", "", "Docker Engine to talk to, as 'docker -H' (default: DOCKER_HOST, else the Docker context)")
	f.StringVar(&s.EngineFlags.Context, "context", "", "Docker context to talk to, as 'docker --context' (default: DOCKER_CONTEXT, else the current context of the Docker configuration)")
}

// endpoint is the Engine this run talks to, resolved once as the Docker
// CLI resolves it (engine.Resolve).
func (s *Shared) endpoint() (*engine.Endpoint, error) {
	if s.ep == nil && s.epErr == nil {
		o := s.EngineFlags
		if g := s.dockerGlobals; g != nil {
			// The command's own --host or --context, else Docker's.
			if o.Host == "" && o.Context == "" {
				o.Host, o.Context = g.Host, g.Context
			}
			o.ConfigDir = g.ConfigDir
			o.TLS, o.TLSVerify, o.TLSVerifySet = g.TLS, g.TLSVerify, g.TLSVerifySet
			o.CACert, o.Cert, o.Key = g.CACert, g.Cert, g.Key
		}
		s.ep, s.epErr = engine.Resolve(o)
		if s.epErr == nil && s.Debug {
			fmt.Fprintf(s.IO.Err, "dockvet: debug: Engine %s: context %s, from %s (Docker configuration %s)\n", s.ep.Host, s.ep.Context, s.ep.From, engine.ConfigDir(o))
		}
	}
	return s.ep, s.epErr
}

// engineInfo is what reports record of the Engine (nil when it cannot be
// resolved: the error is reported where the Engine was needed).
func (s *Shared) engineInfo() *finding.EngineInfo {
	ep, err := s.endpoint()
	if err != nil {
		return nil
	}
	return ep.Info()
}

// engineUsed records that the run talked to the Engine: the report
// names it, and standard error does once (unless --quiet).
func (s *Shared) engineUsed() {
	if s.engineSaid {
		return
	}
	s.engineSaid = true
	if ep, err := s.endpoint(); err == nil {
		s.notice("Docker Engine %s (%s)", ep.Host, ep.Origin())
	}
}

// connectEngine connects to the resolved Engine.
func (s *Shared) connectEngine(ctx context.Context) (EngineClient, error) {
	ep, err := s.endpoint()
	if err != nil {
		return nil, err
	}
	return ep.Connect(ctx)
}

// cacheDir is where the vulnerability database and caches live.
func (s *Shared) cacheDir() (string, error) { return resolveCacheDir(s.CacheDir) }

// resolveCacheDir is the cache directory: the flag's value, else
// DOCKVET_CACHE_DIR, else dockvet's directory in the user cache directory.
func resolveCacheDir(flag string) (string, error) {
	d, err := imageaudit.CacheDir(flag)
	if err != nil {
		return "", fail("%v", err)
	}
	return d, nil
}

// failureThreshold is --failure-threshold: it sets --fail-on, and reads
// hadolint's levels as the severities they correspond to.
type failureThreshold struct{ failOn *string }

var hadolintLevels = map[string]string{"error": "high", "warning": "medium", "style": "info", "ignore": "none"}

func (f failureThreshold) String() string { return "" }
func (f failureThreshold) Type() string   { return "string" }
func (f failureThreshold) Set(v string) error {
	if m, ok := hadolintLevels[strings.ToLower(strings.TrimSpace(v))]; ok {
		v = m
	}
	*f.failOn = v
	return nil
}
