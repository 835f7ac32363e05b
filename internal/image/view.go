package image

import (
	"iter"
	"path"
	"slices"
	"strings"
)

// View is the image after the walk: every layer, the final filesystem, and
// for every path what each layer did to it.
type View struct {
	Image  *Image
	Layers []*Layer
	// Skipped lists files analyzers asked for but did not get.
	Skipped []Skipped
	// Wasted is the sum of the layers' Wasted bytes.
	Wasted int64

	root     *Entry
	order    []*Entry
	rawNames map[*File]string
	// Entries and first events come from slabs: there is one of each per
	// path, hundreds of thousands in a large image.
	entrySlab []Entry
	eventSlab []Event
}

func (v *View) newEntry(p string, parent *Entry) *Entry {
	if len(v.entrySlab) == 0 {
		v.entrySlab = make([]Entry, 1024)
	}
	e := &v.entrySlab[0]
	v.entrySlab = v.entrySlab[1:]
	e.Path, e.parent = p, parent
	return e
}

// event records a change of e.
func (v *View) event(e *Entry, ev Event) {
	if e.Events != nil {
		e.Events = append(e.Events, ev)
		return
	}
	if len(v.eventSlab) == 0 {
		v.eventSlab = make([]Event, 1024)
	}
	e.Events = v.eventSlab[:1:1]
	e.Events[0] = ev
	v.eventSlab = v.eventSlab[1:]
}

// RawName is the name an entry has in its layer's tar, as written: it
// differs from f.Path for escaped names ("../../etc/x", "/abs").
func (v *View) RawName(f *File) string {
	if r, ok := v.rawNames[f]; ok {
		return r
	}
	return strings.TrimPrefix(f.Path, "/")
}

// EventKind says what a layer did to a path.
type EventKind uint8

// Event kinds.
const (
	Added EventKind = iota + 1
	Changed
	Deleted
)

func (k EventKind) String() string {
	switch k {
	case Added:
		return "added"
	case Changed:
		return "changed"
	case Deleted:
		return "deleted"
	}
	return "?"
}

// Event is one change of a path by one layer.
type Event struct {
	Layer int
	Kind  EventKind
	// File is the new version (Added, Changed), or the entry that removed
	// the path (Deleted): a whiteout, an opaque marker, or a file that
	// replaced a directory above it.
	File *File
}

// Entry is everything the layers did to one path.
type Entry struct {
	Path string
	// Final is the version the final filesystem shows: nil when the path
	// was deleted, or exists only as a directory implied by its contents.
	Final *File
	// Events lists every change, base first.
	Events []Event

	parent   *Entry
	kids     map[string]*Entry
	implicit bool // a directory that exists because entries are below it
}

// Exists reports whether the path is in the final filesystem.
func (e *Entry) Exists() bool { return e != nil && (e.Final != nil || e.implicit) }

// Entry returns what the layers did to a path, or nil if no layer touched it.
func (v *View) Entry(p string) *Entry {
	e := v.root
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." {
			continue
		}
		if e = e.kids[part]; e == nil {
			return nil
		}
	}
	return e
}

// Final returns the version of a path in the final filesystem, or nil.
func (v *View) Final(p string) *File {
	if e := v.Entry(p); e != nil {
		return e.Final
	}
	return nil
}

// Entries yields every path any layer touched, in filesystem order (a
// directory before its contents, names sorted).
func (v *View) Entries() iter.Seq[*Entry] {
	return func(yield func(*Entry) bool) {
		for _, e := range v.order {
			if !yield(e) {
				return
			}
		}
	}
}

// Files yields every entry of the final filesystem, in filesystem order.
func (v *View) Files() iter.Seq[*File] {
	return func(yield func(*File) bool) {
		for _, e := range v.order {
			if e.Final != nil && !yield(e.Final) {
				return
			}
		}
	}
}

// Hidden yields every version that the final filesystem does not show,
// with the event that hid it: its bytes are still in the image, in
// f.Layer.
func (v *View) Hidden() iter.Seq2[*File, Event] {
	return func(yield func(*File, Event) bool) {
		for _, e := range v.order {
			for i, ev := range e.Events {
				if ev.Kind == Deleted || ev.File == e.Final {
					continue
				}
				if i+1 < len(e.Events) && !yield(ev.File, e.Events[i+1]) {
					return
				}
			}
		}
	}
}

// Owns reports whether f belongs to a layer of the image (a streamed
// archive may carry blobs the image does not use).
func (v *View) Owns(f *File) bool {
	i := f.Layer.Index
	return i >= 0 && i < len(v.Layers) && v.Layers[i] == f.Layer
}

// maxHops bounds symlink resolution as Linux does, so loops end.
const maxHops = 40

