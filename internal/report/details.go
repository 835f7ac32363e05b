package report

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"

	"github.com/dockvet/dockvet/internal/finding"
)

// detail is one fact about a report or a target that the renderers show
// without knowing it: whatever the JSON report carries beyond findings
// (which configuration applied, what exactly was scanned) is listed as
// label and value, so a field added to the Report or to a Target appears
// in the table and the HTML page without a renderer change.
type detail struct {
	Label, Value string
}

// reportKeys are the report members every renderer shows in its own way
// (scan, images and notices: the identity lines of identity.go).
var reportKeys = []string{"schemaVersion", "tool", "targets", "findings", "suppressed", "errors", "summary", "checks", "scan", "images", "notices"}

// reportDetails are the report-level facts beyond reportKeys.
func reportDetails(r *finding.Report) []detail {
	return detailsOf(r, reportKeys)
}

// targetDetails are a target's facts beyond its kind and name.
func targetDetails(t any) []detail {
	return detailsOf(t, []string{"kind", "name"})
}

func detailsOf(v any, skip []string) []detail {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(b, &m) != nil {
		return nil
	}
	var out []detail
	for _, k := range sortedKeys(m) {
		if slices.Contains(skip, k) {
			continue
		}
		out = flatten(out, words(k), m[k])
	}
	return out
}

func flatten(out []detail, label string, v any) []detail {
	switch v := v.(type) {
	case nil:
		return out
	case map[string]any:
		for _, k := range sortedKeys(v) {
			out = flatten(out, label+" "+words(k), v[k])
		}
		return out
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			parts = append(parts, scalar(e))
		}
		if len(parts) == 0 {
			return out
		}
		return append(out, detail{label, strings.Join(parts, ", ")})
	}
	if s := scalar(v); s != "" {
		out = append(out, detail{label, s})
	}
	return out
}

func scalar(v any) string {
	switch v := v.(type) {
	case string:
		return v
	case float64:
		if v == float64(int64(v)) {
			return fmt.Sprint(int64(v))
		}
		return fmt.Sprint(v)
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case nil:
		return ""
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// words turns a JSON member name into words: "ignoreFile" -> "ignore file".
func words(k string) string {
	var b strings.Builder
	for i, r := range k {
		if unicode.IsUpper(r) && i > 0 {
			b.WriteByte(' ')
		}
		b.WriteRune(unicode.ToLower(r))
	}
	return b.String()
}
