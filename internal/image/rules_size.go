package image

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/finding"
)

// TotalSize is the bytes of file content over all layers.
func (v *View) TotalSize() int64 {
	var n int64
	for _, l := range v.Layers {
		n += l.Size
	}
	return n
}

var refSize = []string{"https://docs.docker.com/build/building/best-practices/", "https://github.com/wagoodman/dive"}

var ruleWasted = &Rule{
	Rule: finding.Rule{
		ID: "DV2027", Title: "Bytes wasted on files later layers delete or overwrite", Practice: finding.PracticeSmallImage, Severity: finding.Low,
		Description: "Later layers delete or overwrite files that earlier layers added, above the configured threshold (20 MiB by default). " +
			"The final filesystem does not show those bytes, but every pull downloads them and every node stores them.",
		Remediation: "Create and remove temporary files in the same RUN (download, install and clean up in one step), set permissions with " +
			"`COPY --chmod`/`--chown` instead of a later `chmod`/`chown` that copies the files again, or copy results from a build stage.",
		References: refSize,
	},
	Check: func(p *Pass) {
		v := p.Image.View
		if v.Wasted < p.Settings.WastedBytes {
			return
		}
		var hidden []*File
		for f := range v.Hidden() {
			if f.Type == Regular && f.Size > 0 {
				hidden = append(hidden, f)
			}
		}
		slices.SortStableFunc(hidden, func(a, b *File) int { return cmp.Compare(b.Size, a.Size) })
		var top []string
		for _, f := range hidden[:min(3, len(hidden))] {
			top = append(top, fmt.Sprintf("%s %s in layer %d", display(f.Path()), humanBytes(f.Size), f.Layer.Index))
		}
		pct := float64(v.Wasted) * 100 / float64(max(1, v.TotalSize()))
		p.ReportFile(hidden[0], "Later layers delete or overwrite %s (%.0f%% of the image's %s); the largest: %s.",
			humanBytes(v.Wasted), pct, humanBytes(v.TotalSize()), strings.Join(top, ", "))
	},
}

var ruleLarge = &Rule{
	Rule: finding.Rule{
		ID: "DV2028", Title: "Large image or many layers", Practice: finding.PracticeSmallImage, Severity: finding.Info,
		Description: "The image holds more than the configured size (2 GiB of files by default) or more layers than the configured count (50). " +
			"Size is pull time, disk and attack surface; every layer is one more download and mount.",
		Remediation: "Use a slim or distroless base, a multi-stage build that copies only what runs, and fewer, combined RUN steps; " +
			"`dockvet image --format table` ends with a per-layer size table that shows where the bytes are.",
		References: refSize,
	},
	Check: func(p *Pass) {
		v := p.Image.View
		size, n := v.TotalSize(), len(v.Layers)
		if size >= p.Settings.LargeImage || n > p.Settings.ManyLayers {
			p.Report("The image holds %s of files in %s.", humanBytes(size), plural(n, "layer", "layers"))
		}
	},
}
