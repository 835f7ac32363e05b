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

// historyRules are the Dockerfile rules run on the history.
//
// Left out, because the record does not hold what they judge: the FROM
// line and the stages (DV1001, DV1010–DV1016, DV1057, DV1099–DV1101,
// DV1119), COPY --from (DV1058), the flags of RUN (DV1025 --network,
// DV1083 --security) and with them cache mounts (the cache rules DV1051–
// DV1056 and DV1059; DV2024 finds the caches in the layers themselves),
// variables before expansion (DV1096 relative WORKDIR, DV1114), the build
// context (DV1044, DV1047), the sources of the classic builder's ADD,
// which it records as content hashes (DV1113), and a build argument's
// declaration apart from its value (DV1042; DV1041 judges the value the
// record holds). A built image cannot carry what BuildKit refuses (DV1023
// invalid port, DV1102 several sources to a file).
//
// Left out, because the configuration is what counts and an image rule
// judges it: the user (DV1002; DV2001), exposed ports (DV1020–DV1022,
// DV1026; DV2006–DV2009) and the health check (DV1091; DV2010). Left out
// as noise in a history, where the base image's steps precede the
// image's own: several CMD, ENTRYPOINT or HEALTHCHECK (DV1092–DV1094), and
// curl next to wget (DV1118).
var historyRules = map[string]bool{
	// Users and privileges.
	"DV1003": true, "DV1004": true, "DV1005": true,
	// Secrets in ENV, ARG (and the build arguments a RUN recorded), LABEL
	// and RUN command lines.
	"DV1040": true, "DV1041": true, "DV1043": true, "DV1045": true, "DV1046": true,
	// Network and the daemon socket.
	"DV1024": true, "DV1030": true, "DV1031": true,
	// Content trust.
	"DV1070": true, "DV1071": true, "DV1072": true, "DV1073": true, "DV1074": true, "DV1075": true, "DV1076": true,
	// Permissions and capabilities.
	"DV1080": true, "DV1081": true, "DV1082": true, "DV1085": true,
	// Package managers.
	"DV1050": true, "DV1105": true, "DV1107": true, "DV1108": true, "DV1109": true, "DV1110": true, "DV1111": true, "DV1112": true,
	// Hygiene of the steps themselves.
	"DV1090": true, "DV1095": true, "DV1097": true, "DV1098": true, "DV1103": true, "DV1104": true, "DV1106": true,
	"DV1115": true, "DV1116": true, "DV1117": true,
}

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
		Enabled: func(r *finding.Rule) bool { return historyRules[r.ID] && o.Enabled.Allows(r) },
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
		// A message quotes the record (a URL, a command line): secrets in
		// it are shown masked, as everywhere in an image's report.
		f.Message = maskSecrets(f.Message)
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
	s := maskSecrets(strings.TrimSpace(st.Keyword + " " + st.Args))
	s = display(strings.Join(strings.Fields(s), " "))
	if utf8.RuneCountInString(s) > 60 {
		r := []rune(s)
		s = string(r[:59]) + "…"
	}
	return s
}

// maskSecrets hides, in a line of text, every secret found by its format
// and every KEY=VALUE whose value is a credential.
func maskSecrets(s string) string {
	for _, m := range secrets.Scan(s) {
		s = strings.ReplaceAll(s, m.Secret, finding.Mask(m.Secret))
	}
	for _, tok := range strings.Fields(s) {
		k, v, ok := strings.Cut(strings.Trim(tok, `"';`), "=")
		v = strings.Trim(v, `"';`)
		if !ok || v == "" {
			continue
		}
		if _, secret := secrets.Assignment(strings.TrimLeft(k, "-"), v); secret {
			s = strings.ReplaceAll(s, v, finding.Mask(v))
		}
	}
	return s
}
