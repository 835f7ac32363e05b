// Command secretsagree measures dockvet's secret engine on its peers' own
// test material, read from their checkouts at run time (nothing of theirs
// is kept in this repository):
//
//   - trivy (github.com/aquasecurity/trivy): the fixture files of
//     pkg/fanal/secret/testdata and the findings TestSecretScanner
//     (scanner_test.go) expects of trivy's built-in rules in them, as
//     written and with realistic values (see realistic.go); the files it
//     expects nothing in are the negatives;
//   - gitleaks (github.com/gitleaks/gitleaks): every rule's true and false
//     samples, made by gitleaks' own generator (see gitleaks.go).
//
// It prints recall per source, the share of false samples flagged, and
// the misses by rule. "Formats dockvet covers" are the peer rules named in
// a dockvet rule's Peers (dockvet rules --format json).
//
//	go run ./bench/secretsagree -trivy DIR -gitleaks DIR [-v]
package main

import (
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/dockvet/dockvet/internal/secrets"
)

func main() {
	trivyDir := flag.String("trivy", "", "checkout of github.com/aquasecurity/trivy")
	gitleaksDir := flag.String("gitleaks", "", "checkout of github.com/gitleaks/gitleaks")
	verbose := flag.Bool("v", false, "list every miss and every flagged false sample")
	flag.Parse()
	if *trivyDir == "" && *gitleaksDir == "" {
		fmt.Fprintln(os.Stderr, "secretsagree: give -trivy DIR, -gitleaks DIR or both")
		os.Exit(2)
	}
	peers := map[string][]string{} // peer rule ID -> dockvet rule IDs
	for _, r := range secrets.Rules() {
		for _, p := range r.Peers {
			peers[p] = append(peers[p], r.ID)
		}
	}
	if *trivyDir != "" {
		if err := runTrivy(*trivyDir, peers, *verbose); err != nil {
			fmt.Fprintln(os.Stderr, "secretsagree: trivy:", err)
			os.Exit(2)
		}
	}
	if *gitleaksDir != "" {
		if err := runGitleaks(*gitleaksDir, peers, *verbose); err != nil {
			fmt.Fprintln(os.Stderr, "secretsagree: gitleaks:", err)
			os.Exit(2)
		}
	}
}

func pct(a, b int) string {
	if b == 0 {
		return "-"
	}
	return fmt.Sprintf("%.1f %% (%d/%d)", 100*float64(a)/float64(b), a, b)
}

// span is an expected secret in a file's content.
type span struct {
	w          trivyWant
	start, end int
	line       int
}

func runTrivy(root string, peers map[string][]string, verbose bool) error {
	cases, builtin, err := readTrivy(root)
	if err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	type result struct{ found, total int }
	var asIs, real result
	negFiles, negFlagged := 0, 0
	var misses []string
	byRule := map[string]*[2]int{}
	for _, c := range cases {
		data, err := os.ReadFile(filepath.Join(root, "pkg", "fanal", "secret", c.File))
		if err != nil {
			return err
		}
		// trivy's test removes carriage returns before scanning; its
		// offsets are in that text.
		data = bytes.ReplaceAll(data, []byte("\r"), nil)
		if len(c.Wants) == 0 {
			negFiles++
			if ms := secrets.Default().ScanBytes(data, c.File); len(ms) > 0 {
				negFlagged++
				misses = append(misses, fmt.Sprintf("  flagged %s: %s", c.File, describe(ms)))
			}
			continue
		}
		spans := wantSpans(data, c.Wants)
		for _, s := range spans {
			asIs.total++
			if found(secrets.Default().ScanBytes(data, c.File), s) {
				asIs.found++
			}
		}
		text, rs := realisticText(rng, data, spans)
		ms := secrets.Default().ScanBytes(text, c.File)
		for _, s := range rs {
			real.total++
			n := byRule[s.w.Rule]
			if n == nil {
				n = &[2]int{}
				byRule[s.w.Rule] = n
			}
			n[1]++
			if found(ms, s) {
				real.found++
				n[0]++
				continue
			}
			misses = append(misses, fmt.Sprintf("  missed %s (%s) %s line %d", s.w.Rule, strings.Join(peers[s.w.Rule], ","), c.File, s.line))
		}
	}
	covered := 0
	for _, id := range builtin {
		if peers[id] != nil {
			covered++
		}
	}
	fmt.Printf("trivy: %d fixture files of TestSecretScanner, %d findings expected of %d built-in rules (%d of its %d rules named in dockvet's Peers)\n",
		len(cases)-negFiles, asIs.total, len(byRule), covered, len(builtin))
	fmt.Printf("  recall, values as written:  %s\n", pct(asIs.found, asIs.total))
	fmt.Printf("  recall, realistic values:   %s\n", pct(real.found, real.total))
	fmt.Printf("  negative files flagged:     %s\n", pct(negFlagged, negFiles))
	for _, m := range misses {
		fmt.Println(m)
	}
	_ = verbose
	return nil
}

