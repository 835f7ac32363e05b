package inventory

import (
	"bytes"
	"cmp"
	"context"
	"io"
	"os"
	"path"
	"slices"
	"strings"
)

// Layer identifies the image layer a file was read from.
type Layer struct {
	// Index is 0-based from the base layer; NoLayer outside images.
	Index  int
	Digest string
}

// NotALayer is the Layer of files that do not come from an image.
var NotALayer = Layer{Index: NoLayer}

// Scanner gathers the inventory of one filesystem. A driver calls Wants
// and File for every regular file, in layer order (base layer first), and
// Delete for every whiteout; Result then lists what the final filesystem
// holds, each package with the layer that introduced it.
//
// A Scanner is not safe for concurrent use.
type Scanner struct {
	extractors []Extractor
	detector   OSDetector
	files      map[string]*fileEntry
}

// fileEntry is what one file yielded, in the layer it was last written.
type fileEntry struct {
	layer     Layer
	pkgs      []Package
	os        *OS
	copyright *Copyright
	errs      []FileError
}

// NewScanner returns a Scanner that runs extractors (Default() when none
// are given) and the OS detector.
func NewScanner(extractors ...Extractor) *Scanner {
	if len(extractors) == 0 {
		extractors = Default()
	}
	return &Scanner{extractors: extractors, files: map[string]*fileEntry{}}
}

// CleanPath turns a path as a walker sees it ("/etc/os-release",
// "./etc/os-release") into the Scanner's form ("etc/os-release").
func CleanPath(p string) string {
	if cleanAbs(p) {
		// The image walk's paths, nearly always: path.Clean copies a
		// path byte by byte, and an image of 150,000 names of 3.9 KB
		// spent a fifth of its walk here.
		return p[1:]
	}
	p = path.Clean("/" + strings.ReplaceAll(p, "\\", "/"))
	return strings.TrimPrefix(p, "/")
}

// cleanAbs reports whether p is an absolute path path.Clean leaves as it
// is, without a backslash.
func cleanAbs(p string) bool {
	if len(p) < 2 || p[0] != '/' || p[len(p)-1] == '/' || strings.Contains(p, "//") || strings.IndexByte(p, '\\') >= 0 {
		return false
	}
	for i := 0; ; {
		j := strings.Index(p[i:], "/.")
		if j < 0 {
			return true
		}
		i += j + 1
		if rest := p[i:]; rest == "." || rest == ".." || strings.HasPrefix(rest, "./") || strings.HasPrefix(rest, "../") {
			return false
		}
	}
}

// Wants reports whether the Scanner needs File to be called for an entry
// of a layer: a file an extractor (or the OS detector) reads, or any entry
// at a path that held packages in a lower layer (a symbolic link or a
// script written over a binary takes its packages away). A walker skips
// reading everything else.
func (s *Scanner) Wants(p string, mode os.FileMode, size int64) bool {
	p = CleanPath(p)
	if _, tracked := s.files[p]; tracked && !mode.IsDir() {
		return true
	}
	read, _ := s.Reads(p, mode, size)
	return read
}

// Reads reports, from the path, mode and size alone, whether an extractor
// or the OS detector reads a file, and whether one of them needs random
// access to it (zip archives, executables): a walker that can hold such a
// file in memory passes Input.ReaderAt and spares the Scanner a copy.
// Unlike Wants it does not depend on what the Scanner has seen, so a walker
// that learns the order of its layers only at the end (Extract, then Place)
// can ask it in any order.
func (s *Scanner) Reads(p string, mode os.FileMode, size int64) (read, random bool) {
	p = CleanPath(p)
	if s.detector.Required(p, mode, size) || copyrightWanted(p, mode, size) {
		read = true
	}
	for _, e := range s.extractors {
		if e.Required(p, mode, size) {
			read = true
			if _, ok := e.(randomAccess); ok {
				random = true
			}
		}
	}
	return read, random
}

