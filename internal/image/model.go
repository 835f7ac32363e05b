// Package image reads container images from every source dockvet accepts
// (docker-archive, oci-archive, OCI layout, the local Engine, a registry)
// into one Image value, walks their layers once as a stream, and checks the
// result against the image rules.
//
// The walk never unpacks to disk and never holds a whole layer in memory.
// Analyzers (the image rules' own file readers, and later the secret engine
// and package extractors) declare which files they want and get each file's
// content once; when the walk ends they see the merged view: the final
// filesystem and every version a lower layer still holds. See analyzer.go
// and docs/architecture.md.
package image

import (
	"io/fs"
	"strings"
	"unsafe"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Image is an image from any source: its configuration and its layers, base
// first. For streamed sources (docker:) Config and the layers' identities
// are known only once Walk has read the stream.
type Image struct {
	// Ref is the reference as the user wrote it.
	Ref string
	// Source names where the image came from: docker-archive, oci-archive,
	// oci, docker, registry.
	Source string
	// Name is the repository reference the image is known by, when there is
	// one (a registry or Engine name, or the tag a docker-archive carries).
	Name string
	// Digest is the manifest digest, when the source has a manifest.
	Digest v1.Hash
	// ConfigDigest is the digest of the configuration (the image ID).
	ConfigDigest v1.Hash
	Config       *v1.ConfigFile
	Layers       []*Layer
	// RepoDigests are the name@digest references a registry serves the
	// image under: what the Engine recorded when it pulled it, or the
	// registry's answer.
	RepoDigests []string
	// Location is where the source was: the archive or layout path, the
	// Engine's address, the registry's host.
	Location string
	// SourceNote says why the image came from a later source than the
	// first tried (a bare name the Engine could not give).
	SourceNote string

	// want is the platform asked for (the host's unless explicit), for a
	// streamed archive's index.
	want     v1.Platform
	explicit bool

	// open returns the stored bytes of layer i (random-access sources).
	open func(i int) (blobReader, error)
	// stream reads a whole archive in one pass (the Engine's docker save).
	stream func(w *walker) error
	// layerCount and contentTotal are what the Engine says of a streamed
	// image before the stream: its number of layers and their size.
	layerCount   int
	contentTotal int64
	close        func() error
}

// storedTotal is the stored size of all layers, when the source gave each
// layer's size (0 otherwise).
func (img *Image) storedTotal() int64 {
	var n int64
	for _, l := range img.Layers {
		if l.blobSize <= 0 {
			return 0
		}
		n += l.blobSize
	}
	return n
}

// Close releases what the source holds open (files, connections).
func (img *Image) Close() error {
	if img.close == nil {
		return nil
	}
	c := img.close
	img.close = nil
	return c()
}

// blobReader is a layer's stored bytes (compressed or not).
type blobReader interface {
	Read(p []byte) (int, error)
	Close() error
}

// Layer is one filesystem layer. Index, DiffID and History are set before
// the layer is read for random-access sources; a streamed source learns
// them when the whole archive has been read (see Analyzer).
type Layer struct {
	// Index is the position from the base, 0-based; -1 while unknown.
	Index int
	// DiffID is the digest of the uncompressed layer, from the config.
	DiffID v1.Hash
	// Digest is the digest of the stored blob, when the source names it.
	Digest    v1.Hash
	MediaType types.MediaType
	// History is the history entry that created this layer (nil when the
	// config has no usable history); HistoryIndex is its position in
	// Config.History, -1 when absent.
	History      *v1.History
	HistoryIndex int

	// Filled by the walk.
	Stored int64 // bytes of the blob as stored (compressed size)
	Tar    int64 // bytes of the uncompressed tar stream
	Size   int64 // bytes of regular file content
	Files  int   // entries (files, directories, links, whiteouts)
	Wasted int64 // bytes of this layer's files that later layers hide
	// Reused is set when the layer was not read: its record came from
	// Options.Layers.
	Reused bool
	// RepeatOf is the earlier layer that is the same layer (the same diff
	// ID), nil when none: a manifest listing one layer again is
	// odd (no builder does it) and may be an attempt to cost a scanner
	// one inflation per listing. The walk reads the layer once and
	// replays its facts at the later positions.
	RepeatOf *Layer

	// blobSize is the stored size the manifest or archive gives, 0 when
	// unknown.
	blobSize int64
}

// CreatedBy is the instruction that made the layer, or "".
func (l *Layer) CreatedBy() string {
	if l == nil || l.History == nil {
		return ""
	}
	return l.History.CreatedBy
}

// Type is the kind of a layer entry.
type Type uint8

// Entry types. Whiteout and Opaque are the overlay deletion markers, with
// Path set to what they delete.
const (
	Regular Type = iota + 1
	Dir
	Symlink
	Hardlink
	CharDevice
	BlockDevice
	FIFO
	Whiteout
	Opaque
	Other
)

var typeNames = map[Type]string{Regular: "file", Dir: "directory", Symlink: "symlink", Hardlink: "hard link",
	CharDevice: "character device", BlockDevice: "block device", FIFO: "FIFO", Whiteout: "whiteout", Opaque: "opaque marker", Other: "special entry"}

func (t Type) String() string { return typeNames[t] }

// File is one entry of one layer, as the walk saw it. Images hold up to a
// million entries, so it is kept to 48 bytes: the path is the directory's
// entry and the base name, in the walk's name arena (a directory keeps its
// own name too, and its path is joined from its parents' names when asked
// for); a link's target follows the name there.
type File struct {
	// name points at the base name's bytes, then "\x00" and the link
	// target for links; while the walk delivers the file it points at the
	// whole path instead (nameFull).
	name  unsafe.Pointer
	dir   *Entry
	Layer *Layer
	Size  int64
	UID   int32
	GID   int32
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid
	// and fs.ModeSticky.
	Mode fs.FileMode
	// nlen is the length of name's bytes, with nameFull as a flag.
	nlen uint16
	Type Type
	// Escaped is set when the tar name was absolute or climbed above the
	// root with "..".
	Escaped bool
}

// nlen flags: nameFull marks a File whose name holds its whole path,
// inEntry one the walk allocated inside an Entry (View.newFile), hasExt
// the File of an Entry whose name pointer points at its entryExt (which
// holds the name).
const (
	nameFull = 1 << 15
	inEntry  = 1 << 14
	hasExt   = 1 << 13
	nameLen  = hasExt - 1
)

func (f *File) raw() string {
	if f.nlen&hasExt != 0 {
		return (*entryExt)(f.name).name
	}
	if f.name == nil {
		return ""
	}
	return unsafe.String((*byte)(f.name), int(f.nlen&nameLen))
}

func (f *File) setRaw(s string, full bool) {
	f.name, f.nlen = unsafe.Pointer(unsafe.StringData(s)), uint16(len(s))|f.nlen&inEntry
	if full {
		f.nlen |= nameFull
	}
}

// setFullPath gives a File made outside the walk its path.
func (f *File) setFullPath(p string) { f.setRaw(p, true) }

// Path is absolute and clean ("/etc/passwd"); names that climbed above
// the root are clamped to it, as runtimes do, and marked Escaped
// (View.RawName gives the name as written).
func (f *File) Path() string {
	if f.nlen&nameFull != 0 {
		return f.raw()
	}
	name := f.Name()
	if f.dir == nil {
		return "/" + name
	}
	b := f.dir.appendPath(nil, 1+len(name))
	b = append(b, '/')
	b = append(b, name...)
	return unsafe.String(unsafe.SliceData(b), len(b))
}

// appendPath appends the path to b, without allocating a string.
func (f *File) appendPath(b []byte) []byte {
	if f.nlen&nameFull != 0 {
		return append(b, f.raw()...)
	}
	if f.dir != nil {
		b = f.dir.appendPath(b, 1+len(f.Name()))
	}
	b = append(b, '/')
	return append(b, f.Name()...)
}

// Name is the last element of the path.
func (f *File) Name() string {
	s := f.raw()
	if f.nlen&nameFull != 0 {
		return s[strings.LastIndexByte(s, '/')+1:]
	}
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[:i]
	}
	return s
}

// Linkname is a symlink's target as written, or a hard link's target as
// a clean absolute path.
func (f *File) Linkname() string {
	if f.Type != Symlink && f.Type != Hardlink || f.nlen&nameFull != 0 {
		return ""
	}
	s := f.raw()
	if i := strings.IndexByte(s, 0); i >= 0 {
		return s[i+1:]
	}
	return ""
}

// Dir is the parent directory of the path.
func (f *File) Dir() string {
	if f.nlen&nameFull == 0 {
		if f.dir == nil {
			return "/"
		}
		return f.dir.Path()
	}
	p := f.raw()
	i := strings.LastIndexByte(p, '/')
	if i <= 0 {
		return "/"
	}
	return p[:i]
}

// Executable reports whether anyone may execute the file.
func (f *File) Executable() bool { return f.Mode&0o111 != 0 }
