// Command dfstats summarises dockvet JSON reports over a set of Dockerfiles
// or Compose files: how many files were audited, findings per file in
// total and at medium or above, findings per severity and per rule; for
// Compose, findings per service and the share that say a hardening setting
// is missing. With -sample N it also prints a sample of N findings
// stratified by rule (every rule that fired gets at least one, the rest in
// proportion to its share), each with the lines it points at, for
// classifying true and false positives by reading them.
//
//	dockvet dockerfile DIR --format json --fail-on none | go run ./bench/dfstats
//	go run ./bench/dfstats -sample 120 -seed 1 report.json
//	cat compose-*.json | go run ./bench/dfstats      # one report per Compose file
//
// It reads reports, never the dockvet packages, so the same command
// measures any dockvet binary (today's, yesterday's) on the same files.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"sort"
	"strings"
)

type finding struct {
	RuleID     string `json:"ruleId"`
	Severity   string `json:"severity"`
	Target     string `json:"target"`
	TargetKind string `json:"targetKind"`
	Location   struct {
		Path    string `json:"path"`
		Line    int    `json:"line"`
		EndLine int    `json:"endLine"`
		Service string `json:"service"`
	} `json:"location"`
	Message string `json:"message"`
	Missing []struct {
		RuleID string `json:"ruleId"`
	} `json:"missing"`
}

// unsetRules say that a hardening setting is not set; DV3062 groups them.
var unsetRules = map[string]bool{"DV3003": true, "DV3004": true, "DV3009": true, "DV3030": true, "DV3031": true, "DV3032": true, "DV3062": true}

type report struct {
	Targets []struct {
		Kind string `json:"kind"`
		Name string `json:"name"`
	} `json:"targets"`
	Findings []finding `json:"findings"`
}

var severities = []string{"critical", "high", "medium", "low", "info"}

func main() {
	sample := flag.Int("sample", 0, "print a rule-stratified sample of N findings with their lines")
	seed := flag.Uint64("seed", 1, "random seed of the sample")
	flag.Parse()
	var in io.Reader = os.Stdin
	if flag.NArg() == 1 {
		f, err := os.Open(flag.Arg(0))
		if err != nil {
			fmt.Fprintln(os.Stderr, "dfstats:", err)
			os.Exit(2)
		}
		defer f.Close()
		in = f
	}
	// One report, or several one after the other.
	var r report
	dec := json.NewDecoder(bufio.NewReader(in))
	for {
		var one report
		if err := dec.Decode(&one); err == io.EOF {
			break
		} else if err != nil {
			fmt.Fprintln(os.Stderr, "dfstats: reading the report:", err)
			os.Exit(2)
		}
		r.Targets = append(r.Targets, one.Targets...)
		r.Findings = append(r.Findings, one.Findings...)
	}
	files := 0
	for _, t := range r.Targets {
		if t.Kind == "dockerfile" || t.Kind == "compose" {
			files++
		}
	}
	if files == 0 {
		fmt.Fprintln(os.Stderr, "dfstats: the reports audit no Dockerfile or Compose file")
		os.Exit(2)
	}
	bySev := map[string]int{}
	byRule := map[string]int{}
	ruleSev := map[string]string{}
	medium := 0
	for _, f := range r.Findings {
		bySev[f.Severity]++
		byRule[f.RuleID]++
		ruleSev[f.RuleID] = f.Severity
		if f.Severity == "critical" || f.Severity == "high" || f.Severity == "medium" {
			medium++
		}
	}
	n := len(r.Findings)
	fmt.Printf("files %d, findings %d: %.2f per file, %.2f per file at medium or above\n",
		files, n, float64(n)/float64(files), float64(medium)/float64(files))
	for _, s := range severities {
		fmt.Printf("  %-8s %5d  %.2f per file\n", s, bySev[s], float64(bySev[s])/float64(files))
	}
	rules := make([]string, 0, len(byRule))
	for id := range byRule {
		rules = append(rules, id)
	}
	sort.Slice(rules, func(i, j int) bool {
		if byRule[rules[i]] != byRule[rules[j]] {
			return byRule[rules[i]] > byRule[rules[j]]
		}
		return rules[i] < rules[j]
	})
	services := map[string]bool{}
	unset := 0
	for _, f := range r.Findings {
		if f.TargetKind == "compose" && f.Location.Service != "" {
			services[f.Target+"\x00"+f.Location.Service] = true
			if unsetRules[f.RuleID] {
				unset++
			}
		}
	}
	if len(services) > 0 {
		fmt.Printf("compose: %d services with findings, %.2f findings per service, %.0f %% of them say a hardening setting is not set\n",
			len(services), float64(n)/float64(len(services)), 100*float64(unset)/float64(max(n, 1)))
	}
	fmt.Println("per rule:")
	for _, id := range rules {
		fmt.Printf("  %-7s %-8s %5d\n", id, ruleSev[id], byRule[id])
	}
	if *sample > 0 {
		printSample(r.Findings, *sample, *seed)
	}
}

// printSample draws n findings: one per rule first, then the rest in
// proportion to each rule's share of all findings.
func printSample(fs []finding, n int, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	byRule := map[string][]finding{}
	var ids []string
	for _, f := range fs {
		if byRule[f.RuleID] == nil {
			ids = append(ids, f.RuleID)
		}
		byRule[f.RuleID] = append(byRule[f.RuleID], f)
	}
	sort.Strings(ids)
	quota := map[string]int{}
	left := n
	for _, id := range ids {
		quota[id] = 1
		left--
	}
	for _, id := range ids {
		extra := int(float64(max(left, 0)) * float64(len(byRule[id])) / float64(len(fs)))
		quota[id] = min(quota[id]+extra, len(byRule[id]))
	}
	fmt.Println("sample:")
	k := 0
	for _, id := range ids {
		pool := byRule[id]
		rng.Shuffle(len(pool), func(i, j int) { pool[i], pool[j] = pool[j], pool[i] })
		for _, f := range pool[:quota[id]] {
			k++
			fmt.Printf("#%d %s %s %s:%d\n   %s\n", k, f.RuleID, f.Severity, f.Location.Path, f.Location.Line, f.Message)
			for _, l := range lines(f.Location.Path, f.Location.Line, f.Location.EndLine) {
				fmt.Printf("   | %s\n", l)
			}
		}
	}
}

// lines returns the lines a finding points at, at most eight of them.
func lines(path string, from, to int) []string {
	if from <= 0 {
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	all := strings.Split(string(data), "\n")
	if to < from {
		to = from
	}
	to = min(to, from+7, len(all))
	if from > len(all) {
		return nil
	}
	return all[from-1 : to]
}
