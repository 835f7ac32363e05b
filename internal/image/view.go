package image

import (
	"iter"
	"slices"
	"strings"
	"unsafe"
)

// View is the image after the walk: every layer, the final filesystem, and
// for every path what each layer did to it.
//
// Memory is bounded by design (docs/architecture.md, "The walk"): every
// entry, a directory too, keeps only its base name (in an arena, without a
// string header) and a pointer to its directory, so that names cost their
// own bytes however deep they are, and a path is joined from its
// directories when asked for; a path touched by one layer is its 48-byte
// File (which the walk allocates inside the path's Entry), and only
// directories and paths that several layers touched have an extension (a
// node, a list of events).
type View struct {
	Image  *Image
	Layers []*Layer
	// Skipped lists files analyzers asked for but did not get.
	Skipped []Skipped
	// Wasted is the sum of the layers' Wasted bytes.
	Wasted int64

	root     *Entry
	rawNames map[*File]string
	names    arena
	// Entries, directory nodes and files come from slabs: there are
	// hundreds of thousands in a large image.
	entrySlab []Entry
	nodeSlab  []dirNode
	extSlab   []entryExt
	// last is the directory of the previous lookup (intern), lastPath its
	// path, and chain the directories on that path (chain[i] ends at
	// ends[i] in lastPath): tar lists a directory's files together, and
	// its siblings next, so a lookup starts from the deepest directory it
	// shares with the previous one.
	last     *Entry
	lastPath string
	chain    []*Entry
	ends     []int
	// applied is the directory whose ancestors add last made sure of.
	applied *Entry
}

func newView(img *Image) *View {
	v := &View{Image: img, rawNames: map[*File]string{}}
	v.root = v.newEntry()
	v.setNode(v.root, "", nil)
	v.root.ext().node.implicit = true
	return v
}

func (v *View) newEntry() *Entry {
	if len(v.entrySlab) == 0 {
		v.entrySlab = make([]Entry, 1024)
	}
	e := &v.entrySlab[0]
	v.entrySlab = v.entrySlab[1:]
	return e
}

func (v *View) newNode(parent *Entry) *dirNode {
	if len(v.nodeSlab) == 0 {
		v.nodeSlab = make([]dirNode, 256)
	}
	n := &v.nodeSlab[0]
	v.nodeSlab = v.nodeSlab[1:]
	n.parent = parent
	return n
}

// newExt gives e what a path has beyond one version. Its place is the
// File's name pointer (the name moves into the extension), so that the
// paths that need none, most of them, do not pay a pointer for it.
func (v *View) newExt(e *Entry) *entryExt {
	if x := e.ext(); x != nil {
		return x
	}
	if len(v.extSlab) == 0 {
		v.extSlab = make([]entryExt, 256)
	}
	x := &v.extSlab[0]
	v.extSlab = v.extSlab[1:]
	x.name = e.f.raw()
	e.f.name = unsafe.Pointer(x)
	e.f.nlen = e.f.nlen&^nameLen | hasExt
	return x
}

// ext is what the path has beyond one version, or nil.
func (e *Entry) ext() *entryExt {
	if e.f.nlen&hasExt == 0 {
		return nil
	}
	return (*entryExt)(e.f.name)
}

// setNode makes e a directory called name in parent. An entry made for a
// path's File already has its name (the File's); one made for a directory
// implied by its contents (intern) or for a File allocated elsewhere is
// given name, which must be in the arena.
func (v *View) setNode(e *Entry, name string, parent *Entry) {
	x := v.newExt(e)
	if x.name == "" {
		x.name = name
	}
	x.node = v.newNode(parent)
}

// newFile allocates a File inside an Entry: when its path is new to the
// image, that Entry becomes the path's, so the most common path (added by
// one layer, touched by no other) costs one File and one pointer.
func (v *View) newFile() *File {
	e := v.newEntry()
	e.f.nlen = inEntry
	return &e.f
}

// ownEntry is the Entry a walk's File was allocated in.
func ownEntry(f *File) *Entry {
	if f.nlen&inEntry == 0 {
		return nil
	}
	return (*Entry)(unsafe.Pointer(f))
}

