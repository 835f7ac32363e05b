package secrets_test

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/tools/txtar"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/ruletest"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/secrets/sample"
)

var update = flag.Bool("update", false, "regenerate testdata/corpus/secrets.txtar from package sample")

// The corpus is a set of txtar archives (testdata/corpus/*.txtar). Each
// file of an archive is one text the engine scans whole, named by the path
// it would have: rules restricted to file names (.pypirc,
// .git-credentials) and the severity of vendored and test paths depend on
// it. The first line of a file says what it is. internal/ruletest
// annotations give what the engine must report, exactly:
//
//   - every secret has a `# want@-N RULE "message"` line at the end of its
//     file, N counting back to the line where the secret starts (a
//     comment on that line could change what it holds);
//   - in the look-alikes, `# ok RULE` stands before the line a naive rule
//     would flag, the line that holds the imitated rule's keyword.
//
// secrets.txtar is generated from package sample (-update); the others
// are written by hand.

// TestCorpus scans every file of the corpus and compares what the engine
// finds with the file's annotations: a secret not found, a finding not
// wanted, a message that does not match, each fails. Precision and recall
// are logged as a figure; the test itself is exact.
func TestCorpus(t *testing.T) {
	if *update {
		writeSecretsCorpus(t)
	}
	e, err := secrets.New(secrets.Options{Info: true})
	if err != nil {
		t.Fatal(err)
	}
	known := map[string]bool{}
	for _, r := range secrets.Rules() {
		known[r.ID] = true
	}
	archives, err := filepath.Glob("testdata/corpus/*.txtar")
	if err != nil || len(archives) == 0 {
		t.Fatalf("no corpus archives: %v", err)
	}
	var ran []string
	var tally tally
	positives, lookalikes := 0, 0
	for _, path := range archives {
		ran = append(ran, filepath.ToSlash(path))
		a, err := txtar.ParseFile(path)
		if err != nil {
			t.Fatal(err)
		}
		for i, f := range a.Files {
			// Paths repeat across an archive; the case names a file by
			// its place too.
			key := fmt.Sprintf("%s[%d] %s", filepath.Base(path), i, f.Name)
			c := &ruletest.Case{}
			if err := c.Add(key, f.Data); err != nil {
				t.Fatal(err)
			}
			if len(c.Wants) > 0 {
				positives++
			} else {
				lookalikes++
			}
			var got []ruletest.Got
			for _, m := range e.ScanBytes(f.Data, f.Name) {
				got = append(got, ruletest.Got{Path: key, Line: m.Line, Finding: m.Finding(finding.Target{Name: f.Name}, finding.Location{Path: f.Name})})
			}
			c.Check(t, got, func(id string) bool { return known[id] })
			tally.add(c, got)
		}
	}
	ruletest.RequireRun(t, "testdata", ran)
	t.Logf("corpus: %d files with secrets, %d look-alikes; recall %.1f%% (%d/%d), precision %.1f%% (%d/%d)",
		positives, lookalikes, 100*tally.recall(), tally.tp, tally.tp+tally.fn, 100*tally.precision(), tally.tp, tally.tp+tally.fp)
	if positives < 100 || lookalikes < 100 {
		t.Errorf("corpus too small: %d files with secrets and %d look-alikes, want at least 100 of each", positives, lookalikes)
	}
}

// tally counts, over the corpus, the wanted secrets found (tp), the
// findings not wanted (fp) and the wanted secrets not found (fn).
type tally struct{ tp, fp, fn int }

func (n *tally) add(c *ruletest.Case, got []ruletest.Got) {
	used := make([]bool, len(c.Wants))
	for _, g := range got {
		i := slices.IndexFunc(c.Wants, func(w ruletest.Want) bool { return w.Line == g.Line && w.Rule == g.RuleID })
		for i >= 0 && used[i] {
			j := slices.IndexFunc(c.Wants[i+1:], func(w ruletest.Want) bool { return w.Line == g.Line && w.Rule == g.RuleID })
			if j < 0 {
				i = -1
				break
			}
			i += 1 + j
		}
		if i < 0 {
			n.fp++
			continue
		}
		used[i] = true
		n.tp++
	}
	for _, u := range used {
		if !u {
			n.fn++
		}
	}
}

func (n *tally) recall() float64    { return float64(n.tp) / float64(max(n.tp+n.fn, 1)) }
func (n *tally) precision() float64 { return float64(n.tp) / float64(max(n.tp+n.fp, 1)) }

// TestEveryRuleHasCases checks that the corpus proves every rule both
// ways: a secret it must find and a look-alike it must leave alone.
func TestEveryRuleHasCases(t *testing.T) {
	archives, _ := filepath.Glob("testdata/corpus/*.txtar")
	found, spared := map[string]bool{}, map[string]bool{}
	for _, path := range archives {
		data, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		want, ok, err := ruletest.Names(data)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		for _, id := range want {
			found[id] = true
		}
		for _, id := range ok {
			spared[id] = true
		}
	}
	for _, r := range secrets.Rules() {
		if !found[r.ID] {
			t.Errorf("%s (%s): no secret in the corpus is wanted of it", r.ID, r.Title)
		}
		if !spared[r.ID] {
			t.Errorf("%s (%s): no look-alike of it in the corpus", r.ID, r.Title)
		}
	}
}

// writeSecretsCorpus regenerates secrets.txtar: every sample secret in
// its text, each wanted of its rule at the line it starts on, with its
// masked value. The expectations come from the samples, not from a scan.
func writeSecretsCorpus(t *testing.T) {
	a := &txtar.Archive{Comment: []byte("Fabricated secrets in the exact formats of the rules, each in a typical file.\n" +
		"Generated by `go test ./internal/secrets -run TestCorpus -update` from package sample; none grants anything.\n")}
	for _, s := range sample.All(4) {
		text := "# " + ruleByID(t, s.RuleID).Title + "\n" + strings.TrimRight(s.Text, "\n") + "\n"
		lines := strings.Count(text, "\n")
		planted := append([]sample.Also{{RuleID: s.RuleID, Secret: s.Secret}}, s.Also...)
		for i, p := range planted {
			off := strings.Index(text, p.Secret)
			if off < 0 {
				t.Fatalf("%s: the sample's text does not hold its secret", p.RuleID)
			}
			at := strings.Count(text[:off], "\n") + 1
			m := secrets.Match{Rule: ruleByID(t, p.RuleID), Secret: p.Secret}
			pattern := regexp.QuoteMeta(m.Kind() + " (" + m.Masked() + ")")
			text += fmt.Sprintf("# want@-%d %s %s\n", lines+i+1-at, p.RuleID, strconv.Quote(pattern))
		}
		a.Files = append(a.Files, txtar.File{Name: s.Path, Data: []byte(text)})
	}
	if err := os.WriteFile("testdata/corpus/secrets.txtar", txtar.Format(a), 0o644); err != nil {
		t.Fatal(err)
	}
}

func ruleByID(t *testing.T, id string) *secrets.Rule {
	for _, r := range secrets.Rules() {
		if r.ID == id {
			return r
		}
	}
	t.Fatalf("no secret rule %s", id)
	return nil
}
