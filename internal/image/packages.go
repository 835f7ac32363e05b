package image

import (
	"context"

	"github.com/dockvet/dockvet/internal/inventory"
)

// Packages takes the inventory of an image on the layer walk: every file
// a package extractor or the OS detector wants is read once, as the walk
// reaches it, and what it lists is kept for that version of the file. When
// the walk ends, the versions are handed to an inventory.Scanner path by
// path, base layer first, with the deletions between them: the final
// filesystem's packages, each with the layer that introduced it (a later
// layer that rewrites the dpkg status file keeps the layers of the
// packages it did not add). A streamed source (docker:) learns its layer
// order only at the end, which is why nothing is placed during the walk.
//
// Files an extractor needs random access to (executables, jars) are held
// whole in memory up to the walk's Options.MaxWholeFile; larger ones are
// listed in View.Skipped.
type Packages struct {
	ctx     context.Context
	scanner *inventory.Scanner
	found   map[*File]*inventory.Extracted
	result  *inventory.Result
}

// NewPackages returns the analyzer for one walk with the given extractors
// (inventory.Default() when none).
func NewPackages(ctx context.Context, extractors ...inventory.Extractor) *Packages {
	return &Packages{ctx: ctx, scanner: inventory.NewScanner(extractors...), found: map[*File]*inventory.Extracted{}}
}

// Result is the inventory of the final filesystem; nil before Finish.
func (p *Packages) Result() *inventory.Result { return p.result }

// Name implements Analyzer.
func (p *Packages) Name() string { return "package inventory" }

// Want implements Analyzer.
func (p *Packages) Want(f *File) (Want, bool) {
	read, random := p.scanner.Reads(f.Path(), f.Mode, f.Size)
	return Want{Whole: random}, read
}

// Visit implements Analyzer. An extractor that cannot read a file records
// it in the inventory's errors; only a cancelled walk is an error.
func (p *Packages) Visit(f *File, c Content) error {
	in := inventory.Input{Path: f.Path(), Reader: c.Reader, Size: f.Size, Mode: f.Mode}
	if c.At != nil {
		in.ReaderAt = c.At
	}
	x, err := p.scanner.Extract(p.ctx, in)
	if err != nil {
		return err
	}
	if x != nil {
		p.found[f] = x
	}
	return nil
}

// Finish implements Analyzer: it replays, for every path that ever held
// packages, what each layer did to it.
func (p *Packages) Finish(v *View) error {
	layer := func(i int) inventory.Layer {
		l := inventory.Layer{Index: i}
		if i >= 0 && i < len(v.Layers) {
			l.Digest = v.Layers[i].DiffID.String()
		}
		return l
	}
	for e := range v.Entries() {
		listed := false
		for _, ev := range e.events() {
			if ev.Kind != Deleted && p.found[ev.File] != nil {
				listed = true
				break
			}
		}
		if !listed {
			continue
		}
		for _, ev := range e.events() {
			if ev.Kind == Deleted {
				p.scanner.Delete(layer(ev.Layer), e.Path())
				continue
			}
			// A version that lists nothing (a link, a script, a
			// directory written over a binary) takes the path's
			// packages away.
			p.scanner.Place(layer(ev.Layer), e.Path(), p.found[ev.File])
		}
	}
	p.result = p.scanner.Result()
	p.found = nil
	return nil
}