// File reads one file of layer. The only error returned is ctx's: a file
// an extractor cannot read is recorded in the Result.
func (s *Scanner) File(ctx context.Context, layer Layer, in Input) error {
	x, err := s.Extract(ctx, in)
	if err != nil {
		return err
	}
	s.Place(layer, in.Path, x)
	return nil
}

// Extracted is what one file yielded, wherever it sits: its packages, the
// distribution it names, the errors of the extractors that could not read
// it. A nil *Extracted is a file that lists nothing.
type Extracted struct {
	pkgs      []Package
	os        *OS
	copyright *Copyright
	errs      []FileError
}

// Packages returns the packages the file lists (without layer, ecosystem
// or purl: Place and Result add those).
func (x *Extracted) Packages() []Package {
	if x == nil {
		return nil
	}
	return x.pkgs
}

// Extract runs the extractors and the OS detector that want in, without
// changing the Scanner: a walker that cannot feed the layers in order (a
// streamed archive lists them in any order) extracts every file as it
// comes and calls Place, base layer first, once the order is known. The
// only error returned is ctx's; Extract is safe to call concurrently.
func (s *Scanner) Extract(ctx context.Context, in Input) (*Extracted, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	in.Path = CleanPath(in.Path)
	var wanted []Extractor
	for _, e := range s.extractors {
		if e.Required(in.Path, in.Mode, in.Size) {
			wanted = append(wanted, e)
		}
	}
	detect := s.detector.Required(in.Path, in.Mode, in.Size)
	if name, ok := copyrightPackage(in.Path); ok && copyrightWanted(in.Path, in.Mode, in.Size) {
		// Copyright files are wanted by no extractor either.
		b, err := readAll(in.Reader, maxCopyrightSize)
		if err != nil {
			return &Extracted{errs: []FileError{{Path: in.Path, Extractor: "copyright", Err: err.Error()}}}, nil
		}
		return &Extracted{copyright: &Copyright{Package: name, Licenses: ParseCopyright(b)}}, nil
	}
	if len(wanted) == 0 && !detect {
		return nil, nil
	}
	x := &Extracted{}
	if detect {
		// Release files are wanted by no extractor, so the detector may
		// consume the stream.
		o, err := s.detector.Detect(in)
		if err != nil {
			x.errs = append(x.errs, FileError{Path: in.Path, Extractor: "os", Err: err.Error()})
		}
		x.os = o
	}
	inputs, cleanup, err := s.shareInput(in, wanted)
	if err != nil {
		for _, e := range wanted {
			x.errs = append(x.errs, FileError{Path: in.Path, Extractor: e.Name(), Err: err.Error()})
		}
		return x, nil
	}
	defer cleanup()
	for i, e := range wanted {
		pkgs, err := e.Extract(ctx, inputs[i])
		if cerr := ctx.Err(); cerr != nil {
			return nil, cerr
		}
		if err != nil {
			x.errs = append(x.errs, FileError{Path: in.Path, Extractor: e.Name(), Err: oneLineErr(err)})
		}
		for _, p := range pkgs {
			if p.Path == "" {
				p.Path = in.Path
			}
			x.pkgs = append(x.pkgs, p)
		}
	}
	return x, nil
}

// Place records what a file of layer yielded (nil: the path now holds
// something that lists no packages, such as a link written over a binary).
// Calls for one path must come base layer first, with Delete for the
// whiteouts between them.
func (s *Scanner) Place(layer Layer, p string, x *Extracted) {
	p = CleanPath(p)
	entry := &fileEntry{layer: layer}
	if x != nil {
		entry.os, entry.copyright = x.os, x.copyright
		entry.errs = slices.Clone(x.errs)
		entry.pkgs = slices.Clone(x.pkgs)
	}
	s.attribute(p, entry)
	s.replace(p, entry)
}

// spoolThreshold is the size above which a file several extractors want
// is copied to a temporary file rather than held in memory.
const spoolThreshold = 32 << 20