// Resolve follows symbolic links in the final filesystem and returns the
// file a path leads to: nil when it leads nowhere (missing, dangling, a
// loop, or more than 40 links).
func (v *View) Resolve(p string) *File {
	hops := 0
	pending := parts(p)
	cur := v.root
	for len(pending) > 0 {
		part := pending[0]
		pending = pending[1:]
		if part == ".." {
			if cur.parent != nil {
				cur = cur.parent
			}
			continue
		}
		next := cur.kids[part]
		if !next.Exists() {
			return nil
		}
		if next.Final != nil && next.Final.Type == Symlink {
			if hops++; hops > maxHops {
				return nil
			}
			target := next.Final.Linkname
			if strings.HasPrefix(target, "/") {
				cur = v.root
			}
			pending = append(parts(target), pending...)
			continue
		}
		cur = next
	}
	if cur.Final == nil && cur.implicit {
		return &File{Path: cur.Path, Type: Dir, Mode: 0o755}
	}
	return cur.Final
}

// parts splits a path into its names, dropping empty ones and ".".
func parts(p string) []string {
	var out []string
	for _, s := range strings.Split(p, "/") {
		if s != "" && s != "." {
			out = append(out, s)
		}
	}
	return out
}

// merge applies the recorded layers, base first: each layer's whiteouts
// and opaque markers remove what lower layers hold, then its entries are
// added in tar order.
func (w *walker) merge() *View {
	v := &View{Image: w.img, Layers: w.img.Layers, Skipped: w.skipped, rawNames: w.rawNames}
	v.root = &Entry{Path: "/", implicit: true}
	for _, l := range w.img.Layers {
		files := w.records[l]
		for _, f := range files {
			switch f.Type {
			case Whiteout:
				if e := v.Entry(f.Path); e != nil && e != v.root {
					v.remove(e, f, true)
				}
			case Opaque:
				if e := v.Entry(f.Path); e != nil {
					v.remove(e, f, false)
				}
			}
		}
		for _, f := range files {
			if f.Type != Whiteout && f.Type != Opaque {
				v.add(f)
			}
		}
	}
	v.order = make([]*Entry, 0, 1024)
	v.collect(v.root)
	for _, e := range v.order {
		for _, ev := range e.Events {
			if ev.Kind != Deleted && ev.File != e.Final && ev.File.Type == Regular {
				ev.File.Layer.Wasted += ev.File.Size
				v.Wasted += ev.File.Size
			}
		}
	}
	return v
}

// collect lists entries in filesystem order. Siblings share their parent's
// path, so comparing paths compares names.
func (v *View) collect(e *Entry) {
	v.order = append(v.order, e)
	if len(e.kids) == 0 {
		return
	}
	kids := make([]*Entry, 0, len(e.kids))
	for _, k := range e.kids {
		kids = append(kids, k)
	}
	slices.SortFunc(kids, func(a, b *Entry) int { return strings.Compare(a.Path, b.Path) })
	for _, k := range kids {
		v.collect(k)
	}
}

// remove deletes e (self) or only what lower layers put below it (an
// opaque directory), recording the event on every path it hides.
func (v *View) remove(e *Entry, by *File, self bool) {
	if self && e.Exists() {
		if e.Final != nil {
			v.event(e, Event{Layer: by.Layer.Index, Kind: Deleted, File: by})
		}
		e.Final, e.implicit = nil, false
	}
	for _, k := range e.kids {
		v.remove(k, by, true)
	}
}

// dir returns the entry of directory p, creating implied directories and
// replacing a non-directory that stood in the way (as overlayfs does when a
// layer puts a directory where a lower layer had a file).
func (v *View) dir(p string, by *File) *Entry {
	e := v.root
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." {
			continue
		}
		k := e.kids[part]
		if k == nil {
			k = v.newEntry(path.Join(e.Path, part), e)
			if e.kids == nil {
				e.kids = map[string]*Entry{}
			}
			e.kids[part] = k
		}
		if k.Final != nil && k.Final.Type != Dir {
			v.event(k, Event{Layer: by.Layer.Index, Kind: Deleted, File: by})
			k.Final = nil
			for _, kk := range k.kids {
				v.remove(kk, by, true)
			}
		}
		if k.Final == nil {
			k.implicit = true
		}
		e = k
	}
	return e
}

func (v *View) add(f *File) {
	var e *Entry
	if f.Path == "/" {
		e = v.root
	} else {
		parent := v.dir(path.Dir(f.Path), f)
		name := path.Base(f.Path)
		e = parent.kids[name]
		if e == nil {
			e = v.newEntry(f.Path, parent)
			if parent.kids == nil {
				parent.kids = map[string]*Entry{}
			}
			parent.kids[name] = e
		}
	}
	kind := Added
	if e.Final != nil {
		kind = Changed
	}
	if e.Final != nil && e.Final.Type == Dir && f.Type != Dir || e.implicit && f.Type != Dir {
		for _, k := range e.kids {
			v.remove(k, f, true)
		}
	}
	e.Final, e.implicit = f, false
	v.event(e, Event{Layer: f.Layer.Index, Kind: kind, File: f})
}
