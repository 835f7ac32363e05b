package cli

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/dockvet/dockvet/internal/catalog"
	"github.com/dockvet/dockvet/internal/finding"
)

// RulesOptions are those of `dockvet rules`.
type RulesOptions struct {
	*Shared
	// ID documents one rule; empty lists the catalog.
	ID       string
	Surface  string
	Practice string
}

// NewCmdRules lists the rule catalog or documents one rule.
func NewCmdRules(f *Factory, runF func(*RulesOptions) error) *cobra.Command {
	opts := &RulesOptions{Shared: f.Shared}
	cmd := &cobra.Command{
		Use:   "rules [ID]",
		Short: "List the rule catalog, or document one rule",
		Long: "List every rule with its ID, practice, severity, surfaces and CIS reference, or print one rule's documentation.\n" +
			"--format json gives the catalog as a JSON array; --format markdown gives docs/rules.md.",
		Args:        cobra.MaximumNArgs(1),
		Annotations: map[string]string{noConfig: "true"},
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				if args[0] == "" {
					return fail("no rule  (see 'dockvet rules')")
				}
				opts.ID = args[0]
			}
			if runF != nil {
				return runF(opts)
			}
			return runRules(opts)
		},
	}
	cmd.Flags().StringVar(&opts.Surface, "surface", "", "only rules of this surface (dockerfile, image, compose, container, host, watch, sbom)")
	cmd.Flags().StringVar(&opts.Practice, "practice", "", "only rules of this practice key")
	return cmd
}

func runRules(opts *RulesOptions) error {
	format, err := opts.checkFormat([]string{"table", "json", "markdown"})
	if err != nil {
		return err
	}
	rules := catalog.All()
	var peerOf string // another tool's ID the rules were found by
	if opts.ID != "" {
		r, ok := catalog.Lookup(opts.ID)
		switch {
		case ok:
			rules = []finding.Rule{r}
		case catalog.PeerTool(opts.ID) != "":
			rules = catalog.ByPeer(opts.ID)
			if len(rules) == 0 {
				what := catalog.PeerTool(opts.ID) + " " + strings.ToUpper(opts.ID)
				if t := catalog.HadolintText(opts.ID); t != "" {
					what += " (" + t + ")"
				}
				return fail("%s has no dockvet counterpart (docs/rules.md lists the mapping)", what)
			}
			peerOf = strings.ToUpper(opts.ID)
		default:
			return fail("no rule %s (see 'dockvet rules')", opts.ID)
		}
	}
	rules, err = filterRules(rules, opts.Surface, opts.Practice)
	if err != nil {
		return err
	}
	out := bufio.NewWriter(opts.IO.Out)
	switch {
	case format == "json":
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		if opts.ID != "" && peerOf == "" {
			err = enc.Encode(rules[0])
		} else {
			err = enc.Encode(nonNil(rules))
		}
	case format == "markdown":
		writeMarkdown(out, rules)
		if opts.ID == "" && opts.Surface == "" && opts.Practice == "" {
			writePeerMapping(out, rules)
		}
	case peerOf != "":
		fmt.Fprintf(out, "%s %s", catalog.PeerTool(peerOf), peerOf)
		if t := catalog.HadolintText(peerOf); t != "" {
			fmt.Fprintf(out, " (%s)", t)
		}
		fmt.Fprintf(out, " is checked by %s:\n\n", plural(len(rules), "dockvet rule"))
		for i, r := range rules {
			if i > 0 {
				fmt.Fprintln(out)
			}
			writeRuleDoc(out, r)
		}
	case opts.ID != "":
		writeRuleDoc(out, rules[0])
	default:
		writeRuleTable(out, rules)
	}
	if err != nil {
		return fail("%v", err)
	}
	if err := out.Flush(); err != nil {
		return fail("writing: %v", err)
	}
	return nil
}

func nonNil(r []finding.Rule) []finding.Rule {
	if r == nil {
		return []finding.Rule{}
	}
	return r
}

