package secrets

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/dockvet/dockvet/internal/secrets/sample"
)

// densityInputs are adversarial inputs for one keyword: the keyword
// repeated (as written and upper-cased, on one line), one per line,
// followed by an assignment and by a URL's user information (what the
// prechecks want), followed by a long value, and as PEM BEGIN lines.
func densityInputs(kw string, size int) map[string][]byte {
	fill := func(unit string) []byte {
		return bytes.Repeat([]byte(unit), size/len(unit)+1)[:size]
	}
	up := strings.ToUpper(kw)
	return map[string][]byte{
		"repeated":   fill(kw),
		"upper":      fill(up + " "),
		"lines":      fill(kw + "\n"),
		"assigned":   fill(kw + "=a"),
		"userinfo":   fill(kw + "://u:p"),
		"long-value": fill(kw + "=" + strings.Repeat("A", 40) + " "),
		"pem":        fill("-----BEGIN " + up + "-----\n"),
	}
}

// densityEngine is shared by the density tests: building an engine
// compiles every rule, which under the race detector cost more than the
// scans themselves. Its counters only grow, so work measures by
// difference, and the tests using it do not run in parallel.
var densityEngine *Engine

// work scans data and returns the bytes its rules' expressions were
// handed and the prechecks run, per input byte. The density budget is
// per input, so a shared engine measures what a fresh one would.
func work(t testing.TB, data []byte, chunked bool) (float64, float64) {
	if densityEngine == nil {
		e, err := New(Options{Info: true})
		if err != nil {
			t.Fatal(err)
		}
		densityEngine = e
	}
	e := densityEngine
	w0, p0 := e.stats.work.Load(), e.stats.prechecks.Load()
	if chunked {
		if _, err := e.ScanFile(bytes.NewReader(data), "dense.txt"); err != nil {
			t.Fatal(err)
		}
	} else {
		e.ScanBytes(data, "dense.txt")
	}
	n := float64(len(data))
	return float64(e.stats.work.Load()-w0) / n, float64(e.stats.prechecks.Load()-p0) / n
}

// maxWorkPerByte bounds the bytes handed to expressions per input byte,
// whatever the keyword density: each rule spends at most denseFactor per
// byte one keyword at a time and about 1.4 more in regions, and a
// position holds the keywords of a few rules at most. maxPrechecksPerByte
// bounds the prechecks (each reads at most precheckReach bytes): a
// precheck counts precheckCost against its rule's budget.
const (
	maxWorkPerByte      = 12
	maxPrechecksPerByte = 0.5
)

// TestKeywordDensity proves the engine's work per byte is bounded whatever
// the density of keywords (issue 19: a megabyte of one PEM BEGIN line took
// 86 s). For every keyword of every rule, inputs made of nothing but that
// keyword (and what its rule expects after it) cost at most
// maxWorkPerByte bytes of expression input and maxPrechecksPerByte
// prechecks per byte; an ordinary file of the same size (dense with
// secrets) is the reference.
func TestKeywordDensity(t *testing.T) {
	if raceEnabled {
		// It counts work, so the race detector adds nothing but a
		// fifteenfold slower regular-expression machine (over a minute
		// and a half for the first keywords alone); .ci/run runs it
		// without.
		t.Skip("a count of work, run without the race detector (.ci/run does)")
	}
	// Four times a rule's slack: the budget, not the slack, decides.
	size := 4 * denseSlack
	var normal bytes.Buffer
	for normal.Len() < size {
		for _, s := range sample.All(7) {
			normal.WriteString(strings.Repeat("a quiet line of configuration: value = 42, token_ttl = 3600\n", 20))
			normal.WriteString(s.Text)
		}
	}
	base, basePre := work(t, normal.Bytes()[:size], false)
	t.Logf("ordinary text: %.2f bytes of expression input and %.3f prechecks per byte", base, basePre)
	seen := map[string]bool{}
	worst, worstPre, worstName := 0.0, 0.0, ""
	for _, r := range Rules() {
		for i, kw := range r.Keywords {
			if seen[kw] || testing.Short() && i > 0 {
				// -short: each rule's first keyword.
				continue
			}
			seen[kw] = true
			for name, data := range densityInputs(kw, size) {
				w, pre := work(t, data, false)
				if w > worst {
					worst, worstName = w, fmt.Sprintf("%s %q %s", r.ID, kw, name)
				}
				worstPre = max(worstPre, pre)
				if w > maxWorkPerByte || pre > maxPrechecksPerByte {
					t.Errorf("%s keyword %q, %s: %.1f bytes of expression input and %.2f prechecks per byte, over %d and %.1f",
						r.ID, kw, name, w, pre, maxWorkPerByte, maxPrechecksPerByte)
				}
			}
		}
	}
	t.Logf("worst: %s, %.2f bytes of expression input per byte (%.1f times ordinary text); at most %.3f prechecks per byte",
		worstName, worst, worst/max(base, 0.01), worstPre)
	// Chunked reading has the same budget.
	pem := densityInputs("-----begin rsa private key-----", size)["repeated"]
	if w, _ := work(t, pem, true); w > maxWorkPerByte {
		t.Errorf("PEM BEGIN lines read in chunks: %.1f bytes of work per byte", w)
	}
}

