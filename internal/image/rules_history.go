package image

import (
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/secrets"
	"github.com/dockvet/dockvet/internal/shell"
)

// historyStep is one history entry with the layer it made, if any.
type historyStep struct {
	Index int
	Step  Step
	Raw   string
	Layer *Layer
}

// steps lists the image's history, each entry mapped to its layer.
func (m *Model) steps() []historyStep {
	cf := m.Image.Config
	if cf == nil {
		return nil
	}
	byHist := map[int]*Layer{}
	for _, l := range m.Layers {
		if l.HistoryIndex >= 0 {
			byHist[l.HistoryIndex] = l
		}
	}
	out := make([]historyStep, 0, len(cf.History))
	for i, h := range cf.History {
		out = append(out, historyStep{Index: i, Step: ParseStep(h.CreatedBy), Raw: h.CreatedBy, Layer: byHist[i]})
	}
	return out
}

// where names a history entry in a message and locates it at its layer.
func (h historyStep) where() (finding.Location, string) {
	desc := fmt.Sprintf("history entry %d", h.Index)
	if in := Instruction(h.Raw); in != "" {
		desc += " (" + in + ")"
	}
	if h.Layer == nil {
		return finding.Location{}, desc
	}
	return finding.Location{Layer: h.Layer.DiffID.String(), LayerIndex: finding.LayerAt(h.Layer.Index)}, desc
}

// script parses a RUN step's shell; nil when it is not shell.
func (h historyStep) script() *shell.Script {
	if h.Step.Keyword != "RUN" {
		return nil
	}
	s, err := shell.Parse(h.Step.Args, shell.Options{})
	if err != nil {
		return nil
	}
	return s
}

// assignments reads the KEY=VALUE pairs of an ENV or LABEL step.
func assignments(args string) []KeyValue {
	s, err := shell.Parse(args, shell.Options{})
	if err != nil || len(s.Commands) == 0 {
		return nil
	}
	c := s.Commands[0]
	var out []KeyValue
	for _, a := range c.Assigns {
		out = append(out, KeyValue{a.Name, a.Value})
	}
	if len(out) == 0 && c.Name != "" && len(c.Args) > 0 {
		out = append(out, KeyValue{c.Name, strings.Join(c.Args, " ")}) // ENV KEY value
	}
	return out
}

var ruleHistorySecret = rule(&Rule{
	Rule: finding.Rule{
		ID: "DV2005", Title: "Secret in the build history", Practice: finding.PracticeSecrets, Severity: finding.Critical, CIS: "4.10",
		Description: "The image history (`docker history --no-trunc`) records a credential: a build argument (`|N KEY=VALUE` before a RUN), " +
			"a token or password on a RUN command line, or an ENV/LABEL value that a later step overwrote. The history ships with the image.",
		Remediation: secretRemediation("the Dockerfile and the build arguments") +
			" Build arguments are not secret: use `--secret` and `RUN --mount=type=secret` instead.",
		References: refSecrets,
	},
	Check: func(p *Pass) {
		env := slices.Clone(p.Image.Config.Env)
		for _, h := range p.Image.steps() {
			seen := map[string]bool{}
			report := func(m secrets.Match, format string, args ...any) {
				fp := m.Fingerprint()
				if seen[fp] {
					return
				}
				seen[fp] = true
				loc, desc := h.where()
				p.reportSecret(loc, m, format+" in %s.", append(args, desc)...)
			}
			for _, kv := range h.Step.BuildArgs {
				if m, ok := secrets.Assignment(kv.Key, kv.Value); ok {
					report(m, "Build argument %s holds %s (%s), recorded", display(kv.Key), m.Kind(), m.Masked())
				}
			}
			switch h.Step.Keyword {
			case "ENV", "LABEL":
				for _, kv := range assignments(h.Step.Args) {
					current := slices.Contains(env, kv.Key+"="+kv.Value) || p.Image.Config.Labels[kv.Key] == kv.Value
					if m, ok := secrets.Assignment(kv.Key, kv.Value); ok && !current {
						report(m, "%s %s held %s (%s) before a later step replaced it; the value is still recorded", h.Step.Keyword, display(kv.Key), m.Kind(), m.Masked())
					}
				}
			case "RUN":
				for _, m := range secrets.Scan(h.Step.Args) {
					report(m, "A RUN command line holds %s (%s)", m.Kind(), m.Masked())
				}
				if s := h.script(); s != nil {
					for _, c := range s.Commands {
						for _, a := range c.Assigns {
							if m, ok := secrets.Assignment(a.Name, a.Value); ok {
								report(m, "A RUN command sets %s to %s (%s)", display(a.Name), m.Kind(), m.Masked())
							}
						}
					}
				}
			}
		}
	},
})

var ruleAddURL = rule(&Rule{
	Rule: finding.Rule{
		ID: "DV2012", Title: "ADD of a remote URL in the history", Practice: finding.PracticeContentTrust, Severity: finding.Medium, CIS: "4.9",
		Description: "A layer was made by ADD from a URL without `--checksum`. Whatever the server returned at build time went into the image " +
			"unverified; a compromised or changed download is baked in.",
		Remediation: "Download with a pinned checksum (`ADD --checksum=sha256:… URL`, or `curl` plus `sha256sum -c`), or copy a vendored file.",
		References:  []string{"https://docs.docker.com/reference/dockerfile/#add"},
	},
	Check: func(p *Pass) {
		for _, h := range p.Image.steps() {
			if h.Step.Keyword != "ADD" || strings.Contains(h.Step.Args, "--checksum") {
				continue
			}
			for _, tok := range strings.Fields(h.Step.Args) {
				if strings.Contains(tok, "://") || strings.HasPrefix(tok, "git@") {
					loc, desc := h.where()
					p.report(loc, fmt.Sprintf("%s downloads %s without a checksum.", capitalize(desc), display(redactURL(tok))))
					break
				}
			}
		}
	},
})

// redactURL hides a password in a URL (it is reported by DV2005).
func redactURL(u string) string {
	for _, m := range secrets.Scan(u) {
		u = strings.ReplaceAll(u, m.Secret, finding.Mask(m.Secret))
	}
	return u
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

var ruleSudo = rule(&Rule{
	Rule: finding.Rule{
		ID: "DV2013", Title: "sudo used in a build step", Practice: finding.PracticeNonRoot, Severity: finding.High,
		Description: "A RUN in the image history runs `sudo`. Build steps already run as the current USER; sudo in a build means sudo is " +
			"installed and configured in the image, which hands root to anything that can run it later.",
		Remediation: "Run the step as root (`USER root` … `USER app`) instead of with sudo, and do not install sudo; in an entrypoint, drop privileges with `gosu` or `su-exec`.",
		References:  refUser,
	},
	Check: func(p *Pass) {
		for _, h := range p.Image.steps() {
			s := h.script()
			if s == nil {
				continue
			}
			for _, c := range s.Commands {
				if c.Name == "sudo" || c.Wrapped("sudo") {
					loc, desc := h.where()
					what := "sudo " + c.Name
					if c.Name == "sudo" {
						what = "sudo"
					}
					p.report(loc, fmt.Sprintf("%s runs `%s`.", capitalize(desc), display(what)))
					break
				}
			}
		}
	},
})
