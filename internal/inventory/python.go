package inventory

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"net/textproto"
	"path"
	"strings"
)

// PythonMetadata reads installed Python distributions: wheel installs
// (NAME.dist-info/METADATA) and setuptools installs (NAME.egg-info/PKG-INFO,
// a NAME.egg-info file, or EGG-INFO/PKG-INFO inside an .egg).
type PythonMetadata struct{}

// Name implements Extractor.
func (PythonMetadata) Name() string { return "python" }

// Required implements Extractor.
func (PythonMetadata) Required(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() || size > maxMetadataSize {
		return false
	}
	dir, file := path.Split(p)
	dir = strings.TrimSuffix(dir, "/")
	switch file {
	case "METADATA":
		return strings.HasSuffix(dir, ".dist-info")
	case "PKG-INFO":
		return strings.HasSuffix(dir, ".egg-info") || path.Base(dir) == "EGG-INFO"
	}
	return strings.HasSuffix(file, ".egg-info")
}

// Extract implements Extractor.
func (PythonMetadata) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	p, err := parsePythonMetadata(b)
	if err != nil || p == nil {
		return nil, err
	}
	return []Package{*p}, nil
}

// parsePythonMetadata reads the core metadata format
// (https://packaging.python.org/en/latest/specifications/core-metadata/):
// RFC 822 headers, then an optional description body.
func parsePythonMetadata(b []byte) (*Package, error) {
	// textproto stops at the first blank line: the headers end there.
	r := textproto.NewReader(bufio.NewReader(bytes.NewReader(b)))
	h, err := r.ReadMIMEHeader()
	if err != nil && len(h) == 0 {
		return nil, fmt.Errorf("metadata: %v", err)
	}
	name, version := strings.TrimSpace(h.Get("Name")), strings.TrimSpace(h.Get("Version"))
	if name == "" || version == "" {
		return nil, nil
	}
	return &Package{Type: TypePyPI, Name: name, Version: version, Licenses: pythonLicenses(h)}, nil
}

// pythonLicenses prefers the SPDX License-Expression (PEP 639), then a
// short License field (many packages paste the whole license text there,
// which names nothing), then the license classifiers.
func pythonLicenses(h textproto.MIMEHeader) []string {
	if e := strings.TrimSpace(h.Get("License-Expression")); e != "" {
		return []string{e}
	}
	if l := strings.TrimSpace(h.Get("License")); l != "" && l != "UNKNOWN" && len(l) <= 80 && !strings.Contains(l, "\n") {
		return []string{l}
	}
	var out []string
	for _, c := range h.Values("Classifier") {
		if rest, ok := strings.CutPrefix(c, "License ::"); ok {
			parts := strings.Split(rest, "::")
			if l := strings.TrimSpace(parts[len(parts)-1]); l != "" && l != "OSI Approved" {
				out = append(out, l)
			}
		}
	}
	return out
}

// NormalizePyPIName is PEP 503's normalised project name, the form OSV
// records and purls use: lower case, runs of "-", "_" and "." as one "-".
func NormalizePyPIName(name string) string {
	var b strings.Builder
	dash := false
	for _, c := range strings.ToLower(name) {
		if c == '-' || c == '_' || c == '.' {
			dash = true
			continue
		}
		if dash && b.Len() > 0 {
			b.WriteByte('-')
		}
		dash = false
		b.WriteRune(c)
	}
	return b.String()
}
