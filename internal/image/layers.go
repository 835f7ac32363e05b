package image

import (
	"slices"
	"strings"

	"github.com/dockvet/dockvet/internal/dockerfile"
	"github.com/dockvet/dockvet/internal/finding"
	"github.com/dockvet/dockvet/internal/inventory"
	"github.com/dockvet/dockvet/internal/secrets"
)

// largestPerLayer and largeFile bound the files a layer view names: the
// few biggest a layer added that are still in the image, from 1 MiB up.
const (
	largestPerLayer = 3
	largeFile       = 1 << 20
)

// LayerViews summarises a walked image for the reports' layer views: per
// layer its sizes, its wasted bytes, the instruction that made it (whole,
// secrets masked), the largest files it added that the final filesystem
// still shows, and, when the inventory ran (pkgs not nil), how many
// packages of each type it introduced.
func LayerViews(v *View, pkgs []inventory.Package) []finding.Layer {
	out := make([]finding.Layer, len(v.Layers))
	for i, l := range v.Layers {
		out[i] = finding.Layer{Index: i, DiffID: l.DiffID.String(), Size: l.Size, Stored: l.Stored, Files: l.Files,
			Wasted: l.Wasted, CreatedBy: instructionText(l.CreatedBy())}
		if pkgs != nil {
			out[i].Packages = map[string]int{}
		}
	}
	for f := range v.Files() {
		if f.Type != Regular || f.Size < largeFile || f.Layer == nil || f.Layer.Index < 0 || f.Layer.Index >= len(out) {
			continue
		}
		l := &out[f.Layer.Index]
		l.Largest = append(l.Largest, finding.LayerFile{Path: display(f.Path()), Size: f.Size})
		slices.SortStableFunc(l.Largest, func(a, b finding.LayerFile) int { return int(min(max(b.Size-a.Size, -1), 1)) })
		if len(l.Largest) > largestPerLayer {
			l.Largest = l.Largest[:largestPerLayer]
		}
	}
	for _, p := range pkgs {
		if p.LayerIndex >= 0 && p.LayerIndex < len(out) {
			out[p.LayerIndex].Packages[p.Type]++
		}
	}
	return out
}

// instructionText is the instruction a history entry records, as the
// layer views print it: the Dockerfile form, one line, secrets masked.
func instructionText(createdBy string) string {
	if strings.TrimSpace(createdBy) == "" {
		return ""
	}
	st := dockerfile.ParseHistoryStep(createdBy)
	s := secrets.MaskText(strings.TrimSpace(st.Keyword + " " + st.Args))
	return display(strings.Join(strings.Fields(s), " "))
}
