//go:build linux

// Package hostile writes the hostile corpus of issue 19 — inputs an
// attacker controls that once took dockvet down (exponential expansion,
// quadratic parsing, FIFOs, loops, secrets echoed in error messages) —
// and runs dockvet over each case as a child process, measuring what the
// issue's acceptance asks: the exit code (or a one-line refusal), the CPU
// time as a ratio to a trivial input of the same kind (the case's twin),
// the peak resident memory, that no planted secret is printed, and that
// nothing hangs.
//
// The corpus is generated, never committed: some cases are hundreds of
// megabytes once inflated, and all are a few seconds to write. The same
// code serves the test (TestHostileCorpus) and the benchmark table
// (bench/hostile.sh, go run ./bench/hostile).
package hostile

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// Version names the generator; a change of any case changes it, so a
// cached corpus of an older generator is not reused.
const Version = "v5"

// Expect is what a case must end in.
type Expect int

const (
	// Handled: exit 0 or 1 (a report, findings or not), or exit 2 with
	// one line on stderr naming the budget or the limit that refused it.
	Handled Expect = iota
	// Refused: exit 2 with one line on stderr matching the case's Refusal.
	Refused
	// Incomplete: exit 2 and the JSON report carries an errors entry
	// (nothing skipped in silence).
	Incomplete
	// Ordinary: exit 0 or 1 — the twins.
	Ordinary
)

func (e Expect) String() string {
	return [...]string{"handled (0/1, or 2 naming a budget)", "refused (2, one line)", "incomplete (2, errors entry)", "ordinary (0/1)"}[e]
}

// budgetRefusal is what a one-line refusal of a handled case says: it
// names the budget or limit (issue 19: "a clear error names the budget").
var budgetRefusal = regexp.MustCompile(`(?i)budget|limit|too (many|deep|large|long|big)|exceed|more than|at most|nested|redirect|loop|not a regular file|symlink|outside the project|leaves the project|refus`)

// notRegular is what a refusal to open a FIFO, a device or a socket says.
var notRegular = regexp.MustCompile(`(?i)not a regular file|fifo|named pipe|device|socket|special file`)

// Case is one hostile input (or its twin) and how dockvet must treat it.
type Case struct {
	// Name is the case's directory under the corpus root and its name in
	// test output: NN[letter]-what (rows of the table).
	Name string
	// Row is the table row.
	Row int
	// What says in one line what the input is.
	What string
	// Args are dockvet's arguments; the child runs in the case's
	// directory. "{{registry}}" stands for the Server's host:port.
	Args []string
	// Server is the registry the case needs while it runs: "" (none),
	// "redirect-loop" or "registry" (see StartServer).
	Server string
	// Expect and, for Refused, the pattern the one stderr line matches.
	Expect  Expect
	Refusal *regexp.Regexp
	// Twin names the trivial input of the same kind the CPU time is
	// compared with ("" for a twin).
	Twin string
	// Ratio, when set, replaces CPURatio for a case whose twin is not
	// trivial: a twin of the same size, whose own cost is most of the
	// case's, makes a tighter ratio the honest bound.
	Ratio time.Duration
	// AsNobody runs the child as uid/gid 65534 (when the runner is root):
	// the row 12 cases, where root reads what the user cannot.
	AsNobody bool
	// Secrets are planted strings no output may hold beyond their first
	// 4 characters (stdout and stderr, whatever the format).
	Secrets []string
}

// IsTwin reports whether c is a trivial twin.
func (c Case) IsTwin() bool { return c.Twin == "" }

// Command is the case's command line, for a person to rerun it.
func (c Case) Command() string { return "dockvet " + strings.Join(c.Args, " ") }

// common flags: no network unless the case is a registry's, no progress
// bars, no colour; the children never see the machine's configuration
// (Run gives them their own HOME and cache directory).
func args(a ...string) []string { return append(a, "--no-progress", "--no-color", "--offline") }

// imageArgs audit an image without the layer result cache: a layer listed
// twice must be inflated once because the walk knows better, not because
// the cache remembered it (row 9 measured 80 inflations with --no-cache).
func imageArgs(ref string) []string { return args("image", ref, "--no-cache") }

func netArgs(a ...string) []string { return append(a, "--no-progress", "--no-color") }

// gen writes one case's input into dir.
type gen func(dir string) error

type entry struct {
	Case
	gen gen
}

// Cases lists the corpus: every hostile case of the rows 1–13
// and the twins they are measured against. It writes nothing.
func Cases() []Case {
	var out []Case
	for _, e := range entries() {
		out = append(out, e.Case)
	}
	return out
}

// Generated reports whether root holds a complete corpus of this Version.
func Generated(root string) bool {
	_, err := os.Stat(filepath.Join(root, ".complete-"+Version))
	return err == nil
}

// Generate writes every case into root/<name>/ and returns the cases.
// A corpus already complete for this Version is reused (the large cases
// take seconds of CPU to write); an incomplete one is rewritten.
func Generate(root string) ([]Case, error) {
	if Generated(root) {
		return Cases(), nil
	}
	stamp := filepath.Join(root, ".complete-"+Version)
	if err := os.RemoveAll(root); err != nil {
		// An earlier corpus's row 12 directories are mode 000; a root
		// runner removes them anyway, another user chmods first.
		_ = filepath.Walk(root, func(p string, _ os.FileInfo, _ error) error { _ = os.Chmod(p, 0o755); return nil })
		if err := os.RemoveAll(root); err != nil {
			return nil, err
		}
	}
	// Row 12 runs as nobody, who must reach the corpus: the root and its
	// cases are world-readable (the unreadable parts are made so on
	// purpose).
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
	if err := os.Chmod(root, 0o755); err != nil {
		return nil, err
	}
	abs, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	var out []Case
	for _, e := range entries() {
		dir := filepath.Join(abs, e.Name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, err
		}
		if err := e.gen(dir); err != nil {
			return nil, fmt.Errorf("case %s: %w", e.Name, err)
		}
		out = append(out, e.Case)
	}
	if err := os.WriteFile(stamp, []byte(Version+"\n"), 0o644); err != nil {
		return nil, err
	}
	return out, nil
}

// ByName indexes cases by name.
func ByName(cs []Case) map[string]Case {
	m := make(map[string]Case, len(cs))
	for _, c := range cs {
		m[c.Name] = c
	}
	return m
}

// write writes files (name -> content) under dir, making parents.
func write(dir string, files map[string]string) error {
	for name, body := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeFiles(files map[string]string) gen {
	return func(dir string) error { return write(dir, files) }
}

// Select keeps the cases whose name matches re, and the twins they are
// measured against.
func Select(cs []Case, re *regexp.Regexp) []Case {
	need := map[string]bool{}
	for _, c := range cs {
		if !c.IsTwin() && re.MatchString(c.Name) {
			need[c.Twin] = true
		}
	}
	var out []Case
	for _, c := range cs {
		if re.MatchString(c.Name) || need[c.Name] {
			out = append(out, c)
		}
	}
	return out
}
