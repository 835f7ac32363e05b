package inventory

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"path"
	"strings"
)

// JavaArchive reads Java archives (.jar, .war, .ear and Jenkins plugins),
// including archives nested inside them (WEB-INF/lib, BOOT-INF/lib, an
// ear's modules). Each META-INF/maven/GROUP/ARTIFACT/pom.properties is a
// package; an archive without one is named from its MANIFEST.MF and file
// name.
type JavaArchive struct{}

// Name implements Extractor.
func (JavaArchive) Name() string { return "java" }

// MaxSize implements randomAccess.
func (JavaArchive) MaxSize() int64 { return maxArchiveSize }

var javaArchiveExts = map[string]bool{".jar": true, ".war": true, ".ear": true, ".jpi": true, ".hpi": true}

// Required implements Extractor.
func (JavaArchive) Required(p string, mode fs.FileMode, size int64) bool {
	return mode.IsRegular() && size > 0 && javaArchiveExts[strings.ToLower(path.Ext(p))]
}

// maxJavaDepth bounds archive nesting (a war in an ear holds jars: 3).
const maxJavaDepth = 3

// Extract implements Extractor.
func (j JavaArchive) Extract(ctx context.Context, in Input) ([]Package, error) {
	ra, size, err := readerAt(in, j.MaxSize())
	if err != nil {
		return nil, err
	}
	return readJavaArchive(ctx, ra, size, in.Path, 0)
}

// readJavaArchive lists the packages of one archive and those nested in it.
// Nested archives are reported at "outer!inner/path.jar".
func readJavaArchive(ctx context.Context, ra io.ReaderAt, size int64, where string, depth int) ([]Package, error) {
	zr, err := zip.NewReader(ra, size)
	if err != nil {
		return nil, fmt.Errorf("not a readable archive: %v", err)
	}
	var out []Package
	var firstErr error
	var manifest map[string]string
	for _, f := range zr.File {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		name := f.Name
		switch {
		case strings.EqualFold(name, "META-INF/MANIFEST.MF"):
			if b, err := readZipFile(f, maxMetadataSize); err == nil {
				manifest = parseManifest(b)
			}
		case strings.HasPrefix(name, "META-INF/maven/") && strings.HasSuffix(name, "/pom.properties"):
			b, err := readZipFile(f, maxMetadataSize)
			if err != nil {
				firstErr = keepFirst(firstErr, fmt.Errorf("%s: %v", name, err))
				continue
			}
			if p := parsePomProperties(b); p != nil {
				p.Path = where
				out = append(out, *p)
			}
		case javaArchiveExts[strings.ToLower(path.Ext(name))] && !f.FileInfo().IsDir() && depth < maxJavaDepth:
			inner := where + "!" + name
			if f.UncompressedSize64 > maxNestedSize {
				firstErr = keepFirst(firstErr, fmt.Errorf("%s: %w", name, errTooLarge))
				continue
			}
			b, err := readZipFile(f, maxNestedSize)
			if err != nil {
				firstErr = keepFirst(firstErr, fmt.Errorf("%s: %v", name, err))
				continue
			}
			ps, err := readJavaArchive(ctx, bytes.NewReader(b), int64(len(b)), inner, depth+1)
			out = append(out, ps...)
			if err != nil {
				firstErr = keepFirst(firstErr, fmt.Errorf("%s: %v", name, err))
			}
		}
	}
	if !hasPackageAt(out, where) {
		if p := manifestPackage(manifest, where); p != nil {
			out = append(out, *p)
		}
	}
	return out, firstErr
}

func keepFirst(have, err error) error {
	if have != nil {
		return have
	}
	return err
}

func hasPackageAt(ps []Package, where string) bool {
	for _, p := range ps {
		if p.Path == where {
			return true
		}
	}
	return false
}

func readZipFile(f *zip.File, max int64) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	return readAll(rc, max)
}

// parsePomProperties reads the properties file Maven writes into every
// artifact it builds: groupId, artifactId, version.
func parsePomProperties(b []byte) *Package {
	props := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == '!' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			k, v, ok = strings.Cut(line, ":")
		}
		if ok {
			props[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	g, a, v := props["groupId"], props["artifactId"], props["version"]
	if g == "" || a == "" || v == "" {
		return nil
	}
	return &Package{Type: TypeMaven, Name: g + ":" + a, Version: v}
}

// parseManifest reads the main section of a JAR manifest: "Key: value"
// lines wrapped at 72 bytes, a continuation line starting with one space.
func parseManifest(b []byte) map[string]string {
	m := map[string]string{}
	last := ""
	for _, line := range strings.Split(strings.ReplaceAll(string(b), "\r\n", "\n"), "\n") {
		if line == "" {
			break // end of the main section
		}
		if line[0] == ' ' {
			if last != "" {
				m[last] += line[1:]
			}
			continue
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		last = strings.TrimSpace(k)
		m[last] = strings.TrimSpace(v)
	}
	return m
}

// manifestPackage names an archive that carries no pom.properties: the
// artifact from its file name (or, when the file name has no version, the
// bundle name), the version from the manifest (or the file name), and the group only when the manifest
// states it (Implementation-Vendor-Id). Without a group the name has no
// "group:" part and cannot match a Maven advisory by accident.
func manifestPackage(m map[string]string, where string) *Package {
	file := where
	if i := strings.LastIndexByte(file, '!'); i >= 0 {
		file = file[i+1:]
	}
	artifact, version := splitArchiveName(path.Base(file))
	if version == "" {
		// "app.jar" names nothing; the bundle or implementation title may.
		sym, _, _ := strings.Cut(m["Bundle-SymbolicName"], ";")
		artifact = firstNonEmpty(strings.TrimSpace(sym), m["Implementation-Title"], artifact)
	}
	if v := firstNonEmpty(m["Implementation-Version"], m["Bundle-Version"]); v != "" {
		version = v
	}
	if artifact == "" || version == "" {
		return nil
	}
	name := artifact
	if g := m["Implementation-Vendor-Id"]; g != "" && !strings.ContainsAny(g, " :") {
		name = g + ":" + artifact
	}
	p := &Package{Type: TypeMaven, Name: name, Version: version, Path: where}
	if l := m["Bundle-License"]; l != "" {
		p.Licenses = []string{l}
	}
	return p
}

// splitArchiveName splits "commons-io-2.11.0.jar" into "commons-io" and
// "2.11.0": the version starts at the first "-" followed by a digit.
func splitArchiveName(file string) (name, version string) {
	base := strings.TrimSuffix(file, path.Ext(file))
	for i := 0; i+1 < len(base); i++ {
		if base[i] == '-' && isDigit(base[i+1]) {
			return base[:i], base[i+1:]
		}
	}
	return base, ""
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
