package dockerfile

import (
	"regexp"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/parser"

	"github.com/dockvet/dockvet/internal/finding"
)

// Inline suppressions:
//
//	# dockvet ignore=DV1001,DV1010 the reason
//	RUN …                                  <- waived for this instruction
//
//	# dockvet ignore-file=DV1091 the reason <- waived for the whole file
//
// and hadolint's, whose DL codes name the dockvet rules that carry the
// same check (config.Filter resolves them):
//
//	# hadolint ignore=DL3008,DL3009        <- for the next instruction
//	# hadolint global ignore=DL3008        <- for the whole file
var (
	waiverRe             = regexp.MustCompile(`^dockvet\s+ignore=([A-Za-z0-9_,-]+)\s*(.*)$`)
	fileWaiverRe         = regexp.MustCompile(`^\s*#\s*dockvet\s+ignore-file=([A-Za-z0-9_,-]+)\s*(.*)$`)
	hadolintWaiverRe     = regexp.MustCompile(`^hadolint\s+ignore=\s*([A-Za-z0-9_, ]+?)\s*$`)
	hadolintFileWaiverRe = regexp.MustCompile(`^\s*#\s*hadolint\s+global\s+ignore=\s*([A-Za-z0-9_, ]+?)\s*$`)
)

func waivers(f *File, ast *parser.Node) []finding.Waiver {
	var out []finding.Waiver
	for _, n := range ast.Children {
		for _, c := range n.PrevComment {
			if m := waiverRe.FindStringSubmatch(strings.TrimSpace(c)); m != nil {
				out = append(out, finding.Waiver{Path: f.Path, Line: n.StartLine, EndLine: n.EndLine, RuleIDs: splitIDs(m[1]), Reason: m[2]})
			}
			if m := hadolintWaiverRe.FindStringSubmatch(strings.TrimSpace(c)); m != nil {
				ids := splitIDs(m[1])
				out = append(out, finding.Waiver{Path: f.Path, Line: n.StartLine, EndLine: n.EndLine, RuleIDs: ids,
					Reason: "hadolint ignore=" + strings.Join(ids, ",")})
			}
		}
	}
	for _, l := range f.Lines {
		if m := fileWaiverRe.FindStringSubmatch(l); m != nil {
			out = append(out, finding.Waiver{Path: f.Path, RuleIDs: splitIDs(m[1]), Reason: m[2]})
		}
		if m := hadolintFileWaiverRe.FindStringSubmatch(l); m != nil {
			ids := splitIDs(m[1])
			out = append(out, finding.Waiver{Path: f.Path, RuleIDs: ids, Reason: "hadolint global ignore=" + strings.Join(ids, ",")})
		}
	}
	return out
}

func splitIDs(s string) []string {
	var ids []string
	for _, id := range strings.Split(s, ",") {
		if id = strings.TrimSpace(id); id != "" {
			ids = append(ids, strings.ToUpper(id))
		}
	}
	return ids
}