// wantSpans places each expected secret in the text: from its offset,
// as long as trivy's mask, or (a private key, whose mask covers one line)
// up to the block's END line.
func wantSpans(data []byte, wants []trivyWant) []span {
	var out []span
	for _, w := range wants {
		s := span{w: w, start: w.Offset, end: min(w.Offset+w.Length, len(data))}
		if w.Rule == "private-key" {
			if i := bytes.Index(data[w.Offset:], []byte("-----END")); i >= 0 {
				s.end = w.Offset + i
			}
		}
		if s.end <= s.start {
			s.end = s.start + 1
		}
		out = append(out, s)
	}
	slices.SortFunc(out, func(a, b span) int { return cmp.Compare(a.start, b.start) })
	for i := range out {
		out[i].line = bytes.Count(data[:out[i].start], []byte("\n")) + 1
	}
	return out
}

var pemLabel = regexp.MustCompile(`-----BEGIN ([A-Z0-9 ]*PRIVATE KEY)-----(?:\\n|\s)*$`)

// realisticText replaces every expected secret with a realistic one and
// returns the new text and the secrets' new places.
func realisticText(rng *rand.Rand, data []byte, spans []span) ([]byte, []span) {
	var b bytes.Buffer
	var out []span
	prev := 0
	for _, s := range spans {
		if s.start < prev {
			continue // overlapping expectations: keep the first
		}
		b.Write(data[prev:s.start])
		old := string(data[s.start:s.end])
		var v string
		if s.w.Rule == "private-key" {
			label := "PRIVATE KEY"
			if m := pemLabel.FindSubmatch(data[max(0, s.start-64):s.start]); m != nil {
				label = string(m[1])
			}
			v = pemKey(rng, label, old)
		} else {
			v = realistic(rng, s.w.Rule, old)
		}
		ns := span{w: s.w, start: b.Len(), line: bytes.Count(b.Bytes(), []byte("\n")) + 1}
		b.WriteString(v)
		ns.end = b.Len()
		out = append(out, ns)
		prev = s.end
	}
	b.Write(data[prev:])
	return b.Bytes(), out
}

// found reports whether a match covers part of the expected secret.
func found(ms []secrets.Match, s span) bool {
	for _, m := range ms {
		if m.Start < s.end && s.start < m.End {
			return true
		}
	}
	return false
}

func describe(ms []secrets.Match) string {
	var parts []string
	for _, m := range ms {
		parts = append(parts, fmt.Sprintf("%s line %d (%s)", m.Rule.ID, m.Line, m.Masked()))
	}
	return strings.Join(parts, ", ")
}