// shareInput gives each extractor its own view of the file. One extractor
// takes the stream as it is; several get random access to one copy (in
// memory, or in a temporary file when large), so the file is still read
// from the walker only once.
func (s *Scanner) shareInput(in Input, wanted []Extractor) ([]Input, func(), error) {
	noop := func() {}
	if in.ReaderAt != nil {
		// Each extractor reads from the start, whatever the others did.
		out := make([]Input, len(wanted))
		for i := range wanted {
			out[i] = in
			out[i].Reader = io.NewSectionReader(in.ReaderAt, 0, in.Size)
		}
		return out, noop, nil
	}
	if len(wanted) <= 1 {
		return []Input{in}, noop, nil
	}
	limit := int64(0)
	for _, e := range wanted {
		if ra, ok := e.(randomAccess); ok {
			limit = max(limit, ra.MaxSize())
		} else {
			limit = max(limit, int64(maxMetadataSize))
		}
	}
	var ra io.ReaderAt
	var size int64
	cleanup := noop
	if in.Size > spoolThreshold {
		f, err := os.CreateTemp("", "dockvet-file-*")
		if err != nil {
			return nil, nil, err
		}
		cleanup = func() { f.Close(); os.Remove(f.Name()) }
		n, err := io.Copy(f, io.LimitReader(in.Reader, limit+1))
		if err == nil && n > limit {
			err = errTooLarge
		}
		if err != nil {
			cleanup()
			return nil, nil, err
		}
		ra, size = f, n
	} else {
		b, err := readAll(in.Reader, limit)
		if err != nil {
			return nil, nil, err
		}
		ra, size = bytes.NewReader(b), int64(len(b))
	}
	out := make([]Input, len(wanted))
	for i := range wanted {
		out[i] = Input{Path: in.Path, Reader: io.NewSectionReader(ra, 0, size), ReaderAt: ra, Size: size, Mode: in.Mode}
	}
	return out, cleanup, nil
}

// packageKey identifies a package across two versions of the same file.
func packageKey(p *Package) string {
	return p.Type + "\x00" + p.Name + "\x00" + p.Version + "\x00" + p.Arch + "\x00" + p.Path
}

// attribute gives every package of entry the layer that introduced it:
// when a later layer rewrites a file (every apt-get install rewrites the
// dpkg status file), the packages that were already there keep their
// layer.
func (s *Scanner) attribute(p string, entry *fileEntry) {
	prev := s.files[p]
	earlier := map[string]Layer{}
	if prev != nil && prev.layer.Index < entry.layer.Index {
		for i := range prev.pkgs {
			earlier[packageKey(&prev.pkgs[i])] = Layer{Index: prev.pkgs[i].LayerIndex, Digest: prev.pkgs[i].LayerDigest}
		}
	}
	for i := range entry.pkgs {
		l := entry.layer
		if e, ok := earlier[packageKey(&entry.pkgs[i])]; ok {
			l = e
		}
		entry.pkgs[i].LayerIndex, entry.pkgs[i].LayerDigest = l.Index, l.Digest
	}
}

func (s *Scanner) replace(p string, entry *fileEntry) {
	if len(entry.pkgs) == 0 && entry.os == nil && entry.copyright == nil && len(entry.errs) == 0 {
		delete(s.files, p)
		return
	}
	s.files[p] = entry
}

// Delete records a whiteout in layer: the file or directory at p, and
// everything under it, as written by layers below, is gone. Files the
// same layer wrote are kept (an opaque directory hides only lower layers).
func (s *Scanner) Delete(layer Layer, p string) {
	p = CleanPath(p)
	for fp, e := range s.files {
		if p != "" && fp != p && !strings.HasPrefix(fp, p+"/") {
			continue
		}
		switch {
		case e.layer.Index < layer.Index:
			delete(s.files, fp)
		case e.layer.Index == layer.Index:
			// Written by this layer before its opaque-directory marker came
			// in the stream: what it inherited from below is hidden now, so
			// its packages start here.
			for i := range e.pkgs {
				e.pkgs[i].LayerIndex, e.pkgs[i].LayerDigest = e.layer.Index, e.layer.Digest
			}
		}
	}
}

