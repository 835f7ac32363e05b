package report

import (
	"encoding/json"
	"io"

	"github.com/dockvet/dockvet/internal/finding"
)

// JSON writes the report exactly as contract.md describes it. HTML escaping
// is off so that messages read the same as in the table ("&&" stays "&&").
func JSON(w io.Writer, r *finding.Report, _ Options) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(r)
}