// RawName is the name an entry has in its layer's tar, as written: it
// differs from f.Path() for escaped names ("../../etc/x", "/abs").
func (v *View) RawName(f *File) string {
	if r, ok := v.rawNames[f]; ok {
		return r
	}
	return strings.TrimPrefix(f.Path(), "/")
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

// Entry is everything the layers did to one path. A path that one layer
// added and no other touched (most paths) is its version and one nil
// pointer; the list of events, and a directory's node, exist only for
// paths that need them.
type Entry struct {
	// f is the path's first version, when the walk made this entry for
	// it (f.Layer is nil for a directory that first existed only because
	// entries are below it, and its first version, if any, is
	// ext().first).
	f File
}

// entryExt is what a path has beyond one version.
type entryExt struct {
	// name is the name of the entry's own File, whose name pointer
	// points here instead (followed by "\x00" and a link's target), or,
	// for a directory whose entry holds no File, the directory's name.
	name  string
	first *File
	// events holds every event, the first version's included, once
	// there is more than that one.
	events []Event
	node   *dirNode
}

// dirNode is what a directory has beyond an entry. It holds no path: a
// directory's name is its entry's, and its path is joined from its
// parents' names when asked for (Entry.Path), so that 150,000 sibling
// directories under a 3,800-byte path cost their own names, not 570 MB.
type dirNode struct {
	parent *Entry
	// kids are sorted by name, unless index is set: a layer that lists a
	// large directory out of order is indexed by a map while it is
	// merged and sorted when the walk ends.
	kids  []*Entry
	index map[string]*Entry
	// implicit: the directory exists because entries are below it.
	implicit bool
}

// first is the path's first version (nil: none yet).
func (e *Entry) first() *File {
	if e.f.Layer != nil {
		return &e.f
	}
	if x := e.ext(); x != nil {
		return x.first
	}
	return nil
}

func (e *Entry) node() *dirNode {
	if x := e.ext(); x != nil {
		return x.node
	}
	return nil
}

// Path is the entry's absolute path, joined from its directories' names
// (one allocation of the path's length).
func (e *Entry) Path() string {
	b := e.appendPath(nil, 0)
	if len(b) == 0 {
		return "/"
	}
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendPath appends the entry's path to b (nothing for the root, whose
// path is "/"), with room for extra bytes more: the names are gathered
// walking up once (on the stack for up to 32 levels), then written in
// order.
func (e *Entry) appendPath(b []byte, extra int) []byte {
	var stack [32]string
	names := stack[:0]
	n := 0
	for a := e; ; {
		up := a.parent()
		if up == nil {
			break
		}
		name := a.name()
		names = append(names, name)
		n += 1 + len(name)
		a = up
	}
	b = slices.Grow(b, n+extra)
	for i := len(names) - 1; i >= 0; i-- {
		b = append(b, '/')
		b = append(b, names[i]...)
	}
	return b
}

// name is the last element of the entry's path ("" for the root).
func (e *Entry) name() string {
	if x := e.ext(); x != nil {
		if x.node != nil || e.f.Layer != nil || x.first == nil {
			return baseOf(x.name)
		}
		return x.first.Name()
	}
	return e.f.Name()
}

// baseOf is a stored name without the link target that may follow it.
func baseOf(s string) string {
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// parent is the directory the entry is in (nil for the root).
func (e *Entry) parent() *Entry {
	if n := e.node(); n != nil {
		return n.parent
	}
	return e.first().dir
}

// Events lists every change of the path, base first.
func (e *Entry) Events() []Event {
	if x := e.ext(); x != nil && x.events != nil {
		return x.events
	}
	if f := e.first(); f != nil {
		return []Event{firstEvent(f)}
	}
	return nil
}

// events yields the changes without allocating (the walk's own loops).
func (e *Entry) events() iter.Seq2[int, Event] {
	return func(yield func(int, Event) bool) {
		if x := e.ext(); x != nil && x.events != nil {
			for i, ev := range x.events {
				if !yield(i, ev) {
					return
				}
			}
			return
		}
		if f := e.first(); f != nil {
			yield(0, firstEvent(f))
		}
	}
}

func firstEvent(f *File) Event {
	return Event{Layer: f.Layer.Index, Kind: Added, File: f}
}

// Final is the version the final filesystem shows: nil when the path was
// deleted, or exists only as a directory implied by its contents.
func (e *Entry) Final() *File {
	if x := e.ext(); x != nil && x.events != nil {
		evs := x.events
		if last := evs[len(evs)-1]; last.Kind != Deleted {
			return last.File
		}
		return nil
	}
	return e.first()
}

// Kids are the entries directly below a directory, sorted by name.
func (e *Entry) Kids() []*Entry {
	if n := e.node(); n != nil {
		return n.kids
	}
	return nil
}

// Exists reports whether the path is in the final filesystem.
func (e *Entry) Exists() bool {
	return e != nil && (e.Final() != nil || e.implicit())
}

// touched reports whether any layer did anything to the path (a node
// made only to hold the directory of a whiteout or of an unused blob's
// file is not part of the image).
func (e *Entry) touched() bool {
	if e.first() != nil || e.implicit() {
		return true
	}
	x := e.ext()
	return x != nil && x.events != nil
}

func (e *Entry) implicit() bool {
	n := e.node()
	return n != nil && n.implicit
}

func (e *Entry) setImplicit(on bool) {
	if n := e.node(); n != nil {
		n.implicit = on
	}
}

// record appends an event to the path's history.
func (v *View) record(e *Entry, ev Event) {
	first := e.first()
	if first == nil && ev.Kind == Added {
		// The path's first version lives in another entry (this one
		// was a directory implied by its contents).
		v.newExt(e).first = ev.File
		return
	}
	x := v.newExt(e)
	if x.events == nil {
		x.events = make([]Event, 0, 2)
		if first != nil {
			x.events = append(x.events, firstEvent(first))
		}
	}
	x.events = append(x.events, ev)
}

// kid returns the child of directory e called name, or nil.
func (e *Entry) kid(name string) *Entry {
	n := e.node()
	if n == nil {
		return nil
	}
	if n.index != nil {
		return n.index[name]
	}
	// Tar lists a directory in order: the name is the last one, or
	// after it (a new name), without a search.
	if k := len(n.kids); k > 0 {
		switch c := strings.Compare(n.kids[k-1].name(), name); {
		case c == 0:
			return n.kids[k-1]
		case c < 0:
			return nil
		}
	}
	i, ok := slices.BinarySearchFunc(n.kids, name, func(k *Entry, name string) int { return strings.Compare(k.name(), name) })
	if ok {
		return n.kids[i]
	}
	return nil
}

// outOfOrder is how many names a directory takes out of order before it
// is indexed by a map instead of kept sorted (insertion into a sorted
// list moves what follows; a hostile layer listing a huge directory
// backwards must not make that quadratic).
const outOfOrder = 64

// addKid puts k below directory e (k's name is not there yet).
func (e *Entry) addKid(k *Entry, name string) {
	n := e.node()
	if n.index != nil {
		n.index[name] = k
		n.kids = append(n.kids, k)
		return
	}
	if len(n.kids) == 0 || n.kids[len(n.kids)-1].name() < name {
		n.kids = appendKid(n.kids, k)
		return
	}
	if len(n.kids) > outOfOrder {
		n.index = make(map[string]*Entry, len(n.kids)+1)
		for _, x := range n.kids {
			n.index[x.name()] = x
		}
		n.index[name] = k
		n.kids = append(n.kids, k)
		return
	}
	i, _ := slices.BinarySearchFunc(n.kids, name, func(k *Entry, name string) int { return strings.Compare(k.name(), name) })
	n.kids = slices.Insert(n.kids, i, k)
}

// appendKid grows a directory's list by a quarter rather than append's
// doubling: the lists hold a pointer per entry of the image, and the
// slack of doubling would add half as much again.
func appendKid(kids []*Entry, k *Entry) []*Entry {
	if len(kids) == cap(kids) && len(kids) >= 16 {
		grown := make([]*Entry, len(kids), len(kids)+len(kids)/4)
		copy(grown, kids)
		kids = grown
	}
	return append(kids, k)
}

// Entry returns what the layers did to a path, or nil if no layer touched it.
func (v *View) Entry(p string) *Entry {
	e := v.root
	for part := range strings.SplitSeq(p, "/") {
		if part == "" || part == "." {
			continue
		}
		if e = e.kid(part); e == nil {
			return nil
		}
	}
	if !e.touched() {
		return nil
	}
	return e
}

// Final returns the version of a path in the final filesystem, or nil.
func (v *View) Final(p string) *File {
	if e := v.Entry(p); e != nil {
		return e.Final()
	}
	return nil
}

// Entries yields every path any layer touched, in filesystem order (a
// directory before its contents, names sorted).
func (v *View) Entries() iter.Seq[*Entry] {
	return func(yield func(*Entry) bool) {
		stack := []*Entry{v.root}
		for len(stack) > 0 {
			e := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if e.touched() && !yield(e) {
				return
			}
			if n := e.node(); n != nil {
				for i := len(n.kids) - 1; i >= 0; i-- {
					stack = append(stack, n.kids[i])
				}
			}
		}
	}
}

// Files yields every entry of the final filesystem, in filesystem order.
func (v *View) Files() iter.Seq[*File] {
	return func(yield func(*File) bool) {
		for e := range v.Entries() {
			if f := e.Final(); f != nil && !yield(f) {
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
		for e := range v.Entries() {
			x := e.ext()
			if x == nil || x.events == nil {
				continue
			}
			evs := x.events
			final := e.Final()
			for i, ev := range evs {
				if ev.Kind == Deleted || ev.File == final {
					continue
				}
				if i+1 < len(evs) && !yield(ev.File, evs[i+1]) {
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
			if up := cur.parent(); up != nil {
				cur = up
			}
			continue
		}
		next := cur.kid(part)
		if !next.Exists() {
			return nil
		}
		if fin := next.Final(); fin != nil && fin.Type == Symlink {
			if hops++; hops > maxHops {
				return nil
			}
			target := fin.Linkname()
			if strings.HasPrefix(target, "/") {
				cur = v.root
			}
			pending = append(parts(target), pending...)
			continue
		}
		cur = next
	}
	if cur.Final() == nil && cur.implicit() {
		f := &File{Type: Dir, Mode: 0o755}
		f.setFullPath(cur.Path())
		return f
	}
	return cur.Final()
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

// intern returns the node of directory p (absolute and clean), creating
// the nodes on the way: every file of the walk points to its directory.
// Creating a node says nothing of the image; applying a layer (apply)
// does.
//
// The lookup starts from the deepest directory p shares with the previous
// lookup (siblings share their parents: 150,000 sibling directories under
// a 3,800-byte path must not each walk 15 names from the root, let alone
// compare paths), then looks up each remaining name in its parent: the
// work is linear in the length of p, which the tar header holds anyway.
func (v *View) intern(p string) (*Entry, error) {
	if v.last != nil && p == v.lastPath {
		return v.last, nil
	}
	// The common prefix of p and the previous path, then the deepest
	// directory of the previous path that ends within it at a name
	// boundary of p.
	c := commonPrefix(p, v.lastPath)
	keep := len(v.ends)
	for keep > 0 {
		end := v.ends[keep-1]
		if end <= c && (end == len(p) || p[end] == '/') {
			break
		}
		keep--
	}
	e, off := v.root, 0
	if keep > 0 {
		e, off = v.chain[keep-1], v.ends[keep-1]
	}
	v.chain, v.ends = v.chain[:keep], v.ends[:keep]
	for off < len(p) {
		i := off + 1
		j := strings.IndexByte(p[i:], '/')
		if j < 0 {
			j = len(p)
		} else {
			j += i
		}
		part := p[i:j]
		off = j
		if part == "" {
			continue
		}
		k := e.kid(part)
		if k == nil {
			// The name goes to the arena, and counts with the names: a
			// hostile tree of directories meets the same bound as one of
			// long names.
			ptr, n, err := v.names.store(part, "", false)
			if err != nil {
				v.last, v.lastPath, v.chain, v.ends = nil, "", v.chain[:0], v.ends[:0]
				return nil, err
			}
			// The arena's copy, not part: that would keep the whole
			// header name alive.
			name := unsafe.String((*byte)(ptr), n)
			k = v.newEntry()
			v.setNode(k, name, e)
			e.addKid(k, name)
		} else if k.node() == nil {
			// A file path becomes a directory path (a later layer
			// replaces the file, or the tar is odd).
			v.setNode(k, k.name(), e)
		}
		e = k
		v.chain, v.ends = append(v.chain, e), append(v.ends, off)
	}
	v.last, v.lastPath = e, p
	return e, nil
}

// commonPrefix is the length of the longest common prefix of a and b,
// compared a block at a time (a byte loop over 3.8 KB names was a tenth
// of the walk).
func commonPrefix(a, b string) int {
	const block = 64
	n := min(len(a), len(b))
	c := 0
	for c+block <= n && a[c:c+block] == b[c:c+block] {
		c += block
	}
	for c < n && a[c] == b[c] {
		c++
	}
	return c
}

// apply merges one layer's entries, in tar order: its whiteouts and
// opaque markers first remove what lower layers hold, then its entries are
// added (a file replacing a directory hides what was below it; a
// directory implied by its contents is created).
func (v *View) apply(files []*File) {
	v.applied = nil
	for _, f := range files {
		switch f.Type {
		case Whiteout:
			if e := v.Entry(f.Path()); e != nil && e != v.root {
				v.remove(e, f, true)
			}
		case Opaque:
			if e := v.Entry(f.Path()); e != nil {
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

// finish ends the merge: directories indexed by a map are sorted, and the
// bytes each layer wastes (versions later layers hide) are counted.
func (v *View) finish() {
	for e := range v.Entries() {
		if n := e.node(); n != nil && n.index != nil {
			slices.SortFunc(n.kids, func(a, b *Entry) int { return strings.Compare(a.name(), b.name()) })
			n.index = nil
		}
	}
	for f := range v.Hidden() {
		if f.Type == Regular {
			f.Layer.Wasted += f.Size
			v.Wasted += f.Size
		}
	}
}

// remove deletes e (self) or only what lower layers put below it (an
// opaque directory), recording the event on every path it hides.
func (v *View) remove(e *Entry, by *File, self bool) {
	if self && e.Exists() {
		if e.Final() != nil {
			v.record(e, Event{Layer: by.Layer.Index, Kind: Deleted, File: by})
		}
		e.setImplicit(false)
	}
	if n := e.node(); n != nil {
		for _, k := range n.kids {
			v.remove(k, by, true)
		}
	}
}

// dir returns the entry of directory d as of this layer: every directory
// above a file exists, implied if no layer made it, and a non-directory
// in the way is replaced (as overlayfs does when a layer puts a directory
// where a lower layer had a file).
func (v *View) dir(d *Entry, by *File) *Entry {
	if d == v.root {
		return d
	}
	v.dir(d.parent(), by)
	if fin := d.Final(); fin != nil && fin.Type != Dir {
		v.record(d, Event{Layer: by.Layer.Index, Kind: Deleted, File: by})
		for _, kk := range d.node().kids {
			v.remove(kk, by, true)
		}
	}
	if d.Final() == nil {
		d.setImplicit(true)
	}
	return d
}

func (v *View) add(f *File) {
	var e *Entry
	if f.dir == nil {
		e = v.root
	} else {
		parent := f.dir
		if parent != v.applied {
			v.dir(parent, f)
			v.applied = parent
		}
		name := f.Name()
		if e = parent.kid(name); e == nil {
			// A new path: the File's own entry becomes the path's.
			if e = ownEntry(f); e == nil {
				e = v.newEntry()
				v.newExt(e).first = f
			}
			parent.addKid(e, name)
			if f.Type == Dir {
				v.setNode(e, name, parent)
			}
			return
		}
	}
	kind := Added
	fin := e.Final()
	if fin != nil {
		kind = Changed
	}
	if (fin != nil && fin.Type == Dir || e.implicit()) && f.Type != Dir {
		if n := e.node(); n != nil {
			for _, k := range n.kids {
				v.remove(k, f, true)
			}
		}
		// A directory replaced: the directories above later files must
		// be checked again.
		v.applied = nil
	}
	e.setImplicit(false)
	if f.Type == Dir && e.node() == nil {
		v.setNode(e, e.name(), f.dir)
	}
	v.record(e, Event{Layer: f.Layer.Index, Kind: kind, File: f})
}
