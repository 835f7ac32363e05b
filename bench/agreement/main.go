// Command agreement measures how often dockvet's Dockerfile rules agree
// with the test suites of two peers: hadolint's rule specs
// (test/Hadolint/Rule/DL*Spec.hs) and trivy-checks' Dockerfile tests
// (checks/docker/*_test.rego). It reads both from local checkouts at run
// time; nothing of them is part of this repository.
//
// trivy-checks' cases are its Rego unit tests and the good and bad
// Dockerfiles of each check's examples file, which its integration test
// scans.
//
// A peer case is "mapped" when some dockvet rule lists the peer's rule ID
// in its Peers (finding.Rule.Peers, the field `dockvet rules DL3008` and
// ignore comments use). For each mapped case the Dockerfile is parsed as
// BuildKit parses it and every rule runs; dockvet agrees when the case
// expects a finding and a rule with that peer ID reports one, or expects
// none and none does. A fragment without FROM (hadolint's tests are often
// a single RUN) gets `FROM scratch` in front, which hadolint does not need
// and BuildKit does; scratch is an image no rule has an opinion about.
//
//	bench/agreement.sh                 # checkouts under /work/corpus or $PEERS
//	go run ./bench/agreement -hadolint H/test/Hadolint/Rule -trivy T/checks/docker [-v]
//
// A file BuildKit refuses is an input error for dockvet (exit 2): that
// counts as agreeing with a peer that reports a problem in it, and as
// disagreeing with one that passes it.
//
// -v lists every disagreement with its Dockerfile; docs/agreement.md says
// for each one why it stands.
package main

import (
	"flag"
	"fmt"
	"os"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
)

func main() {
	hdir := flag.String("hadolint", "", "test/Hadolint/Rule of a hadolint checkout")
	tdir := flag.String("trivy", "", "checks/docker of a trivy-checks checkout")
	verbose := flag.Bool("v", false, "list every disagreement")
	flag.Parse()
	if *hdir == "" && *tdir == "" {
		fmt.Fprintln(os.Stderr, "agreement: give -hadolint DIR and/or -trivy DIR")
		os.Exit(2)
	}
	peers := peerRules()
	total, agreed := 0, 0
	if *hdir != "" {
		cases, skipped, err := readHadolint(*hdir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "agreement:", err)
			os.Exit(2)
		}
		var res []result
		unmapped := map[string]int{}
		unreadable := 0
		for _, c := range cases {
			if c.err != nil {
				unreadable++
				continue
			}
			if len(peers[c.code]) == 0 {
				unmapped[c.code]++
				continue
			}
			got, err := judge(c.dockerfile, c.code, peers, c.registries)
			res = append(res, result{peer: c.code, where: fmt.Sprintf("%s:%d", c.file, c.line), want: c.positive, got: got, err: err, dockerfile: c.dockerfile})
		}
		n, a := summarise("hadolint", res, *verbose)
		total, agreed = total+n, agreed+a
		fmt.Printf("hadolint: %d cases not read (%s), %d unreadable arguments\n", sum(skipped), describe(skipped), unreadable)
		fmt.Printf("hadolint rules with cases and no dockvet counterpart: %s\n", describe(unmapped))
	}
	if *tdir != "" {
		cases, err := readTrivy(*tdir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "agreement:", err)
			os.Exit(2)
		}
		examples, err := readTrivyExamples(*tdir)
		if err != nil {
			fmt.Fprintln(os.Stderr, "agreement:", err)
			os.Exit(2)
		}
		cases = append(cases, examples...)
		var res []result
		unmapped := map[string]int{}
		unreadable, configured := 0, 0
		for _, c := range cases {
			id := "AVD-" + c.check
			switch {
			case c.err != nil:
				unreadable++
				continue
			case c.configured:
				configured++
				continue
			case len(peers[id]) == 0:
				unmapped[id]++
				continue
			}
			df := c.dockerfile
			if df == "" {
				var err error
				if df, err = trivyDockerfile(c.input); err != nil {
					unreadable++
					continue
				}
			}
			got, jerr := judge(df, id, peers, nil)
			res = append(res, result{peer: id, where: c.file + ":" + c.test, want: c.positive, got: got, err: jerr, dockerfile: df})
		}
		n, a := summarise("trivy-checks", res, *verbose)
		total, agreed = total+n, agreed+a
		fmt.Printf("trivy-checks: %d unreadable cases, %d cases that set the check's own data (no dockvet counterpart)\n", unreadable, configured)
		fmt.Printf("trivy-checks checks with cases and no dockvet counterpart: %s\n", describe(unmapped))
	}
	if total > 0 {
		fmt.Printf("overall: %d of %d mapped cases agree (%.1f %%)\n", agreed, total, 100*float64(agreed)/float64(total))
	}
}

