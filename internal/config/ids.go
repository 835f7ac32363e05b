package config

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// IDs tells the configuration what rule IDs mean. The configuration does
// not know the catalog (internal/catalog knows every surface, which would
// make this package depend on all of them); the caller passes it in.
type IDs struct {
	// Resolve returns the dockvet rule IDs id names: itself for a rule,
	// the rules carrying the same check for another tool's ID (hadolint's
	// DL3008), nil when it names none.
	Resolve func(id string) []string
	// RuleLike reports whether id is written as a rule ID, of dockvet or
	// of a tool it maps (an unknown one is a mistake to warn about), as
	// opposed to a vulnerability ID.
	RuleLike func(id string) bool
}

// idRef is a rule ID as written in the configuration file, with its line.
type idRef struct {
	id, field string
	line      int
}

// collectIDs finds the line of every rule ID the file names.
func collectIDs(data []byte) []idRef {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return nil
	}
	var refs []idRef
	list := func(n *yaml.Node, field string) {
		if n == nil || n.Kind != yaml.SequenceNode {
			return
		}
		for _, c := range n.Content {
			if c.Kind == yaml.ScalarNode {
				refs = append(refs, idRef{c.Value, field, c.Line})
			}
		}
	}
	root := doc.Content[0]
	if rules := mapValue(root, "rules"); rules != nil {
		list(mapValue(rules, "disable"), "rules.disable")
		list(mapValue(rules, "enable"), "rules.enable")
		if sev := mapValue(rules, "severity"); sev != nil && sev.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(sev.Content); i += 2 {
				refs = append(refs, idRef{sev.Content[i].Value, "rules.severity", sev.Content[i].Line})
			}
		}
	}
	if ig := mapValue(root, "ignore"); ig != nil && ig.Kind == yaml.SequenceNode {
		for _, e := range ig.Content {
			if id := mapValue(e, "id"); id != nil && id.Kind == yaml.ScalarNode {
				refs = append(refs, idRef{id.Value, "ignore", id.Line})
			}
		}
	}
	if enf := mapValue(root, "enforce"); enf != nil {
		for _, key := range []string{"deny", "exceptions"} {
			if seq := mapValue(enf, key); seq != nil && seq.Kind == yaml.SequenceNode {
				for _, e := range seq.Content {
					list(mapValue(e, "rules"), "enforce."+key)
				}
			}
		}
	}
	return refs
}

func mapValue(m *yaml.Node, key string) *yaml.Node {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i+1]
		}
	}
	return nil
}

// ResolveIDs makes the configuration speak dockvet's rule IDs: another
// tool's ID (a hadolint DL code) in rules:, ignore: or enforce: is
// replaced by the dockvet rules carrying the same check. It returns a
// warning, naming the file and line, for each rule ID that names no rule:
// such an entry silently does nothing otherwise.
func (c *Config) ResolveIDs(ids IDs) []string {
	var warnings []string
	unknown := map[string]bool{}
	for _, ref := range c.idRefs {
		if isPattern(ref.id) || !ids.RuleLike(ref.id) || len(ids.Resolve(ref.id)) > 0 {
			continue
		}
		unknown[strings.ToUpper(ref.id)] = true
		warnings = append(warnings, fmt.Sprintf("%s:%d: %s names no dockvet rule: %s (see 'dockvet rules'; docs/rules.md maps other tools' IDs)", c.source, ref.line, ref.field, ref.id))
	}
	expand := func(list []string) []string {
		var out []string
		for _, id := range list {
			if isPattern(id) {
				out = append(out, id)
				continue
			}
			if r := ids.Resolve(id); len(r) > 0 {
				out = append(out, r...)
			} else {
				out = append(out, id)
			}
		}
		return slices.Compact(out)
	}
	c.Rules.Disable = expand(c.Rules.Disable)
	c.Rules.Enable = expand(c.Rules.Enable)
	for id, sev := range c.Rules.severity {
		for _, r := range ids.Resolve(id) {
			if r != id {
				c.Rules.severity[r] = sev
			}
		}
	}
	c.Ignore = resolveIgnores(c.Ignore, ids)
	for i := range c.Enforce.Deny {
		c.Enforce.Deny[i].Rules = expand(c.Enforce.Deny[i].Rules)
	}
	for i := range c.Enforce.Exceptions {
		c.Enforce.Exceptions[i].Rules = expand(c.Enforce.Exceptions[i].Rules)
	}
	return warnings
}

// ResolveIgnores is ResolveIDs for the entries of an ignore file (or of
// --ignore): each is named by its origin, "FILE:LINE".
func ResolveIgnores(igs []Ignore, ids IDs) ([]Ignore, []string) {
	var warnings []string
	for _, ig := range igs {
		if ig.ID != "" && ids.RuleLike(ig.ID) && len(ids.Resolve(ig.ID)) == 0 {
			warnings = append(warnings, fmt.Sprintf("%s: %s names no dockvet rule (see 'dockvet rules'; docs/rules.md maps other tools' IDs); it hides nothing", ig.origin, ig.ID))
		}
	}
	return resolveIgnores(igs, ids), warnings
}

// resolveIgnores replaces an entry naming another tool's rule by one per
// dockvet rule it maps to; vulnerability IDs stay as they are.
func resolveIgnores(igs []Ignore, ids IDs) []Ignore {
	var out []Ignore
	for _, ig := range igs {
		r := ids.Resolve(ig.ID)
		if ig.ID == "" || len(r) == 0 || len(r) == 1 && strings.EqualFold(r[0], ig.ID) {
			out = append(out, ig)
			continue
		}
		for _, id := range r {
			e := ig
			e.ID = id
			if e.Reason == "" {
				e.Reason = "ignored as " + ig.ID
			}
			out = append(out, e)
		}
	}
	return out
}

func isPattern(id string) bool { return id == "*" || strings.HasPrefix(id, "practice:") }

// RebasePaths makes the ignore paths of a configuration read from dir
// relative to the working directory, as finding paths are: a file in the
// directory `scan` audits names paths relative to that directory.
func (c *Config) RebasePaths(dir string) {
	c.Ignore = RebaseIgnores(c.Ignore, dir)
}

// RebaseIgnores is RebasePaths for the entries of an ignore file.
func RebaseIgnores(igs []Ignore, dir string) []Ignore {
	out := make([]Ignore, len(igs))
	for i, ig := range igs {
		ps := make([]string, len(ig.Paths))
		for j, p := range ig.Paths {
			ps[j] = filepath.ToSlash(filepath.Join(dir, p))
		}
		ig.Paths = ps
		out[i] = ig
	}
	return out
}
