package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
)

// gitleaksSample is one sample of a gitleaks rule: a text the rule must
// find a secret in (True) or must leave alone.
type gitleaksSample struct {
	Rule string `json:"rule"`
	True bool   `json:"true"`
	Path string `json:"path"`
	Text string `json:"text"`
	// Gitleaks is set on a false sample that gitleaks itself, with its
	// whole configuration, reports: another rule's true sample (a
	// Cloudflare global key is a false sample of the Cloudflare API key
	// rule), which is no false sample for a scanner as a whole.
	Gitleaks bool `json:"-"`
}

// gitleaks' rules are Go functions (cmd/generate/config/rules/*.go) that
// build each rule and hand its true and false samples to utils.Validate,
// which checks them with gitleaks' detector; many samples are generated
// from regular expressions at run time. The samples are taken exactly as
// gitleaks makes them by running its own generator with two files
// replaced through the go command's -overlay (the checkout is not
// modified): utils.Validate records each sample instead of checking it,
// and secrets.NewSecret draws from a seeded source, so that two runs
// measure the same samples.
const gitleaksValidate = `package utils

import (
	"encoding/json"
	"os"

	"github.com/zricethezav/gitleaks/v8/config"
)

func record(rule string, truth bool, path, text string) {
	f, err := os.OpenFile(os.Getenv("DOCKVET_GITLEAKS_SAMPLES"), os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	if err := json.NewEncoder(f).Encode(map[string]any{"rule": rule, "true": truth, "path": path, "text": text}); err != nil {
		panic(err)
	}
}

func Validate(rule config.Rule, truePositives []string, falsePositives []string) *config.Rule {
	for _, s := range truePositives {
		record(rule.RuleID, true, "", s)
	}
	for _, s := range falsePositives {
		record(rule.RuleID, false, "", s)
	}
	return &rule
}

func ValidateWithPaths(rule config.Rule, truePositives map[string]string, falsePositives map[string]string) *config.Rule {
	for p, s := range truePositives {
		record(rule.RuleID, true, p, s)
	}
	for p, s := range falsePositives {
		record(rule.RuleID, false, p, s)
	}
	return &rule
}
`

const gitleaksRegen = `package secrets

import (
	"sync/atomic"

	"github.com/lucasjones/reggen"
)

var drawn atomic.Int64

func NewSecret(regex string) string {
	g, err := reggen.NewGenerator(regex)
	if err != nil {
		panic(err)
	}
	g.SetSeed(drawn.Add(1))
	return g.Generate(1)
}
`

// readGitleaks runs gitleaks' rule generator from the checkout at root
// and returns every rule's samples, in the order the generator made them.
func readGitleaks(root string) ([]gitleaksSample, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	tmp, err := os.MkdirTemp("", "dockvet-gitleaks-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmp)
	gen := filepath.Join(root, "cmd", "generate")
	replace := map[string]string{
		filepath.Join(gen, "config", "utils", "validate.go"): gitleaksValidate,
		filepath.Join(gen, "secrets", "regen.go"):            gitleaksRegen,
	}
	overlay := map[string]map[string]string{"Replace": {}}
	for orig, src := range replace {
		if _, err := os.Stat(orig); err != nil {
			return nil, fmt.Errorf("gitleaks checkout: %w", err)
		}
		p := filepath.Join(tmp, filepath.Base(orig))
		if err := os.WriteFile(p, []byte(src), 0o600); err != nil {
			return nil, err
		}
		overlay["Replace"][orig] = p
	}
	ov, _ := json.Marshal(overlay)
	ovPath := filepath.Join(tmp, "overlay.json")
	if err := os.WriteFile(ovPath, ov, 0o600); err != nil {
		return nil, err
	}
	out := filepath.Join(tmp, "samples.jsonl")
	cmd := exec.Command("go", "run", "-overlay", ovPath, ".", filepath.Join(tmp, "gitleaks.toml"))
	cmd.Dir = filepath.Join(gen, "config")
	cmd.Env = append(os.Environ(), "DOCKVET_GITLEAKS_SAMPLES="+out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("gitleaks generator: %v\n%s", err, stderr.Bytes())
	}
	f, err := os.Open(out)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var samples []gitleaksSample
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var s gitleaksSample
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			return nil, err
		}
		samples = append(samples, s)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	return samples, markGitleaks(root, tmp, samples)
}

// markGitleaks runs gitleaks (`gitleaks dir`, built from the checkout,
// with the configuration it ships, config/gitleaks.toml) over the false
// samples, each in a file of its own (named as the sample's path says,
// for the rules restricted to paths), and marks those it reports.
func markGitleaks(root, tmp string, samples []gitleaksSample) error {
	dir := filepath.Join(tmp, "false")
	for i, s := range samples {
		if s.True {
			continue
		}
		name := "sample.txt"
		if s.Path != "" {
			name = filepath.Base(s.Path)
		}
		d := filepath.Join(dir, fmt.Sprint(i))
		if err := os.MkdirAll(d, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, name), []byte(s.Text), 0o600); err != nil {
			return err
		}
	}
	report := filepath.Join(tmp, "report.json")
	cmd := exec.Command("go", "run", ".", "dir", dir, "--config", filepath.Join(root, "config", "gitleaks.toml"),
		"--report-format", "json", "--report-path", report, "--exit-code", "0", "--no-banner", "--log-level", "error")
	cmd.Dir = root
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("gitleaks dir: %v\n%s", err, stderr.Bytes())
	}
	data, err := os.ReadFile(report)
	if err != nil {
		return err
	}
	var findings []struct{ File string }
	if err := json.Unmarshal(data, &findings); err != nil {
		return fmt.Errorf("gitleaks report: %w", err)
	}
	for _, f := range findings {
		rel, err := filepath.Rel(dir, f.File)
		if err != nil {
			continue
		}
		var i int
		if _, err := fmt.Sscan(filepath.Dir(rel), &i); err == nil && i < len(samples) {
			samples[i].Gitleaks = true
		}
	}
	return nil
}
