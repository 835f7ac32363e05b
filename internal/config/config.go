// Package config reads what a project tells dockvet about itself:
// .dockvet.yaml (rules on and off, severity overrides, trusted registries,
// ignores with reasons and expiry dates) and .dockvetignore, and applies them
// to a report. Every surface goes through the same Apply, so an ignore works
// the same for a Dockerfile, an image or a host.
package config

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/safefile"

	"github.com/moby/patternmatcher"
	"gopkg.in/yaml.v3"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

// DefaultFile and DefaultIgnoreFile are read from the working directory when
// present and no flag names another file.
const (
	DefaultFile       = ".dockvet.yaml"
	DefaultIgnoreFile = ".dockvetignore"
)

// Config is the parsed .dockvet.yaml.
type Config struct {
	Rules RuleSettings `yaml:"rules"`
	// TrustedRegistries is the registry allow-list (see policy.Policy).
	TrustedRegistries []string `yaml:"trustedRegistries"`
	// Trust holds the per-image trust rules: digests required or not, and
	// who must have signed the images (see policy.Rule).
	Trust  []policy.Rule `yaml:"trust"`
	Ignore []Ignore      `yaml:"ignore"`
	// Exclude lists path globs (relative to the scanned directory) that
	// `dockvet scan` does not read at all: fixtures, vendored code.
	Exclude []string `yaml:"exclude"`
	// Enforce says what `dockvet authz` denies (see Enforce).
	Enforce Enforce `yaml:"enforce"`

	policy policy.Policy
	source string
	// idRefs are the rule IDs the file names, with their lines.
	idRefs []idRef
	// dir is the configuration file's directory: relative key and trust
	// root paths in it are relative to it.
	dir string
}

// RuleSettings turns rules off and on and changes their severity.
type RuleSettings struct {
	// Disable lists rule IDs, or "practice:KEY" for a whole practice.
	Disable []string `yaml:"disable"`
	// Enable re-enables rule IDs that a broader Disable entry turned off.
	Enable []string `yaml:"enable"`
	// Severity overrides a rule's severity: {DV1090: low}.
	Severity map[string]string `yaml:"severity"`

	severity map[string]finding.Severity
}

// Ignore hides matching findings, for a stated reason, until it expires.
type Ignore struct {
	// ID is a rule ID or a vulnerability ID (or one of its aliases).
	ID string `yaml:"id"`
	// Paths limits the ignore to findings whose path or target matches one
	// of these globs ("**" crosses directories).
	Paths []string `yaml:"paths"`
	// Fingerprint limits the ignore to one exact secret.
	Fingerprint string `yaml:"fingerprint"`
	Reason      string `yaml:"reason"`
	// Expires is a date (YYYY-MM-DD); from the day after it the ignore no
	// longer hides anything.
	Expires string `yaml:"expires"`

	expires time.Time // zero when none
	origin  string    // "config FILE" or "FILE:LINE"
	by      string
}

// Default is the configuration used when no file exists.
func Default() *Config { c := &Config{source: "defaults"}; _ = c.prepare(); return c }

// Load reads a configuration file. An explicitly named file must exist
// (required); the default file may be absent.
func Load(path string, required bool) (*Config, error) {
	data, err := safefile.ReadFile(path, safefile.MaxConfig)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return Default(), nil
		}
		return nil, fmt.Errorf("config %s: %s", path, safefile.Message(err))
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Parse reads configuration bytes; name is used in errors.
func Parse(data []byte, name string) (*Config, error) {
	c := &Config{source: name, dir: filepath.Dir(name)}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(c); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("config %s: %s", name, oneLine(err.Error()))
	}
	if err := c.prepare(); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	c.idRefs = collectIDs(data)
	return c, nil
}

// Source names the file the configuration was read from ("defaults" when
// none).
func (c *Config) Source() string { return c.source }