func filterRules(rules []finding.Rule, surface, practice string) ([]finding.Rule, error) {
	if surface != "" && !finding.Surface(surface).Valid() {
		return nil, fail("--surface: unknown surface %q", surface)
	}
	if practice != "" && !finding.Practice(practice).Valid() {
		return nil, fail("--practice: unknown practice %q", practice)
	}
	var out []finding.Rule
	for _, r := range rules {
		if practice != "" && string(r.Practice) != practice {
			continue
		}
		if surface != "" && !slices.Contains(r.Surfaces, finding.Surface(surface)) {
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

func surfacesText(r finding.Rule) string {
	s := make([]string, len(r.Surfaces))
	for i, x := range r.Surfaces {
		s[i] = string(x)
	}
	return strings.Join(s, ",")
}

func writeRuleTable(w io.Writer, rules []finding.Rule) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSEVERITY\tPRACTICE\tSURFACES\tCIS\tTITLE")
	for _, r := range rules {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.ID, r.Severity, r.Practice, surfacesText(r), dash(r.CIS), r.Title)
	}
	tw.Flush()
	fmt.Fprintf(w, "%d rules; `dockvet rules ID` explains one.\n", len(rules))
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeRuleDoc(w io.Writer, r finding.Rule) {
	fmt.Fprintf(w, "%s  %s\n\n", r.ID, r.Title)
	fmt.Fprintf(w, "Severity:  %s\nPractice:  %s\nSurfaces:  %s\n", r.Severity, r.Practice, surfacesText(r))
	if r.CIS != "" {
		fmt.Fprintf(w, "CIS:       Docker Benchmark 1.6.0, %s\n", r.CIS)
	}
	if len(r.Peers) > 0 {
		fmt.Fprintf(w, "Same as:   %s\n", peersText(r.Peers))
	}
	fmt.Fprintf(w, "\n%s\n\nRemediation:\n%s\n", wrap(r.Description, 78), wrap(r.Remediation, 78))
	if len(r.References) > 0 {
		fmt.Fprintln(w, "\nReferences:")
		for _, ref := range r.References {
			fmt.Fprintf(w, "  %s\n", ref)
		}
	}
}

func wrap(s string, width int) string {
	var b strings.Builder
	n := 0
	for i, word := range strings.Fields(s) {
		if i > 0 && n+1+len(word) > width {
			b.WriteString("\n")
			n = 0
		} else if i > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
}

// writeMarkdown renders docs/rules.md. A test regenerates it and compares,
// so the document can never drift from the rule values.
func writeMarkdown(w io.Writer, rules []finding.Rule) {
	fmt.Fprintln(w, "# dockvet rules")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Generated by `dockvet rules --format markdown` from the rule values; do not edit by hand.")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "| ID | Title | Severity | Practice | Surfaces | CIS |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|")
	for _, r := range rules {
		fmt.Fprintf(w, "| [%s](#%s) | %s | %s | `%s` | %s | %s |\n", r.ID, strings.ToLower(r.ID), mdEscape(r.Title), r.Severity, r.Practice, surfacesText(r), dash(r.CIS))
	}
	for _, r := range rules {
		fmt.Fprintf(w, "\n## %s\n\n**%s** — severity `%s`, practice `%s`, surfaces %s", r.ID, mdEscape(r.Title), r.Severity, r.Practice, surfacesText(r))
		if r.CIS != "" {
			fmt.Fprintf(w, ", CIS Docker Benchmark %s", r.CIS)
		}
		fmt.Fprintf(w, ".\n\n%s\n\n**Remediation:** %s\n", r.Description, r.Remediation)
		if len(r.Peers) > 0 {
			fmt.Fprintf(w, "\nSame check as: %s.\n", peersText(r.Peers))
		}
		for i, ref := range r.References {
			if i == 0 {
				fmt.Fprintln(w)
			}
			fmt.Fprintf(w, "- <%s>\n", ref)
		}
	}
}

// writePeerMapping is the end of docs/rules.md: every hadolint rule with
// the dockvet rules that carry it (from the rules' Peers), the hadolint
// rules with no counterpart, and the other tools' IDs the rules name.
func writePeerMapping(w io.Writer, rules []finding.Rule) {
	by := map[string][]string{}
	var others []string
	for _, r := range rules {
		for _, p := range r.Peers {
			p = strings.ToUpper(p)
			if by[p] == nil && catalog.HadolintText(p) == "" {
				others = append(others, p)
			}
			by[p] = append(by[p], r.ID)
		}
	}
	fmt.Fprintln(w, "\n## Coming from other tools")
	fmt.Fprintln(w, "\nGenerated from each rule's `peers`. `dockvet rules DL3008` shows the rules an ID maps to; `# hadolint ignore=DL3008`")
	fmt.Fprintln(w, "comments, `--ignore DL3008` and ignore files name those rules.")
	fmt.Fprintln(w, "\n### hadolint\n\n| hadolint | what it checks | dockvet |\n|---|---|---|")
	var none []catalog.Peer
	for _, h := range catalog.HadolintRules {
		ids := by[h.ID]
		if len(ids) == 0 {
			none = append(none, h)
			continue
		}
		links := make([]string, len(ids))
		for i, id := range ids {
			links[i] = fmt.Sprintf("[%s](#%s)", id, strings.ToLower(id))
		}
		fmt.Fprintf(w, "| %s | %s | %s |\n", h.ID, mdEscape(h.Text), strings.Join(links, ", "))
	}
	fmt.Fprintf(w, "\n#### hadolint rules with no dockvet counterpart (%d)\n\n", len(none))
	for _, h := range none {
		fmt.Fprintf(w, "- %s: %s\n", h.ID, h.Text)
	}
	if len(others) > 0 {
		slices.Sort(others)
		fmt.Fprintln(w, "\n### Other tools\n\n| tool | ID | dockvet |\n|---|---|---|")
		for _, p := range others {
			fmt.Fprintf(w, "| %s | %s | %s |\n", dash(catalog.PeerTool(p)), p, strings.Join(by[p], ", "))
		}
	}
}

func peersText(peers []string) string {
	parts := make([]string, len(peers))
	for i, p := range peers {
		if t := catalog.PeerTool(p); t != "" {
			parts[i] = t + " " + p
		} else {
			parts[i] = p
		}
	}
	return strings.Join(parts, ", ")
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
