package inventory

import (
	"context"
	"debug/buildinfo"
	"errors"
	"io"
	"io/fs"
	"strings"
)

// GoBinary reads the module information the Go toolchain embeds in every
// binary it builds (debug/buildinfo): the main module, its dependencies,
// and the toolchain version, listed as the module "stdlib" as the Go
// vulnerability database names the standard library.
type GoBinary struct{}

// Name implements Extractor.
func (GoBinary) Name() string { return "go-binary" }

// MaxSize implements randomAccess.
func (GoBinary) MaxSize() int64 { return maxBinarySize }

// Required implements Extractor: executable regular files. Which of them
// are Go binaries only their bytes can tell.
func (GoBinary) Required(_ string, mode fs.FileMode, size int64) bool {
	return isExecutable(mode, size)
}

// isExecutable is a regular file with an execute bit, large enough to be
// a program; shell scripts are weeded out by their first bytes.
func isExecutable(mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && mode.Perm()&0o111 != 0 && size >= 512
}

// executableMagic reports whether the file starts like an ELF, Mach-O or
// PE executable.
func executableMagic(r io.ReaderAt) bool {
	var b [4]byte
	if _, err := r.ReadAt(b[:], 0); err != nil {
		return false
	}
	s := string(b[:])
	switch {
	case s == "\x7fELF", s[:2] == "MZ",
		s == "\xfe\xed\xfa\xce", s == "\xce\xfa\xed\xfe", s == "\xfe\xed\xfa\xcf", s == "\xcf\xfa\xed\xfe":
		return true
	}
	return false
}

// Extract implements Extractor.
func (g GoBinary) Extract(ctx context.Context, in Input) ([]Package, error) {
	ra, _, err := readerAt(in, g.MaxSize())
	if err != nil {
		return nil, err
	}
	if !executableMagic(ra) {
		return nil, nil
	}
	info, err := readBuildInfo(ra)
	if err != nil {
		// Not a Go binary (or one built without module support): nothing
		// to list, and nothing wrong with the file.
		return nil, nil
	}
	var out []Package
	if v, ok := goToolchainVersion(info.GoVersion); ok {
		out = append(out, Package{Type: TypeGolang, Name: GoStdlib, Version: v})
	}
	if m := info.Main; m.Path != "" && m.Version != "" && m.Version != "(devel)" {
		out = append(out, Package{Type: TypeGolang, Name: m.Path, Version: m.Version})
	}
	for _, d := range info.Deps {
		if d.Replace != nil && d.Replace.Version != "" {
			// A replacement by another module version is what was built;
			// one by a local directory has no version and keeps the
			// required one.
			d = d.Replace
		}
		if d.Path == "" || d.Version == "" || d.Version == "(devel)" {
			continue
		}
		out = append(out, Package{Type: TypeGolang, Name: d.Path, Version: d.Version})
	}
	return out, nil
}

// readBuildInfo wraps debug/buildinfo, which parses untrusted executable
// headers, so that a panic on a malformed file cannot stop an inventory.
func readBuildInfo(r io.ReaderAt) (info *buildinfo.BuildInfo, err error) {
	defer func() {
		if p := recover(); p != nil {
			info, err = nil, errors.New("malformed executable")
		}
	}()
	return buildinfo.Read(r)
}

// goToolchainVersion turns "go1.22.1" (possibly followed by build
// experiments, " X:…") into "v1.22.1", the form module versions take.
// Development toolchains ("devel …") have no release to match.
func goToolchainVersion(s string) (string, bool) {
	s, _, _ = strings.Cut(s, " ")
	v, ok := strings.CutPrefix(s, "go")
	if !ok || v == "" || !isDigit(v[0]) {
		return "", false
	}
	// Release candidates are written go1.21rc2; semver wants 1.21.0-rc.2.
	if i := strings.IndexAny(v, "abcdefghijklmnopqrstuvwxyz"); i > 0 {
		num, pre := v[:i], v[i:]
		if strings.Count(num, ".") == 1 {
			num += ".0"
		}
		for _, tag := range []string{"rc", "beta"} {
			if n, ok := strings.CutPrefix(pre, tag); ok {
				pre = tag + "." + n
			}
		}
		return "v" + num + "-" + pre, true
	}
	if strings.Count(v, ".") == 1 {
		// go1.21 is the 1.21.0 release.
		v += ".0"
	}
	return "v" + v, true
}
