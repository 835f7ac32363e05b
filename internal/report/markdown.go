package report

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// RulesDoc is where each rule is documented, for links from reports that
// are read on the web (Markdown, HTML).
const RulesDoc = InformationURI + "/blob/main/docs/rules.md"

// Markdown writes GitHub-flavoured Markdown that fits a GitHub Actions step
// summary ($GITHUB_STEP_SUMMARY) or a pull request comment: a summary table
// of every target, then one collapsible section per target with its
// findings, the host benchmark and the images' layers.
func Markdown(w io.Writer, r *finding.Report, _ Options) error {
	bw := bufio.NewWriter(w)
	s := r.Summary
	fmt.Fprintf(bw, "## dockvet: %s\n\n", countText(s.Total()))
	if len(r.Errors) > 0 {
		fmt.Fprintf(bw, "> [!WARNING]\n> %d input(s) could not be audited; this report is incomplete.\n", len(r.Errors))
		for _, e := range r.Errors {
			fmt.Fprintf(bw, "> - `%s`: %s\n", mdCode(e.Target), mdText(e.Message))
		}
		fmt.Fprintln(bw)
	}
	for _, d := range reportDetails(r) {
		fmt.Fprintf(bw, "- %s: %s\n", mdText(d.Label), mdText(d.Value))
	}
	for _, l := range identityShown(r) {
		fmt.Fprintf(bw, "- %s\n", mdText(l))
	}
	targets, groups := byTarget(r)
	fmt.Fprintln(bw, "\n| Target | Kind | Critical | High | Medium | Low | Info |")
	fmt.Fprintln(bw, "|---|---|--:|--:|--:|--:|--:|")
	for _, t := range targets {
		var c finding.Summary
		for _, f := range groups[t] {
			c.Add(f.Severity)
		}
		fmt.Fprintf(bw, "| `%s` | %s | %d | %d | %d | %d | %d |\n", mdCode(t.Name), t.Kind, c.Critical, c.High, c.Medium, c.Low, c.Info)
	}
	fmt.Fprintf(bw, "| **Total** | | **%d** | **%d** | **%d** | **%d** | **%d** |\n", s.Critical, s.High, s.Medium, s.Low, s.Info)
	if n := len(r.Suppressed); n > 0 {
		fmt.Fprintf(bw, "\n%d finding(s) suppressed by configuration, ignore files or inline comments.\n", n)
	}
	if len(r.Checks) > 0 {
		sc := ScoreChecks(r.Checks)
		fmt.Fprintf(bw, "\n<details><summary><b>CIS Docker Benchmark 1.6.0</b>: score %d (%d passed, %d warnings, %d info, %d notes)</summary>\n\n",
			sc.Score, sc.Passed, sc.Warnings, sc.Info, sc.Notes)
		fmt.Fprintf(bw, "%s\n\n| Status | CIS | Rule | Check | Note |\n|---|---|---|---|---|\n", mdText(sc.ScoreText()))
		for _, c := range r.Checks {
			title := c.Title
			if c.Manual {
				title += " (Manual)"
			}
			note := c.Note
			if c.Status == finding.CheckPass {
				note = ""
			}
			fmt.Fprintf(bw, "| %s | %s | %s | %s | %s |\n", strings.ToUpper(c.Status.String()), dashIfEmpty(c.CIS), ruleLink(c.RuleID), mdText(title), mdText(note))
		}
		fmt.Fprintln(bw, "\n</details>")
	}
	for _, t := range targets {
		fs := groups[t]
		if len(fs) == 0 {
			continue
		}
		fmt.Fprintf(bw, "\n<details><summary><b>%s</b> (%s): %s</summary>\n\n", htmlText(t.Name), t.Kind, countText(len(fs)))
		for _, d := range targetDetails(t) {
			fmt.Fprintf(bw, "- %s: %s\n", mdText(d.Label), mdText(d.Value))
		}
		fmt.Fprintln(bw, "| Severity | Rule | Where | Finding |\n|---|---|---|---|")
		for _, f := range fs {
			msg := mdText(f.Message)
			if v := f.Vulnerability; v != nil && v.Fixed != "" {
				msg += fmt.Sprintf(" Fixed in %s.", mdText(v.Fixed))
			}
			fmt.Fprintf(bw, "| **%s** | %s | %s | %s |\n", strings.ToUpper(f.Severity.String()), ruleLink(f.RuleID), mdText(locationText(f)), msg)
		}
		fmt.Fprintln(bw, "\n</details>")
	}
	for _, il := range r.Layers {
		fmt.Fprintf(bw, "\n<details><summary><b>Layers of %s</b></summary>\n\n| # | Size | Files | Wasted | Created by |\n|--:|--:|--:|--:|---|\n", htmlText(il.Target))
		for _, l := range il.Layers {
			fmt.Fprintf(bw, "| %d | %s | %d | %s | %s |\n", l.Index, humanBytes(l.Size), l.Files, humanBytes(l.Wasted), mdCodeSpan(l.CreatedBy))
		}
		fmt.Fprintln(bw, "\n</details>")
	}
	return bw.Flush()
}

func ruleLink(id string) string {
	return fmt.Sprintf("[%s](%s#%s)", id, RulesDoc, strings.ToLower(id))
}

func dashIfEmpty(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// mdText makes s safe in a table cell: one line, no cell separator, no
// HTML. Backticks stay: rule messages quote commands in them.
func mdText(s string) string {
	return strings.NewReplacer("|", `\|`, "<", "&lt;", ">", "&gt;").Replace(oneLine(s))
}

// mdCode is s inside a code span (no escaping there but the separator).
func mdCode(s string) string {
	return strings.NewReplacer("`", "'", "|", `\|`).Replace(oneLine(s))
}

func mdCodeSpan(s string) string {
	if s == "" {
		return "-"
	}
	return "`" + mdCode(s) + "`"
}

// htmlText escapes s for the HTML of a <summary>.
func htmlText(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;", `"`, "&quot;").Replace(oneLine(s))
}