// Result is the inventory of a filesystem.
type Result struct {
	// OS is the distribution, nil when no release file names one.
	OS       *OS
	Packages []Package
	// Errors lists files an extractor could not read; the rest of the
	// inventory is complete without them.
	Errors []FileError
}

// Result lists what the filesystem holds now. OS packages get the
// distribution's ecosystem, every package its purl.
func (s *Scanner) Result() *Result {
	r := &Result{}
	osRank := len(osFiles)
	copyrights := map[string][]string{}
	for p, e := range s.files {
		if e.os != nil {
			if rank := osFileRank(p); rank < osRank {
				osRank, r.OS = rank, e.os
			}
		}
		if c := e.copyright; c != nil && len(c.Licenses) > 0 {
			copyrights[c.Package] = c.Licenses
		}
		r.Packages = append(r.Packages, e.pkgs...)
		r.Errors = append(r.Errors, e.errs...)
	}
	// Debian packages take the licences of their copyright file; a
	// package without a documentation directory of its own often shares
	// its source package's.
	for i := range r.Packages {
		p := &r.Packages[i]
		if p.Type != TypeDeb || len(p.Licenses) > 0 {
			continue
		}
		ls, ok := copyrights[p.Name]
		if src, _ := p.Source(); !ok {
			ls = copyrights[src]
		}
		p.Licenses = slices.Clone(ls)
	}
	if r.OS != nil {
		if _, distroless := s.files["var/lib/dpkg/status"]; !distroless && s.hasPrefix("var/lib/dpkg/status.d/") {
			o := *r.OS
			o.Distroless = true
			r.OS = &o
		}
	}
	for i := range r.Packages {
		p := &r.Packages[i]
		p.Ecosystem = ecosystemOf(p, r.OS)
		p.PURL = purlOf(p, r.OS)
	}
	r.Packages = dropShadowedLockfiles(r.Packages)
	slices.SortFunc(r.Packages, comparePackages)
	slices.SortFunc(r.Errors, func(a, b FileError) int {
		return cmp.Or(strings.Compare(a.Path, b.Path), strings.Compare(a.Extractor, b.Extractor))
	})
	return r
}

func (s *Scanner) hasPrefix(prefix string) bool {
	for p := range s.files {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	return false
}

func comparePackages(a, b Package) int {
	return cmp.Or(
		strings.Compare(a.Type, b.Type),
		strings.Compare(a.Name, b.Name),
		strings.Compare(a.Version, b.Version),
		strings.Compare(a.Path, b.Path),
		strings.Compare(a.Arch, b.Arch),
		cmp.Compare(a.LayerIndex, b.LayerIndex),
	)
}

// dropShadowedLockfiles leaves out what an npm lockfile lists when the
// project's node_modules is installed next to it: the installed
// package.json files are the truth, and listing both would report every
// package twice.
func dropShadowedLockfiles(ps []Package) []Package {
	installed := map[string]bool{}
	for _, p := range ps {
		if p.Type != TypeNpm || path.Base(p.Path) != "package.json" {
			continue
		}
		// The project directory is the one holding the top node_modules.
		if i := strings.Index(p.Path, "node_modules/"); i >= 0 {
			installed[strings.TrimSuffix(p.Path[:i], "/")] = true
		}
	}
	if len(installed) == 0 {
		return ps
	}
	out := ps[:0]
	for _, p := range ps {
		if p.Type == TypeNpm && npmLockfiles[path.Base(p.Path)] {
			dir := path.Dir(p.Path)
			if dir == "." {
				dir = ""
			}
			if installed[dir] {
				continue
			}
		}
		out = append(out, p)
	}
	return out
}
