package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// Dpkg reads Debian and Ubuntu package databases: /var/lib/dpkg/status,
// and the one-file-per-package /var/lib/dpkg/status.d/* of distroless
// images.
type Dpkg struct{}

// Name implements Extractor.
func (Dpkg) Name() string { return "dpkg" }

// Required implements Extractor.
func (Dpkg) Required(p string, mode fs.FileMode, size int64) bool {
	if !mode.IsRegular() {
		return false
	}
	if p == "var/lib/dpkg/status" {
		return true
	}
	dir, file := path.Split(p)
	// status.d also holds "<pkg>.md5sums" file lists; package names may
	// contain dots ("libpython3.11-minimal").
	return dir == "var/lib/dpkg/status.d/" && file != "" && !strings.HasSuffix(file, ".md5sums")
}

// Extract implements Extractor.
func (Dpkg) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	return parseDpkgStatus(b)
}

// parseDpkgStatus reads deb822 paragraphs. Only packages whose status is
// "installed" count: dpkg keeps removed-but-not-purged packages
// ("deinstall ok config-files") in the same file. A paragraph without a
// Status field (distroless status.d) is installed by construction.
func parseDpkgStatus(b []byte) ([]Package, error) {
	var out []Package
	var bad error
	for _, para := range controlParagraphs(b) {
		name, version := para["Package"], para["Version"]
		if name == "" {
			continue
		}
		if version == "" {
			if bad == nil {
				bad = fmt.Errorf("package %q has no Version", name)
			}
			continue
		}
		if st, ok := para["Status"]; ok {
			f := strings.Fields(st)
			if len(f) != 3 || f[2] != "installed" {
				continue
			}
		}
		p := Package{Type: TypeDeb, Name: name, Version: version, Arch: para["Architecture"]}
		if src := para["Source"]; src != "" {
			// "Source: glibc (2.36-9+deb12u4)" when the source version differs.
			sname, sver, _ := strings.Cut(src, " ")
			p.SourceName = sname
			if sver = strings.TrimSpace(sver); strings.HasPrefix(sver, "(") && strings.HasSuffix(sver, ")") {
				p.SourceVersion = strings.TrimSpace(sver[1 : len(sver)-1])
			}
		}
		if p.SourceName == p.Name {
			p.SourceName = ""
		}
		if p.SourceVersion == p.Version {
			p.SourceVersion = ""
		}
		out = append(out, p)
	}
	return out, bad
}

// controlParagraphs splits deb822 text into paragraphs of fields.
// Continuation lines (starting with a space or tab) are skipped: every
// caller uses a field's first line only (dpkg's Package, Version, Status,
// Source; DEP-5's License short name), and folding them in by appending
// to the field made a status file of 200,000 continuation lines quadratic
// (149 s of CPU from a 10 KB archive). The parse is one pass over the
// bytes, linear in the input.
func controlParagraphs(b []byte) []map[string]string {
	var out []map[string]string
	cur := map[string]string{}
	flush := func() {
		if len(cur) > 0 {
			out = append(out, cur)
			cur = map[string]string{}
		}
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(bytes.TrimSpace(line)) == 0 {
			flush()
			continue
		}
		if line[0] == ' ' || line[0] == '\t' || line[0] == '#' {
			continue
		}
		k, v, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			continue
		}
		cur[string(k)] = strings.TrimSpace(string(v))
	}
	flush()
	return out
}
