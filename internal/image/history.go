package image

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/policy"
	"github.com/dockvet/dockvet/internal/secrets"
)

// The image's history is judged by the Dockerfile rules: the history
// records are read back into a Dockerfile (dockerfile.ParseHistory) and
// the rules that judge what a record holds run on it, so that an image
// whose history holds `RUN curl … | sh` gets DV1070 like the Dockerfile
// line does. A finding is located at its history entry: Location.Path is
// "history[N]", N the entry's index in the configuration's history (as
// `docker image inspect` and `crane config` list it, oldest first, from
// 0), and Layer and LayerIndex name the layer the entry made, if any.

// configSecrets pairs an image rule over the configuration with the
// Dockerfile rule that finds the same value in the history: a secret the
// configuration still holds is reported once, by the image rule.
var configSecrets = map[string]string{"DV1040": "DV2003", "DV1043": "DV2004"}

// historyFindings runs the Dockerfile rules on the image's history.
// reported are the image rules' findings so far.
func historyFindings(m *Model, o AuditOptions, reported []finding.Finding, target finding.Target, pol *policy.Policy, now time.Time) []finding.Finding {
	cf := m.Image.Config
	if cf == nil || len(cf.History) == 0 {
		return nil
	}
	records := make([]string, len(cf.History))
	for i, h := range cf.History {
		records[i] = h.CreatedBy
	}
	h, err := dockerfile.ParseHistory(records)
	if err != nil {
		return nil // ParseHistory skips what it cannot read; the fuzz target holds it to that
	}
	layerOf := map[int]*Layer{}
	for _, l := range m.Layers {
		if l.HistoryIndex >= 0 {
			layerOf[l.HistoryIndex] = l
		}
	}
	held := map[string]bool{}
	for _, f := range reported {
		if f.Fingerprint != "" {
			held[f.RuleID+" "+f.Fingerprint] = true
		}
	}
	found := dockerfile.Check(h.File, dockerfile.Options{
		Policy:  pol,
		Now:     now,
		Enabled: func(r *finding.Rule) bool { return dockerfile.OnHistory(r) && o.Enabled.Allows(r) },
	})
	var out []finding.Finding
	for _, f := range found {
		e := h.Entry(f.Location.Line)
		if e < 0 {
			continue
		}
		if id, ok := configSecrets[f.RuleID]; ok && f.Fingerprint != "" && held[id+" "+f.Fingerprint] {
			continue
		}
		f.Target, f.TargetKind = target.Name, target.Kind
		f.Location = finding.Location{Path: fmt.Sprintf("history[%d]", e)}
		if l := layerOf[e]; l != nil {
			f.Location.Layer, f.Location.LayerIndex = l.DiffID.String(), finding.LayerAt(l.Index)
		}
		out = append(out, f)
	}
	return out
}

// Instruction is a short, safe form of created_by for messages: the
// instruction without shell boilerplate or build arguments, secrets
// masked, at most 60 characters.
func Instruction(createdBy string) string {
	if strings.TrimSpace(createdBy) == "" {
		return ""
	}
	st := dockerfile.ParseHistoryStep(createdBy)
	s := secrets.MaskText(strings.TrimSpace(st.Keyword + " " + st.Args))
	s = display(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:59]) + "…"
	}
	return s
}
