package inventory

import (
	"bytes"
	"compress/zlib"
	"context"
	"debug/elf"
	"debug/pe"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// CargoAuditable reads the dependency list that cargo-auditable embeds in
// Rust executables: zlib-compressed JSON in a ".dep-v0" section
// (https://github.com/rust-secure-code/cargo-auditable, format.md).
type CargoAuditable struct{}

// Name implements Extractor.
func (CargoAuditable) Name() string { return "cargo-auditable" }

// MaxSize implements randomAccess.
func (CargoAuditable) MaxSize() int64 { return maxBinarySize }

// Required implements Extractor.
func (CargoAuditable) Required(_ string, mode fs.FileMode, size int64) bool {
	return isExecutable(mode, size)
}

// maxAuditData bounds the decompressed dependency list (cargo-auditable
// itself refuses more than 8 MiB).
const maxAuditData = 8 << 20

// Extract implements Extractor.
func (c CargoAuditable) Extract(ctx context.Context, in Input) ([]Package, error) {
	ra, size, err := readerAt(in, c.MaxSize())
	if err != nil {
		return nil, err
	}
	if !executableMagic(ra) {
		return nil, nil
	}
	sec, err := auditSection(ra, size)
	if err != nil || sec == nil {
		// Not an executable we can read, or not built with
		// cargo-auditable: nothing to list.
		return nil, nil
	}
	zr, err := zlib.NewReader(sec)
	if err != nil {
		return nil, fmt.Errorf(".dep-v0: %v", err)
	}
	data, err := readAll(zr, maxAuditData)
	if err != nil {
		return nil, fmt.Errorf(".dep-v0: %v", err)
	}
	return parseAuditData(data)
}

// auditSection finds the ".dep-v0" section of an ELF or PE executable.
func auditSection(r io.ReaderAt, size int64) (sec io.Reader, err error) {
	defer func() {
		if p := recover(); p != nil {
			sec, err = nil, errors.New("malformed executable")
		}
	}()
	var magic [4]byte
	if _, err := r.ReadAt(magic[:], 0); err != nil {
		return nil, err
	}
	switch {
	case string(magic[:]) == "\x7fELF":
		f, err := elf.NewFile(r)
		if err != nil {
			return nil, err
		}
		if s := f.Section(".dep-v0"); s != nil && s.Type != elf.SHT_NOBITS {
			return io.NewSectionReader(r, int64(s.Offset), int64(s.Size)), nil
		}
	case string(magic[:2]) == "MZ":
		f, err := pe.NewFile(r)
		if err != nil {
			return nil, err
		}
		if s := f.Section(".dep-v0"); s != nil {
			return io.NewSectionReader(r, int64(s.Offset), int64(s.Size)), nil
		}
	}
	return nil, nil
}

// auditData is cargo-auditable's JSON: every crate in the build, with its
// source and whether it was a build-time dependency only.
type auditData struct {
	Packages []struct {
		Name    string `json:"name"`
		Version string `json:"version"`
		Source  string `json:"source"`
		Kind    string `json:"kind"`
	} `json:"packages"`
}

// parseAuditData lists the crates compiled into the program. Build-time
// dependencies (build scripts, proc macros) do not ship in the binary, and
// crates from a local path are the program's own code, not crates.io
// packages an advisory could name.
func parseAuditData(b []byte) ([]Package, error) {
	var d auditData
	dec := json.NewDecoder(bytes.NewReader(b))
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf(".dep-v0: %v", err)
	}
	var out []Package
	for _, p := range d.Packages {
		if p.Name == "" || p.Version == "" || p.Kind == "build" || p.Source == "local" {
			continue
		}
		out = append(out, Package{Type: TypeCargo, Name: p.Name, Version: p.Version})
	}
	return out, nil
}