func (c *Config) prepare() error {
	c.Rules.severity = map[string]finding.Severity{}
	for id, s := range c.Rules.Severity {
		sev, err := finding.ParseSeverity(s)
		if err != nil {
			return fmt.Errorf("rules.severity.%s: %w", id, err)
		}
		c.Rules.severity[id] = sev
	}
	for _, d := range c.Rules.Disable {
		if k, ok := strings.CutPrefix(d, "practice:"); ok && !finding.Practice(k).Valid() {
			return fmt.Errorf("rules.disable: unknown practice %q", k)
		}
	}
	for i := range c.Ignore {
		ig := &c.Ignore[i]
		ig.origin, ig.by = c.source, "config"
		if ig.ID == "" && ig.Fingerprint == "" {
			return fmt.Errorf("ignore[%d]: needs an id or a fingerprint", i)
		}
		if strings.TrimSpace(ig.Reason) == "" {
			return fmt.Errorf("ignore[%d] (%s): a reason is required, so that the next reader knows why it is hidden", i, ig.ID)
		}
		if ig.Expires != "" {
			t, err := time.Parse(time.DateOnly, ig.Expires)
			if err != nil {
				return fmt.Errorf("ignore[%d] (%s): expires %q is not a date (YYYY-MM-DD)", i, ig.ID, ig.Expires)
			}
			ig.expires = t
		}
		for _, p := range ig.Paths {
			if _, err := patternmatcher.New([]string{p}); err != nil {
				return fmt.Errorf("ignore[%d] (%s): bad path pattern %q", i, ig.ID, p)
			}
		}
	}
	for _, p := range c.Exclude {
		if _, err := patternmatcher.New([]string{p}); err != nil {
			return fmt.Errorf("exclude: bad pattern %q", p)
		}
	}
	if err := c.Enforce.prepare(); err != nil {
		return err
	}
	c.policy = policy.Policy{TrustedRegistries: c.TrustedRegistries, Rules: c.Trust}
	if err := c.policy.Validate(); err != nil {
		return err
	}
	if c.dir != "" {
		c.policy.ResolvePaths(c.dir)
	}
	// A key or trust root that is not there would make every image fail
	// its signature check; say so once, at start-up.
	for _, f := range c.policy.Files() {
		if _, err := os.Stat(f); err != nil {
			return fmt.Errorf("trust: %s: %v", f, unwrapPathError(err))
		}
	}
	return nil
}

// Policy is the trust policy this configuration describes.
func (c *Config) Policy() *policy.Policy { return &c.policy }

// Enabled reports whether a rule should run.
func (c *Config) Enabled(r *finding.Rule) bool {
	for _, id := range c.Rules.Enable {
		if id == r.ID {
			return true
		}
	}
	for _, d := range c.Rules.Disable {
		if d == r.ID || d == "practice:"+string(r.Practice) {
			return false
		}
	}
	return true
}

// LoadIgnoreFile reads a .dockvetignore: one entry per line, "ID" or
// "ID path-glob", '#' starts a comment; a comment on the same line is the
// reason. Trivy's `.trivyignore` syntax is accepted too: an
// `exp:YYYY-MM-DD` word is the day after which the entry stops hiding.
// The default file may be absent.
func LoadIgnoreFile(path string, required bool) ([]Ignore, error) {
	data, err := safefile.ReadFile(path, safefile.MaxConfig)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("ignore file %s: %s", path, safefile.Message(err))
	}
	return ParseIgnoreFile(bytes.NewReader(data), path)
}

// ParseIgnoreFile parses the lines of an ignore file.
func ParseIgnoreFile(r io.Reader, name string) ([]Ignore, error) {
	var out []Ignore
	sc := bufio.NewScanner(r)
	n := 0
	for sc.Scan() {
		n++
		line, reason, _ := strings.Cut(sc.Text(), "#")
		var fields []string
		var expires string
		for _, f := range strings.Fields(line) {
			if d, ok := strings.CutPrefix(f, "exp:"); ok {
				if expires != "" {
					return nil, fmt.Errorf("ignore file %s:%d: two exp: dates", name, n)
				}
				expires = d
				continue
			}
			fields = append(fields, f)
		}
		if len(fields) == 0 && expires == "" {
			continue
		}
		if len(fields) == 0 || len(fields) > 2 {
			return nil, fmt.Errorf("ignore file %s:%d: want \"ID\", \"ID path-glob\" and an optional exp:YYYY-MM-DD, got %q", name, n, strings.TrimSpace(line))
		}
		ig := Ignore{ID: fields[0], Reason: strings.TrimSpace(reason), origin: fmt.Sprintf("%s:%d", name, n), by: "ignore-file"}
		if expires != "" {
			t, err := time.Parse(time.DateOnly, expires)
			if err != nil {
				return nil, fmt.Errorf("ignore file %s:%d: exp:%s is not a date (YYYY-MM-DD)", name, n, expires)
			}
			ig.Expires, ig.expires = expires, t
		}
		if strings.HasPrefix(ig.ID, "fp:") {
			ig.ID, ig.Fingerprint = "", ig.ID
		}
		if len(fields) == 2 {
			if _, err := patternmatcher.New([]string{fields[1]}); err != nil {
				return nil, fmt.Errorf("ignore file %s:%d: bad path pattern %q", name, n, fields[1])
			}
			ig.Paths = []string{fields[1]}
		}
		out = append(out, ig)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ignore file %s: %w", name, err)
	}
	return out, nil
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// FlagIgnores are the entries of --ignore: IDs hidden on this run.
func FlagIgnores(ids []string) []Ignore {
	var out []Ignore
	for _, v := range ids {
		for _, id := range strings.Split(v, ",") {
			if id = strings.TrimSpace(id); id != "" {
				out = append(out, Ignore{ID: id, Reason: "--ignore " + id, origin: "--ignore " + id, by: "flag"})
			}
		}
	}
	return out
}
