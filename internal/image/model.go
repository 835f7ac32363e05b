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

// File is one entry of one layer, as the walk saw it. Images hold hundreds
// of thousands of entries, so it is kept small.
type File struct {
	// Path is absolute and clean ("/etc/passwd"); names that climbed above
	// the root are clamped to it, as runtimes do, and marked Escaped
	// (View.RawName gives the name as written).
	Path string
	// Linkname is a symlink's target as written, or a hard link's target
	// as a clean absolute path.
	Linkname string
	Layer    *Layer
	Size     int64
	UID, GID int32
	// Mode holds the permission bits plus fs.ModeSetuid, fs.ModeSetgid
	// and fs.ModeSticky.
	Mode fs.FileMode
	Type Type
	// Escaped is set when the tar name was absolute or climbed above the
	// root with "..".
	Escaped bool
}

// Name is the last element of the path.
func (f *File) Name() string {
	i := strings.LastIndexByte(f.Path, '/')
	return f.Path[i+1:]
}

// Dir is the parent directory of the path.
func (f *File) Dir() string {
	i := strings.LastIndexByte(f.Path, '/')
	if i <= 0 {
		return "/"
	}
	return f.Path[:i]
}

// Executable reports whether anyone may execute the file.
func (f *File) Executable() bool { return f.Mode&0o111 != 0 }