type result struct {
	peer, where string
	want, got   bool
	err         error
	dockerfile  string
}

// peerRules maps a peer ID to the dockvet rules that carry it.
func peerRules() map[string][]string {
	m := map[string][]string{}
	for _, r := range catalog.All() {
		if !slices.Contains(r.Surfaces, finding.SurfaceDockerfile) {
			continue
		}
		for _, p := range r.Peers {
			m[p] = append(m[p], r.ID)
		}
	}
	return m
}

// now is fixed so end-of-life answers do not move between runs.
var now = time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)

// judge runs dockvet on a Dockerfile and says whether a rule mapped to
// peer reported anything. A file BuildKit rejects reports nothing.
func judge(src, peer string, peers map[string][]string, registries []string) (bool, error) {
	f, err := dockerfile.Parse("Dockerfile", []byte(src))
	if err != nil && needsFrom(err) {
		f, err = dockerfile.Parse("Dockerfile", []byte("FROM scratch\n"+src))
	}
	if err != nil {
		return false, err
	}
	ids := peers[peer]
	empty, _ := os.MkdirTemp("", "agreement")
	defer os.RemoveAll(empty)
	fs := dockerfile.Check(f, dockerfile.Options{
		Policy:  &policy.Policy{TrustedRegistries: registries},
		Now:     now,
		Context: empty,
		Enabled: func(r *finding.Rule) bool { return slices.Contains(ids, r.ID) },
	})
	return len(fs) > 0, nil
}

func needsFrom(err error) bool {
	m := err.Error()
	return strings.Contains(m, "no FROM") || strings.Contains(m, "expected a FROM") || strings.Contains(m, "before FROM") ||
		strings.Contains(m, "first instruction") || strings.Contains(m, "no build stage")
}

func summarise(name string, res []result, verbose bool) (int, int) {
	type tally struct{ n, agree, fp, fn, refused int }
	by := map[string]*tally{}
	agree := 0
	for _, r := range res {
		t := by[r.peer]
		if t == nil {
			t = &tally{}
			by[r.peer] = t
		}
		t.n++
		switch {
		case r.err != nil:
			// BuildKit refuses the file and so does dockvet (exit 2): that
			// agrees with a peer that reports a problem, not with one that
			// passes the file.
			t.refused++
			if r.want {
				t.agree++
				agree++
			}
		case r.want == r.got:
			t.agree++
			agree++
		case r.got:
			t.fp++
		default:
			t.fn++
		}
	}
	ids := make([]string, 0, len(by))
	for id := range by {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	fmt.Printf("%s: %d of %d mapped cases agree (%.1f %%)\n", name, agree, len(res), 100*float64(agree)/float64(max(len(res), 1)))
	fmt.Printf("  %-12s %5s %5s %5s %5s %7s\n", "peer", "cases", "agree", "extra", "miss", "refused")
	for _, id := range ids {
		t := by[id]
		fmt.Printf("  %-12s %5d %5d %5d %5d %7d\n", id, t.n, t.agree, t.fp, t.fn, t.refused)
	}
	if verbose {
		for _, r := range res {
			if r.err == nil && r.want == r.got || r.err != nil && r.want {
				continue
			}
			what := "dockvet reports, the peer does not"
			switch {
			case r.err != nil:
				what = "BuildKit refuses the file: " + strings.ReplaceAll(r.err.Error(), "\n", " ")
			case r.want:
				what = "the peer reports, dockvet does not"
			}
			fmt.Printf("--- %s %s: %s\n%s\n", r.peer, r.where, what, indent(r.dockerfile))
		}
	}
	return len(res), agree
}

func indent(s string) string {
	s = strings.TrimRight(s, "\n")
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

func sum(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

func describe(m map[string]int) string {
	if len(m) == 0 {
		return "none"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}
