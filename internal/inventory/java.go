package inventory

import (
	"archive/zip"
	"bufio"
	"bytes"
	"context"
	"errors"
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

// Budgets for the archives nested in one Java archive. A zip needs random
// access, so a nested archive is inflated whole into memory; a zip of zips
// of zeros (51 KB) otherwise inflated 584 MiB at once and spent 98 s of
// CPU, and one compressed entry listed many times is inflated once per
// listing. Past a budget the rest of the nested archives is not read and
// the extractor's error (a notice in the report) names the budget.
const (
	// maxJavaDepth bounds archive nesting (a war in an ear holds jars: 3).
	maxJavaDepth = 3
	// maxNestedHeld bounds the nested archives held in memory at once: a
	// nested archive and the ones it sits in, together. 96 MiB holds the
	// largest nested archives seen in practice (a war of tens of MiB in an
	// ear) and keeps a hostile archive under the 150 MiB a scan may take.
	maxNestedHeld = 96 << 20
	// maxNestedInflated bounds the bytes inflated for the nested archives
	// of one archive, every level together: a Spring Boot fat jar holds
	// 50–200 MiB of libraries, and 256 MiB inflates in about a second.
	maxNestedInflated = 256 << 20
	// maxNestedArchives bounds how many nested archives one archive opens,
	// so that thousands of tiny entries cannot cost a zip directory parse
	// each without end (the largest fat jars hold a few hundred).
	maxNestedArchives = 4096
)

// nestedBudget is what one top-level archive may still spend on the
// archives nested in it.
type nestedBudget struct {
	inflated int64 // bytes left to inflate (maxNestedInflated)
	archives int   // nested archives left to open (maxNestedArchives)
	cut      error // the first budget exceeded, reported once
	// bufs are the buffers nested archives are inflated into, one per
	// depth: siblings reuse their level's, so that many nested archives
	// cost one buffer, not one garbage buffer each for the collector.
	bufs [maxJavaDepth][]byte
}

// Extract implements Extractor.
func (j JavaArchive) Extract(ctx context.Context, in Input) ([]Package, error) {
	ra, size, err := readerAt(in, j.MaxSize())
	if err != nil {
		return nil, err
	}
	b := &nestedBudget{inflated: maxNestedInflated, archives: maxNestedArchives}
	out, err := readJavaArchive(ctx, ra, size, in.Path, 0, maxNestedHeld, b)
	if b.cut != nil {
		// The cut is the more useful notice: it names the budget.
		err = b.cut
	}
	return out, err
}

// readJavaArchive lists the packages of one archive and those nested in it.
// Nested archives are reported at "outer!inner/path.jar". room is what the
// archives nested here may hold in memory at once (maxNestedHeld less the
// archives this one sits in).
func readJavaArchive(ctx context.Context, ra io.ReaderAt, size int64, where string, depth int, room int64, budget *nestedBudget) ([]Package, error) {
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
			if budget.cut != nil {
				continue
			}
			if budget.archives <= 0 {
				budget.cut = fmt.Errorf("%s: more than %d nested archives (budget maxNestedArchives); the rest were not read", where, maxNestedArchives)
				continue
			}
			budget.archives--
			limit := min(room, budget.inflated)
			if f.UncompressedSize64 > uint64(limit) {
				budget.cut = nestedCut(where, name, room, budget)
				continue
			}
			b, err := readNestedFile(f, limit, budget.bufs[depth])
			budget.inflated -= int64(len(b))
			if errors.Is(err, errTooLarge) {
				// The entry's header understated its size.
				budget.inflated -= limit
				budget.cut = nestedCut(where, name, room, budget)
				continue
			}
			if err != nil {
				firstErr = keepFirst(firstErr, fmt.Errorf("%s: %v", name, err))
				continue
			}
			ps, err := readJavaArchive(ctx, bytes.NewReader(b), int64(len(b)), inner, depth+1, room-int64(len(b)), budget)
			// Nothing read from b is kept (packages hold copies).
			budget.bufs[depth] = b[:0]
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

// nestedCut names the budget a nested archive would exceed.
func nestedCut(where, name string, room int64, budget *nestedBudget) error {
	if room <= budget.inflated {
		return fmt.Errorf("%s!%s: nested archives held at once would exceed %d MiB (budget maxNestedHeld); the rest were not read", where, name, maxNestedHeld>>20)
	}
	return fmt.Errorf("%s!%s: nested archives would inflate more than %d MiB (budget maxNestedInflated); the rest were not read", where, name, maxNestedInflated>>20)
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

// readNestedFile inflates a nested archive into one buffer sized from its
// header, so that holding it costs its size and not the doubling of a
// growing buffer; a header that lies costs at most max.
func readNestedFile(f *zip.File, max int64, reuse []byte) ([]byte, error) {
	rc, err := f.Open()
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	want := min(int64(f.UncompressedSize64), max) + bytes.MinRead
	if int64(cap(reuse)) < want {
		reuse = make([]byte, 0, want)
	}
	buf := bytes.NewBuffer(reuse[:0])
	if _, err := buf.ReadFrom(io.LimitReader(rc, max+1)); err != nil {
		return nil, err
	}
	if int64(buf.Len()) > max {
		return buf.Bytes(), fmt.Errorf("%w (limit %d bytes)", errTooLarge, max)
	}
	return buf.Bytes(), nil
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

// maxManifestValue bounds a folded manifest header: real ones (a long
// Bundle-SymbolicName, Class-Path) are a few kilobytes.
const maxManifestValue = 64 << 10

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
			// Folding is bounded: a value longer than any real header
			// (maxManifestValue) stops growing, so that a manifest of
			// continuation lines stays linear to read.
			if last != "" && len(m[last]) < maxManifestValue {
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
