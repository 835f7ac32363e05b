// Package inventory lists the packages installed in a filesystem: OS
// packages (dpkg, apk, rpm) and language packages (Go and Rust binaries,
// npm, Python, Java, Ruby, PHP, .NET).
//
// Extractors are small values that know nothing about where files come
// from. A driver (the directory walker in dir.go, or an image layer walker)
// asks every extractor whether it wants a file from its path, mode and size
// alone, then streams the file once to the extractors that asked. A Scanner
// gathers what the extractors return, applies deletions from later layers,
// and remembers which layer introduced each package.
package inventory

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// Package is one installed package.
type Package struct {
	// Type is the purl type of the package: deb, apk, rpm, golang, npm,
	// pypi, maven, gem, composer, cargo or nuget.
	Type string `json:"type"`
	// Name is the package's name as its ecosystem (and OSV) spells it:
	// "libssl3", "golang.org/x/net", "@babel/core", "org.apache.commons:commons-text".
	Name    string `json:"name"`
	Version string `json:"version"`
	// SourceName and SourceVersion are the package a distribution built
	// this binary package from (dpkg Source:, apk origin, rpm source RPM);
	// distribution advisories name source packages. Empty when the same as
	// Name and Version.
	SourceName    string `json:"sourceName,omitempty"`
	SourceVersion string `json:"sourceVersion,omitempty"`
	// Arch is the package's architecture, for OS packages.
	Arch string `json:"arch,omitempty"`
	// Epoch is an rpm package's epoch (also part of Version).
	Epoch int `json:"epoch,omitempty"`
	// Ecosystem is the OSV ecosystem, with the release for distribution
	// packages ("Debian:12", "Alpine:v3.20"). It is empty for OS packages
	// of a distribution dockvet cannot name.
	Ecosystem string `json:"ecosystem,omitempty"`
	// PURL is the package URL (https://github.com/package-url/purl-spec).
	PURL string `json:"purl"`
	// Licenses as the package metadata states them (SPDX expressions when
	// the metadata uses them, free text otherwise).
	Licenses []string `json:"licenses,omitempty"`
	// Path is the file the package was read from, relative to the root of
	// the filesystem, slash-separated. A package inside an archive is
	// "outer.war!WEB-INF/lib/inner.jar".
	Path string `json:"path"`
	// LayerIndex is the image layer (0-based from the base) that introduced
	// the package, NoLayer outside images; LayerDigest is that layer's
	// digest when the walker knows it.
	LayerIndex  int    `json:"layerIndex"`
	LayerDigest string `json:"layerDigest,omitempty"`
}

// NoLayer is the LayerIndex of packages found outside an image.
const NoLayer = -1

// OSPackage reports whether p was installed by the distribution's
// package manager.
func (p *Package) OSPackage() bool {
	switch p.Type {
	case TypeDeb, TypeApk, TypeRPM:
		return true
	}
	return false
}

// Source returns the source package name and version, falling back to the
// binary package's own.
func (p *Package) Source() (name, version string) {
	name, version = p.SourceName, p.SourceVersion
	if name == "" {
		name = p.Name
	}
	if version == "" {
		version = p.Version
	}
	return name, version
}

// Package types (purl types).
const (
	TypeDeb      = "deb"
	TypeApk      = "apk"
	TypeRPM      = "rpm"
	TypeGolang   = "golang"
	TypeNpm      = "npm"
	TypePyPI     = "pypi"
	TypeMaven    = "maven"
	TypeGem      = "gem"
	TypeComposer = "composer"
	TypeCargo    = "cargo"
	TypeNuGet    = "nuget"
)

// GoStdlib is the name under which the Go toolchain a binary was built
// with is listed, as the Go vulnerability database names it.
const GoStdlib = "stdlib"

// Input is one file handed to an extractor. Reader streams the file once;
// ReaderAt, when the driver has it (a file on disk, a buffered file), gives
// random access to the same bytes. Path is relative to the filesystem
// root, slash-separated, without a leading slash.
type Input struct {
	Path     string
	Reader   io.Reader
	ReaderAt io.ReaderAt
	Size     int64
	Mode     fs.FileMode
}

// Extractor reads packages from the files it asks for.
type Extractor interface {
	// Name identifies the extractor in errors.
	Name() string
	// Required reports, from the path, mode and size alone, whether the
	// extractor wants the file. It is called for every file of a
	// filesystem and must be cheap.
	Required(path string, mode fs.FileMode, size int64) bool
	// Extract reads the packages in one file. Packages need only Type,
	// Name, Version and what the file says; the Scanner fills Path,
	// layer, Ecosystem and PURL. Packages returned with an error are
	// kept: the file was partly readable.
	Extract(ctx context.Context, in Input) ([]Package, error)
}

// randomAccess is implemented by extractors that need io.ReaderAt (zip and
// executable formats). MaxSize is the largest file they read into memory
// when the driver cannot give random access; a larger file is skipped with
// an error.
type randomAccess interface {
	MaxSize() int64
}

// FileError is a file an extractor could not read. It does not stop the
// inventory: other files are still read.
type FileError struct {
	Path      string `json:"path"`
	Extractor string `json:"extractor"`
	Err       string `json:"error"`
}

func (e FileError) Error() string { return e.Path + ": " + e.Extractor + ": " + e.Err }

// errTooLarge is returned for files beyond an extractor's MaxSize.
var errTooLarge = errors.New("file too large to read")

// readerAt gives random access to in, reading the stream into memory when
// the driver gave none. Files over max bytes are refused.
func readerAt(in Input, max int64) (io.ReaderAt, int64, error) {
	if in.ReaderAt != nil {
		return in.ReaderAt, in.Size, nil
	}
	if in.Size > max {
		return nil, 0, fmt.Errorf("%w (%d bytes, limit %d)", errTooLarge, in.Size, max)
	}
	b, err := readAll(in.Reader, max)
	if err != nil {
		return nil, 0, err
	}
	return bytes.NewReader(b), int64(len(b)), nil
}

// readAll reads r to the end, refusing more than max bytes so that a
// hostile file cannot exhaust memory.
func readAll(r io.Reader, max int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%w (limit %d bytes)", errTooLarge, max)
	}
	return b, nil
}

// Size limits for files read whole into memory. Package metadata files
// are small; these bounds only stop a hostile or corrupt file.
const (
	maxMetadataSize = 64 << 20  // status files, lockfiles, METADATA, JSON manifests
	maxArchiveSize  = 512 << 20 // jar/war/ear read without random access
	maxBinarySize   = 512 << 20 // Go and Rust executables read without random access
	maxRPMDBSize    = 1 << 30   // rpm databases are copied to an in-memory (or private temporary) file
)

// Default returns one of every extractor dockvet has, in a fixed order.
func Default() []Extractor {
	return []Extractor{
		Dpkg{}, Apk{}, RPM{},
		GoBinary{}, CargoAuditable{},
		NpmPackage{}, NpmLockfile{}, PythonMetadata{},
		JavaArchive{}, Gemspec{}, ComposerInstalled{}, DotnetDeps{},
	}
}