// TestDenseRecall checks that a secret in a region searched at once is
// still found, with its position: samples of every rule, each repeated
// after its keyword repeated enough to exhaust the rule's budget.
func TestDenseRecall(t *testing.T) {
	for _, s := range sample.All(5) {
		r := ruleByID[s.RuleID]
		if r == nil || r.Paths != nil {
			continue
		}
		kw := r.Keywords[0]
		pad := bytes.Repeat([]byte(kw+" "), (denseSlack/len(kw))*2)
		data := append(append(append([]byte{}, pad...), '\n'), s.Text...)
		data = append(append(data, '\n'), pad...)
		// The padding is full of generic "credentials"
		// (sharedaccesskey= sharedaccesskey=): no match cap here.
		e, _ := New(Options{Info: true, MaxMatches: -1})
		found := false
		for _, m := range e.ScanBytes(data, s.Path) {
			if m.Rule.ID == s.RuleID && m.Secret == s.Secret {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: sample not found amid %d repetitions of %q (%d regions)", s.RuleID, len(pad)/(len(kw)+1), kw, e.stats.regions.Load())
		}
	}
}

// TestDenseChunks checks that regions do not depend on where a chunk
// ended: dense input with secrets among the keywords finds the same
// matches whole and read in chunks of every size.
func TestDenseChunks(t *testing.T) {
	var text bytes.Buffer
	for _, s := range sample.All(11) {
		r := ruleByID[s.RuleID]
		if r == nil || r.Paths != nil {
			continue
		}
		text.Write(bytes.Repeat([]byte(r.Keywords[0]+" "), 64))
		text.WriteString(s.Text)
		text.Write(bytes.Repeat([]byte(r.Keywords[0]), 32))
		text.WriteByte('\n')
	}
	data := text.Bytes()
	e, _ := New(Options{MaxMatches: -1})
	whole := e.ScanBytes(data, "dense.txt")
	if e.stats.regions.Load() == 0 || len(whole) < 50 {
		t.Fatalf("%d regions, %d matches: the input is not dense enough to test regions", e.stats.regions.Load(), len(whole))
	}
	for _, chunk := range []int{7, 4096, 1 << 16} {
		e, _ := New(Options{MaxMatches: -1})
		e.chunk = chunk
		res, err := e.ScanFile(iotest{bytes.NewReader(data)}, "dense.txt")
		if err != nil {
			t.Fatal(err)
		}
		if !sameMatches(res.Matches, whole) {
			t.Errorf("chunk %d: %d matches, whole text %d", chunk, len(res.Matches), len(whole))
		}
	}
}

// awsKeyIDs are n distinct AWS access key IDs, one per line.
func awsKeyIDs(n int) []byte { return sample.AWSKeyIDs(n, rand.New(rand.NewPCG(1, 2))) }

// TestMatchCap checks the per-input match cap: past it the rest is not
// searched and the result says so; under it, or with no cap, every match
// is kept.
func TestMatchCap(t *testing.T) {
	data := awsKeyIDs(50)
	e, _ := New(Options{MaxMatches: 10})
	res, err := e.ScanFile(bytes.NewReader(data), "keys.txt")
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Matches) != 10 || !res.Capped || e.Stats().Capped != 1 {
		t.Errorf("cap 10: %d matches, capped %v, stats %d", len(res.Matches), res.Capped, e.Stats().Capped)
	}
	if res.Matches[9].Line != 10 {
		t.Errorf("the cap kept line %d last, want the first ten", res.Matches[9].Line)
	}
	for _, opt := range []int{-1, 50} {
		e, _ := New(Options{MaxMatches: opt})
		res, _ := e.ScanFile(bytes.NewReader(data), "keys.txt")
		if len(res.Matches) != 50 || res.Capped {
			t.Errorf("cap %d: %d matches, capped %v; want all 50", opt, len(res.Matches), res.Capped)
		}
	}
	// The default engine caps at DefaultMaxMatches.
	res, _ = Default().ScanFile(bytes.NewReader(awsKeyIDs(DefaultMaxMatches+5)), "keys.txt")
	if len(res.Matches) != DefaultMaxMatches || !res.Capped {
		t.Errorf("default: %d matches, capped %v", len(res.Matches), res.Capped)
	}
}

// BenchmarkDensity compares the engine on inputs made of one keyword
// repeated with an ordinary file of the same size (cpu-MiB/s and
// work/byte).
func BenchmarkDensity(b *testing.B) {
	const size = 1 << 20
	var normal bytes.Buffer
	for normal.Len() < size {
		for _, s := range sample.All(7) {
			normal.WriteString(strings.Repeat("a quiet line of configuration: value = 42, token_ttl = 3600\n", 20))
			normal.WriteString(s.Text)
		}
	}
	inputs := []struct {
		name string
		data []byte
	}{
		{"ordinary", normal.Bytes()[:size]},
		{"pem-begin", densityInputs("-----begin rsa private key-----", size)["pem"]},
		{"amqp", densityInputs("amqp://", size)["upper"]},
		{"pat", densityInputs("pat", size)["spaced"]},
		{"password", densityInputs("password", size)["assigned"]},
		{"accesskeysecret", densityInputs("accesskeysecret", size)["repeated"]},
	}
	for _, in := range inputs {
		b.Run(in.name, func(b *testing.B) {
			e, _ := New(Options{})
			b.SetBytes(int64(len(in.data)))
			for b.Loop() {
				e.ScanBytes(in.data, "dense.txt")
			}
			n := float64(int64(b.N) * int64(len(in.data)))
			b.ReportMetric(float64(e.stats.work.Load())/n, "work/byte")
			b.ReportMetric(float64(e.stats.prechecks.Load())/n, "prechecks/byte")
		})
	}
}
