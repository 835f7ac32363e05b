package dockerfile

import (
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"

	"github.com/dockvet/dockvet/internal/finding"
)

// shipped returns the stages whose files can reach the final image: the
// final stage and the stages it is built FROM, and every stage one of
// those copies from (COPY --from, RUN --mount from=), transitively. What
// only another build stage holds stays in the builder and its cache.
func (f *File) shipped() map[*Stage]bool {
	out := map[*Stage]bool{}
	var visit func(st *Stage)
	visit = func(st *Stage) {
		for _, s := range st.Chain() {
			if out[s] {
				continue
			}
			out[s] = true
			for _, in := range s.Instructions {
				for _, from := range copiesFrom(in) {
					if src := f.StageByName(from); src != nil {
						visit(src)
					}
				}
			}
		}
	}
	visit(f.Final())
	return out
}

// copiesFrom lists the stages or images an instruction takes files from.
func copiesFrom(in *Instruction) []string {
	var out []string
	switch c := in.Command.(type) {
	case *instructions.CopyCommand:
		if c.From != "" {
			out = append(out, c.From)
		}
	case *instructions.RunCommand:
		for _, m := range in.Mounts() {
			if m.From != "" {
				out = append(out, m.From)
			}
		}
	}
	return out
}

// exposure lowers a secret finding in a stage the final image copies
// nothing from, and says so: the secret is in the builder's cache and in
// any image built with --target at that stage, not in the image shipped.
func exposure(f *finding.Finding, st *Stage, shipped map[*Stage]bool) {
	if shipped[st] {
		return
	}
	f.Message = strings.TrimSuffix(f.Message, ".") + "; only build stage " + stageName(st) + " holds it, and the final image copies nothing from that stage."
	if f.Severity > finding.Medium {
		f.Severity = finding.Medium
	}
}
