package inventory

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
)

// Apk reads the Alpine (and Wolfi, Chainguard) package database,
// /lib/apk/db/installed.
type Apk struct{}

// Name implements Extractor.
func (Apk) Name() string { return "apk" }

// Required implements Extractor.
func (Apk) Required(p string, mode fs.FileMode, _ int64) bool {
	return mode.IsRegular() && p == "lib/apk/db/installed"
}

// Extract implements Extractor.
func (Apk) Extract(ctx context.Context, in Input) ([]Package, error) {
	b, err := readAll(in.Reader, maxMetadataSize)
	if err != nil {
		return nil, err
	}
	return parseApkInstalled(b)
}

// parseApkInstalled reads apk's "K:value" records, one package per
// blank-line separated block (https://wiki.alpinelinux.org/wiki/Apk_spec).
// P is the name, V the version, A the architecture, L the license and o
// the origin: the source package Alpine's advisories name.
func parseApkInstalled(b []byte) ([]Package, error) {
	var out []Package
	var bad error
	var cur Package
	flush := func() {
		switch {
		case cur.Name == "" && cur.Version == "":
		case cur.Name == "" || cur.Version == "":
			if bad == nil {
				bad = fmt.Errorf("package record without P: or V: (%q %q)", cur.Name, cur.Version)
			}
		default:
			if cur.SourceName == cur.Name {
				cur.SourceName = ""
			}
			out = append(out, cur)
		}
		cur = Package{Type: TypeApk}
	}
	cur.Type = TypeApk
	for _, line := range bytes.Split(b, []byte("\n")) {
		line = bytes.TrimSuffix(line, []byte("\r"))
		if len(line) == 0 {
			flush()
			continue
		}
		if len(line) < 2 || line[1] != ':' {
			continue
		}
		v := string(line[2:])
		switch line[0] {
		case 'P':
			cur.Name = v
		case 'V':
			cur.Version = v
		case 'A':
			cur.Arch = v
		case 'L':
			if v != "" {
				cur.Licenses = []string{v}
			}
		case 'o':
			cur.SourceName = v
		}
	}
	flush()
	return out, bad
}