func runGitleaks(root string, peers map[string][]string, verbose bool) error {
	samples, err := readGitleaks(root)
	if err != nil {
		return err
	}
	// Two kinds of false samples are secrets all the same, and are left
	// out: one whose text is also a true sample (only its path makes it
	// false, for a rule that looks at some file names alone: dockvet
	// judges content), and one gitleaks' own source marks as a "False
	// Negative" (a real secret its rule misses).
	trueText := map[string]bool{}
	for _, s := range samples {
		if s.True {
			trueText[s.Text] = true
		}
	}
	missedByGitleaks, err := gitleaksFalseNegatives(root)
	if err != nil {
		return err
	}
	type count struct{ tp, tpn, fp, fpn int }
	byRule := map[string]*count{}
	var rules []string
	var ex = map[string][]string{}
	othersTrue, secretsAnyway := 0, 0
	for _, s := range samples {
		c := byRule[s.Rule]
		if c == nil {
			c = &count{}
			byRule[s.Rule] = c
			rules = append(rules, s.Rule)
		}
		ms := secrets.Default().ScanBytes([]byte(s.Text), s.Path)
		if s.True {
			c.tpn++
			if len(ms) > 0 {
				c.tp++
			} else if verbose {
				ex[s.Rule] = append(ex[s.Rule], fmt.Sprintf("    missed %q", s.Text))
			}
		} else if s.Gitleaks {
			othersTrue++
		} else if trueText[s.Text] || missedByGitleaks[s.Text] {
			secretsAnyway++
		} else {
			c.fpn++
			if len(ms) > 0 {
				c.fp++
				ex[s.Rule] = append(ex[s.Rule], fmt.Sprintf("    flagged %s: %q", describe(ms), s.Text))
			}
		}
	}
	slices.Sort(rules)
	var cov, all count
	for _, id := range rules {
		c := byRule[id]
		all.tp += c.tp
		all.tpn += c.tpn
		all.fp += c.fp
		all.fpn += c.fpn
		if peers[id] != nil {
			cov.tp += c.tp
			cov.tpn += c.tpn
		}
	}
	ncov := 0
	for _, id := range rules {
		if peers[id] != nil {
			ncov++
		}
	}
	fmt.Printf("gitleaks: %d rules, %d true and %d false samples (%d rules named in dockvet's Peers)\n", len(rules), all.tpn, all.fpn, ncov)
	fmt.Printf("  recall, formats dockvet covers: %s\n", pct(cov.tp, cov.tpn))
	fmt.Printf("  recall, all true samples:       %s\n", pct(all.tp, all.tpn))
	fmt.Printf("  false samples flagged:          %s \n", pct(all.fp, all.fpn))
	fmt.Printf("    left out: %d false samples that another gitleaks rule reports, %d that are secrets all the same (the text of a true sample under another file name, or marked \"False Negative\" in gitleaks' source)\n", othersTrue, secretsAnyway)
	fmt.Println("  by rule (true samples found, false samples flagged; * = covered):")
	for _, id := range rules {
		c := byRule[id]
		mark := " "
		if peers[id] != nil {
			mark = "*"
		}
		if c.tp == c.tpn && c.fp == 0 && !verbose {
			continue
		}
		fmt.Printf("  %s %-45s %3d/%-3d %d/%d %s\n", mark, id, c.tp, c.tpn, c.fp, c.fpn, strings.Join(peers[id], ","))
		for _, e := range ex[id] {
			fmt.Println(e)
		}
	}
	return nil
}

// gitleaksFalseNegatives reads the rules' sources for false samples that
// a "// False Negative" comment marks as real secrets the rule misses.
func gitleaksFalseNegatives(root string) (map[string]bool, error) {
	files, err := filepath.Glob(filepath.Join(root, "cmd", "generate", "config", "rules", "*.go"))
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	lit := regexp.MustCompile("^\\s*(`[^`]*`|\"(?:[^\"\\\\]|\\\\.)*\")")
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		lines := strings.Split(string(data), "\n")
		for i, l := range lines {
			if !strings.Contains(l, "// False Negative") || i+1 >= len(lines) {
				continue
			}
			if m := lit.FindStringSubmatch(lines[i+1]); m != nil {
				if v, err := strconv.Unquote(m[1]); err == nil {
					out[v] = true
				}
			}
		}
	}
	return out, nil
}
