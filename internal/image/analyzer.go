package image

import "io"

// Analyzer is one consumer of the layer walk. The walk reads every layer
// once; for every regular file it asks each analyzer whether it wants the
// file, reads the content once and hands it to those that do. When the last
// layer has been read, each analyzer's Finish sees the merged View.
//
// Contract:
//   - Want is called for every regular file of every layer (a file that a
//     later layer deletes or overwrites is still visited: its bytes are in
//     the image). Directories, links, devices and whiteouts carry no content;
//     analyzers see them in the View.
//   - Visit gets at most Want.Max bytes (the whole file when 0). It may stop
//     reading early; the walk skips the rest. Calls to one analyzer never
//     overlap, but different analyzers may be visited concurrently for one
//     large file.
//   - A Visit error stops the walk: return one only when the run cannot go
//     on (a file the analyzer cannot parse is a fact about the image, not an
//     error of the run; record it and carry on).
//   - Keep results keyed by *File and decide in Finish what they mean:
//     View.Final tells whether a version is the one the final filesystem
//     shows, View.History what happened to it. A streamed source (docker:)
//     learns a layer's position only when the whole archive has been read,
//     so f.Layer.Index may be -1 during Visit; it is final in Finish, where
//     View.Owns(f) is false for a blob the archive carried that the image
//     does not use.
type Analyzer interface {
	// Name identifies the analyzer in error messages.
	Name() string
	// Want says whether, and how much of, a file's content the analyzer
	// reads. It may look at anything in f (path, name, size, mode, layer).
	Want(f *File) (Want, bool)
	// Visit receives the content of a file Want accepted.
	Visit(f *File, c Content) error
	// Finish is called once after the last layer.
	Finish(v *View) error
}

// Want says how much of a file an analyzer reads.
type Want struct {
	// Max caps the bytes delivered (the reader ends there; File.Size is the
	// real size). 0 means the whole file.
	Max int64
	// Whole asks for the complete file in memory, readable at any offset,
	// for formats that need it (zip-based jars, wars, wheels). A file larger
	// than Options.MaxWholeFile is not delivered to this analyzer and is
	// listed in View.Skipped; Max is ignored.
	Whole bool
}

// Content is one file's bytes, delivered once.
type Content struct {
	io.Reader
	// At is the whole file when Want.Whole was asked, nil otherwise.
	At io.ReaderAt
}
